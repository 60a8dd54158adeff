"""footage-mcp: a local MCP server for a footage.one media library.

Forwards MCP tool calls and resource reads to the Footage REST API
(``https://app.footage.one/api/asset``) with the user's static API token in the
``apiKey`` header. The hosted Footage MCP endpoint accepts only OAuth JWTs; this
bridge is the headless path.
"""

__version__ = "0.1.0"
