"""Paging parameters: ``page``/``size`` (0-based pages) and opaque ``cursor``/``size``.

A cursor is the URL-safe base64 (unpadded) of ``"<offset>:<checksum>"``, the checksum being the first
8 hex digits of a SHA-256 over the offset; anything else is rejected with a 400 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from .constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .errors import bad_parameter

__all__ = ["Paging", "decode_cursor", "encode_cursor", "parse_paging"]


@dataclass(frozen=True, slots=True)
class Paging:
    """Which slice of a list to return: ``offset`` and ``size``; ``page`` for page-numbered shapes."""

    offset: int
    size: int
    page: int

    def next_offset(self, total: int) -> int | None:
        """Offset of the following page, or None when this page is the last one."""
        following = self.offset + self.size
        return following if following < total else None


def _checksum(offset: int) -> str:
    """Short integrity check for a cursor offset."""
    return hashlib.sha256(f"footage-sandbox:{offset}".encode()).hexdigest()[:8]


def encode_cursor(offset: int) -> str:
    """The opaque cursor string for list ``offset``."""
    raw = f"{offset}:{_checksum(offset)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset inside ``cursor``; raises ApiError (400, parameter ``cursor``) if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset_text, check = raw.split(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_parameter("cursor", "not a cursor issued by this server") from None
    if offset < 0 or check != _checksum(offset):
        raise bad_parameter("cursor", "not a cursor issued by this server")
    return offset


def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """Integer query parameter ``name`` within [low, high]; ApiError 400 otherwise."""
    text = params.get(name, "").strip()
    if not text:
        return default
    bounds = f"between {low} and {high}" if high is not None else f">= {low}"
    try:
        value = int(text)
    except ValueError:
        raise bad_parameter(name, f"expected an integer {bounds}, got {text!r}") from None
    if value < low or (high is not None and value > high):
        raise bad_parameter(name, f"expected an integer {bounds}, got {value}")
    return value


def parse_paging(params: Mapping[str, str], *, cursor_based: bool) -> Paging:
    """Read ``size`` plus ``cursor`` (items shape) or ``page`` (hal/array shapes) from ``params``."""
    size = _int_param(params, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if cursor_based:
        cursor = params.get("cursor", "")
        offset = decode_cursor(cursor) if cursor else 0
        return Paging(offset=offset, size=size, page=offset // size)
    page = _int_param(params, "page", 0, 0, None)
    return Paging(offset=page * size, size=size, page=page)
