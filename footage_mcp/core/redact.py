"""Redaction, defined once: the token (and the forms it was pasted in) never leaves the process.

Every output path uses this module: tool results and resource reads (``surface.guard``), error
excerpts of upstream bodies (``rest.http``), ``footage-mcp check`` lines and the stderr log
(``cli.logs``). The replacement is always :data:`REDACTED`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"


class Redactor:
    """Replaces each of ``secrets`` (longest first) with :data:`REDACTED` in text and JSON-like values.

    Empty and None secrets are ignored; a redactor with none is a no-op.
    """

    __slots__ = ("secrets",)

    def __init__(self, secrets: Iterable[str | None]) -> None:
        unique = {s for s in secrets if s}
        self.secrets: tuple[str, ...] = tuple(sorted(unique, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, text: str) -> str:
        """``text`` with every occurrence of every secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

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


def redact_text(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` replaced (see :class:`Redactor`)."""
    return Redactor(secrets).text(text)


def redact_value(value: Any, *secrets: str | None) -> Any:
    """``value`` (JSON-like) with each of ``secrets`` replaced in strings and keys."""
    return Redactor(secrets).value(value)
