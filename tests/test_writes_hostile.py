"""A write's answer goes through the REST client's one request path: bounded layer-by-layer decoding
(rest/decoding.py) and the same failure classification as reads. Before, rest/writes.py read answers
with its own loop through httpx2's decoders, so a gzip-of-gzip bomb in a write's answer was decoded
whole, layer by layer, before any byte was counted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
from footage_mcp.sandbox.hostile import encoded_bomb
from footage_mcp.surface.server import build_server
from tests.files_support import loopback_port

pytestmark = pytest.mark.anyio

TOKEN = SUITE_TOKEN[:30]  # as long as the literal it replaces; the canary plugin searches for it
BASE = "http://127.0.0.1:9/api/asset"  # never dialled: the ASGI transport answers


def bomb() -> bytes:
    """64 MiB of zeros, gzip of gzip, in under 1 kB: the sandbox's hostile bomb (cached)."""
    return encoded_bomb(64 * 1024 * 1024, ("gzip", "gzip"))


def upstream() -> tuple[Starlette, list[str]]:
    seen: list[str] = []

    async def root(request: Request) -> Response:
        return JSONResponse({"_links": {}})

    async def albums(request: Request) -> Response:
        seen.append(request.method)
        headers = {"content-type": "application/json", "content-encoding": "gzip, gzip"}
        return Response(bomb(), status_code=201, headers=headers)

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
    assert "the change may or may not have happened: check with list_albums" in text, text  # it was sent
    assert seen == ["POST"]  # sent once: a creating write is not retried
    assert TOKEN not in json.dumps(result.model_dump(mode="json"))


def upload_upstream() -> tuple[Starlette, list[int]]:
    received: list[int] = []

    async def root(request: Request) -> Response:
        return JSONResponse({"_links": {}})

    async def assets(request: Request) -> Response:
        received.append(len(await request.body()))
        headers = {"content-type": "application/json", "content-encoding": "gzip, gzip"}
        return Response(bomb(), status_code=201, headers=headers)

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


@asynccontextmanager
async def raw_archive(answer: str) -> AsyncIterator[str]:
    """A loopback HTTP/1.1 server: ``GET`` answers ``{"_links": {}}``; a ``POST`` (the upload) is read whole,
    then answered ``endless`` (a chunked body that never ends) or ``trickle`` (one byte every 0.2 s of a
    declared 1,000). Yields the base URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                headers: dict[str, str] = {}
                while (field := await reader.readline()) not in (b"\r\n", b""):
                    key, _, value = field.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                if length := int(headers.get("content-length", "0")):
                    await reader.readexactly(length)
                if line.startswith(b"GET"):
                    body = b'{"_links": {}}'
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                    )
                    writer.write(body)
                    await writer.drain()
                elif answer == "endless":
                    writer.write(
                        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    )
                    while True:
                        writer.write(b"10000\r\n" + b" " * 65536 + b"\r\n")
                        await writer.drain()
                else:
                    writer.write(
                        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                    )
                    for _ in range(1000):
                        writer.write(b" ")
                        await writer.drain()
                        await asyncio.sleep(0.2)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async with loopback_port(handle) as port:
        yield f"http://127.0.0.1:{port}/api/asset"


@pytest.mark.parametrize(
    ("answer", "timeout", "says"),
    [  # timeouts with room for a loaded machine: 8 MiB are read well within 10 s; 1,000 bytes at 5/s take 200 s
        ("endless", 10, "the Footage API's answer is larger than 8 MiB; the bridge refused to read it"),
        ("trickle", 2, "the API did not answer within 2 s"),
    ],
)
async def test_an_endless_or_trickled_upload_answer_is_bounded(
    tmp_path: Path, answer: str, timeout: int, says: str
) -> None:
    """Found by a breaking run: an endless answer to the upload grew the bridge past 3 GB, and one
    trickled a byte a second held the call until the server stopped (FOOTAGE_TIMEOUT did not apply)."""
    (tmp_path / "clip.mp4").write_bytes(b"\0" * 4096)
    async with raw_archive(answer) as base:
        settings = Settings(  # type: ignore[arg-type]
            api_token=TOKEN, base_url=base, allow_writes=True, upload_dirs=str(tmp_path), timeout=timeout, max_retries=0
        )
        async with Client(build_server(settings), mode="legacy") as client:
            result = await client.call_tool("upload_assets", {"path": str(tmp_path / "clip.mp4")})
    report = result.structured_content
    assert not result.is_error and report is not None, result
    [outcome] = report["files"]
    assert outcome["outcome"] == "failed", outcome
    assert outcome["reason"].startswith(says) and "may or may not have been stored" in outcome["reason"], outcome
