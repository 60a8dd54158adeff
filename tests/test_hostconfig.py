"""`footage-mcp config <host>`: a valid snippet per host, an absolute command that starts this
footage-mcp, the token placeholder (never the token), and where the file lives."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from footage_mcp import __version__
from footage_mcp.config import TOKEN_PLACEHOLDER
from footage_mcp.hostconfig import HOSTS, _in_cache, uvx_source, where
from footage_mcp.launch import child_env

CANARY = "canary-3b9e71c2-token"


def config(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m footage_mcp config ...`` with the canary token set (both variables) unless ``env`` says
    otherwise, and no FOOTAGE_* of this machine."""
    full = child_env({"FOOTAGE_API_TOKEN": CANARY, "FOOTAGE_API_KEY": CANARY, **(env or {})})
    result = subprocess.run(
        [sys.executable, "-m", "footage_mcp", "config", *args], capture_output=True, text=True, env=full, timeout=60
    )
    assert CANARY not in result.stdout + result.stderr
    return result


def server_of(host: str, stdout: str, name: str = "footage") -> tuple[str, list[str], dict[str, str]]:
    """(command, args, env) of the server in a snippet."""
    if host == "claude-code":
        parts = shlex.split(stdout)
        assert parts[:4] == ["claude", "mcp", "add", name] and parts[4:8] == ["--transport", "stdio", "--scope", "user"]
        split = parts.index("--")
        options = parts[8:split]
        assert options[::2] == ["--env"] * (len(options) // 2)
        env = dict(value.split("=", 1) for value in options[1::2])
        return parts[split + 1], parts[split + 2 :], env
    document: dict[str, Any] = json.loads(stdout)
    if host == "vscode":
        assert set(document) == {"inputs", "servers"}
        server = document["servers"][name]
        assert server["type"] == "stdio"
    else:
        assert set(document) == {"mcpServers"}
        server = document["mcpServers"][name]
        assert set(server) == {"command", "args", "env"}
    return server["command"], server["args"], server["env"]


@pytest.mark.parametrize("host", HOSTS)
def test_each_host_gets_a_valid_snippet_with_an_absolute_command_and_no_token(host: str) -> None:
    result = config([host])
    assert result.returncode == 0, result.stderr
    command, args, env = server_of(host, result.stdout)
    assert os.path.isabs(command) and os.path.isfile(command) and os.access(command, os.X_OK)
    assert Path(command).name == "footage-mcp" and args == []
    started = subprocess.run([command, *args, "--version"], capture_output=True, text=True, timeout=60)
    assert started.stdout.strip() == f"footage-mcp {__version__}"
    if host == "vscode":
        assert env == {"FOOTAGE_API_TOKEN": "${input:footage-api-token}"}
        assert json.loads(result.stdout)["inputs"] == [
            {
                "type": "promptString",
                "id": "footage-api-token",
                "description": "Footage API token (app.footage.one/account, section 'API Key')",
                "password": True,
            }
        ]
    else:
        assert env == {"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER}
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0] == f"footage-mcp: {where(host)}"


def test_the_stderr_line_names_this_systems_file() -> None:
    home = str(Path.home())
    if sys.platform.startswith("linux"):
        assert f"{home}/.config/Claude/claude_desktop_config.json" in config(["claude-desktop"]).stderr
        assert f"{home}/.config/Code/User/mcp.json" in config(["vscode"]).stderr
    assert f"{home}{os.sep}.cursor{os.sep}mcp.json" in config(["cursor"]).stderr
    assert f"{home}{os.sep}.claude.json for all your projects" in config(["claude-code"]).stderr


def test_where_the_files_live_on_macos_and_windows() -> None:
    mac = {"HOME": "/Users/me"}
    desktop = "/Users/me/Library/Application Support/Claude/claude_desktop_config.json"
    assert desktop in where("claude-desktop", "user", "darwin", mac)
    assert "/Users/me/Library/Application Support/Code/User/mcp.json" in where("vscode", "user", "darwin", mac)
    assert "/Users/me/.cursor/mcp.json" in where("cursor", "user", "darwin", mac)
    win = {"APPDATA": r"C:\Users\me\AppData\Roaming", "USERPROFILE": r"C:\Users\me"}
    desktop = r"C:\Users\me\AppData\Roaming\Claude\claude_desktop_config.json"
    assert desktop in where("claude-desktop", "user", "win32", win)
    assert r"C:\Users\me\AppData\Roaming\Code\User\mcp.json" in where("vscode", "user", "win32", win)
    assert r"C:\Users\me\.cursor\mcp.json" in where("cursor", "user", "win32", win)
    assert r"C:\Users\me\.claude.json" in where("claude-code", "user", "win32", win)


def test_a_non_default_base_url_is_included_and_the_default_is_not() -> None:
    for host in HOSTS:
        custom = config([host], {"FOOTAGE_BASE_URL": "http://127.0.0.1:8765/api/asset/"})
        assert custom.returncode == 0
        assert server_of(host, custom.stdout)[2]["FOOTAGE_BASE_URL"] == "http://127.0.0.1:8765/api/asset"
        default = config([host], {"FOOTAGE_BASE_URL": "https://app.footage.one/api/asset"})
        assert "FOOTAGE_BASE_URL" not in server_of(host, default.stdout)[2]


def test_an_invalid_base_url_is_a_one_line_error() -> None:
    result = config(["cursor"], {"FOOTAGE_BASE_URL": "http://example.com/api/asset"})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "footage-mcp: configuration error: FOOTAGE_BASE_URL must use https (plain http is allowed only for a "
        "loopback host such as 127.0.0.1)\n"
    )


def test_an_unknown_host_lists_the_choices() -> None:
    result = config(["claude"])
    assert result.returncode == 2 and result.stdout == ""
    assert (
        "argument host: invalid choice: 'claude' (choose from 'claude-desktop', 'claude-code', 'cursor', 'vscode')"
        in result.stderr
    )


def test_the_server_name_can_be_chosen_and_is_checked() -> None:
    for host in HOSTS:
        result = config([host, "--name", "footage-work"])
        assert result.returncode == 0
        server_of(host, result.stdout, name="footage-work")
    bad = config(["cursor", "--name", "my footage"])
    assert bad.returncode == 2 and bad.stdout == "" and "--name must start with a letter" in bad.stderr


def test_claude_code_project_scope_refers_to_the_variable_instead_of_a_placeholder() -> None:
    result = config(["claude-code", "--scope", "project"])
    assert result.returncode == 0
    parts = shlex.split(result.stdout)
    assert parts[6:8] == ["--scope", "project"]
    assert "FOOTAGE_API_TOKEN=${FOOTAGE_API_TOKEN}" in parts and TOKEN_PLACEHOLDER not in result.stdout
    assert ".mcp.json in the project root" in result.stderr
    other = config(["cursor", "--scope", "user"])
    assert other.returncode == 2 and "--scope applies to claude-code only" in other.stderr


def test_uvx_runs_the_same_package_by_absolute_path() -> None:
    result = config(["claude-desktop", "--uvx"])
    assert result.returncode == 0
    command, args, _ = server_of("claude-desktop", result.stdout)
    assert os.path.isabs(command) and os.access(command, os.X_OK)
    assert Path(command).name in ("uvx", "uvx.exe") or args[:2] == ["tool", "run"]
    assert args[-1] == "footage-mcp" and args[-3:-1] == list(uvx_source())


def test_a_temporary_environment_in_uvs_cache_is_recognised(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "archive-v0" / "Ab12").mkdir(parents=True)
    (cache / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert _in_cache(str(cache / "archive-v0" / "Ab12"), {})
    project_venv = tmp_path / "project" / ".venv"  # uv tags project venvs too: not a cache
    project_venv.mkdir(parents=True)
    (project_venv / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert not _in_cache(str(project_venv), {})
    assert _in_cache(str(tmp_path / "elsewhere" / "env"), {"UV_CACHE_DIR": str(tmp_path / "elsewhere")})
