"""`footage-mcp check` on the mistakes users make: one test per mistake, the exact line it prints, a
non-zero status (a WARN alone leaves it 0), and never the canary token.

Every run is a process of its own (``footage-mcp check``, forked from a warm server by tests/forkrun.py:
its own environment, streams and exit status, without a cold interpreter's second of imports; the real
``python -m footage_mcp check`` runs in tests/test_check_demo.py, and with FOOTAGE_TEST_COLD_PROCESSES=1
here too) with its environment built by ``child_env``, and the proxy and CA variables of this machine
removed unless the test sets them.
The API is the sandbox over loopback HTTP, or the same sandbox app behind TLS (uvicorn in a thread,
certificates made here with ``cryptography``).
"""

from __future__ import annotations

import datetime
import io
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import forkrun
import httpx2
import pytest
import uvicorn
from canary_plugin import TOKEN
from certs import ca_pem

from footage_mcp.cli import check as check_module
from footage_mcp.cli.check import check_base_url, describe_transport_failure, run_checks
from footage_mcp.cli.launch import RunningSandbox, child_env
from footage_mcp.core.errors import InvalidArgument, TransportError
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.netenv import ProxyRoute
from footage_mcp.sandbox.app import create_app
from footage_mcp.sandbox.server import bind

pytestmark = pytest.mark.slow

CANARY = TOKEN[:21]  # 21 characters of the suite's canary: the canary plugin searches for it too
"""The token the sandbox accepts; it must never be printed, whole or in part."""
NETWORK_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
DEFAULT = "https://app.footage.one/api/asset"


@dataclass(frozen=True)
class Checked:
    status: int
    stdout: str
    stderr: str

    def line(self, name: str) -> str:
        found = [line for line in self.stdout.splitlines() if line[6:22].strip() == name]
        assert len(found) == 1, f"no single {name!r} line in:\n{self.stdout}"
        return found[0]

    def names(self) -> list[str]:
        return [line[6:22].strip() for line in self.stdout.splitlines()]


def check(env: dict[str, str], command: str = "check") -> Checked:
    """Run ``python -m footage_mcp <command>`` with ``env`` and nothing of this machine's FOOTAGE_*,
    proxy or CA settings; assert the canary token appears nowhere."""
    full = child_env({"FOOTAGE_MAX_RETRIES": "0", "FOOTAGE_TIMEOUT": "10", **env})
    for name in NETWORK_VARIABLES:
        for variant in (name, name.lower()):
            if variant not in env:
                full.pop(variant, None)
    result = forkrun.run([command] if command else [], full, timeout=120)
    output = result.stdout + result.stderr
    for fragment in (CANARY, CANARY[:12], CANARY[12:], CANARY[6:14]):
        assert fragment not in output, f"the token leaked: {output}"
    return Checked(result.returncode, result.stdout, result.stderr)


def assert_check_fails_and_serve_stops(env: dict[str, str], says: str) -> None:
    """A CA problem is one FAIL line in check (the network checks skipped) and the one line serve
    exits 2 with: the two commands agree."""
    result = check(env)
    assert result.status == 1
    assert result.line("CA certificates") == f"FAIL  CA certificates  {says}"
    assert result.line("connection") == "FAIL  connection       skipped: fix the CA certificates first"
    served = check(env, command="serve")
    assert (served.status, served.stdout, served.stderr) == (2, "", f"footage-mcp: configuration error: {says}\n")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api() -> Iterator[RunningSandbox]:
    """A sandbox that accepts the canary token (module-scoped: its fault rules are ours to change)."""
    with forkrun.warm_sandbox(token=CANARY) as running:
        yield running


# ---------------------------------------------------------------- the folders


def test_the_folders_are_named_and_a_relative_one_fails_check_and_stops_serve(
    api: RunningSandbox, tmp_path: Path
) -> None:
    """A new user's trial: a relative FOOTAGE_UPLOAD_DIRS stopped serve at start and a relative
    FOOTAGE_DOWNLOAD_DIR failed only at the first download; check said nothing of either."""
    base = {"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": CANARY}
    folders = {"FOOTAGE_DOWNLOAD_DIR": str(tmp_path / "dl"), "FOOTAGE_ALLOW_WRITES": "true"}
    result = check({**base, **folders, "FOOTAGE_UPLOAD_DIRS": str(tmp_path)})
    assert result.line("folders") == (
        f"PASS  folders          downloads go to {tmp_path / 'dl'}; upload_assets reads from {tmp_path.resolve()}"
    )
    for variable, says in (
        (
            "FOOTAGE_DOWNLOAD_DIR",
            "FOOTAGE_DOWNLOAD_DIR: 'rel/dl' is not an absolute path; give the full path of the folder",
        ),
        ("FOOTAGE_UPLOAD_DIRS", "FOOTAGE_UPLOAD_DIRS: 'rel/dl' is not an absolute path; give full folder paths"),
    ):
        env = {**base, **folders, "FOOTAGE_UPLOAD_DIRS": str(tmp_path), variable: "rel/dl"}
        result = check(env)
        assert result.status == 1 and result.line("folders") == f"FAIL  folders          {says}"
        served = check(env, command="serve")
        assert (served.status, served.stderr) == (2, f"footage-mcp: configuration error: {says}\n")


# ---------------------------------------------------------------- the token


def test_missing_token_says_how_to_set_it(api: RunningSandbox) -> None:
    result = check({"FOOTAGE_BASE_URL": api.base_url})
    assert result.status == 1
    assert result.line("token present") == (
        "FAIL  token present    no token: FOOTAGE_API_TOKEN is not set — get one at https://app.footage.one/account "
        "(section 'API Key') and put it in the MCP host's configuration (`footage-mcp config "
        "claude-desktop|claude-code|cursor|vscode` prints a snippet with its place); in a shell: "
        "export FOOTAGE_API_TOKEN=…"
    )
    assert "token format" not in result.names()
    assert result.line("connection").startswith("PASS")
    assert result.line("token accepted") == "FAIL  token accepted   skipped: no token"


def test_a_blank_token_is_no_token(api: RunningSandbox) -> None:
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": "  \n"})
    assert result.status == 1
    assert result.line("token present").startswith(
        "FAIL  token present    FOOTAGE_API_TOKEN is set but blank — get one"
    )


FORMAT_MISTAKES = [
    (
        "double-quotes",
        f'"{CANARY}"',
        'FOOTAGE_API_TOKEN is wrapped in quotes ("…"); set the token without them (in a JSON file the only quotes '
        'are JSON\'s own: "FOOTAGE_API_TOKEN": "abc…")',
    ),
    (
        "single-quotes",
        f"'{CANARY}'",
        "FOOTAGE_API_TOKEN is wrapped in quotes ('…'); set the token without them (in a JSON file the only quotes "
        'are JSON\'s own: "FOOTAGE_API_TOKEN": "abc…")',
    ),
    (
        "typographic-quotes",
        f"\u201c{CANARY}\u201d",
        "FOOTAGE_API_TOKEN is wrapped in typographic quotes (\u201c…\u201d); set the token without them (in a JSON "
        'file the only quotes are JSON\'s own: "FOOTAGE_API_TOKEN": "abc…")',
    ),
    (
        "one-quote",
        f'"{CANARY}',
        'FOOTAGE_API_TOKEN starts with a quote (") that is not part of the token; remove it',
    ),
    (
        "bearer",
        f"Bearer {CANARY}",
        "FOOTAGE_API_TOKEN starts with 'Bearer ': the bridge sends the token in the apiKey header itself; "
        "set only the token",
    ),
    (
        "apikey-prefix",
        f"apiKey={CANARY}",
        "FOOTAGE_API_TOKEN starts with 'apiKey=' (pasted with the token); set only the part after it",
    ),
    (
        "export-line",
        f"export FOOTAGE_API_TOKEN={CANARY}",
        "FOOTAGE_API_TOKEN starts with 'export FOOTAGE_API_TOKEN=' (pasted with the token); set only the part after it",
    ),
    (
        "line-break",
        f"{CANARY[:12]}\n{CANARY[12:]}",
        "FOOTAGE_API_TOKEN contains a line break at character 13 of 22: the token was pasted across lines; "
        "put it on one line",
    ),
    (
        "zero-width-space",
        f"{CANARY}\u200b",
        "FOOTAGE_API_TOKEN contains a non-ASCII character at character 22 of 22 (U+200B ZERO WIDTH SPACE); "
        "paste the token again as plain text",
    ),
    (
        "placeholder",
        "paste-your-footage-api-token-here",
        "FOOTAGE_API_TOKEN is still the placeholder 'paste-your-footage-api-token-here' from the configuration "
        "snippet; replace it with your API key from https://app.footage.one/account",
    ),
    (
        "unexpanded-variable",
        "${input:footage-api-token}",
        "FOOTAGE_API_TOKEN is an unexpanded variable reference (${...}): this host passes it literally; "
        "put the token itself there",
    ),
]


@pytest.mark.parametrize(("value", "says"), [m[1:] for m in FORMAT_MISTAKES], ids=[m[0] for m in FORMAT_MISTAKES])
def test_a_mangled_token_is_a_fail_line_and_is_not_sent(api: RunningSandbox, value: str, says: str) -> None:
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": value})
    assert result.status == 1
    assert result.line("token format") == f"FAIL  token format     {says}"
    assert result.line("connection").startswith("PASS")
    assert (
        result.line("token accepted")
        == "FAIL  token accepted   skipped: fix FOOTAGE_API_TOKEN first (see token format)"
    )


def test_the_alias_variable_is_named_in_the_line(api: RunningSandbox) -> None:
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_KEY": f"'{CANARY}'"})
    assert result.status == 1
    assert result.line("token format").startswith("FAIL  token format     FOOTAGE_API_KEY is wrapped in quotes")


def test_whitespace_around_the_token_is_a_warning_only(api: RunningSandbox) -> None:
    """The bridge strips it, so the token works: WARN, and the other checks pass (status 0)."""
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": f"  {CANARY}\r\n"})
    assert result.line("token format") == (
        "WARN  token format     FOOTAGE_API_TOKEN has whitespace or a line break around it (21 characters without "
        "it); the bridge ignores it, but remove it from the configuration to be safe"
    )
    assert result.line("token accepted") == "PASS  token accepted   the API accepted the token (14 albums)"
    assert result.status == 0


def test_serve_starts_with_a_mangled_token_and_says_once_what_is_wrong() -> None:
    """serve no longer exits at start (a host would show only "Connection closed"): one stderr line,
    then the calls that need the token answer with the problem (tests/test_serve_start.py)."""
    result = check({"FOOTAGE_API_TOKEN": f"apiKey: {CANARY}"}, command="serve")
    assert result.status == 0 and result.stdout == ""  # stdin is empty: the host closed the session
    assert result.stderr == (
        "footage-mcp: FOOTAGE_API_TOKEN starts with 'apiKey:' (pasted with the token); "
        "set only the part after it; calls that need the token will say so\n"
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            "characters",
            {
                "token present": "PASS  token present    FOOTAGE_API_TOKEN is set (10 characters)",
                "token format": "PASS  token format     one line, no quotes, spaces, prefix or placeholder",
            },
        ),
        ("connection", {"token present": "PASS  token present    FOOTAGE_API_TOKEN is set (10 characters)"}),
        ("answered", {"token present": "PASS  token present    FOOTAGE_API_TOKEN is set (8 characters)"}),
        (
            "Bearer",
            {
                "token present": "PASS  token present    FOOTAGE_API_TOKEN is set (6 characters)",
                "token format": "FAIL  token format     FOOTAGE_API_TOKEN starts with 'Bearer ': the bridge sends the "
                "token in the apiKey header itself; set only the token",
            },
        ),
        (
            '"FOOTAGE_API_TOKEN": "tok-1234567890"',
            {
                "token present": "PASS  token present    FOOTAGE_API_TOKEN is set (37 characters)",
                "token format": 'FAIL  token format     FOOTAGE_API_TOKEN is wrapped in quotes ("…"); set the token '
                'without them (in a JSON file the only quotes are JSON\'s own: "FOOTAGE_API_TOKEN": "abc…")',
            },
        ),
        ("FOOTAGE_API_TOKEN", {"token present": "PASS  token present    FOOTAGE_API_TOKEN is set (17 characters)"}),
    ],
    ids=["characters", "connection", "answered", "Bearer", "json-line", "variable-name"],
)
def test_a_token_that_is_a_common_word_does_not_garble_the_report(
    api: RunningSandbox, token: str, expected: dict[str, str]
) -> None:
    """check's own text is never redacted: the token cannot be in it (only in what comes from outside)."""
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": token})
    for name, line in expected.items():
        assert result.line(name) == line
    if not result.line("connection").startswith("FAIL  connection       skipped"):
        assert result.line("connection") == f"PASS  connection       {api.base_url}/ answered 200"
    assert result.line("base URL") == f"PASS  base URL         {api.base_url}"
    assert "[redacted]" not in result.stdout


def test_a_token_equal_to_the_variable_name_is_a_placeholder(api: RunningSandbox) -> None:
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": "FOOTAGE_API_TOKEN"})
    assert result.line("token format") == (
        "FAIL  token format     FOOTAGE_API_TOKEN is the variable's own name, not a token; replace it with your API "
        "key from https://app.footage.one/account"
    )


def test_the_token_is_still_redacted_where_it_comes_from_outside(api: RunningSandbox) -> None:
    """A token pasted into FOOTAGE_BASE_URL too: the URL is outside text, and is scrubbed."""
    url = f"{api.base_url}/{CANARY}"
    result = check({"FOOTAGE_BASE_URL": url, "FOOTAGE_API_TOKEN": CANARY})
    assert result.line("token present") == "PASS  token present    FOOTAGE_API_TOKEN is set (21 characters)"
    assert result.line("base URL") == (
        f"WARN  base URL         {api.base_url}/[redacted] does not end in /api/asset, the REST API's base path; if "
        "the discovery root fails below, add it"
    )
    assert result.line("connection") == f"PASS  connection       {api.base_url}/[redacted]/ answered 404"
    assert result.line("discovery root") == (
        f"FAIL  discovery root   {api.base_url}/[redacted]/ answered 404: there is no API root there — "
        "FOOTAGE_BASE_URL should end in /api/asset"
    )


# ---------------------------------------------------------------- the base URL


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "https://app.footage.one",
            "https://app.footage.one is not the REST API's base, which is under /api/asset: set "
            f"FOOTAGE_BASE_URL={DEFAULT}, or unset it (that is the default)",
        ),
        (
            "http://app.footage.one/api/asset",
            "http://app.footage.one/api/asset uses plain http, which would send the token unencrypted: use "
            f"{DEFAULT} (plain http only for a loopback sandbox)",
        ),
        (
            "https://mcp.footage.one/mcp",
            "https://mcp.footage.one/mcp is Footage's hosted MCP endpoint (OAuth only), not the REST API: set "
            f"FOOTAGE_BASE_URL={DEFAULT}, or unset it (that is the default)",
        ),
        (
            "https://footage.one/api/asset",
            f"https://footage.one/api/asset is the Footage website, not the REST API: set FOOTAGE_BASE_URL={DEFAULT}, "
            "or unset it (that is the default)",
        ),
    ],
    ids=["no-api-path", "plain-http", "hosted-mcp-endpoint", "website"],
)
def test_a_wrong_footage_url_is_caught_without_any_request(url: str, says: str) -> None:
    result = check({"FOOTAGE_BASE_URL": url, "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("base URL") == f"FAIL  base URL         {says}"
    for name in ("connection", "discovery root", "token accepted"):
        assert result.line(name) == f"FAIL  {name:<16} skipped: fix FOOTAGE_BASE_URL first"


@pytest.mark.parametrize(
    ("url", "shown", "target"),
    [
        (
            "http://[2001:db8::1]:8765/api/asset",
            "http://[2001:db8::1]:8765/api/asset",
            "https://[2001:db8::1]:8765/api/asset",
        ),
        (
            "http://[::ffff:10.0.0.1]:8765/api/asset",
            "http://[::ffff:10.0.0.1]:8765/api/asset",
            "https://[::ffff:10.0.0.1]:8765/api/asset",
        ),
        ("http://[2001:db8::1]/api/asset", "http://[2001:db8::1]/api/asset", "https://[2001:db8::1]/api/asset"),
        (
            "http://example.com:8080/api/asset",
            "http://example.com:8080/api/asset",
            "https://example.com:8080/api/asset",
        ),
        ("HTTP://Example.COM/api/asset/", "http://example.com/api/asset/", "https://example.com/api/asset/"),
        ("http://user:pw@example.com/api/asset", "http://***@example.com/api/asset", "https://example.com/api/asset"),
    ],
    ids=["ipv6-port", "ipv4-mapped", "ipv6", "port", "upper-case", "credentials"],
)
def test_the_https_url_suggested_for_plain_http_keeps_brackets_and_port(url: str, shown: str, target: str) -> None:
    verdict = check_base_url(url)
    assert (verdict.status, verdict.usable) == ("FAIL", False)
    assert verdict.detail == (
        f"{shown} uses plain http, which would send the token unencrypted: use {target} (plain http only for a "
        "loopback sandbox)"
    )


def test_the_https_url_suggested_for_an_ipv6_host() -> None:
    result = check({"FOOTAGE_BASE_URL": "http://[2001:db8::1]:8765/api/asset", "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("base URL") == (
        "FAIL  base URL         http://[2001:db8::1]:8765/api/asset uses plain http, which would send the token "
        "unencrypted: use https://[2001:db8::1]:8765/api/asset (plain http only for a loopback sandbox)"
    )


def test_a_url_without_the_api_path_is_a_warning_then_a_404_root(api: RunningSandbox) -> None:
    origin = api.base_url.removesuffix("/api/asset")
    result = check({"FOOTAGE_BASE_URL": origin, "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("base URL") == (
        f"WARN  base URL         {origin} does not end in /api/asset, the REST API's base path; if the discovery "
        "root fails below, add it"
    )
    assert result.line("discovery root") == (
        f"FAIL  discovery root   {origin}/ answered 404: there is no API root there — FOOTAGE_BASE_URL should end "
        "in /api/asset"
    )
    assert result.stderr == ""  # the report is the only output: no log line ("discovery: cannot read ...")


def test_a_url_that_serves_a_web_page(api: RunningSandbox) -> None:
    origin = api.base_url.removesuffix("/api/asset")
    put = httpx2.put(f"{origin}/_sandbox/faults", json={"rules": [{"match": "^/?$", "body": "html"}]}, timeout=10)
    assert put.status_code == 200
    try:
        result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": CANARY})
    finally:
        httpx2.delete(f"{origin}/_sandbox/faults", timeout=10)
    assert result.status == 1
    assert result.line("connection") == f"PASS  connection       {api.base_url}/ answered 200"
    assert result.line("discovery root") == (
        f"FAIL  discovery root   {api.base_url}/ answered with an HTML page (a website, not the REST API): "
        f"FOOTAGE_BASE_URL must be the API's base, {DEFAULT}"
    )


def test_a_host_that_does_not_resolve() -> None:
    result = check({"FOOTAGE_BASE_URL": "https://app.footage.invalid/api/asset", "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("connection") == (
        "FAIL  connection       cannot resolve the host name app.footage.invalid (DNS lookup failed) — check its "
        "spelling in FOOTAGE_BASE_URL; if other sites work, this network may need a proxy (HTTPS_PROXY)"
    )


def test_a_typo_of_the_api_host_is_pointed_out() -> None:
    """Statically (a closed proxy keeps the run off the network), and again when the name does not resolve."""
    env = {"FOOTAGE_BASE_URL": "https://app.fotage.one/api/asset", "FOOTAGE_API_TOKEN": CANARY}
    result = check({**env, "HTTPS_PROXY": f"http://127.0.0.1:{closed_port()}"})
    assert result.status == 1
    assert result.line("base URL") == (
        "WARN  base URL         https://app.fotage.one/api/asset: is app.fotage.one a typo? The Footage REST API "
        f"is {DEFAULT}"
    )
    error = TransportError("cannot resolve the host name app.fotage.one; check FOOTAGE_BASE_URL and the network")
    error.__context__ = socket.gaierror(-2, "Name or service not known")
    route = ProxyRoute(proxy=None, configured=(), bypass=None, problem=None)
    assert describe_transport_failure(error, "https://app.fotage.one/api/asset/", route, 30) == (
        "cannot resolve the host name app.fotage.one (DNS lookup failed) — check its spelling in FOOTAGE_BASE_URL "
        "(did you mean app.footage.one?); if other sites work, this network may need a proxy (HTTPS_PROXY)"
    )


def test_a_refused_connection() -> None:
    port = closed_port()
    result = check({"FOOTAGE_BASE_URL": f"http://127.0.0.1:{port}/api/asset", "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("connection") == (
        f"FAIL  connection       127.0.0.1:{port} refused the connection: nothing listens there (is the sandbox "
        "running?) — check the host and port in FOOTAGE_BASE_URL"
    )
    assert result.line("discovery root") == "FAIL  discovery root   skipped: the API is unreachable"


def test_https_to_a_plain_http_port(api: RunningSandbox) -> None:
    url = api.base_url.replace("http://", "https://")
    result = check({"FOOTAGE_BASE_URL": url, "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("connection") == (
        "FAIL  connection       TLS handshake with 127.0.0.1 failed (WRONG_VERSION_NUMBER): the port does not "
        "speak https (a local sandbox uses http://), or a proxy is in the way"
    )


# ---------------------------------------------------------------- proxies


def test_an_unreachable_proxy_is_named_with_its_credentials_masked() -> None:
    port = closed_port()
    result = check({"FOOTAGE_API_TOKEN": CANARY, "HTTPS_PROXY": f"http://alice:proxy-secret@127.0.0.1:{port}"})
    assert result.status == 1
    assert "proxy-secret" not in result.stdout + result.stderr and "alice" not in result.stdout
    assert result.line("proxy") == (
        f"PASS  proxy            requests to app.footage.one go through the proxy http://***@127.0.0.1:{port} "
        "(from HTTPS_PROXY)"
    )
    assert result.line("connection") == (
        f"FAIL  connection       cannot connect to the proxy 127.0.0.1:{port} (from HTTPS_PROXY: "
        f"http://***@127.0.0.1:{port}): connection refused — fix HTTPS_PROXY, or unset it (or add app.footage.one "
        "to NO_PROXY) if this network needs no proxy"
    )


def test_a_proxy_in_front_of_the_loopback_sandbox(api: RunningSandbox) -> None:
    port = closed_port()
    result = check({"FOOTAGE_BASE_URL": api.base_url, "FOOTAGE_API_TOKEN": CANARY, "HTTP_PROXY": f"127.0.0.1:{port}"})
    assert result.status == 1
    assert result.line("proxy") == (
        f"WARN  proxy            requests to 127.0.0.1 go through the proxy http://127.0.0.1:{port} (from "
        "HTTP_PROXY), which does not reach this computer's loopback: set NO_PROXY=localhost,127.0.0.1,::1"
    )
    assert result.line("connection").startswith(f"FAIL  connection       cannot connect to the proxy 127.0.0.1:{port}")


def test_no_proxy_lets_the_loopback_sandbox_through(api: RunningSandbox) -> None:
    port = closed_port()
    result = check(
        {
            "FOOTAGE_BASE_URL": api.base_url,
            "FOOTAGE_API_TOKEN": CANARY,
            "HTTP_PROXY": f"http://127.0.0.1:{port}",
            "NO_PROXY": "localhost,127.0.0.1",
        }
    )
    assert result.line("proxy") == (
        "PASS  proxy            HTTP_PROXY set, but NO_PROXY excludes 127.0.0.1: direct connection"
    )
    assert result.status == 0, result.stdout


def test_a_socks_proxy_the_bridge_cannot_use() -> None:
    env = {"FOOTAGE_API_TOKEN": CANARY, "ALL_PROXY": "socks5://bob:socks-secret@127.0.0.1:1080"}
    result = check(env)
    assert result.status == 1
    says = (
        "ALL_PROXY is a SOCKS proxy (socks5://***@127.0.0.1:1080), which the bridge cannot use (the socksio "
        "package is not installed); unset it for the MCP server, or use an http:// proxy"
    )
    assert result.line("proxy") == f"FAIL  proxy            {says}"
    assert result.line("connection") == "FAIL  connection       skipped: fix the proxy settings first"
    served = check(env, command="serve")
    assert served.status == 2 and served.stderr == f"footage-mcp: configuration error: {says}\n"
    assert "socks-secret" not in result.stdout + served.stderr


PROXY_PASSWORD = "proxy-s3cret"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (f"http://u:{PROXY_PASSWORD}@[::1:9", "its IPv6 address has no closing ']'"),
        (
            f"http://u:{PROXY_PASSWORD}@127.0.0.1:99999",
            "its port 99999 is not between 1 and 65535: http://***@127.0.0.1:99999",
        ),
        (
            f"http://user:a/{PROXY_PASSWORD}@127.0.0.1:9",
            "a '/', '?' or '#' in its user name or password is not percent-encoded: write them as %2F, %3F and %23",
        ),
        (
            f"http://user:a#{PROXY_PASSWORD}@127.0.0.1:9",
            "a '/', '?' or '#' in its user name or password is not percent-encoded: write them as %2F, %3F and %23",
        ),
        ("http://127.0.0.1:port", "its port is not a number"),
        (f"http://user:{PROXY_PASSWORD}\n@127.0.0.1:9", "it contains a line break"),
    ],
    ids=["unclosed-ipv6", "port-out-of-range", "slash-in-password", "hash-in-password", "port-text", "line-break"],
)
def test_a_proxy_url_httpx_cannot_use_fails_check_and_stops_serve(value: str, why: str) -> None:
    """It used to crash both (UnboundLocalError), or PASS and then crash, or even say the API answered."""
    env = {"FOOTAGE_API_TOKEN": CANARY, "HTTPS_PROXY": value}
    says = f"HTTPS_PROXY is not a valid proxy URL ({why}); fix it or unset it for the MCP server"
    result = check(env)
    assert result.status == 1
    assert result.line("proxy") == f"FAIL  proxy            {says}"
    for name in ("connection", "discovery root", "token accepted"):
        assert result.line(name) == f"FAIL  {name:<16} skipped: fix the proxy settings first"
    assert result.stderr == ""
    served = check(env, command="serve")
    assert (served.status, served.stdout, served.stderr) == (2, "", f"footage-mcp: configuration error: {says}\n")
    assert PROXY_PASSWORD not in result.stdout + served.stderr


def test_no_proxy_star_is_named_and_the_advice_is_not_to_set_a_proxy_already_set() -> None:
    port = closed_port()
    result = check(
        {
            "FOOTAGE_BASE_URL": "https://app.footage.invalid/api/asset",
            "FOOTAGE_API_TOKEN": CANARY,
            "HTTPS_PROXY": f"http://127.0.0.1:{port}",
            "NO_PROXY": "*",
        }
    )
    assert result.status == 1
    assert result.line("proxy") == (
        "PASS  proxy            HTTPS_PROXY set, but NO_PROXY=* turns every proxy off: direct connection"
    )
    assert result.line("connection") == (
        "FAIL  connection       cannot resolve the host name app.footage.invalid (DNS lookup failed) — check its "
        "spelling in FOOTAGE_BASE_URL; if other sites work, HTTPS_PROXY is set, but NO_PROXY=* turns it off: remove "
        "the * from NO_PROXY if this network needs the proxy"
    )


def test_no_proxy_naming_the_host_is_named_in_the_advice() -> None:
    result = check(
        {
            "FOOTAGE_BASE_URL": "https://app.footage.invalid/api/asset",
            "FOOTAGE_API_TOKEN": CANARY,
            "HTTPS_PROXY": f"http://127.0.0.1:{closed_port()}",
            "NO_PROXY": "footage.invalid",
        }
    )
    assert result.line("proxy") == (
        "PASS  proxy            HTTPS_PROXY set, but NO_PROXY excludes app.footage.invalid: direct connection"
    )
    assert result.line("connection") == (
        "FAIL  connection       cannot resolve the host name app.footage.invalid (DNS lookup failed) — check its "
        "spelling in FOOTAGE_BASE_URL; if other sites work, HTTPS_PROXY is set, but NO_PROXY excludes "
        "app.footage.invalid: remove it from NO_PROXY if this network needs the proxy"
    )


def test_a_timeout_with_every_proxy_off_names_no_proxy() -> None:
    error = TransportError("the Footage API did not answer within 30 s")
    error.__context__ = httpx2.ConnectTimeout("timed out")
    route = ProxyRoute(None, (), "no_proxy", None, ("HTTPS_PROXY", "http_proxy"), everything_off=True)
    assert describe_transport_failure(error, f"{DEFAULT}/", route, 30) == (
        "no answer from app.footage.one within 30 s (FOOTAGE_TIMEOUT) — a firewall may drop the traffic, or "
        "HTTPS_PROXY and http_proxy are set, but no_proxy=* turns them off: remove the * from no_proxy if this "
        "network needs the proxy"
    )
    direct = ProxyRoute(None, (), None, None)
    assert describe_transport_failure(error, f"{DEFAULT}/", direct, 30) == (
        "no answer from app.footage.one within 30 s (FOOTAGE_TIMEOUT) — a firewall may drop the traffic, or this "
        "network may need a proxy (HTTPS_PROXY)"
    )


class _RefusingProxy(BaseHTTPRequestHandler):
    """Refuses every request (CONNECT or GET) with the server's ``status``, and echoes the client's
    Proxy-Authorization header (the credentials, base64) in its reason phrase, as a hostile proxy could."""

    def _refuse(self) -> None:
        status = self.server.status  # type: ignore[attr-defined]
        self.send_response(status, f"Echo Proxy-Authorization: {self.headers.get('Proxy-Authorization', 'none')}")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_CONNECT = do_GET = _refuse

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def refusing_proxy(status: int) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingProxy)
    server.status = status  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(30)


BASIC = "YWxpY2U6cHJveHktczNjcmV0"
"""base64 of alice:proxy-s3cret, what the proxy echoes."""


@pytest.mark.parametrize(
    ("status", "credentials", "says"),
    [
        (
            407,
            True,
            "(407 Proxy Authentication Required) — the proxy rejected the user name and password in HTTPS_PROXY: "
            "check them (special characters in them must be percent-encoded, e.g. @ as %40)",
        ),
        (
            407,
            False,
            "(407 Proxy Authentication Required) — the proxy wants credentials: put them in HTTPS_PROXY as "
            "http://user:password@host:port",
        ),
        (
            403,
            True,
            "(403 Forbidden) — the proxy blocks app.footage.one: ask your network administrator to allow it",
        ),
        (
            499,
            True,
            "(499) — the proxy cannot reach app.footage.one: check the host in FOOTAGE_BASE_URL and the proxy",
        ),
    ],
    ids=["407-with-credentials", "407-without-credentials", "403", "unknown-status"],
)
def test_a_proxy_refusing_the_tunnel_is_quoted_by_status_only(status: int, credentials: bool, says: str) -> None:
    with refusing_proxy(status) as port:
        auth = f"alice:{PROXY_PASSWORD}@" if credentials else ""
        result = check({"FOOTAGE_API_TOKEN": CANARY, "HTTPS_PROXY": f"http://{auth}127.0.0.1:{port}"})
    shown = f"http://{'***@' if credentials else ''}127.0.0.1:{port}"
    assert result.status == 1
    assert result.line("connection") == (
        f"FAIL  connection       the proxy {shown} (from HTTPS_PROXY) refused the connection to app.footage.one {says}"
    )
    assert result.line("token accepted") == "FAIL  token accepted   skipped: the API is unreachable"
    output = result.stdout + result.stderr
    assert "Echo" not in output and BASIC not in output and PROXY_PASSWORD not in output


def test_a_plain_http_proxy_answering_407_is_not_the_api_answering() -> None:
    with refusing_proxy(407) as port:
        api_port = closed_port()
        result = check(
            {
                "FOOTAGE_BASE_URL": f"http://127.0.0.1:{api_port}/api/asset",
                "FOOTAGE_API_TOKEN": CANARY,
                "HTTP_PROXY": f"http://alice:{PROXY_PASSWORD}@127.0.0.1:{port}",
            }
        )
    assert result.status == 1
    assert result.line("connection") == (
        f"FAIL  connection       the proxy http://***@127.0.0.1:{port} (from HTTP_PROXY) refused the connection to "
        "127.0.0.1 (407 Proxy Authentication Required) — the proxy rejected the user name and password in "
        "HTTP_PROXY: check them (special characters in them must be percent-encoded, e.g. @ as %40)"
    )
    assert result.line("discovery root") == "FAIL  discovery root   skipped: the API is unreachable"
    output = result.stdout + result.stderr
    assert "Echo" not in output and BASIC not in output and PROXY_PASSWORD not in output


@pytest.mark.parametrize(
    ("raised", "says"),
    [
        (
            InvalidArgument("the request URL is too long or invalid; shorten the arguments"),
            "no request was sent to {root}: the request URL is too long or invalid; shorten the arguments",
        ),
        (
            RuntimeError(f"port must be 0-65535 {CANARY}"),
            "the request to {root} failed before any answer (RuntimeError) — check FOOTAGE_BASE_URL and the proxy "
            "and CA settings",
        ),
    ],
    ids=["footage-error", "unexpected-exception"],
)
async def test_an_error_before_anything_was_sent_is_not_an_answer(
    monkeypatch: pytest.MonkeyPatch, raised: Exception, says: str
) -> None:
    """In-process (the failure is injected): only an answer from the server counts as one."""
    base = f"http://127.0.0.1:{closed_port()}/api/asset"
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("FOOTAGE_BASE_URL", base)
    monkeypatch.setenv("FOOTAGE_API_TOKEN", CANARY)
    monkeypatch.delenv("FOOTAGE_API_KEY", raising=False)
    monkeypatch.setattr(check_module, "configure_logging", lambda *args: None)

    async def fail(self: RestClient, url: str, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(RestClient, "get", fail)
    out = io.StringIO()
    assert await run_checks(out) is False
    lines = Checked(1, out.getvalue(), "")
    assert lines.line("connection") == f"FAIL  connection       {says.format(root=base + '/')}"
    assert lines.line("discovery root") == "FAIL  discovery root   skipped: the API is unreachable"
    assert lines.line("token accepted") == "FAIL  token accepted   skipped: the API is unreachable"
    assert CANARY not in out.getvalue()


# ---------------------------------------------------------------- CA certificates and TLS


def test_a_missing_ca_bundle(tmp_path: Path) -> None:
    missing = tmp_path / "corporate-ca.pem"
    env = {"FOOTAGE_API_TOKEN": CANARY, "SSL_CERT_FILE": str(missing)}
    result = check(env)
    says = (
        f"SSL_CERT_FILE={missing} does not exist: the bridge cannot make any request; point it at a PEM bundle "
        "or unset it"
    )
    assert result.status == 1
    assert result.line("CA certificates") == f"FAIL  CA certificates  {says}"
    served = check(env, command="serve")
    assert served.status == 2 and served.stderr.endswith(f"footage-mcp: configuration error: {says}\n")


def test_a_ca_bundle_that_is_not_pem(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    result = check({"FOOTAGE_API_TOKEN": CANARY, "SSL_CERT_FILE": str(bundle)})
    assert result.status == 1
    assert result.line("CA certificates") == (
        f"FAIL  CA certificates  SSL_CERT_FILE={bundle} holds no PEM certificate (no -----BEGIN CERTIFICATE----- "
        "line): the bridge cannot make any request; point it at a PEM bundle or unset it"
    )


CA_FILE_MISTAKES = [
    ("empty", b"", "is empty"),
    ("not-pem", b"not a pem\n", "holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)"),
    ("der", "der", "is binary, not PEM text (a DER certificate converts with openssl x509 -inform der)"),
    ("truncated-pem", "truncated", "holds a truncated or damaged PEM certificate"),
    ("dev-null", "/dev/null", "is a character device, not a file"),
    ("directory", "directory", "is a directory (SSL_CERT_DIR takes directories)"),
]


@pytest.mark.parametrize(("content", "what"), [m[1:] for m in CA_FILE_MISTAKES], ids=[m[0] for m in CA_FILE_MISTAKES])
def test_a_ca_bundle_that_cannot_load_fails_check_and_stops_serve(
    tmp_path: Path, content: bytes | str, what: str
) -> None:
    """httpx2 cannot even be built with it: serve must refuse to start (it used to start, and then every
    tool call failed with an internal error and a traceback)."""
    path = tmp_path / "ca.pem"
    if content == "/dev/null":
        path = Path("/dev/null")
    elif content == "directory":
        path.mkdir()
    elif content == "der":
        path.write_bytes(ssl.PEM_cert_to_DER_cert(ca_pem()))
    elif content == "truncated":
        path.write_text(ca_pem()[:300])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    says = f"SSL_CERT_FILE={path} {what}: the bridge cannot make any request; point it at a PEM bundle or unset it"
    env = {"FOOTAGE_API_TOKEN": CANARY, "SSL_CERT_FILE": str(path)}
    assert_check_fails_and_serve_stops(env, says)


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (
            "missing",
            "does not exist: no CA certificate is trusted, so every https request fails; fix the path or unset it",
        ),
        ("empty", "is empty: no CA certificate is trusted, so every https request fails; fix the path or unset it"),
        (
            "file",
            "is a file, not a directory (SSL_CERT_FILE takes a PEM file): no CA certificate is trusted, so every "
            "https request fails; fix the path or unset it",
        ),
        (
            "not-hashed",
            "holds no certificate under the hashed names OpenSSL looks up (such as 5ad8a5d6.0): no CA "
            "certificate is trusted, so every https request fails; run openssl rehash on it, or point SSL_CERT_FILE at "
            "a PEM bundle instead",
        ),
    ],
)
def test_a_ca_directory_without_certificates_fails_check_and_stops_serve(tmp_path: Path, kind: str, what: str) -> None:
    path = tmp_path / "certs"
    if kind == "empty":
        path.mkdir()
    elif kind == "file":
        path.write_text(ca_pem())
    elif kind == "not-hashed":
        path.mkdir()
        (path / "corporate-ca.pem").write_text(ca_pem())
    says = f"SSL_CERT_DIR={path} {what}"
    env = {"FOOTAGE_API_TOKEN": CANARY, "SSL_CERT_DIR": str(path)}
    assert_check_fails_and_serve_stops(env, says)


@dataclass(frozen=True)
class TlsApi:
    base_url: str
    ca_file: Path


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA (as a corporate proxy has) and a leaf for 127.0.0.1 signed by it: (ca.pem, leaf.pem, leaf.key)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Corporate Root CA"))
        .issuer_name(name("Test Corporate Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, leaf_file, key_file = directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    leaf_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_file, leaf_file, key_file


class _ThreadServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:  # signals belong to the main thread (pytest)
        yield


@pytest.fixture(scope="module")
def tls_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsApi]:
    """The sandbox app served over https on 127.0.0.1, with a certificate from a private CA."""
    ca_file, leaf_file, key_file = _certificates(tmp_path_factory.mktemp("tls"))
    config = uvicorn.Config(
        create_app(token=CANARY),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=str(leaf_file),
        ssl_keyfile=str(key_file),
    )
    server = _ThreadServer(config)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.05)
    assert server.started, "the TLS sandbox did not start"
    try:
        yield TlsApi(f"https://127.0.0.1:{sock.getsockname()[1]}/api/asset", ca_file)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_a_certificate_from_an_unknown_ca_says_how_to_trust_it(tls_api: TlsApi) -> None:
    result = check({"FOOTAGE_BASE_URL": tls_api.base_url, "FOOTAGE_API_TOKEN": CANARY})
    assert result.status == 1
    assert result.line("connection") == (
        "FAIL  connection       TLS: the certificate of 127.0.0.1 is not trusted (unable to get local issuer "
        "certificate) — usually a corporate proxy or antivirus that inspects HTTPS: get its root CA as a PEM file "
        "and set SSL_CERT_FILE=/path/to/ca.pem in the MCP server's environment"
    )


def test_a_ca_in_requests_ca_bundle_is_not_read_and_check_says_so(tls_api: TlsApi) -> None:
    result = check(
        {"FOOTAGE_BASE_URL": tls_api.base_url, "FOOTAGE_API_TOKEN": CANARY, "REQUESTS_CA_BUNDLE": str(tls_api.ca_file)}
    )
    assert result.status == 1
    assert result.line("connection").endswith(
        "in the MCP server's environment; REQUESTS_CA_BUNDLE is set, but the bridge reads SSL_CERT_FILE"
    )


def test_the_fix_works_ssl_cert_file_with_the_ca(tls_api: TlsApi) -> None:
    result = check(
        {"FOOTAGE_BASE_URL": tls_api.base_url, "FOOTAGE_API_TOKEN": CANARY, "SSL_CERT_FILE": str(tls_api.ca_file)}
    )
    assert result.line("CA certificates") == (
        f"PASS  CA certificates  SSL_CERT_FILE={tls_api.ca_file} (1 CA certificate) replaces the system trust"
    )
    assert result.line("connection") == f"PASS  connection       {tls_api.base_url}/ answered 200"
    assert result.line("token accepted") == "PASS  token accepted   the API accepted the token (14 albums)"
    assert result.status == 0, result.stdout


def test_without_ssl_variables_check_names_the_system_trust_it_uses(tls_api: TlsApi) -> None:
    """httpx2 trusts the operating system's certificates (no certifi): check says which ones, and a
    private CA that is not among them is still the TLS failure with its fix."""
    from footage_mcp.rest.netenv import system_trust

    result = check({"FOOTAGE_BASE_URL": tls_api.base_url, "FOOTAGE_API_TOKEN": CANARY})
    trust = system_trust()
    count = f" ({trust.certificates} CA certificates)" if trust.certificates is not None else ""
    assert trust.problem is None, trust
    assert result.line("CA certificates") == f"PASS  CA certificates  {trust.description}{count}"
    assert "certifi " not in result.stdout and "certifi's" not in result.stdout
    assert result.line("connection").startswith(
        "FAIL  connection       TLS: the certificate of 127.0.0.1 is not trusted"
    )
