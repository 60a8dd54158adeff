"""Write tools end to end: the bridge as a real stdio subprocess (FOOTAGE_ALLOW_WRITES=true) driven by the
SDK client, against the sandbox as a real loopback HTTP subprocess in each shape. What changed is read from
the sandbox's own state (``GET /_sandbox/state``), never from the bridge's answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from forkrun import warm_parameters, warm_sandbox
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.types import ElicitRequestParams, ElicitResult

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from footage_mcp.sandbox.library import shared_library
from footage_mcp.surface.tools.writes import WRITE_TOOLS
from tests.conftest import INTERFACE_TOOLS, SHAPES
from tests.writes_helpers import diff, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

LIB = shared_library()
WRITES_ON = {"FOOTAGE_ALLOW_WRITES": "true"}


@pytest.fixture(scope="module", params=SHAPES)
def writable(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """A sandbox of its own per shape (writes change it; the session's shared sandboxes stay pristine)."""
    with warm_sandbox(shape=request.param) as running:
        yield running


def origin(sandbox: RunningSandbox) -> str:
    return sandbox.base_url.removesuffix("/api/asset")


def control(sandbox: RunningSandbox, method: str, path: str, body: Any = None) -> Any:
    response = httpx2.request(method, origin(sandbox) + "/_sandbox/" + path, json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def sandbox_state(sandbox: RunningSandbox) -> dict[str, Any]:
    state: dict[str, Any] = control(sandbox, "GET", "state")
    return state


class Answers:
    """An elicitation callback that answers with the next queued action and records the questions."""

    def __init__(self, *actions: str) -> None:
        self.actions = list(actions)
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        action = self.actions.pop(0)
        return ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)  # type: ignore[arg-type]


async def test_every_write_tool_over_stdio(writable: RunningSandbox) -> None:
    control(writable, "POST", "reset")
    album = LIB.albums[4]
    outsiders = [a.id for a in LIB.assets if album.id not in a.album_ids][:4]
    members = list(album.asset_ids[:2])
    videos = [a.id for a in LIB.assets if a.kind == "video"][:2]
    answers = Answers("accept", "accept")
    params = warm_parameters(bridge_parameters(writable.base_url, writable.token, WRITES_ON))
    async with Client(params, mode="legacy", elicitation_callback=answers) as client:
        assert {t.name for t in (await client.list_tools()).tools} == INTERFACE_TOOLS | WRITE_TOOLS

        steps: list[tuple[str, dict[str, Any], Any]] = [
            ("add_to_album", {"album_id": album.id, "asset_ids": outsiders},
             {("album", album.id, "asset_ids")} | {("asset", i, "album_ids") for i in outsiders}),
            ("remove_from_album", {"album_id": album.id, "asset_ids": members},
             {("album", album.id, "asset_ids")} | {("asset", i, "album_ids") for i in members}),
            ("update_asset", {"asset_id": videos[0], "name": "Renamed clip"}, {("asset", videos[0], "name")}),
            ("add_labels", {"asset_ids": videos, "labels": ["#stdio"]}, {("asset", i, "labels") for i in videos}),
            ("remove_labels", {"asset_ids": videos[1:], "labels": ["stdio"]}, {("asset", videos[1], "labels")}),
            ("add_keywords", {"asset_ids": [videos[1]], "keywords": ["Eiffelturm"], "language": "de"},
             {("asset", videos[1], "keywords")}),
            ("relate_assets", {"asset_id": videos[0], "related_asset_id": videos[1], "relation": "model_release"},
             {("asset", videos[0], "relations")}),
        ]  # fmt: skip
        before = sandbox_state(writable)
        created = structured(await client.call_tool("create_album", {"name": "Stdio picks"}))
        after = sandbox_state(writable)
        assert diff(before, after) == {("album", created["album"]["id"], "created")}
        before = after
        updated = structured(
            await client.call_tool("update_album", {"album_id": created["album"]["id"], "description": "v2"})
        )
        assert updated["status"] == "done"
        after = sandbox_state(writable)
        assert diff(before, after) == {("album", created["album"]["id"], "description")}
        for tool, args, expected in steps:
            before = after
            result = structured(await client.call_tool(tool, args))
            assert result["status"] == "done", (tool, result)
            after = sandbox_state(writable)
            assert diff(before, after) == expected, tool
    assets = {a["id"]: a for a in after["assets"]}
    assert assets[videos[0]]["name"] == "Renamed clip"
    assert "#stdio" in assets[videos[0]]["labels"] and "#stdio" not in assets[videos[1]]["labels"]
    assert assets[videos[1]]["keywords"][-1] == "Eiffel Tower"
    assert assets[videos[0]]["relations"][-1]["type"] == "model_release"
    assert [q.split(":")[0] for q in answers.asked] == ["remove_from_album", "remove_labels"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_confirmation_paths_over_stdio(hal_writable: RunningSandbox, mode: str) -> None:
    control(hal_writable, "POST", "reset")
    asset = LIB.assets[7]
    label = asset.labels[0]
    args = {"asset_ids": [asset.id], "labels": [label]}
    params = warm_parameters(bridge_parameters(hal_writable.base_url, hal_writable.token, WRITES_ON))
    before = sandbox_state(hal_writable)
    answers = Answers("decline", "accept")
    async with Client(params, mode=mode, elicitation_callback=answers) as client:
        declined = structured(await client.call_tool("remove_labels", args))
        assert declined["status"] == "declined" and sandbox_state(hal_writable) == before
        accepted = structured(await client.call_tool("remove_labels", args))
        assert accepted["status"] == "done"
    assert diff(before, sandbox_state(hal_writable)) == {("asset", asset.id, "labels")}
    assert len(answers.asked) == 2 and label in answers.asked[0]

    control(hal_writable, "POST", "reset")
    async with Client(params, mode=mode) as client:  # a client without elicitation: dry run, then confirm=true
        dry = structured(await client.call_tool("remove_labels", args))
        assert dry["status"] == "dry_run" and dry["items"][0]["outcome"] == "would_change"
        assert sandbox_state(hal_writable) == before
        done = structured(await client.call_tool("remove_labels", {**args, "confirm": True}))
        assert done["status"] == "done"
    assert diff(before, sandbox_state(hal_writable)) == {("asset", asset.id, "labels")}


@pytest.fixture(scope="module")
def hal_writable() -> Iterator[RunningSandbox]:
    with warm_sandbox(shape="hal") as running:
        yield running


async def test_write_faults_hold_over_stdio(hal_writable: RunningSandbox) -> None:
    control(hal_writable, "POST", "reset")
    control(
        hal_writable,
        "PUT",
        "writes",
        {
            "idempotency": "ignore",
            "faults": [
                {"match": "^/albums$", "method": "POST", "status": 500, "times": 1},
                {"match": "/labels$", "method": "POST", "status": 503, "times": 1},
                {"match": "/relations$", "fault": "timeout", "hang_ms": 4000, "times": 1},
            ],
        },
    )
    video, other = [a.id for a in LIB.assets if a.kind == "video"][:2]
    params = warm_parameters(
        bridge_parameters(hal_writable.base_url, hal_writable.token, {**WRITES_ON, "FOOTAGE_TIMEOUT": "1"})
    )
    async with Client(params, mode="legacy") as client:
        text = error_text(await client.call_tool("create_album", {"name": "Faulted"}))
        assert "may or may not have happened: check with list_albums" in text
        labelled = structured(await client.call_tool("add_labels", {"asset_ids": [video], "labels": ["after-503"]}))
        assert labelled["status"] == "done"  # idempotent: retried after the 503
        text = error_text(
            await client.call_tool(
                "relate_assets", {"asset_id": video, "related_asset_id": other, "relation": "variant"}
            )
        )
        assert "may or may not have happened: check with get_asset" in text
        # the server keeps answering
        assert not (await client.call_tool("get_asset", {"asset_id": video})).is_error
    state = sandbox_state(hal_writable)
    assert [a["name"] for a in state["albums"]].count("Faulted") == 1  # applied once, not retried
    asset = next(a for a in state["assets"] if a["id"] == video)
    assert asset["labels"].count("#after-503") == 1
    assert [(r["type"], r["target"]) for r in asset["relations"]].count(("variant", other)) == 1
    mode = control(hal_writable, "GET", "writes")
    assert mode["applied"] == [1, 1, 1]
    control(hal_writable, "POST", "reset")


async def test_audit_lines_reach_stderr_at_the_default_log_level(hal_writable: RunningSandbox, tmp_path: Any) -> None:
    control(hal_writable, "POST", "reset")
    asset = LIB.assets[9]
    log = (tmp_path / "bridge.log").open("w+", encoding="utf-8")
    params = warm_parameters(bridge_parameters(hal_writable.base_url, hal_writable.token, WRITES_ON))
    async with Client(stdio_client(params, errlog=log), mode="legacy") as client:
        structured(await client.call_tool("add_labels", {"asset_ids": [asset.id], "labels": ["logged"]}))
        structured(await client.call_tool("add_labels", {"asset_ids": [asset.id], "labels": ["logged"]}))
        await client.call_tool("create_album", {"name": "x" * 300})
    log.seek(0)
    lines = [line for line in log.read().splitlines() if "footage_mcp.audit" in line]
    log.close()
    assert len(lines) == 3 and all(" INFO footage_mcp.audit: write tool=" in line for line in lines)
    assert lines[0].endswith(f"tool=add_labels ids={asset.id} outcome=done done=1 unchanged=0 failed=0 would_change=0")
    assert "outcome=unchanged" in lines[1] and "tool=create_album outcome=refused" in lines[2]
    assert not any(hal_writable.token in line for line in lines)
    control(hal_writable, "POST", "reset")
