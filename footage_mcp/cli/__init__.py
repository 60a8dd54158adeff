"""The command line: ``footage-mcp [serve|sandbox|demo|check|config|probe]``, host snippets, and the
processes a user or an MCP host starts (sandbox, bridge). The only room that may import the sandbox."""

from footage_mcp.cli.main import main

__all__ = ["main"]
