# footage-mcp as an HTTP bridge for a team (docs/deploy.md). No token is baked in: in the default
# team mode (FOOTAGE_HTTP_AUTH=client) each user's MCP client sends its own footage.one API key.
#   docker build -t footage-mcp .
#   docker run --rm -p 8770:8770 -e FOOTAGE_ALLOWED_HOSTS=mcp.example.com -e FOOTAGE_STATE_SECRET=... footage-mcp
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/footage
WORKDIR /src
COPY pyproject.toml uv.lock README.md LICENSE ./
COPY footage_mcp ./footage_mcp
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin footage
COPY --from=build /opt/footage /opt/footage
ENV PATH=/opt/footage/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FOOTAGE_HTTP_AUTH=client
USER 10001:10001
EXPOSE 8770
HEALTHCHECK --interval=10s --timeout=3s \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8770/healthz', timeout=2)"]
# --allow-remote: the container's port is reached through the proxy in front (TLS ends there).
ENTRYPOINT ["footage-mcp", "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8770", "--allow-remote"]
