"""Local file rules for downloads and uploads: safe file names, the download folder, confined upload paths.

Nothing here talks HTTP. Every refusal is an :class:`~footage_mcp.core.errors.InvalidArgument` (or a
:class:`~footage_mcp.core.errors.ConfigError` for a bad folder setting) whose message names the
problem and the fix.

* :func:`safe_filename` turns an asset name (API data: anything at all) into one file name that is
  valid on Linux, macOS and Windows.
* :func:`download_dir` is ``FOOTAGE_DOWNLOAD_DIR`` (default: the user's Downloads folder + ``footage``),
  created on first use; :func:`claim_final_path` puts a finished file under a name nobody has yet.
* :func:`upload_roots` and :func:`resolve_upload_path` confine ``upload_assets`` to ``FOOTAGE_UPLOAD_DIRS``:
  the path is resolved (symlinks included) *before* the check, so a link out of a folder is refused.
"""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from footage_mcp.core.errors import ConfigError, InvalidArgument
from footage_mcp.core.text import has_control

MAX_NAME_BYTES = 180
"""Longest file name written (UTF-8 bytes, extension included). File systems allow 255; the rest is
room for a `` (12)`` counter and the ``.<key>.part`` suffix of a download in progress."""
MAX_EXTENSION_CHARS = 12
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{n}" for n in "123456789¹²³"}
    | {f"LPT{n}" for n in "123456789¹²³"}
)
"""Device names Windows refuses as a file name, with any extension (``nul.txt`` too)."""
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]')
MAX_UPLOAD_FILES = 500
"""Most files one ``upload_assets`` call takes from a folder (the first ones by name)."""
MEDIA_PREFIXES = ("image/", "video/", "audio/")
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
"""Documents count as media files of a folder (footage.one keeps documents as assets, footage-api.md)."""
_EXTRA_TYPES = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".webp": "image/webp",
    ".mxf": "application/mxf",
    ".mkv": "video/x-matroska",
    ".m4v": "video/x-m4v",
    ".dng": "image/x-adobe-dng",
    ".cr2": "image/x-canon-cr2",
    ".nef": "image/x-nikon-nef",
    ".arw": "image/x-sony-arw",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".opus": "audio/opus",
}


MEDIA_EXTENSIONS: dict[str, str] = {
    "audio/wav": ".wav",
    "audio/wave": ".wav",
    "audio/x-wav": ".wav",
    "audio/flac": ".flac",
    "audio/aac": ".aac",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/avif": ".avif",
    "video/x-matroska": ".mkv",
    "video/mp2t": ".ts",
}
"""Media types whose extension Python's ``mimetypes`` does not know on every platform (``audio/wav``
has none on Linux with the stdlib table alone)."""


def guess_mime(name: str) -> str | None:
    """The MIME type a file name's extension says (``mimetypes`` plus common camera and media formats)."""
    ext = os.path.splitext(name)[1].lower()
    if ext in _EXTRA_TYPES:
        return _EXTRA_TYPES[ext]
    return mimetypes.guess_type(name, strict=False)[0]


def is_media_name(name: str) -> bool:
    """True for image, video, audio and document file names (by extension); ``.mxf`` counts as video."""
    mime = guess_mime(name)
    if mime is None:
        return False
    return mime.startswith(MEDIA_PREFIXES) or mime in DOCUMENT_TYPES or mime == "application/mxf"


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


_WORK_FILE_END = re.compile(r"\.(part|partial)(\.json)?$", re.IGNORECASE)
"""How the names of the files a download works in end (``<name>.<key>.part``, ``….partial``, and their
``.json`` notes): a finished file's name never does, so a later download can neither resume into it nor
write a note over it (an asset named ``x.jpg.<key>.part`` was truncated by the next download of it)."""


def safe_filename(name: str | None, *, fallback: str, mime_type: str | None = None, suffix: str = "") -> str:
    """One file name, safe on every OS, made from ``name`` (an asset name from the API).

    NFC-normalised; path separators, control, bidi and zero-width characters and ``<>:"|?*`` become
    ``_``; leading dots and spaces and trailing dots and spaces go (so no ``.`` / ``..`` and no hidden
    file); Windows device names (``CON``, ``nul.txt``, ``COM1`` …) get a leading ``_``; at most
    :data:`MAX_NAME_BYTES` UTF-8 bytes, the extension kept; a name ending like a part being written
    (``.part``, ``.partial``, with or without ``.json``) gets ``_`` for that dot. ``suffix`` (e.g.
    ``.web`` for a rendition) goes
    before the extension. Without a usable extension, one for ``mime_type`` is added. An empty result
    becomes ``fallback`` (made safe the same way). Never raises.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    text = re.sub(r"\.{2,}", ".", text)
    if not text or set(text) <= {"_", " "}:
        text = _FORBIDDEN.sub("_", unicodedata.normalize("NFC", fallback)).strip(" .") or "file"
    text = _WORK_FILE_END.sub(r"_\1\2", text)  # never the name of a part (or its note) being written
    stem, ext = os.path.splitext(text)
    if not stem or len(ext) > MAX_EXTENSION_CHARS or not re.fullmatch(r"\.[\w-]+", ext):
        stem, ext = text, ""
    if not ext and mime_type:
        kind = mime_type.split(";")[0].strip().lower()
        ext = MEDIA_EXTENSIONS.get(kind) or mimetypes.guess_extension(kind, strict=False) or ""
        ext = {".jpe": ".jpg", ".jpeg": ".jpg", ".qt": ".mov", ".tiff": ".tif"}.get(ext, ext)
    stem = stem + _FORBIDDEN.sub("_", suffix)
    if stem.split(".")[0].strip().upper() in WINDOWS_RESERVED:
        stem = "_" + stem
    stem = _cut_utf8(stem, MAX_NAME_BYTES - len(ext.encode("utf-8"))).rstrip(" .") or "file"
    return stem + ext


def numbered(name: str, n: int) -> str:
    """``name`` with `` (n)`` before its extension (``shot.mov`` → ``shot (2).mov``)."""
    stem, ext = os.path.splitext(name)
    return f"{stem} ({n}){ext}"


# ---------------------------------------------------------------- the download folder


def default_download_dir() -> Path:
    """The user's Downloads folder + ``footage``: ``$XDG_DOWNLOAD_DIR`` when set (Linux), else ``~/Downloads``."""
    xdg = os.environ.get("XDG_DOWNLOAD_DIR")
    base = Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) else Path.home() / "Downloads"
    return base / "footage"


def check_download_dir(configured: Path | None) -> Path:
    """The download folder ``FOOTAGE_DOWNLOAD_DIR`` names (or the default), absolute, not created.

    Raises:
        ConfigError: ``configured`` is a relative path (relative to whatever folder the host started the
            server in: never meant), as for ``FOOTAGE_UPLOAD_DIRS``.
    """
    if configured is not None and not configured.expanduser().is_absolute():
        raise ConfigError(
            f"FOOTAGE_DOWNLOAD_DIR: {str(configured)!r} is not an absolute path; give the full path of the folder"
        )
    return (configured.expanduser() if configured else default_download_dir()).absolute()


def download_dir(configured: Path | None) -> Path:
    """The absolute download folder (``FOOTAGE_DOWNLOAD_DIR`` or :func:`default_download_dir`), created if missing.

    Raises:
        InvalidArgument: ``configured`` is a relative path (the server's working directory is the host's
            choice), or the folder cannot be created or is not a writable folder (the message names it
            and says what to change).
    """
    try:
        folder = check_download_dir(configured)
    except ConfigError as exc:  # serve refuses to start with it (surface/tools/files.py): a safeguard here
        raise InvalidArgument(exc.message) from None
    if folder.exists() and not folder.is_dir():
        raise InvalidArgument(f"FOOTAGE_DOWNLOAD_DIR {folder} is a file, not a folder; set it to a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgument(
            f"cannot create the download folder {folder} ({describe_os_error(exc)}); "
            "set FOOTAGE_DOWNLOAD_DIR to a folder you can write to"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgument(
            f"the download folder {folder} is not writable; set FOOTAGE_DOWNLOAD_DIR to a folder you can write to"
        )
    return folder.resolve()


def part_key(asset_id: str, rendition: str) -> str:
    """A short key naming the ``.part`` file of one asset's rendition (the same on every attempt)."""
    return hashlib.sha256(f"{asset_id}\x00{rendition}".encode()).hexdigest()[:12]


def claim_final_path(part: Path, name: str) -> Path:
    """Move the finished ``part`` file to ``name`` in its folder without ever overwriting: when the name is
    taken, `` (2)``, `` (3)`` … are tried. A hard link is the atomic "create only if absent" step; where the
    file system has none, an exists check and a rename.

    Raises:
        OSError: the move failed (the ``.part`` file is left where it was).
    """
    folder = part.parent
    for n in range(1, 10_000):
        candidate = folder / (name if n == 1 else numbered(name, n))
        try:
            os.link(part, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
                raise
            if candidate.exists():
                continue
            os.replace(part, candidate)
            return candidate
        os.unlink(part)
        return candidate
    raise FileExistsError(f"too many files named like {name} in {folder}")


_OS_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
    errno.EIO: "an input/output error",
}


def describe_os_error(exc: OSError) -> str:
    """A short phrase for an OS error ("the disk is full", "permission denied" …), never a traceback."""
    return _OS_ERRORS.get(exc.errno or 0) or (exc.strerror or type(exc).__name__).lower()


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


# ---------------------------------------------------------------- upload confinement


def upload_roots(configured: str | None) -> list[Path]:
    """The resolved folders of ``FOOTAGE_UPLOAD_DIRS`` (``os.pathsep``-separated; blanks ignored).

    Raises:
        ConfigError: an entry that is relative, missing or not a folder.
    """
    roots: list[Path] = []
    for entry in (configured or "").split(os.pathsep):
        text = entry.strip()
        if not text:
            continue
        path = Path(text).expanduser()
        if not path.is_absolute():
            raise ConfigError(f"FOOTAGE_UPLOAD_DIRS: {text!r} is not an absolute path; give full folder paths")
        if not path.is_dir():
            raise ConfigError(f"FOOTAGE_UPLOAD_DIRS: {path} is not an existing folder")
        roots.append(path.resolve())
    return roots


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_upload_path(raw: str, roots: Sequence[Path]) -> Path:
    """The resolved path ``raw`` names, inside one of ``roots``.

    ``raw`` is absolute, or relative to the first upload folder; ``~`` is expanded. The path is resolved
    with every symlink followed, then checked, so ``..`` and links out of the folders are refused alike.

    Raises:
        InvalidArgument: empty, control characters, outside the upload folders, or not there.
    """
    text = raw.strip()
    folders = ", ".join(str(r) for r in roots)
    if not text:
        raise InvalidArgument(f"path is empty; give a file or folder inside the upload folders ({folders})")
    if has_control(text):
        raise InvalidArgument("path contains a control character (a line break, tab or similar); give a plain path")
    if len(text) > 4096:
        raise InvalidArgument("path is longer than 4096 characters; give a shorter path")
    if not roots:
        raise InvalidArgument("no upload folders are configured (FOOTAGE_UPLOAD_DIRS)")
    given = Path(text).expanduser()
    candidate = given if given.is_absolute() else roots[0] / given
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError):
        raise InvalidArgument(f"cannot resolve {text!r} (a symlink loop?); give a plain path") from None
    if not _inside(resolved, roots):
        lexical = Path(os.path.normpath(candidate.absolute()))
        via = " (through a symbolic link)" if _inside(lexical, roots) else ""
        raise InvalidArgument(
            f"{text!r} is outside the upload folders{via}; upload_assets reads only inside {folders} "
            "(FOOTAGE_UPLOAD_DIRS)"
        )
    try:
        resolved.stat()
    except FileNotFoundError:
        raise InvalidArgument(f"{text!r} does not exist in the upload folders ({folders})") from None
    except OSError as exc:
        raise InvalidArgument(f"cannot use {_shown(text)} ({describe_os_error(exc)}); give another path") from None
    return resolved


def _shown(text: str) -> str:
    """``text`` quoted for a message, its middle cut when long."""
    return repr(text if len(text) <= 80 else text[:40] + "…" + text[-30:])


@dataclass(slots=True)
class UploadSelection:
    """What a path names: the files to upload (resolved, inside the roots, sorted by name), the ones left out
    with why (``(name, reason)``), and notes (the cap)."""

    files: list[Path]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _utf8(name: str) -> bool:
    """Whether a file name decoded from the file system is valid UTF-8 (undecodable bytes arrive as lone
    surrogates, which a multipart ``filename`` cannot carry)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def select_upload_files(target: Path, roots: Sequence[Path], *, cap: int = MAX_UPLOAD_FILES) -> UploadSelection:
    """The files to upload for ``target`` (from :func:`resolve_upload_path`).

    A file is taken as it is (any type). A folder gives its media files (:func:`is_media_name`), not
    recursively; hidden files (``.name``), subfolders, non-media files and symlinks that lead out of the
    upload folders are left out; listed in ``skipped``: the outside and broken links, media names that
    are not regular files (FIFOs, sockets, devices) or not valid UTF-8, and a second link to a file
    already taken (each file is uploaded once). At most ``cap``
    files, the first by name; a note says how many more there were.

    Raises:
        InvalidArgument: ``target`` is neither a regular file nor a folder (a device, a socket …), a file
            whose name is not valid UTF-8, or the folder cannot be listed.
    """
    if target.is_file():
        if not _utf8(target.name):
            raise InvalidArgument(f"the file name {target.name!r} is not valid UTF-8; rename the file, then upload it")
        return UploadSelection(files=[target])
    if not target.is_dir():
        raise InvalidArgument(f"{target} is neither a file nor a folder; give a media file or a folder of them")
    selection = UploadSelection(files=[])
    try:
        entries = sorted(os.scandir(target), key=lambda e: e.name)
        base = target.resolve(strict=True)  # after the listing: what the entries' paths are under
    except RuntimeError:  # the folder became a symbolic link loop (Python 3.13 raises ELOOP instead)
        raise InvalidArgument(f"cannot list the folder {target} (a symbolic link loop)") from None
    except OSError as exc:
        why = "a symbolic link loop" if exc.errno == errno.ELOOP else describe_os_error(exc)
        raise InvalidArgument(f"cannot list the folder {target} ({why})") from None
    candidates: list[Path] = []
    taken: dict[Path, str] = {}  # resolved path -> the entry that took it
    others = 0
    base_inside = _inside(base, roots)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        shown = entry.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        try:
            if entry.is_symlink():  # followed to where it leads, then checked like any path
                resolved = Path(entry.path).resolve(strict=True)
                inside, folder, regular = _inside(resolved, roots), resolved.is_dir(), resolved.is_file()
            else:  # the folder's own entry: its real path without a realpath per entry (10,000 in 0.1 s)
                resolved = base / entry.name
                inside = base_inside
                folder = entry.is_dir(follow_symlinks=False)
                regular = entry.is_file(follow_symlinks=False)
        except (OSError, RuntimeError):
            selection.skipped.append((shown, "a broken symbolic link"))
            continue
        if not inside:
            selection.skipped.append((shown, "a symbolic link out of the upload folders"))
            continue
        if folder:
            continue  # subfolders are not uploaded (not recursive)
        if not is_media_name(entry.name):
            others += 1
            continue
        if not regular:
            selection.skipped.append((shown, "not a regular file (a FIFO, socket or device)"))
            continue
        if not _utf8(entry.name) or not _utf8(resolved.name):
            selection.skipped.append((shown, "the name is not valid UTF-8: rename the file, then upload it"))
            continue
        if resolved in taken:
            selection.skipped.append((shown, f"the same file as {taken[resolved]} (a link to it): uploaded once"))
            continue
        taken[resolved] = entry.name
        candidates.append(resolved)
    if others:
        selection.notes.append(f"{others} non-media file{'s' if others > 1 else ''} in the folder left out")
    if len(candidates) > cap:
        selection.notes.append(
            f"the folder holds {len(candidates)} media files; only the first {cap} by name were taken "
            f"(at most {cap} per call): move the rest into another folder and upload that"
        )
        candidates = candidates[:cap]
    if not candidates and not selection.skipped:
        selection.notes.append(f"the folder {target} holds no media files (images, videos, audio, documents)")
    selection.files = candidates
    return selection
