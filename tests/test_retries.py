"""Retries of idempotent GETs: which failures, how long the waits, where they stop."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Callable
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
    NoAnswer,
    NotFound,
    RateLimited,
    TransportError,
    Unauthorized,
    UpstreamFailure,
)
from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.fetch import OpenedFile
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


async def test_a_connection_closed_before_any_answer_is_retried_for_a_get(sleeps: list[float]) -> None:
    """What a kept-alive connection the server closed just as the request went out looks like (httpcore's
    "Server disconnected without sending a response"): no answer at all, so a GET is tried again."""
    dropped = httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=None)
    api, calls = api_with([dropped, 200], max_retries=2)
    assert (await api.get_album("x")).name == "ok"
    assert len(calls) == 2 and len(sleeps) == 1


async def test_a_connection_closed_mid_answer_is_not_retried(sleeps: list[float]) -> None:
    """Once an answer began, a cut is reported (the read is not repeated on its own)."""
    calls: list[str] = []

    async def cut_short() -> AsyncIterator[bytes]:
        yield b'{"id": "x", '
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/asset/":  # the discovery root
            return httpx2.Response(200, json={})
        calls.append(request.url.path)
        return httpx2.Response(200, content=cut_short(), headers={"content-type": "application/json"})

    config = Settings(api_token="t", base_url=BASE, timeout=5, max_retries=2)  # type: ignore[arg-type]
    api = FootageApi(RestClient(config, transport=httpx2.MockTransport(handler)), {})
    with pytest.raises(TransportError, match="closed the connection before the response was complete") as info:
        await api.get_album("x")
    assert not isinstance(info.value, NoAnswer)
    assert calls == ["/api/asset/albums/x"] and sleeps == []


ANSWER_BODY = b'{"id": "x", "name": "ok"}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(ANSWER_BODY),
    ANSWER_BODY,
)


def serve_connections(serve: Callable[[socket.socket], None]) -> socket.socket:
    """A loopback listener whose every connection is handled by ``serve`` in a thread of its own."""
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def keep_alive_then_drop() -> tuple[socket.socket, list[int]]:
    """A loopback HTTP/1.1 server: on each connection it answers the first request and keeps the connection
    open, then closes it without a word when the next request arrives on it (the race of an idle timeout).
    Returns the listening socket and the number of requests each connection saw."""
    seen: list[int] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            count, data = 0, b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                while b"\r\n\r\n" in data:
                    _, data = data.split(b"\r\n\r\n", 1)
                    count += 1
                    if count == 1:
                        conn.sendall(ANSWER)
                    else:
                        seen.append(count)
                        return
            seen.append(count)

    return serve_connections(serve), seen


async def test_a_file_server_trickling_its_headers_is_stopped_at_the_timeout() -> None:
    """Found by a breaking run: one header byte every 0.5 s held a download for minutes (httpx2's timeout
    is per read), then said "cannot reach". The headers now have FOOTAGE_TIMEOUT in all."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nX-Slow: " + b"a" * 1000:
                if stop.wait(0.1):
                    return
                conn.sendall(bytes([byte]))

    threading.Thread(target=trickle, daemon=True).start()
    port = listener.getsockname()[1]
    config = Settings(api_token="t", base_url=f"http://127.0.0.1:{port}/api/asset", timeout=1)  # type: ignore[arg-type]
    try:
        async with RestClient(config) as rest:
            with pytest.raises(TransportError) as info:
                async with OpenedFile(rest, f"http://127.0.0.1:{port}/files/x", 0, None):
                    pass
    finally:
        stop.set()
        listener.close()
    assert str(info.value) == "127.0.0.1 did not answer within 1 s; try again later"


def extra_bytes_after_the_body() -> tuple[socket.socket, list[int]]:
    """A loopback HTTP/1.1 server whose first answer on each connection carries bytes past its
    Content-Length; later answers on it are correct (so they arrive after that junk)."""
    seen: list[int] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            count, data = 0, b""
            while chunk := conn.recv(65536):
                data += chunk
                while b"\r\n\r\n" in data:
                    _, data = data.split(b"\r\n\r\n", 1)
                    count += 1
                    seen.append(count)
                    conn.sendall(ANSWER + (b"JUNK AFTER THE BODY" if count == 1 else b""))

    return serve_connections(serve), seen


@pytest.mark.parametrize("server", [keep_alive_then_drop, extra_bytes_after_the_body], ids=["closed", "junk"])
async def test_a_kept_alive_connection_that_gives_no_answer_is_retried_on_a_new_one(
    server: Callable[[], tuple[socket.socket, list[int]]],
) -> None:
    """The next request on a kept-alive connection gets no answer: the server closed it as the request went
    out (the race of an idle timeout), or it still holds junk an earlier answer sent past its Content-Length
    (found by a breaking run: "cannot reach … check the network" on the next download). A GET, of the API
    (RestClient.exchange) or of a file (rest/fetch.py), is sent again on a new connection."""
    listener, seen = server()
    with listener:
        port = listener.getsockname()[1]
        config = Settings(api_token="t", base_url=f"http://127.0.0.1:{port}/api/asset", timeout=5)  # type: ignore[arg-type]
        async with RestClient(config) as rest:
            api = FootageApi(rest, {})
            assert [(await api.get_album("x")).name for _ in range(2)] == ["ok", "ok"]
            for _ in range(2):
                async with OpenedFile(rest, f"http://127.0.0.1:{port}/files/x", 0, None) as response:
                    assert json.loads(await response.aread()) == {"id": "x", "name": "ok"}
    assert 2 in seen  # a second request did reach a connection that had answered one already


async def test_a_file_address_that_fails_to_connect_says_how() -> None:
    """Found by a breaking run: an https address on a plain-http port said "cannot reach … check the
    network". The file's connection failures are classified like the API's (rest/diagnose.py)."""

    def plain_http(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(ANSWER)

    listener = serve_connections(plain_http)
    closed = socket.create_server(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()
    with listener:
        port = listener.getsockname()[1]
        config = Settings(api_token="t", base_url=f"http://127.0.0.1:{port}/api/asset", timeout=5)  # type: ignore[arg-type]
        async with RestClient(config) as rest:
            messages = []
            for url in (f"https://127.0.0.1:{port}/files/x", f"http://127.0.0.1:{refused_port}/files/x"):
                with pytest.raises(TransportError) as info:
                    async with OpenedFile(rest, url, 0, None):
                        pass
                messages.append(str(info.value))
    assert messages == [
        f"TLS handshake with 127.0.0.1:{port} failed for the file (a certificate or proxy problem, or an https "
        "address on a plain-http port); check the system clock and proxy settings, then retry",
        f"connection to 127.0.0.1:{refused_port} was refused for the file; check the network, then retry",
    ]
