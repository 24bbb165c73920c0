"""The tools' result shapes (their outputSchema). Kept small: ids, figures and resource links."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ._paths import RootSource


class AssetInfo(BaseModel):
    """A stored file: an input (C3D, markerset XML) or a job's output (.npz)."""

    asset_id: str
    purpose: str
    filename: str
    size_bytes: int | None = None
    status: str
    created_at: str | None = None
    checksum_sha256: str | None = None
    reference_count: int | None = Field(None, description="Jobs that use this asset as input.")
    source_job_id: str | None = Field(None, description="The job that produced this asset.")
    metadata: dict[str, Any] | None = None
    resource_uri: str = Field(description="Read it as an MCP resource (metadata JSON).")


class UploadedAsset(BaseModel):
    """Result of ``upload_asset``."""

    asset: AssetInfo
    verified: bool = Field(description="Size and sha256 checked by the backend.")
    next_step: str


class AssetPage(BaseModel):
    """One page of assets."""

    assets: list[AssetInfo]
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(
        description="Pass as offset for the next page; null at the end."
    )


class DownloadedFile(BaseModel):
    """A verified local copy of an asset."""

    asset_id: str
    path: str
    size_bytes: int
    sha256: str


class DeletedAsset(BaseModel):
    """Result of ``delete_asset``."""

    asset_id: str
    deleted: bool
    message: str


class CharacterVersionInfo(BaseModel):
    """One version of a character; only READY versions can be retargeted onto."""

    version: str
    status: str
    created_at: str | None = None


class CharacterInfo(BaseModel):
    """A character (MuJoCo model) motions are retargeted onto."""

    character_id: str
    name: str
    description: str | None = None
    latest_version: str | None = None
    version_count: int | None = None
    resource_uri: str


class CharacterPage(BaseModel):
    """One page of characters."""

    characters: list[CharacterInfo]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class CharacterDetail(BaseModel):
    """A character with its versions."""

    character_id: str
    name: str
    description: str | None = None
    versions: list[CharacterVersionInfo]
    ready_versions: list[str]
    latest_version: str | None = None
    resource_uri: str


class ManifestCheck(BaseModel):
    """Result of ``validate_character_manifest``."""

    character_id: str
    version: str
    status: str
    valid: bool


class JobInfo(BaseModel):
    """A retargeting job. Statuses: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELED."""

    job_id: str
    type: str
    status: str
    progress: float | None = Field(None, description="0..1 while RUNNING.")
    message: str | None = None
    error: str | None = Field(None, description="Why it FAILED.")
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    output_asset_id: str | None = Field(None, description="The .npz asset once SUCCEEDED.")
    output_resource_uri: str | None = None
    resource_uri: str


class StartedJob(BaseModel):
    """Result of ``start_retarget``."""

    job: JobInfo
    next_step: str


class JobWait(BaseModel):
    """Result of ``wait_for_job``."""

    job: JobInfo
    done: bool = Field(description="True once SUCCEEDED, FAILED or CANCELED.")
    waited_s: float
    next_step: str


class JobPage(BaseModel):
    """One page of jobs, newest first."""

    jobs: list[JobInfo]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class CanceledJob(BaseModel):
    """Result of ``cancel_job``."""

    job_id: str
    status: str
    message: str | None = None


class MarkersetFit(BaseModel):
    """How well a shipped markerset fits a recording's labels."""

    name: str
    fits: bool = Field(description="Enough trunk/pelvis markers match to retarget.")
    partial: bool = Field(
        False,
        description="It fits, but the recording lacks the markers of some segments: their "
        "joints (unobserved_bodies and below) will have no data, NaN in the output.",
    )
    coverage: float = Field(description="Fraction of the markerset's markers found (0..1).")
    missing: list[str]
    empty: list[str] = Field(
        default_factory=list,
        description="Missing markers whose label is in the file but holds no data.",
    )
    unobserved_bodies: list[str] = Field(
        default_factory=list,
        description="Top body of each subtree left without markers (e.g. femur_r: the leg).",
    )
    note: str | None = Field(None, description="What limits the fit, in one line.")


class MarkerGap(BaseModel):
    """A marker missing, or gap-filled by the capture software, in some frames."""

    label: str
    missing_frames: int
    missing_pct: float
    gaps: int
    longest_gap: int
    gap_filled_frames: int = Field(
        0, description="Frames present but gap-filled, not measured (not fitted)."
    )


class C3DInspection(BaseModel):
    """What a marker recording holds, to choose a markerset before uploading."""

    path: str
    format: str
    frames: int
    rate_hz: float
    duration_s: float
    units: str
    vertical_axis: str
    labels: list[str]
    empty_labels: list[str] = Field(
        default_factory=list,
        description="Labels in the file that hold no data (every sample 0,0,0 / missing).",
    )
    gaps: list[MarkerGap] = Field(
        description="Markers with missing or gap-filled frames, worst first (max 25)."
    )
    best_markerset: MarkersetFit | None = Field(description="The best-fitting shipped markerset.")
    markersets: list[MarkersetFit]
    next_step: str


class JointRange(BaseModel):
    """Range of motion of one joint, degrees (null when no marker determines it)."""

    joint: str
    min_deg: float | None
    max_deg: float | None
    range_deg: float | None
    observed_pct: float = Field(description="Share of frames with data for this joint, %.")


class WorstMarker(BaseModel):
    """A marker the fit follows least well."""

    marker: str
    rms_mm: float


class MotionSummary(BaseModel):
    """Figures of a retargeted motion (.npz); the plot comes as image content beside them."""

    source: str
    frames: int
    fps: float
    duration_s: float
    joints: list[JointRange]
    plotted_joints: list[str]
    not_plotted: list[str] = Field(
        default_factory=list, description="Requested joints left out of the plot: no data."
    )
    unobserved_joints: list[str] = Field(
        default_factory=list,
        description="Joints no marker determines in any frame: NaN in the .npz, not 0.",
    )
    unmarked_bodies: list[str] = Field(
        default_factory=list, description="Top body of each subtree that carries no marker."
    )
    note: str | None = Field(None, description="The joints without data, in one line.")
    rms_residual_mm: float | None = Field(description="Marker fit error; under ~20 mm is good.")
    max_residual_mm: float | None
    failed_frames: int
    gap_filled_samples: int = Field(
        0,
        description="Marker samples the recording marks as gap-filled, not measured: not fitted "
        "and not in the residual figures.",
    )
    worst_markers: list[WorstMarker]


class MotionView(BaseModel):
    """Result of ``show_motion``: a compact summary; the motion itself goes to the viewer (MCP
    App hosts) or comes as a PNG of key poses beside it (other hosts)."""

    source: str
    frames: int
    fps: float
    duration_s: float
    rms_residual_mm: float | None = Field(description="Marker fit error; under ~20 mm is good.")
    unobserved_joints: list[str] = Field(
        default_factory=list, description="Joints no marker determines: no data."
    )
    shown_as: Literal["viewer", "key_poses_png"] = Field(
        description="'viewer': the host shows the interactive viewer; 'key_poses_png': the PNG "
        "beside this result shows key poses, front and side."
    )


class ExportedFile(BaseModel):
    """A motion written in another format (result of ``export_motion``)."""

    path: str
    format: str
    size_bytes: int
    note: str = Field(description="What opens the file.")


class FailedExport(BaseModel):
    """An export that was not written, and why."""

    format: str
    error: str


class RetargetResult(BaseModel):
    """Result of ``retarget_motion``."""

    done: bool
    job: JobInfo
    c3d_asset_id: str
    markerset_asset_id: str
    output: DownloadedFile | None = None
    exports: list[ExportedFile] = Field(
        default_factory=list, description="The files the requested formats were written to."
    )
    failed_exports: list[FailedExport] = Field(
        default_factory=list, description="Requested formats not written (the .npz is kept)."
    )
    next_step: str


class AllowedDirectories(BaseModel):
    """Result of ``list_allowed_directories``."""

    directories: list[str] = Field(
        description="Absolute paths: files in them and their subdirectories may be used."
    )
    source: RootSource = Field(
        description="'allow-dir': --allow-dir / MYO_MCP_ALLOW_DIRS; 'client-roots': the roots "
        "the MCP client shares; 'home-default': neither given, the user's home directory."
    )
    writable: bool = Field(description="False in --read-only mode: no tool writes files.")
    how_to_change: str
