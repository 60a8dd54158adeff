"""The sandbox's error type and its Spring-Boot-style JSON body."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

__all__ = ["ApiError", "bad_parameter", "error_body", "not_found"]


class ApiError(Exception):
    """An HTTP error the app renders as ``{"status", "error", "message", "path"}`` JSON."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """``status``: HTTP status code; ``message``: one human sentence for the ``message`` field."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_parameter(name: str, expected: str) -> ApiError:
    """A 400 naming the offending query parameter: "Invalid value for parameter 'size': …"."""
    return ApiError(400, f"Invalid value for parameter '{name}': {expected}")


def not_found(message: str) -> ApiError:
    """A 404 with ``message`` (e.g. "Album 'x' not found")."""
    return ApiError(404, message)


def error_body(status: int, message: str, path: str) -> dict[str, Any]:
    """The JSON error body: status code, reason phrase, message and request path."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"status": status, "error": phrase, "message": message, "path": path}
