"""The sendfile upload path (rest/socketsend.py, rest/upload.py) and the sandbox's zero-copy file serving
(sandbox/zerocopy.py) against hostile peers and files (found by a breaking helper, each failed before its
fix): a link that slows down but keeps moving is no write timeout, a receiver that stops reading fails
the upload after one FOOTAGE_TIMEOUT (not two), a file sendfile cannot read falls back (first call) or
is a read error (mid-file), and a zero-byte zero-copy send completes its response; then, for the
threaded sender: a read error after bytes went says the upload may have been stored, a failed send
leaves no unclosed read-ahead stream, and forty stalled uploads do not hold up another one."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from footage_mcp.core.settings import Settings
from footage_mcp.surface.server import build_server
from tests.files_support import data, json_answer, loopback_port, read_request_head

pytestmark = pytest.mark.anyio

TOKEN = "tok-S8-secret-9f3a"

Upload = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, str]], Awaitable[None]]


@contextlib.asynccontextmanager
async def upload_server(on_upload: Upload, rcvbuf: int = 0) -> AsyncIterator[tuple[int, list[str]]]:
    """A raw HTTP/1.1 API: every GET is ``{"_links": {}}``; ``POST /assets`` is ``on_upload(reader, writer,
    headers)`` (which must consume or abandon the body). Yields the port and a log of connections/requests."""
    log: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        log.append("connection")
        try:
            while request := await read_request_head(reader):
                method, path, headers = request
                log.append(f"{method} {path}")
                if method == "POST" and path.endswith("/assets"):
                    await on_upload(reader, writer, headers)
                    if writer.is_closing():
                        return
                    continue
                await json_answer(writer, {"_links": {}})
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async with loopback_port(handle, rcvbuf=rcvbuf) as port:  # rcvbuf: little buffered at the receiver
        yield port, log


async def created(writer: asyncio.StreamWriter, asset_id: str = "up1") -> None:
    await json_answer(writer, {"id": asset_id}, "201 Created")


def bridge(port: int, folder: Path, **extra: Any) -> Client:
    settings = Settings(
        base_url=f"http://127.0.0.1:{port}/api/asset",
        api_token=TOKEN,
        allow_writes=True,
        upload_dirs=str(folder),
        **{"timeout": 2, **extra},
    )
    return Client(build_server(settings), mode="legacy")


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


# ---------------------------------------------------------------- the write timeout counts time without progress


async def test_a_link_that_slows_down_but_keeps_moving_is_not_a_write_timeout(tmp_path: Path) -> None:
    """FOOTAGE_TIMEOUT bounds a write that makes no progress (httpx2's path: each 512 KiB block must go
    within it). Before the fix the sendfile path put the timeout around a whole slice, and slices grew to
    16 MiB on a fast start: when the link then dropped to 6 MiB/s (steady progress, never a stall of more
    than a few ms), a 16 MiB slice needed 2.7 s and the upload failed with "did not answer within 2 s"
    although bytes never stopped flowing. Here: 16 MiB fast, then 16 MiB at 6 MiB/s, a 2 s timeout."""
    size = 32 * 1024 * 1024
    fast = 16 * 1024 * 1024  # the old code's 16 MiB slice started at 15.75 MiB

    async def on_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        left = int(headers["content-length"])
        got = 0
        while left > 0:
            block = await reader.read(min(65536, left))
            if not block:
                return
            left -= len(block)
            got += len(block)
            if got > fast:
                await asyncio.sleep(len(block) / (6 * 1024 * 1024))  # 6 MiB/s after a fast start
        await created(writer)

    sparse(tmp_path / "big.mp4", size)
    async with upload_server(on_upload, rcvbuf=128 * 1024) as (port, _log), bridge(port, tmp_path) as client:
        result = data(await client.call_tool("upload_assets", {"path": "big.mp4"}))
    [outcome] = result["files"]
    assert outcome["outcome"] == "uploaded", outcome["reason"]


# ---------------------------------------------------------------- a stalled receiver: FOOTAGE_TIMEOUT doubled


async def test_a_receiver_that_stops_reading_fails_the_upload_after_footage_timeout_not_twice_it(
    tmp_path: Path, sendfile_calls: list[tuple[int, int]]
) -> None:
    """The server reads the headers, then nothing. httpx2's path reports the write timeout after
    FOOTAGE_TIMEOUT (2 s here; measured 2.2 s). On the sendfile path, DirectSend.send_file's
    ``anyio.fail_after`` raises TimeoutError, which is an OSError, so its own ``except (OSError,
    RuntimeError)`` turns it into httpcore2.WriteError; httpcore2 takes a write error for "the server may
    have answered early" and waits FOOTAGE_TIMEOUT again for response headers (ReadTimeout): the upload
    fails only after 2 x FOOTAGE_TIMEOUT (measured 4.0-4.2 s; 60 s with the default 30 s), and the
    docstring's "Raises TimeoutError" never happens."""

    async def on_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(10)  # never reads the body, never answers

    sparse(tmp_path / "stall.mp4", 64 * 1024 * 1024)
    async with upload_server(on_upload) as (port, _log), bridge(port, tmp_path) as client:
        started = time.monotonic()
        result = data(await client.call_tool("upload_assets", {"path": "stall.mp4"}))
        took = time.monotonic() - started
    [outcome] = result["files"]
    assert outcome["outcome"] == "failed"
    assert outcome["reason"].startswith("the API did not answer within 2 s; the upload of stall.mp4 may")
    assert len(sendfile_calls) == 0  # send_file raised (the recorder only logs calls that returned)
    assert took < 3.9, f"the write stall was reported after {took:.1f} s (FOOTAGE_TIMEOUT is 2 s; twice it is 4)"


# ---------------------------------------------------------------- sendfile(2) refusing the file


@pytest.mark.parametrize("when", ["first call", "mid-file"])
async def test_a_file_sendfile_cannot_read_is_not_a_broken_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """sendfile(2) fails for some regular files: EINVAL on the first call where the file's filesystem has
    no splice support (9p before Linux 6.5, e.g. WSL2's /mnt/c; ecryptfs ...), EIO mid-file on a read error.
    On httpx2's path the first is a normal upload and the second "cannot read the file (...)". On the
    sendfile path both become httpcore2.WriteError (socketsend.py wraps the OSError, and the
    SendfileNotAvailableError asyncio raises for a first-call failure, as a write error), httpcore2 then
    waits for an answer the server never sends (it still expects the body), and the outcome blames the
    API: "did not answer within 2 s" (or "the connection broke"), after a needless FOOTAGE_TIMEOUT wait.
    Expected: a first-call refusal falls back to reading the file (the docstring's "only the speed
    differs"), and a read error is reported as one."""
    import errno
    import os

    real = os.sendfile
    calls = 0

    def failing(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        nonlocal calls
        calls += 1
        if when == "first call" or calls > 2:
            code = errno.EINVAL if when == "first call" else errno.EIO
            raise OSError(code, os.strerror(code))
        return real(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", failing)

    async def on_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        left = int(headers["content-length"])
        while left > 0:
            block = await reader.read(min(1 << 20, left))
            if not block:
                return
            left -= len(block)
        await created(writer)

    (tmp_path / "clip.mp4").write_bytes(os.urandom(3_000_000))
    async with upload_server(on_upload) as (port, _log), bridge(port, tmp_path) as client:
        started = time.monotonic()
        result = data(await client.call_tool("upload_assets", {"path": "clip.mp4"}))
        took = time.monotonic() - started
    [outcome] = result["files"]
    assert calls >= 1  # the sendfile path was taken
    if when == "first call":
        assert outcome["outcome"] == "uploaded", outcome["reason"]
    else:
        assert outcome["outcome"] == "failed"
        assert outcome["reason"].startswith("cannot read the file ("), outcome["reason"]
        assert took < 1.5, f"waited {took:.1f} s for an answer to a body that was never finished"


# ---------------------------------------------------------------- the sandbox's Zero Copy Send: count 0


async def test_a_zero_byte_zerocopysend_completes_the_response(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``{"type": "http.response.zerocopysend", "count": 0}`` after a ``Content-Length: 0`` start (an empty
    file, or an empty range an app computes) passes every check in zerocopy.py's ``send`` (``_length >=
    count``), then ``loop.sendfile(..., count=0)`` raises ValueError ("count must be a positive integer"),
    which the extension does not catch: the app fails after its response started, uvicorn logs "Exception
    in ASGI application" and drops the kept-alive connection. Expected: an empty body, the response
    completed, the connection reusable (as for the non-zero-copy path)."""
    import logging

    import httpx2

    from tests.test_sandbox_zerocopy import file_app, serving

    path = tmp_path / "empty.bin"
    path.write_bytes(b"0123456789")
    async with serving(file_app(path, [])) as origin, httpx2.AsyncClient(timeout=10) as http:
        empty = await http.get(f"{origin}/f?0,0")
        after = await http.get(f"{origin}/f?0,4")
    assert empty.status_code == 200 and empty.content == b""
    assert after.content == b"0123"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], errors


# ---------------------------------------------------------------- found in a second round


def eio_after(monkeypatch: pytest.MonkeyPatch, good_calls: int) -> None:
    """``os.sendfile`` works ``good_calls`` times (1 MiB each), then fails with EIO (a read error mid-file)."""
    real = os.sendfile
    calls = 0

    def failing(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        nonlocal calls
        calls += 1
        if calls > good_calls:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", failing)


async def drain_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
    while await reader.read(1 << 20):
        pass
    writer.close()


async def test_a_read_error_after_bytes_went_says_the_upload_may_have_been_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error (EIO) after 2 MiB of a 3 MB file went out. httpx2's path reports "cannot read the file
    (an input/output error); the upload of clip.mp4 may or may not have been stored: search ..." (upload.py
    adds the hint when ``sent.bytes``). On the sendfile path ``sent.bytes`` is only updated by progress
    reports, which socketsend.py makes at most every 0.25 s, so a failure in the first 0.25 s (here: 2 MiB
    on loopback within a few ms) has ``sent.bytes == 0`` and the hint is left out although 2 MiB reached
    the server: the outcome depends on which path sent the file and on timing. Expected: the same reason
    as httpx2's path whenever bytes were sent (DirectSend.sent, not the throttled progress, should count)."""
    eio_after(monkeypatch, 2)
    (tmp_path / "clip.mp4").write_bytes(os.urandom(3_000_000))
    async with upload_server(drain_then_close) as (port, _log), bridge(port, tmp_path) as client:
        result = data(await client.call_tool("upload_assets", {"path": "clip.mp4"}))
    [outcome] = result["files"]
    assert outcome["outcome"] == "failed"
    assert outcome["reason"].startswith("cannot read the file (an input/output error)"), outcome["reason"]
    assert "may or may not have been stored" in outcome["reason"], outcome["reason"]


async def test_a_failed_sendfile_leaves_no_unclosed_read_ahead_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """upload.py closes the read-ahead send stream (``blocks``) only in the ``else`` of its ``try`` around
    ``direct.send_file``: when send_file raises anything but SendfileUnavailable (a read error, a
    WriteError, a WriteTimeout, a cancellation) the stream is never closed and anyio warns "Unclosed
    <MemoryObjectSendStream ...>" (ResourceWarning) when it is collected, on every failed sendfile upload.
    httpx2's path closes it (``async with blocks`` in read_ahead). Expected: no unclosed stream."""
    eio_after(monkeypatch, 1)
    (tmp_path / "clip.mp4").write_bytes(os.urandom(3_000_000))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with upload_server(drain_then_close) as (port, _log), bridge(port, tmp_path) as client:
            result = data(await client.call_tool("upload_assets", {"path": "clip.mp4"}))
            gc.collect()
        gc.collect()
    [outcome] = result["files"]
    assert outcome["reason"].startswith("cannot read the file ("), outcome["reason"]
    unclosed = [str(w.message) for w in caught if "MemoryObject" in str(w.message)]
    assert unclosed == [], unclosed


async def test_forty_uploads_stalled_on_a_slow_api_do_not_hold_up_another_upload(tmp_path: Path) -> None:
    """http.py's POOL_SIZE promises that up to 64 calls can hang on a slow API "while another still gets a
    connection at once". socketsend.py's sending thread is ``anyio.to_thread.run_sync`` with anyio's default
    limiter (40 threads per event loop, shared by everything on the transfer loop), held for the whole file.
    With 40 uploads stalled on a server that stopped reading (each waits up to FOOTAGE_TIMEOUT, 15 s here,
    on the transfer loop), a 41st upload of 7 bytes to a server that answers at once (the same API, a new
    connection) waits for a thread until one of the 40 times out: it takes about 15 s instead of
    milliseconds; a download's part open (also a default-limiter thread, shielded) waits the same way.
    Before ec6381f the kernel send ran on the loop (no thread held). Expected: the small upload finishes
    within a few seconds (the sending thread should not draw on the shared default limiter, or it should
    be bounded below it)."""
    stalled = 40
    posts = 0
    stall_forever = anyio.Event()

    async def on_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        nonlocal posts
        posts += 1
        if posts <= stalled:
            with contextlib.suppress(asyncio.CancelledError):
                await stall_forever.wait()  # never reads the body
            writer.close()
            return
        try:
            await reader.readexactly(int(headers["content-length"]))
        except asyncio.IncompleteReadError:  # the bridge gave up on it (the test's 6 s bound)
            writer.close()
            return
        await created(writer, "small")

    for i in range(stalled):
        sparse(tmp_path / f"big{i}.mp4", 16 * 1024 * 1024)
    (tmp_path / "small.mp4").write_bytes(b"7 bytes")
    took = None
    async with upload_server(on_upload) as (port, _log), bridge(port, tmp_path, timeout=15) as client:
        async with anyio.create_task_group() as group:
            for i in range(stalled):
                group.start_soon(client.call_tool, "upload_assets", {"path": f"big{i}.mp4"})
            with anyio.fail_after(10):
                while posts < stalled:
                    await anyio.sleep(0.05)
            await anyio.sleep(0.5)  # every stalled upload is in its sending thread
            started = time.monotonic()
            with anyio.move_on_after(6):
                result = data(await client.call_tool("upload_assets", {"path": "small.mp4"}))
                took = time.monotonic() - started
            group.cancel_scope.cancel()
        stall_forever.set()
    assert took is not None, "a 7-byte upload to an answering API did not finish within 6 s"
    assert result["files"][0]["outcome"] == "uploaded", result
