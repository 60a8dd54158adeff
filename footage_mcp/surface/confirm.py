"""The machinery every write tool shares: the write gate's plan, confirmation, dry run, audit line.

A write tool runs in three steps, the first two as SDK resolvers (``Annotated[..., Resolve(fn)]``,
which serve both protocol eras: a mid-call ``elicitation/create`` request on 2025-11-25, an
``InputRequiredResult`` round on 2026-07-28):

1. :func:`prepare` builds the :class:`~footage_mcp.rest.changes.Plan` (validation plus reads);
2. :func:`ask` decides whether the user must confirm it: a plan that removes something, or touches
   more than :data:`~footage_mcp.rest.changes.CONFIRM_ABOVE` assets, is confirmed by elicitation
   when the client declared it (the question says what will change, with counts and names), else
   by the tool's ``confirm=true`` argument; without either, nothing changes and the plan is the
   result (a dry run);
3. :func:`finish` applies the plan (or not), renders the result within the output budget, and logs
   one audit line at INFO on ``footage_mcp.audit`` (tool, ids, outcome; never the token).
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from footage_mcp.core.errors import FootageError, TransportError
from footage_mcp.core.text import clean_text
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.changes import Changes, Plan
from footage_mcp.rest.write_models import WriteResult
from footage_mcp.rest.writes import WriteClient
from footage_mcp.surface.context import api_of
from footage_mcp.surface.guard import error, redact_result
from footage_mcp.surface.render import to_result

AUDIT_LOGGER = "footage_mcp.audit"
audit = logging.getLogger(AUDIT_LOGGER)
log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1500


class Confirmation(BaseModel):
    """What the elicitation form asks: one yes/no."""

    confirm: bool = Field(description="Apply the change described above.")


@dataclass(frozen=True, slots=True)
class Prepared:
    """The plan of a write, or why there is none."""

    plan: Plan | None
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class NoQuestion:
    """:func:`ask` did not ask the user: why."""

    reason: Literal["not_needed", "confirmed_by_argument", "no_elicitation", "no_plan"]


_writers: weakref.WeakKeyDictionary[FootageApi, WriteClient] = weakref.WeakKeyDictionary()


def changes_of(api: FootageApi) -> Changes:
    """The write operations over ``api`` (one :class:`WriteClient` per API: it remembers whether the API
    honours idempotency keys)."""
    writer = _writers.get(api)
    if writer is None:
        writer = WriteClient(api, api.rest.settings.route_overrides())
        _writers[api] = writer
    return Changes(writer)


def budget_for(api: FootageApi, count: int) -> float:
    """Seconds a write of ``count`` assets may take: the call budget per 50 assets."""
    return api.rest.settings.call_budget * max(1, math.ceil(count / 50))


def progress_of(ctx: Context[Any, Any]) -> Callable[[float, float, str], Awaitable[None]]:
    async def report(done: float, total: float, message: str) -> None:
        try:
            await ctx.report_progress(done, total, message)
        except Exception:  # a progress notification must never fail the write
            log.debug("progress notification failed", exc_info=True)

    return report


async def prepare(
    ctx: Context[Any, Any],
    build: Callable[[Changes, Callable[[float, float, str], Awaitable[None]]], Awaitable[Plan]],
    count: int = 1,
) -> Prepared:
    """Run ``build`` (a plan) within the call budget; a refusal or failure becomes ``failure``."""
    api = api_of(ctx)
    budget = budget_for(api, count)
    try:
        with anyio.fail_after(budget):
            return Prepared(await build(changes_of(api), progress_of(ctx)))
    except TimeoutError:
        return Prepared(None, f"reading what the change concerns took longer than {budget:g} s; try again later")
    except FootageError as exc:
        return Prepared(None, exc.message)
    except Exception:  # a bug of ours
        log.exception("unexpected error while preparing a write")
        return Prepared(None, "internal error in footage-mcp (see the server's stderr log); nothing was changed")


def elicitation_declared(ctx: Context[Any, Any]) -> bool:
    """True when the client declared form elicitation (a bare ``elicitation: {}`` counts)."""
    try:
        capabilities = ctx.client_capabilities
    except Exception:
        return False
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def question(tool: str, plan: Plan) -> str:
    """The elicitation message: exactly what will change, with counts and names."""
    text = f"{tool}: {plan.summary}."
    if plan.destructive:
        text += " This removes or overwrites data."
    text += " Apply this change?"
    text = clean_text(text)
    return text if len(text) <= MAX_QUESTION_CHARS else text[: MAX_QUESTION_CHARS - 1] + "…"


def ask(
    ctx: Context[Any, Any], tool: str, prepared: Prepared, confirm: bool | None
) -> Elicit[Confirmation] | NoQuestion:
    """The confirmation step (a resolver body): an elicitation, or why none is needed or possible.

    With elicitation declared, the user is asked even when ``confirm`` is true: the person, not the
    model, confirms where the client can ask them."""
    plan = prepared.plan
    if plan is None:
        return NoQuestion("no_plan")
    if not plan.needs_confirmation:
        return NoQuestion("not_needed")
    if elicitation_declared(ctx):
        return Elicit(question(tool, plan), Confirmation)
    if confirm:
        return NoQuestion("confirmed_by_argument")
    return NoQuestion("no_elicitation")


async def finish(
    ctx: Context[Any, Any], tool: str, prepared: Prepared, answer: ElicitationResult[Confirmation] | Any
) -> CallToolResult:
    """Apply the plan when it is confirmed (or needs no confirmation), else return the dry run or the
    decline; render within the output budget; one audit line."""
    api = api_of(ctx)
    plan = prepared.plan
    if plan is None:
        audit.info("write tool=%s outcome=refused reason=%s", tool, _one_line(prepared.failure or ""))
        return error(prepared.failure or "the write was refused")
    decided = answer.data if isinstance(answer, AcceptedElicitation) else None
    result: WriteResult
    if plan.apply is None:
        result = plan.unchanged()
    elif isinstance(decided, NoQuestion) and decided.reason == "no_elicitation":
        result = plan.dry_run(
            "dry_run",
            f"nothing was changed: call {tool} again with the same arguments and confirm=true to apply this",
        )
    elif isinstance(decided, NoQuestion) or (isinstance(decided, Confirmation) and decided.confirm):
        try:
            with anyio.fail_after(budget_for(api, max(1, len(plan.changes)))):
                result = await plan.apply(progress_of(ctx))
        except TimeoutError:
            result = WriteResult(
                status="failed",
                summary="the change did not finish in time: it may be partly applied",
                next_step="check with get_album / get_asset before trying again",
            )
        except TransportError as exc:
            result = WriteResult(status="failed", summary=exc.message)
        except FootageError as exc:
            result = WriteResult(status="failed", summary=exc.message)
        except Exception:
            log.exception("unexpected error while applying a write")
            result = WriteResult(
                status="failed",
                summary="internal error in footage-mcp while applying the change (see the server's stderr log)",
                next_step="check with get_album / get_asset what was changed",
            )
    else:
        result = plan.dry_run("declined", "the user declined: nothing was changed")
    _audit(tool, plan, result)
    if result.status == "failed" and not result.items:  # one failed change: an error, like a failed read
        return redact_result(
            error(result.summary + (f" — {result.next_step}" if result.next_step else "")), api.rest.redactor
        )
    return to_result(result, api.rest.settings.output_budget, api.rest.redactor)  # redacts as it renders


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _audit(tool: str, plan: Plan, result: WriteResult) -> None:
    ids = ",".join(plan.ids[:50]) + (f",+{len(plan.ids) - 50}" if len(plan.ids) > 50 else "")
    counts = ""
    if result.counts is not None:
        c = result.counts
        counts = f" done={c.done} unchanged={c.unchanged} failed={c.failed} would_change={c.would_change}"
    audit.info("write tool=%s ids=%s outcome=%s%s", tool, ids or "-", result.status, counts)


__all__ = [
    "AUDIT_LOGGER",
    "Confirmation",
    "NoQuestion",
    "Prepared",
    "ask",
    "changes_of",
    "finish",
    "prepare",
    "question",
]
