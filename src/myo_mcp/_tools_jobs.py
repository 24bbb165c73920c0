"""The job tools: start a retarget job, get, wait for, list and cancel jobs.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

import contextlib
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from ._convert import (
    TERMINAL,
    input_ids,
    job_info,
    job_item,
    job_next_step,
    paging,
)
from ._errors import tool_errors
from ._models import CanceledJob, JobInfo, JobPage, JobWait, StartedJob
from ._tooling import (
    DESTRUCTIVE,
    PAGE,
    READ,
    RECORDING_FORMATS,
    WRITE,
    CalibrationWindow,
    Deps,
    FrameRange,
    Height,
    JobId,
    Limit,
    MocapScale,
    Offset,
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
    with_title,
)

__all__ = [
    "READ_TOOLS",
    "WAIT_CAP_S",
    "WRITE_TOOLS",
    "cancel_job",
    "file_names",
    "get_job",
    "list_jobs",
    "start_retarget",
    "wait_for_job",
]

#: The longest wait_for_job waits in one call (seconds), well inside clients' request timeouts.
WAIT_CAP_S = 50.0


async def file_names(deps: Deps, jobs: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The file names of the jobs' input assets, by asset id (a deleted asset: left out)."""
    ids = {i for j in jobs for i in input_ids(j) if i}
    names: dict[str, str] = {}
    client = await deps.backend.client()

    async def name(asset_id: str) -> None:
        # Deleted since, or unreadable: the listing shows the id.
        with contextlib.suppress(Exception):
            names[asset_id] = (await client.assets.get(asset_id)).get("filename") or asset_id

    async with anyio.create_task_group() as tg:
        for asset_id in ids:
            tg.start_soon(name, asset_id)
    return names


async def get_job(deps: Deps, job_id: JobId) -> JobInfo:
    """A job now: status, input files, output asset or error. To wait: wait_for_job."""
    with tool_errors(deps.backend, f"get job {job_id}", "list_jobs"):
        client = await deps.backend.client()
        raw = await client.jobs.get(job_id)
        return job_info(raw, await file_names(deps, [raw]))


async def wait_for_job(
    deps: Deps,
    job_id: JobId,
    ctx: Context[Any, Any],
    timeout_s: Annotated[
        float,
        Field(ge=0, description=f"At most {WAIT_CAP_S:.0f}."),
    ] = 25.0,
) -> JobWait:
    """Wait until a job ends or timeout_s passes. done=false: call again."""
    with tool_errors(deps.backend, f"wait for job {job_id}", "list_jobs"):
        job, waited = await deps.poll_job(job_id, min(timeout_s, WAIT_CAP_S), Progress(ctx))
        return JobWait(
            job=job,
            done=job.status in TERMINAL,
            waited_s=round(waited, 2),
            next_step=job_next_step(job),
        )


async def list_jobs(
    deps: Deps,
    status: Annotated[
        list[Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"]] | None,
        Field(description="Only these statuses."),
    ] = None,
    created_after: Annotated[str | None, Field(description="ISO 8601.")] = None,
    created_before: Annotated[str | None, Field(description="ISO 8601.")] = None,
    has_output: Annotated[bool | None, Field(description="With (or without) an output.")] = None,
    input_asset_id: Annotated[str | None, Field(description="Using this asset as input.")] = None,
    limit: Limit = PAGE,
    offset: Offset = 0,
) -> JobPage:
    """List jobs, newest first: id, status, input files, age, error. Details: get_job."""
    with tool_errors(deps.backend, "list jobs"):
        client = await deps.backend.client()
        page = await client.jobs.list(
            status=status,
            created_after=created_after,
            created_before=created_before,
            has_output=has_output,
            input_asset_id=input_asset_id,
            limit=limit,
            offset=offset,
        )
        names = await file_names(deps, page["jobs"])
        return JobPage(jobs=[job_item(j, names) for j in page["jobs"]], **paging(page, "jobs"))


async def start_retarget(
    deps: Deps,
    c3d_asset_id: Annotated[
        str, Field(description=f"The uploaded recording ({RECORDING_FORMATS}).")
    ],
    markerset_asset_id: Annotated[str, Field(description="The uploaded markerset XML.")],
    character_id: Annotated[
        str | None, Field(description="Default: the built-in humanoid.")
    ] = None,
    character_version: Annotated[
        str | None, Field(description="A READY version; default v1.0.0.")
    ] = None,
    mocap_scale: MocapScale = None,
    vertical_axis: VerticalAxis = None,
    frame_range: FrameRange = None,
    calibration_window: CalibrationWindow = None,
    enable_scaling: Scaling = None,
    subject_gender: SubjectGender = None,
    subject_height: Height = None,
    subject_weight: Weight = None,
    metadata: Annotated[dict[str, Any] | None, Field(description="Small JSON object.")] = None,
) -> StartedJob:
    """Start retargeting uploaded files; returns at once. Next: wait_for_job."""
    with tool_errors(deps.backend, "start the retarget job", "list_assets"):
        check_subject(subject_height, subject_weight)
        check_engine_options(vertical_axis, mocap_scale, frame_range, calibration_window)
        client = await deps.backend.client()
        started = await client.jobs.start_retarget(
            c3d_asset_id=c3d_asset_id,
            markerset_asset_id=markerset_asset_id,
            **given(
                character_id=character_id,
                character_version=character_version,
                enable_scaling=enable_scaling,
                subject_gender=subject_gender,
                subject_height=subject_height,
                subject_weight=subject_weight,
                metadata=metadata,
                mocap_scale=mocap_scale,
            ),
            **engine_options(vertical_axis, frame_range, calibration_window),
        )
        raw = await client.jobs.get(started["job_id"])
        job = job_item(raw, await file_names(deps, [raw]))
        return StartedJob(
            job=job, next_step=f"wait_for_job(job_id='{job.job_id}') until done=true."
        )


async def cancel_job(deps: Deps, job_id: JobId) -> CanceledJob:
    """Cancel a QUEUED or RUNNING job (a finished job stays as it is)."""
    with tool_errors(deps.backend, f"cancel job {job_id}", "list_jobs"):
        client = await deps.backend.client()
        r = await client.jobs.cancel(job_id)
        return CanceledJob(job_id=r["job_id"], status=r["status"], message=r.get("message"))


#: Registered in every mode, in this order.
READ_TOOLS = (
    ToolSpec(get_job, with_title(READ, "Get a job")),
    ToolSpec(wait_for_job, with_title(READ, "Wait for a job")),
    ToolSpec(list_jobs, with_title(READ, "List jobs")),
)
#: Registered unless the server is read-only.
WRITE_TOOLS = (
    ToolSpec(start_retarget, with_title(WRITE, "Start a retarget job")),
    ToolSpec(cancel_job, with_title(DESTRUCTIVE, "Cancel a job")),
)
