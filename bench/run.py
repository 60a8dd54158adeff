"""footage-mcp benchmark harness: the bridge over real stdio against the sandbox on loopback HTTP.

    uv run python bench/run.py                 # full run (about 1–2 minutes on 2 cores)
    uv run python bench/run.py --quick         # CI smoke mode, small N (well under 60 s)
    uv run python bench/run.py --only overhead,coldstart --json /tmp/bench.json

Sections (``--only`` takes names or numbers, comma-separated):
1 overhead, 2 concurrency, 3 coldstart, 4 memory, 5 scale, 6 sizes, 7 sheets, 8 files (bench/files_bench.py),
9 team (bench/team.py), 10 hostile. See docs/benchmarks.md.
Opt-in, never in the default run nor in CI's ``--quick``: 12 peers (bench/peers.py: fastmcp from_openapi and
mcp-openapi-proxy side by side; ``--only peers`` or ``--peers``).

Every figure is printed next to its target with PASS or MISS. The exit status is 0 whatever the
verdicts (this reports, it does not gate); it is 1 only when a section crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BASE_PATH,
    ROOT,
    RawStdio,
    Report,
    Sandbox,
    child_env,
    child_pids,
    compact,
    initialize_params,
    interleaved,
    machine_info,
    median,
    ms,
    percentile,
    proc_cpu,
    proc_status,
    sandbox,
    self_cpu,
    slope,
    table,
    timed_batch,
    warm_up,
)

from footage_mcp.cli.launch import bridge_parameters

HELLO = ROOT / "bench" / "hello_server.py"
FLOOR = "SDK floor: hello_server.py trivial tool, raw"
SECTIONS = (
    "overhead",
    "concurrency",
    "coldstart",
    "memory",
    "scale",
    "sizes",
    "sheets",
    "files",
    "team",
    "hostile",
    "reads",
)
OPT_IN = ("peers",)
"""Sections run only when named (``--only``) or asked for (``--peers``): they need packages CI never installs."""
ALL_SECTIONS = SECTIONS + OPT_IN
TITLES = {
    "overhead": "1. per-call overhead: MCP over stdio vs direct REST",
    "concurrency": "2. concurrency: 32 concurrent search_assets, 100 ms injected upstream latency",
    "coldstart": "3. cold start: spawn → initialize / tools/list answered",
    "memory": "4. memory: RSS of the bridge process over mixed calls",
    "scale": "5. scale: paging a large album to the end",
    "sizes": "6. result sizes (approximate tokens = characters / 4)",
    "sheets": "7. contact sheets: 48 cells, 100 ms injected latency per preview",
    "files": "8. files: download_asset and upload_assets vs curl, RSS, a trivial call during 20 downloads",
    "team": "9. team mode: 64 concurrent clients through HAProxy, 1/2/4 replicas, 0/100 ms upstream (bench/team.py)",
    "hostile": "10. hostile upstream: memory and responsiveness under bombs and refusals (issue 11)",
    "reads": "11. repeated reads: get_album / get_asset read twice, 100 ms injected upstream latency (issue 16)",
    "peers": "12. peers: footage-mcp, fastmcp from_openapi, mcp-openapi-proxy, hello floor (bench/peers.py, issue 16)",
}
SECTION_TIMEOUT_S = 300
SECTION_TIMEOUTS_S = {"peers": 1800}
"""Sections that may take longer: the peers' full run starts ~70 server processes and makes ~15,000 calls."""

# targets
ADDED_P50_MAX_S = 0.0015
CONCURRENCY_RATIO_MAX = 1.5
COLD_RATIO_MAX = 1.15
PEAK_RSS_MAX_BYTES = 120 * 1000 * 1000  # 120 MB (decimal, the stricter reading)
RSS_GROWTH_MAX_BYTES = 1000 * 1000  # "no growth trend": at most 1 MB between call 100 and the last call
PAGE_FLAT_RATIO_MAX = 1.3  # median of the last 10 pages / median of the first 10 pages
HOSTILE_STACKED_PEAK_MAX_BYTES = 100 * 1000 * 1000  # peak above the baseline, gzip-of-gzip bombs
HOSTILE_IMAGE_PEAK_MAX_BYTES = 250 * 1000 * 1000  # peak above the baseline, image bombs (one 16 MP decode fits)
HOSTILE_REFUSALS_RSS_MAX_BYTES = 30 * 1000 * 1000  # RSS after 30 refusals, above the baseline
HOSTILE_TRIVIAL_MAX_S = 0.2  # a trivial call while 20 hostile previews are processed
PREVIEW_ROUTE = r"^/assets/[^/]+/preview$"


@dataclass
class Params:
    quick: bool
    n_overhead: int
    n_cold: int
    n_memory: int
    n_single: int
    n_batches: int
    concurrency: int
    scale_assets: int
    sizes_assets: int

    @classmethod
    def make(cls, quick: bool) -> Params:
        if quick:
            return cls(True, 30, 3, 200, 3, 2, 32, 2000, 3000)
        return cls(False, 300, 10, 1000, 7, 5, 32, 10000, 3000)


@dataclass
class Context:
    params: Params
    report: Report
    stack: AsyncExitStack
    _default: Sandbox | None = None
    timings: dict[str, float] = field(default_factory=dict)

    async def default_sandbox(self) -> Sandbox:
        """The stock sandbox (14 albums, 320 assets, HAL), shared by the sections that need nothing more."""
        if self._default is None:
            self._default = await self.stack.enter_async_context(sandbox())
        return self._default


def out(text: str = "") -> None:
    print(text, flush=True)


# -- the bridge through the SDK client -------------------------------------------------------------


def bridge_params(sb: Sandbox, env: dict[str, str] | None = None, *, bytecode_cache: bool = True) -> Any:
    """``bridge_parameters(...)`` (how a host starts ``python -m footage_mcp serve``), with .pyc caching."""
    params = bridge_parameters(sb.base_url, sb.token, env)
    return params.model_copy(update={"env": child_env(params.env, bytecode_cache=bytecode_cache)})


@asynccontextmanager
async def bridge(sb: Sandbox, env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """``Client(bridge_parameters(...), mode="legacy")``, initialized; the bridge's stderr goes to a temp file."""
    params = bridge_params(sb, env)
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        try:
            async with Client(stdio_client(params, errlog=err), mode="legacy") as client:
                yield client
        except BaseException:
            err.seek(0)
            tail = err.read()[-2000:]
            if tail.strip():
                out(f"  bridge stderr: {tail}")
            raise


def new_bridge_pid(before: set[int], exclude: tuple[int, ...] = ()) -> int:
    """The pid of the bridge the SDK client just spawned (a direct child running ``footage_mcp serve``)."""
    found = [p for p in child_pids(os.getpid(), ["footage_mcp", "serve"]) if p not in before and p not in exclude]
    if len(found) != 1:
        raise RuntimeError(f"cannot tell the bridge's pid: candidates {found}")
    return found[0]


def raw_bridge(sb: Sandbox, env: dict[str, str] | None = None) -> RawStdio:
    params = bridge_params(sb, env)
    return RawStdio([params.command, *params.args], params.env)


def structured(result: CallToolResult, what: str) -> dict[str, Any]:
    if result.is_error or result.structured_content is None:
        text = getattr(result.content[0], "text", "?") if result.content else "no content"
        raise RuntimeError(f"{what} failed: {text}")
    data: dict[str, Any] = result.structured_content
    return data


def rest_client(sb: Sandbox, connections: int = 16) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        headers={"apiKey": sb.token, "Accept": "application/json"},
        timeout=30,
        limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def upstream_requests(http: httpx2.AsyncClient, sb: Sandbox, *, clear: bool = False) -> list[dict[str, Any]]:
    """The sandbox's request log (then cleared when ``clear``)."""
    log = (await http.get(f"{sb.control}/requests")).raise_for_status().json()
    if clear:
        (await http.delete(f"{sb.control}/requests")).raise_for_status()
    return list(log)


def url_of(sb: Sandbox, entry: dict[str, Any]) -> str:
    return f"{sb.origin}{entry['path']}" + (f"?{entry['query']}" if entry["query"] else "")


def data_requests(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Log entries other than the discovery root."""
    return [e for e in log if e["path"] not in (BASE_PATH, BASE_PATH + "/")]


async def rest_url_for(http: httpx2.AsyncClient, sb: Sandbox, call: Callable[[], Awaitable[Any]]) -> str:
    """The one REST URL the bridge requests for ``call`` (read from the sandbox's request log)."""
    await upstream_requests(http, sb, clear=True)
    await call()
    entries = data_requests(await upstream_requests(http, sb, clear=True))
    if len(entries) != 1:
        raise RuntimeError(f"expected one upstream request, saw {[e['path'] for e in entries]}")
    return url_of(sb, entries[0])


# -- 1. per-call overhead --------------------------------------------------------------------------


async def section_overhead(ctx: Context) -> None:
    n = ctx.params.n_overhead
    sb = await ctx.default_sandbox()
    report, name = ctx.report, "overhead"
    before = set(child_pids(os.getpid(), ["footage_mcp", "serve"]))
    cpu_rows: list[tuple[Any, ...]] = []
    hello = RawStdio([sys.executable, str(HELLO)], child_env())
    async with bridge(sb) as client, raw_bridge(sb) as raw, rest_client(sb) as http, hello:
        sdk_pid = new_bridge_pid(before, (raw.pid,))
        await raw.initialize()
        await hello.initialize()
        await client.list_tools()
        await raw.request("tools/list")
        album_id = structured(await client.call_tool("list_albums", {"limit": 1}), "list_albums")["albums"][0]["id"]
        ops: list[tuple[str, dict[str, Any]]] = [
            ("get_album", {"album_id": album_id}),
            ("search_assets", {"query": "Paris", "limit": 20}),
            ("list_album_assets", {"album_id": album_id, "limit": 20}),
        ]
        rows: list[tuple[Any, ...]] = []
        for tool, args in ops:

            async def first_call(t: str = tool, a: dict[str, Any] = args) -> None:
                await client.call_tool(t, a)

            url = await rest_url_for(http, sb, first_call)

            async def rest(u: str = url) -> None:
                response = await http.get(u)
                response.raise_for_status()
                _ = response.content

            async def sdk(t: str = tool, a: dict[str, Any] = args) -> None:
                result = await client.call_tool(t, a)
                if result.is_error:
                    raise RuntimeError(f"{t} failed: {result.content}")

            async def bare(t: str = tool, a: dict[str, Any] = args) -> None:
                await raw.call_tool(t, a)

            async def floor() -> None:
                await hello.call_tool("hello", {"name": "bench"})

            callers: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("REST direct (httpx2 GET)", rest),
                ("MCP stdio, SDK Client", sdk),
                ("MCP stdio, raw JSON-RPC", bare),
                (FLOOR, floor),
            ]
            await warm_up(callers, max(10, n // 10))
            cpu0 = (proc_cpu(sdk_pid), proc_cpu(raw.pid), proc_cpu(sb.process.pid), self_cpu())
            samples = await interleaved(callers, n)  # the order rotating, so the paths share the machine's noise
            cpu1 = (proc_cpu(sdk_pid), proc_cpu(raw.pid), proc_cpu(sb.process.pid), self_cpu())
            d = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
            cpu_rows.append((tool, ms(d[0] / n), ms(d[1] / n), ms(d[2] / (3 * n)), ms(d[3] / n)))
            report.add(name, f"{tool}: bridge CPU per call (user+sys)", ms(d[0] / n))
            rest_s = samples["REST direct (httpx2 GET)"]
            for label, _ in callers:
                s = samples[label]
                if label == FLOOR:
                    rows.append(("", label, ms(median(s)), ms(percentile(s, 95)), "", "", ""))
                    continue
                added = "" if s is rest_s else f"+{ms(median(s) - median(rest_s))}"
                added95 = "" if s is rest_s else f"+{ms(percentile(s, 95) - percentile(rest_s, 95))}"
                ratio = "" if s is rest_s else f"{median(s) / median(rest_s):.2f}×"
                rows.append(
                    (
                        tool if label.startswith("REST") else "",
                        label,
                        ms(median(s)),
                        ms(percentile(s, 95)),
                        added,
                        added95,
                        ratio,
                    )
                )
            sdk_s, raw_s = samples["MCP stdio, SDK Client"], samples["MCP stdio, raw JSON-RPC"]
            added_p50 = median(sdk_s) - median(rest_s)
            report.add(
                name, f"{tool}: added p50 (SDK Client − REST)", ms(added_p50), "≤ 1.50 ms", added_p50 <= ADDED_P50_MAX_S
            )
            report.add(name, f"{tool}: added p95", ms(percentile(sdk_s, 95) - percentile(rest_s, 95)))
            report.add(name, f"{tool}: ratio p50 (SDK Client / REST)", f"{median(sdk_s) / median(rest_s):.2f}×")
            report.add(
                name, f"{tool}: added p50 without the client SDK (raw − REST)", ms(median(raw_s) - median(rest_s))
            )
            report.add(
                name,
                f"{tool}: of which the SDK server's floor (bare MCPServer, trivial tool)",
                ms(median(samples[FLOOR])),
            )
            report.data.setdefault(name, {})[tool] = {
                "rest_url": url.removeprefix(sb.origin),
                **{
                    label: {"p50_ms": median(s) * 1000, "p95_ms": percentile(s, 95) * 1000, "n": len(s)}
                    for label, s in samples.items()
                },
            }
    out(
        f"  N={n} per path and operation, interleaved; REST = the same URL the bridge requests;"
        " raw = a minimal JSON-RPC client, no client SDK"
    )
    out(table(("operation", "path", "p50", "p95", "added p50", "added p95", "ratio p50"), rows))
    out("  CPU time per call (/proc/<pid>/stat, 10 ms ticks), same loop:")
    out(
        table(
            (
                "operation",
                "bridge (SDK-driven)",
                "bridge (raw-driven)",
                "sandbox per request",
                "harness (3 clients) per round",
            ),
            cpu_rows,
        )
    )


# -- 2. concurrency --------------------------------------------------------------------------------


async def section_concurrency(ctx: Context) -> None:
    p = ctx.params
    sb = await ctx.default_sandbox()
    report, name = ctx.report, "concurrency"
    args = {"query": "Paris", "limit": 20}
    before = set(child_pids(os.getpid(), ["footage_mcp", "serve"]))
    async with bridge(sb) as client, rest_client(sb, connections=64) as http:
        pid = new_bridge_pid(before)
        search_url = await rest_url_for(http, sb, lambda: client.call_tool("search_assets", args))
        rules = {"rules": [{"match": "^/search/assets$", "latency_ms": 100}]}
        (await http.put(f"{sb.control}/faults", json=rules)).raise_for_status()
        try:

            async def one() -> None:
                structured(await client.call_tool("search_assets", args), "search_assets")

            async def one_rest() -> None:
                (await http.get(search_url)).raise_for_status()

            await one()
            await one_rest()
            results: dict[str, dict[str, list[float]]] = {"bridge": {"1": [], "N": []}, "rest": {"1": [], "N": []}}
            for _ in range(p.n_single):
                results["bridge"]["1"].append(await timed_batch(one, 1))
                results["rest"]["1"].append(await timed_batch(one_rest, 1))
            cpu = {"bridge": 0.0, "sandbox": 0.0, "harness": 0.0}
            for _ in range(p.n_batches):
                c0 = (proc_cpu(pid), proc_cpu(sb.process.pid), self_cpu())
                results["bridge"]["N"].append(await timed_batch(one, p.concurrency))
                c1 = (proc_cpu(pid), proc_cpu(sb.process.pid), self_cpu())
                for key, a, b in zip(cpu, c0, c1, strict=True):
                    cpu[key] += b - a
                results["rest"]["N"].append(await timed_batch(one_rest, p.concurrency))
        finally:
            (await http.delete(f"{sb.control}/faults")).raise_for_status()
    rows = []
    for key, label in (("bridge", "MCP stdio (bridge)"), ("rest", "REST direct (httpx2, reference)")):
        single, batch = median(results[key]["1"]), median(results[key]["N"])
        rows.append((label, ms(single), ms(batch), f"{batch / single:.2f}×"))
    out(f"  one call: median of {p.n_single}; {p.concurrency} concurrent: median wall time of {p.n_batches} batches")
    out(table(("path", "one call", f"{p.concurrency} concurrent", "ratio"), rows))
    calls = p.n_batches * p.concurrency
    out(
        f"  CPU per call during the MCP batches: bridge {ms(cpu['bridge'] / calls)}, sandbox "
        f"{ms(cpu['sandbox'] / calls)}, harness (SDK client) {ms(cpu['harness'] / calls)}; "
        f"a batch needs ≈ {ms(sum(cpu.values()) / p.n_batches)} CPU on {os.cpu_count()} cores"
    )
    single, batch = median(results["bridge"]["1"]), median(results["bridge"]["N"])
    report.add(name, "one search_assets call (100 ms upstream)", ms(single))
    report.add(name, f"{p.concurrency} concurrent calls, wall time", ms(batch))
    report.add(
        name,
        f"{p.concurrency} concurrent / one call",
        f"{batch / single:.2f}×",
        f"≤ {CONCURRENCY_RATIO_MAX:.2f}×",
        batch / single <= CONCURRENCY_RATIO_MAX,
    )
    report.add(name, "bridge CPU per call in the batches", ms(cpu["bridge"] / calls))
    report.data[name] = {k: {kk: [x * 1000 for x in vv] for kk, vv in v.items()} for k, v in results.items()}
    report.data[name]["cpu_per_call_ms"] = {k: v / calls * 1000 for k, v in cpu.items()}


# -- 3. cold start ---------------------------------------------------------------------------------


async def cold_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds from spawn to the ``initialize`` answer and to the ``tools/list`` answer; VmHWM (KiB) then."""
    raw = RawStdio(argv, env)
    start = time.perf_counter()
    try:
        await raw.start()
        await raw.read_response(await raw.send_request("initialize", initialize_params()))
        t_init = time.perf_counter() - start
        await raw.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        listed = await raw.read_response(await raw.send_request("tools/list"))
        t_list = time.perf_counter() - start
        hwm = proc_status(raw.pid)["VmHWM"]
        if not listed.get("tools"):
            raise RuntimeError(f"{argv}: tools/list is empty")
    finally:
        await raw.close()
    return t_init, t_list, hwm


async def cold_series(
    n: int, servers: dict[str, list[str]], env: dict[str, str]
) -> tuple[dict[str, list[tuple[float, float, int]]], list[float]]:
    """``n`` cold starts of each server, alternating so they share the noise, plus the ``python -c pass`` floor."""
    for argv in servers.values():  # fill the bytecode cache (when enabled) and the page cache; not counted
        await cold_once(argv, env)
    runs: dict[str, list[tuple[float, float, int]]] = {key: [] for key in servers}
    floor: list[float] = []
    for i in range(n):
        order = list(servers.items())
        for key, argv in order if i % 2 == 0 else order[::-1]:
            runs[key].append(await cold_once(argv, env))
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass", env=env)
        await proc.wait()
        floor.append(time.perf_counter() - start)
    return runs, floor


async def section_coldstart(ctx: Context) -> None:
    n = ctx.params.n_cold
    sb = await ctx.default_sandbox()
    report, name = ctx.report, "coldstart"
    params = bridge_parameters(sb.base_url, sb.token)
    servers = {"bridge": [params.command, *params.args], "hello": [sys.executable, str(HELLO)]}
    modes = {"cached": child_env(params.env, bytecode_cache=True)}
    if not ctx.params.quick:
        modes["uncached"] = child_env(params.env, bytecode_cache=False)
    as_is = "PYTHONDONTWRITEBYTECODE=1" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode as configured"
    labels = {"cached": "bytecode cached (as installed)", "uncached": f"this environment as is ({as_is})"}
    rows: list[tuple[Any, ...]] = []
    data: dict[str, Any] = {}
    async with rest_client(sb) as http:
        await upstream_requests(http, sb, clear=True)
        figures: dict[str, dict[str, float]] = {}
        for mode, env in modes.items():
            runs, floor = await cold_series(n, servers, env)
            f: dict[str, float] = {}
            for key in servers:
                f[f"{key}_init"] = median([r[0] for r in runs[key]])
                f[f"{key}_list"] = median([r[1] for r in runs[key]])
                f[f"{key}_hwm"] = median([r[2] for r in runs[key]]) * 1024
            f["floor"] = median(floor)
            figures[mode] = f
            rows += [
                (
                    labels[mode],
                    "python -m footage_mcp serve",
                    ms(f["bridge_init"]),
                    ms(f["bridge_list"]),
                    f"{f['bridge_hwm'] / 1e6:.1f} MB",
                ),
                (
                    "",
                    "bench/hello_server.py (bare MCPServer)",
                    ms(f["hello_init"]),
                    ms(f["hello_list"]),
                    f"{f['hello_hwm'] / 1e6:.1f} MB",
                ),
                (
                    "",
                    "ratio bridge / hello",
                    f"{f['bridge_init'] / f['hello_init']:.3f}×",
                    f"{f['bridge_list'] / f['hello_list']:.3f}×",
                    "",
                ),
                ("", "python -c pass (interpreter floor)", ms(f["floor"]), "", ""),
            ]
            data[mode] = {key: [[r[0] * 1000, r[1] * 1000, r[2]] for r in runs[key]] for key in servers}
            data[mode]["floor_ms"] = [x * 1000 for x in floor]
        seen = await upstream_requests(http, sb)
    out(
        f"  median of {n} runs each, alternating; a raw JSON-RPC client writes initialize right after spawn;"
        " VmHWM read after tools/list"
    )
    out(table(("bytecode", "server", "→ initialize", "→ tools/list", "VmHWM"), rows))
    c = figures["cached"]
    report.add(name, "bridge spawn → initialize answered", ms(c["bridge_init"]))
    report.add(name, "bridge spawn → tools/list answered", ms(c["bridge_list"]))
    report.add(
        name,
        "ratio bridge / hello, initialize",
        f"{c['bridge_init'] / c['hello_init']:.3f}×",
        f"≤ {COLD_RATIO_MAX:.2f}×",
        c["bridge_init"] / c["hello_init"] <= COLD_RATIO_MAX,
    )
    report.add(
        name,
        "ratio bridge / hello, tools/list",
        f"{c['bridge_list'] / c['hello_list']:.3f}×",
        f"≤ {COLD_RATIO_MAX:.2f}×",
        c["bridge_list"] / c["hello_list"] <= COLD_RATIO_MAX,
    )
    if "uncached" in figures:
        u = figures["uncached"]
        report.add(name, f"same without .pyc ({as_is}): bridge → tools/list", ms(u["bridge_list"]))
        report.add(
            name, f"same without .pyc ({as_is}): ratio, tools/list", f"{u['bridge_list'] / u['hello_list']:.3f}×"
        )
    starts = len(figures) * (n + 1)
    report.add(
        name,
        f"upstream requests during {starts} bridge starts (initialize + tools/list)",
        str(len(seen)),
        "0",
        len(seen) == 0,
    )
    data["upstream_requests"] = [e["path"] for e in seen]
    data["figures_ms"] = {
        m: {k: (v * 1000 if not k.endswith("hwm") else v) for k, v in f.items()} for m, f in figures.items()
    }
    report.data[name] = data


# -- 4. memory -------------------------------------------------------------------------------------

SEARCH_TERMS = ("Paris", "France", "night", "river", "city", "interview", "drone", "beach", "Lyon", "snow")


async def collect_ids(client: Client) -> tuple[list[str], list[str]]:
    """Every album id and (up to 400) asset ids, through the bridge."""
    albums = structured(await client.call_tool("list_albums", {"limit": 100}), "list_albums")["albums"]
    album_ids = [a["id"] for a in albums]
    asset_ids: list[str] = []
    cursor: str | None = None
    while len(asset_ids) < 400:
        args: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = structured(await client.call_tool("search_assets", args), "search_assets")
        asset_ids += [a["id"] for a in page["assets"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if not album_ids or not asset_ids:
        raise RuntimeError("the sandbox returned no albums or assets")
    return album_ids, asset_ids


async def section_memory(ctx: Context) -> None:
    n = ctx.params.n_memory
    sb = await ctx.default_sandbox()
    report, name = ctx.report, "memory"
    me = os.getpid()
    before = set(child_pids(me, ["footage_mcp", "serve"]))
    async with bridge(sb) as client:
        pid = new_bridge_pid(before)
        start_status = proc_status(pid)
        album_ids, asset_ids = await collect_ids(client)
        rss: list[int] = []
        started = time.perf_counter()
        for i in range(n):
            kind = i % 3
            if kind == 0:
                args: dict[str, Any] = {"query": SEARCH_TERMS[(i // 3) % len(SEARCH_TERMS)], "limit": 20}
                result = await client.call_tool("search_assets", args)
            elif kind == 1:
                result = await client.call_tool("get_asset", {"asset_id": asset_ids[(i * 7) % len(asset_ids)]})
            else:
                album = album_ids[(i // 3) % len(album_ids)]
                result = await client.call_tool("list_album_assets", {"album_id": album, "limit": 20})
            if result.is_error:
                raise RuntimeError(f"call {i} failed: {result.content}")
            rss.append(proc_status(pid)["VmRSS"])
        elapsed = time.perf_counter() - started
        end_status = proc_status(pid)
    kb = 1024  # /proc reports KiB
    peak = end_status["VmHWM"] * kb
    at_100, at_end = rss[99] * kb, rss[-1] * kb
    first100, last100 = sum(rss[:100]) / 100 * kb, sum(rss[-100:]) / 100 * kb
    tail = list(range(100, n))
    per_call = slope(tail, [rss[i] * kb for i in tail]) if len(tail) > 1 else 0.0
    mb = 1000 * 1000
    rows = [
        ("after start + initialize", f"{start_status['VmRSS'] * kb / mb:.1f} MB", ""),
        ("after call 100", f"{at_100 / mb:.1f} MB", f"mean of calls 1–100: {first100 / mb:.1f} MB"),
        (f"after call {n}", f"{at_end / mb:.1f} MB", f"mean of calls {n - 99}–{n}: {last100 / mb:.1f} MB"),
        ("peak (VmHWM)", f"{peak / mb:.1f} MB", ""),
    ]
    out(
        f"  {n} calls (search_assets / get_asset / list_album_assets in turn) in {elapsed:.1f} s; "
        f"bridge pid {pid}; MB = 10^6 bytes"
    )
    out(table(("RSS of the bridge", "value", "note"), rows))
    report.add(name, "peak RSS (VmHWM)", f"{peak / mb:.1f} MB", "≤ 120 MB", peak <= PEAK_RSS_MAX_BYTES)
    growth = at_end - at_100
    report.add(
        name,
        f"RSS growth, call 100 → call {n}",
        f"{growth / mb:+.2f} MB",
        "≤ +1.00 MB (no trend)",
        growth <= RSS_GROWTH_MAX_BYTES,
    )
    report.add(name, f"RSS trend over calls 101–{n} (least squares)", f"{per_call / 1000:+.2f} KB/call")
    report.data[name] = {"pid": pid, "rss_kib": rss, "vmhwm_kib": end_status["VmHWM"], "seconds": elapsed}


# -- 5. scale --------------------------------------------------------------------------------------


async def find_bulk_album(client: Client) -> dict[str, Any]:
    listed = structured(await client.call_tool("list_albums", {"query": "Bulk Import", "limit": 100}), "list_albums")
    for album in listed["albums"]:
        if album.get("name") == "Bulk Import":
            found: dict[str, Any] = album
            return found
    raise RuntimeError("the sandbox has no 'Bulk Import' album (started without --extra-album-assets?)")


async def section_scale(ctx: Context) -> None:
    size = ctx.params.scale_assets
    report, name = ctx.report, "scale"
    before = set(child_pids(os.getpid(), ["footage_mcp", "serve"]))
    async with sandbox(extra_album_assets=size) as sb, bridge(sb) as client, rest_client(sb) as http:
        pid = new_bridge_pid(before)
        out(f"  sandbox with --extra-album-assets {size} ready in {sb.started_s:.1f} s")
        album = await find_bulk_album(client)
        declared = structured(await client.call_tool("get_album", {"album_id": album["id"]}), "get_album")
        # warm the route map and the connection, then page from the start
        await client.call_tool("list_album_assets", {"album_id": album["id"], "limit": 1})
        await upstream_requests(http, sb, clear=True)
        ids: list[str] = []
        page_s: list[float] = []
        cursor: str | None = None
        started = time.perf_counter()
        cpu0 = (proc_cpu(pid), proc_cpu(sb.process.pid), self_cpu())
        while True:
            args: dict[str, Any] = {"album_id": album["id"], "limit": 100, **({"cursor": cursor} if cursor else {})}
            t0 = time.perf_counter()
            page = structured(await client.call_tool("list_album_assets", args), "list_album_assets")
            page_s.append(time.perf_counter() - t0)
            ids += [a["id"] for a in page["assets"]]
            cursor = page.get("next_cursor")
            if not cursor or len(page_s) > size:  # the second test guards against a cursor loop
                break
        total = time.perf_counter() - started
        cpu = [b - a for a, b in zip(cpu0, (proc_cpu(pid), proc_cpu(sb.process.pid), self_cpu()), strict=True)]
        urls = [url_of(sb, e) for e in data_requests(await upstream_requests(http, sb))]
        # the same first and last 10 REST pages, direct, to tell the bridge's cost from the sandbox's
        rest_first: list[float] = []
        rest_last: list[float] = []
        for bucket, chosen in ((rest_first, urls[:10]), (rest_last, urls[-10:])):
            for url in chosen:
                t0 = time.perf_counter()
                (await http.get(url)).raise_for_status()
                bucket.append(time.perf_counter() - t0)
    first, last = median(page_s[:10]), median(page_s[-10:])
    unique = len(set(ids))
    rows = [
        ("pages (limit 100)", str(len(page_s)), ""),
        ("total time", f"{total:.2f} s", f"{total / len(page_s) * 1000:.1f} ms/page"),
        ("first 10 pages, median per page", ms(first), f"REST direct {ms(median(rest_first))}"),
        ("last 10 pages, median per page", ms(last), f"REST direct {ms(median(rest_last))}"),
        ("ids returned / unique / album asset_count", f"{len(ids)} / {unique} / {declared.get('asset_count')}", ""),
        ("upstream requests", str(len(urls)), ""),
        (
            "CPU per page: bridge / sandbox / harness",
            f"{ms(cpu[0] / len(page_s))} / {ms(cpu[1] / len(page_s))} / {ms(cpu[2] / len(page_s))}",
            "harness = SDK Client (parses and validates each result)",
        ),
    ]
    out(table(("figure", "value", "note"), rows))
    report.add(name, f"pages for {size} assets", str(len(page_s)), f"{-(-size // 100)}", len(page_s) == -(-size // 100))
    report.add(name, "total paging time", f"{total:.2f} s")
    report.add(name, "bridge CPU per page", ms(cpu[0] / len(page_s)))
    report.add(name, "per page, first 10 (median)", ms(first))
    report.add(name, "per page, last 10 (median)", ms(last))
    report.add(
        name,
        "last 10 / first 10",
        f"{last / first:.2f}×",
        f"≤ {PAGE_FLAT_RATIO_MAX:.2f}× (flat)",
        last / first <= PAGE_FLAT_RATIO_MAX,
    )
    report.add(
        name, "ids back exactly once", f"{unique} unique of {len(ids)}", f"{size} once each", unique == len(ids) == size
    )
    report.data[name] = {
        "assets": size,
        "page_ms": [x * 1000 for x in page_s],
        "total_s": total,
        "rest_first_ms": [x * 1000 for x in rest_first],
        "rest_last_ms": [x * 1000 for x in rest_last],
    }


# -- 6. result sizes -------------------------------------------------------------------------------


def result_size(result: dict[str, Any]) -> dict[str, int]:
    """Characters of the JSON-RPC result, and of its text content and structuredContent."""
    text = sum(len(block.get("text", "")) for block in result.get("content", []))
    structured_chars = len(compact(result["structuredContent"])) if "structuredContent" in result else 0
    return {"result": len(compact(result)), "text": text, "structured": structured_chars}


def tokens(chars: int) -> int:
    return round(chars / 4)


async def section_sizes(ctx: Context) -> None:
    report, name = ctx.report, "sizes"
    sb = await ctx.default_sandbox()
    data: dict[str, Any] = {}
    async with raw_bridge(sb) as raw, rest_client(sb) as http:
        await raw.initialize()
        listed = await raw.request("tools/list")
        tools = listed["tools"]
        total_chars = len(compact(listed))
        per_tool = sorted(((t["name"], len(compact(t))) for t in tools), key=lambda x: -x[1])
        out(
            f"  tools/list: {len(tools)} tools, {total_chars} characters of result JSON ≈ {tokens(total_chars)} tokens"
            f" (wire line {len(raw.last_line)} characters)"
        )
        out(
            table(
                ("tool", "characters", "≈ tokens", "of which inputSchema", "outputSchema"),
                [
                    (
                        tname,
                        chars,
                        tokens(chars),
                        len(compact(next(t for t in tools if t["name"] == tname).get("inputSchema", {}))),
                        len(compact(next(t for t in tools if t["name"] == tname).get("outputSchema", {}))),
                    )
                    for tname, chars in per_tool
                ],
            )
        )
        report.add(name, "tools/list, all tools", f"≈ {tokens(total_chars)} tokens ({total_chars} chars)")
        for tname, chars in per_tool[:3]:
            report.add(name, f"tools/list, {tname}", f"≈ {tokens(chars)} tokens")
        data["tools_list_chars"] = total_chars
        data["per_tool_chars"] = dict(per_tool)

        album_id = (await raw.call_tool("list_albums", {"limit": 1}))["structuredContent"]["albums"][0]["id"]
        asset_id = (await raw.call_tool("search_assets", {"query": "Paris", "limit": 1}))["structuredContent"][
            "assets"
        ][0]["id"]
        standard: list[tuple[str, str, dict[str, Any]]] = [
            ("list_albums limit 20", "list_albums", {"limit": 20}),
            ("search_assets 20 hits", "search_assets", {"limit": 20}),
            ("search_assets 'Paris' limit 20", "search_assets", {"query": "Paris", "limit": 20}),
            ("get_album", "get_album", {"album_id": album_id}),
            ("get_asset", "get_asset", {"asset_id": asset_id}),
        ]
        rows = []
        for label, tool, args in standard:
            await upstream_requests(http, sb, clear=True)
            result = await raw.call_tool(tool, args)
            entries = data_requests(await upstream_requests(http, sb, clear=True))
            rest_chars = 0
            for entry in entries:
                rest_chars += len((await http.get(url_of(sb, entry))).raise_for_status().text)
            size = result_size(result)
            items = result.get("structuredContent", {})
            count = len(items.get("assets", items.get("albums", []))) if tool.startswith(("list", "search")) else 0
            rows.append(
                (
                    label + (f" ({count} items)" if count else ""),
                    size["result"],
                    tokens(size["result"]),
                    size["text"],
                    tokens(size["text"]),
                    size["structured"],
                    rest_chars,
                    f"{size['result'] / rest_chars:.2f}×",
                )
            )
            report.add(
                name,
                f"{label}: result vs REST JSON",
                f"{size['result']} vs {rest_chars} chars ({size['result'] / rest_chars:.2f}×), "
                f"text ≈ {tokens(size['text'])} tokens",
            )
            data[label] = {**size, "rest": rest_chars}
        out(
            table(
                (
                    "call",
                    "result chars",
                    "≈ tokens",
                    "text chars",
                    "≈ tokens (text)",
                    "structuredContent chars",
                    "REST JSON chars",
                    "result / REST",
                ),
                rows,
            )
        )
        out("  result = the JSON-RPC result object (text content + structuredContent + flags); a host usually shows")
        out("  the model one of the two, so the text column is the likelier token cost")

    count = ctx.params.sizes_assets
    async with sandbox(extra_album_assets=count) as big, raw_bridge(big) as raw, rest_client(big) as http:
        await raw.initialize()
        album_id = ""
        found = await raw.call_tool("list_albums", {"query": "Bulk Import", "limit": 100})
        for album in found["structuredContent"]["albums"]:
            if album.get("name") == "Bulk Import":
                album_id = album["id"]
        if not album_id:
            raise RuntimeError("no 'Bulk Import' album")
        await upstream_requests(http, big, clear=True)
        sizes: list[tuple[int, int, int]] = []
        cursor: str | None = None
        while True:
            page_args: dict[str, Any] = {"album_id": album_id, "limit": 100, **({"cursor": cursor} if cursor else {})}
            result = await raw.call_tool("list_album_assets", page_args)
            measured = result_size(result)
            sizes.append((measured["result"], len(result["structuredContent"]["assets"]), measured["text"]))
            cursor = result["structuredContent"].get("next_cursor")
            if not cursor or len(sizes) > count:
                break
        urls = [url_of(big, e) for e in data_requests(await upstream_requests(http, big))]
        largest = max(range(len(sizes)), key=lambda i: sizes[i][0])
        rest_chars = len((await http.get(urls[largest])).raise_for_status().text) if largest < len(urls) else 0
    chars, items, text = sizes[largest]
    out(
        f"  album of {count} assets at limit=100: {len(sizes)} pages; largest result page {largest + 1}: "
        f"{chars} characters ≈ {tokens(chars)} tokens for {items} assets ({chars // max(items, 1)} chars/asset), "
        f"text content alone {text} ≈ {tokens(text)} tokens; its REST JSON {rest_chars} characters "
        f"({chars / max(rest_chars, 1):.2f}×)"
    )
    report.add(
        name,
        f"largest list_album_assets result ({count}-asset album, limit 100)",
        f"≈ {tokens(chars)} tokens ({chars} chars, {items} assets), text ≈ {tokens(text)} tokens",
    )
    data["largest_album_page"] = {
        "chars": chars,
        "text_chars": text,
        "items": items,
        "rest_chars": rest_chars,
        "pages": len(sizes),
        "page_chars": [x[0] for x in sizes],
    }
    report.data[name] = data


# -- 7. contact sheets -----------------------------------------------------------------------------

SHEET_WALL_MAX_S = 1.5
TRIVIAL_DURING_SHEET_MAX_S = 0.2
SHEET_CELLS = 48
PREVIEW_LATENCY_MS = 100


def image_tokens(width: int, height: int) -> int:
    """Anthropic's estimate of the tokens an image costs: width × height / 750."""
    return round(width * height / 750)


def image_size(result: CallToolResult) -> tuple[int, int, int]:
    """(width, height, bytes) of the result's image block."""
    import base64
    import io

    from PIL import Image

    block = next(b for b in result.content if getattr(b, "type", "") == "image")
    data = base64.b64decode(block.data)  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(data)) as img:
        return img.width, img.height, len(data)


async def section_sheets(ctx: Context) -> None:
    p = ctx.params
    sb = await ctx.default_sandbox()
    report, name = ctx.report, "sheets"
    runs = 3 if p.quick else 7
    args = {"media_type": "image", "limit": SHEET_CELLS}
    async with bridge(sb) as client, rest_client(sb) as http:
        warm = await client.call_tool("get_contact_sheet", args)  # Pillow imported, sandbox previews cached
        if warm.is_error:
            raise RuntimeError(f"get_contact_sheet failed: {getattr(warm.content[0], 'text', '?')}")
        ids = [line.split(" → ")[1].split(",")[0] for line in warm.content[1].text.splitlines() if " → " in line]  # type: ignore[union-attr]
        singles = [image_size(await client.call_tool("get_asset_preview", {"asset_id": i})) for i in ids]
        rules = {"rules": [{"match": r"^/assets/[^/]+/preview$", "latency_ms": PREVIEW_LATENCY_MS}]}
        (await http.put(f"{sb.control}/faults", json=rules)).raise_for_status()
        walls: list[float] = []
        trivial: list[float] = []
        try:
            for _ in range(runs):
                done = anyio.Event()

                async def sheet(done: anyio.Event = done) -> None:
                    start = time.perf_counter()
                    result = await client.call_tool("get_contact_sheet", args)
                    walls.append(time.perf_counter() - start)
                    if result.is_error:
                        raise RuntimeError("get_contact_sheet failed under latency")
                    done.set()

                async def poke(done: anyio.Event = done) -> None:
                    await anyio.sleep(0.05)
                    while not done.is_set():
                        start = time.perf_counter()
                        structured(await client.call_tool("list_api_links", {}), "list_api_links")
                        trivial.append(time.perf_counter() - start)
                        await anyio.sleep(0.05)

                async with anyio.create_task_group() as group:
                    group.start_soon(sheet)
                    group.start_soon(poke)
            last = image_size(await client.call_tool("get_contact_sheet", args))
        finally:
            (await http.delete(f"{sb.control}/faults")).raise_for_status()
    wall = median(walls)
    worst_trivial = max(trivial) if trivial else 0.0
    sheet_tokens = image_tokens(last[0], last[1])
    single_tokens = sum(image_tokens(w, h) for w, h, _ in singles)
    out(
        f"  {SHEET_CELLS}-cell sheet of image previews, {PREVIEW_LATENCY_MS} ms upstream latency per preview, "
        f"median of {runs} runs; list_api_links called every 50 ms meanwhile ({len(trivial)} calls)"
    )
    out(
        f"  one sheet {last[0]}×{last[1]} px, {last[2]:,} bytes ≈ {sheet_tokens:,} image tokens; "
        f"{len(singles)} get_asset_preview images ≈ {single_tokens:,} tokens in {len(singles)} calls "
        f"({sum(b for _, _, b in singles):,} bytes)"
    )
    report.add(
        name, f"{SHEET_CELLS}-cell sheet, wall time", ms(wall), f"≤ {ms(SHEET_WALL_MAX_S)}", wall <= SHEET_WALL_MAX_S
    )
    report.add(name, "sequential fetching would take at least", ms(SHEET_CELLS * PREVIEW_LATENCY_MS / 1000))
    report.add(
        name,
        "slowest trivial call during a sheet",
        ms(worst_trivial),
        f"≤ {ms(TRIVIAL_DURING_SHEET_MAX_S)}",
        worst_trivial <= TRIVIAL_DURING_SHEET_MAX_S,
    )
    report.add(name, "image tokens: one sheet", f"{sheet_tokens:,}")
    report.add(name, f"image tokens: {len(singles)} single previews", f"{single_tokens:,}")
    report.add(name, "sheet bytes (≤ 1,000,000)", f"{last[2]:,}", "≤ 1,000,000", last[2] <= 1_000_000)
    report.data[name] = {
        "wall_s": walls,
        "trivial_s": trivial,
        "sheet": {"width": last[0], "height": last[1], "bytes": last[2], "tokens": sheet_tokens},
        "singles": {"count": len(singles), "tokens": single_tokens},
    }


# -- main ------------------------------------------------------------------------------------------

# -- 7. files -------------------------------------------------------------------------------------


async def section_files(ctx: Context) -> None:
    from files_bench import section_files as run_files

    sb = await ctx.default_sandbox()
    await run_files(ctx.params.quick, sb, ctx.report, out, bridge, new_bridge_pid, child_pids, structured)


# -- 9. team --------------------------------------------------------------------------------------


async def section_team(ctx: Context) -> None:
    """Section 9 (bench/team.py): calls/s, p50/p99, errors and RSS per replica through HAProxy.
    Quick mode: one replica, 0 ms, 2 s (a smoke run of the harness)."""
    import team

    if team.haproxy_binary() is None:
        out("  skipped: haproxy is not installed")
        return
    counts, latencies = ((1,), (0,)) if ctx.params.quick else ((1, 2, 4), (0, 100))
    rows = await team.run(counts, latencies, 2.0 if ctx.params.quick else 8.0, warmup=1.0 if ctx.params.quick else 2.0)
    ctx.report.data["team"] = rows
    for row in rows:
        figure = f"{row['replicas']} replica(s), +{row['latency_ms']} ms: calls/s, p50/p99 ms, errors"
        value = f"{row['calls_per_s']:.0f}, {row['p50_ms']:.0f}/{row['p99_ms']:.0f}, {row['errors']}"
        ctx.report.add("team", figure, value, "errors 0", row["errors"] == 0)


# -- 10. hostile -----------------------------------------------------------------------------------


async def put_faults(sb: Sandbox, *rules: dict[str, Any]) -> None:
    async with httpx2.AsyncClient(timeout=60) as http:
        answer = await http.put(sb.control + "/faults", json={"rules": list(rules)})
        if answer.status_code != 200:
            raise RuntimeError(f"fault rules refused: {answer.text}")


async def section_hostile(ctx: Context) -> None:
    """Four fresh bridges (so each peak is its own): gzip-of-gzip bombs, image bombs, 20 hostile previews
    at once with a trivial call timed meanwhile, and 30 refused bodies (RSS afterwards)."""
    report, name = ctx.report, "hostile"
    sb = await ctx.default_sandbox()
    mb, kb = 1000 * 1000, 1024
    env = {"FOOTAGE_TIMEOUT": "20", "FOOTAGE_MAX_RETRIES": "0"}
    me = os.getpid()
    data: dict[str, Any] = {}
    image = ""
    async with bridge(sb, env) as client:
        for aid in (await collect_ids(client))[1]:  # an asset with a preview
            if not (await client.call_tool("get_asset_preview", {"asset_id": aid})).is_error:
                image = aid
                break
    if not image:
        raise RuntimeError("no asset with a preview in the sandbox")

    async def fresh(case: Callable[[Client, int], Awaitable[None]]) -> None:
        before = set(child_pids(me, ["footage_mcp", "serve"]))
        async with bridge(sb, env) as client:
            pid = new_bridge_pid(before)
            await client.call_tool("list_api_links", {})
            await client.call_tool("get_asset_preview", {"asset_id": image})  # Pillow and the thread pool loaded
            try:
                await case(client, pid)
            finally:
                await put_faults(sb)

    async def stacked(client: Client, pid: int) -> None:
        base = proc_status(pid)["VmRSS"] * kb
        await put_faults(sb, {"match": r"^/albums$", "body": "encoded_bomb", "encodings": ["gzip", "gzip"]})
        for _ in range(3):
            await client.call_tool("list_albums", {})
        peak = proc_status(pid)["VmHWM"] * kb
        data["stacked"] = {"baseline": base, "peak": peak}
        out(
            f"  gzip-of-gzip bomb (512 MiB of zeros in ~1 KB) × 3: baseline {base / mb:.1f} MB, peak {peak / mb:.1f} MB"
        )
        report.add(
            name,
            "peak RSS above baseline, stacked-encoding bombs",
            f"{(peak - base) / mb:+.1f} MB",
            f"≤ +{HOSTILE_STACKED_PEAK_MAX_BYTES // mb} MB",
            peak - base <= HOSTILE_STACKED_PEAK_MAX_BYTES,
        )

    async def image_bombs(client: Client, pid: int) -> None:
        base = proc_status(pid)["VmRSS"] * kb
        for rule in (
            {"body": "png_bomb"},
            {"body": "jpeg_zeros"},
            {"body": "png_bomb", "width": 4000, "height": 4000},
        ):
            await put_faults(sb, {"match": PREVIEW_ROUTE, **rule})
            await client.call_tool("get_asset_preview", {"asset_id": image})
        peak = proc_status(pid)["VmHWM"] * kb
        data["images"] = {"baseline": base, "peak": peak}
        out(
            f"  13,300² PNG bomb, 30 MB FF D8 FF + zeros, 4,000² PNG: baseline {base / mb:.1f} MB, "
            f"peak {peak / mb:.1f} MB"
        )
        report.add(
            name,
            "peak RSS above baseline, image bombs",
            f"{(peak - base) / mb:+.1f} MB",
            f"≤ +{HOSTILE_IMAGE_PEAK_MAX_BYTES // mb} MB",
            peak - base <= HOSTILE_IMAGE_PEAK_MAX_BYTES,
        )

    async def responsive(client: Client, pid: int) -> None:
        idle: list[float] = []
        for _ in range(10):
            started = time.perf_counter()
            await client.call_tool("list_api_links", {})
            idle.append(time.perf_counter() - started)
        kinds = ["png_bomb", "jpeg_zeros", "image_metadata", "corrupt_png"]
        latencies: list[float] = []
        for _ in range(BATCHES):  # 20 previews at once, several times over, sampling the trivial call throughout
            await put_faults(sb, *[{"match": PREVIEW_ROUTE, "body": kind, "times": 5} for kind in kinds])
            done = anyio.Event()

            async def previews(finished: anyio.Event) -> None:
                async with anyio.create_task_group() as group:
                    for _ in range(20):
                        group.start_soon(client.call_tool, "get_asset_preview", {"asset_id": image})
                finished.set()

            async with anyio.create_task_group() as group:
                group.start_soon(previews, done)
                await anyio.sleep(0.01)
                while not done.is_set():
                    started = time.perf_counter()
                    await client.call_tool("list_api_links", {})
                    latencies.append(time.perf_counter() - started)
        worst = max(latencies)
        data["trivial_latency_s"] = latencies
        out(f"  {BATCHES} batches of 20 hostile previews at once (5 each: {', '.join(kinds)})")
        data["trivial_idle_s"] = idle
        out(
            f"  list_api_links × {len(latencies)} while 20 hostile previews ran: median {ms(median(latencies))}, "
            f"max {ms(worst)} (idle, same bridge: median {ms(median(idle))}, max {ms(max(idle))})"
        )
        report.add(
            name,
            "trivial call during 20 hostile previews (max)",
            ms(worst),
            f"≤ {ms(HOSTILE_TRIVIAL_MAX_S)}",
            worst <= HOSTILE_TRIVIAL_MAX_S,
        )

    async def refusals(client: Client, pid: int) -> None:
        base = proc_status(pid)["VmRSS"] * kb
        await put_faults(
            sb,
            {"match": r"^/albums$", "body": "encoded_bomb", "encodings": ["gzip"], "size_bytes": 10_000_000},
            {"match": PREVIEW_ROUTE, "body": "jpeg_zeros"},
        )
        for _ in range(10):
            await client.call_tool("list_albums", {})
            await client.call_tool("get_asset_preview", {"asset_id": image})
        await put_faults(sb, {"match": PREVIEW_ROUTE, "body": "corrupt_png", "size_bytes": 30_000_000})
        for _ in range(10):
            await client.call_tool("get_asset_preview", {"asset_id": image})
        after = proc_status(pid)["VmRSS"] * kb
        data["refusals"] = {"baseline": base, "after": after}
        out(
            "  10 chunked 10 MB gzip bombs, 10 30 MB previews refused from their head, 10 read whole then refused: "
            f"RSS {base / mb:.1f} → {after / mb:.1f} MB"
        )
        report.add(
            name,
            "RSS after 30 refusals, above baseline",
            f"{(after - base) / mb:+.1f} MB",
            f"≤ +{HOSTILE_REFUSALS_RSS_MAX_BYTES // mb} MB",
            after - base <= HOSTILE_REFUSALS_RSS_MAX_BYTES,
        )

    BATCHES = 3 if ctx.params.quick else 10
    for case in (stacked, image_bombs, responsive, refusals):
        await fresh(case)
    report.data[name] = data


# -- 11. repeated reads ----------------------------------------------------------------------------

READS_LATENCY_MS = 100
READS_MODES = (
    ("validators (the sandbox's ETag + Last-Modified)", None),
    ("no validators (fault validators=none)", {"validators": "none"}),
    ("Cache-Control: max-age=60 from the API", {"cache_control": "private, max-age=60"}),
)


async def section_reads(ctx: Context) -> None:
    """First and second read of one album / one asset through the bridge (stdio), 100 ms injected on the
    object routes, in three upstream behaviours; a fresh object each round so that the first read is one."""
    rounds = 2 if ctx.params.quick else ctx.params.n_single  # the CI smoke: 12 reads per behaviour
    sb = await ctx.default_sandbox()
    report, name = ctx.report, "reads"
    tools = (("get_album", "album_id", r"^/albums/[^/]+$"), ("get_asset", "asset_id", r"^/assets/[^/]+$"))
    data: dict[str, Any] = {}
    rows = []
    for label, knobs in READS_MODES:  # a fresh bridge (an empty cache) per upstream behaviour
        async with bridge(sb) as client, rest_client(sb) as http:
            album_ids, asset_ids = await collect_ids(client)
            pools = {"get_album": iter(album_ids), "get_asset": iter(asset_ids)}
            for tool, param, route in tools:
                rule: dict[str, Any] = {"match": route, "latency_ms": READS_LATENCY_MS, **(knobs or {})}
                (await http.put(f"{sb.control}/faults", json={"rules": [rule]})).raise_for_status()
                first: list[float] = []
                second: list[float] = []
                statuses: list[list[int]] = []
                body_bytes: list[int] = []
                try:
                    for _ in range(rounds):
                        object_id = next(pools[tool])
                        await upstream_requests(http, sb, clear=True)
                        for into in (first, second):
                            start = time.perf_counter()
                            structured(await client.call_tool(tool, {param: object_id}), tool)
                            into.append(time.perf_counter() - start)
                        log = data_requests(await upstream_requests(http, sb, clear=True))
                        statuses.append([int(e["status"]) for e in log])
                        if log:
                            body_bytes.append(len((await http.get(url_of(sb, log[0]))).content))
                finally:
                    (await http.delete(f"{sb.control}/faults")).raise_for_status()
                answers = " ".join(sorted({"+".join(map(str, s)) or "none" for s in statuses}))
                f, s2 = median(first), median(second)
                rows.append((label, tool, ms(f), ms(s2), f"{s2 / f:.2f}×", answers, f"{median(body_bytes):,.0f}"))
                data[f"{tool} / {label}"] = {
                    "first_ms": [x * 1000 for x in first],
                    "second_ms": [x * 1000 for x in second],
                    "upstream_statuses": statuses,
                    "body_bytes": body_bytes,
                }
                if knobs is None:
                    full = [st for st in statuses if st == [200, 304]]
                    report.add(name, f"{tool}: second read (304), median", ms(s2))
                    report.add(
                        name,
                        f"{tool}: rounds whose second read was a 304",
                        f"{len(full)} of {rounds}",
                        f"{rounds} of {rounds}",
                        len(full) == rounds,
                    )
                elif "cache_control" in knobs:
                    report.add(name, f"{tool}: second read with max-age, median", ms(s2))
    out(f"  median of {rounds} rounds each, a fresh object per round; {READS_LATENCY_MS} ms injected on its route")
    headers = ("upstream", "tool", "first read", "second read", "ratio", "upstream answers", "REST body bytes")
    out(table(headers, rows))
    report.data[name] = data


# -- 12. peers (opt-in) ----------------------------------------------------------------------------


async def section_peers(ctx: Context) -> None:
    """Section 12 (bench/peers.py): the peers side by side; skipped in quick mode unless installed."""
    import peers

    await peers.section(ctx, sys.modules[__name__])


RUNNERS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "overhead": section_overhead,
    "concurrency": section_concurrency,
    "coldstart": section_coldstart,
    "memory": section_memory,
    "scale": section_scale,
    "sizes": section_sizes,
    "sheets": section_sheets,
    "files": section_files,
    "team": section_team,
    "hostile": section_hostile,
    "reads": section_reads,
    "peers": section_peers,
}


def parse_only(text: str | None) -> list[str]:
    if not text:
        return list(SECTIONS)
    chosen = []
    for part in text.split(","):
        part = part.strip().lower()
        if part.isdigit() and 1 <= int(part) <= len(ALL_SECTIONS):
            part = ALL_SECTIONS[int(part) - 1]
        matches = [s for s in ALL_SECTIONS if s.startswith(part)] if part else []
        if len(matches) != 1:
            names = ", ".join(ALL_SECTIONS)
            raise ValueError(f"unknown section {part!r}; choose from {names} (or 1–{len(ALL_SECTIONS)})")
        chosen.append(matches[0])
    return [s for s in ALL_SECTIONS if s in chosen]


async def main_async(args: argparse.Namespace) -> int:
    params = Params.make(args.quick)
    report = Report()
    started = time.perf_counter()
    info = machine_info()
    out(f"footage-mcp benchmarks ({'quick' if args.quick else 'full'} mode), {info['date']}")
    out(
        f"  {info['nproc']} cores ({info['cpu']}), {info.get('memory', '?')}, load {info.get('loadavg', '?')}; "
        f"{info['python']}; footage-mcp {info['footage-mcp']} at {info['commit']}, mcp {info['mcp']}, "
        f"httpx2 {info['httpx2']}, pydantic {info['pydantic']}"
    )
    crashed: list[str] = []
    async with AsyncExitStack() as stack:
        ctx = Context(params, report, stack)
        for section in args.sections:
            out()
            out(f"== {TITLES[section]} ==")
            t0 = time.perf_counter()
            try:
                with anyio.fail_after(SECTION_TIMEOUTS_S.get(section, SECTION_TIMEOUT_S)):
                    await RUNNERS[section](ctx)
            except Exception:
                crashed.append(section)
                out(f"  CRASHED:\n{traceback.format_exc()}")
            ctx.timings[section] = time.perf_counter() - t0
            if any(c.section == section for c in report.checks):
                out(report.checks_table(section))
            out(f"  ({ctx.timings[section]:.1f} s)")
    total = time.perf_counter() - started
    out()
    out("== summary ==")
    rows = [(c.section, c.figure, c.value, c.target, c.verdict) for c in report.checks if c.ok is not None]
    rows += [(s, "section crashed", "", "", "CRASH") for s in crashed]
    out(table(("section", "figure", "value", "target", "verdict"), rows))
    misses = sum(1 for c in report.checks if c.ok is False)
    passes = sum(1 for c in report.checks if c.ok)
    out(
        f"  {passes} PASS, {misses} MISS, {len(crashed)} crashed; total {total:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in ctx.timings.items())})"
    )
    if args.json:
        import json

        document = {
            "mode": "quick" if args.quick else "full",
            "machine": info,
            "total_seconds": total,
            "section_seconds": ctx.timings,
            "crashed": crashed,
            "checks": [c.__dict__ | {"verdict": c.verdict} for c in report.checks],
            "data": report.data,
        }
        Path(args.json).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        out(f"  figures written to {args.json}")
    return 1 if crashed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small N, for CI (well under 60 s)")
    parser.add_argument(
        "--only", metavar="NAMES", help=f"comma-separated sections: {', '.join(ALL_SECTIONS)} or 1–{len(ALL_SECTIONS)}"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure and raw sample to FILE")
    parser.add_argument(
        "--peers", action="store_true", help="add section 12, the peers (bench/peers.py; opt-in, never in CI)"
    )
    args = parser.parse_args()
    try:
        args.sections = parse_only(args.only)
    except ValueError as exc:
        parser.error(f"--only: {exc}")
    if args.peers and "peers" not in args.sections:
        args.sections.append("peers")
    return anyio.run(main_async, args, backend="asyncio")


if __name__ == "__main__":
    sys.exit(main())
