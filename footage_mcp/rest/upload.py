"""Uploading local files as new assets: :class:`Uploader`.

The request (footage-api.md: "upload (seen in the mobile app): multipart POST, one part named ``files``
per file", confirmed; the route is guessed: the ``upload`` route key, default ``POST /assets``): one
``multipart/form-data`` request per file, with one part ``files``, streamed from disk in chunks (a file is
never read whole) with an exact ``Content-Length``. Then, guessed too: the album (``addToAlbum``,
``POST /albums/{id}/assets`` ``{"assetIds": [...]}``) and labels (``assetLabels``, ``POST /assets/{id}/labels``
``{"labels": [...]}``).

An upload is never retried once its body started to go out: a failure after that point is reported as
"may or may not have been stored: search for its name". A re-run does not duplicate what it can detect:
a file whose name and size are already in the target album is skipped. Each outcome is logged as one
audit line at INFO (logger ``footage_mcp.audit``), never with the token.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from footage_mcp.core.errors import BadResponse, FootageError, Forbidden, InvalidArgument, TokenMissing, Unauthorized
from footage_mcp.core.settings import TOKEN_HELP
from footage_mcp.rest.file_models import UploadOutcome, UploadReport
from footage_mcp.rest.files import UploadSelection, describe_os_error, guess_mime
from footage_mcp.rest.http import MAX_JSON_BYTES, Fetched, decode_json, read_body
from footage_mcp.rest.shapes import object_id, parse_list
from footage_mcp.rest.socketsend import SendfileUnavailable, direct_sender
from footage_mcp.rest.spool import first_error

if TYPE_CHECKING:
    from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.writes import WriteClient

log = logging.getLogger(__name__)
audit = logging.getLogger("footage_mcp.audit")

CHUNK_BYTES = 512 * 1024
"""Bytes read from the file at a time. Below glibc's mmap threshold (fixed at 1 MiB, see
:func:`footage_mcp.rest.decoding.bound_heap`), so a block reuses heap memory: 1 MiB blocks were a fresh
mapping each, ~66,000-83,000 page faults per 256 MiB sent (21,000-30,000 now); the effect on throughput is
not settled (docs/benchmarks.md, Files)."""
BLOCKS_PER_READ = 4
"""Blocks read per worker-thread hop: the hop (anyio's queue and the GIL hand-over) cost about as much as the
read itself; 4 per hop took the bridge's user CPU per 512 MiB sent from 0.58-0.66 s to 0.44-0.46 s (in
process against the sandbox, 2 cores)."""
READ_AHEAD_BLOCKS = 2
"""Blocks read ahead of the one being sent (memory: about this many + BLOCKS_PER_READ + 2 blocks per upload)."""
PROGRESS_INTERVAL_SECONDS = 0.25
CONFIRM_ABOVE_FILES = 20
"""More files than this in one call need ``confirm=true`` (interface.md: writes touching more than 20 assets)."""
MAX_ALBUM_PAGES = 50
MAX_LABELS = 20

Progress = Callable[[int, int, str], Awaitable[None]]
"""``progress(bytes_done_overall, bytes_total_overall, message)``; the message names the file and its share."""


@dataclass(slots=True)
class _Sent:
    """How far one request got: whether any byte of the body left, and how many file bytes."""

    started: bool = False
    bytes: int = 0


def wire_name(name: str) -> str:
    """A file name as the ``filename`` parameter of a ``Content-Disposition`` carries it: UTF-8, with ``"``,
    CR and LF percent-encoded, as browsers send it (WHATWG multipart/form-data; RFC 7578 §4.2). Servers
    keep it so: it is also the name the duplicate check looks for in the album."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_head(boundary: str, filename: str, mime: str) -> bytes:
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="{wire_name(filename)}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()


def multipart_tail(boundary: str) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode()


class Uploader:
    """Uploads for one :class:`~footage_mcp.rest.api.FootageApi` (its HTTP pool and settings)."""

    def __init__(self, api: FootageApi) -> None:
        self.api = api
        self.rest = api.rest

    async def upload(
        self,
        selection: UploadSelection,
        *,
        album_id: str | None,
        labels: Sequence[str],
        confirm: bool,
        progress: Progress | None = None,
    ) -> UploadReport:
        """Upload the selected files (or, for more than :data:`CONFIRM_ABOVE_FILES` without ``confirm``, report
        what would happen and upload nothing).

        Raises:
            TokenMissing: no token configured.
            NotFound: ``album_id`` names no album (nothing was uploaded).
            Unauthorized, Forbidden: the API refused the first file for the token (nothing was stored; with
                files already uploaded, the rest are reported failed instead).
        """
        if not self.rest.has_token:
            raise TokenMissing(f"upload_assets needs a Footage API token: {TOKEN_HELP}")
        clean_labels = _clean_labels(labels)
        if album_id is not None:
            await self.api.get_album(album_id)  # NotFound before anything is sent
        existing, partial = await self._album_index(album_id, selection.files)
        outcomes: list[UploadOutcome] = [
            UploadOutcome(file=name, outcome="skipped", reason=why) for name, why in selection.skipped
        ]
        notes = list(selection.notes) + ([partial] if partial else [])
        sizes: dict[Path, int] = {}
        todo: list[Path] = []
        for path in selection.files:
            try:
                info = path.stat()
            except OSError as exc:
                outcomes.append(UploadOutcome(file=path.name, outcome="failed", reason=_unreadable(exc)))
                continue
            sizes[path] = info.st_size
            match = existing.get((path.name, info.st_size))
            if match is not None:
                outcomes.append(
                    UploadOutcome(
                        file=path.name,
                        size_bytes=info.st_size,
                        outcome="would_skip" if _dry(selection, confirm) else "skipped",
                        asset_id=match,
                        reason="an asset of the same name and size is already in the album",
                    )
                )
                continue
            todo.append(path)
        if _dry(selection, confirm):
            outcomes += [UploadOutcome(file=p.name, size_bytes=sizes[p], outcome="would_upload") for p in todo]
            notes.insert(
                0,
                f"nothing was uploaded: {len(selection.files)} files is more than {CONFIRM_ABOVE_FILES}; "
                "check the list, then call upload_assets again with confirm=true",
            )
            return _report(outcomes, album_id, clean_labels, notes, dry_run=True)

        total = sum(sizes[p] for p in todo)
        done_before = 0
        new_ids: list[tuple[int, str]] = []
        for number, path in enumerate(todo, 1):

            async def file_progress(
                done: int, path: Path = path, number: int = number, done_before: int = done_before
            ) -> None:
                if progress is not None:
                    share = f"{done * 100 // sizes[path]}%" if sizes[path] else "100%"
                    await progress(done_before + done, total, f"file {number}/{len(todo)} {path.name}: {share}")

            try:
                outcome = await self._one(path, sizes[path], file_progress)
            except (Unauthorized, Forbidden) as exc:
                if not new_ids:
                    raise
                outcomes += [
                    UploadOutcome(file=p.name, size_bytes=sizes[p], outcome="failed", reason=exc.message)
                    for p in todo[number - 1 :]
                ]
                break
            audit.info(
                "audit tool=upload_assets file=%s size=%d outcome=%s asset_id=%s",
                path.name,
                sizes[path],
                outcome.outcome,
                outcome.asset_id or "-",
            )
            if outcome.outcome == "uploaded" and outcome.asset_id:
                new_ids.append((len(outcomes), outcome.asset_id))
            outcomes.append(outcome)
            done_before += sizes[path]
        if new_ids and album_id:
            await self._add_to_album(album_id, new_ids, outcomes)
        if new_ids and clean_labels:
            await self._add_labels(new_ids, clean_labels, outcomes)
        return _report(outcomes, album_id, clean_labels, notes, dry_run=False)

    # ------------------------------------------------------------ one file

    async def _one(self, path: Path, size: int, progress: Callable[[int], Awaitable[None]]) -> UploadOutcome:
        try:
            handle = _open_regular(path)
        except OSError as exc:
            return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=_unreadable(exc))
        mime = guess_mime(path.name) or "application/octet-stream"
        boundary = "footage-" + secrets.token_hex(16)
        head, tail = multipart_head(boundary, path.name, mime), multipart_tail(boundary)
        sent = _Sent()
        route = await self.api.route("upload")
        url = route.expand(self.rest.base_url, {})
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
            "Accept": "application/json",
        }
        if self.rest.token and self.rest.is_under_base(url):
            headers["apiKey"] = self.rest.token

        async def send(http: httpx2.AsyncClient, report: Callable[[int], Awaitable[None]] | None) -> Fetched:
            """POST the multipart body with ``http``; ``report(bytes sent)`` for progress. The file's bytes go
            with ``sendfile(2)`` where the connection allows it (:mod:`footage_mcp.rest.socketsend`), else
            they are read ahead in a worker thread (one hop per few blocks) while the blocks before go out."""
            if report is None:
                report = _no_progress
            blocks, ready = anyio.create_memory_object_stream[bytes](READ_AHEAD_BLOCKS)

            def read_blocks(left: int) -> list[bytes]:
                """Up to :data:`BLOCKS_PER_READ` blocks of the next ``left`` bytes (fewer at the end; an
                empty one where the file ended early)."""
                out: list[bytes] = []
                while left > 0 and len(out) < BLOCKS_PER_READ:
                    block = handle.read(min(CHUNK_BYTES, left))
                    out.append(block)
                    if not block:
                        break
                    left -= len(block)
                return out

            async def read_ahead() -> None:
                async with blocks:
                    left = size
                    while left > 0:
                        for block in await anyio.to_thread.run_sync(read_blocks, left):
                            if not block:
                                raise _Shrunk(f"{path.name} got shorter while it was being uploaded")
                            left -= len(block)
                            await blocks.send(block)

            async def body() -> AsyncIterator[bytes]:
                sent.started = True
                yield head
                direct = direct_sender(http, request, size + len(tail)) if size else None
                if direct is not None:  # the kernel sends the file from the page cache (rest/socketsend.py)
                    try:  # progress: socketsend spaces its reports itself
                        await direct.send_file(handle, size, timeout=self.rest.settings.timeout, progress=report)
                    except SendfileUnavailable:  # refused before a byte went: the file goes through httpx2
                        direct = None
                    finally:
                        if direct is not None:
                            sent.bytes = direct.sent
                            blocks.close()  # the read-ahead is never started
                if direct is None:
                    group.start_soon(read_ahead)
                    last = 0.0
                    async with ready:
                        async for block in ready:
                            sent.bytes += len(block)
                            yield block
                            if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS:
                                last = time.monotonic()
                                await report(sent.bytes)
                if sent.bytes < size:  # the file or its reader stopped early: that error ends the request
                    raise _Shrunk(f"{path.name} got shorter while it was being uploaded")
                yield tail
                await report(sent.bytes)

            response: httpx2.Response | None = None
            request = http.build_request("POST", url, content=body(), headers=headers)
            try:
                with ready:  # closed whether or not the body was ever asked for
                    async with anyio.create_task_group() as group:
                        response = await http.send(request, stream=True)
                        group.cancel_scope.cancel()  # an answer before the whole body (413): stop reading
                assert response is not None  # the task group ended without an error: the request was answered
                with anyio.fail_after(self.rest.settings.timeout):  # the answer, bounded like any other
                    content = await read_body(response, MAX_JSON_BYTES)
            except BaseExceptionGroup as failed:  # the reader's error (or the request's), as it was raised
                raise first_error(failed) from None
            finally:
                if response is not None:
                    await response.aclose()
            return Fetched(url, response.status_code, response.headers, content)

        maybe = (
            f"the upload of {path.name} may or may not have been stored: search for its name "
            f"(search_assets query '{path.stem[:80]}') before uploading it again"
        )
        try:
            try:
                answer = await self.rest.transfer(send, progress)  # on the transfer loop over the network
            finally:
                handle.close()
        except _Shrunk as exc:
            return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=f"{exc}; {maybe}")
        except (httpx2.TimeoutException, TimeoutError):  # before OSError: TimeoutError is one
            reason = f"the API did not answer within {self.rest.settings.timeout:g} s; {maybe}"
            return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=reason)
        except OSError as exc:
            reason = f"cannot read the file ({describe_os_error(exc)})"
            if sent.bytes:
                reason += f"; {maybe}"
            return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=reason)
        except httpx2.TransportError:
            if not sent.started:
                reason = "cannot reach the Footage API; nothing was sent: call upload_assets again"
            else:
                reason = f"the connection broke during the upload; {maybe}"
            return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=reason)
        except BadResponse as exc:  # an answer over the cap, or not what its encoding says: unread
            return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=f"{exc.message}; {maybe}")
        status = answer.status
        if status in (200, 201, 202):
            asset_id = _created_id(answer)
            return UploadOutcome(
                file=path.name,
                size_bytes=size,
                outcome="uploaded",
                asset_id=asset_id,
                reason=None if asset_id else "the API stored it but named no id; search for its name to find it",
            )
        if status in (401, 403):
            raise self.rest.error_for(status, answer.headers, answer.content, url)
        if status == 413:
            reason = f"the archive refused it as too large (413; {size:,} bytes)"
        elif status == 415:
            reason = f"the archive does not take this type of file (415; {mime})"
        elif status >= 500:
            reason = f"the Footage service failed ({status}); {maybe}"
        else:
            error = self.rest.error_for(status, answer.headers, answer.content, url)
            reason = error.message
        return UploadOutcome(file=path.name, size_bytes=size, outcome="failed", reason=reason)

    # ------------------------------------------------------------ duplicates, album, labels

    async def _album_index(
        self, album_id: str | None, files: Sequence[Path]
    ) -> tuple[dict[tuple[str, int], str], str | None]:
        """``(name, size) → asset id`` for assets of the album whose name one of ``files`` has, and a note when
        the album is too large to check whole."""
        if album_id is None:
            return {}, None
        partial: str | None = None
        wanted = {wire_name(p.name): p.name for p in files}
        by_name: dict[str, list[str]] = {}
        cursor: str | None = None
        for _ in range(MAX_ALBUM_PAGES):
            listing = await self.api.list_album_assets(album_id, limit=100, cursor=cursor)
            for summary in listing.result.assets:
                if summary.name in wanted:  # the name as it was sent; indexed under the local name
                    by_name.setdefault(wanted[summary.name], []).append(summary.id)
            cursor = listing.result.next_cursor
            if not cursor:
                break
        else:
            partial = (
                f"the album has more than {MAX_ALBUM_PAGES * 100} assets; only the first "
                f"{MAX_ALBUM_PAGES * 100} were checked for files already there"
            )
        index: dict[tuple[str, int], str] = {}
        for name, ids in by_name.items():
            for asset_id in ids[:5]:
                try:
                    asset = await self.api.get_asset(asset_id)
                except FootageError:
                    continue
                if asset.size_bytes is not None:
                    index.setdefault((name, asset.size_bytes), asset_id)
        return index, partial

    async def _post_json(self, key: str, path_id: str, field: str, values: list[str]) -> None:
        """One additive, idempotent write through the write machinery (:mod:`footage_mcp.rest.writes`):
        its route order (object link, discovery, defaults, FOOTAGE_ROUTES), body field names and retries."""
        writer = WriteClient(self.api, self.rest.settings.route_overrides())
        target = await writer.target(key, {"id": path_id})
        await writer.send(target, {writer.field(key, field): values}, idempotent=True)

    async def _add_to_album(self, album_id: str, new_ids: list[tuple[int, str]], outcomes: list[UploadOutcome]) -> None:
        try:
            await self._post_json("addToAlbum", album_id, "assetIds", [i for _, i in new_ids])
            audit.info("audit tool=upload_assets add_to_album=%s assets=%d outcome=done", album_id, len(new_ids))
        except FootageError as exc:
            audit.info("audit tool=upload_assets add_to_album=%s outcome=failed", album_id)
            for index, _ in new_ids:
                outcomes[index] = outcomes[index].model_copy(
                    update={"reason": f"uploaded, but not added to album {album_id}: {exc.message}"}
                )

    async def _add_labels(
        self, new_ids: list[tuple[int, str]], labels: list[str], outcomes: list[UploadOutcome]
    ) -> None:
        for index, asset_id in new_ids:
            try:
                await self._post_json("assetLabels", asset_id, "labels", labels)
                audit.info("audit tool=upload_assets add_labels asset_id=%s outcome=done", asset_id)
            except FootageError as exc:
                audit.info("audit tool=upload_assets add_labels asset_id=%s outcome=failed", asset_id)
                previous = outcomes[index].reason
                text = f"uploaded, but the labels were not applied: {exc.message}"
                reason = f"{previous}; {text}" if previous else text
                outcomes[index] = outcomes[index].model_copy(update={"reason": reason})


class _Shrunk(Exception):
    pass


async def _no_progress(_sent: int) -> None:
    return None


def _dry(selection: UploadSelection, confirm: bool) -> bool:
    return len(selection.files) > CONFIRM_ABOVE_FILES and not confirm


def _open_regular(path: Path) -> Any:
    """``path`` opened for reading without following a symlink swapped in since the check; a regular file only.

    Opened without blocking (a FIFO swapped in since the selection would otherwise block the open until
    a writer came, and the call with it), checked, then set back to blocking reads.

    Raises:
        IsADirectoryError: not a regular file (a directory, a FIFO, a device …).
        OSError: it cannot be opened (a symlink: ``ELOOP``).
    """
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags | nonblocking)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(21, "not a regular file")
    if nonblocking:
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb", buffering=0)


def _unreadable(exc: OSError) -> str:
    return f"cannot read the file ({describe_os_error(exc)}); nothing was sent"


def _clean_labels(labels: Sequence[str]) -> list[str]:
    """Labels as footage.one spells them (``#name``; confirmed: free flat hashtags), deduplicated.

    Raises:
        InvalidArgument: more than :data:`MAX_LABELS`, or one that is empty or has spaces/control characters.
    """
    if len(labels) > MAX_LABELS:
        raise InvalidArgument(f"at most {MAX_LABELS} labels per call, got {len(labels)}")
    out: list[str] = []
    for raw in labels:
        text = raw.strip().lstrip("#")
        if not text or len(text) > 64 or any(c.isspace() or ord(c) < 32 for c in text):
            raise InvalidArgument(f"label {raw[:40]!r} is not a label: one word of up to 64 characters, e.g. '#drone'")
        label = "#" + text
        if label not in out:
            out.append(label)
    return out


def _created_id(answer: Fetched) -> str | None:
    """The new asset's id: from a JSON object, a list or a HAL page of created assets, or the ``Location``."""
    body: Any = None
    if answer.content:
        try:
            body = decode_json(answer)
        except BadResponse:  # not JSON (or nested too deep, not UTF-8 …): the Location may still say
            body = None
    if isinstance(body, dict):
        found = object_id(body, "asset")
        if found:
            return found
    if isinstance(body, list | dict):
        page = parse_list(body, rel="assets")
        for item in page.items:
            found = object_id(item, "asset")
            if found:
                return found
    location = answer.headers.get("location", "").rstrip("/")
    if location:
        return location.rsplit("/", 1)[-1] or None
    return None


def _report(
    outcomes: list[UploadOutcome], album_id: str | None, labels: list[str], notes: list[str], *, dry_run: bool
) -> UploadReport:
    count = {kind: sum(1 for o in outcomes if o.outcome == kind) for kind in ("uploaded", "skipped", "failed")}
    return UploadReport(
        files=outcomes,
        uploaded=count["uploaded"],
        skipped=count["skipped"] + sum(1 for o in outcomes if o.outcome == "would_skip"),
        failed=count["failed"],
        dry_run=dry_run,
        album_id=album_id,
        labels=labels,
        note="; ".join(notes) or None,
    )


__all__ = ["Uploader", "multipart_head", "multipart_tail", "wire_name"]
