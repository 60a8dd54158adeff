"""The network environment as the REST client's ``httpx2`` sees it: proxies and CA certificates.

The client builds its ``httpx2.AsyncClient`` with the defaults (``trust_env=True``), so:

- **Proxies** come from ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (a lower-case
  variable wins over its upper-case twin), read through :func:`urllib.request.getproxies`, which on
  macOS and Windows falls back to the system proxy settings. ``HTTP_PROXY`` applies to ``http://``
  URLs only. ``NO_PROXY=*`` turns every proxy off. A ``socks5://`` proxy needs the ``socksio``
  package; another scheme is refused. httpx2 builds a transport for every proxy variable when the
  client is built: one it cannot parse makes building the client fail, and one with a port outside
  1-65535 makes every request through it fail, so every request fails, whichever URL it is for.
- **CA certificates** (``httpcore2.default_ssl_context``) come from ``SSL_CERT_FILE`` (a PEM
  bundle), else ``SSL_CERT_DIR`` (a directory of certificates under OpenSSL's hashed names,
  ``5ad8a5d6.0``), else the operating system's trust: on macOS and Windows the system trust store
  through ``truststore`` (the Keychain, the Windows certificate store: a corporate CA installed there
  is trusted without any variable); on Linux and elsewhere OpenSSL's compiled-in CA file or
  directory, else the first system bundle found (``/etc/ssl/cert.pem``,
  ``/etc/ssl/certs/ca-certificates.crt`` …). There is no certifi bundle. ``REQUESTS_CA_BUNDLE`` and
  ``CURL_CA_BUNDLE`` are *not* read. An ``SSL_CERT_FILE`` that does not load as PEM makes building
  the client fail; an ``SSL_CERT_DIR`` without certificates makes every https request fail.
  :func:`trust_source` says which of these is in use.

This module reads the same settings with httpx2's own rules (:func:`httpx2._utils.get_environment_proxies`,
``URLPattern`` and :class:`httpx2.Proxy`: httpx2 is pinned below 1.0), so ``footage-mcp check`` can say
which proxy a request goes through, and the server can refuse at start what would make every request
fail (:func:`startup_problem`). Proxy URLs are only ever shown with their credentials masked, and
messages never quote what a proxy URL holds where the credentials may be.

Messages take ``shown``, applied to every part that comes from the environment (a path, a proxy URL),
so that ``check`` can scrub the token from those parts only.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import ssl
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.request import getproxies

import httpx2

from footage_mcp.core.settings import is_valid_host_name, url_character_problem
from footage_mcp.rest.urls import UNREADABLE as _UNREADABLE
from footage_mcp.rest.urls import mask_url

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
"""Proxy URL schemes httpx2 accepts (SOCKS only with ``socksio`` installed)."""

CA_VARIABLES_IGNORED = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""CA bundle variables other tools read and httpx2 does not."""

SYSTEM_SETTINGS = "the system proxy settings"
"""The origin of a proxy that no environment variable set (macOS, Windows)."""

_MOUNT_VARIABLE = {"http://": "http_proxy", "https://": "https_proxy", "all://": "all_proxy"}
_UNENCODED = "a '/', '?' or '#' in its user name or password is not percent-encoded: write them as %2F, %3F and %23"
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----")
_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")
"""A certificate's name in an OpenSSL CA directory (``openssl rehash``): subject hash, dot, index."""
_READ_LIMIT = 1024 * 1024


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Proxy:
    """One proxy httpx2 would use: where it comes from and where it is (credentials masked)."""

    variable: str
    """``HTTPS_PROXY``, ``https_proxy``, ``ALL_PROXY`` …, or ``the system proxy settings``."""
    url: str
    """The proxy URL reduced to scheme, host and port, with any ``user:password@`` shown as ``***@``."""
    scheme: str
    host: str
    port: int | None
    has_credentials: bool = False
    """The URL carries a user name or password (httpx2 sends them to the proxy, Basic authentication)."""

    @property
    def named(self) -> str:
        """``the proxy <address> (from <variable>)``: how tool errors name it."""
        return f"the proxy {self.address} (from {self.variable})"

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else host


@dataclass(frozen=True, slots=True)
class ProxyRoute:
    """How a request to one URL leaves this machine."""

    proxy: Proxy | None
    """The proxy the request goes through, or None for a direct connection."""
    configured: tuple[Proxy, ...]
    """Every proxy httpx2 would set up (for any scheme)."""
    bypass: str | None
    """``NO_PROXY`` (or ``no_proxy``) when it is what makes this request go direct."""
    problem: str | None
    """Why httpx2 cannot use these proxy settings (then every request fails), or None."""
    variables: tuple[str, ...] = ()
    """The proxy variables that are set (as named in the environment), whether httpx2 uses them or not."""
    everything_off: bool = False
    """``NO_PROXY`` holds ``*``: httpx2 ignores every proxy variable."""


def _masked(url: httpx2.URL) -> str:
    """``url`` as httpx2 reads it, reduced to scheme, host and port, credentials shown as ``***@``."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{'***@' if url.userinfo else ''}{host}{port}"


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
    return SYSTEM_SETTINGS


def _text_problem(value: str) -> str | None:
    """A character that makes ``value`` no URL at all for httpx2, or None."""
    if value[:1].isspace():
        return "it starts with a space"
    found = url_character_problem(value.rstrip(" "))  # httpx2 ignores trailing spaces
    return f"it contains {found}" if found is not None else None


def _unusable(value: str) -> tuple[str, str | None] | None:
    """Why httpx2 cannot use the proxy URL ``value`` (its scheme aside), and the URL with its
    credentials masked when it could be read; None when httpx2 can. The reason never quotes the URL:
    a mistyped one may put the password where a host or a port belongs."""
    text = _text_problem(value)
    if text is not None:
        return text, None
    rest = value.partition("://")[2]
    authority = re.match(r"[^/?#]*", rest)
    assert authority is not None  # the pattern matches the empty string
    if "@" in rest[authority.end() :]:  # the user info ended early, at a / ? or # in the password
        return _UNENCODED, None
    host_port = authority.group(0).rpartition("@")[2]
    if host_port.startswith("[") and "]" not in host_port:
        return "its IPv6 address has no closing ']'", None
    try:
        url = httpx2.URL(value)  # what httpx2.Proxy reads, before it moves the credentials out of the URL
        httpx2.Proxy(url)
        host, port = url.host, url.port  # the host is decoded (IDNA) on access
    except httpx2.InvalidURL as exc:
        message = str(exc)
        if message.startswith("Invalid port"):
            return "its port is not a number", None
        if message.startswith("Invalid IPv6"):
            return "its host is not a valid IPv6 address", None
        if message.startswith("Invalid IPv4"):
            return "its host is not a valid IPv4 address", None
        if message.startswith("Invalid IDNA"):
            return "its host name is not a valid international domain name", None
        if "too long" in message:
            return "it is too long", None
        return "httpx2 cannot read it", None
    except UnicodeError:  # idna.IDNAError
        return "its host name is not a valid international domain name", None
    except Exception as exc:  # whatever else httpx2 raises here would fail every request the same way
        return f"httpx2 cannot read it ({type(exc).__name__})", None
    if not host:
        return "it has no host name", _masked(url)
    if not is_valid_host_name(host):
        return "its host name is not a valid international domain name", None
    if port is not None and not 1 <= port <= 65535:
        return f"its port {port} is not between 1 and 65535", _masked(url)
    return None


def _read_proxy(
    mount: str, value: str, environ: Mapping[str, str], shown: Callable[[str], str]
) -> tuple[Proxy, str | None]:
    """The proxy httpx2 sets up for ``mount`` from ``value``, and why it cannot be used (or None)."""
    variable = _variable_for(mount, value, environ)
    subject = variable if variable != SYSTEM_SETTINGS else f"the proxy in {SYSTEM_SETTINGS}"
    scheme = value.partition("://")[0].lower()
    unusable = _unusable(value)
    if unusable is None:
        url = httpx2.URL(value)
        proxy = Proxy(variable, _masked(url), url.scheme, url.host, url.port, bool(url.username or url.password))
    else:  # no part of it is shown: a mistyped URL may hold the password anywhere
        proxy = Proxy(variable, _UNREADABLE, scheme, "", None)
    if scheme not in PROXY_SCHEMES and _text_problem(value) is None:
        masked = "not a URL"  # what stands before :// may be anything, the password included
        if re.fullmatch(r"[a-z][a-z0-9+.-]{0,15}", scheme):
            masked = mask_url(value)
            if masked == _UNREADABLE or not masked.startswith(f"{scheme}://"):
                masked = f"a {scheme}:// URL"
        return proxy, (
            f"{subject} is {shown(masked)}: httpx2 accepts only http://, https:// or socks5:// proxies; "
            "fix or unset it for the MCP server"
        )
    if unusable is not None:
        why, readable = unusable
        where = f": {shown(readable)}" if readable is not None else ""
        return proxy, f"{subject} is not a valid proxy URL ({why}{where}); fix it or unset it for the MCP server"
    if scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        return proxy, (
            f"{subject} is a SOCKS proxy ({shown(proxy.url)}), which the bridge cannot use "
            "(the socksio package is not installed); unset it for the MCP server, or use an http:// proxy"
        )
    return proxy, None


def proxy_route(url: str, *, shown: Callable[[str], str] = _as_is) -> ProxyRoute:
    """Which proxy (if any) httpx2 uses for ``url`` with this process's settings, and whether httpx2
    can use every proxy it is given (it sets them all up, whichever URL a request is for)."""
    from httpx2._utils import URLPattern, get_environment_proxies

    environ = os.environ
    info = getproxies()
    variables = tuple(
        _variable_for(f"{scheme}://", info[scheme], environ) for scheme in ("http", "https", "all") if info.get(scheme)
    )
    no_proxy = info.get("no", "")
    everything_off = "*" in (host.strip() for host in no_proxy.split(","))
    mounts = get_environment_proxies()
    problem = None
    read: dict[str, Proxy] = {}
    for mount, value in mounts.items():
        if value:
            read[mount], why = _read_proxy(mount, value, environ, shown)
            problem = problem or why
    target = httpx2.URL(url)
    chosen: str | None = None
    would_use: str | None = None
    for mount in sorted(mounts, key=URLPattern):
        if URLPattern(mount).matches(target):
            if chosen is None:
                chosen = mount
            if mounts[mount] and would_use is None:
                would_use = mount
    proxy = read.get(chosen) if chosen is not None else None
    bypass = None
    if proxy is None and no_proxy and variables and (would_use is not None or everything_off):
        bypass = "no_proxy" if "no_proxy" in environ else "NO_PROXY"
    return ProxyRoute(proxy, tuple(read.values()), bypass, problem, variables, everything_off)


@dataclass(frozen=True, slots=True)
class CaBundle:
    """The CA certificates httpx2 trusts, when a variable overrides the system's trust."""

    variable: str
    """``SSL_CERT_FILE`` or ``SSL_CERT_DIR``."""
    path: str
    problem: str | None
    """Why it cannot be used (then every request, or every https request, fails), or None."""
    certificates: int | None = None
    """How many CA certificates it holds (a file; None for a directory, which OpenSSL reads lazily)."""


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _stat(path: str, what: str) -> os.stat_result | str:
    """``path``'s status, or why there is none (``what`` is ``file`` or ``directory``)."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return f"is a symbolic link to a {what} that does not exist" if os.path.islink(path) else "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"


def _cafile_problem(path: str) -> tuple[str | None, int | None]:
    """Why ``path`` does not load as a PEM bundle (or None), and how many CA certificates it holds.
    Loads it the way httpx2 does (one :func:`ssl.create_default_context`); a device, pipe or socket is
    never opened (reading a pipe would block)."""
    info = _stat(path, "file")
    if isinstance(info, str):
        return info, None
    if stat.S_ISDIR(info.st_mode):
        return "is a directory (SSL_CERT_DIR takes directories)", None
    if not stat.S_ISREG(info.st_mode):
        return f"is {_kind(info.st_mode)}, not a file", None
    if info.st_size == 0:
        return "is empty", None
    return _loaded(path, info.st_ino, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=16)
def _loaded(path: str, inode: int, size: int, mtime_ns: int) -> tuple[str | None, int | None]:
    """:func:`_cafile_problem` for a regular file, once per process per path and file identity (as
    :func:`tls_context` keeps its context): loading the system bundle takes about 30 ms, and every
    start's :func:`ca_bundle` check and every ``check`` run's :func:`system_trust` loaded it again."""
    try:
        context = ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        return _not_pem(path), None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})", None
    return None, context.cert_store_stats().get("x509_ca", 0)


def _not_pem(path: str) -> str:
    """What is in ``path``, which OpenSSL could not load as PEM certificates."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_READ_LIMIT)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if _PEM_CERTIFICATE.search(data):
        return "holds a truncated or damaged PEM certificate"
    try:
        data.decode("utf-8")
        binary = data[:1] == b"\x30" or b"\x00" in data
    except UnicodeDecodeError:
        binary = True
    if binary:
        return "is binary, not PEM text (a DER certificate converts with openssl x509 -inform der)"
    return "holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)"


def _capath_problem(path: str) -> tuple[str, str] | None:
    """Why OpenSSL finds no certificate in the directory ``path``, and the fix; None when it holds some."""
    fix = "fix the path or unset it"
    info = _stat(path, "directory")
    if isinstance(info, str):
        return info, fix
    if not stat.S_ISDIR(info.st_mode):
        if stat.S_ISREG(info.st_mode):
            return "is a file, not a directory (SSL_CERT_FILE takes a PEM file)", fix
        return f"is {_kind(info.st_mode)}, not a directory", fix
    empty = True
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if _HASHED_NAME.fullmatch(entry.name):
                    return None
                empty = False
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})", fix
    if empty:
        return "is empty", fix
    return (
        "holds no certificate under the hashed names OpenSSL looks up (such as 5ad8a5d6.0)",
        "run openssl rehash on it, or point SSL_CERT_FILE at a PEM bundle instead",
    )


def ca_bundle(environ: Mapping[str, str] | None = None, *, shown: Callable[[str], str] = _as_is) -> CaBundle | None:
    """The ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override httpx2 uses, or None when it uses the
    system's trust (:func:`system_trust`).

    A file is loaded the way httpx2 does it (so a file that is not PEM is reported, and its CA
    certificates counted); a directory is checked for certificates under OpenSSL's hashed names.
    """
    environ = os.environ if environ is None else environ
    cafile = environ.get("SSL_CERT_FILE", "")
    if cafile:
        what, count = _cafile_problem(cafile)
        if what is not None:
            return CaBundle(
                "SSL_CERT_FILE",
                cafile,
                f"SSL_CERT_FILE={shown(cafile)} {what}: the bridge cannot make any request; "
                "point it at a PEM bundle or unset it",
            )
        return CaBundle("SSL_CERT_FILE", cafile, None, count)
    capath = environ.get("SSL_CERT_DIR", "")
    if capath:
        found = _capath_problem(capath)
        if found is not None:
            what, fix = found
            return CaBundle(
                "SSL_CERT_DIR",
                capath,
                f"SSL_CERT_DIR={shown(capath)} {what}: no CA certificate is trusted, so every https request fails; "
                f"{fix}",
            )
        return CaBundle("SSL_CERT_DIR", capath, None)
    return None


SYSTEM_BUNDLES = (
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
)
"""Where httpcore2 looks for a CA bundle on Linux when OpenSSL's compiled-in paths hold none, in its
order (``httpcore2._ssl.CA_FILE_CANDIDATES``, after truststore's Linux fallbacks)."""

_TRUST_STORES = {"Darwin": "the macOS Keychain", "Windows": "the Windows certificate store"}


@dataclass(frozen=True, slots=True)
class SystemTrust:
    """The CA certificates httpx2 trusts when neither ``SSL_CERT_FILE`` nor ``SSL_CERT_DIR`` is set."""

    description: str
    """``the system trust store (the macOS Keychain, through truststore)``, ``OpenSSL's CA file
    /usr/lib/ssl/cert.pem`` …: one phrase for a check line."""
    certificates: int | None = None
    """How many CA certificates a bundle file holds (None for a store or a directory: read lazily)."""
    problem: str | None = None
    """Why no CA certificate is trusted (then every https request fails), or None."""


def _has_hashed_names(path: str) -> bool:
    try:
        return any(_HASHED_NAME.fullmatch(name.lower()) for name in os.listdir(path))
    except OSError:
        return False


def system_trust(system: str | None = None) -> SystemTrust:
    """Which system trust httpx2 uses without ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, found the way
    ``httpcore2.default_ssl_context`` finds it (``system`` is :func:`platform.system`'s name, for tests):
    truststore on macOS and Windows; else OpenSSL's compiled-in CA file (counted) or directory (when it
    holds hashed names), else the first of :data:`SYSTEM_BUNDLES` that exists."""
    system = platform.system() if system is None else system
    if system in _TRUST_STORES:
        return SystemTrust(f"the system trust store ({_TRUST_STORES[system]}, through truststore)")
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if os.path.isfile(paths.openssl_cafile) else None
    capath = paths.openssl_capath if os.path.isdir(paths.openssl_capath) else None
    if capath and not cafile and not _has_hashed_names(capath):
        capath = None
    source = "OpenSSL's CA file"
    if not cafile and not capath:
        cafile = next(filter(os.path.isfile, SYSTEM_BUNDLES), None)
        source = "the system CA bundle"
    if cafile:
        what, count = _cafile_problem(cafile)
        if what is not None:
            return SystemTrust(f"{source} {cafile}", None, f"{source} {cafile} {what}")
        return SystemTrust(f"{source} {cafile}", count)
    if capath:
        return SystemTrust(f"OpenSSL's CA directory {capath}")
    searched = ", ".join(p for p in (paths.openssl_cafile, paths.openssl_capath) if p)
    return SystemTrust(
        "no system CA certificates",
        None,
        f"no system CA certificates found (not in {searched}, nor in {SYSTEM_BUNDLES[0]} and the other usual "
        "places): every https request fails; install the ca-certificates package, or set SSL_CERT_FILE to a "
        "PEM bundle",
    )


def _file_identity(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


@lru_cache(maxsize=8)
def _tls_context_for(trust: tuple[object, ...]) -> ssl.SSLContext:
    return httpx2.create_ssl_context()  # reads the same SSL_CERT_FILE / SSL_CERT_DIR as ``trust`` names


def tls_context() -> ssl.SSLContext:
    """The SSL context of the REST client's connections: httpx2's default for this environment
    (``httpx2.create_ssl_context()``: the CA certificates of ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``,
    else the system's, as this module's docstring says), built once per process per trust setting and
    shared by every client built after it.

    httpx2 builds one for every client, loading every CA certificate: about 33 ms of CPU (measured here,
    a 140-certificate system bundle) per client, which a team-mode server pays for each user's client
    (``rest.tokens.ApiPerToken``). One context serves any number of connections (``ssl.SSLContext`` is
    meant to be shared). A changed ``SSL_CERT_FILE`` (another path, or the file rewritten) gets a new one.

    Raises what httpx2 raises for a ``SSL_CERT_FILE`` that cannot load (``OSError``, ``ssl.SSLError``);
    nothing is kept then."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    return _tls_context_for((cafile, _file_identity(cafile) if cafile else None, capath))


def ignored_ca_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` when set while ``SSL_CERT_FILE`` is not: a CA
    bundle the user meant for this bridge, which httpx2 does not read."""
    environ = os.environ if environ is None else environ
    if environ.get("SSL_CERT_FILE"):
        return []
    return [name for name in CA_VARIABLES_IGNORED if environ.get(name)]


def startup_problem(url: str) -> str | None:
    """A setting that would make every request of the server fail, as one line; None when there is
    none: a proxy variable httpx2 cannot use, an ``SSL_CERT_FILE`` that does not load as PEM, an
    ``SSL_CERT_DIR`` without certificates. Loads the CA bundle once (milliseconds; httpx2 loads it
    again when the client is built)."""
    route = proxy_route(url)
    if route.problem:
        return route.problem
    bundle = ca_bundle()
    return bundle.problem if bundle is not None else None
