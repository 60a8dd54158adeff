"""Tests for the Footage API sandbox: library, taxonomy, routes, shapes, paging, search, previews, serve()."""

from __future__ import annotations

import io
import os
import queue
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

import httpx2
import pytest
from canary_plugin import TOKEN
from PIL import Image
from starlette.testclient import TestClient

from footage_mcp.sandbox import BASE_PATH, SHAPES, build_library, create_app
from footage_mcp.sandbox.library import RELATION_TYPES, Library
from footage_mcp.sandbox.taxonomy import CONCEPTS, get_taxonomy

ORIGIN = "http://127.0.0.1:8765"
AUTH = {"apiKey": TOKEN}  # the sandbox's token in the suite ($FOOTAGE_SANDBOX_TOKEN, tests/canary_plugin.py)
ID_FIELD = {"hal": "id", "array": "uuid", "items": "assetId"}


class Reply(Protocol):
    """What the tests read from a response (TestClient and httpx2 responses both fit)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


@cache
def _client(shape: str = "hal", alt_routes: bool = False) -> TestClient:
    """One shared in-process client per (shape, alt_routes)."""
    return TestClient(create_app(shape=shape, alt_routes=alt_routes), base_url=ORIGIN)


@cache
def _library() -> Library:
    return build_library()


def get(path: str, shape: str = "hal", *, auth: bool = True, **params: Any) -> Reply:
    """GET ``BASE_PATH + path`` on the shared client."""
    return _client(shape).get(BASE_PATH + path, params=params or None, headers=AUTH if auth else None)


def rows(response: Reply, shape: str, rel: str = "assets") -> list[dict[str, Any]]:
    """The list items of one page in any shape."""
    body = response.json()
    if shape == "hal":
        return list(body["_embedded"][rel])
    if shape == "array":
        return list(body)
    return list(body["items"])


def search_names(shape: str = "hal", **params: Any) -> list[str]:
    """Asset ids of a one-page search (size 200)."""
    response = get("/search/assets", shape, size=200, **params)
    assert response.status_code == 200, response.text
    return [row[ID_FIELD[shape]] for row in rows(response, shape)]


def ids_with_concepts(concept_id: str) -> set[str]:
    """Ids of library assets keyworded with ``concept_id`` or a narrower concept."""
    taxonomy = get_taxonomy()
    wanted = taxonomy.descendants(concept_id)
    return {a.id for a in _library().assets if any(taxonomy.id_for_label(k) in wanted for k in a.keywords)}


# ------------------------------------------------------------------------------------------------
# Library and taxonomy


def test_library_sizes_and_kind_mix() -> None:
    lib = _library()
    assert len(lib.albums) == 14
    assert len(lib.assets) == 320
    assert Counter(a.kind for a in lib.assets) == {"image": 144, "video": 96, "audio": 38, "document": 42}
    assert len({a.id for a in lib.assets}) == 320
    assert all(1 <= len(a.album_ids) <= 3 for a in lib.assets)
    sizes = [len(album.asset_ids) for album in lib.albums]
    assert min(sizes) >= 8
    assert max(sizes) >= 60
    for album in lib.albums:
        assert {a.id for a in lib.assets if album.id in a.album_ids} == set(album.asset_ids)
    names = {album.name for album in lib.albums}
    assert {"Paris Street Life 2019", "Alpine Summer", "Product Launch Berlin", "Press Kit Documents"} <= names


def test_library_metadata_is_plausible() -> None:
    for a in _library().assets:
        assert a.updated >= a.created
        assert datetime(2016, 1, 1, tzinfo=UTC) <= a.created <= datetime(2026, 12, 31, tzinfo=UTC)
        assert a.size_bytes > 0
        if a.kind == "video":
            assert a.duration is not None and 5 <= a.duration <= 600
            assert a.mime_type in ("video/mp4", "video/quicktime")
        elif a.kind == "audio":
            assert a.duration is not None and 10 <= a.duration <= 900
            assert a.mime_type in ("audio/wav", "audio/mpeg")
            assert a.width is None and a.height is None
        else:
            assert a.duration is None
        if a.kind == "image":
            assert a.mime_type.startswith("image/") and a.width and a.height
        if a.kind == "document":
            assert a.mime_type.startswith("application/") or a.mime_type == "text/plain"
        assert all(label.startswith("#") for label in a.labels)
    years = {a.created.year for a in _library().assets}
    assert min(years) == 2016 and max(years) >= 2025


def test_library_is_deterministic() -> None:
    assert build_library() == build_library()
    assert build_library(7) == build_library(7)
    assert build_library(7).assets[0].id != build_library(8).assets[0].id


def test_responses_are_byte_identical_for_the_same_seed() -> None:
    paths = ["/assets?size=200", "/albums", "/search/assets?q=paris"]
    for shape in SHAPES:
        a = TestClient(create_app(shape=shape, seed=42), base_url=ORIGIN)
        b = TestClient(create_app(shape=shape, seed=42), base_url=ORIGIN)
        for path in paths:
            assert a.get(BASE_PATH + path, headers=AUTH).content == b.get(BASE_PATH + path, headers=AUTH).content


def test_relations_cover_all_types_with_video_times() -> None:
    lib = _library()
    relations = [(a, r) for a in lib.assets for r in a.relations]
    one_way = sum(r.direction == "one-way" for _, r in relations)
    two_way_pairs = sum(r.direction == "two-way" for _, r in relations) // 2
    assert one_way + two_way_pairs >= 30
    assert {r.type for _, r in relations} == set(RELATION_TYPES)
    for asset, r in relations:
        target = lib.asset(r.target)
        assert target is not None and target.id != asset.id
        assert r.direction in ("one-way", "two-way")
        if asset.kind == "video":
            assert r.time_in is not None and r.time_out is not None and asset.duration is not None
            assert 0 <= r.time_in < r.time_out <= asset.duration
        else:
            assert r.time_in is None and r.time_out is None
        if r.direction == "two-way":
            assert any(m.target == asset.id and m.type == r.type for m in target.relations)


def test_taxonomy_shape_and_lookup() -> None:
    taxonomy = get_taxonomy()
    assert len(CONCEPTS) >= 40
    assert all(c.en and c.de and c.fr for c in CONCEPTS)
    assert taxonomy.descendants("france") == {"france", "paris", "lyon", "eiffel_tower"}
    assert taxonomy.descendants("europe") >= {"paris", "berlin", "munich", "rome", "alps"}
    assert taxonomy.lookup("Frankreich") == taxonomy.lookup("france") == {"france"}
    assert taxonomy.lookup("PANAME") == {"paris"}
    assert taxonomy.lookup("munchen") == {"munich"}
    assert taxonomy.narrower("animals") == ("dog", "cat", "horse")
    assert taxonomy.lookup("no such concept") == frozenset()


def test_keywords_are_concepts_and_france_only_by_expansion() -> None:
    taxonomy = get_taxonomy()
    keywords = Counter(k for a in _library().assets for k in a.keywords)
    assert all(taxonomy.id_for_label(k) is not None for k in keywords)
    assert keywords["France"] == 0
    assert keywords["Paris"] >= 5 and keywords["Lyon"] >= 1


def test_bulk_import_album_keeps_the_base_library() -> None:
    """How fast it is built is the benchmark's to measure (bench/), not a timed assertion's."""
    app = create_app(extra_album_assets=10_000)
    lib: Library = app.state.library
    bulk = lib.albums[-1]
    assert bulk.name == "Bulk Import" and len(bulk.asset_ids) == 10_000
    assert len(lib.assets) == 10_320
    assert {a.id for a in _library().assets} <= {a.id for a in lib.assets}
    client = TestClient(app, base_url=ORIGIN)
    page = client.get(f"{BASE_PATH}/albums/{bulk.id}/assets", params={"size": 200, "page": 49}, headers=AUTH)
    assert page.json()["page"] == {"size": 200, "totalElements": 10_000, "totalPages": 50, "number": 49}
    assert "next" not in page.json()["_links"]


# ------------------------------------------------------------------------------------------------
# Auth, errors, methods


@pytest.mark.parametrize("path", ["/", "", "/configuration/archive", "/public/status"])
def test_public_routes_need_no_token(path: str) -> None:
    assert get(path, auth=False).status_code == 200


def test_token_required_elsewhere() -> None:
    response = get("/albums", auth=False)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "status": 401,
        "error": "Unauthorized",
        "message": "Full authentication is required to access this resource",
        "path": "/api/asset/albums",
    }
    client = _client()
    assert client.get(f"{BASE_PATH}/albums", headers={"apiKey": "wrong"}).status_code == 401
    assert client.get(f"{BASE_PATH}/albums", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
    assert client.get(f"{BASE_PATH}/albums", headers={"APIKEY": TOKEN}).status_code == 200
    assert get("/albums").status_code == 200
    custom = TestClient(create_app(token="s3cret"), base_url=ORIGIN)
    assert custom.get(f"{BASE_PATH}/assets", headers=AUTH).status_code == 401
    assert custom.get(f"{BASE_PATH}/assets", headers={"apiKey": "s3cret"}).status_code == 200


def test_public_status_and_archive_configuration() -> None:
    assert get("/public/status", auth=False).json() == {"status": "ok"}
    config = get("/configuration/archive", auth=False).json()
    assert config["archiveName"] == "Footage Sandbox Archive"
    assert config["languages"] == ["en", "de", "fr"]
    assert config["mediaTypes"] == ["image", "video", "audio", "document"]
    assert config["relationTypes"] == list(RELATION_TYPES) and len(RELATION_TYPES) == 9
    assert config["version"] == "sandbox-1" and config["maxUploadBytes"] > 0


def test_not_found_errors_are_json() -> None:
    album = get("/albums/no%20such")
    assert album.status_code == 404
    assert album.json() == {
        "status": 404,
        "error": "Not Found",
        "message": "Album 'no such' not found",
        "path": "/api/asset/albums/no such",
    }
    assert get("/assets/nope").json()["message"] == "Asset 'nope' not found"
    assert get("/albums/nope/assets").status_code == 404
    unknown = get("/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["path"] == "/api/asset/nothing/here"
    assert get("/public/nothing", auth=False).status_code == 404


def test_only_get_and_head() -> None:  # and the write routes (tests/test_sandbox_writes.py)
    client = _client()
    response = client.put(f"{BASE_PATH}/albums", headers=AUTH)
    assert response.status_code == 405
    assert response.json()["status"] == 405
    assert "GET" in response.headers["allow"]
    head = client.head(f"{BASE_PATH}/albums", headers=AUTH)
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"size": "ten"}, "size"),
        ({"size": "201"}, "size"),
        ({"size": "0"}, "size"),
        ({"page": "-1"}, "page"),
        ({"type": "hologram"}, "type"),
        ({"from": "2019-13-40"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2020-01-01", "to": "2019-01-01"}, "from"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(params: dict[str, str], name: str) -> None:
    response = _client().get(f"{BASE_PATH}/search/assets", params=params, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert f"'{name}'" in response.json()["message"]


def test_invalid_cursor_is_400() -> None:
    for cursor in ("garbage!", "MTpiYWRiYWRiYQ", "LTE6MDAwMDAwMDA"):
        response = get("/assets", "items", cursor=cursor)
        assert response.status_code == 400
        assert "'cursor'" in response.json()["message"]


# ------------------------------------------------------------------------------------------------
# Discovery root and shapes


@pytest.mark.parametrize("shape", SHAPES)
def test_discovery_root_links(shape: str) -> None:
    response = _client(shape).get(f"{BASE_PATH}/", headers={"host": "sandbox.test:9000"})
    body = response.json()
    links = body["_links"]
    album_assets = "album-assets" if shape == "items" else "albumAssets"
    paging = "cursor,size" if shape == "items" else "page,size"
    origin = "http://sandbox.test:9000"
    assert set(links) >= {"self", "albums", "album", album_assets, "assets", "asset", "assetPreview", "search"}
    assert links["self"] == {"href": f"{origin}/api/asset/"}
    assert links["albums"] == {"href": f"{origin}/api/asset/albums{{?q,{paging}}}", "templated": True}
    assert links["album"] == {"href": "/api/asset/albums/{id}", "templated": True}
    assert links[album_assets]["href"] == f"{origin}/api/asset/albums/{{id}}/assets{{?{paging}}}"
    assert links["assets"] == {"href": f"/api/asset/assets{{?{paging}}}", "templated": True}
    assert links["asset"] == {"href": "/api/asset/assets/{id}", "templated": True}
    assert links["assetPreview"]["href"] == f"{origin}/api/asset/assets/{{id}}/preview{{?size}}"
    assert links["search"] == {
        "href": f"{origin}/api/asset/search/assets{{?q,type,album,label,keyword,from,to,{paging}}}",
        "templated": True,
    }
    assert links["archiveConfiguration"] == {"href": f"{origin}/api/asset/configuration/archive"}
    assert body["name"] == "Footage Sandbox" and body["version"] == "sandbox-1"
    expected_type = "application/hal+json" if shape == "hal" else "application/json"
    assert response.headers["content-type"] == expected_type


def test_hal_shape_envelope_and_fields() -> None:
    response = get("/assets", size=20)
    assert response.headers["content-type"] == "application/hal+json"
    body = response.json()
    assert body["page"] == {"size": 20, "totalElements": 320, "totalPages": 16, "number": 0}
    assert body["_links"]["self"]["href"] == f"{ORIGIN}/api/asset/assets?size=20"
    assert body["_links"]["next"]["href"] == f"{ORIGIN}/api/asset/assets?page=1&size=20"
    video = next(a for a in get("/search/assets", type="video").json()["_embedded"]["assets"])
    required = {"id", "name", "description", "mediaType", "mimeType", "fileSize", "durationMs", "width", "height"}
    required |= {"createdAt", "updatedAt", "keywords", "labels", "albumIds", "relations", "previewAvailable"}
    assert required <= set(video)
    assert "rating" in video and "checksum" not in video  # a generated original is never hashed whole
    assert isinstance(video["fileSize"], int) and isinstance(video["durationMs"], int)
    assert video["createdAt"].endswith("Z")
    assert video["_links"]["self"]["href"] == f"{ORIGIN}/api/asset/assets/{video['id']}"
    assert video["_links"]["preview"]["href"] == f"{ORIGIN}/api/asset/assets/{video['id']}/preview"
    album = get("/albums").json()["_embedded"]["albums"][0]
    assert {"id", "name", "description", "assetCount", "createdAt", "updatedAt", "keywords", "labels"} <= set(album)
    assert album["_links"]["self"]["href"] == f"{ORIGIN}/api/asset/albums/{album['id']}"


def test_array_shape_envelope_and_fields() -> None:
    response = get("/assets", "array", size=20)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-total-count"] == "320"
    assert response.headers["link"] == f'<{ORIGIN}/api/asset/assets?page=1&size=20>; rel="next"'
    body = response.json()
    assert isinstance(body, list) and len(body) == 20
    asset = body[0]
    lib_asset = _library().asset(asset["uuid"])
    assert lib_asset is not None
    assert asset["title"] == lib_asset.name and asset["type"] == lib_asset.kind
    assert asset["size_bytes"] == str(lib_asset.size_bytes)
    assert asset["created_at"] == int(lib_asset.created.timestamp()) * 1000
    assert {"mime_type", "duration", "width", "height", "updated_at", "album_ids", "preview_available"} <= set(asset)
    last = get("/assets", "array", size=20, page=15)
    assert "link" not in last.headers and len(last.json()) == 20
    album = get("/albums", "array").json()[0]
    assert {"uuid", "title", "description", "asset_count", "created_at", "updated_at"} <= set(album)


def test_items_shape_envelope_and_fields() -> None:
    body = get("/assets", "items", size=20).json()
    assert set(body) == {"items", "nextCursor", "total"}
    assert body["total"] == 320 and isinstance(body["nextCursor"], str)
    asset = body["items"][0]
    assert {"assetId", "title", "mimeType", "size", "dateCreated", "dateModified", "albums", "hasPreview"} <= set(asset)
    assert not {"type", "mediaType", "id", "uuid"} & set(asset)
    pdf = next(a for a in _library().assets if a.mime_type == "application/pdf")
    assert get(f"/assets/{pdf.id}", "items").json()["mimeType"] == "application/pdf"
    album = get("/albums", "items").json()["items"][0]
    assert {"albumId", "name", "description", "totalAssets", "dateCreated", "dateModified"} <= set(album)
    assert get("/albums", "items", size=200).json()["nextCursor"] is None


def test_relation_objects_are_the_same_in_every_shape() -> None:
    video = next(a for a in _library().assets if a.kind == "video" and a.relations)
    relations = [get(f"/assets/{video.id}", shape).json()["relations"] for shape in SHAPES]
    assert relations[0] == relations[1] == relations[2]
    first = relations[0][0]
    assert first["type"] in RELATION_TYPES and first["target"] == video.relations[0].target
    assert {"timeIn", "timeOut"} <= set(first)


def _walk(shape: str, path: str, size: int) -> tuple[list[str], int]:
    """Follow a list to its end the way a client would; returns ids and the number of pages."""
    client, ids, pages = _client(shape), [], 0
    url: str | None = f"{ORIGIN}{BASE_PATH}{path}?size={size}"
    while url is not None:
        response = client.get(url, headers=AUTH)
        assert response.status_code == 200, response.text
        ids += [row[ID_FIELD[shape]] for row in rows(response, shape)]
        pages += 1
        if shape == "hal":
            url = response.json()["_links"].get("next", {}).get("href")
        elif shape == "array":
            link = response.headers.get("link")
            url = link.split(">")[0].lstrip("<") if link else None
        else:
            cursor = response.json()["nextCursor"]
            url = f"{ORIGIN}{BASE_PATH}{path}?size={size}&cursor={cursor}" if cursor else None
    return ids, pages


@pytest.mark.parametrize("shape", SHAPES)
def test_paging_through_all_assets(shape: str) -> None:
    ids, pages = _walk(shape, "/assets", 45)
    assert len(ids) == 320 and len(set(ids)) == 320 and pages == 8
    assert ids == [a.id for a in _library().assets]


@pytest.mark.parametrize("shape", SHAPES)
def test_big_album_pages_in_album_order(shape: str) -> None:
    album = max(_library().albums, key=lambda a: len(a.asset_ids))
    segment = f"/albums/{album.id}/assets"
    ids, pages = _walk(shape, segment, 20)
    assert ids == list(album.asset_ids) and pages >= 3


def test_album_query_filter() -> None:
    names = [a["name"] for a in get("/albums", q="PARIS").json()["_embedded"]["albums"]]
    assert names == ["Paris Street Life 2019"]
    by_description = [a["name"] for a in get("/albums", q="drone").json()["_embedded"]["albums"]]
    assert set(by_description) == {"Alpine Summer", "Coastal Drone Reels"}


# ------------------------------------------------------------------------------------------------
# Search


def test_search_france_expands_to_narrower_concepts() -> None:
    expected = ids_with_concepts("france")
    lib = _library()
    assert len(expected) >= 5
    assert all({"Paris", "Lyon", "Eiffel Tower"} & set(lib.asset(i).keywords) for i in expected)  # type: ignore[union-attr]
    assert set(search_names(q="France")) == expected
    assert set(search_names(q="Frankreich")) == expected
    assert set(search_names(q="france", shape="items")) == expected
    assert set(search_names(keyword="Frankreich")) == expected
    assert set(search_names(q="Paname")) == ids_with_concepts("paris") < expected


def test_search_terms_are_anded_and_ranked_by_name_then_date() -> None:
    ids = search_names(q="Eiffel Tower")
    lib = _library()
    assets = [lib.asset(i) for i in ids]
    assert ids and set(ids) == ids_with_concepts("eiffel_tower") | {
        a.id for a in lib.assets if "eiffel tower" in f"{a.name} {a.description}".lower()
    }
    name_hit = ["eiffel" in a.name.lower() for a in assets if a]
    assert name_hit == sorted(name_hit, reverse=True)
    both = set(search_names(q="Paris night"))
    assert both == {i for i in ids_with_concepts("paris") if i in ids_with_concepts("night")} | {
        a.id for a in lib.assets if a.id in ids_with_concepts("paris") and "night" in a.description.lower()
    }
    plain = search_names()
    created = [lib.asset(i).created for i in plain]  # type: ignore[union-attr]
    assert created == sorted(created, reverse=True)


def test_search_filters() -> None:
    lib = _library()
    assert set(search_names(type="video")) == {a.id for a in lib.assets if a.kind == "video"}
    assert get("/search/assets", type="VIDEO").json()["page"]["totalElements"] == 96
    drone = {a.id for a in lib.assets if "#drone" in a.labels}
    assert drone and set(search_names(label="drone")) == drone == set(search_names(label="#DRONE"))
    assert set(search_names(keyword="Hund")) == ids_with_concepts("dog")
    assert set(search_names(keyword="animals")) == ids_with_concepts("animals")
    in_2019 = {a.id for a in lib.assets if a.created.year == 2019}
    assert set(search_names(**{"from": "2019-01-01", "to": "2019-12-31"})) == in_2019
    after = {a.id for a in lib.assets if a.created >= datetime(2025, 6, 1, 12, tzinfo=UTC)}
    assert set(search_names(**{"from": "2025-06-01T12:00:00Z"})) == after
    album = lib.albums[1]
    assert set(search_names(album=album.id)) == set(album.asset_ids)
    combined = search_names(album=album.id, type="image", keyword="lake")
    assert combined and all(lib.asset(i).kind == "image" for i in combined)  # type: ignore[union-attr]
    assert search_names(q="zzzz-no-match") == []


# ------------------------------------------------------------------------------------------------
# Alternative routes


def test_alt_routes_move_search_and_album_assets() -> None:
    client = _client("hal", alt_routes=True)
    album = _library().albums[0]
    assert client.get(f"{BASE_PATH}/find/assets", params={"q": "France"}, headers=AUTH).status_code == 200
    assert client.get(f"{BASE_PATH}/search/assets", headers=AUTH).status_code == 404
    assert client.get(f"{BASE_PATH}/albums/{album.id}/contents", headers=AUTH).status_code == 200
    assert client.get(f"{BASE_PATH}/albums/{album.id}/assets", headers=AUTH).status_code == 404
    links = client.get(f"{BASE_PATH}/").json()["_links"]
    assert links["search"]["href"].startswith(f"{ORIGIN}/api/asset/find/assets{{?")
    assert links["albumAssets"]["href"] == f"{ORIGIN}/api/asset/albums/{{id}}/contents{{?page,size}}"


# ------------------------------------------------------------------------------------------------
# Previews


def _open(response: Reply) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    return image


def test_previews_are_jpegs_of_the_expected_size() -> None:
    lib = _library()
    landscape = next(a for a in lib.assets if a.kind == "image" and (a.width, a.height) == (4000, 3000))
    tall_video = next(a for a in lib.assets if a.kind == "video" and (a.width, a.height) == (1080, 1920))
    audio = next(a for a in lib.assets if a.kind == "audio")
    document = next(a for a in lib.assets if a.kind == "document" and a.preview_available)
    assert _open(get(f"/assets/{landscape.id}/preview")).size == (320, 240)
    assert _open(get(f"/assets/{landscape.id}/preview", size="large")).size == (1600, 1200)
    assert _open(get(f"/assets/{tall_video.id}/preview")).size == (180, 320)
    assert _open(get(f"/assets/{audio.id}/preview")).size == (320, 180)
    assert _open(get(f"/assets/{document.id}/preview")).size == (226, 320)
    assert get(f"/assets/{landscape.id}/preview").content == get(f"/assets/{landscape.id}/preview").content


def test_missing_preview_is_404() -> None:
    lib = _library()
    hidden = [a for a in lib.assets if not a.preview_available]
    assert hidden and all(a.kind == "document" for a in hidden)
    response = get(f"/assets/{hidden[0].id}/preview")
    assert response.status_code == 404 and response.json()["message"] == f"Asset '{hidden[0].id}' has no preview"
    assert get(f"/assets/{hidden[0].id}").json()["previewAvailable"] is False
    assert "preview" not in get(f"/assets/{hidden[0].id}").json()["_links"]
    assert get(f"/assets/{lib.assets[0].id}/preview", size="huge").status_code == 400
    assert get("/assets/nope/preview").status_code == 404


# ------------------------------------------------------------------------------------------------
# Async client and a real server process


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_client_over_asgi_transport() -> None:
    transport = httpx2.ASGITransport(app=create_app(shape="items"))
    async with httpx2.AsyncClient(transport=transport, base_url=ORIGIN, headers=AUTH) as client:
        first = (await client.get(f"{BASE_PATH}/search/assets", params={"q": "Hund", "size": 3})).json()
        second = (
            await client.get(
                f"{BASE_PATH}/search/assets", params={"q": "Hund", "size": 3, "cursor": first["nextCursor"]}
            )
        ).json()
    assert first["total"] == second["total"] == len(ids_with_concepts("dog"))
    assert not {a["assetId"] for a in first["items"]} & {a["assetId"] for a in second["items"]}


def _read_line(stream: Any, timeout: float) -> str:
    """One line from ``stream``, or "" after ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@pytest.fixture
def sandbox_process() -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "FOOTAGE_SANDBOX_TOKEN": "from-env"}
    process = subprocess.Popen(
        [sys.executable, "-m", "footage_mcp.sandbox", "--port", "0", "--shape", "array"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.slow
def test_serve_over_loopback(sandbox_process: subprocess.Popen[str]) -> None:
    line = _read_line(sandbox_process.stdout, timeout=20)
    assert line.startswith("READY http://127.0.0.1:") and line.rstrip().endswith("/api/asset"), line
    base_url = line.split()[1]
    root = httpx2.get(f"{base_url}/", timeout=5)
    assert root.status_code == 200
    assert root.json()["_links"]["self"]["href"] == f"{base_url}/"
    assert httpx2.get(f"{base_url}/albums", headers={"apiKey": "from-env"}, timeout=5).headers["x-total-count"] == "14"
    sandbox_process.terminate()
    assert sandbox_process.wait(timeout=10) == 0
    assert sandbox_process.stdout is not None and sandbox_process.stdout.read() == ""
    assert sandbox_process.stderr is not None
    stderr = sandbox_process.stderr.read()
    assert f"Footage sandbox: {base_url}  shape=array  token=from-env" in stderr
    assert f"export FOOTAGE_BASE_URL={base_url} FOOTAGE_API_TOKEN=from-env" in stderr


@pytest.mark.slow
def test_two_users_get_one_export_line_each() -> None:
    """A new user's trial: with two tokens the sandbox printed one export line with both, comma-joined: a
    token neither user has."""
    process = subprocess.Popen(
        [sys.executable, "-m", "footage_mcp.sandbox", "--port", "0", "--token", "alice-token-123,bob-token-4567"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    summary: list[str] = []
    try:
        base_url = _read_line(process.stdout, timeout=20).split()[1]
        for _ in range(20):  # the stderr summary comes after READY: read it up to its last line, "cdn: …"
            line = _read_line(process.stderr, timeout=20)
            summary.append(line)
            if not line or line.strip().startswith("cdn:"):
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    exports = [line.strip() for line in summary if line.strip().startswith("export ")]
    assert exports == [
        f"export FOOTAGE_BASE_URL={base_url} FOOTAGE_API_TOKEN=alice-token-123",
        f"export FOOTAGE_BASE_URL={base_url} FOOTAGE_API_TOKEN=bob-token-4567",
    ]


def test_a_new_index_after_a_write_folds_only_the_changed_asset_and_finds_its_new_text() -> None:
    """Re-indexing after a write (a new asset tuple, the unchanged assets the same objects) reuses their
    folded entries by identity; the changed asset is folded again, so its new name is found. (Before, every
    write folded all 320 assets again: about 60 ms each, 3 of test_writes.py's 15 CPU-seconds.)"""
    import dataclasses

    from footage_mcp.sandbox.library import Library, build_library
    from footage_mcp.sandbox.search import SearchIndex, parse_search
    from footage_mcp.sandbox.taxonomy import get_taxonomy

    taxonomy = get_taxonomy()
    before = build_library()
    old = before.assets[5]
    renamed = dataclasses.replace(old, name="Zyxwv quokka parade")
    after = Library(before.seed, before.albums, (*before.assets[:5], renamed, *before.assets[6:]))
    first, second = SearchIndex(before, taxonomy), SearchIndex(after, taxonomy)
    assert [a.id for a in second.search(parse_search({"q": "quokka"}, taxonomy))] == [old.id]
    assert first.search(parse_search({"q": "quokka"}, taxonomy)) == []
    assert " quokka " in second._entries[5].name and second._entries[5].name != first._entries[5].name
    reused = sum(a is b for a, b in zip(first._entries, second._entries, strict=True))
    assert reused == len(before.assets) - 1
