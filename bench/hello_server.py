"""The cold-start baseline: a bare ``MCPServer`` with one trivial tool, on the same SDK as the bridge.

``bench/run.py`` starts it as ``python bench/hello_server.py`` next to ``python -m footage_mcp serve``
and compares spawn → ``initialize`` answered and spawn → ``tools/list`` answered. Keep it minimal:
whatever it imports beyond the SDK is no longer a fair baseline.
"""

from mcp.server.mcpserver import MCPServer

mcp = MCPServer(name="hello")


@mcp.tool()
def hello(name: str = "world") -> str:
    """Say hello."""
    return f"Hello, {name}!"


if __name__ == "__main__":
    mcp.run("stdio")
