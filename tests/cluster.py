"""Real processes for team-mode tests and the load benchmark: bridge replicas (`footage-mcp serve
--transport http`) and HAProxy in front of them, all on ephemeral loopback ports.

HAProxy balances round-robin without affinity (no cookie, no stick table, ``option
prefer-last-server`` off), checks ``GET /healthz``, and tags each response with the name of the
replica that served it (``X-Replica``), so a test can see where each call landed.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from footage_mcp.cli.launch import child_env

REPLICA_HEADER = "x-replica"
STATE_SECRET = "team-test-state-secret-0123456789abcdef"
"""FOOTAGE_STATE_SECRET every replica of a test cluster shares."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, attempts: int = 300) -> None:
    """Poll ``url`` until it answers 200 (a readiness poll, not a timing assertion)."""
    for _ in range(attempts):
        try:
            if httpx2.get(url, timeout=1.0).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{url}: the process exited ({proc.returncode}): {err[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


@dataclass
class Replica:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def start_replica(
    name: str,
    base_url: str,
    workdir: Path,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
    warm: bool = False,
) -> Replica:
    """One ``footage-mcp serve --transport http`` process in team mode (``--auth client``) with the
    shared FOOTAGE_STATE_SECRET; its stderr goes to ``workdir/<name>.log``. ``warm``: forked from the
    test worker's zygote (tests/forkrun.py) instead of a cold interpreter; tests about the process
    itself (its signals, uvicorn's worker processes) keep the cold start."""
    port = port or free_port()
    settings = {
        "FOOTAGE_BASE_URL": base_url,
        "FOOTAGE_STATE_SECRET": STATE_SECRET,
        "FOOTAGE_LOG_LEVEL": "INFO",
        "PYTHONUTF8": "1",
        **(env or {}),
    }
    log = workdir / f"{name}.log"
    argv = ["serve", "--transport", "http", "--port", str(port)]
    if warm:
        from forkrun import warm_command  # tests/ only: the benchmark (bench/team.py) imports this module too

        command = warm_command(argv)
    else:
        command = [sys.executable, "-m", "footage_mcp", *argv]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*command, *(args or ("--auth", "client"))], stdout=subprocess.DEVNULL, stderr=sink, env=child_env(settings)
        )
    replica = Replica(name, port, proc, log)
    try:
        wait_healthy(f"{replica.url}/healthz", proc)
    except RuntimeError as exc:
        replica.stop()
        raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')[-2000:]}") from None
    return replica


def haproxy_config(frontend_port: int, replicas: Sequence[tuple[str, int]]) -> str:
    """An HAProxy configuration: round-robin over ``replicas`` (name, port) without affinity, health
    checks on /healthz, a response header naming the replica, and a retry on another replica when a
    connection to one fails (a killed replica loses only the calls in flight on it)."""
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{port} check inter 300ms fall 3 rise 1" for name, port in replicas
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    # a replica busy at full load answers /healthz late, not never: allow for it
    timeout check 3s
    retries 3
    option redispatch
    retry-on conn-failure

frontend mcp
    bind 127.0.0.1:{frontend_port}
    default_backend bridges

backend bridges
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    http-response set-header X-Replica %s
{servers}
"""


def haproxy_binary() -> str | None:
    return shutil.which("haproxy")


@dataclass
class Cluster:
    url: str
    replicas: list[Replica]
    haproxy: subprocess.Popen[bytes]
    workdir: Path

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"


@contextmanager
def cluster(
    base_url: str, count: int, *, env: Mapping[str, str] | None = None, args: Sequence[str] = (), warm: bool = False
) -> Iterator[Cluster]:
    """``count`` replicas behind HAProxy; yields the :class:`Cluster` (HAProxy's URL). ``warm``: the
    replicas fork from the test worker's zygote (see :func:`start_replica`); the benchmark starts them cold."""
    binary = haproxy_binary()
    if binary is None:
        raise RuntimeError("haproxy is not installed")
    with tempfile.TemporaryDirectory(prefix="footage-team-") as tmp:
        workdir = Path(tmp)
        replicas: list[Replica] = []
        proxy: subprocess.Popen[bytes] | None = None
        port = free_port()
        proxied = {"FOOTAGE_ALLOWED_HOSTS": f"127.0.0.1:{port},localhost:{port}", **(env or {})}
        try:
            for index in range(count):
                replicas.append(start_replica(f"r{index + 1}", base_url, workdir, env=proxied, args=args, warm=warm))
            config = workdir / "haproxy.cfg"
            config.write_text(haproxy_config(port, [(r.name, r.port) for r in replicas]))
            proxy = subprocess.Popen(
                [binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            wait_healthy(f"http://127.0.0.1:{port}/healthz", proxy)
            yield Cluster(f"http://127.0.0.1:{port}", replicas, proxy, workdir)
        finally:
            if proxy is not None:
                proxy.terminate()
                proxy.wait(timeout=10)
                if proxy.stderr:
                    proxy.stderr.close()
            for replica in replicas:
                replica.stop(timeout=15)


@asynccontextmanager
async def user_client(
    url: str, token: str | None, *, mode: str = "legacy", seen: list[str] | None = None, header: str = "bearer"
) -> AsyncIterator[Client]:
    """An SDK client for ``url`` sending ``token`` (as ``Authorization: Bearer`` or ``apiKey``);
    ``seen`` collects the ``X-Replica`` header of every HTTP response."""

    async def record(response: httpx2.Response) -> None:
        if seen is not None and REPLICA_HEADER in response.headers:
            seen.append(response.headers[REPLICA_HEADER])

    headers = {}
    if token is not None:
        headers = {"Authorization": f"Bearer {token}"} if header == "bearer" else {"apiKey": token}
    timeout = httpx2.Timeout(60.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks={"response": [record]}) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client
