"""Uploads whose file bytes go with sendfile(2) (footage_mcp/rest/socketsend.py), against the sandbox over
real loopback HTTP: the sandbox's uploads take that path (a changed httpx2/httpcore2/h11 layout shows here
as a failure, not as a silent slowdown), the stored bytes are the file's on both paths, a file too large
for the archive is its 413 on both paths, a file that shrinks while it is sent fails as such, progress
is reported while the kernel sends, and a mock transport takes httpx2's path."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from forkrun import warm_sandbox
from mcp import Client

import footage_mcp.rest.upload as upload_module
from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.rest.socketsend import direct_sender
from footage_mcp.surface.server import build_server
from tests.files_support import control, data, put_file_faults, settings_for

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """This module's own sandbox (its uploads add assets other modules would count)."""
    with warm_sandbox(shape="hal") as running:
        yield running


@pytest.fixture(params=["sendfile", "httpx2"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which way an upload's file bytes go: sendfile where it can, or always httpx2's path."""
    if request.param == "httpx2":
        monkeypatch.setattr(upload_module, "direct_sender", lambda *args: None)
    return str(request.param)


def uploader(sandbox: RunningSandbox, folder: Path) -> Client:
    return Client(build_server(settings_for(sandbox, allow_writes=True, upload_dirs=str(folder))), mode="legacy")


def unique(suffix: str = ".mp4") -> str:
    return "send" + uuid.uuid4().hex[:10] + suffix


async def stored_digest(sandbox: RunningSandbox, asset_id: str) -> str:
    async with httpx2.AsyncClient(timeout=30) as http:
        answer = await http.get(f"{sandbox.base_url}/assets/{asset_id}/original", headers={"apiKey": sandbox.token})
    assert answer.status_code == 200
    return hashlib.sha256(answer.content).hexdigest()


async def test_the_sandboxs_uploads_take_the_sendfile_path_and_both_paths_store_the_files_bytes(
    sandbox: RunningSandbox, tmp_path: Path, sendfile_calls: list[tuple[int, int]], path: str
) -> None:
    payload = os.urandom(3_000_001)
    name = unique()
    (tmp_path / name).write_bytes(payload)
    async with uploader(sandbox, tmp_path) as client:
        result = data(await client.call_tool("upload_assets", {"path": name}))
    [outcome] = result["files"]
    assert (outcome["outcome"], outcome["size_bytes"]) == ("uploaded", len(payload))
    assert sendfile_calls == ([(len(payload), len(payload))] if path == "sendfile" else [])
    assert await stored_digest(sandbox, outcome["asset_id"]) == hashlib.sha256(payload).hexdigest()


async def test_a_large_file_refused_by_the_archive_is_its_413_on_both_paths(
    sandbox: RunningSandbox, tmp_path: Path, sendfile_calls: list[tuple[int, int]], path: str
) -> None:
    """More than the socket buffers hold: the archive answers 413 and closes while the body is still going
    out, so the send fails and the answer must still be read (httpcore2 does so after a write error)."""
    size = 24 * 1024 * 1024
    name = unique()
    with (tmp_path / name).open("wb") as handle:
        handle.truncate(size)
    async with control(sandbox) as sandbox_control, uploader(sandbox, tmp_path) as client:
        limit = (await sandbox_control.get("/files")).json()["max_upload_bytes"]
        await sandbox_control.put("/files", json={"max_upload_bytes": 100_000})
        try:
            result = data(await client.call_tool("upload_assets", {"path": name}))
        finally:
            await sandbox_control.put("/files", json={"max_upload_bytes": limit})
    assert result["files"] == [
        {
            "file": name,
            "size_bytes": size,
            "outcome": "failed",
            "reason": f"the archive refused it as too large (413; {size:,} bytes)",
        }
    ]
    assert (len(sendfile_calls) == 1) is (path == "sendfile")


async def test_a_file_that_shrinks_while_the_kernel_sends_it_fails_as_such(
    sandbox: RunningSandbox, tmp_path: Path, sendfile_calls: list[tuple[int, int]]
) -> None:
    size = 16 * 1024 * 1024
    name = unique()
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    seen: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(done)

    def shrink() -> None:
        while not seen:  # the first progress report: the body is on its way
            time.sleep(0.01)
        os.truncate(path, 1024 * 1024)

    shrinker = threading.Thread(target=shrink, daemon=True)
    async with control(sandbox) as sandbox_control, uploader(sandbox, tmp_path) as client:
        await put_file_faults(sandbox_control, {"match": "^/assets$", "fault": "slow", "bytes_per_second": 8_000_000})
        shrinker.start()
        result = data(await client.call_tool("upload_assets", {"path": name}, progress_callback=on_progress))
    shrinker.join(5)
    [outcome] = result["files"]
    assert outcome["outcome"] == "failed"
    assert outcome["reason"].startswith(f"{name} got shorter while it was being uploaded; the upload of {name} may")
    [(asked, sent)] = sendfile_calls
    assert asked == size and 1024 * 1024 <= sent < size


async def test_progress_is_reported_while_the_kernel_sends(
    sandbox: RunningSandbox, tmp_path: Path, sendfile_calls: list[tuple[int, int]]
) -> None:
    size = 24_000_000  # the socket buffers take the first ~8 MiB at once
    name = unique()
    (tmp_path / name).write_bytes(os.urandom(size))
    seen: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(done)

    async with control(sandbox) as sandbox_control, uploader(sandbox, tmp_path) as client:
        await put_file_faults(sandbox_control, {"match": "^/assets$", "fault": "slow", "bytes_per_second": 10_000_000})
        result = data(await client.call_tool("upload_assets", {"path": name}, progress_callback=on_progress))
    assert [f["outcome"] for f in result["files"]] == ["uploaded"]
    assert sendfile_calls == [(size, size)]
    assert seen == sorted(seen) and len(set(seen)) >= 4 and seen[-1] == size


async def test_no_direct_sender_for_a_mock_transport_or_a_request_not_in_flight() -> None:
    async def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(201)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(answer)) as http:
        request = http.build_request("POST", "http://127.0.0.1:9/assets", content=b"x")
        assert direct_sender(http, request, 1) is None
    async with httpx2.AsyncClient() as http:
        request = http.build_request("POST", "http://127.0.0.1:9/assets", content=b"x")
        assert direct_sender(http, request, 1) is None  # not being sent: no connection holds it


def test_httpcore2_is_not_imported_to_start_the_server() -> None:
    """The start (build_server, the tool list) needs no transport: httpcore2 comes with trio, h2, socksio and
    truststore, 40 modules and 15-20 ms of the cold start (a top-level import in socketsend.py added them,
    the coldstart bench's ratio to the bare server went 1.20× → 1.23×)."""
    code = (
        "import sys, asyncio;"
        "from footage_mcp.core.settings import Settings;"
        "from footage_mcp.surface.server import build_server;"
        "server = build_server(Settings(api_token='tok-123456', allow_writes=True, upload_dirs='/tmp'));"
        "asyncio.run(server.list_tools());"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpcore2', 'trio', 'h2', 'socksio')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
