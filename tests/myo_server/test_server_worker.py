"""Jobs run by real worker processes with the real engine: the whole flow, bad inputs, cancel,
crashes and restarts."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import mujoco
import numpy as np
import pyarrow.parquet as pq
import pytest

import myo_retarget
from myo_retarget._export import EXPORT_EXTRA_HINT
from myo_server import LocalServer
from myo_server._metadata import SqliteMetadataStore
from myo_server._records import JobRecord
from myo_server._storage import BlobWriter, DirectoryBlobStore, put_file
from myo_server._util import new_id, now
from myo_server._worker import _Context, _store_output, _write_outputs, run_job
from myo_server.testing import (
    new_tenant_client,
    upload,
    upload_path,
    wait_for,
    wait_job,
)
from tests.myo_retarget.tracker_factory import (
    c3d_as_tables,
    table_columns,
    write_csv,
    write_trc,
)

MARKERSETS = Path(myo_retarget.__file__).parent / "data" / "markersets"
SAMPLE = myo_retarget.sample_c3d_path()
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("worker"), workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def client(srv: LocalServer) -> Iterator[httpx.Client]:
    with new_tenant_client(srv) as c:
        yield c


@pytest.fixture(scope="module")
def cmu(client: httpx.Client) -> str:
    return upload_path(client, MARKERSETS / "cmu.xml")


@pytest.fixture(scope="module")
def sample(client: httpx.Client) -> str:
    return upload_path(client, SAMPLE)


@pytest.fixture(scope="module")
def long_c3d(client: httpx.Client, long_recording: Path) -> str:
    return upload_path(client, long_recording)


def _start(client: httpx.Client, c3d: str, markerset: str, **extra: object) -> str:
    r = client.post(
        "/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": markerset, **extra}
    )
    assert r.status_code == 201, r.text
    job_id: str = r.json()["job_id"]
    return job_id


def test_upload_retarget_download(client: httpx.Client, sample: str, cmu: str) -> None:
    job_id = _start(client, sample, cmu, subject_height=1.75, subject_gender="female")
    job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "SUCCEEDED", job
    assert job["progress"] == 1
    assert job["error"] is None
    assert job["started_at"] <= job["completed_at"]
    # The sample has no toe markers (no shipped markerset has): those joints are NaN, and said.
    assert job["message"].startswith(
        "Retarget completed (412 frames); no markers on toes_r, toes_l or below; 2 joints left "
        "NaN: mtp_flex_r, mtp_flex_l"
    )
    out_id = job["output"]["retarget_output_asset_id"]
    r = httpx.get(job["download_urls"]["retarget_output"], trust_env=False)
    assert r.status_code == 200
    motion = np.load(io.BytesIO(r.content))
    assert motion["qpos"].shape[0] == 412
    assert motion["joint_angles_degrees"].shape == (412, len(motion["joint_names"]))
    names = list(motion["joint_names"])
    observed = motion["joint_observed"]
    assert [n for n, seen in zip(names, observed, strict=True) if not seen] == [
        "mtp_flex_r",
        "mtp_flex_l",
    ]
    assert np.isnan(motion["joint_angles_degrees"][:, ~observed]).all()
    assert np.isfinite(motion["joint_angles_degrees"][:, names.index("knee_flex_r")]).all()
    asset = client.get(f"/v1/assets/{out_id}").json()
    assert asset["purpose"] == "retarget_output"
    assert asset["status"] == "completed"
    assert asset["source_job_id"] == job_id
    assert asset["filename"] == "cmu_01_01_412_retarget.npz"
    assert asset["size_bytes"] == len(r.content)
    listed = client.get("/v1/jobs", params={"has_output": "true"}).json()["jobs"]
    assert job_id in [j["job_id"] for j in listed]
    outputs = client.get("/v1/assets", params={"purpose": "retarget_output"}).json()
    assert out_id in [a["asset_id"] for a in outputs["assets"]]
    # finished jobs hold no reference: inputs can be deleted now (not the shared ones here)
    assert client.get(f"/v1/assets/{sample}").json()["reference_count"] == 0
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 409


def test_export_glb_adds_the_animated_glb_as_the_motion_output(
    client: httpx.Client, sample: str, cmu: str
) -> None:
    job = wait_job(
        client, _start(client, sample, cmu, export_glb=True), ("SUCCEEDED", "FAILED", "CANCELED")
    )
    assert job["status"] == "SUCCEEDED", job
    motion_id = job["output"]["retarget_output_asset_ids"]["motion"]
    asset = client.get(f"/v1/assets/{motion_id}").json()
    assert asset["filename"] == "cmu_01_01_412_motion.glb"
    r = httpx.get(job["download_urls"]["motion"], trust_env=False)
    assert r.status_code == 200 and len(r.content) == asset["size_bytes"]
    magic, version, length = struct.unpack("<4sII", r.content[:12])
    assert (magic, version, length) == (b"glTF", 2, len(r.content))  # a whole glTF 2.0 binary


def test_export_formats_add_each_export_as_an_output_named_for_its_format(
    client: httpx.Client, sample: str, cmu: str, tmp_path: Path
) -> None:
    formats = ["bvh", "mot", "csv", "glb", "parquet", "html"]
    job_id = _start(client, sample, cmu, export_formats=formats)
    job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "SUCCEEDED", job
    ids, urls = job["output"]["retarget_output_asset_ids"], job["download_urls"]
    assert {name for name, asset_id in ids.items() if asset_id} == {
        "qpos", "xpos", "model", "motion", "bvh", "mot", "csv", "viewer"
    }  # fmt: skip
    content: dict[str, bytes] = {}
    for name, filename in (
        ("motion", "cmu_01_01_412_motion.glb"),
        ("bvh", "cmu_01_01_412_motion.bvh"),
        ("mot", "cmu_01_01_412_motion.mot"),
        ("csv", "cmu_01_01_412_motion.csv"),
    ):
        assert client.get(f"/v1/assets/{ids[name]}").json()["filename"] == filename
        r = httpx.get(urls[name], trust_env=False)
        assert r.status_code == 200
        assert r.headers["content-disposition"].startswith("attachment;")
        content[name] = r.content
    assert content["motion"][:4] == b"glTF"
    assert content["bvh"].startswith(b"HIERARCHY")
    assert b"endheader" in content["mot"]
    assert content["csv"].startswith(b"time,")
    # the same as the engine writes from the job's .npz
    npz = tmp_path / "walk.npz"
    npz.write_bytes(httpx.get(urls["retarget_output"], trust_env=False).content)
    for name in ("bvh", "mot", "csv"):  # (the .mot's header names its file)
        path = myo_retarget.export_motion(npz, tmp_path / f"cmu_01_01_412_motion.{name}")
        assert path.read_bytes() == content[name]


def test_export_glb_and_export_formats_glb_are_one_request(
    client: httpx.Client, sample: str, cmu: str
) -> None:
    both = _start(client, sample, cmu, export_glb=True, export_formats=["glb", "GLB", "mot"])
    job = wait_job(client, both, ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "SUCCEEDED", job
    ids = job["output"]["retarget_output_asset_ids"]
    assert ids["motion"] and ids["mot"]
    assert ids["bvh"] is None and ids["csv"] is None  # not asked


def test_a_succeeded_job_offers_the_qpos_and_xpos_tables_and_the_scaled_model(
    client: httpx.Client, sample: str, cmu: str, tmp_path: Path
) -> None:
    job_id = _start(client, sample, cmu, subject_height=1.75)
    job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "SUCCEEDED", job
    output, urls = job["output"], job["download_urls"]
    assert output["retarget_output_asset_id"] and urls["retarget_output"]  # the .npz stays
    ids = output["retarget_output_asset_ids"]
    assert set(ids) == {"qpos", "xpos", "model", "motion", "bvh", "mot", "csv", "viewer"}
    for name in ("motion", "bvh", "mot", "csv"):  # exports that were not asked
        assert ids[name] is None and urls[name] is None
    assert output["processing_time_seconds"] > 0
    diagnostics = output["diagnostics"]
    assert diagnostics["engine_version"] == myo_retarget.__version__
    assert diagnostics["mujoco_version"] == mujoco.__version__
    assert any("mtp_flex_r" in w for w in diagnostics["warnings"])  # the NaN toe joints
    files: dict[str, Path] = {}
    for name, stem in (("qpos", "qpos.parquet"), ("xpos", "xpos.parquet"), ("model", "model.mjb")):
        asset = client.get(f"/v1/assets/{ids[name]}").json()
        assert asset["purpose"] == "retarget_output"
        assert asset["source_job_id"] == job_id
        assert asset["filename"] == f"cmu_01_01_412_{stem}"
        r = httpx.get(urls[name], trust_env=False)
        assert r.status_code == 200
        assert asset["size_bytes"] == len(r.content)
        files[name] = tmp_path / asset["filename"]
        files[name].write_bytes(r.content)
    npz = np.load(io.BytesIO(httpx.get(urls["retarget_output"], trust_env=False).content))
    qpos = pq.read_table(files["qpos"]).to_pandas()
    assert list(qpos.columns[1:]) == list(npz["qpos_names"])
    np.testing.assert_array_equal(qpos.iloc[:, 1:].to_numpy(), npz["qpos"])
    assert pq.read_table(files["xpos"]).num_rows == 412
    model = mujoco.MjModel.from_binary_path(str(files["model"]))
    assert model.nbody == len(npz["body_names"]) + 1  # + the world body
    # the list of jobs shows the same outputs
    listed = client.get("/v1/jobs", params={"has_output": "true"}).json()["jobs"]
    assert [j["output"] for j in listed if j["job_id"] == job_id] == [output]


def test_without_pyarrow_a_job_keeps_its_npz_and_model_and_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    motion = myo_retarget.retarget(SAMPLE, MARKERSETS / "cmu.xml")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if the export extra was not installed
    files, warnings = _write_outputs(motion, tmp_path, "walk")
    assert set(files) == {"model", "viewer"}
    assert files["model"].is_file()
    assert warnings == [
        "The qpos and xpos Parquet tables were not written: the server lacks pyarrow;"
        f" {EXPORT_EXTRA_HINT}"
    ]
    assert "myo-mcp[export]" in EXPORT_EXTRA_HINT


@pytest.mark.parametrize(
    ("name", "payload", "fragment"),
    [
        ("not_a_c3d.c3d", b"this is not a C3D file at all" * 10, "not_a_c3d.c3d"),
        ("truncated.c3d", SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 3], "truncated.c3d"),
        ("empty.c3d", b"", "empty.c3d"),
    ],
)
def test_bad_recordings_fail_the_job_with_a_message(
    srv: LocalServer, client: httpx.Client, cmu: str, name: str, payload: bytes, fragment: str
) -> None:
    pids = srv.runtime.pool.worker_pids()
    bad = upload(client, payload, name)
    job = wait_job(client, _start(client, bad, cmu), ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "FAILED", job
    assert job["error"]["error_type"] == "INVALID_RECORDING"
    assert fragment in job["error"]["error_message"]
    assert job["message"] == job["error"]["error_message"]
    assert str(srv.data_dir) not in job["error"]["error_message"]  # no server paths
    assert job["output"] is None
    assert srv.runtime.pool.worker_pids() == pids  # the worker survived


def _motion(client: httpx.Client, job_id: str) -> dict[str, np.ndarray]:
    """The arrays of the .npz of a job that must succeed."""
    job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "SUCCEEDED", (job["error"], job["input"])
    r = httpx.get(job["download_urls"]["retarget_output"], trust_env=False)
    assert r.status_code == 200
    return dict(np.load(io.BytesIO(r.content)))


def _angles(client: httpx.Client, job_id: str) -> np.ndarray:
    """The joint angles (degrees) of a job that must succeed."""
    return _motion(client, job_id)["joint_angles_degrees"]


def _rms_deg(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 0.9 * np.isfinite(a).sum()  # the same joints and frames are observed
    return float(np.sqrt(np.mean((a[both] - b[both]) ** 2)))


def test_tracker_tables_and_the_vendor_options_reach_the_engine(
    client: httpx.Client, sample: str, cmu: str, tmp_path: Path
) -> None:
    rec = myo_retarget.read_markers(SAMPLE)
    files = c3d_as_tables(SAMPLE, tmp_path)  # TRC in mm, CSV and parquet tables in mm
    yup = write_trc(tmp_path / "yup.trc", rec.raw_labels, rec.positions, rec.rate, vertical="+Y")
    metres = table_columns(rec.raw_labels, rec.positions, rec.rate, scale=1.0)
    # A name too long for the storage key (cut to 120 characters, extension and all): the
    # worker still hands the engine a file named like the upload, which picks its reader.
    long_name = tmp_path / ("walk_" + "x" * 130 + ".parquet")
    long_name.write_bytes(files["parquet"].read_bytes())
    started = {
        "c3d": _start(client, sample, cmu),
        "trc": _start(client, upload_path(client, files["trc"]), cmu),
        "csv": _start(client, upload_path(client, files["csv"]), cmu),
        "parquet": _start(
            client, upload(client, long_name.read_bytes(), long_name.name, "trackers"), cmu
        ),
        "yup": _start(client, upload_path(client, yup), cmu, rotation="yup_to_zup"),
        "upside_down": _start(client, upload_path(client, yup), cmu, rotation="ydown_to_zup"),
        "metres": _start(
            client,
            upload_path(client, write_csv(tmp_path / "metres.csv", metres)),
            cmu,
            mocap_scale=1,
        ),
        "clip": _start(client, sample, cmu, clip_length=100),
        "beyond": _start(client, sample, cmu, clip_length=100_000, chunk_size=64),
        "scaling": _start(client, sample, cmu, n_frames_scaling=3, disable_contacts=True),
    }
    c3d = _angles(client, started["c3d"])
    assert c3d.shape[0] == 412
    for name in ("trc", "csv", "parquet", "yup", "metres"):
        assert _rms_deg(_angles(client, started[name]), c3d) <= 0.5, name
    # Joint angles do not see the world's up; the root does: the pelvis stands above the floor
    # with the recording's +Y up, below it (upside down) when told -Y is up.
    pelvis_height = _motion(client, started["yup"])["qpos"][:, 2]
    assert (pelvis_height > 0.5).all()
    upside_down = _motion(client, started["upside_down"])["qpos"][:, 2]
    np.testing.assert_allclose(upside_down, -pelvis_height, atol=0.05)
    assert _angles(client, started["clip"]).shape[0] == 100  # the first 100 frames
    # calibrated on those 100 frames only: close to the whole clip's first 100, not equal
    assert _rms_deg(_angles(client, started["clip"]), c3d[:100]) < 5  # 2.5 degrees measured
    np.testing.assert_array_equal(_angles(client, started["beyond"]), c3d)  # longer: all of it
    scaled_on_3 = _angles(client, started["scaling"])
    assert scaled_on_3.shape == c3d.shape
    assert not np.array_equal(scaled_on_3, c3d, equal_nan=True)  # scaled on other frames


def test_a_recording_of_another_file_type_fails_the_job_saying_which_types_work(
    srv: LocalServer, client: httpx.Client, cmu: str
) -> None:
    notes = upload(client, b"time,a_x\n0,1\n", "notes.txt", "trackers")
    job = wait_job(client, _start(client, notes, cmu), ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "FAILED", job
    assert job["error"]["error_type"] == "INVALID_RECORDING"
    message = job["error"]["error_message"]
    assert message.startswith("notes.txt: ")
    for extension in myo_retarget.TRACKER_EXTENSIONS:
        assert extension in message
    assert str(srv.data_dir) not in message


def _with_non_utf8_labels(path: Path) -> Path:
    """The sample with the first byte of every point label replaced by 0xff (not UTF-8)."""
    import ezc3d

    labels = ezc3d.c3d(str(SAMPLE))["parameters"]["POINT"]["LABELS"]["value"]
    width = max(len(label) for label in labels)
    table = b"".join(label.encode("ascii").ljust(width) for label in labels)
    data = bytearray(SAMPLE.read_bytes())
    at = data.index(table)  # POINT:LABELS is stored as one fixed-width character table
    for i in range(len(labels)):
        data[at + i * width] = 0xFF
    path.write_bytes(bytes(data))
    return path


def test_a_label_byte_that_is_not_utf8_fails_the_job_readably_and_frees_its_inputs(
    srv: LocalServer, client: httpx.Client, sample: str, cmu: str, tmp_path: Path
) -> None:
    # The labels then match no marker: the error lists them, undecodable byte included.
    pids = srv.runtime.pool.worker_pids()
    bad = upload_path(client, _with_non_utf8_labels(tmp_path / "bad_labels.c3d"))
    job = wait_job(client, _start(client, bad, cmu), ("SUCCEEDED", "FAILED"), timeout=30)
    assert job["status"] == "FAILED", job
    # The engine reads a label byte that is not UTF-8 as Latin-1 (exporters that write it mean
    # that): the byte is shown as the letter it stands for.
    assert job["error"]["error_type"] == "MARKERSET_MISMATCH"
    assert "\xffBWT" in job["error"]["error_message"]
    assert "recording labels" in job["error"]["error_message"]
    assert client.delete(f"/v1/assets/{bad}").status_code == 204
    assert srv.runtime.pool.worker_pids() == pids
    # the worker carries on with the next job
    follower = wait_job(client, _start(client, sample, cmu), ("SUCCEEDED", "FAILED"))
    assert follower["status"] == "SUCCEEDED", follower


class _StoreThatCannotRecordFailures(SqliteMetadataStore):
    """Recording a job failure raises ``faults`` times: a fault (a database that stays locked, a
    bug in a message) the real store cannot be made to show on demand."""

    def __init__(self, path: Path, faults: int) -> None:
        super().__init__(path)
        self.faults = faults

    def finish_job_failed(self, job_id: str, worker_id: str, error: str, error_type: str) -> bool:
        if self.faults > 0:
            self.faults -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().finish_job_failed(job_id, worker_id, error, error_type)


def test_a_failure_that_cannot_be_recorded_never_leaves_its_job_running(tmp_path: Path) -> None:
    store = _StoreThatCannotRecordFailures(tmp_path / "db.sqlite3", faults=1)
    blobs = DirectoryBlobStore(tmp_path / "blobs")
    put_file(blobs, "t/walk.c3d", SAMPLE)
    put_file(blobs, "t/cmu.xml", MARKERSETS / "cmu.xml")
    params = {
        "c3d_key": "t/walk.c3d",
        "markerset_key": "t/cmu.xml",
        "c3d_filename": "walk.c3d",
        "markerset_filename": "cmu.xml",
        "character_id": "no-such-character",  # the engine fails at once, with a RetargetError
        "character_version": "v1",
    }

    def claimed() -> JobRecord:
        t = now()
        job = JobRecord(new_id(), "t", "retarget", "QUEUED", params, t, t, new_id())
        store.create_job(job)
        got = store.claim_job("w1")
        assert got is not None
        return got

    ctx = _Context(store, blobs, "w1", threading.Event())
    job = claimed()
    run_job(ctx, job)  # recorded on the second try, with a plain message
    failed = store.get_job(job.job_id, "t")
    assert failed is not None
    assert failed.status == "FAILED"
    assert "recording why failed too (OperationalError)" in (failed.error or "")
    assert failed.error_type == "INTERNAL"
    # Not even the plain message can be recorded: run_job raises, so that the worker exits and
    # its supervisor recovers the job, instead of carrying on and leaving it RUNNING.
    store.faults = 2
    job = claimed()
    with pytest.raises(sqlite3.OperationalError):
        run_job(ctx, job)
    assert store.recover_worker_jobs("w1", 2, "its worker exited") == [(job.job_id, "QUEUED")]
    store.close()


class _FullDiskBlobStore(DirectoryBlobStore):
    """Blobs on a disk that fills up once the inputs are stored (a fault a test cannot cause)."""

    full = False

    def writer(self, key: str) -> BlobWriter:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().writer(key)


def test_a_full_disk_while_storing_the_output_says_so(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite3")
    blobs = _FullDiskBlobStore(tmp_path / "blobs")
    put_file(blobs, "t/walk.c3d", SAMPLE)
    put_file(blobs, "t/cmu.xml", MARKERSETS / "cmu.xml")
    blobs.full = True
    params = {
        "c3d_key": "t/walk.c3d",
        "markerset_key": "t/cmu.xml",
        "c3d_filename": "walk.c3d",
        "markerset_filename": "cmu.xml",
        "character_id": myo_retarget.DEFAULT_CHARACTER_ID,
        "character_version": myo_retarget.DEFAULT_CHARACTER_VERSION,
    }
    t = now()
    store.create_job(JobRecord(new_id(), "t", "retarget", "QUEUED", params, t, t, new_id()))
    job = store.claim_job("w1")
    assert job is not None
    run_job(_Context(store, blobs, "w1", threading.Event()), job)
    failed = store.get_job(job.job_id, "t")
    store.close()
    assert failed is not None and failed.status == "FAILED"
    assert "out of disk space" in (failed.error or "")
    assert "Internal error" not in (failed.error or "")
    assert failed.error_type == "OUT_OF_SPACE"


def test_a_markerset_that_does_not_match_fails_clearly(client: httpx.Client, sample: str) -> None:
    # the CMU markerset with every label renamed: valid, but none of its markers is recorded
    xml = (MARKERSETS / "cmu.xml").read_text().replace('name="', 'name="X_')
    foreign = upload(client, xml.encode(), "foreign.xml")
    job = wait_job(client, _start(client, sample, foreign), ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "FAILED", job
    assert job["error"]["error_type"] == "MARKERSET_MISMATCH"
    assert "marker" in job["error"]["error_message"].lower()


def test_a_broken_markerset_fails_clearly(client: httpx.Client, sample: str) -> None:
    broken = upload(client, b"<markerset><marker name='x'", "broken.xml")
    job = wait_job(client, _start(client, sample, broken), ("SUCCEEDED", "FAILED", "CANCELED"))
    assert job["status"] == "FAILED", job
    assert job["error"]["error_type"] == "INVALID_MARKERSET"
    assert "broken.xml" in job["error"]["error_message"]
    # the list carries the same object: a client reading a page with a failed job sees it
    listed = client.get("/v1/jobs", params={"status": "FAILED", "limit": 100}).json()["jobs"]
    assert [j["error"] for j in listed if j["job_id"] == job["job_id"]] == [job["error"]]
    assert all(isinstance(j["error"]["error_message"], str) for j in listed)


def test_progress_then_cancel_stops_the_running_job_within_a_second(
    srv: LocalServer, client: httpx.Client, long_c3d: str, sample: str, cmu: str
) -> None:
    job_id = _start(client, long_c3d, cmu)
    running = wait_for(
        lambda: (j := client.get(f"/v1/jobs/{job_id}").json())["progress"] > 0.05 and j,
        timeout=60,
    )
    assert running["status"] == "RUNNING"
    assert running["started_at"] is not None
    assert running["message"].startswith("Retargeting: frame ")
    assert 0 < running["progress"] < 1
    follower = _start(client, sample, cmu)  # queued behind it (one worker)
    t0 = time.monotonic()
    r = client.delete(f"/v1/jobs/{job_id}")
    assert r.status_code == 200
    assert r.json()["status"] == "CANCELED"
    # the worker is free again within a second: the follower starts
    wait_for(
        lambda: client.get(f"/v1/jobs/{follower}").json()["status"] != "QUEUED",
        timeout=5,
        interval=0.01,
    )
    assert time.monotonic() - t0 < 1.0
    final = wait_job(client, follower, ("SUCCEEDED", "FAILED"))
    assert final["status"] == "SUCCEEDED"
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "CANCELED"
    assert job["output"] is None


def test_a_killed_worker_is_replaced_and_its_job_requeued_once(
    srv: LocalServer, client: httpx.Client, long_c3d: str, cmu: str
) -> None:
    job_id = _start(client, long_c3d, cmu)

    def kill_when_running() -> None:
        wait_for(lambda: client.get(f"/v1/jobs/{job_id}").json()["status"] == "RUNNING")
        (pid,) = srv.runtime.pool.worker_pids()
        os.kill(pid, signal.SIGKILL)

    kill_when_running()
    wait_for(lambda: client.get(f"/v1/jobs/{job_id}").json()["attempts"] == 2, timeout=30)
    kill_when_running()
    job = wait_job(client, job_id, ("FAILED",), timeout=30)
    assert job["error"]["error_type"] == "ENGINE_CRASH"
    assert "worker process was killed by signal 9" in job["error"]["error_message"]
    assert "2 attempts" in job["error"]["error_message"]
    # a fresh worker serves the next job
    wait_for(lambda: len(srv.runtime.pool.worker_pids()) == 1, timeout=30)


def test_killed_worker_job_succeeds_on_retry(
    srv: LocalServer, client: httpx.Client, sample: str, long_c3d: str, cmu: str
) -> None:
    job_id = _start(client, long_c3d, cmu)
    wait_for(lambda: client.get(f"/v1/jobs/{job_id}").json()["status"] == "RUNNING")
    os.kill(srv.runtime.pool.worker_pids()[0], signal.SIGKILL)
    job = wait_job(client, job_id, ("SUCCEEDED", "FAILED"), timeout=120)
    assert job["status"] == "SUCCEEDED", job
    assert job["attempts"] == 2


_SERVE = """
import sys, time
from myo_server import LocalServer
srv = LocalServer(data_dir=sys.argv[1], workers=1).start()
print(srv.base_url, flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_restart_after_the_server_process_is_killed_mid_job(
    tmp_path: Path, long_recording: Path, child_pids: Callable[[int], list[int]]
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        key = (tmp_path / "embedded_api_key").read_text().strip()
        with httpx.Client(base_url=base, headers={"X-Api-Key": key}, trust_env=False) as c:
            long_id = upload_path(c, long_recording)
            job_id = _start(c, long_id, upload_path(c, MARKERSETS / "cmu.xml"))
            wait_for(lambda: c.get(f"/v1/jobs/{job_id}").json()["status"] == "RUNNING")
        workers = child_pids(proc.pid)
        assert workers
    finally:
        proc.kill()
        proc.communicate()
    # its worker dies with it: no orphan keeps running
    wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in workers), timeout=10)
    with LocalServer(data_dir=tmp_path, workers=1) as srv:
        assert srv.api_key == key
        with httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": key}) as c:
            job = wait_job(c, job_id, ("SUCCEEDED", "FAILED"), timeout=120)
    assert job["status"] == "SUCCEEDED", job
    assert job["attempts"] == 2


def test_stop_hands_a_running_job_back_and_leaves_no_workers(
    tmp_path: Path, long_recording: Path
) -> None:
    with LocalServer(data_dir=tmp_path, workers=1) as srv:
        with httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": srv.api_key}) as c:
            long_id = upload_path(c, long_recording)
            job_id = _start(c, long_id, upload_path(c, MARKERSETS / "cmu.xml"))
            wait_for(lambda: c.get(f"/v1/jobs/{job_id}").json()["status"] == "RUNNING")
        pids = srv.runtime.pool.worker_pids()
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 5
    assert not any(Path(f"/proc/{p}").exists() for p in pids)
    again = LocalServer(data_dir=tmp_path, workers=0)
    with again, httpx.Client(base_url=again.start().base_url) as c:
        job = c.get(f"/v1/jobs/{job_id}", headers={"X-Api-Key": again.api_key}).json()
    assert job["status"] == "QUEUED"
    assert job["attempts"] == 0
    assert "re-queued" in job["message"]


def test_stop_hands_back_the_job_of_a_worker_that_does_not_answer(
    tmp_path: Path, long_recording: Path
) -> None:
    # A worker stuck in C code (here: stopped) cannot hand its job back: the pool kills it after
    # its grace period and re-queues the job itself, without counting the attempt either.
    with LocalServer(data_dir=tmp_path, workers=1) as srv:
        with httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": srv.api_key}) as c:
            long_id = upload_path(c, long_recording)
            job_id = _start(c, long_id, upload_path(c, MARKERSETS / "cmu.xml"))
            wait_for(lambda: c.get(f"/v1/jobs/{job_id}").json()["status"] == "RUNNING")
        (pid,) = srv.runtime.pool.worker_pids()
        os.kill(pid, signal.SIGSTOP)
    assert not Path(f"/proc/{pid}").exists()
    store = SqliteMetadataStore(tmp_path / "myo.sqlite3")
    job = store.get_job(job_id, None)
    store.close()
    assert job is not None
    assert (job.status, job.attempts) == ("QUEUED", 0), job.message
    assert job.message == "Job re-queued: the server stopped while it ran"


# An idle worker holds about 310 MB of address space and the sample's job peaks near 425 MB;
# glibc reserves 64 MB more for each helper thread that allocates (the job's lease, the parent
# link), so the sample's job gets room to spare. The sample tiled 200 times (82,400 frames)
# needs about twice this limit.
_TIGHT_MEMORY_MB = 640
_HUGE_TILES = 200


@pytest.mark.slow
def test_a_job_needing_more_memory_than_a_worker_may_use_fails_and_the_next_one_runs(
    tmp_path: Path, tiled_recording: Callable[[int], Path]
) -> None:
    with (
        LocalServer(data_dir=tmp_path, workers=1, worker_memory_limit_mb=_TIGHT_MEMORY_MB) as srv,
        httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": srv.api_key}) as c,
    ):
        markerset = upload_path(c, MARKERSETS / "cmu.xml")
        (pid,) = srv.runtime.pool.worker_pids()
        huge = _start(c, upload_path(c, tiled_recording(_HUGE_TILES)), markerset)
        job = wait_job(c, huge, ("SUCCEEDED", "FAILED"))
        assert job["status"] == "FAILED", job
        assert job["error"]["error_type"] == "OUT_OF_MEMORY"
        message = job["error"]["error_message"]
        assert f"more memory than a worker may use ({_TIGHT_MEMORY_MB} MB)" in message
        assert "--worker-memory-mb" in message  # how to raise it
        assert job["attempts"] == 1  # not retried: it would fail the same way
        # that worker is replaced by a fresh one (its heap may stay fragmented)
        wait_for(lambda: srv.runtime.pool.worker_pids() not in ([], [pid]), timeout=30)
        job = wait_job(c, _start(c, upload_path(c, SAMPLE), markerset), ("SUCCEEDED", "FAILED"))
        assert job["status"] == "SUCCEEDED", job["error"]


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))  # 3.10 reads no "Z"


def test_a_job_running_longer_than_the_limit_fails_and_its_worker_is_replaced(
    tmp_path: Path, long_recording: Path
) -> None:
    limit = 5.0  # the long recording takes three times that, the sample a fraction
    with (
        LocalServer(data_dir=tmp_path, workers=1, job_timeout_s=limit) as srv,
        httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": srv.api_key}) as c,
    ):
        markerset = upload_path(c, MARKERSETS / "cmu.xml")
        (pid,) = srv.runtime.pool.worker_pids()
        job = wait_job(
            c, _start(c, upload_path(c, long_recording), markerset), ("SUCCEEDED", "FAILED")
        )
        assert job["status"] == "FAILED", job
        assert job["error"]["error_type"] == "TIMEOUT"
        assert "took longer than 5 s" in job["error"]["error_message"]
        took = _instant(job["completed_at"]) - _instant(job["started_at"])
        assert took.total_seconds() < limit + 2
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=10)  # killed: it may hang
        job = wait_job(c, _start(c, upload_path(c, SAMPLE), markerset), ("SUCCEEDED", "FAILED"))
        assert job["status"] == "SUCCEEDED", job["error"]
        assert srv.runtime.pool.worker_pids() != [pid]


def test_two_servers_share_one_data_dir(tmp_path: Path) -> None:
    with (
        LocalServer(data_dir=tmp_path, workers=1) as a,
        LocalServer(data_dir=tmp_path, workers=1) as b,
    ):
        assert a.api_key == b.api_key  # same embedded tenant and key
        headers = {"X-Api-Key": a.api_key}
        with (
            httpx.Client(base_url=a.base_url, headers=headers) as ca,
            httpx.Client(base_url=b.base_url, headers=headers) as cb,
        ):
            ms = upload_path(ca, MARKERSETS / "cmu.xml")
            c3d = upload_path(cb, SAMPLE)
            jobs = [_start(c, c3d, ms) for c in (ca, cb) * 3]
            done = [wait_job(ca, j, ("SUCCEEDED", "FAILED")) for j in jobs]
            assert [j["status"] for j in done] == ["SUCCEEDED"] * 6
            assert all(j["attempts"] == 1 for j in done)
            assert cb.get("/v1/jobs").json()["total"] == 6
            outputs = {j["output"]["retarget_output_asset_id"] for j in done}
            assert len(outputs) == 6
            listed = ca.get("/v1/assets", params={"purpose": "retarget_output"}).json()
            # each job's .npz, qpos and xpos tables, scaled model and viewer page
            assert listed["total"] == 6 * 5


def test_a_job_canceled_while_its_outputs_are_stored_keeps_none_of_them(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite3")
    blobs = DirectoryBlobStore(tmp_path / "blobs")
    t = now()
    store.create_job(JobRecord(new_id(), "t", "retarget", "QUEUED", {}, t, t, new_id()))
    job = store.claim_job("w1")
    assert job is not None
    motion = myo_retarget.retarget(SAMPLE, MARKERSETS / "cmu.xml")
    assert store.cancel_job(job.job_id, "t")[0] == "canceled"  # while the worker wrote
    _store_output(_Context(store, blobs, "w1", threading.Event()), job, motion, time.monotonic())
    canceled = store.get_job(job.job_id, "t")
    store.close()
    assert canceled is not None and canceled.status == "CANCELED"
    assert canceled.output_asset_id is None and canceled.outputs == {}
    stored = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and ".tmp" not in p.parts]
    assert stored == []  # no output blob left (.tmp holds the store's own lock files)


def test_workers_retarget_onto_the_stored_character_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored copy is the one source of truth: a worker retargets from it, not from the
    engine's shipped files (here the stored manifest says the model is 25 % taller)."""
    with LocalServer(data_dir=tmp_path / "data", workers=1) as srv:
        srv.runtime.catalog.ensure_synced()
        (stored,) = srv.runtime.store.list_character_versions(myo_retarget.DEFAULT_CHARACTER_ID)
        manifest_key = stored.files["manifest.json"]
        with srv.runtime.blobs.open(manifest_key) as fh:
            manifest = json.loads(fh.read())
        manifest["default_height_m"] *= 1.25
        writer = srv.runtime.blobs.writer(manifest_key)
        writer.write(json.dumps(manifest).encode())
        writer.commit()
        copies = tmp_path / "copies"
        copies.mkdir()
        for name, key in stored.files.items():
            with srv.runtime.blobs.local_path(key) as path:
                (copies / name).write_bytes(path.read_bytes())
        with new_tenant_client(srv) as client:
            job_id = _start(
                client,
                upload_path(client, SAMPLE),
                upload_path(client, MARKERSETS / "cmu.xml"),
                subject_height=1.8,
            )
            job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"))
            assert job["status"] == "SUCCEEDED", job["error"]
            got = np.load(io.BytesIO(httpx.get(job["download_urls"]["retarget_output"]).content))
    options = myo_retarget.RetargetOptions(subject_height=1.8)
    shipped = myo_retarget.retarget(SAMPLE, MARKERSETS / "cmu.xml", options=options)
    monkeypatch.setattr(myo_retarget._character, "_IN_USE", {})
    myo_retarget.use_character(
        myo_retarget.character_from_files({p.name: p for p in copies.iterdir()})
    )
    stored_motion = myo_retarget.retarget(SAMPLE, MARKERSETS / "cmu.xml", options=options)
    factors = dict(zip(got["scale_segments"], got["scale_factors"], strict=True))
    assert factors == pytest.approx(stored_motion.scale_factors)
    assert factors != pytest.approx(shipped.scale_factors)
