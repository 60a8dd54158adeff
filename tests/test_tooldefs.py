"""Tool definitions derived once per process (footage_mcp/surface/tooldefs.py): each server's tools still
call that server's own functions, and a function whose signature or options differ gets its own
definition."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from mcp.server.mcpserver import MCPServer
from pydantic import Field

from footage_mcp.surface.server import build_server
from footage_mcp.surface.tooldefs import DerivingToolManager, derive_tool
from tests.inprocess import bridge, error_message

pytestmark = pytest.mark.anyio


def data(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


def make(limit_default: int, description: str = "d") -> Any:
    """A new closure on each call: the same code, a default chosen by the caller."""
    marker = object()

    async def tool(limit: Annotated[int, Field(ge=1, le=500)] = limit_default) -> dict[str, Any]:
        return {"limit": limit, "marker": id(marker)}

    return tool


def test_a_second_registration_shares_the_derivation_and_keeps_its_own_function() -> None:
    first, second = make(20), make(20)
    a, b = derive_tool(first, name="t", description="d"), derive_tool(second, name="t", description="d")
    assert a.fn is first and b.fn is second
    assert a.fn_metadata is b.fn_metadata  # derived once
    assert a.parameters == b.parameters and a.parameters["properties"]["limit"]["default"] == 20


def test_a_different_default_or_option_is_derived_again() -> None:
    base = derive_tool(make(20), name="t", description="d")
    other_default = derive_tool(make(50), name="t", description="d")
    other_name = derive_tool(make(20), name="u", description="d")
    other_description = derive_tool(make(20), name="t", description="e")
    assert other_default.fn_metadata is not base.fn_metadata
    assert other_default.parameters["properties"]["limit"]["default"] == 50
    assert (other_name.name, other_description.description) == ("u", "e")
    assert other_name.fn_metadata is not base.fn_metadata


def test_a_callable_object_is_derived_every_time() -> None:
    class Callable_:
        __name__ = "obj"

        async def __call__(self, limit: int = 1) -> dict[str, int]:
            return {"limit": limit}

    one, two = derive_tool(Callable_(), name="obj"), derive_tool(Callable_(), name="obj")
    assert one.fn_metadata is not two.fn_metadata and one.parameters == two.parameters


def test_the_manager_keeps_the_first_tool_of_a_name() -> None:
    manager = DerivingToolManager(warn_on_duplicate_tools=False)
    first = manager.add_tool(make(1), name="t", description="d")
    assert manager.add_tool(make(2), name="t", description="d") is first
    assert [t.name for t in manager.list_tools()] == ["t"]


async def test_two_servers_from_one_process_answer_with_their_own_settings_and_upstream() -> None:
    """Two in-process bridges built one after the other (the second reuses the first's definitions): the
    one with a token lists its sandbox's albums, the one without says how to set the token."""
    async with bridge() as with_token, bridge(token=None) as without:
        listed = await with_token.client.call_tool("list_albums", {"limit": 2})
        refused = await without.client.call_tool("list_albums", {"limit": 2})
    assert [a["id"] for a in data(listed)["albums"]] == [a.id for a in with_token.app.state.library.albums[:2]]
    assert refused.is_error and "FOOTAGE_API_TOKEN" in (error_message(refused) or "")


async def test_tools_list_is_the_same_for_a_rebuilt_server() -> None:
    from footage_mcp.core.settings import Settings

    settings = Settings(base_url="http://127.0.0.1:1/api/asset", api_token="t", allow_writes=True)
    first: MCPServer[Any] = build_server(settings)
    second: MCPServer[Any] = build_server(settings)
    listed = [[t.model_dump() for t in await server.list_tools()] for server in (first, second)]
    assert listed[0] == listed[1] and len(listed[0]) >= 20
