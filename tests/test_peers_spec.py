"""The peers benchmark's OpenAPI spec (bench/peers/footage-sandbox.openapi.yaml) matches the sandbox.

FastMCP's ``from_openapi`` and mcp-openapi-proxy are configured from that hand-written spec in
bench/peers.py; a spec that drifted from the sandbox would compare the bridge with peers requesting
other URLs. So: every operation's path and query parameters equal the sandbox's own discovery-root
template for that route, every operation answers 200 against the sandbox app (in process, ASGI) with a
body that validates against the spec's response schema, every documented query parameter changes the
answer, and the security scheme is the ``apiKey`` header the sandbox checks (the one public operation
answers without it). No peer is needed: the spec is read with PyYAML and checked with jsonschema.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
import uritemplate
import yaml
from canary_plugin import TOKEN

from footage_mcp.sandbox import create_app

SPEC_PATH = Path(__file__).resolve().parent.parent / "bench" / "peers" / "footage-sandbox.openapi.yaml"
ORIGIN = "http://127.0.0.1:1"
BASE = f"{ORIGIN}/api/asset"
OPERATION_LINK = {
    "listAlbums": "albums",
    "getAlbum": "album",
    "listAlbumAssets": "albumAssets",
    "searchAssets": "search",
    "getAsset": "asset",
    "getArchiveConfiguration": "archiveConfiguration",
}
"""Each spec operation and the sandbox discovery root's link for the same route."""


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """operationId → (path, GET operation)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        assert set(item) == {"get"}, f"{path}: only GET operations are benchmarked"
        found[item["get"]["operationId"]] = (path, item["get"])
    return found


def params_in(operation: dict[str, Any], where: str) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == where]


@pytest.fixture
async def api() -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(token=TOKEN)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def ids(api: httpx2.AsyncClient) -> dict[str, str]:
    """An album id and an asset id of that album, read from the sandbox."""
    headers = {"apiKey": TOKEN}
    album = (await api.get("/albums", params={"size": 1}, headers=headers)).json()["_embedded"]["albums"][0]
    assets = (await api.get(f"/albums/{album['id']}/assets", params={"size": 1}, headers=headers)).json()
    return {"album": album["id"], "asset": assets["_embedded"]["assets"][0]["id"]}


def test_spec_is_openapi_3_with_the_api_key_header_scheme() -> None:
    spec = load_spec()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"] == {
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "apiKey",
            "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
        }
    }
    assert spec["security"] == [{"apiKey": []}]
    assert set(operations(spec)) == set(OPERATION_LINK)
    assert operations(spec)["getArchiveConfiguration"][1]["security"] == []


async def test_paths_and_query_parameters_equal_the_sandbox_root_templates(api: httpx2.AsyncClient) -> None:
    root = (await api.get("/")).json()["_links"]
    for op_id, (path, operation) in operations(load_spec()).items():
        href = root[OPERATION_LINK[op_id]]["href"]
        template = uritemplate.URITemplate(href.split(ORIGIN, 1)[-1].removeprefix("/api/asset"))
        query = {n for v in template.variables if v.operator.value == "?" for n in v.variable_names}
        path_vars = {n for v in template.variables if v.operator.value != "?" for n in v.variable_names}
        assert template.uri.split("{?")[0] == path, op_id
        assert set(params_in(operation, "query")) == query, op_id
        assert set(params_in(operation, "path")) == path_vars, op_id


async def test_every_operation_answers_its_documented_schema(api: httpx2.AsyncClient) -> None:
    spec = load_spec()
    known = await ids(api)
    values = {"/albums/{id}": known["album"], "/albums/{id}/assets": known["album"], "/assets/{id}": known["asset"]}
    for op_id, (path, operation) in operations(spec).items():
        url = path.replace("{id}", values.get(path, ""))
        answer = await api.get(url, headers={"apiKey": TOKEN})
        assert answer.status_code == 200, (op_id, answer.text)
        media = operation["responses"]["200"]["content"]
        assert set(media) == {answer.headers["content-type"]}, op_id
        schema = {**next(iter(media.values()))["schema"], "components": spec["components"]}
        jsonschema.validate(answer.json(), schema)
        unauthenticated = await api.get(url)
        expected = 200 if operation.get("security") == [] else 401
        assert unauthenticated.status_code == expected, op_id


async def test_every_query_parameter_changes_the_answer(api: httpx2.AsyncClient) -> None:
    spec = load_spec()
    known = await ids(api)
    headers = {"apiKey": TOKEN}
    album = (await api.get(f"/albums/{known['album']}", headers=headers)).json()
    asset = (await api.get(f"/assets/{known['asset']}", headers=headers)).json()
    example = {
        "q": "Paris",
        "page": "1",
        "size": "1",
        "type": "video",
        "album": known["album"],
        "label": album["labels"][0],
        "keyword": asset["keywords"][0],
        "from": "2024-01-01",
        "to": "2021-12-31",
    }
    for op_id, (path, operation) in operations(spec).items():
        url = path.replace("{id}", known["album"])
        plain = (await api.get(url, headers=headers)).json()
        for name in params_in(operation, "query"):
            answer = await api.get(url, params={name: example[name]}, headers=headers)
            assert answer.status_code == 200, (op_id, name, answer.text)
            assert answer.json() != plain, f"{op_id}: the sandbox ignores {name!r}"
        for name in params_in(operation, "query"):
            schema = next(p for p in operation["parameters"] if p["name"] == name)["schema"]
            if schema["type"] == "integer":
                bad = await api.get(url, params={name: str(schema["minimum"] - 1)}, headers=headers)
                assert bad.status_code == 400 and name in bad.text, (op_id, name)
            if "enum" in schema:
                bad = await api.get(url, params={name: "hologram"}, headers=headers)
                assert bad.status_code == 400 and name in bad.text, (op_id, name)
        if "size" in params_in(operation, "query"):
            size = next(p for p in operation["parameters"] if p["name"] == "size")["schema"]
            over = await api.get(url, params={"size": str(size["maximum"] + 1)}, headers=headers)
            assert over.status_code == 400, op_id
            at_max = await api.get(url, params={"size": str(size["maximum"])}, headers=headers)
            assert at_max.status_code == 200, op_id


async def test_every_album_and_asset_of_the_sandbox_fits_the_schemas(api: httpx2.AsyncClient) -> None:
    """FastMCP validates each answer against the spec's response schema: one misfit would fail its calls.
    Every album and asset as lists spell them; one full asset of each media kind and one with relations
    (a full asset costs the sandbox ~0.15 s the first time: it renders its renditions)."""
    spec = load_spec()
    headers = {"apiKey": TOKEN}

    def validator(name: str) -> Any:
        return jsonschema.Draft7Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})

    album_page, asset_page, asset = validator("AlbumPage"), validator("AssetPage"), validator("Asset")
    album_page.validate((await api.get("/albums", params={"size": 200}, headers=headers)).json())
    summaries: list[dict[str, Any]] = []
    for page in range(2):
        assets = (await api.get("/search/assets", params={"size": 200, "page": page}, headers=headers)).json()
        asset_page.validate(assets)
        summaries += assets["_embedded"].get("assets", [])
    assert len(summaries) == assets["page"]["totalElements"] > 200
    chosen = {a["mediaType"]: a["id"] for a in summaries} | {
        "related": next(a["id"] for a in summaries if a["relations"])
    }
    assert len(chosen) == 5
    for asset_id in chosen.values():
        asset.validate((await api.get(f"/assets/{asset_id}", headers=headers)).json())


def test_the_peers_section_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs ``bench/run.py --quick`` with the default sections: the peers (not installed there) are not
    among them; naming them (``--only peers`` / ``12``) selects them alone."""
    import importlib.util
    import tomllib

    path = SPEC_PATH.parent.parent / "run.py"
    loader = importlib.util.spec_from_file_location("bench_run_for_test", path)
    assert loader is not None and loader.loader is not None
    run = importlib.util.module_from_spec(loader)
    monkeypatch.setitem(sys.modules, loader.name, run)  # its dataclasses look their module up there
    monkeypatch.setattr(sys, "path", list(sys.path))  # run.py puts bench/ first for its own imports
    loader.loader.exec_module(run)
    assert "peers" not in run.parse_only(None)
    assert run.parse_only("peers") == run.parse_only("12") == ["peers"]
    project = tomllib.loads((SPEC_PATH.parent.parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["dependency-groups"]["bench-peers"] == ["fastmcp==4.2.3", "mcp-openapi-proxy==0.4.0"]
    assert "default-groups" not in project["tool"]["uv"]  # only dev is synced by default (and by .ci/run)
