"""Original files and renditions of sandbox assets, generated while they stream, and how they are served.

Every asset has an original of exactly its declared size (``size_bytes``): for a JPEG or PNG image of at
most :data:`MAX_REAL_PIXELS` a real image of the declared pixel size comes first (followed by
deterministic padding up to the declared size, which image readers ignore); everything else is
deterministic bytes from the asset id. Nothing is held in memory beyond one 1 MiB pattern per asset
and a small cache of image heads. Uploaded assets are served from their stored file.

Renditions: images have ``web`` (JPEG, 1600 px) and ``thumbnail`` (JPEG, 320 px); videos ``proxy``
(MP4, 1280×720, deterministic bytes) and ``poster`` (JPEG, 1600 px). ``preview`` is the existing preview.

Served with ``Accept-Ranges: bytes``, a strong ``ETag``, ``Last-Modified``, ``Content-Disposition``
(``attachment`` with an RFC 6266 ``filename*``); ``Range: bytes=a-b`` / ``a-`` / ``-n`` gives 206 with
``Content-Range`` (416 when unsatisfiable), ``If-Range`` with another validator gives the whole file.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from starlette.types import Scope, Send

from .faults import InjectedAbort
from .library import Asset
from .previews import LARGE_EDGE, SMALL_EDGE, preview_size, render_preview

__all__ = ["ZERO_COPY", "Blob", "FileFault", "blob_for", "rendition_specs", "send_blob", "zero_copy"]

MAX_REAL_PIXELS: Final = 40_000_000
"""Images up to this many pixels get a real image head (JPEG/PNG encoding of a flat picture is cheap)."""
PATTERN_BYTES: Final = 1024 * 1024
SEND_BYTES: Final = 1024 * 1024
PROXY_BYTES_PER_SECOND: Final = 250_000
MAX_PROXY_BYTES: Final = 64 * 1024 * 1024
ZERO_COPY: Final = "http.response.zerocopysend"
"""The ASGI Zero Copy Send extension: offered by the sandbox's own uvicorn protocol (:mod:`.zerocopy`), used
for stored files when a request's scope lists it."""

_EXT: Final = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    """A rendition an asset lists: name, MIME type, pixel size and byte size."""

    name: str
    mime_type: str
    width: int | None
    height: int | None
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Blob:
    """One servable file: exact size, type, validator, download name, and where its bytes come from
    (``head`` bytes then deterministic padding from ``seed``, or a stored ``path``)."""

    size: int
    mime_type: str
    etag: str
    filename: str
    seed: str
    head: bytes = b""
    path: Path | None = None
    modified: Any = None

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``start`` ≤ i < ``end``, in pieces of at most :data:`SEND_BYTES`."""
        if self.path is not None:
            with self.path.open("rb") as handle:
                handle.seek(start)
                left = end - start
                while left > 0:
                    block = handle.read(min(SEND_BYTES, left))
                    if not block:
                        return
                    left -= len(block)
                    yield block
            return
        position = start
        if position < len(self.head):
            piece = self.head[position : min(end, len(self.head))]
            yield piece
            position += len(piece)
        pattern = _pattern(self.seed)
        while position < end:
            offset = position % PATTERN_BYTES
            n = min(end - position, PATTERN_BYTES - offset, SEND_BYTES)
            yield pattern[offset : offset + n]
            position += n


@lru_cache(maxsize=64)
def _pattern(seed: str) -> bytes:
    """1 MiB of deterministic bytes for ``seed`` (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    key = seed.encode()
    while len(out) < PATTERN_BYTES:
        out += hashlib.sha256(key + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:PATTERN_BYTES])


@lru_cache(maxsize=8)
def _image_head(asset_id: str, mime: str, width: int, height: int) -> bytes:
    """A real JPEG/PNG of ``width`` × ``height``: a flat colour from the asset id (cheap to encode)."""
    from PIL import Image

    digest = hashlib.sha256(asset_id.encode()).digest()
    image = Image.new("RGB", (width, height), (digest[0], digest[1], digest[2]))
    buffer = io.BytesIO()
    if mime == "image/png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=40)
    return buffer.getvalue()


def download_name(asset: Asset, rendition: str, mime: str) -> str:
    stem, ext = os.path.splitext(asset.name)
    if ext.lower() not in {e for e in _EXT.values()} | {".jpeg", ".tiff", ".docx", ".xlsx"}:
        stem, ext = asset.name, _EXT.get(mime, "")
    if rendition == "original":
        return stem + ext
    return f"{stem}.{rendition}{_EXT.get(mime, ext)}"


def rendition_specs(asset: Asset) -> list[RenditionSpec]:
    """The renditions ``asset`` offers (none for audio and documents)."""
    if asset.kind == "image" and asset.preview_available:
        w, h = preview_size("image", asset.width, asset.height, LARGE_EDGE)
        tw, th = preview_size("image", asset.width, asset.height, SMALL_EDGE)
        return [
            RenditionSpec("web", "image/jpeg", w, h, _preview_length(asset, True)),
            RenditionSpec("thumbnail", "image/jpeg", tw, th, _preview_length(asset, False)),
        ]
    if asset.kind == "video":
        size = min(MAX_PROXY_BYTES, max(64 * 1024, round((asset.duration or 10) * PROXY_BYTES_PER_SECOND)))
        specs = [RenditionSpec("proxy", "video/mp4", 1280, 720, size)]
        if asset.preview_available:
            w, h = preview_size("video", asset.width, asset.height, LARGE_EDGE)
            specs.append(RenditionSpec("poster", "image/jpeg", w, h, _preview_length(asset, True)))
        return specs
    return []


def _preview_bytes(asset: Asset, large: bool) -> bytes:
    return render_preview(asset.id, asset.kind, asset.width, asset.height, large=large)


def _preview_length(asset: Asset, large: bool) -> int:
    """``len(_preview_bytes(asset, large))``, rendered at most once per process per rendition while it is
    kept: the bytes depend only on these arguments, so the size stated is the size later served."""
    return _rendered_length(asset.id, asset.kind, asset.width, asset.height, large)


@lru_cache(maxsize=4096)
def _rendered_length(asset_id: str, kind: str, width: int | None, height: int | None, large: bool) -> int:
    """The byte size of one rendition preview (a single-asset GET states both; rendering the large one
    costs 20-40 ms, and a library walk of 240 previewable assets overflows render_preview's byte cache)."""
    return len(render_preview(asset_id, kind, width, height, large=large))


def blob_for(asset: Asset, rendition: str, stored: Path | None = None) -> Blob | None:
    """The file ``rendition`` (``original`` or a name of :func:`rendition_specs`) of ``asset``; None if none."""
    modified = format_datetime(asset.updated, usegmt=True)
    if rendition == "original":
        etag = f'"{asset.id}-o-{asset.size_bytes}"'
        name = download_name(asset, "original", asset.mime_type)
        if stored is not None:
            return Blob(asset.size_bytes, asset.mime_type, etag, name, asset.id, path=stored, modified=modified)
        head = b""
        if (
            asset.mime_type in ("image/jpeg", "image/png")
            and asset.width
            and asset.height
            and asset.width * asset.height <= MAX_REAL_PIXELS
        ):
            head = _image_head(asset.id, asset.mime_type, asset.width, asset.height)
            if len(head) > asset.size_bytes:
                head = b""
        return Blob(asset.size_bytes, asset.mime_type, etag, name, asset.id, head=head, modified=modified)
    spec = next((s for s in rendition_specs(asset) if s.name == rendition), None)
    if spec is None:
        return None
    etag = f'"{asset.id}-{spec.name}-{spec.size_bytes}"'
    name = download_name(asset, spec.name, spec.mime_type)
    if spec.mime_type == "image/jpeg":
        data = _preview_bytes(asset, spec.name != "thumbnail")
        return Blob(len(data), spec.mime_type, etag, name, asset.id, head=data, modified=modified)
    return Blob(spec.size_bytes, spec.mime_type, etag, name, f"{asset.id}/{spec.name}", modified=modified)


def content_disposition(filename: str) -> str:
    """``attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`` (RFC 6266)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(start, end_exclusive)`` for one ``bytes=`` range, None for no (or a multi-) range, ``"bad"`` when
    unsatisfiable."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.split("=", 1)[1].strip()
    if "," in spec:
        return None
    first, _, last = spec.partition("-")
    try:
        if not first:
            n = int(last)
            if n <= 0:
                return "bad"
            return (max(0, size - n), size)
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if start >= size or end <= start:
        return "bad"
    return (start, min(end, size))


@dataclass(slots=True)
class FileFault:
    """A file-transfer fault: ``drop`` (close the connection after ``after_bytes``), ``status`` (answer
    ``status``; for an upload after reading ``after_bytes`` of the body), ``slow`` (``bytes_per_second``)."""

    kind: str
    after_bytes: int = 0
    status: int = 503
    bytes_per_second: int = 1_000_000


def zero_copy(scope: Scope) -> bool:
    """Whether the server offers :data:`ZERO_COPY` for this request."""
    return ZERO_COPY in (scope.get("extensions") or {})


async def send_blob(
    send: Send,
    blob: Blob,
    method: str,
    headers: dict[str, str],
    fault: FileFault | None,
    *,
    zero_copy: bool = False,
) -> tuple[int, int]:
    """Send ``blob`` as the response (Range, If-Range, ETag, Content-Disposition); returns (status, bytes sent).
    With ``zero_copy`` (the server offers :data:`ZERO_COPY`) a stored file without a fault goes in one
    zero-copy message.

    Raises:
        InjectedAbort: a ``drop`` fault after its bytes (the server then drops the connection).
    """
    base = [
        (b"accept-ranges", b"bytes"),
        (b"etag", blob.etag.encode()),
        (b"content-type", blob.mime_type.encode()),
        (b"content-disposition", content_disposition(blob.filename).encode("latin-1")),
        (b"cache-control", b"private, max-age=3600"),
    ]
    if blob.modified:
        base.append((b"last-modified", str(blob.modified).encode()))
    wanted = parse_range(headers.get("range"), blob.size)
    if_range = headers.get("if-range")
    if wanted is not None and if_range is not None and if_range.strip() not in (blob.etag, str(blob.modified)):
        wanted = None
    if wanted == "bad":
        start_headers = [*base, (b"content-range", f"bytes */{blob.size}".encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 416, "headers": start_headers})
        await send({"type": "http.response.body", "body": b""})
        return 416, 0
    status, start, end = 200, 0, blob.size
    if isinstance(wanted, tuple):
        status, (start, end) = 206, wanted
        base.append((b"content-range", f"bytes {start}-{end - 1}/{blob.size}".encode()))
    base.append((b"content-length", str(end - start).encode()))
    await send({"type": "http.response.start", "status": status, "headers": base})
    if method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return status, 0
    if zero_copy and fault is None and blob.path is not None and end > start:
        with blob.path.open("rb") as handle:
            await send({"type": ZERO_COPY, "file": handle, "offset": start, "count": end - start, "more_body": False})
        return status, end - start
    sent = 0
    limit = fault.after_bytes if fault is not None and fault.kind == "drop" else None
    pieces = blob.chunks(start, end)
    if fault is not None and fault.kind == "slow":
        pieces = (c[i : i + 16384] for c in pieces for i in range(0, len(c), 16384))
    for chunk in pieces:
        if limit is not None and sent + len(chunk) >= limit:
            piece = chunk[: max(0, limit - sent)]
            if piece:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            raise InjectedAbort(f"connection dropped after {limit} bytes (injected file fault)")
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        sent += len(chunk)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(len(chunk) / max(1, fault.bytes_per_second))
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return status, sent
