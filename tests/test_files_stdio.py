"""End to end: both file tools over real stdio (the bridge as a subprocess, the SDK client) against the
sandbox over real loopback HTTP, in every list shape (hal, array, items), with faults: a download dropped
mid-stream and resumed, an upload answered with a 5xx, the CDN never seeing the token."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from forkrun import warm_parameters, warm_sandbox
from mcp import Client
from mcp.types import ResourceLink

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from tests.conftest import INTERFACE_TOOLS, SHAPES, WRITE_TOOLS
from tests.files_support import LIB, control, data, error_text, expected_sha256, local_name, put_file_faults, small

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module", params=SHAPES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """This module's own sandbox in each shape: its uploads add assets, which the session's sandboxes
    must not see (other modules count the library's assets)."""
    with warm_sandbox(shape=request.param) as running:
        yield running


async def test_download_and_upload_over_stdio(sandbox: RunningSandbox, tmp_path: Path) -> None:
    downloads, uploads = tmp_path / "downloads", tmp_path / "uploads"
    uploads.mkdir()
    env = {
        "FOOTAGE_DOWNLOAD_DIR": str(downloads),
        "FOOTAGE_ALLOW_WRITES": "true",
        "FOOTAGE_UPLOAD_DIRS": str(uploads),
        "FOOTAGE_MAX_RETRIES": "0",
    }
    api_image, cdn_image, audio, video = (
        small("image", cdn=False),
        small("image", cdn=True),
        small("audio", cdn=False),  # the fault below matches the API origin's /original path
        small("video"),
    )
    async with (
        control(sandbox) as sandbox_control,
        Client(warm_parameters(bridge_parameters(sandbox.base_url, sandbox.token, env)), mode="legacy") as client,
    ):
        tools = {t.name for t in (await client.list_tools()).tools}
        assert tools == INTERFACE_TOOLS | WRITE_TOOLS | {"upload_assets"}
        await sandbox_control.delete("/files")

        # originals: one from the API origin, one from the CDN (the asset's own link)
        for asset in (api_image, cdn_image):
            sha, size = await expected_sha256(sandbox, asset.id)
            progress: list[float] = []

            async def on_progress(
                done: float, total: float | None, message: str | None, progress: list[float] = progress
            ) -> None:
                progress.append(done)

            result = await client.call_tool("download_asset", {"asset_id": asset.id}, progress_callback=on_progress)
            got = data(result)
            assert (got["sha256"], got["size_bytes"], got["rendition"]) == (sha, size, "original")
            assert Path(got["path"]) == downloads.resolve() / local_name(asset)
            assert hashlib.sha256(Path(got["path"]).read_bytes()).hexdigest() == sha
            assert any(isinstance(c, ResourceLink) and c.uri == Path(got["path"]).as_uri() for c in result.content)
            assert progress and progress[-1] == size
        cdn_log = (await sandbox_control.get("/files")).json()["cdn_requests"]
        assert [e["path"].split("/")[2] for e in cdn_log] == [cdn_image.id]
        assert all("apikey" not in e["headers"] and "authorization" not in e["headers"] for e in cdn_log)
        assert sandbox.token not in json.dumps(cdn_log)

        # renditions, as get_asset lists them in this shape
        listed = data(await client.call_tool("get_asset", {"asset_id": video.id}))["renditions"]
        assert [r["name"] for r in listed] == ["proxy", "poster"]
        proxy = data(await client.call_tool("download_asset", {"asset_id": video.id, "rendition": "proxy"}))
        assert proxy["size_bytes"] == listed[0]["size_bytes"] and proxy["mime_type"] == "video/mp4"

        # a download dropped mid-stream, then resumed from the .part
        sha, size = await expected_sha256(sandbox, audio.id)
        await put_file_faults(
            sandbox_control, {"match": "/original$", "fault": "drop", "after_bytes": size // 2, "times": 1}
        )
        dropped = await client.call_tool("download_asset", {"asset_id": audio.id})
        assert "the partial file is kept: call download_asset again to resume" in error_text(dropped)
        resumed = data(await client.call_tool("download_asset", {"asset_id": audio.id}))
        assert resumed["sha256"] == sha and 0 < resumed["resumed_from_bytes"] <= size // 2
        assert not [p for p in downloads.iterdir() if ".part" in p.name]

        # uploads: a file into an album, the re-run skips it, a 5xx after the body is "may or may not"
        name = f"stdio-{uuid.uuid4().hex[:8]}.jpg"
        payload = b"\xff\xd8\xff\xe0" + os.urandom(120_000)
        (uploads / name).write_bytes(payload)
        album = LIB.albums[2]
        first = data(await client.call_tool("upload_assets", {"path": name, "album_id": album.id}))
        assert [(f["file"], f["outcome"]) for f in first["files"]] == [(name, "uploaded")]
        new_id = first["files"][0]["asset_id"]
        again = data(await client.call_tool("upload_assets", {"path": name, "album_id": album.id}))
        assert [(f["outcome"], f["asset_id"]) for f in again["files"]] == [("skipped", new_id)]
        back = data(await client.call_tool("download_asset", {"asset_id": new_id}))
        assert back["sha256"] == hashlib.sha256(payload).hexdigest()

        other = f"stdio-{uuid.uuid4().hex[:8]}.mp4"
        (uploads / other).write_bytes(os.urandom(200_000))
        await put_file_faults(
            sandbox_control, {"match": "^/assets$", "fault": "status", "status": 503, "after_bytes": 10_000}
        )
        failed = data(await client.call_tool("upload_assets", {"path": other}))
        assert failed["files"][0]["outcome"] == "failed"
        assert failed["files"][0]["reason"].startswith("the Footage service failed (503); the upload of ")
        assert "may or may not have been stored: search for its name" in failed["files"][0]["reason"]
        outside = await client.call_tool("upload_assets", {"path": "/etc/hostname"})
        assert "is outside the upload folders" in error_text(outside)
        # the server keeps answering
        assert data(await client.call_tool("get_asset", {"asset_id": api_image.id}))["id"] == api_image.id
