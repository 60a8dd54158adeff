"""The sandbox's ASGI Zero Copy Send (footage_mcp/sandbox/zerocopy.py) on a real uvicorn server over loopback:
offered in the scope, a file range sent exactly, HEAD without a body, a response without Content-Length
sent as ordinary body messages, a client that goes mid-file leaves the server answering; and the sandbox
sends stored files that way (whole and ranged), generated ones and faulted ones as before."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

from footage_mcp.sandbox.originals import ZERO_COPY, Blob, FileFault, send_blob
from footage_mcp.sandbox.zerocopy import ZeroCopyH11Protocol

pytestmark = pytest.mark.anyio

SIZE = 6 * 1024 * 1024 + 7


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, bytes]:
    payload = os.urandom(SIZE)
    path = tmp_path / "stored.bin"
    path.write_bytes(payload)
    return path, payload


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=ZeroCopyH11Protocol, log_config=None, lifespan="off")  # logs reach caplog
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def file_app(path: Path, offers: list[bool]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        offers.append(ZERO_COPY in scope.get("extensions", {}))
        offset, count = (int(x) for x in scope["query_string"].decode().split(","))
        headers = [(b"content-type", b"application/octet-stream")]
        if scope["path"] != "/no-length":
            headers.append((b"content-length", str(count).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        with path.open("rb") as handle:
            await send({"type": ZERO_COPY, "file": handle, "offset": offset, "count": count, "more_body": False})

    return app


async def test_a_file_range_is_sent_exactly_and_head_has_no_body(stored: tuple[Path, bytes]) -> None:
    path, payload = stored
    offers: list[bool] = []
    async with serving(file_app(path, offers)) as origin, httpx2.AsyncClient(timeout=30) as http:
        whole = await http.get(f"{origin}/f?0,{SIZE}")
        middle = await http.get(f"{origin}/f?1000,2000000")
        head = await http.head(f"{origin}/f?5,10")
        unframed = await http.get(f"{origin}/no-length?3,4000000")
        again = await http.get(f"{origin}/f?0,10")  # the same kept-alive connection still works
    assert whole.content == payload and whole.headers["content-length"] == str(SIZE)
    assert middle.content == payload[1000:2001000]
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "10"
    assert unframed.content == payload[3:4000003] and unframed.headers.get("transfer-encoding") == "chunked"
    assert again.content == payload[:10]
    assert offers == [True] * 5


async def test_a_client_that_goes_mid_file_leaves_the_server_answering(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "large.bin"
    with path.open("wb") as handle:
        handle.truncate(256 * 1024 * 1024)
    async with serving(file_app(path, [])) as origin:
        port = int(origin.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /f?0,{256 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        assert (await reader.readexactly(12)).startswith(b"HTTP/1.1 200")
        writer.transport.abort()  # gone, with most of the file unsent
        async with httpx2.AsyncClient(timeout=30) as http:
            after = await http.get(f"{origin}/f?0,100")
    assert after.status_code == 200 and after.content == b"\0" * 100
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []  # no traceback


def blob(path: Path | None) -> Blob:
    return Blob(size=SIZE, mime_type="application/octet-stream", etag='"e"', filename="a.bin", seed="s", path=path)


async def sent_by(b: Blob, headers: dict[str, str], fault: FileFault | None, zero_copy: bool) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        if message["type"] == ZERO_COPY:
            handle = message["file"]
            handle.seek(message["offset"])
            message = {**message, "file": hashlib.sha256(handle.read(message["count"])).hexdigest()}
        messages.append(message)

    await send_blob(send, b, "GET", headers, fault, zero_copy=zero_copy)
    return messages


async def test_the_sandbox_sends_stored_files_with_zero_copy_when_offered(stored: tuple[Path, bytes]) -> None:
    path, payload = stored
    whole = await sent_by(blob(path), {}, None, zero_copy=True)
    assert [m["type"] for m in whole] == ["http.response.start", ZERO_COPY]
    assert whole[1] == {
        "type": ZERO_COPY,
        "file": hashlib.sha256(payload).hexdigest(),
        "offset": 0,
        "count": SIZE,
        "more_body": False,
    }
    ranged = await sent_by(blob(path), {"range": "bytes=100-"}, None, zero_copy=True)
    assert ranged[0]["status"] == 206
    assert (ranged[1]["offset"], ranged[1]["count"]) == (100, SIZE - 100)
    assert ranged[1]["file"] == hashlib.sha256(payload[100:]).hexdigest()


@pytest.mark.parametrize("case", ["not offered", "generated", "faulted"])
async def test_otherwise_the_bytes_go_as_body_messages(stored: tuple[Path, bytes], case: str) -> None:
    path, payload = stored
    fault = FileFault(kind="slow", after_bytes=0, bytes_per_second=10**12) if case == "faulted" else None
    b = blob(None if case == "generated" else path)
    messages = await sent_by(b, {}, fault, zero_copy=case != "not offered")
    assert {m["type"] for m in messages} == {"http.response.start", "http.response.body"}
    body = b"".join(m.get("body", b"") for m in messages[1:])
    assert len(body) == SIZE
    if case != "generated":
        assert body == payload
