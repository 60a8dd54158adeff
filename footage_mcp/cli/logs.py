"""stderr logging for the CLI process, with the token redacted from every line.

Only the CLI entry point calls :func:`configure_logging` (the process is ours there);
library code only creates loggers. stdout is never used for logs: under ``serve`` it
carries JSON-RPC alone.
"""

from __future__ import annotations

import logging
import sys

from footage_mcp.core.redact import Redactor, redact_text
from footage_mcp.core.text import escape_control
from footage_mcp.rest.tokens import effective_token


class RedactingFormatter(logging.Formatter):
    """A formatter whose output never contains the given secrets (message, args, tracebacks), and whose
    message part is one line without raw control characters (:func:`~footage_mcp.core.text.escape_control`:
    a file or asset name with a line break or a terminal escape in an audit line cannot forge a second
    line or drive the terminal). Tracebacks keep their lines."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._redactor = Redactor(secrets)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_control(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        text = self._redactor.text(super().format(record))
        request_token = effective_token(None)  # HTTP team mode: the token of the request being served
        return redact_text(text, request_token) if request_token else text


class NoQueryStrings(logging.Filter):
    """Drops the query string from uvicorn's access-log lines (``POST /mcp?…``): a user who puts a token in
    the URL (``?apiKey=…``) must not find it in the log. The line is written after the request, outside the
    redaction of the request's own token, and a token meant for another service would not be known here
    at all, so the whole query goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def configure_logging(level: str, secrets: list[str | None]) -> None:
    """Send all logging to stderr at ``level`` with ``secrets`` redacted.

    Installs one handler on the root logger (replacing any) so that library loggers —
    the MCP SDK, httpx2, httpcore — are redacted too, and so the SDK's own
    ``logging.basicConfig`` call becomes a no-op.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", [s for s in secrets if s])
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in access.filters):
        access.addFilter(NoQueryStrings())
