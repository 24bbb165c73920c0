"""Scale-out figures: retarget jobs per minute with 1 and 2 workers on PostgreSQL,
GET /v1/jobs/{id} on SQLite and on PostgreSQL side by side while a job runs, and the server's
memory while a 1 GiB file is uploaded to an S3 bucket (the test S3 service, moto) and completed.

Run by hand: ``uv run python benchmarks/bench_scale.py`` (starts a throwaway PostgreSQL cluster
with the tests' helper unless ``--database-url`` names one; needs Debian's ``postgresql``).
Jobs retarget ``../shared/data/c3d/cmu_01_01.c3d`` (2,751 frames) with the shipped ``cmu`` set.

Targets (issue 11): going from 1 to 2 workers multiplies jobs per minute by >= 1.8 (this machine
has 2 cores); GET /v1/jobs/{id} p99 <= 50 ms on both databases while jobs run; a 1 GiB upload
in S3 mode grows the server's memory by about nothing (it is not on the data path).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from _common import SHARED_DATA, machine_line
from bench_server import MARKERSET, _httpx_load, _wrk, server
from myo_server.testing import upload_path

ROOT = Path(__file__).resolve().parents[1]
RECORDING = SHARED_DATA / "c3d" / "cmu_01_01.c3d"


def _start(client: httpx.Client, c3d: str, markerset: str) -> str:
    r = client.post(
        "/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": markerset}
    )
    r.raise_for_status()
    job_id: str = r.json()["job_id"]
    return job_id


def _wait_all(client: httpx.Client, job_ids: list[str]) -> None:
    pending = set(job_ids)
    while pending:
        for job_id in list(pending):
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("SUCCEEDED", "FAILED", "CANCELED"):
                assert job["status"] == "SUCCEEDED", job
                pending.discard(job_id)
        time.sleep(0.1)


def jobs_per_minute(tmp: Path, database_url: str, workers: int, jobs: int) -> float:
    """Jobs a server with ``workers`` workers completes per minute, all queued at once (after one
    warm-up job per worker)."""
    with server(tmp / f"jobs{workers}", workers, database_url) as (client, _, _, _):
        c3d = upload_path(client, RECORDING)
        ms = upload_path(client, MARKERSET)
        _wait_all(client, [_start(client, c3d, ms) for _ in range(workers)])  # warm every worker
        t0 = time.perf_counter()
        _wait_all(client, [_start(client, c3d, ms) for _ in range(jobs)])
        return jobs / (time.perf_counter() - t0) * 60


def get_under_load(
    tmp: Path, name: str, database_url: str | None, seconds: int, conc: int
) -> tuple[float, float, float]:
    """GET /v1/jobs/{id} requests per second, p50 and p99 (ms) while a worker runs jobs (one: the
    other core is the API's and the load generator's)."""
    with server(tmp / f"get-{name}", 1, database_url) as (client, base, key, _):
        c3d = upload_path(client, RECORDING)
        ms = upload_path(client, MARKERSET)
        job_ids = [_start(client, c3d, ms) for _ in range(6)]
        while client.get(f"/v1/jobs/{job_ids[0]}").json()["status"] != "RUNNING":
            time.sleep(0.01)
        url = f"{base}/v1/jobs/{job_ids[0]}"
        if shutil.which("wrk"):  # a load generator that leaves the cores to the server
            rps, p50, p99, errors = _wrk(url, key, seconds, conc)
            assert errors == 0
        else:
            rps, lat = asyncio.run(_httpx_load(url, key, seconds, conc))
            p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
        for job_id in job_ids:
            client.delete(f"/v1/jobs/{job_id}")
    return rps, p50, p99


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def upload_to_s3(tmp: Path, database_url: str, size_mib: int) -> dict[str, float]:
    """Server RSS (MiB) before, and its peak during the upload and during complete (which
    hashes the file, reading it from the bucket)."""
    from tests.s3_service import running_s3_service

    big = tmp / "big.bin"
    with open(big, "wb") as fh:
        block = os.urandom(1 << 20)
        for _ in range(size_mib):
            fh.write(block)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    with running_s3_service() as s3:
        env = {**os.environ, **s3.env()}
        storage = f"s3://{s3.create_bucket()}"
        with server(tmp / "s3", 0, database_url, storage, env) as (client, _, _, pid):
            info = client.post(
                "/v1/assets/initiate",
                json={
                    "purpose": "trackers",
                    "filename": "big.bin",
                    "expected_size_bytes": size_mib << 20,
                },
            ).json()
            before = _rss_mib(pid)
            peaks = {"upload": before, "complete": before}
            phase = ["upload"]
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    peaks[phase[0]] = max(peaks[phase[0]], _rss_mib(pid))
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            form = [a for k, v in info["fields"].items() for a in ("-F", f"{k}={v}")]
            curl = ["curl", "-sS", "-f", "-o", "/dev/null", *form, "-F", f"file=@{big}"]
            subprocess.run([*curl, info["upload_url"]], check=True)
            phase[0] = "complete"
            result = client.post(f"/v1/assets/{info['asset_id']}/complete", timeout=600).json()
            done.set()
            sampler.join()
    assert result["size_bytes"] == size_mib << 20, result
    return {"before": before, **peaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a PostgreSQL database to use (default: start one)")
    parser.add_argument("--jobs", type=int, default=6, help="jobs timed per worker count")
    parser.add_argument("--seconds", type=int, default=8, help="load test duration")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--upload-mib", type=int, default=1024)
    args = parser.parse_args()
    if not RECORDING.exists():
        sys.exit(f"{RECORDING} is missing: the benchmark needs ../shared/data")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"# myo_server scale-out benchmark\n\n{machine_line()}, {os.cpu_count()} CPUs, load {load}"
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-scale-") as d:
        tmp = Path(d)
        sys.path.insert(0, str(ROOT))  # the tests' PostgreSQL and S3 helpers
        url = args.database_url
        if url is None:
            from tests.postgres import start_cluster

            cluster = start_cluster()
            stack.callback(cluster.stop)
            url = cluster.create_database()
        print(f"\n## Jobs per minute on PostgreSQL ({RECORDING.name}, {args.jobs} jobs at once)")
        one = jobs_per_minute(tmp, url, 1, args.jobs)
        two = jobs_per_minute(tmp, url, 2, args.jobs)
        print("| workers | jobs / min | |")
        print("|---|---|---|")
        print(f"| 1 | {one:.1f} | |")
        print(f"| 2 | {two:.1f} | {two / one:.2f}x (target >= 1.8x) |")
        print(
            f"\n## GET /v1/jobs/{{id}} while a worker runs jobs ({args.connections} connections,"
            f" {args.seconds} s each, {'wrk' if shutil.which('wrk') else 'httpx asyncio'})"
        )
        print("| database | req/s | p50 ms | p99 ms (target <= 50) |")
        print("|---|---|---|---|")
        for name, db in (("SQLite", None), ("PostgreSQL", cluster_db(url))):
            rps, p50, p99 = get_under_load(tmp, name, db, args.seconds, args.connections)
            print(f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} |")
        print(f"\n## {args.upload_mib} MiB upload to the S3 bucket (moto), then complete")
        rss = upload_to_s3(tmp, cluster_db(url), args.upload_mib)
        print("| server RSS | MiB | |")
        print("|---|---|---|")
        grown = {phase: rss[phase] - rss["before"] for phase in ("upload", "complete")}
        print(f"| before | {rss['before']:.0f} | |")
        print(f"| peak, upload | {rss['upload']:.0f} | +{grown['upload']:.1f} (target ~0) |")
        print(f"| peak, complete (hashes it) | {rss['complete']:.0f} | +{grown['complete']:.1f} |")


def cluster_db(url: str) -> str:
    """A fresh database beside ``url``'s (the GET figures start from an empty one)."""
    import psycopg

    name = f"bench_get_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


if __name__ == "__main__":
    main()
