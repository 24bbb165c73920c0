"""Records the metadata tests store: a queued job, a pending upload, a job output."""

from __future__ import annotations

from myo_server._records import AssetRecord, JobRecord
from myo_server._util import new_id, now


def queued_job(job_id: str | None = None, tenant_id: str = "t", **fields: object) -> JobRecord:
    t = now()
    job = JobRecord(
        job_id=job_id or new_id(),
        tenant_id=tenant_id,
        type="retarget",
        status="QUEUED",
        params={},
        created_at=t,
        updated_at=t,
        run_id=new_id(),
    )
    for name, value in fields.items():
        setattr(job, name, value)
    return job


def asset(status: str = "pending", name: str = "a.c3d", purpose: str = "retarget") -> AssetRecord:
    t = now()
    asset_id = new_id()
    return AssetRecord(
        asset_id=asset_id,
        tenant_id="t",
        purpose=purpose,
        filename=name,
        content_type="application/octet-stream",
        storage_key=f"tenants/t/assets/{asset_id}/{name}",
        status=status,
        created_at=t,
        updated_at=t,
    )


def output(name: str) -> AssetRecord:
    return asset("completed", name, "retarget_output")
