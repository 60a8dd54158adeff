"""``GET /keywords?q=&lang=``: suggestions from the sandbox taxonomy (:mod:`.taxonomy`).

A concept matches when the folded ``q`` is a word prefix of one of its labels (en, de, fr) or
synonyms: "par" finds Paris (and "Paname"), "frank" finds France through "Frankreich", "munch" finds
Munich through "München". Ranking: the whole name equals ``q``, then a name starts with it, then a
word inside a name does; ties keep the taxonomy's order. With ``lang`` (en, de or fr) every term is
given in that language; without it, in the language of the name that matched (English for a synonym).
At most ``size`` (default 20, at most 50) concepts.

Each shape spells concepts its own way, so a client has to be tolerant (as the real API is unknown):
``hal``: ``{"_embedded": {"concepts": [{"id", "prefLabel", "language", "altLabels", "broader":
[{"id", "prefLabel"}], "narrower": [...], "_links"}]}, "_links", "page"}``; ``array``: a bare array of
``{"uuid", "label", "lang", "synonyms", "broader": [label], "narrower": [label]}``; ``items``:
``{"items": [{"conceptId", "term", "locale", "aliases", "parents": [label], "children": [label]}],
"total", "nextCursor": null}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .errors import bad_parameter
from .taxonomy import Concept, Taxonomy, fold, fold_words

__all__ = ["LANGUAGES", "keyword_body", "suggest"]

LANGUAGES: Final = ("en", "de", "fr")
_DEFAULT_SIZE: Final = 20
_MAX_SIZE: Final = 50


def _label(concept: Concept, lang: str) -> str:
    return concept.labels[lang]


def _match(concept: Concept, needle: str) -> tuple[int, str] | None:
    """(rank, language of the matching name) when ``needle`` matches a name of ``concept``; lower is better."""
    best: tuple[int, str] | None = None
    names: list[tuple[str, str]] = [(lang, concept.labels[lang]) for lang in LANGUAGES]
    names += [("en", synonym) for synonym in concept.synonyms]
    for lang, name in names:
        folded = " ".join(fold_words(name))
        if folded == needle:
            rank = 0
        elif folded.startswith(needle):
            rank = 1
        elif f" {needle}" in f" {folded}":
            rank = 2
        else:
            continue
        if best is None or rank < best[0]:
            best = (rank, lang)
    return best


def suggest(taxonomy: Taxonomy, q: str, lang: str | None) -> list[tuple[Concept, str]]:
    """Concepts matching ``q``, best first, each with the language to spell it in."""
    needle = " ".join(fold_words(q))
    if not needle:
        return []
    found: list[tuple[int, int, Concept, str]] = []
    for order, concept in enumerate(taxonomy.concepts.values()):
        hit = _match(concept, needle)
        if hit is not None:
            found.append((hit[0], order, concept, lang or hit[1]))
    found.sort(key=lambda row: row[:2])
    return [(concept, language) for _, _, concept, language in found]


def _synonyms(concept: Concept, lang: str) -> list[str]:
    """Every other label and synonym of ``concept`` (no duplicates, not the term itself)."""
    term = _label(concept, lang)
    result: list[str] = []
    for name in (*[concept.labels[other] for other in LANGUAGES], *concept.synonyms):
        if name != term and name not in result:
            result.append(name)
    return result


def _concept_json(taxonomy: Taxonomy, concept: Concept, lang: str, shape: str, url: str) -> dict[str, Any]:
    concepts = taxonomy.concepts
    broader = [concepts[c] for c in concept.broader]
    narrower = [concepts[c] for c in taxonomy.narrower(concept.id)]
    if shape == "array":
        return {
            "uuid": concept.id,
            "label": _label(concept, lang),
            "lang": lang,
            "synonyms": _synonyms(concept, lang),
            "broader": [_label(c, lang) for c in broader],
            "narrower": [_label(c, lang) for c in narrower],
        }
    if shape == "items":
        return {
            "conceptId": concept.id,
            "term": _label(concept, lang),
            "locale": lang,
            "aliases": _synonyms(concept, lang),
            "parents": [_label(c, lang) for c in broader],
            "children": [_label(c, lang) for c in narrower],
        }
    return {
        "id": concept.id,
        "prefLabel": _label(concept, lang),
        "language": lang,
        "altLabels": _synonyms(concept, lang),
        "broader": [{"id": c.id, "prefLabel": _label(c, lang)} for c in broader],
        "narrower": [{"id": c.id, "prefLabel": _label(c, lang)} for c in narrower],
        "_links": {"self": {"href": f"{url}/{concept.id}"}},
    }


def keyword_body(taxonomy: Taxonomy, params: Mapping[str, str], shape: str, url: str) -> Any:
    """The ``/keywords`` answer for query ``params`` in ``shape``; ``url`` is the route's absolute URL.

    Raises ApiError 400 for a missing ``q``, an unknown ``lang`` or a bad ``size``.
    """
    q = params.get("q", "").strip()
    if not q:
        raise bad_parameter("q", "a text to match, e.g. q=par")
    lang = params.get("lang", "").strip().lower() or None
    if lang is not None:
        lang = lang.split("-")[0]
        if lang not in LANGUAGES:
            raise bad_parameter("lang", f"expected one of {', '.join(LANGUAGES)}, got {fold(params['lang'])!r}")
    raw_size = params.get("size", "").strip()
    if raw_size and not (raw_size.isdigit() and 1 <= int(raw_size) <= _MAX_SIZE):
        raise bad_parameter("size", f"expected a number from 1 to {_MAX_SIZE}")
    size = int(raw_size) if raw_size else _DEFAULT_SIZE
    hits = suggest(taxonomy, q, lang)
    rows = [_concept_json(taxonomy, concept, language, shape, url) for concept, language in hits[:size]]
    if shape == "array":
        return rows
    if shape == "items":
        return {"items": rows, "total": len(hits), "nextCursor": None}
    return {
        "_embedded": {"concepts": rows},
        "_links": {"self": {"href": url}},
        "page": {"size": size, "totalElements": len(hits), "totalPages": 1, "number": 0},
    }
