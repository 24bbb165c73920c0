"""Shapes of the plain dicts the SDK returns (TypedDicts, so editors complete the keys).

The dicts are the server's JSON as-is; keys the server adds later simply pass through. Keys marked
optional (``total=False`` bases) are absent or null depending on the state of the object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypedDict

__all__ = [
    "Asset",
    "AssetList",
    "CancelResult",
    "Character",
    "CharacterList",
    "CharacterSummary",
    "CharacterVersion",
    "CleanupResult",
    "DownloadResult",
    "Job",
    "JobErrorDetail",
    "JobList",
    "JobStatus",
    "ManifestValidation",
    "RetargetResult",
    "RetargetStarted",
    "UploadResult",
]

JobStatus = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"]


class _UploadResultBase(TypedDict):
    asset_id: str
    verified: bool
    size_bytes: int
    checksum_sha256: str | None


class UploadResult(_UploadResultBase, total=False):
    """``assets.upload_file`` (the server's answer to ``complete``; ``reused`` is True when
    ``reuse=True`` found an identical upload and sent nothing)."""

    message: str
    reused: bool


class _AssetBase(TypedDict):
    asset_id: str
    purpose: str
    filename: str
    size_bytes: int | None
    status: str
    created_at: str


class Asset(_AssetBase, total=False):
    """``assets.get`` and the items of ``assets.list``."""

    download_url: str | None
    checksum_sha256: str | None
    content_type: str | None
    expected_size_bytes: int | None
    download_url_expires_at: str | None
    metadata: dict[str, Any] | None
    reference_count: int
    source_job_id: str | None
    updated_at: str | None
    completed_at: str | None


class CleanupResult(TypedDict):
    """``assets.cleanup``: the assets it would delete (``dry_run``) or deleted, oldest first."""

    dry_run: bool
    assets: list[Asset]
    size_bytes: int
    in_use: list[str]
    """Ids it left because a job started using them meanwhile (not on a dry run)."""
    note: str


class AssetList(TypedDict):
    """``assets.list``."""

    assets: list[Asset]
    total: int
    limit: int
    offset: int


class DownloadResult(TypedDict):
    """``assets.download``: where the verified file is, its size and sha256."""

    path: str
    size_bytes: int
    checksum_sha256: str


class _RetargetStartedBase(TypedDict):
    job_id: str
    type: str
    status: JobStatus


class RetargetStarted(_RetargetStartedBase, total=False):
    """``jobs.start_retarget``."""

    run_id: str
    message: str
    estimated_wait_time_seconds: float | None


class JobOutputAssetIds(TypedDict, total=False):
    """A job's outputs beside the .npz (None: not made, e.g. ``motion`` without export_glb)."""

    qpos: str | None
    xpos: str | None
    model: str | None
    motion: str | None
    bvh: str | None
    mot: str | None
    csv: str | None
    viewer: str | None


class JobDiagnostics(TypedDict, total=False):
    engine_version: str
    mujoco_version: str
    warnings: list[str]


class JobOutput(TypedDict, total=False):
    retarget_output_asset_id: str | None
    retarget_output_asset_ids: JobOutputAssetIds | None
    processing_time_seconds: float | None
    diagnostics: JobDiagnostics | None


class JobDownloadUrls(TypedDict, total=False):
    retarget_output: str | None
    qpos: str | None
    xpos: str | None
    model: str | None
    motion: str | None
    bvh: str | None
    mot: str | None
    csv: str | None
    viewer: str | None


class _JobBase(TypedDict):
    job_id: str
    type: str
    status: JobStatus


class JobErrorDetail(TypedDict):
    """Why a job FAILED: ``error_type`` is a stable name (e.g. ``INVALID_RECORDING``,
    ``MARKERSET_MISMATCH``, ``TIMEOUT``; the server's API documents them all)."""

    error_message: str
    error_type: str


class Job(_JobBase, total=False):
    """``jobs.get``, ``jobs.wait`` and the items of ``jobs.list``."""

    run_id: str
    created_at: str
    updated_at: str | None
    started_at: str | None
    completed_at: str | None
    message: str | None
    output: JobOutput | None
    download_urls: JobDownloadUrls | None
    progress: float | None
    error: JobErrorDetail | None
    input: dict[str, Any]
    metadata: dict[str, Any] | None
    attempts: int


class JobList(TypedDict):
    """``jobs.list``."""

    jobs: list[Job]
    total: int
    limit: int
    offset: int


class _CancelResultBase(TypedDict):
    job_id: str
    status: JobStatus


class CancelResult(_CancelResultBase, total=False):
    """``jobs.cancel``."""

    type: str
    message: str


class _CharacterSummaryBase(TypedDict):
    character_id: str
    name: str


class CharacterSummary(_CharacterSummaryBase, total=False):
    """Items of ``characters.list``."""

    description: str | None
    version_count: int
    latest_version: str | None  # its name, e.g. "v1.0.0"; characters.get has the version


class CharacterList(TypedDict):
    """``characters.list``."""

    characters: list[CharacterSummary]
    total: int
    limit: int
    offset: int


class _CharacterVersionBase(TypedDict):
    version: str
    status: str


class CharacterVersion(_CharacterVersionBase, total=False):
    """One version of a character (``READY`` when usable)."""

    version_id: str
    created_at: str
    updated_at: str
    manifest_s3: str | None


class _CharacterBase(TypedDict):
    character_id: str
    name: str


class Character(_CharacterBase, total=False):
    """``characters.get``."""

    description: str | None
    created_at: str
    versions: list[CharacterVersion]
    latest_version: CharacterVersion | None
    ready_versions: list[CharacterVersion]
    total_versions: int
    ready_version_count: int


class _ManifestValidationBase(TypedDict):
    character_id: str
    version: str
    status: str


class ManifestValidation(_ManifestValidationBase, total=False):
    """``characters.validate_manifest``."""

    version_id: str
    message: str
    created_at: str
    updated_at: str | None
    manifest_s3_key: str | None


class RetargetResult(TypedDict):
    """``client.retarget``: the succeeded job, its outputs and the files downloaded."""

    #: The final job (status SUCCEEDED).
    job: Job
    #: Output name -> asset id: ``retarget_output`` (the .npz), then ``qpos``, ``xpos``,
    #: ``model``, ``motion``, ... as the job has them (see ``jobs.download_outputs``).
    output_asset_ids: dict[str, str]
    #: The same names -> the verified files in ``output_dir`` (empty without ``output_dir``).
    files: dict[str, Path]
