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
FOOTAGE_DOWNLOAD_DIR   folder download_asset writes into               ~/Downloads/footage
FOOTAGE_DOWNLOAD_MAX_BYTES  largest file download_asset fetches        none (no cap)
FOOTAGE_UPLOAD_DIRS    folders upload_assets may read (os.pathsep)     none (no upload_assets)
FOOTAGE_ALLOW_WRITES   ``true`` registers the write tools              false
FOOTAGE_HTTP_AUTH      HTTP: ``server`` (FOOTAGE_API_TOKEN) or         server
                       ``client`` (each request brings its token)
FOOTAGE_ALLOWED_HOSTS  HTTP: extra Host/Origin values, comma-separated  none
=====================  =============================================  ==================================

The base URL must be ``https`` (plain ``http`` only on a loopback host, for the
sandbox) and must not carry credentials, a query or a fragment; anything else is
a :class:`~footage_mcp.core.errors.ConfigError`. The token is a ``SecretStr``: the
settings' repr never shows it. A token that cannot be right (quotes, a ``Bearer `` prefix, a line
break: :func:`diagnose_token`) is not an error at start: the bridge runs as without a token and every
call that needs one answers with the problem (:meth:`Settings.token_missing`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx2
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from footage_mcp.core.errors import ConfigError

DEFAULT_BASE_URL = "https://app.footage.one/api/asset"
"""Confirmed in the public docs (footage-api.md, 'Confirmed')."""

TOKEN_HELP = (
    "generate an API key at https://app.footage.one/account (section 'API Key') "
    "and set FOOTAGE_API_TOKEN in the MCP server's environment"
)

TOKEN_VARIABLES = ("FOOTAGE_API_TOKEN", "FOOTAGE_API_KEY")
"""Where the token is read from, in order (the first one set and not empty wins)."""

TOKEN_PLACEHOLDER = "paste-your-footage-api-token-here"
"""What ``footage-mcp config`` writes where the token goes (the README uses it too)."""

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


def is_valid_host_name(host: str) -> bool:
    """False when ``host`` (as a URL holds it, IPv6 without brackets) cannot be a DNS name: an
    ``xn--`` label (an IDNA A-label) that does not decode as punycode, an empty label, or one over 63
    characters. IP addresses are valid. Checked with the stdlib's ``idna`` codec, because httpx2 reads
    ASCII host names as they are (httpx rejected ``xn--zz``; httpx2 sends it to DNS)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        host.lower().encode("idna").decode("idna")
    except UnicodeError:
        return False
    return True


MAX_BASE_URL_CHARS = 2048
_UNEXPANDED = re.compile(r"^(?:\$\{[^}]*\}|\$[A-Za-z_]\w*|%[A-Za-z_]\w*%)$")
"""``${name}``, ``$NAME`` or ``%NAME%``: a variable reference the host did not expand."""


def url_character_problem(text: str) -> str | None:
    """What whitespace or control character ``text`` (a URL) contains, as "a line break", "a tab",
    "a space" or "a control character"; None when it has none. urlsplit silently drops some of them."""
    for char in text:
        if char in "\r\n":
            return "a line break"
        if char == "\t":
            return "a tab"
        if char == " " or (char.isspace() and ord(char) > 0x7F):
            return "a space"
        if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
            return "a control character"
    return None


def validate_base_url(url: str) -> str:
    """Return the base URL without a trailing slash, or raise :class:`ConfigError`.

    Accepted: an ``https`` URL (``http`` only on a loopback host) without credentials, query or
    fragment, at most :data:`MAX_BASE_URL_CHARS` characters, with no whitespace or control character
    inside, a port from 1 to 65535 and a host name httpx2 accepts that can be a DNS name
    (:func:`is_valid_host_name`)."""
    text = url.strip()
    if len(text) > MAX_BASE_URL_CHARS:
        raise ConfigError(f"FOOTAGE_BASE_URL is too long ({len(text)} characters; at most {MAX_BASE_URL_CHARS})")
    bad = url_character_problem(text)
    if bad is not None:
        raise ConfigError(f"FOOTAGE_BASE_URL contains {bad}; set it to a plain URL such as {DEFAULT_BASE_URL}")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"FOOTAGE_BASE_URL is not a valid URL: {exc}") from None
    if port == 0:
        raise ConfigError("FOOTAGE_BASE_URL: port 0 is not a port to connect to; give the API's port, or none")
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
    try:  # what the client will build its requests from: its host rules (IDNA) decide, on reading .host
        valid = is_valid_host_name(httpx2.URL(text).host)
    except (httpx2.InvalidURL, ValueError, UnicodeError):
        valid = False
    if not valid:
        raise ConfigError(
            f"FOOTAGE_BASE_URL is not a valid URL: its host name is not a valid host name (use e.g. {DEFAULT_BASE_URL})"
        ) from None
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
    cache_mb: int = Field(
        default=16,
        ge=0,
        le=1024,
        description="MiB of GET responses kept for conditional re-reads (ETag/Last-Modified); 0 turns it off.",
    )
    # Files (issue 12); the folder rules live in footage_mcp.rest.files.
    download_dir: Path | None = Field(default=None, description="Folder download_asset writes into.")
    download_max_bytes: int | None = Field(default=None, ge=1, description="Largest file download_asset fetches.")
    upload_dirs: str | None = Field(default=None, description="Folders upload_assets may read (os.pathsep).")
    allow_writes: bool = Field(default=False, description="true registers the write tools.")

    http_auth: Literal["server", "client"] = Field(
        default="server",
        description="HTTP transport: 'server' (the bridge's own token) or 'client' (each request brings its own).",
    )
    allowed_hosts: str | None = Field(
        default=None,
        description="HTTP transport: extra Host/Origin values accepted, comma-separated (behind a proxy).",
    )

    @field_validator("http_auth", mode="before")
    @classmethod
    def _lower_auth(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    state_secret: SecretStr | None = Field(
        default=None,
        description=(
            "HTTP transport: shared secret for everything the bridge signs (cursors, multi-round-trip state), so "
            "any replica accepts what another issued. Default: a key derived from the token and the base URL."
        ),
    )
    http_secret: SecretStr | None = Field(
        default=None,
        description=(
            "HTTP transport: the secret every client sends as 'Authorization: Bearer <secret>'; required with "
            "--allow-remote."
        ),
    )

    @property
    def call_budget(self) -> float:
        """Seconds one tool call may take at most: the request timeout plus the retry budget."""
        return self.timeout + self.retry_budget

    @field_validator("api_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        """Surrounding whitespace is dropped, a blank token is none. A mangled one is kept (never sent:
        :attr:`token` is None for it) so that :attr:`token_problem` can say what is wrong with it."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def _unexpanded_base_url_is_unset(cls, value: object) -> object:
        """An unexpanded ``${...}`` (an MCP Bundle's unfilled optional field, modelcontextprotocol/mcpb#250)
        means the default."""
        if isinstance(value, str) and _UNEXPANDED.match(value.strip()):
            return DEFAULT_BASE_URL
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
    def secrets(self) -> list[str]:
        """Every secret of this configuration (token, state and HTTP secrets): what logs and outputs redact."""
        values = (self.api_token, self.state_secret, self.http_secret)
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    @property
    def token(self) -> str | None:
        """The token in clear, for the ``apiKey`` header only. Never log it. None without one, and for
        a token that cannot be right (:attr:`token_problem`): the bridge runs as without a token."""
        raw = self.raw_token
        if raw is None:
            return None
        issue = _configured_token_issue(raw)
        return None if issue is not None and issue.fatal else raw

    @property
    def raw_token(self) -> str | None:
        """The token as configured (stripped), mangled or not: for redaction only."""
        return self.api_token.get_secret_value() if self.api_token else None

    @property
    def token_problem(self) -> str | None:
        """``FOOTAGE_API_TOKEN is wrapped in quotes …``: why the configured token cannot be right (a
        fatal :func:`diagnose_token` issue, never the token itself), or None."""
        raw = self.raw_token
        issue = diagnose_token(raw) if raw is not None else None
        if issue is None or not issue.fatal:
            return None
        return f"{token_from_env()[0] or TOKEN_VARIABLES[0]} {issue.message}"

    def token_missing(self, status: int | None = None) -> str:
        """What a call that needs the token says when :attr:`token` is None (``status``: the API's
        answer, when it answered): how to get one, or what is wrong with the one configured (the bridge
        starts anyway, so that the host shows this message instead of 'Connection closed')."""
        answered = f" ({status})" if status is not None else ""
        problem = self.token_problem
        if problem is not None:
            return f"this call needs a valid Footage API token{answered}: {problem} (then restart the MCP server)"
        return f"this call needs a Footage API token{answered}: {TOKEN_HELP}"

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


def load_settings(**overrides: object) -> Settings:
    """Read :class:`Settings` from the environment; ``overrides`` (field names) replace what the
    environment says, unvalidated values included (``footage-mcp check`` diagnoses the token and the
    base URL itself, and loads the rest this way).

    Raises:
        ConfigError: with one line naming the variable and what is wrong; never the token.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "configuration"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if field in ("api_token", *TOKEN_VARIABLES):  # the error names the first alias, whichever was set
            raise ConfigError(f"{token_from_env()[0] or TOKEN_VARIABLES[0]} {msg}") from None
        env = field if field.startswith("FOOTAGE_") else "FOOTAGE_" + field.upper()
        raise ConfigError(msg if msg.startswith(env) else f"{env}: {msg}") from None


def token_from_env(environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """``(variable, raw value)`` of the token as :class:`Settings` reads it: the first of
    :data:`TOKEN_VARIABLES` that is set and not empty; ``(None, "")`` when neither is."""
    environ = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = environ.get(name, "")
        if value:
            return name, value
    return None, ""


@dataclass(frozen=True, slots=True)
class TokenIssue:
    """Something wrong with a token's text. ``message`` completes a sentence that starts with the
    variable's name and never contains the token; ``fatal`` issues make the bridge refuse to start
    (the token cannot be right), the others are reported by ``footage-mcp check`` only."""

    message: str
    fatal: bool = True
    harmless: bool = False
    """The bridge works with the token as it is (surrounding whitespace, which it strips)."""


_QUOTES = "'\"\u201c\u201d\u2018\u2019\u00ab\u00bb`"
_PASTED_PREFIX = re.compile(r"(?i)(?:export\s+)?(?:FOOTAGE_API_TOKEN|FOOTAGE_API_KEY|api[-_]?key|token)\s*[=:]\s*")
_BEARER = re.compile(r"(?i)bearer(?:\s+|$)")
_VARIABLE_REFERENCE = re.compile(r"^(?:\$\{[^}]*\}?|\$[A-Za-z_]\w*|%[A-Za-z_]\w*%)$")
_PLACEHOLDER_WORDS = re.compile(r"(?i)(?:your|paste|insert|replace).{0,24}(?:token|key)|^<.*>$|^x{6,}$|^\.{3}$")


@lru_cache(maxsize=4)
def _configured_token_issue(raw: str) -> TokenIssue | None:
    """:func:`diagnose_token` of a configured token, memoised: :attr:`Settings.token` is read about
    three times per tool call, and the diagnosis (a dozen regular expressions) cost ~60 us each time.
    Only configured tokens come here (a team-mode request's token is diagnosed where it arrives, and
    not kept)."""
    return diagnose_token(raw)


def diagnose_token(raw: str) -> TokenIssue | None:
    """What is wrong with ``raw`` as an API token, the most specific problem first, or None.

    Fatal: quotes around it or at one end (straight or typographic), a ``Bearer `` prefix, a pasted
    ``apiKey=`` / ``FOOTAGE_API_TOKEN=`` / ``export ...=`` prefix, a line break, a space or tab inside,
    a non-ASCII or control character. Not fatal (the bridge would send it and the API answer 401):
    a placeholder or an unexpanded variable reference such as ``${input:...}``; and surrounding
    whitespace, which the bridge strips. Messages give positions and lengths, never the token.
    """
    token = raw.strip()
    if not token:
        return TokenIssue("is set but blank (only whitespace)", fatal=False) if raw else None
    length = f"{len(token)} characters"
    if token == TOKEN_PLACEHOLDER:
        return TokenIssue(
            f"is still the placeholder '{TOKEN_PLACEHOLDER}' from the configuration snippet; "
            "replace it with your API key from https://app.footage.one/account",
            fatal=False,
        )
    if token.upper() in TOKEN_VARIABLES:
        return TokenIssue(
            "is the variable's own name, not a token; replace it with your API key from https://app.footage.one/account",
            fatal=False,
        )
    if _VARIABLE_REFERENCE.match(token):
        form = "${...}" if token.startswith("${") else "%NAME%" if token.startswith("%") else "$NAME"
        return TokenIssue(
            f"is an unexpanded variable reference ({form}): this host passes it literally; put the token itself there",
            fatal=False,
        )
    first, last = token[0], token[-1]
    if first in _QUOTES and last in _QUOTES and len(token) >= 2:
        kind = "typographic quotes" if first not in "'\"" or last not in "'\"" else "quotes"
        return TokenIssue(
            f"is wrapped in {kind} ({first}…{last}); set the token without them "
            '(in a JSON file the only quotes are JSON\'s own: "FOOTAGE_API_TOKEN": "abc…")'
        )
    if first in _QUOTES or last in _QUOTES:
        end, char = ("starts", first) if first in _QUOTES else ("ends", last)
        return TokenIssue(f"{end} with a quote ({char}) that is not part of the token; remove it")
    if _BEARER.match(token):
        return TokenIssue(
            "starts with 'Bearer ': the bridge sends the token in the apiKey header itself; set only the token"
        )
    prefix = _PASTED_PREFIX.match(token)
    if prefix and len(token) > prefix.end():
        pasted = prefix.group(0).strip()
        return TokenIssue(f"starts with '{pasted}' (pasted with the token); set only the part after it")
    for index, char in enumerate(token, start=1):
        where = f"at character {index} of {len(token)}"
        if char in "\r\n":
            return TokenIssue(f"contains a line break {where}: the token was pasted across lines; put it on one line")
        if char in " \t":
            kind = "a space" if char == " " else "a tab"
            return TokenIssue(f"contains {kind} {where}; an API token has none, paste it again")
        if ord(char) > 0x7E:
            name = unicodedata.name(char, "unnamed")
            return TokenIssue(
                f"contains a non-ASCII character {where} (U+{ord(char):04X} {name}); "
                "paste the token again as plain text"
            )
        if ord(char) < 0x21 or ord(char) == 0x7F:
            return TokenIssue(f"contains a control character {where}; paste the token again as plain text")
    if _PLACEHOLDER_WORDS.search(token):
        return TokenIssue(
            "looks like a placeholder, not a token; replace it with your API key from https://app.footage.one/account",
            fatal=False,
        )
    if token != raw:
        return TokenIssue(
            f"has whitespace or a line break around it ({length} without it); the bridge ignores it, "
            "but remove it from the configuration to be safe",
            fatal=False,
            harmless=True,
        )
    return None
