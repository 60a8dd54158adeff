"""The warm process seam of the tests (tests/forkrun.py, tests/forklaunch.py) agrees with a cold
``python -m footage_mcp``: the same exit status, stdout and stderr for the same environment; the
environment is exactly the one given (nothing of the zygote's); signals reach the child."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from typing import IO

import forkrun
import httpx2
import pytest

from footage_mcp.cli.launch import child_env

pytestmark = pytest.mark.slow

UNREACHABLE = {"FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "FOOTAGE_MAX_RETRIES": "0"}
CASES = {
    "version": (["--version"], {}),
    "mangled-token": (["serve"], {"FOOTAGE_API_TOKEN": "Bearer canary-tok"}),
    "bad-base-url": (["serve"], {"FOOTAGE_BASE_URL": "http://example.com/api/asset", "FOOTAGE_API_TOKEN": "t"}),
    "check": (["check"], {**UNREACHABLE, "FOOTAGE_API_TOKEN": "canary-token"}),
    "usage-error": (["serve", "--port", "8800"], {}),
    "config": (["config", "cursor"], {"FOOTAGE_API_TOKEN": "canary-token"}),
}


def cold(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "footage_mcp", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def outcome(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return result.returncode, result.stdout, result.stderr


@pytest.mark.skipif(forkrun.COLD, reason="FOOTAGE_TEST_COLD_PROCESSES=1: both sides would be cold")
@pytest.mark.parametrize("case", CASES)
def test_a_forked_run_answers_like_a_cold_one(case: str) -> None:
    argv, settings = CASES[case]
    env = child_env(settings)
    expected = outcome(cold(argv, env))
    assert outcome(forkrun.run(argv, env)) == expected
    launched = subprocess.run(
        forkrun.warm_command(argv), capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )
    assert outcome(launched) == expected
    assert expected[0] in (0, 1, 2) and expected[1] + expected[2]  # a real answer, not an empty crash


def test_the_child_sees_exactly_the_environment_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token in the caller's (and so the zygote's) environment does not reach a run given none."""
    monkeypatch.setenv("FOOTAGE_API_TOKEN", "zygote-canary-token")
    forkrun.run(["--version"], child_env())  # the zygote exists (and may have inherited the variable)
    without = forkrun.run(["check"], child_env(UNREACHABLE))
    assert without.returncode == 1
    assert "FAIL  token present    no token: FOOTAGE_API_TOKEN is not set" in without.stdout
    given = forkrun.run(["check"], child_env({**UNREACHABLE, "FOOTAGE_API_TOKEN": "given-canary-token"}))
    assert "PASS  token present" in given.stdout and "zygote-canary" not in given.stdout + given.stderr


def read_to_eof(stream: IO[bytes], seconds: float) -> bytes | None:
    """The rest of ``stream`` up to EOF, or None when EOF did not come within ``seconds``."""
    rest: list[bytes] = []
    reader = threading.Thread(target=lambda: rest.append(stream.read()), daemon=True)
    reader.start()
    reader.join(seconds)
    return rest[0] if rest else None


@pytest.mark.skipif(forkrun.COLD, reason="FOOTAGE_TEST_COLD_PROCESSES=1: the launcher is not used")
def test_the_launcher_passes_sigterm_on_and_exits_as_the_child_did() -> None:
    env = child_env({**UNREACHABLE, "FOOTAGE_API_TOKEN": "t"})
    statuses = []
    for command in ([sys.executable, "-m", "footage_mcp", "serve"], forkrun.warm_command(["serve"])):
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}\n')  # answered once serving
        process.stdin.flush()
        assert b'"id":1' in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        statuses.append(process.wait(timeout=30))
        # EOF on stdout: every holder of its write end is gone, the forked child too (not only the launcher)
        assert read_to_eof(process.stdout, 10) == b"", "the server outlived its launcher"
        process.stdin.close()
        process.stdout.close()
    assert statuses[1] == statuses[0] == -signal.SIGTERM


def test_a_sandbox_through_the_launcher_announces_its_url_and_serves() -> None:
    """warm_sandbox: the launcher's READY line, the same sandbox as a cold start (its album list)."""
    with forkrun.warm_sandbox(shape="items") as running:
        albums = httpx2.get(running.base_url + "/albums", headers={"apiKey": running.token}, timeout=30).json()
    assert len(albums["items"]) == 14


def test_a_launcher_killed_with_sigkill_takes_its_forked_child_along() -> None:
    """Failed before: SIGKILL cannot be forwarded, and the forked sandbox went on holding its port."""
    with forkrun.warm_sandbox() as running:
        port = int(running.base_url.split(":")[2].split("/")[0])
        running.process.kill()
        running.process.wait()
        for _ in range(200):  # a readiness poll (until refused), not a timing assertion
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    time.sleep(0.05)
            except OSError:
                break
        else:
            raise AssertionError(f"the forked sandbox still listens on {port}")
