"""Every structured result validates against the output schema the tool serves (what an MCP client
checks ``structuredContent`` against), including a body of nested arrays from ``api_get``, whose
output schema describes arrays with ``items`` (it failed before: the body's array branch had none)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import jsonschema
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client

from footage_mcp.core.settings import Settings
from footage_mcp.sandbox.app import create_app
from footage_mcp.sandbox.library import build_library
from footage_mcp.surface.server import build_server
from footage_mcp.surface.tools.public import fold_nested_arrays

pytestmark = pytest.mark.anyio

TOKEN = SUITE_TOKEN[:12]  # as long as the literal it replaces; the canary plugin searches for it
BASE = "http://127.0.0.1:9/api/asset"


def _settings() -> Settings:
    return Settings(api_token=TOKEN, base_url=BASE)  # type: ignore[arg-type]


async def test_every_result_of_the_sandbox_validates_against_its_output_schema() -> None:
    library = build_library()
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_albums", {"limit": 3}),
        ("get_album", {"album_id": library.albums[0].id}),
        ("list_album_assets", {"album_id": library.albums[0].id, "limit": 3}),
        ("search_assets", {"query": "paris", "limit": 3}),
        ("get_asset", {"asset_id": library.assets[0].id}),
        ("get_archive_configuration", {}),
        ("list_api_links", {}),
        ("api_get", {"path": "albums", "query": "size=2"}),
    ]
    server = build_server(_settings(), transport=httpx2.ASGITransport(app=create_app(token=TOKEN)))
    async with Client(server, mode="legacy") as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, result.content)
            jsonschema.validate(result.structured_content, schemas[name])


NESTED = [{"coordinates": [[[1, 2]]]}, [[1, 2], [3, 4]], [[[5, 6], {"a": 1}]], 7]
"""A body that is an array, with arrays in it three deep (and inside an object, which is free-form)."""


async def test_an_api_get_body_of_arrays_in_arrays_validates_and_keeps_the_data() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=NESTED if request.url.path.endswith("/geo") else {"_links": {}})

    server = build_server(_settings(), transport=httpx2.MockTransport(answer))
    async with Client(server, mode="legacy") as client:
        schema = next(t.output_schema for t in (await client.list_tools()).tools if t.name == "api_get")
        result = await client.call_tool("api_get", {"path": "geo"})
    data = result.structured_content
    assert data is not None and not result.is_error
    jsonschema.validate(data, schema)
    assert data["body"] == [{"coordinates": [[[1, 2]]]}, ["[1,2]", "[3,4]"], ['[[5,6],{"a":1}]'], 7]
    assert json.loads(data["body"][2][0]) == NESTED[2][0]  # type: ignore[index]
    assert data["note"] == "arrays nested directly in arrays deeper than 2 levels are given as JSON text"
    with pytest.raises(jsonschema.ValidationError):  # the schema does refuse what was folded
        jsonschema.validate({**data, "body": NESTED}, schema)


def test_folding_leaves_what_fits_alone() -> None:
    assert fold_nested_arrays({"a": [[[1]]]}) == ({"a": [[[1]]]}, False)
    assert fold_nested_arrays([[1], [{"c": [[[2]]]}]]) == ([[1], [{"c": [[[2]]]}]], False)
    assert fold_nested_arrays([[[]]]) == ([["[]"]], True)


def test_the_suite_shares_compiled_output_validators_and_never_keeps_a_bad_one() -> None:
    """tests/conftest.py shares the SDK client's compiled output-schema validators across sessions (a
    guard: were the SDK to rename the method or its per-session cache, this fails instead of the share
    silently doing nothing). A result is still checked against the schema; an invalid schema still
    raises at each call and is not kept."""
    from mcp.client.session import ClientSession

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    first, second = ClientSession.__new__(ClientSession), ClientSession.__new__(ClientSession)
    first._tool_output_validators, second._tool_output_validators = {}, {}
    shared = first._output_schema_validator("t", schema)
    assert second._output_schema_validator("u", dict(schema)) is shared
    assert second._tool_output_validators == {"u": shared}
    assert [e.message for e in shared.iter_errors({"n": "x"})] == ["'x' is not of type 'integer'"]
    bad = {"type": "object", "properties": {"n": {"type": 5}}}
    for session in (first, second):
        with pytest.raises(RuntimeError, match="Invalid schema for tool b"):
            session._output_schema_validator("b", bad)
        assert "b" not in session._tool_output_validators


def test_a_shared_validator_is_not_changed_by_one_sessions_schema_edited_in_place() -> None:
    """The shared validator is keyed by the schema's JSON when first compiled; a session (or a test) that
    then edits its own schema dict in place must not change what another session's equal schema checks,
    as it would not in a cold process."""
    from mcp.client.session import ClientSession

    first, second = ClientSession.__new__(ClientSession), ClientSession.__new__(ClientSession)
    first._tool_output_validators, second._tool_output_validators = {}, {}
    edited = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "x-probe": 1}
    first._output_schema_validator("t", edited)
    edited["properties"]["n"]["type"] = "string"  # first's own schema, edited after its validator was compiled
    fresh = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "x-probe": 1}
    assert list(second._output_schema_validator("t", fresh).iter_errors({"n": 1})) == []
