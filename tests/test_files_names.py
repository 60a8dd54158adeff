"""Local file rules without HTTP: safe file names, the download folder, upload confinement (every path
trick), folder selection (hidden, non-media, subfolders, links, the 500-file cap), renditions parsing."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from footage_mcp.core.errors import ConfigError, InvalidArgument
from footage_mcp.rest.files import (
    MAX_NAME_BYTES,
    MAX_UPLOAD_FILES,
    claim_final_path,
    download_dir,
    resolve_upload_path,
    safe_filename,
    select_upload_files,
    upload_roots,
)
from footage_mcp.rest.renditions import original_href, rendition_links, renditions_of

# ---------------------------------------------------------------- safe file names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Eiffel Tower at night.jpg", "Eiffel Tower at night.jpg"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("..", "asset-1"),
        (".", "asset-1"),
        ("...", "asset-1"),
        ("a/b\\c.mov", "a_b_c.mov"),
        ("/abs/path.png", "_abs_path.png"),
        ("C:\\Windows\\win.ini", "C__Windows_win.ini"),
        ("line\nbreak\ttab\x00nul.txt", "line_break_tab_nul.txt"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("LPT9", "_LPT9"),
        ("console.txt", "console.txt"),
        ("  .hidden  ", "hidden"),
        ("trailing dots...", "trailing dots"),
        ('what?*<>|":.mp4', "what_______.mp4"),
        ("right\u202eto-left\u200b.jpg", "right_to-left_.jpg"),
        ("", "asset-1"),
        (None, "asset-1"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name, fallback="asset-1") == expected


def test_a_finished_name_never_ends_like_a_part_being_written() -> None:
    """Found by a breaking run: an asset named ``x.jpg.<key>.part`` was saved under that name, and the next
    download of the asset took it for its own part and truncated it."""
    assert safe_filename("x.jpg.ac7c24579b56.part", fallback="a", mime_type="image/jpeg") == (
        "x.jpg.ac7c24579b56_part.jpg"
    )
    assert safe_filename("clip.PARTIAL", fallback="a", mime_type="video/mp4") == "clip_PARTIAL.mp4"
    assert safe_filename("y.k.part.json", fallback="a") == "y.k_part.json"
    assert safe_filename("a.part.mp4", fallback="a") == "a.part.mp4"


def test_safe_filename_is_nfc_and_keeps_unicode() -> None:
    decomposed = unicodedata.normalize("NFD", "Café Zürich.jpg")
    result = safe_filename(decomposed, fallback="x")
    assert result == "Café Zürich.jpg" and unicodedata.is_normalized("NFC", result)


def test_safe_filename_caps_length_and_keeps_the_extension() -> None:
    long = "ü" * 300 + ".mov"
    result = safe_filename(long, fallback="x")
    assert result.endswith(".mov") and len(result.encode()) <= MAX_NAME_BYTES
    assert result.startswith("ü" * 10) and "\ufffd" not in result


def test_safe_filename_adds_an_extension_from_the_mime_type_and_a_rendition_suffix() -> None:
    assert safe_filename("Sunset", fallback="x", mime_type="image/jpeg") == "Sunset.jpg"
    assert safe_filename("Sunset.jpg", fallback="x", mime_type="image/jpeg", suffix=".web") == "Sunset.web.jpg"
    assert safe_filename("clip", fallback="x", mime_type="video/quicktime") == "clip.mov"
    assert safe_filename("notes", fallback="x", mime_type="application/x-unknown") == "notes"


def test_claim_final_path_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "shot.mov").write_bytes(b"existing")
    (tmp_path / "shot (2).mov").write_bytes(b"existing 2")
    part = tmp_path / "shot.mov.abc.part"
    part.write_bytes(b"new")
    final = claim_final_path(part, "shot.mov")
    assert final == tmp_path / "shot (3).mov" and final.read_bytes() == b"new"
    assert (tmp_path / "shot.mov").read_bytes() == b"existing" and not part.exists()


# ---------------------------------------------------------------- download folder


def test_download_dir_is_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert download_dir(target) == target.resolve() and target.is_dir()


def test_a_relative_download_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a breaking run: ``FOOTAGE_DOWNLOAD_DIR=relative/dir`` was taken relative to the folder the
    host started the server in (it wrote into a clone). Like a relative FOOTAGE_UPLOAD_DIRS, it stops
    ``serve`` at start (build_server raises ConfigError) and ``check`` fails on it."""
    from footage_mcp.core.settings import Settings
    from footage_mcp.surface.server import build_server

    monkeypatch.chdir(tmp_path)
    message = "FOOTAGE_DOWNLOAD_DIR: 'relative/dir' is not an absolute path; give the full path of the folder"
    with pytest.raises(InvalidArgument) as info:
        download_dir(Path("relative/dir"))
    assert info.value.message == message
    with pytest.raises(ConfigError) as config:
        build_server(Settings(download_dir=Path("relative/dir")))
    assert config.value.message == message
    assert list(tmp_path.iterdir()) == []


def test_download_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgument) as info:
        download_dir(tmp_path / "file")
    assert info.value.message == (
        f"FOOTAGE_DOWNLOAD_DIR {tmp_path / 'file'} is a file, not a folder; set it to a folder"
    )


def test_download_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgument) as info:
        download_dir(tmp_path / "file" / "sub")
    assert info.value.message == (
        f"cannot create the download folder {tmp_path / 'file' / 'sub'} (a part of the path is a file, not a "
        "folder); set FOOTAGE_DOWNLOAD_DIR to a folder you can write to"
    )


def test_default_download_dir_is_downloads_footage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert download_dir(None) == (tmp_path / "Downloads" / "footage").resolve()


# ---------------------------------------------------------------- upload confinement


@pytest.fixture
def roots(tmp_path: Path) -> list[Path]:
    inside = tmp_path / "uploads"
    (inside / "shots").mkdir(parents=True)
    (inside / "shots" / "a.jpg").write_bytes(b"a")
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    (tmp_path / "outside").mkdir()
    (inside / "link-out.jpg").symlink_to(tmp_path / "secret.jpg")
    (inside / "dir-link").symlink_to(tmp_path / "outside")
    (inside / "loop").symlink_to(inside / "loop")
    return upload_roots(str(inside))


def test_paths_inside_are_resolved(roots: list[Path]) -> None:
    root = roots[0]
    assert resolve_upload_path("shots/a.jpg", roots) == root / "shots" / "a.jpg"
    assert resolve_upload_path(str(root / "shots"), roots) == root / "shots"
    assert resolve_upload_path("shots/../shots/a.jpg", roots) == root / "shots" / "a.jpg"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "../secret.jpg",
            "'../secret.jpg' is outside the upload folders; upload_assets reads only inside {root} "
            "(FOOTAGE_UPLOAD_DIRS)",
        ),
        (
            "shots/../../secret.jpg",
            "'shots/../../secret.jpg' is outside the upload folders; upload_assets reads "
            "only inside {root} (FOOTAGE_UPLOAD_DIRS)",
        ),
        (
            "/etc/passwd",
            "'/etc/passwd' is outside the upload folders; upload_assets reads only inside {root} (FOOTAGE_UPLOAD_DIRS)",
        ),
        (
            "link-out.jpg",
            "'link-out.jpg' is outside the upload folders (through a symbolic link); upload_assets "
            "reads only inside {root} (FOOTAGE_UPLOAD_DIRS)",
        ),
        (
            "dir-link",
            "'dir-link' is outside the upload folders (through a symbolic link); upload_assets reads only "
            "inside {root} (FOOTAGE_UPLOAD_DIRS)",
        ),
        ("shots/a.jpg\n", None),
        ("shots/\x1b[31ma.jpg", "path contains a control character (a line break, tab or similar); give a plain path"),
        ("", "path is empty; give a file or folder inside the upload folders ({root})"),
        ("missing.jpg", "'missing.jpg' does not exist in the upload folders ({root})"),
        ("loop", "cannot resolve 'loop' (a symlink loop?); give a plain path"),
    ],
)
def test_path_tricks_are_refused(roots: list[Path], raw: str, message: str | None) -> None:
    if message is None:  # a trailing newline is whitespace around the path: stripped
        assert resolve_upload_path(raw, roots) == roots[0] / "shots" / "a.jpg"
        return
    with pytest.raises(InvalidArgument) as info:
        resolve_upload_path(raw, roots)
    assert info.value.message == message.format(root=roots[0])


def test_a_300_character_name_is_refused_clearly(roots: list[Path]) -> None:
    with pytest.raises(InvalidArgument) as info:
        resolve_upload_path("x" * 300 + ".jpg", roots)
    shown = "x" * 40 + "…" + "x" * 26 + ".jpg"
    assert info.value.message == f"cannot use '{shown}' (the name is too long); give another path"


def test_upload_roots_refuse_bad_entries(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError) as info:
        upload_roots(str(tmp_path / "file"))
    assert info.value.message == f"FOOTAGE_UPLOAD_DIRS: {tmp_path / 'file'} is not an existing folder"
    with pytest.raises(ConfigError) as relative:
        upload_roots("relative/dir")
    assert "is not an absolute path" in relative.value.message
    assert upload_roots(f"{tmp_path}{os.pathsep}{os.pathsep} ") == [tmp_path.resolve()]


def test_folder_selection(roots: list[Path], tmp_path: Path) -> None:
    root = roots[0]
    folder = root / "shots"
    (folder / ".hidden.jpg").write_bytes(b"h")
    (folder / "b.mov").write_bytes(b"b")
    (folder / "notes.txt").write_text("n")  # a document: text/plain is not one of the media types
    (folder / "report.pdf").write_bytes(b"%PDF")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.jpg").write_bytes(b"d")
    (folder / "out.jpg").symlink_to(tmp_path / "secret.jpg")
    (folder / "in.jpg").symlink_to(folder / "a.jpg")
    selection = select_upload_files(folder, roots)
    assert [p.name for p in selection.files] == ["a.jpg", "b.mov", "report.pdf"]  # a.jpg once, not twice
    assert selection.skipped == [
        ("in.jpg", "the same file as a.jpg (a link to it): uploaded once"),
        ("out.jpg", "a symbolic link out of the upload folders"),
    ]
    assert selection.notes == ["1 non-media file in the folder left out"]


def test_a_fifo_and_a_name_that_is_not_utf8_in_a_folder_are_skipped_with_a_reason(tmp_path: Path) -> None:
    """Found by a breaking run: a FIFO named like a photo vanished from the report, and a name with bytes
    that are not UTF-8 ended the whole call in an internal error (the multipart header could not encode
    it), losing the other files' outcomes."""
    folder = tmp_path / "mix"
    folder.mkdir()
    (folder / "a_ok.jpg").write_bytes(b"a")
    os.mkfifo(folder / "pipe.jpg")
    with open(os.path.join(os.fsencode(folder), b"b_bad\xff\xfe.jpg"), "wb") as handle:
        handle.write(b"b")
    selection = select_upload_files(folder, [tmp_path])
    assert [p.name for p in selection.files] == ["a_ok.jpg"]
    assert selection.skipped == [
        ("b_bad\ufffd\ufffd.jpg", "the name is not valid UTF-8: rename the file, then upload it"),
        ("pipe.jpg", "not a regular file (a FIFO, socket or device)"),
    ]
    bad = Path(os.fsdecode(os.path.join(os.fsencode(folder), b"b_bad\xff\xfe.jpg")))
    with pytest.raises(InvalidArgument) as info:
        select_upload_files(bad, [tmp_path])
    assert info.value.message == (
        "the file name 'b_bad\\udcff\\udcfe.jpg' is not valid UTF-8; rename the file, then upload it"
    )


def test_a_folder_of_10000_files_is_capped_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(10_000):
        (folder / f"img_{n:05d}.jpg").touch()
    roots = upload_roots(str(tmp_path))
    selection = select_upload_files(folder, roots)
    assert len(selection.files) == MAX_UPLOAD_FILES == 500
    assert selection.files[0].name == "img_00000.jpg" and selection.files[-1].name == "img_00499.jpg"
    assert selection.notes == [
        "the folder holds 10000 media files; only the first 500 by name were taken (at most 500 per call): "
        "move the rest into another folder and upload that"
    ]


def test_a_device_is_neither_file_nor_folder(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument) as info:
        select_upload_files(fifo, [tmp_path])
    assert info.value.message == f"{fifo} is neither a file nor a folder; give a media file or a folder of them"


def test_an_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    selection = select_upload_files(tmp_path / "e", [tmp_path])
    assert selection.files == [] and selection.notes == [
        f"the folder {tmp_path / 'e'} holds no media files (images, videos, audio, documents)"
    ]


# ---------------------------------------------------------------- renditions in asset bodies


def test_renditions_from_every_spelling() -> None:
    hal = {
        "_links": {
            "download": {"href": "https://cdn.example/o/1"},
            "renditions": [{"name": "web", "href": "/r/web", "type": "image/jpeg"}],
        },
        "renditions": [{"name": "web", "mimeType": "image/jpeg", "width": 1600, "height": 900, "fileSize": "1234"}],
    }
    assert original_href(hal) == "https://cdn.example/o/1"
    [link] = rendition_links(hal)
    assert link.href == "/r/web"
    assert link.rendition.model_dump() == {
        "name": "web",
        "mime_type": "image/jpeg",
        "width": 1600,
        "height": 900,
        "size_bytes": 1234,
    }
    items = {"downloadUrl": "https://x/y", "renditions": {"proxy": {"mimeType": "video/mp4", "size": 9, "href": "p"}}}
    assert original_href(items) == "https://x/y"
    assert [(r.rendition.name, r.rendition.size_bytes, r.href) for r in rendition_links(items)] == [("proxy", 9, "p")]
    embedded = {"_embedded": {"renditions": [{"rel": "small", "url": "s", "dimensions": {"width": 3, "height": 4}}]}}
    assert [(r.rendition.name, r.rendition.width, r.rendition.height) for r in rendition_links(embedded)] == [
        ("small", 3, 4)
    ]
    assert renditions_of({"renditions": "garbage"}) is None
    assert renditions_of({"renditions": [1, None, {"href": "no name"}, {"name": ""}]}) is None
    assert original_href({"_links": {"self": {"href": "x"}}}) is None


def test_the_new_asset_id_from_any_answer() -> None:
    import json

    import httpx2

    from footage_mcp.rest.http import Fetched
    from footage_mcp.rest.upload import _created_id

    def answer(body: object = None, **headers: str) -> Fetched:
        content = json.dumps(body).encode() if body is not None else b""
        return Fetched("https://x/api/asset/assets", 201, httpx2.Headers(headers), content)

    assert _created_id(answer({"id": "a1", "name": "x"})) == "a1"
    assert _created_id(answer([{"uuid": "a2"}])) == "a2"
    assert _created_id(answer({"_embedded": {"assets": [{"assetId": "a3"}]}})) == "a3"
    assert _created_id(answer({"items": [{"_links": {"self": {"href": "/api/asset/assets/a4"}}}]})) == "a4"
    assert _created_id(answer(location="https://x/api/asset/assets/a5/")) == "a5"
    assert _created_id(answer({"status": "ok"})) is None
    nested = Fetched(
        "https://x/api/asset/assets",
        201,
        httpx2.Headers({"location": "/api/asset/assets/a6"}),
        b"[" * 100_000 + b"]" * 100_000,
    )
    assert _created_id(nested) == "a6"  # JSON too deep to parse (RecursionError: an internal error before)


@pytest.mark.parametrize(
    ("mime", "ext"), [("audio/wav", ".wav"), ("audio/x-wav", ".wav"), ("image/heic", ".heic"), ("audio/mpeg", ".mp3")]
)
def test_a_name_without_extension_gets_one_from_the_media_type(mime: str, ext: str) -> None:
    """Failed before for audio/wav: Python's mimetypes has no extension for it on Linux."""
    assert safe_filename("Take 2", fallback="asset", mime_type=mime) == "Take 2" + ext


def test_a_fifo_swapped_in_after_selection_is_refused_at_open_not_waited_on(tmp_path: Path) -> None:
    """Found by a breaking run: a media file replaced by a FIFO after the selection blocked ``os.open``
    (no writer ever comes), and with it the event loop and the call. Opened without blocking now, then
    refused as not a regular file."""
    import signal

    from footage_mcp.rest.upload import _open_regular

    fifo = tmp_path / "a.jpg"
    os.mkfifo(fifo)

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("os.open blocked on the FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        with pytest.raises(IsADirectoryError):
            _open_regular(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_an_opened_regular_file_reads_blocking_as_before(tmp_path: Path) -> None:
    from footage_mcp.rest.upload import _open_regular

    path = tmp_path / "b.jpg"
    path.write_bytes(b"\xff\xd8" * 1000)
    with _open_regular(path) as handle:
        assert os.get_blocking(handle.fileno())  # reads wait for data, as a regular file's always do
        assert handle.read() == b"\xff\xd8" * 1000


def test_a_folder_that_became_a_symlink_loop_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a breaking run: the folder replaced by a link loop between its check and its listing made
    ``select_upload_files`` raise an uncaught RuntimeError (an internal error for the whole call)."""
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"x" * 20)
    real_scandir = os.scandir

    def swap_then_list(path: object) -> object:
        listing = real_scandir(path)  # type: ignore[call-overload]
        os.rename(folder, tmp_path / "gone")
        folder.symlink_to(folder)  # a loop
        return listing

    monkeypatch.setattr(os, "scandir", swap_then_list)
    with pytest.raises(InvalidArgument) as info:
        select_upload_files(folder, [tmp_path])
    assert info.value.message == f"cannot list the folder {folder} (a symbolic link loop)"
