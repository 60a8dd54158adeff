"""Preview images for sandbox assets: small real JPEGs drawn with Pillow, deterministic per asset.

Each preview shows what its asset is about, so a person looking at a contact sheet can judge it:

* a motif per album theme (the Eiffel Tower and Haussmann facades for Paris, peaks for the Alps, a
  stage for the launch, columns and arches for Rome, market awnings for Lyon, a ferris wheel for the
  Oktoberfest, cliffs and sea for the coast, a dog, cat or horse for the animal stock …) in the
  theme's colours (:data:`.themes.LOOKS`); keywords add to it (Night darkens the sky and adds stars,
  Sunset turns it orange, Crowd puts heads along the bottom);
* the title's words, drawn large on a banner so they can be read at contact-sheet size;
* black and white when the title says so; a film strip (sprocket holes) and a play mark for videos;
  a waveform for audio; a page with its title as heading for documents.

Sizes: the asset's aspect ratio (audio 16:9, documents A4 portrait), :data:`SMALL_EDGE` (320 px) or
:data:`LARGE_EDGE` (1600 px) on the long edge. Pillow is imported only when a preview is rendered;
results are cached in memory (``functools.lru_cache``) and, when ``$FOOTAGE_SANDBOX_PREVIEW_CACHE``
names a folder, on disk for every sandbox process that shares it (a large preview costs 20-40 ms of
CPU to draw and encode; the test suite starts hundreds of sandboxes over the same library).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import random
import stat
import tempfile
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from .constants import PREVIEW_CACHE_ENV
from .themes import LOOKS, PLAIN, Look

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["LARGE_EDGE", "SMALL_EDGE", "PreviewUnavailable", "preview_size", "render_preview"]

SMALL_EDGE: Final = 320
LARGE_EDGE: Final = 1600
_AUDIO_RATIO: Final = (16, 9)
_PAGE_RATIO: Final = (210, 297)
_JPEG_QUALITY: Final = 85

RGB = tuple[int, int, int]
Draw = Any  # ImageDraw.ImageDraw (imported lazily)


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


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _vary(rng: random.Random, colour: RGB, spread: int = 18) -> RGB:
    return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in colour)  # type: ignore[return-value]


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom``."""
    from PIL import Image

    # The 256-row gradient resized to one column, then widened: the same bytes as resizing it to ``size``
    # directly (its rows are flat, so the horizontal pass changes nothing), at a tenth of the work.
    mask = Image.linear_gradient("L").resize((1, size[1])).resize(size, Image.Resampling.NEAREST)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _drawable(text: str) -> str:
    """``text`` in the characters Pillow's built-in font has: accents dropped, dashes and quotes plain."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.replace("—", "-").replace("–", "-").replace("’", "'").replace("ß", "ss")
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in kept)


@lru_cache(maxsize=16)
def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # Pillow without FreeType
        return ImageFont.load_default()


# -- motifs: each draws into (w, h) with the theme's look ------------------------------------------


def _hills(draw: Draw, rng: random.Random, w: int, h: int, colour: RGB, base: float, height: float) -> None:
    points = [(0.0, float(h))]
    steps = rng.randint(4, 8)
    for i in range(steps + 1):
        points.append((w * i / steps, h * base - rng.uniform(0, h * height)))
    points.append((float(w), float(h)))
    draw.polygon(points, fill=colour)


def _eiffel(draw: Draw, w: int, h: int, cx: float, colour: RGB, sky: RGB) -> None:
    """The Eiffel Tower: a tapering lattice with its arch and platforms."""
    top, foot = h * 0.1, h * 0.9
    half = (foot - top) * 0.32
    draw.polygon(
        [(cx, top), (cx + half * 0.12, h * 0.45), (cx + half, foot), (cx - half, foot), (cx - half * 0.12, h * 0.45)],
        fill=colour,
    )
    arch = half * 0.55
    draw.pieslice((cx - arch, foot - arch * 0.9, cx + arch, foot + arch * 0.9), 180, 360, fill=sky)
    for level in (0.45, 0.66):
        y = top + (foot - top) * level
        span = half * (0.15 + level * 0.6)
        draw.rectangle((cx - span, y - h * 0.012, cx + span, y + h * 0.012), fill=colour)
    draw.line((cx, top - h * 0.06, cx, top), fill=colour, width=max(1, w // 160))


def _facades(draw: Draw, rng: random.Random, w: int, h: int, look: Look) -> None:
    """Haussmann facades: cream blocks with rows of windows and grey mansard roofs."""
    x = 0.0
    while x < w:
        bw = w * rng.uniform(0.16, 0.26)
        top = h * rng.uniform(0.28, 0.4)
        draw.rectangle((x, top, x + bw - 2, h), fill=_vary(rng, (226, 214, 190), 10))
        draw.polygon(
            [(x, top), (x + bw * 0.1, top - h * 0.07), (x + bw * 0.9, top - h * 0.07), (x + bw - 2, top)],
            fill=(90, 96, 110),
        )
        for row in range(5):
            wy = top + h * 0.06 + row * h * 0.11
            for col in range(3):
                wx = x + bw * (0.12 + col * 0.3)
                draw.rectangle((wx, wy, wx + bw * 0.16, wy + h * 0.06), fill=look.ink)
        x += bw


def _paris(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    if "Eiffel Tower" in keywords or rng.random() < 0.25:
        _hills(draw, rng, w, h, _mix(look.ink, look.ground, 0.4), 0.9, 0.06)
        _eiffel(draw, w, h, w * rng.uniform(0.35, 0.65), look.ink, _mix(look.sky, look.ground, 0.8))
    else:
        _facades(draw, rng, w, h, look)
        draw.rectangle((0, h * 0.88, w, h), fill=(70, 70, 78))


def _alps(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    for layer, base in enumerate((0.75, 0.85)):
        n = rng.randint(2, 3)
        for i in range(n):
            cx = w * (i + rng.uniform(0.2, 0.8)) / n
            peak = h * rng.uniform(0.15, 0.35) + layer * h * 0.15
            half = w * rng.uniform(0.22, 0.35)
            rock = _mix(look.ink, look.sky, 0.25 * layer)
            draw.polygon([(cx - half, h * base + h * 0.1), (cx, peak), (cx + half, h * base + h * 0.1)], fill=rock)
            snow = peak + (h * base - peak) * 0.3
            spread = half * (snow - peak) / (h * base + h * 0.1 - peak)
            draw.polygon([(cx - spread, snow), (cx, peak), (cx + spread, snow)], fill=look.accent)
    draw.rectangle((0, h * 0.85, w, h), fill=look.ground)
    for _ in range(rng.randint(4, 8)):  # pines
        px, py, s = rng.uniform(0, w), h * rng.uniform(0.86, 0.98), h * rng.uniform(0.08, 0.14)
        draw.polygon([(px - s * 0.3, py), (px, py - s), (px + s * 0.3, py)], fill=(30, 80, 40))


def _stage(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    for i in range(3):  # spotlight cones
        x = w * (0.2 + 0.3 * i)
        draw.polygon(
            [(x - w * 0.02, 0), (x + w * 0.02, 0), (x + w * 0.14, h * 0.8), (x - w * 0.14, h * 0.8)],
            fill=_mix(look.sky, look.accent, 0.35),
        )
    draw.rectangle(
        (w * 0.25, h * 0.14, w * 0.75, h * 0.48), fill=(240, 240, 250), outline=look.accent, width=max(1, w // 100)
    )
    draw.rectangle((w * 0.42, h * 0.22, w * 0.58, h * 0.4), fill=look.accent)  # the product on the screen
    draw.rectangle((0, h * 0.8, w, h), fill=look.ink)
    draw.rectangle((w * 0.42, h * 0.62, w * 0.58, h * 0.8), fill=(200, 200, 210))  # the plinth


def _person(draw: Draw, cx: float, base: float, size: float, colour: RGB) -> None:
    head = size * 0.2
    draw.ellipse((cx - head, base - size, cx + head, base - size + head * 2), fill=colour)
    draw.pieslice((cx - size * 0.45, base - size * 0.55, cx + size * 0.45, base + size * 0.45), 180, 360, fill=colour)


def _interview(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    draw.ellipse((w * 0.15, h * 0.05, w * 0.85, h * 1.1), fill=_mix(look.sky, look.accent, 0.3))  # backdrop light
    cx = w * rng.uniform(0.4, 0.6)
    _person(draw, cx, h * 0.98, h * 0.75, look.ink)
    mic = cx + w * 0.2
    draw.line((mic, h * 0.45, mic, h), fill=(20, 20, 20), width=max(2, w // 80))
    draw.ellipse((mic - w * 0.03, h * 0.38, mic + w * 0.03, h * 0.5), fill=(60, 60, 60))


def _waveform(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    """Symmetric bars around the centre line, like an audio waveform overview."""
    bar = max(1, w // 120)
    mid = h * 0.42
    level = 0.5
    for x in range(0, w, bar * 2):
        level = min(1.0, max(0.05, level + rng.uniform(-0.18, 0.18)))
        amp = level * h * 0.3
        draw.rectangle(
            (x, mid - amp, x + bar - 1, mid + amp), fill=_mix(look.accent, (255, 255, 255), x / max(w, 1) * 0.4)
        )
    draw.line((0, mid, w, mid), fill=(220, 220, 220), width=max(1, h // 180))


def _market(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    n = 3
    for i in range(n):  # striped awnings over stalls
        x0, x1 = w * i / n + w * 0.02, w * (i + 1) / n - w * 0.02
        stripes = 6
        for s in range(stripes):
            sx0 = x0 + (x1 - x0) * s / stripes
            sx1 = x0 + (x1 - x0) * (s + 1) / stripes
            draw.polygon(
                [(sx0, h * 0.2), (sx1, h * 0.2), (sx1 + w * 0.01, h * 0.36), (sx0 + w * 0.01, h * 0.36)],
                fill=look.accent if s % 2 == 0 else (250, 250, 245),
            )
        draw.rectangle((x0, h * 0.55, x1, h * 0.75), fill=look.ink)  # the counter
        for _ in range(9):  # fruit and cheese on it
            fx, fy, r = rng.uniform(x0, x1), h * rng.uniform(0.47, 0.55), h * rng.uniform(0.025, 0.045)
            draw.ellipse(
                (fx - r, fy - r, fx + r, fy + r),
                fill=rng.choice([(230, 60, 50), (250, 180, 40), (120, 180, 60), (245, 220, 120)]),
            )


def _rome(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    if "Colosseum" in keywords or rng.random() < 0.5:
        draw.rectangle((w * 0.08, h * 0.3, w * 0.92, h * 0.85), fill=look.accent)
        for row in range(3):  # arcades
            y0 = h * (0.34 + row * 0.17)
            for col in range(9):
                x0 = w * (0.11 + col * 0.09)
                draw.rectangle((x0, y0 + h * 0.04, x0 + w * 0.05, y0 + h * 0.13), fill=look.ink)
                draw.ellipse((x0, y0, x0 + w * 0.05, y0 + h * 0.08), fill=look.ink)
    else:
        draw.polygon([(w * 0.1, h * 0.3), (w * 0.5, h * 0.12), (w * 0.9, h * 0.3)], fill=look.accent)  # pediment
        for col in range(6):  # columns
            x0 = w * (0.13 + col * 0.13)
            draw.rectangle((x0, h * 0.32, x0 + w * 0.06, h * 0.82), fill=look.accent)
        draw.rectangle((w * 0.08, h * 0.82, w * 0.92, h * 0.88), fill=look.ink)
    draw.rectangle((0, h * 0.88, w, h), fill=look.ground)


def _fair(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    cx, cy, r = w * 0.68, h * 0.42, min(w, h) * 0.32  # ferris wheel
    ring = max(2, w // 90)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(60, 60, 70), width=ring)
    for k in range(12):
        a = k * math.pi / 6
        ex, ey = cx + r * math.cos(a), cy + r * math.sin(a)
        draw.line((cx, cy, ex, ey), fill=(90, 90, 100), width=max(1, ring // 2))
        draw.rectangle(
            (ex - r * 0.08, ey - r * 0.05, ex + r * 0.08, ey + r * 0.11), fill=(230, 60, 60) if k % 2 else look.accent
        )
    draw.line((cx, cy, cx - r * 0.6, h), fill=(60, 60, 70), width=ring)
    draw.line((cx, cy, cx + r * 0.6, h), fill=(60, 60, 70), width=ring)
    for i in range(2):  # beer tents with blue-white diamonds
        x0 = w * (0.02 + i * 0.24)
        draw.polygon([(x0, h * 0.65), (x0 + w * 0.11, h * 0.5), (x0 + w * 0.22, h * 0.65)], fill=look.accent)
        draw.rectangle((x0, h * 0.65, x0 + w * 0.22, h * 0.95), fill=(245, 245, 250))
        for d in range(4):
            dx = x0 + w * (0.03 + d * 0.05)
            draw.polygon(
                [(dx, h * 0.8), (dx + w * 0.02, h * 0.74), (dx + w * 0.04, h * 0.8), (dx + w * 0.02, h * 0.86)],
                fill=look.accent,
            )
    draw.rectangle((0, h * 0.95, w, h), fill=(110, 90, 70))


def _coast(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    draw.rectangle((0, h * 0.5, w, h), fill=look.ground)  # the sea
    for k in range(6):
        y = h * (0.58 + k * 0.07)
        draw.line(
            (w * rng.uniform(0, 0.3), y, w * rng.uniform(0.5, 1.0), y), fill=(200, 240, 245), width=max(1, h // 120)
        )
    left = rng.random() < 0.5
    edge = [(0, h * 0.25), (w * 0.3, h * 0.35), (w * 0.38, h * 0.75), (0, h * 0.85)]
    cliff = edge if left else [(w - x, y) for x, y in edge]
    draw.polygon(cliff, fill=(150, 110, 80))
    for i in range(4):  # a cliffside village
        hx = (w * (0.04 + i * 0.06)) if left else (w * (0.9 - i * 0.06))
        draw.rectangle((hx, h * 0.28 + i * h * 0.02, hx + w * 0.05, h * 0.36 + i * h * 0.02), fill=look.accent)
    bx = w * (0.7 if left else 0.3)
    draw.polygon(
        [(bx - w * 0.06, h * 0.66), (bx + w * 0.06, h * 0.66), (bx + w * 0.04, h * 0.7), (bx - w * 0.04, h * 0.7)],
        fill=(250, 250, 250),
    )


def _animal(draw: Draw, w: int, h: int, kind: str, colour: RGB) -> None:
    cx, cy, r = w * 0.5, h * 0.55, min(w, h) * 0.26
    if kind == "Horse":  # a long head in profile with a mane
        draw.polygon(
            [
                (cx - r * 0.2, cy - r * 1.3),
                (cx + r * 0.5, cy - r * 0.9),
                (cx + r * 1.2, cy + r * 0.4),
                (cx + r * 0.9, cy + r * 0.7),
                (cx + r * 0.1, cy + r * 0.1),
                (cx - r * 0.3, cy + r * 1.2),
                (cx - r * 0.9, cy + r * 1.2),
                (cx - r * 0.6, cy - r * 0.6),
            ],
            fill=colour,
        )
        draw.polygon(
            [(cx - r * 0.2, cy - r * 1.3), (cx - r * 0.1, cy - r * 1.7), (cx + r * 0.1, cy - r * 1.2)], fill=colour
        )
        return
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    if kind == "Cat":  # pointed ears, whiskers
        for side in (-1, 1):
            draw.polygon(
                [
                    (cx + side * r * 0.9, cy - r * 0.3),
                    (cx + side * r * 0.75, cy - r * 1.35),
                    (cx + side * r * 0.2, cy - r * 0.85),
                ],
                fill=colour,
            )
            for k in (-1, 0, 1):
                draw.line(
                    (cx + side * r * 0.25, cy + r * 0.25, cx + side * r * 1.2, cy + r * (0.15 + 0.15 * k)),
                    fill=(250, 250, 250),
                    width=max(1, w // 200),
                )
    else:  # a dog: floppy ears and a muzzle
        for side in (-1, 1):
            draw.ellipse(
                (cx + side * r * 0.75 - r * 0.35, cy - r * 0.8, cx + side * r * 0.75 + r * 0.35, cy + r * 0.5),
                fill=_mix(colour, (0, 0, 0), 0.35),
            )
        draw.ellipse(
            (cx - r * 0.45, cy + r * 0.05, cx + r * 0.45, cy + r * 0.75), fill=_mix(colour, (255, 255, 255), 0.4)
        )
        draw.ellipse((cx - r * 0.15, cy + r * 0.1, cx + r * 0.15, cy + r * 0.32), fill=(20, 20, 20))
    for side in (-1, 1):
        draw.ellipse(
            (cx + side * r * 0.38 - r * 0.1, cy - r * 0.3, cx + side * r * 0.38 + r * 0.1, cy - r * 0.1),
            fill=(20, 20, 20),
        )


def _pets(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    kind = next((k for k in ("Dog", "Cat", "Horse") if k in keywords), "Dog")
    draw.rectangle((0, h * 0.8, w, h), fill=look.ground)
    _animal(draw, w, h, kind, _vary(rng, look.accent, 25))


def _wedding(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    draw.rectangle((0, h * 0.6, w, h), fill=look.ground)  # the lake
    _hills(draw, rng, w, h, (120, 150, 130), 0.62, 0.12)
    r, width = min(w, h) * 0.16, max(3, min(w, h) // 28)
    cy = h * 0.45
    for dx in (-0.55, 0.55):  # two interlocked rings
        cx = w * 0.5 + dx * r
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=look.accent, width=width)


def _office(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    for col in range(4):  # a window wall
        draw.rectangle(
            (w * (0.05 + col * 0.23), h * 0.08, w * (0.25 + col * 0.23), h * 0.5),
            fill=(225, 235, 245),
            outline=look.ink,
        )
    draw.rectangle((0, h * 0.66, w, h * 0.72), fill=(150, 110, 80))  # the desk
    for col in range(2):  # monitors
        x0 = w * (0.2 + col * 0.38)
        draw.rectangle((x0, h * 0.42, x0 + w * 0.22, h * 0.62), fill=look.ink)
        draw.rectangle((x0 + w * 0.01, h * 0.43, x0 + w * 0.21, h * 0.6), fill=look.accent)
        draw.rectangle((x0 + w * 0.1, h * 0.62, x0 + w * 0.12, h * 0.66), fill=look.ink)
    if "Portrait" in keywords or "People" in keywords:
        _person(draw, w * 0.5, h * 1.0, h * 0.55, look.ink)


def _concert(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    for k in range(5):  # light beams
        x = w * (0.1 + k * 0.2)
        draw.polygon(
            [(x, 0), (x + w * 0.02, 0), (w * rng.uniform(0.3, 0.7), h * 0.75)],
            fill=_mix(look.accent, (255, 255, 255), rng.uniform(0, 0.5)),
        )
    draw.rectangle((0, h * 0.62, w, h * 0.7), fill=(60, 60, 70))  # the stage edge
    for k in range(14):  # the crowd, hands up
        cx = w * (k + 0.5) / 14
        _person(draw, cx, h * 1.05, h * 0.3, look.ink)
        if k % 3 == 0:
            draw.line((cx, h * 0.85, cx + w * 0.02, h * 0.68), fill=look.ink, width=max(2, w // 100))


def _camera(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    cx, cy, s = w * 0.5, h * 0.45, min(w, h) * 0.3
    draw.rounded_rectangle((cx - s, cy - s * 0.6, cx + s, cy + s * 0.7), radius=max(1, int(s * 0.15)), fill=look.ink)
    draw.rectangle((cx - s * 0.35, cy - s * 0.85, cx + s * 0.15, cy - s * 0.6), fill=look.ink)
    draw.ellipse((cx - s * 0.45, cy - s * 0.4, cx + s * 0.45, cy + s * 0.5), fill=look.accent)
    draw.ellipse((cx - s * 0.25, cy - s * 0.2, cx + s * 0.25, cy + s * 0.3), fill=look.ink)


def _press(draw: Draw, rng: random.Random, w: int, h: int, look: Look, keywords: frozenset[str]) -> None:
    cx, cy, r = w * 0.5, h * 0.42, min(w, h) * 0.22  # the company logo
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=look.accent)
    draw.rectangle((cx - r * 0.15, cy - r * 0.6, cx + r * 0.15, cy + r * 0.6), fill=(255, 255, 255))
    draw.rectangle((cx - r * 0.6, cy - r * 0.15, cx + r * 0.6, cy + r * 0.15), fill=(255, 255, 255))


MOTIFS: Final[dict[str, Callable[[Draw, random.Random, int, int, Look, frozenset[str]], None]]] = {
    "paris": _paris,
    "alps": _alps,
    "stage": _stage,
    "interview": _interview,
    "waves": _waveform,
    "press": _press,
    "market": _market,
    "rome": _rome,
    "fair": _fair,
    "coast": _coast,
    "pets": _pets,
    "wedding": _wedding,
    "office": _office,
    "concert": _concert,
    "camera": _camera,
}


# -- overlays -------------------------------------------------------------------------------------


def _sky(look: Look, keywords: frozenset[str]) -> tuple[RGB, RGB]:
    if "Night" in keywords:
        return (8, 12, 40), _mix(look.ground, (10, 10, 30), 0.6)
    if "Sunset" in keywords:
        return (250, 140, 70), (120, 60, 90)
    return look.sky, look.ground


def _stars(draw: Draw, rng: random.Random, w: int, h: int) -> None:
    for _ in range(40):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.4), max(1.0, w / 400)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(250, 250, 220))
    m = min(w, h) * 0.07
    draw.ellipse((w * 0.82 - m, h * 0.12 - m, w * 0.82 + m, h * 0.12 + m), fill=(250, 245, 210))


def _crowd(draw: Draw, w: int, h: int, colour: RGB) -> None:
    for k in range(12):
        _person(draw, w * (k + 0.5) / 12, h * 1.04, h * 0.22, colour)


def _wrap(draw: Draw, words: list[str], font: Any, width: float, max_lines: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
        while lines[-1] and draw.textlength(lines[-1] + "...", font=font) > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "..."
    return lines


def _banner(image: Image.Image, title: str, *, top: bool, inset: int) -> None:
    """The title's words, large, white on a dark band at the bottom (or top) of the picture, ``inset``
    px from the edge (clear of a film strip)."""
    from PIL import ImageDraw

    w, h = image.size
    draw = ImageDraw.Draw(image, "RGBA")
    size = max(10, round(min(w, h * 1.4) / 11))
    font = _font(size)
    lines = _wrap(draw, _drawable(title).split(), font, w * 0.92, 3 if h > w else 2)
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (size, size // 4)
    line_h = ascent + descent
    pad = max(2, size // 4)
    band = line_h * len(lines) + 2 * pad
    y0 = inset if top else h - inset - band
    draw.rectangle((0, y0, w, y0 + band), fill=(0, 0, 0, 170))
    for i, line in enumerate(lines):
        draw.text((w * 0.04, y0 + pad + i * line_h), line, font=font, fill=(255, 255, 255))


def _film(draw: Draw, w: int, h: int) -> None:
    """Film-strip borders (sprocket holes) and a play mark for videos."""
    vertical = h > w
    band = max(4, min(w, h) // 12)
    hole = max(2, band // 2)
    if vertical:
        draw.rectangle((0, 0, band, h), fill=(15, 15, 15))
        draw.rectangle((w - band, 0, w, h), fill=(15, 15, 15))
        for y in range(hole, h, hole * 3):
            for x in ((band - hole) // 2, w - band + (band - hole) // 2):
                draw.rectangle((x, y, x + hole, y + hole), fill=(235, 235, 235))
    else:
        draw.rectangle((0, 0, w, band), fill=(15, 15, 15))
        draw.rectangle((0, h - band, w, h), fill=(15, 15, 15))
        for x in range(hole, w, hole * 3):
            for y in ((band - hole) // 2, h - band + (band - hole) // 2):
                draw.rectangle((x, y, x + hole, y + hole), fill=(235, 235, 235))
    s = min(w, h) * 0.1
    cx, cy = w / 2, h * 0.4
    draw.ellipse((cx - s * 1.5, cy - s * 1.5, cx + s * 1.5, cy + s * 1.5), fill=(0, 0, 0))
    draw.polygon([(cx - s * 0.6, cy - s), (cx - s * 0.6, cy + s), (cx + s, cy)], fill=(255, 255, 255))


def _page(image: Image.Image, rng: random.Random, title: str, look: Look) -> None:
    """A white page: a coloured header band with the title as heading, then grey text lines."""
    from PIL import ImageDraw

    w, h = image.size
    draw = ImageDraw.Draw(image)
    margin = w * 0.06
    draw.rectangle((margin, margin, w - margin, h - margin), fill=(252, 252, 250))
    draw.rectangle((margin, margin, w - margin, h * 0.3), fill=look.accent if look.motif != "press" else (20, 70, 160))
    size = max(10, round(w / 11))
    font = _font(size)
    lines = _wrap(draw, _drawable(title).split(), font, w - margin * 3, 3)
    for i, text in enumerate(lines):
        draw.text((margin * 1.5, margin * 1.4 + i * size * 1.18), text, font=font, fill=(255, 255, 255))
    x0, x1 = w * 0.14, w * 0.86
    line = h / 40
    y = h * 0.34
    while y < h * 0.88:
        if rng.random() < 0.12:
            y += line * 1.5
            continue
        end = x0 + (x1 - x0) * rng.uniform(0.55, 1.0)
        draw.rectangle((x0, y, end, y + line * 0.5), fill=(150, 150, 155))
        y += line * 1.25


def _add_grain(image: Image.Image, rng: random.Random) -> Image.Image:
    """Blend in a little deterministic noise so previews compress like photographs do."""
    from PIL import Image

    noise = Image.frombytes("L", image.size, rng.randbytes(image.size[0] * image.size[1])).convert("RGB")
    return Image.blend(image, noise, 0.05)


def _draw(
    kind: str, size: tuple[int, int], rng: random.Random, title: str, look: Look, keywords: frozenset[str]
) -> Image.Image:
    """The preview picture for one asset."""
    from PIL import ImageDraw

    w, h = size
    if kind == "document":
        image = _gradient(size, (200, 200, 205), (170, 170, 178))
        _page(image, rng, title, look)
        return _add_grain(image, rng)
    top, bottom = _sky(look, keywords)
    image = _gradient(size, _vary(rng, top, 10), _vary(rng, bottom, 10))
    draw = ImageDraw.Draw(image)
    if "Night" in keywords:
        _stars(draw, rng, w, h)
    if kind == "audio":
        _waveform(draw, rng, w, h, look, keywords)
    else:
        MOTIFS.get(look.motif, _camera)(draw, rng, w, h, look, keywords)
        if "Crowd" in keywords and look.motif not in ("concert",):
            _crowd(draw, w, h, _mix(look.ink, (0, 0, 0), 0.3))
    image = _add_grain(image, rng)
    if "black and white" in title.lower():
        image = image.convert("L").convert("RGB")
    film_band = max(4, min(w, h) // 12) if kind == "video" else 0
    _banner(image, title, top=kind == "video" and h > w, inset=film_band if w >= h else 0)
    if kind == "video":
        _film(ImageDraw.Draw(image), w, h)
    return image


def _look_for(theme: str) -> Look:
    return LOOKS.get(theme, PLAIN)


@lru_cache(maxsize=256)
def render_preview(
    asset_id: str,
    kind: str,
    width: int | None,
    height: int | None,
    *,
    large: bool = False,
    title: str = "",
    theme: str = "",
    keywords: tuple[str, ...] = (),
) -> bytes:
    """JPEG bytes of the preview for one asset (same arguments → same bytes).

    ``width``/``height`` are the asset's pixel dimensions (None for audio/documents); ``large``
    selects a 1600 px long edge instead of 320 px; ``title`` is drawn on it, ``theme`` (the album
    name of the asset's home album) picks the motif and colours, ``keywords`` refine it (Night,
    Sunset, Crowd, Eiffel Tower, Dog, Cat, Horse …). Raises PreviewUnavailable without Pillow.
    """
    try:
        import PIL  # noqa: F401
    except ImportError as exc:
        raise PreviewUnavailable("preview rendering needs Pillow (pip install pillow)") from exc
    kept = _kept_path((asset_id, kind, width, height, large, title, theme, keywords))
    if kept is not None:
        data = _read_kept(kept)
        if data is not None:
            return data
    size = preview_size(kind, width, height, LARGE_EDGE if large else SMALL_EDGE)
    image = _draw(kind, size, _rng_for(asset_id), title, _look_for(theme), frozenset(keywords))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    data = buffer.getvalue()
    if kept is not None:
        _keep(kept, data)
    return data


@lru_cache(maxsize=1)
def _renderer() -> str | None:
    """What the bytes of a preview depend on besides its arguments: this module's and the themes'
    source, and Pillow's version (its JPEG encoder). A kept preview of another renderer is never read.
    None when a source cannot be read (an install from a zip archive, sources stripped): then nothing
    is kept on disk, previews are drawn as without the folder."""
    import PIL

    from . import themes

    digest = hashlib.sha256(PIL.__version__.encode())
    try:
        for path in (__file__, themes.__file__):
            with open(path, "rb") as source:
                digest.update(source.read())
    except (OSError, TypeError):  # TypeError: a module without a __file__
        return None
    return digest.hexdigest()


def _kept_path(arguments: tuple[object, ...]) -> str | None:
    """Where the preview of ``arguments`` is kept under ``$FOOTAGE_SANDBOX_PREVIEW_CACHE``; None if unset."""
    folder = os.environ.get(PREVIEW_CACHE_ENV)
    if not folder:
        return None
    renderer = _renderer()
    if renderer is None:
        return None
    name = hashlib.sha256(repr((renderer, arguments)).encode()).hexdigest()
    return os.path.join(folder, name + ".jpg")


_KEPT_MAX_BYTES: Final = 8 << 20
"""Largest kept file read back (a large preview is a few hundred KiB): anything bigger is not ours."""


def _read_kept(path: str) -> bytes | None:
    """The kept JPEG at ``path``; None when absent, unreadable, not a regular file (a named pipe planted
    there would block the read forever, a device never end; a symbolic link is not followed) or not a
    whole JPEG (then rendered again)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(handle, "rb") as kept:
            facts = os.fstat(kept.fileno())
            if not stat.S_ISREG(facts.st_mode) or facts.st_size > _KEPT_MAX_BYTES:
                return None
            data = kept.read(_KEPT_MAX_BYTES + 1)
    except OSError:
        return None
    return data if data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9" else None


def _keep(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed: a concurrent reader sees the whole
    file or none); a folder that cannot be written is not an error (the preview is served anyway)."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        return
