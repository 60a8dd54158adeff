"""Start the sandbox and the bridge as subprocesses, the way a user or an MCP host does.

The one launcher: ``footage-mcp demo``, the tests and the benchmark (bench/harness.py) start the
sandbox here. It is started with ``--port 0`` and announces its address with one ``READY <base-url>``
line on stdout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from mcp import StdioServerParameters

SANDBOX_TOKEN = "sandbox-token"
"""The sandbox's own default token (footage_mcp/sandbox/constants.py, public and documented); a launched
sandbox uses ``$FOOTAGE_SANDBOX_TOKEN`` instead when it is set, as ``footage-mcp sandbox`` does."""
READY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class RunningSandbox:
    base_url: str
    token: str
    process: subprocess.Popen[str]
    started_s: float = 0.0
    """Seconds from starting the process to its READY line."""


def sandbox_args(
    *,
    shape: str = "hal",
    token: str | None = None,
    alt_routes: bool = False,
    seed: int | None = None,
    extra_album_assets: int = 0,
    faults: str | os.PathLike[str] | None = None,
    data_file: str | os.PathLike[str] | None = None,
    more_tokens: Sequence[str] = (),
    port: int = 0,
    command: Sequence[str] | None = None,
) -> list[str]:
    """The ``footage-mcp sandbox`` command line for these options; the options are the sandbox's own
    (footage_mcp/sandbox/__main__.py). ``more_tokens``: further users, each with their own library
    (team mode). ``token``: the accepted token (default: :func:`sandbox_token`). ``command``: what runs
    ``footage-mcp`` (default: this interpreter, ``-m footage_mcp``; the tests pass a launcher that forks
    it from a warm process)."""
    prefix = [sys.executable, "-m", "footage_mcp"] if command is None else list(command)
    args = [*prefix, "sandbox", "--port", str(port), "--shape", shape]
    for one in [token or sandbox_token(), *more_tokens]:
        args += ["--token", one]
    if alt_routes:
        args.append("--alt-routes")
    if seed is not None:
        args += ["--seed", str(seed)]
    if extra_album_assets:
        args += ["--extra-album-assets", str(extra_album_assets)]
    if faults is not None:
        args += ["--faults", os.fspath(faults)]
    if data_file is not None:
        args += ["--data", os.fspath(data_file)]
    return args


@contextmanager
def sandbox_process(
    *,
    shape: str = "hal",
    token: str | None = None,
    alt_routes: bool = False,
    seed: int | None = None,
    extra_album_assets: int = 0,
    faults: str | os.PathLike[str] | None = None,
    data_file: str | os.PathLike[str] | None = None,
    more_tokens: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> Iterator[RunningSandbox]:
    """Run ``footage-mcp sandbox --port 0`` (options as :func:`sandbox_args`) until the block ends;
    yields its base URL. The one launcher of the sandbox: the demo, the tests and the benchmark use it.
    ``env``: the process's environment (default: this one's).

    Raises:
        RuntimeError: the sandbox did not print its READY line in time (its stderr is included).
    """
    token = token or sandbox_token()
    args = sandbox_args(
        shape=shape,
        token=token,
        alt_routes=alt_routes,
        seed=seed,
        extra_album_assets=extra_album_assets,
        faults=faults,
        data_file=data_file,
        more_tokens=more_tokens,
        command=command,
    )
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1", "PYTHONUTF8": "1"}
    start = time.perf_counter()
    pipe = subprocess.PIPE
    proc = subprocess.Popen(
        args, stdout=pipe, stderr=pipe, stdin=subprocess.DEVNULL, text=True, encoding="utf-8", env=env
    )
    try:
        base_url = _await_ready(proc)
        yield RunningSandbox(base_url=base_url, token=token, process=proc, started_s=time.perf_counter() - start)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def sandbox_token() -> str:
    """The token a launched sandbox accepts unless told otherwise: the first of ``$FOOTAGE_SANDBOX_TOKEN``
    (read now, not at import), else :data:`SANDBOX_TOKEN` — the rule ``footage-mcp sandbox`` itself follows
    (footage_mcp/sandbox/constants.py ``default_tokens``)."""
    from footage_mcp.sandbox.constants import default_tokens  # the sandbox package, only when one is started

    return default_tokens()[0]


def _await_ready(proc: subprocess.Popen[str]) -> str:
    found: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY "):
                found.append(line.split(None, 1)[1].strip())
                done.set()
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(READY_TIMEOUT_SECONDS)
    if not found:
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"the sandbox did not start: {err.strip()[-2000:]}")
    # keep draining stderr so the sandbox never blocks on a full pipe
    threading.Thread(target=lambda: proc.stderr and proc.stderr.read(), daemon=True).start()
    return found[0]


def child_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any FOOTAGE_* setting, plus ``overrides``: what a child
    bridge, sandbox or CLI run should see (nothing leaks in from the caller's own configuration)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTAGE_")}
    env.update(overrides or {})
    return env


def bridge_parameters(base_url: str, token: str | None, env: Mapping[str, str] | None = None) -> StdioServerParameters:
    """How an MCP host would start the bridge: ``python -m footage_mcp`` on stdio."""
    settings = {"FOOTAGE_BASE_URL": base_url, "PYTHONUTF8": "1"}
    if token is not None:
        settings["FOOTAGE_API_TOKEN"] = token
    return StdioServerParameters(
        command=sys.executable, args=["-m", "footage_mcp", "serve"], env=child_env({**settings, **(env or {})})
    )
