"""The route map: discovery-root links, RFC 6570 templates, defaults and overrides.

Sources, later wins (footage-api.md, 'The route map and the root's link names'):

1. built-in defaults — the guessed routes of footage-api.md ('Guessed'), relative to the base URL;
2. links of the discovery root ``GET {base}/`` whose name matches a route key case- and
   separator-insensitively (``albumAssets`` = ``album_assets`` = ``album-assets``);
3. the ``FOOTAGE_ROUTES`` file.

Write routes (footage-api.md, 'Writes, files and keywords', all guessed) have keys too
(:data:`WRITE_ROUTE_KEYS`) and a method (:data:`DEFAULT_METHODS`); a ``FOOTAGE_ROUTES`` value may
start with its method (``"POST /albums/{id}/assets"``), and a name ``<key>.<field>`` renames a body
field of that route (``"addToAlbum.assetIds" = "ids"``; see :func:`body_fields`). The object's own
links come before all of these; :mod:`footage_mcp.rest.writes` applies that order.

Templates are expanded with the ``uritemplate`` library (RFC 6570), never by string
replacement. A template's query variables say which query parameters the route takes;
a link with no query expression inherits the default route's query variables. A link to
another origin is ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urljoin

from uritemplate import URITemplate

from footage_mcp.core.errors import ConfigError
from footage_mcp.rest.urls import same_origin

log = logging.getLogger(__name__)

ROUTE_KEYS: tuple[str, ...] = (
    "albums",
    "album",
    "albumAssets",
    "assets",
    "asset",
    "assetPreview",
    "search",
    "archiveConfiguration",
    "keywords",
    "assetOriginal",
)

WRITE_ROUTE_KEYS: tuple[str, ...] = (
    "createAlbum",
    "updateAlbum",
    "addToAlbum",
    "removeFromAlbum",
    "updateAsset",
    "assetLabels",
    "assetKeywords",
    "relations",
    "upload",
)
"""Route keys of the writes (footage-api.md's table; guessed); ``upload`` is the multipart POST."""

ROUTE_KEYS = ROUTE_KEYS + WRITE_ROUTE_KEYS

DEFAULT_ROUTES: Mapping[str, str] = {
    # Guessed (footage-api.md): paths, and `page` (0-based) / `size` paging, search parameters.
    "albums": "/albums{?q,page,size}",
    "album": "/albums/{id}",
    "albumAssets": "/albums/{id}/assets{?page,size}",
    "assets": "/assets{?page,size}",
    "asset": "/assets/{id}",
    "assetPreview": "/assets/{id}/preview",
    "search": "/search/assets{?q,type,album,label,keyword,from,to,page,size}",
    # Confirmed public route (footage-api.md, 'Confirmed').
    "archiveConfiguration": "/configuration/archive",
    # Guessed (footage-api.md, 'Writes, files and keywords'): Spring-style REST.
    "createAlbum": "/albums",
    "updateAlbum": "/albums/{id}",
    "addToAlbum": "/albums/{id}/assets",
    "removeFromAlbum": "/albums/{id}/assets/{assetId}",
    "updateAsset": "/assets/{id}",
    "assetLabels": "/assets/{id}/labels",
    "assetKeywords": "/assets/{id}/keywords",
    "relations": "/assets/{id}/relations",
    "keywords": "/keywords{?q,lang}",
    # Guessed (footage-api.md, 'Writes, files and keywords'): the original (GET), the multipart upload
    # (POST, part `files`).
    "assetOriginal": "/assets/{id}/original",
    "upload": "/assets",
}

DEFAULT_METHODS: Mapping[str, str] = {
    "createAlbum": "POST",
    "updateAlbum": "PATCH",
    "addToAlbum": "POST",
    "removeFromAlbum": "DELETE",
    "updateAsset": "PATCH",
    "assetLabels": "POST",
    "assetKeywords": "POST",
    "relations": "POST",
    "upload": "POST",
    "keywords": "GET",
}
"""The HTTP method of each write route unless a ``FOOTAGE_ROUTES`` value names one (guessed). Labels are
removed with ``DELETE`` on the ``assetLabels`` route."""

_METHOD_PREFIX = re.compile(r"^\s*(GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE)\s+(\S.*)$", re.IGNORECASE)


def split_method(value: str) -> tuple[str | None, str]:
    """``("POST", "/albums/{id}/assets")`` from ``"POST /albums/{id}/assets"``; ``(None, value)`` without a method."""
    match = _METHOD_PREFIX.match(value)
    if match is None:
        return None, value.strip()
    return match.group(1).upper(), match.group(2).strip()


_ALIASES: Mapping[str, str] = {
    "searchassets": "search",
    "assetsearch": "search",
    "preview": "assetPreview",
    "assetpreview": "assetPreview",
    "archive": "archiveConfiguration",
    "configurationarchive": "archiveConfiguration",
    "archiveconfig": "archiveConfiguration",
    "taxonomy": "keywords",
    "concepts": "keywords",
    "keywordsuggestions": "keywords",
    "original": "assetOriginal",
    "download": "assetOriginal",
    "assetdownload": "assetOriginal",
    "uploads": "upload",
    "assetupload": "upload",
}

_NORMALISED_KEYS = {re.sub(r"[^a-z0-9]", "", k.lower()): k for k in ROUTE_KEYS}


def route_key_for(name: str) -> str | None:
    """The route key a link or override name stands for, or None.

    ``album-assets``, ``album_assets`` and ``AlbumAssets`` all give ``albumAssets``;
    a HAL curie prefix (``ft:albums``) is dropped.
    """
    bare = name.rsplit(":", 1)[-1]
    norm = re.sub(r"[^a-z0-9]", "", bare.lower())
    return _NORMALISED_KEYS.get(norm) or _ALIASES.get(norm)


@dataclass(frozen=True, slots=True)
class Link:
    """One named link of the discovery root."""

    name: str
    href: str
    templated: bool


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the route map.

    ``template`` is an RFC 6570 template. ``anchor`` says how its expansion is resolved:
    ``"base"`` appends it to the base URL (defaults, ``FOOTAGE_ROUTES``); ``"link"``
    resolves it per RFC 3986 against ``{base}/`` (discovery-root hrefs: absolute,
    root-relative or relative).
    """

    key: str
    template: str
    source: Literal["default", "discovery", "config"]
    anchor: Literal["base", "link"] = "base"
    method: str | None = None
    """The HTTP method a ``FOOTAGE_ROUTES`` value named (None: :data:`DEFAULT_METHODS`, or GET)."""

    @property
    def variables(self) -> list[str]:
        return list(_variables(self.template)[0])

    @property
    def query_variables(self) -> list[str]:
        return list(_variables(self.template)[1])

    @property
    def path_variables(self) -> list[str]:
        query = set(self.query_variables)
        return [v for v in self.variables if v not in query]

    def expand(self, base_url: str, values: Mapping[str, Any]) -> str:
        """The absolute URL for ``values`` (None values are left out).

        Path variables are percent-encoded as one segment by RFC 6570 simple expansion.
        """
        clean = {k: v for k, v in values.items() if v is not None}
        expanded = _template(self.template).expand(clean)
        return resolve_href(base_url, expanded, self.anchor)


@lru_cache(maxsize=256)
def _template(text: str) -> URITemplate:
    """The parsed template (parsing one is ~20-40 us, and a list call read its route's about five
    times; a route map has a dozen templates, so the cache stays small)."""
    return URITemplate(text)


@lru_cache(maxsize=256)
def _variables(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every variable name, the query variables' names) of a template."""
    template = _template(text)
    query = tuple(n for var in template.variables if var.operator.value in ("?", "&") for n in var.variable_names)
    return tuple(template.variable_names), query


def resolve_href(base_url: str, href: str, anchor: Literal["base", "link"]) -> str:
    """Resolve an expanded href against the base URL (see :class:`Route`)."""
    if anchor == "link":
        return urljoin(base_url.rstrip("/") + "/", href)
    if href.startswith(("http://", "https://")):
        return href
    return base_url.rstrip("/") + "/" + href.lstrip("/")


def _with_query_vars(template: str, names: list[str]) -> str:
    """Add the query variables ``names`` to a template that has no query expression."""
    if not names or re.search(r"\{[?&]", template):
        return template
    op = "&" if "?" in template.split("{", 1)[0] else "?"
    return f"{template}{{{op}{','.join(names)}}}"


def parse_root_links(body: Any) -> list[Link]:
    """Named links of a discovery-root body, in document order.

    Accepts HAL ``{"_links": {name: {href, templated} | [..]}}``, a ``links`` list or map of
    ``{rel|name, href}``, or a top-level map of name → ``{href}``. Anything else gives [].
    """
    found: list[Link] = []

    def add(name: str, value: Any) -> None:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, dict) and v.get("href")), None)
        if isinstance(value, str):
            value = {"href": value}
        if not isinstance(value, dict) or not isinstance(value.get("href"), str) or name == "curies":
            return
        href: str = value["href"]
        templated = bool(value.get("templated")) or ("{" in href and "}" in href)
        found.append(Link(name=name, href=href, templated=templated))

    if isinstance(body, dict):
        container = body.get("_links", body.get("links", body))
        if isinstance(container, dict):
            for name, value in container.items():
                add(str(name), value)
        elif isinstance(container, list):
            for item in container:
                if isinstance(item, dict):
                    add(str(item.get("rel") or item.get("name") or ""), item)
    elif isinstance(body, list):
        for item in body:
            if isinstance(item, dict):
                add(str(item.get("rel") or item.get("name") or ""), item)
    return [link for link in found if link.name]


def normalise_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """Map ``FOOTAGE_ROUTES`` names to route keys.

    Raises:
        ConfigError: a name that is no route key (lists the valid ones).
    """
    result: dict[str, str] = {}
    for name, template in overrides.items():
        if "." in name:  # <key>.<field>: a body field name (see body_fields)
            head, _, field = name.partition(".")
            owner = route_key_for(head)
            if owner is None or not field:
                raise ConfigError(
                    f"FOOTAGE_ROUTES: unknown route '{head}' in '{name}'; valid names: {', '.join(ROUTE_KEYS)}"
                )
            result[f"{owner}.{field}"] = template
            continue
        key = route_key_for(name)
        if key is None:
            raise ConfigError(f"FOOTAGE_ROUTES: unknown route '{name}'; valid names: {', '.join(ROUTE_KEYS)}")
        method, _ = split_method(template)
        if method not in (None, "GET") and (key not in WRITE_ROUTE_KEYS or key == "keywords"):
            raise ConfigError(f"FOOTAGE_ROUTES: '{name}' is read with GET; remove '{method}' from its value")
        result[key] = template
    return result


def build_route_map(base_url: str, links: list[Link], overrides: Mapping[str, str]) -> dict[str, Route]:
    """The effective route map: defaults, then matching root links, then overrides.

    Links whose resolved URL leaves the base origin are ignored (logged at WARNING).
    """
    routes = {k: Route(k, t, "default") for k, t in DEFAULT_ROUTES.items()}
    for link in links:
        key = route_key_for(link.name)
        if key is None or routes[key].source == "discovery":
            continue
        default_query = Route(key, DEFAULT_ROUTES[key], "default").query_variables
        template = link.href if link.templated else _escape_braces(link.href)
        candidate = Route(key, _with_query_vars(template, default_query), "discovery", "link")
        try:
            probe = candidate.expand(base_url, {v: "x" for v in candidate.path_variables})
        except Exception:  # a malformed template from the API must not break discovery
            log.warning("discovery: ignoring link %r: not a valid URI template", link.name)
            continue
        if not same_origin(probe, base_url):
            log.warning("discovery: ignoring link %r: it points to another origin", link.name)
            continue
        routes[key] = candidate
    for key, template in normalise_overrides(overrides).items():
        if "." in key:
            continue
        method, path = split_method(template)
        routes[key] = Route(key, path, "config", method=method)
    return routes


def body_fields(overrides: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Body field renames from ``FOOTAGE_ROUTES``: ``{"addToAlbum": {"assetIds": "ids"}}`` from
    ``"addToAlbum.assetIds" = "ids"``."""
    fields: dict[str, dict[str, str]] = {}
    for key, value in normalise_overrides(overrides).items():
        if "." in key:
            owner, _, name = key.partition(".")
            fields.setdefault(owner, {})[name] = value
    return fields


def _escape_braces(href: str) -> str:
    """A non-templated href is taken literally: nothing in it is a template expression."""
    return href.replace("{", "%7B").replace("}", "%7D")
