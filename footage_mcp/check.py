"""``footage-mcp check``: configuration and connectivity, one line per check, never the token.

Checks, in order: routes file readable (only when ``FOOTAGE_ROUTES`` is set); token present;
base URL reachable (any HTTP answer); discovery root read (JSON with links); token accepted (one
album requested). Exit status 0 only when all pass.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

import anyio

from footage_mcp.api import FootageApi
from footage_mcp.client import RestClient, decode_json
from footage_mcp.config import TOKEN_HELP, Settings
from footage_mcp.discovery import parse_root_links
from footage_mcp.errors import ConfigError, FootageError, TransportError


async def run_checks(settings: Settings, out: TextIO) -> bool:
    """Run every check, print a line for each, return True when all passed."""
    results: list[bool] = []

    def line(ok: bool, name: str, detail: str) -> None:
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'}  {name:<16} {detail}", file=out, flush=True)

    overrides: dict[str, str] = {}
    if settings.routes is not None:
        try:
            overrides = settings.route_overrides()
            line(True, "routes file", f"{settings.routes}: {len(overrides)} routes ({', '.join(overrides)})")
        except ConfigError as exc:
            line(False, "routes file", exc.message)

    token = settings.token
    source = "FOOTAGE_API_TOKEN" if os.environ.get("FOOTAGE_API_TOKEN", "").strip() else "FOOTAGE_API_KEY"
    if token:
        line(True, "token present", f"{source} is set ({len(token)} characters)")
    else:
        line(False, "token present", f"no token: {TOKEN_HELP}")

    async with RestClient(settings) as rest:
        reachable = False
        try:
            fetched = await rest.get(settings.base_url + "/")
            line(True, "base URL", f"{settings.base_url} answered {fetched.status}")
            reachable = True
            links = parse_root_links(decode_json(fetched))
            names = ", ".join(link.name for link in links) or "none"
            line(
                bool(links),
                "discovery root",
                f"{len(links)} links ({names})"
                if links
                else "the root answered without links; the default routes will be used",
            )
        except TransportError as exc:
            line(False, "base URL", exc.message)
            line(False, "discovery root", "skipped: the base URL is unreachable")
        except FootageError as exc:
            reachable = True
            line(True, "base URL", f"{settings.base_url} answered")
            line(False, "discovery root", f"{exc.message} — check that FOOTAGE_BASE_URL ends in /api/asset")
        if not token:
            line(False, "token accepted", "skipped: no token")
        elif not reachable:
            line(False, "token accepted", "skipped: the base URL is unreachable")
        else:
            try:
                api = FootageApi(rest, overrides)
                page = (await api.list_albums(query=None, limit=1, cursor=None)).result
                total = f"{page.total} albums" if page.total is not None else "albums readable"
                line(True, "token accepted", f"the API accepted the token ({total})")
            except FootageError as exc:
                line(False, "token accepted", exc.message)
    return all(results)


def main(settings: Settings, out: TextIO = sys.stdout) -> int:
    async def run() -> bool:
        return await run_checks(settings, out)

    return 0 if anyio.run(run) else 1
