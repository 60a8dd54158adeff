"""Tool-call errors name the proxy when the proxy is what failed (HTTP(S)_PROXY / ALL_PROXY set):
a refused proxy connection, and a proxy that demands authentication (407). Real loopback sockets;
the proxy variables are set in this process, where httpx2 reads them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from canary_plugin import TOKEN as SUITE_TOKEN

from footage_mcp.core.errors import ApiError, TransportError
from footage_mcp.core.settings import Settings
from footage_mcp.rest.http import RestClient

pytestmark = pytest.mark.anyio
TOKEN = SUITE_TOKEN[:19]  # as long as the literal it replaces; the canary plugin searches for it
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


class Demands407(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("Proxy-Authenticate", 'Basic realm="corp"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy_407() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Demands407)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


async def fetch_error(base_url: str) -> Exception:
    async with RestClient(Settings(base_url=base_url, api_token=TOKEN, max_retries=0)) as rest:
        with pytest.raises((TransportError, ApiError)) as raised:
            await rest.get(f"{base_url}/albums")
    return raised.value


async def test_a_refused_proxy_connection_names_the_proxy_not_the_api(no_proxy_env: pytest.MonkeyPatch) -> None:
    proxy_port = closed_port()
    no_proxy_env.setenv("HTTP_PROXY", f"http://user:secret-pw@127.0.0.1:{proxy_port}")
    error = await fetch_error(f"http://127.0.0.1:{closed_port()}/api/asset")
    assert str(error) == (
        f"cannot connect to the proxy 127.0.0.1:{proxy_port} (from HTTP_PROXY: http://***@127.0.0.1:{proxy_port}): "
        "connection refused; check the proxy, or set NO_PROXY for hosts the bridge should reach directly"
    )
    assert "secret-pw" not in str(error) and TOKEN not in str(error)


async def test_a_proxy_demanding_authentication_says_so(no_proxy_env: pytest.MonkeyPatch, proxy_407: int) -> None:
    no_proxy_env.setenv("ALL_PROXY", f"http://127.0.0.1:{proxy_407}")
    error = await fetch_error(f"http://127.0.0.1:{closed_port()}/api/asset")
    assert str(error) == (
        f"the proxy 127.0.0.1:{proxy_407} (from ALL_PROXY) requires authentication (407): put the user and "
        f"password in the proxy URL (http://user:password@host:port), or set NO_PROXY for hosts the bridge "
        "should reach directly"
    )


async def test_without_a_proxy_the_refusal_names_the_api(no_proxy_env: pytest.MonkeyPatch) -> None:
    port = closed_port()
    error = await fetch_error(f"http://127.0.0.1:{port}/api/asset")
    assert str(error) == (
        f"connection to 127.0.0.1:{port} was refused; is the API (or the sandbox) running at FOOTAGE_BASE_URL?"
    )


async def test_a_407_when_the_proxy_url_has_credentials_says_they_were_rejected(
    no_proxy_env: pytest.MonkeyPatch, proxy_407: int
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", f"http://alice:pw-SECRET@127.0.0.1:{proxy_407}")
    error = await fetch_error(f"http://127.0.0.1:{closed_port()}/api/asset")
    assert str(error) == (
        f"the proxy 127.0.0.1:{proxy_407} (from HTTP_PROXY) rejected the user name and password in HTTP_PROXY (407): "
        "check them (special characters in them must be percent-encoded, e.g. @ as %40), or set NO_PROXY for hosts "
        "the bridge should reach directly"
    )
    assert "pw-SECRET" not in str(error) and "alice" not in str(error)
