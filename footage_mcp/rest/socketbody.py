"""A plain-HTTP download body read straight from its socket: :func:`direct_body`, then :func:`receive_into`.

Why (measured, docs/benchmarks.md, "Files"): receiving a body through httpx2's stack costs the event loop
about 2 CPU-s per GiB (asyncio's reads of at most 256 KiB, anyio's pause and resume of the transport around
each, h11's two copies of every byte, httpcore2's and httpx2's generators), where curl spends about 0.7
CPU-s per GiB on all of its work. So for a body that has a ``Content-Length``, no ``Content-Encoding`` and
no ``Transfer-Encoding``, on an HTTP/1.1 connection over plain TCP (the sandbox, a loopback or LAN server),
httpx2 sends the request and parses the headers as always, and then:

- one worker thread reads the rest of the body from a duplicate of the connection's socket with
  ``recv_into`` into a few reused buffers (one copy, in C, without the GIL) and appends each buffer to the
  ``.part`` file;
- a second worker thread updates the SHA-256 with each buffer once it is written, while the first fills the
  next one.

The body bytes httpx2 had already received with the headers (h11's buffer, anyio's read queue) come first.
httpcore2's parser never sees the body, so the connection is closed when the response is, never reused.

Not over TLS: the session's state lives inside asyncio's SSL protocol, which no other reader can share; an
https body takes httpx2's path. Where any precondition cannot be verified (another transport, a mock, TLS,
HTTP/2, a changed httpx2/httpcore2/anyio/h11 layout), :func:`direct_body` gives None and the body takes
httpx2's path: only the speed differs (tests/test_files_socketbody.py checks that the sandbox's downloads
do take this path, so a changed layout shows as a failing test rather than a silent slowdown).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import queue
import socket
import struct
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import anyio.from_thread
import h11
import httpx2

from footage_mcp.rest.http import http11_connection, plain_tcp_transport
from footage_mcp.rest.spool import FLUSH_SECONDS

BUFFER_BYTES = 1024 * 1024
"""Bytes per buffer: one write, one hash update and two thread hand-offs per this many bytes."""
BUFFERS = 8
"""Buffers per download (8 MiB in all): the reader and the hashing thread each get a share of two cores
shared with the server, so each runs in bursts; with 3 buffers the reader waited for free ones 0.6 s per
GiB, with 8 about 0.1 s (1 GiB from the sandbox in process, 2 cores)."""
LOW_WATER_BYTES = 512 * 1024
"""A socket read waits for this many bytes (or :data:`SLICE_SECONDS`), see :class:`_Reader`."""
SLICE_SECONDS = 0.25
"""The longest a socket read (or an upload's ``sendfile`` call, :mod:`footage_mcp.rest.socketsend`) waits
before its thread checks for a cancellation (and for a stall)."""
DIRECT_BODIES = 1
"""Bodies read this way at once in the process; concurrent downloads beyond it take httpx2's path. Its threads
add GIL hand-overs while many downloads run; whether that shows in the server's latency was not settled (a
trivial call's worst during 20 concurrent downloads, bench --only files on 2 busy cores: 75 and 509 ms with
two such bodies, 186 and 361 with one, 91-373 ms with none; median 12-19 ms either way), so one is the
cautious choice: a single download gets the whole gain."""
_slots = threading.BoundedSemaphore(DIRECT_BODIES)
PROGRESS_SECONDS = 0.25
"""The shortest time between two calls of ``progress`` from the reading thread (each is a hop to the event
loop; the download's own report keeps its own interval on top, as for httpx2's path)."""


class BodySink(Protocol):
    """Where the body goes: :class:`footage_mcp.rest.partfile.PartWriter` (``append`` writes and counts the
    bytes, ``digest`` adds them to the SHA-256, in the same order, from another thread)."""

    def append(self, data: bytes | bytearray | memoryview) -> None: ...

    def digest(self, data: bytes | bytearray | memoryview) -> None: ...


@dataclass(slots=True)
class DirectBody:
    """A body to read from the socket: a duplicate of the connection's file descriptor (closed by
    :func:`receive_into`), the body bytes received already (``prefix``) and how many follow them."""

    fd: int
    family: int
    type: int
    prefix: bytes
    remaining: int
    closed: bool = False

    def close(self) -> None:
        """Close the descriptor and give the slot back (once)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)
            _slots.release()


def direct_body(response: httpx2.Response) -> DirectBody | None:
    """Take the unread body of ``response`` off httpx2, to be read from its socket; None (nothing taken)
    unless every precondition holds: an HTTP/1.1 connection of httpcore2 over plain TCP on asyncio (through
    anyio), its parser just past the headers, reading paused, a ``Content-Length``, no ``Content-Encoding``
    or ``Transfer-Encoding``, nothing of the body read yet, and fewer than :data:`DIRECT_BODIES` read this
    way now (the returned body holds a slot until :meth:`DirectBody.close`, which :func:`receive_into`
    calls). Call it before reading anything of the body; the response must then be closed without reading
    (its connection is closed)."""
    if sys.platform == "win32":  # SO_RCVTIMEO takes other units there, and asyncio's proactor owns the socket
        return None
    headers = response.headers
    if headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    length = headers.get("content-length", "").strip()
    if "transfer-encoding" in headers or not length.isdigit() or response.is_stream_consumed:
        return None
    connection = http11_connection(response)
    parser = getattr(connection, "_h11_state", None)
    if not isinstance(parser, h11.Connection) or parser.their_state is not h11.SEND_BODY:
        return None
    network: Any = getattr(connection, "_network_stream", None)
    if network is None or id(response.extensions.get("network_stream")) != id(network):  # the response's own
        return None
    found = plain_tcp_transport(network)
    if found is None:
        return None
    transport, protocol, raw = found
    pending = getattr(protocol, "read_queue", None)
    arrived = getattr(protocol, "read_event", None)
    if not (isinstance(pending, collections.deque) and isinstance(arrived, asyncio.Event)):
        return None
    if transport.is_reading():  # asyncio would read the socket too
        return None
    if not _slots.acquire(blocking=False):  # DIRECT_BODIES are being read already
        return None
    try:
        fd = os.dup(raw.fileno())
    except (OSError, ValueError, AttributeError):
        _slots.release()
        return None
    buffered, _closed = parser.trailing_data
    queued = b"".join(pending)
    pending.clear()
    arrived.clear()
    prefix = (buffered + queued)[: int(length)]
    return DirectBody(fd, int(raw.family), int(raw.type), prefix, int(length) - len(prefix))


async def receive_into(
    body: DirectBody,
    sink: BodySink,
    *,
    timeout: float,
    on_bytes: Callable[[int], None] | None = None,
    progress: Callable[[], Awaitable[None]] | None = None,
    buffer_bytes: int = BUFFER_BYTES,
    buffers: int = BUFFERS,
) -> None:
    """Read ``body`` into ``sink``: ``sink.append`` each buffer in order, then ``sink.digest`` it in a second
    thread. ``on_bytes(n)`` is called (in the reading thread) for every piece received, and may raise (a
    size cap, a too-slow body); ``progress()`` is awaited on the caller's loop at most every
    :data:`PROGRESS_SECONDS`. Memory: ``buffers`` × ``buffer_bytes``, whatever the body's size.

    What arrived before a failure is appended (and a ``.part`` resumable) before the failure is raised.

    Raises:
        httpx2.ReadTimeout: no byte for ``timeout`` seconds.
        httpx2.ReadError: the connection failed (reset).
        httpx2.RemoteProtocolError: the connection closed before ``Content-Length`` bytes.
        OSError: from ``sink.append`` (a full disk, a permission problem).
        anything ``on_bytes`` or ``progress`` raised; the caller's cancellation (seen within
        :data:`SLICE_SECONDS`); a ``BaseExceptionGroup`` of these where the two threads' tasks ended together.
    """
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[bytes | bytearray, int] | None] = queue.SimpleQueue()
    for _ in range(buffers):
        free.put(bytearray(buffer_bytes))

    def digest() -> None:
        while (item := full.get()) is not None:
            data, size = item
            with memoryview(data) as view:
                sink.digest(view[:size])
            if isinstance(data, bytearray):
                free.put(data)

    def receive() -> None:
        reader = _Reader(socket.socket(body.family, body.type, fileno=body.fd), body.remaining, timeout, on_bytes)
        reported = time.monotonic()
        try:
            if body.prefix:
                if on_bytes is not None:
                    on_bytes(len(body.prefix))
                sink.append(body.prefix)
                full.put((body.prefix, len(body.prefix)))
            while reader.left:
                buffer = _take(free)
                with memoryview(buffer) as view:
                    filled, failure = reader.fill(view)
                    if filled:  # what arrived is kept, in order, whatever ended the read
                        try:
                            sink.append(view[:filled])
                        finally:
                            full.put((buffer, filled))
                    else:
                        free.put(buffer)
                if failure is not None:
                    raise failure
                anyio.from_thread.check_cancelled()
                if progress is not None and time.monotonic() - reported >= PROGRESS_SECONDS:
                    reported = time.monotonic()
                    anyio.from_thread.run(_awaited, progress)
        finally:
            reader.restore()
            reader.sock.detach()  # the descriptor is body.fd, closed by body.close()

    async def hashing() -> None:
        await anyio.to_thread.run_sync(digest)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(hashing)
            try:
                await anyio.to_thread.run_sync(receive)
            finally:
                full.put(None)  # the hashing thread ends after the buffers queued before this
    finally:
        body.close()


_CLOSED_EARLY = "peer closed connection without sending complete message body"


class _Reader:
    """Reads the body's remaining bytes from ``sock`` into buffers, with the stall timeout and ``on_bytes``.

    The socket is switched to blocking reads that wait for :data:`LOW_WATER_BYTES` (``SO_RCVLOWAT``, fewer
    for the body's last bytes) for at most :data:`SLICE_SECONDS` (``SO_RCVTIMEO``): after a slice the kernel
    returns what did arrive, or ``EAGAIN`` for nothing. Without the low-water mark a read returned every
    ~64 KiB segment, each a wake-up and a GIL hand-over; a Python socket timeout would poll() first, and
    poll() honours the low-water mark, hiding a slow body's bytes until 512 KiB came.
    :meth:`restore` puts the socket back as asyncio expects it (non-blocking) before it is closed there."""

    def __init__(self, sock: socket.socket, left: int, timeout: float, on_bytes: Callable[[int], None] | None) -> None:
        self.sock, self.left, self.timeout, self.on_bytes = sock, left, timeout, on_bytes
        self.last_data = time.monotonic()
        self.low_water = 0
        sock.setblocking(True)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval(SLICE_SECONDS))
        self._lower_water()

    def _lower_water(self) -> None:
        wanted = max(1, min(LOW_WATER_BYTES, self.left))
        if wanted != self.low_water:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, wanted)
            self.low_water = wanted

    def restore(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval(0))
            self.sock.setblocking(False)

    def fill(self, view: memoryview) -> tuple[int, BaseException | None]:
        """Receive into ``view`` until it is full, the body is complete, or :data:`FLUSH_SECONDS` passed with
        something received; gives the bytes received and what stopped the read early (to raise once they are
        kept), or None."""
        filled, started, size = 0, time.monotonic(), len(view)
        try:
            while self.left and filled < size:
                try:
                    got = self.sock.recv_into(view[filled : filled + min(self.left, size - filled)])
                except (BlockingIOError, TimeoutError):  # a slice passed with nothing
                    anyio.from_thread.check_cancelled()
                    now = time.monotonic()
                    if now - self.last_data >= self.timeout:
                        return filled, httpx2.ReadTimeout(f"no data for {self.timeout:g} s")
                    if filled and now - started >= FLUSH_SECONDS:
                        break
                    continue
                except OSError as exc:
                    return filled, httpx2.ReadError(f"the connection failed ({exc.strerror or 'error'})")
                if not got:
                    return filled, httpx2.RemoteProtocolError(_CLOSED_EARLY)
                filled += got
                self.left -= got
                if self.left < self.low_water:
                    self._lower_water()
                if self.on_bytes is not None:
                    self.on_bytes(got)
                self.last_data = time.monotonic()
                if self.last_data - started >= FLUSH_SECONDS:
                    anyio.from_thread.check_cancelled()
                    break
        except BaseException as exc:  # on_bytes refused (a cap, too slow), or a cancellation
            return filled, exc
        return filled, None


def timeval(seconds: float) -> bytes:
    """``seconds`` as the ``struct timeval`` that ``SO_RCVTIMEO`` and ``SO_SNDTIMEO`` take (0: no timeout)."""
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1e6))


async def _awaited(fn: Callable[[], Awaitable[None]]) -> None:
    await fn()


def _take(free: queue.SimpleQueue[bytearray]) -> bytearray:
    """The next free buffer (the hashing thread gives them back), checking for a cancellation meanwhile."""
    while True:
        try:
            return free.get(timeout=SLICE_SECONDS)
        except queue.Empty:
            anyio.from_thread.check_cancelled()


__all__ = ["BUFFERS", "BUFFER_BYTES", "BodySink", "DirectBody", "direct_body", "receive_into"]
