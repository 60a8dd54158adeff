"""Write tools in process: the bridge (build_server + the SDK client in memory) against the sandbox app
through httpx2.ASGITransport, in every shape (and HAL with moved routes, reached through the objects' own
links). Every assertion about what changed reads the sandbox's own state (``app.state.store``), not the
bridge's answer; bad input is refused with one message and no request upstream."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ElicitRequestParams, ElicitResult
from starlette.applications import Starlette

from footage_mcp.core.settings import Settings
from footage_mcp.rest.changes import CONFIRM_ABOVE
from footage_mcp.sandbox import create_app
from footage_mcp.sandbox.library import Library
from footage_mcp.surface.server import build_server
from footage_mcp.surface.tools.writes import WRITE_TOOLS
from tests.conftest import INTERFACE_TOOLS
from tests.writes_helpers import diff, error_text, structured

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1/api/asset"
VARIANTS = [("hal", False), ("array", False), ("items", False), ("hal", True)]
Elicitor = Callable[[Any, ElicitRequestParams], Awaitable[ElicitResult]]


def library(app: Starlette) -> Library:
    lib: Library = app.state.store.library
    return lib


def state(app: Starlette) -> dict[str, Any]:
    dumped: dict[str, Any] = app.state.store.dump()
    return dumped


def writes_sent(app: Starlette) -> list[dict[str, Any]]:
    return [r for r in app.state.sandbox.requests if r["method"] not in ("GET", "HEAD")]


def requests_sent(app: Starlette) -> list[dict[str, Any]]:
    return list(app.state.sandbox.requests)


@asynccontextmanager
async def bridge(
    app: Starlette,
    *,
    elicit: Elicitor | None = None,
    mode: str = "legacy",
    transport: httpx2.AsyncBaseTransport | None = None,
    **settings: Any,
) -> AsyncIterator[Client]:
    config = Settings(api_token=TOKEN, base_url=BASE, allow_writes=True, **settings)
    server = build_server(config, transport=transport or httpx2.ASGITransport(app))
    async with Client(server, elicitation_callback=elicit, mode=mode) as client:
        yield client


def answering(action: str, confirm: bool = True) -> tuple[Elicitor, list[str]]:
    asked: list[str] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        content = {"confirm": confirm} if action == "accept" else None
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return elicit, asked


@pytest.fixture(params=VARIANTS, ids=[f"{s}{'-alt' if a else ''}" for s, a in VARIANTS])
def app(request: pytest.FixtureRequest) -> Starlette:
    shape, alt = request.param
    return create_app(shape=shape, alt_routes=alt)


def video_and_image(lib: Library) -> tuple[str, str, str]:
    videos = [a.id for a in lib.assets if a.kind == "video"]
    image = next(a.id for a in lib.assets if a.kind == "image")
    return videos[0], videos[1], image


# ---------------------------------------------------------------- every tool changes what it says, only that


async def test_every_write_changes_what_it_says(app: Starlette, tmp_path: Path) -> None:
    lib = library(app)
    extra: dict[str, Any] = {}
    if any(getattr(r, "path", "").endswith("/contents") for r in app.routes):
        # the moved routes are found through the objects' own links (HAL) or the root; only the body field
        # name of the moved album route cannot be discovered, so it is configured (as probe suggests)
        routes = tmp_path / "routes.toml"
        routes.write_text('"addToAlbum.assetIds" = "ids"\n', encoding="utf-8")
        extra["routes"] = routes
    album = lib.albums[0]
    outsiders = [a.id for a in lib.assets if album.id not in a.album_ids][:3]
    members = list(album.asset_ids[:2])
    video, other_video, _image = video_and_image(lib)
    accept, asked = answering("accept")
    async with bridge(app, elicit=accept, **extra) as client:
        before = state(app)
        created = structured(await client.call_tool("create_album", {"name": "Shortlist", "description": "for Q3"}))
        new_id = created["album"]["id"]
        assert created["status"] == "done" and created["album"]["name"] == "Shortlist"
        after = state(app)
        assert diff(before, after) == {("album", new_id, "created")}
        assert next(a for a in after["albums"] if a["id"] == new_id) == {
            "id": new_id,
            "name": "Shortlist",
            "description": "for Q3",
            "asset_ids": [],
        }

        before = after
        result = structured(await client.call_tool("update_album", {"album_id": new_id, "name": "Shortlist 2"}))
        assert result["status"] == "done" and result["album"]["name"] == "Shortlist 2"
        after = state(app)
        assert diff(before, after) == {("album", new_id, "name")}

        before = after
        result = structured(await client.call_tool("add_to_album", {"album_id": album.id, "asset_ids": outsiders}))
        assert result["status"] == "done" and result["counts"]["done"] == 3
        after = state(app)
        assert diff(before, after) == {("album", album.id, "asset_ids")} | {
            ("asset", i, "album_ids") for i in outsiders
        }
        assert next(a for a in after["albums"] if a["id"] == album.id)["asset_ids"][-3:] == outsiders

        before = after
        result = structured(await client.call_tool("remove_from_album", {"album_id": album.id, "asset_ids": members}))
        assert result["status"] == "done", result
        assert asked and "remove 2 asset(s)" in asked[-1]
        after = state(app)
        assert diff(before, after) == {("album", album.id, "asset_ids")} | {("asset", i, "album_ids") for i in members}
        assert not set(members) & set(next(a for a in after["albums"] if a["id"] == album.id)["asset_ids"])

        before = after
        result = structured(await client.call_tool("update_asset", {"asset_id": video, "description": "Retouched"}))
        assert result["status"] == "done" and result["asset"]["description"] == "Retouched"
        after = state(app)
        assert diff(before, after) == {("asset", video, "description")}

        before = after
        result = structured(
            await client.call_tool("add_labels", {"asset_ids": [video, other_video], "labels": ["ok-4k"]})
        )
        assert result["status"] == "done"
        after = state(app)
        assert diff(before, after) == {("asset", video, "labels"), ("asset", other_video, "labels")}
        assert all(a["labels"].count("#ok-4k") == 1 for a in after["assets"] if a["id"] in (video, other_video))

        before = after
        result = structured(await client.call_tool("remove_labels", {"asset_ids": [video], "labels": ["#ok-4k"]}))
        assert result["status"] == "done"
        after = state(app)
        assert diff(before, after) == {("asset", video, "labels")}
        assert "#ok-4k" not in next(a for a in after["assets"] if a["id"] == video)["labels"]

        before = after
        result = structured(
            await client.call_tool("add_keywords", {"asset_ids": [video], "keywords": ["Frankreich", "Atlantis"]})
        )
        assert result["status"] == "done"
        assert [(k["term"], k.get("keyword"), k.get("concept_id")) for k in result["keywords"]] == [
            ("Frankreich", "Frankreich", "france"),  # the taxonomy answers in the language the term matched
            ("Atlantis", None, None),
        ]
        assert "Atlantis" in result["summary"] and "not in the taxonomy" in result["summary"]
        after = state(app)
        assert diff(before, after) == {("asset", video, "keywords")}
        assert next(a for a in after["assets"] if a["id"] == video)["keywords"][-1] == "France"

        before = after
        result = structured(
            await client.call_tool(
                "relate_assets",
                {
                    "asset_id": video,
                    "related_asset_id": other_video,
                    "relation": "segment",
                    "two_way": True,
                    "time_in": 1.5,
                    "time_out": 4,
                    "description": "cutaway",
                },
            )
        )
        assert result["status"] == "done"
        after = state(app)
        assert diff(before, after) == {("asset", video, "relations"), ("asset", other_video, "relations")}
        relation = next(a for a in after["assets"] if a["id"] == video)["relations"][-1]
        assert relation == {
            "type": "segment",
            "target": other_video,
            "direction": "two-way",
            "description": "cutaway",
            "time_in": 1.5,
            "time_out": 4,
        }
    # the user was asked about the two removals only (additive and single-object writes need no confirmation)
    assert len(asked) == 2 and asked[1].startswith("remove_labels: remove #ok-4k from 1 asset(s)")


async def test_repeated_writes_are_unchanged_and_send_nothing(app: Starlette) -> None:
    lib = library(app)
    album = lib.albums[1]
    asset = lib.assets[5]
    label = asset.labels[0]
    async with bridge(app) as client:
        before = state(app)
        result = structured(await client.call_tool("add_labels", {"asset_ids": [asset.id], "labels": [label]}))
        assert result["status"] == "unchanged"
        assert result["items"] == [
            {"id": asset.id, "name": asset.name, "outcome": "unchanged", "reason": "already has these labels"}
        ]
        result = structured(
            await client.call_tool("add_to_album", {"album_id": album.id, "asset_ids": [album.asset_ids[0]]})
        )
        assert result["status"] == "unchanged" and result["items"][0]["reason"] == "already in the album"
        result = structured(await client.call_tool("update_album", {"album_id": album.id, "name": album.name}))
        assert result["status"] == "unchanged"
        assert writes_sent(app) == [] and state(app) == before


# ---------------------------------------------------------------- dry run and confirmation


async def test_dry_run_without_elicitation_then_confirm(app: Starlette) -> None:
    lib = library(app)
    album = lib.albums[2]
    gone = list(album.asset_ids[:3])
    outsider = next(a.id for a in lib.assets if album.id not in a.album_ids)
    async with bridge(app) as client:
        before = state(app)
        args = {"album_id": album.id, "asset_ids": [*gone, outsider]}
        dry = structured(await client.call_tool("remove_from_album", args))
        assert dry["status"] == "dry_run" and "confirm=true" in dry["next_step"]
        assert [(i["id"], i["outcome"]) for i in dry["items"]] == [(i, "would_change") for i in gone] + [
            (outsider, "unchanged")
        ]
        assert dry["counts"] == {"done": 0, "unchanged": 1, "failed": 0, "would_change": 3}
        assert state(app) == before and writes_sent(app) == []

        real = structured(await client.call_tool("remove_from_album", {**args, "confirm": True}))
        assert real["status"] == "done"
        assert [(i["id"], i["outcome"]) for i in real["items"]] == [(i, "done") for i in gone] + [
            (outsider, "unchanged")
        ]
        assert diff(before, state(app)) == {("album", album.id, "asset_ids")} | {
            ("asset", i, "album_ids") for i in gone
        }
        assert [r["method"] for r in writes_sent(app)] == ["DELETE"] * 3


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_elicitation_accept_and_decline(mode: str) -> None:
    app = create_app(shape="hal")
    lib = library(app)
    asset = lib.assets[0]
    label = asset.labels[0]
    decline, asked = answering("decline")
    async with bridge(app, elicit=decline, mode=mode) as client:
        before = state(app)
        # the model's confirm=true does not skip the user's answer where the client can ask
        result = structured(
            await client.call_tool("remove_labels", {"asset_ids": [asset.id], "labels": [label], "confirm": True})
        )
        assert result["status"] == "declined" and "declined" in result["next_step"]
        assert result["items"][0]["outcome"] == "would_change"
        assert asked == [
            f"remove_labels: remove {label} from 1 asset(s). This removes or overwrites data. Apply this change?"
        ]
        assert state(app) == before and writes_sent(app) == []
    no, _ = answering("accept", confirm=False)
    async with bridge(app, elicit=no, mode=mode) as client:
        result = structured(await client.call_tool("remove_labels", {"asset_ids": [asset.id], "labels": [label]}))
        assert result["status"] == "declined" and state(app) == before
    accept, asked = answering("accept")
    async with bridge(app, elicit=accept, mode=mode) as client:
        result = structured(await client.call_tool("remove_labels", {"asset_ids": [asset.id], "labels": [label]}))
        assert result["status"] == "done" and len(asked) == 1
    assert diff(before, state(app)) == {("asset", asset.id, "labels")}
    assert label not in library(app).asset(asset.id).labels  # type: ignore[union-attr]


async def test_more_than_twenty_assets_need_confirmation_even_to_add() -> None:
    app = create_app(shape="items")
    lib = library(app)
    ids = [a.id for a in lib.assets if "#bulk-ok" not in a.labels][: CONFIRM_ABOVE + 1]
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async with bridge(app) as client:
        before = state(app)
        dry = structured(await client.call_tool("add_labels", {"asset_ids": ids, "labels": ["bulk-ok"]}))
        assert dry["status"] == "dry_run" and dry["counts"]["would_change"] == 21
        assert state(app) == before
        twenty = structured(await client.call_tool("add_labels", {"asset_ids": ids[:20], "labels": ["bulk-ok"]}))
        assert twenty["status"] == "done"
        result = structured(
            await client.call_tool(
                "add_labels", {"asset_ids": ids, "labels": ["bulk-ok"], "confirm": True}, progress_callback=on_progress
            )
        )
        assert result["counts"] == {"done": 1, "unchanged": 20, "failed": 0, "would_change": 0}
    assert diff(before, state(app)) == {("asset", i, "labels") for i in ids}
    # progress: the reads of 21 assets, then the one write
    assert progress and progress[-1][0] == progress[-1][1] and max(t or 0 for _, t in progress) == 21


# ---------------------------------------------------------------- bad input: one message, nothing sent


BAD_LOCAL: list[tuple[str, dict[str, Any], str]] = [
    ("add_labels", {"asset_ids": [], "labels": ["ok"]}, "asset_ids is empty"),
    ("add_labels", {"asset_ids": [f"id-{i}" for i in range(501)], "labels": ["ok"]}, "at most 500"),
    ("add_labels", {"asset_ids": ["a", "b", "a"], "labels": ["ok"]}, "lists 'a' twice"),
    ("add_labels", {"asset_ids": ["a"], "labels": ["two words"]}, "contains a space"),
    ("add_labels", {"asset_ids": ["a"], "labels": ["a#b"]}, "contains '#' inside"),
    ("add_labels", {"asset_ids": ["a"], "labels": ["bad\x07bell"]}, "control character"),
    ("add_labels", {"asset_ids": ["a"], "labels": ["x" * 400]}, "400 characters; at most 64"),
    ("add_labels", {"asset_ids": ["a"], "labels": []}, "labels is empty"),
    ("remove_labels", {"asset_ids": ["a"], "labels": [f"l{i}" for i in range(21)]}, "at most 20"),
    ("add_keywords", {"asset_ids": ["a"], "keywords": []}, "keywords is empty"),
    ("relate_assets", {"asset_id": "a", "related_asset_id": "a", "relation": "variant"}, "related to itself"),
    (
        "relate_assets",
        {"asset_id": "a", "related_asset_id": "b", "relation": "segment", "time_in": 5, "time_out": 2},
        "time_out (2 s) must be after time_in (5 s)",
    ),
    ("create_album", {"name": "x" * 10_000}, "name is 10000 characters; at most 200"),
    ("update_asset", {"asset_id": "a", "name": "n" * 10_000}, "name is 10000 characters"),
    ("update_album", {"album_id": "a"}, "give name or description"),
]


@pytest.mark.parametrize(("tool", "args", "message"), BAD_LOCAL, ids=[f"{t}-{m[:20]}" for t, _, m in BAD_LOCAL])
async def test_bad_input_refused_locally(tool: str, args: dict[str, Any], message: str) -> None:
    app = create_app(shape="hal")
    async with bridge(app) as client:
        text = error_text(await client.call_tool(tool, args))
        assert message in text
        assert "\n" not in text and len(text) < 300
        assert requests_sent(app) == []  # nothing went upstream, not even a read
        # the server keeps answering
        assert (await client.call_tool("list_albums", {"limit": 1})).is_error is False


async def test_bad_input_needing_a_read_sends_no_write() -> None:
    app = create_app(shape="array")
    lib = library(app)
    album, asset = lib.albums[0], lib.assets[0]
    image = next(a for a in lib.assets if a.kind == "image" and a.id != asset.id)
    async with bridge(app) as client:
        text = error_text(await client.call_tool("add_to_album", {"album_id": asset.id, "asset_ids": [asset.id]}))
        assert text == f"'{asset.id}' is an asset id, not an album id — list_albums shows album ids"
        text = error_text(await client.call_tool("update_asset", {"asset_id": album.id, "name": "x"}))
        assert text == f"'{album.id}' is an album id, not an asset id — search_assets shows asset ids"
        text = error_text(await client.call_tool("update_album", {"album_id": "no-such-album", "name": "x"}))
        assert text == "album 'no-such-album' not found — list_albums shows valid ids"
        result = structured(
            await client.call_tool("add_to_album", {"album_id": album.id, "asset_ids": ["no-such-asset", asset.id]})
        )
        assert result["items"][0]["outcome"] == "failed"
        assert "asset 'no-such-asset' not found" in result["items"][0]["reason"]
        text = error_text(
            await client.call_tool(
                "relate_assets",
                {"asset_id": image.id, "related_asset_id": asset.id, "relation": "segment", "time_in": 1},
            )
        )
        assert "apply to video assets only" in text and "(image)" in text
        text = error_text(await client.call_tool("add_keywords", {"asset_ids": [asset.id], "keywords": ["Atlantis"]}))
        assert "none of the keywords is in the library's taxonomy (Atlantis)" in text and "never created" in text
    # the one valid asset of the mixed list was added, in one request; every refusal sent no write
    assert [(r["method"], r["path"]) for r in writes_sent(app)] == [("POST", f"/api/asset/albums/{album.id}/assets")]


# ---------------------------------------------------------------- ETag / If-Match / 412, Location


class ChangesUnderfoot(httpx2.AsyncBaseTransport):
    """Renames the object right before the bridge's PATCH reaches the sandbox (someone else's edit)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.inner = httpx2.ASGITransport(app)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "PATCH":
            store = self.app.state.store
            album_id = request.url.path.rsplit("/", 1)[-1]
            album = store.library.album(album_id)
            if album is not None:
                store.update_album(album, {"name": "Renamed by a colleague"})
        return await self.inner.handle_async_request(request)


async def test_if_match_and_412_read_again() -> None:
    app = create_app(shape="hal")
    album = library(app).albums[3]
    async with bridge(app, transport=ChangesUnderfoot(app)) as client:
        text = error_text(await client.call_tool("update_album", {"album_id": album.id, "name": "Mine"}))
        assert "changed since the bridge read it (412)" in text and "nothing was overwritten" in text
        assert "'Renamed by a colleague'" in text
    patch = next(r for r in writes_sent(app) if r["method"] == "PATCH")
    assert patch["headers"]["if-match"].startswith('"')
    assert library(app).album(album.id).name == "Renamed by a colleague"  # type: ignore[union-attr]


async def test_creation_answered_only_with_location_is_read_back() -> None:
    app = create_app(shape="items")  # the items shape answers 201 with Location and no body
    async with bridge(app) as client:
        result = structured(await client.call_tool("create_album", {"name": "Location only"}))
    created = [a for a in library(app).albums if a.name == "Location only"]
    assert len(created) == 1 and result["album"]["id"] == created[0].id
    methods = [(r["method"], r["path"]) for r in requests_sent(app)]
    assert ("POST", "/api/asset/albums") in methods and ("GET", f"/api/asset/albums/{created[0].id}") in methods
    post = next(r for r in requests_sent(app) if r["method"] == "POST")
    assert len(post["headers"]["idempotency-key"]) == 36  # a non-idempotent write carries a key


# ---------------------------------------------------------------- write faults, retries, idempotency keys


async def put_mode(app: Starlette, body: dict[str, Any]) -> None:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1") as http:
        response = await http.put("/_sandbox/writes", json=body)
        assert response.status_code == 200, response.text


async def test_5xx_after_commit_on_idempotent_write_is_retried() -> None:
    app = create_app(shape="hal")
    asset = library(app).assets[2]
    await put_mode(app, {"faults": [{"match": "/labels$", "method": "POST", "status": 503, "times": 1}]})
    async with bridge(app) as client:
        result = structured(await client.call_tool("add_labels", {"asset_ids": [asset.id], "labels": ["retried"]}))
    assert result["status"] == "done"
    assert [r["method"] for r in writes_sent(app)] == ["POST", "POST"]
    assert library(app).asset(asset.id).labels.count("#retried") == 1  # type: ignore[union-attr]


async def test_non_idempotent_write_after_commit_fault_may_or_may_not_have_happened() -> None:
    app = create_app(shape="hal")
    await put_mode(app, {"idempotency": "ignore", "faults": [{"match": "^/albums$", "status": 502, "times": 1}]})
    async with bridge(app) as client:
        text = error_text(await client.call_tool("create_album", {"name": "Maybe"}))
    assert "may or may not have happened: check with list_albums" in text
    assert [a.name for a in library(app).albums].count("Maybe") == 1  # it did happen, once: not retried
    assert [r["method"] for r in writes_sent(app)] == ["POST"]


async def test_timeout_after_commit_on_relation_may_or_may_not_have_happened() -> None:
    app = create_app(shape="array")
    video, other, _ = video_and_image(library(app))
    await put_mode(app, {"faults": [{"match": "/relations$", "fault": "timeout", "hang_ms": 3000, "times": 1}]})
    async with bridge(app, timeout=0.5) as client:
        text = error_text(
            await client.call_tool(
                "relate_assets", {"asset_id": video, "related_asset_id": other, "relation": "version"}
            )
        )
    assert "did not answer in time" in text and "may or may not have happened: check with get_asset" in text
    assert [r.type for r in library(app).asset(video).relations].count("version") >= 1  # type: ignore[union-attr]
    assert [r["method"] for r in writes_sent(app)] == ["POST"]


async def test_idempotency_key_honoured_makes_the_retry_safe() -> None:
    app = create_app(shape="hal")
    async with bridge(app) as client:
        first = structured(await client.call_tool("create_album", {"name": "First"}))  # the API echoes the key
        assert first["status"] == "done"
        await put_mode(app, {"idempotency": "honour", "faults": [{"match": "^/albums$", "status": 503, "times": 1}]})
        second = structured(await client.call_tool("create_album", {"name": "Second"}))
    assert second["status"] == "done"
    posts = [r for r in writes_sent(app) if r["path"] == "/api/asset/albums"]
    assert len(posts) == 3 and posts[1]["headers"]["idempotency-key"] == posts[2]["headers"]["idempotency-key"]
    assert [a.name for a in library(app).albums].count("Second") == 1  # the retry was answered from the replay
    assert second["album"]["id"] == next(a.id for a in library(app).albums if a.name == "Second")


async def test_conflict_is_reported() -> None:
    app = create_app(shape="items")
    name = library(app).albums[0].name
    async with bridge(app) as client:
        text = error_text(await client.call_tool("create_album", {"name": name}))
    assert "was not created" in text and "already exists" in text


# ---------------------------------------------------------------- routes: FOOTAGE_ROUTES with method and fields


async def test_routes_file_with_methods_and_body_fields(tmp_path: Path) -> None:
    app = create_app(shape="items", alt_routes=True)
    lib = library(app)
    album = lib.albums[0]
    outsider = next(a.id for a in lib.assets if album.id not in a.album_ids)
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[routes]\naddToAlbum = "POST /albums/{id}/contents"\n"addToAlbum.assetIds" = "ids"\n', encoding="utf-8"
    )
    # the discovery root fails: only the file says where the route is and what its body field is called
    app.state.sandbox.rules = __import__("footage_mcp.sandbox.faults", fromlist=["parse_rules"]).parse_rules(
        [{"match": "^/?$", "status": 503}]
    )
    async with bridge(app, routes=routes, max_retries=0) as client:
        result = structured(await client.call_tool("add_to_album", {"album_id": album.id, "asset_ids": [outsider]}))
    assert result["status"] == "done"
    assert library(app).album(album.id).asset_ids[-1] == outsider  # type: ignore[union-attr]
    post = next(r for r in writes_sent(app))
    assert (post["method"], post["path"]) == ("POST", f"/api/asset/albums/{album.id}/contents")


# ---------------------------------------------------------------- gate, listing size, audit


def listing_tokens(tools: Any) -> float:
    return len(tools.model_dump_json(by_alias=True, exclude_none=True)) / 4


async def test_writes_gated_and_listing_within_budget() -> None:
    app = create_app(shape="hal")
    plain = build_server(Settings(api_token=TOKEN, base_url=BASE), transport=httpx2.ASGITransport(app))
    async with Client(plain) as client:
        listed = await client.session.list_tools()
        names = {t.name for t in listed.tools}
        assert not names & WRITE_TOOLS and names >= INTERFACE_TOOLS
        assert listing_tokens(listed) <= 3500
        with pytest.raises(MCPError) as unknown:  # not registered: JSON-RPC invalid params, as for any unknown tool
            await client.call_tool("add_labels", {"asset_ids": ["a"], "labels": ["x"]})
        assert unknown.value.error.code == INVALID_PARAMS and "add_labels" in unknown.value.error.message
    async with bridge(app) as client:
        listed = await client.session.list_tools()
        assert {t.name for t in listed.tools} >= WRITE_TOOLS
        assert listing_tokens(listed) <= 6500
        annotations = {t.name: t.annotations for t in listed.tools if t.name in WRITE_TOOLS}
    table = {
        "create_album": (False, False),
        "update_album": (True, True),
        "add_to_album": (False, True),
        "remove_from_album": (True, True),
        "update_asset": (True, True),
        "add_labels": (False, True),
        "remove_labels": (True, True),
        "add_keywords": (False, True),
        "relate_assets": (False, False),
    }
    for name, (destructive, idempotent) in table.items():
        hints = annotations[name]
        assert hints is not None and hints.read_only_hint is False and hints.open_world_hint is True
        assert (hints.destructive_hint, hints.idempotent_hint) == (destructive, idempotent), name


async def test_one_audit_line_per_write_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(shape="hal")
    asset = library(app).assets[4]
    caplog.set_level(logging.INFO, logger="footage_mcp.audit")
    async with bridge(app) as client:
        await client.call_tool("add_labels", {"asset_ids": [asset.id], "labels": ["audited"]})
        await client.call_tool("add_labels", {"asset_ids": [], "labels": ["audited"]})
    lines = [r.getMessage() for r in caplog.records if r.name == "footage_mcp.audit"]
    assert lines[0] == f"write tool=add_labels ids={asset.id} outcome=done done=1 unchanged=0 failed=0 would_change=0"
    assert lines[1].startswith("write tool=add_labels outcome=refused reason=asset_ids is empty")
    assert len(lines) == 2 and all(TOKEN not in line for line in lines)
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "footage_mcp.audit")


# ---------------------------------------------------------------- where a write goes, in order of trust


async def test_write_target_order_object_link_root_default_config(tmp_path: Path) -> None:
    from footage_mcp.rest.api import FootageApi
    from footage_mcp.rest.http import RestClient
    from footage_mcp.rest.writes import ObjectState, WriteClient

    root = {
        "_links": {
            "assetLabels": {"href": "/api/asset/root-labels/{id}", "templated": True},
            "albumAssets": {"href": "/api/asset/albums/{id}/members{?page,size}", "templated": True},
        }
    }

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=root if request.url.path in ("/api/asset", "/api/asset/") else {})

    settings = Settings(api_token=TOKEN, base_url=BASE)
    async with RestClient(settings, transport=httpx2.MockTransport(answer)) as rest:
        writer = WriteClient(FootageApi(rest))
        obj = ObjectState("asset", "a1", {}, None, {"labels": BASE + "/assets/a1/own-labels{?lang}"})
        own = await writer.target("assetLabels", {"id": "a1"}, obj)
        assert (own.method, own.url, own.source) == ("POST", BASE + "/assets/a1/own-labels", "object link")
        from_root = await writer.target("assetLabels", {"id": "a1"}, ObjectState("asset", "a1", {}, None))
        assert (from_root.url, from_root.source) == (BASE + "/root-labels/a1", "discovery root")
        removal = await writer.target("assetLabels", {"id": "a1"}, None, method="DELETE")
        assert removal.method == "DELETE"
        # a write route falls back to the root's link of the read route it extends, without the query part
        add = await writer.target("addToAlbum", {"id": "b1"})
        assert (add.method, add.url) == ("POST", BASE + "/albums/b1/members")
        drop = await writer.target("removeFromAlbum", {"id": "b1", "assetId": "a/1"})
        assert (drop.method, drop.url) == ("DELETE", BASE + "/albums/b1/members/a%2F1")
        default = await writer.target("relations", {"id": "a1"})
        assert (default.method, default.url, default.source) == ("POST", BASE + "/assets/a1/relations", "default")
        # an object link to another origin is never used
        foreign = ObjectState("asset", "a1", {}, None, {"labels": "https://elsewhere.example/labels"})
        assert (await writer.target("assetLabels", {"id": "a1"}, foreign)).source == "discovery root"
        configured = WriteClient(
            FootageApi(rest, {"assetLabels": "PUT /tags/{id}"}),
            {"assetLabels": "PUT /tags/{id}", "assetLabels.labels": "tags"},
        )
        chosen = await configured.target("assetLabels", {"id": "a1"}, obj)
        assert (chosen.method, chosen.url, chosen.source) == ("PUT", BASE + "/tags/a1", "FOOTAGE_ROUTES")
        assert configured.field("assetLabels", "labels") == "tags" and writer.field("assetLabels", "labels") == "labels"


class Counting(httpx2.AsyncBaseTransport):
    """Counts requests in flight at once (each held a moment)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx2.ASGITransport(app)
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        import anyio

        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await anyio.sleep(0.01)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_bulk_calls_keep_concurrency_bounded() -> None:
    from footage_mcp.rest.changes import CONCURRENCY

    app = create_app(shape="hal")
    ids = [a.id for a in library(app).assets[:60]]
    counting = Counting(app)
    async with bridge(app, transport=counting) as client:
        result = structured(
            await client.call_tool("add_labels", {"asset_ids": ids, "labels": ["wave"], "confirm": True})
        )
    assert result["counts"]["done"] == 60
    assert 1 < counting.most <= CONCURRENCY
    assert len([r for r in writes_sent(app) if r["method"] == "POST"]) == 60


def test_routes_file_names_and_methods_are_checked() -> None:
    from footage_mcp.core.errors import ConfigError
    from footage_mcp.rest.discovery import body_fields, build_route_map, normalise_overrides

    assert normalise_overrides({"add-to-album": "post /a/{id}", "add_to_album.assetIds": "ids"}) == {
        "addToAlbum": "post /a/{id}",
        "addToAlbum.assetIds": "ids",
    }
    routes = build_route_map(BASE, [], {"add-to-album": "post /a/{id}", "addToAlbum.assetIds": "ids"})
    assert (routes["addToAlbum"].method, routes["addToAlbum"].template) == ("POST", "/a/{id}")
    assert routes["album"].method is None and "addToAlbum.assetIds" not in routes
    assert body_fields({"addToAlbum.assetIds": "ids"}) == {"addToAlbum": {"assetIds": "ids"}}
    with pytest.raises(ConfigError, match=r"unknown route 'nope' in 'nope\.ids'"):
        normalise_overrides({"nope.ids": "x"})
    with pytest.raises(ConfigError, match="'search' is read with GET; remove 'POST'"):
        normalise_overrides({"search": "POST /find"})


async def test_a_missing_write_route_says_how_to_configure_it() -> None:
    from footage_mcp.sandbox.faults import parse_rules

    app = create_app(shape="items", alt_routes=True)  # labels live at /tags; only the failing root says so
    app.state.sandbox.rules = parse_rules([{"match": "^/?$", "status": 503}])
    asset = library(app).assets[0]
    async with bridge(app, max_retries=0) as client:
        result = structured(await client.call_tool("add_labels", {"asset_ids": [asset.id], "labels": ["x"]}))
    assert result["status"] == "failed"
    reason = result["items"][0]["reason"]
    assert reason.startswith(f"the Footage API has no such route (404 for POST /assets/{asset.id}/labels")
    assert "the assetLabels route from default): set assetLabels in FOOTAGE_ROUTES" in reason
    assert "footage-mcp probe suggests the routes" in reason
    assert library(app).asset(asset.id) == asset
