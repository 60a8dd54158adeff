"""Search and filtering over the library (no HTTP here; bad input raises ApiError 400).

``q`` is split into terms (multi-word concept names such as "Eiffel Tower" stay one term). An asset
matches when every term word-prefix-matches its name, description, labels or keywords, or when the
term names a taxonomy concept (any language, or a synonym) and the asset is keyworded with that
concept or a narrower one. Results: most terms matched in the name first, then newest, then id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from .errors import bad_parameter
from .library import MEDIA_KINDS, Album, Asset, Library
from .taxonomy import Taxonomy, fold, fold_words

__all__ = ["SearchIndex", "SearchQuery", "parse_search", "split_terms"]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPACE_FOR_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Parsed ``/search/assets`` parameters; ``created_to`` is inclusive."""

    terms: tuple[str, ...] = ()
    kind: str | None = None
    album: str | None = None
    label: str | None = None
    keyword: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def split_terms(q: str, taxonomy: Taxonomy) -> tuple[str, ...]:
    """Folded search terms of ``q``; the longest run of words naming a concept stays one term."""
    words = fold_words(q)
    terms: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(taxonomy.max_phrase_words, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + n])
            if n == 1 or taxonomy.is_phrase(phrase):
                terms.append(phrase)
                i += n
                break
    return tuple(terms)


def _parse_instant(name: str, value: str, *, end_of_day: bool) -> datetime:
    """``YYYY-MM-DD`` (start or end of that UTC day) or an ISO 8601 date-time (naive = UTC)."""
    try:
        if _DATE_ONLY.fullmatch(value):
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
        # A '+' in a query string arrives as a space: "…T10:00:00 02:00" means "+02:00".
        parsed = datetime.fromisoformat(_SPACE_FOR_PLUS.sub(r"\1+\2", value))
    except ValueError:
        raise bad_parameter(name, f"expected an ISO 8601 date (YYYY-MM-DD) or date-time, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_search(params: Mapping[str, str], taxonomy: Taxonomy) -> SearchQuery:
    """Validate and parse search parameters; raises ApiError 400 naming the bad parameter."""

    def get(name: str) -> str | None:
        value = params.get(name, "").strip()
        return value or None

    kind = get("type")
    if kind is not None:
        kind = fold(kind)
        if kind not in MEDIA_KINDS:
            raise bad_parameter("type", f"expected one of {', '.join(MEDIA_KINDS)}, got {params['type']!r}")
    start, end = get("from"), get("to")
    created_from = _parse_instant("from", start, end_of_day=False) if start else None
    created_to = _parse_instant("to", end, end_of_day=True) if end else None
    if created_from and created_to and created_from > created_to:
        raise bad_parameter("from", "must not be later than 'to'")
    label = get("label")
    return SearchQuery(
        terms=split_terms(get("q") or "", taxonomy),
        kind=kind,
        album=get("album"),
        label=fold(label).lstrip("#") if label else None,
        keyword=get("keyword"),
        created_from=created_from,
        created_to=created_to,
    )


def _spaced(words: Iterable[str]) -> str:
    """Words joined with a space at both ends, so ``" term"`` finds word prefixes."""
    return " " + " ".join(words) + " "


@dataclass(frozen=True, slots=True)
class _Entry:
    """Precomputed, folded search fields of one asset."""

    asset: Asset
    name: str
    text: str
    concepts: frozenset[str]
    keywords: frozenset[str]
    labels: frozenset[str]


class SearchIndex:
    """Search and filter one library against one taxonomy."""

    def __init__(self, library: Library, taxonomy: Taxonomy) -> None:
        """Fold every asset's searchable fields once."""
        self._library = library
        self._taxonomy = taxonomy
        self._entries = [self._entry(asset) for asset in library.assets]

    _by_asset: ClassVar[dict[int, tuple[Asset, Taxonomy, _Entry]]] = {}
    """Folded entries by asset identity (assets and their entries are frozen): every app started from
    :func:`.library.shared_library` reuses them (about 40 ms per 320 assets otherwise), and a write, which
    replaces the library with a new asset tuple in which only the changed assets are new objects, folds
    those alone (it folded all 320 again, about 60 ms, after every write). Cleared past :data:`_MAX_CACHED`
    entries."""
    _MAX_CACHED: ClassVar[int] = 50_000

    def put(self, asset: Asset) -> None:
        """Index a new asset (first: newest) or re-index a changed one (uploads, labels; see .files)."""
        entry = self._entry(asset)
        for n, existing in enumerate(self._entries):
            if existing.asset.id == asset.id:
                self._entries[n] = entry
                return
        self._entries.insert(0, entry)

    def _entry(self, asset: Asset) -> _Entry:
        """The folded search fields for ``asset`` (the same asset object, with the same taxonomy: from
        :attr:`_by_asset`)."""
        cached = self._by_asset.get(id(asset))
        if cached is not None and cached[0] is asset and cached[1] is self._taxonomy:
            return cached[2]
        if len(self._by_asset) >= self._MAX_CACHED:
            self._by_asset.clear()
        entry = self._fold_entry(asset)
        self._by_asset[id(asset)] = (asset, self._taxonomy, entry)
        return entry

    def _fold_entry(self, asset: Asset) -> _Entry:
        name_words = fold_words(asset.name)
        text_words = [*name_words, *fold_words(asset.description)]
        for value in (*asset.labels, *asset.keywords):
            text_words.extend(fold_words(value))
        concepts = (self._taxonomy.id_for_label(k) for k in asset.keywords)
        return _Entry(
            asset=asset,
            name=_spaced(name_words),
            text=_spaced(text_words),
            concepts=frozenset(c for c in concepts if c is not None),
            keywords=frozenset(" ".join(fold_words(k)) for k in asset.keywords),
            labels=frozenset(fold(label).lstrip("#") for label in asset.labels),
        )

    def _keyword_filter(self, keyword: str | None) -> tuple[frozenset[str], str] | None:
        """Concept ids (with narrower ones) named by ``keyword``, and its folded form as fallback."""
        if keyword is None:
            return None
        return self._taxonomy.expand(keyword), " ".join(fold_words(keyword))

    @staticmethod
    def _has_keyword(entry: _Entry, keyword: tuple[frozenset[str], str]) -> bool:
        """A known concept matches by concept (and narrower); an unknown keyword by exact text."""
        concepts, folded = keyword
        return bool(entry.concepts & concepts) if concepts else folded in entry.keywords

    def _passes_filters(self, entry: _Entry, query: SearchQuery) -> bool:
        """Whether ``entry`` passes the non-text filters of ``query``."""
        asset = entry.asset
        if query.kind and asset.kind != query.kind:
            return False
        if query.album and query.album not in asset.album_ids:
            return False
        if query.label and query.label not in entry.labels:
            return False
        if query.created_from and asset.created < query.created_from:
            return False
        return not (query.created_to and asset.created > query.created_to)

    def search(self, query: SearchQuery) -> list[Asset]:
        """Assets matching ``query``, best first (name hits, then newest, then id)."""
        expansions = [(term, self._taxonomy.expand(term)) for term in query.terms]
        keyword = self._keyword_filter(query.keyword)
        scored: list[tuple[int, float, str, Asset]] = []
        for entry in self._entries:
            if not self._passes_filters(entry, query):
                continue
            if keyword and not self._has_keyword(entry, keyword):
                continue
            if not all(f" {t}" in entry.text or entry.concepts & c for t, c in expansions):
                continue
            name_hits = sum(f" {t}" in entry.name for t, _ in expansions)
            scored.append((-name_hits, -entry.asset.created.timestamp(), entry.asset.id, entry.asset))
        scored.sort(key=lambda row: row[:3])
        return [row[3] for row in scored]

    def albums(self, q: str | None) -> Sequence[Album]:
        """Albums whose name or description contains ``q`` (case- and accent-insensitive)."""
        if not q:
            return self._library.albums
        needle = fold(q)
        return [a for a in self._library.albums if needle in fold(a.name) or needle in fold(a.description)]
