"""``footage-mcp probe`` against the sandbox (a real loopback subprocess) in every shape and with moved
routes: only GET/HEAD/OPTIONS are sent, the profile holds structure and no value of the library, and the
suggested TOML round-trips through FOOTAGE_ROUTES; with it loaded and the discovery root failing, the
bridge (real stdio) still finds the moved routes, reads and writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN
from forkrun import run, warm_parameters, warm_sandbox
from mcp import Client

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters, child_env
from footage_mcp.cli.probe import SAFE_METHODS, Prober, suggest
from footage_mcp.core.settings import Settings
from footage_mcp.rest.discovery import build_route_map, split_method
from footage_mcp.rest.http import RestClient
from footage_mcp.sandbox.library import shared_library
from footage_mcp.sandbox.taxonomy import get_taxonomy
from tests.writes_helpers import structured

pytestmark = [pytest.mark.anyio]

LIB = shared_library()
VARIANTS = [("hal", False), ("array", False), ("items", False), ("items", True)]


def library_values() -> set[str]:
    """Every id, name, description, label and keyword of the sandbox's library and taxonomy."""
    values: set[str] = {TOKEN}
    for album in LIB.albums:
        values |= {album.id, album.name, album.description, *album.labels, *album.keywords}
    for asset in LIB.assets:
        values |= {asset.id, asset.name, asset.description, asset.mime_type, *asset.labels, *asset.keywords}
    for concept in get_taxonomy().concepts.values():
        values |= {concept.en, concept.de, concept.fr, *concept.synonyms}
    return {v for v in values if v}


def strings_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value} | set().union(*(strings_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(strings_of(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def run_probe(sandbox: RunningSandbox, out: Path) -> subprocess.CompletedProcess[str]:
    env = child_env({"FOOTAGE_BASE_URL": sandbox.base_url, "FOOTAGE_API_TOKEN": sandbox.token, "PYTHONUTF8": "1"})
    return run(["probe", "--out", str(out)], env, timeout=120)


def control(sandbox: RunningSandbox, method: str, path: str, body: Any = None) -> Any:
    response = httpx2.request(
        method, sandbox.base_url.removesuffix("/api/asset") + "/_sandbox/" + path, json=body, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.slow
@pytest.mark.parametrize(("shape", "alt"), VARIANTS, ids=[f"{s}{'-alt' if a else ''}" for s, a in VARIANTS])
def test_probe_profile_is_structure_only(shape: str, alt: bool, tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    with warm_sandbox(shape=shape, alt_routes=alt) as sandbox:
        control(sandbox, "DELETE", "requests")
        done = run_probe(sandbox, out)
        sent = control(sandbox, "GET", "requests")
        state_after = control(sandbox, "GET", "state")
    assert done.returncode == 0, done.stderr
    assert {r["method"] for r in sent} <= SAFE_METHODS and "OPTIONS" in {r["method"] for r in sent}
    assert len(sent) >= 10
    text = out.read_text(encoding="utf-8")
    profile = json.loads(text)
    leaked = strings_of(profile) & library_values()
    assert leaked == set()
    assert not any(a.id in text for a in LIB.assets) and not any(a.id in text for a in LIB.albums)
    assert TOKEN not in text and TOKEN not in done.stdout + done.stderr
    # what the profile does say
    family = {"hal": "hal", "array": "array", "items": "items"}[shape]
    assert profile["lists"]["albums"]["family"] == family and profile["lists"]["assets"]["family"] == family
    assert "name" in profile["objects"]["album"]["fields"] or "title" in profile["objects"]["album"]["fields"]
    assert profile["objects"]["asset"]["etag"] is True
    assert "PATCH" in profile["objects"]["asset"]["options"]["allow"]
    for key in ("createAlbum", "addToAlbum", "assetLabels", "assetKeywords", "relations"):
        assert "POST" in profile["write_routes"][key]["allow"], key
    assert "DELETE" in profile["write_routes"]["removeFromAlbum"]["allow"]
    assert {"labels"} == set(profile["write_routes"]["assetLabels"]["accepts"]["POST"])
    # nothing was changed by probing
    assert state_after == control_state_of_seed()
    # the suggestion: nothing but the size parameters of the preview and of the keyword route differ from
    # the default routes
    if not alt and shape == "hal":
        assert done.stdout.splitlines()[3:] == [
            'assetPreview = "/assets/{id}/preview{?size}"',
            'keywords = "/keywords{?q,lang,size}"',
        ]


def control_state_of_seed() -> dict[str, Any]:
    from footage_mcp.sandbox.store import Store

    return Store(LIB).dump()


@pytest.mark.slow
def test_suggestion_for_moved_routes_round_trips_and_survives_a_failing_root(tmp_path: Path) -> None:
    out, routes = tmp_path / "profile.json", tmp_path / "routes.toml"
    album = LIB.albums[0]
    outsider = next(a.id for a in LIB.assets if album.id not in a.album_ids)
    target = LIB.assets[3]
    with warm_sandbox(shape="items", alt_routes=True) as sandbox:
        done = run_probe(sandbox, out)
        assert done.returncode == 0, done.stderr
        routes.write_text(done.stdout, encoding="utf-8")
        suggested = {
            line.split(" = ")[0].strip('"'): json.loads(line.split(" = ", 1)[1])
            for line in done.stdout.splitlines()
            if " = " in line
        }
        assert suggested["search"].startswith("/find/assets{?") and suggested["addToAlbum.assetIds"] == "ids"
        assert suggested["assetLabels"] == "POST /assets/{id}/tags"
        # round trip: the file loads through FOOTAGE_ROUTES and gives exactly the suggested routes
        overrides = Settings(routes=routes).route_overrides()
        assert overrides == suggested
        mapped = build_route_map(sandbox.base_url, [], overrides)
        for key, value in suggested.items():
            if "." in key:
                continue
            method, template = split_method(value)
            assert (mapped[key].method, mapped[key].template, mapped[key].source) == (method, template, "config")

        control(sandbox, "PUT", "faults", {"rules": [{"match": "^/?$", "status": 503}]})
        control(sandbox, "DELETE", "requests")
        env = {"FOOTAGE_ROUTES": str(routes), "FOOTAGE_ALLOW_WRITES": "true", "FOOTAGE_MAX_RETRIES": "0"}

        async def drive() -> None:
            async with Client(
                warm_parameters(bridge_parameters(sandbox.base_url, sandbox.token, env)), mode="legacy"
            ) as client:
                found = structured(await client.call_tool("search_assets", {"query": "Paris", "limit": 5}))
                assert found["assets"]
                members = structured(await client.call_tool("list_album_assets", {"album_id": album.id, "limit": 3}))
                assert [a["id"] for a in members["assets"]] == list(album.asset_ids[:3])
                added = structured(
                    await client.call_tool("add_to_album", {"album_id": album.id, "asset_ids": [outsider]})
                )
                assert added["status"] == "done", added
                labelled = structured(
                    await client.call_tool("add_labels", {"asset_ids": [target.id], "labels": ["moved"]})
                )
                assert labelled["status"] == "done", labelled
                keyworded = structured(
                    await client.call_tool("add_keywords", {"asset_ids": [target.id], "keywords": ["Lyon"]})
                )
                assert keyworded["status"] == "done", keyworded

        import anyio

        anyio.run(drive)
        sent = control(sandbox, "GET", "requests")
        state = control(sandbox, "GET", "state")
    assert any(r["path"] in ("/api/asset", "/api/asset/") and r["outcome"] == "fault:status" for r in sent)
    paths = {(r["method"], r["path"]) for r in sent}
    assert ("POST", f"/api/asset/albums/{album.id}/contents") in paths
    assert ("POST", f"/api/asset/assets/{target.id}/tags") in paths
    assert ("POST", f"/api/asset/assets/{target.id}/concepts") in paths
    asset = next(a for a in state["assets"] if a["id"] == target.id)
    assert "#moved" in asset["labels"] and asset["keywords"][-1] == "Lyon"
    assert next(a for a in state["albums"] if a["id"] == album.id)["asset_ids"][-1] == outsider


async def test_probe_refuses_every_other_method() -> None:
    async with RestClient(Settings(api_token="t", base_url="http://127.0.0.1:9/api/asset")) as rest:
        prober = Prober(rest)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            with pytest.raises(ValueError, match="probe sends only"):
                await prober.request(method, "http://127.0.0.1:9/api/asset/albums")


def test_suggestion_of_a_default_api_is_empty() -> None:
    profile = {
        "root": {"links": [{"name": "albums", "route_key": "albums", "template": "/albums{?q,page,size}"}]},
        "write_routes": {"addToAlbum": {"method": "POST", "template": "/albums/{id}/assets", "source": "default"}},
    }
    assert suggest(profile).splitlines()[-1] == "[routes]"


def test_probe_without_token_says_how(tmp_path: Path) -> None:
    env = child_env({"FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "PYTHONUTF8": "1"})
    done = run(["probe", "--out", str(tmp_path / "p.json")], env, timeout=60)
    assert done.returncode == 2 and "FOOTAGE_API_TOKEN" in done.stderr and done.stdout == ""


async def test_the_profile_holds_no_form_or_piece_of_the_token_even_when_the_api_echoes_it() -> None:
    """Found by a breaking run: a root whose link names and hrefs carried the token's base64, hex or first
    12 characters, and a 401 body echoing them, reached footage-probe.json (only the literal token was
    replaced; an error body's strings were kept as link templates)."""
    import base64

    secret = "tokSECRETSECRETzz9Qx7"
    forms = [secret, base64.b64encode(secret.encode()).decode(), secret.encode().hex(), secret[:12], secret[5:15]]

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/asset/" and request.headers.get("x-mode") != "401":
            links = {f"x_{forms[1]}": {"href": f"/{forms[4]}/{forms[3]}"}, "albums": {"href": "/albums"}}
            return httpx2.Response(200, json={"_links": links, f"note_{forms[2]}": forms[0]})
        return httpx2.Response(401, json={"error": "bad key " + " ".join(forms)})

    for mode in ("200", "401"):
        settings = Settings(base_url="https://api.example/api/asset", api_token=secret)  # type: ignore[arg-type]
        transport = httpx2.MockTransport(handler)
        async with RestClient(settings, transport=transport) as rest:
            rest.http.headers["x-mode"] = mode
            profile, suggestion = await Prober(rest).run()
        text = json.dumps(profile) + suggestion
        assert [form for form in forms if form in text] == [], (mode, text)
        if mode == "401":
            assert profile["root"] == {"status": 401, "json": True, "links": []}


def test_a_web_page_instead_of_the_api_is_exit_status_1(tmp_path: Path) -> None:
    """Found by a breaking run: probe exited 0 when every answer was an HTML page (200), as if it had read
    the API."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!DOCTYPE html><html><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/api/asset"
        env = child_env({"FOOTAGE_BASE_URL": base, "FOOTAGE_API_TOKEN": TOKEN, "FOOTAGE_MAX_RETRIES": "0"})
        done = run(["probe", "--out", str(tmp_path / "p.json")], env, timeout=120)
    finally:
        server.shutdown()
    assert done.returncode == 1, done.stderr
    assert json.loads((tmp_path / "p.json").read_text())["root"]["json"] is False


async def test_an_api_that_stops_answering_ends_the_probe_after_three_silent_requests() -> None:
    """Found by a breaking run: against a server that dripped its answers, probe made about 14 requests one
    after the other, each waiting FOOTAGE_TIMEOUT (71 s at 5 s; 7 minutes at the default 30)."""
    sent: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.url.path)
        raise httpx2.ReadTimeout("no answer", request=request)

    settings = Settings(base_url="https://api.example/api/asset", api_token="t0ken-for-the-probe", max_retries=0)  # type: ignore[arg-type]
    async with RestClient(settings, transport=httpx2.MockTransport(handler)) as rest:
        profile, _suggestion = await Prober(rest).run()
    assert len(sent) == 3
    assert profile["note"] == (
        "stopped sending after 3 requests in a row got no answer within FOOTAGE_TIMEOUT; the profile is partial"
    )
