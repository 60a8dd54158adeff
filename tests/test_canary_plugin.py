"""The whole-suite canary search can fail: the canary planted in each kind of place is found.

Each test plants the token on purpose inside ``expected_leaks()`` (tests/canary_plugin.py), which
collects the findings instead of failing the test, and asserts what was found and where. The last one
runs pytest on a small file with the plugin and shows that a hit fails that test, and only that one.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from urllib.parse import quote

import canary_plugin
import pytest
from canary_plugin import TOKEN, check, check_sections, check_tree, expected_leaks, is_sandbox, note_result
from canary_scan import CANARY, scan
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ImageContent
from PIL import Image, PngImagePlugin

pytestmark = pytest.mark.anyio


def kinds(found: list[object]) -> list[str]:
    return [str(f).split(":")[0] for f in found]


def test_the_suite_token_is_the_canary() -> None:
    import os

    from footage_mcp.cli.launch import sandbox_token
    from footage_mcp.sandbox import create_app

    assert TOKEN == CANARY == os.environ["FOOTAGE_SANDBOX_TOKEN"] == sandbox_token()
    assert create_app().user_middleware[1].kwargs["token"] == CANARY


async def test_a_result_through_the_sdk_client_is_searched() -> None:
    """A fake server's tool answers with the canary in its text, its structured cursor (base64url of
    JSON, no padding) and its error; the wrapped SDK client finds each."""
    server = MCPServer("fake")
    state = base64.urlsafe_b64encode(json.dumps({"u": f"https://x/y?apiKey={CANARY}"}).encode()).decode().rstrip("=")

    @server.tool()
    def leak(kind: str) -> dict[str, str]:
        if kind == "error":
            raise ToolError(f"upstream said {CANARY[:14]}")
        return {"next_cursor": state} if kind == "cursor" else {"text": f"key {CANARY}"}

    with expected_leaks() as found:
        async with Client(server) as client:
            await client.call_tool("leak", {"kind": "text"})
            await client.call_tool("leak", {"kind": "cursor"})
            await client.call_tool("leak", {"kind": "error"})
            await client.list_tools()
    where = [str(f) for f in found]
    assert any(w.startswith("cursor in tools/call result") and "decoded plain" in w for w in where), where
    assert sum(w.startswith("result tools/call result") for w in where) == 3, where
    assert not any("tools/list" in w for w in where)


def test_image_bytes_are_searched_as_bytes() -> None:
    """The canary in a PNG's compressed text chunk, inside base64 image data, is found in the bytes."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"key={CANARY}", zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    data = base64.b64encode(buffer.getvalue()).decode()
    assert CANARY not in buffer.getvalue().decode("latin-1")  # compressed: not there as it is
    with expected_leaks() as found:
        note_result("tools/call result", CallToolResult(content=[ImageContent(data=data, mimeType="image/png")]))
    assert "result tools/call result data bytes: zlib plain" in [str(f) for f in found], found


@pytest.mark.parametrize(
    ("carrier", "form"),
    [
        (base64.urlsafe_b64encode(b'{"next": "' + CANARY.encode() + b'"}').decode().rstrip("="), "base64url"),
        (base64.b64encode(base64.b64encode(b"x" + CANARY.encode())).decode(), "decoded base64"),
        (("prefix:" + CANARY).encode().hex(), "hex"),
        ("".join(f"%{b:02X}" for b in CANARY.encode()), "percent"),
        (quote(base64.b64encode(json.dumps({"u": CANARY[5:20]}).encode()).decode(), safe=""), "decoded plain"),
        (base64.b64encode(zlib.compress(CANARY.encode())).decode(), "decoded zlib plain"),
        (json.dumps({"t": "\\u0043" + CANARY[1:]}), "json plain"),
    ],
    ids=["base64url-json", "base64-twice", "hex", "percent", "percent-base64-json", "base64-zlib", "json-escape"],
)
def test_each_encoding_is_found(carrier: str, form: str) -> None:
    assert form in scan(carrier), scan(carrier)
    with expected_leaks() as found:
        check("cursor", "planted", carrier)
    assert kinds(found) == ["cursor planted"]


def test_what_is_not_the_canary_is_not_a_hit() -> None:
    """Nine characters are not a hit, nor the redacted text, nor random base64."""
    assert scan(base64.b64encode(b"[redacted] " + CANARY[:9].encode()).decode()) == []
    assert scan(f"the token {CANARY[:9]}… was [redacted]") == []
    assert scan(base64.b64encode(bytes(range(256)) * 40).decode()) == []


def test_a_file_is_searched(tmp_path: Path) -> None:
    (tmp_path / "clean.json").write_text('{"ok": true}')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "download.part").write_bytes(b"\0\1" * 1000 + base64.b64encode(CANARY.encode()) + b"\0")
    with expected_leaks() as found:
        check_tree(tmp_path)
    assert [str(f).split(":")[0] for f in found] == ["file sub/download.part"]
    assert {"base64", "base64url"} <= set(found[0].forms)


def test_a_captured_stderr_line_is_searched() -> None:
    sections = [
        ("Captured stdout call", "fine\n"),
        ("Captured stderr call", f"DEBUG footage_mcp.rest.http GET /albums?apiKey={CANARY[:12]}\n"),
        ("Captured stderr setup", f"{CANARY}\n"),  # another phase: searched at its own report
    ]
    with expected_leaks() as found:
        check_sections(sections, "call")
    assert [str(f) for f in found] == ["log captured stderr call: plain"]


def test_a_child_process_output_is_searched() -> None:
    """What a test reads from a child (a pipe line by line, or ``subprocess.run``) is searched; the
    sandbox's own output is not (it prints the token it accepts on purpose)."""
    program = f"import sys; print('ok'); print({CANARY!r}.lower(), file=sys.stderr); print({CANARY[:15]!r})"
    with expected_leaks() as found:
        subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
        proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        proc.wait()
        proc.stdout.close()
    assert lines == [b"ok\n", CANARY[:15].encode() + b"\n"]
    assert kinds(found) == [  # run's stdout and stderr (once each), then the line read from the pipe
        "process output stdout of python -c",
        "process output stderr of python -c",
        "process output stdout of python -c",
    ], found
    assert found[2].forms == ["plain"]
    assert is_sandbox([sys.executable, "-m", "footage_mcp", "sandbox", "--port", "0"])
    assert is_sandbox([sys.executable, "-m", "footage_mcp.sandbox"]) and not is_sandbox(["footage-mcp", "serve"])
    launcher = [sys.executable, "-S", "/x/tests/forklaunch.py", "/tmp/z.sock"]
    assert is_sandbox([*launcher, "sandbox", "--port", "0"]) and not is_sandbox([*launcher, "serve"])


@pytest.mark.slow
def test_a_hit_fails_that_test_and_no_other(tmp_path: Path) -> None:
    """pytest with the plugin over three tests: the one whose output holds the canary and the one whose
    tmp_path holds it fail, naming the kind of place; the clean one passes; the summary counts them."""
    (tmp_path / "test_planted.py").write_text(
        "import sys\n"
        "from canary_scan import CANARY\n"
        "def test_clean(): print('nothing to see')\n"
        "def test_logs(): print('token', CANARY, file=sys.stderr)\n"
        "def test_file(tmp_path): (tmp_path / 'out.log').write_text(CANARY[3:17])\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    report = tmp_path / "canary.json"
    env = {
        "PYTHONPATH": str(Path(__file__).parent),
        "CANARY_REPORT": str(report),
        "PATH": "/usr/bin:/bin",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # no xdist, anyio, ...: a fast start
    }
    with expected_leaks():  # the inner run's output shows the planted canary, on purpose
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "canary_plugin", "-p", "no:cacheprovider", "-q", "-rf"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED test_planted.py::test_logs - the canary token" in done.stdout
    assert "FAILED test_planted.py::test_file - the canary token" in done.stdout
    assert "log captured stderr call: plain" in done.stdout and "file out.log: plain" in done.stdout
    assert "1 passed" in done.stdout and "2 failed" in done.stdout
    figures = json.loads(report.read_text())
    assert figures["hits"] == 2 and figures["files"] >= 1 and figures["log_sections"] == 2


def test_a_file_rewritten_within_one_timestamp_tick_is_searched_again(tmp_path: Path) -> None:
    """Rewritten with the same size and the same mtime (a write within the same coarse timestamp tick as
    the search, here set back with utime): the next sweep still finds what it now holds."""
    path = tmp_path / "out.log"
    path.write_bytes(b"x" * 40)
    with expected_leaks() as found:
        check_tree(tmp_path)
    assert found == []
    info = path.stat()
    path.write_bytes(CANARY.encode() + b"x" * 8)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    with expected_leaks() as found:
        check_tree(tmp_path)
    assert kinds(found) == ["file out.log"]


def test_an_old_file_replaced_or_rewritten_with_its_size_and_mtime_is_searched_again(tmp_path: Path) -> None:
    """A file searched long after it was written, then rewritten in place or replaced by a rename, keeping
    its size and mtime: its ctime (and for the rename its inode) tells the sweep it changed."""
    path, other = tmp_path / "old.log", tmp_path / "new.log"
    for target in (path, other):
        target.write_bytes(b"y" * 40)
        os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    with expected_leaks() as found:
        check_tree(tmp_path)
    assert found == []
    path.write_bytes(CANARY.encode() + b"y" * 8)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    spare = tmp_path / "spare"
    spare.write_bytes(b"y" * 8 + CANARY.encode())
    os.utime(spare, ns=(1_000_000_000, 1_000_000_000))
    os.replace(spare, other)
    with expected_leaks() as found:
        check_tree(tmp_path)
    assert sorted(kinds(found)) == ["file new.log", "file old.log"]


def test_a_piece_across_a_chunk_boundary_of_a_large_file_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files larger than FILE_DECODE_LIMIT are searched in chunks that overlap: a piece cut by a chunk's
    end, with too little of it on either side to be a hit there, is found, in each form."""
    monkeypatch.setattr(canary_plugin, "FILE_DECODE_LIMIT", 1000)
    monkeypatch.setattr(canary_plugin, "CHUNK", 4096)
    for name, piece in [
        ("plain.bin", CANARY[:10].encode()),
        ("percent.bin", "".join(f"%{b:02X}" for b in CANARY[:10].encode()).encode()),
        ("utf16.bin", CANARY[:10].encode("utf-16-le")),
    ]:
        (tmp_path / name).write_bytes(b"\1" * (4096 - len(piece) // 2) + piece + b"\1" * 8000)
    with expected_leaks() as found:
        check_tree(tmp_path)
    assert sorted(str(f) for f in found) == [
        "file percent.bin: percent",
        "file plain.bin: plain",
        "file utf16.bin: utf-16-be, utf-16-le",  # a UTF-16-LE text is UTF-16-BE one byte on
    ]
    for path in tmp_path.iterdir():  # just written: the sweep after the test reads them again, unpatched
        path.unlink()
