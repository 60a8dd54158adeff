"""Structured results of the file tools (``download_asset``, ``upload_assets``); their MCP output schemas.

Units: sizes in bytes; paths absolute. A field the bridge does not know is None, never invented.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DownloadResult(_Model):
    """A finished download: where the file is and what it holds."""

    path: str = Field(description="Absolute path of the file, inside FOOTAGE_DOWNLOAD_DIR.")
    size_bytes: int = Field(description="Bytes written.")
    mime_type: str | None = Field(default=None, description="MIME type the server gave (or the asset's).")
    sha256: str = Field(description="SHA-256 of the file, hex.")
    rendition: str = Field(description="Which file: original, preview, or a rendition name.")
    asset_id: str = Field(description="The asset downloaded.")
    resumed_from_bytes: int | None = Field(
        default=None, description="Bytes kept from an earlier interrupted download, when it was resumed."
    )
    note: str | None = Field(default=None, description="Anything the caller should know.")


UploadOutcomeKind = Literal["uploaded", "skipped", "failed", "would_upload", "would_skip"]


class UploadOutcome(_Model):
    """What happened to one file."""

    file: str = Field(description="File name (in the folder given).")
    size_bytes: int | None = Field(default=None, description="File size in bytes.")
    outcome: UploadOutcomeKind = Field(
        description="uploaded, skipped (already there, or not a file to upload), failed; in a dry run "
        "would_upload or would_skip."
    )
    asset_id: str | None = Field(
        default=None, description="Id of the new asset (uploaded) or of the one already there (skipped)."
    )
    reason: str | None = Field(default=None, description="Why it was skipped or failed, and what to do.")


class UploadReport(_Model):
    """Per-file outcomes of one upload_assets call."""

    files: list[UploadOutcome] = Field(description="One entry per file, in name order.")
    uploaded: int = Field(description="Files uploaded.")
    skipped: int = Field(description="Files skipped.")
    failed: int = Field(description="Files that failed.")
    dry_run: bool = Field(default=False, description="True when nothing was uploaded (confirmation needed).")
    album_id: str | None = Field(default=None, description="Album the uploads were added to.")
    labels: list[str] = Field(default_factory=list, description="Labels applied to the uploads.")
    note: str | None = Field(default=None, description="Anything the caller should know.")
