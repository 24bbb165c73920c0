"""Plain records exchanged between the routes, the workers and the metadata store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
JOB_STATUSES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED")
JOB_TYPES = ("retarget",)
INPUT_PURPOSES = ("retarget", "video", "trackers", "motion")
OUTPUT_PURPOSE = "retarget_output"  # what the server writes: a job's .npz and its companions
# A succeeded job's further outputs (beside the .npz), by name: the Parquet qpos and xpos tables,
# the scaled character (.mjb), the exports the request asked for (the GLB animation, BVH, OpenSim
# .mot, CSV), and the viewer page (self-contained HTML, opened in a browser from its signed link).
VIEWER_OUTPUT = "viewer"
GLB_OUTPUT = "motion"  # the vendor's name for the export_glb output
OUTPUT_NAMES = ("qpos", "xpos", "model", GLB_OUTPUT, "bvh", "mot", "csv", VIEWER_OUTPUT)
# What a retarget request's export_formats may name -> the outputs that then hold each. Parquet
# and html are written for every job (when the server can): naming them only makes it certain.
EXPORT_OUTPUTS: dict[str, tuple[str, ...]] = {
    "glb": (GLB_OUTPUT,),
    "bvh": ("bvh",),
    "mot": ("mot",),
    "csv": ("csv",),
    "parquet": ("qpos", "xpos"),
    "html": (VIEWER_OUTPUT,),
}
# The exports written on request only, each as <recording>_motion.<format>.
ON_REQUEST_EXPORTS = ("glb", "bvh", "mot", "csv")
# The viewer page's media type: the one output a browser is sent to show, not to save.
VIEWER_CONTENT_TYPE = "text/html; charset=utf-8"
PURPOSES = (*INPUT_PURPOSES, OUTPUT_PURPOSE)
# The vendor's engine options a retarget request may carry: recorded in the job's params and
# shown in its input (chunk_size and disable_contacts change nothing here).
ENGINE_OPTIONS = (
    "rotation",
    "mocap_scale",
    "clip_length",
    "n_frames_scaling",
    "chunk_size",
    "disable_contacts",
)
# Options of this server's own (extensions of the reference API): the engine's vertical-axis
# override, frame range and calibration window, recorded and shown like the vendor's.
EXTENSION_OPTIONS = ("vertical_axis", "frame_range", "calibration_window")


@dataclass
class KeyRecord:
    """An API key (only its hash is stored)."""

    key_id: str
    tenant_id: str
    name: str
    key_hash: str
    created_at: float
    revoked_at: float | None = None
    last_used_at: float | None = None


@dataclass
class AssetRecord:
    """An uploaded file or a job output."""

    asset_id: str
    tenant_id: str
    purpose: str
    filename: str
    content_type: str
    storage_key: str
    status: str  # pending -> uploaded -> completed
    created_at: float
    updated_at: float
    expected_size_bytes: int | None = None
    size_bytes: int | None = None
    checksum_sha256: str | None = None
    metadata: dict[str, Any] | None = None
    completed_at: float | None = None
    source_job_id: str | None = None
    reference_count: int = 0


@dataclass
class JobRecord:
    """A job row."""

    job_id: str
    tenant_id: str
    type: str
    status: str
    params: dict[str, Any]
    created_at: float
    updated_at: float
    run_id: str
    metadata: dict[str, Any] | None = None
    message: str = ""
    error: str | None = None
    error_type: str | None = None  # one of _job_errors.ERROR_TYPES when FAILED
    progress: float = 0.0
    started_at: float | None = None
    completed_at: float | None = None
    output_asset_id: str | None = None
    attempts: int = 0
    worker_id: str | None = None
    input_asset_ids: list[str] = field(default_factory=list)
    output_key: str | None = None  # the output asset's storage key, read with the job
    outputs: dict[str, str] = field(default_factory=dict)  # OUTPUT_NAMES -> asset id
    output_keys: dict[str, str] = field(default_factory=dict)  # their asset id -> storage key
    # processing_time_seconds and diagnostics (versions, warnings) of a succeeded job
    output_info: dict[str, Any] | None = None


@dataclass
class IdempotencyEntry:
    """A stored answer to a POST made with an ``Idempotency-Key``."""

    key: str
    endpoint: str
    request_hash: str
    status_code: int
    body: str


@dataclass
class CharacterVersionRecord:
    """One version of a character of the catalog and where its files are stored."""

    version_id: str
    character_id: str
    version: str
    name: str
    description: str
    status: str  # READY | FAILED
    manifest_key: str
    files: dict[str, str]  # file name -> storage key
    created_at: float
    updated_at: float
    message: str = ""


@dataclass
class JobFilters:
    """Filters of ``GET /v1/jobs``."""

    statuses: list[str] | None = None
    types: list[str] | None = None
    created_after: float | None = None
    created_before: float | None = None
    run_id: str | None = None
    has_output: bool | None = None
    input_asset_id: str | None = None
