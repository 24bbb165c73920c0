"""Job leases: a worker keeps its running job by renewing its lease; the jobs of a host that
stopped renewing run elsewhere, and no host takes another's live worker for dead."""

from __future__ import annotations

from pathlib import Path

import myo_retarget
from myo_server import LocalServer
from myo_server._metadata import open_metadata_store
from myo_server.testing import new_tenant_client, upload_path, wait_for, wait_job

from .records import queued_job

MARKERSETS = Path(myo_retarget.__file__).parent / "data" / "markersets"


def test_a_job_running_on_another_host_is_left_to_its_lease(
    tmp_path: Path, postgres_url: str
) -> None:
    """Host B shares the database with host A, not A's lock files: B must not take A's live
    worker for dead (it re-queued A's running job at once), only re-queue the job once A stops
    renewing its lease."""
    store = open_metadata_store(postgres_url)
    try:
        alive, dead = queued_job(), queued_job()
        dead.created_at = alive.created_at + 1
        store.create_job(alive)
        store.create_job(dead)
        assert store.claim_job("hostA-1", lease_s=600) is not None  # renewed by a live worker
        assert store.claim_job("hostA-2", lease_s=1) is not None  # its host stopped
        with LocalServer(data_dir=tmp_path / "hostB", workers=0, database_url=postgres_url):
            wait_for(lambda: store.job_status(dead.job_id) == "QUEUED", timeout=30)
            assert store.job_status(alive.job_id) == "RUNNING"
            got = store.get_job(dead.job_id, None)
            assert got is not None and "stopped renewing its lease" in got.message
    finally:
        store.close()


def test_a_job_longer_than_its_lease_keeps_running_on_its_worker(
    tmp_path: Path, long_recording: Path
) -> None:
    srv = LocalServer(data_dir=tmp_path, workers=1)
    srv.config.job_lease_s = 1.5  # renewed every 0.5 s; the job runs for several seconds
    with srv, new_tenant_client(srv) as client:
        c3d = upload_path(client, long_recording)
        xml = upload_path(client, MARKERSETS / "cmu.xml")
        r = client.post("/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": xml})
        job_id = r.json()["job_id"]
        job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"), timeout=240)
        assert job["status"] == "SUCCEEDED", job
        record = srv.runtime.store.get_job(job_id, None)
        assert record is not None
        assert record.completed_at - record.started_at > 3 * srv.config.job_lease_s  # type: ignore[operator]
        assert record.attempts == 1  # never taken back and run again
