"""``jobs.download_outputs`` (sync and async) and ``export_glb`` against a real myo_server."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import pyarrow.parquet as pq
import pytest

import myo_retarget
from myosdk import AsyncClient, Client, RetargetStarted
from myosdk._core import NPZ_OUTPUT, job_outputs

CMU_MARKERSET = Path(myo_retarget.__file__).parent / "data" / "markersets" / "cmu.xml"
pytestmark = pytest.mark.timeout(300)


def _start(client: Client, **options: Any) -> RetargetStarted:
    """Upload the shipped sample and the cmu markerset, start a retarget of them."""
    c3d = client.assets.upload_file(str(myo_retarget.sample_c3d_path()))["asset_id"]
    markerset = client.assets.upload_file(str(CMU_MARKERSET))["asset_id"]
    return client.jobs.start_retarget(c3d_asset_id=c3d, markerset_asset_id=markerset, **options)


def _succeeded_job(client: Client) -> str:
    job_id: str = _start(client)["job_id"]
    final = client.jobs.wait(job_id, interval=0.2, timeout=240)
    assert final["status"] == "SUCCEEDED", final.get("error")
    return job_id


@pytest.fixture(scope="module")
def job(local_server: Any, wait_for_catalog: Callable[[Client], None]) -> str:
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as c:
        wait_for_catalog(c)
        return _succeeded_job(c)


def _check(client: Client, job_id: str, files: dict[str, Path], folder: Path) -> None:
    assert set(files) == {NPZ_OUTPUT, "qpos", "xpos", "model", "viewer"}
    ids = job_outputs(client.jobs.get(job_id))
    for name, path in files.items():
        asset = client.assets.get(ids[name])
        assert path == folder / asset["filename"]  # named after the asset
        data = path.read_bytes()
        assert len(data) == asset["size_bytes"]
        assert hashlib.sha256(data).hexdigest() == asset["checksum_sha256"]
    with np.load(files[NPZ_OUTPUT]) as npz:
        qpos, bodies = npz["qpos"], len(npz["body_names"])
    np.testing.assert_array_equal(pq.read_table(files["qpos"]).to_pandas().iloc[:, 1:], qpos)
    assert mujoco.MjModel.from_binary_path(str(files["model"])).nbody == bodies + 1
    # the viewer page is saved like the rest (a browser opens the file offline)
    assert files["viewer"].suffix == ".html"
    assert files["viewer"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_download_outputs_writes_every_output_verified(
    local_server: Any, job: str, tmp_path: Path
) -> None:
    folder = tmp_path / "new" / "outputs"  # created
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        files = client.jobs.download_outputs(job, folder)
        _check(client, job, files, folder)


@pytest.mark.anyio
async def test_async_download_outputs_writes_the_same_files(
    local_server: Any, job: str, tmp_path: Path
) -> None:
    async with AsyncClient(api_key=local_server.api_key, base_url=local_server.base_url) as ac:
        files = await ac.jobs.download_outputs(job, tmp_path)
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        _check(client, job, files, tmp_path)


def test_download_outputs_of_a_job_not_succeeded_says_to_wait(
    idle_server: Any, wait_for_catalog: Callable[[Client], None], tmp_path: Path
) -> None:
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as client:
        wait_for_catalog(client)
        job_id = _start(client)["job_id"]
        with pytest.raises(ValueError, match=f"job {job_id} is QUEUED.*jobs.wait"):
            client.jobs.download_outputs(job_id, tmp_path / "out")
        assert not (tmp_path / "out").exists()  # nothing written


def test_export_glb_is_sent_and_accepted(
    idle_server: Any, wait_for_catalog: Callable[[Client], None]
) -> None:
    # What the job then writes (the 'motion' GLB) is tested against a server with workers in
    # tests/myo_server/test_server_worker.py.
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as client:
        wait_for_catalog(client)
        started = _start(client, export_glb=True)
        assert started["status"] == "QUEUED"  # accepted (no worker runs it here)
        job = client.jobs.get(started["job_id"])
        assert job["status"] == "QUEUED"
