"""The keyword taxonomy: concepts that match a text, read from the API's keyword route.

footage.one keywords come from a controlled multilingual taxonomy with synonyms and broader/narrower
concepts ("France" also finds "Paris"): confirmed in footage-api.md ('Confirmed', domain). The route
that serves suggestions is NOT known: footage-api.md guesses ``GET /keywords{?q,lang}`` (route key
``keywords``; a discovery-root link named ``keywords``, ``taxonomy`` or ``concepts`` replaces it, and
``FOOTAGE_ROUTES`` beats both). The app suggests "after 3 characters" (confirmed product behaviour);
the bridge asks from 2.

The answer's shape is guessed too, so :func:`parse_concepts` accepts every list family of
:mod:`footage_mcp.rest.shapes` (HAL ``_embedded.concepts``/``keywords``, a bare array, an items object,
``{"concepts": [...]}`` or ``{"keywords": [...]}``) and, per concept, the usual spellings: the term in
``keyword``/``label``/``prefLabel``/``name``/``term``/``title`` (or a ``labels`` map of language →
term), the language in ``language``/``lang``/``locale``, synonyms in ``synonyms``/``altLabels``/
``aliases``/``alternatives``, and broader/narrower concepts as lists of terms, of objects with a term,
or of ids. A bare string is a concept with no more than its term.

No MCP imports: :class:`KeywordRoute` is what the MCP tool ``suggest_keywords`` and the write tool
``add_keywords`` (issue 13) share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from footage_mcp.core.errors import ApiError, BadRequest, InvalidArgument, NotFound
from footage_mcp.rest.shapes import parse_list

if TYPE_CHECKING:
    from footage_mcp.rest.api import FootageApi

MIN_TEXT_CHARS = 2
"""Shortest text sent to the keyword route."""
MAX_TEXT_CHARS = 200
"""Longest text sent to the keyword route."""
MAX_CONCEPTS = 50
"""At most this many concepts are returned (the first ones of the API's answer)."""
MAX_RELATED = 20
"""At most this many synonyms, broader or narrower terms per concept."""
MAX_TERM_CHARS = 120
"""Longer terms are cut (the taxonomy's terms are short; a longer one is not a keyword)."""

_TERM_KEYS = ("keyword", "label", "prefLabel", "pref_label", "preferredLabel", "name", "term", "title", "value")
_LANGUAGE_KEYS = ("language", "lang", "locale", "languageCode", "language_code")
_SYNONYM_KEYS = ("synonyms", "altLabels", "alt_labels", "altLabel", "aliases", "alternatives", "variants")
_BROADER_KEYS = ("broader", "parents", "parent", "broaderConcepts", "broader_concepts")
_NARROWER_KEYS = ("narrower", "children", "narrowerConcepts", "narrower_concepts")
_ID_KEYS = ("id", "conceptId", "concept_id", "uuid", "uri")


class Concept(BaseModel):
    """One concept of the library's keyword taxonomy, in the language it matched (or was asked for)."""

    model_config = ConfigDict(extra="forbid")

    keyword: str = Field(description="The term, for search_assets(keyword=…).")
    language: str | None = Field(default=None, description="Language code of the term.")
    synonyms: list[str] = Field(default_factory=list, description="Other terms of the concept.")
    broader: list[str] = Field(default_factory=list, description="Broader concepts.")
    narrower: list[str] = Field(default_factory=list, description="Narrower concepts (the keyword finds them too).")
    id: str | None = Field(default=None, description="Concept id, when the API gives one.")


class ConceptList(BaseModel):
    """Concepts matching a text (the result of the ``suggest_keywords`` tool)."""

    model_config = ConfigDict(extra="forbid")

    concepts: list[Concept] = Field(description="Matching concepts, best first.")
    note: str | None = Field(default=None, description="Anything the caller should know.")


class KeywordsUnavailable(NotFound):
    """The API offers no keyword route (404 or 405 on it): one clear message, naming the route setting."""


def check_text(text: str) -> str:
    """``text`` stripped, or InvalidArgument when it is shorter than :data:`MIN_TEXT_CHARS` or longer
    than :data:`MAX_TEXT_CHARS`."""
    stripped = " ".join(text.split()) if isinstance(text, str) else ""
    if len(stripped) < MIN_TEXT_CHARS:
        raise InvalidArgument(f"text must have at least {MIN_TEXT_CHARS} characters, e.g. text='Par'")
    if len(stripped) > MAX_TEXT_CHARS:
        raise InvalidArgument(f"text is too long (at most {MAX_TEXT_CHARS} characters): pass one term, e.g. 'Paris'")
    return stripped


def check_language(language: str | None) -> str | None:
    """A language code (``en``, ``de-CH``) in lower case, None for none, InvalidArgument otherwise."""
    if language is None or not language.strip():
        return None
    code = language.strip().replace("_", "-")
    head, _, tail = code.partition("-")
    if not (2 <= len(head) <= 3 and head.isalpha() and (not tail or (tail.isalnum() and len(tail) <= 8))):
        raise InvalidArgument("language must be a language code such as 'en', 'de' or 'fr'")
    return head.lower() + (f"-{tail.upper()}" if tail else "")


def _term(value: Any, language: str | None = None) -> str | None:
    """The term of a concept-ish value: a string, or an object's term field (or its labels map)."""
    if isinstance(value, str):
        text = " ".join(value.split())
        return text[:MAX_TERM_CHARS] or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, Mapping):
        return None
    for key in _TERM_KEYS:
        found = value.get(key)
        if isinstance(found, Mapping):  # {"label": {"en": "Paris", "fr": "Paris"}}
            found = _pick_label(found, language)
        if isinstance(found, str) and found.strip():
            return _term(found)
    labels = value.get("labels") or value.get("prefLabels")
    if isinstance(labels, Mapping):
        return _term(_pick_label(labels, language))
    return None


def _pick_label(labels: Mapping[str, Any], language: str | None) -> str | None:
    if language and isinstance(labels.get(language), str):
        return str(labels[language])
    if language and isinstance(labels.get(language.split("-")[0]), str):
        return str(labels[language.split("-")[0]])
    return next((v for v in labels.values() if isinstance(v, str) and v.strip()), None)


def _terms(value: Any, language: str | None = None) -> list[str]:
    """A list of terms from a list (strings, objects, ids), a single value, or a language map of lists."""
    if value is None:
        return []
    if isinstance(value, Mapping) and not any(k in value for k in _TERM_KEYS) and "labels" not in value:
        # {"en": ["Paname"], "fr": ["Ville Lumière"]} or {"en": "Paname"}
        nested: list[Any] = []
        for item in value.values():
            nested.extend(item if isinstance(item, list) else [item])
        value = nested
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        term = _term(item, language)
        if term and term not in found:
            found.append(term)
        if len(found) >= MAX_RELATED:
            break
    return found


def _first(obj: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((obj[k] for k in keys if k in obj and obj[k] is not None), None)


def parse_concept(value: Any, language: str | None = None) -> Concept | None:
    """One concept from any of the accepted spellings (see the module docstring), or None."""
    keyword = _term(value, language)
    if keyword is None:
        return None
    if not isinstance(value, Mapping):
        return Concept(keyword=keyword)
    lang = _first(value, _LANGUAGE_KEYS)
    if lang is None and language and isinstance(value.get("labels"), Mapping) and language in value["labels"]:
        lang = language
    raw_id = _first(value, _ID_KEYS)
    synonyms = [s for s in _terms(_first(value, _SYNONYM_KEYS), language) if s != keyword]
    return Concept(
        keyword=keyword,
        language=str(lang).strip()[:16] if isinstance(lang, str) and lang.strip() else None,
        synonyms=synonyms,
        broader=_terms(_first(value, _BROADER_KEYS), language),
        narrower=_terms(_first(value, _NARROWER_KEYS), language),
        id=str(raw_id)[:MAX_TERM_CHARS] if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None,
    )


def parse_concepts(body: Any, language: str | None = None) -> tuple[list[Concept], str | None]:
    """The concepts of a keyword-route answer, at most :data:`MAX_CONCEPTS`, and a note (or None)."""
    if isinstance(body, Mapping) and not isinstance(body.get("_embedded"), Mapping):
        for key in ("concepts", "keywords", "suggestions"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if isinstance(body, list):
        values: list[Any] = list(body)
        note = None
    else:
        page = parse_list(body, rel="concepts")
        values, note = list(page.items), page.note
    concepts: list[Concept] = []
    seen: set[tuple[str, str | None]] = set()
    for value in values:
        concept = parse_concept(value, language)
        if concept is None or (concept.keyword, concept.language) in seen:
            continue
        seen.add((concept.keyword, concept.language))
        concepts.append(concept)
    if len(concepts) > MAX_CONCEPTS:
        note = f"the first {MAX_CONCEPTS} of {len(concepts)} concepts are shown; pass a longer text"
        concepts = concepts[:MAX_CONCEPTS]
    elif values and not concepts:
        note = "the API's answer had entries but none with a readable term"
    return concepts, note


class KeywordRoute:
    """The keyword route of one :class:`~footage_mcp.rest.api.FootageApi`."""

    def __init__(self, api: FootageApi) -> None:
        self.api = api

    async def suggest_keywords(self, text: str, language: str | None = None) -> list[Concept]:
        """Concepts matching ``text`` (prefix and synonyms, any language), as the API ranks them.

        Raises:
            InvalidArgument: ``text`` shorter than 2 or longer than 200 characters; a bad language code.
            KeywordsUnavailable: the API answers 404, 405 or 501 on its keyword route (the message
                names FOOTAGE_ROUTES).
            FootageError: as :meth:`~footage_mcp.rest.http.RestClient.get_json`.
        """
        concepts, _note = await self.suggest(text, language)
        return concepts

    async def suggest(self, text: str, language: str | None = None) -> tuple[list[Concept], str | None]:
        """:meth:`suggest_keywords` plus a note on the answer (a filter the route does not take, a cut)."""
        term, lang = check_text(text), check_language(language)
        route = await self.api.route("keywords")
        names = set(route.variables)
        text_var = next((n for n in ("q", "query", "text", "term", "search", "prefix") if n in names), None)
        lang_var = next((n for n in ("lang", "language", "locale") if n in names), None)
        notes: list[str] = []
        values: dict[str, Any] = {v: None for v in route.path_variables}
        if text_var is None:
            raise BadRequest(
                "the keyword route of this API takes no text parameter; set a 'keywords' route with {?q} in "
                "FOOTAGE_ROUTES",
                0,
            )
        values[text_var] = term
        if lang and lang_var:
            values[lang_var] = lang
        elif lang:
            notes.append(
                "this API's keyword route takes no language parameter, so concepts of every language are shown"
            )
        url = route.expand(self.api.base_url, values)
        try:
            body, _ = await self.api.rest.get_json(url)
        except NotFound:
            raise self.unavailable(url, 404) from None
        except ApiError as exc:
            if exc.status in (405, 501):
                raise self.unavailable(url, exc.status) from None
            raise
        concepts, note = parse_concepts(body, lang)
        if note:
            notes.append(note)
        return concepts, "; ".join(notes) or None

    def unavailable(self, url: str, status: int) -> KeywordsUnavailable:
        path = (self.api.rest.relative_path(url) or url).split("?")[0]
        return KeywordsUnavailable(
            f"this Footage API offers no keyword suggestions at '{path}' ({status}); if it has a taxonomy route, "
            "set it as 'keywords' in FOOTAGE_ROUTES (e.g. keywords = \"/taxonomy/search{?q,lang}\"); "
            "search_assets(keyword=…) still finds a keyword and its narrower ones",
            status,
        )
