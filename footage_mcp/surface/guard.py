"""Running a tool's operation: :func:`guarded`.

A tool hands :func:`guarded` an operation on the :class:`~footage_mcp.rest.api.FootageApi`. ``guarded``
runs it within the call budget (timeout plus retries), renders its model or list page within the
output budget (:mod:`footage_mcp.surface.render`), removes the token from whatever comes back, and turns a
:class:`~footage_mcp.core.errors.FootageError` into one short ``isError`` message without structured
content. An unexpected exception is logged (to stderr, redacted) and reported as an internal error
without its text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from footage_mcp.core.errors import FootageError, TransportError
from footage_mcp.core.redact import Redactor
from footage_mcp.core.text import strip_invisible
from footage_mcp.rest.api import FootageApi, Listing
from footage_mcp.surface.context import api_of
from footage_mcp.surface.hints import explain
from footage_mcp.surface.render import to_result

log = logging.getLogger("footage_mcp.surface.tools")

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


def redact_result(result: CallToolResult, secret: str | Redactor | None) -> CallToolResult:
    """The result with the token removed from text blocks and structured content (an API may
    echo the token in a body; the model must never see it)."""
    redactor = secret if isinstance(secret, Redactor) else Redactor([secret])
    if not redactor:
        return result
    content = [
        TextContent(type="text", text=redactor.text(block.text)) if isinstance(block, TextContent) else block
        for block in result.content
    ]
    return CallToolResult(
        content=content, structured_content=redactor.value(result.structured_content), is_error=result.is_error
    )


Outcome = BaseModel | Listing[Any] | CallToolResult
"""What a tool operation hands back: a model or a list page (rendered within the output budget by
:func:`footage_mcp.surface.render.to_result`), or a finished result (an image)."""


async def guarded(ctx: Context[Any, Any], op: Callable[[FootageApi], Awaitable[Outcome]]) -> CallToolResult:
    """Run ``op`` within the call budget, render its outcome within the output budget, and turn
    failures into one short ``isError`` result. The token is removed from whatever comes back: while
    rendering (:func:`~footage_mcp.surface.render.to_result` redacts as it renders, so its result is
    not walked a second time), and by :func:`redact_result` for a finished result or a failure."""
    api = api_of(ctx)
    redactor = api.rest.redactor
    try:
        outcome = await within_budget(api, op)
        if isinstance(outcome, CallToolResult):
            return redact_result(outcome, redactor)
        return to_result(outcome, api.rest.settings.output_budget, redactor)
    except Exception as exc:
        return redact_result(failure_result(exc), redactor)


def failure_result(exc: Exception) -> CallToolResult:
    """The ``isError`` result for a failed tool call: a :class:`FootageError` as its message plus the
    surface's hint (:func:`footage_mcp.surface.hints.explain`); anything else, a bug of ours, is logged
    (stderr, redacted) and reported as an internal error without its text."""
    if isinstance(exc, FootageError):
        log.info("tool call failed: %s", exc.message)
        return error(explain(exc))
    log.error("unexpected error in a tool call", exc_info=exc)
    return error("internal error in footage-mcp (see the server's stderr log); try again or report it")
