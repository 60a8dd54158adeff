"""Tests for the sandbox's fault injection: the /_sandbox/ control API, every fault kind, the request
logs, the echo listener, in-process (httpx2 ASGITransport) and over real loopback HTTP (a subprocess)."""

from __future__ import annotations

import io
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN
from PIL import Image

from footage_mcp.sandbox import BASE_PATH, create_app
from footage_mcp.sandbox.__main__ import main as sandbox_main
from footage_mcp.sandbox.control import create_echo_app
from footage_mcp.sandbox.faults import LOG_LIMIT, InjectedAbort, RuleError

ORIGIN = "http://127.0.0.1:8765"
AUTH = {"apiKey": TOKEN}
FAULTS = "/_sandbox/faults"
REQUESTS = "/_sandbox/requests"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    """An in-process client of a fresh sandbox app (no rules, empty logs)."""
    transport = httpx2.ASGITransport(app=create_app())
    async with httpx2.AsyncClient(transport=transport, base_url=ORIGIN) as c:
        yield c


async def put_rules(client: httpx2.AsyncClient, *rules: dict[str, Any]) -> None:
    response = await client.put(FAULTS, json={"rules": list(rules)})
    assert response.status_code == 200, response.text


async def outcomes(client: httpx2.AsyncClient) -> list[tuple[str, int | None]]:
    return [(entry["outcome"], entry["status"]) for entry in (await client.get(REQUESTS)).json()]


# ------------------------------------------------------------------------------------------------
# Control API


@pytest.mark.anyio
async def test_faults_put_get_delete(client: httpx2.AsyncClient) -> None:
    assert (await client.get(FAULTS)).json() == {"rules": [], "applied": []}
    rules = [{"match": "^/albums$", "statuses": [503]}, {"match": "", "latency_ms": 1, "times": 2}]
    put = await client.put(FAULTS, json={"rules": rules})
    assert put.status_code == 200 and put.json() == {"rules": rules, "applied": [0, 0]}
    assert (await client.get(f"{BASE_PATH}/albums")).status_code == 503
    got = (await client.get(FAULTS)).json()
    assert got == {"rules": rules, "applied": [1, 0]}
    assert (await client.put(FAULTS, json=got)).status_code == 200  # GET output can be PUT back
    assert (await client.put(FAULTS, json=rules)).json()["rules"] == rules  # a bare list works too
    deleted = await client.delete(FAULTS)
    assert deleted.status_code == 200 and deleted.json() == {"rules": [], "applied": []}
    assert (await client.get(FAULTS)).json()["rules"] == []
    assert (await client.post(FAULTS, json={"rules": []})).status_code == 405


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "Invalid JSON"),
        ({"rule": []}, "unknown key 'rule'"),
        ({}, "expected an object with a 'rules' list"),
        ({"rules": {"match": ""}}, "'rules' must be a list"),
        ({"rules": ["x"]}, "rules[0]: a rule must be a JSON object"),
        ({"rules": [{"status": 500}]}, "rules[0]: 'match' (a regular expression string) is required"),
        ({"rules": [{"match": "(", "status": 500}]}, "'match' is not a valid regular expression"),
        ({"rules": [{"match": ""}]}, "a rule needs at least one of latency_ms, statuses, status, body, redirect"),
        ({"rules": [{"match": "", "latncy_ms": 5}]}, "unknown key 'latncy_ms'"),
        ({"rules": [{"match": "", "status": 1}]}, "'status' must be an integer from 200 to 599, not 1"),
        ({"rules": [{"match": "", "statuses": []}]}, "'statuses' must be a non-empty list"),
        ({"rules": [{"match": "", "statuses": [503, "503"]}]}, "'statuses[]' must be an integer"),
        ({"rules": [{"match": "", "statuses": [503], "body": "html"}]}, "cannot be combined with 'body'"),
        ({"rules": [{"match": "", "body": "xml"}]}, "'body' must be one of html, truncated, aborted"),
        ({"rules": [{"match": "", "body": "html", "redirect": "loop"}]}, "'body' and 'redirect' cannot be combined"),
        (
            {"rules": [{"match": "", "body": "html", "size_bytes": 100}]},
            "'size_bytes' only applies to body 'oversized'",
        ),
        ({"rules": [{"match": "", "body": "oversized", "size_bytes": 5}]}, "'size_bytes' must be an integer from 12"),
        ({"rules": [{"match": "", "body": "oversized", "declare_length": 1}]}, "'declare_length' must be true or"),
        ({"rules": [{"match": "", "body": "slow", "status": 500}]}, "'status' cannot be combined with body 'slow'"),
        ({"rules": [{"match": "", "redirect": "loop", "hops": 2}]}, "'hops' only applies to redirect 'same-origin'"),
        ({"rules": [{"match": "", "redirect": "loop", "status": 200}]}, "a redirect 'status' must be one of 301"),
        ({"rules": [{"match": "", "status": 500, "times": 0}]}, "'times' must be an integer from 1"),
        ({"rules": [{"match": "", "latency_ms": -1}]}, "'latency_ms' must be a number of milliseconds"),
        ({"rules": [{"match": "", "status": 503, "retry_after": 2}]}, "'retry_after' must be a string"),
        ({"rules": [{"match": "", "status": 503, "retry_after": "2\r\nX: y"}]}, "without line breaks"),
        ({"rules": [{"match": "", "status": 500}, {"match": "", "body": "slow", "slow_ms": True}]}, "rules[1]: "),
    ],
)
@pytest.mark.anyio
async def test_bad_rules_are_400_with_a_message(client: httpx2.AsyncClient, body: Any, message: str) -> None:
    await put_rules(client, {"match": "^/albums$", "status": 418})
    content = body if isinstance(body, str) else json.dumps(body)
    response = await client.put(FAULTS, content=content)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request" and response.json()["path"] == FAULTS
    assert message in response.json()["message"]
    assert [r["status"] for r in (await client.get(FAULTS)).json()["rules"]] == [418]  # unchanged


def test_rules_given_to_create_app_and_validated() -> None:
    app = create_app(faults={"rules": [{"match": "^/albums$", "status": 500}]})
    assert app.state.sandbox.rules_json()["rules"] == [{"match": "^/albums$", "status": 500}]
    with pytest.raises(RuleError, match=r"rules\[0\]: unknown key 'nope'"):
        create_app(faults=[{"match": "", "nope": 1}])


def test_bad_faults_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "faults.json"
    bad.write_text('{"rules": [{"match": "", "body": "nope"}]}')
    assert sandbox_main(["--port", "0", "--faults", str(bad)]) == 2
    err = capsys.readouterr()
    assert err.out == ""
    assert f"faults file {str(bad)!r}: rules[0]: 'body' must be one of" in err.err
    assert sandbox_main(["--port", "0", "--faults", str(tmp_path / "missing.json")]) == 2
    assert "cannot read faults file" in capsys.readouterr().err


@pytest.mark.anyio
async def test_info_and_loopback_only() -> None:
    app = create_app(echo_origin="http://127.0.0.1:4444/")
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://sandbox.test:81") as c:
        assert (await c.get("/_sandbox/info")).json() == {
            "base_url": "http://sandbox.test:81/api/asset",
            "echo_origin": "http://127.0.0.1:4444",
        }
        index = await c.get("/_sandbox/")  # the address the sandbox prints: it lists the control routes
        assert index.status_code == 200 and index.json() == {
            "routes": {
                "/_sandbox/faults": "GET, PUT or DELETE the fault rules",
                "/_sandbox/requests": "GET or DELETE the log of requests under /api/asset",
                "/_sandbox/echo-requests": "GET or DELETE the log of requests the echo listener received",
                "/_sandbox/info": "GET the base URL and the echo origin",
                "/_sandbox/writes": "GET or PUT the write mode: idempotency keys, If-Match, after-commit faults",
                "/_sandbox/state": "GET the library's current albums and assets (what writes changed)",
                "/_sandbox/reset": "POST: back to the seeded library",
            }
        }
    remote = httpx2.ASGITransport(app=app, client=("203.0.113.7", 5000))
    async with httpx2.AsyncClient(transport=remote, base_url=ORIGIN) as c:
        for path in (FAULTS, REQUESTS, "/_sandbox/echo-requests", "/_sandbox/info", "/_sandbox/"):
            response = await c.get(path)
            assert response.status_code == 403 and "loopback" in response.json()["message"]


# ------------------------------------------------------------------------------------------------
# Request log


@pytest.mark.anyio
async def test_request_log_records_everything_under_the_base_path(client: httpx2.AsyncClient) -> None:
    await client.get(f"{BASE_PATH}/albums", params={"q": "paris", "size": "5"}, headers={"apiKey": "s3cr3t-value"})
    await client.get(f"{BASE_PATH}/albums", headers={**AUTH, "X-Trace": "a"})
    await client.get(f"{BASE_PATH}/nothing", headers=AUTH)
    await client.get(f"{BASE_PATH}/public/status")
    await client.get("/elsewhere")  # outside the base path: not logged
    await client.get(FAULTS)  # control routes: not logged
    log = (await client.get(REQUESTS)).json()
    assert [(e["method"], e["path"], e["query"], e["outcome"], e["status"]) for e in log] == [
        ("GET", "/api/asset/albums", "q=paris&size=5", "status:401", 401),
        ("GET", "/api/asset/albums", "", "ok", 200),
        ("GET", "/api/asset/nothing", "", "status:404", 404),
        ("GET", "/api/asset/public/status", "", "ok", 200),
    ]
    assert log[0]["headers"]["apikey"] == "s3cr3t-value"
    assert log[0]["headers"]["host"] == "127.0.0.1:8765"
    assert log[1]["headers"]["x-trace"] == "a" and log[1]["headers"]["apikey"] == TOKEN
    assert "apikey" not in log[3]["headers"]
    assert all(name == name.lower() for entry in log for name in entry["headers"])
    assert (await client.delete(REQUESTS)).json() == {"cleared": 4}
    assert (await client.get(REQUESTS)).json() == []


@pytest.mark.anyio
async def test_request_log_keeps_the_last_5000() -> None:
    app = create_app()
    state = app.state.sandbox
    for i in range(LOG_LIMIT + 7):
        scope = {"method": "GET", "path": f"{BASE_PATH}/assets/{i}", "query_string": b"", "headers": []}
        state.log_request(scope)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=ORIGIN) as c:
        await c.get(f"{BASE_PATH}/public/status")
        log = (await c.get(REQUESTS)).json()
    assert len(log) == LOG_LIMIT == 5000
    assert log[0]["path"] == f"{BASE_PATH}/assets/8" and log[-1]["path"] == f"{BASE_PATH}/public/status"


# ------------------------------------------------------------------------------------------------
# Statuses, status, times, rule order — applied before auth


@pytest.mark.anyio
async def test_statuses_in_sequence_with_retry_after_then_normal(client: httpx2.AsyncClient) -> None:
    await put_rules(client, {"match": "^/albums$", "statuses": [503, 503, 429], "retry_after": "2"})
    replies = [await client.get(f"{BASE_PATH}/albums", headers=AUTH) for _ in range(4)]
    assert [r.status_code for r in replies] == [503, 503, 429, 200]
    assert [r.headers.get("retry-after") for r in replies] == ["2", "2", "2", None]
    assert replies[0].json() == {
        "status": 503,
        "error": "Service Unavailable",
        "message": "Injected fault",
        "path": "/api/asset/albums",
    }
    assert replies[2].json()["error"] == "Too Many Requests"
    assert replies[2].headers["content-type"] == "application/json"
    assert replies[3].json()["page"]["totalElements"] == 14
    assert (await client.get(FAULTS)).json()["applied"] == [3]
    assert await outcomes(client) == [("fault:status", 503), ("fault:status", 503), ("fault:status", 429), ("ok", 200)]


@pytest.mark.anyio
async def test_http_date_retry_after_and_status_alone_is_unlimited(client: httpx2.AsyncClient) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    await put_rules(client, {"match": "^/albums", "status": 502, "retry_after": date})
    for path in ("/albums", "/albums/x", "/albums"):
        reply = await client.get(f"{BASE_PATH}{path}")  # no token: faults come before auth
        assert reply.status_code == 502 and reply.headers["retry-after"] == date
        assert reply.json()["error"] == "Bad Gateway" and reply.json()["path"] == f"{BASE_PATH}{path}"
    assert (await client.get(f"{BASE_PATH}/assets")).status_code == 401
    assert (await client.get(FAULTS)).json()["applied"] == [3]


@pytest.mark.anyio
async def test_times_then_spent_and_first_matching_rule_wins(client: httpx2.AsyncClient) -> None:
    await put_rules(
        client,
        {"match": "^/public/status$", "body": "not_json", "times": 2},
        {"match": "^/public/", "status": 418},
        {"match": "^/public/status$", "status": 500},
    )
    bodies = [await client.get(f"{BASE_PATH}/public/status") for _ in range(4)]
    assert [(r.status_code, r.text) for r in bodies[:2]] == [(200, "OK"), (200, "OK")]
    assert [r.status_code for r in bodies[2:]] == [418, 418]
    assert (await client.get(FAULTS)).json()["applied"] == [2, 2, 0]
    assert [o for o, _ in await outcomes(client)] == ["fault:not_json"] * 2 + ["fault:status"] * 2


@pytest.mark.anyio
async def test_latency_alone_keeps_the_normal_answer(client: httpx2.AsyncClient) -> None:
    await put_rules(client, {"match": "^/albums$", "latency_ms": 200, "times": 1})
    started = time.perf_counter()
    slow = await client.get(f"{BASE_PATH}/albums", headers=AUTH)
    assert time.perf_counter() - started >= 0.2
    assert slow.status_code == 200 and slow.json()["page"]["totalElements"] == 14
    started = time.perf_counter()
    await client.get(f"{BASE_PATH}/albums", headers=AUTH)
    assert time.perf_counter() - started < 0.2
    assert await outcomes(client) == [("fault:latency", 200), ("ok", 200)]


# ------------------------------------------------------------------------------------------------
# Bodies


@pytest.mark.anyio
async def test_html_bodies(client: httpx2.AsyncClient) -> None:
    await put_rules(
        client, {"match": "^/albums$", "body": "html"}, {"match": "^/assets$", "body": "html", "status": 403}
    )
    for path, status in (("/albums", 200), ("/assets", 403)):
        reply = await client.get(f"{BASE_PATH}{path}", headers=AUTH)
        assert reply.status_code == status
        assert reply.headers["content-type"] == "text/html; charset=utf-8"
        assert reply.text.startswith("<!DOCTYPE html>") and 'type="password"' in reply.text
    assert [o for o, _ in await outcomes(client)] == ["fault:html", "fault:html"]


@pytest.mark.anyio
async def test_truncated_json_is_half_of_the_normal_answer(client: httpx2.AsyncClient) -> None:
    normal = (await client.get(f"{BASE_PATH}/albums", headers=AUTH)).content
    await put_rules(client, {"match": "^/albums$", "body": "truncated"}, {"match": "^/nothing$", "body": "truncated"})
    reply = await client.get(f"{BASE_PATH}/albums", headers=AUTH)
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    assert reply.content == normal[: len(normal) // 2]
    assert int(reply.headers["content-length"]) == len(reply.content)
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    filler = await client.get(f"{BASE_PATH}/nothing")  # a 404 (or 401) answer is replaced by filler JSON
    assert filler.status_code == 200 and filler.content.startswith(b'{"items":[')
    with pytest.raises(json.JSONDecodeError):
        filler.json()


@pytest.mark.anyio
async def test_not_json_empty_and_error_echo(client: httpx2.AsyncClient) -> None:
    await put_rules(
        client,
        {"match": "^/albums$", "body": "not_json"},
        {"match": "^/assets$", "body": "empty"},
        {"match": "^/search/assets$", "body": "error_echo"},
    )
    plain = await client.get(f"{BASE_PATH}/albums")
    assert (plain.status_code, plain.headers["content-type"], plain.text) == (200, "text/plain", "OK")
    empty = await client.get(f"{BASE_PATH}/assets")
    assert (empty.status_code, empty.headers["content-type"], empty.content) == (200, "application/json", b"")
    assert empty.headers["content-length"] == "0"
    echo = await client.get(f"{BASE_PATH}/search/assets", headers={"apiKey": "canary-1234"})
    assert echo.status_code == 400
    assert echo.json() == {
        "status": 400,
        "error": "Bad Request",
        "message": "invalid apiKey canary-1234 for this route",
        "path": "/api/asset/search/assets",
    }
    assert [o for o, _ in await outcomes(client)] == ["fault:not_json", "fault:empty", "fault:error_echo"]


@pytest.mark.anyio
async def test_oversized_in_process(client: httpx2.AsyncClient) -> None:
    await put_rules(
        client,
        {"match": "^/albums$", "body": "oversized", "size_bytes": 100_000},
        {"match": "^/assets$", "body": "oversized", "size_bytes": 5000, "declare_length": True},
    )
    chunked = await client.get(f"{BASE_PATH}/albums")
    assert "content-length" not in chunked.headers and len(chunked.content) == 100_000
    items = chunked.json()["items"]
    assert len(items) == 97 and all(set(item) == {"x"} for item in items)
    declared = await client.get(f"{BASE_PATH}/assets")
    assert declared.headers["content-length"] == "5000" and len(declared.content) == 5000
    assert len(declared.json()["items"]) == 4


@pytest.mark.anyio
async def test_aborted_in_process_raises(client: httpx2.AsyncClient) -> None:
    await put_rules(client, {"match": "^/albums$", "body": "aborted", "times": 1})
    with pytest.raises(InjectedAbort, match="connection aborted after"):
        await client.get(f"{BASE_PATH}/albums", headers=AUTH)
    assert (await client.get(f"{BASE_PATH}/albums", headers=AUTH)).status_code == 200
    assert await outcomes(client) == [("fault:aborted", 200), ("ok", 200)]


# ------------------------------------------------------------------------------------------------
# Redirects


@pytest.mark.anyio
async def test_same_origin_hops_then_the_normal_answer(client: httpx2.AsyncClient) -> None:
    await put_rules(client, {"match": "^/albums$", "redirect": "same-origin", "hops": 2, "status": 307})
    url = f"{ORIGIN}{BASE_PATH}/albums?size=5&q=a"
    locations = []
    for _ in range(3):
        reply = await client.get(url, headers=AUTH)
        if reply.status_code != 307:
            break
        url = reply.headers["location"]
        locations.append(url)
    assert locations == [
        f"{ORIGIN}{BASE_PATH}/albums?size=5&q=a&_hop=1",
        f"{ORIGIN}{BASE_PATH}/albums?size=5&q=a&_hop=2",
    ]
    assert reply.status_code == 200 and reply.json()["page"]["size"] == 5
    assert await outcomes(client) == [("fault:same-origin", 307), ("fault:same-origin", 307), ("ok", 200)]
    assert (await client.get(FAULTS)).json()["applied"] == [2]
    followed = await client.get(f"{BASE_PATH}/albums", headers=AUTH, follow_redirects=True)
    assert followed.status_code == 200 and len(followed.history) == 2


@pytest.mark.anyio
async def test_loop_never_ends(client: httpx2.AsyncClient) -> None:
    await put_rules(client, {"match": "^/albums$", "redirect": "loop"})
    reply = await client.get(f"{BASE_PATH}/albums")
    for hop in range(1, 30):
        assert reply.status_code == 302
        assert reply.headers["location"] == f"{ORIGIN}{BASE_PATH}/albums?_hop={hop}"
        reply = await client.get(reply.headers["location"])
    with pytest.raises(httpx2.TooManyRedirects):
        await client.get(f"{BASE_PATH}/albums", follow_redirects=True)


@pytest.mark.anyio
async def test_other_origin_redirect_targets(client: httpx2.AsyncClient) -> None:
    await put_rules(client, {"match": "^/assets/", "redirect": "other-origin", "status": 301})
    reply = await client.get(f"{BASE_PATH}/assets/a%20b/preview", params={"size": "large"})
    assert reply.status_code == 301
    assert reply.headers["location"] == "http://127.0.0.1:9/api/asset/assets/a%20b/preview?size=large"
    app = create_app(echo_origin="http://127.0.0.1:4444", faults=[{"match": "", "redirect": "other-origin"}])
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=ORIGIN) as other:
        assert (await other.get(f"{BASE_PATH}/")).headers["location"] == "http://127.0.0.1:4444/api/asset/"


@pytest.mark.anyio
async def test_echo_app_logs_into_the_main_apps_state() -> None:
    app = create_app()
    echo = httpx2.ASGITransport(app=create_echo_app(app.state.sandbox))
    async with httpx2.AsyncClient(transport=echo, base_url="http://127.0.0.1:9") as c:
        reply = await c.get(f"{BASE_PATH}/albums", params={"x": "1"}, headers={"apiKey": "leak?"})
        assert reply.json() == {"echo": True}
        preview = await c.get(f"{BASE_PATH}/assets/a1/preview")
        assert preview.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(preview.content)).format == "JPEG"
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=ORIGIN) as main:
        log = (await main.get("/_sandbox/echo-requests")).json()
        assert [(e["method"], e["path"], e["query"]) for e in log] == [
            ("GET", "/api/asset/albums", "x=1"),
            ("GET", "/api/asset/assets/a1/preview", ""),
        ]
        assert log[0]["headers"]["apikey"] == "leak?"
        assert (await main.delete("/_sandbox/echo-requests")).json() == {"cleared": 2}
        assert (await main.get("/_sandbox/echo-requests")).json() == []
        assert (await main.get(REQUESTS)).json() == []


# ------------------------------------------------------------------------------------------------
# Over real loopback HTTP


@dataclass
class Running:
    process: subprocess.Popen[str]
    base_url: str
    root: str
    stderr: list[str]
    stderr_reader: threading.Thread
    """Reads the process's stderr into :attr:`stderr` until it closes (so it ends after the process)."""

    def control(self) -> httpx2.Client:
        return httpx2.Client(base_url=self.root, timeout=10)

    def all_stderr(self) -> str:
        """Everything the process wrote to stderr, once it has exited (stops it first)."""
        _stop(self)
        self.stderr_reader.join(timeout=10)
        assert not self.stderr_reader.is_alive(), "stderr did not close after the sandbox exited"
        return "".join(self.stderr)


def _start(*args: str) -> Running:
    process = subprocess.Popen(
        [sys.executable, "-m", "footage_mcp.sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr_stream = process.stdout, process.stderr
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(stderr_stream), daemon=True)
    reader.start()
    try:
        line = lines.get(timeout=20)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"no READY line; stderr: {''.join(stderr)}") from None
    assert line.startswith("READY http://127.0.0.1:") and line.rstrip().endswith(BASE_PATH), line
    base_url = line.split()[1]
    return Running(process, base_url, base_url.removesuffix(BASE_PATH), stderr, reader)


def _stop(running: Running) -> None:
    if running.process.poll() is None:
        running.process.terminate()
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    running = _start()
    try:
        yield running
    finally:
        _stop(running)


@pytest.fixture
def live(server: Running) -> Iterator[Running]:
    """The shared subprocess sandbox with no rules and empty logs."""
    with server.control() as c:
        c.delete(FAULTS)
        c.delete(REQUESTS)
        c.delete("/_sandbox/echo-requests")
    yield server


def put(running: Running, *rules: dict[str, Any]) -> None:
    with running.control() as c:
        response = c.put(FAULTS, json={"rules": list(rules)})
        assert response.status_code == 200, response.text


@pytest.mark.slow
def test_loopback_info_and_faults_file(tmp_path: Path) -> None:
    rules = [{"match": "^/public/status$", "status": 418, "times": 1}]
    (tmp_path / "faults.json").write_text(json.dumps({"rules": rules}))
    running = _start("--faults", str(tmp_path / "faults.json"))
    try:
        with running.control() as c:
            info = c.get("/_sandbox/info").json()
            assert info["base_url"] == running.base_url
            assert info["echo_origin"].startswith("http://127.0.0.1:")
            assert info["echo_origin"] != running.root
            assert c.get(FAULTS).json() == {"rules": rules, "applied": [0]}
            assert c.get(f"{BASE_PATH}/public/status").status_code == 418
            assert c.get(f"{BASE_PATH}/public/status").status_code == 200
            assert httpx2.get(f"{info['echo_origin']}/anything", timeout=5).json() == {"echo": True}
    finally:
        _stop(running)
    assert running.process.returncode == 0
    assert running.process.stdout is not None and running.process.stdout.read() == ""  # READY was the only line


@pytest.mark.slow
def test_loopback_aborted_then_the_server_keeps_serving() -> None:
    live = _start()  # its own process: its whole stderr is read, after it exited, for a traceback
    try:
        put(live, {"match": "^/albums$", "body": "aborted", "times": 1})
        with httpx2.Client(base_url=live.base_url, headers=AUTH, timeout=10) as c:
            with pytest.raises(httpx2.RemoteProtocolError, match=r"peer closed connection|incomplete"):
                c.get("/albums")
            again = c.get("/albums")
            assert again.status_code == 200 and again.json()["page"]["totalElements"] == 14
        with live.control() as c:
            assert [e["outcome"] for e in c.get(REQUESTS).json()] == ["fault:aborted", "ok"]
    finally:
        stderr = live.all_stderr()
    assert live.process.returncode == 0
    assert f"Footage sandbox: {live.base_url}" in stderr  # the reader saw the process's stderr
    assert "Traceback" not in stderr and "InjectedAbort" not in stderr


@pytest.mark.slow
def test_loopback_oversized_is_chunked_without_content_length(live: Running) -> None:
    put(
        live,
        {"match": "^/assets$", "body": "oversized"},
        {"match": "^/albums$", "body": "oversized", "size_bytes": 300_000, "declare_length": True},
    )
    with httpx2.Client(base_url=live.base_url, timeout=10) as c:
        with c.stream("GET", "/assets") as reply:
            assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
            assert "content-length" not in reply.headers and reply.headers["transfer-encoding"] == "chunked"
            data = bytearray()
            for chunk in reply.iter_raw():
                data += chunk
        assert len(data) == 12 * 1024 * 1024
        assert len(json.loads(data)["items"]) == 12 * 1024 - 1
        declared = c.get("/albums")
        assert declared.headers["content-length"] == "300000" and len(declared.content) == 300_000


@pytest.mark.slow
def test_loopback_slow_body_is_streamed_over_slow_ms(live: Running) -> None:
    put(live, {"match": "^/albums$", "body": "slow", "slow_ms": 600})
    with httpx2.Client(base_url=live.base_url, headers=AUTH, timeout=10) as c:
        started = time.perf_counter()
        with c.stream("GET", "/albums") as reply:
            headers_after = time.perf_counter() - started
            arrivals, body = [], bytearray()
            for chunk in reply.iter_raw():
                arrivals.append(time.perf_counter() - started)
                body += chunk
        elapsed = time.perf_counter() - started
    assert elapsed >= 0.8 * 0.6 and headers_after < 0.3
    assert len(arrivals) >= 3 and arrivals[-1] - arrivals[0] >= 0.3
    assert json.loads(body)["page"]["totalElements"] == 14
    assert int(reply.headers["content-length"]) == len(body)


@pytest.mark.slow
def test_loopback_latency(live: Running) -> None:
    put(live, {"match": "^/public/status$", "latency_ms": 300})
    with httpx2.Client(base_url=live.base_url, timeout=10) as c:
        started = time.perf_counter()
        reply = c.get("/public/status")
        assert time.perf_counter() - started >= 0.3 and reply.json() == {"status": "ok"}


@pytest.mark.slow
def test_loopback_other_origin_redirect_reaches_the_echo_listener(live: Running) -> None:
    put(live, {"match": "^/albums$|/preview$", "redirect": "other-origin"})
    with httpx2.Client(base_url=live.base_url, timeout=10) as c:
        headers = {**AUTH, "X-Trace": "t-1"}
        reply = c.get("/albums", params={"q": "x"}, headers=headers)
        assert reply.status_code == 302
        location = reply.headers["location"]
        echo_origin = c.get(f"{live.root}/_sandbox/info").json()["echo_origin"]
        assert location == f"{echo_origin}/api/asset/albums?q=x"
        assert c.get(location, headers=headers).json() == {"echo": True}
        followed = c.get("/assets/a1/preview", follow_redirects=True)
        assert followed.headers["content-type"] == "image/jpeg" and followed.content[:2] == b"\xff\xd8"
    with live.control() as c:
        echoed = c.get("/_sandbox/echo-requests").json()
        assert [(e["method"], e["path"], e["query"]) for e in echoed] == [
            ("GET", "/api/asset/albums", "q=x"),
            ("GET", "/api/asset/assets/a1/preview", ""),
        ]
        assert echoed[0]["headers"]["apikey"] == TOKEN and echoed[0]["headers"]["x-trace"] == "t-1"
        assert echoed[0]["headers"]["host"] == echo_origin.removeprefix("http://")
        assert [e["outcome"] for e in c.get(REQUESTS).json()] == ["fault:other-origin", "fault:other-origin"]


@pytest.mark.slow
def test_loopback_statuses_hops_loop_and_bodies(live: Running) -> None:
    put(
        live,
        {"match": "^/albums$", "statuses": [503, 429], "retry_after": "1"},
        {"match": "^/assets$", "redirect": "same-origin", "hops": 3},
        {"match": "^/search/assets$", "redirect": "loop"},
        {"match": "^/public/status$", "body": "html"},
        {"match": "^/configuration/archive$", "body": "truncated"},
        {"match": "^/albums/x$", "body": "not_json"},
        {"match": "^/albums/y$", "body": "empty"},
        {"match": "^/albums/z$", "body": "error_echo"},
    )
    with httpx2.Client(base_url=live.base_url, headers={"apiKey": "live-canary"}, timeout=10) as c:
        first, second = c.get("/albums"), c.get("/albums")
        assert [(r.status_code, r.headers["retry-after"]) for r in (first, second)] == [(503, "1"), (429, "1")]
        assert c.get("/albums").status_code == 401  # rule spent; normal answer (wrong token)
        hops = c.get("/assets", follow_redirects=True)
        assert [r.status_code for r in hops.history] == [302, 302, 302] and hops.status_code == 401
        assert hops.url.params["_hop"] == "3"
        with pytest.raises(httpx2.TooManyRedirects):
            c.get("/search/assets", follow_redirects=True)
        assert c.get("/public/status").headers["content-type"].startswith("text/html")
        truncated = c.get("/configuration/archive")
        assert int(truncated.headers["content-length"]) == len(truncated.content) > 0
        with pytest.raises(json.JSONDecodeError):
            truncated.json()
        assert c.get("/albums/x").text == "OK"
        assert c.get("/albums/y").content == b""
        assert "live-canary" in c.get("/albums/z").json()["message"]
    with live.control() as c:
        log = c.get(REQUESTS).json()
    assert all(e["headers"]["apikey"] == "live-canary" for e in log)
    assert [e["outcome"] for e in log[:3]] == ["fault:status", "fault:status", "status:401"]
    assert [e["query"] for e in log[3:7]] == ["", "_hop=1", "_hop=2", "_hop=3"]
