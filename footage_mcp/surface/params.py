"""Argument types and checks shared by tools, resources and prompts: ids, limits, cursors, dates,
and the one-line message for arguments that fail the input schema."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError

from footage_mcp.core.errors import InvalidArgument
from footage_mcp.core.text import has_control

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID_CHARS = 256
MAX_TEXT_CHARS = 500


def _number_to_text(value: Any) -> Any:
    """Models sometimes send ids and cursors as numbers: take them as text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Text = BeforeValidator(_number_to_text)
Lowercase = BeforeValidator(_lower)

AlbumId = Annotated[str, Text, Field(description="Album id (from list_albums).")]
AssetId = Annotated[str, Text, Field(description="Asset id (from search_assets or list_album_assets).")]
Limit = Annotated[
    int | None,
    Field(description=f"Page size, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT})."),
]
Cursor = Annotated[
    str | None,
    Text,
    Field(description="next_cursor of the previous page (unchanged); omit at first."),
]

EXAMPLES: dict[str, str] = {
    "album_id": "album_id='<an id from list_albums>'",
    "asset_id": "asset_id='<an id from search_assets>'",
    "limit": "limit=20",
    "cursor": "cursor='<next_cursor of the previous result>'",
    "query": "query='eiffel tower night'",
    "media_type": "media_type='video'",
    "created_after": "created_after='2020-01-01'",
    "created_before": "created_before='2023-12-31'",
    "label": "label='editorial'",
    "keyword": "keyword='Paris'",
    "path": "path='albums'",
    "api_get.query": "query='size=5&q=paris'",
}


def describe_validation_error(tool: str, exc: ValidationError) -> str:
    """One short line for arguments that failed the input schema, naming each parameter with an
    example of a valid value; never the rejected value itself."""
    parts: list[str] = []
    for err in exc.errors()[:3]:
        param = str(err["loc"][0]) if err["loc"] else "arguments"
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind == "missing":
            text = f"{param} is required"
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            text = f"{param} must be a whole number"
        elif kind == "literal_error":
            text = f"{param} must be one of {ctx.get('expected', 'the listed values')}"
        elif kind == "string_too_long":
            text = f"{param} is too long (at most {ctx.get('max_length')} characters)"
        elif kind in ("string_type", "string_unicode"):
            text = f"{param} must be a string"
        elif kind in ("dict_type", "model_type"):
            text = f"{param} must be an object of name → value"
        else:
            text = f"{param}: {str(err['msg']).lower()}"
        example = EXAMPLES.get(f"{tool}.{param}") or EXAMPLES.get(param)
        parts.append(f"{text} (e.g. {example})" if example else text)
    return f"invalid arguments for {tool}: " + "; ".join(parts)


def clamp_limit(limit: int | None) -> int:
    """``limit`` within 1–100; None (a host sending null) means the default."""
    return DEFAULT_LIMIT if limit is None else max(1, min(MAX_LIMIT, int(limit)))


def check_id(value: str, what: str) -> str:
    """A stripped id, or InvalidArgument (empty, too long, control characters, '.' or '..')."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidArgument(f"{what}_id must not be empty; e.g. {_example(what)}")
    if len(text) > MAX_ID_CHARS:
        raise InvalidArgument(
            f"{what}_id is longer than {MAX_ID_CHARS} characters; pass an id as listed, e.g. {_example(what)}"
        )
    if has_control(text) or text in (".", ".."):
        raise InvalidArgument(f"{what}_id contains characters no id has; pass an id as listed, e.g. {_example(what)}")
    return text


def _example(what: str) -> str:
    return "an 'id' from list_albums" if what == "album" else "an 'id' from search_assets"


_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def check_date(value: str | None, name: str, *, end: bool = False) -> str | None:
    """An ISO 8601 date or date-time, normalised; InvalidArgument otherwise.

    Reduced precision (ISO 8601 allows it) is a whole year (``2019``) or month (``2019-06``): its first
    day, or with ``end`` (``created_before``, inclusive) its last day (``2019-12-31``, ``2019-06-30``)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if _YEAR.fullmatch(text):
            return f"{text}-12-31" if end else f"{text}-01-01"
        month = _MONTH.fullmatch(text)
        if month:
            year, number = int(month.group(1)), int(month.group(2))
            first = date(year, number, 1)
            if not end:
                return first.isoformat()
            following = date(year + number // 12, number % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1).isoformat()
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        return moment.isoformat()
    except ValueError:
        raise InvalidArgument(
            f"{name} must be an ISO 8601 date such as 2024-05-31 (or 2024-05-31T12:00:00Z, or 2024-05, or 2024)"
        ) from None
