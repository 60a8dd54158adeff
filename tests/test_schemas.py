"""Snapshot of every tool's public schema (name, title, description, input and output schema,
annotations). A change fails this test until the snapshot is regenerated on purpose:

    UPDATE_SNAPSHOTS=1 uv run pytest -n0 tests/test_schemas.py

A missing snapshot fails too (it is never written and then compared with itself); under CI (``CI`` set,
as ``.ci/run`` and CI services do) ``UPDATE_SNAPSHOTS`` is refused, so CI can only compare.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
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


REGENERATE = "UPDATE_SNAPSHOTS=1 uv run pytest -n0 tests/test_schemas.py"


def under_ci(env: Mapping[str, str]) -> bool:
    """Whether ``CI`` is set to anything but an empty, ``0`` or ``false`` value."""
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def compare_with_snapshot(current: list[dict[str, Any]], snapshot: Path, env: Mapping[str, str]) -> None:
    """Assert ``current`` equals the recorded ``snapshot``. With ``UPDATE_SNAPSHOTS=1`` (never under CI)
    write it instead. A missing snapshot fails: there is nothing to compare with."""
    if env.get("UPDATE_SNAPSHOTS") == "1":
        if under_ci(env):
            pytest.fail("UPDATE_SNAPSHOTS is refused under CI: regenerate the snapshot locally and commit it")
        snapshot.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    if not snapshot.exists():
        pytest.fail(f"the snapshot {snapshot.name} is missing: generate it with {REGENERATE}, review it, commit it")
    recorded = json.loads(snapshot.read_text(encoding="utf-8"))
    assert current == recorded, f"tool schemas changed: review, then {REGENERATE}"


async def test_tool_schemas_match_the_snapshot() -> None:
    compare_with_snapshot(await _tools(), SNAPSHOT, os.environ)


@pytest.mark.parametrize("env", [{}, {"CI": "true"}, {"CI": "1"}], ids=["local", "ci-true", "ci-1"])
def test_a_missing_snapshot_fails_and_is_not_written(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "tools.json"
    with pytest.raises(pytest.fail.Exception, match=r"the snapshot tools\.json is missing: generate it with"):
        compare_with_snapshot([{"name": "x"}], missing, env)
    assert not missing.exists()


def test_under_ci_the_snapshot_is_only_compared(tmp_path: Path) -> None:
    snapshot = tmp_path / "tools.json"
    snapshot.write_text('[{"name": "old"}]', encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="UPDATE_SNAPSHOTS is refused under CI"):
        compare_with_snapshot([{"name": "new"}], snapshot, {"CI": "true", "UPDATE_SNAPSHOTS": "1"})
    with pytest.raises(AssertionError, match="tool schemas changed"):
        compare_with_snapshot([{"name": "new"}], snapshot, {"CI": "true"})
    compare_with_snapshot([{"name": "new"}], snapshot, {"UPDATE_SNAPSHOTS": "1"})  # locally: regenerated
    assert json.loads(snapshot.read_text(encoding="utf-8")) == [{"name": "new"}]
    compare_with_snapshot([{"name": "new"}], snapshot, {"CI": "false"})


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
        if name not in ("get_asset_preview", "get_contact_sheet"):  # images: no structured content
            assert tool["outputSchema"]["type"] == "object", name
    assert tools["search_assets"]["inputSchema"].get("required", []) == []
    assert tools["get_album"]["inputSchema"]["required"] == ["album_id"]
    assert set(tools["list_albums"]["outputSchema"]["properties"]) >= {"albums", "next_cursor", "total"}
