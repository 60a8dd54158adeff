"""The sandbox's mutable library: writes replace the frozen :class:`~.library.Library` with a new one.

The seeded library is immutable; :class:`Store` holds the current one and applies each change as a
new ``Library`` (objects replaced with :func:`dataclasses.replace`), so readers never see half a
write. With a ``data_file`` the whole state is kept in one SQLite row and read back at start
(``footage-mcp sandbox --data FILE``), so a demo's albums and labels survive a restart.
ETags are a digest of an object's data: any change gives a new one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .library import Album, Asset, Library, Relation

__all__ = ["Store", "etag_of"]


def etag_of(obj: Album | Asset) -> str:
    """A strong ETag (quoted) for the current state of ``obj``."""
    return '"' + hashlib.sha256(repr(obj).encode("utf-8")).hexdigest()[:20] + '"'


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$dt"}:
            return datetime.fromisoformat(value["$dt"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def _album_from(data: dict[str, Any]) -> Album:
    return Album(**_decode(data))


def _asset_from(data: dict[str, Any]) -> Asset:
    fields = _decode(data)
    fields["relations"] = tuple(Relation(**dict(r)) for r in data["relations"])
    return Asset(**fields)


class Store:
    """The current library, the changes applied to it, and (optionally) its SQLite file."""

    def __init__(self, library: Library, data_file: str | Path | None = None) -> None:
        """Start from ``library``, or from the state saved in ``data_file`` when it holds one."""
        self.seed_library = library
        self.library = library
        self.listeners: list[Callable[[Library], None]] = []
        self.data_file = Path(data_file) if data_file is not None else None
        if self.data_file is not None:
            loaded = self._load()
            if loaded is not None:
                self.library = loaded

    # -- persistence -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        assert self.data_file is not None
        connection = sqlite3.connect(self.data_file)
        connection.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return connection

    def _load(self) -> Library | None:
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM state WHERE key = 'library'").fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return Library(
            seed=int(data["seed"]),
            albums=tuple(_album_from(a) for a in data["albums"]),
            assets=tuple(_asset_from(a) for a in data["assets"]),
        )

    def _save(self) -> None:
        if self.data_file is None:
            return
        data = {
            "seed": self.library.seed,
            "albums": [_encode(dataclasses.asdict(a)) for a in self.library.albums],
            "assets": [_encode(dataclasses.asdict(a)) for a in self.library.assets],
        }
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO state (key, value) VALUES ('library', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (json.dumps(data, ensure_ascii=False),),
            )

    def _commit(self, albums: Iterable[Album], assets: Iterable[Asset]) -> None:
        self.library = Library(seed=self.library.seed, albums=tuple(albums), assets=tuple(assets))
        self._save()
        for listener in self.listeners:
            listener(self.library)

    def reset(self) -> None:
        """Back to the seeded library (and the data file rewritten with it)."""
        self._commit(self.seed_library.albums, self.seed_library.assets)

    # -- changes -------------------------------------------------------------------------------

    def _replace(self, albums: dict[str, Album] | None = None, assets: dict[str, Asset] | None = None) -> None:
        albums = albums or {}
        assets = assets or {}
        self._commit(
            [albums.get(a.id, a) for a in self.library.albums],
            [assets.get(a.id, a) for a in self.library.assets],
        )

    def create_album(self, name: str, description: str) -> Album:
        """A new, empty album (appended after the seeded ones)."""
        now = _now()
        album = Album(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            asset_ids=(),
            created=now,
            updated=now,
            keywords=(),
            labels=(),
        )
        self._commit([*self.library.albums, album], self.library.assets)
        return album

    def update_album(self, album: Album, changes: dict[str, Any]) -> Album:
        new = dataclasses.replace(album, **changes, updated=_now())
        self._replace(albums={album.id: new})
        return new

    def update_asset(self, asset: Asset, changes: dict[str, Any]) -> Asset:
        new = dataclasses.replace(asset, **changes, updated=_now())
        self._replace(assets={asset.id: new})
        return new

    def add_to_album(self, album: Album, asset_ids: list[str]) -> list[str]:
        """Add the assets not yet in ``album``; returns the ids added (album order: appended)."""
        added = [i for i in dict.fromkeys(asset_ids) if i not in album.asset_ids]
        if not added:
            return []
        now = _now()
        new_album = dataclasses.replace(album, asset_ids=(*album.asset_ids, *added), updated=now)
        assets = {}
        for asset_id in added:
            asset = self.library.asset(asset_id)
            assert asset is not None
            assets[asset_id] = dataclasses.replace(asset, album_ids=(*asset.album_ids, album.id))
        self._replace(albums={album.id: new_album}, assets=assets)
        return added

    def remove_from_album(self, album: Album, asset_id: str) -> None:
        new_album = dataclasses.replace(
            album, asset_ids=tuple(i for i in album.asset_ids if i != asset_id), updated=_now()
        )
        asset = self.library.asset(asset_id)
        assets = {}
        if asset is not None:
            assets[asset_id] = dataclasses.replace(asset, album_ids=tuple(i for i in asset.album_ids if i != album.id))
        self._replace(albums={album.id: new_album}, assets=assets)

    def set_labels(self, asset: Asset, labels: tuple[str, ...]) -> Asset:
        new = dataclasses.replace(asset, labels=labels, updated=_now())
        self._replace(assets={asset.id: new})
        return new

    def set_keywords(self, asset: Asset, keywords: tuple[str, ...]) -> Asset:
        new = dataclasses.replace(asset, keywords=keywords, updated=_now())
        self._replace(assets={asset.id: new})
        return new

    def add_relation(self, asset: Asset, relation: Relation, reverse: Relation | None) -> None:
        changed = {asset.id: dataclasses.replace(asset, relations=(*asset.relations, relation), updated=_now())}
        if reverse is not None:
            target = self.library.asset(relation.target)
            assert target is not None
            changed[target.id] = dataclasses.replace(target, relations=(*target.relations, reverse))
        self._replace(assets=changed)

    # -- the control route's view ------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The state a test compares: every album and asset with the fields writes may change."""
        return {
            "albums": [
                {"id": a.id, "name": a.name, "description": a.description, "asset_ids": list(a.asset_ids)}
                for a in self.library.albums
            ],
            "assets": [
                {
                    "id": a.id,
                    "name": a.name,
                    "description": a.description,
                    "kind": a.kind,
                    "labels": list(a.labels),
                    "keywords": list(a.keywords),
                    "album_ids": list(a.album_ids),
                    "relations": [dataclasses.asdict(r) for r in a.relations],
                }
                for a in self.library.assets
            ],
        }
