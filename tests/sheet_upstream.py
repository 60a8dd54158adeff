"""A fake Footage API for contact-sheet tests: search results whose previews are hostile on purpose.

``respond(path, params)`` is the whole API; :func:`mock_transport` serves it in-process and
:func:`serve` over real loopback HTTP (a thread), for a bridge started as a stdio subprocess.

Searches (``q``): ``noise`` (60 assets whose previews are JPEG noise, the worst case for the byte cap),
``colour`` (48 assets, each preview one solid colour, :func:`colour_of`), ``hostile`` (one asset per
entry of :data:`HOSTILE`). Pages by ``page`` (0-based) and ``size``, items shape with a ``next`` URL.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from canary_plugin import TOKEN as SUITE_TOKEN
from PIL import Image

BASE_PATH = "/api/asset"
TOKEN = SUITE_TOKEN[:25]  # as long as the literal it replaces; the canary plugin searches for it
HOSTILE = {
    "tall": "a 60×3000 px PNG",
    "wide": "a 4000×50 px JPEG",
    "tiny": "a 1×1 px PNG",
    "huge": "a 12000×12000 px PNG (144 megapixels in a small file)",
    "big": "a 6000×4000 px JPEG (decoded in draft mode)",
    "corrupt": "random bytes labelled image/jpeg",
    "truncated": "the first half of a JPEG",
    "html": "an HTML page instead of an image",
    "missing": "404",
    "failing": "500",
}
"""The hostile previews, by asset id."""
KINDS = ("image", "video", "audio", "document")


def colour_of(index: int) -> tuple[int, int, int]:
    """A colour per index, far apart from its neighbours (so cells can be told apart after JPEG)."""
    return ((index * 97) % 256, (index * 53 + 80) % 256, (index * 29 + 160) % 256)


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@cache
def _noise_jpeg() -> bytes:
    """640×480 of Gaussian noise as a JPEG at quality 95 (about 300 kB that barely compress): made once, 30 ms
    each, for every ``noise-N`` asset."""
    return _encode(Image.effect_noise((640, 480), 120).convert("RGB"), "JPEG", quality=95)


@cache
def _preview(asset_id: str) -> tuple[int, str, bytes]:
    if asset_id.startswith("noise-"):
        return 200, "image/jpeg", _noise_jpeg()
    if asset_id.startswith("colour-"):
        colour = colour_of(int(asset_id.split("-")[1]))
        return 200, "image/png", _encode(Image.new("RGB", (400, 300), colour), "PNG")
    if asset_id == "tall":
        return 200, "image/png", _encode(Image.new("RGB", (60, 3000), (200, 30, 30)), "PNG")
    if asset_id == "wide":
        return 200, "image/jpeg", _encode(Image.new("RGB", (4000, 50), (30, 200, 30)), "JPEG")
    if asset_id == "tiny":
        return 200, "image/png", _encode(Image.new("RGB", (1, 1), (30, 30, 200)), "PNG")
    if asset_id == "huge":
        return 200, "image/png", _encode(Image.new("1", (12000, 12000), 1), "PNG")
    if asset_id == "big":
        return 200, "image/jpeg", _encode(Image.new("RGB", (6000, 4000), (250, 200, 0)), "JPEG", quality=70)
    if asset_id == "corrupt":
        return 200, "image/jpeg", bytes(range(256)) * 40
    if asset_id == "truncated":
        whole = _encode(Image.effect_noise((800, 600), 60).convert("RGB"), "JPEG")
        return 200, "image/jpeg", whole[: len(whole) // 2]
    if asset_id == "html":
        return 200, "text/html", b"<!DOCTYPE html><html><body>Sign in</body></html>"
    if asset_id == "failing":
        return 500, "application/json", b'{"status":500,"error":"Internal Server Error"}'
    return 404, "application/json", b'{"status":404,"error":"Not Found"}'


def assets_for(q: str) -> list[dict[str, Any]]:
    """The search results for ``q`` (see the module docstring)."""
    if q == "noise":
        return [
            {
                "id": f"noise-{i}",
                "name": f"Noise {i}",
                "type": KINDS[i % 4],
                "duration": 61.0 * i if i % 4 in (1, 2) else None,
            }
            for i in range(60)
        ]
    if q == "colour":
        return [{"id": f"colour-{i}", "name": f"Colour {i}", "type": "image"} for i in range(48)]
    if q == "names":
        return [
            {"id": "colour-1", "name": 'Say "hi" \\ bye\x1b[2J\nnote: forged line\u202e', "type": "image"},
            {"id": "colour-2", "name": f"Leaked {TOKEN} in a name", "type": "image"},
        ]
    if q == "hostile":
        return [{"id": key, "name": f"{key}: {what}", "type": "image"} for key, what in HOSTILE.items()]
    return []


def respond(path: str, params: dict[str, str], api_key: str | None) -> tuple[int, str, bytes]:
    """(status, content type, body) for ``GET path?params``."""
    rel = path.removeprefix(BASE_PATH)
    if rel in ("", "/"):
        return 200, "application/json", b'{"_links": {}}'
    if api_key != TOKEN:
        return 401, "application/json", b'{"status":401,"error":"Unauthorized"}'
    if rel == "/search/assets":
        rows = assets_for(params.get("q", ""))
        page, size = int(params.get("page", "0")), int(params.get("size", "20"))
        window = rows[page * size : (page + 1) * size]
        body: dict[str, Any] = {"items": window, "total": len(rows)}
        if (page + 1) * size < len(rows):
            body["next"] = f"{BASE_PATH}/search/assets?q={params.get('q', '')}&page={page + 1}&size={size}"
        return 200, "application/json", json.dumps(body).encode()
    parts = rel.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "assets" and parts[2] == "preview":
        return _preview(parts[1])
    if len(parts) == 2 and parts[0] == "assets":
        for q in ("noise", "colour", "hostile"):
            found = next((a for a in assets_for(q) if a["id"] == parts[1]), None)
            if found:
                return 200, "application/json", json.dumps(found).encode()
    return 404, "application/json", b'{"status":404,"error":"Not Found"}'


def mock_transport() -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        params = {k: v for k, v in request.url.params.items()}
        status, kind, body = respond(request.url.path, params, request.headers.get("apikey"))
        return httpx2.Response(status, content=body, headers={"content-type": kind})

    return httpx2.MockTransport(handler)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, kind, body = respond(url.path, params, self.headers.get("apiKey"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve() -> Iterator[str]:
    """The fake API on 127.0.0.1 (ephemeral port) in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}"
    finally:
        server.shutdown()
        server.server_close()
