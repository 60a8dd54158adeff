"""The sandbox's controlled, multilingual keyword taxonomy.

footage.one keywords come from a controlled taxonomy with labels in several languages, synonyms and
broader/narrower links ("France" also finds "Paris": confirmed in footage-api.md). The sandbox models
that with about 45 concepts. Assets carry the English preferred label of a concept as a keyword; a
search for any label or synonym of a concept also matches every narrower concept, transitively.

Text comparison goes through :func:`fold` (Unicode compatibility decomposition, accents dropped,
case-folded), so "München", "munchen" and "MÜNCHEN" are the same term.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CONCEPTS", "Concept", "Taxonomy", "fold", "fold_words", "get_taxonomy"]

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Return ``text`` case-folded with accents removed ("Forêt" → "foret", "Straße" → "strasse")."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def fold_words(text: str) -> tuple[str, ...]:
    """Split folded ``text`` into words (letters/digits only): "Voice-over #4K" → ("voice", "over", "4k")."""
    return tuple(_WORD.findall(fold(text)))


@dataclass(frozen=True, slots=True)
class Concept:
    """One taxonomy concept: preferred labels in en/de/fr, synonyms and broader concept ids."""

    id: str
    en: str
    de: str
    fr: str
    synonyms: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()

    @property
    def labels(self) -> dict[str, str]:
        """Preferred labels keyed by language code."""
        return {"en": self.en, "de": self.de, "fr": self.fr}

    def names(self) -> tuple[str, ...]:
        """Every label and synonym of this concept, preferred English label first."""
        return (self.en, self.de, self.fr, *self.synonyms)


def _c(cid: str, en: str, de: str, fr: str, *, syn: tuple[str, ...] = (), up: tuple[str, ...] = ()) -> Concept:
    """Shorthand constructor used by the concept table below."""
    return Concept(cid, en, de, fr, syn, up)


CONCEPTS: tuple[Concept, ...] = (
    # Places
    _c("europe", "Europe", "Europa", "Europe"),
    _c("france", "France", "Frankreich", "France", syn=("French Republic", "Hexagone"), up=("europe",)),
    _c("paris", "Paris", "Paris", "Paris", syn=("Paname", "City of Light", "Ville Lumière"), up=("france",)),
    _c("eiffel_tower", "Eiffel Tower", "Eiffelturm", "Tour Eiffel", syn=("Iron Lady",), up=("paris",)),
    _c("lyon", "Lyon", "Lyon", "Lyon", syn=("Lugdunum",), up=("france",)),
    _c("germany", "Germany", "Deutschland", "Allemagne", syn=("Federal Republic of Germany",), up=("europe",)),
    _c("berlin", "Berlin", "Berlin", "Berlin", up=("germany",)),
    _c(
        "brandenburg_gate",
        "Brandenburg Gate",
        "Brandenburger Tor",
        "Porte de Brandebourg",
        up=("berlin",),
    ),
    _c("munich", "Munich", "München", "Munich", syn=("Monaco di Baviera",), up=("germany",)),
    _c("italy", "Italy", "Italien", "Italie", syn=("Italia",), up=("europe",)),
    _c("rome", "Rome", "Rom", "Rome", syn=("Roma", "Eternal City"), up=("italy",)),
    _c("colosseum", "Colosseum", "Kolosseum", "Colisée", syn=("Coliseum",), up=("rome",)),
    _c("switzerland", "Switzerland", "Schweiz", "Suisse", syn=("Swiss Confederation", "Helvetia"), up=("europe",)),
    _c("alps", "Alps", "Alpen", "Alpes", syn=("Alpine",), up=("switzerland", "mountain")),
    # Nature
    _c("nature", "Nature", "Natur", "Nature", syn=("outdoors", "landscape")),
    _c("mountain", "Mountain", "Berg", "Montagne", syn=("peak",), up=("nature",)),
    _c("beach", "Beach", "Strand", "Plage", syn=("seaside", "coast"), up=("nature",)),
    _c("forest", "Forest", "Wald", "Forêt", syn=("woods",), up=("nature",)),
    _c("lake", "Lake", "See", "Lac", up=("nature",)),
    _c("sunset", "Sunset", "Sonnenuntergang", "Coucher de soleil", syn=("dusk",), up=("nature",)),
    # Animals
    _c("animals", "Animals", "Tiere", "Animaux", syn=("wildlife", "pets")),
    _c("dog", "Dog", "Hund", "Chien", syn=("puppy", "hound"), up=("animals",)),
    _c("cat", "Cat", "Katze", "Chat", syn=("kitten",), up=("animals",)),
    _c("horse", "Horse", "Pferd", "Cheval", syn=("pony",), up=("animals",)),
    # People
    _c("people", "People", "Menschen", "Personnes", syn=("persons",)),
    _c("portrait", "Portrait", "Porträt", "Portrait", syn=("headshot",), up=("people",)),
    _c("crowd", "Crowd", "Menschenmenge", "Foule", syn=("audience",), up=("people",)),
    _c("interview", "Interview", "Interview", "Entretien", syn=("conversation",), up=("people",)),
    # City
    _c("city", "City", "Stadt", "Ville", syn=("urban", "town")),
    _c("street", "Street", "Straße", "Rue", up=("city",)),
    _c("architecture", "Architecture", "Architektur", "Architecture", syn=("buildings",), up=("city",)),
    _c("night", "Night", "Nacht", "Nuit", syn=("nighttime",), up=("city",)),
    # Events
    _c("events", "Events", "Veranstaltungen", "Événements", syn=("event",)),
    _c("concert", "Concert", "Konzert", "Concert", syn=("gig", "live music"), up=("events",)),
    _c("conference", "Conference", "Konferenz", "Conférence", syn=("summit", "keynote"), up=("events",)),
    _c("wedding", "Wedding", "Hochzeit", "Mariage", syn=("marriage",), up=("events",)),
    # Business
    _c("business", "Business", "Wirtschaft", "Affaires", syn=("corporate", "company")),
    _c("product", "Product", "Produkt", "Produit", syn=("packshot",), up=("business",)),
    _c("office", "Office", "Büro", "Bureau", syn=("workplace",), up=("business",)),
    # Food
    _c("food", "Food", "Essen", "Nourriture", syn=("cuisine",)),
    # Sound
    _c("sound", "Sound", "Klang", "Son", syn=("audio",)),
    _c("music", "Music", "Musik", "Musique", up=("sound",)),
    _c("sound_effect", "Sound effect", "Soundeffekt", "Effet sonore", syn=("SFX", "foley"), up=("sound",)),
    _c("voice_over", "Voice-over", "Sprecher", "Voix off", syn=("narration", "VO"), up=("sound",)),
)


class Taxonomy:
    """An immutable concept graph with label lookup and transitive narrower expansion."""

    def __init__(self, concepts: Iterable[Concept]) -> None:
        """Index ``concepts``; raises ValueError on a dangling broader link or a cycle."""
        self._concepts: dict[str, Concept] = {c.id: c for c in concepts}
        self._narrower: dict[str, list[str]] = {cid: [] for cid in self._concepts}
        for concept in self._concepts.values():
            for parent in concept.broader:
                if parent not in self._concepts:
                    raise ValueError(f"concept {concept.id!r} has unknown broader concept {parent!r}")
                self._narrower[parent].append(concept.id)
        self._lexicon: dict[str, set[str]] = {}
        for concept in self._concepts.values():
            for name in concept.names():
                self._lexicon.setdefault(" ".join(fold_words(name)), set()).add(concept.id)
        self._by_en = {c.en: c.id for c in self._concepts.values()}
        self._descendants: dict[str, frozenset[str]] = {cid: self._collect(cid) for cid in self._concepts}
        self.max_phrase_words = max(len(phrase.split()) for phrase in self._lexicon)

    def _collect(self, root: str) -> frozenset[str]:
        """Return ``root`` and all its narrower concepts; raises ValueError on a cycle."""
        seen: set[str] = set()
        stack: list[tuple[str, tuple[str, ...]]] = [(root, (root,))]
        while stack:
            cid, path = stack.pop()
            seen.add(cid)
            for child in self._narrower[cid]:
                if child in path:
                    raise ValueError(f"taxonomy cycle through {child!r}")
                stack.append((child, (*path, child)))
        return frozenset(seen)

    @property
    def concepts(self) -> Mapping[str, Concept]:
        """All concepts by id, in declaration order."""
        return self._concepts

    def narrower(self, concept_id: str) -> tuple[str, ...]:
        """Direct narrower concept ids of ``concept_id``."""
        return tuple(self._narrower[concept_id])

    def descendants(self, concept_id: str) -> frozenset[str]:
        """``concept_id`` plus all narrower concept ids, transitively."""
        return self._descendants[concept_id]

    def lookup(self, term: str) -> frozenset[str]:
        """Concept ids whose label (any language) or synonym equals ``term`` after folding."""
        return frozenset(self._lexicon.get(" ".join(fold_words(term)), ()))

    def expand(self, term: str) -> frozenset[str]:
        """Concept ids matched by ``term``, each with all its narrower concepts (empty if unknown)."""
        result: set[str] = set()
        for cid in self.lookup(term):
            result |= self._descendants[cid]
        return frozenset(result)

    def id_for_label(self, english_label: str) -> str | None:
        """The concept id whose English preferred label is exactly ``english_label``."""
        return self._by_en.get(english_label)

    def is_phrase(self, folded_phrase: str) -> bool:
        """True when the folded, space-joined ``folded_phrase`` names a concept."""
        return folded_phrase in self._lexicon


@lru_cache(maxsize=1)
def get_taxonomy() -> Taxonomy:
    """The sandbox taxonomy built from :data:`CONCEPTS` (built once)."""
    return Taxonomy(CONCEPTS)
