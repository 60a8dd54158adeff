"""``footage_mcp.rest.netenv``: proxy URLs and CA certificate settings read as httpx2 reads them, with the
exact problem line ``check`` prints and ``serve`` refuses to start with. In-process: the variables
are set in this process (where httpx2 and urllib read them) with ``monkeypatch``."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import pytest
from certs import ca_pem, self_signed

from footage_mcp.rest.netenv import (
    CaBundle,
    Proxy,
    ProxyRoute,
    SystemTrust,
    ca_bundle,
    proxy_route,
    startup_problem,
    system_trust,
    tls_context,
)

DEFAULT = "https://app.footage.one/api/asset"
PASSWORD = "s3cr3t-pw"
"""The proxy password of every test URL: no message may contain it."""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process without any proxy or CA variable of the machine running the tests."""
    for name in (*PROXY_VARIABLES, *CA_VARIABLES, "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


# ---------------------------------------------------------------- proxy URLs httpx2 cannot use

TAIL = "; fix it or unset it for the MCP server"
UNENCODED = "a '/', '?' or '#' in its user name or password is not percent-encoded: write them as %2F, %3F and %23"

BAD_PROXIES = [
    ("ipv6-without-bracket", f"http://user:{PASSWORD}@[::1:9", "its IPv6 address has no closing ']'"),
    ("ipv6-invalid", "http://[v1.x]:9", "its host is not a valid IPv6 address"),
    ("ipv4-invalid", "http://256.1.1.1:9", "its host is not a valid IPv4 address"),
    ("idna-invalid", "http://xn--zz:9", "its host name is not a valid international domain name"),
    (
        "port-too-large",
        f"http://user:{PASSWORD}@127.0.0.1:99999",
        "its port 99999 is not between 1 and 65535: http://***@127.0.0.1:99999",
    ),
    ("port-zero", "http://127.0.0.1:0", "its port 0 is not between 1 and 65535: http://127.0.0.1:0"),
    ("port-negative", "http://127.0.0.1:-1", "its port -1 is not between 1 and 65535: http://127.0.0.1:-1"),
    ("port-not-a-number", "http://127.0.0.1:abc", "its port is not a number"),
    ("port-not-a-number-ipv6", "http://[::1]:9x", "its port is not a number"),
    ("slash-in-password", f"http://user:a/{PASSWORD}@127.0.0.1:9", UNENCODED),
    ("hash-in-password", f"http://user:a#{PASSWORD}@127.0.0.1:9", UNENCODED),
    ("question-mark-in-password", f"http://user:a?{PASSWORD}@127.0.0.1:9", UNENCODED),
    ("slash-after-digits-in-password", f"http://user:12345/{PASSWORD}@127.0.0.1:9", UNENCODED),
    ("line-break", f"http://user:{PASSWORD}\n@127.0.0.1:9", "it contains a line break"),
    ("tab", f"http://127.0.0.1:9\t{PASSWORD}", "it contains a tab"),
    ("control-character", f"http://user:{PASSWORD}\x7f@127.0.0.1:9", "it contains a control character"),
    ("leading-space", " http://127.0.0.1:9", "it starts with a space"),
    ("no-host", "http://:8080", "it has no host name: http://:8080"),
    ("no-host-with-credentials", f"http://user:{PASSWORD}@:9", "it has no host name: http://***@:9"),
    ("no-host-no-port", "http://", "it has no host name: http://"),
]


@pytest.mark.parametrize(("value", "why"), [b[1:] for b in BAD_PROXIES], ids=[b[0] for b in BAD_PROXIES])
def test_a_proxy_url_httpx_cannot_use_is_a_problem_naming_why(env: pytest.MonkeyPatch, value: str, why: str) -> None:
    env.setenv("HTTPS_PROXY", value)
    says = f"HTTPS_PROXY is not a valid proxy URL ({why}){TAIL}"
    route = proxy_route(DEFAULT)
    assert route.problem == says
    assert startup_problem(DEFAULT) == says
    assert PASSWORD not in says


@pytest.mark.parametrize("variable", ["https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_every_proxy_variable_is_checked_and_named_as_set(env: pytest.MonkeyPatch, variable: str) -> None:
    """httpx2 builds a transport for every proxy variable, whichever URL a request is for."""
    env.setenv(variable, f"http://user:{PASSWORD}@127.0.0.1:70000")
    assert proxy_route(DEFAULT).problem == (
        f"{variable} is not a valid proxy URL (its port 70000 is not between 1 and 65535: "
        f"http://***@127.0.0.1:70000){TAIL}"
    )


def test_a_proxy_without_a_scheme_is_read_as_http(env: pytest.MonkeyPatch) -> None:
    env.setenv("HTTPS_PROXY", f"user:{PASSWORD}@127.0.0.1:123456")
    assert proxy_route(DEFAULT).problem == (
        f"HTTPS_PROXY is not a valid proxy URL (its port 123456 is not between 1 and 65535: "
        f"http://***@127.0.0.1:123456){TAIL}"
    )


def test_a_scheme_httpx_refuses(env: pytest.MonkeyPatch) -> None:
    env.setenv("HTTPS_PROXY", f"ftp://user:{PASSWORD}@proxy.example:21")
    assert proxy_route(DEFAULT).problem == (
        "HTTPS_PROXY is ftp://***@proxy.example:21: httpx2 accepts only http://, https:// or socks5:// proxies; "
        "fix or unset it for the MCP server"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (f"ftp://user:{PASSWORD}@[::1:21", "a ftp:// URL"),
        (f"ftp://user:{PASSWORD}@proxy.example:99999", "a ftp:// URL"),
        (f"{PASSWORD}!://proxy.example:99999", "not a URL"),
        ("pac://proxy.example/proxy.pac", "pac://proxy.example"),
    ],
    ids=["ftp-unreadable", "ftp-port", "not-a-scheme", "pac"],
)
def test_an_unknown_scheme_never_shows_more_than_a_masked_url(env: pytest.MonkeyPatch, value: str, shown: str) -> None:
    env.setenv("HTTPS_PROXY", value)
    assert proxy_route(DEFAULT).problem == (
        f"HTTPS_PROXY is {shown}: httpx2 accepts only http://, https:// or socks5:// proxies; "
        "fix or unset it for the MCP server"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            f"http://user:{PASSWORD}@127.0.0.1:3128",
            Proxy("HTTPS_PROXY", "http://***@127.0.0.1:3128", "http", "127.0.0.1", 3128, has_credentials=True),
        ),
        ("127.0.0.1:3128", Proxy("HTTPS_PROXY", "http://127.0.0.1:3128", "http", "127.0.0.1", 3128)),
        ("http://127.0.0.1:3128 ", Proxy("HTTPS_PROXY", "http://127.0.0.1:3128", "http", "127.0.0.1", 3128)),
        ("HTTP://[::1]:3128/", Proxy("HTTPS_PROXY", "http://[::1]:3128", "http", "::1", 3128)),
        (
            f"http://user:p%40{PASSWORD}@proxy.example",
            Proxy("HTTPS_PROXY", "http://***@proxy.example", "http", "proxy.example", None, has_credentials=True),
        ),
        (
            f"http://user:p@{PASSWORD}@proxy.example:8080",
            Proxy("HTTPS_PROXY", "http://***@proxy.example:8080", "http", "proxy.example", 8080, has_credentials=True),
        ),
    ],
    ids=["credentials", "no-scheme", "trailing-space", "ipv6-upper-case-scheme", "encoded-at", "unencoded-at"],
)
def test_a_usable_proxy_is_read_as_httpx_reads_it(env: pytest.MonkeyPatch, value: str, expected: Proxy) -> None:
    env.setenv("HTTPS_PROXY", value)
    route = proxy_route(DEFAULT)
    assert route == ProxyRoute(expected, (expected,), None, None, ("HTTPS_PROXY",))
    assert startup_problem(DEFAULT) is None


# ---------------------------------------------------------------- NO_PROXY=*


@pytest.mark.parametrize("no_proxy", ["*", "localhost, *", " * "])
def test_no_proxy_star_turns_every_proxy_off_and_says_so(env: pytest.MonkeyPatch, no_proxy: str) -> None:
    env.setenv("HTTPS_PROXY", f"http://user:{PASSWORD}@127.0.0.1:99999")  # unusable, but httpx2 never reads it
    env.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    env.setenv("NO_PROXY", no_proxy)
    assert proxy_route(DEFAULT) == ProxyRoute(
        None, (), "NO_PROXY", None, ("HTTP_PROXY", "HTTPS_PROXY"), everything_off=True
    )
    assert startup_problem(DEFAULT) is None


def test_lower_case_no_proxy_wins(env: pytest.MonkeyPatch) -> None:
    env.setenv("https_proxy", "http://127.0.0.1:3128")
    env.setenv("no_proxy", "*")
    env.setenv("NO_PROXY", "localhost")
    assert proxy_route(DEFAULT) == ProxyRoute(None, (), "no_proxy", None, ("https_proxy",), everything_off=True)


def test_no_proxy_naming_the_host(env: pytest.MonkeyPatch) -> None:
    env.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    env.setenv("NO_PROXY", "app.footage.one")
    proxy = Proxy("HTTPS_PROXY", "http://127.0.0.1:3128", "http", "127.0.0.1", 3128)
    assert proxy_route(DEFAULT) == ProxyRoute(None, (proxy,), "NO_PROXY", None, ("HTTPS_PROXY",))


# ---------------------------------------------------------------- CA certificates


def _pem() -> str:
    """A real CA certificate, as PEM."""
    return ca_pem()


def _der() -> bytes:
    import ssl

    return ssl.PEM_cert_to_DER_cert(_pem())


FILE_TAIL = ": the bridge cannot make any request; point it at a PEM bundle or unset it"
DIR_TAIL = ": no CA certificate is trusted, so every https request fails"


def _make_file(kind: str, tmp: Path) -> str:
    """An SSL_CERT_FILE value of the kind ``kind``."""
    path = tmp / "ca.pem"
    if kind == "missing":
        return str(path)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a pem\n")
    elif kind == "private-key-only":
        path.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    elif kind == "der":
        path.write_bytes(_der())
    elif kind == "truncated":
        path.write_text(_pem()[:300])
    elif kind == "bad-base64":
        path.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    elif kind == "directory":
        path.mkdir()
    elif kind == "broken-symlink":
        path.symlink_to(tmp / "gone.pem")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        path = tmp / "ca.sock"
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "unreadable":
        path.write_text(_pem())
        path.chmod(0)
    return str(path)


FILE_PROBLEMS = [
    ("missing", "does not exist"),
    ("empty", "is empty"),
    ("text", "holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)"),
    ("private-key-only", "holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)"),
    ("der", "is binary, not PEM text (a DER certificate converts with openssl x509 -inform der)"),
    ("truncated", "holds a truncated or damaged PEM certificate"),
    ("bad-base64", "holds a truncated or damaged PEM certificate"),
    ("directory", "is a directory (SSL_CERT_DIR takes directories)"),
    ("broken-symlink", "is a symbolic link to a file that does not exist"),
    ("fifo", "is a named pipe, not a file"),
    ("socket", "is a socket, not a file"),
    ("unreadable", "cannot be read (Permission denied)"),
]


@pytest.mark.parametrize(("kind", "what"), FILE_PROBLEMS, ids=[p[0] for p in FILE_PROBLEMS])
def test_an_unusable_ssl_cert_file_is_a_startup_problem(
    env: pytest.MonkeyPatch, tmp_path: Path, kind: str, what: str
) -> None:
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = _make_file(kind, tmp_path)
    says = f"SSL_CERT_FILE={path} {what}{FILE_TAIL}"
    assert ca_bundle({"SSL_CERT_FILE": path}) == CaBundle("SSL_CERT_FILE", path, says)
    env.setenv("SSL_CERT_FILE", path)
    assert startup_problem(DEFAULT) == says
    assert startup_problem("http://127.0.0.1:8765/api/asset") == says  # httpx2 cannot even be built


def test_dev_null_is_a_device_not_a_missing_file(env: pytest.MonkeyPatch) -> None:
    says = f"SSL_CERT_FILE=/dev/null is a character device, not a file{FILE_TAIL}"
    assert ca_bundle({"SSL_CERT_FILE": "/dev/null"}) == CaBundle("SSL_CERT_FILE", "/dev/null", says)
    env.setenv("SSL_CERT_FILE", "/dev/null")
    assert startup_problem(DEFAULT) == says


def test_a_pem_bundle_loads_and_counts_its_certificates(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "ca.pem"
    path.write_text("# a comment before the certificate\n" + _pem() + _pem())
    assert ca_bundle({"SSL_CERT_FILE": str(path)}) == CaBundle("SSL_CERT_FILE", str(path), None, 1)
    env.setenv("SSL_CERT_FILE", str(path))
    assert startup_problem(DEFAULT) is None


def _make_dir(kind: str, tmp: Path) -> str:
    path = tmp / "certs"
    if kind == "missing":
        return str(path)
    if kind == "file":
        path.write_text(_pem())
        return str(path)
    if kind == "broken-symlink":
        path.symlink_to(tmp / "gone")
        return str(path)
    path.mkdir()
    if kind == "not-hashed":
        (path / "corporate-ca.pem").write_text(_pem())
        (path / "README").write_text("certificates\n")
    elif kind == "hashed":
        (path / "corporate-ca.pem").write_text(_pem())
        os.symlink("corporate-ca.pem", path / "5ad8a5d6.0")
    elif kind == "unreadable":
        path.chmod(0)
    return str(path)


DIR_PROBLEMS = [
    ("missing", "does not exist", "fix the path or unset it"),
    ("file", "is a file, not a directory (SSL_CERT_FILE takes a PEM file)", "fix the path or unset it"),
    ("broken-symlink", "is a symbolic link to a directory that does not exist", "fix the path or unset it"),
    ("empty", "is empty", "fix the path or unset it"),
    (
        "not-hashed",
        "holds no certificate under the hashed names OpenSSL looks up (such as 5ad8a5d6.0)",
        "run openssl rehash on it, or point SSL_CERT_FILE at a PEM bundle instead",
    ),
    ("unreadable", "cannot be read (Permission denied)", "fix the path or unset it"),
]


@pytest.mark.parametrize(("kind", "what", "fix"), DIR_PROBLEMS, ids=[p[0] for p in DIR_PROBLEMS])
def test_an_unusable_ssl_cert_dir_is_a_startup_problem(
    env: pytest.MonkeyPatch, tmp_path: Path, kind: str, what: str, fix: str
) -> None:
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any directory")
    path = _make_dir(kind, tmp_path)
    says = f"SSL_CERT_DIR={path} {what}{DIR_TAIL}; {fix}"
    assert ca_bundle({"SSL_CERT_DIR": path}) == CaBundle("SSL_CERT_DIR", path, says)
    env.setenv("SSL_CERT_DIR", path)
    assert startup_problem(DEFAULT) == says


def test_a_hashed_ssl_cert_dir_is_fine(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _make_dir("hashed", tmp_path)
    assert ca_bundle({"SSL_CERT_DIR": path}) == CaBundle("SSL_CERT_DIR", path, None)
    env.setenv("SSL_CERT_DIR", path)
    assert startup_problem(DEFAULT) is None


def test_ssl_cert_file_wins_over_ssl_cert_dir(tmp_path: Path) -> None:
    """httpx2 reads SSL_CERT_DIR only when SSL_CERT_FILE is unset or empty."""
    good = tmp_path / "ca.pem"
    good.write_text(_pem())
    missing = str(tmp_path / "missing")
    assert ca_bundle({"SSL_CERT_FILE": str(good), "SSL_CERT_DIR": missing}) == CaBundle(
        "SSL_CERT_FILE", str(good), None, 1
    )
    assert ca_bundle({"SSL_CERT_FILE": "", "SSL_CERT_DIR": missing}) == CaBundle(
        "SSL_CERT_DIR", missing, f"SSL_CERT_DIR={missing} does not exist{DIR_TAIL}; fix the path or unset it"
    )


def test_messages_show_paths_through_the_given_filter(tmp_path: Path) -> None:
    """``check`` passes its redaction: the path is outside text, the rest is not."""
    path = str(tmp_path / "token-in-path" / "ca.pem")

    def shown(text: str) -> str:
        return text.replace("token-in-path", "[redacted]")

    bundle = ca_bundle({"SSL_CERT_FILE": path}, shown=shown)
    assert bundle is not None and bundle.problem == (
        f"SSL_CERT_FILE={tmp_path}/[redacted]/ca.pem does not exist{FILE_TAIL}"
    )


# ---------------------------------------------------------------- the system's trust (no variable)


@pytest.mark.parametrize(
    ("system", "store"), [("Darwin", "the macOS Keychain"), ("Windows", "the Windows certificate store")]
)
def test_macos_and_windows_trust_the_system_store_through_truststore(system: str, store: str) -> None:
    assert system_trust(system) == SystemTrust(f"the system trust store ({store}, through truststore)")


class _Paths:
    def __init__(self, cafile: str, capath: str) -> None:
        self.openssl_cafile, self.openssl_capath = cafile, capath


def test_linux_uses_openssls_compiled_in_file_and_counts_it(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "cert.pem"
    bundle.write_text(_pem() + _pem())
    env.setattr("ssl.get_default_verify_paths", lambda: _Paths(str(bundle), str(tmp_path / "none")))
    assert system_trust("Linux") == SystemTrust(f"OpenSSL's CA file {bundle}", 1)  # the same CA twice


def test_linux_uses_openssls_directory_only_with_hashed_names(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    capath = tmp_path / "certs"
    capath.mkdir()
    (capath / "README").write_text("no certificate\n")
    fallback = tmp_path / "ca-certificates.crt"
    fallback.write_text(_pem())
    env.setattr("ssl.get_default_verify_paths", lambda: _Paths(str(tmp_path / "cert.pem"), str(capath)))
    env.setattr("footage_mcp.rest.netenv.SYSTEM_BUNDLES", (str(tmp_path / "absent.pem"), str(fallback)))
    assert system_trust("Linux") == SystemTrust(f"the system CA bundle {fallback}", 1)
    (capath / "5ad8a5d6.0").write_text(_pem())
    assert system_trust("Linux") == SystemTrust(f"OpenSSL's CA directory {capath}")


def test_linux_without_any_ca_certificate_says_every_https_request_fails(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setattr("ssl.get_default_verify_paths", lambda: _Paths(str(tmp_path / "cert.pem"), str(tmp_path / "certs")))
    env.setattr("footage_mcp.rest.netenv.SYSTEM_BUNDLES", (str(tmp_path / "absent.pem"),))
    trust = system_trust("Linux")
    assert trust.problem == (
        f"no system CA certificates found (not in {tmp_path / 'cert.pem'}, {tmp_path / 'certs'}, nor in "
        f"{tmp_path / 'absent.pem'} and the other usual places): every https request fails; install the "
        "ca-certificates package, or set SSL_CERT_FILE to a PEM bundle"
    )


# -- one SSL context per trust setting (netenv.tls_context) ---------------------------------------------


async def test_every_rest_client_of_a_process_shares_one_ssl_context(env: pytest.MonkeyPatch) -> None:
    """httpx2 built an SSL context (every system CA certificate loaded, ~33 ms of CPU) for each client: two
    per bridge, one more per user in team mode. The API's and the transfer loop's clients of every
    RestClient now hold the process's one context."""
    from footage_mcp.core.settings import Settings
    from footage_mcp.rest.http import RestClient

    contexts = []
    for token in ("tok-one-123456", "tok-two-123456"):
        async with RestClient(Settings(base_url=DEFAULT, api_token=token)) as client:  # type: ignore[arg-type]
            for options in (client._options(), client._options()):
                contexts.append(options["verify"])
    assert len({id(context) for context in contexts}) == 1
    assert contexts[0] is tls_context()
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname


def test_a_changed_ssl_cert_file_gets_its_own_context_and_a_broken_one_is_not_kept(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system = tls_context()
    bundle = tmp_path / "ca.pem"
    bundle.write_text(ca_pem(), encoding="ascii")
    env.setenv("SSL_CERT_FILE", str(bundle))
    first = tls_context()
    assert first is not system and first is tls_context()
    assert len(first.get_ca_certs()) == 1  # the bundle's one CA, not the system's
    bundle.write_text(ca_pem() + self_signed("another test CA", ca=True, days=365)[0], encoding="ascii")  # rewritten
    os.utime(bundle, ns=(1, 1))
    second = tls_context()
    assert second is not first and len(second.get_ca_certs()) == 2
    bundle.write_text("not a certificate\n", encoding="ascii")
    with pytest.raises(ssl.SSLError):
        tls_context()
    with pytest.raises(ssl.SSLError):  # the failure was not cached as a context
        tls_context()
    env.delenv("SSL_CERT_FILE")
    assert tls_context() is system


def test_the_suites_own_httpx2_clients_share_it_too(env: pytest.MonkeyPatch) -> None:
    """tests/conftest.py routes httpx2's default context to ``tls_context`` (a guard: were httpx2 to move
    the function, the patch would silently do nothing and the suite would be slower again)."""
    import httpx2._transports.default as transports

    assert transports.create_ssl_context() is tls_context()
    custom = ssl.create_default_context()
    assert transports.create_ssl_context(verify=custom) is custom
    assert transports.create_ssl_context(verify=False).verify_mode == ssl.CERT_NONE
