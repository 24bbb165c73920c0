"""The service layer beneath the routes, used without HTTP: what it answers and what it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from myo_server._assets_service import AssetService
from myo_server._auth import create_tenant
from myo_server._config import ServerConfig
from myo_server._errors import ServiceError
from myo_server._jobs_service import JobService, job_filters
from myo_server._models import InitiateUploadRequest, RetargetRequest
from myo_server._runtime import ServerRuntime


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[ServerRuntime]:
    runtime = ServerRuntime(ServerConfig(data_dir=tmp_path / "data", workers=0))
    runtime.open()
    runtime.listen_url = "http://127.0.0.1:9"  # never dialled: only the base of presigned URLs
    try:
        yield runtime
    finally:
        runtime.close()


def test_an_initiate_is_replayed_for_its_key_and_refused_with_another_body(
    rt: ServerRuntime,
) -> None:
    assets = AssetService(rt)
    tenant = create_tenant(rt.store, "t")
    body = InitiateUploadRequest(purpose="retarget", filename="walk.c3d", expected_size_bytes=10)
    first = assets.initiate(tenant, body, "key-1")
    assert (first.status_code, first.replayed) == (201, False)
    again = assets.initiate(tenant, body, "key-1")
    assert (again.status_code, again.replayed) == (201, True)
    assert json.loads(again.body)["asset_id"] == json.loads(first.body)["asset_id"]
    other = InitiateUploadRequest(purpose="retarget", filename="run.c3d")
    with pytest.raises(ServiceError) as refused:
        assets.initiate(tenant, other, "key-1")
    assert refused.value.status_code == 409


def test_a_job_on_an_asset_without_its_file_is_refused_naming_the_asset(
    rt: ServerRuntime,
) -> None:
    tenant = create_tenant(rt.store, "t")
    answer = AssetService(rt).initiate(
        tenant, InitiateUploadRequest(purpose="retarget", filename="walk.c3d"), None
    )
    asset_id = json.loads(answer.body)["asset_id"]
    with pytest.raises(ServiceError) as refused:
        AssetService(rt).complete(tenant, asset_id)
    assert refused.value.status_code == 400
    assert f"No file has been uploaded for asset {asset_id}" in refused.value.detail
    body = RetargetRequest(c3d_asset_id=asset_id, markerset_asset_id=asset_id)
    with pytest.raises(ServiceError) as unknown:
        JobService(rt).get_json(tenant, "no-such-job")
    assert unknown.value.status_code == 404
    with pytest.raises(ServiceError) as pending:
        anyio.run(JobService(rt).start_retarget, tenant, body, None)
    assert pending.value.status_code == 400
    assert f"C3D asset {asset_id} is not completed (status pending)" in pending.value.detail


def test_job_filters_refuse_an_unknown_status_and_a_bad_date() -> None:
    with pytest.raises(ServiceError, match="Unknown status 'DONE'"):
        job_filters(["done"], None, None, None, None, None, None)
    with pytest.raises(ServiceError, match="created_after must be an ISO 8601"):
        job_filters(None, None, "yesterday", None, None, None, None)
    filters = job_filters(["queued,running"], ["retarget"], None, None, None, None, None)
    assert filters.statuses == ["QUEUED", "RUNNING"]
