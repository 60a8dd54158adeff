"""Transfer pipelines: a body copied into a few reused buffers on its way to disk, drained by a worker thread.

The network side (the event loop) copies each received piece into the buffer being filled (one ``memcpy``,
no allocation) and hands a full buffer to the drain; the drain (``sink``: write and hash, both release the
GIL for large buffers) runs in a worker thread, one thread hop per buffer, while the loop fills the next.
Memory is fixed: :data:`BUFFERS` × :data:`BUFFER_BYTES` per transfer, whatever the size of the body and of
its pieces.

Why buffers and not the pieces themselves (measured in process, 256 MiB on loopback, 2 shared cores; see
docs/benchmarks.md, Files): gathering the ~256 KiB pieces into a new ``bytearray`` per MiB made a fresh
memory mapping per MiB (glibc's mmap threshold is fixed at 1 MiB, see
:func:`footage_mcp.rest.decoding.bound_heap`): 47,000-156,000 page faults per 256 MiB, against ~1,000 with
the reused buffers. The total CPU time was about the same in an A/B at load 5 (the event loop spends
less, the worker thread more).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator
from typing import Any

import anyio

BUFFER_BYTES = 1024 * 1024
"""Bytes per buffer: one worker-thread hop (write + hash) per this many bytes."""
BUFFERS = 3
"""Buffers per transfer: one being filled, one being drained, one spare."""
FLUSH_SECONDS = 0.5
"""A slow body is drained at least this often, so an interruption keeps what arrived."""

Sink = Callable[[memoryview], None]
"""Runs in a worker thread with a view of the next bytes in order; must not keep the view."""


async def spool(
    pieces: AsyncIterable[bytes],
    sink: Sink,
    *,
    limiter: anyio.CapacityLimiter | None = None,
    on_piece: Callable[[int], None] | None = None,
    on_drained: Callable[[], Awaitable[None]] | None = None,
    buffer_bytes: int = BUFFER_BYTES,
    buffers: int = BUFFERS,
    flush_seconds: float = FLUSH_SECONDS,
) -> None:
    """Feed every byte of ``pieces`` to ``sink`` in order, in slices of at most ``buffer_bytes``.

    ``on_piece(len)`` is called on the event loop for each piece before it is copied (a size cap raises
    there); ``on_drained()`` after each drained buffer (progress). ``limiter`` bounds the worker threads
    (shared by many transfers). When ``pieces`` ends, what is buffered is drained before returning.

    Raises:
        BaseExceptionGroup: what ``pieces``, ``on_piece``, ``sink`` or ``on_drained`` raised (the first
            error; the other side is cancelled). A drain already running finishes before the cancellation
            completes, so ``sink`` is never running once this returns or raises.
    """
    if buffer_bytes < 1 or buffers < 2:
        raise ValueError("spool needs at least two buffers of at least one byte")
    full_send, full_receive = anyio.create_memory_object_stream[tuple[bytearray, int]](buffers)
    free_send, free_receive = anyio.create_memory_object_stream[bytearray](buffers)
    for _ in range(buffers):
        free_send.send_nowait(bytearray(buffer_bytes))

    async def drain() -> None:
        async with full_receive:
            async for buffer, length in full_receive:
                view = memoryview(buffer)[:length]
                try:
                    await anyio.to_thread.run_sync(sink, view, limiter=limiter)
                finally:
                    view.release()
                free_send.send_nowait(buffer)
                if on_drained is not None:
                    await on_drained()

    async def fill() -> None:
        async with full_send:
            buffer, used = await free_receive.receive(), 0
            flushed = time.monotonic()
            async for piece in pieces:
                size = len(piece)
                if on_piece is not None:
                    on_piece(size)
                if size <= buffer_bytes - used:  # the usual case: the piece fits whole
                    buffer[used : used + size] = piece
                    used += size
                else:
                    view, done = memoryview(piece), 0
                    while done < size:
                        n = min(size - done, buffer_bytes - used)
                        buffer[used : used + n] = view[done : done + n]
                        used, done = used + n, done + n
                        if used == buffer_bytes:
                            await full_send.send((buffer, used))
                            buffer, used = await free_receive.receive(), 0
                            flushed = time.monotonic()
                    view.release()
                if used == buffer_bytes or (used and time.monotonic() - flushed >= flush_seconds):
                    await full_send.send((buffer, used))  # a slow body reaches the sink too
                    buffer, used = await free_receive.receive(), 0
                    flushed = time.monotonic()
            if used:
                await full_send.send((buffer, used))

    with free_send, free_receive:  # the buffers go round until both sides are done
        async with anyio.create_task_group() as group:
            group.start_soon(drain)
            await fill()


def first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The exception that ended a task group (a transfer's two sides), looking into nested groups in
    order: the first that is neither a cancellation nor a broken or closed stream (the consequence on one
    side of the other side's failure, e.g. the filler's send after the drain hit a full disk); else the
    first that is not a cancellation; else the first of all."""
    leaves = list(_leaves(group))
    cancelled = anyio.get_cancelled_exc_class()
    raised = [exc for exc in leaves if not isinstance(exc, cancelled)]
    causes = [exc for exc in raised if not isinstance(exc, (anyio.BrokenResourceError, anyio.ClosedResourceError))]
    return (causes or raised or leaves)[0]


def _leaves(group: BaseExceptionGroup[Any]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


__all__ = ["BUFFERS", "BUFFER_BYTES", "FLUSH_SECONDS", "Sink", "first_error", "spool"]
