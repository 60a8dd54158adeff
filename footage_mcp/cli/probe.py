"""``footage-mcp probe [--out FILE]``: what the real API looks like, as structure only.

With the user's token it reads the discovery root, the first page of each list route, one album and one
asset, and sends ``OPTIONS`` to each write route candidate. It sends only GET, HEAD and OPTIONS
(:data:`SAFE_METHODS`; anything else is refused before it leaves), never a write.

The profile (JSON, written to ``--out`` or ``footage-probe.json``) holds link names, path templates
(relative to the base URL, ids replaced by ``{id}``), list families, field names and JSON types, paging
parameters and ``Allow`` headers: never a value, an id, a name or the token. It is meant to be attached
to a bug report. On stdout it prints a suggested ``FOOTAGE_ROUTES`` TOML with every route (and body
field) that differs from the bridge's defaults; that TOML, saved as a file, loads through
``FOOTAGE_ROUTES`` unchanged.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import anyio

from footage_mcp.core.errors import ApiError, BadResponse, FootageError
from footage_mcp.core.redact import REDACTED, Redactor
from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import variable_for
from footage_mcp.rest.discovery import (
    DEFAULT_METHODS,
    DEFAULT_ROUTES,
    WRITE_ROUTE_KEYS,
    Route,
    build_route_map,
    parse_root_links,
    route_key_for,
)
from footage_mcp.rest.http import MAX_JSON_BYTES, Fetched, RestClient, decode_json
from footage_mcp.rest.shapes import LIST_KEYS, NEXT_KEYS, TOTAL_KEYS, object_id, parse_list
from footage_mcp.rest.writes import DEFAULT_FIELDS, READ_FALLBACK

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PROFILE_VERSION = 1
LIST_ROUTES = ("albums", "assets", "search", "keywords")
_ID_LIKE = re.compile(r"^(?:[0-9a-fA-F-]{16,}|\d{4,}|[A-Za-z0-9_-]{20,})$")


# ---------------------------------------------------------------- anonymising


def json_type(value: Any) -> str:
    """The JSON type of ``value``: string, number, integer, boolean, null, object, array<…>."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        kinds = sorted({json_type(v) if not isinstance(v, dict | list) else type_name(v) for v in value[:20]})
        return f"array<{'|'.join(kinds) or 'empty'}>"
    return "object"


def type_name(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array"


def field_types(obj: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Field name → JSON type; objects (and arrays of objects) one level down as nested maps. Keys that
    look like ids or values (not identifiers) become ``{key}``."""
    fields: dict[str, Any] = {}
    for key, value in obj.items():
        name = key if re.fullmatch(r"[A-Za-z_$@][\w$@.:-]{0,63}", key) and not _ID_LIKE.match(key) else "{key}"
        if isinstance(value, dict) and depth < 2:
            fields[name] = field_types(value, depth + 1)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value[:5]) and depth < 2:
            merged: dict[str, Any] = {}
            for item in value[:5]:
                merged.update(field_types(item, depth + 1))
            fields[name] = [merged]
        else:
            fields[name] = json_type(value)
    return fields


def relative_template(rest: RestClient, href: str, ids: set[str]) -> str | None:
    """``href`` as a template relative to the base URL, ids (known or id-like segments) replaced by ``{id}``;
    None when it leaves the base origin or path."""
    if href.startswith(("http://", "https://")):
        absolute = href
    else:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(rest.base_url))
        absolute = origin + href if href.startswith("/") else rest.base_url + "/" + href
    template_part = ""
    if "{?" in absolute or "{&" in absolute:
        cut = min(i for i in (absolute.find("{?"), absolute.find("{&")) if i >= 0)
        absolute, template_part = absolute[:cut], absolute[cut:]
    absolute = absolute.split("?", 1)[0]
    relative = rest.relative_path(absolute.replace("{", "%7B").replace("}", "%7D"))
    if relative is None:
        return None
    segments = []
    for segment in relative.replace("%7B", "{").replace("%7D", "}").split("/"):
        if segment in ids or (_ID_LIKE.match(segment) and "{" not in segment):
            segments.append("{id}")
        else:
            segments.append(segment)
    return "/" + "/".join(segments).strip("/") + template_part


def list_family(body: Any, headers: Any) -> dict[str, Any]:
    """Which list family a body is, and where its items, continuation and total are."""
    if isinstance(body, list):
        return {
            "family": "array",
            "next": "link-header" if "link" in headers else None,
            "total": "X-Total-Count" if "x-total-count" in headers else None,
        }
    if isinstance(body, dict) and isinstance(body.get("_embedded"), dict):
        keys = [k for k, v in body["_embedded"].items() if isinstance(v, list)]
        links: dict[str, Any] = body["_links"] if isinstance(body.get("_links"), dict) else {}
        page: dict[str, Any] = body["page"] if isinstance(body.get("page"), dict) else {}
        return {
            "family": "hal",
            "list_key": f"_embedded.{keys[0]}" if keys else None,
            "next": "_links.next" if "next" in links else None,
            "page_fields": sorted(page),
        }
    if isinstance(body, dict):
        key = next((k for k, v in body.items() if isinstance(v, list) and k in LIST_KEYS), None)
        key = key or next((k for k, v in body.items() if isinstance(v, list)), None)
        return {
            "family": "items" if key else "unknown",
            "list_key": key,
            "next": next((k for k in NEXT_KEYS if k in body), None),
            "total": next((k for k in TOTAL_KEYS if k in body), None),
        }
    return {"family": "unknown"}


# ---------------------------------------------------------------- probing


class Prober:
    """The probe's requests (GET, HEAD and OPTIONS only) and what it keeps of them."""

    def __init__(self, rest: RestClient) -> None:
        self.rest = rest
        self.ids: set[str] = set()
        self.unanswered = 0
        """Requests in a row that got no answer; from :data:`MAX_UNANSWERED` on, no more are sent."""

    async def request(self, method: str, url: str) -> tuple[int, Any, Any]:
        """``(status, headers, decoded JSON or None)``; status 0 when no answer came."""
        if method not in SAFE_METHODS:
            raise ValueError(f"probe sends only {', '.join(sorted(SAFE_METHODS))}, not {method}")
        if not self.rest.is_under_base(url):
            return 0, {}, None
        if self.unanswered >= MAX_UNANSWERED:  # the API stopped answering: no minutes of timeouts one by one
            return 0, {}, None
        headers = {"Accept": "application/json"}
        if self.rest.settings.token:
            headers["apiKey"] = self.rest.settings.token
        try:  # the client's one request path: its timeout, pool slots and bounded decoding (8 MiB)
            status, answer_headers, content = await self.rest.exchange(method, url, headers, cap=MAX_JSON_BYTES)
        except ApiError as exc:  # an answer too large, or not what its encoding says: kept as its status
            self.unanswered = 0
            return exc.status or 0, {}, None
        except Exception:  # no answer: the profile says so (status 0)
            self.unanswered += 1
            return 0, {}, None
        self.unanswered = 0
        body: Any = None
        if content[:1] in (b"{", b"["):
            try:
                body = decode_json(Fetched(url, status, answer_headers, content))
            except BadResponse:  # not JSON after all (cut off, nested too deep …): no body
                body = None
        return status, answer_headers, body

    async def run(self) -> tuple[dict[str, Any], str]:
        rest = self.rest
        base = rest.base_url
        profile: dict[str, Any] = {"profile_version": PROFILE_VERSION, "tool": "footage-mcp probe"}
        status, _headers, root = await self.request("GET", base + "/")
        ok = 200 <= status < 300  # an error body's strings are not links (a 401 echoing the key was kept as one)
        links = parse_root_links(root) if root is not None and ok else []
        profile["root"] = {
            "status": status,
            "json": root is not None,
            "links": [
                {
                    "name": link.name,
                    "route_key": route_key_for(link.name),
                    "template": relative_template(rest, link.href, set()),
                    "templated": link.templated,
                }
                for link in links
            ],
        }
        routes = build_route_map(base, links, {})
        lists: dict[str, Any] = {}
        first: dict[str, str] = {}
        for key in LIST_ROUTES:
            lists[key] = await self._list(routes[key], key, first)
        album_id, asset_id = first.get("albums"), first.get("assets") or first.get("search")
        if album_id:
            lists["albumAssets"] = await self._list(routes["albumAssets"], "albumAssets", first, album_id)
        profile["lists"] = lists
        profile["other_links"] = await self._other_links(links, {routes[k].template for k in LIST_ROUTES})
        objects: dict[str, Any] = {}
        for kind, oid in (("album", album_id), ("asset", asset_id)):
            if oid:
                objects[kind] = await self._object(routes[kind], kind, oid)
        profile["objects"] = objects
        values = {"id": album_id or "x", "assetId": first.get("albumAssets") or asset_id or "x"}
        writes: dict[str, Any] = {}
        for key in WRITE_ROUTE_KEYS:
            if key == "keywords":
                continue
            writes[key] = await self._write_route(
                routes, key, values if key in READ_FALLBACK else {"id": asset_id or "x"}
            )
        profile["write_routes"] = writes
        if self.unanswered >= MAX_UNANSWERED:
            profile["note"] = (
                f"stopped sending after {MAX_UNANSWERED} requests in a row got no answer within FOOTAGE_TIMEOUT; "
                "the profile is partial"
            )
        profile = _scrub(profile, self.ids, rest.settings.token)
        return profile, suggest(profile)

    async def _list(self, route: Route, key: str, first: dict[str, str], album_id: str | None = None) -> dict[str, Any]:
        values: dict[str, Any] = {v: album_id for v in route.path_variables}
        size = variable_for(route, "size")
        if size:
            values[size] = 2
        status, headers, body = await self.request("GET", route.expand(self.rest.base_url, values))
        entry: dict[str, Any] = {
            "status": status,
            "template": relative_template(self.rest, route.template, set())
            if route.anchor == "link"
            else route.template,
            "source": route.source,
            "query_parameters": route.query_variables,
        }
        if status == 200 and body is not None:
            entry.update(list_family(body, headers))
            page = parse_list(body, rel="assets" if key != "albums" else "albums")
            if page.items:
                item = page.items[0]
                entry["item_fields"] = field_types(item)
                oid = object_id(item, "album" if key == "albums" else "asset")
                if oid:
                    first.setdefault(key, oid)
                    self.ids.add(oid)
            for item in page.items:
                oid = object_id(item, "album" if key == "albums" else "asset")
                if oid:
                    self.ids.add(oid)
        return entry

    async def _other_links(self, links: list[Any], seen: set[str]) -> dict[str, Any]:
        """The first answer of every other root link that needs no path value (structure only)."""
        found: dict[str, Any] = {}
        for link in links:
            route = Route(link.name, link.href, "discovery", "link")
            if link.href in seen or link.name == "self" or route.path_variables:
                continue
            try:
                url = route.expand(self.rest.base_url, {})
            except Exception:  # a malformed template: recorded as such
                found[link.name] = {"status": None, "note": "not a valid URI template"}
                continue
            status, headers, body = await self.request("GET", url)
            entry: dict[str, Any] = {"status": status}
            listed = isinstance(body, dict) and (
                "_embedded" in body or any(isinstance(body.get(k), list) for k in LIST_KEYS)
            )
            if isinstance(body, list) or listed:
                entry.update(list_family(body, headers))
            if isinstance(body, dict):
                entry["fields"] = field_types(body)
            found[link.name] = entry
        return found

    async def _object(self, route: Route, kind: str, oid: str) -> dict[str, Any]:
        url = route.expand(self.rest.base_url, {v: oid for v in route.path_variables})
        status, headers, body = await self.request("GET", url)
        entry: dict[str, Any] = {"status": status, "etag": "etag" in headers if headers else False}
        if isinstance(body, dict):
            entry["fields"] = field_types(body)
            raw = body.get("_links")
            if isinstance(raw, dict):
                entry["links"] = {
                    rel: relative_template(self.rest, v["href"], self.ids | {oid})
                    for rel, v in raw.items()
                    if isinstance(v, dict) and isinstance(v.get("href"), str)
                }
        status, headers, _ = await self.request("OPTIONS", url)
        entry["options"] = {"status": status, "allow": _allow(headers)}
        return entry

    async def _write_route(self, routes: dict[str, Route], key: str, values: dict[str, str]) -> dict[str, Any]:
        route = routes[key]
        template = route.template if route.anchor == "base" else relative_template(self.rest, route.template, set())
        source = route.source
        fallback = READ_FALLBACK.get(key)
        if source == "default" and fallback and routes[fallback].source == "discovery":
            read = relative_template(self.rest, routes[fallback].template, set()) or ""
            template = read.split("{?", 1)[0].split("{&", 1)[0]
            if key == "removeFromAlbum":
                template = template.rstrip("/") + "/{assetId}"
            source = "discovery"
        template = template or DEFAULT_ROUTES[key]
        url = self.rest.base_url + re.sub(
            r"\{(\w+)\}", lambda m: quote(values.get(m.group(1)) or values.get("id") or "x", safe=""), template
        )
        status, headers, body = await self.request("OPTIONS", url.split("{", 1)[0])
        entry: dict[str, Any] = {
            "method": route.method or DEFAULT_METHODS.get(key, "POST"),
            "template": template,
            "source": source,
            "options_status": status,
            "allow": _allow(headers),
        }
        if isinstance(body, dict) and isinstance(body.get("accepts"), dict):
            entry["accepts"] = {
                str(method): sorted(str(f) for f in fields) if isinstance(fields, dict) else []
                for method, fields in body["accepts"].items()
            }
        return entry


def _allow(headers: Any) -> list[str]:
    value = headers.get("allow", "") if headers else ""
    return sorted({m.strip().upper() for m in str(value).split(",") if m.strip()})


MAX_UNANSWERED = 3
"""After this many requests in a row without an answer the probe sends no more (a server dripping its
answers made about 14 sequential timeouts: 71 s at FOOTAGE_TIMEOUT=5, 7 minutes at the default)."""
MIN_TOKEN_PIECE = 8
"""Any run of this many characters of the token is taken out of the profile, wherever it stands."""


def _scrub(value: Any, ids: set[str], token: str | None) -> Any:
    """The profile with any id or the token that slipped into a string replaced; structure stays. The
    token goes in every encoding the bridge's redactor knows (base64, hex, percent, JSON escapes …), and so
    does any run of :data:`MIN_TOKEN_PIECE` or more of its characters (the file is meant for bug reports:
    a prefix or a piece of a key is a leak too)."""
    redactor = Redactor([token])
    pieces = _pieces(token) if token else []

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            value = redactor.text(value)
            for piece in pieces:
                if piece in value:
                    value = value.replace(piece, REDACTED)
            for secret in (i for i in ids if len(i) >= 3):
                value = value.replace(secret, "{id}")
        return value

    return clean(value)


def _pieces(token: str) -> list[str]:
    """Every run of at least :data:`MIN_TOKEN_PIECE` characters of ``token``, longest first."""
    size = len(token)
    runs = {token[i : i + n] for n in range(min(MIN_TOKEN_PIECE, size), size + 1) for i in range(size - n + 1)}
    return sorted(runs, key=len, reverse=True)


# ---------------------------------------------------------------- the suggestion


def suggest(profile: dict[str, Any]) -> str:
    """A ``FOOTAGE_ROUTES`` TOML with what the profile shows differs from the defaults."""
    lines = [
        "# footage-mcp probe: routes that differ from the bridge's defaults (save as routes.toml,",
        "# then set FOOTAGE_ROUTES to its path)",
        "[routes]",
    ]
    entries: dict[str, str] = {}
    for link in profile.get("root", {}).get("links", []):
        key, template = link.get("route_key"), link.get("template")
        if not key or not template or key in entries:
            continue
        if key in WRITE_ROUTE_KEYS and key != "keywords":
            continue  # written below, with their method
        if template != DEFAULT_ROUTES.get(key):
            entries[key] = template
    for key, route in profile.get("write_routes", {}).items():
        template = route.get("template")
        if template and template != DEFAULT_ROUTES.get(key) and route.get("source") == "discovery":
            entries[key] = f"{route['method']} {template}"
        accepts = route.get("accepts", {}).get(route.get("method"), [])
        for logical, default in DEFAULT_FIELDS.get(key, {}).items():
            if accepts and default not in accepts and logical == "assetIds":
                arrays = [f for f in accepts if f != default]
                if len(arrays) == 1:
                    entries[f"{key}.{logical}"] = arrays[0]
    for key, value in entries.items():
        name = key if re.fullmatch(r"[A-Za-z]+", key) else json.dumps(key)
        lines.append(f"{name} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def main(out: str | None) -> int:
    """Run the probe with the environment's settings; exit status 0 when the root or a list was read as JSON
    (1 otherwise: an HTML page or an answer over the size cap reached nothing of the API)."""
    from footage_mcp.core.settings import load_settings

    try:
        settings: Settings = load_settings()
    except FootageError as exc:
        print(f"footage-mcp probe: configuration error: {exc.message}", file=sys.stderr)
        return 2
    if settings.token is None:
        print("footage-mcp probe: set FOOTAGE_API_TOKEN (the probe reads your library's structure)", file=sys.stderr)
        return 2

    async def run() -> tuple[dict[str, Any], str]:
        async with RestClient(settings) as rest:
            return await Prober(rest).run()

    profile, toml = anyio.run(run)
    target = Path(out or "footage-probe.json")
    target.write_text(json.dumps(profile, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(toml, end="")
    print(
        f"footage-mcp probe: profile written to {target} (structure only: no values, ids, names or token)",
        file=sys.stderr,
    )
    if "note" in profile:
        print(f"footage-mcp probe: {profile['note']}", file=sys.stderr)
    root = profile["root"]
    reached = (root["status"] == 200 and root["json"]) or any(
        v.get("status") == 200 and "family" in v for v in profile["lists"].values()
    )  # an HTML page or an answer too large to read is not the API read
    return 0 if reached else 1
