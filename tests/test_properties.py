"""Property-based tests (hypothesis): id encoding, path resolution, cursor decoding and shape parsing
of arbitrary JSON never escape, never crash."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footage_mcp.core.errors import InvalidArgument, InvalidCursor
from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.discovery import DEFAULT_ROUTES, Route
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.paging import CursorCodec
from footage_mcp.rest.shapes import (
    one_line,
    parse_album,
    parse_album_summary,
    parse_asset,
    parse_asset_summary,
    parse_list,
)
from footage_mcp.surface.params import check_id

BASE = "https://app.footage.one/api/asset"
API = FootageApi(RestClient(Settings(base_url=BASE)), {})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=40,
)
field_names = st.sampled_from(
    [
        "id",
        "uuid",
        "_id",
        "assetId",
        "albumId",
        "name",
        "title",
        "type",
        "mediaType",
        "mimeType",
        "size",
        "fileSize",
        "size_bytes",
        "duration",
        "durationMs",
        "created",
        "createdAt",
        "created_at",
        "dateCreated",
        "updated",
        "keywords",
        "labels",
        "albums",
        "relations",
        "_links",
        "_embedded",
        "items",
        "next",
        "nextCursor",
        "total",
        "page",
        "width",
        "height",
        "dimensions",
        "previewAvailable",
        "hasPreview",
    ]
)
field_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=8,
)
"""What one field of an object holds: any JSON value, nested a few levels. The parsers read a field's
value and at most two levels inside it (``_links.next.href``, ``dimensions.width``); ``json_values``'
40 leaves per field made each 12-field object take about 45 ms to generate (9 s per test) for no
deeper reach."""
objects = st.dictionaries(field_names | st.text(max_size=8), field_values, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_an_id_is_always_exactly_one_path_segment(raw_id: str) -> None:
    try:
        object_id = check_id(raw_id, "album")
    except InvalidArgument:
        return
    for key in ("album", "albumAssets", "asset", "assetPreview"):
        route = Route(key, DEFAULT_ROUTES[key], "default")
        url = route.expand(BASE, {"id": object_id})
        path = httpx2.URL(url).raw_path.decode().split("?")[0]
        prefix = "/api/asset/" + ("albums/" if key.startswith("album") else "assets/")
        assert path.startswith(prefix)
        segment = path[len(prefix) :].split("/")[0]
        assert unquote(segment) == object_id
        assert "?" not in segment and "#" not in segment
        assert urlsplit(url).hostname == "app.footage.one"


@settings(max_examples=250, deadline=None)
@given(st.text(max_size=60) | st.sampled_from(["..", "../x", "%2e%2e/x", "a/../../b", "//evil", "http://e/x"]))
def test_api_get_paths_never_leave_the_base(path: str) -> None:
    try:
        url = API.resolve_path(path)
    except InvalidArgument:
        return
    parsed = httpx2.URL(url)
    assert parsed.host == "app.footage.one" and parsed.scheme == "https"
    assert parsed.path.startswith("/api/asset/") or parsed.path == "/api/asset/"
    assert ".." not in unquote(parsed.raw_path.decode()).split("/")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_cursors_are_refused_cleanly(cursor: str) -> None:
    codec = CursorCodec()
    with pytest.raises(InvalidCursor):
        codec.decode(cursor, "albums", "list_albums")


@settings(max_examples=200, deadline=None)
@given(objects)
def test_objects_of_any_shape_parse_or_are_skipped(obj: dict[str, Any]) -> None:
    for parse in (parse_asset, parse_album):
        model = parse(obj)
        if model is not None:
            assert model.id
            model.model_dump_json()  # serialisable: no NaN/inf leaks into the result


@settings(max_examples=200, deadline=None)
@given(json_values | objects, st.none() | st.text(max_size=20), st.none() | st.text(max_size=8))
def test_list_bodies_of_any_shape_never_crash(body: Any, link: str | None, total: str | None) -> None:
    page = parse_list(body, rel="assets", link_next=link, total_header=total)
    assert all(isinstance(item, dict) for item in page.items)
    assert page.total is None or isinstance(page.total, int)


@settings(max_examples=200, deadline=None)
@given(objects)
def test_list_summaries_agree_with_the_full_parse(obj: dict[str, Any]) -> None:
    """Lists parse only the summary fields; they must read exactly what the full parse reads."""
    full, summary = parse_asset(obj), parse_asset_summary(obj)
    assert (full is None) == (summary is None)
    if full is not None and summary is not None:
        assert (summary.id, summary.name, summary.media_type, summary.duration_seconds, summary.created) == (
            full.id,
            full.name,
            full.media_type,
            full.duration_seconds,
            full.created,
        )
        assert summary.description == one_line(full.description)
    album, album_summary = parse_album(obj), parse_album_summary(obj)
    assert (album is None) == (album_summary is None)
    if album is not None and album_summary is not None:
        assert (album_summary.id, album_summary.name, album_summary.asset_count, album_summary.updated) == (
            album.id,
            album.name,
            album.asset_count,
            album.updated,
        )
        assert album_summary.description == one_line(album.description)
