"""Redaction, defined once: the token (and the forms it was pasted in) never leaves the process.

Every output path uses this module: tool results and resource reads (``surface.guard``), error
excerpts of upstream bodies (``rest.http``), ``footage-mcp check`` lines and the stderr log
(``cli.logs``). The replacement is always :data:`REDACTED`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')
"""The characters JSON text escapes (with non-ASCII kept as it is)."""


MIN_PREFIX = 8
"""A cut-off start of a secret this long or longer (at the end of a text, or before the ``…`` a cut
leaves) counts as the secret: 8 characters of a 32-character key are a real head start to guess it."""
ELLIPSIS = "…"


def encoded_forms(secret: str) -> list[str]:
    """``secret`` and the encodings it can travel in: percent-encoding (upper- and lower-case hex,
    ``+`` for spaces), JSON string escapes, base64 (standard and URL-safe, with and without
    padding) and hex."""
    from base64 import b64encode, urlsafe_b64encode
    from json import dumps
    from urllib.parse import quote, quote_plus

    raw = secret.encode()
    forms = [secret, quote(secret, safe=""), quote_plus(secret, safe=""), dumps(secret)[1:-1]]
    forms += [raw.hex(), raw.hex().upper()]
    forms.append(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), forms[1]))
    for encoded in (b64encode(raw).decode(), urlsafe_b64encode(raw).decode()):
        forms += [encoded, encoded.rstrip("=")]
    return forms


class Redactor:
    """Replaces each of ``secrets`` (longest first), in every form :func:`encoded_forms` lists, with
    :data:`REDACTED` in text and JSON-like values; and a secret's cut-off start (:data:`MIN_PREFIX`
    characters or more) at the end of a text or before a ``…``.

    Empty and None secrets are ignored; a redactor with none is a no-op.
    """

    __slots__ = ("_anchors", "_pattern", "_plain", "secrets")

    def __init__(self, secrets: Iterable[str | None]) -> None:
        unique = {s for s in secrets if s}
        self.secrets: tuple[str, ...] = tuple(sorted(unique, key=len, reverse=True))
        forms = {form for secret in self.secrets for form in encoded_forms(secret)}
        prefixes = {secret[:n] for secret in self.secrets for n in range(MIN_PREFIX, len(secret))}
        whole = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        cut = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
        alternatives = [f"(?:{whole})"] if whole else []
        if cut:
            alternatives.append(f"(?:{cut})(?={ELLIPSIS}|\\Z)")
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None
        self._anchors = tuple({f[:4] for f in forms} | {p[:4] for p in prefixes})
        """Every match starts with one of these: text holding none of them is returned at once."""
        self._plain = all(not _JSON_ESCAPED.search(secret) for secret in self.secrets)
        """No secret holds a character JSON text escapes: each form and prefix appears verbatim in the
        JSON text of any value holding it (see :meth:`may_occur`)."""

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, text: str) -> str:
        """``text`` with every occurrence of every secret (in any listed form) replaced, and a secret's
        cut-off start at the end or before ``…`` too. Redact *before* cutting text; this catches what a
        cut made elsewhere left behind."""
        if self._pattern is None or not any(anchor in text for anchor in self._anchors):
            return text
        return self._pattern.sub(REDACTED, text)

    def may_occur(self, json_text: str) -> bool:
        """Whether a JSON-like value whose JSON text (non-ASCII kept) is ``json_text`` may hold a
        secret in one of its strings or keys, so that :meth:`value` could change it. False means
        certainly not; one scan of the text for the anchors instead of a walk of every string.
        A secret with a character JSON escapes (a quote, a backslash, a control character) always
        answers True."""
        if self._pattern is None:
            return False
        return not self._plain or any(anchor in json_text for anchor in self._anchors)

    def value(self, value: Any) -> Any:
        """``value`` (JSON-like: str, list, dict, scalars) with secrets replaced in strings and keys."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        return value

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds a secret in any form (percent-decoded first, so ``%73ecret`` counts)."""
        from urllib.parse import unquote_plus

        if self._pattern is None:
            return False
        return any(self._pattern.search(t) for t in (text, unquote_plus(text)))


def redact_text(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` replaced (see :class:`Redactor`)."""
    return Redactor(secrets).text(text)


def redact_value(value: Any, *secrets: str | None) -> Any:
    """``value`` (JSON-like) with each of ``secrets`` replaced in strings and keys."""
    return Redactor(secrets).value(value)
