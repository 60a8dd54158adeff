"""A second event loop, in its own thread, where file bodies stream (downloads and uploads): :class:`TransferLoop`.

Receiving a body costs the event loop about 2 CPU-s per GiB (socket reads, anyio's pause/resume around
each read, h11, the copy into the spool's buffers; measured with perf, 1 GiB on loopback, 2 cores). On
the server's own loop, 20 concurrent downloads kept every other call waiting behind them (a trivial call's
worst latency 336-439 ms; 79-147 ms with this loop, bench/run.py --only files, docs/benchmarks.md). Here
the transfers run on a loop of their own, with an HTTP client of their own (the same options as
:class:`~footage_mcp.rest.http.RestClient`'s), so the server's loop only relays progress and results.

A coroutine runs there with the caller's context variables (the request's token in HTTP team mode, see
:mod:`footage_mcp.rest.tokens`). Cancelling the caller cancels it there and waits until it has finished
(a cancelled download closes and keeps its ``.part`` before the cancellation completes).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx2

from footage_mcp.core.errors import TransportError

T = TypeVar("T")

CLOSE_SECONDS = 5.0
"""How long closing waits for transfers still running there (they are cancelled first)."""


class TransferLoop:
    """An asyncio loop in a daemon thread, started on first use, with its own ``httpx2.AsyncClient``
    (built by ``make_client`` inside that loop)."""

    def __init__(self, make_client: Callable[[], httpx2.AsyncClient]) -> None:
        self._make_client = make_client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx2.AsyncClient | None = None
        self._scopes: dict[asyncio.Task[Any], anyio.CancelScope] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _started_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise TransportError("the HTTP client is closed (the server is shutting down)")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="footage-transfers", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def client(self) -> httpx2.AsyncClient:
        """The transfer loop's HTTP client; call only from a coroutine running there (:meth:`run`)."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await fn(*args)`` on the transfer loop, from the caller's loop.

        ``fn`` runs inside an anyio cancel scope there, and a cancellation of the caller cancels that scope
        (not the asyncio task): anyio's shielded and uninterruptible waits hold, so a worker-thread call
        ``fn`` is waiting for (a ``.part`` being opened and hashed again, or closed) finishes before ``fn``
        does, and ``fn`` has finished before the caller's cancellation completes.

        Raises:
            whatever ``fn`` raised; TransportError if the loop was closed meanwhile (shutdown);
            the caller's cancellation, after ``fn`` was cancelled there and has finished (waited for at
            most 2 × :data:`CLOSE_SECONDS` if the loop stopped under it).
        """
        loop = self._started_loop()
        caller = asyncio.get_running_loop()
        context = contextvars.copy_context()
        finished = anyio.Event()
        scope = anyio.CancelScope()
        box: dict[str, asyncio.Task[T]] = {}

        async def scoped() -> T:
            with scope:
                return await fn(*args)
            raise _Stopped  # reached only when the scope was cancelled

        def done(task: asyncio.Task[T]) -> None:
            if not task.cancelled():
                task.exception()  # retrieved here: a cancelled caller never reads it, and an unread one is
                # logged from the task's finalizer, whenever the garbage collector runs (CPython 3.11 then
                # fails a compile() running at that moment: "AST constructor recursion depth mismatch")
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone (its process is ending)
                caller.call_soon_threadsafe(finished.set)

        def start() -> None:
            task = loop.create_task(scoped(), context=context)
            self._scopes[task] = scope
            task.add_done_callback(self._forget)
            task.add_done_callback(done)
            box["task"] = task

        loop.call_soon_threadsafe(start)
        try:
            await finished.wait()
        except BaseException as exc:
            try:
                loop.call_soon_threadsafe(scope.cancel)  # after start(): a loop runs its callbacks in order
            except RuntimeError:  # the loop is closed: nothing runs there any more
                raise exc from None
            with anyio.CancelScope(shield=True), anyio.move_on_after(2 * CLOSE_SECONDS):
                await finished.wait()  # bounded: a loop stopped meanwhile never reports
            raise
        task = box["task"]
        if task.cancelled() or isinstance(task.exception(), _Stopped):
            raise TransportError("the transfer was stopped (the server is shutting down)")
        return task.result()

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._scopes.pop(task, None)

    def relay(
        self, fn: Callable[..., Awaitable[None]], caller: asyncio.AbstractEventLoop
    ) -> Callable[..., Awaitable[None]]:
        """``fn`` (a coroutine function of the caller's loop, e.g. a progress report) made callable from the
        transfer loop: each call runs it on ``caller`` and waits for it."""

        async def relayed(*args: Any) -> None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_awaited(fn, args), caller))

        return relayed

    async def aclose(self) -> None:
        """Cancel what still runs there, close its client, stop the loop and its thread."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            for scope in list(self._scopes.values()):
                scope.cancel()  # as a caller's cancellation does: each transfer finishes its cleanup
            if self._scopes:
                await asyncio.wait(list(self._scopes), timeout=CLOSE_SECONDS)
            if self._client is not None:
                await self._client.aclose()
            # as asyncio.run ends a loop: no task or async generator left pending (anyio's worker-thread
            # bookkeeping among them), so nothing is left for the garbage collector to finalize later
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            if others:
                await asyncio.wait(others, timeout=CLOSE_SECONDS)
            await asyncio.get_running_loop().shutdown_asyncgens()

        closing = shutdown()
        with anyio.CancelScope(shield=True):
            try:
                with anyio.move_on_after(2 * CLOSE_SECONDS):  # a loop already stopped never answers
                    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(closing, loop))
            finally:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(loop.stop)
                await anyio.to_thread.run_sync(thread.join, CLOSE_SECONDS)
                if not thread.is_alive() and not loop.is_running():
                    closing.close()  # never started if the loop had stopped before; a no-op otherwise
                    loop.close()


class _Stopped(Exception):
    """A transfer whose cancel scope was cancelled (by its caller or by :meth:`TransferLoop.aclose`)."""


async def _awaited(fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
    return await fn(*args)


__all__ = ["CLOSE_SECONDS", "TransferLoop"]
