"""Contact sheets: many previews in one image, numbered cells in a grid (no MCP, no I/O here).

A sheet is ONE JPEG of at most :data:`MAX_SHEET_EDGE` px on the long edge (the size vision models
take without downscaling it again) and at most :data:`MAX_SHEET_BYTES` bytes (the JPEG quality is
lowered, then the sheet shrunk, until it fits). The grid is sized to the count (:func:`grid_for`:
24 cells → 6×4, 48 → 8×6, 7 → 4×2). Every cell carries its number in a large badge (top left), the
media type and duration (bottom right of the picture) and the start of the asset's name (a strip
below the picture). A missing, broken or oversized preview becomes a labelled placeholder cell.

Decoding is bounded: :func:`decode_thumbnail` reads the image header first and refuses more than
:data:`MAX_SOURCE_PIXELS` before any pixel is decoded; JPEGs are decoded at a reduced scale (Pillow's
draft mode), so a 6000×4000 preview costs a fraction of its full size. All functions here are
synchronous and CPU-bound: the tool runs them in a worker thread. Pillow is imported lazily.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from footage_mcp.surface.imaging import quiet_pillow_bomb_warning

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

MAX_SHEET_EDGE = 1568
"""Longest edge of a sheet, px."""
MAX_SHEET_BYTES = 1_000_000
"""Largest sheet, bytes of JPEG."""
MAX_CELLS = 48
"""Most cells on one sheet."""
MAX_SOURCE_PIXELS = 50_000_000
"""A preview with more pixels than this (width × height, read from its header) is not decoded."""
MAX_CELL_WIDTH = 480
"""Widest cell, px (a sheet of one or two assets stays a reasonable size)."""
GAP = 6
"""Space between cells and around the grid, px."""
QUALITIES = (85, 78, 70, 62, 54, 46, 38, 30)
"""JPEG qualities tried, best first, until the sheet fits :data:`MAX_SHEET_BYTES`."""

_BACKGROUND = (24, 24, 24)
_PICTURE_BACKGROUND = (40, 40, 40)
_STRIP = (236, 236, 236)
_STRIP_TEXT = (20, 20, 20)
_BADGE = (255, 212, 0)
_BADGE_TEXT = (0, 0, 0)
_TAG = (0, 0, 0)
_TAG_TEXT = (255, 255, 255)
_PLACEHOLDER = (88, 88, 92)
_PLACEHOLDER_TEXT = (250, 250, 250)


class PreviewProblem(ValueError):
    """A preview that cannot be shown; ``str()`` is the placeholder's label ("preview unreadable")."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The grid: ``cols`` × ``rows`` cells of ``cell_width`` × (``picture_height`` + ``strip_height``) px."""

    cols: int
    rows: int
    cell_width: int
    picture_height: int
    strip_height: int

    @property
    def cell_height(self) -> int:
        return self.picture_height + self.strip_height

    @property
    def size(self) -> tuple[int, int]:
        """The sheet's (width, height), px."""
        return (
            GAP + self.cols * (self.cell_width + GAP),
            GAP + self.rows * (self.cell_height + GAP),
        )

    @property
    def picture_box(self) -> tuple[int, int]:
        """The box a preview is fitted into, px."""
        return self.cell_width, self.picture_height

    def origin(self, index: int) -> tuple[int, int]:
        """Top-left corner of cell ``index`` (0-based, row by row)."""
        row, col = divmod(index, self.cols)
        return GAP + col * (self.cell_width + GAP), GAP + row * (self.cell_height + GAP)


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: its number, what the legend and the cell say, and the fitted preview (or why not)."""

    number: int
    asset_id: str
    name: str | None
    media_type: str | None
    duration_seconds: float | None
    picture: Any = None
    """A decoded ``PIL.Image.Image`` (RGB) fitted to :attr:`Layout.picture_box`, or None."""
    problem: str | None = None
    """Why there is no picture: "no preview", "preview unreadable", "preview too large", …"""


def grid_for(count: int) -> tuple[int, int]:
    """(cols, rows) for ``count`` cells of a 4:3 picture: about as wide as tall, landscape first.

    1 → 1×1, 2 → 2×1, 4 → 3×2, 7 → 4×2, 12 → 4×3, 24 → 6×4, 48 → 8×6.
    """
    count = max(1, min(MAX_CELLS, count))
    cols = max(1, min(count, math.ceil(math.sqrt(count * 4 / 3))))
    return cols, math.ceil(count / cols)


def layout_for(count: int) -> Layout:
    """The layout for ``count`` cells, within :data:`MAX_SHEET_EDGE` on both edges."""
    cols, rows = grid_for(count)
    width = min(MAX_CELL_WIDTH, (MAX_SHEET_EDGE - GAP) // cols - GAP)
    while True:
        picture = width * 3 // 4
        strip = max(18, width // 9)
        layout = Layout(cols, rows, width, picture, strip)
        if max(layout.size) <= MAX_SHEET_EDGE:
            return layout
        width -= 4


def format_duration(seconds: float | None) -> str | None:
    """``m:ss`` or ``h:mm:ss`` (rounded to the second), None when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def decode_thumbnail(data: bytes, box: tuple[int, int]) -> Image.Image:
    """``data`` decoded and fitted into ``box`` (aspect kept; small previews are enlarged), as RGB.

    Raises:
        PreviewProblem: not an image, truncated or corrupt ("preview unreadable"), or more than
            :data:`MAX_SOURCE_PIXELS` pixels, judged from the header before decoding ("preview too large").
    """
    from PIL import Image

    quiet_pillow_bomb_warning()
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width < 1 or height < 1:
                raise PreviewProblem("preview unreadable")
            if width * height > MAX_SOURCE_PIXELS:
                raise PreviewProblem("preview too large")
            img.draft("RGB", box)  # JPEG: decode at 1/2, 1/4 or 1/8 scale; other formats: no effect
            img.load()
            frame = img.convert("RGB")
    except PreviewProblem:
        raise
    except Image.DecompressionBombError:
        raise PreviewProblem("preview too large") from None
    except Exception:  # any decoder failure of an upstream image is a placeholder, never a crash
        raise PreviewProblem("preview unreadable") from None
    scale = min(box[0] / frame.width, box[1] / frame.height)
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    if size != frame.size:
        frame = frame.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    return frame


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def drawable(text: str) -> str:
    """``text`` in the characters Pillow's built-in font draws: accents dropped ("Café" → "Cafe"),
    ligatures and typographic forms decomposed, anything else a "?" (the legend keeps the exact name)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.translate(_TYPOGRAPHY)
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in kept)


_TYPOGRAPHY = str.maketrans(
    {
        "ß": "ss",
        "×": "x",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "—": "-",
        "–": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "•": "*",
        "·": ".",
    }
)


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: Any) -> float:
    return float(draw.textlength(text, font=font))


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> str:
    """``text`` cut (with an ellipsis) to ``width`` px."""
    if _text_width(draw, text, font) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if _text_width(draw, text[:mid].rstrip() + "…", font) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "…"


def _tag_text(cell: Cell) -> str:
    kind = {"document": "DOC"}.get(cell.media_type or "", (cell.media_type or "?").upper())
    duration = format_duration(cell.duration_seconds)
    return f"{kind} {duration}" if duration else kind


def _draw_cell(sheet: Image.Image, draw: ImageDraw.ImageDraw, layout: Layout, index: int, cell: Cell) -> None:
    x, y = layout.origin(index)
    w, ph = layout.picture_box
    draw.rectangle((x, y, x + w - 1, y + ph - 1), fill=_PICTURE_BACKGROUND)
    if cell.picture is not None:
        pic = cell.picture
        sheet.paste(pic, (x + (w - pic.width) // 2, y + (ph - pic.height) // 2))
    else:
        sheet.paste(_hatching(w, ph), (x, y))
        label = cell.problem or "no preview"
        font = _font(max(12, w // 13))
        text = _fit_text(draw, drawable(label), font, w - 12)
        tw = _text_width(draw, text, font)
        box = draw.textbbox((0, 0), text, font=font)
        th = box[3] - box[1]
        tx, ty = x + (w - tw) / 2, y + (ph - th) / 2
        draw.rectangle((tx - 6, ty - 5, tx + tw + 6, ty + th + 7), fill=(30, 30, 30))
        draw.text((tx, ty - box[1]), text, font=font, fill=_PLACEHOLDER_TEXT)

    # the number: large, black on yellow, top left
    number = str(cell.number)
    font = _font(max(20, w // 6))
    box = draw.textbbox((0, 0), number, font=font, stroke_width=1)
    bw, bh = box[2] - box[0] + 12, box[3] - box[1] + 8
    draw.rectangle((x, y, x + bw, y + bh), fill=_BADGE)
    draw.text(
        (x + 6 - box[0], y + 4 - box[1]), number, font=font, fill=_BADGE_TEXT, stroke_width=1, stroke_fill=_BADGE_TEXT
    )

    # media type and duration: white on black, bottom right of the picture
    tag = _tag_text(cell)
    font = _font(max(13, w // 12))
    box = draw.textbbox((0, 0), tag, font=font)
    tw, th = box[2] - box[0] + 10, box[3] - box[1] + 8
    draw.rectangle((x + w - tw, y + ph - th, x + w - 1, y + ph - 1), fill=_TAG)
    draw.text((x + w - tw + 5 - box[0], y + ph - th + 4 - box[1]), tag, font=font, fill=_TAG_TEXT)

    # the name, cut to the cell
    sh = layout.strip_height
    draw.rectangle((x, y + ph, x + w - 1, y + ph + sh - 1), fill=_STRIP)
    font = _font(max(11, sh - 7))
    name = _fit_text(draw, drawable(cell.name or cell.asset_id), font, w - 8)
    box = draw.textbbox((0, 0), name or " ", font=font)
    draw.text((x + 4, y + ph + (sh - (box[3] - box[1])) / 2 - box[1]), name, font=font, fill=_STRIP_TEXT)


@lru_cache(maxsize=4)
def _hatching(width: int, height: int) -> Image.Image:
    """A hatched grey tile: a placeholder never looks like a dark picture."""
    from PIL import Image, ImageDraw

    tile = Image.new("RGB", (width, height), _PLACEHOLDER)
    draw = ImageDraw.Draw(tile)
    for offset in range(0, width + height, 14):
        draw.line((offset, 0, offset - height, height), fill=(100, 100, 104), width=3)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(150, 150, 150), width=1)
    return tile


def compose(cells: Sequence[Cell], layout: Layout) -> Image.Image:
    """The sheet image (RGB) with ``cells`` in reading order."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGB", layout.size, _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for index, cell in enumerate(cells[: layout.cols * layout.rows]):
        _draw_cell(sheet, draw, layout, index, cell)
    return sheet


def encode(sheet: Image.Image, max_bytes: int = MAX_SHEET_BYTES) -> tuple[bytes, int, int, int]:
    """JPEG bytes of ``sheet`` within ``max_bytes`` and :data:`MAX_SHEET_EDGE`: (bytes, width, height,
    quality). Qualities :data:`QUALITIES` are tried in turn; if even the lowest is too big, the sheet
    is shrunk by a quarter and tried again."""
    from PIL import Image

    image = sheet
    if max(image.size) > MAX_SHEET_EDGE:
        scale = MAX_SHEET_EDGE / max(image.size)
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    while True:
        for quality in QUALITIES:
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=quality)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue(), image.width, image.height, quality
        if max(image.size) < 64:
            return buffer.getvalue(), image.width, image.height, QUALITIES[-1]  # pragma: no cover
        image = image.resize((max(1, image.width * 3 // 4), max(1, image.height * 3 // 4)), Image.Resampling.LANCZOS)


def render_sheet(cells: Sequence[Cell]) -> tuple[bytes, int, int, int]:
    """The finished sheet for ``cells``: (JPEG bytes, width, height, quality). See :func:`encode`."""
    return encode(compose(cells, layout_for(len(cells))))
