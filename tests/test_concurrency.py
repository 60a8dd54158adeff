"""Cancellation and concurrency over real stdio and loopback HTTP, asserted by order and state
(the sandbox's log of in-flight requests), never by wall-clock time. The bridge is a process of its own
on real pipes, forked from a warm one (tests/forkrun.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from forkrun import warm_parameters
from mcp import Client
from mcp.client.stdio import stdio_client

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from footage_mcp.sandbox.library import shared_library

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
LIB = shared_library()


async def pending(control: httpx2.AsyncClient, fragment: str) -> int:
    log = (await control.get("/requests")).json()
    return sum(1 for e in log if e["outcome"] == "pending" and fragment in e["path"])


async def wait_until(check: Any, limit: float = 20.0) -> None:
    with anyio.fail_after(limit):
        while not await check():
            await anyio.sleep(0.05)


async def test_concurrent_calls_are_in_flight_together_and_a_slow_one_holds_up_nothing(
    hal_sandbox: RunningSandbox,
) -> None:
    origin = hal_sandbox.base_url.removesuffix("/api/asset")
    params = warm_parameters(bridge_parameters(hal_sandbox.base_url, hal_sandbox.token, {"FOOTAGE_TIMEOUT": "20"}))
    async with httpx2.AsyncClient(base_url=origin + "/_sandbox") as control, Client(params, mode="legacy") as client:
        await client.call_tool("list_api_links", {})
        await control.delete("/requests")
        rules = [
            {"match": r"^/search/assets$", "latency_ms": 1500},
            {"match": r"^/assets/[^/]+$", "latency_ms": 5000, "times": 1},
        ]
        await control.put("/faults", json={"rules": rules})
        try:
            done: list[str] = []
            async with anyio.create_task_group() as group:

                async def slow() -> None:
                    await client.call_tool("get_asset", {"asset_id": LIB.assets[0].id})
                    done.append("slow")

                group.start_soon(slow)
                await wait_until(lambda: _gt(pending(control, "/assets/"), 0))
                # 12 searches at once: all of them reach the API before any answer comes back
                for n in range(12):
                    group.start_soon(_search, client, f"term{n}", done)
                await wait_until(lambda: _gt(pending(control, "/search/assets"), 11))
                # an unfaulted call completes while the slow one is still in flight
                fast = await client.call_tool("get_album", {"album_id": LIB.albums[0].id})
                assert not fast.is_error and "slow" not in done
            assert done.count("search") == 12 and done.count("slow") == 1
        finally:
            await control.delete("/faults")


async def _search(client: Client, term: str, done: list[str]) -> None:
    result = await client.call_tool("search_assets", {"query": term})
    assert not result.is_error
    done.append("search")


async def _gt(value: Any, threshold: int) -> bool:
    return bool(await value > threshold)


async def test_a_cancelled_call_aborts_its_request_and_the_server_goes_on(
    hal_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    origin = hal_sandbox.base_url.removesuffix("/api/asset")
    settings = {"FOOTAGE_TIMEOUT": "30", "FOOTAGE_LOG_LEVEL": "DEBUG"}
    params = warm_parameters(bridge_parameters(hal_sandbox.base_url, hal_sandbox.token, settings))
    errlog = tmp_path / "bridge.log"
    with errlog.open("w") as err:
        async with (
            httpx2.AsyncClient(base_url=origin + "/_sandbox") as control,
            Client(stdio_client(params, errlog=err), mode="legacy") as client,
        ):
            await client.call_tool("list_api_links", {})
            await control.put("/faults", json={"rules": [{"match": r"^/albums$", "latency_ms": 20000, "times": 1}]})
            try:
                async with anyio.create_task_group() as group:
                    group.start_soon(client.call_tool, "list_albums", {})
                    await wait_until(lambda: _gt(pending(control, "/albums"), 0))
                    group.cancel_scope.cancel()  # the client gives up: notifications/cancelled is sent
                # the server goes on serving, and answers at once on the next call
                again = await client.call_tool("get_album", {"album_id": LIB.albums[1].id})
                assert not again.is_error
                assert again.structured_content is not None and again.structured_content["id"] == LIB.albums[1].id
            finally:
                await control.delete("/faults")
    log = errlog.read_text()
    assert "receive_response_headers.failed exception=CancelledError" in log
