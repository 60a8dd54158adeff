"""A plain-HTTP upload's file bytes sent by the kernel: :func:`direct_sender`, then :meth:`DirectSend.send_file`.

Why (measured, docs/benchmarks.md, "Files (section 8), session 8"): sending a file through httpx2's stack
reads it into 512 KiB ``bytes`` blocks in a worker thread, then h11 and asyncio write each out as the
socket drains: 0.7-0.96 CPU-s per GiB in the bridge (curl: 0.3). Here, once httpx2 has sent the request
line, the headers and the multipart head, the file's bytes go with ``sendfile(2)`` on the connection's own
socket, from the page cache without a copy through user space (0.06-0.12 CPU-s per GiB), and h11 is told
how many bytes of the declared ``Content-Length`` went around it; the multipart tail and the end of the
message then go through httpx2 as always, and the answer is read by httpx2. On loopback the receiver
then copies bytes that are not in any CPU cache (the sandbox spent about 0.2 CPU-s per GiB more on
them than on bytes the sender had just copied), so against a server on the same two cores the upload's
speed is about curl's either way (0.91-1.06× in four runs); the CPU saved is the bridge's.

How: a worker thread makes blocking ``sendfile`` calls of at most :data:`CALL_BYTES` on a duplicate of the
socket, each waiting at most 0.25 s (``socketbody.SLICE_SECONDS`` as ``SO_SNDTIMEO``; the socket is put back to
non-blocking before asyncio uses it again), so the write timeout counts time without progress, not the
time of a large slice, and a cancellation is seen within a slice. A first call refused (a file system
without splice support) sends the file through httpx2 instead; a connection error is httpcore2's
``WriteError`` (an early answer, such as a 413, is still read); any other error is the file's.

Only over plain TCP on asyncio's selector loop (through anyio), HTTP/1.1 with a ``Content-Length`` body:
a TLS session lives inside asyncio's SSL protocol, which ``sendfile`` would bypass. Where any
precondition cannot be verified (another transport, a mock, a proxy, TLS, HTTP/2, uvloop, a changed
httpx2/httpcore2/anyio/h11 layout), :func:`direct_sender` gives None and the file is read and sent by
httpx2: only the speed differs (tests/test_files_socketsend.py checks that the sandbox's uploads take
this path, so a changed layout shows as a failing test rather than a silent slowdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio
import anyio.from_thread
import h11
import httpx2

from footage_mcp.rest.http import plain_tcp_transport, sending_connection
from footage_mcp.rest.socketbody import PROGRESS_SECONDS, SLICE_SECONDS, timeval

CALL_BYTES = 1024 * 1024
"""Bytes asked of one ``sendfile`` call (it returns earlier with what it sent when a slice passes with the
socket full). A call that keeps moving returns only when done, so this bounds the time between progress
reports and cancellation checks on a slow link; 1,024 calls per GiB cost nothing measurable."""
UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOTSOCK, errno.EBADF})
"""Errors of a first ``sendfile`` call that mean it cannot be used here (a file system without splice
support, such as 9p before Linux 6.5): the file's bytes then go through httpx2, nothing having been sent."""
CONNECTION_ERRORS = frozenset(
    {
        errno.EPIPE,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ENOTCONN,
        errno.ESHUTDOWN,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
    }
)
"""Errors that are the connection's; any other error of a ``sendfile`` call is the file's (EIO: a read error)."""


class SendfileUnavailable(Exception):
    """``sendfile`` cannot be used for this file or socket; nothing was sent."""


@dataclass(slots=True)
class DirectSend:
    """The connection of one request in flight whose body may go around httpx2: its asyncio transport and
    socket, and h11's writer of the declared ``Content-Length`` (told of every byte sent here)."""

    transport: asyncio.Transport
    sock: Any
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
        """Send ``count`` bytes of ``handle`` from its start, in a worker thread: blocking ``sendfile`` calls
        on a duplicate of the socket, each for at most ``socketbody.SLICE_SECONDS`` (0.25 s). Returns the bytes
        sent (fewer: the file ended early, and the caller must fail the request). ``progress(bytes sent)`` at
        most every ``socketbody.PROGRESS_SECONDS`` (0.25 s). The caller's cancellation is seen within a slice.

        Raises:
            SendfileUnavailable: the first call was refused (nothing sent; send the file another way).
            httpcore2.WriteTimeout: no byte went out for ``timeout`` seconds.
            httpcore2.WriteError: the connection failed or the server closed it (httpcore2 then reads
                whatever answer came, e.g. a 413, as for a write error of its own).
            OSError: reading the file failed (EIO …).
        """
        import httpcore2  # here, not at the top: it (with trio, h2, truststore) is not needed to start the server

        deadline = time.monotonic() + timeout
        while self.transport.get_write_buffer_size():  # what asyncio still holds of the head goes first
            if time.monotonic() >= deadline:
                raise httpcore2.WriteTimeout(f"no byte could be written for {timeout:g} s")
            await anyio.sleep(0.005)
        # A limiter of its own: the thread is held for the whole file, and anyio's default limiter (40 threads
        # per loop, shared with the downloads' part opens) would let 40 stalled uploads hold up every other
        # transfer. The HTTP pool (rest/http.py POOL_SIZE) bounds how many run at once.
        limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self._send, handle.fileno(), count, timeout, progress, limiter=limiter)

    def _send(self, file_fd: int, count: int, timeout: float, progress: Callable[[int], Awaitable[None]] | None) -> int:
        import httpcore2

        try:
            sock = socket.socket(self.sock.family, self.sock.type, fileno=os.dup(self.sock.fileno()))
        except (OSError, ValueError) as exc:  # closed since the head went (fileno -1: EBADF)
            raise httpcore2.WriteError(f"the connection closed before the file could be sent ({exc})") from exc
        try:
            sock.setblocking(True)  # the flag is the shared description's: put back below, before asyncio reads
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval(SLICE_SECONDS))
            moved = time.monotonic()
            reported = moved - PROGRESS_SECONDS  # the first bytes sent are reported at once
            while self.sent < count:
                try:
                    got = os.sendfile(sock.fileno(), file_fd, self.sent, min(CALL_BYTES, count - self.sent))
                except (BlockingIOError, InterruptedError):  # a slice passed with nothing sent
                    anyio.from_thread.check_cancelled()
                    if time.monotonic() - moved >= timeout:
                        raise httpcore2.WriteTimeout(f"no byte could be written for {timeout:g} s") from None
                    continue
                except OSError as exc:
                    if self.sent == 0 and exc.errno in UNSUPPORTED:
                        raise SendfileUnavailable(str(exc)) from exc
                    if exc.errno in CONNECTION_ERRORS:
                        raise httpcore2.WriteError(f"the connection failed ({exc.strerror or exc})") from exc
                    raise  # the file's
                if got == 0:  # the file got shorter since it was measured
                    break
                self.writer._length -= got  # h11 counts the declared Content-Length down with every byte sent
                self.sent += got
                moved = time.monotonic()
                anyio.from_thread.check_cancelled()
                if progress is not None and moved - reported >= PROGRESS_SECONDS:
                    anyio.from_thread.run(_report, progress, self.sent)
                    moved = reported = time.monotonic()  # a slow report is not the connection's stall
            if progress is not None:
                anyio.from_thread.run(_report, progress, self.sent)
            return self.sent
        finally:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval(0))
                sock.setblocking(False)
            sock.close()  # the duplicate only


async def _report(progress: Callable[[int], Awaitable[None]], sent: int) -> None:
    await progress(sent)


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
    if not isinstance(asyncio.get_running_loop(), asyncio.SelectorEventLoop):  # uvloop, the proactor: not verified
        return None
    network = getattr(connection, "_network_stream", None)
    found = plain_tcp_transport(network) if network is not None else None
    if found is None:
        return None
    transport, _protocol, sock = found
    if not hasattr(os, "sendfile"):
        return None
    return DirectSend(transport, sock, writer)


__all__ = ["DirectSend", "SendfileUnavailable", "direct_sender"]
