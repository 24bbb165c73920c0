"""The I/O-free core shared by ``Client`` and ``AsyncClient``.

Everything here is a pure function, an immutable value or (``JobWaiter``) state fed with the clock
by its caller: configuration, building requests (URL, query, JSON body, headers), retry decisions,
mapping error responses to exceptions, pagination, purpose detection, multipart layout, log
redaction and the decisions of ``jobs.wait``. The two clients only add the I/O.
"""

from __future__ import annotations

import contextlib
import email.utils
import importlib.metadata
import json
import logging
import mimetypes
import os
import platform
import random
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast
from urllib.parse import quote, urlsplit, urlunsplit

from myosdk._exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    JobFailedError,
    JobTimeoutError,
    MyoSDKError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)

if TYPE_CHECKING:
    from myosdk._types import Job

# One version for the four packages: the distribution's, from pyproject.toml.
__version__: Final = importlib.metadata.version("myo-mcp")

DEFAULT_BASE_URL: Final = "https://api.myolab.ai"
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_CHARACTER_ID: Final = "0199e278-06e6-7726-a6ba-9929f79005e8"
DEFAULT_CHARACTER_VERSION: Final = "v1.0.0"
API_KEY_ENV: Final = "MYOSDK_API_KEY"
BASE_URL_ENV: Final = "MYOSDK_BASE_URL"
LOG_ENV: Final = "MYOSDK_LOG"

TERMINAL_STATUSES: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
#: Statuses worth a retry: rate limited, and the gateway/unavailable family (not a plain 500, which
#: usually means the same request fails the same way again).
RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})
#: Extensions whose purpose the SDK knows; anything else needs an explicit ``purpose``.
#: The files a retarget job takes, by input: marker recordings (C3D, TRC, tracker tables) and
#: markersets.
RETARGET_INPUT_EXTENSIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "tracker": (".c3d", ".trc", ".csv", ".parquet"),
    "markerset": (".xml",),
}
#: Retarget inputs are uploaded with purpose ``retarget`` (as the vendor's SDKs do); a GLB/glTF
#: animation is ``motion``.
PURPOSE_BY_EXTENSION: Final[Mapping[str, str]] = {
    **{ext: "retarget" for exts in RETARGET_INPUT_EXTENSIONS.values() for ext in exts},
    ".glb": "motion",
    ".gltf": "motion",
}
CONTENT_TYPE_BY_EXTENSION: Final[Mapping[str, str]] = {
    ".c3d": "application/octet-stream",
    ".trc": "text/plain",
    ".parquet": "application/vnd.apache.parquet",
    ".xml": "application/xml",
    ".npz": "application/octet-stream",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
}
#: 1 MiB: large enough that per-chunk overhead (syscalls, thread hops) vanishes, small for memory.
CHUNK_SIZE: Final = 1 << 20

logger = logging.getLogger("myosdk")


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ClientConfig:
    """Resolved client settings. ``repr`` never shows the key."""

    api_key: str = field(repr=False)
    base_url: str
    timeout: float | None
    max_retries: int


def resolve_config(
    api_key: str | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve arguments against the environment (``MYOSDK_API_KEY``, ``MYOSDK_BASE_URL``).

    Raises:
        ConfigurationError: No API key anywhere, or a base URL that is not http(s).
        ValueError: A negative ``max_retries`` or non-positive ``timeout``.
    """
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get(API_KEY_ENV)
    if not key or not key.strip():
        raise ConfigurationError(
            "No API key: give api_key, or set the MYOSDK_API_KEY environment variable. "
            "Get a key from your MyoSapiens account at https://myolab.ai, or for a local server "
            "run `myo-server keys create` (and set MYOSDK_BASE_URL to its address)."
        )
    url = base_url if base_url is not None else env.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"Invalid base URL {url!r}: expected http(s)://host[:port], e.g. {DEFAULT_BASE_URL}."
        )
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0, got {max_retries}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds or None, got {timeout}")
    return ClientConfig(api_key=key.strip(), base_url=url, timeout=timeout, max_retries=max_retries)


def user_agent(http_library: str) -> str:
    """The User-Agent the SDK sends (SDK, HTTP library and Python versions)."""
    return f"myosdk-python/{__version__} {http_library} python/{platform.python_version()}"


def configure_logging_from_env(environ: Mapping[str, str] | None = None) -> None:
    """Honour ``MYOSDK_LOG=debug|info|warning``: set the ``myosdk`` logger's level and, if nothing
    handles it yet, attach one stderr handler. Does nothing when the variable is unset."""
    env = os.environ if environ is None else environ
    value = env.get(LOG_ENV, "").strip().upper()
    if not value:
        return
    level = logging.getLevelName(value)
    if not isinstance(level, int):
        return
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class ApiRequest:
    """One API call, ready to send. ``body`` is serialized once so retries send identical bytes.

    Attributes:
        operation: A readable name for messages and logs (``"jobs.get"``).
        method: HTTP method.
        path: Path below the base URL, already percent-encoded (``/v1/jobs/abc``).
        params: Query parameters, stringified, repeated keys allowed, unset ones left out.
        body: JSON body bytes, or None.
        idempotency_key: Sent as ``Idempotency-Key``; makes a POST safe to retry.
        retry_safe: Whether resending after the server may have acted is harmless.
    """

    operation: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    idempotency_key: str | None = None
    retry_safe: bool = True


def api_headers(config: ClientConfig, request: ApiRequest, agent: str) -> dict[str, str]:
    """Headers for an API request: auth, user agent, JSON, idempotency."""
    headers = {
        "X-Api-Key": config.api_key,
        "User-Agent": agent,
        "Accept": "application/json",
    }
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    if request.idempotency_key is not None:
        headers["Idempotency-Key"] = request.idempotency_key
    return headers


def build_url(base_url: str, path: str) -> str:
    """Absolute URL of an API path; keeps any path prefix of the base URL."""
    return base_url.rstrip("/") + path


def _segment(name: str, value: object) -> str:
    """A validated, percent-encoded path segment (an id must not be empty nor escape its slot)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return quote(value.strip(), safe="")


def _param_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def query(**params: object) -> tuple[tuple[str, str], ...]:
    """Query pairs from keyword arguments: None left out, lists/tuples repeated, bools lowercase,
    datetimes ISO 8601."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            pairs.extend((key, _param_value(item)) for item in value if item is not None)
        else:
            pairs.append((key, _param_value(value)))
    return tuple(pairs)


def json_body(payload: Mapping[str, object]) -> bytes:
    """Compact JSON of ``payload`` with None values left out (so the server's defaults apply)."""
    return json.dumps(
        {k: v for k, v in payload.items() if v is not None}, separators=(",", ":"), default=str
    ).encode()


def new_idempotency_key() -> str:
    """A fresh key per logical call, reused by every retry of that call."""
    return str(uuid.uuid4())


def _check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(f"limit must be an int, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")


def _check_optional_mapping(name: str, value: object) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a dict or None, got {type(value).__name__}")


# assets ------------------------------------------------------------------------------


def assets_initiate(
    purpose: str,
    filename: str,
    content_type: str,
    expected_size_bytes: int | None,
    metadata: Mapping[str, Any] | None,
) -> ApiRequest:
    _check_optional_mapping("metadata", metadata)
    return ApiRequest(
        operation="assets.initiate",
        method="POST",
        path="/v1/assets/initiate",
        body=json_body(
            {
                "purpose": purpose,
                "filename": filename,
                "content_type": content_type,
                "expected_size_bytes": expected_size_bytes,
                "metadata": dict(metadata) if metadata is not None else None,
            }
        ),
        idempotency_key=new_idempotency_key(),
    )


def assets_complete(asset_id: str) -> ApiRequest:
    # Completing twice verifies twice: harmless, so retry-safe; the key helps servers that care.
    return ApiRequest(
        operation="assets.complete",
        method="POST",
        path=f"/v1/assets/{_segment('asset_id', asset_id)}/complete",
        idempotency_key=new_idempotency_key(),
    )


def assets_get(asset_id: str) -> ApiRequest:
    return ApiRequest("assets.get", "GET", f"/v1/assets/{_segment('asset_id', asset_id)}")


def assets_list(
    purpose: str | None,
    reference_count: int | None,
    limit: int,
    offset: int,
    sha256: str | None = None,
) -> ApiRequest:
    _check_page(limit, offset)
    return ApiRequest(
        "assets.list",
        "GET",
        "/v1/assets",
        query(
            purpose=purpose,
            reference_count=reference_count,
            sha256=sha256,
            limit=limit,
            offset=offset,
        ),
    )


def assets_delete(asset_id: str) -> ApiRequest:
    return ApiRequest("assets.delete", "DELETE", f"/v1/assets/{_segment('asset_id', asset_id)}")


# jobs ---------------------------------------------------------------------------------


def _exactly_one(what: str, asset_id: str | None, s3: str | None) -> None:
    given = [n for n, v in ((f"{what}_asset_id", asset_id), (f"{what}_s3", s3)) if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"Pass exactly one of {what}_asset_id (an uploaded asset) or {what}_s3 (a storage "
            f"key); got {' and '.join(given) if given else 'neither'}."
        )
    value = asset_id if asset_id is not None else s3
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{given[0]} must be a non-empty string, got {value!r}")


#: What ``export_formats`` may name -> the job outputs (``output.retarget_output_asset_ids``)
#: that then hold each. An extension of this project's server (the hosted API refuses the
#: field); the server's own list, which the SDK cannot import, is the same (a test checks).
EXPORT_OUTPUTS: dict[str, tuple[str, ...]] = {
    "glb": ("motion",),
    "bvh": ("bvh",),
    "mot": ("mot",),
    "csv": ("csv",),
    "parquet": ("qpos", "xpos"),
    "html": ("viewer",),
}


def export_format_names(names: Sequence[str] | None) -> list[str]:
    """``names`` checked and put in one order (EXPORT_OUTPUTS'), without repeats; ``glb``,
    ``GLB`` and ``.glb`` are one.

    Raises:
        ValueError: Not a list of names, or a name that is no export format (says which ones
            are).
    """
    if names is None:
        return []
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"export_formats must be a list of format names, got {names!r}")
    asked = [name.lower().lstrip(".") for name in names]
    for name, key in zip(names, asked, strict=True):
        if key not in EXPORT_OUTPUTS:
            raise ValueError(
                f"unknown export format {name!r}: choose from {', '.join(EXPORT_OUTPUTS)}"
            )
    return [name for name in EXPORT_OUTPUTS if name in asked]


#: ``rotation`` values: the turn applied to the marker coordinates before retargeting, for
#: recordings whose vertical axis is +Y or -Y (the engine works Z-up).
ROTATIONS: Final = ("yup_to_zup", "ydown_to_zup")
Rotation = Literal["yup_to_zup", "ydown_to_zup"]


def _check_number(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"{name} must be a number or None, got {value!r}")


def tracker_options(
    rotation: str | None = None,
    mocap_scale: float | None = None,
    clip_length: int | None = None,
    n_frames_scaling: int | None = None,
    chunk_size: int | None = None,
    disable_contacts: bool | None = None,
    vertical_axis: str | None = None,
    frame_range: Sequence[int] | None = None,
    calibration_window: Sequence[float] | None = None,
) -> dict[str, object]:
    """The options of the vendor's newer API (and the myo-server extensions ``vertical_axis``,
    ``frame_range``, ``calibration_window``) that were given, checked, for the request body
    (a field left None is not sent, so a server that lacks it is not asked for it).

    Raises:
        ValueError: A value of the wrong type, an unknown rotation or a non-positive scale.
    """
    if rotation is not None and rotation not in ROTATIONS:
        raise ValueError(
            f"rotation must be one of {', '.join(ROTATIONS)} or None, got {rotation!r}"
        )
    _check_number("mocap_scale", mocap_scale)
    if mocap_scale is not None and not mocap_scale > 0:
        raise ValueError(
            f"mocap_scale must be > 0 (the tracker table's units per metre, e.g. 1000 for mm), "
            f"got {mocap_scale!r}"
        )
    integers = (
        ("clip_length", clip_length),
        ("n_frames_scaling", n_frames_scaling),
        ("chunk_size", chunk_size),
    )
    for name, number in integers:
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            raise ValueError(f"{name} must be an integer or None, got {number!r}")
    if disable_contacts is not None and not isinstance(disable_contacts, bool):
        raise ValueError(f"disable_contacts must be True, False or None, got {disable_contacts!r}")
    for name, pair in (("frame_range", frame_range), ("calibration_window", calibration_window)):
        if pair is not None and len(pair) != 2:
            raise ValueError(f"{name} must be a pair [start, stop] or None, got {pair!r}")
    given = {
        "rotation": rotation,
        "mocap_scale": mocap_scale,
        "clip_length": clip_length,
        "n_frames_scaling": n_frames_scaling,
        "chunk_size": chunk_size,
        "disable_contacts": disable_contacts,
        "vertical_axis": vertical_axis,
        "frame_range": None if frame_range is None else list(frame_range),
        "calibration_window": None if calibration_window is None else list(calibration_window),
    }
    return {name: value for name, value in given.items() if value is not None}


def check_retarget_args(
    subject_height: float | None,
    subject_weight: float | None,
    metadata: Mapping[str, Any] | None,
    export_formats: Sequence[str] | None,
) -> list[str]:
    """Check the retarget arguments besides its inputs (so ``create_retarget`` refuses them
    before uploading anything); returns ``export_format_names(export_formats)``.

    Raises:
        ValueError: Which argument is wrong and why.
    """
    exports = export_format_names(export_formats)
    _check_optional_mapping("metadata", metadata)
    _check_number("subject_height", subject_height)
    _check_number("subject_weight", subject_weight)
    return exports


def jobs_start_retarget(
    c3d_asset_id: str | None = None,
    c3d_s3: str | None = None,
    markerset_asset_id: str | None = None,
    markerset_s3: str | None = None,
    character_id: str | None = DEFAULT_CHARACTER_ID,
    character_version: str | None = DEFAULT_CHARACTER_VERSION,
    enable_scaling: bool | None = True,
    subject_gender: str | None = "male",
    subject_height: float | None = None,
    subject_weight: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    export_glb: bool = False,
    export_formats: Sequence[str] | None = None,
    options: Mapping[str, object] | None = None,
) -> ApiRequest:
    """``POST /v1/runs/retarget``; ValueError before any request on inconsistent arguments.

    ``options`` are the checked fields of ``tracker_options``, added to the body as they are.
    """
    exports = check_retarget_args(subject_height, subject_weight, metadata, export_formats)
    _exactly_one("c3d", c3d_asset_id, c3d_s3)
    _exactly_one("markerset", markerset_asset_id, markerset_s3)
    return ApiRequest(
        operation="jobs.start_retarget",
        method="POST",
        path="/v1/runs/retarget",
        body=json_body(
            {
                "c3d_asset_id": c3d_asset_id,
                "c3d_s3": c3d_s3,
                "markerset_asset_id": markerset_asset_id,
                "markerset_s3": markerset_s3,
                "character_id": character_id,
                "character_version": character_version,
                "enable_scaling": enable_scaling,
                "subject_gender": subject_gender,
                "subject_height": subject_height,
                "subject_weight": subject_weight,
                "metadata": dict(metadata) if metadata is not None else None,
                # sent only when asked: a server without GLB export refuses the field set true
                "export_glb": True if export_glb else None,
                "export_formats": exports or None,  # likewise: the hosted API lacks the field
                **(options or {}),
            }
        ),
        idempotency_key=new_idempotency_key(),
    )


#: The name ``job_outputs`` gives a job's joint angles (.npz), beside the names of
#: ``output.retarget_output_asset_ids`` (qpos, xpos, model, motion, viewer).
NPZ_OUTPUT = "retarget_output"


def job_outputs(job: Mapping[str, Any]) -> dict[str, str]:
    """A succeeded job's output asset ids by name: ``retarget_output`` (the .npz) and each of
    ``output.retarget_output_asset_ids`` the job has.

    Raises:
        ValueError: The job has not succeeded (so it has no outputs yet, or never will).
    """
    status = job.get("status")
    output = job.get("output") or {}
    npz = output.get("retarget_output_asset_id")
    if status != "SUCCEEDED" or not npz:
        hint = (
            "wait for it (jobs.wait) first"
            if status in ("QUEUED", "RUNNING")
            else "start it again (jobs.start_retarget)"
        )
        raise ValueError(f"job {job.get('job_id')} is {status}, not SUCCEEDED: no outputs; {hint}")
    more = output.get("retarget_output_asset_ids") or {}
    return {NPZ_OUTPUT: str(npz), **{str(k): str(v) for k, v in more.items() if v}}


def job_error(job: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(message, type)`` of a FAILED or CANCELED job's error, whichever shape the server uses
    (the reference's string, or the newer ``{"error_message", "error_type"}``)."""
    if job.get("status") == "CANCELED":
        return str(job.get("message") or "Job was canceled."), "CANCELED"
    error = job.get("error")
    if isinstance(error, Mapping):
        message = error.get("error_message") or error.get("message")
        kind = error.get("error_type")
        return str(message or job.get("message") or "no reason given"), (
            str(kind) if kind else None
        )
    return str(error or job.get("message") or "no reason given"), None


def job_failure(job: Mapping[str, Any]) -> JobFailedError | None:
    """The error to raise for a finished job that has no outputs (FAILED or CANCELED), else
    None."""
    status = job.get("status")
    if status not in ("FAILED", "CANCELED"):
        return None
    message, kind = job_error(job)
    job_id = job.get("job_id")
    if status == "CANCELED":
        text = f"Job {job_id} was canceled before it finished ({message}); start it again."
    else:
        text = f"Job {job_id} failed: {message}. Fix the input it names and start the job again."
    return JobFailedError(text, cast("Job", job), message, kind)


#: A retarget input of ``create_retarget``/``retarget``: a local file (path) or an uploaded asset
#: (its id, or the dict ``assets.upload_file``/``assets.get`` returned).
RetargetInput = str | os.PathLike[str] | Mapping[str, Any]


def retarget_input(role: Literal["tracker", "markerset"], value: object) -> Path | str:
    """What a retarget input (``tracker`` or ``markerset``) names: a local file to upload (a
    ``Path``) or an uploaded asset's id (a ``str``).

    A path-like object, or a string naming an existing file, is a file; a mapping with an
    ``asset_id`` (what ``assets.upload_file``/``get`` return) or any other string is an asset id.
    Purpose and existence of files are checked here, before any request.

    Raises:
        FileNotFoundError: A path-like object, or a string that looks like a file name (it has a
            directory part or a known extension), that is no file.
        IsADirectoryError: A directory.
        ValueError: An empty value, a file whose extension is not one of the input's
            (``RETARGET_INPUT_EXTENSIONS``), or a value of another type.
    """
    if isinstance(value, Mapping) and isinstance(value.get("asset_id"), str):
        return str(value["asset_id"])
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(
            f"{role} must be a file path or an asset id (or an uploaded asset), got {value!r}"
        )
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{role} must be a file path or an asset id, got {value!r}")
    path = Path(text).expanduser()
    looks_like_file = (
        isinstance(value, os.PathLike)
        or path.is_file()
        or path.suffix.lower() in PURPOSE_BY_EXTENSION
        or os.sep in text
        or "/" in text
    )
    if not looks_like_file:
        return text
    local_file(path)  # FileNotFoundError / IsADirectoryError before any request
    allowed = RETARGET_INPUT_EXTENSIONS[role]
    if path.suffix.lower() not in allowed:
        what = "a marker recording" if role == "tracker" else "a markerset"
        raise ValueError(
            f"{role} {text!r} is not a retarget input: the {role} is {what} "
            f"({', '.join(allowed)}), a local file or an uploaded asset's id"
        )
    return path


def jobs_get(job_id: str) -> ApiRequest:
    return ApiRequest("jobs.get", "GET", f"/v1/jobs/{_segment('job_id', job_id)}")


def jobs_cancel(job_id: str) -> ApiRequest:
    return ApiRequest("jobs.cancel", "DELETE", f"/v1/jobs/{_segment('job_id', job_id)}")


def jobs_list(
    status: str | Sequence[str] | None = None,
    job_type: str | Sequence[str] | None = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    run_id: str | None = None,
    has_output: bool | None = None,
    input_asset_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ApiRequest:
    _check_page(limit, offset)
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        if value is not None and not isinstance(value, (datetime, str)):
            raise ValueError(f"{name} must be a datetime or an ISO 8601 string, got {value!r}")
    return ApiRequest(
        "jobs.list",
        "GET",
        "/v1/jobs",
        query(
            status=[status] if isinstance(status, str) else status,
            type=[job_type] if isinstance(job_type, str) else job_type,
            created_after=created_after,
            created_before=created_before,
            run_id=run_id,
            has_output=has_output,
            input_asset_id=input_asset_id,
            limit=limit,
            offset=offset,
        ),
    )


# characters ---------------------------------------------------------------------------


def characters_list(
    name_contains: str | None, has_ready_versions: bool | None, limit: int, offset: int
) -> ApiRequest:
    _check_page(limit, offset)
    return ApiRequest(
        "characters.list",
        "GET",
        "/v1/characters",
        query(
            name_contains=name_contains,
            has_ready_versions=has_ready_versions,
            limit=limit,
            offset=offset,
        ),
    )


def characters_get(character_id: str) -> ApiRequest:
    return ApiRequest(
        "characters.get", "GET", f"/v1/characters/{_segment('character_id', character_id)}"
    )


def characters_validate_manifest(character_id: str, version: str) -> ApiRequest:
    # A check with no side effect beyond refreshing the version's status: safe to retry.
    _segment("version", version)
    return ApiRequest(
        "characters.validate_manifest",
        "POST",
        f"/v1/characters/{_segment('character_id', character_id)}/validate-manifest",
        query(version=version.strip()),
    )


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        base_delay: Backoff of the first retry before jitter, seconds.
        max_delay: Ceiling of one backoff, seconds.
        max_retry_after: A ``Retry-After`` longer than this is not waited for inside a call: the
            error is raised so the caller can decide (the SDK never hangs for minutes silently).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry_index: int, rng: random.Random | None = None) -> float:
        """Delay before retry number ``retry_index`` (0-based): "equal jitter", i.e. half the
        exponential step plus a uniform random half, so clients spread out but never retry at 0."""
        step = min(self.max_delay, self.base_delay * 2.0**retry_index)
        return step / 2 + (rng or random).uniform(0, step / 2)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds of a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def retry_delay_for_status(
    policy: RetryPolicy,
    retry_index: int,
    status: int,
    retry_after: float | None,
    retry_safe: bool,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before resending after an HTTP ``status``, or None to stop.

    A 429 means the server did not act, so it is retried even for unsafe requests; 502/503/504 may
    come from a gateway after the server acted, so only retry-safe requests are resent.
    """
    if retry_index >= policy.max_retries or status not in RETRYABLE_STATUSES:
        return None
    if status != 429 and not retry_safe:
        return None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return None
        return retry_after
    return policy.backoff(retry_index, rng)


def retry_delay_for_transport_error(
    policy: RetryPolicy,
    retry_index: int,
    request_sent: bool,
    retry_safe: bool,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before resending after a transport failure, or None to stop.

    ``request_sent`` is False when the connection was never established (connect error or connect
    timeout): nothing reached the server, so any request may be resent.
    """
    if retry_index >= policy.max_retries:
        return None
    if request_sent and not retry_safe:
        return None
    return policy.backoff(retry_index, rng)


# --------------------------------------------------------------------------- errors

#: What to do after each kind of error, in words that fit any caller (the SDK, its CLI, the
#: MCP server): no method names, no HTTP paths. The one table of such advice.
ERROR_HINTS: Final[Mapping[type[MyoSDKError], str]] = {
    AuthenticationError: "Check the API key (MYOSDK_API_KEY) and the base URL.",
    PermissionDeniedError: "The presigned URL was refused: start the upload or download again.",
    NotFoundError: "Check the id; objects are visible only to the key's tenant.",
    ConflictError: "The object is in use or in a final state; check its current state first.",
    ValidationError: "Fix the argument named above and try again.",
    RateLimitError: "Too many requests: wait and retry, or lower the request rate.",
    ServerError: "The server failed; retry later and quote the request id if it persists.",
    APIConnectionError: "Check the base URL and the network.",
    ConfigurationError: "Set MYOSDK_API_KEY (and MYOSDK_BASE_URL for another server).",
}


def error_hint(error: BaseException | type[BaseException]) -> str | None:
    """What to do after ``error`` (an exception or its class), from ``ERROR_HINTS``: the entry
    of its class or of the nearest base class that has one; None for other errors."""
    cls = error if isinstance(error, type) else type(error)
    return next((ERROR_HINTS[c] for c in cls.__mro__ if c in ERROR_HINTS), None)


def error_class_for_status(status: int) -> type[APIError]:
    """The exception class of an HTTP error status."""
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status in (400, 422):
        return ValidationError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return APIError


def _format_detail(detail: Any) -> str:
    """Readable text of a ``detail``: a string as-is; FastAPI's field errors as ``loc: msg``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        items = []
        for item in detail:
            if isinstance(item, Mapping) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                items.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                items.append(str(item))
        return "; ".join(items)
    return json.dumps(detail, default=str)


_XML_TAG = re.compile(r"<(Code|Message)>([^<]*)</\1>")


def parse_error_body(content: bytes) -> tuple[Any, Any]:
    """``(detail, body)`` of an error response: JSON ``{"detail": ...}``, an S3-style XML
    ``<Error><Code/><Message/></Error>``, or plain text."""
    text = content.decode("utf-8", "replace")
    body: Any = text
    detail: Any = None
    if content:
        with contextlib.suppress(ValueError):
            body = json.loads(text)
    if isinstance(body, Mapping):
        detail = body.get("detail", body.get("message", body.get("error")))
    elif isinstance(body, str) and "<Error>" in body:
        tags = dict(_XML_TAG.findall(body))
        detail = ": ".join(v for v in (tags.get("Code"), tags.get("Message")) if v) or None
    elif isinstance(body, str) and body.strip():
        detail = body.strip()[:500]
    return detail, body


def error_from_response(
    operation: str,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    attempts: int = 1,
) -> APIError:
    """The exception for an error response, its message carrying detail, request id and hint."""
    detail, body = parse_error_body(content)
    request_id = headers.get("x-request-id")
    cls = error_class_for_status(status)
    parts = [f"{operation} failed with HTTP {status}"]
    if detail is not None:
        parts[0] += f": {_format_detail(detail)}"
    retry_after = parse_retry_after(headers.get("retry-after"))
    if cls is RateLimitError and retry_after is not None:
        parts.append(f"Retry after {retry_after:g} s.")
    else:
        hint = error_hint(cls)
        if hint:
            parts.append(hint)
    if attempts > 1:
        parts.append(f"({attempts} attempts)")
    if request_id:
        parts.append(f"[request id {request_id}]")
    message = " ".join(p if p.endswith((".", ")", "]")) else p + "." for p in parts)
    if cls is RateLimitError:
        return RateLimitError(message, status, detail, body, request_id, attempts, retry_after)
    return cls(message, status, detail, body, request_id, attempts)


# --------------------------------------------------------------------------- pagination


def next_offset(page: Mapping[str, Any], items_key: str) -> int | None:
    """Offset of the page after ``page``, or None when it was the last one."""
    items = page.get(items_key) or []
    if not items:
        return None
    offset = int(page.get("offset", 0)) + len(items)
    total = page.get("total")
    if total is not None and offset >= int(total):
        return None
    return offset


class Pager:
    """Walks a listing page by page for the ``iter_*`` helpers: the offset of the next page, and
    each item once (offsets shift when items are added meanwhile, so a page may repeat one).

    Args:
        items_key: The page's list of items (``"jobs"``).
        id_key: The items' id (``"job_id"``).
    """

    def __init__(self, items_key: str, id_key: str) -> None:
        self.items_key = items_key
        self.id_key = id_key
        self.offset: int | None = 0  # None once the last page was taken
        self._seen: set[Any] = set()

    def take(self, page: Mapping[str, Any]) -> list[Any]:
        """The items of ``page`` not taken before; moves ``offset`` to the next page."""
        fresh = []
        for item in page[self.items_key]:
            if item[self.id_key] not in self._seen:
                self._seen.add(item[self.id_key])
                fresh.append(item)
        self.offset = next_offset(page, self.items_key)
        return fresh


# --------------------------------------------------------------------------- files


def detect_purpose(path: str | os.PathLike[str]) -> str:
    """The asset purpose for a file name (``PURPOSE_BY_EXTENSION``): marker recordings (.c3d,
    .trc, .csv, .parquet) and markersets (.xml) → ``"retarget"``, .glb/.gltf → ``"motion"``.

    Raises:
        ValueError: An extension the SDK does not know (pass ``purpose=`` explicitly).
    """
    suffix = Path(path).suffix.lower()
    try:
        return PURPOSE_BY_EXTENSION[suffix]
    except KeyError:
        known = ", ".join(sorted(PURPOSE_BY_EXTENSION))
        raise ValueError(
            f"Cannot tell the purpose of {os.fspath(path)!r} from its extension "
            f"{suffix or '(none)'!r} (known: {known}); pass purpose=... explicitly, "
            f"e.g. purpose='retarget'."
        ) from None


def content_type_for(path: str | os.PathLike[str]) -> str:
    """MIME type sent for a file: known extensions first, then ``mimetypes``, else octet-stream."""
    suffix = Path(path).suffix.lower()
    if suffix in CONTENT_TYPE_BY_EXTENSION:
        return CONTENT_TYPE_BY_EXTENSION[suffix]
    guessed, _ = mimetypes.guess_type(Path(path).name)
    return guessed or "application/octet-stream"


def local_file(file_path: str | os.PathLike[str]) -> tuple[Path, int]:
    """``(path, size)`` of a regular file to upload, checked before any request.

    Raises:
        FileNotFoundError: No such file.
        IsADirectoryError: The path is a directory.
    """
    path = Path(os.fspath(file_path)).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No such file to upload: {os.fspath(file_path)!r}")
    if path.is_dir():
        raise IsADirectoryError(f"Expected a file to upload, got a directory: {str(path)!r}")
    return path, path.stat().st_size


def _quote_header_param(value: str) -> str:
    # As browsers do for multipart names: escape the quote and line breaks, keep UTF-8 as-is.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(frozen=True)
class MultipartLayout:
    """Byte layout of a ``multipart/form-data`` body: the form ``fields`` (verbatim, in order),
    then one file part named ``file``. The file's bytes go between ``head`` and ``tail``, so the
    body streams without holding the file, and its length is known before sending (presigned
    POST endpoints such as S3 refuse chunked uploads)."""

    boundary: str
    head: bytes
    tail: bytes
    file_size: int

    @property
    def content_length(self) -> int:
        return len(self.head) + self.file_size + len(self.tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"


def multipart_layout(
    fields: Mapping[str, Any],
    filename: str,
    content_type: str,
    file_size: int,
    boundary: str | None = None,
) -> MultipartLayout:
    """Lay out the multipart body of a presigned POST upload."""
    boundary = boundary or uuid.uuid4().hex
    dash = f"--{boundary}\r\n".encode()
    head = bytearray()
    for name, value in fields.items():
        head += dash
        disposition = f'form-data; name="{_quote_header_param(str(name))}"'
        head += f"Content-Disposition: {disposition}\r\n\r\n".encode()
        head += (value if isinstance(value, bytes) else str(value).encode()) + b"\r\n"
    head += dash
    head += (
        f'Content-Disposition: form-data; name="file"; filename="{_quote_header_param(filename)}"'
        f"\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return MultipartLayout(boundary, bytes(head), tail, file_size)


def presigned_headers(layout: MultipartLayout, agent: str) -> dict[str, str]:
    """Headers of the presigned upload POST: no API key (the signature in the fields authorises)."""
    return {
        "User-Agent": agent,
        "Content-Type": layout.content_type,
        "Content-Length": str(layout.content_length),
    }


def download_headers(agent: str, resume_from: int = 0) -> dict[str, str]:
    """Headers of a presigned download: no API key; identity encoding so the bytes hashed are the
    stored bytes; a ``Range`` when resuming."""
    headers = {"User-Agent": agent, "Accept-Encoding": "identity"}
    if resume_from > 0:
        headers["Range"] = f"bytes={resume_from}-"
    return headers


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``(first, last, total)`` of a ``Content-Range`` header, None if absent or malformed."""
    if not value:
        return None
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if not match:
        return None
    first, last, total = match.groups()
    return int(first), int(last), None if total == "*" else int(total)


def download_destination(destination: str | os.PathLike[str], filename: str | None) -> Path:
    """Where a download lands: ``destination`` itself, or ``destination/filename`` when
    ``destination`` is an existing directory."""
    path = Path(os.fspath(destination)).expanduser()
    if path.is_dir():
        if not filename:
            raise ValueError(
                f"{str(path)!r} is a directory and the asset has no filename: "
                "pass a file path as destination."
            )
        return path / Path(filename).name
    return path


# --------------------------------------------------------------------------- logging


def redact_url(url: str) -> str:
    """The URL without its query string (presigned URLs carry signatures there)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "…" if parts.query else "", ""))


def describe_request(method: str, url: str, presigned: bool) -> str:
    """How a request appears in logs: presigned URLs lose their query string."""
    return f"{method} {redact_url(url) if presigned else url}"


# --------------------------------------------------------------------------- waiting


def is_terminal(job: Mapping[str, Any]) -> bool:
    """Whether a job reached SUCCEEDED, FAILED or CANCELED."""
    return job.get("status") in TERMINAL_STATUSES


def progress_key(job: Mapping[str, Any]) -> tuple[Any, Any]:
    """What ``wait`` compares to decide that a job changed enough to report it."""
    return job.get("status"), job.get("progress")


def wait_sleep(interval: float, deadline: float | None, now: float) -> float:
    """The next poll delay: ``interval``, clipped so the deadline is checked on time."""
    if deadline is None:
        return interval
    return max(0.0, min(interval, deadline - now))


def check_wait_args(interval: float, timeout: float | None) -> None:
    if not interval > 0:
        raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout!r}")


def timeout_message(job: Mapping[str, Any], timeout: float) -> str:
    status = job.get("status")
    progress = job.get("progress")
    extra = f", progress {progress:.0%}" if isinstance(progress, (int, float)) else ""
    return (
        f"Job {job.get('job_id')} still {status}{extra} after {timeout:g} s; it keeps running. "
        "Call jobs.wait again (or jobs.cancel to stop it)."
    )


class JobWaiter:
    """The decisions of one ``jobs.wait`` call: when a polled job is worth reporting, how long to
    pause after a poll or a 429, and when to give up. The twins only fetch, call back and sleep.

    Args:
        interval: Seconds between polls.
        timeout: Seconds before giving up, or None.
        now: The current ``time.monotonic()``.

    Raises:
        ValueError: A non-positive ``interval`` or negative ``timeout``.
    """

    def __init__(self, interval: float, timeout: float | None, now: float) -> None:
        check_wait_args(interval, timeout)
        self.interval = interval
        self.timeout = timeout
        self.deadline = None if timeout is None else now + timeout
        self.job: Job | None = None
        self._last: tuple[Any, Any] | None = None
        self._limited = 0  # consecutive 429s

    def polled(self, job: Job) -> bool:
        """Record a fetched job; True when its status or progress changed since the last one."""
        self.job = job
        self._limited = 0
        key = progress_key(job)
        changed = key != self._last
        self._last = key
        return changed

    def _expired(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

    def _timed_out(self, job: Job) -> JobTimeoutError:
        return JobTimeoutError(timeout_message(job, self.timeout or 0), job)

    def after_poll(self, now: float) -> float:
        """Seconds to sleep before the next poll of an unfinished job.

        Raises:
            JobTimeoutError: The timeout passed (``.job`` is the last state seen).
        """
        assert self.job is not None
        if self._expired(now):
            raise self._timed_out(self.job)
        return wait_sleep(self.interval, self.deadline, now)

    def after_rate_limit(self, err: RateLimitError, now: float) -> float:
        """Seconds to sleep after a 429: the server's ``Retry-After`` (at least ``interval``),
        else a doubling of ``interval`` up to 60 s.

        Raises:
            RateLimitError: ``err`` itself, when the timeout passed before any job was seen.
            JobTimeoutError: The timeout passed (``.job`` is the last state seen).
        """
        if self._expired(now):
            if self.job is None:
                raise err
            raise self._timed_out(self.job) from err
        if err.retry_after is not None:
            delay = max(self.interval, err.retry_after)
        else:
            delay = min(60.0, self.interval * 2.0**self._limited)
        self._limited += 1
        return wait_sleep(delay, self.deadline, now)
