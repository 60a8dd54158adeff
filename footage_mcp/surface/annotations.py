"""Tool annotations (MCP ``ToolAnnotations``), one constant per kind of tool."""

from __future__ import annotations

from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
"""Every tool of this bridge only reads from the Footage API (an open world)."""

ADDITIVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
"""A write that only adds (labels, keywords, album members) and may be repeated without harm."""
OVERWRITES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)
"""A write that overwrites or removes (names, descriptions, album members, labels); repeating it is harmless."""
CREATES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
"""A write that adds something new each time it is called (an album, a relation)."""
