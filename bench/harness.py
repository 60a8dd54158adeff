"""Helpers for ``bench/run.py``: the sandbox and raw stdio processes, /proc readers, statistics, tables.

Nothing here imports the bridge's internals: the bridge is measured from outside, the way an MCP host
sees it (a subprocess on stdio), against the sandbox on loopback HTTP, started by the project's one
launcher (footage_mcp/cli/launch.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from footage_mcp.cli.launch import SANDBOX_TOKEN, sandbox_process

ROOT = Path(__file__).resolve().parent.parent
BASE_PATH = "/api/asset"
STREAM_LIMIT = 64 * 1024 * 1024
"""asyncio's default line limit is 64 KiB; a tools/list or a 100-asset page can be larger."""
PYCACHE = Path(tempfile.gettempdir()) / "footage-mcp-bench-pycache"
"""Where spawned interpreters keep bytecode (PYTHONPYCACHEPREFIX): outside the repo and the venv."""
PROTOCOL_VERSION = "2025-11-25"
"""What the SDK client sends in ``initialize`` (``mode="legacy"``, LATEST_HANDSHAKE_VERSION of mcp 2.3)."""


# -- statistics ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


async def timed_batch(call: Callable[[], Awaitable[None]], width: int) -> float:
    """Seconds until ``width`` concurrent runs of ``call`` (one task group) have all finished."""
    import anyio

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(width):
            group.start_soon(call)
    return time.perf_counter() - start


Callers = Sequence[tuple[str, Callable[[], Awaitable[Any]]]]
"""Labelled zero-argument coroutine functions, one per path measured."""


async def warm_up(callers: Callers, times: int) -> None:
    """Run every caller ``times`` times, untimed."""
    for _ in range(times):
        for _, call in callers:
            await call()


async def interleaved(callers: Callers, rounds: int) -> dict[str, list[float]]:
    """Latency samples (seconds) per label: ``rounds`` rounds, each calling every caller once, the order
    rotating from round to round so that all paths share the machine's noise alike."""
    samples: dict[str, list[float]] = {label: [] for label, _ in callers}
    for i in range(rounds):
        for k in range(len(callers)):
            label, call = callers[(i + k) % len(callers)]
            start = time.perf_counter()
            await call()
            samples[label].append(time.perf_counter() - start)
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# -- output ----------------------------------------------------------------------------------------


_NUMERIC = re.compile(r"^[+\-≈]?\s?\d")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> str:
    """A plain-text table; a column whose every non-empty cell starts with a number is right-aligned."""
    body = [[("" if c is None else str(c)) for c in row] for row in rows]
    cells = [[str(c) for c in headers], *body]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = [
        i > 0 and any(r[i] for r in body) and all(_NUMERIC.match(r[i]) for r in body if r[i])
        for i in range(len(headers))
    ]

    def fmt(row: list[str]) -> str:
        return (
            indent
            + "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)).rstrip()
        )

    lines = [fmt(cells[0]), indent + "  ".join("-" * w for w in widths)]
    lines.extend(fmt(r) for r in body)
    return "\n".join(lines)


@dataclass
class Check:
    """One figure with a target: ``ok`` is None for figures reported without a target."""

    section: str
    figure: str
    value: str
    target: str = "—"
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "info" if self.ok is None else ("PASS" if self.ok else "MISS")


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, figure: str, value: str, target: str = "—", ok: bool | None = None) -> Check:
        check = Check(section, figure, value, target, ok)
        self.checks.append(check)
        return check

    def checks_table(self, section: str) -> str:
        rows = [(c.figure, c.value, c.target, c.verdict) for c in self.checks if c.section == section]
        return table(("figure", "value", "target", "verdict"), rows)


# -- the machine -----------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    """What the figures were measured on (read at run time)."""
    info: dict[str, str] = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    info["cores"] = str(os.cpu_count())
    with suppress(OSError):
        info["nproc"] = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu"] = cpu
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    with suppress(OSError):
        info["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = f"{platform.python_implementation()} {platform.python_version()}"
    for dist in ("footage-mcp", "mcp", "httpx2", "pydantic", "uvicorn", "starlette"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = "?"
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        info["commit"] = f"{head}{' (+ uncommitted changes)' if dirty else ''}" if head else "?"
    except OSError:
        info["commit"] = "?"
    return info


def child_env(base: Mapping[str, str] | None = None, *, bytecode_cache: bool = True) -> dict[str, str]:
    """``base`` (default: this environment) for a spawned interpreter.

    ``bytecode_cache=True``: .pyc files are written and read under :data:`PYCACHE`, as for a package
    installed by pip or run by uvx after its first start (PYTHONDONTWRITEBYTECODE is dropped).
    ``False``: the environment as it is (here PYTHONDONTWRITEBYTECODE=1 may be set, so every start compiles
    the site-packages sources again).
    """
    env = dict(os.environ if base is None else base)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


# -- /proc -----------------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (KiB) of ``pid`` from /proc/<pid>/status."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) ``pid`` has used so far, from /proc/<pid>/stat (10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def self_cpu() -> float:
    """CPU seconds of this process (the client side)."""
    return time.process_time()


def child_pids(parent: int, needle: Sequence[str]) -> list[int]:
    """Direct children of ``parent`` whose command line contains every string of ``needle`` (/proc scan)."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if all(n in cmd for n in needle):
            found.append(int(entry))
    return found


# -- the sandbox -----------------------------------------------------------------------------------


@dataclass
class Sandbox:
    base_url: str
    token: str
    process: subprocess.Popen[str]
    started_s: float

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix(BASE_PATH)

    @property
    def control(self) -> str:
        return self.origin + "/_sandbox"


@asynccontextmanager
async def sandbox(extra_album_assets: int = 0, shape: str = "hal") -> AsyncIterator[Sandbox]:
    """``footage-mcp sandbox --port 0`` until the block ends, through the one launcher
    (:func:`footage_mcp.cli.launch.sandbox_process`), started in a worker thread (it waits for READY)."""
    launcher = sandbox_process(shape=shape, token=SANDBOX_TOKEN, extra_album_assets=extra_album_assets, env=child_env())
    running = await asyncio.to_thread(launcher.__enter__)
    try:
        yield Sandbox(running.base_url, running.token, running.process, running.started_s)
    finally:
        await asyncio.to_thread(launcher.__exit__, None, None, None)


async def stop_process(proc: asyncio.subprocess.Process, grace: float = 10.0) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- raw JSON-RPC over stdio -----------------------------------------------------------------------


class RpcError(RuntimeError):
    pass


class RawStdio:
    """A minimal newline-delimited JSON-RPC client over a subprocess' stdin/stdout.

    Used where the wire itself is measured (cold start, result sizes) and as a reference with no client
    SDK in the loop. ``last_line`` is the exact text of the last response read.
    """

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.proc: asyncio.subprocess.Process | None = None
        self.next_id = 0
        self.last_line = ""
        self._early: dict[Any, tuple[str, dict[str, Any]]] = {}
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr,
            env=self.env,
            cwd=ROOT,
            limit=STREAM_LIMIT,
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def send(self, message: Mapping[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self.proc.stdin.drain()

    async def send_request(self, method: str, params: Mapping[str, Any] | None = None) -> int:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return self.next_id

    async def read_response(self, request_id: int) -> dict[str, Any]:
        """The response to ``request_id``; notifications are skipped, other responses kept for their reader."""
        assert self.proc is not None and self.proc.stdout is not None
        while request_id not in self._early:
            raw = await self.proc.stdout.readline()
            if not raw:
                self.stderr.seek(0)
                tail = self.stderr.read().decode(errors="replace")[-2000:]
                raise RpcError(f"{self.argv[-1]} closed stdout (exit {self.proc.returncode}): {tail}")
            line = raw.decode()
            message = json.loads(line)
            if "id" in message and ("result" in message or "error" in message):
                self._early[message["id"]] = (line.rstrip("\n"), message)
        self.last_line, message = self._early.pop(request_id)
        if "error" in message:
            raise RpcError(f"JSON-RPC error: {message['error']}")
        result: dict[str, Any] = message["result"]
        return result

    async def request(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.read_response(await self.send_request(method, params))

    async def initialize(self) -> dict[str, Any]:
        result = await self.request("initialize", initialize_params())
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        result = await self.request("tools/call", {"name": name, "arguments": dict(arguments)})
        if result.get("isError"):
            raise RpcError(f"{name} failed: {result.get('content')}")
        return result

    async def close(self) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None and not self.proc.stdin.is_closing():
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                await stop_process(self.proc)
        self.stderr.close()

    async def __aenter__(self) -> RawStdio:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def initialize_params() -> dict[str, Any]:
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "footage-mcp-bench", "version": "0"},
    }


def compact(value: Any) -> str:
    """Compact JSON text, non-ASCII kept (as the wire carries it)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
