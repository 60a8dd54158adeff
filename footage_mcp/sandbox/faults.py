"""Fault injection for the sandbox: rules, their validation, and the ASGI middleware that applies them.

A rule (JSON object) names a path regex and one or more knobs::

    {"match": "^/albums$", "statuses": [503, 503, 429], "retry_after": "2"}
    {"match": "^/assets/[^/]+/preview$", "body": "aborted", "times": 1}
    {"match": "", "latency_ms": 250}

``match`` is ``re.search``-ed against the request path after ``/api/asset`` (``""`` for the root).
``times`` (optional, >= 1) limits how many requests the rule faults; then it is spent. The first
matching unspent rule wins. Knobs: ``latency_ms``; ``statuses`` (one per request, then spent);
``status`` (alone: that JSON error on every match; with ``body``: the status of that body; with
``redirect``: the redirect code); ``body`` (:data:`BODY_KINDS`, options ``size_bytes``,
``declare_length`` for ``oversized`` and ``slow_ms`` for ``slow``); ``redirect``
(:data:`REDIRECT_KINDS`, option ``hops`` for ``same-origin``); ``retry_after`` adds a
``Retry-After`` header to the rule's fault responses. ``validators`` (:data:`VALIDATOR_KINDS`, alone or
with ``latency_ms``) changes the normal answer's validators, since the real API's are unknown: ``none``
sends no ``ETag``/``Last-Modified`` and ignores conditional requests (always the full 200); ``huge`` an
``ETag`` of 8,000 characters; ``control`` an ``ETag`` holding control characters (both ignore conditional
requests too); ``cache_control`` (a string) sets the answer's ``Cache-Control`` header (e.g. ``no-store``,
``max-age=60``), alone or with ``validators``.

Faults apply before authentication. Every request under ``/api/asset`` is logged (see
:class:`SandboxState`); the ``/_sandbox/`` control routes are never faulted.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from starlette.datastructures import URL
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .constants import BASE_PATH
from .errors import error_body
from .hostile import HOSTILE_KINDS, HOSTILE_OPTIONS, OptionError, hostile_response, parse_options

__all__ = [
    "BODY_KINDS",
    "CLOSED_ORIGIN",
    "LOG_LIMIT",
    "REDIRECT_KINDS",
    "FaultMiddleware",
    "InjectedAbort",
    "Rule",
    "RuleError",
    "SandboxState",
    "load_rules_file",
    "parse_rules",
]

BODY_KINDS: Final = (
    "html",
    "truncated",
    "aborted",
    "oversized",
    "slow",
    "not_json",
    "empty",
    "error_echo",
    *HOSTILE_KINDS,
)
"""The ``body`` kinds; those of :data:`.hostile.HOSTILE_KINDS` are documented in :mod:`.hostile`."""
REDIRECT_KINDS: Final = ("other-origin", "same-origin", "loop")
VALIDATOR_KINDS: Final = ("none", "huge", "control")
REDIRECT_STATUSES: Final = (301, 302, 303, 307, 308)
CLOSED_ORIGIN: Final = "http://127.0.0.1:9"
"""Where other-origin redirects point when no echo listener runs (the discard port, normally closed)."""
LOG_LIMIT: Final = 5000
"""At most this many entries are kept in each request log (the oldest are dropped)."""
INJECTED_MESSAGE: Final = "Injected fault"
HOP_PARAM: Final = "_hop"

_KNOBS: Final = ("latency_ms", "statuses", "status", "body", "redirect", "validators", "cache_control")
_KEYS: Final = frozenset(
    {"match", "times", "retry_after", "size_bytes", "declare_length", "slow_ms", "hops", *_KNOBS, *HOSTILE_OPTIONS}
)
_SIZED: Final = ("oversized", "encoded_bomb", "jpeg_zeros", "corrupt_png")
_MAX_MS: Final = 600_000
_MAX_SIZE: Final = 1024**3
_DEFAULT_SIZE: Final = 12 * 1024**2
_DEFAULT_SLOW_MS: Final = 5000
_MAX_HOPS: Final = 100
_CHUNK: Final = 64 * 1024
_SLOW_CHUNKS: Final = 10
_HTML_PAGE: Final = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - Footage</title></head>
<body>
<main class="login">
<h1>Sign in to Footage</h1>
<form method="post" action="/login">
<label>E-mail <input type="email" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
<p><a href="/login/forgot">Forgot your password?</a></p>
</main>
</body>
</html>
"""


class RuleError(ValueError):
    """A fault rule (or the document holding the rules) is malformed; the message says where and why."""


class InjectedAbort(Exception):
    """Raised after half of an ``aborted`` body was sent, so the server drops the connection."""


@dataclass(slots=True)
class Rule:
    """One validated fault rule; ``source`` is the JSON object it was parsed from."""

    source: dict[str, Any]
    pattern: re.Pattern[str]
    times: int | None = None
    latency: float = 0.0
    statuses: tuple[int, ...] = ()
    status: int | None = None
    body: str | None = None
    redirect: str | None = None
    retry_after: str | None = None
    size_bytes: int = _DEFAULT_SIZE
    declare_length: bool = False
    slow: float = _DEFAULT_SLOW_MS / 1000
    hops: int = 1
    validators: str | None = None
    cache_control: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Options of a hostile body kind (see :mod:`.hostile`)."""
    size_given: bool = False
    used: int = 0

    @property
    def spent(self) -> bool:
        """Whether the rule applies no more (``times`` reached, or every status of ``statuses`` used)."""
        if self.times is not None and self.used >= self.times:
            return True
        return bool(self.statuses) and self.used >= len(self.statuses)

    @property
    def kind(self) -> str:
        """What the log calls this rule's fault: the body or redirect kind, ``status`` or ``latency``."""
        if self.statuses or (self.status is not None and self.body is None and self.redirect is None):
            return "status"
        if self.body is None and self.redirect is None and (self.validators or self.cache_control is not None):
            return "validators"
        return self.body or self.redirect or "latency"


# -- validation --------------------------------------------------------------------------------


def _int(raw: Any, key: str, low: int, high: int) -> int:
    """``raw`` as an int in [low, high] (booleans are not ints here)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise RuleError(f"'{key}' must be an integer from {low} to {high}, not {json.dumps(raw)}")
    return raw


def _millis(raw: Any, key: str) -> float:
    """``raw`` milliseconds (int or float in [0, _MAX_MS]) as seconds."""
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= _MAX_MS:
        raise RuleError(f"'{key}' must be a number of milliseconds from 0 to {_MAX_MS}, not {json.dumps(raw)}")
    return float(raw) / 1000


def _header_value(raw: Any, key: str) -> str:
    """A string usable verbatim as an HTTP header value (any content, so clients can be fed odd ones)."""
    if not isinstance(raw, str) or any(c in raw for c in "\r\n\0"):
        raise RuleError(f"'{key}' must be a string without line breaks, not {json.dumps(raw)}")
    try:
        raw.encode("latin-1")
    except UnicodeEncodeError:
        raise RuleError(f"'{key}' must be Latin-1 text") from None
    return raw


def _only_with(raw: Mapping[str, Any], key: str, knob: str, value: str) -> None:
    """Reject option ``key`` unless knob ``knob`` is ``value``."""
    if key in raw and raw.get(knob) != value:
        raise RuleError(f"'{key}' only applies to {knob} '{value}'")


def _choice(raw: Any, key: str, choices: Sequence[str]) -> str:
    if raw not in choices:
        raise RuleError(f"'{key}' must be one of {', '.join(choices)}, not {json.dumps(raw)}")
    return str(raw)


def parse_rule(raw: Any) -> Rule:
    """Validate one rule object. Raises RuleError."""
    if not isinstance(raw, dict):
        raise RuleError("a rule must be a JSON object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise RuleError(f"unknown key {', '.join(repr(k) for k in unknown)}")
    if "match" not in raw or not isinstance(raw["match"], str):
        raise RuleError("'match' (a regular expression string) is required")
    try:
        pattern = re.compile(raw["match"])
    except re.error as exc:
        raise RuleError(f"'match' is not a valid regular expression: {exc}") from None
    if not any(knob in raw for knob in _KNOBS):
        raise RuleError(f"a rule needs at least one of {', '.join(_KNOBS)}")
    rule = Rule(source=dict(raw), pattern=pattern)
    if "times" in raw:
        rule.times = _int(raw["times"], "times", 1, 10**9)
    if "latency_ms" in raw:
        rule.latency = _millis(raw["latency_ms"], "latency_ms")
    if "retry_after" in raw:
        rule.retry_after = _header_value(raw["retry_after"], "retry_after")
    if "statuses" in raw:
        statuses = raw["statuses"]
        if not isinstance(statuses, list) or not statuses or len(statuses) > 1000:
            raise RuleError("'statuses' must be a non-empty list of HTTP status codes")
        rule.statuses = tuple(_int(code, "statuses[]", 200, 599) for code in statuses)
        clash = [key for key in ("status", "body", "redirect") if key in raw]
        if clash:
            raise RuleError(f"'statuses' cannot be combined with '{clash[0]}'")
    if "body" in raw and "redirect" in raw:
        raise RuleError("'body' and 'redirect' cannot be combined")
    if "body" in raw:
        rule.body = _choice(raw["body"], "body", BODY_KINDS)
    if "size_bytes" in raw and raw.get("body") not in _SIZED:
        raise RuleError(f"'size_bytes' only applies to body {', '.join(repr(k) for k in _SIZED)}")
    try:
        rule.options = parse_options(raw, rule.body)
    except OptionError as exc:
        raise RuleError(str(exc)) from None
    _only_with(raw, "declare_length", "body", "oversized")
    _only_with(raw, "slow_ms", "body", "slow")
    if "size_bytes" in raw:
        rule.size_bytes = _int(raw["size_bytes"], "size_bytes", len(b'{"items":[]}'), _MAX_SIZE)
        rule.size_given = True
    if "declare_length" in raw:
        if not isinstance(raw["declare_length"], bool):
            raise RuleError("'declare_length' must be true or false")
        rule.declare_length = raw["declare_length"]
    if "slow_ms" in raw:
        rule.slow = _millis(raw["slow_ms"], "slow_ms")
    if "redirect" in raw:
        rule.redirect = _choice(raw["redirect"], "redirect", REDIRECT_KINDS)
    _only_with(raw, "hops", "redirect", "same-origin")
    if "hops" in raw:
        rule.hops = _int(raw["hops"], "hops", 1, _MAX_HOPS)
    if "validators" in raw or "cache_control" in raw:
        clash = [key for key in ("statuses", "status", "body", "redirect") if key in raw]
        if clash:
            raise RuleError(f"'validators' and 'cache_control' cannot be combined with '{clash[0]}'")
        if "validators" in raw:
            rule.validators = _choice(raw["validators"], "validators", VALIDATOR_KINDS)
        if "cache_control" in raw:
            rule.cache_control = _header_value(raw["cache_control"], "cache_control")
    if "status" in raw:
        if rule.redirect is not None:
            if raw["status"] not in REDIRECT_STATUSES:
                codes = ", ".join(map(str, REDIRECT_STATUSES))
                raise RuleError(f"a redirect 'status' must be one of {codes}, not {json.dumps(raw['status'])}")
            rule.status = int(raw["status"])
        elif rule.body == "slow":
            raise RuleError("'status' cannot be combined with body 'slow' (it keeps the normal response)")
        else:
            rule.status = _int(raw["status"], "status", 200, 599)
    return rule


def parse_rules(document: Any) -> list[Rule]:
    """Validate ``{"rules": [rule, ...]}`` (a bare list is accepted too). Raises RuleError.

    ``applied`` (as returned by ``GET /_sandbox/faults``) is ignored, so that answer can be PUT back.
    """
    if isinstance(document, dict):
        unknown = sorted(set(document) - {"rules", "applied"})
        if unknown:
            raise RuleError(f"unknown key {', '.join(repr(k) for k in unknown)} (expected 'rules')")
        if "rules" not in document:
            raise RuleError("expected an object with a 'rules' list")
        document = document["rules"]
    if not isinstance(document, list):
        raise RuleError("'rules' must be a list of rule objects")
    rules = []
    for index, raw in enumerate(document):
        try:
            rules.append(parse_rule(raw))
        except RuleError as exc:
            raise RuleError(f"rules[{index}]: {exc}") from None
    return rules


def load_rules_file(path: str | os.PathLike[str]) -> list[Rule]:
    """Rules from a JSON file (same document as the PUT body). Raises RuleError, naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read faults file {str(path)!r}: {exc}") from None
    try:
        return parse_rules(json.loads(text))
    except json.JSONDecodeError as exc:
        raise RuleError(f"faults file {str(path)!r} is not valid JSON: {exc}") from None
    except RuleError as exc:
        raise RuleError(f"faults file {str(path)!r}: {exc}") from None


# -- shared state ------------------------------------------------------------------------------


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers as {lower-case name: value}; repeated headers are joined with ", "."""
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


@dataclass(slots=True)
class SandboxState:
    """Fault rules and request logs shared by the app, its control routes and the echo listener."""

    echo_origin: str = CLOSED_ORIGIN
    base_url: str | None = None
    rules: list[Rule] = field(default_factory=list)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    echo_requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))

    def rules_json(self) -> dict[str, Any]:
        """``{"rules": [as given], "applied": [requests each rule faulted]}``."""
        return {"rules": [rule.source for rule in self.rules], "applied": [rule.used for rule in self.rules]}

    def select(self, path: str, hop: int) -> Rule | None:
        """The first unspent rule matching ``path`` (relative to BASE_PATH) that would fault this request.

        A same-origin redirect rule whose ``hops`` this request (``_hop`` = ``hop``) has already made
        does not match, so the normal answer (or a later rule) follows.
        """
        for rule in self.rules:
            if rule.spent or not rule.pattern.search(path):
                continue
            if rule.redirect == "same-origin" and hop >= rule.hops:
                continue
            return rule
        return None

    def log_request(self, scope: Scope) -> dict[str, Any]:
        """Append a request under BASE_PATH to the log; the caller fills in ``outcome``/``status``."""
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": _headers(scope),
            "outcome": "pending",
            "status": None,
        }
        self.requests.append(entry)
        return entry

    def log_echo(self, scope: Scope) -> None:
        """Append a request the echo listener received."""
        self.echo_requests.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": _headers(scope),
            }
        )


# -- responses ---------------------------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _filler_json() -> bytes:
    """A small valid JSON list page, used when the normal answer is not usable as a fault body."""
    items = [{"id": f"filler-{i:04d}", "name": f"Filler asset {i}", "mediaType": "image"} for i in range(20)]
    return _json_bytes({"items": items, "total": len(items)})


def _oversized_chunks(size: int) -> Iterator[bytes]:
    """Exactly ``size`` bytes of valid JSON, ``{"items":["xx…",…]}`` padded with spaces, in 64 KiB pieces."""
    head, tail = b'{"items":[', b"]}"
    inner = size - len(head) - len(tail)
    count, pad = divmod(inner, 1024)
    first = b'"' + b"x" * 1022 + b'"'
    unit = b',"' + b"x" * 1021 + b'"'
    per_chunk = _CHUNK // 1024
    yield head
    done = 0
    while done < count:
        n = min(per_chunk, count - done)
        yield (first + unit * (n - 1)) if done == 0 else unit * n
        done += n
    yield b" " * pad + tail


class _Captured:
    """A complete response from the wrapped app."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def header(self, name: bytes) -> str:
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return ""


def _without(headers: list[tuple[bytes, bytes]], *names: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() not in names]


class FaultMiddleware:
    """Logs every request under BASE_PATH and applies the first matching fault rule (before auth)."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        """Wrap ``app``; rules and logs live in ``state``."""
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass control routes through; log, then fault or pass requests under BASE_PATH."""
        path = scope["path"] if scope["type"] == "http" else ""
        if not (path == BASE_PATH or path.startswith(f"{BASE_PATH}/")):
            await self.app(scope, receive, send)
            return
        entry = self.state.log_request(scope)
        rule = self.state.select(path[len(BASE_PATH) :], _hop(scope))
        if rule is None:
            await self._normal(scope, receive, send, entry, None)
            return
        index = rule.used
        rule.used += 1
        if rule.latency:
            await asyncio.sleep(rule.latency)
        kind = rule.kind
        entry["outcome"] = f"fault:{kind}"
        extra = [(b"retry-after", rule.retry_after.encode("latin-1"))] if rule.retry_after is not None else []
        if kind == "latency":
            await self._normal(scope, receive, send, entry, "fault:latency")
        elif kind == "validators":
            await self._validators(scope, receive, send, entry, rule)
        elif kind == "status":
            status = rule.statuses[index] if rule.statuses else rule.status
            assert status is not None
            await self._error(send, entry, status, INJECTED_MESSAGE, path, extra)
        elif rule.redirect is not None:
            await self._redirect(scope, send, entry, rule, extra)
        else:
            await self._body(scope, receive, send, entry, rule, extra)

    # -- helpers -------------------------------------------------------------------------------

    async def _normal(
        self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any], outcome: str | None
    ) -> None:
        """The wrapped app's answer; the log gets its status (``ok`` below 400, else ``status:<code>``)."""

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                entry["status"] = status
                entry["outcome"] = outcome or ("ok" if status < 400 else f"status:{status}")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if entry["status"] is None:
                entry["status"], entry["outcome"] = 500, outcome or "status:500"
            raise

    async def _validators(self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any], rule: Rule) -> None:
        """The normal answer with its validators changed (see the module doc, ``validators``)."""
        if rule.validators is not None:  # conditional request headers are not seen by the app
            conditional = (b"if-none-match", b"if-modified-since")
            scope = {**scope, "headers": _without(list(scope.get("headers", [])), *conditional)}
        replaced: list[tuple[bytes, bytes]] = []
        if rule.validators == "huge":
            replaced.append((b"etag", b'"' + b"e" * 7998 + b'"'))
        elif rule.validators == "control":
            replaced.append((b"etag", b'"\x01tag\x1b[31m\x7f"'))
        if rule.cache_control is not None:
            replaced.append((b"cache-control", rule.cache_control.encode("latin-1")))

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if rule.validators is not None:
                    headers = _without(headers, b"etag", b"last-modified")
                if rule.cache_control is not None:
                    headers = _without(headers, b"cache-control")
                message = {**message, "headers": [*headers, *replaced]}
            await send(message)

        await self._normal(scope, receive, rewrite, entry, "fault:validators")

    async def _capture(self, scope: Scope, receive: Receive) -> _Captured:
        captured = _Captured()
        await self.app(scope, receive, captured.send)
        return captured

    @staticmethod
    async def _send(
        send: Send,
        entry: dict[str, Any],
        status: int,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        *,
        length: int | None = None,
    ) -> None:
        """Start a response (with Content-Length ``length``, default ``len(body)``) and send ``body``."""
        entry["status"] = status
        headers = [
            *_without(headers, b"content-length"),
            (b"content-length", str(len(body) if length is None else length).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": length is not None and length > len(body)})

    async def _error(
        self, send: Send, entry: dict[str, Any], status: int, message: str, path: str, extra: list[tuple[bytes, bytes]]
    ) -> None:
        body = _json_bytes(error_body(status, message, path))
        await self._send(send, entry, status, body, [(b"content-type", b"application/json"), *extra])

    async def _redirect(
        self, scope: Scope, send: Send, entry: dict[str, Any], rule: Rule, extra: list[tuple[bytes, bytes]]
    ) -> None:
        if rule.redirect == "other-origin":
            raw_path = scope.get("raw_path") or scope["path"].encode()
            query = scope.get("query_string", b"")
            location = (
                self.state.echo_origin + raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
            )
        else:
            location = str(URL(scope=scope).include_query_params(**{HOP_PARAM: _hop(scope) + 1}))
        headers = [(b"location", location.encode("latin-1")), *extra]
        await self._send(send, entry, rule.status or 302, b"", headers)

    async def _body(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        entry: dict[str, Any],
        rule: Rule,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        kind, path = rule.body, scope["path"]
        json_type = [(b"content-type", b"application/json"), *extra]
        if kind == "html":
            html = [(b"content-type", b"text/html; charset=utf-8"), *extra]
            await self._send(send, entry, rule.status or 200, _HTML_PAGE, html)
        elif kind == "not_json":
            await self._send(send, entry, rule.status or 200, b"OK", [(b"content-type", b"text/plain"), *extra])
        elif kind == "empty":
            await self._send(send, entry, rule.status or 200, b"", json_type)
        elif kind == "error_echo":
            key = _headers(scope).get("apikey", "")
            await self._error(send, entry, rule.status or 400, f"invalid apiKey {key} for this route", path, extra)
        elif kind == "truncated":
            normal = await self._capture(scope, receive)
            usable = normal.status < 300 and "json" in normal.header(b"content-type") and len(normal.body) >= 2
            text = bytes(normal.body) if usable else _filler_json()
            await self._send(send, entry, rule.status or 200, text[: len(text) // 2], json_type)
        elif kind == "aborted":
            normal = await self._capture(scope, receive)
            usable = normal.status < 300 and len(normal.body) >= 2
            headers = [*_without(normal.headers, b"content-length"), *extra] if usable else json_type
            full = bytes(normal.body) if usable else _filler_json()
            await self._send(send, entry, rule.status or 200, full[: len(full) // 2], headers, length=len(full))
            raise InjectedAbort(f"connection aborted after {len(full) // 2} of {len(full)} bytes (injected fault)")
        elif kind == "oversized":
            await self._oversized(send, entry, rule, json_type)
        elif kind in HOSTILE_KINDS:
            entry["status"] = await hostile_response(
                send,
                kind,
                path=path[len(BASE_PATH) :],
                url=str(URL(scope=scope)),
                token=_headers(scope).get("apikey", ""),
                status=rule.status,
                size=rule.size_bytes if rule.size_given else None,
                options=rule.options,
                extra=extra,
            )
        else:
            await self._slow(scope, receive, send, entry, rule, extra)

    @staticmethod
    async def _oversized(send: Send, entry: dict[str, Any], rule: Rule, headers: list[tuple[bytes, bytes]]) -> None:
        status = rule.status or 200
        entry["status"] = status
        if rule.declare_length:
            headers = [*headers, (b"content-length", str(rule.size_bytes).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for chunk in _oversized_chunks(rule.size_bytes):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _slow(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        entry: dict[str, Any],
        rule: Rule,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        """The normal answer, its body in up to ten pieces spread over ``slow_ms``."""
        normal = await self._capture(scope, receive)
        entry["status"] = normal.status
        body = bytes(normal.body)
        count = min(_SLOW_CHUNKS, len(body))
        headers = [*normal.headers, *extra]
        await send({"type": "http.response.start", "status": normal.status, "headers": headers})
        if count == 0:
            await asyncio.sleep(rule.slow)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        step = math.ceil(len(body) / count)
        pieces = [body[i : i + step] for i in range(0, len(body), step)]
        for n, piece in enumerate(pieces, 1):
            await asyncio.sleep(rule.slow / len(pieces))
            await send({"type": "http.response.body", "body": piece, "more_body": n < len(pieces)})


def _hop(scope: Scope) -> int:
    """The ``_hop`` query parameter of a request (0 when absent or not a number)."""
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name == HOP_PARAM:
            try:
                return max(0, int(value))
            except ValueError:
                return 0
    return 0
