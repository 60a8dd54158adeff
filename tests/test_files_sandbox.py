"""The sandbox's file side in process (httpx2.ASGITransport): originals of the declared size with Range,
ETag and Content-Disposition, real images at the declared pixels, renditions listed in every shape, the
CDN app refusing credentials, multipart uploads that become searchable assets, 413, file faults."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN
from PIL import Image

from footage_mcp.sandbox.app import create_app
from footage_mcp.sandbox.files import FileStore, create_cdn_app
from footage_mcp.sandbox.library import shared_library

pytestmark = pytest.mark.anyio

AUTH = {"apiKey": TOKEN}
LIB = shared_library()
BASE = "http://sandbox.test/api/asset"
CDN = "http://cdn.test"


def smallest(kind: str, mime: str | None = None) -> Any:
    return min(
        (a for a in LIB.assets if a.kind == kind and (mime is None or a.mime_type == mime)), key=lambda a: a.size_bytes
    )


@asynccontextmanager
async def sandbox(shape: str = "hal", cdn: bool = False) -> AsyncIterator[tuple[httpx2.AsyncClient, FileStore]]:
    app = create_app(shape=shape)
    store: FileStore = app.state.files
    if cdn:
        store.cdn_origin = CDN
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://sandbox.test") as client:
        yield client, store


@pytest.mark.parametrize("shape", ["hal", "array"])
async def test_a_listed_checksum_is_the_originals_sha256_or_absent(shape: str) -> None:
    """A generated original streams and is never hashed whole, so the sandbox lists no checksum for it (a
    random one made a download look corrupt to a user who checked it: found by a new-user trial); an
    upload's is the SHA-256 of the bytes it stored."""
    doc = smallest("document")
    field, prefix = ("checksum", "sha256:") if shape == "hal" else ("checksum_sha256", "")
    body, content_type = multipart([("notes.pdf", b"%PDF-1.4 checksum", "application/pdf")], {})
    async with sandbox(shape) as (client, _):
        generated = (await client.get(f"{BASE}/assets/{doc.id}", headers=AUTH)).json()
        assert generated.get(field) is None
        created = await client.post(f"{BASE}/assets", content=body, headers={**AUTH, "Content-Type": content_type})
        new_id = created.headers["location"].rsplit("/", 1)[-1]
        uploaded = (await client.get(f"{BASE}/assets/{new_id}", headers=AUTH)).json()
        original = await client.get(f"{BASE}/assets/{new_id}/original", headers=AUTH)
    assert uploaded[field] == prefix + hashlib.sha256(original.content).hexdigest()
    assert original.content == b"%PDF-1.4 checksum"


async def test_original_is_the_declared_size_with_validators() -> None:
    doc = smallest("document")
    async with sandbox() as (client, _):
        response = await client.get(f"{BASE}/assets/{doc.id}/original", headers=AUTH)
        assert response.status_code == 200 and len(response.content) == doc.size_bytes
        assert response.headers["content-length"] == str(doc.size_bytes)
        assert response.headers["etag"] == f'"{doc.id}-o-{doc.size_bytes}"'
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-type"] == doc.mime_type
        assert response.headers["content-disposition"].startswith('attachment; filename="')
        assert "filename*=UTF-8''" in response.headers["content-disposition"]
        again = await client.get(f"{BASE}/assets/{doc.id}/original", headers=AUTH)
        assert again.content == response.content  # deterministic

        ranged = await client.get(f"{BASE}/assets/{doc.id}/original", headers={**AUTH, "Range": "bytes=100-199"})
        assert ranged.status_code == 206 and ranged.content == response.content[100:200]
        assert ranged.headers["content-range"] == f"bytes 100-199/{doc.size_bytes}"
        tail = await client.get(f"{BASE}/assets/{doc.id}/original", headers={**AUTH, "Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == response.content[-10:]
        still = await client.get(
            f"{BASE}/assets/{doc.id}/original",
            headers={**AUTH, "Range": "bytes=100-", "If-Range": response.headers["etag"]},
        )
        assert still.status_code == 206 and still.content == response.content[100:]
        changed = await client.get(
            f"{BASE}/assets/{doc.id}/original", headers={**AUTH, "Range": "bytes=100-", "If-Range": '"other"'}
        )
        assert changed.status_code == 200 and changed.content == response.content
        beyond = await client.get(
            f"{BASE}/assets/{doc.id}/original", headers={**AUTH, "Range": f"bytes={doc.size_bytes}-"}
        )
        assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{doc.size_bytes}"
        head = await client.head(f"{BASE}/assets/{doc.id}/original", headers=AUTH)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(doc.size_bytes)
        unauthorized = await client.get(f"{BASE}/assets/{doc.id}/original")
        assert unauthorized.status_code == 401
        missing = await client.get(f"{BASE}/assets/nope/original", headers=AUTH)
        assert missing.status_code == 404 and missing.json()["message"] == "Asset 'nope' not found"


async def test_an_image_original_is_a_real_image_of_the_declared_pixels() -> None:
    image = smallest("image", "image/jpeg")
    async with sandbox() as (client, _):
        response = await client.get(f"{BASE}/assets/{image.id}/original", headers=AUTH)
    assert len(response.content) == image.size_bytes
    with Image.open(io.BytesIO(response.content)) as decoded:
        assert decoded.format == "JPEG" and decoded.size == (image.width, image.height)


@pytest.mark.parametrize("shape", ["hal", "array", "items"])
async def test_assets_list_renditions_and_download_links(shape: str) -> None:
    image, video = smallest("image"), smallest("video")
    async with sandbox(shape, cdn=True) as (client, store):
        image_body = (await client.get(f"{BASE}/assets/{image.id}", headers=AUTH)).json()
        video_body = (await client.get(f"{BASE}/assets/{video.id}", headers=AUTH)).json()
        on_cdn = store.on_cdn(image)
    assert on_cdn  # the smallest image is one of the CDN's (by its id)
    if shape == "hal":
        assert image_body["_links"]["download"]["href"].startswith(CDN + "/files/")
        assert [r["name"] for r in image_body["renditions"]] == ["web", "thumbnail"]
        assert [r["name"] for r in image_body["_links"]["renditions"]] == ["web", "thumbnail"]
        assert [r["name"] for r in video_body["renditions"]][:1] == ["proxy"]
    elif shape == "array":
        assert image_body["download_url"].startswith(CDN + "/files/")
        assert [r["name"] for r in image_body["renditions"]] == ["web", "thumbnail"]
        assert video_body["renditions"][0]["size_bytes"].isdigit()
    else:
        assert image_body["downloadUrl"].startswith(CDN + "/files/")
        assert set(image_body["renditions"]) == {"web", "thumbnail"}
        assert "downloadUrl" not in video_body or store.on_cdn(video)
    web = image_body["renditions"]["web"] if shape == "items" else image_body["renditions"][0]
    assert web.get("width") == 1600 or web.get("height") == 1600


async def test_renditions_are_served() -> None:
    image, video = smallest("image"), smallest("video")
    async with sandbox() as (client, _):
        body = (await client.get(f"{BASE}/assets/{image.id}", headers=AUTH)).json()
        declared = {r["name"]: r for r in body["renditions"]}
        web = await client.get(f"{BASE}/assets/{image.id}/renditions/web", headers=AUTH)
        assert web.status_code == 200 and len(web.content) == declared["web"]["fileSize"]
        with Image.open(io.BytesIO(web.content)) as decoded:
            assert decoded.size == (declared["web"]["width"], declared["web"]["height"])
        proxy = await client.head(f"{BASE}/assets/{video.id}/renditions/proxy", headers=AUTH)
        assert proxy.status_code == 200 and proxy.headers["content-type"] == "video/mp4"
        none = await client.get(f"{BASE}/assets/{image.id}/renditions/proxy", headers=AUTH)
        assert none.status_code == 404 and none.json()["message"] == f"Asset '{image.id}' has no rendition 'proxy'"


async def test_the_cdn_refuses_credentials_and_bad_signatures() -> None:
    image = smallest("image")
    async with sandbox(cdn=True) as (client, store):
        url = (await client.get(f"{BASE}/assets/{image.id}", headers=AUTH)).json()["_links"]["download"]["href"]
        path = url.removeprefix(CDN)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(create_cdn_app(store)), base_url=CDN) as cdn:
            plain = await cdn.get(path)
            assert plain.status_code == 200 and len(plain.content) == image.size_bytes
            with_token = await cdn.get(path, headers=AUTH)
            assert with_token.status_code == 403
            assert with_token.json()["message"] == "This storage refuses requests that carry credentials"
            bearer = await cdn.get(path, headers={"Authorization": "Bearer x"})
            assert bearer.status_code == 403
            forged = await cdn.get(path.split("?")[0] + "?sig=0000")
            assert forged.status_code == 403 and forged.json()["message"] == "Signature does not match"
        log = store.cdn_requests
        assert [entry["status"] for entry in log] == [200, 403, 403, 403]
        assert log[1]["headers"]["apikey"] == TOKEN  # the log shows what a leaking client sent


def multipart(files: list[tuple[str, bytes, str]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    boundary = "testboundary1234"
    out = bytearray()
    for name, value in (fields or {}).items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for filename, data, mime in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            f"Content-Type: {mime}\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 60, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("shape", ["hal", "array", "items"])
async def test_upload_creates_searchable_assets_with_previews(shape: str) -> None:
    album = LIB.albums[0]
    picture = jpeg((640, 360))
    body, content_type = multipart(
        [("Zebra crossing, Zürich.jpg", picture, "image/jpeg"), ("memo.pdf", b"%PDF-1.4 test", "application/pdf")],
        {"album": album.id},
    )
    async with sandbox(shape) as (client, store):
        response = await client.post(f"{BASE}/assets", content=body, headers={**AUTH, "Content-Type": content_type})
        assert response.status_code == 201
        created = response.json()
        rows = created["_embedded"]["assets"] if shape == "hal" else created if shape == "array" else created["items"]
        assert len(rows) == 2
        new_id = store.library.assets[1].id  # the first file (newest first: the pdf is at 0)
        assert response.headers["location"].endswith(f"/assets/{new_id}")
        asset = store.library.asset(new_id)
        assert asset is not None and asset.name == "Zebra crossing, Zürich.jpg"
        assert (asset.kind, asset.mime_type, asset.size_bytes, asset.width, asset.height) == (
            "image",
            "image/jpeg",
            len(picture),
            640,
            360,
        )
        assert asset.checksum == hashlib.sha256(picture).hexdigest() and asset.album_ids == (album.id,)
        found = await client.get(f"{BASE}/search/assets", params={"q": "zebra"}, headers=AUTH)
        text = json.dumps(found.json())
        assert new_id in text
        in_album = await client.get(f"{BASE}/albums/{album.id}/assets", params={"size": 200}, headers=AUTH)
        assert new_id in json.dumps(in_album.json())
        preview = await client.get(f"{BASE}/assets/{new_id}/preview", headers=AUTH)
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
        original = await client.get(f"{BASE}/assets/{new_id}/original", headers=AUTH)
        assert original.content == picture
        labels = await client.post(
            f"{BASE}/assets/{new_id}/labels", json={"labels": ["#new", "#new", "#drone"]}, headers=AUTH
        )
        assert labels.status_code == 200, labels.text  # an uploaded asset takes labels like any other
        assert store.library.asset(new_id).labels == ("#new", "#drone")  # type: ignore[union-attr]


async def test_upload_limits_and_malformed_bodies() -> None:
    body, content_type = multipart([("big.jpg", b"x" * 5000, "image/jpeg")])
    async with sandbox() as (client, store):
        store.max_upload_bytes = 1000
        too_big = await client.post(f"{BASE}/assets", content=body, headers={**AUTH, "Content-Type": content_type})
        assert too_big.status_code == 413
        assert too_big.json()["message"] == "Maximum upload size exceeded (1000 bytes)"

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: refused while streaming
            for start in range(0, len(body), 512):
                yield body[start : start + 512]

        streamed = await client.post(
            f"{BASE}/assets", content=chunked(), headers={**AUTH, "Content-Type": content_type}
        )
        assert streamed.status_code == 413
        assert list(store.folder.iterdir()) == []  # the partial file was deleted
        store.max_upload_bytes = 10**9
        no_files, ct = multipart([], {"album": "x"})
        missing = await client.post(f"{BASE}/assets", content=no_files, headers={**AUTH, "Content-Type": ct})
        assert missing.status_code == 400 and missing.json()["message"] == "Required part 'files' is not present"
        not_multipart = await client.post(
            f"{BASE}/assets", content=b"{}", headers={**AUTH, "Content-Type": "text/json"}
        )
        assert not_multipart.status_code == 415


async def test_file_fault_rules_are_validated_and_applied() -> None:
    doc = smallest("document")
    async with sandbox() as (client, store):
        bad = await client.put("/_sandbox/file-faults", json={"rules": [{"match": "x", "fault": "explode"}]})
        assert bad.status_code == 400 and "'fault' must be one of drop, status, slow" in bad.json()["message"]
        good = await client.put(
            "/_sandbox/file-faults",
            json={"rules": [{"match": "/original$", "fault": "status", "status": 503, "times": 1}]},
        )
        assert good.json() == {
            "rules": [{"match": "/original$", "fault": "status", "status": 503, "times": 1}],
            "applied": [0],
        }
        failed = await client.get(f"{BASE}/assets/{doc.id}/original", headers=AUTH)
        assert failed.status_code == 503
        fine = await client.get(f"{BASE}/assets/{doc.id}/original", headers=AUTH)
        assert fine.status_code == 200
        info = (await client.get("/_sandbox/files")).json()
        assert info["max_upload_bytes"] == store.max_upload_bytes and info["cdn_origin"] is None
        assert info["uploads_folder"] == str(store.folder) and store.folder.is_dir()
