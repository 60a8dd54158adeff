"""The pieces of tests/test_agent_framework.py that need pydantic-ai: a scripted model (FunctionModel), the
bridge as its MCP toolset, and readers of the messages a run produced.

A module of its own, imported inside the tests: pydantic-ai and fastmcp take about 1.3 s of CPU to import,
which every xdist worker's collection paid when they were imported by the test module itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import forkrun
from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from footage_mcp.cli.launch import RunningSandbox, child_env
from tests.conftest import INTERFACE_TOOLS

__all__ = ["Agent", "FunctionModel", "ModelResponse", "StdioTransport", "ToolCallPart"]

SNAPSHOT = {
    tool["name"]: tool
    for tool in json.loads((Path(__file__).parent / "snapshots" / "tools.json").read_text(encoding="utf-8"))
}
Returns = dict[str, ToolReturnPart]
Step = Callable[[Returns, AgentInfo], ModelResponse]


def call(tool: str, **args: Any) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart(tool, args)])


def answer(text: str) -> ModelResponse:
    return ModelResponse(parts=[TextPart(text)])


@dataclass
class Script:
    """A FunctionModel function: turn n runs ``steps[n]`` on the tool results the last request carried."""

    steps: Sequence[Step]
    turns: list[AgentInfo] = field(default_factory=list)

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = self.steps[len(self.turns)]
        self.turns.append(info)
        returns = {p.tool_name: p for p in messages[-1].parts if isinstance(p, ToolReturnPart)}
        return step(returns, info)


def bridge_toolset(sandbox: RunningSandbox, *, max_retries: int | None = None) -> MCPToolset:
    env = child_env({"FOOTAGE_BASE_URL": sandbox.base_url, "FOOTAGE_API_TOKEN": sandbox.token, "PYTHONUTF8": "1"})
    # forked from a warm process (tests/forkrun.py): a cold start can outlast the framework's 5 s
    # initialization timeout on a loaded machine; the example below starts BRIDGE cold
    command = forkrun.warm_command(["serve"])
    transport = StdioTransport(command=command[0], args=command[1:], env=env, keep_alive=False)
    return MCPToolset(transport, max_retries=max_retries, init_timeout=60)


async def run(agent: Agent[None, str], prompt: str) -> tuple[str, list[ModelMessage]]:
    async with agent:
        result = await agent.run(prompt)
    return result.output, result.all_messages()


def tool_calls(messages: list[ModelMessage]) -> list[tuple[str, Any]]:
    return [
        (p.tool_name, p.args)
        for m in messages
        if isinstance(m, ModelResponse)
        for p in m.parts
        if isinstance(p, ToolCallPart)
    ]


def tool_returns(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [p for m in messages if not isinstance(m, ModelResponse) for p in m.parts if isinstance(p, ToolReturnPart)]


def succeeded(part: ToolReturnPart | None) -> dict[str, Any]:
    assert part is not None and part.outcome == "success", part
    assert isinstance(part.content, dict), part.content
    return part.content


def check_tools_offered(info: AgentInfo) -> None:
    """The interface tools, with the schemas and descriptions the server publishes."""
    offered = {t.name: t for t in info.function_tools}
    assert len(info.function_tools) == len(offered) == len(INTERFACE_TOOLS)
    assert set(offered) == INTERFACE_TOOLS
    for name, tool in offered.items():
        assert tool.parameters_json_schema == SNAPSHOT[name]["inputSchema"], name
        assert tool.description == SNAPSHOT[name]["description"], name
    assert set(offered["search_assets"].parameters_json_schema["properties"]) >= {"query", "media_type", "cursor"}
    assert offered["get_album"].parameters_json_schema["required"] == ["album_id"]
