"""In-process breadth for the hostile-upstream defences (issue 11): bounded decoding, redaction of cut
and encoded tokens, encrypted cursors, image sniffing and stripping, stdin screening, the HTTP secret."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import zlib
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from PIL import Image

from footage_mcp.core.redact import REDACTED, Redactor
from footage_mcp.rest.decoding import BoundedDecoder, DecodingFailed, TooLarge, UnsupportedEncoding
from footage_mcp.rest.http import Fetched, decode_json
from footage_mcp.rest.paging import CursorCodec, CursorState, cursor_key
from footage_mcp.sandbox.hostile import corrupt_png, encoded_bomb, metadata_image, png_bomb
from footage_mcp.surface.http_auth import BearerSecret
from footage_mcp.surface.imaging import MAX_PIXELS, UnreadableImage, check_head, fit_preview, jpeg_size, sniff
from footage_mcp.surface.render import cap_depth, compact_dump, depth_of
from footage_mcp.surface.stdio import screen

TOKEN = SUITE_TOKEN  # 32 characters, as the literal it replaces; the canary plugin searches for it


def decode_all(body: bytes, encoding: str, cap: int, piece: int = 1000) -> bytes:
    decoder = BoundedDecoder(encoding, cap)
    out = b"".join(p for i in range(0, len(body), piece) for p in decoder.feed(body[i : i + piece]))
    return out + b"".join(decoder.finish())


@pytest.mark.parametrize(
    "encoding", ["gzip", "deflate", "x-gzip", "gzip, deflate", "deflate, gzip, gzip", "identity", ""]
)
def test_layers_decode_in_order(encoding: str) -> None:
    data = os.urandom(5000) + bytes(200_000)
    body = data
    for name in [n.strip() for n in encoding.split(",") if n.strip() not in ("", "identity")]:
        body = gzip.compress(body) if "gzip" in name else zlib.compress(body)
    assert decode_all(body, encoding, 10**6) == data


def test_raw_deflate_is_accepted_and_garbage_is_not() -> None:
    compressor = zlib.compressobj(wbits=-15)
    assert decode_all(compressor.compress(b"x" * 999) + compressor.flush(), "deflate", 10**4) == b"x" * 999
    with pytest.raises(DecodingFailed) as failed:
        decode_all(b'{"not": "gzip"}', "gzip", 10**4)
    assert failed.value.encoding == "gzip"
    with pytest.raises(DecodingFailed):
        decode_all(gzip.compress(b"x" * 10_000)[:-12], "gzip", 10**5)  # cut short
    with pytest.raises(UnsupportedEncoding) as unsupported:
        BoundedDecoder("gzip, br", 10)
    assert unsupported.value.encoding == "br"


@pytest.mark.parametrize("encodings", [("gzip", "gzip"), ("deflate", "gzip"), ("gzip", "deflate", "gzip")])
def test_no_layer_produces_more_than_the_cap(encodings: tuple[str, ...]) -> None:
    """Every piece any layer hands on is counted: the decoded total never passes cap + one step."""
    body = encoded_bomb(64 * 1024 * 1024, encodings)
    decoder = BoundedDecoder(", ".join(encodings), 1024 * 1024)
    produced = 0
    with pytest.raises(TooLarge):
        for i in range(0, len(body), 512):
            for piece in decoder.feed(body[i : i + 512]):
                produced += len(piece)
    assert produced <= 1024 * 1024 and max(decoder._produced) <= 1024 * 1024 + 64 * 1024


def test_the_redactor_catches_encoded_and_cut_tokens() -> None:
    r = Redactor([TOKEN])
    raw = TOKEN.encode()
    for form in (
        TOKEN,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
    ):
        assert r.text(f"x {form} y") == f"x {REDACTED} y"
    assert r.text("E" * 50 + TOKEN[:9]) == "E" * 50 + REDACTED  # a cut at the end
    assert r.text("see " + TOKEN[:20] + "… more") == f"see {REDACTED}… more"  # a cut before an ellipsis
    assert r.text("ends in " + TOKEN[:7]) == "ends in " + TOKEN[:7]  # too short to count
    assert r.contains(f"?apiKey={TOKEN}") and r.contains("a%2b" + TOKEN) and not r.contains("nothing")
    spaced = Redactor(["a/b c+d"])
    assert spaced.text("q=a%2Fb+c%2Bd & a%2fb%20c%2bd") == f"q={REDACTED} & {REDACTED}"


def test_rendering_redacts_before_cutting_and_drops_non_finite_numbers() -> None:
    from footage_mcp.rest.models import ApiResponse

    body = {"text": "E" * 379 + TOKEN + "!" * 2000, "n": float("nan"), "l": [1.0, float("inf")]}
    model = ApiResponse(path="x", body=body)
    data = compact_dump(model, Redactor([TOKEN]))
    assert data["body"] == {"text": "E" * 379 + REDACTED + "!" * 2000, "l": [1.0, None]}


@pytest.mark.parametrize("secret", ['tok"en\\1234567', "plain-token-1234567"])
def test_rendering_redacts_keys_values_and_the_text_twin_in_one_pass(secret: str) -> None:
    from footage_mcp.rest.models import ApiResponse
    from footage_mcp.surface.render import to_result

    body = {secret: "v " + secret, "ok": "plain\u200b é", "cut": "…" + secret[:9] + "…"}
    result = to_result(ApiResponse(path="x", body=body), 10_000, Redactor([secret]))
    redacted_body = {REDACTED: "v " + REDACTED, "ok": "plain é", "cut": f"…{REDACTED}…"}
    expected = {"path": "x", "body": redacted_body, "truncated": False}
    assert result.structured_content == expected
    text = result.content[0].text  # type: ignore[union-attr]
    assert json.loads(text) == expected and secret not in text and json.dumps(secret)[1:-1] not in text


def test_depth_is_capped_and_measured() -> None:
    deep: Any = "x"
    for _ in range(300):
        deep = {"a": deep}
    assert depth_of(deep, 1000) == 300 and depth_of(deep, 10) == 11
    capped, cut = cap_depth(deep)
    assert cut and depth_of(capped, 1000) == 24


def test_decode_json_says_what_happened() -> None:
    def fetched(body: bytes) -> Fetched:
        return Fetched("u", 200, httpx2.Headers({"content-type": "application/json"}), body)

    read = decode_json(fetched(b'{"a": NaN, "b": [Infinity, -Infinity, 1e999], "c": 1.5}'))
    assert read["b"] == [float("inf"), float("-inf"), float("inf")] and read["c"] == 1.5  # rendering drops them
    with pytest.raises(Exception, match="a number too long to read"):
        decode_json(fetched(b'{"n": ' + b"9" * 5000 + b"}"))
    with pytest.raises(Exception, match=r"not valid UTF-8 \(at byte 8\)"):
        decode_json(fetched(b'{"n": "a\xff"}'))
    assert decode_json(fetched('\ufeff{"a": "é"}'.encode())) == {"a": "é"}


def test_cursors_are_sealed_and_keyed_by_the_state_secret() -> None:
    base = "https://x.test/api/asset"
    state = CursorState(f"{base}/albums?page=2&apiKey={TOKEN}", 3, "albums")
    codec = CursorCodec(cursor_key(TOKEN, base))
    cursor = codec.encode(state)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert TOKEN.encode() not in raw and b"albums" not in raw
    assert codec.decode(cursor, "albums", "list_albums") == state
    assert codec.encode(state) != cursor  # a fresh nonce each time
    one, other = cursor_key(TOKEN, base, "replica-secret"), cursor_key("another-token", base, "replica-secret")
    # every replica derives the same key from the shared state secret, still one key per token (team mode:
    # one user's cursor is refused for another), and neither is the key without the secret
    assert one == cursor_key(TOKEN, base, "replica-secret") and one != other and one != cursor_key(TOKEN, base)
    from footage_mcp.core.errors import InvalidCursor

    with pytest.raises(InvalidCursor):
        CursorCodec(one).decode(cursor, "albums", "list_albums")


def test_images_are_sniffed_bounded_and_stripped() -> None:
    for image_format in ("png", "jpeg"):
        data = metadata_image(TOKEN, image_format)
        assert TOKEN.encode() in data or image_format == "png"  # zTXt/iCCP hold it compressed
        out = fit_preview(data, "image/" + ("jpeg" if image_format == "png" else "png"))
        assert out.mime_type == "image/jpeg" and sniff(out.data) == "JPEG" and TOKEN.encode() not in out.data
        with Image.open(io.BytesIO(out.data)) as img:
            assert not {"exif", "icc_profile", "comment", "xmp"} & set(img.info)
    with pytest.raises(UnreadableImage, match="declares 13300×13300 pixels"):
        check_head(png_bomb(13_300, 13_300)[:65536], "image/png")
    with pytest.raises(UnreadableImage, match="broken segment length"):
        check_head(b"\xff\xd8\xff" + bytes(65533), "image/jpeg")
    with pytest.raises(UnreadableImage, match="not JPEG, PNG, GIF or WebP"):
        check_head(b"%PDF-1.7", "image/png")
    check_head(b"<html>", "text/html")  # not labelled an image: left to the label check
    with pytest.raises(UnreadableImage, match="is a corrupt PNG image"):
        fit_preview(corrupt_png())
    alpha = io.BytesIO()
    Image.new("RGBA", (2000, 1000), (0, 0, 0, 0)).save(alpha, format="PNG")
    shown = fit_preview(alpha.getvalue())
    assert (shown.mime_type, shown.width, shown.height) == ("image/png", 768, 384)
    big = io.BytesIO()
    Image.new("RGB", (4097, 4097)).save(big, format="JPEG")
    assert jpeg_size(big.getvalue()) == (4097, 4097)
    with pytest.raises(UnreadableImage, match=f"at most {MAX_PIXELS:,} pixels"):
        fit_preview(big.getvalue())


def test_stdin_screening() -> None:
    fine = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    assert screen(fine) == (fine, None)
    call = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":%s}}'
    passed, error = screen(call % '{"q":"\\ud83d"}')
    assert error is None and passed is not None and json.loads(passed)["params"]["arguments"]["q"] == "\ufffd"
    deep = '{"a":' * 300 + "1" + "}" * 300
    passed, error = screen(call.replace('"id":2', '"id":"r"') % deep)
    assert passed is None and error is not None and (error.id, error.error.code) == ("r", -32602)
    assert screen("not json") == ("not json", None)  # no id to answer: the SDK logs it
    assert screen('{"jsonrpc":"2.0","method":"notifications/x","params":{"a":"\\ud83d"}}')[1] is None


@pytest.mark.anyio
async def test_the_bearer_middleware() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    transport = httpx2.ASGITransport(app=BearerSecret(app, "x" * 20))
    async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/mcp", headers={"Authorization": "Bearer " + "x" * 20})).text == "ok"
        for headers in ({}, {"Authorization": "Bearer " + "x" * 19}, {"Authorization": "x" * 20}):
            denied = await client.get("/mcp", headers=headers)
            assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Bearer ")
