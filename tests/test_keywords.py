"""suggest_keywords: the tolerant concept parser, the sandbox taxonomy route in every shape, the
message when an API has no keyword route, FOOTAGE_ROUTES, and the tool over real stdio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN
from forkrun import warm_parameters
from mcp import Client

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.discovery import DEFAULT_ROUTES, route_key_for
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.keywords import Concept, parse_concepts
from footage_mcp.sandbox import SHAPES, create_app

pytestmark = pytest.mark.anyio
PARIS = {
    "keyword": "Paris",
    "language": "en",
    "synonyms": ["Paname", "City of Light", "Ville Lumière"],
    "broader": ["France"],
    "narrower": ["Eiffel Tower"],
    "id": "paris",
}


def sandbox_settings(**options: Any) -> Settings:
    return Settings(base_url="http://127.0.0.1:9/api/asset", api_token=TOKEN, max_retries=0, **options)


async def call(server: Any, arguments: dict[str, Any]) -> Any:
    async with Client(server, mode="legacy") as client:
        return await client.call_tool("suggest_keywords", arguments)


def sandbox_server(shape: str = "hal", **options: Any) -> Any:
    from footage_mcp.surface.server import build_server

    return build_server(sandbox_settings(**options), transport=httpx2.ASGITransport(app=create_app(shape=shape)))


# ---------------------------------------------------------------- parsing


def test_concepts_are_read_from_every_spelling() -> None:
    hal = {
        "_embedded": {
            "concepts": [
                {
                    "id": "paris",
                    "prefLabel": "Paris",
                    "language": "en",
                    "altLabels": ["Paname"],
                    "broader": [{"id": "france", "prefLabel": "France"}],
                    "narrower": [],
                }
            ]
        }
    }
    items = {
        "items": [
            {"conceptId": "paris", "term": "Paris", "locale": "en", "aliases": ["Paname"], "parents": ["France"]}
        ],
        "total": 1,
    }
    bare = [{"uuid": "paris", "label": "Paris", "lang": "en", "synonyms": ["Paname"], "broader": ["France"]}]
    wrapped = {
        "keywords": [
            {"name": "Paris", "language": "en", "synonyms": {"en": ["Paname"]}, "parents": ["France"], "id": "paris"}
        ]
    }
    expected = Concept(keyword="Paris", language="en", synonyms=["Paname"], broader=["France"], id="paris")
    for body in (hal, items, bare, wrapped):
        assert parse_concepts(body) == ([expected], None), body
    labels = [
        {"labels": {"en": "Munich", "de": "München"}, "broader": [{"labels": {"en": "Germany", "de": "Deutschland"}}]}
    ]
    assert parse_concepts(labels, "de")[0] == [Concept(keyword="München", language="de", broader=["Deutschland"])]
    assert parse_concepts(["Paris", "Paris", "Lyon", 3, None]) == (
        [Concept(keyword="Paris"), Concept(keyword="Lyon"), Concept(keyword="3")],
        None,
    )
    assert parse_concepts([{"nothing": 1}]) == ([], "the API's answer had entries but none with a readable term")
    many = parse_concepts([f"term {i}" for i in range(80)])
    assert len(many[0]) == 50 and many[1] == "the first 50 of 80 concepts are shown; pass a longer text"


def test_the_route_key_is_known_with_its_aliases() -> None:
    assert DEFAULT_ROUTES["keywords"] == "/keywords{?q,lang}"
    assert {route_key_for(n) for n in ("keywords", "Keywords", "taxonomy", "ft:concepts")} == {"keywords"}


# ---------------------------------------------------------------- the tool against the sandbox


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_shape_gives_the_same_concepts(shape: str) -> None:
    result = await call(sandbox_server(shape), {"text": "par"})
    assert not result.is_error and result.structured_content == {"concepts": [PARIS]}


@pytest.mark.parametrize(
    ("arguments", "keywords", "language"),
    [
        ({"text": "Frank"}, ["Frankreich"], "de"),  # matched through the German label, spelled in it
        ({"text": "frank", "language": "fr"}, ["France"], "fr"),
        ({"text": "munch", "language": "de"}, ["München"], "de"),
        ({"text": "MÜNCHEN"}, ["München"], "de"),
        ({"text": "MÜNCHEN", "language": "en"}, ["Munich"], "en"),
        ({"text": "sfx"}, ["Sound effect"], "en"),  # a synonym
        ({"text": "ber"}, ["Berlin", "Berg"], "en"),  # Berlin by its name, the mountain by "Berg" (de)
    ],
)
async def test_prefixes_synonyms_and_languages(arguments: dict[str, Any], keywords: list[str], language: str) -> None:
    result = await call(sandbox_server(), arguments)
    concepts = result.structured_content["concepts"]
    assert [c["keyword"] for c in concepts][: len(keywords)] == keywords or {c["keyword"] for c in concepts} >= set(
        keywords
    )
    assert concepts[0]["language"] == language


async def test_france_narrows_to_paris_and_lyon_in_the_language_asked() -> None:
    result = await call(sandbox_server("items"), {"text": "France", "language": "de"})
    first = result.structured_content["concepts"][0]
    assert (
        first["keyword"] == "Frankreich" and first["narrower"] == ["Paris", "Lyon"] and first["broader"] == ["Europa"]
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"text": "a"}, "text"),
        ({"text": "  a  "}, "text must have at least 2 characters"),
        ({"text": "paris", "language": "english!"}, "language must be a language code"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(arguments: dict[str, Any], message: str) -> None:
    result = await call(sandbox_server(), arguments)
    assert result.is_error and message in result.content[0].text


async def test_no_match_says_so() -> None:
    result = await call(sandbox_server(), {"text": "zzqx"})
    assert result.structured_content == {
        "concepts": [],
        "note": "no concept of the taxonomy matches 'zzqx'; try a shorter start or a synonym",
    }


@pytest.mark.parametrize("status", [404, 405, 501])
async def test_an_api_without_a_keyword_route_gets_one_clear_message(status: int) -> None:
    from footage_mcp.surface.server import build_server

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.rstrip("/") == "/api/asset":
            return httpx2.Response(200, json={"_links": {}})
        return httpx2.Response(status, json={"status": status, "error": "x"})

    settings = Settings(base_url="https://api.test/api/asset", api_token="tok-123", max_retries=0)
    result = await call(build_server(settings, transport=httpx2.MockTransport(handler)), {"text": "paris"})
    assert result.is_error
    assert result.content[0].text == (
        f"this Footage API offers no keyword suggestions at 'keywords' ({status}); if it has a taxonomy route, set it "
        "as 'keywords' in FOOTAGE_ROUTES (e.g. keywords = \"/taxonomy/search{?q,lang}\"); search_assets(keyword=…) "
        "still finds a keyword and its narrower ones"
    )


async def test_footage_routes_moves_the_keyword_route(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        if request.url.path.rstrip("/") == "/api/asset":
            return httpx2.Response(200, json={"_links": {}})
        return httpx2.Response(200, json={"results": [{"title": "Paris", "lang": "fr"}]})

    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"taxonomy": "/taxonomy/suggest{?term,locale}"}), encoding="utf-8")
    settings = Settings(base_url="https://api.test/api/asset", api_token="tok-123", max_retries=0, routes=routes)
    async with RestClient(settings, transport=httpx2.MockTransport(handler)) as rest:
        from footage_mcp.rest.discovery import normalise_overrides

        api = FootageApi(rest, normalise_overrides(settings.route_overrides()))
        assert await api.suggest_keywords("Par", "fr") == [Concept(keyword="Paris", language="fr")]
    assert seen[-1] == "https://api.test/api/asset/taxonomy/suggest?term=Par&locale=fr"


async def test_a_route_without_a_language_parameter_says_so() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.rstrip("/") == "/api/asset":
            return httpx2.Response(200, json={"_links": {"keywords": {"href": "/api/asset/kw{?q}", "templated": True}}})
        assert request.url.params.get("q") == "Par" and "lang" not in request.url.params
        return httpx2.Response(200, json=["Paris"])

    settings = Settings(base_url="https://api.test/api/asset", api_token="tok-123", max_retries=0)
    from footage_mcp.surface.server import build_server

    result = await call(
        build_server(settings, transport=httpx2.MockTransport(handler)), {"text": "Par", "language": "de"}
    )
    assert result.structured_content == {
        "concepts": [{"keyword": "Paris", "synonyms": [], "broader": [], "narrower": []}],
        "note": "this API's keyword route takes no language parameter, so concepts of every language are shown",
    }


@pytest.mark.slow
async def test_over_real_stdio_in_every_shape(sandbox: RunningSandbox) -> None:
    async with Client(warm_parameters(bridge_parameters(sandbox.base_url, sandbox.token)), mode="legacy") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"suggest_keywords", "get_contact_sheet"} <= names
        result = await client.call_tool("suggest_keywords", {"text": "par"})
        links = await client.call_tool("list_api_links", {})
    assert result.structured_content == {"concepts": [PARIS]}
    assert any(link["name"] == "keywords" for link in links.structured_content["links"])


# ---------------------------------------------------------------- the sandbox route itself


@pytest.mark.parametrize("shape", SHAPES)
def test_the_sandbox_serves_keywords_in_every_shape_and_links_them(shape: str) -> None:
    from starlette.testclient import TestClient

    client = TestClient(create_app(shape=shape), base_url="http://127.0.0.1:8765")
    auth = {"apiKey": TOKEN}
    root = client.get("/api/asset/").json()["_links"]
    assert root["keywords"] == {"href": "http://127.0.0.1:8765/api/asset/keywords{?q,lang,size}", "templated": True}
    body = client.get("/api/asset/keywords", params={"q": "fr", "lang": "de"}, headers=auth).json()
    rows = {"hal": lambda b: b["_embedded"]["concepts"], "array": lambda b: b, "items": lambda b: b["items"]}[shape](
        body
    )
    assert parse_concepts(body, "de")[0] == [
        Concept(
            keyword="Frankreich",
            language="de",
            synonyms=["France", "French Republic", "Hexagone"],
            broader=["Europa"],
            narrower=["Paris", "Lyon"],
            id="france",
        )
    ]
    assert len(rows) == 1
    assert client.get("/api/asset/keywords", params={"q": "fr"}).status_code == 401
    for params, name in (({}, "q"), ({"q": "x", "lang": "es"}, "lang"), ({"q": "x", "size": "0"}, "size")):
        response = client.get("/api/asset/keywords", params=params, headers=auth)
        assert response.status_code == 400 and f"'{name}'" in response.json()["message"]
    many = client.get("/api/asset/keywords", params={"q": "s", "size": "3"}, headers=auth).json()
    assert (
        len(
            {"hal": lambda b: b["_embedded"]["concepts"], "array": lambda b: b, "items": lambda b: b["items"]}[shape](
                many
            )
        )
        == 3
    )
