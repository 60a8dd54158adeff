"""End to end: every tool, resource and prompt, in each list shape (hal, array, items) and both
connection modes ("legacy": the 2025-11-25 initialize handshake hosts use today; "auto": the SDK default).

Two layers run the same checks: the bridge as a real stdio subprocess, driven by the mcp SDK client,
against the sandbox over real loopback HTTP (every tool over the real process, in both modes); and the
in-process layer (tests/inprocess.py: the same bridge and sandbox app in one process) for the breadth of
shapes × modes, paging, discovered routes and a rejected token.

Expected values come from the sandbox's seeded library, read independently of the bridge.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC
from typing import Any

import pytest
from forkrun import warm_parameters
from inprocess import Bridge, bridge
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    BlobResourceContents,
    CallToolResult,
    ImageContent,
    PromptReference,
    ResourceTemplateReference,
    TextResourceContents,
)
from PIL import Image

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from footage_mcp.sandbox.library import Asset as LibAsset
from footage_mcp.sandbox.library import Library, shared_library
from footage_mcp.sandbox.taxonomy import get_taxonomy
from tests.conftest import INTERFACE_TOOLS, SHAPES

pytestmark = [pytest.mark.anyio]

MODES = ("legacy", "auto")
TOOLS = INTERFACE_TOOLS
LIB: Library = shared_library()


def iso(moment: Any) -> str:
    return str(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


OUTPUT_BUDGET_CHARS = 20_000 * 4  # the default FOOTAGE_OUTPUT_BUDGET, in characters


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert len(result.model_dump_json()) <= OUTPUT_BUDGET_CHARS
    assert result.structured_content is not None
    # the text block mirrors the structured content
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    assert result.structured_content is None
    return str(result.content[0].text)  # type: ignore[union-attr]


def france_ids() -> set[str]:
    tax = get_taxonomy()
    wanted = tax.expand("France")
    return {a.id for a in LIB.assets if any(tax.id_for_label(k) in wanted for k in a.keywords)}


async def page_all(client: Client, tool: str, args: dict[str, Any], key: str, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(200):
        result = data(await client.call_tool(tool, {**args, "limit": limit, **({"cursor": cursor} if cursor else {})}))
        ids += [item["id"] for item in result[key]]
        cursor = result["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("paging did not end")


def rich_video() -> LibAsset:
    return next(
        a for a in LIB.assets if a.kind == "video" and a.relations and any(r.time_in is not None for r in a.relations)
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_every_tool_and_resource(hal_sandbox: RunningSandbox, mode: str) -> None:
    """Over real stdio and real loopback HTTP (the HAL shape; the other shapes: the in-process test below)."""
    async with Client(bridge_parameters(hal_sandbox.base_url, hal_sandbox.token), mode=mode) as client:
        await every_tool_and_resource(client)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", SHAPES)
async def test_every_tool_and_resource_in_process(shape: str, mode: str) -> None:
    async with bridge(shape=shape, mode=mode) as running:
        await every_tool_and_resource(running.client)


async def every_tool_and_resource(client: Client) -> None:
    assert {t.name for t in (await client.list_tools()).tools} == TOOLS

    # list_albums: the whole library fits one page of 20
    albums = data(await client.call_tool("list_albums", {}))
    assert [a["id"] for a in albums["albums"]] == [a.id for a in LIB.albums]
    assert [a["name"] for a in albums["albums"]] == [a.name for a in LIB.albums]
    assert albums["total"] == len(LIB.albums) == 14 and albums["next_cursor"] is None
    word = LIB.albums[3].name.split()[0]
    filtered = data(await client.call_tool("list_albums", {"query": word}))
    assert LIB.albums[3].id in {a["id"] for a in filtered["albums"]}
    assert len(filtered["albums"]) < 14

    # get_album
    big = max(LIB.albums, key=lambda a: len(a.asset_ids))
    album = data(await client.call_tool("get_album", {"album_id": big.id}))
    assert (album["id"], album["name"], album["description"]) == (big.id, big.name, big.description)
    assert album["asset_count"] == len(big.asset_ids) >= 60
    assert album["keywords"] == list(big.keywords) and album["labels"] == list(big.labels)
    assert album["created"] == iso(big.created) and album["updated"] == iso(big.updated)

    # list_album_assets: album order, first page, cursor onwards
    first = data(await client.call_tool("list_album_assets", {"album_id": big.id, "limit": 20}))
    assert [a["id"] for a in first["assets"]] == list(big.asset_ids[:20])
    assert first["total"] == len(big.asset_ids) and first["next_cursor"]
    second = data(
        await client.call_tool("list_album_assets", {"album_id": big.id, "cursor": first["next_cursor"], "limit": 20})
    )
    assert [a["id"] for a in second["assets"]] == list(big.asset_ids[20:40])
    summary = first["assets"][0]
    lib_asset = LIB.asset(summary["id"])
    assert lib_asset is not None
    assert (summary["name"], summary["media_type"]) == (lib_asset.name, lib_asset.kind)
    assert set(summary) <= {"id", "name", "media_type", "duration_seconds", "created", "description"}

    # search_assets: "France" finds the assets keyworded with France's narrower places (Paris, Lyon, ...)
    expected = france_ids()
    assert len(expected) >= 5
    hits = data(await client.call_tool("search_assets", {"query": "France", "limit": 100}))
    assert {a["id"] for a in hits["assets"]} == expected and hits["total"] == len(expected)
    videos = data(await client.call_tool("search_assets", {"media_type": "video", "limit": 5}))
    assert videos["total"] == sum(1 for a in LIB.assets if a.kind == "video")
    assert {a["media_type"] for a in videos["assets"]} == {"video"}
    in_album = data(await client.call_tool("search_assets", {"album_id": big.id, "limit": 100}))
    assert {a["id"] for a in in_album["assets"]} == set(big.asset_ids)
    label = LIB.assets[0].labels[0]
    labelled = data(await client.call_tool("search_assets", {"label": label.lstrip("#"), "limit": 100}))
    assert {a["id"] for a in labelled["assets"]} == {a.id for a in LIB.assets if label in a.labels}
    dated = data(
        await client.call_tool(
            "search_assets", {"created_after": "2020-01-01", "created_before": "2020-12-31", "limit": 100}
        )
    )
    assert {a["id"] for a in dated["assets"]} == {a.id for a in LIB.assets if a.created.year == 2020}
    by_keyword = data(await client.call_tool("search_assets", {"keyword": "Frankreich", "limit": 100}))
    assert {a["id"] for a in by_keyword["assets"]} == expected

    # get_asset: every field, relations with time in/out
    video = rich_video()
    asset = data(await client.call_tool("get_asset", {"asset_id": video.id}))
    assert (asset["id"], asset["name"], asset["media_type"], asset["mime_type"]) == (
        video.id,
        video.name,
        "video",
        video.mime_type,
    )
    assert asset["size_bytes"] == video.size_bytes
    assert asset["duration_seconds"] == pytest.approx(video.duration, abs=0.001)
    assert (asset["width"], asset["height"]) == (video.width, video.height)
    assert (asset["created"], asset["updated"]) == (iso(video.created), iso(video.updated))
    assert asset["description"] == video.description
    assert asset["keywords"] == list(video.keywords) and asset["labels"] == list(video.labels)
    assert asset["albums"] == list(video.album_ids)
    assert asset["preview_available"] is video.preview_available
    assert [
        (r["type"], r["target_id"], r.get("time_in_seconds"), r.get("time_out_seconds")) for r in asset["relations"]
    ] == [(r.type, r.target, r.time_in, r.time_out) for r in video.relations]

    # get_asset_preview: a real image, capped at 768 px
    preview = await client.call_tool("get_asset_preview", {"asset_id": video.id})
    assert not preview.is_error
    image = next(c for c in preview.content if isinstance(c, ImageContent))
    with Image.open(io.BytesIO(base64.b64decode(image.data))) as img:
        assert img.format in ("JPEG", "PNG") and max(img.size) <= 768 and min(img.size) > 0
    assert image.mime_type in ("image/jpeg", "image/png")
    no_preview = next(a for a in LIB.assets if not a.preview_available)
    assert "has no preview" in error_text(await client.call_tool("get_asset_preview", {"asset_id": no_preview.id}))

    # public tools
    config = data(await client.call_tool("get_archive_configuration", {}))
    assert set(config["configuration"]["mediaTypes"]) == {"image", "video", "audio", "document"}
    links = data(await client.call_tool("list_api_links", {}))
    names = {link["name"] for link in links["links"]}
    assert {"albums", "search", "archiveConfiguration"} <= names
    raw = data(await client.call_tool("api_get", {"path": "public/status"}))
    assert raw["body"] == {"status": "ok"} and raw["truncated"] is False
    raw_albums = data(await client.call_tool("api_get", {"path": f"albums/{big.id}"}))
    assert big.name in json.dumps(raw_albums["body"])

    sized = data(await client.call_tool("api_get", {"path": "albums", "query": {"size": 2, "q": big.name}}))
    assert big.id in json.dumps(sized["body"]) and LIB.albums[-1].id not in json.dumps(sized["body"])
    assert error_text(await client.call_tool("api_get", {"path": f"assets/{video.id}/preview"})) == (
        f"'assets/{video.id}/preview' answers with image/jpeg, not JSON; api_get reads JSON only "
        "(use get_asset_preview for previews)"
    )

    # errors are one actionable line
    assert error_text(
        await client.call_tool("search_assets", {"created_after": "2024-01-01", "created_before": "2020-01-01"})
    ) == ("created_after (2024-01-01) is later than created_before (2020-01-01); swap them")
    assert "ISO 8601 date such as 2024-05-31" in error_text(
        await client.call_tool("search_assets", {"created_after": "last tuesday"})
    )
    assert error_text(await client.call_tool("get_album", {"album_id": "nope"})) == (
        "album 'nope' not found — list_albums shows valid ids"
    )
    assert "not found" in error_text(await client.call_tool("get_asset", {"asset_id": "../albums"}))
    assert "path must" in error_text(await client.call_tool("api_get", {"path": "../../etc/passwd"}))

    # resources
    static = {str(r.uri) for r in (await client.list_resources()).resources}
    assert static == {"footage://albums", "footage://archive/configuration"}
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert templates == {
        "footage://albums/{album_id}",
        "footage://assets/{asset_id}",
        "footage://assets/{asset_id}/preview",
    }
    listing = await client.read_resource("footage://albums")
    assert isinstance(listing.contents[0], TextResourceContents)
    assert [a["id"] for a in json.loads(listing.contents[0].text)["albums"]] == [a.id for a in LIB.albums]
    one = await client.read_resource(f"footage://albums/{big.id}")
    assert json.loads(one.contents[0].text)["name"] == big.name  # type: ignore[union-attr]
    res_asset = await client.read_resource(f"footage://assets/{video.id}")
    assert json.loads(res_asset.contents[0].text)["size_bytes"] == video.size_bytes  # type: ignore[union-attr]
    blob = (await client.read_resource(f"footage://assets/{video.id}/preview")).contents[0]
    assert isinstance(blob, BlobResourceContents) and blob.mime_type == "image/jpeg"
    with Image.open(io.BytesIO(base64.b64decode(blob.blob))) as img:
        assert img.format == "JPEG"
    archive = await client.read_resource("footage://archive/configuration")
    assert "mediaTypes" in json.loads(archive.contents[0].text)["configuration"]  # type: ignore[union-attr]
    with pytest.raises(MCPError, match="album 'missing' not found"):
        await client.read_resource("footage://albums/missing")


async def test_paging_every_album_and_asset_none_missing_none_twice(shaped_bridge: Bridge) -> None:
    client = shaped_bridge.client
    album_ids = await page_all(client, "list_albums", {}, "albums", limit=3)
    assert album_ids == [a.id for a in LIB.albums]
    every_asset = await page_all(client, "search_assets", {}, "assets", limit=37)
    assert len(every_asset) == len(set(every_asset)) == len(LIB.assets) == 320
    assert set(every_asset) == {a.id for a in LIB.assets}
    for album in LIB.albums:
        ids = await page_all(client, "list_album_assets", {"album_id": album.id}, "assets", limit=25)
        assert ids == list(album.asset_ids), album.name


async def test_a_route_only_the_discovery_root_names_is_followed() -> None:
    """The alt sandbox serves search at /find/assets and album assets at /albums/{id}/contents;
    the default paths answer 404 there, so only discovery can find them."""
    async with bridge(shape="items", alt_routes=True) as running:
        client = running.client
        hits = data(await client.call_tool("search_assets", {"query": "France", "limit": 100}))
        assert {a["id"] for a in hits["assets"]} == france_ids()
        album = LIB.albums[0]
        ids = await page_all(client, "list_album_assets", {"album_id": album.id}, "assets", limit=10)
        assert ids == list(album.asset_ids)


@pytest.mark.slow
async def test_without_a_token_public_tools_work_and_token_tools_say_how_to_get_one(
    hal_sandbox: RunningSandbox,
) -> None:
    # forked from the warm zygote (tests/forkrun.py): a process of its own on real stdio; the cold starts
    # are test_every_tool_and_resource's
    async with Client(warm_parameters(bridge_parameters(hal_sandbox.base_url, None)), mode="legacy") as client:
        config = data(await client.call_tool("get_archive_configuration", {}))
        assert config["configuration"]["mediaTypes"]
        assert data(await client.call_tool("list_api_links", {}))["links"]
        message = error_text(await client.call_tool("list_albums", {}))
        assert "app.footage.one/account" in message and "FOOTAGE_API_TOKEN" in message


async def test_a_wrong_token_is_reported_as_rejected() -> None:
    async with bridge(token="wrong-token") as running:
        client = running.client
        message = error_text(await client.call_tool("search_assets", {"query": "x"}))
        assert message == (
            "the Footage API rejected the token (401): generate a new API key at "
            "app.footage.one/account and set FOOTAGE_API_TOKEN"
        )


@pytest.mark.slow
async def test_prompts_and_album_id_completion(hal_sandbox: RunningSandbox) -> None:
    params = warm_parameters(bridge_parameters(hal_sandbox.base_url, hal_sandbox.token))  # forked, as above
    async with Client(params, mode="legacy") as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {"find_footage", "summarize_album"}
        assert [a.name for a in prompts["find_footage"].arguments or []] == ["brief"]
        brief = "rainy Paris street at night"
        found = await client.get_prompt("find_footage", {"brief": brief})
        text = found.messages[0].content.text  # type: ignore[union-attr]
        assert brief in text and "search_assets" in text and "not instructions" in text
        album = LIB.albums[2]
        summary = await client.get_prompt("summarize_album", {"album_id": album.id})
        assert f"get_album with album_id '{album.id}'" in summary.messages[0].content.text  # type: ignore[union-attr]

        ref = PromptReference(type="ref/prompt", name="summarize_album")
        everything = await client.complete(ref, {"name": "album_id", "value": ""})
        assert everything.completion.values == [a.id for a in LIB.albums]
        by_id = await client.complete(ref, {"name": "album_id", "value": album.id[:6]})
        assert album.id in by_id.completion.values
        word = album.name.split()[0]
        by_name = await client.complete(ref, {"name": "album_id", "value": word[:3].lower()})
        assert album.id in by_name.completion.values
        template = ResourceTemplateReference(type="ref/resource", uri="footage://albums/{album_id}")
        via_template = await client.complete(template, {"name": "album_id", "value": album.id[:6]})
        assert album.id in via_template.completion.values
