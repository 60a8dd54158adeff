"""The served tool schemas through the converters real clients run them through, in process:

* OpenAI Agents (``agents.mcp.MCPUtil.to_function_tool`` with ``convert_schemas_to_strict=True``,
  which calls ``agents.strict_schema.ensure_strict_json_schema`` and silently falls back to
  non-strict when it fails);
* LangChain (``langchain_core.utils.function_calling.convert_to_openai_tool(..., strict=True)``);
* Google ADK (``google.adk.tools._gemini_schema_util._to_gemini_schema``, what ``McpTool`` uses to
  build a Gemini function declaration; it calls ``google.genai.types.Schema.from_json_schema``).

A strict converter marks every property required: an optional parameter stays optional only if its
schema admits null. Gemini keeps ``required`` as served, so there an optional parameter must not be
required, and it must keep its description. And the server must take null for every optional
parameter (that is what a strict model sends for "not given").
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client
from mcp.types import Tool

from footage_mcp.core.settings import Settings
from footage_mcp.sandbox.app import create_app
from footage_mcp.sandbox.library import build_library
from footage_mcp.surface.server import build_server

pytestmark = pytest.mark.anyio

TOKEN = SUITE_TOKEN[:12]  # as long as the literal it replaces; the canary plugin searches for it
REQUIRED = {
    "list_albums": [],
    "get_album": ["album_id"],
    "list_album_assets": ["album_id"],
    "search_assets": [],
    "get_asset": ["asset_id"],
    "get_asset_preview": ["asset_id"],
    "get_archive_configuration": [],
    "list_api_links": [],
    "api_get": ["path"],
    "get_contact_sheet": [],
    "suggest_keywords": ["text"],
    "download_asset": ["asset_id"],
}


async def served() -> list[Tool]:
    async with Client(build_server(Settings()), mode="legacy") as client:
        return list((await client.list_tools()).tools)


def openai_agents(tool: Tool) -> tuple[bool, dict[str, Any]]:
    """What OpenAI Agents gives the model: (strict?, parameters schema)."""
    from agents.mcp import MCPServerStdio, MCPUtil  # ~1 s: imported here, not at every worker's collection

    converted = MCPUtil.to_function_tool(tool, MCPServerStdio(params={"command": "true"}), True)
    return converted.strict_json_schema, converted.params_json_schema


def langchain(tool: Tool) -> dict[str, Any]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    spec = {"name": tool.name, "description": tool.description, "parameters": copy.deepcopy(tool.input_schema)}

    converted = convert_to_openai_tool(spec, strict=True)
    assert converted["function"]["strict"] is True
    parameters: dict[str, Any] = converted["function"]["parameters"]
    return parameters


def optional_as_null(tool: Tool) -> dict[str, Any]:
    """What a strict model sends for "nothing but the required arguments": null for every optional one."""
    required = set(tool.input_schema.get("required", []))
    return {name: None for name in tool.input_schema["properties"] if name not in required}


def required_values(name: str) -> dict[str, str]:
    """Valid values (ids of the sandbox's seeded library) for the tool's required parameters."""
    library = build_library()
    values = {"album_id": library.albums[0].id, "asset_id": library.assets[0].id, "path": "albums", "text": "Par"}
    return {param: values[param] for param in REQUIRED[name]}


async def test_openai_agents_converts_every_tool_to_strict() -> None:
    """It failed before for get_archive_configuration and list_api_links: their open object schema
    made ensure_strict_json_schema raise, and the tools went to the model non-strict."""
    verdicts = {tool.name: openai_agents(tool)[0] for tool in await served()}
    assert verdicts == dict.fromkeys(REQUIRED, True)


@pytest.mark.parametrize("converter", ["openai-agents", "langchain"])
async def test_strict_converters_keep_optional_parameters_optional(converter: str) -> None:
    """Every property is required under strict mode, so "not given" must be spellable as null: it
    failed before (the portable rewrite dropped the null branch, so a strict model had to send all nine
    search_assets parameters, and media_type had to be one of four kinds)."""
    for tool in await served():
        schema = openai_agents(tool)[1] if converter == "openai-agents" else langchain(tool)
        assert sorted(schema.get("required", [])) == sorted(schema["properties"]), tool.name
        arguments = {**required_values(tool.name), **optional_as_null(tool)}
        jsonschema.validate(arguments, schema)  # raises when null is not allowed for an optional one
        if tool.name == "search_assets":
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate({**arguments, "media_type": "film"}, schema)
            jsonschema.validate({**arguments, "media_type": "video", "limit": 5}, schema)


async def test_google_adk_keeps_optional_parameters_optional_and_required_ones_described() -> None:
    """ADK keeps only the non-null branch of an optional parameter, where the schema (to stay within the
    listing's token budget) carries no copy of the description: optional parameters reach Gemini
    nullable and undescribed, required ones described (footage_mcp/surface/schemas.py)."""
    from google.adk.tools._gemini_schema_util import _to_gemini_schema  # ~0.6 s: here, not at collection

    for tool in await served():
        schema = _to_gemini_schema(copy.deepcopy(tool.input_schema)).model_dump(mode="json", exclude_none=True)
        assert schema.get("required", []) == REQUIRED[tool.name], tool.name
        properties = schema.get("properties", {})
        assert sorted(properties) == sorted(tool.input_schema["properties"]), tool.name
        for name, prop in properties.items():
            optional = name not in REQUIRED[tool.name]
            served_description = tool.input_schema["properties"][name]["description"]
            if not optional:
                assert prop.get("description") == served_description, (tool.name, name)
            assert prop.get("nullable", False) is optional, (tool.name, name)


async def test_the_server_takes_null_for_every_optional_parameter(tmp_path: Path) -> None:
    """The call a strict model makes: every optional parameter null. Against the sandbox app in process."""
    app = create_app(token=TOKEN)
    settings = Settings(
        api_token=TOKEN,  # type: ignore[arg-type]
        base_url="http://127.0.0.1:9/api/asset",  # type: ignore[arg-type]
        download_dir=tmp_path,
    )
    server = build_server(settings, transport=httpx2.ASGITransport(app=app))
    async with Client(server, mode="legacy") as client:
        for tool in (await client.list_tools()).tools:
            arguments = {**required_values(tool.name), **optional_as_null(tool)}
            result = await client.call_tool(tool.name, arguments)
            text = result.content[0].text if result.content and result.content[0].type == "text" else ""
            assert not result.is_error, (tool.name, text)
        everything = await client.call_tool("search_assets", optional_as_null(await _tool("search_assets")))
        default = await client.call_tool("search_assets", {})
        assert everything.structured_content is not None and default.structured_content is not None
        # the same page; cursors differ by their random AES-GCM nonce only, so compare what they continue with
        assert {**everything.structured_content, "next_cursor": None} == {
            **default.structured_content,
            "next_cursor": None,
        }
        assert everything.structured_content is not None and everything.structured_content.get("total", 0) > 20


async def _tool(name: str) -> Tool:
    return next(tool for tool in await served() if tool.name == name)
