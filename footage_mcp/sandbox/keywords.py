"""The keyword lookup route of the sandbox: ``GET /keywords?q=&lang=`` (``/taxonomy/concepts`` with alt routes).

Answers the concepts of the taxonomy (:mod:`.taxonomy`) that a term names in any language or by a
synonym, exact matches first, then concepts with a name starting with the term (at least 2
characters), in the app's list envelope. A concept is ``{"id", "label", "language", "labels",
"synonyms", "broader", "narrower"}``; ``label`` is in ``lang`` (``en`` default; ``de``, ``fr``).
Without ``q`` every concept is listed.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_parameter
from .taxonomy import Concept, Taxonomy, fold_words

__all__ = ["LANGUAGES", "concept_json", "find_concepts"]

LANGUAGES = ("en", "de", "fr")


def concept_json(concept: Concept, taxonomy: Taxonomy, lang: str) -> dict[str, Any]:
    """One concept as the keyword route spells it (every shape)."""
    return {
        "id": concept.id,
        "label": concept.labels[lang],
        "language": lang,
        "labels": concept.labels,
        "synonyms": list(concept.synonyms),
        "broader": list(concept.broader),
        "narrower": list(taxonomy.narrower(concept.id)),
    }


def find_concepts(taxonomy: Taxonomy, q: str | None, lang: str | None) -> tuple[list[Concept], str]:
    """The concepts matching ``q`` (exact first, then prefix), and the label language.

    Raises:
        ApiError: 400 for an unknown ``lang`` or a ``q`` of one character.
    """
    language = (lang or "en").strip().lower() or "en"
    if language not in LANGUAGES:
        raise bad_parameter("lang", f"expected one of {', '.join(LANGUAGES)}")
    concepts = list(taxonomy.concepts.values())
    if q is None or not q.strip():
        return concepts, language
    words = " ".join(fold_words(q))
    if len(words) < 2:
        raise bad_parameter("q", "at least 2 characters")
    exact = set(taxonomy.lookup(q))
    prefix = [
        c
        for c in concepts
        if c.id not in exact and any(" ".join(fold_words(name)).startswith(words) for name in c.names())
    ]
    return [c for c in concepts if c.id in exact] + prefix, language
