"""Run ``footage-mcp <command>`` as a separate process forked from a warm one, not a cold interpreter.

``python -m footage_mcp check`` spends most of its time importing (the SDK, pydantic, httpx2: 1.5 to
2.5 s of CPU on a CI machine), and the check tests run it about a hundred times. :func:`run` forks each
run from a *zygote*: one helper process per test worker that imported those modules once and then does
nothing but fork. Each run is still its own OS process: its environment (``os.environ`` replaced
entirely, so what C code reads with ``getenv`` sees it too), its own standard streams (stdout and stderr
to files, stdin from ``/dev/null``), its own exit status, and nothing of an earlier run's state (every
child is forked from the same idle zygote, which never runs a command itself).

What it is not: a fresh interpreter. Start-up settings (``PYTHON*`` variables, the locale of the
standard streams, ``-X`` options) are the zygote's. Tests about the process itself (stdout purity,
locale, garbage on stdin, signals) therefore start ``python -m footage_mcp`` for real, and
``FOOTAGE_TEST_COLD_PROCESSES=1`` makes :func:`run` do that too (to show that both agree).

Protocol (JSON lines): the test sends ``{"argv", "env", "stdout", "stderr"}`` on the zygote's stdin;
the zygote forks, answers ``{"pid"}``, waits, and answers ``{"status"}`` (negative: killed by that signal).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

PRELOAD = (
    "footage_mcp.cli.main",
    "footage_mcp.cli.check",
    "footage_mcp.cli.hostconfig",
    "footage_mcp.cli.logs",
    "footage_mcp.core.settings",
    "footage_mcp.rest.http",
    "footage_mcp.rest.netenv",
    "footage_mcp.surface.server",
    "httpx2",
    "anyio",
    "tenacity",
)
"""What the zygote imports once: what a ``check``, ``serve`` or ``config`` run imports."""
COLD = os.environ.get("FOOTAGE_TEST_COLD_PROCESSES") == "1"


# ---------------------------------------------------------------- the zygote (its own process)


def _exit_status(exc: SystemExit) -> int:
    """The status an interpreter exits with for ``exc`` (a non-int code is printed, then 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _become(request: dict[str, Any], channels: tuple[IO[str], IO[str]]) -> None:
    """In the forked child: ``footage-mcp <argv>`` with exactly ``env``, then exit with its status."""
    for channel in channels:
        channel.close()
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
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


def _zygote() -> None:
    """Import :data:`PRELOAD`, then fork one child per request line until stdin closes."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _become(request, (requests, replies))
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        _, wait_status = os.waitpid(pid, 0)
        replies.write(json.dumps({"status": os.waitstatus_to_exitcode(wait_status)}) + "\n")
        replies.flush()


# ---------------------------------------------------------------- the test side


class _Zygote:
    """This test process's zygote, started on first use and ended at exit."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lock = threading.Lock()
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

    def _reply(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        stdout = self.process.stdout
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            raise TimeoutError
        if not lines or not lines[0]:
            raise RuntimeError(f"the test zygote ended (status {self.process.poll()}); see its stderr above")
        reply: dict[str, Any] = json.loads(lines[0])
        return reply

    def run(self, argv: list[str], env: dict[str, str], stdout: Path, stderr: Path, timeout: float) -> int:
        assert self.process.stdin is not None
        with self.lock:
            request = {"argv": argv, "env": env, "stdout": str(stdout), "stderr": str(stderr)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            pid = int(self._reply(30)["pid"])
            try:
                return int(self._reply(timeout)["status"])
            except TimeoutError:
                os.kill(pid, 9)
                self._reply(30)
                raise subprocess.TimeoutExpired(["footage-mcp", *argv], timeout) from None


_zygotes: list[_Zygote] = []


def run(argv: Sequence[str], env: Mapping[str, str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``footage-mcp <argv>`` in a process of its own with exactly ``env``; stdout and stderr as UTF-8 text.

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
    if not _zygotes or _zygotes[0].process.poll() is not None:
        _zygotes[:] = [_Zygote()]
    with tempfile.TemporaryDirectory(prefix="forkrun-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        status = _zygotes[0].run(list(argv), dict(env), out, err, timeout)
        texts = [path.read_text(encoding="utf-8") if path.exists() else "" for path in (out, err)]
        return subprocess.CompletedProcess(["footage-mcp", *argv], status, texts[0], texts[1])


if __name__ == "__main__":
    _zygote()
