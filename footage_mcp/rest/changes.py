"""The write operations of the Footage domain, each as a :class:`Plan` first and a change second.

A plan validates the arguments (locally: nothing is sent for what can be refused here), reads the
objects concerned and says per asset what would change and what already is so. The same plan is
the dry run (when a confirmation is missing) and the input of :meth:`Plan.apply`, so the dry run and
the real call share one validation. Route, body and answer handling: :mod:`footage_mcp.rest.writes`.
This module knows no MCP tool names; messages say what to read next in domain terms.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from footage_mcp.core.errors import BadRequest, Conflict, FootageError, InvalidArgument
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.models import Album, Asset
from footage_mcp.rest.shapes import parse_album, parse_asset
from footage_mcp.rest.write_models import Counts, ItemResult, KeywordMatch, WriteResult, WriteStatus
from footage_mcp.rest.writes import MaybeApplied, ObjectState, PreconditionFailed, WriteClient

MAX_ASSETS = 500
MAX_TERMS = 20
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 5000
MAX_LABEL_CHARS = 64
MAX_ID_CHARS = 256
CONFIRM_ABOVE = 20
"""A write touching more assets than this needs a confirmation even when it only adds (interface.md)."""
CONCURRENCY = 6
"""Requests in flight at once towards the API during a bulk call."""
BATCH = 100
"""Asset ids per request where the API takes a list (adding to an album)."""
RELATION_TYPES = (
    "variant",
    "derivative",
    "composition",
    "segment",
    "version",
    "audio_track",
    "model_release",
    "behind_the_scenes",
    "related",
)
"""The nine relation types (footage-api.md, 'Confirmed': the domain)."""

Progress = Callable[[float, float, str], Awaitable[None]]


# ---------------------------------------------------------------- local checks

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LABEL = re.compile(r"^[\w\-]+$")


def check_ids(values: Sequence[str], what: str = "asset_ids") -> list[str]:
    """Stripped ids: 1 to :data:`MAX_ASSETS`, no duplicates, none empty or with control characters.

    Raises:
        InvalidArgument: naming the first problem.
    """
    ids = [v.strip() if isinstance(v, str) else "" for v in values]
    if not ids:
        raise InvalidArgument(f"{what} is empty; give 1 to {MAX_ASSETS} asset ids")
    if len(ids) > MAX_ASSETS:
        raise InvalidArgument(f"{what} has {len(ids)} ids; at most {MAX_ASSETS} per call: split the list")
    for value in ids:
        check_id(value, what)
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise InvalidArgument(f"{what} lists '{_short(value)}' twice; give each asset once")
        seen.add(value)
    return ids


def check_id(value: str, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidArgument(f"{what} contains an empty id")
    if len(text) > MAX_ID_CHARS or _CONTROL.search(text) or text in (".", ".."):
        raise InvalidArgument(f"{what}: '{_short(text)}' is not an id (ids are as listed by the library)")
    return text


def check_labels(values: Sequence[str]) -> list[str]:
    """Labels as ``#word``: 1 to :data:`MAX_TERMS`, letters, digits, ``_`` and ``-``, at most
    :data:`MAX_LABEL_CHARS` characters; one leading ``#`` is optional; duplicates are merged."""
    if not values:
        raise InvalidArgument(f"labels is empty; give 1 to {MAX_TERMS} labels such as '#approved'")
    if len(values) > MAX_TERMS:
        raise InvalidArgument(f"labels has {len(values)} entries; at most {MAX_TERMS} per call")
    labels: list[str] = []
    for raw in values:
        text = raw.strip() if isinstance(raw, str) else ""
        bare = text[1:] if text.startswith("#") else text
        if not bare:
            raise InvalidArgument("a label is empty; a label is a word such as '#approved'")
        if len(bare) > MAX_LABEL_CHARS:
            raise InvalidArgument(f"label '{_short(bare)}' is {len(bare)} characters; at most {MAX_LABEL_CHARS}")
        if _CONTROL.search(bare):
            raise InvalidArgument(f"label '{_short(bare)}' contains a control character; a label is one plain word")
        if any(c.isspace() for c in bare):
            joined = "-".join(bare.split())
            raise InvalidArgument(
                f"label '{_short(bare)}' contains a space; a label is one word (use '-' or '_': '#{_short(joined)}')"
            )
        if "#" in bare:
            raise InvalidArgument(f"label '{_short(bare)}' contains '#' inside; give one label per entry")
        if not _LABEL.match(bare):
            raise InvalidArgument(f"label '{_short(bare)}' may hold only letters, digits, '_' and '-'")
        label = "#" + bare
        if label not in labels:
            labels.append(label)
    return labels


def check_terms(values: Sequence[str]) -> list[str]:
    """Keyword terms: 1 to :data:`MAX_TERMS`, each 2 to 100 characters, no control characters."""
    if not values:
        raise InvalidArgument(f"keywords is empty; give 1 to {MAX_TERMS} taxonomy terms such as 'Paris'")
    if len(values) > MAX_TERMS:
        raise InvalidArgument(f"keywords has {len(values)} entries; at most {MAX_TERMS} per call")
    terms: list[str] = []
    for raw in values:
        text = raw.strip() if isinstance(raw, str) else ""
        if len(text) < 2 or len(text) > 100 or _CONTROL.search(text):
            raise InvalidArgument(f"keyword '{_short(text)}' must be 2 to 100 characters of plain text")
        if text not in terms:
            terms.append(text)
    return terms


def check_name(value: str | None, what: str, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise InvalidArgument(f"{what} is required")
        return None
    text = value.strip()
    if not text:
        raise InvalidArgument(f"{what} must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise InvalidArgument(f"{what} is {len(text)} characters; at most {MAX_NAME_CHARS}")
    if _CONTROL.search(text):
        raise InvalidArgument(f"{what} contains control characters (line breaks, tabs); give one line of text")
    return text


def check_description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidArgument(f"description is {len(value)} characters; at most {MAX_DESCRIPTION_CHARS}")
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value):
        raise InvalidArgument("description contains control characters other than line breaks and tabs")
    return value


def _short(text: str, limit: int = 40) -> str:
    clean = _CONTROL.sub("?", text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


# ---------------------------------------------------------------- plans


@dataclass(slots=True)
class Plan:
    """A validated write: what it would change, the question to confirm it, and how to apply it."""

    summary: str
    """What the call would change, one sentence (counts and names)."""
    items: list[ItemResult] = field(default_factory=list)
    destructive: bool = False
    """Removes something: always confirmed (remove_from_album, remove_labels)."""
    keywords: list[KeywordMatch] = field(default_factory=list)
    album: Album | None = None
    asset: Asset | None = None
    apply: Callable[[Progress], Awaitable[WriteResult]] | None = None
    """None when nothing would change."""
    ids: list[str] = field(default_factory=list)
    """The ids the call is about (for the audit line)."""

    @property
    def changes(self) -> list[ItemResult]:
        return [i for i in self.items if i.outcome == "would_change"]

    @property
    def needs_confirmation(self) -> bool:
        return self.apply is not None and (self.destructive or len(self.changes) > CONFIRM_ABOVE)

    def dry_run(self, status: WriteStatus, next_step: str | None) -> WriteResult:
        """The plan as a result: nothing was changed."""
        return WriteResult(
            status=status,
            summary=("Nothing was changed. Would " if self.apply else "Nothing to change: ") + self.summary,
            counts=_counts(self.items) if self.items else None,
            items=self.items,
            album=self.album,
            asset=self.asset,
            keywords=self.keywords,
            next_step=next_step,
        )

    def unchanged(self) -> WriteResult:
        status: WriteStatus = "failed" if self.items and all(i.outcome == "failed" for i in self.items) else "unchanged"
        summary = "Nothing to change: " + self.summary
        if self.items:
            same = sum(1 for i in self.items if i.outcome == "unchanged")
            failed = len(self.items) - same
            parts = ([f"{same} already so"] if same else []) + ([f"{failed} failed"] if failed else [])
            summary = f"Nothing was changed: of {len(self.items)} asset(s), " + ", ".join(parts)
            summary += " (see items)" if failed else ""
        return WriteResult(
            status=status,
            summary=summary,
            counts=_counts(self.items) if self.items else None,
            items=self.items,
            album=self.album,
            asset=self.asset,
            keywords=self.keywords,
        )


def _counts(items: Sequence[ItemResult]) -> Counts:
    counts = Counts()
    for item in items:
        setattr(counts, item.outcome, getattr(counts, item.outcome) + 1)
    return counts


def _status(items: Sequence[ItemResult]) -> WriteStatus:
    outcomes = {i.outcome for i in items}
    if outcomes <= {"unchanged"}:
        return "unchanged"
    if "failed" in outcomes:
        return "partial" if outcomes & {"done", "unchanged"} else "failed"
    return "done"


def _names(values: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


async def bounded(
    items: Sequence[Any], work: Callable[[Any], Awaitable[Any]], progress: Progress, what: str
) -> list[Any]:
    """``work(item)`` for every item, at most :data:`CONCURRENCY` at a time, results in input order;
    progress is reported after each item."""
    results: list[Any] = [None] * len(items)
    limiter = anyio.CapacityLimiter(CONCURRENCY)
    done = 0

    async def one(index: int, item: Any) -> None:
        nonlocal done
        async with limiter:
            results[index] = await work(item)
        done += 1
        if len(items) > 1:
            await progress(done, len(items), f"{what} {done}/{len(items)}")

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(one, index, item)
    return results


class Changes:
    """Plans for every write of the Footage domain over one :class:`WriteClient`."""

    def __init__(self, writes: WriteClient) -> None:
        self.writes = writes
        self.api: FootageApi = writes.api

    # ------------------------------------------------------------ reading

    async def _asset(self, asset_id: str) -> tuple[ObjectState, Asset] | FootageError:
        try:
            state = await self.writes.read_object("asset", asset_id)
        except FootageError as exc:
            return exc
        asset = parse_asset(state.body) or parse_asset({**state.body, "id": asset_id})
        assert asset is not None
        return state, asset

    async def _assets(self, ids: Sequence[str], progress: Progress) -> list[tuple[ObjectState, Asset] | FootageError]:
        return await bounded(ids, self._asset, progress, "read asset")

    async def _album(self, album_id: str) -> tuple[ObjectState, Album]:
        state = await self.writes.read_object("album", album_id)
        album = parse_album(state.body) or parse_album({**state.body, "id": album_id})
        assert album is not None
        return state, album

    async def _album_members(self, album_id: str) -> set[str]:
        """Every asset id in the album (all pages), for an API whose assets do not list their albums."""
        members: set[str] = set()
        cursor: str | None = None
        for _ in range(100):
            listing = await self.api.list_album_assets(album_id, limit=100, cursor=cursor)
            members.update(a.id for a in listing.result.assets)
            cursor = listing.result.next_cursor
            if not cursor:
                break
        return members

    # ------------------------------------------------------------ albums

    async def create_album(self, name: str | None, description: str | None) -> Plan:
        title = check_name(name, "name", required=True)
        text = check_description(description)
        assert title is not None

        async def apply(progress: Progress) -> WriteResult:
            target = await self.writes.target("createAlbum", {})
            body: dict[str, Any] = {self.writes.field("createAlbum", "name"): title}
            if text is not None:
                body[self.writes.field("createAlbum", "description")] = text
            try:
                answer = await self.writes.send(target, body, idempotent=False, check_with="list_albums")
            except Conflict as exc:
                return WriteResult(status="failed", summary=f"Album '{title}' was not created: {exc.message}")
            except MaybeApplied as exc:
                return WriteResult(status="failed", summary=exc.message)  # the message says what to check
            album = parse_album(answer.body) if isinstance(answer.body, dict) else None
            if album is None and answer.location and self.writes.rest.is_under_base(answer.location):
                state = await self.writes.read_url("album", answer.location, answer.location.rsplit("/", 1)[-1])
                album = parse_album(state.body)
            if album is None:
                return WriteResult(
                    status="done",
                    summary=f"Album '{title}' was created, but the API did not say its id",
                    next_step="list_albums shows it",
                )
            return WriteResult(status="done", summary=f"Created album '{title}' ({album.id}).", album=album)

        return Plan(summary=f"create the album '{title}'", apply=apply)

    async def update_album(self, album_id: str, name: str | None, description: str | None) -> Plan:
        return await self._update("album", album_id, name, description)

    async def update_asset(self, asset_id: str, name: str | None, description: str | None) -> Plan:
        return await self._update("asset", asset_id, name, description)

    async def _update(self, kind: str, object_id: str, name: str | None, description: str | None) -> Plan:
        oid = check_id(object_id, f"{kind}_id")
        title = check_name(name, "name", required=False)
        text = check_description(description)
        if title is None and text is None:
            raise InvalidArgument(f"give name or description (or both) to change the {kind}")
        state, current = await (self._album(oid) if kind == "album" else self._asset_or_raise(oid))
        changes: dict[str, str] = {}
        if title is not None and title != current.name:
            changes["name"] = title
        if text is not None and text != (current.description or ""):
            changes["description"] = text
        what = " and ".join(changes) or "nothing"
        # overwrites, but one object the caller named: not a "confirmation required" write (interface.md)
        plan = Plan(summary=f"change the {what} of {kind} '{current.name or oid}'", ids=[oid])
        if kind == "album":
            plan.album = current  # type: ignore[assignment]
        else:
            plan.asset = current  # type: ignore[assignment]
        if not changes:
            plan.summary = f"{kind} '{current.name or oid}' already has that name and description"
            return plan
        key = "updateAlbum" if kind == "album" else "updateAsset"
        reader = "get_album" if kind == "album" else "get_asset"

        async def apply(progress: Progress) -> WriteResult:
            target = await self.writes.target(key, {"id": oid}, state)
            body = {self.writes.field(key, k): v for k, v in changes.items()}
            try:
                answer = await self.writes.send(target, body, idempotent=True, if_match=state.etag, check_with=reader)
            except PreconditionFailed:
                _, now = await (self._album(oid) if kind == "album" else self._asset_or_raise(oid))
                result = WriteResult(
                    status="failed",
                    summary=(
                        f"The {kind} changed since the bridge read it (412), so nothing was overwritten; it now "
                        f"has the name '{now.name}'."
                    ),
                    next_step=f"read it with {reader}, then call again to apply the change on top of the new version",
                )
                if kind == "album":
                    result.album = now  # type: ignore[assignment]
                else:
                    result.asset = now  # type: ignore[assignment]
                return result
            parsed = (
                (parse_album if kind == "album" else parse_asset)(answer.body)
                if isinstance(answer.body, dict)
                else None
            )
            if parsed is None:
                _, parsed = await (self._album(oid) if kind == "album" else self._asset_or_raise(oid))
            result = WriteResult(status="done", summary=f"Changed the {what} of {kind} '{parsed.name or oid}'.")
            if kind == "album":
                result.album = parsed  # type: ignore[assignment]
            else:
                result.asset = parsed  # type: ignore[assignment]
            return result

        plan.apply = apply
        return plan

    async def _asset_or_raise(self, asset_id: str) -> tuple[ObjectState, Asset]:
        found = await self._asset(asset_id)
        if isinstance(found, FootageError):
            raise found
        return found

    async def membership(self, album_id: str, asset_ids: Sequence[str], *, add: bool, progress: Progress) -> Plan:
        """Adding assets to an album (``add``) or removing them from it."""
        aid = check_id(album_id, "album_id")
        ids = check_ids(asset_ids)
        album_state, album = await self._album(aid)
        found = await self._assets(ids, progress)
        known = [f for f in found if not isinstance(f, FootageError)]
        members: set[str] | None = None
        if any(asset.albums is None for _, asset in known):
            members = await self._album_members(aid)
        items: list[ItemResult] = []
        for asset_id, entry in zip(ids, found, strict=True):
            if isinstance(entry, FootageError):
                items.append(ItemResult(id=asset_id, outcome="failed", reason=entry.message))
                continue
            _, asset = entry
            inside = asset_id in members if members is not None else aid in (asset.albums or [])
            if inside == add:
                reason = "already in the album" if add else "not in the album"
                items.append(ItemResult(id=asset_id, name=asset.name, outcome="unchanged", reason=reason))
            else:
                items.append(ItemResult(id=asset_id, name=asset.name, outcome="would_change"))
        changing = [i for i in items if i.outcome == "would_change"]
        verb = "add" if add else "remove"
        names = _names([i.name or i.id for i in changing])
        summary = (
            f"{verb} {len(changing)} asset(s) {'to' if add else 'from'} album '{album.name or aid}'"
            + (f": {names}" if changing else "")
            + _tail(items)
        )
        plan = Plan(summary=summary, items=items, destructive=not add, album=album, ids=[aid, *ids])
        if not changing:
            return plan

        async def apply(progress: Progress) -> WriteResult:
            if add:
                await self._add_members(album_state, aid, changing, progress)
            else:
                await self._remove_members(album_state, aid, changing, progress)
            try:
                _, after = await self._album(aid)
            except FootageError:
                after = album
            done = sum(1 for i in items if i.outcome == "done")
            return WriteResult(
                status=_status(items),
                summary=f"{'Added' if add else 'Removed'} {done} asset(s) {'to' if add else 'from'} album "
                f"'{after.name or aid}'" + _tail(items),
                counts=_counts(items),
                items=items,
                album=after,
            )

        plan.apply = apply
        return plan

    async def _add_members(self, album: ObjectState, aid: str, items: list[ItemResult], progress: Progress) -> None:
        target = await self.writes.target("addToAlbum", {"id": aid}, album)
        field_name = self.writes.field("addToAlbum", "assetIds")
        batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        for number, batch in enumerate(batches, 1):
            try:
                await self.writes.send(
                    target, {field_name: [i.id for i in batch]}, idempotent=True, check_with="get_album"
                )
            except FootageError as exc:
                for item in batch:
                    item.outcome, item.reason = "failed", exc.message
            else:
                for item in batch:
                    item.outcome = "done"
            if len(batches) > 1:
                await progress(number, len(batches), f"added batch {number}/{len(batches)}")

    async def _remove_members(self, album: ObjectState, aid: str, items: list[ItemResult], progress: Progress) -> None:
        async def remove(item: ItemResult) -> None:
            target = await self.writes.target("removeFromAlbum", {"id": aid, "assetId": item.id}, album)
            try:
                await self.writes.send(target, None, idempotent=True, check_with="list_album_assets")
            except FootageError as exc:  # a 404 too: the plan found the asset in the album, so the route is off
                item.outcome, item.reason = "failed", exc.message
            else:
                item.outcome = "done"

        await bounded(items, remove, progress, "removed")

    # ------------------------------------------------------------ labels and keywords

    async def _send_each(
        self,
        items: list[ItemResult],
        todo: dict[str, tuple[ObjectState, list[str]]],
        route: tuple[str, str],
        progress: Progress,
        verb: str,
        *,
        method: str | None = None,
    ) -> None:
        """Send each asset's delta as ``{field: delta}`` to its ``route`` (key, body field), idempotent,
        bounded; each item ends ``done`` or ``failed`` with the reason."""
        key, field_name = route

        async def one(item: ItemResult) -> None:
            state, delta = todo[item.id]
            target = await self.writes.target(key, {"id": item.id}, state, method=method)
            try:
                await self.writes.send(target, {self.writes.field(key, field_name): delta}, idempotent=True)
            except FootageError as exc:
                item.outcome, item.reason = "failed", exc.message
            else:
                item.outcome = "done"

        await bounded([i for i in items if i.id in todo], one, progress, verb)

    async def labels(self, asset_ids: Sequence[str], labels: Sequence[str], *, add: bool, progress: Progress) -> Plan:
        ids = check_ids(asset_ids)
        wanted = check_labels(labels)
        found = await self._assets(ids, progress)

        def delta_of(asset: Any) -> list[str]:
            have = {_fold(x.lstrip("#")) for x in asset.labels}
            return [x for x in wanted if (_fold(x[1:]) in have) != add]

        reason = "already has these labels" if add else "has none of these labels"
        items, todo = _partition(ids, found, delta_of, reason)
        count = len(todo)
        summary = f"{'add' if add else 'remove'} {_names(wanted)} {'to' if add else 'from'} {count} asset(s)" + _tail(
            items
        )
        plan = Plan(summary=summary, items=items, destructive=not add, ids=ids)
        if not todo:
            return plan

        async def apply(progress: Progress) -> WriteResult:
            method = None if add else "DELETE"
            await self._send_each(items, todo, ("assetLabels", "labels"), progress, "labelled", method=method)
            done = sum(1 for i in items if i.outcome == "done")
            return WriteResult(
                status=_status(items),
                summary=f"{'Added' if add else 'Removed'} {_names(wanted)} {'to' if add else 'from'} {done} asset(s)"
                + _tail(items),
                counts=_counts(items),
                items=items,
            )

        plan.apply = apply
        return plan

    async def resolve_terms(self, terms: Sequence[str], language: str | None) -> list[tuple[KeywordMatch, set[str]]]:
        """Each term's concept in the taxonomy (keyword route; guessed), with every name it goes by.

        Raises:
            NotFound: the API has no keyword route (configure ``keywords`` in FOOTAGE_ROUTES).
        """
        results: list[tuple[KeywordMatch, set[str]]] = []
        for term in terms:
            concepts = await self.api.suggest_keywords(term, language)  # the one reader of the keyword route
            folded = _fold(term)
            match = next((c for c in concepts if folded in {_fold(n) for n in (c.keyword, *c.synonyms)}), None)
            if match is None:
                suggestions = list(dict.fromkeys(c.keyword for c in concepts))[:5]
                results.append((KeywordMatch(term=term, suggestions=suggestions), set()))
            else:
                names = {_fold(n) for n in (match.keyword, *match.synonyms)}
                results.append((KeywordMatch(term=term, keyword=match.keyword, concept_id=match.id), names))
        return results

    async def keywords(
        self, asset_ids: Sequence[str], terms: Sequence[str], language: str | None, *, progress: Progress
    ) -> Plan:
        ids = check_ids(asset_ids)
        wanted = check_terms(terms)
        resolved = await self.resolve_terms(wanted, language)
        matches = [m for m, _ in resolved]
        known = [(m, names) for m, names in resolved if m.keyword is not None]
        unknown = [m.term for m in matches if m.keyword is None]
        if not known:
            raise InvalidArgument(
                f"none of the keywords is in the library's taxonomy ({_names(unknown)}); keywords are a controlled "
                "vocabulary and are never created: use a suggested concept"
                + (f" such as {_names(matches[0].suggestions, 3)}" if matches and matches[0].suggestions else "")
            )
        found = await self._assets(ids, progress)

        def delta_of(asset: Any) -> list[str]:
            have = {_fold(k) for k in asset.keywords}
            delta = [m.concept_id or m.keyword or m.term for m, names in known if not (names & have)]
            return [d for d in delta if d]

        items, todo = _partition(ids, found, delta_of, "already keyworded")
        labels = [m.keyword or m.term for m, _ in known]
        summary = f"add the keywords {_names(labels)} to {len(todo)} asset(s)" + _tail(items)
        if unknown:
            summary += f"; not in the taxonomy, so not added: {_names(unknown)}"
        plan = Plan(summary=summary, items=items, keywords=matches, ids=ids)
        if not todo:
            return plan

        async def apply(progress: Progress) -> WriteResult:
            await self._send_each(items, todo, ("assetKeywords", "keywords"), progress, "keyworded")
            done = sum(1 for i in items if i.outcome == "done")
            text = f"Added the keywords {_names(labels)} to {done} asset(s)" + _tail(items)
            if unknown:
                text += f"; not in the taxonomy, so not added: {_names(unknown)}"
            return WriteResult(
                status=_status(items), summary=text, counts=_counts(items), items=items, keywords=matches
            )

        plan.apply = apply
        return plan

    # ------------------------------------------------------------ relations

    async def relate(
        self,
        asset_id: str,
        related_id: str,
        relation: str,
        two_way: bool,
        description: str | None,
        time_in: float | None,
        time_out: float | None,
    ) -> Plan:
        source = check_id(asset_id, "asset_id")
        target_id = check_id(related_id, "related_asset_id")
        if source == target_id:
            raise InvalidArgument("an asset cannot be related to itself; give two different asset ids")
        if relation not in RELATION_TYPES:
            raise InvalidArgument(f"relation must be one of {', '.join(RELATION_TYPES)}")
        text = check_description(description)
        for name, value in (("time_in", time_in), ("time_out", time_out)):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise InvalidArgument(f"{name} must be a number of seconds, 0 or more")
        if time_in is not None and time_out is not None and time_out <= time_in:
            raise InvalidArgument(f"time_out ({time_out:g} s) must be after time_in ({time_in:g} s)")
        state, asset = await self._asset_or_raise(source)
        _, other = await self._asset_or_raise(target_id)
        if (time_in is not None or time_out is not None) and asset.media_type != "video":
            kind = asset.media_type or "of unknown type"
            raise InvalidArgument(
                f"time_in/time_out apply to video assets only; asset '{asset.name or source}' is not a video "
                f"({kind}): leave the times out"
            )
        summary = f"relate '{asset.name or source}' to '{other.name or target_id}' as {relation}" + (
            " (two-way)" if two_way else ""
        )
        plan = Plan(summary=summary, asset=asset, ids=[source, target_id])
        if any(r.type == relation and r.target_id == target_id for r in asset.relations or []):
            plan.summary = f"'{asset.name or source}' already has a {relation} relation to '{other.name or target_id}'"
            return plan

        async def apply(progress: Progress) -> WriteResult:
            target = await self.writes.target("relations", {"id": source}, state)
            f = self.writes.field
            body: dict[str, Any] = {f("relations", "type"): relation, f("relations", "target"): target_id}
            body[f("relations", "bidirectional")] = two_way
            for name, value in (("description", text), ("timeIn", time_in), ("timeOut", time_out)):
                if value is not None:
                    body[f("relations", name)] = value
            try:
                await self.writes.send(target, body, idempotent=False, check_with="get_asset")
            except Conflict:
                return WriteResult(status="unchanged", summary=f"The API says the relation already exists: {summary}.")
            except MaybeApplied as exc:
                return WriteResult(status="failed", summary=exc.message)  # the message says what to check
            except BadRequest as exc:
                return WriteResult(status="failed", summary=f"The API refused the relation: {exc.message}")
            try:
                _, after = await self._asset_or_raise(source)
            except FootageError:
                after = asset
            return WriteResult(status="done", summary=summary[0].upper() + summary[1:] + ": done.", asset=after)

        plan.apply = apply
        return plan


def _tail(items: Sequence[ItemResult]) -> str:
    unchanged = sum(1 for i in items if i.outcome == "unchanged")
    failed = sum(1 for i in items if i.outcome == "failed")
    parts = []
    if unchanged:
        parts.append(f"{unchanged} unchanged (already so)")
    if failed:
        parts.append(f"{failed} failed")
    return f"; {', '.join(parts)}" if parts else ""


def _partition(
    ids: Sequence[str],
    found: Sequence[Any],
    delta_of: Callable[[Any], list[str]],
    unchanged: str,
) -> tuple[list[ItemResult], dict[str, tuple[ObjectState, list[str]]]]:
    """Per asset of ``ids`` (with ``found``: its ``(state, asset)`` or the FootageError reading it): the
    item (``failed``, ``would_change`` or ``unchanged`` with the reason ``unchanged``) and, for those that
    would change, their state and ``delta_of(asset)``."""
    items: list[ItemResult] = []
    todo: dict[str, tuple[ObjectState, list[str]]] = {}
    for asset_id, entry in zip(ids, found, strict=True):
        if isinstance(entry, FootageError):
            items.append(ItemResult(id=asset_id, outcome="failed", reason=entry.message))
            continue
        state, asset = entry
        delta = delta_of(asset)
        if delta:
            items.append(ItemResult(id=asset_id, name=asset.name, outcome="would_change"))
            todo[asset_id] = (state, delta)
        else:
            items.append(ItemResult(id=asset_id, name=asset.name, outcome="unchanged", reason=unchanged))
    return items, todo
