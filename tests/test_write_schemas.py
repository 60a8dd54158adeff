"""Snapshot of the write tools' public schemas (listed only with FOOTAGE_ALLOW_WRITES=true), kept apart
from tests/snapshots/tools.json (the default listing, which has no write tool). Regenerate on purpose:

    UPDATE_SNAPSHOTS=1 uv run pytest -p no:xdist tests/test_write_schemas.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from footage_mcp.core.settings import Settings
from footage_mcp.surface.server import build_server
from footage_mcp.surface.tools.writes import WRITE_TOOLS

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools-writes.json"

pytestmark = pytest.mark.anyio


async def _write_tools() -> list[dict[str, Any]]:
    server = build_server(Settings(base_url="https://app.footage.one/api/asset", allow_writes=True))
    async with Client(server, mode="legacy") as client:
        tools = (await client.list_tools()).tools
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools if t.name in WRITE_TOOLS]


async def test_write_tool_schemas_match_the_snapshot() -> None:
    current = await _write_tools()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == recorded, "write tool schemas changed: review, then UPDATE_SNAPSHOTS=1 uv run pytest ..."


def _arrays(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "array":
            found.append(schema)
        for value in schema.values():
            found += _arrays(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _arrays(value)
    return found


async def test_every_write_tool_is_described_bounded_and_annotated() -> None:
    tools = {t["name"]: t for t in await _write_tools()}
    assert set(tools) == WRITE_TOOLS
    for name, tool in tools.items():
        assert re.fullmatch(r"^[a-z][a-z0-9_]{0,39}$", name)
        assert tool["title"] and len(tool["description"]) > 40
        assert set(tool["annotations"]) == {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
        assert tool["annotations"]["readOnlyHint"] is False
        for param, schema in tool["inputSchema"]["properties"].items():
            assert schema.get("description"), f"{name}.{param}"
            assert param not in ("plan", "answer"), "resolver parameters must not be listed"
        for array in _arrays(tool["inputSchema"]) + _arrays(tool["outputSchema"]):
            assert "items" in array, name
        bounds = {p: (s.get("minItems"), s.get("maxItems")) for p, s in tool["inputSchema"]["properties"].items()}
        if "asset_ids" in bounds:
            assert bounds["asset_ids"] == (1, 500)
        for param in ("labels", "keywords"):
            if param in bounds:
                assert bounds[param] == (1, 20)


async def test_write_tool_schemas_pass_the_portability_lint() -> None:
    from tests.test_portability import gemini_violations, host_violations, openai_violations

    problems: list[str] = []
    for tool in await _write_tools():
        name, inp = tool["name"], tool["inputSchema"]
        problems += [f"{name} input: {p}" for p in host_violations(inp, output=False)]
        problems += [f"{name} input (OpenAI): {p}" for p in openai_violations(inp)]
        problems += [f"{name} input (Gemini): {p}" for p in gemini_violations(inp)]
        problems += [f"{name} output: {p}" for p in host_violations(tool["outputSchema"], output=True)]
    assert problems == []
