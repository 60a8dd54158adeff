"""A write's answer goes through the REST client's one request path: bounded layer-by-layer decoding
(rest/decoding.py) and the same failure classification as reads. Before, rest/writes.py read answers
with its own loop through httpx2's decoders, so a gzip-of-gzip bomb in a write's answer was decoded
whole, layer by layer, before any byte was counted."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from footage_mcp.core.settings import Settings
from footage_mcp.surface.server import build_server

pytestmark = pytest.mark.anyio

TOKEN = SUITE_TOKEN[:30]  # as long as the literal it replaces; the canary plugin searches for it
BASE = "http://127.0.0.1:9/api/asset"  # never dialled: the ASGI transport answers
BOMB = gzip.compress(gzip.compress(b"\0" * (64 * 1024 * 1024)))  # 64 MiB of zeros in a few kB


def upstream() -> tuple[Starlette, list[str]]:
    seen: list[str] = []

    async def root(request: Request) -> Response:
        return JSONResponse({"_links": {}})

    async def albums(request: Request) -> Response:
        seen.append(request.method)
        headers = {"content-type": "application/json", "content-encoding": "gzip, gzip"}
        return Response(BOMB, status_code=201, headers=headers)

    app = Starlette(routes=[Route("/api/asset", root), Route("/api/asset/albums", albums, methods=["POST"])])
    return app, seen


async def test_a_compression_bomb_in_a_write_answer_is_refused_with_its_own_message() -> None:
    app, seen = upstream()
    settings = Settings(api_token=TOKEN, base_url=BASE, allow_writes=True, max_retries=0)  # type: ignore[arg-type]
    server = build_server(settings, transport=httpx2.ASGITransport(app))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("create_album", {"name": "Bombed"})
    text: Any = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert result.is_error, text
    assert "larger than 8 MiB" in text and "refused to read it" in text, text
    assert seen == ["POST"]  # sent once: a creating write is not retried
    assert TOKEN not in json.dumps(result.model_dump(mode="json"))


def upload_upstream() -> tuple[Starlette, list[int]]:
    received: list[int] = []

    async def root(request: Request) -> Response:
        return JSONResponse({"_links": {}})

    async def assets(request: Request) -> Response:
        received.append(len(await request.body()))
        headers = {"content-type": "application/json", "content-encoding": "gzip, gzip"}
        return Response(BOMB, status_code=201, headers=headers)

    app = Starlette(routes=[Route("/api/asset", root), Route("/api/asset/assets", assets, methods=["POST"])])
    return app, received


async def test_a_compression_bomb_in_an_upload_answer_is_refused_and_the_file_is_not_called_uploaded(
    tmp_path: Path,
) -> None:
    """The upload's answer went through httpx2's own reading (``request``, the whole body decoded): a
    gzip-of-gzip bomb there became 64 MiB in memory and the file was reported ``uploaded``."""
    (tmp_path / "clip.mp4").write_bytes(b"\0" * 4096)
    app, received = upload_upstream()
    settings = Settings(  # type: ignore[arg-type]
        api_token=TOKEN, base_url=BASE, allow_writes=True, upload_dirs=str(tmp_path), max_retries=0
    )
    server = build_server(settings, transport=httpx2.ASGITransport(app))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("upload_assets", {"path": str(tmp_path / "clip.mp4")})
    report = result.structured_content
    assert not result.is_error and report is not None, result
    [outcome] = report["files"]
    assert outcome["outcome"] == "failed", outcome
    assert "larger than 8 MiB" in outcome["reason"] and "refused to read it" in outcome["reason"], outcome
    assert "may or may not have been stored" in outcome["reason"], outcome
    assert len(received) == 1 and received[0] > 4096  # sent once, the whole file in it
    assert TOKEN not in json.dumps(result.model_dump(mode="json"))
