"""Settings from the environment (pydantic-settings).

=====================  =============================================  ==================================
variable               meaning                                         default
=====================  =============================================  ==================================
FOOTAGE_API_TOKEN      personal API token, sent as the ``apiKey``      none (public tools still work)
                       header; ``FOOTAGE_API_KEY`` is an alias
FOOTAGE_BASE_URL       REST base                                       https://app.footage.one/api/asset
FOOTAGE_TIMEOUT        seconds for one REST request                    30
FOOTAGE_LOG_LEVEL      stderr log level                                WARNING
FOOTAGE_ROUTES         JSON or TOML file overriding the route map      none
FOOTAGE_MAX_RETRIES    retries of one idempotent request               2
FOOTAGE_RETRY_BUDGET   seconds all retry waits of one call may take    10
FOOTAGE_OUTPUT_BUDGET  largest tool result, tokens (characters / 4)    20000
=====================  =============================================  ==================================

The base URL must be ``https`` (plain ``http`` only on a loopback host, for the
sandbox) and must not carry credentials, a query or a fragment; anything else is
a :class:`~footage_mcp.errors.ConfigError`. The token is a ``SecretStr``: the
settings' repr never shows it.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from footage_mcp.errors import ConfigError

DEFAULT_BASE_URL = "https://app.footage.one/api/asset"
"""Confirmed in the public docs (footage-api.md, 'Confirmed')."""

TOKEN_HELP = (
    "generate an API key at https://app.footage.one/account (section 'API Key') "
    "and set FOOTAGE_API_TOKEN in the MCP server's environment"
)

ROUTES_MAX_BYTES = 256 * 1024

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any 127.0.0.0/8 or ::1 address."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str) -> str:
    """Return the base URL without a trailing slash, or raise :class:`ConfigError`."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"FOOTAGE_BASE_URL is not a valid URL: {exc}") from None
    if parts.scheme not in {"https", "http"} or not host:
        raise ConfigError("FOOTAGE_BASE_URL must be an https:// URL such as " + DEFAULT_BASE_URL)
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigError(
            "FOOTAGE_BASE_URL must use https (plain http is allowed only for a loopback host such as 127.0.0.1)"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError("FOOTAGE_BASE_URL must not contain credentials; put the token in FOOTAGE_API_TOKEN")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ConfigError("FOOTAGE_BASE_URL must not contain a query or fragment (use e.g. " + DEFAULT_BASE_URL + ")")
    return text.rstrip("/")


class Settings(BaseSettings):
    """The bridge's configuration. Read once at start; immutable afterwards."""

    model_config = SettingsConfigDict(
        env_prefix="FOOTAGE_", frozen=True, extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FOOTAGE_API_TOKEN", "FOOTAGE_API_KEY", "api_token"),
        description="Personal API token (sent as the apiKey header).",
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="REST base URL.")
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds for one REST request.")
    log_level: LogLevel = Field(default="WARNING", description="stderr log level.")
    routes: Path | None = Field(default=None, description="JSON/TOML file overriding the route map.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries of one idempotent request.")
    retry_budget: float = Field(default=10.0, ge=0, le=300, description="Seconds all retry waits may take.")
    output_budget: int = Field(
        default=20_000, ge=500, le=1_000_000, description="Largest tool result, in tokens (characters / 4)."
    )

    @property
    def call_budget(self) -> float:
        """Seconds one tool call may take at most: the request timeout plus the retry budget."""
        return self.timeout + self.retry_budget

    @field_validator("api_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            if value and not all(0x21 <= ord(c) <= 0x7E for c in value):
                raise ValueError(
                    "FOOTAGE_API_TOKEN contains characters an API token cannot have (spaces, line breaks, "
                    "typographic quotes or other non-ASCII characters); paste the token alone"
                )
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                raise ValueError("FOOTAGE_API_TOKEN is wrapped in quotes; set the token without them")
            return value or None
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        try:
            return validate_base_url(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def token(self) -> str | None:
        """The token in clear, for the ``apiKey`` header only. Never log it."""
        return self.api_token.get_secret_value() if self.api_token else None

    def route_overrides(self) -> dict[str, str]:
        """The route map overrides from ``FOOTAGE_ROUTES`` (empty without one).

        The file is a JSON object or a TOML table (optionally under ``[routes]``) of
        route key → path or RFC 6570 template under the base URL.

        Raises:
            ConfigError: unreadable file, bad syntax, or a non-string value.
        """
        if self.routes is None:
            return {}
        path = self.routes.expanduser()
        if not path.is_file():
            raise ConfigError(f"FOOTAGE_ROUTES: {path} is not a file")
        try:
            with path.open("rb") as handle:
                raw = handle.read(ROUTES_MAX_BYTES + 1)
            if len(raw) > ROUTES_MAX_BYTES:
                raise ConfigError(f"FOOTAGE_ROUTES: {path} is larger than {ROUTES_MAX_BYTES // 1024} KiB")
            text = raw.decode("utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"FOOTAGE_ROUTES: cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"FOOTAGE_ROUTES: {path} is not UTF-8 text") from None
        import tomllib  # lazy: only a TOML routes file needs it

        try:
            data: object = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            kind = "TOML" if path.suffix.lower() == ".toml" else "JSON (name the file *.toml for TOML)"
            raise ConfigError(f"FOOTAGE_ROUTES: {path} is not valid {kind}: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("routes"), dict):
            data = data["routes"]
        if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
            raise ConfigError(f"FOOTAGE_ROUTES: {path} must map route names to non-empty path strings")
        return {str(k): str(v) for k, v in data.items()}


def load_settings() -> Settings:
    """Read :class:`Settings` from the environment.

    Raises:
        ConfigError: with one line naming the variable and what is expected.
    """
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "configuration"
        env = {"api_token": "FOOTAGE_API_TOKEN"}.get(
            field, field if field.startswith("FOOTAGE_") else "FOOTAGE_" + field.upper()
        )
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(msg if msg.startswith(env) else f"{env}: {msg}") from None
