"""``python -S tests/forklaunch.py <zygote socket> <footage-mcp args>``: the launcher of tests/forkrun.py.

Hands its own stdin, stdout and stderr, environment and working directory to a ``footage-mcp`` child
forked from the test worker's zygote, forwards SIGTERM, SIGINT and SIGHUP to it, and exits with its
status (or by its signal). With ``FORKRUN_PID_FILE`` set it writes the child's pid to that file first.
Only the standard library: it starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType

from forkrun import PID_FILE, request_fork


def main() -> None:
    child = request_fork(sys.argv[1], sys.argv[2:], os.environ, os.getcwd(), [0, 1, 2])
    pid_file = os.environ.get(PID_FILE)
    if pid_file:  # the caller wants the child itself (its /proc status: memory), not this launcher
        with open(pid_file, "w", encoding="ascii") as out:
            out.write(str(child.pid))

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    status = child.status()
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    sys.exit(status)


if __name__ == "__main__":
    main()
