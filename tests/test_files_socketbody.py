"""Downloads read straight from the socket (footage_mcp.rest.socketbody): the sandbox's originals (API origin
and CDN) take that path, body bytes that came with the headers come first, a closed connection keeps what
came and the next call resumes with Range, a stall is one message, a cancellation during a stall stops at
once and keeps the part, the connection is closed afterwards (never reused); bodies the path is not for
(chunked, compressed, a mock transport) take httpx2's, with the same bytes."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import shutil
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client

import footage_mcp.rest.download as download_module
import footage_mcp.rest.socketbody as socketbody
from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.rest.socketbody import DirectBody, direct_body
from footage_mcp.surface.server import build_server
from tests.files_support import (
    Handler,
    big_audio,
    bridge_over,
    data,
    error_text,
    expected_sha256,
    files_in,
    head,
    settings_for,
    small,
)

pytestmark = pytest.mark.anyio

TOKEN = SUITE_TOKEN[:19]
BODY = bytes(range(256)) * 4096  # 1 MiB, every byte value, position-dependent


@pytest.fixture
def direct_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Each download that took the socket path: (bytes that came with the headers, bytes read after)."""
    seen: list[tuple[int, int]] = []
    real = download_module.receive_into

    async def spy(body: DirectBody, *args: Any, **kwargs: Any) -> None:
        seen.append((len(body.prefix), body.remaining))
        await real(body, *args, **kwargs)

    monkeypatch.setattr(download_module, "receive_into", spy)
    return seen


async def test_the_sandboxs_originals_take_the_socket_path(
    hal_sandbox: RunningSandbox, tmp_path: Path, direct_reads: list[tuple[int, int]]
) -> None:
    audio, cdn_image = big_audio(), small("image", cdn=True)
    async with Client(build_server(settings_for(hal_sandbox, download_dir=tmp_path)), mode="legacy") as client:
        got = [data(await client.call_tool("download_asset", {"asset_id": a.id})) for a in (audio, cdn_image)]
    for asset, result in zip((audio, cdn_image), got, strict=True):
        assert (result["sha256"], result["size_bytes"]) == await expected_sha256(hal_sandbox, asset.id)
        assert (
            Path(result["path"]).read_bytes()[:16]
            and hashlib.sha256(Path(result["path"]).read_bytes()).hexdigest() == result["sha256"]
        )
    assert [prefix + rest for prefix, rest in direct_reads] == [audio.size_bytes, cdn_image.size_bytes]


async def download_from(send_file: Handler, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """``download_asset`` of ``a1`` from a :func:`file_server` answering with ``send_file``: the result's
    data and the server's connection log."""
    async with bridge_over(send_file, folder, TOKEN) as (c, log):
        return data(await c.call_tool("download_asset", {"asset_id": "a1"})), log


async def test_body_bytes_that_came_with_the_headers_come_first(
    tmp_path: Path, direct_reads: list[tuple[int, int]]
) -> None:
    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        writer.write(head("200 OK", len(BODY)) + BODY[:70_000])  # one write: the headers and the body's start
        await writer.drain()
        await asyncio.sleep(0.2)  # the bridge has parsed the headers before the rest comes
        for i in range(70_000, len(BODY), 100_000):
            writer.write(BODY[i : i + 100_000])
            await writer.drain()

    got, log = await download_from(send_file, tmp_path)
    assert (got["sha256"], got["size_bytes"]) == (hashlib.sha256(BODY).hexdigest(), len(BODY))
    assert Path(got["path"]).read_bytes() == BODY
    [(prefix, rest)] = direct_reads
    assert 0 < prefix <= 70_000 and prefix + rest == len(BODY)
    assert log == ["request", "closed by the client"]  # the connection is closed, never put back in the pool


async def test_a_connection_closed_early_keeps_what_came_and_the_next_call_resumes(
    tmp_path: Path, direct_reads: list[tuple[int, int]]
) -> None:
    ranges: list[str | None] = []

    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        ranges.append(headers.get("range"))
        if "range" not in headers:
            writer.write(head("200 OK", len(BODY)))
            writer.write(BODY[:300_000])
            await writer.drain()
            writer.transport.abort()  # closed after 300,000 of 1,048,576 bytes
            return
        start = int(headers["range"].removeprefix("bytes=").rstrip("-"))
        assert headers["if-range"] == '"v1"'
        writer.write(
            head(
                "206 Partial Content",
                len(BODY) - start,
                f"Content-Range: bytes {start}-{len(BODY) - 1}/{len(BODY)}\r\n",
            )
        )
        writer.write(BODY[start:])
        await writer.drain()

    async with bridge_over(send_file, tmp_path, TOKEN) as (c, _log):
        dropped = await c.call_tool("download_asset", {"asset_id": "a1"})
        assert error_text(dropped) == (
            "the connection closed after 300,000 of 1,048,576 bytes of the file; "
            "the partial file is kept: call download_asset again to resume"
        )
        [part] = [tmp_path / p for p in files_in(tmp_path) if p.endswith(".part")]
        assert part.read_bytes() == BODY[:300_000]
        resumed = data(await c.call_tool("download_asset", {"asset_id": "a1"}))
    assert ranges == [None, "bytes=300000-"]
    assert (resumed["sha256"], resumed["size_bytes"], resumed["resumed_from_bytes"]) == (
        hashlib.sha256(BODY).hexdigest(),
        len(BODY),
        300_000,
    )
    assert Path(resumed["path"]).read_bytes() == BODY and len(direct_reads) == 2


async def headers_then_5000_bytes(writer: asyncio.StreamWriter) -> None:
    """The headers, then (once the bridge has parsed them) the body's first 5,000 bytes."""
    writer.write(head("200 OK", len(BODY)))
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.write(BODY[:5000])
    await writer.drain()


async def test_a_stalled_body_is_one_message_and_keeps_the_part(
    tmp_path: Path, direct_reads: list[tuple[int, int]]
) -> None:
    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        await headers_then_5000_bytes(writer)
        await asyncio.sleep(30)  # then nothing (the bridge's FOOTAGE_TIMEOUT is 2 s)

    async with bridge_over(send_file, tmp_path, TOKEN) as (c, _log):
        with anyio.fail_after(20):
            result = await c.call_tool("download_asset", {"asset_id": "a1"})
    assert error_text(result) == (
        "the download stalled (no data for FOOTAGE_TIMEOUT seconds); call download_asset again to resume it"
    )
    [part] = [tmp_path / p for p in files_in(tmp_path) if p.endswith(".part")]
    assert part.read_bytes() == BODY[:5000] and len(direct_reads) == 1


async def test_a_cancellation_during_a_stall_stops_the_reader_and_keeps_the_part(
    tmp_path: Path, direct_reads: list[tuple[int, int]]
) -> None:
    sent, let_go = anyio.Event(), anyio.Event()

    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        await headers_then_5000_bytes(writer)
        sent.set()
        if await reader.read(1) == b"":  # then nothing, until the bridge closes the connection
            let_go.set()

    async with bridge_over(send_file, tmp_path, TOKEN, timeout=60) as (c, _log):
        with anyio.fail_after(20):  # far below the 60 s timeout: the cancellation, not the stall, ends it
            async with anyio.create_task_group() as group:
                group.start_soon(c.call_tool, "download_asset", {"asset_id": "a1"})
                await sent.wait()
                await anyio.sleep(0.5)
                group.cancel_scope.cancel()
            await let_go.wait()  # the reader let go of the connection
            await anyio.sleep(0.3)  # the part is closed as the cancellation completes
    [part] = [tmp_path / p for p in files_in(tmp_path) if p.endswith(".part")]
    assert part.read_bytes() == BODY[:5000] and len(direct_reads) == 1
    assert "clip.mp4" not in files_in(tmp_path)


@pytest.mark.parametrize("encoding", ["chunked", "gzip"])
async def test_bodies_the_socket_path_is_not_for_take_httpx2s(
    tmp_path: Path, direct_reads: list[tuple[int, int]], encoding: str
) -> None:
    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        if encoding == "chunked":
            writer.write(
                b'HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nTransfer-Encoding: chunked\r\nETag: "v1"\r\n\r\n'
            )
            for i in range(0, len(BODY), 300_000):
                piece = BODY[i : i + 300_000]
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            writer.write(b"0\r\n\r\n")
        else:
            packed = gzip.compress(BODY)
            writer.write(head("200 OK", len(packed), "Content-Encoding: gzip\r\n") + packed)
        await writer.drain()

    got, _log = await download_from(send_file, tmp_path)
    assert (got["sha256"], got["size_bytes"]) == (hashlib.sha256(BODY).hexdigest(), len(BODY))
    assert Path(got["path"]).read_bytes() == BODY and direct_reads == []


async def test_a_mock_transports_response_is_not_taken() -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, content=b"x" * 1000))
    async with (
        httpx2.AsyncClient(transport=transport) as client,
        client.stream("GET", "http://127.0.0.1/files/a1") as response,
    ):
        assert direct_body(response) is None
        assert await response.aread() == b"x" * 1000


async def test_a_download_beyond_the_direct_slots_takes_httpx2s_path_and_slots_come_back(
    hal_sandbox: RunningSandbox, tmp_path: Path, direct_reads: list[tuple[int, int]]
) -> None:
    audio = big_audio()
    expected = await expected_sha256(hal_sandbox, audio.id)
    held = [socketbody._slots.acquire(blocking=False) for _ in range(socketbody.DIRECT_BODIES)]
    assert all(held)  # every slot was free: the tests before gave theirs back, failures included
    try:
        async with Client(build_server(settings_for(hal_sandbox, download_dir=tmp_path)), mode="legacy") as client:
            busy = data(await client.call_tool("download_asset", {"asset_id": audio.id}))
            assert direct_reads == []
            for _ in held:
                socketbody._slots.release()
            held = []
            free = [data(await client.call_tool("download_asset", {"asset_id": audio.id})) for _ in range(3)]
    finally:
        for _ in held:
            socketbody._slots.release()
    assert [(r["sha256"], r["size_bytes"]) for r in (busy, *free)] == [expected] * 4
    assert len(direct_reads) == 3  # one slot each, given back each time


async def test_a_download_folder_removed_during_the_download_is_said_so(tmp_path: Path) -> None:
    """Found by a breaking run: the folder removed mid-download gave "cannot name the finished file ...; it
    stays as <name>.part", a part that no longer existed."""
    folder = tmp_path / "downloads"

    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        writer.write(head("200 OK", len(BODY)) + BODY[:300_000])
        await writer.drain()
        await asyncio.sleep(0.5)
        shutil.rmtree(folder)
        writer.write(BODY[300_000:])
        await writer.drain()

    async with bridge_over(send_file, folder, TOKEN) as (c, _log):
        result = await c.call_tool("download_asset", {"asset_id": "a1"})
    assert error_text(result) == (
        f"the downloaded file vanished from {folder} before it could be named (was the folder removed or "
        "cleaned during the download?); nothing was kept: call download_asset again"
    )
    assert not folder.exists()
