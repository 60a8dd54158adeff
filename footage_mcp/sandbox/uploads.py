"""Multipart uploads into the sandbox library: ``POST /assets`` with one part ``files`` per file.

The body is parsed while it arrives (``python-multipart``'s streaming parser) and each file is written to
the store's folder in chunks, hashed on the way; nothing is held whole in memory. A declared
``Content-Length`` over the limit is refused with 413 before the body is read; a body that grows past it
while streaming gets 413 too (the partial file is deleted). Each file becomes an asset (kind from the
part's type or the file name; pixel size read from an image's header) that search, album listings and
previews see at once. An optional part ``album`` names an album to add the new assets to.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ApiError
from .library import Asset

__all__ = ["ParsedFile", "UploadParser", "asset_from_upload", "kind_of"]

_DOCUMENTS = ("application/", "text/")


def kind_of(mime: str) -> str:
    """The media kind of a MIME type (``application/*`` and ``text/*`` are documents)."""
    top = mime.split("/", 1)[0]
    return top if top in ("image", "video", "audio") else "document"


@dataclass(slots=True)
class ParsedFile:
    """One uploaded file as stored: its name, declared type, path, size and SHA-256."""

    filename: str
    content_type: str | None
    path: Path
    size: int = 0
    sha256: str = ""


@dataclass(slots=True)
class _Part:
    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    handle: BinaryIO | None = None
    hasher: Any = None
    value: bytearray = field(default_factory=bytearray)
    file: ParsedFile | None = None


def _disposition(value: str) -> tuple[str | None, str | None]:
    """``name`` and ``filename`` of a ``Content-Disposition: form-data`` header (quoted, UTF-8)."""
    name = filename = None
    for piece in _split_params(value)[1:]:
        key, _, raw = piece.partition("=")
        key = key.strip().lower()
        text = raw.strip()
        if text.startswith('"') and text.endswith('"') and len(text) >= 2:
            text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if key == "name":
            name = text
        elif key == "filename":
            filename = text
    return name, filename


def _split_params(value: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


class UploadParser:
    """Feeds a multipart body into files under ``folder``; :meth:`feed` per chunk, :meth:`finish` at the end.

    Raises ApiError 413 (over ``limit`` bytes of file data) and 400 (malformed body) from :meth:`feed` /
    :meth:`finish`; on any error :meth:`discard` deletes what was written.
    """

    def __init__(self, content_type: str, folder: Path, limit: int) -> None:
        from python_multipart.multipart import MultipartParser, parse_options_header

        kind, options = parse_options_header(content_type)
        if kind != b"multipart/form-data" or b"boundary" not in options:
            raise ApiError(415, "Uploads must be multipart/form-data with one part named 'files' per file")
        self.folder = folder
        self.limit = limit
        self.total = 0
        self.files: list[ParsedFile] = []
        self.fields: dict[str, str] = {}
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._error: ApiError | None = None
        callbacks: Any = {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
        }
        self._parser = MultipartParser(options[b"boundary"], callbacks)

    def _on_part_begin(self) -> None:
        self._part = _Part()
        self._headers = {}

    def _on_header_end(self) -> None:
        key = self._header_field.decode("latin-1").strip().lower()
        self._headers[key] = self._header_value.decode("utf-8", errors="replace")
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        part.name, part.filename = _disposition(self._headers.get("content-disposition", ""))
        part.content_type = self._headers.get("content-type")
        if part.name == "files" and part.filename is not None:
            path = self.folder / uuid.uuid4().hex
            part.handle = path.open("wb")
            part.hasher = hashlib.sha256()
            part.file = ParsedFile(part.filename, part.content_type, path)
            self.files.append(part.file)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        piece = data[start:end]
        if part.handle is not None and part.file is not None:
            self.total += len(piece)
            if self.total > self.limit:
                self._error = ApiError(413, f"Maximum upload size exceeded ({self.limit} bytes)")
                return
            part.handle.write(piece)
            part.hasher.update(piece)
            part.file.size += len(piece)
        elif len(part.value) < 4096:
            part.value += piece

    def _on_part_end(self) -> None:
        part = self._part
        if part.handle is not None and part.file is not None:
            part.handle.close()
            part.file.sha256 = part.hasher.hexdigest()
        elif part.name:
            self.fields[part.name] = part.value.decode("utf-8", errors="replace")

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except Exception as exc:  # python-multipart's errors: a malformed body
            self.discard()
            raise ApiError(400, f"Malformed multipart body: {type(exc).__name__}") from None
        if self._error is not None:
            self.discard()
            raise self._error

    def finish(self) -> list[ParsedFile]:
        self._parser.finalize()
        if self._part.handle is not None and not self._part.handle.closed:
            self.discard()
            raise ApiError(400, "The multipart body ended in the middle of a file")
        if not self.files:
            raise ApiError(400, "Required part 'files' is not present")
        return self.files

    def discard(self) -> None:
        if self._part.handle is not None:
            self._part.handle.close()
        for parsed in self.files:
            with contextlib.suppress(OSError):
                os.unlink(parsed.path)


def _pixels(path: Path, mime: str) -> tuple[int | None, int | None]:
    if not mime.startswith("image/"):
        return None, None
    try:
        from PIL import Image

        with Image.open(path) as image:
            width, height = image.size
            return int(width), int(height)
    except Exception:  # not a readable image: no pixel size
        return None, None


def asset_from_upload(parsed: ParsedFile, album_ids: tuple[str, ...] = ()) -> Asset:
    """A new library asset for an uploaded file (created now; previews for images and videos)."""
    declared = (parsed.content_type or "").split(";")[0].strip().lower()
    mime = declared if "/" in declared and declared != "application/octet-stream" else None
    mime = mime or mimetypes.guess_type(parsed.filename)[0] or "application/octet-stream"
    kind = kind_of(mime)
    width, height = _pixels(parsed.path, mime)
    now = datetime.now(UTC).replace(microsecond=0)
    name = os.path.basename(parsed.filename.replace("\\", "/")) or "upload"
    return Asset(
        id=str(uuid.uuid4()),
        name=name,
        description=f"Uploaded {now:%Y-%m-%d}.",
        kind=kind,
        mime_type=mime,
        size_bytes=parsed.size,
        duration=None,
        width=width,
        height=height,
        created=now,
        updated=now,
        keywords=(),
        labels=(),
        album_ids=album_ids,
        relations=(),
        preview_available=kind in ("image", "video"),
        rating=0,
        color_label=None,
        checksum=parsed.sha256,
    )
