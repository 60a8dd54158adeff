"""Shape tolerance: every list family and object variant of footage-api.md."""

from __future__ import annotations

from typing import Any

import pytest

from footage_mcp.rest import shapes
from footage_mcp.rest.shapes import (
    as_int,
    duration_seconds,
    iso_timestamp,
    media_type_of,
    object_id,
    parse_album,
    parse_asset,
    parse_list,
)

# ------------------------------------------------------------------ list families


def test_hal_page_with_next_link_and_page_block() -> None:
    body = {
        "_embedded": {"assets": [{"id": "a1"}, {"id": "a2"}]},
        "_links": {"self": {"href": "https://x/api/asset/assets?page=0"}, "next": {"href": "https://x/n?page=1"}},
        "page": {"size": 2, "totalElements": 7, "totalPages": 4, "number": 0},
    }
    page = parse_list(body, rel="assets")
    assert [i["id"] for i in page.items] == ["a1", "a2"]
    assert page.next_url == "https://x/n?page=1"
    assert page.total == 7
    assert page.next_cursor is None and page.next_page is None


def test_hal_without_next_link_derives_next_page_number() -> None:
    body = {"_embedded": {"albums": [{"id": "b"}]}, "page": {"number": 2, "totalPages": 4, "totalElements": 4}}
    page = parse_list(body, rel="albums")
    assert page.next_page == 3 and page.next_url is None and page.total == 4


def test_hal_last_page_has_no_continuation() -> None:
    body = {"_embedded": {"albums": [{"id": "b"}]}, "page": {"number": 3, "totalPages": 4, "totalElements": 4}}
    page = parse_list(body, rel="albums")
    assert page.next_page is None and page.next_url is None


def test_hal_prefers_the_expected_rel_in_embedded() -> None:
    body = {"_embedded": {"keywords": [{"id": "k"}], "assets": [{"id": "a"}]}}
    assert [i["id"] for i in parse_list(body, rel="assets").items] == ["a"]


def test_hal_empty_page_without_embedded() -> None:
    page = parse_list({"_links": {"self": {"href": "x"}}, "page": {"totalElements": 0}}, rel="assets")
    assert page.items == [] and page.total == 0 and page.note is None


def test_bare_array_with_link_header_and_total_header() -> None:
    page = parse_list(
        [{"uuid": "1"}, {"uuid": "2"}], rel="assets", link_next="/api/asset/assets?page=1", total_header="42"
    )
    assert [i["uuid"] for i in page.items] == ["1", "2"]
    assert page.next_url == "/api/asset/assets?page=1"
    assert page.total == 42


def test_bare_array_last_page() -> None:
    page = parse_list([{"uuid": "1"}], rel="assets")
    assert page.next_url is None and page.next_cursor is None and page.total is None


def test_bare_array_skips_non_objects_with_a_note() -> None:
    page = parse_list([{"id": "1"}, "junk", 3], rel="assets")
    assert len(page.items) == 1
    assert page.note == "2 list entries were not objects and were skipped"


@pytest.mark.parametrize("list_key", ["items", "content", "data", "results", "albums", "assets"])
def test_items_object_every_list_key(list_key: str) -> None:
    page = parse_list({list_key: [{"id": "x"}], "total": 1}, rel="albums")
    assert [i["id"] for i in page.items] == ["x"] and page.total == 1


@pytest.mark.parametrize("next_key", ["next", "nextCursor", "next_cursor", "cursor"])
def test_items_object_every_cursor_key(next_key: str) -> None:
    page = parse_list({"items": [{"id": "x"}], next_key: "opaque=="}, rel="assets")
    assert page.next_cursor == "opaque==" and page.next_url is None


@pytest.mark.parametrize("next_value", ["https://x/api/asset/assets?c=2", "/api/asset/assets?c=2"])
def test_items_object_url_continuation(next_value: str) -> None:
    page = parse_list({"items": [{"id": "x"}], "next": next_value}, rel="assets")
    assert page.next_url == next_value and page.next_cursor is None


@pytest.mark.parametrize("total_key", ["total", "totalCount", "totalElements"])
def test_items_object_every_total_key(total_key: str) -> None:
    assert parse_list({"data": [], total_key: "12"}, rel="assets").total == 12


@pytest.mark.parametrize("value", [None])
def test_items_object_null_continuation_is_last_page(value: Any) -> None:
    page = parse_list({"items": [{"id": "x"}], "nextCursor": value}, rel="assets")
    assert page.next_cursor is None and page.next_url is None


def test_items_object_empty_string_cursor_is_reported_as_empty() -> None:
    page = parse_list({"items": [{"id": "x"}], "nextCursor": ""}, rel="assets")
    assert page.next_cursor == ""


@pytest.mark.parametrize("body", [{"unexpected": True}, "text", 42, None])
def test_unknown_shapes_give_an_empty_page_with_a_note(body: Any) -> None:
    page = parse_list(body, rel="assets")
    assert page.items == []
    assert page.note is not None and "no items read" in page.note


# ------------------------------------------------------------------ object variants


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"id": "a"}, "a"),
        ({"uuid": "b"}, "b"),
        ({"_id": "c"}, "c"),
        ({"assetId": "d"}, "d"),
        ({"id": 17}, "17"),
        ({"_links": {"self": {"href": "https://x/api/asset/assets/e%20f"}}}, "e f"),
    ],
)
def test_asset_id_variants(obj: dict[str, Any], expected: str) -> None:
    assert object_id(obj, "asset") == expected


def test_album_id_variant() -> None:
    assert object_id({"albumId": "al"}, "album") == "al"


def test_object_without_id_is_skipped() -> None:
    assert parse_asset({"name": "no id"}) is None


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "video"}, "video"),
        ({"mediaType": "IMAGE"}, "image"),
        ({"mimeType": "audio/wav"}, "audio"),
        ({"mimeType": "application/pdf"}, "document"),
        ({"mime_type": "text/plain"}, "document"),
        ({"type": "photo"}, "image"),
        ({"type": "ASSET", "mimeType": "video/mp4"}, "video"),
        ({}, None),
    ],
)
def test_media_type_variants(obj: dict[str, Any], expected: str | None) -> None:
    assert media_type_of(obj) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-01T12:00:00Z", "2019-05-01T12:00:00Z"),
        ("2019-05-01T14:00:00+02:00", "2019-05-01T12:00:00Z"),
        ("2019-05-01", "2019-05-01T00:00:00Z"),
        (1556712000000, "2019-05-01T12:00:00Z"),
        ("1556712000000", "2019-05-01T12:00:00Z"),
        (1556712000, "2019-05-01T12:00:00Z"),
        (None, None),
        ("not a date", "not a date"),
        ("2019-02-30T12:00:00Z", "2019-02-30T12:00:00Z"),  # not a real day: kept as the API said it
        ("2019-05-01T12:00:00z", "2019-05-01T12:00:00Z"),  # not the canonical form: read and written again
        ("0999-05-01T12:00:00Z", "999-05-01T12:00:00Z"),  # a three-digit year: as strftime writes it
        ("２019-05-01T12:00:00Z", "２019-05-01T12:00:00Z"),  # a full-width digit: no date, kept as sent
    ],
)
def test_timestamps(value: Any, expected: str | None) -> None:
    assert iso_timestamp(value) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"duration": 12.5}, 12.5),
        ({"duration": "90"}, 90.0),
        ({"durationMs": 90500}, 90.5),
        ({"duration_ms": "1000"}, 1.0),
        ({"durationSeconds": 3}, 3.0),
        ({"duration": "01:02:03"}, 3723.0),
        ({}, None),
    ],
)
def test_durations(obj: dict[str, Any], expected: float | None) -> None:
    assert duration_seconds(obj) == expected


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("1048576", 1048576), ("x", None), (True, None), (2.0, 2)])
def test_sizes(value: Any, expected: int | None) -> None:
    assert as_int(value) == expected


def test_camel_case_asset() -> None:
    asset = parse_asset(
        {
            "id": "a1",
            "name": "Eiffel",
            "mediaType": "video",
            "mimeType": "video/mp4",
            "fileSize": 1000,
            "durationMs": 5000,
            "width": 1920,
            "height": 1080,
            "createdAt": "2020-01-02T03:04:05Z",
            "updatedAt": "2021-01-02T03:04:05Z",
            "description": "Tower",
            "keywords": ["Paris"],
            "labels": ["#bw"],
            "albumIds": ["al1"],
            "previewAvailable": True,
            "rating": 4,
            "relations": [{"type": "segment", "target": "a2", "direction": "one-way", "timeIn": 1.5, "timeOut": 3}],
            "_links": {"self": {"href": "https://x/api/asset/assets/a1"}},
        }
    )
    assert asset is not None
    assert (asset.media_type, asset.size_bytes, asset.duration_seconds) == ("video", 1000, 5.0)
    assert (asset.width, asset.height) == (1920, 1080)
    assert (asset.created, asset.updated) == ("2020-01-02T03:04:05Z", "2021-01-02T03:04:05Z")
    assert asset.keywords == ["Paris"] and asset.labels == ["#bw"] and asset.albums == ["al1"]
    assert asset.preview_available is True
    assert asset.extra == {"rating": 4}
    assert asset.relations is not None
    rel = asset.relations[0]
    assert (rel.type, rel.target_id, rel.direction, rel.time_in_seconds, rel.time_out_seconds) == (
        "segment",
        "a2",
        "one-way",
        1.5,
        3.0,
    )


def test_snake_case_asset() -> None:
    asset = parse_asset(
        {
            "uuid": "s1",
            "title": "Beach",
            "type": "image",
            "mime_type": "image/jpeg",
            "size_bytes": "2048",
            "created_at": 1577934245000,
            "updated_at": 1609556645000,
            "album_ids": ["x"],
            "preview_available": False,
            "duration": 0,
        }
    )
    assert asset is not None
    assert (asset.id, asset.name, asset.media_type, asset.size_bytes) == ("s1", "Beach", "image", 2048)
    assert asset.created == "2020-01-02T03:04:05Z"
    assert asset.albums == ["x"] and asset.preview_available is False


def test_plain_asset_with_only_mime_type() -> None:
    asset = parse_asset(
        {
            "assetId": "p1",
            "title": "Brief",
            "mimeType": "application/pdf",
            "size": 77,
            "dateCreated": "2018-03-01",
            "dateModified": "2018-03-02T00:00:00Z",
            "albums": [{"id": "al"}],
            "hasPreview": "true",
            "keywords": [{"name": "Paris"}, {"label": "Lyon"}],
            "tags": "#a, #b",
        }
    )
    assert asset is not None
    assert (asset.media_type, asset.size_bytes, asset.created) == ("document", 77, "2018-03-01T00:00:00Z")
    assert asset.albums == ["al"] and asset.preview_available is True
    assert asset.keywords == ["Paris", "Lyon"] and asset.labels == ["#a", "#b"]


def test_preview_from_link_and_dimensions_object() -> None:
    asset = parse_asset(
        {"id": "z", "dimensions": {"width": "640", "height": 480}, "_links": {"preview": {"href": "/p"}}}
    )
    assert asset is not None and asset.preview_available is True and (asset.width, asset.height) == (640, 480)


def test_extra_is_trimmed() -> None:
    asset = parse_asset({"id": "z", "blob": "x" * 1000, "many": list(range(100)), **{f"k{i}": i for i in range(40)}})
    assert asset is not None and asset.extra is not None
    assert len(asset.extra) == 20
    assert len(asset.extra["blob"]) == 200 and asset.extra["many"] == list(range(10))


@pytest.mark.parametrize(
    "obj",
    [
        {"id": "al", "name": "Alps", "assetCount": 3, "createdAt": "2020-01-01T00:00:00Z"},
        {"uuid": "al", "title": "Alps", "asset_count": "3", "created_at": 1577836800000},
        {"albumId": "al", "name": "Alps", "totalAssets": 3, "dateCreated": "2020-01-01"},
    ],
)
def test_album_variants(obj: dict[str, Any]) -> None:
    album = parse_album(obj)
    assert album is not None
    assert (album.id, album.name, album.asset_count, album.created) == ("al", "Alps", 3, "2020-01-01T00:00:00Z")


class _Reads(dict[str, Any]):
    """A dict that records which keys are read from it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def test_each_asset_alias_is_declared_once_and_is_what_the_parser_reads() -> None:
    """The known-field set (what stays out of ``extra``) is made of the alias tuples the parser reads:
    an alias added to a parser call and not to the set (or the other way round) fails here. The object
    has no field but its self link (the id), so every alias is tried."""
    empty = _Reads({"_links": {"self": {"href": "/api/asset/assets/a1"}}})
    assert parse_asset(empty) is not None
    assert empty.read == set(shapes.ASSET_KNOWN) - {"_embedded"}  # _embedded: unwrapped by the API layer
    sample = {key: "x" for key in shapes.ASSET_KNOWN} | {"id": "a1", "custom": 1}
    asset = parse_asset(sample)
    assert asset is not None and asset.extra == {"custom": 1}
