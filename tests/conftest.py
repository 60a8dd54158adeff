"""Shared fixtures: the sandbox over real loopback HTTP (a subprocess), the in-process bridge over the
sandbox app (tests/inprocess.py), and bridge parameters."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from forkrun import warm_sandbox
from inprocess import Bridge, bridge

from footage_mcp.cli.launch import RunningSandbox

pytest_plugins = ["canary_plugin"]  # the whole suite is a canary run (tests/canary_plugin.py)

MEMORY_FOLDER = Path("/dev/shm")
MEMORY_FOLDER_MIN_FREE = 4 << 30
"""Bytes :data:`MEMORY_FOLDER` must have free for the run's temporary files to go there."""


def _temporary_files_in_memory() -> None:
    """Put the run's temporary files (pytest's ``tmp_path`` folders, every child's ``$TMPDIR``, the
    bytecode cache below) on a memory file system where the machine has one (Linux's ``/dev/shm``, a
    tmpfs, with at least 4 GiB free), unless ``$TMPDIR``, ``$TEMP`` or ``$TMP`` is set (the user's choice
    stands: Python's tempfile reads all three, in that order).

    Measured on the 2-core CI machine: creating a file costs 0.2-1.1 ms of kernel CPU in an ext4 folder
    that has held many files (``/tmp``), 15 µs on tmpfs; the suite creates tens of thousands (a
    10,000-file upload folder alone took 6.7 s of CPU to write, fresh virtual environments, bundles,
    downloads, partial files, sockets). What the tests assert does not depend on the file system: the
    full-disk cases inject ENOSPC. Set at conftest import in the controlling process, before xdist
    starts its workers, which inherit it."""
    chosen = any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP"))
    if chosen or os.environ.get("PYTEST_XDIST_WORKER") or not sys.platform.startswith("linux"):
        return
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            memory = any(line.split()[1:3] == [str(MEMORY_FOLDER), "tmpfs"] for line in mounts)
        usage = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return
    if not memory or usage.f_bavail * usage.f_frsize < MEMORY_FOLDER_MIN_FREE or not os.access(MEMORY_FOLDER, os.W_OK):
        return
    folder = MEMORY_FOLDER / f"footage-mcp-tests-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid():  # made by someone else: not ours to write in
        return
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)


_temporary_files_in_memory()

PYCACHE = Path(tempfile.gettempdir()) / f"footage-mcp-test-pycache-{os.getuid() if hasattr(os, 'getuid') else 0}"
"""Where every interpreter the suite starts keeps its bytecode (PYTHONPYCACHEPREFIX): outside the repo and
the venv, kept across runs."""


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (the README's test command): one worker more than the machine's cores. The suite spends
    about a quarter of its time waiting on subprocesses, sockets and real timeouts (measured, serially:
    262 CPU-s of tests and 77 s of waits), which a third worker on two cores fills: 177-183 s instead of
    203-226 s, for about the same CPU; a fourth adds CPU (collection, a zygote, contention): 162 s against
    146-154 s with three, later (docs/benchmarks.md, "The test suite")."""
    return (os.cpu_count() or 1) + 1


def _bytecode_for_children() -> None:
    """Let the interpreters this run starts (xdist workers, the fork zygotes, cold bridges, CLI runs, the
    Inspector's and the bundle's servers, and Node.js) read and write bytecode under :data:`PYCACHE`.

    With ``PYTHONDONTWRITEBYTECODE=1`` (set in some workplaces and CI images) and a venv that ``uv sync``
    installed without ``.pyc`` files, every interpreter compiled every module it imported from source:
    about 9 s of CPU per xdist worker's collection and 1-2 s per cold start, which an installed package
    never pays (pip and uvx write bytecode). Set here, at conftest import in the controlling process,
    before xdist starts its workers."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    # Node 22 (tests/node_tools.py) keeps the code it compiled there: the Inspector's and mcpb's bundles
    # are compiled once, not at each of the suite's 30-odd runs (Node 20 ignores the variable)
    os.environ.setdefault("NODE_COMPILE_CACHE", str(PYCACHE / "node"))


_bytecode_for_children()


def _one_preview_cache_per_run() -> None:
    """Every sandbox this run starts (in process, forked, subprocesses) keeps the previews it renders in
    one folder (``$FOOTAGE_SANDBOX_PREVIEW_CACHE``, footage_mcp/sandbox/previews.py), so a preview of the
    default library is drawn once per run, not once per sandbox (about 14 s of CPU per run, py-spy: each
    listing states its previews' byte sizes). Made at conftest import in the controlling process, before
    xdist starts its workers (they and their children inherit it); removed when that process exits. A
    fresh folder per run: nothing rendered by an earlier tree is served."""
    from footage_mcp.sandbox.constants import PREVIEW_CACHE_ENV

    if os.environ.get(PREVIEW_CACHE_ENV) or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    folder = tempfile.mkdtemp(prefix="footage-mcp-test-previews-")
    os.environ[PREVIEW_CACHE_ENV] = folder
    import atexit
    import shutil

    atexit.register(shutil.rmtree, folder, True)


_one_preview_cache_per_run()


def _one_ssl_context_for_the_suites_own_clients() -> None:
    """Every httpx2 client this test process builds with the default trust gets the process's one SSL
    context (``footage_mcp.rest.netenv.tls_context``, which the bridge's own clients use by design).

    httpx2 builds a context for each client, loading every system CA certificate: about 33 ms of CPU. The
    suite's own clients (the SDK's HTTP clients, readiness polls, the sandboxes' control calls) number in
    the thousands, over 20 s of CPU per run (measured with py-spy) for connections to plain-HTTP loopback
    servers. Patched in httpx2's transport module, where both transports call it; a client given
    ``verify=`` (a context, False) or another trust setting gets what httpx2 would build."""
    import httpx2._transports.default as transports

    from footage_mcp.rest.netenv import tls_context

    build = transports.create_ssl_context

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is True and cert is None and trust_env:
            return tls_context()
        return build(verify=verify, cert=cert, trust_env=trust_env)

    transports.create_ssl_context = create_ssl_context


_one_ssl_context_for_the_suites_own_clients()


def _one_output_schema_validator_per_schema() -> None:
    """The SDK client's compiled output-schema validators (``ClientSession._output_schema_validator``)
    shared by every session of this test process, keyed by the schema's JSON.

    The SDK compiles each tool's output schema once per session, checking it against the JSON Schema
    meta-schema first (``check_schema``): with a new session per test, about 6 s of CPU per run (py-spy)
    for the same dozen schemas. A compiled validator holds no session state (an empty ``Registry``, the
    schema document), so a shared one validates exactly as a fresh one would; a schema that fails
    ``check_schema`` is never kept and raises at every call, as the SDK's own cache behaves; the shared
    one is compiled from a copy of the schema (the SDK's holds the session's dict, and a nested edit of
    it in place would otherwise change what every later session with that schema checks). Each
    session's own cache is still filled, so its eviction on a changed listing works as before."""
    import copy
    import json

    from mcp.client.session import ClientSession

    compile_validator = ClientSession._output_schema_validator
    shared: dict[str, Any] = {}

    def _output_schema_validator(self: ClientSession, name: str, output_schema: dict[str, Any]) -> Any:
        own = self._tool_output_validators.get(name)
        if own is not None:
            return own
        key = json.dumps(output_schema, sort_keys=True)
        validator = shared.get(key)
        if validator is None:  # compiled from a copy: a session editing its own schema in place changes no other's
            validator = compile_validator(self, name, copy.deepcopy(output_schema))
            shared[key] = validator
        self._tool_output_validators[name] = validator
        return validator

    ClientSession._output_schema_validator = _output_schema_validator  # type: ignore[method-assign]


_one_output_schema_validator_per_schema()
SHAPES = ("hal", "array", "items")
INTERFACE_TOOLS = frozenset(
    {
        "list_albums",
        "get_album",
        "list_album_assets",
        "search_assets",
        "get_asset",
        "get_asset_preview",
        "get_archive_configuration",
        "list_api_links",
        "api_get",
        "get_contact_sheet",
        "suggest_keywords",
        "download_asset",
    }
)
"""The always-registered tool names interface.md fixes (write tools such as upload_assets only with
FOOTAGE_ALLOW_WRITES=true)."""
WRITE_TOOLS = frozenset(
    {
        "create_album",
        "update_album",
        "add_to_album",
        "remove_from_album",
        "update_asset",
        "add_labels",
        "remove_labels",
        "add_keywords",
        "relate_assets",
    }
)
"""The write tools interface.md fixes, registered with FOOTAGE_ALLOW_WRITES=true (upload_assets needs
FOOTAGE_UPLOAD_DIRS too)."""
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
"""A raw 2025-11-25 initialize request, for tests that speak JSON-RPC lines directly."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=SHAPES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """The sandbox in each list shape, on an ephemeral loopback port."""
    with warm_sandbox(shape=request.param) as running:
        yield running


@pytest.fixture(scope="session")
def hal_sandbox() -> Iterator[RunningSandbox]:
    with warm_sandbox(shape="hal") as running:
        yield running


@pytest.fixture(scope="session")
def alt_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox whose search and album-assets routes differ from the bridge's defaults."""
    with warm_sandbox(shape="items", alt_routes=True) as running:
        yield running


@pytest.fixture(params=SHAPES)
async def shaped_bridge(request: pytest.FixtureRequest) -> AsyncIterator[Bridge]:
    """The in-process bridge (tests/inprocess.py) over a fresh sandbox app, in each list shape."""
    async with bridge(shape=request.param) as running:
        yield running


def wait_until_listening(proc: subprocess.Popen[bytes], port: int) -> None:
    """Return once something accepts connections on 127.0.0.1:``port`` (a readiness poll, not a timing
    assertion). Raises RuntimeError with ``proc``'s stderr when it exits first, or after about 60 s."""
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited") from None
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port}")


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Each file an upload sent with sendfile (rest/socketsend.py) and that returned: (bytes asked, sent)."""
    from footage_mcp.rest.socketsend import DirectSend

    calls: list[tuple[int, int]] = []
    real = DirectSend.send_file

    async def recording(self: DirectSend, handle: Any, count: int, **options: Any) -> int:
        sent = await real(self, handle, count, **options)
        calls.append((count, sent))
        return sent

    monkeypatch.setattr(DirectSend, "send_file", recording)
    return calls
