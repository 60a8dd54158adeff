"""The transfer pipelines, fast and in process: :func:`footage_mcp.rest.spool.spool` (every byte to the sink in
order, in a fixed set of reused buffers; a slow body drained as it arrives; the cap, a failing sink and a
cancellation stop it cleanly), :func:`footage_mcp.rest.http.large_reads` (the larger socket reads are for one
connection and one body only), and the upload's read-ahead (an answer before the whole body stops the reader;
a file that shrinks is one message)."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from httpcore2 import AsyncHTTP11Connection

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.core.errors import InvalidArgument
from footage_mcp.rest.http import TRANSFER_READ_BYTES, RestClient, http11_connection, large_reads
from footage_mcp.rest.spool import first_error, spool
from tests.files_support import big_audio, data, settings_for
from tests.inprocess import bridge

pytestmark = pytest.mark.anyio


async def pieces_of(sizes: list[int], seen: list[int] | None = None) -> AsyncIterator[bytes]:
    """Pieces of the given sizes, their bytes counting up (mod 251) across pieces; ``seen`` records each."""
    start = 0
    for size in sizes:
        if seen is not None:
            seen.append(size)
        yield bytes((start + i) % 251 for i in range(size))
        start += size


def expected(total: int) -> bytes:
    return bytes(i % 251 for i in range(total))


class Sink:
    """Records each slice the worker thread gets (a copy) and which buffer object it came from."""

    def __init__(self) -> None:
        self.slices: list[bytes] = []
        self.buffers: set[int] = set()
        self.threads: set[int] = set()

    def __call__(self, view: memoryview) -> None:
        self.slices.append(bytes(view))
        self.buffers.add(id(view.obj))
        self.threads.add(threading.get_ident())


async def test_every_byte_reaches_the_sink_in_order_through_reused_buffers() -> None:
    sizes = [1, 7, 16, 40, 3, 0, 33, 16, 5]  # smaller than, equal to and spanning several buffers
    sink, counted, drained = Sink(), [], [0]

    async def on_drained() -> None:
        drained[0] += 1

    await spool(
        pieces_of(sizes),
        sink,
        on_piece=counted.append,
        on_drained=on_drained,
        buffer_bytes=16,
        buffers=2,
        flush_seconds=3600,
    )
    total = sum(sizes)
    assert b"".join(sink.slices) == expected(total)
    assert [len(s) for s in sink.slices] == [16] * (total // 16) + [total % 16]  # full buffers, then the rest
    assert len(sink.buffers) <= 2  # the same two buffers went round
    assert threading.get_ident() not in sink.threads  # written in a worker thread, off the event loop
    assert counted == sizes and drained[0] == len(sink.slices)


async def test_a_slow_body_is_drained_as_it_arrives() -> None:
    sink = Sink()
    await spool(pieces_of([3, 5, 2]), sink, buffer_bytes=16, flush_seconds=0)
    assert sink.slices == [expected(10)[:3], expected(10)[3:8], expected(10)[8:]]


async def test_the_cap_stops_the_body_where_it_is_crossed() -> None:
    sink, seen, total = Sink(), [], [0]

    def cap(size: int) -> None:
        total[0] += size
        if total[0] > 40:
            raise InvalidArgument("over the cap")

    with pytest.raises(BaseExceptionGroup) as caught:
        await spool(pieces_of([16] * 10, seen), sink, on_piece=cap, buffer_bytes=16, flush_seconds=3600)
    error = first_error(caught.value)
    assert isinstance(error, InvalidArgument) and error.message == "over the cap"
    assert len(seen) == 3  # nothing read past the piece that crossed it
    written = b"".join(sink.slices)  # what was drained before the cancellation: a prefix of the first 32 bytes
    assert written == expected(32)[: len(written)]


async def test_a_failing_sink_stops_the_network_side() -> None:
    calls = [0]

    def full_disk(view: memoryview) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 8

    with pytest.raises(BaseExceptionGroup) as caught:
        await spool(endless(), full_disk, buffer_bytes=16, buffers=3, flush_seconds=3600)
    error = first_error(caught.value)
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert calls[0] == 2  # nothing handed to the sink after it failed


async def test_a_cancellation_waits_for_the_drain_that_runs() -> None:
    started, release = threading.Event(), threading.Event()
    running: list[bool] = []

    def slow_sink(view: memoryview) -> None:
        running.append(True)
        started.set()
        release.wait(10)
        running.pop()

    async def then_nothing() -> AsyncIterator[bytes]:
        yield b"y" * 16
        await anyio.sleep_forever()

    scope, finished = anyio.CancelScope(), anyio.Event()

    async def transfer() -> None:
        with scope:
            await spool(then_nothing(), slow_sink, buffer_bytes=16)
        finished.set()

    with anyio.fail_after(20):  # a hang guard, not a timing assertion
        async with anyio.create_task_group() as group:
            group.start_soon(transfer)
            await anyio.to_thread.run_sync(started.wait, 10)
            scope.cancel()
            await anyio.sleep(0.05)
            assert not finished.is_set() and running == [True]  # still waiting for the write in progress
            release.set()
            await finished.wait()
    assert running == []  # nothing touches the sink once the transfer is over


async def test_first_error_looks_into_nested_groups_and_skips_cancellations() -> None:
    cancelled = anyio.get_cancelled_exc_class()
    inner = BaseExceptionGroup("inner", [cancelled(), OSError("disk")])
    found = first_error(BaseExceptionGroup("outer", [inner, ValueError("later")]))
    assert isinstance(found, OSError) and str(found) == "disk"
    only = cancelled()
    assert first_error(BaseExceptionGroup("all", [only])) is only


async def test_large_reads_are_for_one_connection_and_one_body(hal_sandbox: RunningSandbox) -> None:
    audio = big_audio()
    default = AsyncHTTP11Connection.READ_NUM_BYTES
    async with RestClient(settings_for(hal_sandbox)) as rest:
        headers = {"apiKey": rest.token or ""}
        url = f"{hal_sandbox.base_url}/assets/{audio.id}/original"
        async with rest.http.stream("GET", url, headers=headers) as response:
            connection = http11_connection(response)
            assert connection is not None  # found in this httpx2: a change there fails here, not silently
            with large_reads(response) as scoped:
                assert scoped is True and connection.READ_NUM_BYTES == TRANSFER_READ_BYTES
                assert AsyncHTTP11Connection.READ_NUM_BYTES == default == 64 * 1024  # the class is untouched
                async with rest.http.stream("GET", f"{hal_sandbox.base_url}/albums", headers=headers) as other:
                    assert other.status_code == 200
                    other_connection = http11_connection(other)
                    assert other_connection is not None and other_connection is not connection
                    assert default == other_connection.READ_NUM_BYTES  # another request meanwhile: as before
                    await other.aread()
                size = 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
            assert "READ_NUM_BYTES" not in vars(connection) and default == connection.READ_NUM_BYTES
    assert size == audio.size_bytes


def test_large_reads_without_a_connection_change_nothing() -> None:
    with large_reads(httpx2.Response(200, content=b"in memory")) as scoped:
        assert scoped is False


def upload_settings(folder: Path) -> dict[str, Any]:
    return {"allow_writes": True, "upload_dirs": str(folder), "timeout": 10.0}


async def test_an_answer_before_the_whole_body_stops_the_reader(tmp_path: Path) -> None:
    (tmp_path / "big.mp4").write_bytes(os.urandom(3 * 1024 * 1024))  # six blocks: more than the read-ahead holds
    async with bridge(**upload_settings(tmp_path)) as b:
        rule = {"match": "^/assets$", "fault": "status", "status": 502, "after_bytes": 100_000}
        assert (await b.control.put("/file-faults", json={"rules": [rule]})).status_code == 200
        with anyio.fail_after(30):  # a hang guard: the reader must not wait for a body nobody reads
            result = data(await b.client.call_tool("upload_assets", {"path": "big.mp4"}))
    (outcome,) = result["files"]
    assert outcome["outcome"] == "failed" and outcome["reason"].startswith("the Footage service failed (502); ")


async def test_a_file_that_shrinks_during_the_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import footage_mcp.rest.upload as upload_module

    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(3 * upload_module.CHUNK_BYTES))
    real_open = upload_module._open_regular

    def open_then_shrink(target: Path) -> Any:  # another program truncates it after the size was taken
        handle = real_open(target)
        os.truncate(target, upload_module.CHUNK_BYTES + 1000)
        return handle

    monkeypatch.setattr(upload_module, "_open_regular", open_then_shrink)
    async with bridge(**upload_settings(tmp_path)) as b:
        result = data(await b.client.call_tool("upload_assets", {"path": "clip.mp4"}))
        stored = [a for a in b.app.state.library.assets if a.name == "clip.mp4"]
    (outcome,) = result["files"]
    assert outcome["outcome"] == "failed"
    assert outcome["reason"].startswith("clip.mp4 got shorter while it was being uploaded; the upload of clip.mp4 may")
    assert stored == []  # the archive got a cut body and kept nothing


async def test_first_error_is_the_cause_not_the_stream_it_broke() -> None:
    """Failed before (seen in a CI run of test_a_full_disk_is_one_message_and_leaves_nothing): the drain's
    OSError closed the buffer stream, the filler's next send raised BrokenResourceError before its
    cancellation arrived, and that consequence was reported ("internal error") instead of the full disk."""
    full = OSError(errno.ENOSPC, "No space left on device")
    for order in ([anyio.BrokenResourceError(), full], [full, anyio.BrokenResourceError()]):
        assert first_error(BaseExceptionGroup("spool", order)) is full
    inner = BaseExceptionGroup("drain", [anyio.ClosedResourceError(), full])
    assert first_error(BaseExceptionGroup("outer", [anyio.BrokenResourceError(), inner])) is full
    alone = anyio.BrokenResourceError()
    assert first_error(BaseExceptionGroup("spool", [alone])) is alone  # nothing else: the stream error itself
