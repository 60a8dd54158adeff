"""Snapshot of every tool's public schema (name, title, description, input and output schema,
annotations). A change fails this test until the snapshot is regenerated on purpose:

    UPDATE_SNAPSHOTS=1 uv run pytest tests/test_schemas.py
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
from tests.conftest import INTERFACE_TOOLS

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
EXPECTED_TOOLS = INTERFACE_TOOLS

pytestmark = pytest.mark.anyio


async def _tools() -> list[dict[str, Any]]:
    server = build_server(Settings(base_url="https://app.footage.one/api/asset"))
    async with Client(server, mode="legacy") as client:
        tools = (await client.list_tools()).tools
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


async def test_tool_schemas_match_the_snapshot() -> None:
    current = await _tools()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == recorded, (
        "tool schemas changed: review, then UPDATE_SNAPSHOTS=1 uv run pytest tests/test_schemas.py"
    )


async def test_every_interface_tool_is_offered_with_title_descriptions_and_annotations() -> None:
    tools = {t["name"]: t for t in await _tools()}
    assert set(tools) == EXPECTED_TOOLS
    for name, tool in tools.items():
        assert re.fullmatch(r"^[a-z][a-z0-9_]{0,39}$", name)
        assert tool["title"] and len(tool["description"]) > 40
        writes_a_file = name == "download_asset"  # a new local file per call (interface.md 0.2)
        assert tool["annotations"] == {
            "readOnlyHint": not writes_a_file,
            "destructiveHint": False,
            "idempotentHint": not writes_a_file,
            "openWorldHint": True,
        }
        for param, schema in tool["inputSchema"].get("properties", {}).items():
            assert schema.get("description"), f"{name}.{param} has no description"
        if name != "get_asset_preview":
            assert tool["outputSchema"]["type"] == "object", name
    assert tools["search_assets"]["inputSchema"].get("required", []) == []
    assert tools["get_album"]["inputSchema"]["required"] == ["album_id"]
    assert set(tools["list_albums"]["outputSchema"]["properties"]) >= {"albums", "next_cursor", "total"}
