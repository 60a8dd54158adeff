"""``footage-mcp check``: configuration and connectivity, one line per check, never the token.

Each line is ``STATUS  name  detail`` with STATUS ``PASS``, ``WARN`` (works, but worth knowing) or
``FAIL`` (says what is wrong and how to fix it). The exit status is 0 when nothing FAILs. Checks, in
order (some only when they apply):

=================  ==========================================================================
settings           a bad FOOTAGE_* value other than the token and the base URL (then no network
                   checks run)
routes file        the FOOTAGE_ROUTES file (only when set)
token present      FOOTAGE_API_TOKEN (or FOOTAGE_API_KEY) is set; says how to set it if not
token format       no quotes, ``Bearer ``/``apiKey=`` prefix, line break, space, non-ASCII
                   character, placeholder or unexpanded ``${...}``; surrounding whitespace is a WARN
base URL           https, not the website or the hosted MCP endpoint, ends in ``/api/asset``
proxy              which proxy (from which variable, credentials masked) requests go through, or
                   why none (``NO_PROXY``); a proxy URL httpx2 cannot use (only when a proxy
                   variable is set)
CA certificates    which CA certificates are trusted: SSL_CERT_FILE (loads as PEM; counted),
                   SSL_CERT_DIR (holds certificates), else the system trust store (macOS,
                   Windows) or the system bundle OpenSSL finds (Linux)
connection         the base URL answers; else why not: DNS, refused, timeout, the proxy (by its
                   status code only), TLS certificate (with the fix for a proxy that inspects HTTPS)
discovery root     ``GET {base}/`` is JSON with links (not an HTML page, not a 404)
token accepted     one album requested with the token
=================  ==========================================================================

The token is read here, not through :class:`~footage_mcp.core.settings.Settings`, so that a mangled one is
a FAIL line instead of the start-up error ``serve`` gives. It is never printed. The lines are built
from check's own text, which cannot contain the token, and from text that comes from outside (the
environment's URLs and paths, error messages, what the API answers): every outside part goes through
:func:`outside`, which scrubs the token (and the forms it was pasted in) from it. Check's own text is
never scrubbed, so a token that happens to be a word ('characters', 'Bearer') cannot garble it.
"""

from __future__ import annotations

import difflib
import http
import os
import re
import ssl
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

import anyio

from footage_mcp.cli.logs import configure_logging
from footage_mcp.core.errors import (
    ApiError,
    BadResponse,
    ConfigError,
    FootageError,
    NotFound,
    TransportError,
)
from footage_mcp.core.redact import redact_text
from footage_mcp.core.settings import (
    DEFAULT_BASE_URL,
    TOKEN_PLACEHOLDER,
    TOKEN_VARIABLES,
    Settings,
    TokenIssue,
    diagnose_token,
    is_loopback_host,
    load_settings,
    token_from_env,
    validate_base_url,
)
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.diagnose import classify
from footage_mcp.rest.discovery import parse_root_links
from footage_mcp.rest.files import check_download_dir, upload_roots
from footage_mcp.rest.http import Fetched, RestClient, decode_json
from footage_mcp.rest.netenv import (
    ProxyRoute,
    ca_bundle,
    ignored_ca_variables,
    proxy_route,
    system_trust,
)
from footage_mcp.rest.urls import mask_url

API_HOST = "app.footage.one"
HOSTS = "claude-desktop|claude-code|cursor|vscode"

TOKEN_FIX = (
    "get one at https://app.footage.one/account (section 'API Key') and put it in the MCP host's configuration "
    f"(`footage-mcp config {HOSTS}` prints a snippet with its place); in a shell: export FOOTAGE_API_TOKEN=…"
)

_SECRETS: ContextVar[tuple[str, ...]] = ContextVar("footage_check_secrets", default=())
"""The token's forms while :func:`run_checks` runs, for :func:`outside`."""


def outside(text: str) -> str:
    """``text`` that comes from outside check (a URL or path from the environment, an error message,
    what a server answered) with the token, and the forms it was pasted in, replaced by ``[redacted]``."""
    return redact_text(text, *_SECRETS.get())


@dataclass
class Report:
    """Writes the check lines and remembers whether one failed. A line's outside parts are scrubbed
    where the line is built (:func:`outside`), not here."""

    out: TextIO
    failed: bool = False

    def line(self, status: str, name: str, detail: str) -> None:
        if status == "FAIL":
            self.failed = True
        print(f"{status:<4}  {name:<16} {detail}", file=self.out, flush=True)


def _secret_forms(raw: str) -> list[str]:
    """The token as set, and the forms it may hide in when it was pasted with quotes, a prefix or a
    line break (only forms of 8 characters or more, so that words like 'Bearer' stay readable).
    Known non-secrets (the configuration snippet's placeholder, the variables' names) are left out."""
    core = raw.strip()
    forms = {raw, core} if len(core) >= 4 else set()
    derived = {core.strip("'\"\u201c\u201d\u2018\u2019\u00ab\u00bb`"), *core.split()}
    for sep in ("=", ":"):
        if sep in core:
            derived.add(core.split(sep, 1)[1].strip())
    forms.update(form for form in derived if len(form) >= 8)
    forms -= {TOKEN_PLACEHOLDER, *TOKEN_VARIABLES}
    return sorted(forms, key=len, reverse=True)


def _display(url: str) -> str:
    """``url`` for a message: no credentials, query or fragment (outside text, scrubbed)."""
    try:
        parts = urlsplit(url.strip())
        return outside(mask_url(url.strip()) + parts.path) if parts.scheme and parts.hostname else "FOOTAGE_BASE_URL"
    except ValueError:
        return "FOOTAGE_BASE_URL"


def _https_url(raw: str) -> str | None:
    """``raw`` (a plain-http URL) with https, its host (bracketed when IPv6), port and path, and no
    credentials; None when it does not parse."""
    try:
        parts = urlsplit(raw.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}{f':{port}' if port is not None else ''}{parts.path}"


def _valid(url: str) -> bool:
    try:
        validate_base_url(url)
    except ConfigError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class BaseUrlVerdict:
    status: str
    detail: str
    usable: bool
    """False when the network checks cannot mean anything with this URL (they are skipped)."""


def check_base_url(raw: str) -> BaseUrlVerdict:
    """The static check of ``FOOTAGE_BASE_URL`` (``raw``, empty for the default): no network."""
    if not raw.strip():
        return BaseUrlVerdict("PASS", f"{DEFAULT_BASE_URL} (the default)", True)
    fix = f"set FOOTAGE_BASE_URL={DEFAULT_BASE_URL}, or unset it (that is the default)"
    try:
        url = validate_base_url(raw)
    except ConfigError as exc:
        try:
            parts = urlsplit(raw.strip())
            host = parts.hostname or ""
        except ValueError:
            return BaseUrlVerdict("FAIL", outside(exc.message), False)
        target = DEFAULT_BASE_URL if host == API_HOST else _https_url(raw)
        if parts.scheme == "http" and target is not None and not is_loopback_host(host) and _valid(target):
            return BaseUrlVerdict(
                "FAIL",
                f"{_display(raw)} uses plain http, which would send the token unencrypted: use {outside(target)} "
                "(plain http only for a loopback sandbox)",
                False,
            )
        return BaseUrlVerdict("FAIL", outside(exc.message), False)
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
    shown = _display(url)
    if host == "mcp.footage.one":
        return BaseUrlVerdict(
            "FAIL", f"{shown} is Footage's hosted MCP endpoint (OAuth only), not the REST API: {fix}", False
        )
    if host in ("footage.one", "www.footage.one"):
        return BaseUrlVerdict("FAIL", f"{shown} is the Footage website, not the REST API: {fix}", False)
    if host == API_HOST and path != "/api/asset":
        return BaseUrlVerdict("FAIL", f"{shown} is not the REST API's base, which is under /api/asset: {fix}", False)
    if host != API_HOST and difflib.SequenceMatcher(None, host, API_HOST).ratio() >= 0.8:
        return BaseUrlVerdict(
            "WARN", f"{shown}: is {outside(host)} a typo? The Footage REST API is {DEFAULT_BASE_URL}", True
        )
    if not path.endswith("/api/asset"):
        return BaseUrlVerdict(
            "WARN",
            f"{shown} does not end in /api/asset, the REST API's base path; if the discovery root fails below, add it",
            True,
        )
    return BaseUrlVerdict("PASS", shown + (" (the default)" if url == DEFAULT_BASE_URL else ""), True)


def _names(variables: tuple[str, ...] | list[str]) -> str:
    return " and ".join(variables) if len(variables) <= 2 else ", ".join(variables[:-1]) + " and " + variables[-1]


def _proxy_line(route: ProxyRoute, url: str, report: Report) -> None:
    """The proxy line, when a proxy variable is set at all."""
    if not (route.problem or route.proxy or route.configured or route.bypass):
        return
    parts = urlsplit(url)
    host = outside(parts.hostname or "the API")
    if route.problem:
        report.line("FAIL", "proxy", route.problem)
    elif route.proxy is not None:
        proxy = route.proxy
        via = f"the proxy {outside(proxy.url)} (from {proxy.variable})"
        if is_loopback_host(parts.hostname or ""):
            report.line(
                "WARN",
                "proxy",
                f"requests to {host} go through {via}, which does not reach this computer's loopback: "
                "set NO_PROXY=localhost,127.0.0.1,::1",
            )
        else:
            report.line("PASS", "proxy", f"requests to {host} go through {via}")
    else:
        set_names = route.variables or tuple(sorted({p.variable for p in route.configured}))
        names = _names(set_names) or "a proxy variable"
        if route.bypass and route.everything_off:
            report.line("PASS", "proxy", f"{names} set, but {route.bypass}=* turns every proxy off: direct connection")
        elif route.bypass:
            report.line("PASS", "proxy", f"{names} set, but {route.bypass} excludes {host}: direct connection")
        elif parts.scheme == "https" and all(p.variable.lower() == "http_proxy" for p in route.configured):
            report.line(
                "WARN",
                "proxy",
                f"{names} is set, but it applies to http:// URLs only: {host} is reached directly "
                "(set HTTPS_PROXY too if your network needs a proxy)",
            )
        else:
            report.line("PASS", "proxy", f"{names} set, but not for {parts.scheme}:// URLs: direct connection")


def _proxy_advice(route: ProxyRoute, host: str, scheme: str) -> str:
    """What to say about proxies when a direct connection to ``host`` failed: never to set a proxy
    variable that is set already."""
    if route.bypass is not None and route.variables:
        names = _names(route.variables)
        verb, them = ("is", "it") if len(route.variables) == 1 else ("are", "them")
        if route.everything_off:
            return (
                f"{names} {verb} set, but {route.bypass}=* turns {them} off: remove the * from {route.bypass} "
                "if this network needs the proxy"
            )
        return (
            f"{names} {verb} set, but {route.bypass} excludes {host}: remove it from {route.bypass} if this "
            "network needs the proxy"
        )
    if route.configured:
        names = _names(sorted({p.variable for p in route.configured}))
        return f"{names} does not apply to {scheme}:// URLs: set HTTPS_PROXY if this network needs a proxy"
    return "this network may need a proxy (HTTPS_PROXY)"


def _tls_failure(error: ssl.SSLError, host: str, route: ProxyRoute) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        code, why = error.verify_code, outside(str(error.verify_message or error.reason or "verification failed"))
        if code in (9, 10):
            return (
                f"TLS: the certificate of {host} {why.removeprefix('certificate ')} — check this computer's date "
                "and time; if they are right, the server (or a proxy) presents an outdated certificate"
            )
        if code in (62, 64):
            return (
                f"TLS: the certificate presented for {host} is for another name ({why.rstrip('.')}) — check the "
                "host in FOOTAGE_BASE_URL; a proxy that inspects HTTPS can also cause this"
            )
        via = f" (requests go through {outside(route.proxy.url)} from {route.proxy.variable})" if route.proxy else ""
        hint = (
            f"TLS: the certificate of {host} is not trusted ({why}) — usually a corporate proxy or antivirus "
            f"that inspects HTTPS{via}: get its root CA as a PEM file and set SSL_CERT_FILE=/path/to/ca.pem "
            "in the MCP server's environment"
        )
        bundle = os.environ.get("SSL_CERT_FILE")
        if bundle:
            hint += f" (SSL_CERT_FILE={outside(bundle)} does not contain that CA)"
        ignored = ignored_ca_variables()
        if ignored:
            verb = "is" if len(ignored) == 1 else "are"
            hint += f"; {' and '.join(ignored)} {verb} set, but the bridge reads SSL_CERT_FILE"
        return hint
    reason = outside(error.reason or type(error).__name__)
    if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
        return (
            f"TLS handshake with {host} failed ({reason}): the port does not speak https (a local sandbox "
            "uses http://), or a proxy is in the way"
        )
    return f"TLS handshake with {host} failed ({reason}); check FOOTAGE_BASE_URL and the proxy settings"


_STATUS_CODE = re.compile(r"\s*([1-5][0-9][0-9])(?![0-9])")


def _status_text(code: int | None) -> str:
    """A status code with its standard reason phrase (never the one a proxy sent: it may echo anything)."""
    if code is None:
        return "no HTTP status"
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _proxy_refusal(code: int | None, host: str, route: ProxyRoute) -> str:
    """One line for a proxy that answered ``code`` instead of connecting to ``host`` (``route.proxy`` set)."""
    proxy = route.proxy
    assert proxy is not None
    if code == 407 and proxy.has_credentials:
        hint = (
            f"the proxy rejected the user name and password in {proxy.variable}: check them (special characters "
            "in them must be percent-encoded, e.g. @ as %40)"
        )
    elif code == 407:
        hint = f"the proxy wants credentials: put them in {proxy.variable} as http://user:password@host:port"
    elif code == 403:
        hint = f"the proxy blocks {host}: ask your network administrator to allow it"
    else:
        hint = f"the proxy cannot reach {host}: check the host in FOOTAGE_BASE_URL and the proxy"
    return (
        f"the proxy {outside(proxy.url)} (from {proxy.variable}) refused the connection to {host} "
        f"({_status_text(code)}) — {hint}"
    )


def describe_transport_failure(exc: TransportError, url: str, route: ProxyRoute, timeout: float) -> str:
    """One line saying why no HTTP answer came from ``url``, with the fix: check's rendering of the
    classification :func:`footage_mcp.rest.diagnose.classify` makes (the tool message is the other)."""
    failure = classify(exc, url, proxy=route.proxy)
    parts = urlsplit(url)
    host = outside(failure.host)
    proxy = route.proxy
    if failure.kind == "tls" and failure.tls is not None:
        return _tls_failure(failure.tls, host, route)
    if failure.kind == "proxy_status" and proxy is not None:
        return _proxy_refusal(failure.status, host, route)
    if failure.kind == "proxy_connect" and proxy is not None:
        what = f"cannot connect to the proxy {outside(proxy.address)}"
        if failure.unresolved:
            what = f"cannot resolve the proxy's host name {outside(proxy.host)}"
        why = ": connection refused" if failure.refused else ""
        return (
            f"{what} (from {proxy.variable}: {outside(proxy.url)}){why} — fix {proxy.variable}, or unset it (or add "
            f"{host} to NO_PROXY) if this network needs no proxy"
        )
    if failure.kind == "timeout":
        through = f" through the proxy {outside(proxy.url)}" if proxy else ""
        advice = (
            "the proxy may be overloaded, or block the request"
            if proxy
            else f"a firewall may drop the traffic, or {_proxy_advice(route, host, parts.scheme)}"
        )
        return f"no answer from {host}{through} within {timeout:g} s (FOOTAGE_TIMEOUT) — {advice}"
    if failure.kind == "dns":
        guess = (
            f" (did you mean {API_HOST}?)"
            if parts.hostname != API_HOST
            and difflib.SequenceMatcher(None, parts.hostname or "", API_HOST).ratio() >= 0.8
            else ""
        )
        return (
            f"cannot resolve the host name {host} (DNS lookup failed) — check its spelling in FOOTAGE_BASE_URL"
            f"{guess}; if other sites work, {_proxy_advice(route, host, parts.scheme)}"
        )
    if failure.kind == "refused":
        sandbox = " (is the sandbox running?)" if is_loopback_host(parts.hostname or "") else ""
        return (
            f"{host}:{failure.port} refused the connection: nothing listens there{sandbox} — check the host and "
            "port in FOOTAGE_BASE_URL"
        )
    return outside(exc.message)


def _root_problem(exc: FootageError, url: str) -> str:
    """The discovery root line for a root that answered, but not with JSON links."""
    shown = outside(url)
    if isinstance(exc, BadResponse) and "HTML" in exc.message:
        return (
            f"{shown} answered with an HTML page (a website, not the REST API): FOOTAGE_BASE_URL must be the "
            f"API's base, {DEFAULT_BASE_URL}"
        )
    if isinstance(exc, NotFound):
        return f"{shown} answered 404: there is no API root there — FOOTAGE_BASE_URL should end in /api/asset"
    return f"{outside(exc.message)} — check that FOOTAGE_BASE_URL ends in /api/asset"


def _token_lines(var: str | None, raw: str, issue: TokenIssue | None, report: Report) -> None:
    """The token lines: check's own text and :class:`TokenIssue` messages, which never hold the token."""
    if var is None:
        report.line("FAIL", "token present", f"no token: FOOTAGE_API_TOKEN is not set — {TOKEN_FIX}")
        return
    if not raw.strip():
        report.line("FAIL", "token present", f"{var} is set but blank — {TOKEN_FIX}")
        return
    others = [name for name in TOKEN_VARIABLES if name != var and os.environ.get(name, "").strip()]
    if others and os.environ[others[0]].strip() != raw.strip():
        report.line(
            "WARN",
            "token present",
            f"{var} is set ({len(raw.strip())} characters); {others[0]} is set too and differs: {var} is used",
        )
    else:
        report.line("PASS", "token present", f"{var} is set ({len(raw.strip())} characters)")
    if issue is None:
        report.line("PASS", "token format", "one line, no quotes, spaces, prefix or placeholder")
    else:
        report.line("WARN" if issue.harmless else "FAIL", "token format", f"{var} {issue.message}")


async def run_checks(out: TextIO) -> bool:
    """Run every check on this process's environment, print a line for each, return True when none failed."""
    var, raw = token_from_env()
    secrets = _secret_forms(raw) if raw else []
    reset = _SECRETS.set(tuple(secrets))
    try:
        return await _run_checks(out, var, raw, secrets)
    finally:
        _SECRETS.reset(reset)


async def _run_checks(out: TextIO, var: str | None, raw: str, secrets: list[str]) -> bool:
    issue = diagnose_token(raw) if raw else None
    report = Report(out)
    token = raw.strip() if raw.strip() and (issue is None or issue.harmless) else None
    base_raw = os.environ.get("FOOTAGE_BASE_URL", "")
    verdict = check_base_url(base_raw)
    settings: Settings | None = None
    try:
        base_url = validate_base_url(base_raw) if base_raw.strip() and verdict.usable else DEFAULT_BASE_URL
        settings = load_settings(api_token=token, base_url=base_url)
    except ConfigError as exc:
        report.line("FAIL", "settings", outside(exc.message))
    # The report lines say what the bridge's warnings would (e.g. an unreadable discovery root): only
    # errors are logged, unless FOOTAGE_LOG_LEVEL asks for more detail (INFO or DEBUG).
    level = settings.log_level if settings is not None else "ERROR"
    configure_logging(level if level in ("DEBUG", "INFO") else "ERROR", [*secrets])

    overrides: dict[str, str] = {}
    if settings is not None and settings.routes is not None:
        try:
            overrides = settings.route_overrides()
            names = outside(", ".join(overrides))
            report.line("PASS", "routes file", f"{outside(str(settings.routes))}: {len(overrides)} routes ({names})")
        except ConfigError as exc:
            report.line("FAIL", "routes file", outside(exc.message))

    if settings is not None:
        _folders_line(settings, report)
    _token_lines(var, raw, issue, report)
    report.line(verdict.status, "base URL", verdict.detail)

    target = settings.base_url if settings is not None else DEFAULT_BASE_URL
    route = proxy_route(target, shown=outside)
    _proxy_line(route, target, report)
    bundle = ca_bundle(shown=outside)
    if bundle is not None:
        if bundle.problem:
            report.line("FAIL", "CA certificates", bundle.problem)
        elif bundle.certificates == 0:
            report.line("FAIL", "CA certificates", f"{bundle.variable}={outside(bundle.path)} holds no CA certificate")
        else:
            plural = "" if bundle.certificates == 1 else "s"
            count = f" ({bundle.certificates} CA certificate{plural})" if bundle.certificates is not None else ""
            detail = f"{bundle.variable}={outside(bundle.path)}{count} replaces the system trust"
            report.line("PASS", "CA certificates", detail)
    else:
        _system_trust_line(target, report)

    blocker = (
        "the settings are not usable"
        if settings is None
        else "fix FOOTAGE_BASE_URL first"
        if not verdict.usable
        else "fix the proxy settings first"
        if route.problem
        else "fix the CA certificates first"
        if bundle is not None and bundle.problem
        else None
    )
    if settings is None or blocker is not None:
        for name in ("connection", "discovery root", "token accepted"):
            report.line("FAIL", name, f"skipped: {blocker}")
        return not report.failed
    await _network_checks(settings, token, var, overrides, route, report)
    return not report.failed


def _folders_line(settings: Settings, report: Report) -> None:
    """Where download_asset writes and, with writes on, where upload_assets may read: a FAIL for what
    stops ``serve`` at start (a relative FOOTAGE_DOWNLOAD_DIR; a relative or missing upload folder)."""
    try:
        detail = f"downloads go to {outside(str(check_download_dir(settings.download_dir)))}"
        if settings.allow_writes and settings.upload_dirs:
            roots = ", ".join(outside(str(r)) for r in upload_roots(settings.upload_dirs))
            detail += f"; upload_assets reads from {roots}"
    except ConfigError as exc:
        report.line("FAIL", "folders", outside(exc.message))
        return
    report.line("PASS", "folders", detail)


def _system_trust_line(url: str, report: Report) -> None:
    """The CA certificates line without SSL_CERT_FILE / SSL_CERT_DIR: which system trust httpx2 uses
    (a FAIL only when there is none and the base URL is https)."""
    trust = system_trust()
    if trust.problem is not None:
        status = "FAIL" if urlsplit(url).scheme == "https" else "WARN"
        report.line(status, "CA certificates", outside(trust.problem))
        return
    plural = "" if trust.certificates == 1 else "s"
    count = f" ({trust.certificates} CA certificate{plural})" if trust.certificates is not None else ""
    report.line("PASS", "CA certificates", f"{outside(trust.description)}{count}")


async def _network_checks(
    settings: Settings,
    token: str | None,
    var: str | None,
    overrides: dict[str, str],
    route: ProxyRoute,
    report: Report,
) -> None:
    root = settings.base_url + "/"
    shown = outside(root)
    host = outside(urlsplit(root).hostname or "the API host")
    via = f" (through the proxy {outside(route.proxy.url)})" if route.proxy else ""
    async with RestClient(settings) as rest:
        reachable = False
        fetched: Fetched | None = None
        try:
            fetched = await rest.get(root)
            report.line("PASS", "connection", f"{shown} answered {fetched.status}{via}")
            reachable = True
        except TransportError as exc:
            report.line("FAIL", "connection", describe_transport_failure(exc, root, route, settings.timeout))
        except ApiError as exc:  # an answer, from the API, or (407) from the proxy in front of it
            if exc.status == 407 and route.proxy is not None:
                report.line("FAIL", "connection", _proxy_refusal(407, host, route))
            else:
                reachable = True
                status = f" {exc.status}" if exc.status else ""
                report.line("PASS", "connection", f"{shown} answered{status}{via}")
                report.line("FAIL", "discovery root", _root_problem(exc, root))
        except FootageError as exc:  # refused by the bridge itself: nothing was sent
            report.line("FAIL", "connection", f"no request was sent to {shown}: {outside(exc.message)}")
        except Exception as exc:  # a failure the client does not translate: a line, not a traceback
            report.line(
                "FAIL",
                "connection",
                f"the request to {shown} failed before any answer ({type(exc).__name__}) — check FOOTAGE_BASE_URL "
                "and the proxy and CA settings",
            )
        if not reachable:
            report.line("FAIL", "discovery root", "skipped: the API is unreachable")
        if fetched is not None:
            try:
                links = parse_root_links(decode_json(fetched))
            except FootageError as exc:
                report.line("FAIL", "discovery root", _root_problem(exc, root))
            else:
                names = outside(", ".join(link.name for link in links))
                if links:
                    report.line("PASS", "discovery root", f"{len(links)} links ({names})")
                else:
                    report.line(
                        "FAIL", "discovery root", "the root answered without links; the default routes will be used"
                    )
        if var is None:
            report.line("FAIL", "token accepted", "skipped: no token")
        elif token is None:
            report.line("FAIL", "token accepted", f"skipped: fix {var} first (see token format)")
        elif not reachable:
            report.line("FAIL", "token accepted", "skipped: the API is unreachable")
        else:
            try:
                api = FootageApi(rest, overrides)
                page = (await api.list_albums(query=None, limit=1, cursor=None)).result
                total = f"{page.total} albums" if page.total is not None else "albums readable"
                report.line("PASS", "token accepted", f"the API accepted the token ({total})")
            except FootageError as exc:
                report.line("FAIL", "token accepted", outside(exc.message))


def main(out: TextIO = sys.stdout) -> int:
    """Run the checks; 0 when none failed, else 1."""

    async def run() -> bool:
        return await run_checks(out)

    return 0 if anyio.run(run) else 1
