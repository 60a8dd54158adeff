"""``footage_mcp.rest.diagnose``: one classification of a failed request, two renderings (the tool
message here, the check line in test_check_mistakes.py), and ``core.text`` / ``core.redact``."""

from __future__ import annotations

import socket
import ssl

import httpx2
import pytest

from footage_mcp.core.errors import TransportError
from footage_mcp.core.redact import REDACTED, Redactor, redact_text, redact_value
from footage_mcp.core.text import clean_text, has_control, is_control, one_line, strip_invisible
from footage_mcp.rest.diagnose import Failure, classify, tool_message
from footage_mcp.rest.netenv import Proxy

URL = "https://app.footage.one/api/asset/albums"
PROXY = Proxy("HTTPS_PROXY", "http://proxy.example:3128", "http", "proxy.example", 3128)


def chained(outer: BaseException, *inner: BaseException) -> BaseException:
    """``outer`` whose ``__context__`` chain is ``inner``, nearest first (as the client raises them)."""
    current = outer
    for exc in inner:
        current.__context__ = exc
        current = exc
    return outer


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (chained(httpx2.ConnectError("x"), ConnectionRefusedError(111, "Connection refused")), "refused", True),
        (chained(httpx2.ConnectError("x"), socket.gaierror(-2, "Name or service not known")), "dns", True),
        (chained(httpx2.ConnectError("x"), ssl.SSLCertVerificationError(1, "bad cert")), "tls", False),
        (httpx2.ConnectTimeout("timed out"), "timeout", True),
        (TimeoutError(), "timeout", True),
        (httpx2.RemoteProtocolError("peer closed connection"), "closed", True),
        (chained(httpx2.ReadError("x"), ConnectionResetError(104, "reset")), "closed", True),
        (httpx2.ConnectError("something else"), "connect", True),
        (httpx2.DecodingError("bad"), "other", True),
    ],
)
def test_each_kind_is_told_apart_by_the_exception_chain(exc: BaseException, kind: str, retryable: bool) -> None:
    failure = classify(exc, URL, proxy=None)
    assert (failure.kind, failure.retryable) == (kind, retryable)
    assert (failure.host, failure.port, failure.scheme) == ("app.footage.one", 443, "https")


def test_a_proxy_answering_407_is_a_status_not_a_connection_failure() -> None:
    failure = classify(httpx2.ProxyError("407 Proxy Authentication Required: echo dXNlcjpwYXNz"), URL, proxy=PROXY)
    assert (failure.kind, failure.status, failure.retryable) == ("proxy_status", 407, False)
    assert tool_message(failure, 30) == (
        "the proxy proxy.example:3128 (from HTTPS_PROXY) requires authentication (407): put the user and password "
        "in the proxy URL (http://user:password@host:port), or set NO_PROXY for hosts the bridge should reach "
        "directly"
    )


def test_with_a_proxy_a_refused_connection_is_the_proxys() -> None:
    exc = chained(httpx2.ConnectError("x"), ConnectionRefusedError(111, "Connection refused"))
    failure = classify(exc, URL, proxy=PROXY)
    assert (failure.kind, failure.refused, failure.unresolved) == ("proxy_connect", True, False)
    assert tool_message(failure, 30) == (
        "cannot connect to the proxy proxy.example:3128 (from HTTPS_PROXY: http://proxy.example:3128): connection "
        "refused; check the proxy, or set NO_PROXY for hosts the bridge should reach directly"
    )


def test_a_refused_connection_names_host_and_port_and_the_default_port_is_filled_in() -> None:
    exc = chained(httpx2.ConnectError("x"), ConnectionRefusedError(111, "Connection refused"))
    assert tool_message(classify(exc, "http://127.0.0.1:8765/api/asset", proxy=None), 30) == (
        "connection to 127.0.0.1:8765 was refused; is the API (or the sandbox) running at FOOTAGE_BASE_URL?"
    )
    assert classify(exc, "http://localhost/api/asset", proxy=None).port == 80


def test_messages_do_not_depend_on_the_exception_text() -> None:
    """The rendering reads the classification, never the text of an earlier message."""
    exc = chained(TransportError("connection to x was refused"), socket.gaierror(-2, "Name or service not known"))
    assert classify(exc, URL, proxy=None).kind == "dns"
    assert tool_message(Failure("timeout", "h", 1, "https", None), 7.5) == (
        "the Footage API did not answer within 7.5 s; try again later, or raise FOOTAGE_TIMEOUT"
    )


def test_control_characters_are_defined_once_c0_del_and_c1() -> None:
    assert [c for c in map(chr, range(0x100)) if is_control(c)] == [
        *map(chr, range(0x20)),
        *map(chr, range(0x7F, 0xA0)),
    ]
    assert has_control("a\tb") and has_control("a\x85b") and not has_control("a b é")


def test_cleaners_keep_layout_where_they_should_and_cut_with_an_ellipsis() -> None:
    assert strip_invisible("a\u200bb\u2028c\U000e0041") == "ab\nc"
    assert clean_text("line\n\ttab\x00\x9b\u202eend") == "line\n\ttabend"
    assert one_line("  a\n\n b\x00c\td  ", 100) == "a b c d"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def test_one_redactor_for_text_and_values_longest_secret_first() -> None:
    redactor = Redactor(["abcd", "abcdefgh", None, ""])
    assert redactor.secrets == ("abcdefgh", "abcd")
    assert redactor.text("x abcdefgh y abcd") == f"x {REDACTED} y {REDACTED}"
    assert redact_value({"abcd": ["abcdefgh", 1, None]}, "abcd") == {REDACTED: [f"{REDACTED}efgh", 1, None]}
    assert redact_text("nothing to hide", None) == "nothing to hide"
    assert not Redactor([None])


def test_one_scan_of_a_values_json_text_tells_whether_the_value_may_hold_a_secret() -> None:
    redactor = Redactor(["s3cr3t-token-value"])
    assert not redactor.may_occur('{"a":"nothing here","b":["x"]}')
    assert redactor.may_occur('{"a":"see s3cr3t-token-value"}')
    assert redactor.may_occur('{"s3cr3t-token-value":1}')  # in a key
    assert redactor.may_occur('{"a":"cut s3cr3t-to…"}')  # a cut-off start
    assert redactor.may_occur('{"a":"czNjcjN0LXRva2VuLXZhbHVl"}')  # base64
    assert Redactor(['ab"cdefgh']).may_occur("{}")  # JSON escapes the quote: never trusted to a scan
    assert Redactor(["ab\\cdefgh"]).may_occur("{}")
    assert not Redactor([]).may_occur('{"a":"s3cr3t-token-value"}')
