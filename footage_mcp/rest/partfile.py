"""The ``.part`` file of a download in progress: written in chunks with its running SHA-256, and the small
JSON note beside it that lets the next attempt resume (the URL and the validator for ``If-Range``).

Every open refuses to follow a symlink planted under the part's name (``O_NOFOLLOW``)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import anyio

REHASH_BYTES = 4 * 1024 * 1024
"""Bytes read back at a time when a kept part is hashed again for a resume."""


def read_meta(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(4096))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def write_meta(path: Path, data: dict[str, Any]) -> None:
    """Write the resume note next to the part (never through a symlink planted under its name)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data))


def discard(part: Path | None, meta: Path | None) -> None:
    for path in (part, meta):
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()


async def close_writer(writer: PartWriter | None) -> str | None:
    """Close the part file (also while the call is being cancelled) and return its SHA-256."""
    if writer is None:
        return None
    with anyio.CancelScope(shield=True):
        digest: str = await anyio.to_thread.run_sync(writer.close)
    return digest


class PartWriter:
    """The ``.part`` file opened for appending, with the running SHA-256 of everything in it."""

    def __init__(self, handle: Any, hasher: Any, size: int) -> None:
        self.handle, self.hasher, self.size = handle, hasher, size
        self.closed = False

    @classmethod
    def open(cls, path: Path, keep: int) -> PartWriter:
        """Open ``path``, keeping its first ``keep`` bytes (hashed again) and dropping the rest."""
        hasher = hashlib.sha256()
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o644)
        handle = os.fdopen(fd, "r+b", buffering=0)
        try:
            kept = 0
            while kept < keep:
                block = handle.read(min(REHASH_BYTES, keep - kept))
                if not block:
                    break
                hasher.update(block)
                kept += len(block)
            if os.fstat(fd).st_size != kept:  # not for a new file: on ext4, a truncation to 0 makes the close
                handle.truncate(kept)  # write the whole file out (auto_da_alloc): 0.6 s per GiB, measured
            handle.seek(kept)
        except BaseException:
            handle.close()
            raise
        return cls(handle, hasher, kept)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` and add it to the SHA-256."""
        self.append(data)
        self.digest(data)

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the file (and to :attr:`size`) without hashing it: the caller passes the same
        bytes, in the same order, to :meth:`digest` (from another thread, :mod:`footage_mcp.rest.socketbody`).

        Raises:
            OSError: the write failed (a full disk, a permission problem).
        """
        view = memoryview(data)
        while view:
            written = self.handle.write(view)
            view = view[written:]
        self.size += len(data)

    def digest(self, data: bytes | bytearray | memoryview) -> None:
        """Add ``data`` (appended already) to the SHA-256."""
        self.hasher.update(data)

    def close(self) -> str:
        if not self.closed:
            self.closed = True
            self.handle.close()
        return str(self.hasher.hexdigest())


__all__ = ["PartWriter", "close_writer", "discard", "read_meta", "write_meta"]
