"""What every tool module shares: argument types and checks, the lifespan state, and :func:`guarded`.

A tool hands :func:`guarded` an operation on the :class:`~footage_mcp.api.FootageApi`. ``guarded``
runs it within the call budget (timeout plus retries), renders its model or list page within the
output budget (:mod:`footage_mcp.render`), removes the token from whatever comes back, and turns a
:class:`~footage_mcp.errors.FootageError` into one short ``isError`` message without structured
content. An unexpected exception is logged (to stderr, redacted) and reported as an internal error
without its text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from footage_mcp.api import FootageApi, Listing
from footage_mcp.errors import FootageError, InvalidArgument, TransportError
from footage_mcp.render import strip_invisible, to_result

log = logging.getLogger("footage_mcp.tools")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID_CHARS = 256
MAX_TEXT_CHARS = 500

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
"""Every tool of this bridge only reads from the Footage API (an open world)."""


@dataclass(frozen=True, slots=True)
class AppState:
    """The lifespan state: one :class:`FootageApi` (one HTTP pool) for the server's lifetime."""

    api: FootageApi


def _number_to_text(value: Any) -> Any:
    """Models sometimes send ids and cursors as numbers: take them as text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Text = BeforeValidator(_number_to_text)
Lowercase = BeforeValidator(_lower)

AlbumId = Annotated[str, Text, Field(description="Album id, as returned by list_albums (e.g. the 'id' of an album).")]
AssetId = Annotated[str, Text, Field(description="Asset id, as returned by search_assets or list_album_assets.")]
Limit = Annotated[
    int | None,
    Field(description=f"Items per page, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT}); out-of-range values are clamped."),
]
Cursor = Annotated[
    str | None,
    Text,
    Field(description="Opaque next_cursor from the previous page of the same listing; omit for the first page."),
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


def api_of(ctx: Context[Any, Any]) -> FootageApi:
    state: AppState = ctx.request_context.lifespan_context
    return state.api


def clamp_limit(limit: int | None) -> int:
    """``limit`` within 1–100; None (a host sending null) means the default."""
    return DEFAULT_LIMIT if limit is None else max(1, min(MAX_LIMIT, int(limit)))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_id(value: str, what: str) -> str:
    """A stripped id, or InvalidArgument (empty, too long, control characters, '.' or '..')."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidArgument(f"{what}_id must not be empty; e.g. {_example(what)}")
    if len(text) > MAX_ID_CHARS:
        raise InvalidArgument(
            f"{what}_id is longer than {MAX_ID_CHARS} characters; pass an id as listed, e.g. {_example(what)}"
        )
    if _CONTROL.search(text) or text in (".", ".."):
        raise InvalidArgument(f"{what}_id contains characters no id has; pass an id as listed, e.g. {_example(what)}")
    return text


def _example(what: str) -> str:
    return "an 'id' from list_albums" if what == "album" else "an 'id' from search_assets"


def check_date(value: str | None, name: str) -> str | None:
    """An ISO 8601 date or date-time, normalised; InvalidArgument otherwise."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        return moment.isoformat()
    except ValueError:
        raise InvalidArgument(f"{name} must be an ISO 8601 date such as 2024-05-31 (or 2024-05-31T12:00:00Z)") from None


T = TypeVar("T")


async def within_budget(api: FootageApi, op: Callable[[FootageApi], Awaitable[T]]) -> T:
    """Run ``op`` under the call budget (FOOTAGE_TIMEOUT + FOOTAGE_RETRY_BUDGET seconds).

    Raises:
        TransportError: the budget ran out (the in-flight request is cancelled).
    """
    budget = api.rest.settings.call_budget
    try:
        with anyio.fail_after(budget):
            return await op(api)
    except TimeoutError:
        raise TransportError(
            f"the call did not finish within {budget:g} s (FOOTAGE_TIMEOUT plus retries); try again later"
        ) from None


def error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=strip_invisible(message))], is_error=True)


def redact(value: Any, secret: str | None) -> Any:
    """``value`` (JSON-like) with every occurrence of ``secret`` in strings and keys replaced."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, "[redacted]")
    if isinstance(value, list):
        return [redact(v, secret) for v in value]
    if isinstance(value, dict):
        return {redact(k, secret): redact(v, secret) for k, v in value.items()}
    return value


def redact_result(result: CallToolResult, secret: str | None) -> CallToolResult:
    """The result with the token removed from text blocks and structured content (an API may
    echo the token in a body; the model must never see it)."""
    if not secret:
        return result
    content = [
        TextContent(type="text", text=block.text.replace(secret, "[redacted]"))
        if isinstance(block, TextContent)
        else block
        for block in result.content
    ]
    structured = redact(result.structured_content, secret)
    return CallToolResult(content=content, structured_content=structured, is_error=result.is_error)


Outcome = BaseModel | Listing[Any] | CallToolResult
"""What a tool operation hands back: a model or a list page (rendered within the output budget by
:func:`footage_mcp.render.to_result`), or a finished result (an image)."""


async def guarded(ctx: Context[Any, Any], op: Callable[[FootageApi], Awaitable[Outcome]]) -> CallToolResult:
    """Run ``op`` within the call budget, render its outcome within the output budget, and turn
    failures into one short ``isError`` result. The token is removed from whatever comes back."""
    api = api_of(ctx)
    return redact_result(await _guarded(api, op), api.rest.settings.token)


async def _guarded(api: FootageApi, op: Callable[[FootageApi], Awaitable[Outcome]]) -> CallToolResult:
    try:
        outcome = await within_budget(api, op)
        if isinstance(outcome, CallToolResult):
            return outcome
        return to_result(outcome, api.rest.settings.output_budget)
    except FootageError as exc:
        log.info("tool call failed: %s", exc.message)
        return error(exc.message)
    except Exception:  # a bug of ours: log it, tell the model without details
        log.exception("unexpected error in a tool call")
        return error("internal error in footage-mcp (see the server's stderr log); try again or report it")
