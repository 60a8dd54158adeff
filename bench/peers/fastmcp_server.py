"""FastMCP's ``from_openapi`` server for the sandbox spec, as a user would write it (bench/peers.py).

Runs in the bench-peers environment (fastmcp 4.2.3), not the project's, on stdio:

    PEER_SPEC=bench/peers/footage-sandbox.openapi.yaml FOOTAGE_BASE_URL=http://127.0.0.1:PORT/api/asset \
    FOOTAGE_TOKEN=... .venv-peers/bin/python bench/peers/fastmcp_server.py

The ``apiKey`` header goes on the HTTP client: fastmcp does not read the spec's security schemes for
outgoing requests; a client with the header is its documented way to authenticate. Everything else is
fastmcp's defaults (every operation a tool, output schemas from the spec, output validated).
"""

from __future__ import annotations

import os

import httpx2
import yaml
from fastmcp import FastMCP


def main() -> None:
    with open(os.environ["PEER_SPEC"], encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    base_url = os.environ["FOOTAGE_BASE_URL"]
    spec["servers"] = [{"url": base_url}]
    client = httpx2.AsyncClient(base_url=base_url, headers={"apiKey": os.environ["FOOTAGE_TOKEN"]}, timeout=30)
    server = FastMCP.from_openapi(openapi_spec=spec, client=client, name="footage")
    server.run(transport="stdio", show_banner=False)


if __name__ == "__main__":
    main()
