"""What the model sees: compact JSON, sanitised text, and results kept under the output budget.

* **Compact**: nulls and empty lists/objects are dropped (``next_cursor`` stays, null on the last
  page); the text block is the same JSON without indentation, not a second pretty-printed copy.
* **Sanitised**: zero-width and bidirectional control characters are removed from every string
  (they can hide or reorder text, a prompt-injection vector); the token is redacted from every string
  *before* any cut (:class:`~footage_mcp.core.redact.Redactor`); a non-finite number (``NaN``,
  ``Infinity``) is an absent field (null in a list), never ``NaN`` in the text; nesting deeper than
  :data:`MAX_DEPTH` is cut with a note.
* **Budgeted**: a result's JSON stays under ``FOOTAGE_OUTPUT_BUDGET`` tokens, counted as
  characters / 4. A list page is shortened and its ``next_cursor`` resumes right after the last
  item shown; a single object has long texts and lists cut, with a ``note`` saying what was left out.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from footage_mcp.core.redact import Redactor
from footage_mcp.core.text import strip_invisible
from footage_mcp.rest.api import Listing

CHARS_PER_TOKEN = 4
MAX_DEPTH = 24
_NO_SECRETS = Redactor([])


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _visible(text: str) -> str:
    # every invisible code point and line separator is outside ASCII: an ASCII string (str.isascii is
    # a flag test in CPython) needs no regular expression
    return text if text.isascii() else strip_invisible(text)


def _tidy(value: Any, depth: int, cut: list[bool]) -> Any:
    """One walk: strings without invisible code points, non-finite numbers gone (null in a list),
    nesting deeper than :data:`MAX_DEPTH` replaced by "…" (``cut`` says so). Not redacted."""
    if isinstance(value, str):
        return value if value.isascii() else strip_invisible(value)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            cut.append(True)
            return "…"
        return {_visible(str(k)): _tidy(v, depth + 1, cut) for k, v in value.items() if not _non_finite(v)}
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            cut.append(True)
            return "…"
        return [None if _non_finite(v) else _tidy(v, depth + 1, cut) for v in value]
    return value


def _redacted(data: Any, text: str, redactor: Redactor) -> tuple[Any, str]:
    """``data`` and its JSON ``text`` with the token removed, walking ``data`` only when ``text``
    shows a trace of it (:meth:`Redactor.may_occur`); the text is redacted on its own too (a secret
    spelled across two fields)."""
    if redactor.may_occur(text):
        data = redactor.value(data)
        text = redactor.text(dumps(data))
    return data, text


def compact_dump(model: BaseModel, redactor: Redactor = _NO_SECRETS) -> dict[str, Any]:
    """The model as JSON-ready data: nulls, non-finite numbers and optional empties dropped, strings
    sanitised and redacted, nesting capped at :data:`MAX_DEPTH` (a ``note`` field says so)."""
    return _compact(model, redactor)[0]


def _compact(model: BaseModel, redactor: Redactor) -> tuple[dict[str, Any], str]:
    """:func:`compact_dump` and its JSON text (:func:`dumps`), made in one walk of the data."""
    fields = type(model).model_fields
    cut: list[bool] = []
    data: dict[str, Any] = _tidy(model.model_dump(mode="json", exclude_none=True), 0, cut)
    for name in list(data):
        if data[name] in ([], {}) and name in fields and not fields[name].is_required():
            del data[name]
    if "next_cursor" in fields:
        data.setdefault("next_cursor", None)
    cut_note = f"nesting deeper than {MAX_DEPTH} levels was cut"
    if cut and "note" in fields and cut_note not in (data.get("note") or ""):
        data["note"] = "; ".join(filter(None, [data.get("note"), cut_note]))
    return _redacted(data, dumps(data), redactor)


def size_chars(data: Any) -> int:
    return len(dumps(data))


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def depth_of(value: Any, limit: int) -> int:
    """The nesting depth of ``value`` (a scalar is 0), counted up to ``limit + 1`` at most."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def cap_depth(value: Any) -> tuple[Any, bool]:
    """``value`` with nesting deeper than :data:`MAX_DEPTH` replaced by "…"; (value, was it cut?)."""
    capped = _shrink(value, None, None, 0)
    return capped, capped != value


def fit_value(value: Any, budget_chars: int) -> tuple[Any, list[str]]:
    """``value`` shrunk until its JSON fits ``budget_chars``: nesting capped, then long strings and
    long lists cut in steps. Returns the value and notes on what was cut."""
    notes: list[str] = []
    capped = _shrink(value, None, None, 0)
    if capped != value:
        notes.append(f"nesting deeper than {MAX_DEPTH} levels was cut")
    value = capped
    if size_chars(value) <= budget_chars:
        return value, notes
    for max_items, max_chars in ((50, 2000), (20, 1000), (10, 400), (5, 160), (3, 80), (1, 40)):
        shrunk = _shrink(value, max_items, max_chars, 0)
        if size_chars(shrunk) <= budget_chars:
            return shrunk, [
                *notes,
                f"to fit the output budget, texts were cut to {max_chars} characters and lists to {max_items} entries",
            ]
    for max_keys in (20, 10, 5, 3, 1):  # objects with many fields (an API's raw JSON): fewer fields too
        shrunk = _shrink(value, 1, 40, 0, max_keys)
        if size_chars(shrunk) <= budget_chars:
            return shrunk, [
                *notes,
                "to fit the output budget, texts were cut to 40 characters, lists to 1 entry and objects to "
                f"their first {max_keys} fields",
            ]
    return {}, [*notes, "the value is too large to show within the output budget"]


def _shrink(value: Any, max_items: int | None, max_chars: int | None, depth: int, max_keys: int | None = None) -> Any:
    if depth >= MAX_DEPTH and isinstance(value, list | dict):
        return "…"
    if isinstance(value, str):
        return value if max_chars is None or len(value) <= max_chars else value[: max_chars - 1] + "…"
    if isinstance(value, list):
        kept = value if max_items is None else value[:max_items]
        return [_shrink(v, max_items, max_chars, depth + 1, max_keys) for v in kept]
    if isinstance(value, dict):
        pairs = list(value.items()) if max_keys is None else _first_fields(value, max_keys)
        return {k: _shrink(v, max_items, max_chars, depth + 1, max_keys) for k, v in pairs}
    return value


def _first_fields(value: dict[str, Any], max_keys: int) -> list[tuple[str, Any]]:
    """At most ``max_keys`` of ``value``'s fields, ``id`` and ``name`` first (what the caller needs
    to go on), then in order."""
    first = [(k, value[k]) for k in ("id", "name") if k in value]
    rest = [(k, v) for k, v in value.items() if k not in ("id", "name")]
    return (first + rest)[:max_keys]


KEPT_WHOLE = ("id", "path")
"""Fields a trimmed object keeps whole: what it is (an ``id``; ``api_get``'s ``path``)."""


def fit_object(model: BaseModel, budget_chars: int, redactor: Redactor = _NO_SECRETS) -> dict[str, Any]:
    """One object's data within the budget; ``note`` (and ``truncated``) say what was cut.
    The :data:`KEPT_WHOLE` fields are kept whole."""
    return _fit_object(model, budget_chars, redactor)[0]


def _fit_object(model: BaseModel, budget_chars: int, redactor: Redactor) -> tuple[dict[str, Any], str]:
    data, text = _compact(model, redactor)
    if len(text) <= budget_chars:
        return data, text
    fields = type(model).model_fields
    keep: dict[str, Any] = {k: data[k] for k in KEPT_WHOLE if k in data and isinstance(data[k], str)}
    rest = {k: v for k, v in data.items() if k not in keep}
    shrunk, notes = fit_value(rest, max(budget_chars - size_chars(keep) - 400, 200))  # 400: room for the note
    result: dict[str, Any] = {**keep, **(shrunk if isinstance(shrunk, dict) else {})}
    for name, info in fields.items():  # a required field survives, empty if it must
        if info.is_required() and name not in result:
            result[name] = type(data[name])() if isinstance(data[name], dict | list | str) else data[name]
    if "note" in fields:
        result["note"] = "; ".join(notes)
    if "truncated" in fields:
        result["truncated"] = True
    return _redacted(result, dumps(result), redactor)  # a cut can leave a secret's start before "…"


def fit_listing(listing: Listing[Any], key: str, budget_chars: int, redactor: Redactor = _NO_SECRETS) -> dict[str, Any]:
    """A list page within the budget: as many items as fit (at least one, trimmed if need be),
    ``next_cursor`` resuming right after the last item shown, and a note of how many were left out."""
    return _fit_listing(listing, key, budget_chars, redactor)[0]


def _fit_listing(listing: Listing[Any], key: str, budget_chars: int, redactor: Redactor) -> tuple[dict[str, Any], str]:
    data, text = _compact(listing.result, redactor)
    items: list[Any] = data[key]
    if len(text) <= budget_chars or not items:
        return data, text

    def page(n: int, first: Any = None) -> dict[str, Any]:
        left = len(items) - n
        shown = items[:n] if first is None else [first]
        note = f"{left} more items on this page were left out to stay under the output budget; pass next_cursor"
        extra = f"; {data['note']}" if data.get("note") else ""
        return {**data, key: shown, "next_cursor": listing.resume(n), "note": note + extra}

    low, high = 0, len(items) - 1  # the largest n in [1, len) that fits
    while low < high:
        mid = (low + high + 1) // 2
        if size_chars(page(mid)) <= budget_chars:
            low = mid
        else:
            high = mid - 1
    if low >= 1:
        result = page(low)
        return _redacted(result, dumps(result), redactor)
    # not even one item fits: show the first one trimmed (the listing must move on)
    room = max(budget_chars - size_chars(page(1, {})), 100)
    while True:
        first, _notes = fit_value(items[0], room)
        result = page(1, first)
        if size_chars(result) <= budget_chars or room <= 100:
            result["note"] = "the item was trimmed to fit the output budget; " + result["note"]
            return _redacted(result, dumps(result), redactor)  # a cut can leave a secret's start before "…"
        room //= 2


def to_result(
    outcome: BaseModel | Listing[Any], budget_tokens: int, redactor: Redactor = _NO_SECRETS
) -> CallToolResult:
    """The tool result: compact structured content and the same JSON as text, within the budget; the
    token is redacted (``redactor``) before anything is cut to fit, and again after a cut (a secret's
    start left before "…"), so the result needs no further redaction pass."""
    budget_chars = budget_tokens * CHARS_PER_TOKEN // 2  # the text block mirrors the structured content
    if isinstance(outcome, Listing):
        key = "albums" if "albums" in type(outcome.result).model_fields else "assets"
        data, text = _fit_listing(outcome, key, budget_chars, redactor)
    else:
        data, text = _fit_object(outcome, budget_chars, redactor)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
