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

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
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
    TokenMissing,
    TransportError,
)
from footage_mcp.core.settings import TOKEN_HELP
from footage_mcp.core.text import one_line
from footage_mcp.rest.fetch import OpenedFile, check_fetch_url, strong_validator, total_of
from footage_mcp.rest.file_models import DownloadResult
from footage_mcp.rest.files import (
    claim_final_path,
    describe_os_error,
    download_dir,
    is_disk_full,
    part_key,
    safe_filename,
)
from footage_mcp.rest.http import large_reads
from footage_mcp.rest.partfile import PartWriter, close_writer, discard, read_meta, write_meta
from footage_mcp.rest.renditions import RenditionLink, original_href, rendition_links
from footage_mcp.rest.shapes import parse_asset
from footage_mcp.rest.socketbody import direct_body, receive_into
from footage_mcp.rest.spool import first_error, spool

if TYPE_CHECKING:
    from footage_mcp.rest.api import FootageApi

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.25
MAX_EXPANSION = 100
"""A body sent with a ``Content-Encoding`` (the bridge asks for ``identity``) may decode to at most this many
times the bytes received, plus :data:`EXPANSION_SLACK_BYTES`: media barely compress, text about tenfold,
and 1.8 kB of gzip of gzip wrote a 1 GiB file before."""
EXPANSION_SLACK_BYTES = 1024 * 1024


MIN_BYTES_PER_TIMEOUT = 1024
"""A body must bring at least this many bytes in every FOOTAGE_TIMEOUT seconds (a server trickling a byte a
second held a download for as long as it liked: httpx2's timeout is per read)."""


class TooSlow(Exception):
    """The body brought fewer than :data:`MIN_BYTES_PER_TIMEOUT` bytes in FOOTAGE_TIMEOUT seconds."""


class CompressionBomb(BadResponse):
    """A compressed body that decoded past :data:`MAX_EXPANSION` times its bytes on the wire."""


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


WRITER_THREADS = 2
"""Worker threads writing (and hashing) downloads at once, whatever the number of downloads: fewer threads
contend less for the GIL with the event loop, so other calls keep answering during many downloads (20
downloads of 50 MB in process, 2 cores: the event loop's median lag 25-35 ms with 4 threads, 3-5 ms with 1
or 2; one download drains one buffer at a time, so it never needs more than one)."""
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()
_limiters_lock = threading.Lock()


def _writers() -> anyio.CapacityLimiter:
    """The limiter for download writes of the running event loop (the transfer loop's, or the caller's with an
    injected transport), made on first use there."""
    loop = asyncio.get_running_loop()
    with _limiters_lock:
        limiter = _limiters.get(loop)
        if limiter is None:
            limiter = _limiters[loop] = anyio.CapacityLimiter(WRITER_THREADS)
    return limiter


class _PartsInUse:
    """The ``.part`` files being written now, by every downloader of the process (HTTP team mode keeps one
    downloader per token, all writing into one download folder), as absolute paths."""

    def __init__(self) -> None:
        self._paths: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, path: Path, *, new: bool) -> bool:
        """Mark ``path`` in use and say True, unless it is in use already (or, with ``new``, exists)."""
        key = str(path)
        with self._lock:
            if key in self._paths or (new and path.exists()):
                return False
            self._paths.add(key)
            return True

    def discard(self, path: str) -> None:
        with self._lock:
            self._paths.discard(path)


_PARTS_IN_USE = _PartsInUse()


class Downloader:
    """Downloads for one :class:`~footage_mcp.rest.api.FootageApi` (its HTTP pool and settings)."""

    def __init__(self, api: FootageApi) -> None:
        self.api = api
        self.rest = api.rest

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

        def name_for(mime: str | None) -> str:
            return safe_filename(asset.name, fallback=f"asset-{asset_id}", mime_type=mime, suffix=suffix)

        key = part_key(asset_id, source.rendition)
        part = self._part_path(folder, name_for(source.mime_type), key)
        try:
            return await self.rest.transfer(
                lambda http, report: self._fetch(asset_id, source, name_for, part, report, http), progress
            )
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
            _PARTS_IN_USE.discard(str(part))

    async def _route_url(self, rendition: str, asset_id: str) -> str | None:
        if rendition not in (ORIGINAL, PREVIEW):
            return None
        route = await self.api.route("assetOriginal" if rendition == ORIGINAL else "assetPreview")
        return route.expand(self.rest.base_url, {v: asset_id for v in route.path_variables})

    def _part_path(self, folder: Path, name: str, key: str) -> Path:
        """The ``.part`` file for this asset and rendition: an existing one (to resume) unless another call is
        writing it right now, else a new one."""
        for existing in sorted(folder.glob(f"*.{key}.part")):
            if _PARTS_IN_USE.claim(existing, new=False):
                return existing
        primary = folder / f"{name}.{key}.part"
        if _PARTS_IN_USE.claim(primary, new=True):
            return primary
        for n in range(2, 1000):  # a concurrent download of the same file: its own, unresumable part
            candidate = folder / f"{name}.{key}~{n}.partial"
            if _PARTS_IN_USE.claim(candidate, new=True):
                return candidate
        raise LocalFileError("too many downloads of the same file at once; wait for them to finish")

    async def _fetch(
        self,
        asset_id: str,
        source: Source,
        name_for: Callable[[str | None], str],
        part: Path,
        progress: Progress | None,
        http: httpx2.AsyncClient,
    ) -> DownloadResult:
        """Fetch ``source`` into ``part`` with ``http`` and give it its final name (``name_for(MIME type)``:
        the asset's type, else the one the server sent)."""
        meta_path = part.with_name(part.name + ".json")
        resumable = part.suffix == ".part"
        offset, validator = 0, None
        if resumable and part.exists():
            saved = read_meta(meta_path)
            offset = part.stat().st_size
            validator = saved.get("validator") if saved.get("url") == _url_key(source.url) else None
            if not validator:
                offset = 0
        max_bytes = self.rest.settings.download_max_bytes
        writer: PartWriter | None = None
        resumed_from = 0
        total: int | None = None
        try:
            async with self._open(source.url, offset if validator else 0, validator, http) as response:
                status = response.status_code
                total = total_of(response, offset if status == 206 else 0)
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
                writer = await _open_writer(part, offset)
                if resumable:
                    write_meta(meta_path, {"url": _url_key(source.url), "validator": strong_validator(new_validator)})
                mime = (response.headers.get("content-type") or "").split(";")[0].strip().lower() or None
                await self._stream(response, writer, total, max_bytes, progress)
                done = writer.size
                if total is not None and done != total:
                    raise TransportError(_dropped(done, total, resumable))
        except (httpx2.TimeoutException, TooSlow) as exc:
            await close_writer(writer)
            _drop_useless(writer, resumable, part, meta_path)
            stalled = "the download stalled (no data for FOOTAGE_TIMEOUT seconds)"
            what = str(exc) if isinstance(exc, TooSlow) else stalled
            raise TransportError(
                f"{what}; " + ("call download_asset again to resume it" if resumable else "call download_asset again")
            ) from None
        except httpx2.TransportError:
            await close_writer(writer)
            _drop_useless(writer, resumable, part, meta_path)
            size = writer.size if writer else 0
            raise TransportError(_dropped(size, total, resumable)) from None
        except (httpx2.DecodingError, CompressionBomb) as exc:  # not its Content-Encoding, or a bomb (_chunks)
            await close_writer(writer)
            discard(part, meta_path)  # nothing to resume
            if isinstance(exc, CompressionBomb):
                raise
            raise BadResponse(
                "the file's server sent a body that does not match its Content-Encoding header; nothing was "
                "kept: call download_asset again later"
            ) from None
        except OSError as exc:
            await close_writer(writer)
            discard(part, meta_path)
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
            await close_writer(writer)
            if isinstance(exc, InvalidArgument):  # over the cap: nothing to resume
                discard(part, meta_path)
            else:
                _drop_useless(writer, resumable, part, meta_path)
            raise
        digest = await close_writer(writer)
        assert writer is not None and digest is not None
        try:
            final = claim_final_path(part, name_for(source.mime_type or mime))
        except OSError as exc:
            if not part.exists():  # the folder (or the part) was removed meanwhile: nothing is left to name
                discard(None, meta_path)
                raise LocalFileError(
                    f"the downloaded file vanished from {part.parent} before it could be named (was the folder "
                    "removed or cleaned during the download?); nothing was kept: call download_asset again"
                ) from None
            raise LocalFileError(
                f"cannot name the finished file in {part.parent} ({describe_os_error(exc)}); it stays as {part.name}"
            ) from None
        discard(None, meta_path)
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
        writer: PartWriter,
        total: int | None,
        max_bytes: int | None,
        progress: Progress | None,
    ) -> None:
        """Receive the body and write it, memory bounded, receiving and writing overlapped: over plain TCP
        with a ``Content-Length``, straight from the socket in worker threads
        (:mod:`footage_mcp.rest.socketbody`); otherwise through httpx2, the event loop copying what arrives
        into a few reused buffers that a worker thread writes and hashes (:func:`footage_mcp.rest.spool.spool`).
        A broken connection is raised after what arrived before it is on disk (for a resume)."""
        received = writer.size
        broken: list[BaseException] = []
        last = [0.0]
        timeout = self.rest.settings.timeout
        window = [time.monotonic(), float(received)]  # when the current FOOTAGE_TIMEOUT window began, bytes then

        def count(size: int) -> None:
            nonlocal received
            received += size
            _check_cap(received, max_bytes)
            now = time.monotonic()
            if now - window[0] >= timeout:  # httpx2's timeout is per read: a trickle never trips it
                if received - window[1] < MIN_BYTES_PER_TIMEOUT:
                    raise TooSlow(
                        f"the download is too slow (under {MIN_BYTES_PER_TIMEOUT:,} bytes in the last {timeout:g} s)"
                    )
                window[:] = [now, float(received)]

        async def drained() -> None:
            now = time.monotonic()
            if progress is not None and now - last[0] >= PROGRESS_INTERVAL_SECONDS:
                last[0] = now
                await progress(writer.size, total)

        if progress is not None:
            await progress(writer.size, total)
        direct = direct_body(response)
        try:
            if direct is not None:  # plain TCP with a Content-Length: read from the socket in a worker thread
                await receive_into(direct, writer, timeout=timeout, on_bytes=count, progress=drained)
            else:
                with large_reads(response):  # this connection only, for this body
                    pieces = _chunks(response, broken)
                    await spool(pieces, writer.write, limiter=_writers(), on_piece=count, on_drained=drained)
        except BaseExceptionGroup as group_error:  # the first error, as it was raised
            raise first_error(group_error) from None
        if broken:  # what arrived before the connection broke is on disk now, for a resume
            raise broken[0]
        if progress is not None:
            await progress(writer.size, total)

    def _open(self, url: str, offset: int, validator: str | None, http: httpx2.AsyncClient) -> OpenedFile:
        return OpenedFile(self.rest, url, offset, validator, http)


async def _open_writer(part: Path, offset: int) -> PartWriter:
    """:meth:`PartWriter.open` in a worker thread, shielded: a cancellation arriving meanwhile is delivered
    after the caller holds the writer (and closes it), never while the file is being opened and truncated."""
    with anyio.CancelScope(shield=True):
        writer = await anyio.to_thread.run_sync(PartWriter.open, part, offset)
    return writer


def _drop_useless(writer: PartWriter | None, resumable: bool, part: Path, meta: Path) -> None:
    """After a failure: delete a part nothing can resume (a concurrent download's own, or an empty one); keep
    the rest, and an earlier part this attempt never opened."""
    if not resumable or (writer is not None and writer.size == 0):
        discard(part, meta)


def _check_cap(received: int, max_bytes: int | None) -> None:
    if max_bytes is not None and received > max_bytes:
        raise InvalidArgument(
            f"the file is larger than FOOTAGE_DOWNLOAD_MAX_BYTES ({max_bytes:,} bytes); raise the limit to download it"
        )


async def _chunks(response: httpx2.Response, broken: list[BaseException]) -> AsyncIterator[bytes]:
    """The body's chunks; a transport error (dropped, stalled) ends them and is put in ``broken``. Without a
    ``Content-Encoding`` (what the request asks for) the raw stream is the body: read as it is, without
    httpx2's decoder and chunker steps per piece."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    in_memory = response.is_stream_consumed  # a mock's answer, read (and decoded) already
    raw = encoding in ("", "identity") and not in_memory
    pieces = response.aiter_raw() if raw else response.aiter_bytes()
    decoded = 0
    try:
        async for chunk in pieces:
            if not raw and not in_memory:  # decoded from what came over the wire: a bomb is stopped early
                decoded += len(chunk)
                wire = response.num_bytes_downloaded
                if decoded > MAX_EXPANSION * wire + EXPANSION_SLACK_BYTES:
                    raise CompressionBomb(
                        f"the file's server sent a compressed body ({one_line(encoding, 40)}, which the bridge did "
                        f"not ask for) that grew more than {MAX_EXPANSION}-fold: {wire:,} bytes received became "
                        f"over {decoded:,}; stopped as a likely compression bomb, nothing was kept"
                    )
            yield chunk
    except httpx2.TransportError as exc:
        broken.append(exc)


def _url_key(url: str) -> str:
    """What identifies the file across attempts: the URL without its query (a signed URL's signature
    changes on every call)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _dropped(done: int, total: int | None, resumable: bool) -> str:
    of = f" of {total:,}" if total is not None else ""
    kept = "the partial file is kept: call download_asset again to resume" if resumable else "call download_asset again"
    return f"the connection closed after {done:,}{of} bytes of the file; {kept}"


__all__ = ["Downloader", "LocalFileError", "Source", "check_fetch_url"]
