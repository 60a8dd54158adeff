"""Preview images sized for a model: at most :data:`MAX_EDGE_PX` on the long edge and about
:data:`TARGET_BYTES`. Pillow is imported lazily (only when a preview is actually shown)."""

from __future__ import annotations

import io
from dataclasses import dataclass

MAX_EDGE_PX = 768
TARGET_BYTES = 200_000
PASSTHROUGH_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


@dataclass(frozen=True, slots=True)
class PreviewImage:
    """Image bytes with their MIME type and pixel size (0×0 when passed through unread)."""

    data: bytes
    mime_type: str
    width: int
    height: int


def fit_preview(data: bytes, mime_type: str, formats: tuple[str, ...] = PASSTHROUGH_TYPES) -> PreviewImage:
    """Downscale/re-encode ``data`` (to JPEG) when it is over the caps or its type is not in ``formats``.

    Raises:
        ValueError: the bytes are not a decodable image.
    """
    from PIL import Image, UnidentifiedImageError  # lazy: keeps server start fast

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            width, height = img.size
            if max(width, height) <= MAX_EDGE_PX and len(data) <= TARGET_BYTES and mime_type in formats:
                return PreviewImage(data, mime_type, width, height)
            img.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX))
            rgb = img.convert("RGB")
            out = b""
            for quality in (85, 75, 60, 45, 30):
                buffer = io.BytesIO()
                rgb.save(buffer, format="JPEG", quality=quality, optimize=True)
                out = buffer.getvalue()
                if len(out) <= TARGET_BYTES:
                    break
            return PreviewImage(out, "image/jpeg", rgb.width, rgb.height)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError("the preview is not a readable image") from exc
