"""Preview images for sandbox assets: small real JPEGs drawn with Pillow, deterministic per asset id.

Images and videos get a landscape-like picture in the asset's aspect ratio (videos with film-strip
borders and a play mark); audio gets a waveform (16:9); documents a page (A4 portrait). The long edge
is :data:`SMALL_EDGE` (320 px) or :data:`LARGE_EDGE` (1600 px). Pillow is imported only when a preview
is rendered; results are cached in memory (``functools.lru_cache``).
"""

from __future__ import annotations

import hashlib
import io
import random
from functools import lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

__all__ = ["LARGE_EDGE", "SMALL_EDGE", "PreviewUnavailable", "preview_size", "render_preview"]

SMALL_EDGE: Final = 320
LARGE_EDGE: Final = 1600
_AUDIO_RATIO: Final = (16, 9)
_PAGE_RATIO: Final = (210, 297)
_JPEG_QUALITY: Final = 85


class PreviewUnavailable(RuntimeError):
    """Raised when previews cannot be rendered (Pillow is not installed)."""


def preview_size(kind: str, width: int | None, height: int | None, long_edge: int) -> tuple[int, int]:
    """Pixel size of the preview: ``long_edge`` on the longer side, keeping the aspect ratio."""
    if kind == "audio" or not (width and height):
        width, height = _PAGE_RATIO if kind == "document" else _AUDIO_RATIO
    scale = long_edge / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _rng_for(asset_id: str) -> random.Random:
    """A random generator seeded from the asset id (stable across runs and processes)."""
    return random.Random(int.from_bytes(hashlib.sha256(asset_id.encode()).digest()[:8], "big"))


def _colour(rng: random.Random, low: int, high: int) -> tuple[int, int, int]:
    """A random RGB colour with channels in [low, high]."""
    return rng.randint(low, high), rng.randint(low, high), rng.randint(low, high)


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom``."""
    from PIL import Image

    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _draw_scene(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    """Sun and layered hills: a landscape-like picture for images and videos."""
    r = min(w, h) * rng.uniform(0.08, 0.16)
    cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.45) * h
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_colour(rng, 200, 255))
    for layer in range(3):
        base = h * (0.55 + 0.15 * layer)
        points = [(0.0, float(h))]
        steps = rng.randint(4, 9)
        for i in range(steps + 1):
            points.append((w * i / steps, base - rng.uniform(0, h * 0.25)))
        points.append((float(w), float(h)))
        shade = 30 + layer * 25
        draw.polygon(points, fill=_colour(rng, shade, shade + 60))


def _draw_film(draw: ImageDraw.ImageDraw, w: int, h: int) -> None:
    """Film-strip borders and a play triangle for videos."""
    band = max(4, h // 12)
    hole = max(2, band // 2)
    draw.rectangle((0, 0, w, band), fill=(15, 15, 15))
    draw.rectangle((0, h - band, w, h), fill=(15, 15, 15))
    for x in range(hole, w, hole * 3):
        for y in ((band - hole) // 2, h - band + (band - hole) // 2):
            draw.rectangle((x, y, x + hole, y + hole), fill=(235, 235, 235))
    s = min(w, h) * 0.12
    cx, cy = w / 2, h / 2
    draw.polygon([(cx - s * 0.8, cy - s), (cx - s * 0.8, cy + s), (cx + s, cy)], fill=(255, 255, 255))


def _draw_waveform(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    """Symmetric bars around the centre line, like an audio waveform overview."""
    colour = _colour(rng, 90, 255)
    bar = max(1, w // 160)
    mid = h / 2
    level = 0.5
    for x in range(0, w, bar * 2):
        level = min(1.0, max(0.05, level + rng.uniform(-0.18, 0.18)))
        amp = level * h * 0.42
        draw.rectangle((x, mid - amp, x + bar - 1, mid + amp), fill=colour)
    draw.line((0, mid, w, mid), fill=(200, 200, 200), width=max(1, h // 180))


def _draw_page(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    """A white page with a heading block and grey text lines."""
    margin = w * 0.06
    draw.rectangle((margin, margin, w - margin, h - margin), fill=(252, 252, 250))
    x0, x1 = w * 0.14, w * 0.86
    line = h / 40
    draw.rectangle((x0, h * 0.1, x0 + (x1 - x0) * rng.uniform(0.4, 0.7), h * 0.1 + line * 1.6), fill=(40, 40, 60))
    y = h * 0.1 + line * 4
    while y < h * 0.88:
        if rng.random() < 0.12:
            y += line * 1.5
            continue
        end = x0 + (x1 - x0) * rng.uniform(0.55, 1.0)
        draw.rectangle((x0, y, end, y + line * 0.5), fill=(150, 150, 155))
        y += line * 1.25


def _add_grain(image: Image.Image, rng: random.Random) -> Image.Image:
    """Blend in deterministic noise so previews compress like photographs do."""
    from PIL import Image

    noise = Image.frombytes("L", image.size, rng.randbytes(image.size[0] * image.size[1])).convert("RGB")
    return Image.blend(image, noise, 0.08)


def _draw(kind: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """The preview picture for a media ``kind``."""
    from PIL import ImageDraw

    w, h = size
    if kind == "audio":
        image = _gradient(size, _colour(rng, 10, 40), _colour(rng, 30, 70))
        _draw_waveform(ImageDraw.Draw(image), rng, w, h)
    elif kind == "document":
        image = _gradient(size, (200, 200, 205), (170, 170, 178))
        _draw_page(ImageDraw.Draw(image), rng, w, h)
    else:
        image = _gradient(size, _colour(rng, 60, 200), _colour(rng, 120, 255))
        _draw_scene(ImageDraw.Draw(image), rng, w, h)
        if kind == "video":
            _draw_film(ImageDraw.Draw(image), w, h)
    return _add_grain(image, rng)


@lru_cache(maxsize=256)
def render_preview(asset_id: str, kind: str, width: int | None, height: int | None, *, large: bool = False) -> bytes:
    """JPEG bytes of the preview for one asset (same arguments → same bytes).

    ``width``/``height`` are the asset's pixel dimensions (None for audio/documents); ``large``
    selects a 1600 px long edge instead of 320 px. Raises PreviewUnavailable without Pillow.
    """
    try:
        import PIL  # noqa: F401
    except ImportError as exc:
        raise PreviewUnavailable("preview rendering needs Pillow (pip install pillow)") from exc
    size = preview_size(kind, width, height, LARGE_EDGE if large else SMALL_EDGE)
    image = _draw(kind, size, _rng_for(asset_id))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    return buffer.getvalue()
