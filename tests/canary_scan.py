"""The canary search: does a text or a byte string carry the suite's token, in any encoding?

Pure functions, no pytest; tests/canary_plugin.py runs them over everything the whole suite's bridges
produce, tests/test_canary.py over one hostile session. What counts as a hit: any 10-character piece of
the token (:data:`PIECES`; a cut-off token is still a leak), case-insensitively, either

* directly in the bytes, or in a form that needs no decoding to be searched: base64 (standard and
  URL-safe, at each of the three byte alignments), hex, percent-encoding of every character, UTF-16;
  these forms are precomputed once (:class:`Needles`), so a blob is searched without being decoded:
  two passes per group of forms (4 groups) find the runs of bytes a form's piece could be made of,
  and only those are searched for the anchors; or
* inside a cursor-like token (a run of base64/hex/percent characters, :data:`TOKEN`) once decoded:
  percent-decoding, base64 standard and URL-safe with or without padding, hex, JSON strings inside,
  zlib, each applied again to what comes out (:func:`decodings`, three levels). That is how a cursor
  that is base64 of JSON holding a percent-encoded URL with the token is found.

Bounded work: a blob is lower-cased at most once and its runs searched for a few dozen anchors (each
piece of each form contains one; a found anchor is then checked in place), tokens longer than
:data:`LONG_TOKEN` are decoded once without recursing (image data), and a decoded blob is never decoded
again in the same scan.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

CANARY = "Cnry7f3a9b2c4d1e8f6a0b5c3d7e9f1a"
"""The token every test's sandbox accepts and every bridge holds (tests/canary_plugin.py sets it as
``$FOOTAGE_SANDBOX_TOKEN``): distinctive, so that it cannot turn up by chance."""
PIECE = 10
PIECES = [CANARY[i : i + PIECE] for i in range(len(CANARY) - PIECE + 1)]
"""Every 10-character piece of the canary: a token cut to 10 characters or more is still a leak."""
TOKEN = re.compile(rb"[A-Za-z0-9+/_%=.~-]{20,}")
"""A cursor-like run of characters: what :func:`decodings` is applied to inside a text. Shorter runs need
no decoding: one layer of base64, hex or percent-encoding of a 10-character piece is a precomputed form,
and two layers take at least 20 characters."""
LONG_TOKEN = 8192
"""Tokens longer than this (image data, file contents) are base64-decoded once, without recursing."""
MAX_DEPTH = 3
ZLIB_LIMIT = 16 << 20
"""At most this many bytes come out of one zlib stream (a bomb is not the scanner's business)."""
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Form:
    """One way the canary can appear without being decoded: ``master`` (lower-cased bytes) holds it
    whole; any ``window`` consecutive bytes of ``master`` count as a hit."""

    name: str
    master: bytes
    window: int


def _base64_middles(raw: bytes, altchars: bytes) -> list[bytes]:
    """The part of the base64 text of ``raw`` that does not depend on its neighbours, at each alignment."""
    middles = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw + b"\0\0", altchars=altchars)
        first = -(-shift // 3)  # the first 3-byte group that is all canary
        last = (shift + len(raw)) // 3  # one past the last such group
        middles.append(encoded[4 * first : 4 * last])
    return middles


def forms(secret: str) -> list[Form]:
    """The canary's precomputed forms: plain, base64 (standard/URL-safe, 3 alignments), hex, %XX, UTF-16."""
    raw = secret.encode("utf-8")
    found = [Form("plain", raw.lower(), PIECE)]
    for altchars, name in ((b"+/", "base64"), (b"-_", "base64url")):
        found += [Form(name, middle.lower(), 16) for middle in _base64_middles(raw, altchars)]
    found.append(Form("hex", raw.hex().encode(), 2 * PIECE))
    found.append(Form("percent", "".join(f"%{b:02x}" for b in raw).encode(), 3 * PIECE))
    for codec in ("utf-16-le", "utf-16-be"):
        found.append(Form(codec, secret.lower().encode(codec), 2 * PIECE))
    return found


@dataclass(frozen=True)
class Anchor:
    form: Form
    offset: int
    text: bytes


class Needles:
    """The search for one secret's forms: :meth:`find` names the forms a blob holds.

    A window of a form is :attr:`Form.window` consecutive bytes of its master, so every byte of it is
    one of the master's bytes (either case): it lies inside a run of such bytes at least that long. The
    forms are grouped by the bytes their masters use (:class:`_Filter`: the plain, hex, percent and
    UTF-16 forms share 21 bytes, each base64 alignment has its own 18-20); a blob is translated once
    per group to 1 for those bytes and 0 for the rest, one ``find`` of 1 repeated the group's shortest
    window gives each run long enough to hold a window, and only those runs are searched for the group's
    anchors (in the blob lower-cased, once, when a first run is found). A blob is so searched in two
    passes per group (4 groups) rather than one per anchor text (42); a blob of up to :data:`SMALL_BLOB`
    bytes is first looked at for runs of all the groups' bytes (2 passes, and most have none)."""

    def __init__(self, secret: str, anchor_length: int = 6) -> None:
        self.forms = forms(secret)
        self.anchors: list[Anchor] = []
        for form in self.forms:
            length = min(anchor_length, form.window)
            step = form.window - length + 1  # every window of the form contains one of these
            for offset in range(0, len(form.master) - length + 1, step):
                self.anchors.append(Anchor(form, offset, form.master[offset : offset + length]))
            tail = len(form.master) - length
            if tail % step:
                self.anchors.append(Anchor(form, tail, form.master[tail:]))
        self.filters: list[_Filter] = []
        for form in self.forms:
            anchors = [anchor for anchor in self.anchors if anchor.form is form]
            for group in self.filters:
                if len(group.alphabet | set(form.master)) <= FILTER_ALPHABET:
                    group.add(form, anchors)
                    break
            else:
                self.filters.append(_Filter(form, anchors))
        for group in self.filters:
            group.seal()
        alphabet = set().union(*(group.alphabet for group in self.filters))
        self.table = bytes(1 if bytes([byte]).lower()[0] in alphabet else 0 for byte in range(256))
        self.run = b"\1" * min(form.window for form in self.forms)
        """All the groups' bytes and their shortest window: a small blob without such a run holds no
        window of any form (one pass instead of one per group)."""

    def find(self, blob: bytes) -> list[str]:
        """The names of the forms ``blob`` holds a window of (case-insensitive); empty when none."""
        if len(blob) <= SMALL_BLOB and blob.translate(self.table).find(self.run) < 0:
            return []
        found: set[str] = set()
        low: list[bytes] = []
        for group in self.filters:
            group.find(blob, found, low)
        return list(dict.fromkeys(form.name for form in self.forms if form.name in found))


SMALL_BLOB = 4096
"""Blobs up to this size are first looked at for runs of all the groups' bytes at once: most small texts
(JSON results, decoded cursors) have none; in large texts they are common (all but 2 lower-case letters
and the digits), so there the pass is not worth it."""
FILTER_ALPHABET = 21
"""A form joins a group (:class:`_Filter`) while the group's masters use at most this many distinct bytes:
the fewer, the rarer their runs. With 21 the plain, hex, percent and UTF-16 forms share one group and
each base64 alignment has its own (with 24, two alignments share 23 bytes, whose runs of 16 are dense in
base64 text: a 20 MB base64 text took 0.46 s instead of 0.37 s)."""
DENSE_RUNS = 16
DENSE_GAP = 1024
"""After :data:`DENSE_RUNS` runs closer than this many bytes apart on average, a group searches the rest
of the blob whole (a text made of such runs, base64 or a hex dump say, costs what searching it whole
costs, not a Python loop per run)."""


class _Filter:
    """Forms whose masters use few distinct bytes, searched together: see :class:`Needles`."""

    def __init__(self, form: Form, anchors: list[Anchor]) -> None:
        self.forms: list[Form] = []
        self.alphabet: set[int] = set()
        self.anchors: list[Anchor] = []
        self.add(form, anchors)

    def add(self, form: Form, anchors: list[Anchor]) -> None:
        self.forms.append(form)
        self.alphabet |= set(form.master)
        self.anchors += anchors

    def seal(self) -> None:
        self.table = bytes(1 if bytes([byte]).lower()[0] in self.alphabet else 0 for byte in range(256))
        """1 for the bytes that lower-case to one of the masters' bytes, 0 for the rest."""
        self.run = b"\1" * min(form.window for form in self.forms)
        self.names = {form.name for form in self.forms}
        groups: dict[bytes, list[Anchor]] = {}
        for anchor in self.anchors:
            groups.setdefault(anchor.text, []).append(anchor)
        self.groups = [(text, group, bytes(sorted(set(text) & _SCARCE))) for text, group in groups.items()]
        """The anchors by text (standard and URL-safe base64 share theirs): each text is searched for
        once, with the bytes among :data:`_SCARCE` it holds (a run without one cannot hold it)."""

    def find(self, blob: bytes, found: set[str], low: list[bytes]) -> None:
        """Add to ``found`` the names of this group's forms ``blob`` holds a window of; ``low`` holds
        ``blob`` lower-cased once it is needed (shared by the groups)."""
        if self.names <= found:
            return
        marks = blob.translate(self.table)
        width = len(self.run)
        at = marks.find(self.run)
        runs = 0
        while at >= 0:
            runs += 1
            dense = runs > DENSE_RUNS and at < runs * DENSE_GAP
            end = len(blob) if dense else marks.find(b"\0", at + width)
            end = len(blob) if end < 0 else end
            if not low:
                low.append(blob.lower())
            self._search(low[0], at, end, found)
            if self.names <= found or end >= len(blob):
                return
            at = marks.find(self.run, end)

    def _search(self, low: bytes, start: int, end: int, found: set[str]) -> None:
        """Search ``low[start:end]`` (a run: a window does not cross its ends) for the anchors."""
        absent = {byte for byte in _SCARCE if low.find(byte, start, end) < 0}
        for text, group, scarce in self.groups:
            if absent.intersection(scarce) or all(anchor.form.name in found for anchor in group):
                continue
            at = low.find(text, start, end)
            while at >= 0:
                for anchor in group:
                    if anchor.form.name not in found and _extent(low, at, anchor) >= anchor.form.window:
                        found.add(anchor.form.name)
                if all(anchor.form.name in found for anchor in group):
                    break
                at = low.find(text, at + 1, end)


_SCARCE = frozenset(b"\0%")
"""Bytes most texts lack (NUL: every UTF-16 anchor has one; ``%``: every percent-encoding anchor): one
``in`` test each spares the searches for the anchors holding them."""


def _extent(low: bytes, at: int, anchor: Anchor) -> int:
    """How many bytes of ``anchor.form.master`` match ``low`` around the anchor found at ``at``."""
    master, offset = anchor.form.master, anchor.offset
    left = 0
    while left < offset and at - left - 1 >= 0 and low[at - left - 1] == master[offset - left - 1]:
        left += 1
    right = len(anchor.text)
    while offset + right < len(master) and at + right < len(low) and low[at + right] == master[offset + right]:
        right += 1
    return left + right


NEEDLES = Needles(CANARY)


def hits(blob: bytes, needles: Needles = NEEDLES) -> list[str]:
    """The forms of the canary ``blob`` holds as it is (plain, base64, hex, ...), or in a zlib stream it
    starts with, or in a PNG's compressed text chunks."""
    large = len(blob) >= LARGE_BLOB
    if large:
        with _LARGE_LOCK:
            known = _LARGE_HITS.get((blob, id(needles)))
        if known is not None:
            return list(known)
    found = needles.find(blob)
    for inner in _compressed(blob):
        found += [f"zlib {name}" for name in needles.find(inner)]
    if large:
        with _LARGE_LOCK:
            if len(_LARGE_HITS) >= 16:
                _LARGE_HITS.pop(next(iter(_LARGE_HITS)))
            _LARGE_HITS[(blob, id(needles))] = tuple(found)
    return found


LARGE_BLOB = 32 << 10
"""Blobs this large have their :func:`hits` kept (the last 16): an image in a result is searched as the
base64 token decoded in the result's text, again in its JSON strings, and as its ``data`` bytes; the
same bytes give the same forms, so the later searches reuse the first one's."""
_LARGE_HITS: dict[tuple[bytes, int], tuple[str, ...]] = {}
_LARGE_LOCK = threading.Lock()


def _inflate(data: bytes) -> bytes | None:
    with contextlib.suppress(zlib.error):
        return zlib.decompressobj().decompress(data, ZLIB_LIMIT)
    return None


def _compressed(blob: bytes) -> Iterator[bytes]:
    """What a zlib stream at the start of ``blob``, or a PNG's zTXt/iTXt/iCCP chunks, decompress to."""
    if blob[:1] == b"\x78":
        inflated = _inflate(blob)
        if inflated:
            yield inflated
    if blob.startswith(PNG):
        at = len(PNG)
        while at + 8 <= len(blob):
            length = int.from_bytes(blob[at : at + 4], "big")
            kind, body = blob[at + 4 : at + 8], blob[at + 8 : at + 8 + length]
            if kind in (b"zTXt", b"iCCP", b"iTXt"):
                keyword_end = body.find(b"\0")
                start = keyword_end + (2 if kind != b"iTXt" else 3)
                if kind == b"iTXt":  # keyword\0 flag method language\0 translated\0 text
                    parts = body[keyword_end + 3 :].split(b"\0", 2)
                    start = len(body) - len(parts[-1]) if len(parts) == 3 else len(body)
                inflated = _inflate(body[start:])
                if inflated:
                    yield inflated
            at += 12 + length


def _padded(text: bytes) -> bytes:
    text = text.rstrip(b"=")
    return text + b"=" * (-len(text) % 4)


def _decode_once(token: bytes) -> list[bytes]:
    """What ``token`` decodes to in one step: percent-decoding, base64 (standard and URL-safe, padding
    added or not), hex, and the same for its parts between ``. ~ %`` (JWT-like tokens)."""
    out: list[bytes] = []
    texts = [token]
    if b"%" in token:
        texts.append(unquote_to_bytes(token))
    texts += [part for part in re.split(rb"[.~%]", token) if len(part) >= 12 and part != token]
    for text in texts:
        if text is not token and text not in out:
            out.append(text)
        for altchars in (b"+/", b"-_"):
            with contextlib.suppress(binascii.Error, ValueError):
                out.append(base64.b64decode(_padded(text), altchars=altchars, validate=True))
        if len(text) % 2 == 0 and re.fullmatch(rb"[0-9A-Fa-f]+", text):
            out.append(bytes.fromhex(text.decode("ascii")))
    return out


def _json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item)


CLEAN: set[bytes] = set()
"""Tokens already decoded without a hit, in this process: each distinct cursor or id is decoded once."""
CLEAN_LIMIT = 500_000


def decodings(value: str | bytes, depth: int = 0, seen: set[bytes] | None = None) -> list[bytes]:
    """``value`` and everything its cursor-like tokens decode to: percent-decoding, base64 (standard,
    URL-safe, with or without padding), hex, the strings of JSON inside, zlib, each applied again to
    what comes out (:data:`MAX_DEPTH` levels). Each blob appears once."""
    seen = set() if seen is None else seen
    blob = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    found = [blob]
    if depth >= MAX_DEPTH:
        return found
    for token in dict.fromkeys(TOKEN.findall(blob)):
        if token in seen:
            continue
        seen.add(token)
        if len(token) > LONG_TOKEN:
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(base64.b64decode(_padded(token), validate=True))
            continue
        for decoded in _decode_once(token):
            if decoded in seen:
                continue
            seen.add(decoded)
            found.append(decoded)
            found += _compressed(decoded)
            found += decodings(decoded, depth + 1, seen)[1:]
    stripped = blob.strip()
    if stripped[:1] in (b"{", b"[", b'"') and len(stripped) <= 1 << 20:
        with contextlib.suppress(ValueError, RecursionError):
            for inner in _json_strings(json.loads(stripped)):
                encoded = inner.encode("utf-8", "surrogatepass")
                if encoded != blob and encoded not in seen:
                    seen.add(encoded)
                    found += decodings(encoded, depth + 1, seen)
    return found


@dataclass
class Finding:
    """One place the canary was found: ``kind`` (result, cursor, log, file, stream), ``where`` (which
    one, never the canary itself) and ``forms`` (plain, base64, zlib hex, decoded plain, ...)."""

    kind: str
    where: str
    forms: list[str] = field(default_factory=list)
    text: int = 0
    """A hash of the text searched: the same text found twice in one place is one finding."""

    def __str__(self) -> str:
        return f"{self.kind} {self.where}: {', '.join(sorted(set(self.forms)))}"


def scan(value: str | bytes, needles: Needles = NEEDLES) -> list[str]:
    """The forms of the canary ``value`` carries: as it is (see :func:`hits`), or in anything its
    cursor-like tokens decode to (``decoded <form>``). Empty when it carries none."""
    blob = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    found = hits(blob, needles)
    fresh = [token for token in dict.fromkeys(TOKEN.findall(blob)) if token not in CLEAN]
    if not fresh and blob.strip()[:1] not in (b"{", b"[", b'"'):
        return found
    for token in fresh:
        decoded_hits = [f"decoded {name}" for blob_ in decodings(token)[1:] for name in hits(blob_, needles)]
        if decoded_hits:
            found += decoded_hits
        elif len(token) <= LONG_TOKEN:
            if len(CLEAN) > CLEAN_LIMIT:
                CLEAN.clear()
            CLEAN.add(token)
    if blob.strip()[:1] in (b"{", b"[", b'"'):  # JSON escapes (\u0043...) hide a plain or encoded token
        with contextlib.suppress(ValueError, RecursionError):
            strings = "\n".join(_json_strings(json.loads(blob))).encode("utf-8", "surrogatepass")
            if strings != blob:
                found += [f"json {name}" for name in scan(strings, needles)]
    return found


def cursors(value: Any) -> list[str]:
    """Every cursor-looking string in a JSON value: the values of keys named like ``cursor`` /
    ``nextCursor`` / ``next_cursor`` / ``next`` (pagination continuations)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and isinstance(key, str) and ("cursor" in key.lower() or key == "next"):
                found.append(item)
            else:
                found += cursors(item)
    elif isinstance(value, list):
        for item in value:
            found += cursors(item)
    return found
