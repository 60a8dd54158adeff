"""Tool annotations (MCP ``ToolAnnotations``), one constant per kind of tool."""

from __future__ import annotations

from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
"""Every tool of this bridge only reads from the Footage API (an open world)."""
