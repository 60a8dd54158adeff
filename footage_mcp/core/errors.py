"""The exception tree of footage-mcp.

Every exception here carries a ``message`` written for the end user or the model:
one short sentence saying what went wrong and what to do next. Messages never
contain the API token, a traceback, an upstream HTML page or more than a short
sanitised excerpt of an upstream body.

::

    FootageError
    ├── ConfigError            bad configuration (exit status 2 at start)
    ├── InvalidArgument        a tool argument the bridge refuses before any request
    │   └── InvalidCursor      a cursor that is forged, corrupt or leads elsewhere
    ├── TokenMissing           a token-only route called without FOOTAGE_API_TOKEN
    ├── ApiError               the API answered with an error status or an unusable body
    │   ├── BadRequest         400 / 422
    │   ├── Unauthorized       401
    │   ├── Forbidden          403
    │   ├── NotFound           404
    │   ├── Conflict           409
    │   ├── RateLimited        429
    │   ├── UpstreamFailure    5xx
    │   ├── BadResponse        2xx whose body is not what was expected (HTML, not JSON, too big)
    │   └── RedirectRefused    a redirect to another origin or past the redirect cap
    └── TransportError         no HTTP answer at all (timeout, refused, DNS, TLS)
        ├── ConnectFailed      no connection could be made (refused, DNS, TLS); ``retryable`` says
        │                      whether another attempt may help
        └── NoAnswer           no answer began: the connection closed or sent junk (the request may
                               have been read)
"""

from __future__ import annotations


class FootageError(Exception):
    """Base class. ``message`` is safe to show to a user or a model."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(FootageError):
    """The configuration is unusable (bad base URL, unreadable route file)."""


class InvalidArgument(FootageError):
    """A tool argument was refused before any request was made."""


class InvalidCursor(InvalidArgument):
    """A ``cursor`` argument is not one this bridge handed out, or leads off the base URL.

    ``listing`` is the route-map key of the listing it was given to (``albums``, ``albumAssets``,
    ``search``); ``start_again`` says that no cursor can continue there (it expired, or it leads
    elsewhere): the listing must start again without one. The surface names the tool from them."""

    def __init__(self, message: str, *, listing: str | None = None, start_again: bool = False) -> None:
        super().__init__(message)
        self.listing = listing
        self.start_again = start_again


class TokenMissing(FootageError):
    """A token-only route was called while no API token is configured."""


class ApiError(FootageError):
    """The Footage API answered, but not with what the call needed.

    ``status`` is the HTTP status (0 when not applicable). ``kind`` and ``id`` say what the error is
    about when the domain layer knows it (``NotFound(..., kind="album", id="x")``): the message is the
    domain's and names no MCP tool; the MCP surface adds what to do next from them
    (:mod:`footage_mcp.surface.hints`). Kinds: ``album``, ``asset``, ``preview`` (an asset's preview),
    ``path`` (an ``api_get`` path), ``image`` / ``binary`` (a path that answers with something other
    than JSON).
    """

    def __init__(self, message: str, status: int = 0, *, kind: str | None = None, id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.id = id


class BadRequest(ApiError):
    """400 or 422: the API rejected the request's parameters."""


class Unauthorized(ApiError):
    """401: the API rejected (or did not receive) the token."""


class Forbidden(ApiError):
    """403: the token's user may not see this resource."""


class NotFound(ApiError):
    """404: no such album, asset or path."""


class Conflict(ApiError):
    """409: the API reports a conflicting state."""


class RateLimited(ApiError):
    """429: too many requests. ``retry_after`` is in seconds when the API said so."""

    def __init__(self, message: str, status: int = 429, retry_after: float | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class UpstreamFailure(ApiError):
    """5xx: the service failed."""


class BadResponse(ApiError):
    """A 2xx answer whose body cannot be used (not JSON, HTML, truncated, over the size cap)."""


class RedirectRefused(ApiError):
    """A redirect the bridge will not follow (other origin, https→http, too many hops)."""


class TransportError(FootageError):
    """No HTTP answer: timeout, connection refused, DNS or TLS failure."""


class ConnectFailed(TransportError):
    """No connection could be made. ``retryable`` is False for TLS failures (retrying cannot help)."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class NoAnswer(TransportError):
    """The connection closed, or sent what is not HTTP, before any answer began: typically a kept-alive
    connection the server closed just as the request went out (httpcore: "Server disconnected without
    sending a response"), or one still holding bytes an earlier answer sent past its Content-Length. An
    idempotent request may be sent again; any other may have been read and acted on."""


def exception_chain(exc: BaseException, limit: int = 12) -> list[BaseException]:
    """``exc`` and its causes, nearest first (at most ``limit``). The client raises its errors
    ``from None``, which hides the httpx2 exception from tracebacks but keeps it as ``__context__``:
    the details for telling failures apart are there."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < limit:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
