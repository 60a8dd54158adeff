"""A canary token through a representative hostile session: 0 hits (issue 11, "done when").

The whole suite is a canary run (tests/canary_plugin.py): every test's sandbox accepts the canary and
everything every test's bridge produces is searched for it. This file is the concentrated case: the
upstream echoes the token back every way it can, and the search is spelled out here.

The sandbox accepts a distinctive token, and its hostile faults echo it back every way an upstream
can: in error bodies (whole and where a cut falls), in next links, API cursors and Link headers, in
every metadata kind of a preview image, in bodies trimmed to fit the output budget. The bridge runs
over real stdio at DEBUG log level with its stderr and working directory captured. Then everything
the session produced is searched for the token (and every 10-character piece of it): every result
(text, structured content, image bytes), every cursor decoded every way (base64 standard and URL-safe,
with and without padding, hex, percent-decoding, JSON, nested), every file the bridge's working
directory holds, and every line it logged. The search is tests/canary_scan.py's (the plugin's).
"""

from __future__ import annotations

import base64
import io
import json
import random
import zlib
from pathlib import Path
from typing import Any

import pytest
from canary_scan import CANARY, DENSE_RUNS, NEEDLES, decodings, hits
from mcp.types import CallToolResult
from PIL import Image

from footage_mcp.cli.launch import sandbox_process
from footage_mcp.sandbox.library import shared_library
from tests.hostile_tools import message, session

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

LIB = shared_library()
ASSET = next(a for a in LIB.assets if a.kind == "image" and a.preview_available).id
ALBUMS, SEARCH, PREVIEW, STATUS = r"^/albums$", r"^/search/assets$", r"^/assets/[^/]+/preview$", r"^/public/status$"
CASES: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
    ({"match": ALBUMS, "body": "error_echo"}, "list_albums", {}),
    ({"match": ALBUMS, "body": "echo_cut"}, "list_albums", {}),
    ({"match": ALBUMS, "body": "echo_cut", "status": 403}, "list_albums", {}),
    ({"match": STATUS, "body": "echo_long"}, "api_get", {"path": "public/status"}),
    ({"match": STATUS, "body": "echo_cut", "status": 404}, "api_get", {"path": "public/status"}),
    ({"match": ALBUMS, "body": "next_echo", "via": "link"}, "list_albums", {}),
    ({"match": ALBUMS, "body": "next_echo", "via": "cursor"}, "list_albums", {"limit": 1}),
    ({"match": SEARCH, "body": "next_echo", "via": "header"}, "search_assets", {"query": "x"}),
    ({"match": SEARCH, "body": "next_echo", "via": "cursor"}, "search_assets", {"query": "x", "limit": 1}),
    ({"match": PREVIEW, "body": "image_metadata"}, "get_asset_preview", {"asset_id": ASSET}),
    ({"match": PREVIEW, "body": "image_metadata", "image_format": "jpeg"}, "get_asset_preview", {"asset_id": ASSET}),
    ({"match": PREVIEW, "body": "corrupt_png"}, "get_asset_preview", {"asset_id": ASSET}),
    ({"match": ALBUMS, "body": "encoded_bomb", "encodings": ["gzip"], "size_bytes": 10_000_000}, "list_albums", {}),
    ({"match": ALBUMS, "body": "non_finite"}, "list_albums", {}),
    ({"match": ALBUMS, "body": "huge_header"}, "list_albums", {}),
    ({"match": r"^/configuration/archive$", "body": "deep"}, "get_archive_configuration", {}),
]


def cursors(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["next_cursor"]] if isinstance(value.get("next_cursor"), str) else []
        return own + [c for v in value.values() for c in cursors(v)]
    if isinstance(value, list):
        return [c for v in value for c in cursors(v)]
    return []


async def test_a_hostile_session_never_shows_the_canary_token(tmp_path: Path) -> None:
    results: list[CallToolResult] = []
    with sandbox_process(shape="items", token=CANARY) as sandbox:
        env = {"FOOTAGE_LOG_LEVEL": "DEBUG", "FOOTAGE_OUTPUT_BUDGET": "500", "FOOTAGE_TIMEOUT": "20"}
        async with session(sandbox, tmp_path, env) as s:
            for rule, tool, args in CASES:
                await s.faults(rule)
                results.append(await s.call(tool, args))
            await s.faults()
            cursor: str | None = None
            for _ in range(3):  # an ordinary listing, paged through its cursors (trimmed to the budget)
                args = {"query": "Paris", "limit": 10, **({"cursor": cursor} if cursor else {})}
                page = await s.call("search_assets", args)
                results.append(page)
                cursor = (page.structured_content or {}).get("next_cursor")
                if cursor is None:
                    break
            preview = await s.client.read_resource(f"footage://assets/{ASSET}/preview")
            log = s.log()
    assert message(results[0]) == "the Footage API rejected the request (400): invalid apiKey [redacted] for this route"
    assert message(results[1]) == "the Footage API rejected the request (400): " + "E" * 122 + "[redacted]!"
    assert results[5].structured_content is not None and results[5].structured_content["next_cursor"] is None
    images = [
        base64.b64decode(block.data)  # type: ignore[union-attr]
        for result in results
        for block in result.content
        if block.type == "image"
    ]
    assert len(images) == 2
    for data in images:
        with Image.open(io.BytesIO(data)) as decoded:
            assert not {"exif", "icc_profile", "comment", "xmp"} & set(decoded.info)
    found_cursors = [c for r in results for c in cursors(r.structured_content)]
    assert len(found_cursors) >= 2  # the ordinary listing handed out cursors, and they were decoded below
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["bridge-stderr.log"]
    assert len(log.splitlines()) > 20  # DEBUG logging of the whole session was captured

    leaks: dict[str, list[str]] = {}
    for index, result in enumerate(results):
        for blob in [result.model_dump_json().encode(), *(decodings(result.model_dump_json()))]:
            if hits(blob):
                leaks.setdefault(f"result {index} ({CASES[index][1] if index < len(CASES) else 'paging'})", []).extend(
                    hits(blob)
                )
    for data in images:
        if hits(data):
            leaks.setdefault("image bytes", []).extend(hits(data))
    for cursor_value in found_cursors:
        for blob in decodings(cursor_value):
            if hits(blob):
                leaks.setdefault(f"cursor {cursor_value[:20]}", []).extend(hits(blob))
    for content in preview.contents:
        blob = base64.b64decode(content.blob) if hasattr(content, "blob") else content.text.encode()  # type: ignore[union-attr]
        if hits(blob):
            leaks.setdefault("preview resource", []).extend(hits(blob))
    for path in files:
        if hits(path.read_bytes()):
            leaks.setdefault(f"file {path.name}", []).extend(hits(path.read_bytes()))
    for number, line in enumerate(log.splitlines()):
        if hits(line.encode()):
            leaks.setdefault(f"log line {number}: {line[:80]}", []).extend(hits(line.encode()))
    assert leaks == {}


def test_the_scan_finds_the_canary_in_every_encoding() -> None:
    """The search above can fail: each way a cursor or a result could carry the token is found."""
    state = json.dumps({"u": f"http://h/api/asset/albums?page=1&apiKey={CANARY}", "s": 0}).encode()
    carriers = [
        base64.urlsafe_b64encode(state).decode().rstrip("="),  # the old cursor format
        base64.b64encode(state).decode(),
        state.hex(),
        "x%3D" + "".join(f"%{b:02X}" for b in CANARY.encode()),
        json.dumps({"cursor": base64.b64encode(CANARY.encode()).decode()}),
        base64.urlsafe_b64encode(json.dumps({"next": CANARY[:12] + "…"}).encode()).decode(),
    ]
    for carrier in carriers:
        assert any(hits(blob) for blob in decodings(carrier)), carrier
    assert hits(zlib.compress(b"tEXt " + CANARY.encode()))
    assert not any(hits(blob) for blob in decodings(base64.b64encode(b"[redacted] " + CANARY[:9].encode()).decode()))


def every_window(blob: bytes) -> set[str]:
    """The forms ``blob`` holds a window of, by trying every window of every form (no anchors, no runs)."""
    low = blob.lower()
    return {
        form.name
        for form in NEEDLES.forms
        if any(form.master[i : i + form.window] in low for i in range(len(form.master) - form.window + 1))
    }


def test_the_run_search_finds_what_trying_every_window_finds() -> None:
    """Needles.find searches only the runs of bytes a form could be made of: on random bytes, base64
    text and texts made of a group's own bytes (dense runs), with pieces of every form planted at random
    places, in either case, cut one byte short or not, it names what trying every window names."""
    rnd = random.Random(11)
    alphabets = [bytes(sorted(group.alphabet)) for group in NEEDLES.filters] + [b"0123456789abcdefABCDEF%\0"]
    for _ in range(400):
        size = rnd.choice([0, 40, 2000, 20000])
        fillers = [
            rnd.randbytes(size),
            base64.b64encode(rnd.randbytes(size)),
            bytes(rnd.choices(rnd.choice(alphabets), k=size)),
        ]
        blob = bytearray(rnd.choice(fillers))
        for _ in range(rnd.randrange(3)):
            form = rnd.choice(NEEDLES.forms)
            width = form.window + rnd.choice([-1, 0, 0, 3])
            start = rnd.randrange(len(form.master) - width + 1)
            piece = form.master[start : start + width]
            at = rnd.randrange(len(blob) + 1)
            blob[at:at] = piece.upper() if rnd.random() < 0.5 else piece
        assert set(NEEDLES.find(bytes(blob))) == every_window(bytes(blob)), bytes(blob)[:200]


def test_a_piece_after_many_runs_is_found() -> None:
    """After DENSE_RUNS close runs the rest of a blob is searched whole; after sparse ones run by run."""
    piece = CANARY[20:30].encode()
    dense = b" ".join([b"0123456789abcdef"] * (DENSE_RUNS * 4)) + b" " + piece
    sparse = b"".join(random.Random(3).randbytes(5000) + b"0123456789abcdef" for _ in range(DENSE_RUNS * 2)) + piece
    for blob in (dense, sparse, dense + piece.upper(), piece + dense):
        assert NEEDLES.find(blob) == ["plain"]
    assert NEEDLES.find(dense[:-1]) == NEEDLES.find(sparse[:-1]) == []
