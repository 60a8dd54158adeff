"""The transfer loop (footage_mcp/rest/transfers.py): file bodies stream on an event loop of their own, in
its own thread, with the caller's context; results, errors and cancellations come back to the caller."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import anyio
import httpx2
import pytest

from footage_mcp.core.errors import TransportError
from footage_mcp.core.settings import Settings
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.transfers import TransferLoop

pytestmark = pytest.mark.anyio

REQUEST = contextvars.ContextVar("REQUEST", default="none")


def loop_with_clients(made: list[httpx2.AsyncClient]) -> TransferLoop:
    def make() -> httpx2.AsyncClient:
        client = httpx2.AsyncClient()
        made.append(client)
        return client

    return TransferLoop(make)


async def test_a_coroutine_runs_on_the_other_thread_with_the_callers_context() -> None:
    made: list[httpx2.AsyncClient] = []
    transfers = loop_with_clients(made)
    REQUEST.set("request-7")

    async def where(n: int) -> tuple[str, str, int, bool]:
        client = transfers.client()
        return threading.current_thread().name, REQUEST.get(), n * 2, client is transfers.client()

    try:
        assert await transfers.run(where, 21) == ("footage-transfers", "request-7", 42, True)
        assert await transfers.run(where, 1) == ("footage-transfers", "request-7", 2, True)
        assert len(made) == 1  # one client, made there on first use
    finally:
        await transfers.aclose()
    assert made[0].is_closed


async def test_an_error_there_is_raised_here() -> None:
    transfers = TransferLoop(httpx2.AsyncClient)

    async def fails() -> None:
        raise LookupError("from the transfer loop")

    try:
        with pytest.raises(LookupError, match="from the transfer loop"):
            await transfers.run(fails)
    finally:
        await transfers.aclose()


async def test_cancelling_the_caller_cancels_there_and_waits_for_its_cleanup() -> None:
    transfers = TransferLoop(httpx2.AsyncClient)
    started, steps = threading.Event(), []

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            with anyio.CancelScope(shield=True):  # cleanup that takes a while, as close_writer's
                await anyio.sleep(0.2)
            steps.append("cleaned up")

    try:
        with anyio.move_on_after(10) as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(transfers.run, slow)
                await anyio.to_thread.run_sync(started.wait, 5)
                group.cancel_scope.cancel()
        assert not scope.cancelled_caught
        assert steps == ["cleaned up"]  # finished there before the cancellation completed here
    finally:
        await transfers.aclose()


async def test_relay_runs_the_callers_coroutine_on_the_callers_loop() -> None:
    transfers = TransferLoop(httpx2.AsyncClient)
    seen: list[tuple[int, str]] = []
    here = threading.current_thread().name

    async def report(done: int) -> None:
        seen.append((done, threading.current_thread().name))

    relayed = transfers.relay(report, asyncio.get_running_loop())

    async def transfer() -> None:
        for done in (1, 2, 3):
            await relayed(done)

    try:
        await transfers.run(transfer)
    finally:
        await transfers.aclose()
    assert seen == [(1, here), (2, here), (3, here)]


async def test_closing_cancels_what_runs_and_refuses_new_work() -> None:
    transfers = TransferLoop(httpx2.AsyncClient)
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(60)

    outcome: list[BaseException] = []

    async def caller() -> None:
        try:
            await transfers.run(forever)
        except TransportError as exc:
            outcome.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(caller)
        await anyio.to_thread.run_sync(started.wait, 5)
        await transfers.aclose()
    assert [str(e) for e in outcome] == ["the transfer was stopped (the server is shutting down)"]
    with pytest.raises(TransportError, match="closed"):
        await transfers.run(forever)


async def test_the_rest_client_has_a_transfer_loop_only_over_the_network() -> None:
    settings = Settings(base_url="http://127.0.0.1:1/api/asset", api_token="t")
    async with (
        RestClient(settings) as network,
        RestClient(settings, transport=httpx2.MockTransport(lambda r: httpx2.Response(200))) as mocked,
    ):
        assert isinstance(network.transfers, TransferLoop) and network.transfers is network.transfers
        assert mocked.transfers is None
    with pytest.raises(TransportError, match="closed"):
        _ = network.transfers


async def test_a_caller_cancelled_after_the_loop_stopped_does_not_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop stopped under a running transfer never reports its end: the cancelled caller waits a bounded
    time (2 x CLOSE_SECONDS), then its cancellation completes."""
    import footage_mcp.rest.transfers as transfers_module

    monkeypatch.setattr(transfers_module, "CLOSE_SECONDS", 0.25)
    transfers = TransferLoop(httpx2.AsyncClient)
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(60)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(transfers.run, forever)
            await anyio.to_thread.run_sync(started.wait, 5)
            loop = transfers._loop
            assert loop is not None
            loop.call_soon_threadsafe(loop.stop)  # the loop stops with the transfer still pending
            await anyio.sleep(0.1)
            group.cancel_scope.cancel()
        await transfers.aclose()  # bounded too


async def test_a_cancellation_waits_for_the_worker_thread_call_it_interrupts() -> None:
    """The cancellation arrives while the transfer waits for a worker thread (a .part being opened and hashed
    again): it completes only after that call returned and the transfer's cleanup ran, as on the caller's
    own loop. With a plain Task.cancel() it completed at once and the thread went on writing the .part
    under the next download (found by a breaking run: a resumed file with holes and a right sha256)."""
    transfers = TransferLoop(httpx2.AsyncClient)
    in_thread, steps = threading.Event(), []

    def slow_open() -> None:
        in_thread.set()
        threading.Event().wait(1.0)
        steps.append("thread call returned")

    async def transfer() -> None:
        try:
            await anyio.to_thread.run_sync(slow_open)
            await anyio.sleep(30)
        finally:
            steps.append("cleanup")

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(transfers.run, transfer)
            await anyio.to_thread.run_sync(in_thread.wait, 5)
            await anyio.sleep(0.3)
            group.cancel_scope.cancel()
        assert steps == ["thread call returned", "cleanup"]
    finally:
        await transfers.aclose()
