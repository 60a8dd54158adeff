"""Where the sandbox serves its write routes, with and without ``--alt-routes`` (paths under BASE_PATH).

Default paths follow footage-api.md's guesses ('Writes, files and keywords'); ``--alt-routes`` moves
every asset sub-resource and the keyword lookup, and names the album-membership body field ``ids``
instead of ``assetIds``, so that discovery, ``FOOTAGE_ROUTES`` and ``probe`` have something to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ALT", "DEFAULT", "WritePaths", "write_paths"]


@dataclass(frozen=True, slots=True)
class WritePaths:
    """Path templates (Starlette syntax, ``{id}``) of the write routes and the keyword lookup."""

    album_assets: str
    labels: str
    keywords: str
    relations: str
    taxonomy: str
    asset_ids_field: str

    def root_links(self) -> dict[str, str]:
        """Discovery-root link name → path template (RFC 6570; ``{id}`` is the same in both syntaxes)."""
        return {
            "assetLabels": self.labels,
            "assetKeywords": self.keywords,
            "relations": self.relations,
            "keywords": self.taxonomy + "{?q,lang,size}",
        }


DEFAULT: Final = WritePaths(
    album_assets="/albums/{id}/assets",
    labels="/assets/{id}/labels",
    keywords="/assets/{id}/keywords",
    relations="/assets/{id}/relations",
    taxonomy="/keywords",
    asset_ids_field="assetIds",
)
ALT: Final = WritePaths(
    album_assets="/albums/{id}/contents",
    labels="/assets/{id}/tags",
    keywords="/assets/{id}/concepts",
    relations="/assets/{id}/links",
    taxonomy="/taxonomy/concepts",
    asset_ids_field="ids",
)


def write_paths(alt_routes: bool) -> WritePaths:
    """The write paths for an app with or without ``--alt-routes``."""
    return ALT if alt_routes else DEFAULT
