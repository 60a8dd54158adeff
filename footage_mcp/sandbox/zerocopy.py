"""The ASGI "Zero Copy Send" extension for the sandbox's uvicorn: :class:`ZeroCopyH11Protocol`.

uvicorn does not implement ``http.response.zerocopysend`` (ASGI HTTP spec, extensions); this protocol
offers it in every request's ``scope["extensions"]`` and serves it with asyncio's ``loop.sendfile`` on the
connection's transport, so a stored file's bytes go from the page cache to the socket without passing
through Python (as nginx or a CDN serves files). Why (measured, docs/benchmarks.md "Files (section 8),
session 8"): serving a stored 1 GiB upload through uvicorn's h11 path cost the sandbox 0.55 CPU-s per
GiB on the same two cores the client under test runs on; a real archive's server is not on the client's
cores.

A message: ``{"type": "http.response.zerocopysend", "file": <binary file object>, "offset": int,
"count": int, "more_body": bool}``, after ``http.response.start`` with a ``Content-Length``. h11 is told
how many bytes of that length went around it. Where that cannot be done (no ``Content-Length``, a HEAD
request), the file's bytes go as ordinary body messages instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .originals import ZERO_COPY as EXTENSION

READ_BYTES = 1024 * 1024


class ZeroCopyH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with :data:`EXTENSION` in each request's scope."""

    def handle_events(self) -> None:
        before = getattr(self, "cycle", None)
        super().handle_events()
        cycle = getattr(self, "cycle", None)
        if cycle is not None and cycle is not before:  # a request started in this call: its task has not run yet
            _install(cycle)


def _install(cycle: Any) -> None:
    cycle.scope.setdefault("extensions", {})[EXTENSION] = {}
    plain_send = cycle.send

    async def send(message: Any) -> None:
        if message.get("type") != EXTENSION:
            await plain_send(message)
            return
        handle, offset, count = message["file"], int(message.get("offset") or 0), message.get("count")
        more = bool(message.get("more_body", False))
        writer: Any = getattr(cycle.conn, "_writer", None)
        usable = (
            cycle.response_started
            and not cycle.response_complete
            and cycle.scope.get("method") != "HEAD"
            and count is not None
            and type(writer).__name__ == "ContentLengthWriter"
            and isinstance(getattr(writer, "_length", None), int)
            and writer._length >= count
        )
        if not usable:
            await _as_body_messages(plain_send, handle, offset, count, more)
            return
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()
        if cycle.disconnected:
            return
        if count == 0:  # loop.sendfile takes positive counts only
            if not more:
                await plain_send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        try:
            sent = await asyncio.get_running_loop().sendfile(cycle.transport, handle, offset, count)
        except (NotImplementedError, AttributeError):  # a loop without sendfile (uvloop): ordinary messages
            await _as_body_messages(plain_send, handle, offset, count, more)
            return
        except (OSError, RuntimeError):  # the client went (RuntimeError: the transport is closing)
            cycle.disconnected = True
            with contextlib.suppress(Exception):
                cycle.transport.close()
            return
        writer._length -= sent
        if sent < count:  # the file got shorter: the response cannot be completed
            cycle.disconnected = True
            cycle.transport.close()
            return
        if not more:
            await plain_send({"type": "http.response.body", "body": b"", "more_body": False})

    cycle.send = send


async def _as_body_messages(send: Any, handle: Any, offset: int, count: int | None, more: bool) -> None:
    handle.seek(offset)
    left = count
    while left is None or left > 0:
        block = handle.read(READ_BYTES if left is None else min(READ_BYTES, left))
        if not block:
            break
        if left is not None:
            left -= len(block)
        await send({"type": "http.response.body", "body": block, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": more})


__all__ = ["EXTENSION", "ZeroCopyH11Protocol"]
