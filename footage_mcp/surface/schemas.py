"""Portable JSON Schemas for tool listings.

pydantic's schemas are correct but not portable: they use ``$ref``/``$defs``, ``title`` on every
node, ``anyOf [X, null]`` for optional values, ``default`` and length limits — all of which some
MCP hosts or model APIs reject or choke on (OpenAI strict function calling, Gemini function
declarations, clients that do not resolve ``$ref``). :func:`portable_input` and
:func:`portable_output` rewrite a schema into the common subset:

* every ``$ref`` inlined, ``$defs`` removed;
* ``title`` and ``default`` removed (defaults are stated in the descriptions);
* ``anyOf [X, {"type": "null"}]`` collapsed to ``X`` — an optional parameter is simply not
  required; in outputs a value that may really be null (``next_cursor``) becomes
  ``{"anyOf": [{"type": X}, {"type": "null"}]}`` (one ``type`` per branch: a ``type`` array is
  what single-type dialects such as Gemini's reject, and what MCP Inspector --strict flags);
* ``maxLength``/``minLength`` removed from inputs (the server still enforces them);
* descriptions removed from outputs (see :data:`DROP_OUTPUT`).

Validation is unchanged: the server validates arguments with its own pydantic models.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

DROP_ALWAYS = frozenset({"title", "default", "$defs", "definitions"})
DROP_INPUT = frozenset({"maxLength", "minLength"})
DROP_OUTPUT = frozenset({"description"})
"""Output schemas carry no descriptions: field names state their units (``size_bytes``,
``duration_seconds``), the listing stays lean, and hosts do not show output schemas to the model."""
NULLABLE_OUTPUT_FIELDS = frozenset({"next_cursor"})
"""Output fields that are present with the value null (all other absent values are omitted)."""


def portable_input(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The portable form of a tool's input schema."""
    result: dict[str, Any] = _rewrite(schema, schema.get("$defs", {}), DROP_ALWAYS | DROP_INPUT, output=False)
    return result


def portable_output(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The portable form of a tool's output schema."""
    result: dict[str, Any] = _rewrite(schema, schema.get("$defs", {}), DROP_ALWAYS | DROP_OUTPUT, output=True)
    return result


def _rewrite(node: Any, defs: Mapping[str, Any], drop: frozenset[str], *, output: bool, depth: int = 0) -> Any:
    if depth > 32:
        raise ValueError("schema nests too deeply (a recursive $ref?)")
    if isinstance(node, list):
        return [_rewrite(n, defs, drop, output=output, depth=depth + 1) for n in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        merged = {**copy.deepcopy(defs[name]), **{k: v for k, v in node.items() if k != "$ref"}}
        return _rewrite(merged, defs, drop, output=output, depth=depth + 1)
    nullable_base = _nullable_base(node)
    if nullable_base is not None:
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return _rewrite({**nullable_base, **rest}, defs, drop, output=output, depth=depth + 1)
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in drop:
            continue
        if key == "properties" and isinstance(value, Mapping):
            result[key] = {
                name: _property(name, sub, defs, drop, output=output, depth=depth + 1) for name, sub in value.items()
            }
        else:
            result[key] = _rewrite(value, defs, drop, output=output, depth=depth + 1)
    return result


def _property(name: str, sub: Any, defs: Mapping[str, Any], drop: frozenset[str], *, output: bool, depth: int) -> Any:
    rewritten = _rewrite(sub, defs, drop, output=output, depth=depth)
    if output and name in NULLABLE_OUTPUT_FIELDS and isinstance(rewritten.get("type"), str):
        kind = rewritten.pop("type")
        rewritten["anyOf"] = [{"type": kind}, {"type": "null"}]
    return rewritten


def _nullable_base(node: Mapping[str, Any]) -> dict[str, Any] | None:
    """X when ``node`` is ``anyOf [X, {"type": "null"}]`` (either order), else None."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return None
    non_null = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
    if len(non_null) != 1 or not isinstance(non_null[0], Mapping):
        return None
    return dict(non_null[0])
