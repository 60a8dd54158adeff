"""Which requests are retried, how long to wait (``Retry-After``, backoff with jitter), and the budget.

Only idempotent requests are retried (GET today): a connection that could not be made (unless
retrying cannot help, e.g. TLS), 429 and 502/503/504, at most ``FOOTAGE_MAX_RETRIES`` times and
never past ``FOOTAGE_RETRY_BUDGET`` seconds of waiting in all. ``tenacity`` does the looping; it is
imported on the first request, not at start.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import anyio
import httpx2

from footage_mcp.core.errors import ConnectFailed, NoAnswer

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState

log = logging.getLogger("footage_mcp.rest.http")


MAX_RETRY_AFTER_SECONDS = 86_400.0
"""A ``Retry-After`` beyond a day is read as a day (it only sets the wait the model is told)."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS) if len(value) < 12 else MAX_RETRY_AFTER_SECONDS
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max(0.0, (moment - datetime.now(UTC)).total_seconds()), MAX_RETRY_AFTER_SECONDS)


RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses retried for idempotent requests (issue 3): rate limiting and gateway/unavailable errors."""
BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0


@functools.cache
def _backoff() -> Callable[[RetryCallState], float]:
    from tenacity import wait_exponential_jitter  # lazy: not needed before the first retry

    wait: Callable[[RetryCallState], float] = wait_exponential_jitter(
        multiplier=BACKOFF_INITIAL_SECONDS, max=BACKOFF_MAX_SECONDS, jitter=0.5
    )
    return wait


class RetryableStatus(Exception):
    """An answer worth another attempt; carries it so the last one can be mapped normally."""

    def __init__(self, status: int, headers: httpx2.Headers, content: bytes) -> None:
        super().__init__(status)
        self.status, self.headers, self.content = status, headers, content


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | NoAnswer) or (isinstance(exc, ConnectFailed) and exc.retryable)


def retry_wait(state: RetryCallState) -> float:
    """``Retry-After`` when the answer has one, else exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RetryableStatus):
        after = parse_retry_after(exc.headers.get("retry-after"))
        if after is not None:
            return after
    return float(_backoff()(state))


def log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    what = f"status {exc.status}" if isinstance(exc, RetryableStatus) else type(exc).__name__
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying a GET after %s (attempt %d, waiting %.2f s)", what, state.attempt_number, wait)


def retrying(max_retries: int, budget_seconds: float) -> AsyncRetrying:
    """A tenacity loop for one idempotent request: ``max_retries`` more attempts at most, and no wait
    that would pass ``budget_seconds`` in all. Raise :class:`RetryableStatus` inside an attempt for
    an answer worth another one; the last exception is re-raised when retrying stops."""
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay  # lazy

    return AsyncRetrying(
        stop=stop_after_attempt(max_retries + 1) | stop_before_delay(budget_seconds),
        wait=retry_wait,
        retry=retry_if_exception(is_retryable),
        sleep=anyio.sleep,
        reraise=True,
        before_sleep=log_retry,
    )
