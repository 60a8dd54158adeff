"""Run the sandbox over real HTTP with uvicorn (blocking), announcing its URL on stdout; plus the echo listener."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final

import uvicorn
from starlette.types import ASGIApp

from .app import create_app
from .constants import BASE_PATH, default_tokens, split_tokens
from .control import create_echo_app
from .faults import InjectedAbort, SandboxState, load_rules_file
from .files import create_cdn_app
from .library import DEFAULT_SEED
from .tenants import create_multi_app

__all__ = ["bind", "serve"]

_ECHO_HOST: Final = "127.0.0.1"
_GRACE_SECONDS: Final = 2


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


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`serve` (two servers share one loop)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """No-op: :func:`_stop_on_signals` tells every server to exit."""
        yield


@contextmanager
def _stop_on_signals(servers: Sequence[uvicorn.Server]) -> Iterator[None]:
    """While serving, SIGINT and SIGTERM make every server shut down gracefully (a second SIGINT forces it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        for server in servers:
            if server.should_exit and signum == signal.SIGINT:
                server.force_exit = True
            server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _QuietAbort(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" traceback for injected connection aborts and for
    requests cancelled at shutdown (a long injected latency)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedAbort | asyncio.CancelledError))


async def _serve_both(main: uvicorn.Server, sock: socket.socket, *others: tuple[uvicorn.Server, socket.socket]) -> None:
    """Run the main server and the others (echo, CDN) in this event loop until the main one exits."""
    tasks = [asyncio.create_task(server.serve(sockets=[other_sock])) for server, other_sock in others]
    try:
        await main.serve(sockets=[sock])
    finally:
        for server, _ in others:
            server.should_exit = True
        for task in tasks:
            await task


def _config(app: ASGIApp) -> uvicorn.Config:
    from .zerocopy import ZeroCopyH11Protocol

    return uvicorn.Config(
        app,
        http=ZeroCopyH11Protocol,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=_GRACE_SECONDS,
    )


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    shape: str = "hal",
    token: str | Sequence[str] | None = None,
    alt_routes: bool = False,
    seed: int = DEFAULT_SEED,
    extra_album_assets: int = 0,
    faults_file: str | os.PathLike[str] | None = None,
    data_file: str | None = None,
) -> None:
    """Serve the sandbox until SIGINT/SIGTERM.

    Binds the API on ``host``:``port`` and an echo listener (see :func:`~.control.create_echo_app`) on
    an ephemeral 127.0.0.1 port, then prints ``READY http://<host>:<port>/api/asset`` as the only
    stdout line (flushed), and a human summary with the token and ``export`` hint on stderr. Both
    run in one event loop. ``token`` defaults to ``$FOOTAGE_SANDBOX_TOKEN``, then ``sandbox-token``;
    several tokens (a list, or comma-separated) each get their own library (see :mod:`.tenants`);
    ``faults_file``: initial fault rules (JSON, as for ``PUT /_sandbox/faults``);
    ``data_file``: keep the library's state (writes) in this SQLite file across restarts. Raises OSError if
    the port is taken, RuleError (a ValueError) on a bad faults file and ValueError on an unknown shape.
    """
    tokens = split_tokens(token) or default_tokens()
    token = ",".join(tokens)
    rules = load_rules_file(faults_file) if faults_file is not None else None
    options: dict[str, Any] = {"shape": shape, "alt_routes": alt_routes, "extra_album_assets": extra_album_assets}
    app: ASGIApp
    state: SandboxState
    if len(tokens) == 1:
        single = create_app(token=tokens[0], seed=seed, data_file=data_file, **options)
        app, state, files = single, single.state.sandbox, single.state.files
    else:
        if data_file is not None:
            raise ValueError("--data keeps one library: it cannot be combined with several tokens")
        router = create_multi_app(tokens, seed=seed, **options)
        app, state = router, router.state
        files = router.first.state.files  # type: ignore[attr-defined]  # the CDN serves the first library's files
    state.rules = rules or []
    sock = bind(host, port)
    try:
        echo_sock = bind(_ECHO_HOST, 0)
        cdn_sock = bind(_ECHO_HOST, 0)  # the "CDN": a second origin for originals (see .files)
    except OSError:
        sock.close()
        raise
    try:
        base_url = f"http://{_url_host(sock, host)}:{sock.getsockname()[1]}{BASE_PATH}"
        state.base_url = base_url
        state.echo_origin = f"http://{_ECHO_HOST}:{echo_sock.getsockname()[1]}"
        files.cdn_origin = f"http://{_ECHO_HOST}:{cdn_sock.getsockname()[1]}"
        print(f"READY {base_url}", flush=True)
        print(f"Footage sandbox: {base_url}  shape={shape}  token={token}", file=sys.stderr)
        for one in tokens:  # one line per user: a comma-joined token is nobody's
            print(f"  export FOOTAGE_BASE_URL={base_url} FOOTAGE_API_TOKEN={one}", file=sys.stderr)
        print(f"  control: {base_url.removesuffix(BASE_PATH)}/_sandbox/  echo: {state.echo_origin}", file=sys.stderr)
        print(f"  cdn: {files.cdn_origin}", file=sys.stderr)
        if not _is_loopback(sock):
            print("  warning: listening beyond loopback; anyone who can reach it can read it", file=sys.stderr)
        sys.stderr.flush()
        main, echo = _Server(_config(app)), _Server(_config(create_echo_app(state)))
        cdn = _Server(_config(create_cdn_app(files)))
        quiet = _QuietAbort()
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(quiet)
        try:
            with _stop_on_signals([main, echo, cdn]):
                asyncio.run(_serve_both(main, sock, (echo, echo_sock), (cdn, cdn_sock)))
        finally:
            uvicorn_log.removeFilter(quiet)
    finally:
        sock.close()
        echo_sock.close()
        cdn_sock.close()
