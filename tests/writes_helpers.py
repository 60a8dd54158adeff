"""Helpers for the write tests: the sandbox's state as a comparable map, and its difference."""

from __future__ import annotations

from typing import Any

from mcp.types import CallToolResult


def index(state: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{("album"|"asset", id): fields}`` from ``GET /_sandbox/state``."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for album in state["albums"]:
        found[("album", album["id"])] = album
    for asset in state["assets"]:
        found[("asset", asset["id"])] = asset
    return found


def diff(before: dict[str, Any], after: dict[str, Any]) -> set[tuple[str, str, str]]:
    """``(kind, id, field)`` of every field that differs (a new object: ``(kind, id, "created")``)."""
    old, new = index(before), index(after)
    changed: set[tuple[str, str, str]] = set()
    for key, fields in new.items():
        if key not in old:
            changed.add((key[0], key[1], "created"))
            continue
        for name, value in fields.items():
            if old[key].get(name) != value:
                changed.add((key[0], key[1], name))
    for key in old.keys() - new.keys():
        changed.add((key[0], key[1], "deleted"))
    return changed


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return str(result.content[0].text)  # type: ignore[union-attr]
