"""``footage-mcp check``: configuration and connectivity, one line per check, never the token.

Checks, in order: token present; base URL reachable; discovery root read; token accepted
(one album requested). Exit status 0 only when all pass.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import anyio

from footage_mcp.api import FootageApi
from footage_mcp.client import RestClient
from footage_mcp.config import TOKEN_HELP, Settings
from footage_mcp.errors import FootageError, TransportError


async def run_checks(settings: Settings, out: TextIO) -> bool:
    """Run every check, print a line for each, return True when all passed."""
    results: list[bool] = []

    def line(ok: bool, name: str, detail: str) -> None:
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'}  {name:<16} {detail}", file=out, flush=True)

    token = settings.token
    if token:
        line(True, "token present", f"FOOTAGE_API_TOKEN is set ({len(token)} characters)")
    else:
        line(False, "token present", f"FOOTAGE_API_TOKEN is not set: {TOKEN_HELP}")

    async with RestClient(settings) as rest:
        api = FootageApi(rest, settings.route_overrides())
        root_ok = False
        try:
            fetched = await rest.get(settings.base_url + "/")
            line(True, "base URL", f"{settings.base_url} answered {fetched.status}")
            root_ok = True
        except TransportError as exc:
            line(False, "base URL", exc.message)
        except FootageError as exc:
            line(True, "base URL", f"{settings.base_url} answered (but: {exc.message})")
        try:
            links = await api.api_links() if root_ok else None
            if links is None:
                line(False, "discovery root", "skipped: the base URL is unreachable")
            else:
                names = ", ".join(link.name for link in links.links[:8]) or "none"
                line(True, "discovery root", f"{len(links.links)} links ({names})")
        except FootageError as exc:
            line(False, "discovery root", exc.message)
        if not token:
            line(False, "token accepted", "skipped: no token")
        elif not root_ok:
            line(False, "token accepted", "skipped: the base URL is unreachable")
        else:
            try:
                page = await api.list_albums(query=None, limit=1, cursor=None)
                total = f"{page.total} albums" if page.total is not None else "albums readable"
                line(True, "token accepted", f"the API accepted the token ({total})")
            except FootageError as exc:
                line(False, "token accepted", exc.message)
    return all(results)


def main(settings: Settings, out: TextIO = sys.stdout) -> int:
    runner: Callable[[], object] = lambda: run_checks(settings, out)  # noqa: E731
    return 0 if anyio.run(runner) else 1  # type: ignore[arg-type]
