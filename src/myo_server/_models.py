"""Request and response bodies of the REST API (they define /openapi.json)."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from myo_retarget._formats import ROTATIONS, VERTICAL_AXES
from myo_retarget._subject import (
    GENDERS,
    HEIGHT_RANGE_M,
    WEIGHT_RANGE_KG,
    gender_problem,
    height_problem,
    weight_problem,
)

from ._job_errors import ERROR_TYPES
from ._records import EXPORT_OUTPUTS, INPUT_PURPOSES

DEFAULT_CHARACTER_ID = "0199e278-06e6-7726-a6ba-9929f79005e8"
DEFAULT_CHARACTER_VERSION = "v1.0.0"

# A MIME type as it may appear in a Content-Type header (RFC 9110): type/subtype and optional
# name=value parameters, printable ASCII only. Downloads send it back as a header, so CR, LF or
# NUL in it would make the response illegal.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = rf"[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|\"[\x20\x21\x23-\x5b\x5d-\x7e]*\")"
MIME_TYPE_PATTERN = rf"^{_TOKEN}/{_TOKEN}(?:{_PARAM})*[ \t]*$"
MIME_TYPE = re.compile(MIME_TYPE_PATTERN)


class ErrorResponse(BaseModel):
    """Every error: a sentence saying what is wrong and what to do."""

    detail: str


class ValidationErrorResponse(BaseModel):
    """A request that does not match the schema (400), with the individual problems."""

    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)


# -- assets -------------------------------------------------------------------------------------
class InitiateUploadRequest(BaseModel):
    """``POST /v1/assets/initiate``."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(
        description=f"One of {', '.join(INPUT_PURPOSES)}.",
        json_schema_extra={"enum": list(INPUT_PURPOSES)},
    )
    filename: str = Field(
        min_length=1,
        max_length=255,
        description="A bare file name, e.g. walk.c3d",
        json_schema_extra={"pattern": r"^[^/\\\x00]+$"},
    )
    content_type: str = Field(
        default="application/octet-stream",
        min_length=1,
        max_length=255,
        description="A MIME type, e.g. application/octet-stream or text/plain; charset=utf-8",
        json_schema_extra={"pattern": MIME_TYPE_PATTERN},
    )
    expected_size_bytes: int | None = Field(default=None, ge=0)
    metadata: dict[str, Any] | None = None

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if value not in INPUT_PURPOSES:
            raise ValueError(
                f"unknown purpose {value!r}: use one of {', '.join(INPUT_PURPOSES)}"
                " ('retarget' for recordings (C3D, TRC, CSV or parquet tables) and markerset XML"
                " files)"
            )
        return value

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str) -> str:
        if "/" in value or "\\" in value or "\x00" in value:
            raise ValueError("filename must be a bare file name (no directories), e.g. walk.c3d")
        return value

    @field_validator("content_type")
    @classmethod
    def _content_type(cls, value: str) -> str:
        if not MIME_TYPE.fullmatch(value):
            raise ValueError(
                f"content_type must be a MIME type of printable ASCII, type/subtype with optional"
                f" '; name=value' parameters, e.g. application/octet-stream (got {value!r})"
            )
        return value


class InitiateUploadResponse(BaseModel):
    """Where and how to upload the file."""

    asset_id: str
    upload_url: str
    fields: dict[str, str]
    expires_at: datetime


class CompleteUploadResponse(BaseModel):
    """The verified, now usable, asset."""

    asset_id: str
    verified: bool
    size_bytes: int
    checksum_sha256: str
    message: str


class Asset(BaseModel):
    """An asset (an uploaded file or a job output)."""

    asset_id: str
    purpose: str
    filename: str
    content_type: str
    status: str = Field(description="pending (no file yet), uploaded (not verified), completed")
    size_bytes: int | None
    expected_size_bytes: int | None
    checksum_sha256: str | None
    download_url: str | None = Field(description="Presigned GET URL (no API key needed)")
    download_url_expires_at: datetime | None
    reference_count: int = Field(description="Jobs (QUEUED or RUNNING) using it as input")
    source_job_id: str | None = Field(description="The job that produced it (outputs)")
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class AssetList(BaseModel):
    """A page of assets, newest first."""

    assets: list[Asset]
    total: int
    limit: int
    offset: int


# -- characters ---------------------------------------------------------------------------------
class CharacterVersion(BaseModel):
    """One version of a character."""

    version_id: str
    version: str
    status: str
    created_at: datetime
    updated_at: datetime
    manifest_s3: str


class CharacterSummary(BaseModel):
    """A character in the catalog listing."""

    character_id: str
    name: str
    description: str
    version_count: int
    latest_version: str | None = Field(
        description="The latest version's name, e.g. v1.0.0 (the detail has the whole version)"
    )


class CharacterList(BaseModel):
    """A page of characters."""

    characters: list[CharacterSummary]
    total: int
    limit: int
    offset: int


class CharacterDetail(BaseModel):
    """A character with all its versions."""

    character_id: str
    name: str
    description: str
    created_at: datetime
    versions: list[CharacterVersion]
    latest_version: CharacterVersion | None
    ready_versions: list[CharacterVersion]
    total_versions: int
    ready_version_count: int


class ValidateManifestResponse(BaseModel):
    """The result of checking a character version's stored files and model."""

    version_id: str
    character_id: str
    version: str
    status: str = Field(description="READY, or FAILED (see message)")
    message: str
    created_at: datetime
    updated_at: datetime
    manifest_s3_key: str


# -- jobs ---------------------------------------------------------------------------------------
# One name of RetargetRequest.export_formats (checked, case-insensitively, by its validator).
_ExportFormat = Annotated[str, Field(json_schema_extra={"enum": list(EXPORT_OUTPUTS)})]
# The vendor's engine options as the schema states them (checked, with messages, by validators).
_Rotation = Annotated[str, Field(json_schema_extra={"enum": list(ROTATIONS)})]
_Positive = Annotated[float, Field(json_schema_extra={"exclusiveMinimum": 0})]
_Frames = Annotated[int, Field(json_schema_extra={"minimum": 1})]
_Axis = Annotated[str, Field(json_schema_extra={"enum": list(VERTICAL_AXES)})]


class RetargetRequest(BaseModel):
    """``POST /v1/runs/retarget``: one of each input pair is required."""

    model_config = ConfigDict(extra="forbid")

    c3d_asset_id: str | None = Field(default=None, description="Asset id of the C3D recording")
    c3d_s3: str | None = Field(default=None, description="Storage key of the C3D recording")
    tracker_asset_id: str | None = Field(default=None, description="Alias of c3d_asset_id")
    tracker_s3: str | None = Field(default=None, description="Alias of c3d_s3")
    markerset_asset_id: str | None = None
    markerset_s3: str | None = None
    character_id: str | None = Field(default=DEFAULT_CHARACTER_ID)
    character_version: str | None = Field(default=DEFAULT_CHARACTER_VERSION)
    enable_scaling: bool = True
    subject_gender: str = Field(
        default="male", description="male or female", json_schema_extra={"enum": list(GENDERS)}
    )
    subject_height: float | None = Field(
        default=None,
        description="Metres, e.g. 1.80",
        json_schema_extra={"minimum": HEIGHT_RANGE_M[0], "maximum": HEIGHT_RANGE_M[1]},
    )
    subject_weight: float | None = Field(
        default=None,
        description="Kilograms",
        json_schema_extra={"minimum": WEIGHT_RANGE_KG[0], "maximum": WEIGHT_RANGE_KG[1]},
    )
    metadata: dict[str, Any] | None = None
    # Sent by some versions of the vendor SDK; accepted so such clients work unchanged.
    export_glb: bool = Field(
        default=False,
        description="Also write the animated character as a GLB (the job's output `motion`);"
        " refused when the server's engine has no GLB writer",
    )
    export_formats: list[_ExportFormat] | None = Field(
        default=None,
        description="Extension of this server: the exports to write as further outputs, each"
        " keyed by its format (glb: `motion`, bvh, mot, csv; parquet: `qpos` and `xpos`;"
        " html: `viewer`, both written anyway when the server can). `glb` is export_glb",
    )
    # The vendor's engine options (its newer SDKs send them).
    rotation: _Rotation | None = Field(
        default=None,
        description="The recording's up axis as the vendor names it: yup_to_zup (+Y up) or"
        " ydown_to_zup (-Y up); omitted: detected from the recording",
    )
    mocap_scale: _Positive | None = Field(
        default=None,
        description="Divisor taking a CSV/parquet trackers table's numbers to metres (default"
        " 1000: millimetres); C3D and TRC files state their units, so it is ignored for them",
    )
    clip_length: int | None = Field(
        default=None,
        description="Retarget the first N frames only (-1 or omitted: the whole recording; more"
        " frames than recorded: the whole recording)",
    )
    n_frames_scaling: _Frames | None = Field(
        default=None,
        description="Frames used to scale the character to the subject (>= 1; default: the"
        " engine's choice of well-observed frames spread over the recording)",
    )
    chunk_size: int | None = Field(
        default=None,
        description="Accepted (-1 or >= 1) and recorded, no effect here: this server's solver"
        " runs sequentially over the whole clip",
    )
    disable_contacts: bool | None = Field(
        default=None,
        description="Accepted and recorded, no effect here: this server's solver models no"
        " contacts",
    )
    # This server's extensions: the engine's options the vendor's API does not have.
    vertical_axis: _Axis | None = Field(
        default=None,
        description="Extension of this server: the recording's vertical axis (+X, -X, +Y, -Y,"
        " +Z, -Z); omitted: detected. rotation names +Y and -Y the vendor's way",
    )
    frame_range: list[int] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="Extension of this server: [first, stop) 0-based frames to retarget (stop"
        " past the end: to the end); clip_length is [0, clip_length)",
    )
    calibration_window: list[float] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="Extension of this server: [start, stop) seconds to scale the character on"
        " (a static trial, say); omitted: well-observed frames spread over the recording",
    )

    # The engine's checks and wording, so a request is refused as the worker would refuse it.
    @field_validator("subject_gender")
    @classmethod
    def _gender(cls, value: str) -> str:
        problem = gender_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("export_formats")
    @classmethod
    def _export_formats(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        asked = {name.lower().lstrip(".") for name in value}
        unknown = [name for name in value if name.lower().lstrip(".") not in EXPORT_OUTPUTS]
        if unknown:
            raise ValueError(
                f"unknown export format {unknown[0]!r}: choose from {', '.join(EXPORT_OUTPUTS)}"
            )
        return [name for name in EXPORT_OUTPUTS if name in asked]  # one order, no repeats

    @field_validator("mocap_scale", "clip_length", "n_frames_scaling", "chunk_size", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool):  # else JSON true would pass as 1 (a bool is an int)
            raise ValueError(f"{info.field_name} must be a number, not {str(value).lower()}")
        return value

    @field_validator("vertical_axis")
    @classmethod
    def _vertical_axis(cls, value: str | None) -> str | None:
        if value is not None and value not in VERTICAL_AXES:
            raise ValueError(
                f"unknown vertical_axis {value!r}: use one of {', '.join(VERTICAL_AXES)}"
                " (omit it to detect the up axis)"
            )
        return value

    @field_validator("frame_range")
    @classmethod
    def _frame_range(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and not 0 <= value[0] < value[1]:
            raise ValueError(
                f"frame_range must be [first, stop) frames with 0 <= first < stop, not {value}"
            )
        return value

    @field_validator("calibration_window")
    @classmethod
    def _calibration_window(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not (
            all(math.isfinite(v) for v in value) and 0 <= value[0] < value[1]
        ):
            raise ValueError(
                f"calibration_window must be [start, stop) seconds with 0 <= start < stop,"
                f" not {value}"
            )
        return value

    @model_validator(mode="after")
    def _one_of_each(self) -> RetargetRequest:
        rotated = ROTATIONS.get(self.rotation or "")
        if self.vertical_axis is not None and rotated is not None and rotated != self.vertical_axis:
            raise ValueError(
                f"rotation {self.rotation!r} (vertical axis {rotated}) contradicts vertical_axis"
                f" {self.vertical_axis!r}: give one of them"
            )
        if self.frame_range is not None and self.clip_length not in (None, -1):
            raise ValueError("give clip_length or frame_range, not both")
        return self

    @field_validator("rotation")
    @classmethod
    def _rotation(cls, value: str | None) -> str | None:
        if value is not None and value not in ROTATIONS:
            names = " or ".join(repr(name) for name in ROTATIONS)
            raise ValueError(
                f"unknown rotation {value!r}: use {names} (omit it to detect the up axis)"
            )
        return value

    @field_validator("mocap_scale")
    @classmethod
    def _mocap_scale(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"mocap_scale must be a number > 0, the divisor taking a trackers table's numbers"
                f" to metres (1000 for millimetres, 1 for metres), not {value!r}"
            )
        return value

    @field_validator("clip_length", "chunk_size")
    @classmethod
    def _whole_or_frames(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value != -1 and value < 1:
            whole = "the whole recording" if info.field_name == "clip_length" else "no chunks"
            raise ValueError(
                f"{info.field_name} must be -1 ({whole}) or a number of frames >= 1, not {value}"
            )
        return value

    @field_validator("n_frames_scaling")
    @classmethod
    def _scaling_frames(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(
                f"n_frames_scaling must be a number of frames >= 1 (the frames used to scale the"
                f" character), not {value}"
            )
        return value

    @field_validator("subject_height")
    @classmethod
    def _height(cls, value: float | None) -> float | None:
        problem = value is not None and height_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("subject_weight")
    @classmethod
    def _weight(cls, value: float | None) -> float | None:
        problem = value is not None and weight_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class RetargetResponse(BaseModel):
    """The queued job."""

    job_id: str
    run_id: str
    type: str
    status: str
    message: str
    estimated_wait_time_seconds: int


class RetargetOutputAssetIds(BaseModel):
    """A succeeded job's outputs beside the .npz, each an asset of purpose ``retarget_output``."""

    qpos: str | None = Field(
        default=None, description="Parquet table: time and the MuJoCo qpos per frame"
    )
    xpos: str | None = Field(
        default=None, description="Parquet table: time and each body's world position per frame"
    )
    model: str | None = Field(
        default=None, description="The character scaled to the subject, a MuJoCo model (.mjb)"
    )
    motion: str | None = Field(
        default=None, description="The animated character (.glb), when export_glb was asked"
    )
    bvh: str | None = Field(default=None, description="BVH motion, when export_formats had bvh")
    mot: str | None = Field(
        default=None, description="OpenSim motion (.mot), when export_formats had mot"
    )
    csv: str | None = Field(
        default=None,
        description="Time and joint angles in degrees (.csv), when export_formats had csv",
    )
    viewer: str | None = Field(
        default=None,
        description="The motion in a self-contained HTML page (the character, its markers and"
        " the joint-angle curves); its download URL opens in a browser",
    )


class JobDiagnostics(BaseModel):
    """How a job's outputs were made and what to know about them."""

    engine_version: str
    mujoco_version: str
    warnings: list[str] = Field(
        description="E.g. the joints no marker determines (NaN in the output)"
    )


class JobOutput(BaseModel):
    """Assets a job produced."""

    retarget_output_asset_id: str | None = Field(description="The joint angles (.npz)")
    retarget_output_asset_ids: RetargetOutputAssetIds | None = None
    processing_time_seconds: float | None = None
    diagnostics: JobDiagnostics | None = None


class JobDownloadUrls(BaseModel):
    """Presigned URLs of a job's outputs (the keys of ``output.retarget_output_asset_ids``)."""

    retarget_output: str | None
    qpos: str | None = None
    xpos: str | None = None
    model: str | None = None
    motion: str | None = None
    bvh: str | None = None
    mot: str | None = None
    csv: str | None = None
    viewer: str | None = Field(
        default=None,
        description="Opens the viewer page in a browser (shown inline, not saved; no API key)",
    )


class JobInput(BaseModel):
    """What a retarget job was asked to do."""

    c3d_asset_id: str | None
    markerset_asset_id: str | None
    character_id: str
    character_version: str
    enable_scaling: bool
    subject_gender: str
    subject_height: float | None
    subject_weight: float | None
    rotation: str | None = None
    mocap_scale: float | None = None
    clip_length: int | None = None
    n_frames_scaling: int | None = None
    chunk_size: int | None = Field(default=None, description="Recorded; no effect here")
    disable_contacts: bool | None = Field(default=None, description="Recorded; no effect here")
    vertical_axis: str | None = Field(default=None, description="Extension of this server")
    frame_range: list[int] | None = Field(default=None, description="Extension of this server")
    calibration_window: list[float] | None = Field(
        default=None, description="Extension of this server"
    )


class JobError(BaseModel):
    """Why a job FAILED."""

    error_message: str = Field(description="What went wrong and what to do next")
    error_type: str = Field(
        description="The kind of failure, a stable name: "
        + "; ".join(f"{name}: {meaning}" for name, meaning in ERROR_TYPES.items()),
        json_schema_extra={"enum": list(ERROR_TYPES)},
    )


class Job(BaseModel):
    """A job; ``progress`` is 0–1, ``error`` is set when FAILED."""

    job_id: str
    run_id: str
    type: str
    status: str
    message: str
    progress: float
    error: JobError | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    output: JobOutput | None
    download_urls: JobDownloadUrls | None
    input: JobInput
    metadata: dict[str, Any] | None
    attempts: int


class JobList(BaseModel):
    """A page of jobs, newest first."""

    jobs: list[Job]
    total: int
    limit: int
    offset: int


class CancelJobResponse(BaseModel):
    """The canceled job."""

    job_id: str
    type: str
    status: str
    message: str


class Health(BaseModel):
    """Liveness."""

    status: str
    version: str


class Readiness(BaseModel):
    """Readiness: whether this process reaches its database and its file storage."""

    status: str
    version: str
    problems: list[str] = []
