"""Two trees of the bridge side by side in ONE run: the per-call overhead of section 1 for a tree
before a change and this one, so that a loaded machine's noise falls on both alike.

Both bridges are spawned over stdio (each with its own tree's ``.venv/bin/python -m footage_mcp
serve``) by one SDK client process against one sandbox; every round calls the direct REST GET of the
same URL, the "before" bridge and this one, the order rotating. Prints REST p50, each bridge's p50,
p95 and added p50 (bridge p50 − REST p50), and each bridge's CPU per call (/proc/<pid>/stat).

    git worktree add /tmp/before <commit> && (cd /tmp/before && uv sync)
    uv run python bench/ab_trees.py /tmp/before [N]     # N rounds per operation (default 200)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
from harness import Sandbox, child_env, child_pids, interleaved, median, percentile, proc_cpu, sandbox, warm_up
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

HERE = Path(__file__).resolve().parent.parent


def params(tree: Path, sb: Sandbox) -> StdioServerParameters:
    settings = {"FOOTAGE_BASE_URL": sb.base_url, "FOOTAGE_API_TOKEN": sb.token, "PYTHONUTF8": "1"}
    return StdioServerParameters(
        command=str(tree / ".venv" / "bin" / "python"),
        args=["-m", "footage_mcp", "serve"],
        env=child_env({**os.environ, **settings}),
        cwd=str(tree),
    )


def new_pid(before: set[int]) -> int:
    found = [p for p in child_pids(os.getpid(), ["footage_mcp", "serve"]) if p not in before]
    if len(found) != 1:
        raise RuntimeError(f"cannot tell the bridge's pid: candidates {found}")
    before.add(found[0])
    return found[0]


async def main(before_tree: Path, rounds: int) -> None:
    trees = {"before": before_tree, "this": HERE}
    async with sandbox() as sb, httpx2.AsyncClient(headers={"apiKey": sb.token}, timeout=30) as http:
        with tempfile.TemporaryFile("w+") as err:
            seen = set(child_pids(os.getpid(), ["footage_mcp", "serve"]))
            async with Client(stdio_client(params(trees["before"], sb), errlog=err), mode="legacy") as a:
                pid_a = new_pid(seen)
                async with Client(stdio_client(params(trees["this"], sb), errlog=err), mode="legacy") as b:
                    pids = {"before": pid_a, "this": new_pid(seen)}
                    await a.list_tools()
                    await b.list_tools()
                    listed = await b.call_tool("list_albums", {"limit": 1})
                    album = (listed.structured_content or {})["albums"][0]["id"]
                    ops: list[tuple[str, dict[str, Any]]] = [
                        ("get_album", {"album_id": album}),
                        ("search_assets", {"query": "Paris", "limit": 20}),
                        ("list_album_assets", {"album_id": album, "limit": 20}),
                    ]
                    for tool, args in ops:
                        await http.delete(f"{sb.control}/requests")
                        await b.call_tool(tool, args)
                        log = (await http.get(f"{sb.control}/requests")).json()
                        entry = [e for e in log if e["path"].rstrip("/") != "/api/asset"][-1]
                        url = f"{sb.origin}{entry['path']}" + (f"?{entry['query']}" if entry["query"] else "")

                        async def rest(u: str = url) -> None:
                            (await http.get(u)).raise_for_status()

                        def caller(c: Client, t: str = tool, x: dict[str, Any] = args) -> Callable[[], Awaitable[None]]:
                            async def call() -> None:
                                if (await c.call_tool(t, x)).is_error:
                                    raise RuntimeError(f"{t} failed")

                            return call

                        callers = [("rest", rest), ("before", caller(a)), ("this", caller(b))]
                        await warm_up(callers, 20)
                        cpu0 = {k: proc_cpu(p) for k, p in pids.items()}
                        samples = await interleaved(callers, rounds)
                        cpu = {k: (proc_cpu(p) - cpu0[k]) / rounds * 1e3 for k, p in pids.items()}
                        rest50 = median(samples["rest"])
                        cells = [
                            f"{k}: p50 {median(samples[k]) * 1e3:.2f} p95 {percentile(samples[k], 95) * 1e3:.2f} "
                            f"added +{(median(samples[k]) - rest50) * 1e3:.2f} ms, CPU {cpu[k]:.2f} ms/call"
                            for k in ("before", "this")
                        ]
                        print(f"{tool:18s} REST p50 {rest50 * 1e3:.2f} ms | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    subprocess.run(["uptime"], check=False)  # the load average belongs next to every figure
    asyncio.run(main(Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 200))
    subprocess.run(["uptime"], check=False)
