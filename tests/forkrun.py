"""Run ``footage-mcp <command>`` as a separate process forked from a warm one, not a cold interpreter.

``python -m footage_mcp`` spends most of its start importing (the SDK, pydantic, httpx2: about a second
of CPU, more on a loaded CI machine), and the tests start it well over a hundred times. Here one *zygote*
per test worker imports those modules once and then does nothing but fork: each run is a child forked
from the same idle zygote (which never runs a command itself), so it costs a fork, not an interpreter.

Each run is still its own OS process: its environment (``os.environ`` replaced entirely, so what C code
reads with ``getenv`` sees it too), its working directory, its own standard streams (the very file
descriptors the caller passes: files, ``/dev/null``, or the pipes of an MCP client), its own exit status.

* :func:`run`: ``footage-mcp <argv>`` with stdout and stderr captured (``subprocess.run``-like).
* :func:`warm_command`: a command line for MCP clients that spawn the server themselves (the SDK's
  stdio client, the Inspector): a small launcher (``python -S``, stdlib only, ~20 ms) hands its own
  stdin, stdout and stderr to a forked child, forwards SIGTERM/SIGINT to it, and exits with its status.

What it is not: a fresh interpreter. Start-up settings (``PYTHON*`` variables, the locale of the standard
streams, ``-X`` options) are the zygote's. Tests about the process itself (cold start, stdout purity,
locale, garbage on stdin, signals) therefore start ``python -m footage_mcp`` for real (tests/test_cli.py,
tests/test_stdio.py, tests/test_secrets.py), and ``FOOTAGE_TEST_COLD_PROCESSES=1`` makes :func:`run` and
:func:`warm_command` start cold ones too (to show that both agree).

Protocol on the zygote's Unix socket, per connection: the caller sends a 4-byte big-endian length and a
JSON request ``{"argv", "env", "cwd"}`` with three file descriptors (SCM_RIGHTS: the child's 0, 1, 2); the
zygote answers the JSON lines ``{"pid": n}``, then ``{"status": n}`` (negative: killed by that signal).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the launcher imports this module without site-packages: stdlib only at run time
    from mcp import StdioServerParameters

    from footage_mcp.cli.launch import RunningSandbox

PRELOAD = (
    "footage_mcp.cli.main",
    "footage_mcp.cli.check",
    "footage_mcp.cli.hostconfig",
    "footage_mcp.cli.logs",
    "footage_mcp.core.settings",
    "footage_mcp.rest.http",
    "footage_mcp.rest.netenv",
    "footage_mcp.surface.server",
    "footage_mcp.cli.serve_http",
    "footage_mcp.sandbox.__main__",
    "httpx2",
    "httpcore2",
    "footage_mcp.rest.cache",
    "anyio",
    "anyio._backends._asyncio",
    "ctypes",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto",
    "tenacity",
    "PIL.Image",
)
"""What the zygote imports once: what a ``check``, ``serve`` (stdio or HTTP), ``config`` or ``sandbox``
run imports, including what they import on their first request (httpx2's httpcore2, the REST client's
HTTP cache, anyio's asyncio backend, uvicorn's protocols: 10 CPU-s of the forked children's imports in
one suite run, measured with py-spy), and Pillow (previews and contact sheets)."""
COLD = os.environ.get("FOOTAGE_TEST_COLD_PROCESSES") == "1"
PID_FILE = "FORKRUN_PID_FILE"
"""An environment variable for :func:`warm_command`'s launcher: the file it writes the forked child's pid
to (tests that read the child's own /proc status, such as its memory)."""
LAUNCHER = Path(__file__).with_name("forklaunch.py")


# ---------------------------------------------------------------- the zygote (its own process)


def _exit_status(exc: SystemExit) -> int:
    """The status an interpreter exits with for ``exc`` (a non-int code is printed, then 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _become(request: dict[str, Any], fds: list[int], keep_closed: list[int]) -> None:
    """In the forked child: ``footage-mcp <argv>`` on ``fds`` with exactly ``env``; exits with its status."""
    for fd in keep_closed:
        os.close(fd)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    # what the zygote derived from its own environment and a cold interpreter would derive from this one:
    # the temporary folder (tempfile caches $TMPDIR's answer; a child given another TMPDIR must use it)
    tempfile.tempdir = None
    os.chdir(request["cwd"])
    import footage_mcp

    sys.argv = [str(Path(footage_mcp.__file__).with_name("__main__.py")), *request["argv"]]  # as under -m
    status = 1
    try:
        from footage_mcp.cli.main import main

        status = main(request["argv"])
    except SystemExit as exc:
        status = _exit_status(exc)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _address = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
        more = conn.recv(1 << 16)
        if not more:
            raise EOFError("the request was cut short")
        data += more
    return json.loads(data[4:].decode("utf-8")), list(fds)


def _warm_up() -> None:
    """Derive once what every child would derive again: the tool definitions of a server with every tool
    (writes and uploads on; footage_mcp.surface.tooldefs), the default sandbox library with its search
    index (footage_mcp.sandbox.library.shared_library) and the REST client's SSL context
    (footage_mcp.rest.netenv.tls_context). No thread or event loop is started (the zygote forks)."""
    from footage_mcp.core.settings import Settings
    from footage_mcp.sandbox import create_app
    from footage_mcp.surface.server import build_server

    folder = tempfile.mkdtemp(prefix="footage-zygote-")
    try:
        build_server(
            Settings(base_url="http://127.0.0.1:1/api/asset", api_token="warm", allow_writes=True, upload_dirs=folder)
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    create_app(token="warm")
    from footage_mcp.rest.netenv import tls_context

    tls_context()  # the bridge's SSL context for the zygote's trust settings (a child with others builds its own)
    trust = {name: os.environ.pop(name) for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if name in os.environ}
    try:
        tls_context()  # and for a child given a host's reduced environment, without them (most tests' bridges)
    finally:
        os.environ.update(trust)
    token = os.environ.get("FOOTAGE_SANDBOX_TOKEN")
    if token:  # the suite's token (tests/canary_plugin.py), stretched for cursors once, not in every child
        from footage_mcp.rest.paging import cursor_key

        cursor_key(token, "http://127.0.0.1/api/asset")
    from footage_mcp.rest.netenv import ca_bundle, system_trust

    ca_bundle()  # the start's CA file check and check's system trust line: the file loaded once (netenv._loaded)
    system_trust()


def _zygote(path: str) -> None:
    """Import :data:`PRELOAD`, serve fork requests on the Unix socket ``path`` until stdin closes."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    _warm_up()
    import gc

    gc.collect()
    gc.freeze()  # what the children inherit is never scanned by their collections (no copy-on-write from GC)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    os.write(1, b"READY\n")
    children: dict[int, socket.socket] = {}
    while True:
        while children:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"status": os.waitstatus_to_exitcode(wait_status)}).encode() + b"\n")
                conn.close()
        conns = {conn.fileno(): pid for pid, conn in children.items()}
        ready, _, _ = select.select([listener, 0, *conns], [], [], 0.02 if children else 1.0)
        if 0 in ready and not os.read(0, 1024):  # the test worker went away
            break
        for fd in ready:
            if fd in conns:  # the caller (a launcher, even one killed with SIGKILL) went away: so does its child
                with contextlib.suppress(ProcessLookupError):
                    os.kill(conns[fd], 9)
        if listener in ready:
            conn, _ = listener.accept()
            try:
                request, fds = _receive(conn)
            except (OSError, EOFError, ValueError):
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                _become(request, fds, [listener.fileno(), conn.fileno(), *(c.fileno() for c in children.values())])
            for fd in fds:
                os.close(fd)
            children[pid] = conn
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    listener.close()
    os.unlink(path)


# ---------------------------------------------------------------- the test side


@dataclass
class Forked:
    """A child the zygote forked: its pid, and the connection its exit status arrives on."""

    pid: int
    conn: socket.socket
    replies: IO[str]

    def status(self) -> int:
        """The child's exit status (negative: killed by that signal), once it exited."""
        with self.conn, self.replies:
            for line in self.replies:
                message = json.loads(line)
                if "status" in message:
                    return int(message["status"])
        raise RuntimeError("the test zygote went away before the child exited")


def request_fork(path: str, argv: Sequence[str], env: Mapping[str, str], cwd: str, fds: Sequence[int]) -> Forked:
    """Ask the zygote at ``path`` to fork ``footage-mcp <argv>`` with ``fds`` as its stdin, stdout, stderr."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    payload = json.dumps({"argv": list(argv), "env": dict(env), "cwd": cwd}).encode("utf-8")
    socket.send_fds(conn, [struct.pack(">I", len(payload)) + payload], list(fds))
    replies = conn.makefile("r", encoding="utf-8")
    line = replies.readline()
    if not line:
        raise RuntimeError("the test zygote refused the request; see its stderr")
    return Forked(int(json.loads(line)["pid"]), conn, replies)


class _Zygote:
    """This test process's zygote, started on first use and ended at exit."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="forkrun-")
        self.path = os.path.join(self.folder, "zygote.sock")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline() != b"READY\n":
            raise RuntimeError(f"the test zygote did not start (status {self.process.wait()})")
        atexit.register(self.close)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_zygotes: list[_Zygote] = []
_lock = threading.Lock()


def zygote_socket() -> str:
    """The Unix socket of this process's zygote (started on first use)."""
    with _lock:
        if not _zygotes or _zygotes[0].process.poll() is not None:
            _zygotes[:] = [_Zygote()]
        return _zygotes[0].path


def run(argv: Sequence[str], env: Mapping[str, str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``footage-mcp <argv>`` in a process of its own with exactly ``env``, stdin ``/dev/null``; stdout
    and stderr as UTF-8 text.

    Raises:
        subprocess.TimeoutExpired: the run took longer than ``timeout`` seconds (it was killed).
    """
    if COLD:
        return subprocess.run(
            [sys.executable, "-m", "footage_mcp", *argv],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=dict(env),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        open(os.devnull, "rb") as null,
    ):
        child = request_fork(zygote_socket(), argv, env, os.getcwd(), [null.fileno(), out.fileno(), err.fileno()])
        statuses: list[int] = []
        waiter = threading.Thread(target=lambda: statuses.append(child.status()), daemon=True)
        waiter.start()
        waiter.join(timeout)
        if waiter.is_alive():
            os.kill(child.pid, 9)
            waiter.join(30)
            raise subprocess.TimeoutExpired(["footage-mcp", *argv], timeout)
        texts = []
        for stream in (out, err):
            stream.seek(0)
            texts.append(stream.read().decode("utf-8"))
        return subprocess.CompletedProcess(["footage-mcp", *argv], statuses[0], texts[0], texts[1])


def warm_command(argv: Sequence[str]) -> list[str]:
    """The command line that runs ``footage-mcp <argv>`` forked from the zygote, on the launcher's own
    stdin, stdout and stderr, in its environment and directory (``python -m footage_mcp <argv>`` when
    FOOTAGE_TEST_COLD_PROCESSES=1)."""
    if COLD:
        return [sys.executable, "-m", "footage_mcp", *argv]
    return [sys.executable, "-S", str(LAUNCHER), zygote_socket(), *argv]


def warm_parameters(params: StdioServerParameters) -> StdioServerParameters:
    """Stdio parameters from :func:`footage_mcp.cli.launch.bridge_parameters` (``python -m footage_mcp
    <argv>``), with :func:`warm_command` instead: the same arguments and environment."""
    assert params.args[:2] == ["-m", "footage_mcp"], params.args
    command = warm_command(params.args[2:])
    return params.model_copy(update={"command": command[0], "args": command[1:]})


@contextlib.contextmanager
def warm_sandbox(**options: Any) -> Iterator[RunningSandbox]:
    """:func:`footage_mcp.cli.launch.sandbox_process` (same options), the sandbox forked from the zygote
    (:func:`warm_command`): the same command line, port announcement and shutdown, without the cold
    interpreter start."""
    from footage_mcp.cli.launch import sandbox_process

    with sandbox_process(command=warm_command([]), **options) as running:
        yield running


if __name__ == "__main__":
    _zygote(sys.argv[1])
