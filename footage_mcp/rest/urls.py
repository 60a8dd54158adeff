"""URL rules of the REST side: origins, paths below the base, dot segments in any spelling, masking.

The token goes only to the base URL's origin and only under its path (footage-api.md, 'Confirmed':
the ``apiKey`` header): every decision about where a URL leads is made here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

UNREADABLE = "(an unreadable URL)"
"""What :func:`mask_url` shows for a URL that does not parse."""


def same_origin(a: str, b: str) -> bool:
    """True when two absolute URLs share scheme, host and port (default ports filled in)."""
    pa, pb = urlsplit(a), urlsplit(b)

    def origin(p: Any) -> tuple[str, str, int | None]:
        port = p.port or {"http": 80, "https": 443}.get(p.scheme)
        return (p.scheme.lower(), (p.hostname or "").lower(), port)

    return origin(pa) == origin(pb)


MAX_DECODES = 3
"""How many extra rounds of percent-decoding :func:`is_dot_segment` looks through (``%25252e``)."""


def is_dot_segment(segment: str) -> bool:
    """True when a path segment is ``.`` or ``..`` in any spelling a server or proxy may resolve:
    percent-encoded (also double or triple: ``%252e%252e``), with matrix parameters (``..;``,
    ``..;x=1``, which Tomcat and Spring read as ``..``), or between backslashes (``..%5c``, a
    separator on some servers)."""
    current = segment
    for _ in range(MAX_DECODES + 1):
        if any(piece.split(";", 1)[0] in (".", "..") for piece in current.split("\\")):
            return True
        decoded = unquote(current)
        if decoded == current:
            return False
        current = decoded
    return True  # still encoded after several rounds: nothing a real path needs


def mask_url(url: str) -> str:
    """``url`` reduced to scheme, host and port, with any credentials shown as ``***@``."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return UNREADABLE
    if ":" in host:
        host = f"[{host}]"
    userinfo = "***@" if parts.username is not None or parts.password is not None else ""
    return f"{parts.scheme}://{userinfo}{host}{f':{port}' if port is not None else ''}"


@lru_cache(maxsize=512)
def path_below(base_url: str, url: str) -> str | None:
    """The path of ``url`` below ``base_url``'s path (no leading slash; ``""`` for the base itself), or
    None when outside it.

    Outside too: a URL that does not parse (bad port, unclosed bracket), one with user info, another
    origin, and a path with a dot segment in any spelling (see :func:`is_dot_segment`): such a path
    could be resolved to anywhere on the origin by the server, a framework or a proxy.

    Memoised (a pure function of two strings; 512 entries): one list call checks the same URL
    about three times, ~40 us each.
    """
    base_path = urlsplit(base_url).path.rstrip("/")
    try:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            return None
        if not same_origin(url, base_url):
            return None
    except ValueError:
        return None
    path = parts.path
    if any(is_dot_segment(segment) for segment in path.split("/")):
        return None
    if path == base_path or path == base_path + "/":
        return ""
    if not path.startswith(base_path + "/"):
        return None
    return path[len(base_path) + 1 :]
