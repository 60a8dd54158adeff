"""Portable JSON Schemas for tool listings.

pydantic's schemas are correct but not portable: they use ``$ref``/``$defs``, ``title`` on every
node, ``anyOf [X, null]`` for optional values, ``default`` and length limits — all of which some
MCP hosts or model APIs reject or choke on (OpenAI strict function calling, Gemini function
declarations, clients that do not resolve ``$ref``). :func:`portable_input` and
:func:`portable_output` rewrite a schema into the common subset:

* every ``$ref`` inlined, ``$defs`` removed;
* ``title`` and ``default`` removed (defaults are stated in the descriptions);
* an optional parameter (``anyOf [X, {"type": "null"}]``, not required) is served as
  ``{"anyOf": [{X, "description": D}, {"type": "null"}], "description": D}``: not required (Claude,
  Gemini), and nullable for the strict converters (OpenAI Agents' ``convert_schemas_to_strict``,
  LangChain's ``strict=True``), which mark every property required, so that a strict model can still
  say "not given" with null instead of having to pick a value (every ``media_type``, say). One ``type``
  per branch: a ``type`` array is what single-type dialects such as Gemini's reject, and what MCP
  Inspector --strict flags. The description stands once, beside ``anyOf``: repeating it inside the
  non-null branch would keep it through Google ADK's conversion (``google.genai``
  ``Schema.from_json_schema`` keeps only that branch), at about 530 tokens of ``tools/list`` (15 %),
  which the listing's budget (issue 13: 3,500 tokens without writes) does not have; ADK's models see
  the tool's description and the parameter names, not these parameter descriptions;
* every object with ``properties`` in an input gets ``additionalProperties: false`` (a tool without
  arguments included): OpenAI Agents' strict conversion refuses an open object, and falls back to
  non-strict without telling anyone;
* elsewhere ``anyOf [X, {"type": "null"}]`` is collapsed to ``X``; in outputs a value that may
  really be null (``next_cursor``) becomes ``{"anyOf": [{"type": X}, {"type": "null"}]}``;
* ``maxLength``/``minLength`` removed from inputs (the server still enforces them);
* descriptions removed from outputs (see :data:`DROP_OUTPUT`);
* in outputs, an object that is an array's item declares only its required properties (see
  :func:`portable_output`).

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
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    optional = [
        name
        for name, sub in (schema.get("properties") or {}).items()
        if name not in required and isinstance(sub, Mapping) and _nullable_base(sub) is not None
    ]
    result: dict[str, Any] = _rewrite(schema, defs, DROP_ALWAYS | DROP_INPUT, output=False)
    for name in optional:
        result["properties"][name] = _nullable_parameter(result["properties"][name])
    closed: dict[str, Any] = _closed(result)
    return closed


def _nullable_parameter(collapsed: dict[str, Any]) -> dict[str, Any]:
    """``{"anyOf": [X, {"type": "null"}], "description": D}`` from the collapsed ``X`` (with ``D``)."""
    branch = dict(collapsed)
    description = branch.pop("description", None)
    kept = {"description": description} if description else {}
    return {"anyOf": [branch, {"type": "null"}], **kept}


def _closed(node: Any) -> Any:
    """``node`` with ``additionalProperties: false`` on every object that declares ``properties``
    and says nothing of additional ones."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    result = {k: (_closed(v) if k != "properties" else {n: _closed(p) for n, p in v.items()}) for k, v in node.items()}
    if "properties" in result and "additionalProperties" not in result:
        result["additionalProperties"] = False
    return result


def portable_output(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The portable form of a tool's output schema (objects open: ``additionalProperties: false`` is
    dropped, since no strict converter reads outputs and it costs listing tokens)."""
    result: dict[str, Any] = _rewrite(schema, schema.get("$defs", {}), DROP_ALWAYS | DROP_OUTPUT, output=True)
    lean: dict[str, Any] = _lean_items(_opened(result))
    return lean


def _lean_items(node: Any) -> Any:
    """``node`` with every object that is an array's ``items`` declaring only its required
    properties (``id`` for a list page's albums and assets); the others stay allowed, as in every
    output object, and the tool's description names them.

    Why: an MCP client checks ``structuredContent`` against the output schema on every call, and the
    Python SDK's client (``jsonschema``) pays one sub-validator per declared property present in the
    instance, about 5–10 µs each on a 2-core machine. A 20-hit page of six-field summaries cost ~140
    of them (1.6 ms at load 5), ~46 with ``id`` alone (measured with bench/run.py section 1 and a
    micro-benchmark: docs/benchmarks.md, "Where the time goes"). An object's own fields keep their
    schemas (``get_asset``'s, ``get_album``'s): they are what the tool is for; only the objects of a
    list in it (renditions, relations, a page's items) are declared by their required fields."""
    if isinstance(node, list):
        return [_lean_items(n) for n in node]
    if not isinstance(node, dict):
        return node
    result = {k: _lean_items(v) for k, v in node.items()}
    items = result.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict) and items.get("required"):
        kept = {name: sub for name, sub in items["properties"].items() if name in items["required"]}
        result["items"] = {**items, "properties": kept}
    return result


def _opened(node: Any) -> Any:
    if isinstance(node, list):
        return [_opened(n) for n in node]
    if not isinstance(node, dict):
        return node
    return {k: _opened(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}


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
