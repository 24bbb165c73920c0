"""Retarget jobs: starting one (input resolution, idempotency, queue estimate), reading, listing
and cancelling them."""

from __future__ import annotations

import math

from myo_retarget import export_formats
from myo_retarget._export import EXPORT_FORMATS

from ._characters_service import CharacterService
from ._checks import check_metadata
from ._errors import ServiceError
from ._idempotency import Answer, begin
from ._models import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    CancelJobResponse,
    JobList,
    RetargetRequest,
    RetargetResponse,
)
from ._presenters import job_model, storage_key
from ._records import (
    ENGINE_OPTIONS,
    EXPORT_OUTPUTS,
    EXTENSION_OPTIONS,
    JOB_STATUSES,
    JOB_TYPES,
    AssetRecord,
    JobFilters,
    JobRecord,
)
from ._runtime import ServerRuntime
from ._util import new_id, now, parse_iso8601
from ._worker import pyarrow_missing

# The mean job duration assumed before any job has finished (seconds).
_DEFAULT_JOB_SECONDS = 2.0


def requested_exports(body: RetargetRequest) -> list[str]:
    """The exports a retarget request asks for (``export_glb`` is ``glb``), in one order.

    Raises:
        ServiceError: 400 for one this server cannot write (no writer, or no pyarrow).
    """
    asked = set(body.export_formats or ())
    if body.export_glb:
        asked.add("glb")
    if body.export_glb and "glb" not in export_formats():
        raise ServiceError(400, "export_glb is not supported by the local server: omit it")
    engine = export_formats()
    for name in EXPORT_OUTPUTS:
        if name not in asked:
            continue
        if name in EXPORT_FORMATS and name not in engine:
            raise ServiceError(
                400, f"export_formats: this server's engine cannot write {name}; omit it"
            )
        problem = pyarrow_missing() if name == "parquet" else None
        if problem:
            raise ServiceError(400, f"export_formats: parquet cannot be written: {problem}")
    return [name for name in EXPORT_OUTPUTS if name in asked]


def _choices(values: list[str] | None, allowed: tuple[str, ...], what: str) -> list[str] | None:
    """A repeatable, comma-separable query parameter, each value one of ``allowed``."""
    chosen = [s.strip() for v in values or [] for s in v.split(",") if s.strip()]
    for s in chosen:
        if s not in allowed:
            raise ServiceError(400, f"Unknown {what} {s!r}: use one of {', '.join(allowed)}")
    return chosen or None


def job_filters(
    status: list[str] | None,
    type: list[str] | None,
    created_after: str | None,
    created_before: str | None,
    run_id: str | None,
    has_output: bool | None,
    input_asset_id: str | None,
) -> JobFilters:
    """The filters of ``GET /v1/jobs`` from its query parameters.

    Raises:
        ServiceError: 400 for an unknown status or type, or a date-time that is not ISO 8601.
    """
    statuses = _choices([v.upper() for v in status or []], JOB_STATUSES, "status")
    types = _choices(type, JOB_TYPES, "job type")
    times: dict[str, float | None] = {}
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        try:
            times[name] = parse_iso8601(value) if value else None
        except ValueError:
            raise ServiceError(
                400, f"{name} must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z"
            ) from None
    return JobFilters(
        statuses=statuses,
        types=types,
        created_after=times["created_after"],
        created_before=times["created_before"],
        run_id=run_id,
        has_output=has_output,
        input_asset_id=input_asset_id,
    )


class JobService:
    """The job operations of one tenant's requests over a runtime's stores and workers.

    Args:
        rt: The server's runtime (metadata store, catalog, worker pool, config).
    """

    def __init__(self, rt: ServerRuntime) -> None:
        self.rt = rt

    def _resolve_input(
        self, tenant: str, role: str, asset_id: str | None, ref: str | None, fields: tuple[str, str]
    ) -> AssetRecord:
        """The completed asset a retarget input names, by id or by ``s3://`` reference.

        Raises:
            ServiceError: 400 for none or both given, or an asset not completed; 404 for an
                unknown one.
        """
        if asset_id and ref:
            raise ServiceError(400, f"Give only one of {fields[0]} and {fields[1]}")
        if not asset_id and not ref:
            raise ServiceError(400, f"{fields[0]} or {fields[1]} is required ({role} input)")
        if asset_id:
            a = self.rt.store.get_asset(asset_id, tenant)
            if a is None:
                raise ServiceError(404, f"{fields[0]}: asset {asset_id} not found")
        else:
            assert ref is not None
            a = self.rt.store.get_asset_by_key(storage_key(self.rt, ref), tenant)
            if a is None:
                raise ServiceError(404, f"{fields[1]}: no object {ref} in your assets")
        if a.status != "completed":
            raise ServiceError(
                400,
                f"{role} asset {a.asset_id} is not completed (status {a.status}): upload its file"
                f" and call POST /v1/assets/{a.asset_id}/complete first",
            )
        return a

    def estimated_wait(self, queued_at: float) -> int:
        """Seconds until a job queued at ``queued_at`` starts: the jobs ahead of it over the
        workers, at the mean duration of recent jobs."""
        ahead = self.rt.store.queue_position(queued_at)
        mean = self.rt.store.mean_job_seconds() or _DEFAULT_JOB_SECONDS
        return math.ceil(ahead / max(1, self.rt.config.workers) * mean)

    async def start_retarget(
        self, tenant: str, body: RetargetRequest, idempotency_key: str | None
    ) -> Answer:
        """Queue a retarget job and wake the workers.

        Raises:
            ServiceError: 400 for bad inputs, 404 for unknown assets or characters, 409 for a
                reused key.
        """
        rt = self.rt
        idem, replay = begin(rt.store, tenant, idempotency_key, "retarget", body)
        if replay is not None:
            return replay
        exports = requested_exports(body)
        if body.c3d_asset_id and body.tracker_asset_id:
            raise ServiceError(400, "Give c3d_asset_id or its alias tracker_asset_id, not both")
        if body.c3d_s3 and body.tracker_s3:
            raise ServiceError(400, "Give c3d_s3 or its alias tracker_s3, not both")
        c3d = self._resolve_input(
            tenant,
            "C3D",
            body.c3d_asset_id or body.tracker_asset_id,
            body.c3d_s3 or body.tracker_s3,
            ("c3d_asset_id", "c3d_s3"),
        )
        markerset = self._resolve_input(
            tenant,
            "markerset",
            body.markerset_asset_id,
            body.markerset_s3,
            ("markerset_asset_id", "markerset_s3"),
        )
        character_id = body.character_id or DEFAULT_CHARACTER_ID
        character_version = body.character_version or DEFAULT_CHARACTER_VERSION
        chosen = await CharacterService(rt).find_version(character_id, character_version)
        if chosen.status != "READY":
            raise ServiceError(
                400, f"Character {character_id} {character_version} is not READY ({chosen.message})"
            )
        check_metadata(body.metadata)
        t = now()
        job = JobRecord(
            job_id=new_id(),
            tenant_id=tenant,
            type="retarget",
            status="QUEUED",
            params={
                "c3d_asset_id": c3d.asset_id,
                "markerset_asset_id": markerset.asset_id,
                "c3d_key": c3d.storage_key,
                "markerset_key": markerset.storage_key,
                "c3d_filename": c3d.filename,
                "markerset_filename": markerset.filename,
                "character_id": character_id,
                "character_version": character_version,
                "enable_scaling": body.enable_scaling,
                "subject_gender": body.subject_gender,
                "subject_height": body.subject_height,
                "subject_weight": body.subject_weight,
                "export_glb": body.export_glb,
                "export_formats": exports,
                **{name: getattr(body, name) for name in ENGINE_OPTIONS + EXTENSION_OPTIONS},
            },
            created_at=t,
            updated_at=t,
            run_id=new_id(),
            metadata=body.metadata,
            message="Job queued",
            input_asset_ids=[c3d.asset_id, markerset.asset_id],
        )
        result = RetargetResponse(
            job_id=job.job_id,
            run_id=job.run_id,
            type=job.type,
            status=job.status,
            message="Retarget job queued",
            estimated_wait_time_seconds=self.estimated_wait(t),
        )
        payload = result.model_dump_json()
        answer, queued = idem.created(payload, lambda entry: rt.store.create_job(job, entry))
        if queued:
            rt.notify_job_queued()
        return answer

    def get_json(self, tenant: str, job_id: str) -> str:
        """One job as JSON (the hottest read: clients poll it, so it is serialised once).

        Raises:
            ServiceError: 404 for an unknown job.
        """
        j = self.rt.store.get_job(job_id, tenant)
        if j is None:
            raise ServiceError(404, f"Job {job_id} not found")
        return job_model(self.rt, j).model_dump_json()

    def list_jobs(self, tenant: str, filters: JobFilters, limit: int, offset: int) -> JobList:
        """The tenant's jobs, newest first."""
        items, total = self.rt.store.list_jobs(tenant, filters, limit, offset)
        return JobList(
            jobs=[job_model(self.rt, j) for j in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    def cancel(self, tenant: str, job_id: str) -> CancelJobResponse:
        """Cancel a QUEUED or RUNNING job (a running one stops within a second).

        Raises:
            ServiceError: 404 for an unknown job, 409 for a finished one.
        """
        outcome, j = self.rt.store.cancel_job(job_id, tenant)
        if outcome == "not_found" or j is None:
            raise ServiceError(404, f"Job {job_id} not found")
        if outcome == "finished":
            raise ServiceError(
                409,
                f"Job {job_id} already finished ({j.status}); only QUEUED or RUNNING jobs"
                " can be canceled",
            )
        return CancelJobResponse(job_id=j.job_id, type=j.type, status=j.status, message=j.message)
