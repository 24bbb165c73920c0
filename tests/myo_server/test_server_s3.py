"""The server with its files in an S3 bucket (``--storage-url s3://BUCKET``, the test S3
service) and its metadata in PostgreSQL: clients upload to and download from the bucket
directly, the server and its workers never carry the bytes of an upload."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest

import myo_retarget
from myo_server import LocalServer
from myo_server.testing import initiate, new_tenant_client, post_file, upload_path, wait_job

from ..s3_service import S3Service

MARKERSETS = Path(myo_retarget.__file__).parent / "data" / "markersets"


def _scale_out(tmp_path: Path, database_url: str, storage_url: str, workers: int) -> LocalServer:
    """A server with its metadata in PostgreSQL and its files in the bucket."""
    return LocalServer(
        data_dir=tmp_path / "data",
        workers=workers,
        database_url=database_url,
        storage_url=storage_url,
    )


@pytest.fixture
def bucket(s3_service: S3Service, monkeypatch: pytest.MonkeyPatch) -> str:
    s3_service.use(monkeypatch)  # the server and its workers read the standard AWS variables
    return s3_service.create_bucket()


def test_a_job_runs_with_its_files_in_s3_and_its_metadata_in_postgresql(
    tmp_path: Path, postgres_url: str, bucket: str, s3_service: S3Service
) -> None:
    with (
        _scale_out(tmp_path, postgres_url, f"s3://{bucket}/myo", workers=1) as srv,
        new_tenant_client(srv) as client,
    ):
        info = initiate(client, "walk.c3d", None)
        assert info["upload_url"].startswith(s3_service.endpoint_url)  # the bucket's own form
        c3d = upload_path(client, myo_retarget.sample_c3d_path())
        xml = upload_path(client, MARKERSETS / "cmu.xml")
        asset = client.get(f"/v1/assets/{c3d}").json()
        assert asset["download_url"].startswith(s3_service.endpoint_url)
        got = httpx.get(asset["download_url"], trust_env=False)
        assert got.content == myo_retarget.sample_c3d_path().read_bytes()
        r = client.post("/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": xml})
        job = wait_job(client, r.json()["job_id"], ("SUCCEEDED", "FAILED", "CANCELED"))
        assert job["status"] == "SUCCEEDED", job["error"]
        urls = {name: url for name, url in job["download_urls"].items() if url is not None}
        assert {"retarget_output", "qpos", "model", "viewer"} <= set(urls)
        for name, url in urls.items():
            assert url.startswith(s3_service.endpoint_url), name
        npz = httpx.get(job["download_urls"]["retarget_output"], trust_env=False).content
        assert np.load(io.BytesIO(npz))["qpos"].shape[0] == 412
    keys = [o["Key"] for o in s3_service.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith("myo/") for k in keys)
    assert not [k for k in keys if k.startswith("myo/uploads/")]  # uploads moved on complete
    assert not (tmp_path / "data" / "blobs" / "tenants").exists()  # nothing stored locally


def test_a_file_replaced_after_complete_leaves_the_verified_asset_as_it_was(
    tmp_path: Path, postgres_url: str, bucket: str
) -> None:
    """A presigned form stays valid after complete: a second POST with it must not change the
    verified file (it would serve other bytes than its recorded sha256)."""
    with (
        _scale_out(tmp_path, postgres_url, f"s3://{bucket}", workers=0) as srv,
        new_tenant_client(srv) as client,
    ):
        info = initiate(client, "a.bin", 5)
        assert post_file(info, b"first").status_code == 204
        done = client.post(f"/v1/assets/{info['asset_id']}/complete")
        assert done.status_code == 200, done.text
        assert post_file(info, b"other").status_code == 204  # S3 takes it: the form is valid
        again = client.post(f"/v1/assets/{info['asset_id']}/complete").json()
        assert again["checksum_sha256"] == done.json()["checksum_sha256"]
        url = client.get(f"/v1/assets/{info['asset_id']}").json()["download_url"]
        assert httpx.get(url, trust_env=False).content == b"first"


def test_complete_without_an_upload_or_with_another_size_says_what_to_do(
    tmp_path: Path, postgres_url: str, bucket: str
) -> None:
    with (
        _scale_out(tmp_path, postgres_url, f"s3://{bucket}", workers=0) as srv,
        new_tenant_client(srv) as client,
    ):
        info = initiate(client, "a.bin", 5)
        r = client.post(f"/v1/assets/{info['asset_id']}/complete")
        assert r.status_code == 400 and "No file has been uploaded" in r.json()["detail"]
        assert post_file(info, b"abc").status_code == 204
        r = client.post(f"/v1/assets/{info['asset_id']}/complete")
        assert r.status_code == 400
        assert "has 3 bytes, not the 5 announced" in r.json()["detail"]


def test_ready_says_when_the_storage_or_the_database_is_down(
    tmp_path: Path, postgres_url: str, bucket: str, s3_service: S3Service
) -> None:
    with _scale_out(tmp_path, postgres_url, f"s3://{bucket}", workers=0) as srv:
        ready = httpx.get(srv.base_url + "/ready", trust_env=False)  # no API key needed
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
        s3 = s3_service.client()
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
        down = httpx.get(srv.base_url + "/ready", trust_env=False)
        assert (down.status_code, down.json()["status"]) == (503, "unavailable")
        (problem,) = down.json()["problems"]
        assert problem.startswith("storage:") and "does not exist" in problem
        s3.create_bucket(Bucket=bucket)
        import psycopg

        name = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        down = httpx.get(srv.base_url + "/ready", timeout=60, trust_env=False)
        assert down.status_code == 503
        assert [p.split(":")[0] for p in down.json()["problems"]] == ["database"]
        assert httpx.get(srv.base_url + "/health", trust_env=False).status_code == 200
