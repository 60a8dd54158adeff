"""`footage-mcp config <host>`: a valid snippet per host, an absolute command that starts this
footage-mcp, the token placeholder (never the token), and where the file lives."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import forkrun
import pytest
from canary_plugin import TOKEN

from footage_mcp import __version__
from footage_mcp.cli.hostconfig import (
    HOSTS,
    Launch,
    _in_cache,
    launch_command,
    main,
    powershell_join,
    powershell_quote,
    render,
    server_env,
    uvx_source,
    where,
)
from footage_mcp.cli.launch import child_env
from footage_mcp.core.settings import TOKEN_PLACEHOLDER

CANARY = TOKEN[:21]  # 21 characters of the suite's canary: the canary plugin searches for it too


def config(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``footage-mcp config ...`` with the canary token set (both variables) unless ``env`` says
    otherwise, and no FOOTAGE_* of this machine."""
    full = child_env({"FOOTAGE_API_TOKEN": CANARY, "FOOTAGE_API_KEY": CANARY, **(env or {})})
    result = forkrun.run(["config", *args], full, timeout=60)  # a process of its own (see tests/forkrun.py)
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
        assert custom.stderr == (  # a new user's trial: the sandbox's address went silently into the real block
            "footage-mcp: the snippet sets FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset from this shell's "
            f"environment; for the real API, unset FOOTAGE_BASE_URL and run config again\nfootage-mcp: {where(host)}\n"
        )
        default = config([host], {"FOOTAGE_BASE_URL": "https://app.footage.one/api/asset"})
        assert "FOOTAGE_BASE_URL" not in server_of(host, default.stdout)[2]
        assert default.stderr == f"footage-mcp: {where(host)}\n"


LEFT_OUT = (
    "footage-mcp: FOOTAGE_BASE_URL is invalid and was left out of the snippet (run `footage-mcp check` to see why)"
)


@pytest.mark.parametrize("host", HOSTS)
def test_an_invalid_base_url_is_left_out_with_one_stderr_line(host: str) -> None:
    plain = config([host])
    for url in ("http://example.com/api/asset", "https://example.com/api\nasset", "https://exa mple.com/api"):
        result = config([host], {"FOOTAGE_BASE_URL": url})
        assert result.returncode == 0 and result.stdout == plain.stdout, url
        assert result.stderr == f"{LEFT_OUT}\nfootage-mcp: {where(host)}\n", url


INVALID_URLS = [
    "http://example.com/api/asset",  # plain http, not loopback
    "https://user:pw@example.com/api",
    "https://example.com/api?x=1",
    "https://example.com/api#frag",
    "ftp://example.com/api",
    "example.com/api",
    "https://example.com:99999/api",
    "\x00",
]
# Whitespace and control characters inside the URL (at its ends they are stripped, as the server does).
UNPRINTABLE = ["\n", "\r", "\r\n", "\t", " ", "\x00", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\xa0"]
UNPRINTABLE += ["\u1680", "\u2000", "\u200b", "\u2028", "\u2029", "\u202e", "\u3000", "\ufeff"]
INVALID_URLS += [f"https://exa{ch}mple.com/api/asset" for ch in UNPRINTABLE]
INVALID_URLS += [f"https://example.com/api{ch}asset/" for ch in UNPRINTABLE]


@pytest.mark.parametrize("url", INVALID_URLS)
def test_server_env_leaves_an_invalid_base_url_out(url: str) -> None:
    assert server_env({"FOOTAGE_BASE_URL": url}) == ({"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER}, True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8765/api/asset/", {"FOOTAGE_BASE_URL": "http://127.0.0.1:8765/api/asset"}),
        ("https://eu.footage.example/api/asset", {"FOOTAGE_BASE_URL": "https://eu.footage.example/api/asset"}),
        ("https://app.footage.one/api/asset", {}),
        ("https://app.footage.one/api/asset/", {}),
        ("", {}),
        ("   ", {}),
    ],
)
def test_server_env_keeps_a_valid_non_default_base_url(url: str, expected: dict[str, str]) -> None:
    assert server_env({"FOOTAGE_BASE_URL": url}) == ({"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER, **expected}, False)
    assert server_env({}) == ({"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER}, False)


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


NAME_ERROR = (
    "footage-mcp config: --name must start with a letter and hold only letters, digits, '-' and '_' (at most 64)\n"
)
BAD_NAMES = ["", "1abc", "-abc", "_abc", "my footage", "a" * 65, "abç", "abc١", "ａbc", "a.b", "a/b", "a:b"]
BAD_NAMES += [f"{name}{ch}" for name in ("abc",) for ch in ("\n", "\r", "\r\n", "\t", " ", "\x00", "\x0b", "\x0c")]
BAD_NAMES += ["abc\u0085", "abc\u2028", "abc\u2029", "\nabc", "ab\nc", "abc\n\n"]


def namespace(host: str, name: str = "footage", scope: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(host=host, name=name, uvx=False, scope=scope)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_name_is_refused_including_a_trailing_newline(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOOTAGE_BASE_URL", raising=False)
    for host in HOSTS:
        assert main(namespace(host, name)) == 2
        assert capsys.readouterr() == ("", NAME_ERROR)


@pytest.mark.parametrize("name", ["a", "A", "a" * 64, "footage-work", "Footage_2", "z-_9"])
def test_a_good_name_is_taken(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTAGE_BASE_URL", raising=False)
    assert main(namespace("cursor", name)) == 0
    assert list(json.loads(capsys.readouterr().out)["mcpServers"]) == [name]


def test_a_name_with_a_trailing_newline_is_refused_end_to_end() -> None:
    result = config(["claude-code", "--name", "abc\n"])
    assert (result.returncode, result.stdout, result.stderr) == (2, "", NAME_ERROR)


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


def test_a_cache_bucket_name_must_match_whole(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    for bucket, expected in [
        ("archive-v0", True),
        ("environments-v2", True),
        ("builds-v10", True),
        ("archive-v0\n", False),
        ("archive-v0 ", False),
        ("archive-v", False),
        ("archive-v\u0660", False),  # ARABIC-INDIC DIGIT ZERO: \d would take it
        ("xarchive-v0", False),
        ("archive-v0x", False),
    ]:
        (cache / bucket / "env").mkdir(parents=True)
        assert _in_cache(str(cache / bucket / "env"), {}) is expected, repr(bucket)


SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=@\\")
"""What PowerShell takes literally inside a bare argument."""


def unquote_powershell(word: str) -> str:
    """The value of one PowerShell argument as this module writes them: a bare word, or '...' in which a
    single quote (', ‘, ’, ‚ or ‛) stands doubled."""
    if not word.startswith("'"):
        assert set(word) <= SAFE and word, word
        return word
    assert len(word) >= 2 and word.endswith("'"), word
    body, out, i = word[1:-1], [], 0
    while i < len(body):
        if body[i] in "'\u2018\u2019\u201a\u201b":
            assert body[i + 1 : i + 2] == body[i], word  # a lone quote would end the string
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


POWERSHELL_CASES = [
    ("claude", "claude"),
    ("footage-work", "footage-work"),
    ("--transport", "--transport"),
    ("-m", "-m"),
    ("footage_mcp", "footage_mcp"),
    ("FOOTAGE_API_TOKEN=paste-your-footage-api-token-here", "FOOTAGE_API_TOKEN=paste-your-footage-api-token-here"),
    ("FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset", "FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset"),
    (r"C:\Users\me\.local\bin\footage-mcp.exe", r"C:\Users\me\.local\bin\footage-mcp.exe"),
    (r"\\server\share\footage-mcp.exe", r"\\server\share\footage-mcp.exe"),
    ("/usr/local/bin/footage-mcp", "/usr/local/bin/footage-mcp"),
    ("git@github.com", "git@github.com"),
    # PowerShell's own syntax: variables, escapes, statements, pipes, groups, arrays, splatting, comments
    ("FOOTAGE_API_TOKEN=${FOOTAGE_API_TOKEN}", "'FOOTAGE_API_TOKEN=${FOOTAGE_API_TOKEN}'"),
    (r"C:\Users\adm$x\footage-mcp.exe", r"'C:\Users\adm$x\footage-mcp.exe'"),
    ("$env:FOOTAGE_API_TOKEN", "'$env:FOOTAGE_API_TOKEN'"),
    ("a`b", "'a`b'"),
    ("a;b", "'a;b'"),
    (r"C:\A&B\footage-mcp.exe", r"'C:\A&B\footage-mcp.exe'"),
    ("a|b", "'a|b'"),
    ("(a)", "'(a)'"),
    ("{a}", "'{a}'"),
    ("a,b", "'a,b'"),
    ("@a", "'@a'"),
    ("@(a)", "'@(a)'"),
    ("#a", "'#a'"),
    ("a#b", "'a#b'"),
    ("a<b", "'a<b'"),
    ("a>b", "'a>b'"),
    ("2>&1", "'2>&1'"),
    ("--%", "'--%'"),
    ("a*b", "'a*b'"),
    ("a?b", "'a?b'"),
    ("[a]", "'[a]'"),
    ("~/x", "'~/x'"),
    ("%TEMP%", "'%TEMP%'"),
    ("a!b", "'a!b'"),
    ("git+https://x/y", "'git+https://x/y'"),
    # `--` ends a .ps1 command's parameters (npm's claude.ps1 shim would swallow it); quoted, it is passed on
    ("--", "'--'"),
    ("-", "'-'"),
    ("-foo.bar", "'-foo.bar'"),  # Windows PowerShell splits a bare -foo.bar or -foo:bar in two
    ("-foo:bar", "'-foo:bar'"),
    ("--env=x", "'--env=x'"),
    # a leading digit, '.' or '=' can read as a number, a range or an operator
    ("0x10", "'0x10'"),
    ("1..5", "'1..5'"),
    (".5", "'.5'"),
    ("=x", "'=x'"),
    # spaces, quotes (PowerShell's typographic ones included), control and non-ASCII characters
    ("", "''"),
    (r"C:\Program Files\footage-mcp.exe", r"'C:\Program Files\footage-mcp.exe'"),
    ("a\tb", "'a\tb'"),
    ("a\nb", "'a\nb'"),
    (r"C:\Users\O'Brien\footage-mcp.exe", r"'C:\Users\O''Brien\footage-mcp.exe'"),
    ("''", "''''''"),
    ('a"b', "'a\"b'"),
    ("a\u2018b\u2019c\u201ad\u201be", "'a\u2018\u2018b\u2019\u2019c\u201a\u201ad\u201b\u201be'"),
    ("a\u201cb\u201d", "'a\u201cb\u201d'"),
    ("\u2013m", "'\u2013m'"),  # EN DASH: PowerShell takes it as '-'
    ("a\u00a0b", "'a\u00a0b'"),
    (r"C:\Users\José\footage-mcp.exe", r"'C:\Users\José\footage-mcp.exe'"),
]


@pytest.mark.parametrize(("arg", "quoted"), POWERSHELL_CASES)
def test_powershell_quote(arg: str, quoted: str) -> None:
    assert powershell_quote(arg) == quoted
    assert unquote_powershell(quoted) == arg


def test_powershell_quote_takes_a_character_bare_only_when_it_is_safe() -> None:
    specials = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2013\u2014\u2015\u00a0\u2028\u3000\ufeffé"
    for ch in [chr(code) for code in range(128)] + list(specials):
        arg = f"a{ch}b"
        quoted = powershell_quote(arg)
        assert (quoted == arg) is (ch in SAFE), repr(ch)
        assert unquote_powershell(quoted) == arg, repr(ch)


def test_powershell_join() -> None:
    assert powershell_join(["claude", "mcp", "add", "a b", "--", "it's"]) == "claude mcp add 'a b' '--' 'it''s'"


WINDOWS_EXE = Launch(r"C:\Users\O'Brien\Tools & Co\footage-mcp.exe", ())
WINDOWS_UVX = Launch(r"C:\Users\adm$x\.local\bin\uvx.exe", ("--from", r"C:\src\footage mcp", "footage-mcp"))
LOCAL_URL = {"FOOTAGE_BASE_URL": "http://127.0.0.1:8765/api/asset"}


@pytest.mark.parametrize("platform", ["win32", "cygwin", "linux", "darwin"])
def test_claude_code_line_per_platform(platform: str) -> None:
    env = {"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER, **LOCAL_URL}
    project = render("claude-code", "footage", WINDOWS_EXE, env, "project", platform=platform)
    user = render("claude-code", "footage-work", WINDOWS_UVX, env, "user", platform=platform)
    if platform == "win32":
        assert project == (
            "claude mcp add footage --transport stdio --scope project --env 'FOOTAGE_API_TOKEN=${FOOTAGE_API_TOKEN}' "
            "--env FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset '--' "
            r"'C:\Users\O''Brien\Tools & Co\footage-mcp.exe'"
        )
        assert user == (
            "claude mcp add footage-work --transport stdio --scope user "
            "--env FOOTAGE_API_TOKEN=paste-your-footage-api-token-here "
            r"--env FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset '--' 'C:\Users\adm$x\.local\bin\uvx.exe' "
            r"--from 'C:\src\footage mcp' footage-mcp"
        )
    else:  # POSIX shells, Cygwin's included: shlex.join, as before
        assert project == (
            "claude mcp add footage --transport stdio --scope project --env 'FOOTAGE_API_TOKEN=${FOOTAGE_API_TOKEN}' "
            "--env FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset -- "
            "'C:\\Users\\O'\"'\"'Brien\\Tools & Co\\footage-mcp.exe'"
        )
        assert user == (
            "claude mcp add footage-work --transport stdio --scope user "
            "--env FOOTAGE_API_TOKEN=paste-your-footage-api-token-here "
            "--env FOOTAGE_BASE_URL=http://127.0.0.1:8765/api/asset -- 'C:\\Users\\adm$x\\.local\\bin\\uvx.exe' "
            "--from 'C:\\src\\footage mcp' footage-mcp"
        )
        assert shlex.split(project)[-1] == WINDOWS_EXE.command


@pytest.mark.parametrize("host", ["claude-desktop", "cursor", "vscode"])
def test_json_snippets_are_the_same_on_every_platform(host: str) -> None:
    env = {"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER}
    assert render(host, "footage", WINDOWS_EXE, env, platform="win32") == render(
        host, "footage", WINDOWS_EXE, env, platform="linux"
    )


def test_on_windows_stderr_says_the_claude_code_line_is_for_powershell(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOOTAGE_BASE_URL", raising=False)
    win = {"USERPROFILE": r"C:\Users\me"}
    assert where("claude-code", "user", "win32", win) == (
        "run this in PowerShell (the line is quoted for PowerShell, not cmd.exe; put your token in place of the "
        r"placeholder); Claude Code stores the server in C:\Users\me\.claude.json for all your projects"
    )
    assert where("claude-code", "user", "linux", {"HOME": "/home/me"}) == (
        "run this in a terminal (put your token in place of the placeholder); Claude Code stores the server in "
        "/home/me/.claude.json for all your projects"
    )
    assert where("claude-code", "project", "win32", win) == (
        "run this in PowerShell (the line is quoted for PowerShell, not cmd.exe; set FOOTAGE_API_TOKEN in your "
        "environment before starting claude); Claude Code stores the server in .mcp.json in the project root "
        "(shared; it refers to ${FOOTAGE_API_TOKEN}, which Claude Code fills in from each user's environment)"
    )
    assert where("claude-code", "project", "linux", {"HOME": "/home/me"}).startswith(
        "run this in a terminal (export FOOTAGE_API_TOKEN before starting claude); "
    )
    assert main(namespace("claude-code", scope="project"), platform="win32") == 0
    command = powershell_quote(launch_command().command)
    assert capsys.readouterr() == (
        "claude mcp add footage --transport stdio --scope project --env 'FOOTAGE_API_TOKEN=${FOOTAGE_API_TOKEN}' "
        f"'--' {command}\n",
        f"footage-mcp: {where('claude-code', 'project', 'win32')}\n",
    )
