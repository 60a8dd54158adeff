"""Team mode under load: N replicas of `footage-mcp serve --transport http --auth client` behind HAProxy.

    uv run python bench/team.py                      # 1, 2, 4 replicas × 0 and 100 ms upstream latency
    uv run python bench/team.py --quick              # 1 and 2 replicas, 0 ms, short (CI smoke)
    uv run python bench/run.py --only team           # the same, as section 7 of the harness

For each configuration: 64 concurrent clients call ``get_album`` (one upstream request each) through
HAProxy for a fixed time after a warm-up; calls per second, p50 and p99 latency, errors, and the RSS of
each replica afterwards. Requests are 2026-07-28 single-exchange POSTs: one request as the SDK client
sends it is recorded once, then replayed by a light raw-HTTP load generator (so the client side costs
little CPU on the same machine). The upstream is one sandbox process serving two users' libraries; the
100 ms case adds that latency to every upstream request (the sandbox's ``latency_ms`` fault).
Figures are reported, not asserted (docs/benchmarks.md, "7. team mode").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from footage_mcp.cli.launch import sandbox_process  # noqa: E402
from footage_mcp.sandbox.library import DEFAULT_SEED, build_library  # noqa: E402
from tests.cluster import cluster, haproxy_binary  # noqa: E402

USERS = ("bench-user-a-token", "bench-user-b-token")
CONCURRENCY = 64
SHOW_FAILURE = [True]


async def recorded_call(url: str, token: str, album_id: str) -> tuple[dict[str, str], bytes]:
    """The headers and body of one ``tools/call get_album`` exactly as the SDK client sends it (2026-07-28)."""
    captured: list[httpx2.Request] = []

    async def keep(request: httpx2.Request) -> None:
        captured.append(request)

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, event_hooks={"request": [keep]}) as raw,
        Client(streamable_http_client(url, http_client=raw), mode="2026-07-28") as client,
    ):
        await client.list_tools()
        captured.clear()
        result = await client.call_tool("get_album", {"album_id": album_id})
        assert not result.is_error, result
    request = next(r for r in captured if b'"tools/call"' in r.content)
    skip = {"content-length", "host", "connection", "authorization"}
    return {k: v for k, v in request.headers.items() if k.lower() not in skip}, request.content


def succeeded(response: httpx2.Response) -> bool:
    """A 200 whose JSON-RPC answer (JSON or the SSE event carrying it) is a result without isError."""
    if response.status_code != 200:
        return False
    text = response.text
    if "text/event-stream" in response.headers.get("content-type", ""):
        lines = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        text = next((line for line in reversed(lines) if '"result"' in line or '"error"' in line), "{}")
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return "result" in answer and not answer["result"].get("isError", False)


async def load(
    url: str, calls: Sequence[tuple[str, dict[str, str], bytes]], *, duration: float, warmup: float
) -> dict[str, Any]:
    """CONCURRENCY workers replaying ``calls`` (token, headers, body) round-robin for ``duration`` s after
    ``warmup`` s; returns calls/s, p50/p99 (ms) and the error count of the measured window."""
    latencies: list[float] = []
    errors = 0
    made = 0
    stop_at = time.perf_counter() + warmup + duration
    measure_from = time.perf_counter() + warmup
    limits = httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(60.0), limits=limits) as http:

        async def worker(index: int) -> None:
            nonlocal errors, made
            n = index
            while (start := time.perf_counter()) < stop_at:
                token, headers, body = calls[n % len(calls)]
                n += 1
                try:
                    response = await http.post(
                        url, content=body, headers={**headers, "Authorization": f"Bearer {token}"}
                    )
                    good = succeeded(response)
                    if not good and SHOW_FAILURE:
                        SHOW_FAILURE.pop()
                        print(f"    first failure: {response.status_code} {response.text[:300]!r}", flush=True)
                except httpx2.HTTPError:
                    good = False
                end = time.perf_counter()
                made += 1
                if start >= measure_from:
                    latencies.append(end - start)
                    errors += not good

        await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "calls_per_s": len(latencies) / duration,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "errors": errors,
        "calls": len(latencies),
        "calls_made": made,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(
    replica_counts: Sequence[int], latencies_ms: Sequence[int], duration: float, warmup: float
) -> list[dict[str, Any]]:
    libraries = [build_library(DEFAULT_SEED), build_library(DEFAULT_SEED + 1)]
    rows: list[dict[str, Any]] = []
    with sandbox_process(token=USERS[0], more_tokens=(USERS[1],)) as sandbox:
        control = sandbox.base_url.removesuffix("/api/asset") + "/_sandbox"
        for latency in latencies_ms:
            rules = {"rules": [{"match": "", "latency_ms": latency}]} if latency else {"rules": []}
            httpx2.put(f"{control}/faults", json=rules).raise_for_status()
            for count in replica_counts:
                with cluster(sandbox.base_url, count, env={"FOOTAGE_LOG_LEVEL": "WARNING"}) as running:
                    calls = []
                    for token, lib in zip(USERS, libraries, strict=True):
                        for album in lib.albums[:4]:
                            headers, body = await recorded_call(running.mcp_url, token, album.id)
                            calls.append((token, headers, body))
                    parts = {
                        "replicas": [r.proc.pid for r in running.replicas],
                        "haproxy": [running.haproxy.pid],
                        "sandbox": [sandbox.process.pid],
                        "load generator": [os.getpid()],
                    }
                    before = {k: sum(cpu_seconds(p) for p in pids) for k, pids in parts.items()}
                    figures = await load(running.mcp_url, calls, duration=duration, warmup=warmup)
                    made = max(1, figures["calls_made"])
                    figures["cpu_ms_per_call"] = {
                        k: round((sum(cpu_seconds(p) for p in pids) - before[k]) * 1000 / made, 2)
                        for k, pids in parts.items()
                    }
                    figures.update(
                        replicas=count,
                        latency_ms=latency,
                        rss_mb=[round(rss_mb(r.proc.pid), 1) for r in running.replicas],
                    )
                    rows.append(figures)
                    print(format_row(figures), flush=True)
    return rows


def format_row(row: dict[str, Any]) -> str:
    return (
        f"  replicas={row['replicas']}  upstream +{row['latency_ms']:>3} ms  {row['calls_per_s']:7.1f} calls/s  "
        f"p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  errors {row['errors']}/{row['calls']}  "
        f"RSS/replica {', '.join(f'{v:.0f}' for v in row['rss_mb'])} MB\n"
        f"      CPU ms per call: {', '.join(f'{k} {v:.1f}' for k, v in row['cpu_ms_per_call'].items())}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 and 2 replicas, 0 ms, 3 s each (CI smoke)")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per configuration")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if haproxy_binary() is None:
        print("team benchmark skipped: haproxy is not installed", flush=True)
        return 0
    counts, latencies = ((1, 2), (0,)) if args.quick else ((1, 2, 4), (0, 100))
    duration = args.duration or (3.0 if args.quick else 12.0)
    print(f"7. team mode: {CONCURRENCY} concurrent clients through HAProxy, get_album, {duration:g} s/row", flush=True)
    rows = asyncio.run(run(counts, latencies, duration, warmup=1.0 if args.quick else 3.0))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
