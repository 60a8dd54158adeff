"""Helpers for the hostile-upstream tests: a bridge session over real stdio with its stderr captured,
fault rules on the sandbox, and the bridge subprocess's memory from /proc."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from forkrun import PID_FILE, warm_parameters
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters


def memory_kb(pid: int, field: str = "VmRSS") -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of process ``pid``, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def bridge_pid() -> int:
    """The pid of this process's one ``footage_mcp serve`` child (the bridge a stdio Client started)."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = stat.rsplit(")", 1)[1].split()[1]
        if ppid == me and b"footage_mcp" in cmdline and b"serve" in cmdline:
            found.append(int(entry.name))
    assert len(found) == 1, f"expected one bridge child, found {found}"
    return found[0]


@dataclass
class Session:
    client: Client
    sandbox: httpx2.AsyncClient
    stderr: Path
    pid_file: Path

    @property
    def pid(self) -> int:
        """The bridge's own pid: what the launcher wrote, or (cold processes, FOOTAGE_TEST_COLD_PROCESSES=1)
        this process's one ``footage_mcp serve`` child."""
        if self.pid_file.exists():
            return int(self.pid_file.read_text(encoding="ascii"))
        return bridge_pid()

    async def faults(self, *rules: dict[str, Any]) -> None:
        response = await self.sandbox.put("/faults", json={"rules": list(rules)})
        assert response.status_code == 200, response.text

    async def call(self, tool: str, args: dict[str, Any] | None = None) -> CallToolResult:
        return await self.client.call_tool(tool, args or {})

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def message(result: CallToolResult) -> str | None:
    """The error text of a failed call (None when it succeeded)."""
    if not result.is_error:
        return None
    assert result.structured_content is None
    return str(result.content[0].text)  # type: ignore[union-attr]


@asynccontextmanager
async def session(
    sandbox: RunningSandbox,
    tmp: Path,
    env: dict[str, str] | None = None,
    token: str | None = None,
) -> AsyncIterator[Session]:
    """A bridge over real stdio (its stderr in ``tmp/bridge-stderr.log``, its cwd ``tmp``) and the
    sandbox's control API; fault rules are cleared at the end. The bridge is forked from the test
    worker's warm zygote (tests/forkrun.py); :attr:`Session.pid` is its own pid (the launcher writes it
    to a file outside ``tmp``, whose files are the bridge's own), for tests measuring the bridge's memory."""
    pid_file = Path(tempfile.mkdtemp(prefix="footage-bridge-pid-")) / "pid"
    params = warm_parameters(
        bridge_parameters(sandbox.base_url, token or sandbox.token, {**(env or {}), PID_FILE: str(pid_file)})
    )
    params.cwd = str(tmp)
    stderr = tmp / "bridge-stderr.log"
    origin = sandbox.base_url.removesuffix("/api/asset")
    with stderr.open("w", encoding="utf-8") as errlog:
        async with (
            httpx2.AsyncClient(base_url=origin + "/_sandbox", timeout=60) as control,
            Client(stdio_client(params, errlog=errlog), mode="legacy") as client,
        ):
            try:
                yield Session(client, control, stderr, pid_file)
            finally:
                shutil.rmtree(pid_file.parent, ignore_errors=True)
                await control.delete("/faults")
