"""The stdio server's stdin lines (footage_mcp.surface.stdio.DaemonLines), in process: lines split and joined
across reads, undecodable bytes as U+FFFD, the tail without a newline; and an iterator abandoned without
being closed (what the SDK's reader task does when SIGINT cancels it) leaves nothing for a finalizer to
fail on in another task."""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

import anyio
import pytest

from footage_mcp.surface.stdio import DaemonLines

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_lines_across_reads_bad_bytes_and_the_tail() -> None:
    read_end, write_end = os.pipe()
    try:
        lines = aiter(DaemonLines(read_end))
        os.write(write_end, b'{"a": 1}\n{"b"')
        assert await anext(lines) == '{"a": 1}\n'
        os.write(write_end, b': "\xff"}\nlast')
        assert await anext(lines) == '{"b": "\ufffd"}\n'
        os.close(write_end)
        write_end = -1
        assert [line async for line in lines] == ["last"]
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


async def test_an_iterator_abandoned_mid_read_leaves_nothing_to_finalize() -> None:
    """Found by a breaking run (SIGINT with requests in flight: exit status 1 and "Attempted to exit cancel
    scope in a different task than it was entered in" on stderr): the lines were an async generator holding
    a portal's task group, finalized by asyncio in a task of its own once the cancelled reader dropped it."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    read_end, write_end = os.pipe()
    try:
        lines = aiter(DaemonLines(read_end))
        os.write(write_end, b"one\n")
        assert await anext(lines) == "one\n"
        with anyio.move_on_after(0.2):  # the reader is cancelled while it waits for the next line
            await anext(lines)
        del lines
        for _ in range(3):
            gc.collect()
            await anyio.sleep(0.05)
    finally:
        loop.set_exception_handler(None)
        os.close(write_end)
        os.close(read_end)
    assert [str(e.get("exception") or e.get("message")) for e in errors] == []
