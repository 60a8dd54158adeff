"""stdio with an answer for every request: lines the SDK's parser would drop are screened first.

The SDK's stdio reader validates each line with pydantic-core's JSON parser and, when that fails,
hands the exception to the session, which logs it at DEBUG and answers nothing: the client waits
for ever. Two kinds of *valid* JSON fail there: nesting deeper than its recursion limit (about
200 levels, e.g. arguments nested 200 deep) and a lone UTF-16 surrogate escape (``"\\ud83d"``, which
a JavaScript host can send). :class:`ScreenedLines` sits between stdin and the SDK's reader:

* a line the SDK parser accepts passes unchanged (the common case; one extra parse);
* a line with lone surrogates has each replaced by U+FFFD and passes on (the call is answered; the
  argument holds a replacement character, as a lossy decoder would give);
* a request nested deeper than :data:`MAX_DEPTH` levels gets a JSON-RPC error ``-32602`` (invalid
  params) with its id, one that is still unreadable ``-32600`` (invalid request), written through the
  same stream as every other reply; a line without an id (a notification) or that is not JSON at all
  (no id can be known) is handed on for the SDK to log, as before.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
import signal
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import mcp_types as types
from anyio.streams.memory import MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from footage_mcp.surface.render import depth_of

log = logging.getLogger(__name__)

MAX_DEPTH = 64
"""Deepest nesting a request may have (the envelope counts: ``params.arguments`` is 2 levels in)."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")')


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def _error(request_id: Any, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


def screen(line: str) -> tuple[str | None, types.JSONRPCError | None]:
    """(the line to hand on, or None; the error to answer instead, or None) for one stdin line."""
    if not line.strip():
        return None, None
    try:
        types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        return line, None
    except Exception:
        pass
    try:
        message = json.loads(line)
    except ValueError:
        return line, None  # not JSON: no request to answer (its id cannot be known); the SDK logs it
    except RecursionError:  # JSON nested beyond even Python's reader: answer the id it opens with
        found = _ID.search(line[:4096])
        if found is None:
            return line, None
        request_id = json.loads(found.group(1))
        return None, _error(
            request_id, types.INVALID_PARAMS, f"the request is nested more than {MAX_DEPTH} levels deep"
        )
    if not isinstance(message, dict) or "id" not in message or "method" not in message:
        return line, None
    request_id = message["id"] if isinstance(message["id"], str | int) else None
    depth = depth_of(message, MAX_DEPTH)
    if depth > MAX_DEPTH:
        return None, _error(
            request_id,
            types.INVALID_PARAMS,
            f"the request is nested more than {MAX_DEPTH} levels deep; no tool takes arguments nested that deep",
        )
    fixed = json.dumps(_without_surrogates(message), ensure_ascii=False)
    try:
        types.jsonrpc_message_adapter.validate_json(fixed, by_name=False)
    except Exception as exc:
        first = str(exc).splitlines()[1:2] or ["unreadable"]
        return None, _error(request_id, types.INVALID_REQUEST, f"invalid request: {first[0].strip()[:200]}")
    return fixed, None


class ScreenedLines:
    """stdin lines, screened (:func:`screen`); errors go to ``errors`` (a stream of SessionMessages)."""

    def __init__(self, source: Any, errors: MemoryObjectSendStream[SessionMessage]) -> None:
        self._source = source
        self._errors = errors

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        async with self._errors:
            async for line in self._source:
                passed, error = screen(line)
                if error is not None:
                    log.info("answered an unreadable request with JSON-RPC error %s", error.error.code)
                    await self._errors.send(SessionMessage(error))
                if passed is not None:
                    yield passed


class DaemonLines:
    """The lines of a file descriptor (UTF-8, undecodable bytes as U+FFFD, each line with its ``\\n``),
    read by a daemon thread of its own with ``os.read`` and handed to the event loop, at most
    :data:`READ_AHEAD_BYTES` ahead of it.

    Why not ``anyio.wrap_file`` (what the SDK uses): its read waits in a worker thread that a cancellation
    must wait for, and stdin's next line may never come. SIGINT (Ctrl-C in a terminal, or a host's process
    group) cancels the server, which then hung in that wait until stdin closed (anyio's worker threads are
    not daemon threads, so even an abandoned read kept the process alive). A daemon thread blocked in
    ``os.read`` holds up nothing and holds no lock of ``sys.stdin`` (a thread blocked in its buffered
    ``readline`` made the interpreter abort at exit): the server shuts down and the process exits, status
    130 for SIGINT.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __aiter__(self) -> _LineReader:
        return _LineReader(self._fd)


class _LineReader:
    """The iterator of :class:`DaemonLines`: a plain object, not an async generator holding a cancel scope
    (a portal's task group did): the SDK's reader task stops iterating when it is cancelled and never
    closes the iterator, so a generator was finalized later in another task ("Attempted to exit cancel
    scope in a different task than it was entered in", exit status 1 after SIGINT with requests in flight).
    The thread hands each chunk over with ``anyio.from_thread.run_sync`` and an event-loop token; a
    semaphore keeps it at most :data:`READ_AHEAD_BYTES` ahead of the server."""

    def __init__(self, fd: int) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[bytes](READ_AHEAD_BYTES // READ_BYTES + 1)
        self._room = threading.Semaphore(READ_AHEAD_BYTES // READ_BYTES)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial: list[str] = []  # the line being read, in pieces (a long line is joined once)
        self._ready: deque[str] = deque()
        self._ended = False
        token = anyio.lowlevel.current_token()

        def read() -> None:
            with suppress(Exception):  # the loop ended (shutdown) or the descriptor failed: EOF
                while True:
                    self._room.acquire()
                    chunk = os.read(fd, READ_BYTES)
                    if not chunk:
                        break
                    anyio.from_thread.run_sync(self._send.send_nowait, chunk, token=token)
            with suppress(Exception):
                anyio.from_thread.run_sync(self._send.close, token=token)

        threading.Thread(target=read, name="footage-stdin", daemon=True).start()

    def __aiter__(self) -> _LineReader:
        return self

    async def __anext__(self) -> str:
        while not self._ready:
            if self._ended:
                raise StopAsyncIteration
            try:
                chunk = await self._receive.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                self._ended = True
                tail = "".join(self._partial) + self._decoder.decode(b"", final=True)
                self._partial = []
                if tail:
                    self._ready.append(tail)
                continue
            self._room.release()
            first, *more = self._decoder.decode(chunk).split("\n")
            self._partial.append(first)
            if more:
                self._ready.append("".join(self._partial) + "\n")
                *complete, rest = more
                self._ready.extend(line + "\n" for line in complete)
                self._partial = [rest]
        return self._ready.popleft()


READ_BYTES = 64 * 1024
READ_AHEAD_BYTES = 1024 * 1024
"""Bytes stdin's reader thread may read ahead of the server."""


def screened_stdin(errors: MemoryObjectSendStream[SessionMessage]) -> Any:
    """The process's stdin (UTF-8; undecodable bytes become U+FFFD, as the SDK does), screened, read by a
    daemon thread (:class:`DaemonLines`)."""
    return ScreenedLines(DaemonLines(sys.stdin.fileno()), errors)


async def serve_screened_stdio(lowlevel: Any) -> None:
    """Run ``lowlevel`` (the SDK's low-level server) over stdio with screened stdin. stdin is passed
    to the SDK's ``stdio_server`` explicitly, so its descriptor is not diverted to the null device (the
    bridge starts no child that could read it); stdout is claimed by the SDK as usual.

    SIGINT cancels the session's task group (outside Windows), so the SDK's tasks end as on any
    cancellation, and then raises KeyboardInterrupt (exit status 130). Left to asyncio's runner, SIGINT
    cancelled the main task natively: arriving while requests were in flight, it left the SDK's tasks
    raising BrokenResourceError and "Attempted to exit a cancel scope that isn't the current task's"
    (exit status 1, tracebacks on stderr; 4 of 30 runs with up to 3 requests in flight, 2 busy cores)."""
    from mcp.server.stdio import stdio_server

    send_errors, receive_errors = anyio.create_memory_object_stream[SessionMessage](16)
    interrupted = False

    async def on_interrupt(scope: anyio.CancelScope) -> None:
        nonlocal interrupted
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                interrupted = True
                scope.cancel()
                return

    async with anyio.create_task_group() as session:
        if sys.platform != "win32":
            session.start_soon(on_interrupt, session.cancel_scope)
        async with stdio_server(stdin=screened_stdin(send_errors)) as (read_stream, write_stream):

            async def forward() -> None:
                async with receive_errors:
                    async for message in receive_errors:
                        await write_stream.send(message)

            async with anyio.create_task_group() as group:
                group.start_soon(forward)
                await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
                group.cancel_scope.cancel()
        session.cancel_scope.cancel()  # stdin ended: no SIGINT to wait for
    if interrupted:
        raise KeyboardInterrupt  # the CLI's exit status 130
