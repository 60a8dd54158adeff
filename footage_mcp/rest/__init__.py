"""The REST side: the HTTP client, URL rules, retries, failure diagnosis, discovery and the route
map, tolerant shapes, cursors, and the Footage domain API. Knows nothing of MCP."""
