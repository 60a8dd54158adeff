"""The whole suite is a canary run (issue 11, "done when"): every test's token is the canary, and what
every test's bridge produced is searched for it; a hit fails that test, naming the kind of place.

Registered from tests/conftest.py (``pytest_plugins``); under xdist each worker loads it and the
controller adds up the workers' counts. At import, before any fixture:

* ``$FOOTAGE_SANDBOX_TOKEN`` becomes :data:`~canary_scan.CANARY`: every sandbox the tests start (the
  launcher's ``sandbox_process``, ``create_app``, ``footage-mcp sandbox``) accepts the canary, so every
  bridge pointed at one holds it (``RunningSandbox.token``, tests/inprocess.py, :data:`TOKEN`).
* The SDK client's one request path (``ClientSession.send_request``: tools/call, resources/read,
  prompts/get, the list methods with their ``nextCursor``, errors included) and its server-to-client
  paths (notifications such as log messages, requests such as elicitations) are wrapped: every
  result, every error message and every cursor in it is searched, decoded every way
  (tests/canary_scan.py), image, audio and blob data base64-decoded and searched as bytes.
* ``subprocess``: what a test reads from a child's stdout or stderr pipe (``Popen`` streams: the raw
  JSON-RPC lines of the tests that speak it over pipes), what ``communicate`` returns and every
  ``CompletedProcess`` (``subprocess.run``, tests/forkrun.py's forked runs) are searched. Exempt: the
  sandbox's own process (``footage-mcp sandbox``), the upstream emulator, which prints the token it
  accepts on purpose; it is not the bridge.
* ``capsys``/``capfd``'s ``readouterr`` (output a test consumes itself) is searched.
* Bodies a test reads itself (httpx2 ``Response.read``) from the bridge's Streamable HTTP endpoint
  (``/mcp``) are searched.

After each phase of each test: the phase's captured stdout, stderr and log sections (bridge
subprocesses inherit fd 2, so their log lines land there), and the test's ``tmp_path`` (every file,
text or binary: downloads and partial downloads, sandbox ``--data`` files, bundles, host config
snippets, stderr logs). At the end of the session: every file under the session's base temporary
directory not yet searched (``tmp_path_factory`` folders) and the demo's kept folders.

The terminal summary gives the counts; ``CANARY_REPORT=path`` writes them as JSON. What is not
covered: bytes a test reads with ``os.read`` on a raw pipe descriptor, HTTP bodies read from the bridge
with another HTTP client or streamed (``iter_bytes``; the MCP client's SSE streams are covered through
the SDK client), log records below the level a test's logger is set to (in-process bridges log at
WARNING unless a test says otherwise; subprocess bridges at the level their test sets), files a bridge
writes outside ``tmp_path`` and the base temporary directory other than the demo's folder, virtual
environments and ``node_modules`` folders inside them (package installs), and the demo's own run (it
runs with a clean environment, so with the public ``sandbox-token``, which it prints on purpose).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from canary_scan import CANARY, PIECE, Finding, cursors, hits, scan

os.environ["FOOTAGE_SANDBOX_TOKEN"] = CANARY  # before any fixture or helper starts a sandbox
TOKEN = CANARY
"""The token of the suite's sandboxes and bridges; tests use this name rather than a literal."""
FILE_DECODE_LIMIT = 1 << 20
"""Files up to this size are also decoded (cursor-like tokens inside); larger ones are searched as bytes."""
CHUNK = 8 << 20


class _State:
    """This process's counts, the findings not yet charged to a test, and what was already searched."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.counts: dict[str, int] = {
            "results": 0,
            "cursors": 0,
            "binary_blobs": 0,
            "process_outputs": 0,
            "log_sections": 0,
            "log_lines": 0,
            "files": 0,
            "file_bytes": 0,
            "hits": 0,
            "http_answers": 0,
            "skipped_package_folders": 0,
            "files_read_again": 0,
        }
        self.seconds = 0.0
        """CPU seconds this process spent searching."""
        self.pending: list[Finding] = []
        self.session_findings: list[Finding] = []
        self.sinks: list[list[Finding]] = []
        self.texts: dict[int, list[str]] = {}
        self.files: dict[str, tuple[tuple[int, ...], bool, int]] = {}
        """Each file searched: its fingerprint then, whether that was long enough after it changed (see
        :data:`RACY_NS`), and a digest of the bytes searched."""
        self.exempt: dict[str, str] = {}
        self.started = time.time()

    def count(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + by

    def found(self, finding: Finding) -> None:
        with self.lock:
            if finding in (self.sinks[-1] if self.sinks else self.pending):
                return  # the same text searched twice (communicate, then CompletedProcess)
            if self.sinks:
                self.sinks[-1].append(finding)
            else:
                self.counts["hits"] += 1
                self.pending.append(finding)

    def take(self) -> list[Finding]:
        with self.lock:
            taken, self.pending = self.pending, []
            return taken


STATE = _State()


def check(kind: str, where: str, value: str | bytes, *, decode: bool = True) -> list[str]:
    """Search ``value`` (decoding its cursor-like tokens when ``decode``); record a finding on a hit.
    A text already searched in this process is not searched again (its outcome is reused)."""
    key = hash((decode, value))
    with STATE.lock:
        known = STATE.texts.get(key)
    if known is None:
        started = time.thread_time()
        known = scan(value) if decode else hits(value if isinstance(value, bytes) else value.encode())
        with STATE.lock:
            STATE.seconds += time.thread_time() - started
            if len(STATE.texts) > 200_000:
                STATE.texts.clear()
            STATE.texts[key] = known
    if known:
        STATE.found(Finding(kind, where, list(known), key))
    return known


@contextlib.contextmanager
def allowed(why: str) -> Iterator[None]:
    """Not the bridge's output: findings inside the block are dropped. Only around one specific thing a
    test itself makes hold the token (an emulated host's own configuration, say); ``why`` says what."""
    with expected_leaks():
        yield


@contextlib.contextmanager
def expected_leaks() -> Iterator[list[Finding]]:
    """Findings made inside the block go to the yielded list instead of failing the test: for the
    self-tests that plant the canary on purpose (tests/test_canary_plugin.py)."""
    sink: list[Finding] = []
    with STATE.lock:
        STATE.sinks.append(sink)
    try:
        yield sink
    finally:
        with STATE.lock:
            STATE.sinks.remove(sink)


def exempt(path: str | os.PathLike[str], why: str) -> None:
    """Do not search the file ``path``: a test wrote the token there itself (its own input, not the
    bridge's output). ``why`` says so (kept for the record)."""
    STATE.exempt[os.path.abspath(path)] = why


# ------------------------------------------------------------------------------------ MCP results


def _binary(value: Any, kind: str, where: str) -> None:
    """Base64 data of image, audio and blob contents: searched as the bytes they decode to."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("data", "blob") and isinstance(item, str) and len(item) >= 16:
                with contextlib.suppress(binascii.Error, ValueError):
                    STATE.count("binary_blobs")
                    check(kind, f"{where} {key} bytes", base64.b64decode(item, validate=True), decode=False)
            else:
                _binary(item, kind, where)
    elif isinstance(value, list):
        for item in value:
            _binary(item, kind, where)


def note_result(where: str, value: Any) -> None:
    """Search one MCP message's content (a pydantic model or JSON value): its JSON text, every cursor
    in it decoded every way, and its binary data decoded."""
    dumped = value.model_dump(mode="json", by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else value
    STATE.count("results")
    text = json.dumps(dumped, ensure_ascii=False, default=str)
    check("result", where, text)
    for cursor in cursors(dumped):
        STATE.count("cursors")
        check("cursor", f"in {where}", cursor)
    _binary(dumped, "result", where)


def _method(request: Any) -> str:
    return str(getattr(request, "method", None) or type(request).__name__)


_sdk_wrapped: list[bool] = []


def _wrap_sdk() -> None:
    """Wrap the SDK client once the SDK is loaded (test modules import it; a run that never does, like
    the self-test's inner run, does not pay for importing it)."""
    if _sdk_wrapped or "mcp" not in sys.modules:
        return
    _sdk_wrapped.append(True)
    from mcp.client.session import ClientSession
    from mcp.shared.exceptions import MCPError
    from pydantic import ValidationError

    send_request = ClientSession.send_request
    on_notify = ClientSession._on_notify
    on_request = ClientSession._on_request

    async def checked_send_request(self: ClientSession, request: Any, *args: Any, **kwargs: Any) -> Any:
        method = _method(request)
        try:
            result = await send_request(self, request, *args, **kwargs)
        except MCPError as exc:
            note_result(f"{method} error", exc.error)
            raise
        except ValidationError as exc:  # a result the client refused: its input values are in the text
            note_result(f"{method} invalid result", {"error": str(exc)})
            raise
        note_result(f"{method} result", result)
        return result

    async def checked_on_notify(self: ClientSession, dctx: Any, method: str, params: Any) -> Any:
        note_result(f"{method} notification", dict(params or {}))
        return await on_notify(self, dctx, method, params)

    async def checked_on_request(self: ClientSession, dctx: Any, method: str, params: Any) -> Any:
        note_result(f"server request {method}", dict(params or {}))
        return await on_request(self, dctx, method, params)

    ClientSession.send_request = checked_send_request  # type: ignore[assignment,method-assign]
    ClientSession._on_notify = checked_on_notify  # type: ignore[method-assign]
    ClientSession._on_request = checked_on_request  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------ subprocesses


def _argv(args: Any) -> list[str]:
    if isinstance(args, (str, bytes, os.PathLike)):
        return [os.fsdecode(args)]
    return [os.fsdecode(a) for a in args]


def is_sandbox(args: Any) -> bool:
    """Whether ``args`` is a process whose output is not searched: the sandbox, the upstream emulator,
    which prints the token it accepts on purpose (``footage-mcp sandbox``'s summary) and is not the
    bridge; and xdist's worker channel (execnet: ``python -u -c "import sys;exec(eval(...))"``), which
    carries the workers' test reports (their node ids and output, searched in the workers already).
    A sandbox forked through tests/forklaunch.py (``python -S forklaunch.py <socket> sandbox ...``) is
    the sandbox too."""
    argv = _argv(args)
    launched = argv[4:5] if len(argv) > 4 and argv[2].endswith("forklaunch.py") else []  # tests/forkrun.py's launcher
    return (
        "footage_mcp.sandbox" in argv
        or launched == ["sandbox"]
        or any(a == "sandbox" and i > 0 and argv[i - 1] in ("footage_mcp", "footage-mcp") for i, a in enumerate(argv))
        or any("exec(eval(sys.stdin.readline()))" in a for a in argv)
    )


def _describe(args: Any) -> str:
    argv = _argv(args)
    words = [Path(argv[0]).name if argv else "?"] + [a for a in argv[1:4] if len(a) < 40]
    return " ".join(words)


class _Tee:
    """A child's pipe as the test reads it: each read is searched (lines, chunks) before it is handed on."""

    def __init__(self, stream: Any, where: str) -> None:
        self._stream = stream
        self._where = where

    def _note(self, data: Any) -> Any:
        if data:
            STATE.count("process_outputs")
            check("process output", self._where, data)
        return data

    def read(self, *args: Any) -> Any:
        return self._note(self._stream.read(*args))

    def read1(self, *args: Any) -> Any:
        return self._note(self._stream.read1(*args))

    def readline(self, *args: Any) -> Any:
        return self._note(self._stream.readline(*args))

    def readlines(self, *args: Any) -> Any:
        lines = self._stream.readlines(*args)
        self._note(type(lines[0])().join(lines) if lines else "")
        return lines

    def __iter__(self) -> _Tee:
        return self

    def __next__(self) -> Any:
        return self._note(next(self._stream))

    def __enter__(self) -> _Tee:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _wrap_subprocess() -> None:
    popen_init = subprocess.Popen.__init__
    communicate = subprocess.Popen.communicate
    completed_init = subprocess.CompletedProcess.__init__

    def checked_init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        popen_init(self, args, *rest, **kwargs)
        if not is_sandbox(args):
            for name in ("stdout", "stderr"):
                stream = getattr(self, name)
                if stream is not None:
                    setattr(self, name, _Tee(stream, f"{name} of {_describe(args)}"))

    def checked_communicate(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        out, err = communicate(self, *args, **kwargs)
        if not is_sandbox(self.args):
            for name, data in (("stdout", out), ("stderr", err)):
                if data:
                    STATE.count("process_outputs")
                    check("process output", f"{name} of {_describe(self.args)}", data)
        return out, err

    def checked_completed(
        self: subprocess.CompletedProcess[Any], args: Any, returncode: int, *rest: Any, **kw: Any
    ) -> None:
        completed_init(self, args, returncode, *rest, **kw)
        if not is_sandbox(args):
            for name in ("stdout", "stderr"):
                data = getattr(self, name)
                if data:
                    STATE.count("process_outputs")
                    check("process output", f"{name} of {_describe(args)}", data)

    subprocess.Popen.__init__ = checked_init  # type: ignore[assignment,method-assign]
    subprocess.Popen.communicate = checked_communicate  # type: ignore[assignment,method-assign]
    subprocess.CompletedProcess.__init__ = checked_completed  # type: ignore[assignment,method-assign]


def _wrap_capture() -> None:
    from _pytest.capture import CaptureFixture

    readouterr = CaptureFixture.readouterr

    def checked_readouterr(self: CaptureFixture[Any]) -> Any:
        result = readouterr(self)
        for name, data in (("stdout", result.out), ("stderr", result.err)):
            if data:
                STATE.count("log_sections")
                STATE.count("log_lines", data.count("\n") if isinstance(data, str) else data.count(b"\n"))
                check("log", f"captured {name} read by the test", data)
        return result

    CaptureFixture.readouterr = checked_readouterr  # type: ignore[method-assign]


def _wrap_http() -> None:
    """Bodies a test reads itself from the bridge's Streamable HTTP endpoint (``/mcp``) with httpx2:
    raw JSON-RPC answers, error pages. Other URLs (the sandbox, fake upstreams) are not the bridge."""
    import httpx2

    read, aread = httpx2.Response.read, httpx2.Response.aread

    def note(response: httpx2.Response, content: bytes) -> None:
        with contextlib.suppress(RuntimeError):  # a response without its request
            if response.request.url.path.endswith("/mcp") and content:
                STATE.count("http_answers")
                check("HTTP answer", f"{response.request.method} {response.request.url.path}", content)

    def checked_read(self: httpx2.Response) -> bytes:
        content = read(self)
        note(self, content)
        return content

    async def checked_aread(self: httpx2.Response) -> bytes:
        content = await aread(self)
        note(self, content)
        return content

    httpx2.Response.read = checked_read  # type: ignore[method-assign]
    httpx2.Response.aread = checked_aread  # type: ignore[method-assign]


_wrap_subprocess()
_wrap_capture()
_wrap_http()


# ------------------------------------------------------------------------------------ files and logs


def check_file(path: Path, root: Path) -> None:
    """Search one file (bytes; decoded too when small), unless unchanged since it was last searched."""
    try:
        info = path.stat()
    except OSError:
        return
    if stat.S_ISREG(info.st_mode):
        key = str(path)
        where = str(path.relative_to(root)) if path.is_relative_to(root) else key
        _search_file(key, info, where)


RACY_NS = 1_000_000_000
"""A file whose mtime or ctime is less than this before the moment it is searched may be written again
within the same timestamp tick (the kernel's file times are coarse: a few milliseconds), keeping its size
and times: it is read again at the next sweep, and searched again if its bytes differ from those searched,
until it was read once this long after it changed."""


def _search_file(key: str, info: os.stat_result, where: str) -> None:
    """Search the regular file ``key`` whose ``stat`` is ``info``, unless it was searched since it last
    changed: the same device, inode, size, mtime and ctime (a rewrite changes the ctime, a replacement
    the inode) and, when that was less than :data:`RACY_NS` after the change, the same bytes."""
    if key in STATE.exempt:
        return
    fingerprint = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    known = STATE.files.get(key)
    if known is not None and known[0] == fingerprint and known[1]:
        return
    settled = info.st_size < PIECE or max(info.st_mtime_ns, info.st_ctime_ns) < time.time_ns() - RACY_NS
    again = known is not None and known[0] == fingerprint
    if again:
        STATE.count("files_read_again")
    else:
        STATE.count("files")
        STATE.count("file_bytes", info.st_size)
    if info.st_size < PIECE:  # shorter than the shortest hit (the upload tests' 20,000 two-byte files)
        STATE.files[key] = (fingerprint, settled, 0)
        return
    with contextlib.suppress(OSError):
        if info.st_size <= FILE_DECODE_LIMIT:
            with open(key, "rb") as handle:
                data = handle.read()
            digest = hash(data)
            STATE.files[key] = (fingerprint, settled, digest)
            if not (again and known is not None and known[2] == digest):
                check("file", where, data)
            return
        if again and known is not None and known[2] == _digest(key):
            STATE.files[key] = (fingerprint, settled, known[2])
            return
        digests = []
        with open(key, "rb") as handle:
            tail = b""
            while chunk := handle.read(CHUNK):
                digests.append(hash(chunk))
                check("file", where, tail + chunk, decode=False)
                tail = chunk[-256:]
        STATE.files[key] = (fingerprint, settled, hash(tuple(digests)))


def _digest(key: str) -> int:
    """The digest :func:`_search_file` keeps of a large file's bytes (a hash per chunk)."""
    digests = []
    with open(key, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digests.append(hash(chunk))
    return hash(tuple(digests))


def check_tree(root: Path) -> None:
    """Search every regular file under ``root`` (symbolic links not followed), except inside virtual
    environments and ``node_modules`` (packages a test installed: uv, pip and npm write them, not the
    bridge; the bundle tests unpack one). One ``scandir`` per folder, one ``lstat`` per regular file."""
    if not root.is_dir():
        return
    top = str(root)
    cut = len(top) + 1
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        if os.path.basename(folder) == "node_modules" or any(
            entry.name == "pyvenv.cfg" and not entry.is_dir() for entry in entries
        ):
            STATE.count("skipped_package_folders")
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    _search_file(entry.path, entry.stat(follow_symlinks=False), entry.path[cut:])


def check_sections(sections: Sequence[tuple[str, str]], when: str) -> None:
    """Search the captured stdout, stderr and log sections of one test phase (``when``)."""
    for title, content in sections:
        if title.endswith(f" {when}") and content:
            STATE.count("log_sections")
            STATE.count("log_lines", content.count("\n") + 1)
            check("log", title.lower(), content)


TMP_KEY = pytest.StashKey[Path]()


def pytest_collection_finish(session: pytest.Session) -> None:
    _wrap_sdk()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _wrap_sdk()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    check_sections(report.sections, report.when)
    tmp = item.stash.get(TMP_KEY, None) or getattr(item, "funcargs", {}).get("tmp_path")
    if isinstance(tmp, Path):
        item.stash[TMP_KEY] = tmp
        if report.when in ("call", "teardown"):
            check_tree(tmp)
    found = STATE.take()
    if found:
        lines = "\n".join(f"  {finding}" for finding in found)
        text = f"the canary token (the test's API token) was found in what the bridge produced:\n{lines}"
        report.outcome = "failed"
        report.longrepr = f"{report.longrepr}\n\n{text}" if report.longrepr else text
    return report


# ------------------------------------------------------------------------------------ the session


def _demo_folders() -> Iterator[Path]:
    """The demo's kept folders (footage_mcp/cli/demo.py) made during this session."""
    for path in Path(tempfile.gettempdir()).glob("footage-demo-*"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime >= STATE.started - 1:
                yield path


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    worker = hasattr(config, "workerinput")
    controller = config.pluginmanager.hasplugin("dsession")
    if not controller:  # a process that ran tests (under xdist, the workers; their folders are its own)
        factory = getattr(config, "_tmp_path_factory", None)
        if factory is not None and getattr(factory, "_basetemp", None) is not None:
            check_tree(factory.getbasetemp())
    if not worker:
        for folder in _demo_folders():
            check_tree(folder)
    STATE.session_findings += STATE.take()
    if worker:
        config.workeroutput["canary"] = json.dumps(  # type: ignore[attr-defined]
            {
                "counts": STATE.counts,
                "seconds": STATE.seconds,
                "session_findings": [str(f) for f in STATE.session_findings],
            }
        )
    if STATE.session_findings or _worker_findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_worker_findings: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller adds up each xdist worker's counts."""
    data = getattr(node, "workeroutput", {}).get("canary")
    if data:
        loaded = json.loads(data)
        for name, value in loaded["counts"].items():
            STATE.count(name, value)
        STATE.seconds += loaded["seconds"]
        _worker_findings.extend(loaded["session_findings"])


def summary() -> dict[str, Any]:
    """The counts of this run (all workers added up): what was searched and the hits."""
    return {
        "canary": "Cnry…(32 characters)",
        **STATE.counts,
        "scan_cpu_seconds": round(STATE.seconds, 1),
        "session_findings": [str(f) for f in STATE.session_findings] + _worker_findings,
    }


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = summary()
    hits_total = figures["hits"]
    line = (
        f"canary run: searched {figures['results']} MCP results ({figures['cursors']} cursors, "
        f"{figures['binary_blobs']} binary blobs), {figures['process_outputs']} process outputs, "
        f"{figures['http_answers']} HTTP answers, "
        f"{figures['log_sections']} log sections ({figures['log_lines']} lines), {figures['files']} files "
        f"({figures['file_bytes'] / 1e6:.1f} MB) in {figures['scan_cpu_seconds']} s of CPU: {hits_total} hits"
    )
    terminalreporter.write_sep("-", line, red=bool(hits_total), green=not hits_total)
    for finding in figures["session_findings"]:
        terminalreporter.write_line(f"  outside any test: {finding}", red=True)
    report = os.environ.get("CANARY_REPORT")
    if report:
        Path(report).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
