"""``footage-mcp serve --transport http``: Streamable HTTP at ``/mcp`` on a socket bound here.

The socket is bound before anything is served, so that:

* ``--port 0`` announces the port actually bound (``http://127.0.0.1:53211/mcp``), and the DNS-rebinding
  protection admits that port;
* a port that is taken (or not allowed) is one line on stderr and exit status 2, as for any other
  configuration problem;
* on port 80 (and only there) a ``Host`` or ``Origin`` without a port is the bound one: clients leave
  the default port out (``Host: 127.0.0.1``), and would otherwise get 421.

DNS-rebinding protection: ``Host`` must name the bound address (on loopback any of ``127.0.0.1``,
``localhost``, ``[::1]``) with its port, and an ``Origin``, when sent, the same. A non-loopback address
needs ``--allow-remote``.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Any

from footage_mcp.core.settings import is_loopback_host

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

DEFAULT_HTTP_PORT = 80
"""The port an ``http://`` URL, and so a ``Host`` header, leaves out."""


def names_for(host: str) -> list[str]:
    """The host names a client may use for ``host``: the loopback spellings, or ``host`` itself."""
    return ["127.0.0.1", "localhost", "[::1]"] if is_loopback_host(host) else [host]


def transport_security(host: str, port: int) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding settings for a server bound to ``host``:``port`` (the port bound, not 0)."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = names_for(host)
    hosts = [f"{name}:{port}" for name in names]
    origins = [f"http://{name}:{port}" for name in names]
    if port == DEFAULT_HTTP_PORT:
        hosts += names
        origins += [f"http://{name}" for name in names]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port). Raises OSError."""
    family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _why(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "no such address on this computer"
    if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
        return "the port is already in use (another footage-mcp, or another server); choose another with --port"
    if exc.errno in (13, 10013):  # EACCES
        return "permission denied (ports below 1024 need privileges); choose a port above 1024 with --port"
    if exc.errno in (99, 49, 10049):  # EADDRNOTAVAIL
        return "that address is not one of this computer's; use 127.0.0.1"
    return exc.strerror or type(exc).__name__


def serve_http(server: Any, host: str, port: int, allow_remote: bool, log_level: str = "warning") -> int:
    """Serve ``server`` (an ``MCPServer``) over Streamable HTTP until interrupted; the exit status
    (2 with one stderr line when the address cannot be used)."""
    if not is_loopback_host(host) and not allow_remote:
        print(f"footage-mcp: refusing to serve HTTP on non-loopback {host} without --allow-remote", file=sys.stderr)
        return 2
    try:
        sock = bind(host, port)
    except OSError as exc:
        print(f"footage-mcp: cannot listen on {host}:{port}: {_why(exc)}", file=sys.stderr)
        return 2
    import uvicorn

    try:
        bound = int(sock.getsockname()[1])
        app = server.streamable_http_app(transport_security=transport_security(host, bound), host=host.strip("[]"))
        print(f"footage-mcp: Streamable HTTP on http://{names_for(host)[0]}:{bound}/mcp", file=sys.stderr, flush=True)
        config = uvicorn.Config(app, log_level=log_level.lower(), access_log=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
