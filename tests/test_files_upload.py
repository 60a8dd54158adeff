"""upload_assets in process (build_server + the in-memory Client) against the sandbox over real loopback
HTTP: registration rules, a folder with album and labels (round trip: the downloaded original has the
uploaded bytes), the re-run that skips, the confirmation for more than 20 files, 413, a dropped upload
and a 5xx after the body ("may or may not"), unreadable files, path tricks, nothing read outside."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from forkrun import warm_sandbox
from mcp import Client
from PIL import Image

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.core.errors import ConfigError
from footage_mcp.surface.server import build_server
from tests.conftest import INTERFACE_TOOLS
from tests.files_support import LIB, control, data, error_text, put_file_faults, settings_for

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def hal_sandbox() -> Iterator[RunningSandbox]:
    """This module's own sandbox: its uploads add assets, which the session's sandbox must not see (other
    modules count the library's assets; tests/test_stdio.py failed after this module in one process)."""
    with warm_sandbox(shape="hal") as running:
        yield running


def uploader(sandbox: RunningSandbox, roots: list[Path], **extra: Any) -> Client:
    settings = settings_for(sandbox, allow_writes=True, upload_dirs=os.pathsep.join(str(r) for r in roots), **extra)
    return Client(build_server(settings), mode="legacy")


def jpeg(path: Path, size: tuple[int, int], colour: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def unique() -> str:
    return "up" + uuid.uuid4().hex[:10]


async def tool_names(client: Client) -> set[str]:
    return {t.name for t in (await client.list_tools()).tools}


async def test_registered_only_with_writes_and_upload_folders(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(hal_sandbox)), mode="legacy") as plain:
        assert await tool_names(plain) == INTERFACE_TOOLS
    writes_only = build_server(settings_for(hal_sandbox, allow_writes=True))
    async with Client(writes_only, mode="legacy") as client:
        assert "upload_assets" not in await tool_names(client)
    dirs_only = build_server(settings_for(hal_sandbox, upload_dirs=str(tmp_path)))
    async with Client(dirs_only, mode="legacy") as client:
        assert "upload_assets" not in await tool_names(client)
    async with uploader(hal_sandbox, [tmp_path]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    upload = tools["upload_assets"]
    assert upload.annotations is not None
    assert (upload.annotations.read_only_hint, upload.annotations.destructive_hint) == (False, False)
    assert upload.annotations.idempotent_hint is False and upload.annotations.open_world_hint is True
    assert str(tmp_path.resolve()) in (upload.description or "")
    with pytest.raises(ConfigError) as info:
        build_server(settings_for(hal_sandbox, allow_writes=True, upload_dirs=str(tmp_path / "missing")))
    assert info.value.message == f"FOOTAGE_UPLOAD_DIRS: {tmp_path / 'missing'} is not an existing folder"


async def test_a_folder_with_album_and_labels_then_a_rerun_skips(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    tag = unique()
    folder = tmp_path / "shoot"
    folder.mkdir()
    first = jpeg(folder / f"{tag}-a.jpg", (640, 360))
    jpeg(folder / f"{tag}-b.jpg", (300, 200), (200, 30, 30))
    (folder / f"{tag}-c.mp4").write_bytes(os.urandom(300_000))
    (folder / ".DS_Store").write_bytes(b"hidden")
    (folder / "readme.md").write_text("not media")
    (folder / "sub").mkdir()
    jpeg(folder / "sub" / "deeper.jpg", (10, 10))
    album = LIB.albums[5]
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async with uploader(hal_sandbox, [tmp_path]) as client:
        result = data(
            await client.call_tool(
                "upload_assets",
                {"path": "shoot", "album_id": album.id, "labels": ["#" + tag, "drone"]},
                progress_callback=on_progress,
            )
        )
        names = [f"{tag}-a.jpg", f"{tag}-b.jpg", f"{tag}-c.mp4"]
        assert [f["file"] for f in result["files"]] == names
        assert [f["outcome"] for f in result["files"]] == ["uploaded"] * 3
        assert (result["uploaded"], result["skipped"], result["failed"]) == (3, 0, 0)
        assert result["labels"] == ["#" + tag, "#drone"] and result["album_id"] == album.id
        assert result["note"] == "1 non-media file in the folder left out"
        ids = [f["asset_id"] for f in result["files"]]
        total = sum((folder / n).stat().st_size for n in names)
        assert progress[-1][:2] == (total, total) and progress[-1][2] == f"file 3/3 {tag}-c.mp4: 100%"
        assert all(a[0] <= b[0] for a, b in itertools.pairwise(progress))

        asset = data(await client.call_tool("get_asset", {"asset_id": ids[0]}))
        assert (asset["name"], asset["media_type"], asset["size_bytes"]) == (names[0], "image", len(first))
        assert (asset["width"], asset["height"]) == (640, 360) and asset["preview_available"] is True
        assert asset["labels"] == ["#" + tag, "#drone"] and album.id in asset["albums"]
        found = data(await client.call_tool("search_assets", {"label": tag, "limit": 10}))
        assert {a["id"] for a in found["assets"]} == set(ids)
        preview = await client.call_tool("get_asset_preview", {"asset_id": ids[0]})
        assert not preview.is_error

        rerun = data(await client.call_tool("upload_assets", {"path": str(folder), "album_id": album.id}))
        assert [(f["outcome"], f["asset_id"]) for f in rerun["files"]] == [("skipped", i) for i in ids]
        assert rerun["files"][0]["reason"] == "an asset of the same name and size is already in the album"

    download_dir = tmp_path / "down"
    async with Client(build_server(settings_for(hal_sandbox, download_dir=download_dir)), mode="legacy") as client:
        back = data(await client.call_tool("download_asset", {"asset_id": ids[0]}))
    assert back["sha256"] == hashlib.sha256(first).hexdigest() and Path(back["path"]).name == names[0]


async def test_more_than_20_files_need_confirm(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    tag = unique()
    for n in range(21):
        (tmp_path / f"{tag}-{n:02d}.jpg").write_bytes(b"\xff\xd8" + bytes([n]) * 100)
    async with control(hal_sandbox) as sandbox, uploader(hal_sandbox, [tmp_path]) as client:
        before = (await sandbox.get("/files")).json()["uploads"]
        dry = data(await client.call_tool("upload_assets", {"path": str(tmp_path)}))
        assert dry["dry_run"] is True and dry["uploaded"] == 0
        assert [f["outcome"] for f in dry["files"]] == ["would_upload"] * 21
        assert dry["note"].startswith(
            "nothing was uploaded: 21 files is more than 20; check the list, then call upload_assets again with "
            "confirm=true"
        )
        assert (await sandbox.get("/files")).json()["uploads"] == before
        done = data(await client.call_tool("upload_assets", {"path": str(tmp_path), "confirm": True}))
        assert done["uploaded"] == 21 and (await sandbox.get("/files")).json()["uploads"] == before + 21


async def test_a_file_too_large_for_the_archive(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    name = unique() + ".mp4"
    (tmp_path / name).write_bytes(b"\0" * 200_000)
    async with control(hal_sandbox) as sandbox, uploader(hal_sandbox, [tmp_path]) as client:
        await sandbox.put("/files", json={"max_upload_bytes": 100_000})
        result = data(await client.call_tool("upload_assets", {"path": name}))
    assert result["files"] == [
        {
            "file": name,
            "size_bytes": 200_000,
            "outcome": "failed",
            "reason": "the archive refused it as too large (413; 200,000 bytes)",
        }
    ]


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ({"fault": "drop", "after_bytes": 50_000}, "the connection broke during the upload; {maybe}"),
        ({"fault": "status", "status": 502, "after_bytes": 50_000}, "the Footage service failed (502); {maybe}"),
    ],
    ids=["dropped", "5xx-after-the-body-started"],
)
async def test_a_failed_upload_is_never_retried(
    hal_sandbox: RunningSandbox, tmp_path: Path, rule: dict[str, Any], reason: str
) -> None:
    name = unique() + ".mp4"
    (tmp_path / name).write_bytes(os.urandom(400_000))
    async with control(hal_sandbox) as sandbox, uploader(hal_sandbox, [tmp_path]) as client:
        await put_file_faults(sandbox, {"match": "^/assets$", **rule})
        await sandbox.delete("/requests")
        result = data(await client.call_tool("upload_assets", {"path": name}))
        posts = [e for e in (await sandbox.get("/requests")).json() if e["method"] == "POST"]
    maybe = (
        f"the upload of {name} may or may not have been stored: search for its name (search_assets query "
        f"'{name.removesuffix('.mp4')}') before uploading it again"
    )
    assert result["files"] == [
        {"file": name, "size_bytes": 400_000, "outcome": "failed", "reason": reason.format(maybe=maybe)}
    ]
    assert len(posts) == 1  # sent once, never again


async def test_unreadable_and_vanishing_files(
    hal_sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import footage_mcp.rest.upload as upload_module

    tag = unique()
    locked, fine = tmp_path / f"{tag}-locked.jpg", tmp_path / f"{tag}-fine.jpg"
    jpeg(locked, (20, 20))
    jpeg(fine, (20, 20))
    real_open = upload_module._open_regular

    def open_or_refuse(path: Path) -> Any:  # root reads every file: refuse this one the way the OS would
        if path.name == locked.name:
            raise PermissionError(13, "Permission denied")
        return real_open(path)

    monkeypatch.setattr(upload_module, "_open_regular", open_or_refuse)
    async with uploader(hal_sandbox, [tmp_path]) as client:
        result = data(await client.call_tool("upload_assets", {"path": str(tmp_path)}))
    outcomes = {f["file"]: (f["outcome"], f.get("reason")) for f in result["files"]}
    assert outcomes[locked.name] == ("failed", "cannot read the file (permission denied); nothing was sent")
    assert outcomes[fine.name][0] == "uploaded"


async def test_paths_outside_and_odd_arguments(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    secret = tmp_path / "secret.jpg"
    jpeg(secret, (5, 5))
    (inside / "link.jpg").symlink_to(secret)
    (inside / "file.jpg").write_bytes(b"\xff\xd8x")
    root = inside.resolve()
    async with control(hal_sandbox) as sandbox, uploader(hal_sandbox, [inside]) as client:
        await sandbox.delete("/requests")
        cases = {
            "../secret.jpg": f"'../secret.jpg' is outside the upload folders; upload_assets reads only inside {root} "
            "(FOOTAGE_UPLOAD_DIRS)",
            str(secret): f"'{secret}' is outside the upload folders; upload_assets reads only inside {root} "
            "(FOOTAGE_UPLOAD_DIRS)",
            "link.jpg": f"'link.jpg' is outside the upload folders (through a symbolic link); upload_assets reads "
            f"only inside {root} (FOOTAGE_UPLOAD_DIRS)",
            "a\x07b.jpg": "path contains a control character (a line break, tab or similar); give a plain path",
            "nothing-here": f"'nothing-here' does not exist in the upload folders ({root})",
        }
        for path, message in cases.items():
            assert error_text(await client.call_tool("upload_assets", {"path": path})) == message
        bad_label = await client.call_tool("upload_assets", {"path": "file.jpg", "labels": ["two words"]})
        assert (
            error_text(bad_label) == "label 'two words' is not a label: one word of up to 64 characters, e.g. '#drone'"
        )
        no_album = await client.call_tool("upload_assets", {"path": "file.jpg", "album_id": "no-such-album"})
        assert error_text(no_album) == "album 'no-such-album' not found — list_albums shows valid ids"
        folder = data(await client.call_tool("upload_assets", {"path": "."}))
        assert [(f["file"], f["outcome"]) for f in folder["files"]] == [
            ("link.jpg", "skipped"),
            ("file.jpg", "uploaded"),
        ]
        assert folder["files"][0]["reason"] == "a symbolic link out of the upload folders"
        posts = [e for e in (await sandbox.get("/requests")).json() if e["method"] == "POST"]
    assert len(posts) == 1  # only file.jpg was ever sent: nothing outside the folder was read


async def test_a_slow_archive_still_takes_the_file_with_progress(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    name = unique() + ".mp4"
    payload = os.urandom(12_000_000)  # more than the socket buffers hold, so the body really waits
    (tmp_path / name).write_bytes(payload)
    seen: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(done)

    async with control(hal_sandbox) as sandbox, uploader(hal_sandbox, [tmp_path]) as client:
        await put_file_faults(sandbox, {"match": "^/assets$", "fault": "slow", "bytes_per_second": 4_000_000})
        result = data(await client.call_tool("upload_assets", {"path": name}, progress_callback=on_progress))
    assert [f["outcome"] for f in result["files"]] == ["uploaded"]
    assert len(set(seen)) >= 3 and seen[-1] == len(payload)


async def test_audit_lines_name_each_outcome_and_never_the_token(
    hal_sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique() + ".jpg"
    jpeg(tmp_path / name, (8, 8))
    album = LIB.albums[1]
    with caplog.at_level("INFO", logger="footage_mcp.audit"):
        async with uploader(hal_sandbox, [tmp_path]) as client:
            result = data(await client.call_tool("upload_assets", {"path": name, "album_id": album.id}))
    new_id = result["files"][0]["asset_id"]
    lines = [r.getMessage() for r in caplog.records if r.name == "footage_mcp.audit"]
    assert lines == [
        f"audit tool=upload_assets file={name} size={(tmp_path / name).stat().st_size} outcome=uploaded "
        f"asset_id={new_id}",
        f"audit tool=upload_assets add_to_album={album.id} assets=1 outcome=done",
    ]
    assert all(r.levelname == "INFO" for r in caplog.records if r.name == "footage_mcp.audit")
    assert hal_sandbox.token not in caplog.text


async def test_no_token_means_no_transfer(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    settings = settings_for(hal_sandbox, allow_writes=True, upload_dirs=str(tmp_path), download_dir=tmp_path / "d")
    settings = settings.model_copy(update={"api_token": None})
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8")
    async with Client(build_server(settings), mode="legacy") as client:
        down = error_text(await client.call_tool("download_asset", {"asset_id": "x"}))
        up = error_text(await client.call_tool("upload_assets", {"path": "a.jpg"}))
    assert down.startswith("download_asset needs a Footage API token: generate an API key at")
    assert up.startswith("upload_assets needs a Footage API token: generate an API key at")


async def test_odd_file_names_upload_under_their_own_name(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    tag = unique()
    names = [f"{tag} tab\there.jpg", f"{tag} ctrl\x01x.jpg", f'{tag} "quoted" ü.jpg', tag + "-" + "n" * 230 + ".jpg"]
    for name in names:
        jpeg(tmp_path / name, (4, 4))
    async with uploader(hal_sandbox, [tmp_path]) as client:
        result = data(await client.call_tool("upload_assets", {"path": str(tmp_path)}))
        assert [f["outcome"] for f in result["files"]] == ["uploaded"] * 4
        stored = {
            f["file"]: data(await client.call_tool("get_asset", {"asset_id": f["asset_id"]}))["name"]
            for f in result["files"]
        }
        again = data(await client.call_tool("upload_assets", {"path": str(tmp_path), "album_id": LIB.albums[3].id}))
        rerun = data(await client.call_tool("upload_assets", {"path": str(tmp_path), "album_id": LIB.albums[3].id}))
    # the name as browsers send it (a quote percent-encoded), which is how the archive stores it
    assert stored[names[2]] == f"{tag} %22quoted%22 ü.jpg" and stored[names[3]] == names[3]
    assert stored[names[0]] == names[0] and stored[names[1]] == names[1]  # tab and control character kept
    assert [f["outcome"] for f in again["files"]] == ["uploaded"] * 4
    assert [f["outcome"] for f in rerun["files"]] == ["skipped"] * 4  # the duplicate check finds them all


async def test_a_folder_of_10000_files_through_the_tool(hal_sandbox: RunningSandbox, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(10_000):
        (folder / f"frame_{n:05d}.jpg").write_bytes(b"\xff\xd8")
    async with control(hal_sandbox) as sandbox, uploader(hal_sandbox, [tmp_path]) as client:
        before = (await sandbox.get("/files")).json()["uploads"]
        result = data(await client.call_tool("upload_assets", {"path": "many"}))
        assert (await sandbox.get("/files")).json()["uploads"] == before  # nothing sent without confirm
    assert result["dry_run"] is True and result["uploaded"] == 0
    assert result["note"].startswith("nothing was uploaded: 500 files is more than 20; check the list, then call")
    assert (
        "the folder holds 10000 media files; only the first 500 by name were taken (at most 500 per call): move "
        "the rest into another folder and upload that"
    ) in result["note"]
    shown = result["files"]
    assert shown[0] == {"file": "frame_00000.jpg", "size_bytes": 2, "outcome": "would_upload"}
    assert len(shown) == 500 and all(f["outcome"] == "would_upload" for f in shown)


async def test_bodies_go_out_on_the_transfer_loop_with_progress_relayed(
    hal_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Over the network an upload's body streams from the transfer loop's thread (footage_mcp/rest/transfers.py),
    its progress reaches the client in order, and the thread ends with the server."""
    import threading

    def transfer_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "footage-transfers"]

    before = transfer_threads()
    name = f"{unique()}-transfer.bin"
    (tmp_path / name).write_bytes(os.urandom(3 * 1024 * 1024))
    seen: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(done)

    async with uploader(hal_sandbox, [tmp_path]) as client:
        result = await client.call_tool("upload_assets", {"path": str(tmp_path / name)}, progress_callback=on_progress)
        assert [f["outcome"] for f in data(result)["files"]] == ["uploaded"]
        assert len(transfer_threads()) == len(before) + 1
    assert transfer_threads() == before
    assert seen and seen == sorted(seen) and seen[-1] >= 3 * 1024 * 1024
