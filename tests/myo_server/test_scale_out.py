"""Scale-out: two API processes and two worker processes, each with its own data directory as
on its own host, sharing one PostgreSQL database and one S3 bucket (the test S3 service), as
separate ``myo-server serve --workers 0`` and ``myo-server worker`` commands. Uploads go through
API A, jobs are started and polled through API B; a worker is killed mid-job; a job running on
one worker process is canceled through the other API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import httpx
import pytest

import myo_retarget
from myo_server._metadata import open_metadata_store
from myo_server.testing import upload_path, wait_for, wait_job

from ..s3_service import S3Service

MARKERSETS = Path(myo_retarget.__file__).parent / "data" / "markersets"
FINAL = ("SUCCEEDED", "FAILED", "CANCELED")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """The processes of a scale-out deployment on this host, and a client per API."""

    apis: list[httpx.Client]
    workers: list[subprocess.Popen[str]]
    logs: list[Path]
    database_url: str
    storage_endpoint: str

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs)


@pytest.fixture
def cluster(
    tmp_path: Path,
    postgres_url: str,
    s3_service: S3Service,
    console_script: Callable[[str], str],
) -> Iterator[Cluster]:
    storage = f"s3://{s3_service.create_bucket()}/myo"
    env = {**os.environ, **s3_service.env()}
    shared = ["--database-url", postgres_url, "--storage-url", storage, "--log-level", "warning"]
    server = console_script("myo-server")
    create = [server, "keys", "create", "--name", "scale", "--data-dir", str(tmp_path / "keys")]
    key = subprocess.run(
        [*create, "--database-url", postgres_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    ).stdout.strip()
    with ExitStack() as stack:
        procs: list[subprocess.Popen[str]] = []
        logs: list[Path] = []

        def start(name: str, argv: list[str]) -> subprocess.Popen[str]:
            """A process with a data directory of its own, as on a host of its own."""
            log = tmp_path / f"{name}.log"
            out: IO[str] = stack.enter_context(open(log, "w"))
            own = ["--data-dir", str(tmp_path / name), *shared]
            proc = subprocess.Popen(
                [server, *argv, *own], stdout=out, stderr=out, text=True, env=env
            )
            procs.append(proc)
            logs.append(log)
            return proc

        apis = []
        for name in ("api-a", "api-b"):
            port = _free_port()
            start(name, ["serve", "--port", str(port), "--workers", "0"])
            client = stack.enter_context(
                httpx.Client(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"X-Api-Key": key},
                    trust_env=False,
                    timeout=30,
                )
            )
            apis.append(client)
        workers = [start(f"worker-{i}", ["worker", "--workers", "1"]) for i in range(2)]
        for client in apis:
            wait_for(partial(_up, client), timeout=60)
        try:
            yield Cluster(apis, workers, logs, postgres_url, s3_service.endpoint_url)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _up(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def _start(client: httpx.Client, c3d: str, markerset: str) -> str:
    r = client.post(
        "/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": markerset}
    )
    assert r.status_code == 201, r.text
    job_id: str = r.json()["job_id"]
    return job_id


def _worker_process_of(
    cluster: Cluster, job_id: str, child_pids: Callable[[int], list[int]]
) -> int:
    """The pid of the worker process running ``job_id``, once it is under way (a worker's id
    starts with its supervisor's pid; each supervisor here runs one worker)."""
    store = open_metadata_store(cluster.database_url)
    try:
        job = wait_for(
            lambda: (
                (j := store.get_job(job_id, None)) is not None
                and j.status == "RUNNING"
                and j.progress > 0.05
                and j
            ),
            timeout=60,
        )
    finally:
        store.close()
    (child,) = child_pids(int(job.worker_id.split("-")[0]))
    return child


def test_two_apis_and_two_workers_share_one_database_and_one_bucket(
    cluster: Cluster,
    tiled_recording: Callable[[int], Path],
    child_pids: Callable[[int], list[int]],
) -> None:
    a, b = cluster.apis
    sample = upload_path(a, myo_retarget.sample_c3d_path())
    markerset = upload_path(a, MARKERSETS / "cmu.xml")
    long_c3d = upload_path(a, tiled_recording(10))
    assert b.get(f"/v1/assets/{sample}").json()["status"] == "completed"  # B sees A's upload

    # A long job, killed with its worker process in the middle: it runs again elsewhere.
    doomed = _start(b, long_c3d, markerset)
    victim = _worker_process_of(cluster, doomed, child_pids)
    jobs = [_start(b, sample, markerset) for _ in range(6)]
    os.kill(victim, signal.SIGKILL)

    finished = {job_id: wait_job(b, job_id, FINAL, timeout=240) for job_id in [doomed, *jobs]}
    assert {j["status"] for j in finished.values()} == {"SUCCEEDED"}, {
        k: (v["status"], v.get("error")) for k, v in finished.items()
    }
    # None ran twice to completion: one .npz per job, each downloads (from the bucket).
    outputs = a.get("/v1/assets", params={"purpose": "retarget_output", "limit": 100}).json()
    npz = [x for x in outputs["assets"] if x["filename"].endswith("_retarget.npz")]
    assert Counter(x["source_job_id"] for x in npz) == Counter(list(finished))
    for job in finished.values():
        url = job["download_urls"]["retarget_output"]
        assert url.startswith(cluster.storage_endpoint)
        got = httpx.get(url, trust_env=False)
        assert got.status_code == 200 and got.content[:2] == b"PK"
    relaunched = a.get(f"/v1/jobs/{doomed}").json()
    assert (relaunched["status"], relaunched["attempts"]) == ("SUCCEEDED", 2)

    # A cancel through API A reaches the job a worker process runs for API B's request.
    running = _start(b, long_c3d, markerset)
    wait_for(lambda: b.get(f"/v1/jobs/{running}").json()["status"] == "RUNNING", timeout=60)
    t0 = time.monotonic()
    assert a.delete(f"/v1/jobs/{running}").json()["status"] == "CANCELED"
    after = _start(b, sample, markerset)  # the workers are free again soon after
    assert wait_job(b, after, FINAL, timeout=60)["status"] == "SUCCEEDED"
    assert time.monotonic() - t0 < 30
    assert b.get(f"/v1/jobs/{running}").json()["status"] == "CANCELED"
    assert "Traceback" not in cluster.log_text()
