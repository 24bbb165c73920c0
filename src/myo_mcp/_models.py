"""The tools' result shapes (their outputSchema). Kept small: ids, figures and resource links."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ._paths import RootSource

#: Markers with gaps an inspection lists, worst first.
INSPECTION_GAPS = 5


class AssetInfo(BaseModel):
    """A stored file: an input (recording, markerset XML) or a job's output (.npz)."""

    asset_id: str
    purpose: str
    filename: str
    size_bytes: int | None = None
    status: str
    created_at: str | None = None
    checksum_sha256: str | None = None
    reference_count: int | None = Field(None, description="Jobs using it as input.")
    source_job_id: str | None = Field(None, description="The job that made it.")
    metadata: dict[str, Any] | None = None


class AssetItem(BaseModel):
    """An asset in a listing (get_asset has the details)."""

    asset_id: str
    filename: str
    purpose: str
    size_bytes: int | None = None
    age: str | None = None


class UploadedAsset(BaseModel):
    """Result of ``upload_asset``."""

    asset: AssetItem
    verified: bool = Field(description="Size and sha256 checked.")
    next_step: str


class AssetPage(BaseModel):
    """One page of assets, newest first."""

    total: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null: the last.")
    assets: list[AssetItem]


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


class CharacterInfo(BaseModel):
    """A character (MuJoCo model) motions are retargeted onto."""

    character_id: str
    name: str
    description: str | None = None
    latest_version: str | None = None


class CharacterPage(BaseModel):
    """One page of characters."""

    total: int
    offset: int
    next_offset: int | None
    characters: list[CharacterInfo]


class CharacterDetail(BaseModel):
    """A character with its versions."""

    character_id: str
    name: str
    description: str | None = None
    versions: list[CharacterVersionInfo]
    ready_versions: list[str]


class ManifestCheck(BaseModel):
    """Result of ``validate_character_manifest``."""

    character_id: str
    version: str
    status: str
    valid: bool


class JobInfo(BaseModel):
    """A job: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELED."""

    job_id: str
    status: str
    progress: float | None = Field(None, description="0..1 while RUNNING.")
    message: str | None = None
    error: str | None = Field(None, description="Why it FAILED.")
    recording: str | None = Field(None, description="Input file names.")
    markerset: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    output_asset_id: str | None = Field(None, description="The .npz once SUCCEEDED.")


class JobItem(BaseModel):
    """A job in a listing (get_job has the details)."""

    job_id: str
    status: str
    recording: str | None = None
    markerset: str | None = None
    age: str | None = None
    error: str | None = None


class StartedJob(BaseModel):
    """Result of ``start_retarget``."""

    job: JobItem
    next_step: str


class JobWait(BaseModel):
    """Result of ``wait_for_job``."""

    done: bool = Field(description="SUCCEEDED, FAILED or CANCELED.")
    waited_s: float
    job: JobInfo
    next_step: str


class JobPage(BaseModel):
    """One page of jobs, newest first."""

    total: int
    offset: int
    next_offset: int | None
    jobs: list[JobItem]


class CanceledJob(BaseModel):
    """Result of ``cancel_job``."""

    job_id: str
    status: str
    message: str | None = None


class MarkersetFit(BaseModel):
    """How well a shipped markerset fits a recording's labels."""

    name: str
    fits: bool = Field(description="Enough pelvis/trunk markers to retarget.")
    partial: bool | None = Field(
        None, description="true: fits, but unobserved_bodies get no data (NaN)."
    )
    coverage: float = Field(description="Share of its markers found, 0..1.")
    # What it misses: given for the best markerset only.
    missing: list[str] | None = Field(None, description="Not in the file (see empty_labels).")
    unobserved_bodies: list[str] | None = Field(
        None, description="Top body of each subtree without markers."
    )
    note: str | None = None


class MarkerGap(BaseModel):
    """A marker missing, or gap-filled by the capture software, in some frames."""

    label: str
    missing_pct: float
    longest_gap: int
    gap_filled_frames: int = Field(0, description="Filled by the capture software: not fitted.")


class C3DInspection(BaseModel):
    """What a marker recording holds, to choose a markerset before uploading."""

    path: str
    format: str
    frames: int
    rate_hz: float
    duration_s: float
    units: str
    vertical_axis: str
    labels: list[str] = Field(description="Labels with data.")
    empty_labels: list[str] = Field(
        default_factory=list, description="Labels in the file without data."
    )
    gaps: list[MarkerGap] = Field(description=f"Worst first, at most {INSPECTION_GAPS}.")
    best_markerset: MarkersetFit | None
    markersets: list[MarkersetFit] = Field(description="The others that match any label, in brief.")
    next_step: str


class JointRange(BaseModel):
    """Range of motion of one joint, degrees (null when no marker determines it)."""

    joint: str
    min_deg: float | None
    max_deg: float | None
    range_deg: float | None
    observed_pct: float = Field(description="Frames with data, %.")


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
    joints: list[JointRange] = Field(description="The plotted or requested joints.")
    plotted_joints: list[str]
    not_plotted: list[str] = Field(default_factory=list, description="Requested, no data.")
    unmarked_bodies: list[str] = Field(
        default_factory=list, description="No markers on these or below: no joint data there."
    )
    unobserved_joints: list[str] = Field(
        default_factory=list, description="Other joints without data (NaN in the .npz)."
    )
    rms_residual_mm: float | None = Field(description="Marker fit error; < ~20 mm is good.")
    max_residual_mm: float | None
    failed_frames: int
    gap_filled_samples: int = Field(0, description="Not measured: not fitted.")
    worst_markers: list[WorstMarker]


class MotionView(BaseModel):
    """Result of ``show_motion``: a compact summary; the motion itself goes to the viewer (MCP
    App hosts) or comes as a PNG of key poses beside it (other hosts)."""

    source: str
    frames: int
    fps: float
    duration_s: float
    rms_residual_mm: float | None = Field(description="Marker fit error; < ~20 mm is good.")
    unmarked_bodies: list[str] = Field(
        default_factory=list, description="No markers on these or below: no joint data there."
    )
    unobserved_joints: list[str] = Field(
        default_factory=list, description="Other joints without data."
    )
    shown_as: Literal["viewer", "key_poses_png"]


class ExportedFile(BaseModel):
    """A motion written in another format (result of ``export_motion``)."""

    path: str
    format: str
    size_bytes: int
    note: str = Field(description="What opens it.")


class FailedExport(BaseModel):
    """An export that was not written, and why."""

    format: str
    error: str


class RetargetResult(BaseModel):
    """Result of ``retarget_motion``."""

    done: bool
    job_id: str
    status: str
    message: str | None = None
    c3d_asset_id: str
    markerset_asset_id: str
    output: DownloadedFile | None = None
    exports: list[ExportedFile] = Field(default_factory=list)
    failed_exports: list[FailedExport] = Field(default_factory=list)
    next_step: str


class AllowedDirectories(BaseModel):
    """Result of ``list_allowed_directories``."""

    directories: list[str] = Field(description="Files in them and below may be used.")
    source: RootSource
    writable: bool = Field(description="False in --read-only mode.")
    how_to_change: str
