"""The job tools: start a retarget job, get, wait for, list and cancel jobs.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from ._convert import (
    TERMINAL,
    job_info,
    job_next_step,
    paging,
)
from ._errors import tool_errors
from ._models import CanceledJob, JobInfo, JobPage, JobWait, StartedJob
from ._tooling import (
    DESTRUCTIVE,
    READ,
    RECORDING_FORMATS,
    WRITE,
    Deps,
    Height,
    JobId,
    Limit,
    MocapScale,
    Offset,
    Progress,
    Rotation,
    Scaling,
    SubjectGender,
    ToolSpec,
    Weight,
    check_subject,
    check_tracker_options,
    given,
    with_title,
)

__all__ = [
    "READ_TOOLS",
    "WAIT_CAP_S",
    "WRITE_TOOLS",
    "cancel_job",
    "get_job",
    "list_jobs",
    "start_retarget",
    "wait_for_job",
]

#: The longest wait_for_job waits in one call (seconds), well inside clients' request timeouts.
WAIT_CAP_S = 50.0


async def get_job(deps: Deps, job_id: JobId) -> JobInfo:
    """Status of a job now (no waiting): progress while RUNNING, output asset once SUCCEEDED,
    error once FAILED. To wait for it, use wait_for_job."""
    with tool_errors(deps.backend, f"get job {job_id}"):
        client = await deps.backend.client()
        return job_info(await client.jobs.get(job_id))


async def wait_for_job(
    deps: Deps,
    job_id: JobId,
    ctx: Context[Any, Any],
    timeout_s: Annotated[
        float,
        Field(ge=0, description=f"Seconds to wait at most (capped at {WAIT_CAP_S:.0f})."),
    ] = 25.0,
) -> JobWait:
    """Wait until a job ends or timeout_s passes, sending progress notifications.

    Returns the job whatever its state; done=false means it is still running: call
    wait_for_job again. Once SUCCEEDED, download_asset(job.output_asset_id, ...) saves it.
    """
    with tool_errors(deps.backend, f"wait for job {job_id}"):
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
        Field(description="Only jobs in these statuses."),
    ] = None,
    job_type: Annotated[
        str | None, Field(description="Only jobs of this type ('retarget').")
    ] = None,
    created_after: Annotated[
        str | None, Field(description="ISO 8601 time, e.g. 2026-01-31T12:00:00Z.")
    ] = None,
    created_before: Annotated[str | None, Field(description="ISO 8601 time.")] = None,
    has_output: Annotated[
        bool | None, Field(description="Only jobs with (or without) an output.")
    ] = None,
    input_asset_id: Annotated[
        str | None, Field(description="Only jobs using this asset as input.")
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> JobPage:
    """List retargeting jobs, newest first, with filters; page with offset=next_offset."""
    with tool_errors(deps.backend, "list jobs"):
        client = await deps.backend.client()
        page = await client.jobs.list(
            status=status,
            job_type=job_type,
            created_after=created_after,
            created_before=created_before,
            has_output=has_output,
            input_asset_id=input_asset_id,
            limit=limit,
            offset=offset,
        )
        return JobPage(
            jobs=[job_info(j) for j in page["jobs"]],
            **paging(page, "jobs"),
        )


async def start_retarget(
    deps: Deps,
    c3d_asset_id: Annotated[
        str, Field(description=f"The uploaded recording ({RECORDING_FORMATS}).")
    ],
    markerset_asset_id: Annotated[str, Field(description="The uploaded markerset XML.")],
    character_id: Annotated[
        str | None, Field(description="Character; default: the built-in humanoid.")
    ] = None,
    character_version: Annotated[
        str | None, Field(description="A READY version; default v1.0.0.")
    ] = None,
    mocap_scale: MocapScale = None,
    rotation: Rotation = None,
    enable_scaling: Scaling = None,
    subject_gender: SubjectGender = None,
    subject_height: Height = None,
    subject_weight: Weight = None,
    metadata: Annotated[
        dict[str, Any] | None, Field(description="Small JSON metadata for the job.")
    ] = None,
) -> StartedJob:
    """Start retargeting an uploaded recording onto a character; returns at once with a job id.

    Next: wait_for_job(job_id) until done, then download_asset the output.
    """
    with tool_errors(deps.backend, "start the retarget job"):
        check_subject(subject_height, subject_weight)
        check_tracker_options(rotation, mocap_scale)
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
                rotation=rotation,
                mocap_scale=mocap_scale,
            ),
        )
        job = job_info(await client.jobs.get(started["job_id"]))
        return StartedJob(
            job=job, next_step=f"wait_for_job(job_id='{job.job_id}') until done=true."
        )


async def cancel_job(deps: Deps, job_id: JobId) -> CanceledJob:
    """Cancel a QUEUED or RUNNING job (a finished job cannot be canceled)."""
    with tool_errors(deps.backend, f"cancel job {job_id}"):
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
