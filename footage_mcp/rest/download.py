"""Streaming an asset's original or a rendition to disk: :class:`Downloader`.

Where the file comes from, in order of trust (footage-api.md, "Writes, files and keywords", guessed):
the asset's own link (``_links.download`` / ``original`` or a ``downloadUrl``-like field; for a named
rendition its listed href), then the route map (``assetOriginal``, default ``GET /assets/{id}/original``;
``assetPreview`` for ``preview``). A link may lead to another origin (a CDN, signed storage): that is
fetched **without** the ``apiKey`` header, over https only (plain http only to a loopback host, for the
sandbox); the token goes only to the API's base URL, redirects included.

How it is written: in chunks (memory stays flat whatever the size) to ``<name>.<key>.part`` in the
download folder, SHA-256 computed on the way, renamed to the final name at the end without ever
overwriting (``name (2).ext`` …). A ``.part`` left by an interrupted attempt (connection dropped,
cancellation) is resumed with ``Range`` + ``If-Range`` when the server answers 206, started over when it
answers 200. A full disk or a permission problem is one :class:`LocalFileError`; nothing is ever left
under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2

from footage_mcp.core.errors import (
    BadResponse,
    FootageError,
    InvalidArgument,
    NotFound,
    RedirectRefused,
    TokenMissing,
    TransportError,
)
from footage_mcp.core.settings import TOKEN_HELP, is_loopback_host
from footage_mcp.rest.file_models import DownloadResult
from footage_mcp.rest.files import (
    claim_final_path,
    describe_os_error,
    download_dir,
    is_disk_full,
    part_key,
    safe_filename,
)
from footage_mcp.rest.renditions import RenditionLink, original_href, rendition_links
from footage_mcp.rest.shapes import parse_asset

if TYPE_CHECKING:
    from footage_mcp.rest.api import FootageApi

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
"""Bytes gathered before one write (and hash update) in a worker thread."""
DIRECT_BYTES = CHUNK_BYTES
"""A received piece at least this big is handed to the writer as it is (no gathering copy). Smaller pieces
are gathered: one thread hop per MiB costs less than the copy saves (about 0.4 CPU-s/GiB, measured)."""
QUEUE_CHUNKS = 4
"""Chunks received ahead of the writer at most (memory bound: about QUEUE_CHUNKS + 2 chunks)."""
READ_BYTES = 1024 * 1024
PROGRESS_INTERVAL_SECONDS = 0.25
FLUSH_SECONDS = 0.5
"""A slow body is written at least this often, so an interruption keeps what arrived."""
MAX_REDIRECTS = 5
ORIGINAL = "original"
PREVIEW = "preview"

Progress = Callable[[int, int | None], Awaitable[None]]
"""``progress(bytes_done, bytes_total_or_None)``."""


class LocalFileError(FootageError):
    """The local side failed: the download folder, a full disk, a permission problem."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where one file is fetched from: the URL, whether the token may go there, and what the asset says
    about it (MIME type, size)."""

    url: str
    rendition: str
    mime_type: str | None
    size_bytes: int | None


def check_fetch_url(url: str) -> None:
    """Refuse an address a file must not be fetched from.

    Raises:
        RedirectRefused: not https (plain http only to a loopback host), credentials in it, or no host.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise RedirectRefused("the file's address is not a valid URL; the bridge did not fetch it") from None
    if parts.username is not None or parts.password is not None:
        raise RedirectRefused("the file's address carries credentials; the bridge does not fetch it")
    if not host:
        raise RedirectRefused("the file's address has no host; the bridge did not fetch it")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return
    raise RedirectRefused(
        f"the file is offered at a plain http (or other non-https) address on {host}; "
        "the bridge fetches files over https only"
    )


WRITER_THREADS = 4
"""Worker threads writing (and hashing) downloads at once, whatever the number of downloads: fewer threads
contend less for the GIL with the event loop, so other calls keep answering during many downloads."""
_limiter: list[anyio.CapacityLimiter] = []


def _writers() -> anyio.CapacityLimiter:
    """The process's limiter for download writes (made on first use, inside the running event loop)."""
    if not _limiter:
        _limiter.append(anyio.CapacityLimiter(WRITER_THREADS))
    return _limiter[0]


def tune_read_size() -> None:
    """Let the HTTP/1.1 connections read up to :data:`READ_BYTES` per socket read instead of httpcore2's
    64 KiB (its ``READ_NUM_BYTES`` class attribute, the one knob it has): about twice the throughput for
    large bodies on loopback, measured by bench/run.py ``files``; small JSON answers are unaffected."""
    from httpcore2._async.http11 import AsyncHTTP11Connection

    if AsyncHTTP11Connection.READ_NUM_BYTES < READ_BYTES:
        AsyncHTTP11Connection.READ_NUM_BYTES = READ_BYTES


class Downloader:
    """Downloads for one :class:`~footage_mcp.rest.api.FootageApi` (its HTTP pool and settings)."""

    def __init__(self, api: FootageApi) -> None:
        self.api = api
        self.rest = api.rest
        self._active: set[str] = set()

    # ------------------------------------------------------------ where from

    async def source(self, asset_id: str, rendition: str, body: Mapping[str, Any]) -> Source:
        """The :class:`Source` of ``rendition`` (``original``, ``preview`` or a listed name) of the asset ``body``.

        Raises:
            InvalidArgument: the asset lists no rendition of that name (the message lists the ones it has).
        """
        asset = parse_asset(body) or parse_asset({**body, "id": asset_id})
        assert asset is not None
        wanted = rendition.strip().lower()
        base = self.rest.base_url.rstrip("/") + "/"
        if wanted == ORIGINAL:
            href = original_href(body)
            if href:
                return Source(urljoin(base, href), ORIGINAL, asset.mime_type, asset.size_bytes)
            route = await self.api.route("assetOriginal")
            url = route.expand(self.rest.base_url, {v: asset_id for v in route.path_variables})
            return Source(url, ORIGINAL, asset.mime_type, asset.size_bytes)
        listed: dict[str, RenditionLink] = {r.rendition.name.lower(): r for r in rendition_links(body)}
        if wanted in listed and listed[wanted].href:
            link = listed[wanted]
            return Source(
                urljoin(base, link.href or ""), link.rendition.name, link.rendition.mime_type, link.rendition.size_bytes
            )
        if wanted == PREVIEW:
            route = await self.api.route("assetPreview")
            url = route.expand(self.rest.base_url, {v: asset_id for v in route.path_variables})
            return Source(url, PREVIEW, None, None)
        names = [
            ORIGINAL,
            PREVIEW,
            *(r.rendition.name for r in listed.values() if r.rendition.name.lower() not in (ORIGINAL, PREVIEW)),
        ]
        if wanted in listed:
            raise InvalidArgument(
                f"asset '{asset_id}' lists a rendition '{rendition}' but gives no address for it; "
                f"try one of: {', '.join(names)}"
            )
        raise InvalidArgument(
            f"asset '{asset_id}' has no rendition '{rendition[:64]}'; it has: {', '.join(names)} (get_asset lists them)"
        )

    # ------------------------------------------------------------ the download

    async def download(
        self, asset_id: str, rendition: str = ORIGINAL, *, progress: Progress | None = None
    ) -> DownloadResult:
        """Download ``rendition`` of ``asset_id`` into the download folder.

        Raises:
            NotFound: no such asset, or no file at the address (404).
            InvalidArgument: an unknown rendition; the file is over ``FOOTAGE_DOWNLOAD_MAX_BYTES``.
            LocalFileError: the download folder cannot be created or written, the disk is full.
            TransportError: the connection dropped or stalled (the ``.part`` file is kept for a resume).
            RedirectRefused: the file is offered over plain http, or a redirect leaves https.
            ApiError: any other error answer.
        """
        settings = self.rest.settings
        if not self.rest.has_token:
            raise TokenMissing(f"download_asset needs a Footage API token: {TOKEN_HELP}")
        try:
            folder = download_dir(settings.download_dir)
        except InvalidArgument as exc:
            raise LocalFileError(exc.message) from None
        body = await self.api.asset_object(asset_id)
        source = await self.source(asset_id, rendition, body)
        asset = parse_asset(body) or parse_asset({**body, "id": asset_id})
        assert asset is not None
        suffix = "" if source.rendition == ORIGINAL else f".{source.rendition}"
        name = safe_filename(asset.name, fallback=f"asset-{asset_id}", mime_type=source.mime_type, suffix=suffix)
        key = part_key(asset_id, source.rendition)
        part = self._part_path(folder, name, key)
        try:
            return await self._fetch(asset_id, source, name, part, progress)
        except NotFound:
            where = "its own link" if source.url != await self._route_url(source.rendition, asset_id) else "the route"
            key = "assetOriginal" if source.rendition == ORIGINAL else "assetPreview"
            hint = (
                f"; if the API keeps files elsewhere, set the {key} route in FOOTAGE_ROUTES"
                if where == "the route"
                else ""
            )
            raise NotFound(f"asset '{asset_id}' has no {source.rendition} file at {where} (404){hint}", 404) from None
        finally:
            self._active.discard(str(part))

    async def _route_url(self, rendition: str, asset_id: str) -> str | None:
        if rendition not in (ORIGINAL, PREVIEW):
            return None
        route = await self.api.route("assetOriginal" if rendition == ORIGINAL else "assetPreview")
        return route.expand(self.rest.base_url, {v: asset_id for v in route.path_variables})

    def _part_path(self, folder: Path, name: str, key: str) -> Path:
        """The ``.part`` file for this asset and rendition: an existing one (to resume) unless another call is
        writing it right now, else a new one."""
        for existing in sorted(folder.glob(f"*.{key}.part")):
            if str(existing) not in self._active:
                self._active.add(str(existing))
                return existing
        primary = folder / f"{name}.{key}.part"
        if str(primary) not in self._active and not primary.exists():
            self._active.add(str(primary))
            return primary
        for n in range(2, 1000):  # a concurrent download of the same file: its own, unresumable part
            candidate = folder / f"{name}.{key}~{n}.partial"
            if str(candidate) not in self._active and not candidate.exists():
                self._active.add(str(candidate))
                return candidate
        raise LocalFileError("too many downloads of the same file at once; wait for them to finish")

    async def _fetch(
        self, asset_id: str, source: Source, name: str, part: Path, progress: Progress | None
    ) -> DownloadResult:
        meta_path = part.with_name(part.name + ".json")
        resumable = part.suffix == ".part"
        offset, validator = 0, None
        if resumable and part.exists():
            saved = _read_meta(meta_path)
            offset = part.stat().st_size
            validator = saved.get("validator") if saved.get("url") == _url_key(source.url) else None
            if not validator:
                offset = 0
        max_bytes = self.rest.settings.download_max_bytes
        writer: _PartWriter | None = None
        resumed_from = 0
        total: int | None = None
        try:
            async with self._open(source.url, offset if validator else 0, validator) as response:
                status = response.status_code
                total = _total_of(response, offset if status == 206 else 0)
                if status == 206:
                    resumed_from = offset
                else:
                    offset = 0
                if max_bytes is not None and total is not None and total > max_bytes:
                    raise InvalidArgument(
                        f"the file is {total:,} bytes, over FOOTAGE_DOWNLOAD_MAX_BYTES ({max_bytes:,}); "
                        "raise the limit to download it"
                    )
                new_validator = response.headers.get("etag") or response.headers.get("last-modified")
                writer = await anyio.to_thread.run_sync(_PartWriter.open, part, offset)
                if resumable:
                    _write_meta(meta_path, {"url": _url_key(source.url), "validator": _strong(new_validator)})
                mime = (response.headers.get("content-type") or "").split(";")[0].strip().lower() or None
                await self._stream(response, writer, total, max_bytes, progress)
                done = writer.size
                if total is not None and done != total:
                    raise TransportError(_dropped(done, total, resumable))
        except httpx2.TimeoutException:
            await _close(writer)
            raise TransportError(
                "the download stalled (no data for FOOTAGE_TIMEOUT seconds); "
                + ("call download_asset again to resume it" if resumable else "call download_asset again")
            ) from None
        except httpx2.TransportError:
            await _close(writer)
            size = writer.size if writer else 0
            raise TransportError(_dropped(size, total, resumable)) from None
        except OSError as exc:
            await _close(writer)
            _discard(part, meta_path)
            if is_disk_full(exc):
                raise LocalFileError(
                    f"the disk holding {part.parent} is full; nothing was kept: free space "
                    "(or set FOOTAGE_DOWNLOAD_DIR to another disk) and call download_asset again"
                ) from None
            raise LocalFileError(
                f"cannot write in the download folder {part.parent} ({describe_os_error(exc)}); "
                "set FOOTAGE_DOWNLOAD_DIR to a folder you can write to"
            ) from None
        except BaseException as exc:
            await _close(writer)
            over_cap = isinstance(exc, InvalidArgument)
            if over_cap or not resumable or (writer is not None and writer.size == 0):
                _discard(part, meta_path)
            raise
        digest = await _close(writer)
        assert writer is not None and digest is not None
        try:
            final = claim_final_path(part, name)
        except OSError as exc:
            raise LocalFileError(
                f"cannot name the finished file in {part.parent} ({describe_os_error(exc)}); it stays as {part.name}"
            ) from None
        _discard(None, meta_path)
        note = None
        if source.size_bytes is not None and source.rendition == ORIGINAL and source.size_bytes != writer.size:
            note = f"the asset declares {source.size_bytes:,} bytes; the server sent {writer.size:,}"
        return DownloadResult(
            path=str(final),
            size_bytes=writer.size,
            mime_type=mime or source.mime_type,
            sha256=digest,
            rendition=source.rendition,
            asset_id=asset_id,
            resumed_from_bytes=resumed_from or None,
            note=note,
        )

    async def _stream(
        self,
        response: httpx2.Response,
        writer: _PartWriter,
        total: int | None,
        max_bytes: int | None,
        progress: Progress | None,
    ) -> None:
        """Receive the body and write it: the network loop gathers :data:`CHUNK_BYTES` at a time and hands
        them to a writer task (hash and write in a worker thread, which releases the GIL), at most
        :data:`QUEUE_CHUNKS` ahead, so memory stays bounded while receiving and writing overlap."""
        tune_read_size()
        failure: list[BaseException] = []
        send, receive = anyio.create_memory_object_stream[bytes | bytearray](max_buffer_size=QUEUE_CHUNKS)

        async def write_all() -> None:
            last = 0.0
            try:
                async with receive:
                    async for data in receive:
                        await anyio.to_thread.run_sync(writer.write, data, limiter=_writers())
                        now = time.monotonic()
                        if progress is not None and now - last >= PROGRESS_INTERVAL_SECONDS:
                            last = now
                            await progress(writer.size, total)
            except Exception as exc:  # an OSError (disk full …): stop the network side too
                failure.append(exc)
                receive.close()

        if progress is not None:
            await progress(writer.size, total)
        received = writer.size
        broken: list[BaseException] = []
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(write_all)
                await self._receive(response, send, received, max_bytes, broken)
        except BaseExceptionGroup as group_error:  # the network side's error, as it was raised
            raise _first(group_error) from None
        if failure:
            raise failure[0]
        if broken:  # what arrived before the connection broke is on disk now, for a resume
            raise broken[0]
        if progress is not None:
            await progress(writer.size, total)

    @staticmethod
    async def _receive(
        response: httpx2.Response, send: Any, received: int, max_bytes: int | None, broken: list[BaseException]
    ) -> None:
        """Hand the body to the writer; a broken connection is put in ``broken`` after what arrived was handed
        on (so it gets written), other errors are raised."""
        buffer = bytearray()
        try:
            async with send:
                flushed = time.monotonic()
                async for chunk in _chunks(response, broken):
                    received += len(chunk)
                    if not buffer and len(chunk) >= DIRECT_BYTES:  # a big read goes on as it is: no copy
                        _check_cap(received, max_bytes)
                        await send.send(chunk)
                        flushed = time.monotonic()
                        continue
                    buffer += chunk
                    _check_cap(received, max_bytes)
                    now = time.monotonic()
                    if len(buffer) >= CHUNK_BYTES or now - flushed >= FLUSH_SECONDS:  # a slow body reaches disk too
                        await send.send(buffer)  # handed over, not copied: a new buffer is started
                        buffer, flushed = bytearray(), now
                if buffer:
                    await send.send(buffer)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the writer failed; its error is raised by the caller

    def _open(self, url: str, offset: int, validator: str | None) -> _Opened:
        return _Opened(self, url, offset, validator)

    def token_headers(self, url: str) -> dict[str, str]:
        token = self.rest.settings.token
        return {"apiKey": token} if token and self.rest.is_under_base(url) else {}


class _Opened:
    """``async with``: the final (non-redirect) response for a GET of ``url``, streaming; redirects followed
    by the rules of :func:`check_fetch_url`, the token only while under the base URL."""

    def __init__(self, downloader: Downloader, url: str, offset: int, validator: str | None) -> None:
        self.d, self.url, self.offset, self.validator = downloader, url, offset, validator
        self.response: httpx2.Response | None = None

    async def __aenter__(self) -> httpx2.Response:
        rest = self.d.rest
        current, with_token = self.url, True
        for _hop in range(MAX_REDIRECTS + 1):
            check_fetch_url(current)
            with_token = with_token and rest.is_under_base(current)
            headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
            if with_token:
                headers.update(self.d.token_headers(current))
            if self.offset and self.validator:
                headers["Range"] = f"bytes={self.offset}-"
                headers["If-Range"] = self.validator
            request = rest.http.build_request("GET", current, headers=headers)
            try:
                response = await rest.http.send(request, stream=True)
            except httpx2.TimeoutException:
                raise TransportError(
                    f"{urlsplit(current).hostname} did not answer within {rest.settings.timeout:g} s; try again later"
                ) from None
            except httpx2.TransportError:
                raise TransportError(
                    f"cannot reach {urlsplit(current).hostname} for the file; check the network, then retry"
                ) from None
            status = response.status_code
            if status in (301, 302, 303, 307, 308) and "location" in response.headers:
                await response.aclose()
                target = urljoin(current, response.headers["location"])
                if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
                    raise RedirectRefused("the file's server redirected from https to plain http; not followed")
                current = target
                continue
            if status == 416 and self.offset:
                await response.aclose()
                self.offset = 0  # the saved part is no use: start over
                continue
            if status in (200, 203, 206):
                if status == 206 and not _range_starts_at(response, self.offset):
                    await response.aclose()
                    self.offset, self.validator = 0, None
                    continue
                self.response = response
                return response
            content = b""
            try:
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > 8192:
                        break
            except (httpx2.HTTPError, httpx2.StreamError):
                pass
            await response.aclose()
            if status == 404:
                raise NotFound("no file at the address the API gives for it (404)", 404)
            if rest.is_under_base(current):
                raise rest.error_for(status, response.headers, content, current)
            raise BadResponse(
                f"the file's server ({urlsplit(current).hostname}) answered {status}; the download link may have "
                "expired: call download_asset again",
                status,
            )
        raise RedirectRefused(f"the file's server redirected more than {MAX_REDIRECTS} times; giving up")

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            await self.response.aclose()


def _check_cap(received: int, max_bytes: int | None) -> None:
    if max_bytes is not None and received > max_bytes:
        raise InvalidArgument(
            f"the file is larger than FOOTAGE_DOWNLOAD_MAX_BYTES ({max_bytes:,} bytes); raise the limit to download it"
        )


async def _chunks(response: httpx2.Response, broken: list[BaseException]) -> Any:
    """The body's chunks; a transport error (dropped, stalled) ends them and is put in ``broken``."""
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx2.TransportError as exc:
        broken.append(exc)


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    """The exception that ended a task group: the first that is not a cancellation."""
    cancelled = anyio.get_cancelled_exc_class()
    found: list[BaseException] = list(group.exceptions)
    for exc in found:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, cancelled):
            return exc
    return found[0]


def _range_starts_at(response: httpx2.Response, offset: int) -> bool:
    value = response.headers.get("content-range", "")
    try:
        unit, _, rest = value.partition(" ")
        start = int(rest.split("-", 1)[0])
    except ValueError:
        return False
    return unit.strip().lower() == "bytes" and start == offset


def _total_of(response: httpx2.Response, offset: int) -> int | None:
    """The whole file's size: from ``Content-Range`` (206) or ``Content-Length`` + the kept bytes."""
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2].strip()
        if total.isdigit():
            return int(total)
    if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None  # the length counts the encoded bytes; the file's size is known only at the end
    length = response.headers.get("content-length", "")
    return int(length) + offset if length.strip().isdigit() else None


def _strong(validator: str | None) -> str | None:
    """A validator If-Range may carry: a strong ETag or a date (a weak ``W/`` ETag may not)."""
    if not validator or validator.startswith("W/"):
        return None
    return validator


def _url_key(url: str) -> str:
    """What identifies the file across attempts: the URL without its query (a signed URL's signature
    changes on every call)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _dropped(done: int, total: int | None, resumable: bool) -> str:
    of = f" of {total:,}" if total is not None else ""
    kept = "the partial file is kept: call download_asset again to resume" if resumable else "call download_asset again"
    return f"the connection closed after {done:,}{of} bytes of the file; {kept}"


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(4096))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_meta(path: Path, data: dict[str, Any]) -> None:
    """Write the resume note next to the part (never through a symlink planted under its name)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data))


def _discard(part: Path | None, meta: Path | None) -> None:
    for path in (part, meta):
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()


async def _close(writer: _PartWriter | None) -> str | None:
    """Close the part file (also while the call is being cancelled) and return its SHA-256."""
    if writer is None:
        return None
    with anyio.CancelScope(shield=True):
        digest: str = await anyio.to_thread.run_sync(writer.close)
    return digest


class _PartWriter:
    """The ``.part`` file opened for appending, with the running SHA-256 of everything in it."""

    def __init__(self, handle: Any, hasher: Any, size: int) -> None:
        self.handle, self.hasher, self.size = handle, hasher, size
        self.closed = False

    @classmethod
    def open(cls, path: Path, keep: int) -> _PartWriter:
        """Open ``path``, keeping its first ``keep`` bytes (hashed again) and dropping the rest."""
        hasher = hashlib.sha256()
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o644)
        handle = os.fdopen(fd, "r+b", buffering=0)
        try:
            kept = 0
            while kept < keep:
                block = handle.read(min(CHUNK_BYTES * 4, keep - kept))
                if not block:
                    break
                hasher.update(block)
                kept += len(block)
            handle.truncate(kept)
            handle.seek(kept)
        except BaseException:
            handle.close()
            raise
        return cls(handle, hasher, kept)

    def write(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:
            written = self.handle.write(view)
            view = view[written:]
        self.hasher.update(data)
        self.size += len(data)

    def close(self) -> str:
        if not self.closed:
            self.closed = True
            self.handle.close()
        return str(self.hasher.hexdigest())


__all__ = ["Downloader", "LocalFileError", "Source", "check_fetch_url"]
