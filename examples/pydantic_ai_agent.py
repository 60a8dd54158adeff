"""A pydantic-ai agent that uses footage-mcp as its MCP server, over stdio.

    pip install "pydantic-ai-slim[mcp,anthropic]"      # or, in a clone: uv sync
    export FOOTAGE_API_TOKEN=...  ANTHROPIC_API_KEY=...
    python pydantic_ai_agent.py "Find video shots of Paris and tell me which albums they are in"
    # in a clone: uv run --with "pydantic-ai-slim[anthropic]" examples/pydantic_ai_agent.py "..."

AGENT_MODEL picks another model (any pydantic-ai model name, e.g. "openai:gpt-5" with
pydantic-ai-slim[openai]). The bridge is started with :func:`bridge_command`: ``FOOTAGE_MCP_COMMAND``
when set (a command line, e.g. ``/home/you/.local/bin/footage-mcp`` or ``uvx footage-mcp``), else this
interpreter's ``python -m footage_mcp`` when footage-mcp is installed here (a clone's ``uv run``), else
``uvx footage-mcp`` (once it is on PyPI). Passed on to it: every FOOTAGE_* variable of this process
(token, base URL, timeouts ...) and the trust and proxy settings (:data:`PASSED_ON`: SSL_CERT_FILE,
SSL_CERT_DIR, HTTPS_PROXY, NO_PROXY ..., so that it works behind a TLS-inspecting proxy as this process
does), and nothing else but the MCP SDK's safe defaults (PATH, HOME, ...).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shlex
import sys
from collections.abc import Mapping, Sequence

from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models import Model

DEFAULT_MODEL = "anthropic:claude-sonnet-4-5"
INIT_TIMEOUT_SECONDS = 60.0
"""How long the agent waits for the bridge to answer `initialize` (fastmcp's default is 5 s)."""
COMMAND_VARIABLE = "FOOTAGE_MCP_COMMAND"
PASSED_ON = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "UV_SYSTEM_CERTS",
    "UV_NATIVE_TLS",
)
"""The environment the bridge (and uvx, which installs it) needs to reach the network as this process
does: CA certificates (httpx2 and uv read SSL_CERT_FILE / SSL_CERT_DIR), proxies, uv's system-store switch."""


def bridge_command(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """How to start the bridge (see the module docstring)."""
    environ = os.environ if environ is None else environ
    given = environ.get(COMMAND_VARIABLE, "").strip()
    if given:
        return tuple(shlex.split(given, posix=os.name != "nt"))
    if importlib.util.find_spec("footage_mcp") is not None:
        return (sys.executable, "-m", "footage_mcp")
    return ("uvx", "footage-mcp")


def bridge_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The FOOTAGE_* settings and :data:`PASSED_ON` of ``environ`` (default: this process's)."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if (k.startswith("FOOTAGE_") and k != COMMAND_VARIABLE) or k in PASSED_ON}


def footage_toolset(
    command: Sequence[str] | None = None, env: Mapping[str, str] | None = None, *, max_retries: int = 2
) -> MCPToolset:
    """The footage-mcp tools, served by a bridge subprocess the agent starts and stops (``command``:
    default :func:`bridge_command`; ``env``: default :func:`bridge_env`)."""
    command = bridge_command() if command is None else command
    env = bridge_env() if env is None else env
    transport = StdioTransport(
        command=command[0],
        args=list(command[1:]),
        env=dict(env),
        keep_alive=False,  # stop the bridge when the agent's `async with` ends (fastmcp keeps it by default)
    )
    # include_instructions: the server tells the model that library text is data, not instructions.
    # max_retries: a tool error ("album 'x' not found — list_albums shows valid ids") goes back to the
    # model as a retry prompt; this many per tool and run.
    # init_timeout: fastmcp's default (5 s) is shorter than a cold `uv run` of the bridge on a busy
    # machine (measured: the example failed to start at load 17 on 2 cores); the bridge answers as
    # soon as it is up, so a generous limit costs nothing when it is quick.
    return MCPToolset(
        transport, id="footage", include_instructions=True, max_retries=max_retries, init_timeout=INIT_TIMEOUT_SECONDS
    )


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
