"""Preview images sized for a model, decoded safely.

Every preview is *re-encoded* (never passed on as the upstream sent it): at most :data:`MAX_EDGE_PX`
on the long edge and about :data:`TARGET_BYTES`, with no metadata at all (no PNG text chunks, EXIF,
XMP, ICC profile or JPEG comment survives, so nothing the upstream embedded reaches the model). The
format is sniffed from the bytes, not taken from the upstream's ``Content-Type``.

Decoding is bounded and off the event loop (:func:`fit_preview_async`): the size an image declares
in its header is checked against :data:`MAX_PIXELS` *before* any pixel is decoded, JPEGs are decoded
at a reduced scale (``draft``), and decoding runs in a worker thread, at most
:data:`DECODE_THREADS` at a time, so other calls keep answering while previews are processed.
Pillow is imported lazily (only when a preview is actually shown).
"""

from __future__ import annotations

import asyncio
import io
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import anyio

log = logging.getLogger(__name__)

MAX_EDGE_PX = 768
TARGET_BYTES = 200_000
MAX_PIXELS = 4096 * 4096
"""Most pixels a preview may declare (16.8 MP, 4096×4096). Pillow's own bomb limit is ~179 MP, which
lets a 690 KB PNG cost gigabytes; a preview for a model needs 768 px on the long edge."""
DECODE_THREADS = 2
"""Previews decoded at once (worker threads); more wait for a free one."""
PASSTHROUGH_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
"""Output types a caller may accept; PNG is produced for images with transparency when allowed."""
MAGIC = {"JPEG": (b"\xff\xd8\xff",), "PNG": (b"\x89PNG\r\n\x1a\n",), "GIF": (b"GIF87a", b"GIF89a")}
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


class UnreadableImage(ValueError):
    """The bytes are not an image the bridge will decode; ``reason`` completes "the preview …"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PreviewImage:
    """Re-encoded image bytes with their MIME type and pixel size."""

    data: bytes
    mime_type: str
    width: int
    height: int


def quiet_pillow_bomb_warning() -> None:
    """Silence Pillow's ``DecompressionBombWarning`` (an image of 89-179 megapixels opened) for the process:
    the bridge judges every preview's declared size itself before decoding it (:data:`MAX_PIXELS` here,
    ``surface.sheets.MAX_SOURCE_PIXELS``) and refuses it with its own message, so the warning only put
    "could be decompression bomb DOS attack" on stderr for a refusal already reported. Called before each
    decode: ``warnings`` keeps the filter once (a duplicate is dropped), and a test's capture resets it."""
    import warnings

    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def sniff(data: bytes) -> str | None:
    """The image format of ``data`` from its first bytes (``JPEG``, ``PNG``, ``GIF``, ``WEBP``), or None."""
    for name, signatures in MAGIC.items():
        if data.startswith(signatures):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_head(head: bytes, content_type: str) -> None:
    """Refuse a preview from its first bytes, before the rest is read: not an image format the bridge
    reads, a broken JPEG structure, or a declared size over :data:`MAX_PIXELS`. A body not labelled
    ``image/*`` is left to the caller's label check.

    Raises:
        UnreadableImage: the reason, as :func:`fit_preview` would give it.
    """
    if not content_type.strip().lower().startswith("image/"):
        return
    kind = sniff(head)
    if kind is None:
        raise UnreadableImage("is not an image the bridge reads (not JPEG, PNG, GIF or WebP)")
    size: tuple[int, int] | None = None
    if kind == "PNG" and len(head) >= 24 and head[12:16] == b"IHDR":
        size = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    elif kind == "GIF" and len(head) >= 10:
        size = int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    elif kind == "JPEG":
        size = jpeg_size(head, partial=True)
    if size is not None:
        _check_pixels(*size)


def jpeg_size(data: bytes, *, partial: bool = False) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, walking its marker segments (a fast walk over
    lengths: a body of ``FF D8 FF`` and zeros is refused at once, where a byte-by-byte scan for a
    marker takes seconds). With ``partial`` (``data`` is the start of a body) None when the frame
    header lies beyond ``data``.

    Raises:
        UnreadableImage: no frame header before the image data, or a broken segment.
    """
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            raise UnreadableImage("is not a valid JPEG (broken marker structure)")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            break  # end of image / start of scan before any frame header
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            raise UnreadableImage("is not a valid JPEG (broken segment length)")
        if marker in _SOF:
            if pos + 9 > end:
                return None if partial else _no_frame()
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return width, height
        pos += 2 + length
    if partial and pos + 4 > end:
        return None
    return _no_frame()


def _no_frame() -> tuple[int, int]:
    raise UnreadableImage("is not a valid JPEG (no frame header)")


def fit_preview(data: bytes, mime_type: str = "", formats: tuple[str, ...] = PASSTHROUGH_TYPES) -> PreviewImage:
    """``data`` decoded within :data:`MAX_PIXELS` and re-encoded without metadata: PNG when the image
    has transparency and ``formats`` allows PNG, else JPEG. ``mime_type`` (the upstream's label) is
    not trusted: the format is sniffed. Blocking: call :func:`fit_preview_async` from async code.

    Raises:
        UnreadableImage: not JPEG/PNG/GIF/WebP, a declared size over :data:`MAX_PIXELS`, or corrupt data.
    """
    from PIL import Image, PngImagePlugin  # lazy: keeps server start fast

    quiet_pillow_bomb_warning()
    PngImagePlugin.MAX_TEXT_CHUNK = PngImagePlugin.MAX_TEXT_MEMORY = 256 * 1024  # metadata is dropped anyway
    kind = sniff(data)
    if kind is None:
        raise UnreadableImage("is not an image the bridge reads (not JPEG, PNG, GIF or WebP)")
    if kind == "JPEG":
        _check_pixels(*(jpeg_size(data) or (0, 0)))
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as img:
            _check_pixels(*img.size)
            if kind == "JPEG":
                img.draft("RGB", (MAX_EDGE_PX, MAX_EDGE_PX))  # decode at 1/2, 1/4 or 1/8 scale
            img.seek(0)
            img.load()
            img.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX))  # in place: no second full-size copy
            return _encode(img, formats)
    except UnreadableImage:
        raise
    except Image.DecompressionBombError:
        raise UnreadableImage(f"declares more pixels than a preview may have (at most {MAX_PIXELS:,})") from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error … for corrupt data
        log.info("preview not decodable: %s: %s", type(exc).__name__, exc)
        raise UnreadableImage(f"is a corrupt {kind} image (its data cannot be decoded)") from None


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise UnreadableImage("declares no pixels")
    if width * height > MAX_PIXELS:
        raise UnreadableImage(
            f"declares {width}×{height} pixels, more than a preview may have (at most {MAX_PIXELS:,} pixels)"
        )


def _encode(frame: Any, formats: tuple[str, ...]) -> PreviewImage:
    """``frame`` (a loaded PIL image, already within :data:`MAX_EDGE_PX`) saved with no metadata."""
    from PIL import Image

    has_alpha = frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info)
    if has_alpha and "image/png" in formats:
        clean = Image.new("RGBA", frame.size)
        clean.paste(frame.convert("RGBA"))  # a new image: none of the source's info (text, EXIF, ICC) is copied
        buffer = io.BytesIO()
        clean.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= TARGET_BYTES:
            return PreviewImage(buffer.getvalue(), "image/png", clean.width, clean.height)
    rgb = Image.new("RGB", frame.size, (255, 255, 255))
    if has_alpha:
        rgba = frame.convert("RGBA")
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb.paste(frame.convert("RGB"))
    out = b""
    for quality in (85, 75, 60, 45, 30):
        buffer = io.BytesIO()
        rgb.save(buffer, format="JPEG", quality=quality, optimize=True)
        out = buffer.getvalue()
        if len(out) <= TARGET_BYTES:
            break
    return PreviewImage(out, "image/jpeg", rgb.width, rgb.height)


_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()
"""One limiter per event loop (tests run several loops in one process)."""


async def fit_preview_async(
    data: bytes, mime_type: str = "", formats: tuple[str, ...] = PASSTHROUGH_TYPES
) -> PreviewImage:
    """:func:`fit_preview` in a worker thread, at most :data:`DECODE_THREADS` at once.

    Raises:
        UnreadableImage: as :func:`fit_preview`.
    """
    import anyio.to_thread

    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(DECODE_THREADS)
    box = [data]  # emptied below: an idle worker thread keeps its last job's arguments until the next job
    try:
        outcome = await anyio.to_thread.run_sync(_fit_or_reason, box, mime_type, formats, limiter=limiter)
    finally:
        box.clear()
    if isinstance(outcome, str):
        raise UnreadableImage(outcome)
    return outcome


def _fit_or_reason(box: list[bytes], mime_type: str, formats: tuple[str, ...]) -> PreviewImage | str:
    """:func:`fit_preview` of ``box[0]``, its refusal returned as the reason text.

    Two things would otherwise keep a refused body resident (measured: 30 MB each, see bench/run.py's
    hostile section): an exception crossing the thread boundary sits in a reference cycle (exception →
    traceback → the awaiting frame → its future → the exception) until the cyclic GC runs; and anyio's
    idle worker thread holds the arguments of the job it last ran, hence the box its caller empties."""
    try:
        return fit_preview(box[0], mime_type, formats)
    except UnreadableImage as exc:
        return exc.reason
