"""``footage-mcp config <host>``: a ready-to-paste configuration snippet for an MCP host.

The snippet goes to stdout (this is not the MCP server; stdout is free), one line on stderr says
where it goes on this operating system. Formats, from each host's documentation:

==============  ===============================================================================
claude-desktop  ``claude_desktop_config.json``: ``{"mcpServers": {name: {command, args, env}}}``
                (modelcontextprotocol.io, "Connect to local MCP servers")
claude-code     a ``claude mcp add <name> --transport stdio --scope user --env K=V -- <command>``
                line (code.claude.com/docs/en/mcp). The name comes first: ``--env`` takes several
                values and would swallow a name after it (anthropics/claude-code#23365, #62332).
                Quoted for a POSIX shell (``shlex.join``), on Windows for PowerShell
                (:func:`powershell_quote`; the default shell of Windows Terminal and VS Code)
cursor          ``~/.cursor/mcp.json`` or ``.cursor/mcp.json``: ``{"mcpServers": {...}}`` as above
                (cursor.com/docs/mcp)
vscode          ``.vscode/mcp.json`` or the user ``mcp.json``: ``{"inputs": [promptString, password],
                "servers": {name: {"type": "stdio", command, args, env}}}``, the token given as
                ``${input:footage-api-token}`` so that VS Code asks for it and keeps it in its
                secret storage (code.visualstudio.com/docs/copilot/reference/mcp-configuration)
==============  ===============================================================================

The command is an absolute path, because desktop apps do not get the shell's ``PATH``: the
``footage-mcp`` executable of this installation (found from ``sys.argv[0]`` or the interpreter's
scripts directory; else this Python with ``-m footage_mcp``). An installation inside uv's cache (what
``uvx footage-mcp`` runs) is temporary, so there, or with ``--uvx``, the snippet runs ``uvx`` by its
absolute path, with ``--from`` when the package came from a directory or a VCS URL (PEP 610).

The token is never written, even when set: a placeholder (:data:`~footage_mcp.core.settings.TOKEN_PLACEHOLDER`)
stands in its place. ``FOOTAGE_BASE_URL`` is included when set to something else than the default and
valid (:func:`~footage_mcp.core.settings.validate_base_url`, and no whitespace or control character); an invalid
one is left out, with one line on stderr saying so.
(``footage_mcp.core.settings``, ``importlib.metadata`` and ``urllib`` are imported lazily: the CLI builds
this parser for every command, ``serve`` included, and together they take well over 100 ms to import.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from footage_mcp.core.errors import ConfigError

HOSTS = ("claude-desktop", "claude-code", "cursor", "vscode")
SCOPES = ("user", "local", "project")
INPUT_ID = "footage-api-token"
"""The VS Code input the token is asked through."""
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
"""A server name; use with ``fullmatch`` (this module's patterns have no ``^...$``: ``$`` also matches before a
trailing newline)."""
SCRIPT = "footage-mcp"
PACKAGE = "footage-mcp"


@dataclass(frozen=True, slots=True)
class Launch:
    """How a host starts the server: ``command`` (an absolute path when one was found) and ``args``."""

    command: str
    args: tuple[str, ...]


_CACHE_BUCKET = re.compile(r"(?:archive|environments|builds)-v[0-9]+")
"""A bucket of uv's cache (with ``fullmatch``; ``[0-9]``, as ``\\d`` takes any Unicode digit)."""


def _in_cache(prefix: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment at ``prefix`` is a temporary one in uv's cache (``uvx``, ``uv run
    --with``): inside a bucket such as ``archive-v0`` of a directory tagged ``CACHEDIR.TAG``, or under
    ``$UV_CACHE_DIR``. (A project's ``.venv`` made by uv is tagged too, but is no cache bucket.)"""
    environ = os.environ if environ is None else environ
    path = Path(os.path.abspath(prefix))
    cache_dir = environ.get("UV_CACHE_DIR")
    if cache_dir and path.is_relative_to(os.path.abspath(cache_dir)):
        return True
    return any(
        _CACHE_BUCKET.fullmatch(parent.name) and (parent.parent / "CACHEDIR.TAG").is_file() for parent in path.parents
    )


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def this_executable(argv0: str | None = None, python: str | None = None) -> str | None:
    """The absolute path of this installation's ``footage-mcp`` executable, or None.

    ``sys.argv[0]`` is it when run as ``footage-mcp`` (kept as given: a symlink in ``~/.local/bin``
    outlives upgrades); under ``python -m footage_mcp`` it is looked up in the interpreter's scripts
    directory. Symlinks are not resolved (a venv's python is a symlink to the base interpreter).
    """
    import sysconfig

    argv0 = sys.argv[0] if argv0 is None else argv0
    python = sys.executable if python is None else python
    names = [SCRIPT + ".exe", SCRIPT] if os.name == "nt" else [SCRIPT]
    given = Path(argv0)
    if given.name.lower().removesuffix(".exe") == SCRIPT:
        for candidate in (given, given.with_name(given.name + ".exe")):
            if _is_executable(candidate):
                return os.path.abspath(candidate)
    directories = [Path(python).parent]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        directories.append(Path(scripts))
    for directory in directories:
        for name in names:
            if _is_executable(directory / name):
                return os.path.abspath(directory / name)
    return None


def _uvx_command() -> tuple[str, tuple[str, ...]]:
    """``uvx`` by absolute path (next to ``$UV``, which uv sets for what it runs, else on PATH), or
    ``uv tool run`` (the same thing), or plain ``uvx`` as a last resort."""
    import shutil

    suffix = ".exe" if os.name == "nt" else ""
    uv = os.environ.get("UV")
    if uv and _is_executable(Path(uv).with_name("uvx" + suffix)):
        return os.path.abspath(Path(uv).with_name("uvx" + suffix)), ()
    found = shutil.which("uvx")
    if found:
        return os.path.abspath(found), ()
    if uv and _is_executable(Path(uv)):
        return os.path.abspath(uv), ("tool", "run")
    return "uvx", ()


def uvx_source() -> tuple[str, ...]:
    """``("--from", source)`` when this package was installed from a directory or a VCS/archive
    URL (its PEP 610 ``direct_url.json``), so that uvx runs the same code; ``()`` for an index."""
    from importlib import metadata
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    try:
        text = metadata.distribution(PACKAGE).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return ()
    if not text:
        return ()
    try:
        info = json.loads(text)
    except ValueError:
        return ()
    url = str(info.get("url", ""))
    if not url:
        return ()
    if "vcs_info" in info:
        vcs = info["vcs_info"]
        revision = vcs.get("requested_revision") or vcs.get("commit_id")
        return ("--from", f"{vcs.get('vcs', 'git')}+{url}" + (f"@{revision}" if revision else ""))
    if url.startswith("file:"):
        return ("--from", url2pathname(unquote(urlsplit(url).path)))
    return ("--from", url)


def launch_command(*, uvx: bool = False) -> Launch:
    """How the host should start the server (see the module docstring)."""
    if not uvx and not _in_cache(sys.prefix):
        executable = this_executable()
        if executable:
            return Launch(executable, ())
        return Launch(os.path.abspath(sys.executable), ("-m", "footage_mcp"))
    command, prefix = _uvx_command()
    return Launch(command, (*prefix, *uvx_source(), SCRIPT))


def server_env(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], bool]:
    """The ``env`` block, and whether ``FOOTAGE_BASE_URL`` was left out because it is invalid.

    The block holds the token placeholder (never the real token), and ``FOOTAGE_BASE_URL`` when it is set
    to another URL than the default that :func:`~footage_mcp.core.settings.validate_base_url` accepts and that
    holds no whitespace or control character (which would end up in the snippet: a quoted newline in the
    claude-code line).
    """
    from footage_mcp.core.settings import DEFAULT_BASE_URL, TOKEN_PLACEHOLDER, validate_base_url  # lazy: pydantic

    environ = os.environ if environ is None else environ
    env = {"FOOTAGE_API_TOKEN": TOKEN_PLACEHOLDER}
    raw = environ.get("FOOTAGE_BASE_URL", "")
    if not raw.strip():
        return env, False
    try:
        base = validate_base_url(raw)
    except ConfigError:
        return env, True
    if not base.isprintable() or any(ch.isspace() for ch in base):
        return env, True
    if base != DEFAULT_BASE_URL:
        env["FOOTAGE_BASE_URL"] = base
    return env, False


_POWERSHELL_BARE = re.compile(r"[A-Za-z_/\\][A-Za-z0-9_\-./:=@\\]*|--?[A-Za-z][A-Za-z0-9-]*")
"""An argument PowerShell passes on as written (with ``fullmatch``). The first character is a letter, ``_``,
``/`` or ``\\`` (a digit or ``.`` can read as a number or a range, ``@`` splats, ``#`` starts a comment, ``=``
an operator), or the argument is a plain ``-x``/``--xx`` option (Windows PowerShell splits a bare ``-a.b``
or ``-a:b`` in two, and a bare ``--`` ends a .ps1 command's parameters: npm's ``claude.ps1`` shim would
swallow it). Everything else ($ ` ; & | ( ) { } , < > [ ] * ? ~ % ! + ' " spaces, control and non-ASCII
characters, typographic quotes and dashes included) is quoted."""

_POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
"""What ends a PowerShell single-quoted string: ' and the typographic single quotes ‘ ’ ‚ ‛."""


def powershell_quote(arg: str) -> str:
    """``arg`` as one PowerShell argument: as is when it is plainly safe, else in single quotes, inside
    which nothing is special (no ``$`` variable, no backtick escape) but a single quote, which is doubled
    (each of ' ‘ ’ ‚ ‛, as PowerShell takes them all for one)."""
    if _POWERSHELL_BARE.fullmatch(arg):
        return arg
    return "'" + "".join(ch + ch if ch in _POWERSHELL_SINGLE_QUOTES else ch for ch in arg) + "'"


def powershell_join(parts: Iterable[str]) -> str:
    """A PowerShell command line for ``parts`` (the command, ``parts[0]``, must be a bare word: a quoted
    command would need the call operator ``&``)."""
    return " ".join(powershell_quote(part) for part in parts)


def _is_windows(platform: str | None) -> bool:
    return (sys.platform if platform is None else platform).startswith("win")


def render(
    host: str, name: str, launch: Launch, env: Mapping[str, str], scope: str = "user", platform: str | None = None
) -> str:
    """The snippet for ``host``: JSON for the three JSON hosts, a shell line for claude-code (for PowerShell
    when ``platform``, by default this one, is Windows; else for a POSIX shell)."""
    if host == "claude-code":
        import shlex

        parts = ["claude", "mcp", "add", name, "--transport", "stdio", "--scope", scope]
        for key, value in env.items():
            if key == "FOOTAGE_API_TOKEN" and scope == "project":
                value = "${FOOTAGE_API_TOKEN}"  # .mcp.json is shared: Claude Code fills it in at start
            parts += ["--env", f"{key}={value}"]
        parts += ["--", launch.command, *launch.args]
        return powershell_join(parts) if _is_windows(platform) else shlex.join(parts)
    if host == "vscode":
        server: dict[str, object] = {"type": "stdio", "command": launch.command, "args": list(launch.args)}
        server["env"] = {**env, "FOOTAGE_API_TOKEN": "${input:" + INPUT_ID + "}"}
        document: dict[str, object] = {
            "inputs": [
                {
                    "type": "promptString",
                    "id": INPUT_ID,
                    "description": "Footage API token (app.footage.one/account, section 'API Key')",
                    "password": True,
                }
            ],
            "servers": {name: server},
        }
    else:
        document = {"mcpServers": {name: {"command": launch.command, "args": list(launch.args), "env": dict(env)}}}
    return json.dumps(document, indent=2)


def _home() -> str:
    return str(Path.home())


def _app_data(environ: Mapping[str, str]) -> str:
    return environ.get("APPDATA") or os.path.join(_home(), "AppData", "Roaming")


def where(host: str, scope: str = "user", platform: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """One line saying where the snippet goes for ``host`` on ``platform`` (default: this one)."""
    platform = sys.platform if platform is None else platform
    environ = os.environ if environ is None else environ
    windows, mac = platform.startswith("win"), platform == "darwin"
    sep = "\\" if windows else "/"
    home = environ.get("USERPROFILE" if windows else "HOME") or _home()

    def join(*parts: str) -> str:
        return sep.join(parts)

    if host == "claude-desktop":
        if mac:
            path = join(home, "Library", "Application Support", "Claude", "claude_desktop_config.json")
        elif windows:
            path = join(_app_data(environ), "Claude", "claude_desktop_config.json")
        else:
            path = join(home, ".config", "Claude", "claude_desktop_config.json")
            path += " (there is no official Linux build; community builds read this file)"
        return (
            f"in Claude Desktop, Settings → Developer → Edit Config opens {path}: merge this into it, put your "
            "token in place of the placeholder, then quit and restart Claude Desktop"
        )
    if host == "claude-code":
        stored = {
            "user": f"in {join(home, '.claude.json')} for all your projects",
            "local": f"in {join(home, '.claude.json')} for the current project only",
            "project": "in .mcp.json in the project root (shared; it refers to ${FOOTAGE_API_TOKEN}, which "
            "Claude Code fills in from each user's environment)",
        }[scope]
        token = (
            ("set FOOTAGE_API_TOKEN in your environment" if windows else "export FOOTAGE_API_TOKEN")
            + " before starting claude"
            if scope == "project"
            else "put your token in place of the placeholder"
        )
        shell = "PowerShell (the line is quoted for PowerShell, not cmd.exe; " if windows else "a terminal ("
        return f"run this in {shell}{token}); Claude Code stores the server {stored}"
    if host == "cursor":
        return (
            f"merge this into {join(home, '.cursor', 'mcp.json')} (all projects) or .cursor{sep}mcp.json in a "
            "project, put your token in place of the placeholder; Cursor Settings → MCP lists the server"
        )
    if mac:
        user = join(home, "Library", "Application Support", "Code", "User", "mcp.json")
    elif windows:
        user = join(_app_data(environ), "Code", "User", "mcp.json")
    else:
        user = join(home, ".config", "Code", "User", "mcp.json")
    return (
        f"merge this into .vscode{sep}mcp.json in your workspace, or into your user {user} (Command Palette → "
        "MCP: Open User Configuration); VS Code asks for the token when the server starts and keeps it in its "
        "secret storage"
    )


HELP = """\
Print a configuration snippet for an MCP host on stdout (JSON for claude-desktop, cursor and
vscode; a `claude mcp add` command line for claude-code), and on stderr where it goes on this
system.

The command in the snippet is the absolute path of this installation's footage-mcp executable:
desktop apps (Claude Desktop, Cursor, VS Code) do not see your shell's PATH. When this
footage-mcp runs from uv's cache (as `uvx footage-mcp` does, a temporary copy), or with --uvx,
the snippet runs uvx by its absolute path instead, which fetches the package when the host
starts it.

The token is never written, even when FOOTAGE_API_TOKEN is set: the snippet holds the
placeholder "paste-your-footage-api-token-here" to replace with your token (VS Code asks for it
instead, through an input; claude-code --scope project refers to ${FOOTAGE_API_TOKEN}).
FOOTAGE_BASE_URL is included when it is set to a valid non-default URL (an invalid one is left
out, with a line on stderr). On Windows the claude-code line is for PowerShell.
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``config`` to the CLI's subcommands."""
    parser = sub.add_parser(
        "config",
        help="print a configuration snippet for an MCP host (claude-desktop, claude-code, cursor, vscode)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("host", choices=HOSTS, help="the MCP host")
    parser.add_argument("--name", default="footage", help="the server's name in the host (default: footage)")
    parser.add_argument(
        "--uvx", action="store_true", help="run the server through uvx instead of this installation's executable"
    )
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="claude-code only: where Claude Code stores the server (default: user, all your projects)",
    )


def main(args: argparse.Namespace, platform: str | None = None) -> int:
    """Print the snippet for ``args.host`` (for ``platform``, by default this one); 2 on a bad option."""
    if not NAME.fullmatch(args.name):
        print(
            "footage-mcp config: --name must start with a letter and hold only letters, digits, '-' and '_' "
            "(at most 64)",
            file=sys.stderr,
        )
        return 2
    if args.scope is not None and args.host != "claude-code":
        print("footage-mcp config: --scope applies to claude-code only", file=sys.stderr)
        return 2
    scope = args.scope or "user"
    env, left_out = server_env()
    launch = launch_command(uvx=args.uvx)
    print(render(args.host, args.name, launch, env, scope, platform))
    if left_out:
        print(
            "footage-mcp: FOOTAGE_BASE_URL is invalid and was left out of the snippet (run `footage-mcp check` to "
            "see why)",
            file=sys.stderr,
        )
    if "FOOTAGE_BASE_URL" in env:  # copied from this shell: say so (a sandbox's address left exported)
        print(
            f"footage-mcp: the snippet sets FOOTAGE_BASE_URL={env['FOOTAGE_BASE_URL']} from this shell's "
            "environment; for the real API, unset FOOTAGE_BASE_URL and run config again",
            file=sys.stderr,
        )
    print(f"footage-mcp: {where(args.host, scope, platform)}", file=sys.stderr)
    return 0
