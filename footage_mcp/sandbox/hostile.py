"""Hostile bodies for fault injection: what a malicious or broken upstream can answer with.

Each kind in :data:`HOSTILE_KINDS` is a ``body`` knob of a fault rule (see :mod:`.faults`), with
options validated by :func:`parse_options`:

- ``encoded_bomb``: ``size_bytes`` (default 512 MiB) of zeros compressed through ``encodings``
  (default ``["gzip", "gzip"]``; each ``gzip`` or ``deflate``), sent chunked with a stacked
  ``Content-Encoding`` (a compression bomb whose decoded size no header declares).
- ``not_gzip``: a JSON body labelled ``Content-Encoding: gzip`` that is not gzip.
- ``unknown_encoding``: a body labelled ``Content-Encoding: x-footage-unknown``.
- ``png_bomb``: a ~690 KB PNG declaring ``width``×``height`` (default 13,300×13,300) RGBA pixels.
- ``jpeg_zeros``: ``FF D8 FF`` then zeros, ``size_bytes`` in all (default 30 MB), as ``image/jpeg``.
- ``image_metadata``: a small PNG (``image_format`` ``png``, default) or JPEG whose every metadata
  kind (PNG tEXt, iTXt, zTXt, eXIf, XMP, iCCP; JPEG COM, EXIF, XMP, ICC) holds the request's
  ``apiKey`` (a token echoed into metadata); labelled ``label`` (default: the *other* format's type).
- ``corrupt_png``: a PNG whose IDAT chunk is damaged (bad CRC, broken data); with ``size_bytes``,
  padded to that size by a private ancillary chunk before the image data, so that its start looks fine
  and a client reads it whole before it fails.
- ``echo_cut``: status 400 (or ``status``), text ``"E" * 122 + <apiKey> + "!"``.
- ``echo_long``: JSON ``{"text": "E" * 379 + <apiKey> + "!" * 2000}``, so that a cut to fit an
  output budget (at 400 characters, say) falls inside the token.
- ``next_echo``: a list page of two items whose continuation holds the request's ``apiKey``:
  ``via`` ``link`` (a next link ``...?page=1&apiKey=<token>``, default), ``cursor``
  (``"nextCursor": <token>``) or ``header`` (``Link: <...&apiKey=<token>>; rel="next"``).
- ``non_finite``: JSON with ``NaN``/``Infinity`` literals and a ``"NaN:0"`` duration: an object for
  object routes (``/albums/{id}``, ``/assets/{id}``, ``/configuration/...``), else a list page.
- ``deep``: a JSON object nested ``depth`` levels (default 197).
- ``huge_int``: a list page holding a 100,000-digit integer.
- ``bad_utf8``: a list page with invalid UTF-8 bytes in a string.
- ``huge_header``: a normal-looking JSON body after a 1 MB header line.
- ``many_links``: ``count`` (default 10,000) ``Link`` headers.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Final

from starlette.types import Send

__all__ = ["HOSTILE_KINDS", "HOSTILE_OPTIONS", "hostile_response", "parse_options", "prepare"]

HOSTILE_KINDS: Final = (
    "encoded_bomb",
    "not_gzip",
    "unknown_encoding",
    "png_bomb",
    "jpeg_zeros",
    "image_metadata",
    "corrupt_png",
    "echo_cut",
    "echo_long",
    "next_echo",
    "non_finite",
    "deep",
    "huge_int",
    "bad_utf8",
    "huge_header",
    "many_links",
)
HOSTILE_OPTIONS: Final = frozenset({"encodings", "width", "height", "image_format", "label", "via", "depth", "count"})
_OPTION_KINDS: Final[Mapping[str, tuple[str, ...]]] = {
    "encodings": ("encoded_bomb",),
    "width": ("png_bomb",),
    "height": ("png_bomb",),
    "image_format": ("image_metadata",),
    "label": ("image_metadata",),
    "via": ("next_echo",),
    "depth": ("deep",),
    "count": ("many_links",),
}
_CHUNK: Final = 64 * 1024
_BLOCK: Final = 1024 * 1024
_CODINGS: Final = ("gzip", "deflate")
_MAX_DIMENSION: Final = 65_535
_OBJECT_PATH: Final = re.compile(r"^/(albums|assets)/[^/]+/?$|^/configuration/")
JSON: Final = (b"content-type", b"application/json")


class OptionError(ValueError):
    """A hostile option is malformed (the message says which and why)."""


def parse_options(raw: Mapping[str, Any], kind: str | None) -> dict[str, Any]:
    """The hostile options of rule ``raw`` for body ``kind``, validated. Raises :class:`OptionError`."""
    options: dict[str, Any] = {}
    for key in HOSTILE_OPTIONS & set(raw):
        if kind not in _OPTION_KINDS[key]:
            raise OptionError(f"'{key}' only applies to body {' or '.join(repr(k) for k in _OPTION_KINDS[key])}")
        value = raw[key]
        if key == "encodings":
            if not isinstance(value, list) or not 1 <= len(value) <= 8 or any(v not in _CODINGS for v in value):
                raise OptionError("'encodings' must be a list of 1 to 8 of 'gzip', 'deflate'")
        elif key in ("width", "height", "depth", "count"):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_DIMENSION:
                raise OptionError(f"'{key}' must be an integer from 1 to {_MAX_DIMENSION}")
        elif key == "image_format":
            if value not in ("png", "jpeg"):
                raise OptionError("'image_format' must be 'png' or 'jpeg'")
        elif key == "label":
            if not isinstance(value, str) or not value.isascii() or any(c in value for c in "\r\n\0"):
                raise OptionError("'label' must be an ASCII content type")
        elif key == "via" and value not in ("link", "cursor", "header"):
            raise OptionError("'via' must be 'link', 'cursor' or 'header'")
        options[key] = value
    return options


# -- bodies ------------------------------------------------------------------------------------


def _compress(data_chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    for chunk in data_chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def _zeros(size: int) -> Iterator[bytes]:
    block = bytes(1024 * 1024)
    while size > 0:
        yield block[: min(size, len(block))]
        size -= len(block)


def _compressed_zeros(size: int, encoding: str) -> bytes:
    """``size`` zeros as a gzip or zlib stream (see :func:`_repeated`)."""
    count, rest = divmod(size, _BLOCK)
    return _repeated(bytes(_BLOCK), count, bytes(rest), encoding)


def _repeated(block: bytes, count: int, tail: bytes, encoding: str) -> bytes:
    """``block`` × ``count`` + ``tail`` as a gzip or zlib stream, built in well under a second: after a
    full flush each block compresses to the same bytes, so one is compressed and repeated (compressing
    512 MiB outright takes ~10 s on a busy machine, and the sandbox must keep answering)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts: list[bytes] = []
    if count:
        parts.append(compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH))
    if count > 1:
        again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
        parts.append(again * (count - 1))
    parts.append(compressor.compress(tail) + compressor.flush(zlib.Z_FINISH))
    crc, adler = _repeated_checksums(block, count)
    crc = _crc32_combine(crc, zlib.crc32(tail), len(tail))
    adler = _adler32_combine(adler, zlib.adler32(tail), len(tail))
    raw = b"".join(parts)
    if encoding == "gzip":
        size = len(block) * count + len(tail)
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"
        return header + raw + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    return b"\x78\xda" + raw + adler.to_bytes(4, "big")


_CRC_POLY = 0xEDB88320
_ADLER_BASE = 65521


def _multmodp(a: int, b: int) -> int:
    """``a(x) * b(x)`` modulo the CRC-32 polynomial, in zlib's reflected bit order (zlib's multmodp)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^1, then x^2, x^4, ... x^(2^31)
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's crc32_combine)."""
    p, k, n = 1 << 31, 3, len2  # x^(8 * len2)
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


def _adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """The Adler-32 of ``A + B`` from ``adler32(A)``, ``adler32(B)`` and ``len(B)`` (zlib's adler32_combine)."""
    rem = len2 % _ADLER_BASE
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 = (sum1 + (adler2 & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    sum2 = (sum2 + (adler1 >> 16) + (adler2 >> 16) + _ADLER_BASE - rem) % _ADLER_BASE
    return sum1 | (sum2 << 16)


def _repeated_checksums(block: bytes, count: int) -> tuple[int, int]:
    """``(crc32, adler32)`` of ``block * count`` without running over the ``len(block) * count`` bytes
    (a 10 GiB bomb took seconds of CRC): the checksums of 1, 2, 4 ... blocks combined by their lengths."""
    crc, adler, length = 0, 1, 0
    piece_crc, piece_adler, piece_length = zlib.crc32(block), zlib.adler32(block), len(block)
    while count:
        if count & 1:
            crc = _crc32_combine(crc, piece_crc, piece_length)
            adler = _adler32_combine(adler, piece_adler, piece_length)
            length += piece_length
        count >>= 1
        if count:
            piece_crc = _crc32_combine(piece_crc, piece_crc, piece_length)
            piece_adler = _adler32_combine(piece_adler, piece_adler, piece_length)
            piece_length *= 2
    return crc, adler


@lru_cache(maxsize=8)
def encoded_bomb(size: int, encodings: tuple[str, ...]) -> bytes:
    """``size`` zeros compressed through ``encodings`` in header order (the order they were applied)."""
    body = _compressed_zeros(size, encodings[0])
    for encoding in encodings[1:]:
        body = b"".join(_compress(iter([body]), encoding))
    return body


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


@lru_cache(maxsize=4)
def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of ``width``×``height`` transparent RGBA pixels (all zeros: it compresses ~1000:1)."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    row = bytes(1 + 4 * width)  # filter byte 0, then transparent black pixels
    rows_per_block = max(1, _BLOCK // len(row))
    count, rest = divmod(height, rows_per_block)
    pixels = _repeated(row * rows_per_block, count, row * rest, "deflate")
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


def _exif(canary: str) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = f"exif {canary}"  # ImageDescription
    exif[0x013B] = f"artist {canary}"  # Artist
    return exif.tobytes()


def _xmp(canary: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:description="xmp {canary}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def metadata_image(canary: str, image_format: str) -> bytes:
    """A 64×48 image with ``canary`` in every metadata kind its format has."""
    from PIL import Image, PngImagePlugin

    img = Image.new("RGB", (64, 48), (30, 120, 200))
    icc = b"icc-profile " + canary.encode()
    buffer = io.BytesIO()
    if image_format == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", f"tEXt {canary}")
        info.add_text("Description", f"zTXt {canary}", zip=True)
        info.add_itxt("Title", f"iTXt {canary}", lang="en", tkey="Title")
        info.add_itxt("XML:com.adobe.xmp", _xmp(canary).decode())
        img.save(buffer, format="PNG", pnginfo=info, exif=_exif(canary), icc_profile=icc)
    else:
        img.save(
            buffer,
            format="JPEG",
            quality=80,
            exif=_exif(canary),
            icc_profile=icc,
            comment=f"COM {canary}",
            xmp=_xmp(canary),
        )
    return buffer.getvalue()


@lru_cache(maxsize=4)
def corrupt_png(size: int | None = None) -> bytes:
    """A 32×32 PNG whose IDAT data and CRC are damaged (padded to ``size`` bytes, see the module doc)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    start = data.index(b"IDAT") + 4
    for i in range(start, start + 12):
        data[i] ^= 0x5A
    if size is not None and size > len(data) + 12:
        idat = start - 8
        data[idat:idat] = _png_chunk(b"prVt", bytes(size - len(data) - 12))
    return bytes(data)


def non_finite_object(ident: str) -> bytes:
    """An album/asset object with non-finite numbers (literals Python's json module writes)."""
    obj = {
        "id": ident,
        "name": "Non-finite asset",
        "mediaType": "video",
        "duration": "NaN:0",
        "width": float("nan"),
        "height": float("inf"),
        "fileSize": float("-inf"),
        "rating": float("nan"),
        "languages": ["en"],
    }
    return json.dumps(obj).encode()


def non_finite_page() -> bytes:
    items = [
        {"id": "nf-1", "name": "NaN duration", "mediaType": "video", "duration": "NaN:0", "width": float("nan")},
        {"id": "nf-2", "name": "Infinite size", "mediaType": "image", "fileSize": float("inf"), "durationMs": "NaN"},
        {"id": "nf-3", "name": "Plain", "mediaType": "image", "width": 640, "height": 480},
    ]
    return json.dumps({"items": items, "total": float("nan")}).encode()


async def prepare(rules: list[Any]) -> None:
    """Build the costly bodies of ``rules`` (compression and image bombs) in a worker thread now, when
    the rules are set, so that faulted requests are answered at once and the sandbox's event loop never
    stalls on them."""
    import asyncio

    for rule in rules:
        size = rule.size_bytes if rule.size_given else None
        if rule.body == "encoded_bomb":
            encodings = tuple(rule.options.get("encodings", ["gzip", "gzip"]))
            await asyncio.to_thread(encoded_bomb, size or 512 * 1024**2, encodings)
        elif rule.body == "png_bomb":
            await asyncio.to_thread(png_bomb, rule.options.get("width", 13_300), rule.options.get("height", 13_300))


# -- sending -----------------------------------------------------------------------------------


async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _whole(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await _start(send, status, [*headers, (b"content-length", str(len(body)).encode())])
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _chunked(send: Send, status: int, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> None:
    await _start(send, status, headers)
    for chunk in chunks:
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _pieces(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), _CHUNK):
        yield data[i : i + _CHUNK]


async def hostile_response(
    send: Send,
    kind: str,
    *,
    path: str,
    url: str,
    token: str,
    status: int | None,
    size: int | None,
    options: Mapping[str, Any],
    extra: list[tuple[bytes, bytes]],
) -> int:
    """Send the hostile answer ``kind`` for a request to ``path`` (below the base path; ``url`` is the
    full request URL, ``token`` its apiKey header); returns the status sent."""
    code = status or 200
    if kind == "encoded_bomb":
        encodings = tuple(options.get("encodings", ["gzip", "gzip"]))
        body = encoded_bomb(size or 512 * 1024**2, encodings)
        headers = [JSON, (b"content-encoding", ", ".join(encodings).encode()), *extra]
        await _chunked(send, code, headers, _pieces(body))
    elif kind == "not_gzip":
        await _whole(send, code, [JSON, (b"content-encoding", b"gzip"), *extra], b'{"items":[],"note":"plain"}')
    elif kind == "unknown_encoding":
        headers = [JSON, (b"content-encoding", b"x-footage-unknown"), *extra]
        await _whole(send, code, headers, b"\x00\x01\x02 opaque bytes")
    elif kind == "png_bomb":
        body = png_bomb(options.get("width", 13_300), options.get("height", 13_300))
        await _whole(send, code, [(b"content-type", b"image/png"), *extra], body)
    elif kind == "jpeg_zeros":
        total = size or 30_000_000
        chunks = iter([b"\xff\xd8\xff", *_zeros(total - 3)])
        await _start(send, code, [(b"content-type", b"image/jpeg"), (b"content-length", str(total).encode()), *extra])
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif kind == "image_metadata":
        image_format = options.get("image_format", "png")
        label = options.get("label", "image/jpeg" if image_format == "png" else "image/png")
        body = metadata_image(token or "no-token", image_format)
        await _whole(send, code, [(b"content-type", label.encode()), *extra], body)
    elif kind == "corrupt_png":
        await _whole(send, code, [(b"content-type", b"image/png"), *extra], corrupt_png(size))
    elif kind == "echo_cut":
        body = ("E" * 122 + token + "!").encode()
        await _whole(send, status or 400, [(b"content-type", b"text/plain"), *extra], body)
        return status or 400
    elif kind == "echo_long":
        body = json.dumps({"text": "E" * 379 + token + "!" * 2000}).encode()
        await _whole(send, code, [JSON, *extra], body)
    elif kind == "next_echo":
        await _next_echo(send, code, url, token, options.get("via", "link"), extra)
    elif kind == "non_finite":
        ident = path.rstrip("/").rsplit("/", 1)[-1] or "nf"
        body = non_finite_object(ident) if _OBJECT_PATH.search(path) else non_finite_page()
        await _whole(send, code, [JSON, *extra], body)
    elif kind == "deep":
        depth = options.get("depth", 197)  # written as text: json.dumps cannot recurse that deep
        body = b'{"languages":["en"],"nested":' + b'{"level":' * (depth - 1) + b'"bottom"' + b"}" * depth
        await _whole(send, code, [JSON, *extra], body)
    elif kind == "huge_int":
        body = b'{"items":[{"id":"big","name":"Big","fileSize":' + b"9" * 100_000 + b"}]}"
        await _whole(send, code, [JSON, *extra], body)
    elif kind == "bad_utf8":
        await _whole(send, code, [JSON, *extra], b'{"items":[{"id":"u","name":"bad \xff\xfe\xc3 text"}]}')
    elif kind == "huge_header":
        headers = [JSON, (b"x-filler", b"a" * (1024 * 1024)), *extra]
        await _whole(send, code, headers, b'{"items":[]}')
    else:  # many_links
        links = [(b"link", f'<{url}?item={i}>; rel="item"'.encode()) for i in range(options.get("count", 10_000))]
        await _whole(send, code, [JSON, *links, *extra], b'{"items":[]}')
    return code


async def _next_echo(send: Send, status: int, url: str, token: str, via: str, extra: list[tuple[bytes, bytes]]) -> None:
    base = url.split("?", 1)[0]
    items = [{"id": f"echo-{i}", "name": f"Echo item {i}", "mediaType": "image"} for i in (1, 2)]
    next_url = f"{base}?page=1&apiKey={token}"
    headers = [JSON, *extra]
    page: dict[str, Any] = {"items": items}
    if via == "link":
        page["next"] = next_url
    elif via == "cursor":
        page["nextCursor"] = token
    else:
        headers.append((b"link", f'<{next_url}>; rel="next"'.encode()))
    await _whole(send, status, headers, json.dumps(page).encode())
