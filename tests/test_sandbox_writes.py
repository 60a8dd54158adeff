"""The sandbox's write routes over its ASGI app (Starlette's TestClient): every answer footage-api.md
expects (200/201/204, Location, ETag/If-Match, 409/412/413/415/422/428, OPTIONS/Allow), idempotency keys
honoured and ignored, after-commit write faults, the state dump and reset, and --data persistence across
restarts (also as a real subprocess)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN
from forkrun import warm_sandbox
from starlette.testclient import TestClient

from footage_mcp.sandbox import create_app

H = {"apiKey": TOKEN}
B = "/api/asset"


def client(**options: Any) -> tuple[TestClient, Any]:
    app = create_app(**options)
    return TestClient(app), app


def test_album_create_update_and_etags() -> None:
    http, app = client(shape="hal")
    created = http.post(f"{B}/albums", headers=H, json={"name": "Picks", "description": "d"})
    assert created.status_code == 201
    album_id = created.json()["id"]
    assert created.headers["location"] == f"http://testserver{B}/albums/{album_id}"
    got = http.get(f"{B}/albums/{album_id}", headers=H)
    etag = got.headers["etag"]
    assert got.json()["name"] == "Picks" and etag.startswith('"')
    stale = http.patch(f"{B}/albums/{album_id}", headers={**H, "If-Match": '"old"'}, json={"name": "X"})
    assert stale.status_code == 412 and app.state.store.library.album(album_id).name == "Picks"
    fresh = http.patch(f"{B}/albums/{album_id}", headers={**H, "If-Match": etag}, json={"name": "Picks 2"})
    assert fresh.status_code == 200 and fresh.json()["name"] == "Picks 2" and fresh.headers["etag"] != etag
    assert http.post(f"{B}/albums", headers=H, json={"name": "picks 2"}).status_code == 409
    assert http.post(f"{B}/albums", headers=H, json={"name": ""}).status_code == 422
    assert http.post(f"{B}/albums", headers=H, json={"name": "x" * 201}).status_code == 422
    assert http.patch(f"{B}/albums/{album_id}", headers=H, json={"owner": "me"}).status_code == 422


def test_items_shape_answers_creation_with_location_only_and_array_patch_with_204() -> None:
    http, _ = client(shape="items")
    created = http.post(f"{B}/albums", headers=H, json={"name": "Loc"})
    assert created.status_code == 201 and created.content == b"" and "/albums/" in created.headers["location"]
    http, app = client(shape="array")
    asset = app.state.store.library.assets[0]
    patched = http.patch(f"{B}/assets/{asset.id}", headers=H, json={"title": "New title"})
    assert patched.status_code == 204 and app.state.store.library.asset(asset.id).name == "New title"


def test_body_errors_415_413_422_and_428() -> None:
    http, app = client(shape="hal")
    asset = app.state.store.library.assets[0]
    url = f"{B}/assets/{asset.id}/labels"
    assert http.post(url, headers={**H, "Content-Type": "text/plain"}, content=b'{"labels":["#a"]}').status_code == 415
    big = b'{"labels":["#' + b"a" * 70_000 + b'"]}'
    assert http.post(url, headers={**H, "Content-Type": "application/json"}, content=big).status_code == 413
    assert http.post(url, headers=H, json={"labels": ["no hash"]}).status_code == 422
    assert http.post(url, headers=H, json={"labels": []}).status_code == 422
    assert http.post(f"{B}/assets/{asset.id}/keywords", headers=H, json={"keywords": ["Atlantis"]}).status_code == 422
    http.put("/_sandbox/writes", json={"if_match": "required"})
    assert http.patch(f"{B}/assets/{asset.id}", headers=H, json={"name": "n"}).status_code == 428
    assert app.state.store.library.asset(asset.id) == asset


def test_membership_labels_keywords_relations() -> None:
    http, app = client(shape="hal")
    lib = app.state.store.library
    album = lib.albums[0]
    outsider = next(a for a in lib.assets if album.id not in a.album_ids)
    added = http.post(f"{B}/albums/{album.id}/assets", headers=H, json={"assetIds": [outsider.id]})
    assert added.status_code == 200 and added.json()["added"] == [outsider.id]
    assert http.post(f"{B}/albums/{album.id}/assets", headers=H, json={"assetIds": ["nope"]}).status_code == 422
    assert http.delete(f"{B}/albums/{album.id}/assets/{outsider.id}", headers=H).status_code == 204
    assert http.delete(f"{B}/albums/{album.id}/assets/{outsider.id}", headers=H).status_code == 404
    keyworded = http.post(f"{B}/assets/{outsider.id}/keywords", headers=H, json={"keywords": ["lyon", "Frankreich"]})
    assert keyworded.status_code == 200 and keyworded.json()["keywords"][-2:] == ["Lyon", "France"]
    video = next(a for a in lib.assets if a.kind == "video")
    image = next(a for a in lib.assets if a.kind == "image")
    body = {"type": "segment", "target": video.id, "timeIn": 1}
    assert http.post(f"{B}/assets/{image.id}/relations", headers=H, json=body).status_code == 422  # times: video only
    assert (
        http.post(f"{B}/assets/{video.id}/relations", headers=H, json={**body, "target": video.id}).status_code == 422
    )
    ok = http.post(f"{B}/assets/{video.id}/relations", headers=H, json={"type": "variant", "target": image.id})
    assert ok.status_code == 201 and ok.json()["direction"] == "one-way"
    again = http.post(f"{B}/assets/{video.id}/relations", headers=H, json={"type": "variant", "target": image.id})
    assert again.status_code == 409


def test_options_names_methods_and_fields() -> None:
    http, app = client(shape="items", alt_routes=True)
    album = app.state.store.library.albums[0]
    answer = http.options(f"{B}/albums/{album.id}/contents", headers=H)
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert answer.json()["accepts"] == {"POST": {"ids": "array"}}
    asset = app.state.store.library.assets[0]
    assert http.options(f"{B}/assets/{asset.id}/tags", headers=H).headers["allow"] == "DELETE, OPTIONS, POST"
    assert http.options(f"{B}/assets/{asset.id}", headers=H).headers["allow"] == "GET, HEAD, OPTIONS, PATCH"
    assert http.options(f"{B}/assets/{asset.id}/labels", headers=H).status_code == 404  # moved
    assert http.options(f"{B}/albums", headers={}).status_code == 401


@pytest.mark.parametrize("mode", ["honour", "ignore"])
def test_idempotency_keys(mode: str) -> None:
    http, app = client(shape="hal")
    http.put("/_sandbox/writes", json={"idempotency": mode})
    key = {"Idempotency-Key": "k-1"}
    first = http.post(f"{B}/albums", headers={**H, **key}, json={"name": "Once"})
    second = http.post(f"{B}/albums", headers={**H, **key}, json={"name": "Once"})
    names = [a.name for a in app.state.store.library.albums]
    if mode == "honour":
        assert first.headers["idempotency-key"] == "k-1"
        assert second.status_code == 201 and second.headers["idempotent-replayed"] == "true"
        assert second.json()["id"] == first.json()["id"] and names.count("Once") == 1
    else:
        assert "idempotency-key" not in first.headers
        assert second.status_code == 409 and names.count("Once") == 1


def test_after_commit_faults_and_bad_fault_documents() -> None:
    http, app = client(shape="hal")
    asset = app.state.store.library.assets[1]
    http.put("/_sandbox/writes", json={"faults": [{"match": "/labels$", "status": 503, "times": 1}]})
    failed = http.post(f"{B}/assets/{asset.id}/labels", headers=H, json={"labels": ["#late"]})
    assert failed.status_code == 503 and "#late" in app.state.store.library.asset(asset.id).labels
    assert http.get("/_sandbox/writes").json()["applied"] == [1]
    for bad in ({"faults": [{"match": "x", "status": 404}]}, {"idempotency": "maybe"}, {"faults": [{"x": 1}]}):
        assert http.put("/_sandbox/writes", json=bad).status_code == 400


def test_state_dump_and_reset() -> None:
    http, _ = client(shape="array")
    seed = http.get("/_sandbox/state").json()
    http.post(f"{B}/albums", headers=H, json={"name": "Temp"})
    assert len(http.get("/_sandbox/state").json()["albums"]) == len(seed["albums"]) + 1
    assert http.post("/_sandbox/reset").json() == {"reset": True}
    assert http.get("/_sandbox/state").json() == seed


def test_data_file_keeps_state_across_apps(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.db"
    http, app = client(shape="hal", data_file=str(data))
    asset = app.state.store.library.assets[0]
    album_id = http.post(f"{B}/albums", headers=H, json={"name": "Kept"}).json()["id"]
    http.post(f"{B}/assets/{asset.id}/labels", headers=H, json={"labels": ["#kept"]})
    again, _ = client(shape="items", data_file=str(data))
    assert again.get(f"{B}/albums/{album_id}", headers=H).json()["name"] == "Kept"
    assert "#kept" in again.get(f"{B}/assets/{asset.id}", headers=H).json()["labels"]
    assert "Kept" in [a["name"] for a in again.get(f"{B}/albums?q=Kept", headers=H).json()["items"]]


@pytest.mark.slow
def test_data_flag_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "demo.db"
    with warm_sandbox(data_file=data) as first:
        made = httpx2.post(first.base_url + "/albums", headers=H, json={"name": "Restarted"}, timeout=10)
        assert made.status_code == 201
    with warm_sandbox(data_file=data) as second:
        album = httpx2.get(second.base_url + f"/albums/{made.json()['id']}", headers=H, timeout=10)
    assert album.status_code == 200 and album.json()["name"] == "Restarted"


def test_write_control_routes_are_loopback_only() -> None:
    app = create_app()
    remote = TestClient(app, client=("203.0.113.7", 5000))
    for method, path in (("GET", "/_sandbox/writes"), ("GET", "/_sandbox/state"), ("POST", "/_sandbox/reset")):
        response = remote.request(method, path)
        assert response.status_code == 403 and "loopback" in response.json()["message"]


def test_apps_share_the_built_library_and_never_each_others_writes() -> None:
    """create_app starts from shared_library (albums and assets built once per process) and its folded
    search entries; a write in one app (a new album, new labels that search finds, an upload) shows in
    that app only."""
    from footage_mcp.sandbox.library import build_library, shared_library

    assert shared_library() is not shared_library() and shared_library() == build_library()
    (one, one_app), (two, two_app) = client(shape="hal"), client(shape="hal")
    assert one_app.state.store.library.assets is two_app.state.store.library.assets  # shared until a write
    asset = one_app.state.store.library.assets[0]
    assert one.post(f"{B}/albums", headers=H, json={"name": "Only in one"}).status_code == 201
    labelled = one.post(f"{B}/assets/{asset.id}/labels", headers=H, json={"labels": ["#zebrafinch"]})
    assert labelled.status_code in (200, 204), labelled.text

    def names(http: TestClient) -> set[str]:
        return {
            a["name"] for a in http.get(f"{B}/albums", headers=H, params={"size": 100}).json()["_embedded"]["albums"]
        }

    def hits(http: TestClient) -> int:
        return int(
            http.get(f"{B}/search/assets", headers=H, params={"q": "zebrafinch"}).json()["page"]["totalElements"]
        )

    assert "Only in one" in names(one) and "Only in one" not in names(two)
    assert (hits(one), hits(two)) == (1, 0)
    uploaded = one.post(f"{B}/assets", headers=H, files={"files": ("only-in-one.txt", b"hello", "text/plain")})
    assert uploaded.status_code in (200, 201), uploaded.text

    def total(http: TestClient) -> int:
        return int(http.get(f"{B}/assets", headers=H).json()["page"]["totalElements"])

    assert (total(one), total(two)) == (321, 320)
    assert shared_library().asset(asset.id) == build_library().asset(asset.id)  # the shared one is unchanged
    assert client(shape="hal")[1].state.store.library == build_library()  # a new app starts clean
