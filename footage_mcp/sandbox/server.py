"""Run the sandbox over real HTTP with uvicorn (blocking), announcing its URL on stdout."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from .app import create_app
from .constants import BASE_PATH, DEFAULT_TOKEN, TOKEN_ENV
from .library import DEFAULT_SEED

__all__ = ["bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0 picks a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url_host(sock: socket.socket, host: str) -> str:
    """The host to put in URLs: a wildcard bind is reached via loopback; IPv6 in brackets."""
    bound = str(sock.getsockname()[0])
    try:
        ip = ipaddress.ip_address(bound)
    except ValueError:
        return host
    if ip.is_unspecified:
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _is_loopback(sock: socket.socket) -> bool:
    """Whether ``sock`` is bound to a loopback address only."""
    try:
        return ipaddress.ip_address(str(sock.getsockname()[0])).is_loopback
    except ValueError:
        return False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM/SIGINT into KeyboardInterrupt so serve() can return cleanly."""
    raise KeyboardInterrupt


@contextmanager
def _clean_exit_on_signals() -> Iterator[None]:
    """While serving, SIGINT and SIGTERM end serve() normally instead of killing the process.

    uvicorn shuts down gracefully on either signal and then re-raises it; the handler installed
    here turns that re-raise (or an early signal) into KeyboardInterrupt, which is swallowed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    shape: str = "hal",
    token: str | None = None,
    alt_routes: bool = False,
    seed: int = DEFAULT_SEED,
    extra_album_assets: int = 0,
) -> None:
    """Serve the sandbox until SIGINT/SIGTERM.

    After binding, prints ``READY http://<host>:<port>/api/asset`` as the only stdout line (flushed),
    and a human summary with the token and ``export`` hint on stderr. ``token`` defaults to
    ``$FOOTAGE_SANDBOX_TOKEN``, then ``sandbox-token``. Raises OSError if the port is taken and
    ValueError on an unknown shape.
    """
    token = token or os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN
    app = create_app(shape=shape, token=token, alt_routes=alt_routes, seed=seed, extra_album_assets=extra_album_assets)
    sock = bind(host, port)
    try:
        base_url = f"http://{_url_host(sock, host)}:{sock.getsockname()[1]}{BASE_PATH}"
        print(f"READY {base_url}", flush=True)
        print(f"Footage sandbox: {base_url}  shape={shape}  token={token}", file=sys.stderr)
        print(f"  export FOOTAGE_BASE_URL={base_url} FOOTAGE_API_TOKEN={token}", file=sys.stderr)
        if not _is_loopback(sock):
            print("  warning: listening beyond loopback; anyone who can reach it can read it", file=sys.stderr)
        sys.stderr.flush()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        with _clean_exit_on_signals():
            server.run(sockets=[sock])
    finally:
        sock.close()
