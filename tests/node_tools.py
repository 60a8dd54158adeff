"""Pinned npm tools the tests drive (tests/clients/package.json and its lock file):
the MCP Inspector CLI (@modelcontextprotocol/inspector) and the MCP Bundle packer (@anthropic-ai/mcpb).

:func:`node_bin` installs them once with ``npm ci`` (exact versions from package-lock.json, no
install scripts) and returns the path of a binary. Without ``npm`` on the machine the calling test
is skipped, except under CI (``CI`` set), where a missing tool is a failure.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENTS = Path(__file__).parent / "clients"
LOCK = CLIENTS / "package-lock.json"
STAMP = CLIENTS / "node_modules" / ".footage-mcp-lock-sha256"


def _lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def ensure_installed() -> Path:
    """Install tests/clients from its lock file unless node_modules matches the lock file; return its .bin.

    Raises ``pytest.skip`` (or fails under CI) when npm is missing; ``subprocess.CalledProcessError``
    when the install fails."""
    npm = shutil.which("npm")
    if npm is None:
        message = "npm is not installed: the Inspector CLI and mcpb tests need Node.js 20+ and npm"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with open(CLIENTS / ".install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        digest = _lock_digest()
        if not (STAMP.exists() and STAMP.read_text().strip() == digest):
            # ``npm install`` with a lock file installs exactly the locked versions. Not ``npm ci``: it
            # rejects this lock because vite's optional dependency napi-windows-process-start-time is
            # not in the registry (404), which ``npm install`` tolerates as an absent optional package.
            subprocess.run(
                [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"],
                cwd=CLIENTS,
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
            STAMP.write_text(digest)
    return CLIENTS / "node_modules" / ".bin"


def node_bin(name: str) -> str:
    """Absolute path of an installed npm binary (``mcp-inspector``, ``mcpb``)."""
    path = ensure_installed() / name
    assert path.exists(), f"{name} missing from tests/clients/node_modules/.bin"
    return str(path)
