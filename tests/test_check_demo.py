"""`footage-mcp check` and `footage-mcp demo` as a user runs them (subprocesses, real loopback HTTP)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import forkrun
import pytest
from PIL import Image

from footage_mcp.cli.launch import RunningSandbox, child_env
from footage_mcp.sandbox.library import build_library
from footage_mcp.sandbox.taxonomy import get_taxonomy

pytestmark = pytest.mark.slow


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``footage-mcp <args>`` in a process of its own (forked from the warm zygote: tests/forkrun.py)."""
    return forkrun.run(args, child_env(env), timeout=120)


def test_check_passes_every_check_against_the_sandbox(hal_sandbox: RunningSandbox) -> None:
    result = cli(["check"], {"FOOTAGE_BASE_URL": hal_sandbox.base_url, "FOOTAGE_API_TOKEN": hal_sandbox.token})
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert {line.split()[0] for line in lines} == {"PASS"}
    names = [line[6:22].strip() for line in lines]
    for name in ("token present", "token format", "base URL", "connection", "discovery root", "token accepted"):
        assert name in names
    assert lines[-1] == "PASS  token accepted   the API accepted the token (14 albums)"
    assert hal_sandbox.token not in result.stdout + result.stderr


def test_check_fails_on_a_rejected_token_without_printing_it(hal_sandbox: RunningSandbox) -> None:
    canary = "canary-not-the-token-42"
    result = cli(["check"], {"FOOTAGE_BASE_URL": hal_sandbox.base_url, "FOOTAGE_API_TOKEN": canary})
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1].startswith("FAIL  token accepted")
    assert "rejected the token (401)" in result.stdout
    assert canary not in result.stdout + result.stderr


def test_check_reports_an_unreachable_base_url() -> None:
    result = cli(["check"], {"FOOTAGE_BASE_URL": "http://127.0.0.1:9/api/asset", "FOOTAGE_API_TOKEN": "t"})
    assert result.returncode == 1
    assert (
        "FAIL  connection       127.0.0.1:9 refused the connection: nothing listens there (is the sandbox running?) "
        "— check the host and port in FOOTAGE_BASE_URL"
    ) in result.stdout.splitlines()


def test_demo_shows_tools_and_the_right_search_hits(tmp_path: Path) -> None:
    result = cli(["demo"], {"TMPDIR": str(tmp_path)})  # its kept folder in the test's, not left in the run's
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Tools offered (12):" in out and "download_asset" in out
    tax = get_taxonomy()
    france = tax.expand("France")
    lib = build_library()
    expected = {a.id for a in lib.assets if any(tax.id_for_label(k) in france for k in a.keywords)}
    assert f"search_assets(query='France'): {len(expected)} hits" in out
    search_block = out.split("search_assets(query='France')")[1].split("\nAlbum ")[0]
    shown = {line.rsplit("[", 1)[1].rstrip("]") for line in search_block.splitlines() if line.endswith("]")}
    assert len(shown) == 8 and shown <= expected
    assert f"Album '{lib.albums[0].name}'" in out
    assert "preview           image/jpeg" in out
    sheet_line = next(line for line in out.splitlines() if line.startswith("    written to "))
    sheet = Path(sheet_line.removeprefix("    written to "))
    with Image.open(sheet) as image:
        assert image.format == "JPEG" and max(image.size) <= 1568 and (image.size[0] > image.size[1])
    assert "get_contact_sheet(query='France'): Contact sheet of 24 of 81 assets (search q='France'): 6×4 grid" in out
    assert sheet.stat().st_size <= 1_000_000
    saved = next(line for line in out.splitlines() if line.startswith("    saved to "))
    assert "/footage-demo-" in saved and "Downloads" not in saved
    lead = "The contact sheet and the download are kept in "
    kept = next(line for line in out.splitlines() if line.startswith(lead))
    folder = Path(kept.removeprefix(lead).removesuffix(" (delete it when done)."))
    download = Path(saved.removeprefix("    saved to ").strip())
    assert download.parent == folder and sheet.parent == folder  # one folder, both files kept in it
    assert folder.parent == tmp_path and folder.name.startswith("footage-demo-")
    assert download.is_file() and sheet.is_file()
    assert "\n    1 → " in out  # the legend's first lines under the sheet's summary
