"""The canary token: every tool and resource through real stdio at DEBUG log level; the token
must appear nowhere — not in stdout (raw JSON-RPC bytes), stderr, or any result."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from canary_plugin import TOKEN
from forkrun import warm_sandbox
from mcp import Client, StdioServerParameters

from footage_mcp.cli.launch import bridge_parameters
from footage_mcp.sandbox.library import build_library

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CANARY = TOKEN[:21]  # 21 characters of the suite's canary: the canary plugin searches for it too


def teed(params: StdioServerParameters, out: Path, err: Path) -> StdioServerParameters:
    """The same server, with its raw stdout copied to ``out`` and stderr written to ``err``."""
    command = " ".join(shlex.quote(part) for part in [params.command, *params.args])
    script = f"{command} 2>{shlex.quote(str(err))} | tee {shlex.quote(str(out))}"
    return StdioServerParameters(command="/bin/sh", args=["-c", script], env=params.env)


async def test_the_token_appears_in_no_output(tmp_path: Path) -> None:
    lib = build_library()
    album, asset = lib.albums[0], lib.assets[0]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_albums", {}),
        ("list_albums", {"query": CANARY}),
        ("get_album", {"album_id": album.id}),
        ("get_album", {"album_id": "missing"}),
        ("list_album_assets", {"album_id": album.id}),
        ("search_assets", {"query": "France"}),
        ("search_assets", {"created_after": "bad"}),
        ("get_asset", {"asset_id": asset.id}),
        ("get_asset_preview", {"asset_id": asset.id}),
        ("get_archive_configuration", {}),
        ("list_api_links", {}),
        ("api_get", {"path": "albums"}),
        ("api_get", {"path": "no/such/route"}),
        ("api_get", {"path": "../x"}),
        ("list_albums", {"cursor": "forged"}),
    ]
    out, err = tmp_path / "stdout.bin", tmp_path / "stderr.log"
    results: list[str] = []
    with warm_sandbox(token=CANARY) as sandbox:
        params = teed(bridge_parameters(sandbox.base_url, CANARY, {"FOOTAGE_LOG_LEVEL": "DEBUG"}), out, err)
        async with Client(params, mode="legacy") as client:
            for name, args in calls:
                result = await client.call_tool(name, args)
                results.append(result.model_dump_json())
            for uri in (
                "footage://albums",
                f"footage://albums/{album.id}",
                f"footage://assets/{asset.id}",
                f"footage://assets/{asset.id}/preview",
                "footage://archive/configuration",
            ):
                results.append((await client.read_resource(uri)).model_dump_json())
    raw_out, raw_err = out.read_bytes(), err.read_bytes()
    assert len(raw_out) > 10_000 and b"httpcore" in raw_err  # the capture worked, DEBUG logs were on
    # the canary also went out as a query (httpx2 logs request URLs at INFO): redaction must catch it
    for blob in (raw_out, raw_err, "".join(results).encode()):
        assert CANARY.encode() not in blob
    for line in raw_out.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"  # nothing but JSON-RPC on stdout
