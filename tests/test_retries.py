"""Retries of idempotent GETs: which failures, how long the waits, where they stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import anyio
import httpx2
import pytest

from footage_mcp.core.errors import (
    ApiError,
    BadRequest,
    Conflict,
    ConnectFailed,
    Forbidden,
    NotFound,
    RateLimited,
    TransportError,
    Unauthorized,
    UpstreamFailure,
)
from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.http import RestClient

BASE = "https://api.test/api/asset"
pytestmark = pytest.mark.anyio


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry waits instead of sleeping."""
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(anyio, "sleep", fake_sleep)
    return recorded


def api_with(
    statuses: list[int | Exception], headers: dict[str, str] | None = None, **settings: float
) -> tuple[FootageApi, list[str]]:
    calls: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return httpx2.Response(200, json={})
        calls.append(req.url.path)
        step = statuses[min(len(calls) - 1, len(statuses) - 1)]
        if isinstance(step, Exception):
            raise step
        if step == 200:
            return httpx2.Response(200, json={"id": "x", "name": "ok"})
        return httpx2.Response(step, json={"message": "busy"}, headers=headers or {})

    config = Settings(api_token="t", base_url=BASE, timeout=5, **settings)  # type: ignore[arg-type]
    return FootageApi(RestClient(config, transport=httpx2.MockTransport(handler)), {}), calls


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_statuses_are_retried_until_success(status: int, sleeps: list[float]) -> None:
    api, calls = api_with([status, status, 200], max_retries=2)
    assert (await api.get_album("x")).name == "ok"
    assert len(calls) == 3 and len(sleeps) == 2
    assert all(0 < s <= 8.5 for s in sleeps)


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (400, BadRequest, r"^the Footage API rejected the request \(400\): busy$"),
        (401, Unauthorized, r"^the Footage API rejected the token \(401\)"),
        (403, Forbidden, r"^the token's user has no permission to see album 'x' \(403\)"),
        (404, NotFound, r"^album 'x' not found"),
        (409, Conflict, r"^the Footage API reports a conflict \(409\): busy$"),
        (500, UpstreamFailure, r"^the Footage service failed \(500\); retrying is unlikely to help$"),
        (501, UpstreamFailure, r"^the Footage service failed \(501\); retrying is unlikely to help$"),
    ],
)
async def test_other_statuses_are_not_retried(
    status: int, error: type[ApiError], message: str, sleeps: list[float]
) -> None:
    api, calls = api_with([status, 200], max_retries=3)
    with pytest.raises(error, match=message) as info:
        await api.get_album("x")
    assert type(info.value) is error and info.value.status == status
    assert len(calls) == 1 and sleeps == []


async def test_retries_are_bounded_in_attempts(sleeps: list[float]) -> None:
    api, calls = api_with([503], max_retries=2)
    with pytest.raises(UpstreamFailure, match=r"\(503\); retrying in a moment may help"):
        await api.get_album("x")
    assert len(calls) == 3


async def test_retry_after_seconds_is_honoured(sleeps: list[float]) -> None:
    api, calls = api_with([429, 200], {"retry-after": "2"}, max_retries=2)
    await api.get_album("x")
    assert sleeps == [2.0] and len(calls) == 2


async def test_retry_after_http_date_is_honoured(sleeps: list[float]) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    api, _calls = api_with([503, 200], {"retry-after": when}, max_retries=2)
    await api.get_album("x")
    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 4.0


async def test_a_retry_after_beyond_the_budget_stops_at_once_and_says_when(sleeps: list[float]) -> None:
    api, calls = api_with([429, 200], {"retry-after": "3600"}, max_retries=5, retry_budget=10)
    with pytest.raises(RateLimited, match="retry in 3600 s") as info:
        await api.get_album("x")
    assert info.value.retry_after == 3600 and len(calls) == 1 and sleeps == []


async def test_connect_errors_are_retried_then_reported(sleeps: list[float]) -> None:
    refused = httpx2.ConnectError("refused", request=None)
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    api, calls = api_with([refused], max_retries=2)
    with pytest.raises(ConnectFailed, match="was refused"):
        await api.get_album("x")
    assert len(calls) == 3 and len(sleeps) == 2


async def test_timeouts_are_not_retried(sleeps: list[float]) -> None:
    api, calls = api_with([httpx2.ReadTimeout("slow", request=None)], max_retries=3)
    with pytest.raises(TransportError) as info:
        await api.get_album("x")
    assert type(info.value) is TransportError  # not ConnectFailed: nothing says the API is unreachable
    assert str(info.value) == "the Footage API did not answer within 5 s; try again later, or raise FOOTAGE_TIMEOUT"
    assert len(calls) == 1 and sleeps == []


async def test_no_retries_when_disabled(sleeps: list[float]) -> None:
    api, calls = api_with([503, 200], max_retries=0)
    with pytest.raises(UpstreamFailure):
        await api.get_album("x")
    assert len(calls) == 1 and sleeps == []


async def test_absurd_retry_after_values_are_capped_at_a_day(sleeps: list[float]) -> None:
    api, _calls = api_with([429], {"retry-after": "9" * 400}, max_retries=2)
    with pytest.raises(RateLimited, match="retry in 86400 s"):
        await api.get_album("x")
    assert sleeps == []
