"""Helpers for the file tests: the sandbox's control API, expected bytes read straight from the sandbox,
and asset picks from the seeded library (small ones, on the API origin or on the CDN)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp.types import CallToolResult

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.core.settings import Settings
from footage_mcp.sandbox.library import Asset, shared_library

LIB = shared_library()


def on_cdn(asset: Asset) -> bool:
    """The sandbox's rule for which originals the CDN listener serves (footage_mcp.sandbox.files)."""
    return hashlib.sha256(asset.id.encode()).digest()[0] % 3 == 0


def big_audio(at_least: int = 2 * 1024 * 1024) -> Asset:
    """The smallest audio asset served from the API origin (not the CDN) that is larger than ``at_least``
    bytes (the sandbox's durations decide sizes: picked, not assumed)."""
    return min(
        (a for a in LIB.assets if a.kind == "audio" and not on_cdn(a) and a.size_bytes > at_least),
        key=lambda a: a.size_bytes,
    )


def small(kind: str, *, cdn: bool | None = None, index: int = 0, mime: str | None = None) -> Asset:
    """The ``index``-th smallest asset of ``kind`` (optionally: on the CDN or not, of one MIME type)."""
    rows = sorted(
        (
            a
            for a in LIB.assets
            if a.kind == kind and (cdn is None or on_cdn(a) == cdn) and (mime is None or a.mime_type == mime)
        ),
        key=lambda a: a.size_bytes,
    )
    return rows[index]


@asynccontextmanager
async def control(sandbox: RunningSandbox) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client for the sandbox's ``/_sandbox`` control routes; file faults cleared before and after."""
    origin = sandbox.base_url.removesuffix("/api/asset")
    async with httpx2.AsyncClient(base_url=origin + "/_sandbox", timeout=30) as client:
        await client.delete("/file-faults")
        await client.delete("/faults")
        try:
            yield client
        finally:
            await client.delete("/file-faults")
            await client.delete("/faults")
            await client.put("/files", json={"max_upload_bytes": 10 * 1024**3})


async def put_file_faults(client: httpx2.AsyncClient, *rules: dict[str, Any]) -> None:
    response = await client.put("/file-faults", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


async def expected_sha256(sandbox: RunningSandbox, asset_id: str, rendition: str = "original") -> tuple[str, int]:
    """SHA-256 and size of a file, read straight from the sandbox (not through the bridge)."""
    path = "original" if rendition == "original" else f"renditions/{rendition}"
    if rendition == "preview":
        path = "preview"
    digest = hashlib.sha256()
    size = 0
    async with (
        httpx2.AsyncClient(timeout=60) as client,
        client.stream(
            "GET", f"{sandbox.base_url}/assets/{asset_id}/{path}", headers={"apiKey": sandbox.token}
        ) as response,
    ):
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def settings_for(sandbox: RunningSandbox, **extra: Any) -> Settings:
    return Settings(base_url=sandbox.base_url, api_token=sandbox.token, **extra)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    assert result.structured_content is None
    return str(result.content[0].text)  # type: ignore[union-attr]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "text/plain": ".txt",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "video/mp4": ".mp4",
    "application/pdf": ".pdf",
}


def local_name(asset: Asset, rendition: str = "original", mime: str | None = None) -> str:
    """The file name download_asset gives (the sandbox's names have no extension: one from the MIME type)."""
    suffix = "" if rendition == "original" else f".{rendition}"
    return asset.name.replace(":", "_") + suffix + EXTENSIONS[mime or asset.mime_type]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, str]], Awaitable[None]]


@asynccontextmanager
async def loopback_port(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]], *, rcvbuf: int = 0
) -> AsyncIterator[int]:
    """An asyncio TCP server on 127.0.0.1 (an ephemeral port) calling ``handle`` per connection; yields
    the port, closes the server on exit (the raw HTTP servers of the file and write tests). ``rcvbuf``: the
    accepted sockets' ``SO_RCVBUF`` (set on the listener before any accept; they inherit it)."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    if rcvbuf:
        for listening in server.sockets:
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def read_request_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """The next request's method, path and headers (lower-case names) on a raw HTTP/1.1 connection; None at
    its end."""
    line = await reader.readline()
    if not line:
        return None
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = header.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    method, path = line.split()[0].decode(), line.split()[1].decode()
    return method, path, headers


async def json_answer(writer: asyncio.StreamWriter, value: Any, status: str = "200 OK") -> None:
    """A JSON response with its ``Content-Length`` on a raw HTTP/1.1 connection."""
    body = json.dumps(value).encode()
    writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    writer.write(body)
    await writer.drain()


@contextlib.asynccontextmanager
async def file_server(send_file: Handler, token: str = "") -> AsyncIterator[tuple[Settings, list[str]]]:
    """A raw HTTP/1.1 server: ``/assets/a1`` is an asset whose ``downloadUrl`` is ``/files/a1`` on the same
    server, answered by ``send_file(reader, writer, request headers)``; yields settings for a bridge (with
    ``token``; FOOTAGE_TIMEOUT 2 s) and the
    log of what happened on file connections (``"request"``, ``"closed by the client"``)."""
    log: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while request := await read_request_head(reader):
                _method, path, headers = request
                if path.startswith("/files/"):
                    log.append("request")
                    await send_file(reader, writer, headers)
                    with contextlib.suppress(OSError):
                        if await asyncio.wait_for(reader.read(1), 10) == b"":
                            log.append("closed by the client")
                    return
                asset = {"id": "a1", "name": "clip.mp4", "downloadUrl": f"http://127.0.0.1:{port}/files/a1"}
                await json_answer(writer, asset if path.endswith("/assets/a1") else {"_links": {}})
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async with loopback_port(handle) as port:
        yield Settings(base_url=f"http://127.0.0.1:{port}/api/asset", api_token=token, timeout=2), log


def head(status: str, length: int, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: video/mp4\r\nContent-Length: {length}\r\n"
        f'ETag: "v1"\r\nAccept-Ranges: bytes\r\n{extra}\r\n'
    ).encode()


@asynccontextmanager
async def bridge_over(
    send_file: Handler, folder: Path, token: str, **extra: Any
) -> AsyncIterator[tuple[Any, list[str]]]:
    """An in-process bridge (the SDK's in-memory ``Client``) downloading into ``folder`` from a
    :func:`file_server` answering with ``send_file``; yields the client and the server's connection log."""
    from mcp import Client

    from footage_mcp.surface.server import build_server

    async with (
        file_server(send_file, token) as (settings, log),
        Client(build_server(settings.model_copy(update={"download_dir": folder, **extra})), mode="legacy") as client,
    ):
        yield client, log
