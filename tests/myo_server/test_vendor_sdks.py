"""The vendor's own SDKs, as published on the package index, against a real myo-server.

People with code on the vendor's ``myosdk`` 0.2.1 (``Client.retarget``) or on its tutorials
(0.1.0: ``jobs.start_retarget``) point it at ``myo-server`` and it works. Each version gets a
venv of its own (both install a top-level ``myosdk``, as ours does), made by the test from the
package index; scripts run in it against a server on loopback. The README's compatibility table
lists what is exercised here, and the calls that cannot work because the reference says otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import mujoco
import pyarrow.parquet as pq
import pytest

import myo_retarget
from myo_server import LocalServer
from tests.myo_retarget.tracker_factory import c3d_as_tables, write_trc

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SAMPLE = myo_retarget.sample_c3d_path()
CMU = myo_retarget.shipped_markerset_path("cmu")
SAMPLE_FRAMES = 412
# What uv prints when the package index cannot be reached (then the test is skipped, not failed).
_OFFLINE = re.compile(
    r"dns error|failed to lookup|connect|network|timed out|offline|Failed to fetch", re.I
)


def _install(root: Path, version: str) -> Path:
    """A venv holding the vendor's myosdk ``version`` from the package index; its python."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed: it makes the vendor SDKs' venvs")
    venv = root / f"myosdk-{version}"
    python = venv / "bin" / "python"
    steps = [
        [uv, "venv", "-q", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "-q", "--python", str(python), f"myosdk=={version}"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            said = " / ".join(done.stderr.strip().splitlines()[-3:])
            if _OFFLINE.search(done.stderr):
                pytest.skip(
                    f"the package index cannot be reached to install myosdk=={version}: {said}"
                )
            pytest.fail(f"installing the vendor's myosdk=={version} failed: {said}")
    return python


@pytest.fixture(scope="session")
def vendor_python(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``vendor_python("0.2.1")``: the python of a venv with that myosdk (made once a session)."""
    root = tmp_path_factory.mktemp("vendor-sdks")
    made: dict[str, Path] = {}

    def get(version: str) -> Path:
        if version not in made:
            made[version] = _install(root, version)
        return made[version]

    return get


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("vendor-server"), workers=1) as srv:
        yield srv


def _run(python: Path, script: str, *args: str | Path) -> dict[str, Any]:
    """Run ``script`` with the vendor venv's python; it prints one JSON report as its last line."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):  # only the vendor's venv counts
        env.pop(name, None)
    done = subprocess.run(
        [str(python), "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _job(server: LocalServer, job_id: str) -> dict[str, Any]:
    r = httpx.get(
        f"{server.base_url}/v1/jobs/{job_id}",
        headers={"X-Api-Key": server.api_key},
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    job: dict[str, Any] = r.json()
    return job


def _foreign_markerset(path: Path) -> Path:
    """The CMU markerset with every marker renamed: valid, but no recorded label matches."""
    path.write_text(CMU.read_text().replace('name="', 'name="X_'))
    return path


def _check_outputs(folder: Path, names: dict[str, str]) -> None:
    """The files a retarget wrote are what they claim: Parquet tables of every frame, a MuJoCo
    model, a glTF binary."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(names.values())
    for name in ("qpos", "xpos"):
        table = pq.read_table(folder / names[name])
        assert table.num_rows == SAMPLE_FRAMES
        assert table.column_names[0] == "time"
    model = mujoco.MjModel.from_binary_path(str(folder / names["model"]))
    assert model.nq > 7  # a free root and hinges
    glb = (folder / names["motion"]).read_bytes()
    assert glb[:4] == b"glTF"


# -- 0.2.1 --------------------------------------------------------------------------------------
V021 = r"""
import asyncio, json, sys
from pathlib import Path
import myosdk
from myosdk import AsyncClient, Client, JobFailedError

base_url, api_key, c3d, markerset, foreign, yup, out = sys.argv[1:]
report = {"version": myosdk.__version__}
with Client(api_key=api_key, base_url=base_url) as client:
    result = client.retarget(tracker=c3d, markerset=markerset, output_dir=out, export_glb=True)
    report["retarget"] = {
        "job_id": result.job.id,
        "status": result.job.status.value,
        "files": {
            n: getattr(result.output, n).filename for n in ("qpos", "xpos", "model", "motion")
        },
    }
    job = client.jobs.get(result.job.id)
    report["get"] = {"job_id": job.id, "type": job.type.value, "status": job.status.value}

    recording = client.assets.upload(c3d)
    markers = client.assets.upload(markerset)
    report["assets"] = {
        "purposes": [recording.purpose, markers.purpose],
        "get": client.assets.get(recording.id).filename,
        "listed": recording.id in [a.id for a in client.assets.list(limit=100)],
    }
    failing = client.jobs.create_retarget(tracker=recording, markerset=foreign)
    try:
        failing.wait(timeout=120)
        report["failed"] = None
    except JobFailedError as exc:
        report["failed"] = {
            "job_id": exc.job_id, "message": exc.message, "error_type": exc.error_type
        }
    report["list"] = [[j.id, j.status.value] for j in client.jobs.list(limit=100)]
    report["list_failed"] = [[j.id, j.status.value] for j in client.jobs.list(status=["FAILED"])]
    report["list_succeeded"] = [
        [j.id, j.status.value] for j in client.jobs.list(status=["SUCCEEDED"])
    ]

    ahead = client.jobs.create_retarget(tracker=recording, markerset=markers)
    behind = client.jobs.create_retarget(tracker=recording, markerset=markers)
    canceled = client.jobs.cancel(behind.id)
    report["cancel"] = {
        "job_id": canceled.id, "type": canceled.type.value, "status": canceled.status.value
    }
    ahead.wait(timeout=120)

    events = []
    rotated = client.retarget(
        tracker=yup,
        markerset=markers,
        rotation="yup_to_zup",
        stream_status=True,
        on_status=lambda event: events.append(event.status.value),
    )
    report["rotation"] = {
        "job_id": rotated.job.id, "status": rotated.job.status.value, "events": events
    }
    report["download"] = str(client.assets.download(recording.id, Path(out).parent / "back.c3d"))
    report["motion_upload"] = client.assets.upload(
        Path(out) / result.output.motion.filename
    ).purpose
    report["list_by_type"] = len(client.jobs.list(job_type="retarget", limit=100))
    report["characters"] = [[c.id, c.latest_version] for c in client.characters.list()]

    # Where the reference wins: record what the vendor's SDK then does.
    known = {}
    for name, call in (
        ("characters.get", lambda: client.characters.get(report["characters"][0][0])),
        ("assets.delete", lambda: client.assets.delete(recording.id)),
    ):
        try:
            call()
            known[name] = None
        except Exception as exc:
            known[name] = type(exc).__name__
    report["known_incompatible"] = known
    report["deleted_id"] = recording.id


async def run_async():
    async with AsyncClient(api_key=api_key, base_url=base_url) as client:
        result = await client.retarget(tracker=c3d, markerset=markerset)
        listed = await client.jobs.list(status=["SUCCEEDED"])
        return {
            "job_id": result.job.id,
            "status": result.job.status.value,
            "listed": result.job.id in [j.id for j in listed],
        }

report["async"] = asyncio.run(run_async())
print(json.dumps(report))
"""


def test_vendor_sdk_0_2_1_retargets_lists_cancels_and_reports_failures(
    vendor_python: Callable[[str], Path], server: LocalServer, tmp_path: Path
) -> None:
    python = vendor_python("0.2.1")
    rec = myo_retarget.read_markers(SAMPLE)
    yup = write_trc(tmp_path / "walk_yup.trc", rec.raw_labels, rec.positions, rec.rate)
    out = tmp_path / "out"
    foreign = _foreign_markerset(tmp_path / "foreign.xml")
    report = _run(python, V021, server.base_url, server.api_key, SAMPLE, CMU, foreign, yup, out)
    assert report["version"] == "0.2.1"

    # Client.retarget(..., output_dir=..., export_glb=True): every output downloaded
    retarget = report["retarget"]
    assert retarget["status"] == "SUCCEEDED"
    _check_outputs(out, retarget["files"])
    assert report["get"] == {
        "job_id": retarget["job_id"],
        "type": "retarget",
        "status": "SUCCEEDED",
    }
    assert report["assets"] == {
        "purposes": ["trackers", "retarget"],  # its purposes for .c3d and .xml
        "get": SAMPLE.name,
        "listed": True,
    }

    # a failing job: wait() raises JobFailedError with our message and error type
    failed = report["failed"]
    assert failed is not None
    ours = _job(server, failed["job_id"])["error"]
    assert ours["error_type"] == "MARKERSET_MISMATCH"
    assert failed["error_type"] == "MARKERSET_MISMATCH"
    assert failed["message"] == ours["error_message"]
    assert "markerset 'X_CMU' matches only 0" in failed["message"]

    # jobs.list with a failed job on the page; status= filters
    assert [failed["job_id"], "FAILED"] in report["list"]
    assert [failed["job_id"], "FAILED"] in report["list_failed"]
    assert {status for _, status in report["list_failed"]} == {"FAILED"}
    assert [retarget["job_id"], "SUCCEEDED"] in report["list_succeeded"]
    assert {status for _, status in report["list_succeeded"]} == {"SUCCEEDED"}

    assert report["cancel"]["type"] == "retarget"
    assert report["cancel"]["status"] == "CANCELED"
    assert _job(server, report["cancel"]["job_id"])["status"] == "CANCELED"

    # rotation= reaches the engine: a +Y-up TRC retargets standing up
    assert report["rotation"]["status"] == "SUCCEEDED"
    assert report["rotation"]["events"][-1] == "SUCCEEDED"  # stream_status's callback
    assert Path(report["download"]).read_bytes() == SAMPLE.read_bytes()  # assets.download
    assert report["motion_upload"] == "motion"  # a GLB uploads with its purpose
    assert report["list_by_type"] >= 5
    rotated = _job(server, report["rotation"]["job_id"])
    assert rotated["input"]["rotation"] == "yup_to_zup"
    assert rotated["input"]["mocap_scale"] == 1000  # its defaults, recorded
    assert rotated["input"]["n_frames_scaling"] == 10

    assert [myo_retarget.DEFAULT_CHARACTER_ID, "v1.0.0"] in report["characters"]
    assert report["async"]["status"] == "SUCCEEDED"
    assert report["async"]["listed"] is True

    # The reference wins here (README, Compatibility): the detail's latest_version is an
    # object, and DELETE /v1/assets/{id} answers 204 without a body.
    assert report["known_incompatible"] == {
        "characters.get": "ValidationError",
        "assets.delete": "JSONDecodeError",
    }
    gone = httpx.get(
        f"{server.base_url}/v1/assets/{report['deleted_id']}",
        headers={"X-Api-Key": server.api_key},
        trust_env=False,
    )
    assert gone.status_code == 404  # deleted all the same: only the answer's body differs


# -- 0.1.0 --------------------------------------------------------------------------------------
V010 = r"""
import json, sys
from pathlib import Path
import myosdk
from myosdk import Client

base_url, api_key, c3d, markerset, table, foreign, out = sys.argv[1:]
out = Path(out)
report = {"version": myosdk.__version__}
client = Client(api_key=api_key, base_url=base_url)

# the tutorials' flow: upload, start_retarget(tracker_asset_id=..., export_glb=True), wait,
# download the qpos table and the GLB by their output names, and the joint angles
mk_asset = client.assets.upload_file(markerset)
tracker_asset = client.assets.upload_file(c3d)
job = client.jobs.start_retarget(
    tracker_asset_id=tracker_asset["asset_id"],
    markerset_asset_id=mk_asset["asset_id"],
    export_glb=True,
)
result = client.jobs.wait(job["job_id"], interval=0.5)
ids = result["output"]["retarget_output_asset_ids"]
client.assets.download(ids["qpos"], out / "walk.parquet")
client.assets.download(ids["motion"], out / "walk.glb")
client.assets.download(result["output"]["retarget_output_asset_id"], out / "tutorial_output.npz")
report["retarget"] = {"job_id": job["job_id"], "status": result["status"]}

# the video app's flow: a parquet trackers table as the recording
table_asset = client.assets.upload_file(table)
job = client.jobs.start_retarget(
    tracker_asset_id=table_asset["asset_id"],
    markerset_asset_id=mk_asset["asset_id"],
    export_glb=True,
)
result = client.jobs.wait(job["job_id"], interval=0.5)
client.assets.download(result["output"]["retarget_output_asset_ids"]["qpos"], out / "table.parquet")
report["table"] = {
    "job_id": job["job_id"],
    "status": result["status"],
    "purpose": client.assets.get(table_asset["asset_id"])["purpose"],
}

# a job that fails: wait returns it, error and all
job = client.jobs.start_retarget(
    tracker_asset_id=tracker_asset["asset_id"],
    markerset_asset_id=client.assets.upload_file(foreign)["asset_id"],
)
report["failed"] = client.jobs.wait(job["job_id"], interval=0.5)

# the rest of its surface
inputs = {"tracker_asset_id": tracker_asset["asset_id"], "markerset_asset_id": mk_asset["asset_id"]}
ahead = client.jobs.start_retarget(**inputs)
behind = client.jobs.start_retarget(**inputs)
report["queued"] = [j["job_id"] for j in client.jobs.list(status=["QUEUED", "RUNNING"])["jobs"]]
report["cancel"] = client.jobs.cancel(behind["job_id"])
client.jobs.wait(ahead["job_id"], interval=0.5)
succeeded = client.jobs.list(status="SUCCEEDED", job_type="retarget")["jobs"]
report["succeeded"] = [j["job_id"] for j in succeeded]
characters = client.characters.list(has_ready_versions=True)["characters"]
report["characters"] = [[c["character_id"], c["latest_version"]] for c in characters]
detail = client.characters.get(characters[0]["character_id"])
report["character"] = {
    "latest": detail["latest_version"]["version"],
    "versions": [v["version"] for v in detail["versions"]],
}
checked = client.characters.validate_manifest(characters[0]["character_id"], "v1.0.0")
report["validate"] = checked["status"]
report["assets"] = sorted(a["purpose"] for a in client.assets.list(limit=100)["assets"])
client.assets.delete(table_asset["asset_id"])
left = [a["asset_id"] for a in client.assets.list(limit=100)["assets"]]
report["deleted"] = table_asset["asset_id"] not in left
client.close()
print(json.dumps(report))
"""


def test_vendor_sdk_0_1_0_runs_the_tutorial_flow_unchanged(
    vendor_python: Callable[[str], Path], server: LocalServer, tmp_path: Path
) -> None:
    python = vendor_python("0.1.0")
    table = c3d_as_tables(SAMPLE, tmp_path)["parquet"]
    out = tmp_path / "out"
    out.mkdir()
    foreign = _foreign_markerset(tmp_path / "foreign.xml")
    report = _run(python, V010, server.base_url, server.api_key, SAMPLE, CMU, table, foreign, out)
    assert report["version"] == "0.1.0"

    assert report["retarget"]["status"] == "SUCCEEDED"
    assert pq.read_table(out / "walk.parquet").num_rows == SAMPLE_FRAMES
    assert (out / "walk.glb").read_bytes()[:4] == b"glTF"
    motion = myo_retarget.Motion.load(out / "tutorial_output.npz")
    assert motion.joint_angles_degrees.shape[0] == SAMPLE_FRAMES

    assert report["table"]["status"] == "SUCCEEDED"
    assert report["table"]["purpose"] == "retarget"  # 0.1.0 uploads .parquet as retarget
    assert pq.read_table(out / "table.parquet").num_rows == SAMPLE_FRAMES

    assert report["failed"]["status"] == "FAILED"
    assert report["failed"]["error"]["error_type"] == "MARKERSET_MISMATCH"
    assert report["cancel"]["status"] == "CANCELED"
    assert report["cancel"]["type"] == "retarget"
    assert report["cancel"]["job_id"] in report["queued"]
    assert report["retarget"]["job_id"] in report["succeeded"]
    assert report["cancel"]["job_id"] not in report["succeeded"]
    assert [myo_retarget.DEFAULT_CHARACTER_ID, "v1.0.0"] in report["characters"]
    assert report["character"] == {"latest": "v1.0.0", "versions": ["v1.0.0"]}
    assert report["validate"] == "READY"
    assert "retarget_output" in report["assets"]
    assert report["deleted"] is True
