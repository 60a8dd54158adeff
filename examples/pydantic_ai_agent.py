"""A pydantic-ai agent that uses footage-mcp as its MCP server, over stdio.

    pip install "pydantic-ai-slim[mcp,anthropic]"      # or: uv add "pydantic-ai-slim[mcp,anthropic]"
    export FOOTAGE_API_TOKEN=...  ANTHROPIC_API_KEY=...
    python pydantic_ai_agent.py "Find video shots of Paris and tell me which albums they are in"

AGENT_MODEL picks another model (any pydantic-ai model name, e.g. "openai:gpt-5" with
pydantic-ai-slim[openai]). The bridge is started with ``uvx footage-mcp``; every FOOTAGE_* variable
of this process (token, base URL, timeouts ...) is passed on to it, and nothing else but the
MCP SDK's safe defaults (PATH, HOME, ...).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence

from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models import Model

DEFAULT_MODEL = "anthropic:claude-sonnet-4-5"
BRIDGE_COMMAND = ("uvx", "footage-mcp")  # from a clone: ("uvx", "--from", "/path/to/footage-mcp", "footage-mcp")


def footage_toolset(
    command: Sequence[str] = BRIDGE_COMMAND, env: Mapping[str, str] | None = None, *, max_retries: int = 2
) -> MCPToolset:
    """The footage-mcp tools, served by a bridge subprocess the agent starts and stops."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if k.startswith("FOOTAGE_")}
    transport = StdioTransport(
        command=command[0],
        args=list(command[1:]),
        env=dict(env),
        keep_alive=False,  # stop the bridge when the agent's `async with` ends (fastmcp keeps it by default)
    )
    # include_instructions: the server tells the model that library text is data, not instructions.
    # max_retries: a tool error ("album 'x' not found — list_albums shows valid ids") goes back to the
    # model as a retry prompt; this many per tool and run.
    return MCPToolset(transport, id="footage", include_instructions=True, max_retries=max_retries)


def build_agent(model: Model | str = DEFAULT_MODEL, toolset: MCPToolset | None = None) -> Agent[None, str]:
    return Agent(
        model,
        toolsets=[toolset or footage_toolset()],
        instructions="You help a video editor find footage in their footage.one library. Cite asset and album ids.",
    )


async def main(prompt: str) -> None:
    agent = build_agent(os.environ.get("AGENT_MODEL", DEFAULT_MODEL))
    async with agent:  # starts the bridge once for all runs inside the block
        result = await agent.run(prompt)
    print(result.output)


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Which albums are in my library?"))
