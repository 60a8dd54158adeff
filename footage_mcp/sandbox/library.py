"""The deterministic seeded sample library the sandbox serves (pure data, no I/O).

:func:`build_library` turns a seed into 14 albums and 320 assets (144 images, 96 videos, 38 audio
files, 42 documents) with realistic titles, MIME types, sizes (bytes), durations (seconds),
dimensions (pixels), UTC timestamps between 2016 and 2026, taxonomy keywords, ``#hashtag`` labels
and at least 30 relations covering all nine relation types. Everything comes from one
``random.Random(seed)``: the same seed gives an equal library and byte-identical API responses.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final

from .taxonomy import CONCEPTS, get_taxonomy
from .themes import THEMES, Subject, Theme

__all__ = [
    "DEFAULT_SEED",
    "MEDIA_KINDS",
    "RELATION_TYPES",
    "Album",
    "Asset",
    "Library",
    "Relation",
    "build_library",
    "shared_library",
]

DEFAULT_SEED: Final = 20190614
MEDIA_KINDS: Final = ("image", "video", "audio", "document")
RELATION_TYPES: Final = (
    "variant",
    "derivative",
    "composition",
    "segment",
    "version",
    "audio_track",
    "model_release",
    "behind_the_scenes",
    "related",
)
LIBRARY_END: Final = datetime(2026, 2, 27, 18, 0, tzinfo=UTC)
"""No timestamp in the library is later than this (keeps output independent of today's date)."""

BULK_ALBUM_NAME: Final = "Bulk Import"


@dataclass(frozen=True, slots=True)
class Relation:
    """A link from the asset carrying it to ``target``.

    ``time_in``/``time_out`` (seconds) are set only when the carrying asset is a video.
    """

    type: str
    target: str
    direction: str
    description: str | None = None
    time_in: float | None = None
    time_out: float | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """One media asset. Sizes in bytes, durations in seconds, dimensions in pixels, times in UTC."""

    id: str
    name: str
    description: str
    kind: str
    mime_type: str
    size_bytes: int
    duration: float | None
    width: int | None
    height: int | None
    created: datetime
    updated: datetime
    keywords: tuple[str, ...]
    labels: tuple[str, ...]
    album_ids: tuple[str, ...]
    relations: tuple[Relation, ...]
    preview_available: bool
    rating: int
    color_label: str | None
    checksum: str


@dataclass(frozen=True, slots=True)
class Album:
    """One album; ``asset_ids`` is the album order (chronological)."""

    id: str
    name: str
    description: str
    asset_ids: tuple[str, ...]
    created: datetime
    updated: datetime
    keywords: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    """Albums (theme order) and assets (newest first), with id lookups."""

    seed: int
    albums: tuple[Album, ...]
    assets: tuple[Asset, ...]
    _albums_by_id: dict[str, Album] = field(init=False, repr=False, compare=False)
    _assets_by_id: dict[str, Asset] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the id indexes."""
        object.__setattr__(self, "_albums_by_id", {a.id: a for a in self.albums})
        object.__setattr__(self, "_assets_by_id", {a.id: a for a in self.assets})

    def album(self, album_id: str) -> Album | None:
        """The album with ``album_id``, or None."""
        return self._albums_by_id.get(album_id)

    def asset(self, asset_id: str) -> Asset | None:
        """The asset with ``asset_id``, or None."""
        return self._assets_by_id.get(asset_id)

    def album_assets(self, album: Album) -> list[Asset]:
        """The album's assets in album order."""
        return [self._assets_by_id[i] for i in album.asset_ids]

    def put_asset(self, asset: Asset) -> None:
        """Add ``asset`` (newest first) or replace the asset with its id (uploads, labels; see .files)."""
        if asset.id in self._assets_by_id:
            object.__setattr__(self, "assets", tuple(asset if a.id == asset.id else a for a in self.assets))
        else:
            object.__setattr__(self, "assets", (asset, *self.assets))
        self._assets_by_id[asset.id] = asset

    def put_album(self, album: Album) -> None:
        """Replace the album with ``album``'s id (its asset list changed; see .files)."""
        object.__setattr__(self, "albums", tuple(album if a.id == album.id else a for a in self.albums))
        self._albums_by_id[album.id] = album


# --------------------------------------------------------------------------------------------
# Drafts: mutable while the generator wires albums and relations, frozen at the end.


@dataclass
class _Draft:
    id: str
    name: str
    description: str
    kind: str
    mime_type: str
    size_bytes: int
    duration: float | None
    width: int | None
    height: int | None
    created: datetime
    updated: datetime
    keywords: list[str]
    labels: list[str]
    home: int
    albums: list[int] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    preview_available: bool = True
    rating: int = 0
    color_label: str | None = None
    checksum: str = ""


def _no_checksum(rng: random.Random) -> str:
    """No checksum for a generated asset: its original is generated while it streams and never hashed whole,
    and a made-up one would make a correct download look corrupt (uploads carry their real SHA-256). The
    random draw is kept so that the seeded library stays the same in every other field."""
    rng.getrandbits(256)
    return ""


_FRAMINGS: Final = {
    "image": ("wide", "close-up", "detail", "vertical", "medium shot", "overhead", "black and white"),
    "video": ("wide", "slow motion", "timelapse", "handheld", "tracking shot", "4K master", "vertical cut"),
    "audio": ("full mix", "30 s edit", "loop", "stems", "alt take"),
    "document": ("EN", "DE", "FR", "final", "draft v2", "signed"),
}
_VERBS: Final = {"image": "Photographed", "video": "Filmed", "audio": "Recorded", "document": "Prepared"}
_EXTRA_SENTENCES: Final = {
    "image": (
        "Shot handheld in available light.",
        "Colour-graded; raw files are kept in cold storage.",
        "Cleared for editorial use.",
        "Picked for the social media calendar.",
        "Part of the photographer's final selection.",
    ),
    "video": (
        "Graded master with embedded timecode.",
        "Shot on a gimbal at 50 fps.",
        "Includes natural sound.",
        "Log footage, ungraded.",
    ),
    "audio": ("Mastered to -14 LUFS.", "Stereo, 48 kHz, 24-bit.", "Cleared for online and broadcast use."),
    "document": (
        "Approved by legal.",
        "Supersedes all earlier drafts.",
        "For internal distribution only.",
    ),
}
_MIME: Final = {
    "image": (("image/jpeg", 70), ("image/png", 10), ("image/tiff", 15), ("image/webp", 5)),
    "video": (("video/mp4", 70), ("video/quicktime", 30)),
    "audio": (("audio/wav", 55), ("audio/mpeg", 45)),
    "document": (
        ("application/pdf", 60),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 20),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 10),
        ("text/plain", 10),
    ),
}
_IMAGE_DIMS: Final = ((6000, 4000), (4000, 3000), (5472, 3648), (3840, 2160), (1920, 1080), (8256, 5504))
_IMAGE_DIMS_TALL: Final = ((4000, 6000), (3000, 4000), (1080, 1920))
_VIDEO_DIMS: Final = (((1920, 1080), 45), ((3840, 2160), 30), ((1080, 1920), 15), ((1280, 720), 5), ((4096, 2160), 5))
_DOC_SIZE_RANGE: Final = {
    "application/pdf": (80_000, 25_000_000),
    "text/plain": (2_000, 120_000),
}
_STATUS_LABELS: Final = (("#approved", 40), ("#draft", 10), ("", 50))
_COLORS: Final = (None, None, None, "red", "yellow", "green", "blue", "purple")
_MIN_RELATIONS_PER_TYPE: Final = 4


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    """Pick a value from ``(value, weight)`` pairs."""
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _new_id(rng: random.Random) -> str:
    """A random (version 4 layout) UUID string drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _random_time(rng: random.Random, first_year: int, last_year: int) -> datetime:
    """A whole-second UTC instant between Jan 1 of ``first_year`` and the end of ``last_year``."""
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = min(datetime(last_year + 1, 1, 1, tzinfo=UTC), LIBRARY_END)
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _updated_after(rng: random.Random, created: datetime) -> datetime:
    """An update time at or after ``created`` (30 % never updated), not after LIBRARY_END."""
    room = min(200 * 86400, int((LIBRARY_END - created).total_seconds()))
    if room < 2 or rng.random() < 0.3:
        return created
    return created + timedelta(seconds=rng.randrange(1, room))


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    """An integer spread evenly on a log scale between ``low`` and ``high``."""
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


# --------------------------------------------------------------------------------------------
# Technical metadata per media kind


def _image_tech(rng: random.Random, framing: str) -> tuple[str, int, None, int, int]:
    """MIME type, bytes, duration, width, height for a still image."""
    mime = _weighted(rng, _MIME["image"])
    width, height = rng.choice(_IMAGE_DIMS_TALL if framing == "vertical" else _IMAGE_DIMS)
    per_pixel = {"image/png": rng.uniform(1.2, 2.0), "image/tiff": 3.0}.get(mime, rng.uniform(0.25, 0.6))
    return mime, int(width * height * per_pixel) + rng.randrange(4096), None, width, height


def _video_tech(rng: random.Random, framing: str) -> tuple[str, int, float, int, int]:
    """MIME type, bytes, duration (5–600 s), width, height for a video clip."""
    mime = _weighted(rng, _MIME["video"])
    if framing == "4K master":
        width, height = 3840, 2160
    elif framing == "vertical cut":
        width, height = 1080, 1920
    else:
        width, height = rng.choices([d for d, _ in _VIDEO_DIMS], weights=[w for _, w in _VIDEO_DIMS])[0]
    duration = round(rng.triangular(5, 600, 30), 3)
    uhd = max(width, height) >= 3840
    mbps = (590 if uhd else 147) if mime == "video/quicktime" else (45 if uhd else 10)
    return mime, int(duration * mbps * 125_000 * rng.uniform(0.9, 1.1)), duration, width, height


def _audio_tech(rng: random.Random, framing: str) -> tuple[str, int, float, None, None]:
    """MIME type, bytes, duration for an audio file: a "30 s edit" lasts 29.5–30.5 s, a "loop"
    10–32 s, anything else 10–900 s (one draw in every case, so the rest of the library does not
    depend on the framing)."""
    mime = _weighted(rng, _MIME["audio"])
    drawn = rng.triangular(10, 900, 60)
    fraction = (drawn - 10) / 890
    if framing == "30 s edit":
        drawn = 29.5 + fraction
    elif framing == "loop":
        drawn = 10 + 22 * fraction
    duration = round(drawn, 3)
    bytes_per_second = 288_000 if mime == "audio/wav" else 40_000
    return mime, int(duration * bytes_per_second) + 44, duration, None, None


def _document_tech(rng: random.Random, title: str) -> tuple[str, int, None, None, None]:
    """MIME type and bytes for a document (transcripts are text, releases and licences PDF)."""
    if title.startswith("Transcript"):
        mime = "text/plain"
    elif any(w in title for w in ("release", "licence", "certificate", "form")):
        mime = "application/pdf"
    else:
        mime = _weighted(rng, _MIME["document"])
    low, high = _DOC_SIZE_RANGE.get(mime, (20_000, 3_000_000))
    return mime, _log_uniform(rng, low, high), None, None, None


def _tech(
    rng: random.Random, kind: str, framing: str, title: str
) -> tuple[str, int, float | None, int | None, int | None]:
    """Technical metadata for ``kind``: MIME type, bytes, seconds, width, height."""
    if kind == "image":
        return _image_tech(rng, framing)
    if kind == "video":
        return _video_tech(rng, framing)
    if kind == "audio":
        return _audio_tech(rng, framing)
    return _document_tech(rng, title)


# --------------------------------------------------------------------------------------------
# Descriptive metadata


def _title(core: str, kind: str, framing: str) -> str:
    """ "Eiffel Tower at dusk, wide" / "Company fact sheet (DE)"."""
    if kind == "document" and framing in ("EN", "DE", "FR"):
        return f"{core} ({framing})"
    return f"{core}, {framing}"


def _description(rng: random.Random, core: str, kind: str, place: str) -> str:
    """One or two sentences: what and where, plus an optional production note."""
    first = f"{core}. {_VERBS[kind]} {place}."
    if rng.random() < 0.6:
        return f"{first} {rng.choice(_EXTRA_SENTENCES[kind])}"
    return first


def _keywords(rng: random.Random, subject: Subject, theme: Theme) -> list[str]:
    """The subject's keywords plus, at random, some of the album's."""
    result = list(subject.keywords)
    for keyword in theme.keywords:
        if keyword not in result and rng.random() < 0.4:
            result.append(keyword)
    return result


def _labels(
    rng: random.Random, theme: Theme, kind: str, framing: str, *, width: int | None, created: datetime
) -> list[str]:
    """Free ``#hashtag`` labels consistent with the metadata (``#4k``, ``#bw``, ``#archive`` …)."""
    labels = [label for label in theme.labels if rng.random() < 0.6]
    status = _weighted(rng, _STATUS_LABELS)
    extras = [
        (status, bool(status)),
        ("#social", rng.random() < 0.2),
        ("#editorial", rng.random() < 0.15),
        ("#4k", kind == "video" and (width or 0) >= 3840),
        ("#bw", framing == "black and white"),
        ("#drone", kind == "video" and "Drone" in theme.name),
        ("#archive", created.year < 2018),
    ]
    labels.extend(label for label, wanted in extras if wanted and label not in labels)
    return labels


# --------------------------------------------------------------------------------------------
# Assembly


class _Builder:
    """Generates drafts for the themed library, then wires albums and relations."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.album_ids = [_new_id(self.rng) for _ in THEMES]
        self.drafts: list[_Draft] = []
        self.titles: set[str] = set()

    def unique_title(self, title: str) -> str:
        """``title``, or ``title, take N`` when an earlier asset already uses it."""
        candidate, n = title, 2
        while candidate in self.titles:
            candidate, n = f"{title}, take {n}", n + 1
        self.titles.add(candidate)
        return candidate

    def draft(self, home: int, theme: Theme, kind: str, subject: Subject) -> _Draft:
        """One asset of ``kind`` showing ``subject``, owned by album number ``home``."""
        rng = self.rng
        framing = rng.choice(_FRAMINGS[kind])
        name = self.unique_title(_title(subject.title, kind, framing))
        mime, size, duration, width, height = _tech(rng, kind, framing, subject.title)
        created = _random_time(rng, *theme.years)
        return _Draft(
            id=_new_id(rng),
            name=name,
            description=_description(rng, subject.title, kind, theme.place),
            kind=kind,
            mime_type=mime,
            size_bytes=size,
            duration=duration,
            width=width,
            height=height,
            created=created,
            updated=_updated_after(rng, created),
            keywords=_keywords(rng, subject, theme),
            labels=_labels(rng, theme, kind, framing, width=width, created=created),
            home=home,
            albums=[home],
            rating=rng.randint(0, 5),
            color_label=rng.choice(_COLORS),
            checksum=_no_checksum(rng),
        )

    def generate_assets(self) -> None:
        """All themed drafts, cycling through each theme's subjects in shuffled order."""
        for home, theme in enumerate(THEMES):
            for kind in (k for k in MEDIA_KINDS if theme.count(k)):
                subjects = list(theme.subjects_for(kind))
                self.rng.shuffle(subjects)
                for i in range(theme.count(kind)):
                    self.drafts.append(self.draft(home, theme, kind, subjects[i % len(subjects)]))

    def add_secondary_albums(self) -> None:
        """Offer about 35 % of assets one more album and 10 % two more (same kind only); an asset joins
        an offered album only when it fits there: created within the album's years and keyworded
        with one of the album's concepts or a narrower one (no Rome shot of 2016 in "Paris Street
        Life 2019"). The draws are the same whether an offer is taken or not, so the rest of the
        library does not depend on this rule."""
        taxonomy = get_taxonomy()
        wanted = [frozenset().union(*(taxonomy.expand(k) for k in theme.keywords)) for theme in THEMES]
        for d in self.drafts:
            candidates = [i for i, t in enumerate(THEMES) if t.count(d.kind) and i != d.home]
            roll = self.rng.random()
            extra = 2 if roll < 0.10 else 1 if roll < 0.45 else 0
            offered = sorted(self.rng.sample(candidates, min(extra, len(candidates))))
            concepts = {taxonomy.id_for_label(k) for k in d.keywords}
            d.albums.extend(
                i
                for i in offered
                if THEMES[i].years[0] <= d.created.year <= THEMES[i].years[1] and concepts & wanted[i]
            )

    def hide_some_previews(self) -> None:
        """About one document in 40 (at least one) has no preview."""
        documents = [d for d in self.drafts if d.kind == "document"]
        for d in self.rng.sample(documents, max(1, round(len(documents) / 40))):
            d.preview_available = False


@dataclass(frozen=True, slots=True)
class _RelationSpec:
    type: str
    source_kinds: tuple[str, ...]
    target_kinds: tuple[str, ...]
    direction: str
    description: str


_RELATION_SPECS: Final = (
    _RelationSpec("variant", ("image",), ("image",), "two-way", "Alternate framing from the same set-up"),
    _RelationSpec("derivative", ("video",), ("image",), "one-way", "Still frame exported from this clip"),
    _RelationSpec("composition", ("image", "video"), ("image",), "one-way", "Element used in this composite"),
    _RelationSpec("segment", ("video",), ("video",), "one-way", "Segment cut for the highlight reel"),
    _RelationSpec("version", ("document",), ("document",), "two-way", "Other revision of this document"),
    _RelationSpec("audio_track", ("video",), ("audio",), "one-way", "Audio track mixed for this clip"),
    _RelationSpec("model_release", ("image",), ("document",), "one-way", "Signed model release for people shown"),
    _RelationSpec("behind_the_scenes", ("video",), ("image", "video"), "two-way", "Behind the scenes of the shoot"),
    _RelationSpec("related", MEDIA_KINDS, MEDIA_KINDS, "two-way", "Same subject, different shoot"),
)


def _time_window(rng: random.Random, carrier: _Draft) -> tuple[float | None, float | None]:
    """A time in/out (seconds) inside ``carrier`` when it is a video, else (None, None)."""
    if carrier.kind != "video" or carrier.duration is None:
        return None, None
    start = round(rng.uniform(0, carrier.duration * 0.7), 2)
    end = round(min(carrier.duration, start + rng.uniform(2, max(3.0, carrier.duration * 0.3))), 2)
    return start, end


def _relation_pools(spec: _RelationSpec, drafts: list[_Draft]) -> tuple[list[_Draft], list[_Draft]]:
    """Candidate sources and targets for ``spec`` (model releases: portraits → release forms)."""
    sources = [d for d in drafts if d.kind in spec.source_kinds]
    targets = [d for d in drafts if d.kind in spec.target_kinds]
    if spec.type == "model_release":
        sources = [d for d in sources if "Portrait" in d.keywords] or sources
        targets = [d for d in targets if d.name.startswith("Model release")] or targets
    return sources, targets


def _add_relations(rng: random.Random, drafts: list[_Draft]) -> None:
    """Create ``_MIN_RELATIONS_PER_TYPE`` relations of each type, mirrored when two-way."""
    seen: set[tuple[str, str]] = set()
    for spec in _RELATION_SPECS:
        sources, targets = _relation_pools(spec, drafts)
        made = attempts = 0
        while made < _MIN_RELATIONS_PER_TYPE and attempts < 1000:
            attempts += 1
            source = rng.choice(sources)
            near = [t for t in targets if t.home == source.home and t is not source]
            target = rng.choice(near or [t for t in targets if t is not source])
            if (source.id, target.id) in seen:
                continue
            seen.update({(source.id, target.id), (target.id, source.id)})
            description = spec.description if rng.random() < 0.8 else None
            source.relations.append(
                Relation(spec.type, target.id, spec.direction, description, *_time_window(rng, source))
            )
            if spec.direction == "two-way":
                target.relations.append(
                    Relation(spec.type, source.id, spec.direction, description, *_time_window(rng, target))
                )
            made += 1


def _freeze(d: _Draft, album_ids: Sequence[str]) -> Asset:
    """The immutable asset for draft ``d``."""
    return Asset(
        id=d.id,
        name=d.name,
        description=d.description,
        kind=d.kind,
        mime_type=d.mime_type,
        size_bytes=d.size_bytes,
        duration=d.duration,
        width=d.width,
        height=d.height,
        created=d.created,
        updated=d.updated,
        keywords=tuple(d.keywords),
        labels=tuple(d.labels),
        album_ids=tuple(album_ids[i] for i in d.albums),
        relations=tuple(d.relations),
        preview_available=d.preview_available,
        rating=d.rating,
        color_label=d.color_label,
        checksum=d.checksum,
    )


def _make_album(rng: random.Random, album_id: str, theme: Theme, members: list[Asset]) -> Album:
    """An album from its theme and member assets (ordered oldest first).

    Created shortly before its oldest asset from the theme's own years; updated with its newest change.
    """
    members = sorted(members, key=lambda a: (a.created, a.id))
    own = [a.created for a in members if a.created.year >= theme.years[0]] or [members[0].created]
    created = min(own) - timedelta(seconds=rng.randrange(86400 * 10))
    return Album(
        id=album_id,
        name=theme.name,
        description=theme.description,
        asset_ids=tuple(a.id for a in members),
        created=created,
        updated=max(a.updated for a in members),
        keywords=theme.keywords,
        labels=theme.labels,
    )


# --------------------------------------------------------------------------------------------
# Bulk import (scale tests)

_BULK_KINDS: Final = (("image", 45), ("video", 30), ("audio", 12), ("document", 13))
_BULK_PREFIX: Final = {"image": "IMG", "video": "CLIP", "audio": "REC", "document": "DOC"}
_BULK_EXT: Final = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
_BULK_KEYWORDS: Final = tuple(c.en for c in CONCEPTS if c.id != "france")


def _bulk_asset(rng: random.Random, n: int, album_id: str) -> Asset:
    """Bulk-imported asset number ``n``: camera-style file name, sparse metadata."""
    kind = _weighted(rng, _BULK_KINDS)
    mime, size, duration, width, height = _tech(rng, kind, "wide", "")
    created = _random_time(rng, 2016, 2025)
    return Asset(
        id=_new_id(rng),
        name=f"{_BULK_PREFIX[kind]}_{n:05d}.{_BULK_EXT[mime]}",
        description="Imported during the 2025 storage migration; not yet catalogued.",
        kind=kind,
        mime_type=mime,
        size_bytes=size,
        duration=duration,
        width=width,
        height=height,
        created=created,
        updated=created,
        keywords=tuple(rng.sample(_BULK_KEYWORDS, rng.randrange(3))),
        labels=("#import",),
        album_ids=(album_id,),
        relations=(),
        preview_available=kind != "document" or rng.random() >= 1 / 40,
        rating=0,
        color_label=None,
        checksum=_no_checksum(rng),
    )


def _bulk(seed: int, count: int) -> tuple[Album, list[Asset]]:
    """The "Bulk Import" album and its ``count`` generated assets (independent of the main rng)."""
    rng = random.Random(seed * 1_000_003 + 17)
    album_id = _new_id(rng)
    assets = sorted((_bulk_asset(rng, n, album_id) for n in range(1, count + 1)), key=lambda a: (a.created, a.id))
    album = Album(
        id=album_id,
        name=BULK_ALBUM_NAME,
        description=f"Unsorted files from the 2025 storage migration ({count} files).",
        asset_ids=tuple(a.id for a in assets),
        created=datetime(2025, 11, 3, 9, 30, tzinfo=UTC),
        updated=datetime(2025, 11, 3, 9, 30, tzinfo=UTC),
        keywords=(),
        labels=("#import",),
    )
    return album, assets


def build_library(seed: int = DEFAULT_SEED, *, extra_album_assets: int = 0) -> Library:
    """Build the sample library for ``seed``.

    With ``extra_album_assets`` > 0 a 15th album "Bulk Import" holds that many more generated
    assets (the first 320 assets and 14 albums do not change).
    """
    builder = _Builder(seed)
    builder.generate_assets()
    builder.add_secondary_albums()
    _add_relations(builder.rng, builder.drafts)
    builder.hide_some_previews()
    assets = [_freeze(d, builder.album_ids) for d in builder.drafts]
    albums = [
        _make_album(builder.rng, album_id, theme, [a for a in assets if album_id in a.album_ids])
        for album_id, theme in zip(builder.album_ids, THEMES, strict=True)
    ]
    if extra_album_assets > 0:
        bulk_album, bulk_assets = _bulk(seed, extra_album_assets)
        albums.append(bulk_album)
        assets.extend(bulk_assets)
    assets.sort(key=lambda a: (-a.created.timestamp(), a.id))
    return Library(seed=seed, albums=tuple(albums), assets=tuple(assets))


@lru_cache(maxsize=8)
def _built(seed: int, extra_album_assets: int) -> Library:
    return build_library(seed, extra_album_assets=extra_album_assets)


def shared_library(seed: int = DEFAULT_SEED, extra_album_assets: int = 0) -> Library:
    """A new :class:`Library` equal to :func:`build_library`'s, from albums and assets built once per
    process per arguments (30-60 ms each; every app, in-process test sandbox and forked sandbox process
    starts from one). Albums and assets are frozen and shared; the library itself is this caller's own
    (uploads add to it in place, see ``put_asset``)."""
    built = _built(seed, extra_album_assets)
    return Library(seed=built.seed, albums=built.albums, assets=built.assets)
