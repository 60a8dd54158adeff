"""download_asset in process (build_server + the SDK's in-memory Client) against the sandbox over real
loopback HTTP: originals from the API and from the CDN (never with the token), renditions, no overwrite,
progress, resume after a dropped connection, starting over, 5xx, a slow body cancelled (the .part is
kept), a full disk (a 1 MiB tmpfs), folders that cannot be made, the size cap; and, with a mock API,
hostile links and names."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import itertools
import json
import os
import re
import subprocess
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client
from mcp.types import ResourceLink

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.core.settings import Settings
from footage_mcp.sandbox.hostile import encoded_bomb
from footage_mcp.surface.server import build_server
from tests.files_support import (
    LIB,
    big_audio,
    bridge_over,
    control,
    data,
    error_text,
    expected_sha256,
    files_in,
    local_name,
    put_file_faults,
    settings_for,
    small,
)

pytestmark = pytest.mark.anyio


def client_for(sandbox: RunningSandbox, folder: Path, **extra: Any) -> Client:
    return Client(build_server(settings_for(sandbox, download_dir=folder, **extra)), mode="legacy")


async def test_original_from_the_api_origin(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    image = small("image", cdn=False, mime="image/jpeg")
    sha, size = await expected_sha256(hal_sandbox, image.id)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async with control(hal_sandbox) as sandbox, client_for(hal_sandbox, tmp_path) as client:
        await sandbox.delete("/requests")
        result = await client.call_tool("download_asset", {"asset_id": image.id}, progress_callback=on_progress)
        got = data(result)
        log = (await sandbox.get("/requests")).json()
    path = Path(got["path"])
    assert got == {
        "path": str(tmp_path.resolve() / local_name(image)),
        "size_bytes": size,
        "mime_type": "image/jpeg",
        "sha256": sha,
        "rendition": "original",
        "asset_id": image.id,
    }
    assert size == image.size_bytes and hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert files_in(tmp_path) == [local_name(image)]  # no .part or .json left behind
    link = next(c for c in result.content if isinstance(c, ResourceLink))
    assert link.uri == path.as_uri() and link.size == size and link.mime_type == "image/jpeg"
    assert progress[0] == (0, size) and progress[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(progress))
    original = [e for e in log if e["path"].endswith("/original")]
    assert len(original) == 1 and original[0]["headers"]["apikey"] == hal_sandbox.token


async def test_original_from_the_cdn_goes_without_the_token(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    image = small("image", cdn=True)
    sha, size = await expected_sha256(hal_sandbox, image.id)
    async with control(hal_sandbox) as sandbox, client_for(hal_sandbox, tmp_path) as client:
        await sandbox.delete("/files")
        got = data(await client.call_tool("download_asset", {"asset_id": image.id}))
        cdn_log = (await sandbox.get("/files")).json()["cdn_requests"]
    assert (got["sha256"], got["size_bytes"]) == (sha, size)
    assert [entry["status"] for entry in cdn_log] == [200]
    headers = cdn_log[0]["headers"]
    assert "apikey" not in headers and "authorization" not in headers
    assert hal_sandbox.token not in json.dumps(cdn_log)


async def test_renditions_preview_and_an_unknown_rendition(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    image, video = small("image", cdn=False), small("video")
    async with client_for(hal_sandbox, tmp_path) as client:
        asset = data(await client.call_tool("get_asset", {"asset_id": image.id}))
        assert [(r["name"], r["mime_type"]) for r in asset["renditions"]] == [
            ("web", "image/jpeg"),
            ("thumbnail", "image/jpeg"),
        ]
        web = data(await client.call_tool("download_asset", {"asset_id": image.id, "rendition": "WEB"}))
        assert web["rendition"] == "web" and web["size_bytes"] == asset["renditions"][0]["size_bytes"]
        assert Path(web["path"]).name == local_name(image, "web", "image/jpeg")
        preview = data(await client.call_tool("download_asset", {"asset_id": video.id, "rendition": "preview"}))
        assert preview["mime_type"] == "image/jpeg" and Path(preview["path"]).read_bytes()[:2] == b"\xff\xd8"
        assert Path(preview["path"]).name == local_name(video, "preview", "image/jpeg")  # the type the server sent
        unknown = await client.call_tool("download_asset", {"asset_id": image.id, "rendition": "proxy"})
        assert error_text(unknown) == (
            f"asset '{image.id}' has no rendition 'proxy'; it has: original, preview, web, thumbnail "
            "(get_asset lists them)"
        )
        missing = await client.call_tool("download_asset", {"asset_id": "no-such-asset"})
        assert (
            error_text(missing)
            == "asset 'no-such-asset' not found — search_assets or list_album_assets shows valid ids"
        )
        bad_id = await client.call_tool("download_asset", {"asset_id": "a\tb"})
        assert error_text(bad_id).startswith("asset_id contains characters no id has")
    assert sorted(files_in(tmp_path)) == sorted([Path(web["path"]).name, Path(preview["path"]).name])


async def test_a_second_download_never_overwrites(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    doc = small("document")
    (tmp_path / local_name(doc)).write_text("mine")
    async with client_for(hal_sandbox, tmp_path) as client:
        first = data(await client.call_tool("download_asset", {"asset_id": doc.id}))
        second = data(await client.call_tool("download_asset", {"asset_id": doc.id}))
    stem, ext = os.path.splitext(local_name(doc))
    assert Path(first["path"]).name == f"{stem} (2){ext}" and Path(second["path"]).name == f"{stem} (3){ext}"
    assert (tmp_path / local_name(doc)).read_text() == "mine" and first["sha256"] == second["sha256"]


async def test_a_dropped_connection_keeps_the_part_and_the_next_call_resumes(
    hal_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    audio = big_audio()  # over 2 MiB
    sha, size = await expected_sha256(hal_sandbox, audio.id)
    cut = 1_500_000
    async with control(hal_sandbox) as sandbox, client_for(hal_sandbox, tmp_path) as client:
        await put_file_faults(sandbox, {"match": "/original$", "fault": "drop", "after_bytes": cut, "times": 1})
        dropped = await client.call_tool("download_asset", {"asset_id": audio.id})
        assert error_text(dropped).startswith("the connection closed after ")
        assert error_text(dropped).endswith(
            f" of {size:,} bytes of the file; the partial file is kept: call download_asset again to resume"
        )
        [part] = [p for p in tmp_path.iterdir() if p.suffix == ".part"]
        kept = part.stat().st_size
        assert 0 < kept <= cut and not (tmp_path / local_name(audio)).exists()
        await sandbox.delete("/requests")
        resumed = data(await client.call_tool("download_asset", {"asset_id": audio.id}))
        log = (await sandbox.get("/requests")).json()
    assert (resumed["sha256"], resumed["size_bytes"], resumed["resumed_from_bytes"]) == (sha, size, kept)
    ranged = [e for e in log if e["path"].endswith("/original")]
    assert ranged[0]["headers"]["range"] == f"bytes={kept}-"
    assert ranged[0]["headers"]["if-range"] == f'"{audio.id}-o-{audio.size_bytes}"'
    assert files_in(tmp_path) == [local_name(audio)]


async def test_a_part_whose_file_changed_starts_over(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    doc = small("document", index=3)
    sha, size = await expected_sha256(hal_sandbox, doc.id)
    async with client_for(hal_sandbox, tmp_path) as client:
        # an interrupted download of an older version of the file: another ETag
        from footage_mcp.rest.files import part_key, safe_filename

        name = safe_filename(doc.name, fallback="x", mime_type=doc.mime_type)
        part = tmp_path / f"{name}.{part_key(doc.id, 'original')}.part"
        part.write_bytes(b"stale bytes" * 100)
        url = f"{hal_sandbox.base_url}/assets/{doc.id}/original"
        Path(str(part) + ".json").write_text(json.dumps({"url": url, "validator": '"old-version"'}))
        got = data(await client.call_tool("download_asset", {"asset_id": doc.id}))
    assert (got["sha256"], got["size_bytes"]) == (sha, size) and "resumed_from_bytes" not in got
    assert files_in(tmp_path) == [local_name(doc)]


async def test_server_errors_are_one_message(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    api_doc, cdn_image = small("document"), small("image", cdn=True)
    async with control(hal_sandbox) as sandbox, client_for(hal_sandbox, tmp_path, max_retries=0) as client:
        await put_file_faults(sandbox, {"match": "original", "fault": "status", "status": 503})
        api = await client.call_tool("download_asset", {"asset_id": api_doc.id})
        assert error_text(api) == "the Footage service failed (503); retrying in a moment may help"
        cdn = await client.call_tool("download_asset", {"asset_id": cdn_image.id})
        assert error_text(cdn) == (
            "the file's server (127.0.0.1) answered 503; the download link may have expired: call download_asset again"
        )
    assert files_in(tmp_path) == []


async def test_a_slow_body_cancelled_keeps_the_part(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    image = small("image", cdn=False, index=1)
    async with control(hal_sandbox) as sandbox, client_for(hal_sandbox, tmp_path) as client:
        await put_file_faults(sandbox, {"match": "/original$", "fault": "slow", "bytes_per_second": 100_000})
        seen: list[float] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            seen.append(done)

        with anyio.move_on_after(3):
            await client.call_tool("download_asset", {"asset_id": image.id}, progress_callback=on_progress)
        await anyio.sleep(0.5)  # the server side notices the cancellation and closes the part
        parts = [p for p in tmp_path.iterdir() if p.suffix == ".part"]
        assert len(parts) == 1 and 0 < (kept := parts[0].stat().st_size) < image.size_bytes
        assert seen and max(seen) <= kept
        await anyio.sleep(0.5)
        assert parts[0].stat().st_size == kept  # nothing is written after the cancellation
        assert not (tmp_path / local_name(image)).exists()
        await sandbox.delete("/file-faults")
        done = data(await client.call_tool("download_asset", {"asset_id": image.id}))
    assert done["resumed_from_bytes"] == kept
    assert done["size_bytes"] == image.size_bytes and files_in(tmp_path) == [local_name(image)]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Any:
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_a_full_disk_is_one_message_and_leaves_nothing(hal_sandbox: RunningSandbox, tiny_disk: Path) -> None:
    audio = big_audio()  # over 2 MiB on a 1 MiB disk
    async with client_for(hal_sandbox, tiny_disk) as client:
        result = await client.call_tool("download_asset", {"asset_id": audio.id})
        assert error_text(result) == (
            f"the disk holding {tiny_disk} is full; nothing was kept: free space (or set FOOTAGE_DOWNLOAD_DIR to "
            "another disk) and call download_asset again"
        )
        assert files_in(tiny_disk) == []
        small_doc = small("document")  # the server keeps answering, and a file that fits still works
        assert data(await client.call_tool("download_asset", {"asset_id": small_doc.id}))["size_bytes"] > 0


async def test_a_download_folder_that_cannot_be_made(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    folder = tmp_path / "file" / "downloads"
    async with client_for(hal_sandbox, folder) as client:
        result = await client.call_tool("download_asset", {"asset_id": small("document").id})
    assert error_text(result) == (
        f"cannot create the download folder {folder} (a part of the path is a file, not a folder); "
        "set FOOTAGE_DOWNLOAD_DIR to a folder you can write to"
    )


async def test_the_size_cap(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    audio = big_audio()
    async with client_for(hal_sandbox, tmp_path, download_max_bytes=1_000_000) as client:
        result = await client.call_tool("download_asset", {"asset_id": audio.id})
    assert error_text(result) == (
        f"the file is {audio.size_bytes:,} bytes, over FOOTAGE_DOWNLOAD_MAX_BYTES (1,000,000); raise the limit to "
        "download it"
    )
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- a hostile API (mock transport)

BASE = "https://api.example/api/asset"
TOKEN = SUITE_TOKEN[:19]  # as long as the literal it replaces; the canary plugin searches for it


def bomb() -> bytes:
    """256 MiB of zeros, gzip of gzip, in under 1 kB: the sandbox's hostile bomb (built from one repeated
    compressed block, cached)."""
    return encoded_bomb(256 * 1024 * 1024, ("gzip", "gzip"))


CSV = b"".join(b"%d,shot %d,Paris,2019-06-14\n" % (n, n) for n in range(20_000))


async def streamed(body: bytes) -> AsyncIterator[bytes]:
    yield body


def hostile(asset: dict[str, Any], seen: list[httpx2.Request]) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        url = str(request.url)
        if url == f"{BASE}/":
            return httpx2.Response(200, json={"_links": {}})
        if url == f"{BASE}/assets/a1":
            return httpx2.Response(200, json=asset)
        if request.url.host == "cdn.example":
            return httpx2.Response(200, content=b"cdn bytes", headers={"content-type": "video/mp4"})
        if url.startswith(f"{BASE}/assets/a1/original"):
            return httpx2.Response(200, content=b"api bytes", headers={"content-type": "video/mp4"})
        if url == f"{BASE}/redirect":
            return httpx2.Response(302, headers={"location": "http://cdn.example/plain"})
        if url == f"{BASE}/gzipped":
            headers = {"content-type": "text/csv", "content-encoding": "gzip"}
            return httpx2.Response(200, content=streamed(gzip.compress(CSV)), headers=headers)
        if url == f"{BASE}/bomb":
            headers = {"content-type": "video/mp4", "content-encoding": "gzip, gzip"}
            return httpx2.Response(200, content=streamed(bomb()), headers=headers)  # streamed: not read here
        if url == f"{BASE}/not-gzip":
            headers = {"content-type": "video/mp4", "content-encoding": "gzip"}
            return httpx2.Response(200, content=b"these bytes are not gzip", headers=headers)
        return httpx2.Response(404, json={"message": "nope"})

    return httpx2.MockTransport(handler)


async def call(asset: dict[str, Any], folder: Path, rendition: str = "original") -> tuple[Any, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []
    settings = Settings(base_url=BASE, api_token=TOKEN, download_dir=folder)
    async with Client(build_server(settings, transport=hostile(asset, seen)), mode="legacy") as client:
        return await client.call_tool("download_asset", {"asset_id": "a1", "rendition": rendition}), seen


async def test_hostile_names_stay_inside_the_download_folder(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    for name in ("../../evil.mp4", "/etc/cron.d/evil.mp4", "CON.mp4", "a\x00b\nc.mp4", "ü" * 300 + ".mp4", ".."):
        result, _ = await call({"id": "a1", "name": name, "mimeType": "video/mp4"}, folder)
        path = Path(data(result)["path"])
        assert path.parent == folder.resolve() and path.read_bytes() == b"api bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["downloads"]  # nothing outside
    names = files_in(folder)
    assert len(names) == 6 and all("/" not in n and "\\" not in n and len(n.encode()) <= 180 for n in names)
    assert "_CON.mp4" in names and "evil.mp4" not in names


async def test_another_origin_gets_no_token_and_plain_http_is_refused(tmp_path: Path) -> None:
    cdn = {"id": "a1", "name": "x.mp4", "_links": {"download": {"href": "https://cdn.example/signed?sig=1"}}}
    result, seen = await call(cdn, tmp_path)
    assert Path(data(result)["path"]).read_bytes() == b"cdn bytes"
    to_cdn = [r for r in seen if r.url.host == "cdn.example"]
    assert len(to_cdn) == 1 and "apikey" not in to_cdn[0].headers and "authorization" not in to_cdn[0].headers
    assert all(r.headers.get("apikey") == TOKEN for r in seen if r.url.host == "api.example")

    plain = {"id": "a1", "name": "x.mp4", "_links": {"download": {"href": "http://cdn.example/file"}}}
    result, seen = await call(plain, tmp_path)
    assert error_text(result) == (
        "the file is offered at a plain http (or other non-https) address on cdn.example; the bridge fetches files "
        "over https only"
    )
    assert not any(r.url.host == "cdn.example" for r in seen)

    redirected = {"id": "a1", "name": "x.mp4", "downloadUrl": f"{BASE}/redirect"}
    result, seen = await call(redirected, tmp_path)
    assert error_text(result) == "the file's server redirected from https to plain http; not followed"
    assert TOKEN not in json.dumps([str(r.url) for r in seen])


async def test_a_listed_rendition_without_an_address(tmp_path: Path) -> None:
    asset = {"id": "a1", "name": "x.mp4", "renditions": [{"name": "proxy", "mimeType": "video/mp4"}]}
    result, _ = await call(asset, tmp_path, "proxy")
    assert error_text(result) == (
        "asset 'a1' lists a rendition 'proxy' but gives no address for it; try one of: original, preview, proxy"
    )


async def test_a_body_that_is_not_its_content_encoding_is_one_message_and_leaves_nothing(tmp_path: Path) -> None:
    """A file answered with ``Content-Encoding: gzip`` over bytes that are not gzip (found by a breaking run:
    an internal error and a traceback)."""
    result, _ = await call({"id": "a1", "name": "x.mp4", "downloadUrl": f"{BASE}/not-gzip"}, tmp_path)
    assert error_text(result) == (
        "the file's server sent a body that does not match its Content-Encoding header; nothing was kept: "
        "call download_asset again later"
    )
    assert files_in(tmp_path) == []


async def test_a_compression_bomb_as_a_file_is_stopped_early_and_leaves_nothing(tmp_path: Path) -> None:
    """A file answered with ``Content-Encoding: gzip, gzip`` (which the bridge never asks for): under 1 kB on
    the wire that decodes to 256 MiB. Found by a breaking run: with no FOOTAGE_DOWNLOAD_MAX_BYTES, 1.8 kB
    wrote a 1 GiB file and the call succeeded. Stopped once it decodes past 100 times what was received
    (plus 1 MiB), with memory near one piece (httpx2 decodes in bounded pieces)."""
    seen: list[httpx2.Request] = []
    asset = {"id": "a1", "name": "x.mp4", "downloadUrl": f"{BASE}/bomb"}
    settings = Settings(base_url=BASE, api_token=TOKEN, download_dir=tmp_path)
    bomb()  # made before memory is traced: only the bridge's decoding counts
    tracemalloc.start()
    try:
        async with Client(build_server(settings, transport=hostile(asset, seen)), mode="legacy") as client:
            result = await client.call_tool("download_asset", {"asset_id": "a1"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert re.fullmatch(
        r"the file's server sent a compressed body \(gzip, gzip, which the bridge did not ask for\) that grew "
        r"more than 100-fold: [\d,]+ bytes received became over [\d,]+; stopped as a likely compression bomb, "
        r"nothing was kept",
        error_text(result),
    ), error_text(result)
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB while decoding"
    assert files_in(tmp_path) == []


async def test_an_asset_named_like_a_part_is_not_taken_for_one_by_the_next_download(tmp_path: Path) -> None:
    from footage_mcp.rest.files import part_key

    asset = {"id": "a1", "name": f"x.jpg.{part_key('a1', 'original')}.part", "mimeType": "image/jpeg"}
    first, _ = await call(asset, tmp_path)
    second, _ = await call(asset, tmp_path)
    paths = [Path(data(first)["path"]), Path(data(second)["path"])]
    assert [p.name for p in paths] == [
        f"x.jpg.{part_key('a1', 'original')}_part.jpg",
        f"x.jpg.{part_key('a1', 'original')}_part (2).jpg",
    ]
    assert [p.read_bytes() for p in paths] == [b"api bytes", b"api bytes"]  # the first one whole


async def test_a_gzipped_file_is_decoded_and_kept(tmp_path: Path) -> None:
    """A server that compresses anyway (text compresses about tenfold): the file is the decoded bytes."""
    seen: list[httpx2.Request] = []
    asset = {"id": "a1", "name": "notes.csv", "downloadUrl": f"{BASE}/gzipped"}
    settings = Settings(base_url=BASE, api_token=TOKEN, download_dir=tmp_path)
    async with Client(build_server(settings, transport=hostile(asset, seen)), mode="legacy") as client:
        result = await client.call_tool("download_asset", {"asset_id": "a1"})
    assert Path(data(result)["path"]).read_bytes() == CSV


def test_the_library_has_what_these_tests_pick() -> None:
    assert big_audio().size_bytes > 2 * 1024 * 1024 > small("image", cdn=True).size_bytes
    assert len(LIB.assets) >= 320


async def test_a_missing_file_names_where_it_was_looked_for(tmp_path: Path) -> None:
    linked = {"id": "a1", "name": "x.mp4", "downloadUrl": f"{BASE}/gone"}
    result, _ = await call(linked, tmp_path)
    assert error_text(result) == "asset 'a1' has no original file at its own link (404)"


async def test_a_missing_original_at_the_route(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    doc = small("document")
    async with control(hal_sandbox) as sandbox, client_for(hal_sandbox, tmp_path) as client:
        rule = {"rules": [{"match": "/original$", "status": 404}]}
        assert (await sandbox.put("/faults", json=rule)).status_code == 200
        result = await client.call_tool("download_asset", {"asset_id": doc.id})
    assert error_text(result) == (
        f"asset '{doc.id}' has no original file at the route (404); if the API keeps files elsewhere, set the "
        "assetOriginal route in FOOTAGE_ROUTES"
    )


async def test_a_read_only_download_folder(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        async with client_for(hal_sandbox, mount) as client:
            result = await client.call_tool("download_asset", {"asset_id": small("document").id})
        assert error_text(result) == (
            f"the download folder {mount} is not writable; set FOOTAGE_DOWNLOAD_DIR to a folder you can write to"
        )
        assert files_in(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_concurrent_downloads_of_one_file(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    doc = small("document", index=2)
    sha, _ = await expected_sha256(hal_sandbox, doc.id)
    results: list[dict[str, Any]] = []
    async with client_for(hal_sandbox, tmp_path) as client:

        async def one() -> None:
            results.append(data(await client.call_tool("download_asset", {"asset_id": doc.id})))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(one)
    stem, ext = os.path.splitext(local_name(doc))
    assert sorted(files_in(tmp_path)) == sorted([f"{stem}{ext}", *(f"{stem} ({n}){ext}" for n in range(2, 6))])
    assert {r["sha256"] for r in results} == {sha}


async def test_bodies_stream_on_the_transfer_loop_and_it_stops_with_the_server(
    hal_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Over the network the body streams on the transfer loop's thread (footage_mcp/rest/transfers.py), not
    on the server's loop; the thread ends when the server shuts down."""
    import threading

    def transfer_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "footage-transfers"]

    before = transfer_threads()
    image = small("image", cdn=False, mime="image/jpeg")
    sha, _ = await expected_sha256(hal_sandbox, image.id)
    async with client_for(hal_sandbox, tmp_path) as client:
        got = data(await client.call_tool("download_asset", {"asset_id": image.id}))
        assert got["sha256"] == sha
        assert len(transfer_threads()) == len(before) + 1
    assert transfer_threads() == before


async def test_a_cancellation_during_the_parts_open_waits_for_it_and_closes_it(
    hal_sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while the .part is being opened (and, for a resume, hashed again: slow for a big part), the
    download waits for the open and closes the file; a download started at once gets a file whose bytes on
    disk match its sha256. (A breaking run of the transfer loop found the open going on in its thread after
    the cancellation, truncating the part under the next download: holes of zeros, a right sha256; the
    deterministic reproduction is tests/test_transfers.py, the worker-thread cancellation test.)"""
    import threading
    import time

    from footage_mcp.rest import partfile

    real_open = partfile.PartWriter.open.__func__  # type: ignore[attr-defined]
    opened: list[float] = []

    def slow_open(cls: type[partfile.PartWriter], path: Path, keep: int) -> partfile.PartWriter:
        if not opened:
            threading.Event().wait(1.0)  # a cold disk
        writer = real_open(cls, path, keep)
        opened.append(time.monotonic())
        return writer  # type: ignore[no-any-return]

    monkeypatch.setattr(partfile.PartWriter, "open", classmethod(slow_open))
    image = small("image", cdn=False, index=2)
    sha, size = await expected_sha256(hal_sandbox, image.id)
    async with client_for(hal_sandbox, tmp_path) as client:
        with anyio.move_on_after(0.4):
            await client.call_tool("download_asset", {"asset_id": image.id})
        # at once: the first call's open is still running on the server side
        done = data(await client.call_tool("download_asset", {"asset_id": image.id}))
        await anyio.sleep(1.0)  # the first call finishes its open and its cancellation
        assert opened, "the open never finished"
        held = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
                held.append(os.readlink(f"/proc/self/fd/{fd}"))
        assert not [h for h in held if h.startswith(str(tmp_path))], held  # every writer was closed
    on_disk = Path(done["path"]).read_bytes()
    assert done["sha256"] == sha == hashlib.sha256(on_disk).hexdigest() and len(on_disk) == size


async def test_two_servers_downloading_one_file_into_one_folder_never_share_a_part(
    hal_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Two servers in one process (HTTP team mode keeps a downloader per token; an embedder may build two)
    downloading the same asset into the same folder at once, over a slow body so that they overlap: each
    writes its own part, and both files are whole (the parts in use were known per downloader only)."""
    doc = small("document", index=3)
    sha, size = await expected_sha256(hal_sandbox, doc.id)
    results: list[dict[str, Any]] = []
    async with (
        control(hal_sandbox) as sandbox,
        client_for(hal_sandbox, tmp_path) as one,
        client_for(hal_sandbox, tmp_path) as two,
    ):
        await put_file_faults(sandbox, {"match": "/original$", "fault": "slow", "bytes_per_second": 2_000_000})

        async def fetch(client: Client) -> None:
            results.append(data(await client.call_tool("download_asset", {"asset_id": doc.id})))

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(fetch, one)
                group.start_soon(fetch, two)
        finally:
            await sandbox.delete("/file-faults")
    assert len({r["path"] for r in results}) == 2
    for result in results:
        on_disk = Path(result["path"]).read_bytes()
        assert result["sha256"] == sha == hashlib.sha256(on_disk).hexdigest() and len(on_disk) == size
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".part", ".partial", ".json")]


async def test_a_body_trickled_a_byte_at_a_time_is_stopped_and_the_part_kept(tmp_path: Path) -> None:
    """Found by a breaking run: a file sent at 1 byte/s ran for minutes (httpx2's timeout is per read, and
    each byte resets it). A body must bring 1,024 bytes in every FOOTAGE_TIMEOUT seconds; what came is kept
    for a resume."""

    async def send_file(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 100000\r\n")
        writer.write(b'ETag: "v1"\r\n\r\n' + b"x" * 300)
        for _ in range(3000):
            await writer.drain()
            await asyncio.sleep(0.01)
            writer.write(b"x")

    # FOOTAGE_TIMEOUT 2 s: room for the lookups on a loaded machine; the trickle brings about 200 bytes in that time
    async with bridge_over(send_file, tmp_path, TOKEN) as (client, _log):
        result = await client.call_tool("download_asset", {"asset_id": "a1"})
    assert error_text(result) == (
        "the download is too slow (under 1,024 bytes in the last 2 s); call download_asset again to resume it"
    )
    [part] = [p for p in files_in(tmp_path) if p.endswith(".part")]
    assert (tmp_path / part).stat().st_size >= 300  # what came is kept
