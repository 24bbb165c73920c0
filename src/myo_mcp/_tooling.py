"""What every tool module shares: the tools' dependencies (``ToolDeps``, injected as ``Deps``),
their annotations and shared parameter types, and progress reporting.

A tool is a plain async function of this package taking ``deps: Deps``: the SDK fills that
parameter with a resolver (so it stays out of the tool's input schema), and a test can call the
function directly with a ``ToolDeps`` of its own.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations (and the ``Resolve(...)`` markers in them) at registration.
"""

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, ListRoots, Resolve
from mcp.types import ListRootsResult, ToolAnnotations
from pydantic import Field

from myo_retarget._formats import ROTATIONS, TRACKER_EXTENSIONS
from myo_retarget._subject import HEIGHT_RANGE_M, WEIGHT_RANGE_KG, height_problem, weight_problem

from ._backend import Backend
from ._config import McpConfig
from ._convert import TERMINAL, job_info
from ._job_watch import log_to
from ._models import JobInfo
from ._paths import RootSource, check_access, choose_roots

__all__ = [
    "DESTRUCTIVE",
    "LOCAL_FILES_NOTE",
    "READ",
    "READ_LOCAL",
    "RECORDING_FORMATS",
    "WRITE",
    "WRITE_LOCAL",
    "AssetId",
    "CharacterId",
    "ClientRoots",
    "Deps",
    "Height",
    "JobId",
    "Limit",
    "MocapScale",
    "Offset",
    "Progress",
    "Rotation",
    "Scaling",
    "SubjectGender",
    "ToolDeps",
    "ToolSpec",
    "Weight",
    "check_subject",
    "check_tracker_options",
    "given",
    "with_title",
]

#: Appended to the description of every tool that reads or writes local files.
LOCAL_FILES_NOTE = (
    "Local paths must lie inside the allowed directories (by default the user's home directory "
    "only; list_allowed_directories shows them)."
)


@dataclass(frozen=True)
class ToolDeps:
    """What the tools work with: the backend, the settings, and the allowed-directories checks.

    Attributes:
        backend: Where the tools send their requests (the caller starts and closes it).
        config: Settings (allowed directories, read-only mode, call budget).
    """

    backend: Backend
    config: McpConfig

    def roots_and_source(self, roots: ListRootsResult | None) -> tuple[list[Path], RootSource]:
        """The allowed directories, given the client's roots (if any), and where they come from."""
        uris = [str(r.uri) for r in roots.roots] if roots is not None else None
        return choose_roots(self.config.allow_dirs, uris)

    def allowed_roots(self, roots: ListRootsResult | None) -> list[Path]:
        """The allowed directories, given the client's roots (if any)."""
        return self.roots_and_source(roots)[0]

    def local_path(self, path: str, roots: ListRootsResult | None) -> Path:
        """``path`` resolved, if inside the allowed directories (else AccessDeniedError)."""
        return check_access(path, self.allowed_roots(roots))

    def local_file(self, path: str, roots: ListRootsResult | None) -> Path:
        """Like ``local_path``, and the path must be an existing file (else FileNotFoundError)."""
        file = self.local_path(path, roots)
        if not file.is_file():
            what = "a directory, not a file" if file.is_dir() else "no such file"
            raise FileNotFoundError(f"{str(file)!r}: {what}")
        return file

    async def poll_job(
        self,
        job_id: str,
        timeout_s: float,
        progress: "Progress",
        span: tuple[float, float] = (0.0, 100.0),
    ) -> tuple[JobInfo, float]:
        """``jobs.wait`` for ``job_id`` at most ``timeout_s``, reporting progress in ``span``.

        Returns the job as last seen (finished or not) and the seconds waited.
        """
        from myosdk import JobTimeoutError

        client = await self.backend.client()
        lo, hi = span
        poll_interval = 0.25 if self.config.backend == "local" else 1.0

        async def report(raw: Mapping[str, Any]) -> None:
            job = job_info(raw)
            await progress.status(job)
            fraction = 1.0 if job.status in TERMINAL else (job.progress or 0.0)
            await progress(
                lo + (hi - lo) * fraction,
                f"job {job.status.lower()}"
                + (f" {job.progress:.0%}" if job.progress is not None else ""),
            )

        started = time.monotonic()
        try:
            last = await client.jobs.wait(job_id, poll_interval, timeout_s, on_progress=report)
        except JobTimeoutError as exc:
            last = exc.job
        return job_info(last), time.monotonic() - started


def _tool_deps(ctx: Context[Any, Any]) -> ToolDeps:
    """The dependencies of the server running the call (``MyoMCPServer.tool_deps``)."""
    deps = getattr(ctx.mcp_server, "tool_deps", None)
    if not isinstance(deps, ToolDeps):
        raise RuntimeError("myo_mcp tools run on the server build_server makes")
    return deps


def _client_roots(ctx: Context[Any, Any]) -> ListRoots | None:
    """Ask the client for its roots when it offers them (the file tools' allowed directories)."""
    caps = ctx.client_capabilities
    return ListRoots() if caps is not None and caps.roots is not None else None


Deps = Annotated[ToolDeps, Resolve(_tool_deps)]
ClientRoots = Annotated[ListRootsResult | None, Resolve(_client_roots)]


@dataclass(frozen=True)
class ToolSpec:
    """A tool function and how it is registered.

    Attributes:
        fn: The tool; its name is the tool's, its docstring the description.
        annotations: Its hints and title.
        local_files: Whether it takes local paths (its description then says where they may lie).
        meta: The tool's ``_meta`` (e.g. an MCP App's ``{"ui": {"resourceUri": ...}}``).
    """

    fn: Callable[..., Any]
    annotations: ToolAnnotations
    local_files: bool = False
    meta: dict[str, Any] | None = None


# -- annotations ---------------------------------------------------------------------------
READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
READ_LOCAL = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)
WRITE_LOCAL = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True)


def with_title(annotations: ToolAnnotations, title: str) -> ToolAnnotations:
    """``annotations`` with a title."""
    return annotations.model_copy(update={"title": title})


# -- parameters shared by several tools ------------------------------------------------------------
AssetId = Annotated[
    str, Field(description="An asset id (from upload_asset, list_assets or a job's output).")
]
JobId = Annotated[str, Field(description="A job id (from start_retarget or list_jobs).")]
CharacterId = Annotated[str, Field(description="A character id (from list_characters).")]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size (1-100).")]
Offset = Annotated[int, Field(ge=0, description="Items to skip (from next_offset).")]
Gender = Literal["male", "female"]
# The ranges are published in the schema but checked by the tools (check_subject), so that a
# height of 180 is answered in the user's words rather than with a schema-validation dump.
Height = Annotated[
    float | None,
    Field(
        description="Subject height in metres, e.g. 1.80 (scales the character).",
        json_schema_extra={"minimum": HEIGHT_RANGE_M[0], "maximum": HEIGHT_RANGE_M[1]},
    ),
]
Weight = Annotated[
    float | None,
    Field(
        description="Subject weight in kg.",
        json_schema_extra={"minimum": WEIGHT_RANGE_KG[0], "maximum": WEIGHT_RANGE_KG[1]},
    ),
]
SubjectGender = Annotated[Gender | None, Field(description="Subject gender (default male).")]
Scaling = Annotated[bool | None, Field(description="Scale the character to the subject (default).")]

#: The recordings the engine reads, as the tools' descriptions name them: ".c3d/.trc/.csv/.parquet".
RECORDING_FORMATS = "/".join(TRACKER_EXTENSIONS)
# The schema states the names and the bound; the tools check them (check_tracker_options), so
# that a wrong value is answered in the user's words before anything is uploaded.
_RotationName = Annotated[str, Field(json_schema_extra={"enum": list(ROTATIONS)})]
Rotation = Annotated[
    _RotationName | None,
    Field(description="Vertical axis +Y: yup_to_zup, -Y: ydown_to_zup; default: detected."),
]
_Positive = Annotated[float, Field(json_schema_extra={"exclusiveMinimum": 0})]
MocapScale = Annotated[
    _Positive | None,
    Field(description="Units per metre of a .csv/.parquet table (default 1000: mm)."),
]


def check_subject(height: float | None, weight: float | None) -> None:
    """Refuse a height or weight out of range with the engine's message (ValueError)."""
    for problem in (
        height is not None and height_problem(height),
        weight is not None and weight_problem(weight),
    ):
        if problem:
            raise ValueError(problem)


def check_tracker_options(rotation: str | None, mocap_scale: float | None) -> None:
    """Refuse an unknown rotation or a scale that is not a positive number (ValueError)."""
    if rotation is not None and rotation not in ROTATIONS:
        names = " or ".join(f"'{name}' (vertical axis {axis})" for name, axis in ROTATIONS.items())
        raise ValueError(
            f"unknown rotation {rotation!r}: use {names}, or omit it to detect the vertical axis"
        )
    if mocap_scale is not None and not (math.isfinite(mocap_scale) and mocap_scale > 0):
        raise ValueError(
            f"mocap_scale must be a number > 0, a table's units per metre (1000 for millimetres, "
            f"1 for metres), not {mocap_scale!r}"
        )


def given(**options: Any) -> dict[str, Any]:
    """The options a tool call set; the SDK's defaults (the default humanoid, scaling on, male)
    stand for the others."""
    return {k: v for k, v in options.items() if v is not None and v != ""}


class Progress:
    """Progress notifications of one tool call, out of 100; the value only ever increases
    (the protocol requires it), so repeats and step-backs are not sent."""

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self._ctx = ctx
        self._last = -1.0
        self._status: str | None = None

    async def status(self, job: JobInfo) -> None:
        """An info log message when ``job``'s status differs from the last one seen."""
        if job.status != self._status:
            self._status = job.status
            await log_to(self._ctx, "info", f"Job {job.job_id} is {job.status}.")

    async def __call__(self, value: float, message: str) -> None:
        if value > self._last:
            self._last = value
            await self._ctx.report_progress(value, 100.0, message)
