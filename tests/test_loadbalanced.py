"""Team mode behind a real load balancer: three `footage-mcp serve --transport http --auth client`
replicas behind HAProxy (round-robin, no affinity), two users with different libraries (the sandbox
serves each token its own), in both protocol eras.

Outside CI the module skips only when haproxy is missing; under CI (``CI`` set) a missing haproxy
fails (.ci/run installs it).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from forkrun import warm_sandbox

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.sandbox.library import DEFAULT_SEED, build_library
from tests.cluster import Cluster, cluster, haproxy_binary, start_replica, user_client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
USER_A, USER_B = "team-user-a-token", "team-user-b-token"
LIB_A, LIB_B = build_library(DEFAULT_SEED), build_library(DEFAULT_SEED + 1)
ERAS = ["legacy", "2026-07-28"]


def need_haproxy() -> str:
    binary = haproxy_binary()
    if binary is None:
        message = "haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def two_user_sandbox() -> Iterator[RunningSandbox]:
    with warm_sandbox(token=USER_A, more_tokens=(USER_B,)) as running:
        yield running


@pytest.fixture(scope="module")
def lb(two_user_sandbox: RunningSandbox) -> Iterator[Cluster]:
    need_haproxy()
    with cluster(two_user_sandbox.base_url, 3, warm=True) as running:
        yield running


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.parametrize("era", ERAS)
async def test_a_session_lands_on_every_replica_and_every_call_succeeds(lb: Cluster, era: str) -> None:
    seen: list[str] = []
    album = LIB_A.albums[1]
    async with user_client(lb.mcp_url, USER_A, mode=era, seen=seen) as client:
        for _ in range(3):
            assert [a["id"] for a in data(await client.call_tool("list_albums", {"limit": 3}))["albums"]] == [
                a.id for a in LIB_A.albums[:3]
            ]
            assert data(await client.call_tool("get_album", {"album_id": album.id}))["name"] == album.name
            hits = data(await client.call_tool("search_assets", {"query": "Paris", "limit": 2}))
            assert len(hits["assets"]) == 2
    assert set(seen) == {"r1", "r2", "r3"}, seen


async def test_every_replica_introduces_itself_with_the_same_name(lb: Cluster) -> None:
    answered_by: set[str] = set()
    for _ in range(4):  # legacy handshakes, each answered by the next replica in turn
        seen: list[str] = []
        async with user_client(lb.mcp_url, USER_A, mode="legacy", seen=seen) as client:
            assert client.server_info is not None and client.server_info.name == "footage"
            answered_by.add(seen[0])
    assert len(answered_by) >= 2, answered_by


@pytest.mark.parametrize("era", ERAS)
async def test_cursors_cross_replicas(lb: Cluster, era: str) -> None:
    album = max(LIB_A.albums, key=lambda a: len(a.asset_ids))
    expected = [a.id for a in LIB_A.album_assets(album)]
    seen: list[str] = []
    served_by: list[str] = []
    cursors: list[str] = []
    got: list[str] = []
    async with user_client(lb.mcp_url, USER_A, mode=era, seen=seen) as client:
        while True:
            args: dict[str, Any] = {"album_id": album.id, "limit": 7, **({"cursor": cursors[-1]} if cursors else {})}
            before = len(seen)
            page = data(await client.call_tool("list_album_assets", args))
            served_by += seen[before:]
            got += [a["id"] for a in page["assets"]]
            if not page.get("next_cursor"):
                break
            cursors.append(page["next_cursor"])
        assert got == expected and len(cursors) >= 2
        assert set(served_by) == {"r1", "r2", "r3"}  # each cursor was issued by one replica, used on another
        # the cursor is user A's: user B's requests refuse it, on whichever replica they land
        async with user_client(lb.mcp_url, USER_B, mode=era) as other:
            for _ in range(3):
                refused = await other.call_tool("list_album_assets", {"album_id": album.id, "cursor": cursors[0]})
                assert refused.is_error and "cursor is not valid" in refused.content[0].text  # type: ignore[union-attr]
        for _ in range(3):
            again = data(await client.call_tool("list_album_assets", {"album_id": album.id, "cursor": cursors[0]}))
            assert [a["id"] for a in again["assets"]] == expected[7:14]


async def test_a_long_cursor_crosses_replicas_too(lb: Cluster) -> None:
    """A cursor whose next-page URL is long (a long query) is not parked in one replica's memory when
    the replicas share FOOTAGE_STATE_SECRET: it carries its state and any replica continues it."""
    query = " ".join(["Paris"] * 60)
    seen: list[str] = []
    got: list[str] = []
    async with user_client(lb.mcp_url, USER_A, mode="2026-07-28", seen=seen) as client:
        page = data(await client.call_tool("search_assets", {"query": query, "limit": 20}))
        total, cursor = page["total"], page["next_cursor"]
        assert len(cursor) > 400  # longer than a single replica would keep inline
        got += [a["id"] for a in page["assets"]]
        while cursor:
            page = data(await client.call_tool("search_assets", {"query": query, "limit": 20, "cursor": cursor}))
            got += [a["id"] for a in page["assets"]]
            cursor = page.get("next_cursor")
    assert len(got) == len(set(got)) == total and len(set(seen)) == 3


@pytest.mark.parametrize("era", ERAS)
async def test_two_users_stay_isolated_on_every_replica(lb: Cluster, era: str) -> None:
    results: dict[str, list[dict[str, Any]]] = {USER_A: [], USER_B: []}

    async def user(token: str) -> None:
        async with user_client(lb.mcp_url, token, mode=era) as client:
            for _ in range(6):  # interleaved with the other user, over all replicas and their caches
                albums = data(await client.call_tool("list_albums", {"limit": 5}))
                config = data(await client.call_tool("get_archive_configuration", {}))
                results[token].append({"albums": [a["id"] for a in albums["albums"]], "config": config})

    async with anyio.create_task_group() as tg:
        tg.start_soon(user, USER_A)
        tg.start_soon(user, USER_B)
    for token, lib, name in ((USER_A, LIB_A, ""), (USER_B, LIB_B, " (library 2)")):
        assert len(results[token]) == 6
        for result in results[token]:
            assert result["albums"] == [a.id for a in lib.albums[:5]]
            assert result["config"]["configuration"]["archiveName"] == "Footage Sandbox Archive" + name
    async with user_client(lb.mcp_url, USER_B, mode=era) as client:
        for _ in range(3):
            foreign = await client.call_tool("get_album", {"album_id": LIB_A.albums[0].id})
            assert foreign.is_error and "not found" in foreign.content[0].text  # type: ignore[union-attr]


def test_no_replica_log_holds_a_token(lb: Cluster) -> None:
    """After the calls above (INFO logging, access log on), no replica's log contains either token."""
    logs = [replica.log.read_text(errors="replace") for replica in lb.replicas]
    assert all('"POST /mcp HTTP/1.1" 200' in log for log in logs)  # they did serve calls, and logged them
    assert not any(USER_A in log or USER_B in log for log in logs)


async def test_killing_a_replica_loses_only_the_calls_in_flight_on_it(two_user_sandbox: RunningSandbox) -> None:
    """16 clients call in a loop; one replica is killed (SIGKILL) mid-run. A call fails only if it was in
    flight on that replica; the client's retry succeeds; afterwards only the survivors answer."""
    need_haproxy()
    workers, rounds = 16, 8
    with cluster(two_user_sandbox.base_url, 3, warm=True) as running:
        failures: list[str] = []
        retried_ok = 0
        done = 0
        after_kill: list[str] = []
        killed = anyio.Event()

        async def worker(index: int) -> None:
            nonlocal retried_ok, done
            token, lib = (USER_A, LIB_A) if index % 2 else (USER_B, LIB_B)
            album = lib.albums[index % len(lib.albums)]
            for round_ in range(rounds):
                seen: list[str] = []
                for attempt in range(2):
                    try:
                        async with user_client(running.mcp_url, token, mode="2026-07-28", seen=seen) as client:
                            got = data(await client.call_tool("get_album", {"album_id": album.id}))
                        assert got["name"] == album.name
                        retried_ok += attempt
                        break
                    except Exception as exc:
                        failures.append(f"{index}/{round_}: {type(exc).__name__}")
                        assert attempt == 0, "the retry failed too"
                done += 1
                if killed.is_set() and round_ >= rounds - 3:
                    after_kill.extend(seen)
                if index == 0 and round_ == 3:
                    running.replicas[1].proc.send_signal(signal.SIGKILL)
                    running.replicas[1].proc.wait()
                    killed.set()

        async with anyio.create_task_group() as tg:
            for index in range(workers):
                tg.start_soon(worker, index)
        print(f"kill test: {len(failures)} calls failed (in flight on r2), all retried: {failures}")
        assert done == workers * rounds  # every call succeeded, first time or on the client's retry
        assert len(failures) <= workers and retried_ok == len(failures), failures
        assert after_kill and set(after_kill) <= {"r1", "r3"}, after_kill


def test_uvicorn_workers_mode_serves_both_users(two_user_sandbox: RunningSandbox, tmp_path: Path) -> None:
    """`--workers 2`: uvicorn's multi-process mode (the app is built by a factory in each worker)."""
    replica = start_replica("workers", two_user_sandbox.base_url, tmp_path, args=("--auth", "client", "--workers", "2"))
    try:
        children = Path(f"/proc/{replica.proc.pid}/task/{replica.proc.pid}/children").read_text().split()
        assert len(children) >= 2  # the two workers (uvicorn may add a resource tracker)

        async def calls() -> None:
            for token, lib in ((USER_A, LIB_A), (USER_B, LIB_B)) * 3:
                async with user_client(replica.url + "/mcp", token, mode="legacy") as client:
                    albums = data(await client.call_tool("list_albums", {"limit": 2}))
                    assert [a["id"] for a in albums["albums"]] == [a.id for a in lib.albums[:2]]

        anyio.run(calls)
    finally:
        assert replica.stop() == 0


def _server_pem() -> str:
    """A self-signed certificate and its key, PEM, as HAProxy's ``crt`` takes them."""
    from certs import self_signed

    cert, key = self_signed("mcp.example.com")
    return cert + key


def test_the_example_haproxy_config_parses(tmp_path: Path) -> None:
    binary = need_haproxy()
    pem = tmp_path / "mcp.pem"
    pem.write_text(_server_pem())
    done = subprocess.run(
        [binary, "-c", "-f", str(ROOT / "docs" / "haproxy.cfg")],
        capture_output=True,
        text=True,
        env={**os.environ, "FOOTAGE_TLS_PEM": str(pem)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration file is valid" in done.stdout + done.stderr
