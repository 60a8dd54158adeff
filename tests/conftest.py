"""Shared fixtures: the sandbox over real loopback HTTP (a subprocess), and bridge parameters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from footage_mcp.launch import RunningSandbox, sandbox_process

SHAPES = ("hal", "array", "items")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=SHAPES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """The sandbox in each list shape, on an ephemeral loopback port."""
    with sandbox_process(shape=request.param) as running:
        yield running


@pytest.fixture(scope="session")
def hal_sandbox() -> Iterator[RunningSandbox]:
    with sandbox_process(shape="hal") as running:
        yield running


@pytest.fixture(scope="session")
def alt_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox whose search and album-assets routes differ from the bridge's defaults."""
    with sandbox_process(shape="items", alt_routes=True) as running:
        yield running
