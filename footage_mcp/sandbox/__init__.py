"""A local emulator of the Footage REST API with a seeded sample library, for demos and tests.

It is the other side of the wire from the bridge and shares no code with the rest of
``footage_mcp``. In-process use::

    from footage_mcp.sandbox import create_app
    app = create_app(shape="items")          # a Starlette ASGI app

Over HTTP: ``serve(port=0)`` or ``python -m footage_mcp.sandbox --port 0``; the first stdout line is
``READY http://127.0.0.1:<port>/api/asset``. Requests need ``apiKey: sandbox-token`` (or the token in
``$FOOTAGE_SANDBOX_TOKEN``) except the discovery root, ``/configuration/archive`` and ``/public/...``.

Fault injection for tests: a control API under ``/_sandbox/`` (rules, request logs, info; see
:mod:`.control` and :mod:`.faults`), and an echo listener on a second loopback port for
other-origin redirects (``serve()`` only).
"""

from __future__ import annotations

from .app import create_app
from .constants import BASE_PATH, DEFAULT_TOKEN, SHAPES, default_tokens
from .library import DEFAULT_SEED, build_library
from .server import serve

__all__ = [
    "BASE_PATH",
    "DEFAULT_SEED",
    "DEFAULT_TOKEN",
    "SHAPES",
    "build_library",
    "create_app",
    "default_tokens",
    "serve",
]
