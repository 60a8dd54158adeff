"""Section 11 of ``bench/run.py`` (opt-in): footage-mcp beside the servers a user would pick instead.

    uv run python bench/run.py --only peers            # full: 5 rounds (builds .venv-peers first)
    uv run python bench/run.py --only peers --quick    # 1 small round; skipped unless .venv-peers exists

The peers (issue 16): FastMCP's ``from_openapi`` (fastmcp 4.2.3, bench/peers/fastmcp_server.py) and
mcp-openapi-proxy 0.4.0 (its ``mcp-openapi-proxy`` console script), each configured for the sandbox
from the hand-written spec bench/peers/footage-sandbox.openapi.yaml, plus the bare hello-world server
(bench/hello_server.py) as the floor. All four run as subprocesses on stdio, driven by the same mcp SDK
client (``Client(stdio_client(...), mode="legacy")``; raw JSON-RPC for cold start and result sizes, as
sections 3 and 6 do), against the same sandbox, in one run, interleaved.

The peers come from the ``bench-peers`` dependency group, which cannot share the project's environment
(fastmcp 4.2.3 and google-adk of the dev group need different opentelemetry-api versions), so they live
in their own environment built from the same uv.lock: ``UV_PROJECT_ENVIRONMENT=.venv-peers uv sync
--locked --no-dev --group bench-peers --no-install-project`` (the full run does this itself; override
the place with FOOTAGE_PEERS_VENV). Both use mcp 2.3.0 there, the SDK the bridge uses.

Every figure is measured per round and the median of the rounds is reported:

- cold start: spawn → ``tools/list`` answered (RawStdio, as section 3), 2 starts of each server per
  round, the order rotating; ratio to the hello server;
- added latency: p50 of the SDK client's call − p50 of a direct httpx2 GET of the same REST URL, for a
  20-hit search (``q=Paris``, 20 of 67 hits), a 20-asset album page and ``get_album``; the REST GET and
  the three servers interleaved, the order rotating each call (as section 1);
- result characters / REST body: the JSON-RPC result object's compact characters (text content +
  ``structuredContent`` + flags, section 6's ``result`` figure) over the REST body's characters;
- concurrency: 100 ms injected on ``^/search/assets$`` (section 2's fault rule), the wall time of 32
  calls started at once on one session over one call;
- memory: VmHWM of the server process after 1,000 calls on one session (the latency calls, then search
  / get_asset / album page in turn, as section 4), a fresh session per round; the hello server after
  1,000 trivial calls.

Identical REST URLs are checked, not assumed: for each operation the sandbox's request log is read
after one call through each server (the discovery root, which footage-mcp alone fetches, set aside).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
from harness import (
    ROOT,
    RawStdio,
    Sandbox,
    child_env,
    child_pids,
    compact,
    interleaved,
    median,
    proc_status,
    timed_batch,
    warm_up,
)
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

PEERS_DIR = ROOT / "bench" / "peers"
SPEC = PEERS_DIR / "footage-sandbox.openapi.yaml"
FASTMCP_SCRIPT = PEERS_DIR / "fastmcp_server.py"
HELLO = ROOT / "bench" / "hello_server.py"
GROUP = "bench-peers"
PEER_DISTS = ("fastmcp", "mcp-openapi-proxy", "mcp", "httpx2", "requests")
SEARCH_TERMS = ("Paris", "France", "night", "river", "city", "interview", "drone", "beach", "Lyon", "snow")
LATENCY_OPS = ("search", "album_page", "get_album")
OP_LABELS = {"search": "20-hit search", "album_page": "20-asset album page", "get_album": "get_album"}
SEARCH_LATENCY_MS = 100
KB, MB = 1024, 1000 * 1000

# issue 16's goals for footage-mcp (parts 2–4); the peers' figures are reported without a target
COLD_RATIO_GOAL = 1.05
LIST_ADDED_GOAL_S = 0.0015
GET_ALBUM_ADDED_GOAL_S = 0.0012
ONE_OBJECT_GOAL = 1.1


def peers_venv() -> Path:
    return Path(os.environ.get("FOOTAGE_PEERS_VENV", str(ROOT / ".venv-peers")))


def sync_command(venv: Path) -> str:
    return f"UV_PROJECT_ENVIRONMENT={venv} uv sync --locked --no-dev --group {GROUP} --no-install-project"


@dataclass(frozen=True)
class Params:
    rounds: int
    cold_per_round: int
    latency_calls: int
    memory_calls: int
    single_calls: int
    batches: int
    concurrency: int = 32

    @classmethod
    def make(cls, quick: bool) -> Params:
        return cls(1, 1, 10, 100, 1, 1) if quick else cls(5, 2, 60, 1000, 3, 2)


@dataclass(frozen=True)
class Server:
    """One server under test: how to start it, how to find its pid, and its tool names and arguments."""

    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    needle: tuple[str, ...]
    tools: dict[str, str] = field(default_factory=dict)
    openapi: bool = False

    def arguments(self, op: str, values: dict[str, str]) -> dict[str, Any]:
        """The tool arguments for ``op`` (search / album_page / get_album / get_asset)."""
        if self.openapi:  # the spec's parameter names
            return {
                "search": {"q": values.get("q"), "size": 20},
                "album_page": {"id": values.get("album"), "size": 20},
                "get_album": {"id": values.get("album")},
                "get_asset": {"id": values.get("asset")},
            }[op]
        return {
            "search": {"query": values.get("q"), "limit": 20},
            "album_page": {"album_id": values.get("album"), "limit": 20},
            "get_album": {"album_id": values.get("album")},
            "get_asset": {"asset_id": values.get("asset")},
        }[op]

    def stdio(self) -> StdioServerParameters:
        return StdioServerParameters(command=self.argv[0], args=self.argv[1:], env=self.env, cwd=str(ROOT))


def servers_for(sb: Sandbox, venv: Path, run: ModuleType) -> tuple[list[Server], Server]:
    """footage-mcp, fastmcp from_openapi and mcp-openapi-proxy against ``sb``; and the hello floor."""
    bridge = run.bridge_params(sb)
    python = str(venv / "bin" / "python")
    base = child_env()
    footage = Server(
        "footage",
        "footage-mcp",
        [bridge.command, *bridge.args],
        dict(bridge.env),
        ("footage_mcp", "serve"),
        {
            "search": "search_assets",
            "album_page": "list_album_assets",
            "get_album": "get_album",
            "get_asset": "get_asset",
        },
    )
    fastmcp = Server(
        "fastmcp",
        "fastmcp from_openapi",
        [python, str(FASTMCP_SCRIPT)],
        base | {"PEER_SPEC": str(SPEC), "FOOTAGE_BASE_URL": sb.base_url, "FOOTAGE_TOKEN": sb.token},
        (FASTMCP_SCRIPT.name,),
        {"search": "searchAssets", "album_page": "listAlbumAssets", "get_album": "getAlbum", "get_asset": "getAsset"},
        openapi=True,
    )
    proxy = Server(
        "proxy",
        "mcp-openapi-proxy",
        [python, str(venv / "bin" / "mcp-openapi-proxy")],
        base
        | {
            # its documented configuration: the spec, the token as an api-key header named apiKey (it
            # does not read the spec's securitySchemes), and the server URL
            "OPENAPI_SPEC_URL": SPEC.as_uri(),
            "OPENAPI_SPEC_FORMAT": "yaml",
            "API_KEY": sb.token,
            "API_AUTH_TYPE": "api-key",
            "API_AUTH_HEADER": "apiKey",
            "SERVER_URL_OVERRIDE": sb.base_url,
        },
        ("mcp-openapi-proxy",),
        {
            "search": "get_search_assets",
            "album_page": "get_albums_by_id_assets",
            "get_album": "get_albums_by_id",
            "get_asset": "get_assets_by_id",
        },
        openapi=True,
    )
    hello = Server("hello", "bare hello-world server", [sys.executable, str(HELLO)], base, (HELLO.name,))
    return [footage, fastmcp, proxy], hello


# -- the peers' environment ------------------------------------------------------------------------


async def ensure_env(quick: bool, out: Callable[[str], None]) -> dict[str, str] | None:
    """The peers' environment, built from uv.lock in a full run; None (and why printed) if unavailable."""
    venv = peers_venv()
    if not quick:
        uv = shutil.which("uv")
        if uv is None:
            out(f"  skipped: uv is not installed (the peers' environment is built with: {sync_command(venv)})")
            return None
        env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(venv))
        env.pop("VIRTUAL_ENV", None)
        argv = [uv, "sync", "--locked", "--no-dev", "--group", GROUP, "--no-install-project", "--quiet"]
        done = await asyncio.to_thread(subprocess.run, argv, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{sync_command(venv)} failed: {done.stderr.strip()[-2000:]}")
    python = venv / "bin" / "python"
    if not python.exists() or not (venv / "bin" / "mcp-openapi-proxy").exists():
        out(f"  skipped: the peers are not installed; {sync_command(venv)} (or run the full section once)")
        return None
    probe = (
        "import json, sys, importlib.metadata as m, yaml\n"
        "from openapi_spec_validator import validate\n"
        "validate(yaml.safe_load(open(sys.argv[1], encoding='utf-8')))\n"
        f"print(json.dumps({{d: m.version(d) for d in {list(PEER_DISTS)!r}}}))\n"
    )
    done = await asyncio.to_thread(
        subprocess.run, [str(python), "-c", probe, str(SPEC)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the peers' environment or the spec is broken: {done.stderr.strip()[-2000:]}")
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


# -- sessions --------------------------------------------------------------------------------------


@dataclass
class Session:
    server: Server
    client: Client
    pid: int
    calls: int = 0

    async def call(self, op: str, values: dict[str, str]) -> Any:
        result = await self.client.call_tool(self.server.tools[op], self.server.arguments(op, values))
        self.calls += 1
        if result.is_error:
            text = getattr(result.content[0], "text", "?") if result.content else "no content"
            raise RuntimeError(f"{self.server.label}: {op} failed: {text[:500]}")
        return result


@asynccontextmanager
async def session(server: Server) -> AsyncIterator[Session]:
    """The SDK client over stdio to ``server``, initialized; stderr kept in a temp file (shown on failure)."""
    me = os.getpid()
    before = set(child_pids(me, server.needle))
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        try:
            async with Client(stdio_client(server.stdio(), errlog=err), mode="legacy") as client:
                found = [p for p in child_pids(me, server.needle) if p not in before]
                if len(found) != 1:
                    raise RuntimeError(f"cannot tell {server.label}'s pid: candidates {found}")
                yield Session(server, client, found[0])
        except BaseException:
            err.seek(0)
            tail = err.read()[-2000:]
            if tail.strip():
                print(f"  {server.label} stderr: {tail}", flush=True)
            raise


# -- measurements ----------------------------------------------------------------------------------


async def cold_round(run: ModuleType, servers: Sequence[Server], starts: int, round_no: int) -> dict[str, list[float]]:
    """``starts`` cold starts of each server (spawn → tools/list answered), the order rotating."""
    out: dict[str, list[float]] = {s.key: [] for s in servers}
    for i in range(starts):
        shift = (round_no * starts + i) % len(servers)
        for server in [*servers[shift:], *servers[:shift]]:
            _, t_list, _ = await run.cold_once(server.argv, server.env)
            out[server.key].append(t_list)
    return out


async def latency_round(
    sessions: Sequence[Session], http: httpx2.AsyncClient, urls: dict[str, str], values: dict[str, str], n: int
) -> dict[str, dict[str, float]]:
    """Per operation: p50 (s) of the direct REST GET and of each server's call, interleaved and rotating."""
    figures: dict[str, dict[str, float]] = {}
    for op in LATENCY_OPS:

        async def rest(url: str = urls[op]) -> None:
            (await http.get(url)).raise_for_status()

        callers: list[tuple[str, Callable[[], Awaitable[Any]]]] = [("rest", rest)]
        for s in sessions:

            async def call(s: Session = s, op: str = op) -> None:
                await s.call(op, values)

            callers.append((s.server.key, call))
        await warm_up(callers, max(3, n // 10))
        samples = await interleaved(callers, n)
        figures[op] = {key: median(s) for key, s in samples.items()}
    return figures


async def fill_to(s: Session, total: int, ids: dict[str, list[str]]) -> None:
    """Calls on ``s`` until it has made ``total``: search / get_asset / album page in turn (section 4's mix)."""
    i = 0
    while s.calls < total:
        kind = i % 3
        if kind == 0:
            await s.call("search", {"q": SEARCH_TERMS[(i // 3) % len(SEARCH_TERMS)]})
        elif kind == 1:
            await s.call("get_asset", {"asset": ids["assets"][(i * 7) % len(ids["assets"])]})
        else:
            await s.call("album_page", {"album": ids["albums"][(i // 3) % len(ids["albums"])]})
        i += 1


async def hello_hwm(hello: Server, total: int) -> int:
    async with session(hello) as s:
        for _ in range(total):
            result = await s.client.call_tool("hello", {"name": "bench"})
            if result.is_error:
                raise RuntimeError("hello failed")
        return proc_status(s.pid)["VmHWM"] * KB


async def concurrency_round(
    sessions: Sequence[Session], sb: Sandbox, http: httpx2.AsyncClient, p: Params, values: dict[str, str]
) -> dict[str, dict[str, float]]:
    """One call and ``p.concurrency`` at once, per server, with SEARCH_LATENCY_MS on the search route."""
    rules = {"rules": [{"match": "^/search/assets$", "latency_ms": SEARCH_LATENCY_MS}]}
    (await http.put(f"{sb.control}/faults", json=rules)).raise_for_status()
    figures: dict[str, dict[str, float]] = {}
    try:
        for s in sessions:

            async def one(s: Session = s) -> None:
                await s.call("search", values)

            await one()
            single = median([await timed_batch(one, 1) for _ in range(p.single_calls)])
            batch = median([await timed_batch(one, p.concurrency) for _ in range(p.batches)])
            figures[s.server.key] = {"one": single, "batch": batch}
    finally:
        (await http.delete(f"{sb.control}/faults")).raise_for_status()
    return figures


async def check_urls(
    run: ModuleType, sessions: Sequence[Session], sb: Sandbox, http: httpx2.AsyncClient, values: dict[str, str]
) -> tuple[dict[str, str], dict[str, dict[str, list[str]]]]:
    """The REST URL of each operation (footage-mcp's), and every server's requests for it."""
    seen: dict[str, dict[str, list[str]]] = {}
    for op in (*LATENCY_OPS, "get_asset"):
        seen[op] = {}
        for s in sessions:
            await run.upstream_requests(http, sb, clear=True)
            await s.call(op, values)
            log = run.data_requests(await run.upstream_requests(http, sb, clear=True))
            seen[op][s.server.key] = [run.url_of(sb, e) for e in log]
    urls = {op: by[sessions[0].server.key][0] for op, by in seen.items() if by[sessions[0].server.key]}
    return urls, seen


async def sizes(servers: Sequence[Server], http: httpx2.AsyncClient, values: dict[str, str]) -> dict[str, Any]:
    """Result characters (raw JSON-RPC, section 6's ``result``) per server for the search and one asset, the
    REST body characters of the same URLs, and tools/list characters."""
    data: dict[str, Any] = {"rest": {}}
    for server in servers:
        async with RawStdio(server.argv, server.env) as raw:
            await raw.initialize()
            listed = await raw.request("tools/list")
            row: dict[str, int] = {"tools_list": len(compact(listed))}
            for op in ("search", "get_asset"):
                result = await raw.call_tool(server.tools[op], server.arguments(op, values))
                row[op] = len(compact(result))
                row[f"{op}_text"] = sum(len(b.get("text", "")) for b in result.get("content", []))
            data[server.key] = row
    return data


# -- the section -----------------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "?"


async def section(ctx: Any, run: ModuleType) -> None:
    """Run the peers comparison; figures go to ``ctx.report`` (section ``peers``) and ``report.data``."""
    out = run.out
    quick = ctx.params.quick
    p = Params.make(quick)
    versions = await ensure_env(quick, out)
    if versions is None:
        return
    sb = await ctx.default_sandbox()
    servers, hello = servers_for(sb, peers_venv(), run)
    keys = [s.key for s in servers]
    out(
        f"  peers: fastmcp {versions['fastmcp']}, mcp-openapi-proxy {versions['mcp-openapi-proxy']} "
        f"(mcp {versions['mcp']}, httpx2 {versions['httpx2']}, requests {versions['requests']}) in {peers_venv()}; "
        f"spec {SPEC.relative_to(ROOT)} valid (openapi-spec-validator)"
    )
    out(f"  {p.rounds} round(s), medians of the rounds; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    async with run.rest_client(sb, connections=64) as http:
        albums = (await http.get(f"{sb.base_url}/albums", params={"size": 100})).raise_for_status().json()
        album_ids = [a["id"] for a in albums["_embedded"]["albums"]]
        hits = (await http.get(f"{sb.base_url}/search/assets", params={"size": 100})).raise_for_status().json()
        asset_ids = [a["id"] for a in hits["_embedded"]["assets"]]
        paris = (await http.get(f"{sb.base_url}/search/assets", params={"q": "Paris", "size": 1})).json()
        big = next(a for a in albums["_embedded"]["albums"] if a["assetCount"] >= 20)
        values = {"q": "Paris", "album": big["id"], "asset": paris["_embedded"]["assets"][0]["id"]}
        ids = {"albums": album_ids, "assets": asset_ids}

        size_data = await sizes(servers, http, values)
        cold: dict[str, list[float]] = {s.key: [] for s in [*servers, hello]}
        for server in [*servers, hello]:  # fill the bytecode and page caches; not counted
            await run.cold_once(server.argv, server.env)
        rounds: list[dict[str, Any]] = []
        urls: dict[str, str] = {}
        seen: dict[str, dict[str, list[str]]] = {}
        for r in range(p.rounds):
            t0 = time.perf_counter()
            starts = await cold_round(run, [*servers, hello], p.cold_per_round, r)
            for key, values_s in starts.items():
                cold[key] += values_s
            figures: dict[str, Any] = {"cold_s": {k: median(v) for k, v in starts.items()}}
            async with AsyncExitStack() as stack:
                sessions = [await stack.enter_async_context(session(s)) for s in servers]
                if r == 0:
                    urls, seen = await check_urls(run, sessions, sb, http, values)
                    size_data["rest"] = {
                        op: len((await http.get(urls[op])).raise_for_status().text) for op in ("search", "get_asset")
                    }
                figures["p50_s"] = await latency_round(sessions, http, urls, values, p.latency_calls)
                for s in sessions:
                    await fill_to(s, p.memory_calls, ids)
                figures["hwm_bytes"] = {s.server.key: proc_status(s.pid)["VmHWM"] * KB for s in sessions}
                figures["concurrency_s"] = await concurrency_round(sessions, sb, http, p, values)
            figures["hwm_bytes"]["hello"] = await hello_hwm(hello, p.memory_calls)
            rounds.append(figures)
            out(f"  round {r + 1}/{p.rounds}: {time.perf_counter() - t0:.1f} s")

    def across(get: Callable[[dict[str, Any]], float]) -> float:
        return median([get(f) for f in rounds])

    cold_med = {k: median(v) for k, v in cold.items()}
    added = {
        op: {k: across(lambda f, op=op, k=k: f["p50_s"][op][k] - f["p50_s"][op]["rest"]) for k in keys}
        for op in LATENCY_OPS
    }
    rest_p50 = {op: across(lambda f, op=op: f["p50_s"][op]["rest"]) for op in LATENCY_OPS}
    conc = {k: across(lambda f, k=k: f["concurrency_s"][k]["batch"] / f["concurrency_s"][k]["one"]) for k in keys}
    one = {k: across(lambda f, k=k: f["concurrency_s"][k]["one"]) for k in keys}
    hwm = {k: across(lambda f, k=k: float(f["hwm_bytes"][k])) for k in [*keys, "hello"]}
    same_urls = all(
        len({tuple(v) for v in by.values()}) == 1 and all(len(v) == 1 for v in by.values()) for by in seen.values()
    )

    rows: list[tuple[str, ...]] = []
    h = cold_med["hello"]
    rows.append(
        (
            "cold start, spawn → tools/list",
            *[f"{cold_med[k] * 1000:.0f} ms ({cold_med[k] / h:.2f}× hello)" for k in keys],
            f"bare hello-world server {h * 1000:.0f} ms",
        )
    )
    for op in LATENCY_OPS:
        rows.append(
            (
                f"{OP_LABELS[op]}, p50 added over direct REST",
                *[f"+{added[op][k] * 1000:.2f} ms" for k in keys],
                f"REST p50 {rest_p50[op] * 1000:.2f} ms",
            )
        )
    for op, label in (("search", "20-hit search"), ("get_asset", "one asset")):
        rest_chars = size_data["rest"][op]
        rows.append(
            (
                f"result characters / REST body, {label}",
                *[f"{size_data[k][op] / rest_chars:.2f}× ({size_data[k][op]:,})" for k in keys],
                f"REST body {rest_chars:,} chars",
            )
        )
    rows.append(
        (
            f"{p.concurrency} concurrent calls with {SEARCH_LATENCY_MS} ms upstream / one call",
            *[f"{conc[k]:.2f}× (one {one[k] * 1000:.0f} ms)" for k in keys],
            "",
        )
    )
    rows.append(
        (
            f"peak RSS after {p.memory_calls:,} calls",
            *[f"{hwm[k] / MB:.0f} MB" for k in keys],
            f"hello {hwm['hello'] / MB:.0f} MB",
        )
    )
    rows.append(("tools/list characters", *[f"{size_data[k]['tools_list']:,}" for k in keys], ""))
    headers = ("figure", *[s.label for s in servers], "floor")
    out(run.table(headers, rows))
    out("  markdown:")
    out("  | " + " | ".join(headers) + " |")
    out("  | " + " | ".join("---" for _ in headers) + " |")
    for row in rows:
        out("  | " + " | ".join(row) + " |")
    out("  REST URLs per operation (the sandbox's request log, one call through each server):")
    for op, by in seen.items():
        distinct = {tuple(v) for v in by.values()}
        out(f"    {op}: {'identical' if len(distinct) == 1 else 'DIFFERENT'}: {by[keys[0]]}")
        if len(distinct) != 1:
            for k, v in by.items():
                out(f"      {k}: {v}")

    report, name = ctx.report, "peers"
    report.add(name, "identical REST URLs for every operation", "yes" if same_urls else "no", "yes", same_urls)
    report.add(
        name,
        "footage-mcp cold start / hello (tools/list)",
        f"{cold_med['footage'] / h:.3f}×",
        f"≤ {COLD_RATIO_GOAL:.2f}×",
        cold_med["footage"] / h <= COLD_RATIO_GOAL,
    )
    for op in LATENCY_OPS:
        goal = GET_ALBUM_ADDED_GOAL_S if op == "get_album" else LIST_ADDED_GOAL_S
        report.add(
            name,
            f"footage-mcp {OP_LABELS[op]}: p50 added",
            f"+{added[op]['footage'] * 1000:.2f} ms",
            f"≤ +{goal * 1000:.2f} ms",
            added[op]["footage"] <= goal,
        )
    asset_ratio = size_data["footage"]["get_asset"] / size_data["rest"]["get_asset"]
    report.add(
        name,
        "footage-mcp one asset: result / REST body",
        f"{asset_ratio:.2f}×",
        f"≤ {ONE_OBJECT_GOAL:.2f}×",
        asset_ratio <= ONE_OBJECT_GOAL,
    )
    for k, label in zip(keys[1:], [s.label for s in servers[1:]], strict=True):
        report.add(name, f"{label}: cold start / hello", f"{cold_med[k] / h:.3f}×")
        report.add(name, f"{label}: search p50 added", f"+{added['search'][k] * 1000:.2f} ms")
        report.add(name, f"{label}: {p.concurrency} concurrent / one", f"{conc[k]:.2f}×")
    report.data[name] = {
        "versions": versions,
        "params": p.__dict__,
        "values": values,
        "urls": seen,
        "cold_ms": {k: [x * 1000 for x in v] for k, v in cold.items()},
        "rounds": rounds,
        "sizes": size_data,
        "table": {"headers": headers, "rows": rows},
    }
