"""The sandbox side of contact sheets: previews that show their subject, and the data the demo shows."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from canary_plugin import TOKEN
from PIL import Image, ImageStat
from starlette.testclient import TestClient

from footage_mcp.sandbox import BASE_PATH, create_app
from footage_mcp.sandbox.constants import PREVIEW_CACHE_ENV
from footage_mcp.sandbox.library import Asset, Library, shared_library
from footage_mcp.sandbox.previews import render_preview
from footage_mcp.sandbox.taxonomy import get_taxonomy
from footage_mcp.sandbox.themes import LOOKS, THEMES

LIB = shared_library()


@cache
def client() -> TestClient:
    return TestClient(create_app(), base_url="http://127.0.0.1:8765")


def preview(asset: Asset) -> Image.Image:
    response = client().get(f"{BASE_PATH}/assets/{asset.id}/preview", headers={"apiKey": TOKEN})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def home(library: Library, asset: Asset) -> str:
    album = library.album(asset.album_ids[0])
    assert album is not None
    return album.name


def test_every_theme_has_a_look_of_its_own() -> None:
    assert set(LOOKS) == {t.name for t in THEMES}
    assert len({look.motif for look in LOOKS.values()}) == len(THEMES)


def test_black_and_white_titles_give_grey_previews_and_others_colour() -> None:
    bw = [a for a in LIB.assets if a.name.endswith("black and white") or ", black and white," in a.name]
    assert len(bw) >= 5
    for asset in bw[:5]:
        image = preview(asset)
        r, g, b = (ImageStat.Stat(image.getchannel(c)).mean[0] for c in "RGB")
        assert max(abs(r - g), abs(g - b), abs(r - b)) < 2, asset.name  # grey, up to JPEG chroma noise
    coloured = next(a for a in LIB.assets if a.kind == "image" and "black and white" not in a.name)
    r, g, b = (ImageStat.Stat(preview(coloured).getchannel(c)).mean[0] for c in "RGB")
    assert max(abs(r - g), abs(g - b), abs(r - b)) > 8


def test_videos_have_a_film_strip_and_images_do_not() -> None:
    video = next(a for a in LIB.assets if a.kind == "video" and a.width and a.height and a.width > a.height)
    image = next(a for a in LIB.assets if a.kind == "image" and a.width and a.height and a.width > a.height)
    for asset, strip in ((video, True), (image, False)):
        picture = preview(asset).convert("L")
        band = picture.crop((0, 0, picture.width, max(4, picture.height // 12) - 1))
        _low, high = band.getextrema()
        dark = sum(band.histogram()[:40]) / (band.width * band.height)
        assert (dark > 0.4 and high > 200) == strip, (asset.name, dark, high)


def test_the_title_is_drawn_on_a_dark_banner() -> None:
    asset = next(a for a in LIB.assets if a.kind == "image" and a.width and a.height and a.width > a.height)
    picture = preview(asset).convert("L")
    banner = picture.crop((0, int(picture.height * 0.75), picture.width, picture.height))
    counts = banner.histogram()
    histogram = Counter({"white": sum(counts[231:]), "dark": sum(counts[:70]), "mid": sum(counts[70:231])})
    assert histogram["white"] > 200 and histogram["dark"] > histogram["white"]
    same = render_preview(
        asset.id,
        asset.kind,
        asset.width,
        asset.height,
        title=asset.name,
        theme=home(LIB, asset),
        keywords=asset.keywords,
    )
    other = render_preview(
        asset.id,
        asset.kind,
        asset.width,
        asset.height,
        title="Another title altogether",
        theme=home(LIB, asset),
        keywords=asset.keywords,
    )
    assert same != other


def test_themes_look_different() -> None:
    """The mean colour of one image preview per theme: no two themes look alike."""
    means = []
    for album in LIB.albums:
        asset = next(
            (
                a
                for a in LIB.album_assets(album)
                if a.kind in ("image", "video") and a.album_ids[0] == album.id and "black and white" not in a.name
            ),
            None,
        )
        if asset is None:
            continue
        means.append((album.name, tuple(ImageStat.Stat(preview(asset)).mean)))
    assert len(means) >= 12
    for i, (name_a, a) in enumerate(means):
        for name_b, b in means[i + 1 :]:
            assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) > 12, (name_a, name_b)


def test_edits_and_loops_last_as_long_as_their_titles_say() -> None:
    edits = [a for a in LIB.assets if "30 s edit" in a.name]
    loops = [a for a in LIB.assets if a.name.endswith(", loop") or ", loop," in a.name]
    assert edits and loops
    assert all(a.duration is not None and 29.5 <= a.duration <= 30.5 for a in edits)
    assert all(a.duration is not None and 10 <= a.duration <= 32 for a in loops)


def test_an_asset_is_only_in_albums_it_fits() -> None:
    taxonomy = get_taxonomy()
    themes = {t.name: t for t in THEMES}
    for album in LIB.albums:
        theme = themes[album.name]
        wanted = frozenset().union(*(taxonomy.expand(k) for k in theme.keywords))
        for asset in LIB.album_assets(album):
            if asset.album_ids[0] == album.id:
                continue
            assert theme.years[0] <= asset.created.year <= theme.years[1], (album.name, asset.name)
            assert {taxonomy.id_for_label(k) for k in asset.keywords} & wanted, (album.name, asset.name)
    paris = next(a for a in LIB.albums if a.name == "Paris Street Life 2019")
    members = LIB.album_assets(paris)
    assert {a.created.year for a in members} == {2019}
    assert all(taxonomy.expand("Paris") & {taxonomy.id_for_label(k) for k in a.keywords} for a in members)


def test_the_france_search_shows_paris_and_lyon_first_and_finds_81() -> None:
    response = client().get(f"{BASE_PATH}/search/assets", params={"q": "France", "size": 8}, headers={"apiKey": TOKEN})
    body = response.json()
    assert body["page"]["totalElements"] == 81
    first = body["_embedded"]["assets"]
    places = {k for a in first for k in a["keywords"] if k in ("Paris", "Lyon", "Eiffel Tower")}
    assert {"Paris", "Lyon"} <= places


def test_a_kept_preview_is_served_by_another_process_and_a_broken_one_is_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$FOOTAGE_SANDBOX_PREVIEW_CACHE``: a preview rendered once is read from the folder (the same bytes,
    nothing drawn) by any process sharing it; a cut-off file is ignored and rewritten; other arguments or
    another renderer (this module's source, Pillow's version) never read it."""
    from footage_mcp.sandbox import previews

    monkeypatch.setenv(PREVIEW_CACHE_ENV, str(tmp_path))
    arguments = ("as_kept_1", "image", 4000, 3000)
    previews.render_preview.cache_clear()
    drawn = previews.render_preview(*arguments, large=True)
    (kept,) = tmp_path.iterdir()
    assert kept.read_bytes() == drawn and kept.suffix == ".jpg"
    process = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, arguments)],
        env={**os.environ, PREVIEW_CACHE_ENV: str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert process.stdout.split() == ["0", hashlib.sha256(drawn).hexdigest()]  # nothing drawn, same bytes
    kept.write_bytes(drawn[: len(drawn) // 2])
    previews.render_preview.cache_clear()
    assert previews.render_preview(*arguments, large=True) == drawn
    assert kept.read_bytes() == drawn
    previews.render_preview.cache_clear()
    monkeypatch.setattr(previews, "_renderer", lambda: "another renderer")
    previews.render_preview(*arguments, large=True)
    previews.render_preview("as_kept_1", "image", 4000, 3000, large=False)
    assert len(list(tmp_path.iterdir())) == 3
    previews.render_preview.cache_clear()


PROBE = """
import hashlib, sys
from footage_mcp.sandbox import previews
drawn = []
draw = previews._draw
previews._draw = lambda *a: drawn.append(1) or draw(*a)
asset_id, kind, width, height = sys.argv[1:]
data = previews.render_preview(asset_id, kind, int(width), int(height), large=True)
print(len(drawn), hashlib.sha256(data).hexdigest())
"""


def test_a_renderer_whose_source_cannot_be_read_still_serves_previews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderer identity reads the module's source; where it cannot (an install from a zip archive,
    sources stripped), previews are drawn and served as without the folder, never an error."""
    from footage_mcp.sandbox import previews

    monkeypatch.setenv(PREVIEW_CACHE_ENV, str(tmp_path / "kept"))
    monkeypatch.setattr(previews, "__file__", str(tmp_path / "footage.zip" / "previews.py"))
    previews._renderer.cache_clear()
    previews.render_preview.cache_clear()
    try:
        data = previews.render_preview("as_unreadable_1", "image", 400, 300)
    finally:
        previews._renderer.cache_clear()
        previews.render_preview.cache_clear()
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert not (tmp_path / "kept").exists() or not any((tmp_path / "kept").glob("*.jpg"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_kept_path_that_is_not_a_regular_file_is_drawn_again_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A named pipe (or any non-regular file) planted where a preview is kept: reading it would block the
    sandbox forever; it is ignored and the preview drawn."""
    import threading

    from footage_mcp.sandbox import previews

    monkeypatch.setenv(PREVIEW_CACHE_ENV, str(tmp_path))
    previews.render_preview.cache_clear()
    arguments = ("as_fifo_1", "image", 400, 300)
    drawn = previews.render_preview(*arguments)
    (kept,) = tmp_path.iterdir()
    kept.unlink()
    os.mkfifo(kept)
    previews.render_preview.cache_clear()
    result: list[bytes] = []
    worker = threading.Thread(target=lambda: result.append(previews.render_preview(*arguments)), daemon=True)
    worker.start()
    worker.join(10)
    hung = worker.is_alive()
    if hung:  # unblock the reader so the thread ends
        with open(os.open(kept, os.O_WRONLY | os.O_NONBLOCK), "wb") as _:
            pass
        worker.join(5)
    previews.render_preview.cache_clear()
    assert not hung and result == [drawn]
