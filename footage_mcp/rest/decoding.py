"""Bounded decoding of ``Content-Encoding``: no decoding step may produce more than the cap.

A body can be compressed through several layers (``Content-Encoding: gzip, gzip``), and a few KB of
them can expand to gigabytes. httpx2's decoders (2.16) produce bounded pieces but count nothing, and a
body read whole (``response.read()``, ``client.request``) keeps them all; so the REST client reads the
*raw* body (``aiter_raw``) and decodes it here, layer by layer, with
``zlib.decompressobj(...).decompress(data, max_length)``: every layer's output is produced in pieces of
at most :data:`STEP` bytes and counted against the cap, so neither a layer nor the whole pipeline can
hold more than the cap (plus one piece) at any moment.

Supported: ``gzip`` (and ``x-gzip``), ``deflate`` (zlib-wrapped or raw), ``identity``; ``br`` and
``zstd`` only when a decoder with an output bound is installed (neither is a dependency: the
bridge does not advertise them in ``Accept-Encoding`` otherwise). Anything else is an upstream
fault the bridge cannot read (:class:`UnsupportedEncoding`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

STEP = 64 * 1024
"""Largest piece a decoding step produces at a time (bytes)."""


class DecodingFailed(Exception):
    """The body is not what its ``Content-Encoding`` says (e.g. labelled gzip but not gzip)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        self.encoding = encoding


class UnsupportedEncoding(Exception):
    """The ``Content-Encoding`` names a coding the bridge cannot decode (the name is in ``encoding``)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        self.encoding = encoding


class TooLarge(Exception):
    """A decoding step (or the raw body) produced more than the cap."""


class _Layer(Protocol):
    name: str

    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Zlib:
    """One gzip or deflate layer: output in pieces of at most :data:`STEP` bytes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._raw_fallback = name == "deflate"
        wbits = zlib.MAX_WBITS | 16 if name == "gzip" else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self._obj.eof:  # bytes after the stream's end are ignored (as browsers do)
            try:
                out = self._obj.decompress(data, STEP)
            except zlib.error:
                if self._raw_fallback and not self._started:  # "deflate" sent as raw deflate (common)
                    self._raw_fallback = False
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise DecodingFailed(self.name) from None
            self._started = self._started or bool(data)
            if out:
                yield out
            data = self._obj.unconsumed_tail
            if not data and len(out) < STEP:  # input used up and nothing more pending
                return

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if not self._obj.eof:  # the compressed stream ended early: not a whole gzip/deflate stream
            raise DecodingFailed(self.name)


def _optional_layers() -> dict[str, Callable[[str], _Layer]]:
    """Decoders for ``br``/``zstd`` with an output bound, when such a library is installed (none is
    today; this is the place to add one)."""
    return {}


def supported_encodings() -> tuple[str, ...]:
    """The codings to advertise in ``Accept-Encoding``."""
    return ("gzip", "deflate", *_optional_layers())


class BoundedDecoder:
    """Decodes a body labelled ``content_encoding`` (a header value, codings in the order applied)
    so that no layer produces more than ``cap`` bytes in all.

    Raises (from the constructor) :class:`UnsupportedEncoding`; (from :meth:`feed`/:meth:`finish`)
    :class:`DecodingFailed` and :class:`TooLarge`.
    """

    def __init__(self, content_encoding: str, cap: int) -> None:
        self.cap = cap
        optional = _optional_layers()
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        layers: list[_Layer] = []
        for name in reversed(names):  # the last coding applied is undone first
            if name in ("identity", ""):
                continue
            if name in ("gzip", "x-gzip"):
                layers.append(_Zlib("gzip"))
            elif name == "deflate":
                layers.append(_Zlib("deflate"))
            elif name in optional:
                layers.append(optional[name](name))
            else:
                raise UnsupportedEncoding(name)
        self._layers = layers
        self._produced = [0] * len(layers)
        self.size = 0
        """Decoded bytes produced so far."""

    def _through(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self._produced[index] += len(piece)
            if self._produced[index] > self.cap:
                raise TooLarge
            yield piece

    def _run(self, index: int, data: bytes | None) -> Iterator[bytes]:
        """Pass ``data`` (None: the end of the body) into layer ``index`` and onwards."""
        if index == len(self._layers):
            if data:
                yield data
            return
        layer = self._layers[index]
        pieces = layer.finish() if data is None else layer.feed(data)
        for piece in self._through(index, pieces):
            yield from self._run(index + 1, piece)
        if data is None:
            yield from self._run(index + 1, None)

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next raw chunk."""
        for piece in self._run(0, raw):
            self.size += len(piece)
            if self.size > self.cap:
                raise TooLarge
            yield piece

    def finish(self) -> Iterator[bytes]:
        """The pieces the layers still hold at the end of the body."""
        for piece in self._run(0, None):
            self.size += len(piece)
            if self.size > self.cap:
                raise TooLarge
            yield piece


_TRIM: list[Callable[[int], int] | None] = []
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1024 * 1024
"""Allocations this large get their own mapping, returned to the OS when freed (glibc ``mallopt``)."""
_BOUND: list[bool] = []


def bound_heap() -> None:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES` (once per process; a no-op elsewhere).

    glibc raises the threshold dynamically up to 32 MiB after a large mapping is freed, so later
    bodies of that size are carved from a (worker thread's) heap and stay resident after they are
    freed. Measured (10 refused 30 MB previews read whole, bridge in-process): +51 MB resident with the
    dynamic threshold, malloc_trim or not; back to the baseline with the threshold fixed."""
    if _BOUND:
        return
    _BOUND.append(True)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass


def trim_heap() -> None:
    """``malloc_trim(0)`` (glibc): return free heap pages to the OS. Loaded once; absent elsewhere.

    Measured (30 refused 30 MB previews, bridge over stdio): without it RSS stays ~56 MB above the
    baseline, since glibc keeps the freed body's pages in the heap; with it RSS returns to the baseline."""
    if not _TRIM:
        try:
            import ctypes

            _TRIM.append(ctypes.CDLL("libc.so.6").malloc_trim)
        except (OSError, AttributeError):
            _TRIM.append(None)
    trim = _TRIM[0]
    if trim is not None:
        trim(0)
