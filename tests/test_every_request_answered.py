"""Every JSON-RPC request gets an answer over real stdio, whatever its arguments (issue 11, class 7):
arguments nested 200 and 100,000 deep, a lone surrogate escape in any argument, a query string holding
an object nested 1,000 deep. The bridge is a subprocess spoken to in raw JSON-RPC lines (the SDK client
cannot even send some of these), against the sandbox over loopback HTTP."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from forkrun import warm_command

from footage_mcp.cli.launch import RunningSandbox, child_env
from footage_mcp.sandbox.library import shared_library
from tests.conftest import INITIALIZE

pytestmark = pytest.mark.slow

LIB = shared_library()
ALBUM = LIB.albums[0].id


class Raw:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.next_id = 10

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        reply: dict[str, Any] = json.loads(self.proc.stdout.readline().decode("utf-8"))
        return reply

    def call(self, raw_arguments: str, tool: str = "list_albums") -> dict[str, Any]:
        """Send a tools/call whose ``arguments`` is the raw JSON text given; return its reply."""
        self.next_id += 1
        self.send(
            f'{{"jsonrpc":"2.0","id":{self.next_id},"method":"tools/call",'
            f'"params":{{"name":"{tool}","arguments":{raw_arguments}}}}}'
        )
        reply = self.receive()
        assert reply["id"] == self.next_id
        return reply


@pytest.fixture
def raw(hal_sandbox: RunningSandbox) -> Iterator[Raw]:
    env = child_env({"FOOTAGE_BASE_URL": hal_sandbox.base_url, "FOOTAGE_API_TOKEN": hal_sandbox.token})
    proc = subprocess.Popen(
        warm_command(["serve"]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    session = Raw(proc)
    session.send(json.dumps(INITIALIZE))
    assert session.receive()["id"] == 1
    session.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    try:
        yield session
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=20)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        assert "Traceback" not in stderr


def nested(depth: int) -> str:
    return '{"a":' * depth + '"x"' + "}" * depth


def tool_text(reply: dict[str, Any]) -> str:
    return str(reply["result"]["content"][0]["text"])


@pytest.mark.parametrize("depth", [200, 100_000])
def test_arguments_nested_deep_get_an_error_reply(raw: Raw, depth: int) -> None:
    reply = raw.call(f'{{"query":{nested(depth)}}}')
    assert reply["error"]["code"] == -32602
    assert reply["error"]["message"].startswith("the request is nested more than 64 levels deep")
    assert raw.call(f'{{"album_id":"{ALBUM}"}}', "get_album")["result"]["isError"] is False  # still serving


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("list_albums", '{"query":"caf\\ud83d"}'),
        ("search_assets", '{"query":"\\udc00 Paris"}'),
        ("get_album", '{"album_id":"\\ud83d"}'),
        ("api_get", '{"path":"albums","query":"q=\\ud83d"}'),
        ("list_albums", '{"\\ud83d":"key"}'),
    ],
)
def test_a_lone_surrogate_in_any_argument_is_answered(raw: Raw, tool: str, arguments: str) -> None:
    reply = raw.call(arguments, tool)
    assert "result" in reply, reply
    text = tool_text(reply)
    if tool == "get_album":  # the surrogate became U+FFFD: an id the API does not know
        assert reply["result"]["isError"] is True and text == "album '\ufffd' not found — list_albums shows valid ids"
    else:
        assert reply["result"]["isError"] is False, text


def test_a_query_string_holding_an_object_nested_1000_deep(raw: Raw) -> None:
    reply = raw.call(json.dumps({"path": "albums", "query": nested(1000)}), "api_get")
    assert reply["result"]["isError"] is True
    assert tool_text(reply) == (
        "invalid arguments for api_get: query: value error, the query object is nested too deeply (at most 8 levels) "
        "(e.g. query='size=5&q=paris')"
    )
