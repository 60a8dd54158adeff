"""A plain-HTTP upload's file bytes sent by the kernel: :func:`direct_sender`, then :meth:`DirectSend.send_file`.

Why (measured, docs/benchmarks.md, "Files (section 8), session 8"): sending a file through httpx2's stack
reads it into 512 KiB ``bytes`` blocks in a worker thread, then h11 joins each into a new ``bytes`` and
asyncio writes it out in pieces as the socket drains: about 1 CPU-s per GiB in the bridge against curl's
0.3, and the receiver, handed the bytes in smaller bursts, spent twice the CPU per GiB it spends on curl's
upload (3.9 against 1.9 s in the sandbox), so a 1 GiB upload ran at 0.46× curl's speed. Here, once httpx2
has sent the request line, the headers and the multipart head, the file's bytes go with ``sendfile(2)``
on the connection's own socket (asyncio's :meth:`~asyncio.loop.sendfile`: it waits until asyncio's write
buffer is empty, pauses reading, sends from the page cache without a copy through user space), and h11
is told how many bytes of the declared ``Content-Length`` went around it; the multipart tail and the end
of the message then go through httpx2 as always, and the answer is read by httpx2.

Only over plain TCP on asyncio (through anyio), HTTP/1.1 with a ``Content-Length`` body: a TLS session
lives inside asyncio's SSL protocol, which ``sendfile`` would bypass. Where any precondition cannot be
verified (another transport, a mock, TLS, HTTP/2, a changed httpx2/httpcore2/anyio/h11 layout),
:func:`direct_sender` gives None and the file is read and sent by httpx2: only the speed differs
(tests/test_files_socketsend.py checks that the sandbox's uploads take this path, so a changed layout
shows as a failing test rather than a silent slowdown).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio
import h11
import httpcore2
import httpx2

from footage_mcp.rest.http import plain_tcp_transport, sending_connection

MIN_SLICE_BYTES = 256 * 1024
MAX_SLICE_BYTES = 16 * 1024 * 1024
SLICE_SECONDS = 0.1
"""Bytes per ``loop.sendfile`` call: what the previous call sent in about this long, at most twice the
previous slice (the first ones only fill the socket buffers), between :data:`MIN_SLICE_BYTES` and
:data:`MAX_SLICE_BYTES`. Progress is reported and the write timeout counted
per slice; each call costs the loop some 50 µs of setup, so on loopback (0.5-1 GB/s) slices are large,
while a slow link still reports progress several times a second."""


@dataclass(slots=True)
class DirectSend:
    """The connection of one request in flight whose body may go around httpx2: its asyncio transport and
    h11's writer of the declared ``Content-Length`` (told of every byte sent here)."""

    transport: asyncio.Transport
    writer: Any
    sent: int = 0

    async def send_file(
        self,
        handle: BinaryIO,
        count: int,
        *,
        timeout: float,
        progress: Callable[[int], Awaitable[None]] | None = None,
    ) -> int:
        """Send ``count`` bytes of ``handle`` from its start; returns the bytes sent (fewer: the file ended
        early, and the caller must fail the request). ``progress(bytes sent)`` after each slice.

        Raises:
            httpcore2.WriteError: the connection failed or the server closed it (httpcore2 then reads
                whatever answer came, e.g. a 413, as for a write error of its own).
            TimeoutError: a slice made no progress for ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        slice_bytes = MIN_SLICE_BYTES
        while self.sent < count:
            size = min(slice_bytes, count - self.sent)
            started = time.monotonic()
            try:
                with anyio.fail_after(timeout):
                    got = await loop.sendfile(self.transport, handle, self.sent, size, fallback=False)
            except (OSError, RuntimeError) as exc:  # RuntimeError: the transport is closing (the peer went)
                raise httpcore2.WriteError(f"{type(exc).__name__}: {exc}") from exc
            took = time.monotonic() - started
            rate = got / took if took > 0 else float(MAX_SLICE_BYTES / SLICE_SECONDS)
            slice_bytes = int(min(MAX_SLICE_BYTES, 2 * size, max(MIN_SLICE_BYTES, rate * SLICE_SECONDS)))
            self.writer._length -= got  # h11 counts the declared Content-Length down with every byte sent
            self.sent += got
            if progress is not None:
                await progress(self.sent)
            if got < size:  # the file got shorter since it was measured
                break
        return self.sent


def direct_sender(http: httpx2.AsyncClient, request: httpx2.Request, remaining: int) -> DirectSend | None:
    """The connection ``request`` is being sent on (call from inside its body's iteration, after at least
    one chunk), when ``remaining`` more body bytes may be sent around httpx2; None (nothing touched) unless
    every precondition holds: httpcore2's pool of ``http`` holds the request on an HTTP/1.1 connection in
    the middle of its body, h11 declares at least ``remaining`` bytes still to come by ``Content-Length``, and
    the connection is plain TCP on an asyncio selector transport that is not closing."""
    if sys.platform == "win32":  # the proactor's sendfile and its socket ownership are not what this verifies
        return None
    connection = sending_connection(http, request)
    if connection is None:
        return None
    state = getattr(connection, "_h11_state", None)
    writer: Any = getattr(state, "_writer", None)
    if not (
        isinstance(state, h11.Connection)
        and state.our_state is h11.SEND_BODY
        and type(writer).__name__ == "ContentLengthWriter"
        and isinstance(getattr(writer, "_length", None), int)
        and writer._length >= remaining
    ):
        return None
    network = getattr(connection, "_network_stream", None)
    found = plain_tcp_transport(network) if network is not None else None
    if found is None:
        return None
    transport, _protocol = found
    return DirectSend(transport, writer)


__all__ = ["DirectSend", "direct_sender"]
