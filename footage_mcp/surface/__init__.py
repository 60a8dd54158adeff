"""The MCP side: the server, its tools (one module per domain), resources, prompts, rendering
within the output budget, and portable schemas. Reaches the Footage API only through
:mod:`footage_mcp.rest.api`."""
