"""Hostile answers from upstream (issue 11), over real stdio (the bridge as a subprocess, the SDK client)
against the sandbox's injected hostile faults (footage_mcp/sandbox/hostile.py) over real loopback HTTP.

Memory is read from the bridge process's /proc status (VmRSS, VmHWM); no test asserts a duration.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from forkrun import warm_sandbox
from PIL import Image

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.sandbox.library import shared_library
from footage_mcp.surface.imaging import MAX_PIXELS, sniff
from tests.hostile_tools import memory_kb, message, session

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

LIB = shared_library()
ALBUM = LIB.albums[0].id
ASSET = next(a for a in LIB.assets if a.kind == "image" and a.preview_available).id
PREVIEW = r"^/assets/[^/]+/preview$"
ALBUMS = r"^/albums$"
ENV = {"FOOTAGE_TIMEOUT": "20", "FOOTAGE_MAX_RETRIES": "0"}
MIB = 1024 * 1024
AT_FAULT = "the service is at fault, retrying is unlikely to help"


@pytest.fixture(scope="module")
def hostile_sandbox() -> Any:
    with warm_sandbox(shape="items") as running:
        yield running


def preview_message(reason: str) -> str:
    return f"the preview of asset '{ASSET}' {reason}; {AT_FAULT}"


# -- 1. bounded decoding ---------------------------------------------------------------------------------


async def test_stacked_encodings_are_bounded_per_layer(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    """gzip of gzip of 512 MiB of zeros (about 1 KB on the wire): refused at the 8 MiB cap with the
    bridge's peak memory far below one layer's full output (before: +1 GB)."""
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.call("list_api_links")
        pid = s.pid
        before = memory_kb(pid)
        for encodings in (["gzip", "gzip"], ["deflate", "gzip"], ["gzip", "deflate", "gzip"]):
            await s.faults({"match": ALBUMS, "body": "encoded_bomb", "encodings": encodings})
            result = await s.call("list_albums")
            assert message(result) == "the Footage API's answer is larger than 8 MiB; the bridge refused to read it"
        await s.faults({"match": PREVIEW, "body": "encoded_bomb", "encodings": ["gzip", "gzip"]})
        result = await s.call("get_asset_preview", {"asset_id": ASSET})
        assert message(result) == "the Footage API's answer is larger than 32 MiB; the bridge refused to read it"
        peak = memory_kb(pid, "VmHWM")
        assert peak - before < 120 * 1024, f"peak {peak // 1024} MB, baseline {before // 1024} MB"
        await s.faults()
        assert message(await s.call("get_album", {"album_id": ALBUM})) is None  # still serving


async def test_a_body_that_is_not_what_its_encoding_says(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.faults({"match": ALBUMS, "body": "not_gzip"})
        assert message(await s.call("list_albums")) == (
            f"the Footage API's answer is labelled gzip-compressed but is not valid gzip data; {AT_FAULT}"
        )
        await s.faults({"match": ALBUMS, "body": "unknown_encoding"})
        assert message(await s.call("list_albums")) == (
            f"the Footage API answered in a content encoding the bridge cannot read (x-footage-unknown); {AT_FAULT}"
        )
        assert "Traceback" not in s.log()


# -- 2. refused bodies leave nothing resident -----------------------------------------------------------


async def test_thirty_refusals_leave_memory_near_the_baseline(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    """10 chunked gzip bombs (10 MB each), 10 previews of 30 MB refused from their first bytes and 10
    refused only after being read whole (a 30 MB PNG whose image data is corrupt): afterwards the
    bridge's resident memory is within 30 MB of what it was before them."""
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.call("list_albums")
        await s.call("get_asset_preview", {"asset_id": ASSET})  # Pillow and the thread pool loaded
        pid = s.pid
        baseline = memory_kb(pid)
        await s.faults(
            {"match": ALBUMS, "body": "encoded_bomb", "encodings": ["gzip"], "size_bytes": 10_000_000},
            {"match": PREVIEW, "body": "jpeg_zeros"},
        )
        for _ in range(10):
            assert "larger than 8 MiB" in (message(await s.call("list_albums")) or "")
            refused = message(await s.call("get_asset_preview", {"asset_id": ASSET}))
            assert refused == preview_message("is not a valid JPEG (broken segment length)")
        await s.faults({"match": PREVIEW, "body": "corrupt_png", "size_bytes": 30_000_000})
        for _ in range(10):
            refused = message(await s.call("get_asset_preview", {"asset_id": ASSET}))
            assert refused == preview_message("is a corrupt PNG image (its data cannot be decoded)")
        after = memory_kb(pid)
        assert after - baseline < 30 * 1024, f"RSS {baseline // 1024} → {after // 1024} MB after 30 refusals"


# -- 3./4. images: bounded, off the loop, sniffed, stripped ----------------------------------------------


async def test_image_bombs_are_refused_before_decoding(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.call("list_api_links")
        pid = s.pid
        before = memory_kb(pid)
        await s.faults({"match": PREVIEW, "body": "png_bomb"})
        assert message(await s.call("get_asset_preview", {"asset_id": ASSET})) == preview_message(
            f"declares 13300×13300 pixels, more than a preview may have (at most {MAX_PIXELS:,} pixels)"
        )
        await s.faults({"match": PREVIEW, "body": "jpeg_zeros"})
        assert message(await s.call("get_asset_preview", {"asset_id": ASSET})) == preview_message(
            "is not a valid JPEG (broken segment length)"
        )
        await s.faults({"match": PREVIEW, "body": "corrupt_png"})
        corrupt = message(await s.call("get_asset_preview", {"asset_id": ASSET}))
        assert corrupt == preview_message("is a corrupt PNG image (its data cannot be decoded)")
        await s.faults({"match": PREVIEW, "body": "png_bomb", "width": 4000, "height": 4000})  # within the cap
        ok = await s.call("get_asset_preview", {"asset_id": ASSET})
        assert message(ok) is None and "(768×768, image/png)" in ok.content[1].text  # type: ignore[union-attr]
        peak = memory_kb(pid, "VmHWM")
        assert peak - before < 250 * 1024, f"peak {peak // 1024} MB, baseline {before // 1024} MB"
        assert "Traceback" not in s.log()


async def test_a_trivial_call_answers_while_twenty_hostile_previews_run(
    hostile_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Twenty previews at once (image bombs, 30 MB JPEG-looking zeros, corrupt and metadata-laden images)
    each get their own answer, none a false timeout, and a trivial call answers meanwhile."""
    async with session(hostile_sandbox, tmp_path, {**ENV, "FOOTAGE_TIMEOUT": "5"}) as s:
        await s.call("get_archive_configuration")
        kinds = ["png_bomb", "jpeg_zeros", "image_metadata", "corrupt_png"]
        await s.faults(*[{"match": PREVIEW, "body": kind, "times": 5} for kind in kinds])
        results: list[str | None] = []
        trivial: list[str | None] = []

        async def preview() -> None:
            results.append(message(await s.call("get_asset_preview", {"asset_id": ASSET})))

        async def configuration() -> None:
            await anyio.sleep(0.05)
            trivial.append(message(await s.call("get_archive_configuration")))

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(preview)
            group.start_soon(configuration)
        assert trivial == [None]
        assert results.count(None) == 5  # the metadata images are shown (re-encoded)
        failures = sorted(r for r in results if r is not None)
        assert len(failures) == 15 and not any("did not" in f for f in failures)
        assert failures.count(preview_message("is not a valid JPEG (broken segment length)")) == 5
        assert sum("declares 13300×13300 pixels" in f for f in failures) == 5
        assert sum("is a corrupt PNG image" in f for f in failures) == 5


@pytest.mark.parametrize("image_format", ["png", "jpeg"])
async def test_previews_are_sniffed_and_re_encoded_without_metadata(
    hostile_sandbox: RunningSandbox, tmp_path: Path, image_format: str
) -> None:
    """A small image labelled as the other format, with the token echoed into every metadata kind
    (PNG tEXt/zTXt/iTXt/eXIf/XMP/iCCP, JPEG COM/EXIF/XMP/ICC): the result is re-encoded, labelled
    with its real format, and holds no metadata and no trace of the token."""
    token = hostile_sandbox.token
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.faults({"match": PREVIEW, "body": "image_metadata", "image_format": image_format})
        result = await s.call("get_asset_preview", {"asset_id": ASSET})
        assert message(result) is None
        image, text = result.content
        data = base64.b64decode(image.data)  # type: ignore[union-attr]
        assert {"JPEG": "image/jpeg", "PNG": "image/png"}[sniff(data) or ""] == image.mime_type  # type: ignore[union-attr]
        assert token.encode() not in data and token not in image.data  # type: ignore[union-attr]
        assert token not in text.text  # type: ignore[union-attr]
        with Image.open(io.BytesIO(data)) as decoded:
            assert decoded.size == (64, 48)
            assert not {"exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"} & set(decoded.info)
            assert not getattr(decoded, "text", {})
            assert len(decoded.getexif()) == 0


# -- 5. the token, cut or encoded ------------------------------------------------------------------------


async def test_a_cut_never_leaves_a_token_prefix(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    token = hostile_sandbox.token
    prefixes = [token[i : i + 8] for i in range(len(token) - 7)]
    async with session(hostile_sandbox, tmp_path, {**ENV, "FOOTAGE_OUTPUT_BUDGET": "500"}) as s:
        await s.faults({"match": ALBUMS, "body": "echo_cut"})
        excerpt = message(await s.call("list_albums"))
        assert excerpt == "the Footage API rejected the request (400): " + "E" * 122 + "[redacted]!"
        await s.faults({"match": r"^/public/status$", "body": "echo_long"})
        trimmed = await s.call("api_get", {"path": "public/status"})
        assert message(trimmed) is None and trimmed.structured_content is not None
        shown = trimmed.structured_content["body"]["text"]
        assert shown.startswith("E" * 379) and shown.endswith("…") and len(shown) < 1000
        for block in (excerpt, trimmed.content[0].text, json.dumps(trimmed.structured_content)):  # type: ignore[union-attr]
            assert not any(p in block for p in prefixes)


@pytest.mark.parametrize("via", ["link", "cursor", "header"])
async def test_a_continuation_holding_the_token_ends_the_listing(
    hostile_sandbox: RunningSandbox, tmp_path: Path, via: str
) -> None:
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.faults({"match": ALBUMS, "body": "next_echo", "via": via})
        result = await s.call("list_albums")
        assert message(result) is None and result.structured_content is not None
        assert [a["id"] for a in result.structured_content["albums"]] == ["echo-1", "echo-2"]
        assert result.structured_content["next_cursor"] is None
        assert result.structured_content["note"] == (
            "the API's next-page link contains the API token, so the listing ends here (the bridge never hands "
            "the token out)"
        )
        assert hostile_sandbox.token not in result.content[0].text  # type: ignore[union-attr]


async def test_cursors_are_encrypted(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    """A genuine cursor reveals nothing of the URL it continues (no base64 of JSON any more)."""
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        first = await s.call("search_assets", {"query": "Paris", "limit": 2})
        cursor = first.structured_content["next_cursor"]  # type: ignore[index]
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # no plaintext marker (a lone "{" would be flaky: random ciphertext holds one byte in 256 as "{")
        assert b"http" not in raw and b"search" not in raw and b'{"u":' not in raw
        second = await s.call("search_assets", {"query": "Paris", "limit": 2, "cursor": cursor})
        assert message(second) is None
        assert {a["id"] for a in second.structured_content["assets"]}.isdisjoint(  # type: ignore[index]
            {a["id"] for a in first.structured_content["assets"]}  # type: ignore[index]
        )


# -- 6. non-finite numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "args", "route"),
    [
        ("list_albums", {}, ALBUMS),
        ("search_assets", {"query": "x"}, r"^/search/assets$"),
        ("get_asset", {"asset_id": ASSET}, r"^/assets/[^/]+$"),
        ("api_get", {"path": "albums"}, ALBUMS),
    ],
)
async def test_non_finite_numbers_become_absent_fields(
    hostile_sandbox: RunningSandbox, tmp_path: Path, tool: str, args: dict[str, Any], route: str
) -> None:
    """The SDK client validates structured content against the declared output schema: a NaN would make
    it raise for the whole result. The items survive; the numbers are gone from text and structure."""
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.faults({"match": route, "body": "non_finite"})
        result = await s.call(tool, args)
        assert message(result) is None
        text = result.content[0].text  # type: ignore[union-attr]

        def not_json(literal: str) -> None:
            raise AssertionError(f"{literal} in the text block")

        assert json.loads(text, parse_constant=not_json) == result.structured_content
        data = result.structured_content
        assert data is not None
        if tool == "get_asset":
            assert data["id"] == ASSET and "duration_seconds" not in data and "width" not in data
        elif tool == "api_get":
            assert [i["id"] for i in data["body"]["items"]] == ["nf-1", "nf-2", "nf-3"]
            first = {"id": "nf-1", "name": "NaN duration", "mediaType": "video", "duration": "NaN:0"}
            assert data["body"]["items"][0] == first
            assert "total" not in data["body"] and "fileSize" not in data["body"]["items"][1]
        else:
            items = data["albums" if tool == "list_albums" else "assets"]
            assert [i["id"] for i in items] == ["nf-1", "nf-2", "nf-3"]
            assert "total" not in data


# -- 7. deep structures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [197, 255, 2000])
async def test_a_deep_configuration_gives_a_parseable_reply(
    hostile_sandbox: RunningSandbox, tmp_path: Path, depth: int
) -> None:
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.faults({"match": r"^/configuration/archive$", "body": "deep", "depth": depth})
        result = await s.call("get_archive_configuration")
        if depth > 1000:  # beyond what the JSON reader recurses into
            assert message(result) == "the Footage API answered with JSON nested too deeply to read"
            return
        assert message(result) is None and result.structured_content is not None
        assert result.structured_content["note"] == "nesting deeper than 24 levels was cut"
        assert result.structured_content["configuration"]["languages"] == ["en"]
        assert "Traceback" not in s.log()


# -- 8. what happened, said right ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("huge_int", f"the Footage API answered with a number too long to read (over 4,300 digits); {AT_FAULT}"),
        ("bad_utf8", f"the Footage API answered with text that is not valid UTF-8 (at byte 32); {AT_FAULT}"),
        (
            "huge_header",
            "the Footage API sent response headers too large to read (over 100 KiB: a huge header line or thousands "
            f"of headers); {AT_FAULT}",
        ),
        (
            "many_links",
            "the Footage API sent response headers too large to read (over 100 KiB: a huge header line or thousands "
            f"of headers); {AT_FAULT}",
        ),
    ],
)
async def test_errors_say_what_happened(
    hostile_sandbox: RunningSandbox, tmp_path: Path, kind: str, expected: str
) -> None:
    async with session(hostile_sandbox, tmp_path, ENV) as s:
        await s.faults({"match": ALBUMS, "body": kind})
        assert message(await s.call("list_albums")) == expected
        await s.faults()
        assert message(await s.call("list_albums")) is None


# -- 9. the pool is not a queue --------------------------------------------------------------------------


async def test_forty_hung_calls_do_not_starve_a_fast_one(hostile_sandbox: RunningSandbox, tmp_path: Path) -> None:
    """40 calls hang on a route slower than FOOTAGE_TIMEOUT; a call to another route started after them
    gets a connection at once (the pool has 64) and succeeds. With a 32-connection pool whose wait
    counted against FOOTAGE_TIMEOUT, it failed with the hung ones."""
    async with session(hostile_sandbox, tmp_path, {**ENV, "FOOTAGE_TIMEOUT": "3"}) as s:
        await s.call("list_api_links")
        await s.faults({"match": r"^/albums/[^/]+$", "latency_ms": 6000})
        slow: list[str | None] = []
        fast: list[str | None] = []

        async def hung() -> None:
            slow.append(message(await s.call("get_album", {"album_id": ALBUM})))

        async def quick() -> None:
            await anyio.sleep(0.5)  # after the hung calls hold their connections
            fast.append(message(await s.call("search_assets", {"query": "Paris", "limit": 2})))

        async with anyio.create_task_group() as group:
            for _ in range(40):
                group.start_soon(hung)
            group.start_soon(quick)
        assert fast == [None]
        assert slow == ["the Footage API did not answer within 3 s; try again later, or raise FOOTAGE_TIMEOUT"] * 40
