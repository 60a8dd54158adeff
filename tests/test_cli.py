"""The command line: configuration refusals, --version, and nothing but JSON-RPC on stdout."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import forkrun
import httpx2
import pytest
from canary_plugin import TOKEN

from footage_mcp import __version__
from footage_mcp.cli.launch import RunningSandbox, child_env
from footage_mcp.core.settings import Settings
from footage_mcp.sandbox.library import build_library
from tests.conftest import INITIALIZE, INTERFACE_TOOLS


def run(args: list[str], env: dict[str, str] | None = None, *, cold: bool = False) -> subprocess.CompletedProcess[str]:
    """``footage-mcp <args>`` with ``env`` (and nothing of this machine's FOOTAGE_*), stdin empty: in a
    process forked from a warm one (tests/forkrun.py), or with ``cold`` a fresh ``python -m footage_mcp``.
    What a process shows at start (stdout purity, locale, stdin) is tested with a real start below."""
    if not cold:
        return forkrun.run(args, child_env(env), timeout=60)
    return subprocess.run(
        [sys.executable, "-m", "footage_mcp", *args],
        input="",
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/api/asset", "must use https"),
        ("https://user:pw@app.footage.one/api/asset", "must not contain credentials"),
        ("https://app.footage.one/api/asset?x=1", "must not contain a query"),
        ("ftp://app.footage.one/api/asset", "must be an https:// URL"),
        ("notaurl", "must be an https:// URL"),
        ("https://\uff41\uff50\uff50.footage.one/api/asset", "its host name is not a valid host name"),
        ("https://ex ample.com/api/asset", "contains a space"),
        ("https://example.com/api/asset\nx", "contains a line break"),
        ("https://example.com/api\tasset", "contains a tab"),
        ("https://example.com/api/asset\x7f", "contains a control character"),
        ("http://127.0.0.1:0/api/asset", "port 0 is not a port to connect to"),
        ("https://xn--zz/api/asset", "its host name is not a valid host name"),
        ("https://example.com/" + "a" * 5000, "is too long (5020 characters; at most 2048)"),
    ],
)
def test_bad_base_url_is_refused_with_one_line_and_status_2(url: str, says: str) -> None:
    result = run(["serve"], {"FOOTAGE_BASE_URL": url, "FOOTAGE_API_TOKEN": TOKEN})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("footage-mcp: configuration error:")
    assert TOKEN not in result.stderr and "pw" not in result.stderr


@pytest.mark.parametrize("reference", ["${user_config.base_url}", "${FOOTAGE_BASE_URL}", "$FOOTAGE_BASE_URL"])
def test_an_unexpanded_base_url_reference_means_unset(reference: str) -> None:
    """An MCP Bundle host passes ``${user_config.base_url}`` literally when the optional field is left
    empty (modelcontextprotocol/mcpb#250): that is "not set", not a fatal error."""
    assert Settings(base_url=reference).base_url == "https://app.footage.one/api/asset"


def test_loopback_http_is_allowed_and_trailing_slash_dropped() -> None:
    for host in ("127.0.0.1:8765", "localhost:1", "[::1]:80"):
        assert Settings(base_url=f"http://{host}/api/asset/").base_url == f"http://{host}/api/asset"


def test_token_alias_and_repr_never_shows_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTAGE_API_TOKEN", raising=False)
    monkeypatch.setenv("FOOTAGE_API_KEY", f"  {TOKEN} \n")
    settings = Settings()
    assert settings.token == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


def test_version() -> None:
    result = run(["--version"], cold=True)
    assert result.returncode == 0 and result.stdout.strip() == f"footage-mcp {__version__}"


def test_serve_answers_initialize_with_jsonrpc_only_on_stdout() -> None:
    """The API is unreachable (port 9): initialize and tools/list still answer, stdout is pure JSON-RPC,
    and no REST request is attempted before a tool needs one."""
    env = child_env(
        {"FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "FOOTAGE_API_TOKEN": "tok", "FOOTAGE_LOG_LEVEL": "DEBUG"}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "footage_mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    messages = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    replies = []
    try:
        for message in messages:
            proc.stdin.write((json.dumps(message) + "\n").encode())
            proc.stdin.flush()
            if "id" in message:
                replies.append(json.loads(proc.stdout.readline()))
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
        rest_out = proc.stdout.read()
        stderr = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
    assert [r["id"] for r in replies] == [1, 2] and rest_out == b""
    assert replies[0]["result"]["serverInfo"]["name"] == "footage"
    assert {t["name"] for t in replies[1]["result"]["tools"]} == INTERFACE_TOOLS
    assert "connect_tcp" not in stderr and "127.0.0.1:9" not in stderr  # no REST I/O happened


@pytest.mark.parametrize(
    ("lines_first", "read_replies"), [(0, True), (2, True), (3, False)], ids=["idle", "after-calls", "in-flight"]
)
def test_sigint_stops_the_stdio_server_with_status_130(lines_first: int, read_replies: bool) -> None:
    """SIGINT (Ctrl-C in a terminal, or a host's process group) with stdin still open: the server exits with
    status 130, stdout held only JSON-RPC. Before, it hung until stdin closed (the SDK's stdin reader waits
    in an uncancellable worker thread; found by a breaking run); and with requests in flight it exited 1
    with tracebacks (stdin's lines were an async generator finalized in another task, see
    tests/test_stdio_lines.py)."""
    env = child_env({"FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "FOOTAGE_API_TOKEN": "tok"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "footage_mcp", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
        proc.stdin.flush()
        replies = [json.loads(proc.stdout.readline())]
        for n in range(lines_first):
            proc.stdin.write((json.dumps({"jsonrpc": "2.0", "id": 10 + n, "method": "tools/list"}) + "\n").encode())
            proc.stdin.flush()
            if read_replies:
                replies.append(json.loads(proc.stdout.readline()))
        drained: dict[str, bytes] = {}
        readers = [  # both pipes read while waiting (stdin stays open): a full pipe cannot stall the exit
            threading.Thread(target=lambda n=name, p=pipe: drained.__setitem__(n, p.read()), daemon=True)
            for name, pipe in (("out", proc.stdout), ("err", proc.stderr))
        ]
        for reader in readers:
            reader.start()
        proc.send_signal(signal.SIGINT)
        try:
            status = proc.wait(timeout=30)  # a hang is the failure (no timing assertion)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            for reader in readers:
                reader.join(5)
            stuck = drained.get("err", b"").decode(errors="replace")[-3000:]
            raise AssertionError(f"the server did not stop within 30 s of SIGINT; stderr: {stuck}") from None
        for reader in readers:
            reader.join(30)
        rest_out, stderr = drained["out"], drained["err"].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                pipe.close()
    assert status == 130, stderr
    if read_replies:
        assert [r["id"] for r in replies] == [1, *range(10, 10 + lines_first)] and rest_out == b""
    else:  # the answers that went out before the signal, whole JSON-RPC lines only
        late = [json.loads(line) for line in rest_out.splitlines()]
        assert replies[0]["id"] == 1 and {r["id"] for r in late} <= set(range(10, 10 + lines_first))
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr


def test_malformed_lines_and_a_c_locale_do_not_break_the_server(hal_sandbox: RunningSandbox) -> None:
    """Garbage lines on stdin are skipped; non-ASCII arguments and results survive LANG=C."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FOOTAGE_", "LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))
    }
    env.update(
        {
            "LANG": "C",
            "LC_ALL": "C",
            "PYTHONUTF8": "0",
            "FOOTAGE_BASE_URL": hal_sandbox.base_url,
            "FOOTAGE_API_TOKEN": hal_sandbox.token,
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "footage_mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def send(raw: bytes) -> None:
        assert proc.stdin is not None
        proc.stdin.write(raw + b"\n")
        proc.stdin.flush()

    def receive() -> dict[str, Any]:
        assert proc.stdout is not None
        reply: dict[str, Any] = json.loads(proc.stdout.readline().decode("utf-8"))
        return reply

    try:
        send(b"this is not json")
        send(b'{"jsonrpc": "2.0", "id": 99, "method": "tools/list"')
        send(json.dumps(INITIALIZE).encode())
        assert receive()["id"] == 1
        send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        send(b"\x00\xff\xfe garbage")
        send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "search_assets", "arguments": {"query": "Fourvière", "limit": 1}},
                },
                ensure_ascii=False,
            ).encode()
        )
        reply = receive()
        assert reply["id"] == 2
        assert reply["result"]["structuredContent"]["assets"][0]["name"].startswith("Fourvière")
        send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "tools/call",
                    "params": {"name": "list_albums", "arguments": {"query": "Zürich ☃"}},
                },
                ensure_ascii=False,
            ).encode()
        )
        assert receive()["result"]["structuredContent"] == {"albums": [], "total": 0, "next_cursor": None}
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (f"\u201c{TOKEN}\u201d", "FOOTAGE_API_TOKEN is wrapped in typographic quotes (\u201c…\u201d)"),
        (f"{TOKEN[:16]}\n{TOKEN[16:]}", "FOOTAGE_API_TOKEN contains a line break at character 17 of 33"),
        (f"{TOKEN[:16]} {TOKEN[16:]}", "FOOTAGE_API_TOKEN contains a space at character 17 of 33"),
        (f'"{TOKEN}"', 'FOOTAGE_API_TOKEN is wrapped in quotes ("…")'),
        (f"Bearer {TOKEN}", "FOOTAGE_API_TOKEN starts with 'Bearer '"),
    ],
)
def test_a_mangled_token_is_named_at_start_without_echoing_it(token: str, says: str) -> None:
    """serve: starts anyway, with one line naming the problem (the calls that need the token answer
    with it: tests/test_serve_start.py); check: the same problem as a FAIL line, status 1."""
    served = run([], {"FOOTAGE_API_TOKEN": token})
    assert served.returncode == 0 and served.stdout == ""
    assert served.stderr.startswith(f"footage-mcp: {says}") and TOKEN[:10] not in served.stderr
    assert served.stderr.endswith("; calls that need the token will say so\n")
    assert len(served.stderr.strip().splitlines()) == 1
    checked = run(
        ["check"],
        {"FOOTAGE_API_TOKEN": token, "FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "FOOTAGE_MAX_RETRIES": "0"},
    )
    assert checked.returncode == 1 and TOKEN[:10] not in checked.stdout + checked.stderr
    assert TOKEN[-10:] not in checked.stdout + checked.stderr  # (the canary plugin searches every piece)
    assert f"FAIL  token format     {says}" in checked.stdout


def test_routes_file_problems_are_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "routes.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    cases = [
        (str(binary), "is not UTF-8 text"),
        ("/dev/zero", "is not a file"),
        (str(tmp_path / "missing.toml"), "is not a file"),
        (str(tmp_path), "is not a file"),
    ]
    for value, says in cases:
        served = run([], {"FOOTAGE_ROUTES": value, "FOOTAGE_API_TOKEN": "t"})
        assert served.returncode == 2 and says in served.stderr and "Traceback" not in served.stderr
        checked = run(
            ["check"],
            {"FOOTAGE_ROUTES": value, "FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "FOOTAGE_MAX_RETRIES": "0"},
        )
        assert checked.stdout.splitlines()[0].startswith("FAIL  routes file") and says in checked.stdout


def test_empty_settings_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FOOTAGE_ROUTES", "FOOTAGE_TIMEOUT", "FOOTAGE_LOG_LEVEL", "FOOTAGE_BASE_URL", "FOOTAGE_API_TOKEN"):
        monkeypatch.setenv(name, "")
    settings = Settings()
    assert (settings.routes, settings.timeout, settings.log_level, settings.token) == (None, 30.0, "WARNING", None)


def test_sandbox_on_a_busy_port_says_so_in_one_line(hal_sandbox: RunningSandbox) -> None:
    port = hal_sandbox.base_url.split(":")[2].split("/")[0]
    result = run(["sandbox", "--port", port])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"footage-mcp sandbox: cannot listen on 127.0.0.1:{port}: the port is already in use (another sandbox, "
        "or another server); stop it, or choose another with --port (0 picks a free one: FOOTAGE_BASE_URL must "
        "then name the address it prints)"
    ]


def test_the_one_sandbox_command_line_takes_seed_extra_assets_and_faults(tmp_path: Path) -> None:
    """``footage-mcp sandbox`` has every option of ``python -m footage_mcp.sandbox`` (the benchmark
    needed --extra-album-assets and worked around the command before), through the one launcher."""
    rules = {"rules": [{"match": "^/public/status$", "status": 418, "times": 1}]}
    (tmp_path / "faults.json").write_text(json.dumps(rules))
    default = build_library()
    seeded = build_library(7, extra_album_assets=5)
    with forkrun.warm_sandbox(seed=7, extra_album_assets=5, faults=tmp_path / "faults.json") as running:
        headers = {"apiKey": running.token}
        albums = httpx2.get(f"{running.base_url}/albums?size=100", headers=headers, timeout=10).json()
        status = httpx2.get(f"{running.base_url}/public/status", timeout=10).status_code
    names = {album["name"] for album in albums["_embedded"]["albums"]}
    assert names == {album.name for album in seeded.albums} and "Bulk Import" in names
    assert {album.id for album in seeded.albums}.isdisjoint(album.id for album in default.albums)
    assert status == 418


@pytest.mark.parametrize("option", [["--host", "127.0.0.1"], ["--port", "8800"], ["--allow-remote"]])
def test_http_only_options_without_the_http_transport_are_refused(option: list[str]) -> None:
    """``serve --port 8800`` alone would silently serve stdio: say so instead, before reading any setting."""
    result = run(["serve", *option])
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip().endswith(
        f"{option[0]} applies to --transport http only (stdio is the default); "
        f"add --transport http, or drop {option[0]}"
    )
