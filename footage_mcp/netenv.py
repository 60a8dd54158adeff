"""The network environment as the REST client's ``httpx`` sees it: proxies and CA certificates.

The client builds its ``httpx.AsyncClient`` with the defaults (``trust_env=True``), so:

- **Proxies** come from ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (a lower-case
  variable wins over its upper-case twin), read through :func:`urllib.request.getproxies`, which on
  macOS and Windows falls back to the system proxy settings. ``HTTP_PROXY`` applies to ``http://``
  URLs only. ``NO_PROXY=*`` turns every proxy off. A ``socks5://`` proxy needs the ``socksio``
  package; another scheme is refused. A proxy variable httpx cannot use makes building the client
  fail, so every request fails, whichever URL it is for.
- **CA certificates** come from ``SSL_CERT_FILE`` (a PEM bundle), else ``SSL_CERT_DIR``, else
  certifi's bundle. ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE`` are *not* read. A missing
  ``SSL_CERT_FILE`` makes building the client fail.

This module reads the same settings with httpx's own rules (:func:`httpx._utils.get_environment_proxies`
and ``URLPattern``: httpx is pinned below 1.0), so ``footage-mcp check`` can say which proxy a
request goes through, and the server can refuse at start what would make every request fail.
Proxy URLs are only ever shown with their credentials masked.
"""

from __future__ import annotations

import importlib.util
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
"""Proxy URL schemes httpx accepts (SOCKS only with ``socksio`` installed)."""

CA_VARIABLES_IGNORED = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""CA bundle variables other tools read and httpx does not."""

_MOUNT_VARIABLE = {"http://": "http_proxy", "https://": "https_proxy", "all://": "all_proxy"}


@dataclass(frozen=True, slots=True)
class Proxy:
    """One proxy httpx would use: where it comes from and where it is (credentials masked)."""

    variable: str
    """``HTTPS_PROXY``, ``https_proxy``, ``ALL_PROXY`` …, or ``the system proxy settings``."""
    url: str
    """The proxy URL with any ``user:password@`` replaced by ``***@``."""
    scheme: str
    host: str
    port: int | None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port is not None else self.host


@dataclass(frozen=True, slots=True)
class ProxyRoute:
    """How a request to one URL leaves this machine."""

    proxy: Proxy | None
    """The proxy the request goes through, or None for a direct connection."""
    configured: tuple[Proxy, ...]
    """Every proxy httpx would set up (for any scheme)."""
    bypass: str | None
    """``NO_PROXY`` (or ``no_proxy``) when it is what makes this request go direct."""
    problem: str | None
    """Why httpx cannot be built with these proxy settings (then every request fails), or None."""


def mask_url(url: str) -> str:
    """``url`` reduced to scheme, host and port, with any credentials shown as ``***@``."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an unreadable URL)"
    if ":" in host:
        host = f"[{host}]"
    userinfo = "***@" if parts.username is not None or parts.password is not None else ""
    return f"{parts.scheme}://{userinfo}{host}{f':{port}' if port is not None else ''}"


def _variable_for(mount: str, proxy_url: str, environ: Mapping[str, str]) -> str:
    """The environment variable that set the proxy for ``mount`` (lower case wins, as in urllib)."""
    lower = _MOUNT_VARIABLE.get(mount, "")
    for name in (lower, lower.upper()):
        value = environ.get(name, "")
        if value and (value == proxy_url or "http://" + value == proxy_url):
            return name
    for name in (lower, lower.upper()):
        if environ.get(name):
            return name
    return "the system proxy settings"


def _proxy(mount: str, proxy_url: str, environ: Mapping[str, str]) -> Proxy:
    try:
        parts = urlsplit(proxy_url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port = "", None
    return Proxy(_variable_for(mount, proxy_url, environ), mask_url(proxy_url), parts.scheme.lower(), host, port)


def proxy_route(url: str) -> ProxyRoute:
    """Which proxy (if any) httpx uses for ``url`` with this process's settings."""
    import httpx
    from httpx._utils import URLPattern, get_environment_proxies

    environ = os.environ
    mounts = get_environment_proxies()
    configured = tuple(_proxy(mount, value, environ) for mount, value in mounts.items() if value)
    problem = None
    for each in configured:
        if each.scheme not in PROXY_SCHEMES:
            problem = (
                f"{each.variable} is {each.url}: httpx accepts only http://, https:// or socks5:// proxies; "
                "fix or unset it for the MCP server"
            )
            break
        if each.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
            problem = (
                f"{each.variable} is a SOCKS proxy ({each.url}), which the bridge cannot use "
                "(the socksio package is not installed); unset it for the MCP server, or use an http:// proxy"
            )
            break
    target = httpx.URL(url)
    chosen: tuple[str, str | None] | None = None
    would_use: str | None = None
    for mount, value in sorted(mounts.items(), key=lambda item: URLPattern(item[0])):
        if URLPattern(mount).matches(target):
            if chosen is None:
                chosen = (mount, value)
            if value and would_use is None:
                would_use = mount
    proxy = _proxy(chosen[0], chosen[1], environ) if chosen and chosen[1] else None
    bypass = None
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    if proxy is None and no_proxy:
        everything_off = "*" in (host.strip() for host in no_proxy.split(","))
        if (would_use is not None or everything_off) and _any_proxy_variable(environ):
            bypass = "no_proxy" if environ.get("no_proxy") else "NO_PROXY"
    return ProxyRoute(proxy, configured, bypass, problem)


def _any_proxy_variable(environ: Mapping[str, str]) -> bool:
    return any(environ.get(name) or environ.get(name.upper()) for name in _MOUNT_VARIABLE.values())


@dataclass(frozen=True, slots=True)
class CaBundle:
    """The CA certificates httpx trusts, when a variable overrides certifi's bundle."""

    variable: str
    """``SSL_CERT_FILE`` or ``SSL_CERT_DIR``."""
    path: str
    problem: str | None
    """Why it cannot be used, or None."""
    certificates: int | None = None
    """How many CA certificates it holds (a file; None for a directory, loaded lazily)."""


def ca_bundle(environ: Mapping[str, str] | None = None, *, load: bool = True) -> CaBundle | None:
    """The ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override httpx uses, or None when it uses certifi.

    With ``load`` the file is parsed the way httpx does it (so a file that is not PEM is reported);
    without, only its existence is checked (cheap enough for the server's start).
    """
    environ = os.environ if environ is None else environ
    cafile = environ.get("SSL_CERT_FILE", "")
    if cafile:
        if not os.path.isfile(cafile):
            what = "is a directory (SSL_CERT_DIR takes directories)" if os.path.isdir(cafile) else "does not exist"
            return CaBundle(
                "SSL_CERT_FILE",
                cafile,
                f"SSL_CERT_FILE={cafile} {what}: the bridge cannot make any request; "
                "point it at a PEM bundle or unset it",
            )
        if not load:
            return CaBundle("SSL_CERT_FILE", cafile, None)
        try:
            context = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
            return CaBundle(
                "SSL_CERT_FILE",
                cafile,
                f"SSL_CERT_FILE={cafile} cannot be read as a PEM CA bundle ({reason}); "
                "point it at a PEM file or unset it",
            )
        return CaBundle("SSL_CERT_FILE", cafile, None, context.cert_store_stats().get("x509_ca", 0))
    capath = environ.get("SSL_CERT_DIR", "")
    if capath:
        if not os.path.isdir(capath):
            return CaBundle(
                "SSL_CERT_DIR",
                capath,
                f"SSL_CERT_DIR={capath} is not a directory: no CA certificate is trusted, so every https "
                "request fails; fix the path or unset it",
            )
        return CaBundle("SSL_CERT_DIR", capath, None)
    return None


def ignored_ca_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` when set while ``SSL_CERT_FILE`` is not: a CA
    bundle the user meant for this bridge, which httpx does not read."""
    environ = os.environ if environ is None else environ
    if environ.get("SSL_CERT_FILE"):
        return []
    return [name for name in CA_VARIABLES_IGNORED if environ.get(name)]


def startup_problem(url: str) -> str | None:
    """A setting that would make every request of the server fail (a proxy httpx cannot use, a
    missing ``SSL_CERT_FILE``), as one line; None when there is none. Cheap: reads no file."""
    route = proxy_route(url)
    if route.problem:
        return route.problem
    bundle = ca_bundle(load=False)
    return bundle.problem if bundle and bundle.problem and bundle.variable == "SSL_CERT_FILE" else None
