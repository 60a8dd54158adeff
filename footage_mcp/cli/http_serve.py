"""The socket and the Host rules of ``footage-mcp serve --transport http`` (the app: :mod:`.serve_http`).

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
from typing import TYPE_CHECKING

from footage_mcp.core.settings import is_loopback_host

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings


def names_for(host: str) -> list[str]:
    """The host names a client may use for ``host``: the loopback spellings, or ``host`` itself."""
    return ["127.0.0.1", "localhost", "[::1]"] if is_loopback_host(host) else [host]


def transport_security(host: str, port: int, extra_hosts: str | None = None) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding settings for a server bound to ``host``:``port`` (the port bound, not 0),
    plus ``FOOTAGE_ALLOWED_HOSTS`` (see :func:`footage_mcp.surface.team.allowed_names`)."""
    from mcp.server.transport_security import TransportSecuritySettings

    from footage_mcp.surface.team import allowed_names

    hosts, origins = allowed_names(host, port, extra_hosts)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


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


def why_not(exc: OSError) -> str:
    """Why a socket could not be bound, and what to do (one phrase)."""
    if isinstance(exc, socket.gaierror):
        return "no such address on this computer"
    if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
        return "the port is already in use (another footage-mcp, or another server); choose another with --port"
    if exc.errno in (13, 10013):  # EACCES
        return "permission denied (ports below 1024 need privileges); choose a port above 1024 with --port"
    if exc.errno in (99, 49, 10049):  # EADDRNOTAVAIL
        return "that address is not one of this computer's; use 127.0.0.1"
    return exc.strerror or type(exc).__name__
