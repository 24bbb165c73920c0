"""Routes of the jobs: ``/v1/runs/retarget`` starts one, ``/v1/jobs`` reads, lists, cancels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ._deps import MAX_OFFSET, Caller, IdempotencyKeyHeader, Jobs, answer_response
from ._jobs_service import job_filters
from ._models import CancelJobResponse, Job, JobList, RetargetRequest, RetargetResponse
from ._openapi import COMMON_ERRORS, ERROR, FULL, TOO_LARGE

router = APIRouter()


@router.post(
    "/v1/runs/retarget",
    status_code=201,
    response_model=RetargetResponse,
    responses={**COMMON_ERRORS, 404: ERROR, 409: ERROR, 413: TOO_LARGE, 507: FULL},
    tags=["jobs"],
)
async def start_retarget(
    body: RetargetRequest,
    p: Caller,
    jobs: Jobs,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Queue a retarget job (C3D + markerset -> joint angles .npz on a character)."""
    return answer_response(await jobs.start_retarget(p.tenant_id, body, idempotency_key))


@router.get(
    "/v1/jobs/{job_id}",
    response_model=Job,
    responses={**COMMON_ERRORS, 404: ERROR},
    tags=["jobs"],
)
async def get_job(job_id: str, p: Caller, jobs: Jobs) -> Response:
    """A job's status, progress, error and outputs (with presigned download URLs)."""
    # The hottest route (clients poll it): serialised once, without FastAPI's re-validation.
    return Response(jobs.get_json(p.tenant_id, job_id), media_type="application/json")


@router.get("/v1/jobs", response_model=JobList, responses=COMMON_ERRORS, tags=["jobs"])
async def list_jobs(
    p: Caller,
    jobs: Jobs,
    status: Annotated[
        list[str] | None, Query(description="Repeatable (or comma-separated)")
    ] = None,
    statuses: Annotated[
        list[str] | None, Query(description="The same as status (the vendor's newer SDKs)")
    ] = None,
    type: Annotated[list[str] | None, Query(description="Repeatable")] = None,
    created_after: str | None = Query(
        default=None, description="ISO 8601", json_schema_extra={"format": "date-time"}
    ),
    created_before: str | None = Query(
        default=None, description="ISO 8601", json_schema_extra={"format": "date-time"}
    ),
    run_id: str | None = Query(default=None),
    has_output: bool | None = Query(default=None),
    input_asset_id: str | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=100),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> JobList:
    """The tenant's jobs, newest first."""
    either = [*(status or []), *(statuses or [])] or None
    filters = job_filters(
        either, type, created_after, created_before, run_id, has_output, input_asset_id
    )
    return jobs.list_jobs(p.tenant_id, filters, limit, offset)


@router.delete(
    "/v1/jobs/{job_id}",
    response_model=CancelJobResponse,
    responses={**COMMON_ERRORS, 404: ERROR, 409: ERROR, 507: FULL},
    tags=["jobs"],
)
async def cancel_job(job_id: str, p: Caller, jobs: Jobs) -> CancelJobResponse:
    """Cancel a QUEUED or RUNNING job (a running one stops within a second)."""
    return jobs.cancel(p.tenant_id, job_id)
