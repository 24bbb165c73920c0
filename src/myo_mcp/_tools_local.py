"""The tools over local files: allowed directories, inspect a recording (C3D, TRC, CSV/parquet
trackers table), summarize a motion, and retarget a recording in one call.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

import base64
import contextlib
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from myo_retarget import SHIPPED_MARKERSETS

from . import _analysis
from ._convert import asset_uri, downloaded, inspection
from ._errors import tool_errors
from ._models import (
    AllowedDirectories,
    C3DInspection,
    ExportedFile,
    FailedExport,
    MotionSummary,
    RetargetResult,
)
from ._paths import RootSource, resolve_path, shipped_markerset_file
from ._tooling import (
    READ_LOCAL,
    RECORDING_FORMATS,
    WRITE,
    CalibrationWindow,
    ClientRoots,
    Deps,
    FrameRange,
    Height,
    MocapScale,
    Progress,
    Scaling,
    SubjectGender,
    ToolSpec,
    VerticalAxis,
    Weight,
    check_engine_options,
    check_subject,
    engine_options,
    given,
    text_view,
    with_title,
)
from ._tools_export import ExportFormatName, write_export

__all__ = [
    "READ_TOOLS",
    "ROOTS_HOW_TO_CHANGE",
    "WRITE_TOOLS",
    "inspect_c3d",
    "list_allowed_directories",
    "motion_file",
    "retarget_motion",
    "summarize_motion",
]

log = logging.getLogger("myo_mcp")

#: What list_allowed_directories says about each source of the allowed directories.
ROOTS_HOW_TO_CHANGE: dict[RootSource, str] = {
    "allow-dir": "Set when myo-mcp was started (--allow-dir / MYO_MCP_ALLOW_DIRS); the user "
    "changes them in the MCP client's configuration of this server.",
    "client-roots": "The roots the MCP client shares with this server: the user changes them in "
    "the client, or starts myo-mcp with --allow-dir DIR.",
    "home-default": "Neither --allow-dir / MYO_MCP_ALLOW_DIRS nor client roots were given: the "
    "user's home directory only. To use other directories, the user adds --allow-dir DIR to "
    "myo-mcp's arguments in the MCP client's configuration.",
}


async def list_allowed_directories(deps: Deps, roots: ClientRoots) -> AllowedDirectories:
    """The local directories the tools may use, and why; for an 'outside the directories' error."""
    found, source = deps.roots_and_source(roots)
    return AllowedDirectories(
        directories=[str(resolve_path(r)) for r in found],
        source=source,
        writable=not deps.config.read_only,
        how_to_change=ROOTS_HOW_TO_CHANGE[source],
    )


async def inspect_c3d(
    deps: Deps,
    path: Annotated[str, Field(description=f"Local recording ({RECORDING_FORMATS}).")],
    roots: ClientRoots,
    mocap_scale: MocapScale = None,
    vertical_axis: VerticalAxis = None,
) -> C3DInspection:
    """Describe a local recording: labels, frames, rate, units, vertical axis, gaps, and which
    shipped markerset fits. Then follow its next_step."""
    with tool_errors(deps.backend, f"inspect {path}"):
        check_engine_options(vertical_axis, mocap_scale)
        file = deps.local_file(path, roots)
        try:
            info = await anyio.to_thread.run_sync(
                _analysis.inspect_recording, file, mocap_scale, vertical_axis
            )
        except _analysis.RecordingError as exc:
            # The engine's reason says what to do for a table; a C3D's says what is wrong.
            hint = (
                " Check that it is a .c3d file (not truncated)."
                if file.suffix.lower() == ".c3d"
                else ""
            )
            raise ToolError(
                f"Cannot read {file.name} as {_analysis.recording_kind(file)}: "
                f"{str(exc).rstrip('.')}.{hint}"
            ) from None
        return inspection(file, info, mocap_scale, vertical_axis)


async def summarize_motion(
    deps: Deps,
    roots: ClientRoots,
    asset_id: Annotated[str | None, Field(description="A job's output asset (.npz).")] = None,
    path: Annotated[str | None, Field(description="Or a local .npz file.")] = None,
    joints: Annotated[
        list[str] | None,
        Field(
            description="Joints to report and plot (8 at most), e.g. ['knee_flex_r']; "
            "default: hip/knee/ankle flexions."
        ),
    ] = None,
) -> Annotated[CallToolResult, MotionSummary]:
    """Summarize a motion (asset_id or path): joint ranges (degrees), fit residuals, a PNG
    plot. Joints: hip_flex_r, knee_flex_l, ankle_flex, shoulder_flex, elbow_flex, lumbar_flex."""
    with tool_errors(deps.backend, "summarize the motion", "list_assets"):
        async with motion_file(deps, roots, asset_id, path) as (file, source):
            try:
                figures, png = await anyio.to_thread.run_sync(_analysis.summarize_npz, file, joints)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
        # The engine's note repeats unmarked_bodies and unobserved_joints in words.
        summary = MotionSummary(source=source, **{k: v for k, v in figures.items() if k != "note"})
        data = summary.model_dump(mode="json")
        return CallToolResult(
            content=[
                TextContent(type="text", text=text_view(data)),
                ImageContent(
                    type="image", data=base64.b64encode(png).decode(), mime_type="image/png"
                ),
            ],
            structured_content=data,
        )


@contextlib.asynccontextmanager
async def motion_file(
    deps: Deps, roots: ClientRoots, asset_id: str | None, path: str | None
) -> AsyncIterator[tuple[Path, str]]:
    """The motion .npz a tool was given, as a local file and a name for it: a local ``path``
    (inside the allowed directories), or the asset ``asset_id`` downloaded to a temporary file
    for the ``async with`` block.

    Raises:
        ToolError: Not exactly one of them is given.
    """
    if (asset_id is None) == (path is None):
        raise ToolError("Give exactly one of asset_id or path.")
    if path is not None:
        file = deps.local_file(path, roots)
        yield file, str(file)
        return
    assert asset_id is not None
    with tempfile.TemporaryDirectory(prefix="myo-mcp-") as tmp:
        client = await deps.backend.client()
        got = await client.assets.download(asset_id, Path(tmp) / "motion.npz")
        yield Path(got["path"]), asset_uri(asset_id)


async def retarget_motion(
    deps: Deps,
    c3d_path: Annotated[str, Field(description=f"Local recording ({RECORDING_FORMATS}).")],
    markerset: Annotated[
        str,
        Field(
            description="A shipped markerset's name or myo://markersets/ URI (inspect_c3d "
            "tells which fits), or a markerset .xml path."
        ),
    ],
    ctx: Context[Any, Any],
    roots: ClientRoots,
    output_path: Annotated[
        str | None,
        Field(description="The .npz to write; default: beside the recording."),
    ] = None,
    mocap_scale: MocapScale = None,
    vertical_axis: VerticalAxis = None,
    frame_range: FrameRange = None,
    calibration_window: CalibrationWindow = None,
    subject_gender: SubjectGender = None,
    subject_height: Height = None,
    subject_weight: Weight = None,
    enable_scaling: Scaling = None,
    formats: Annotated[
        list[ExportFormatName] | None,
        Field(description="Also write these formats beside the .npz (see export_motion)."),
    ] = None,
) -> RetargetResult:
    """Retarget a local recording in one call (upload, job, wait, save the .npz beside it).
    done=false: the job outlasted the call; follow next_step."""
    with tool_errors(deps.backend, f"retarget {c3d_path}"):
        check_subject(subject_height, subject_weight)
        check_engine_options(vertical_axis, mocap_scale, frame_range, calibration_window)
        started_at = time.monotonic()
        recording = deps.local_file(c3d_path, roots)
        ms_file = shipped_markerset_file(markerset)
        if ms_file is None and "/" not in markerset and not markerset.lower().endswith(".xml"):
            raise ToolError(
                f"Unknown markerset {markerset!r}: the shipped ones are "
                f"{', '.join(SHIPPED_MARKERSETS)}; otherwise pass the path of "
                "a markerset .xml file."
            )
        if ms_file is None:
            ms_file = deps.local_file(markerset, roots)
        out = deps.local_path(output_path or str(recording.with_suffix(".npz")), roots)
        client = await deps.backend.client()
        progress = Progress(ctx)
        await progress(0, f"uploading {recording.name}")
        c3d_up = await client.assets.upload_file(recording, reuse=True)
        await progress(5, f"uploading markerset {ms_file.name}")
        ms_up = await client.assets.upload_file(ms_file, reuse=True)
        started = await client.jobs.start_retarget(
            c3d_asset_id=c3d_up["asset_id"],
            markerset_asset_id=ms_up["asset_id"],
            **given(
                enable_scaling=enable_scaling,
                subject_gender=subject_gender,
                subject_height=subject_height,
                subject_weight=subject_weight,
                mocap_scale=mocap_scale,
            ),
            **engine_options(vertical_axis, frame_range, calibration_window),
        )
        budget = deps.config.call_budget_s - (time.monotonic() - started_at) - 3.0
        job, _ = await deps.poll_job(started["job_id"], max(1.0, budget), progress, (10, 95))
        common: dict[str, Any] = {
            "job_id": job.job_id,
            "status": job.status,
            "message": job.message,
            "c3d_asset_id": c3d_up["asset_id"],
            "markerset_asset_id": ms_up["asset_id"],
        }
        if job.status in ("FAILED", "CANCELED"):
            raise ToolError(
                f"Retarget job {job.job_id} {job.status}: {job.error or job.message}. "
                f"inspect_c3d(path='{recording}') checks the file and which markerset fits; "
                "fix the inputs and try again."
            )
        if job.status != "SUCCEEDED":
            return RetargetResult(
                done=False,
                next_step=f"Still {job.status}: call wait_for_job(job_id='{job.job_id}'), "
                f"then download_asset(asset_id=<output_asset_id>, destination='{out}')"
                + (", then export_motion(path=<that .npz>, format=...)." if formats else "."),
                **common,
            )
        assert job.output_asset_id is not None
        await progress(97, "downloading the motion")
        got = await client.assets.download(job.output_asset_id, out)
        exports, failed = await _export_all(deps, roots, Path(got["path"]), formats, progress)
        await progress(100, "done")
        return RetargetResult(
            done=True,
            output=downloaded(job.output_asset_id, got),
            exports=exports,
            failed_exports=failed,
            next_step="summarize_motion(path=output.path) for ranges of motion and a plot, "
            "show_motion to see it move, export_motion for GLB/BVH/.mot/CSV.",
            **common,
        )


async def _export_all(
    deps: Deps,
    roots: ClientRoots,
    npz: Path,
    formats: list[ExportFormatName] | None,
    progress: Progress,
) -> tuple[list[ExportedFile], list[FailedExport]]:
    """Write ``formats`` beside ``npz``; a failed export is reported, never losing the .npz."""
    exports: list[ExportedFile] = []
    failed: list[FailedExport] = []
    for name in dict.fromkeys(formats or ()):
        await progress(98, f"exporting {name}")
        try:
            exports.append(await write_export(deps, roots, npz, name))
        except Exception as exc:  # refused path, writer failure, full disk: said per format
            if not isinstance(exc, ToolError | OSError):
                log.exception("unexpected error while exporting %s as %s", npz, name)
            failed.append(FailedExport(format=name, error=str(exc) or type(exc).__name__))
    return exports, failed


#: Registered in every mode, in this order.
READ_TOOLS = (
    ToolSpec(list_allowed_directories, with_title(READ_LOCAL, "List allowed directories")),
    ToolSpec(inspect_c3d, with_title(READ_LOCAL, "Inspect a recording"), local_files=True),
    ToolSpec(summarize_motion, with_title(READ_LOCAL, "Summarize a motion"), local_files=True),
)
#: Registered unless the server is read-only.
WRITE_TOOLS = (
    ToolSpec(retarget_motion, with_title(WRITE, "Retarget a recording"), local_files=True),
)
