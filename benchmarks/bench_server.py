"""myo_server figures: a whole 412-frame job, GET /v1/jobs/{id} throughput, 1 GiB upload memory.

Run by hand: ``uv run python benchmarks/bench_server.py`` (uses ``wrk`` for the load test when it
is installed — ``apt-get install wrk`` — else an asyncio httpx load generator). The server runs
in its own process (``LocalServer``) so its memory can be measured and the load generator does
not share its interpreter.

Targets (issue 3): job (upload both files -> SUCCEEDED -> output downloaded) <= 1.0 s on a warm
server; >= 1,000 GET /v1/jobs/{id} per second with p99 <= 50 ms while a job runs; a 1 GiB
upload grows the server's memory by <= 64 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import myo_retarget
from _common import machine_line
from myo_server.testing import upload, upload_path

MARKERSET = Path(myo_retarget.__file__).parent / "data" / "markersets" / "cmu.xml"
SAMPLE = myo_retarget.sample_c3d_path()

_SERVE = """
import os, sys, time
from myo_server import LocalServer
# The per-key rate limiter is off: the figures are the server's, not the limiter's.
srv = LocalServer(
    data_dir=sys.argv[1],
    workers=int(sys.argv[2]),
    rate_limit_per_second=0,
    database_url=sys.argv[3] or None,
    storage_url=sys.argv[4] or None,
).start()
print(srv.base_url, srv.api_key, os.getpid(), flush=True)
sys.stdin.read()
srv.stop()
"""


@contextmanager
def server(
    data_dir: Path,
    workers: int,
    database_url: str | None = None,
    storage_url: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[httpx.Client, str, str, int]]:
    """A LocalServer in a child process: (client, base_url, api_key, pid); stops on stdin EOF.
    ``database_url``, ``storage_url``: the metadata's database and the files' store (default:
    SQLite and ``blobs/`` in ``data_dir``); ``env``: the child's environment."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SERVE,
            str(data_dir),
            str(workers),
            database_url or "",
            storage_url or "",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    base, key, pid = proc.stdout.readline().split()
    client = httpx.Client(base_url=base, headers={"X-Api-Key": key}, trust_env=False)
    try:
        yield client, base, key, int(pid)
    finally:
        client.close()
        proc.stdin.close()
        proc.wait(30)
        proc.stdout.close()


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def _wait(client: httpx.Client, job_id: str, interval: float = 0.005) -> dict[str, Any]:
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELED"):
            return job
        time.sleep(interval)


def one_job(client: httpx.Client) -> tuple[float, dict[str, float]]:
    """Upload both files, run, download: total seconds and the split."""
    t0 = time.perf_counter()
    c3d = upload_path(client, SAMPLE)
    ms = upload_path(client, MARKERSET)
    t1 = time.perf_counter()
    job_id = client.post(
        "/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": ms}
    ).json()["job_id"]
    job = _wait(client, job_id)
    assert job["status"] == "SUCCEEDED", job
    t2 = time.perf_counter()
    data = httpx.get(job["download_urls"]["retarget_output"], trust_env=False).content
    t3 = time.perf_counter()
    assert data[:2] == b"PK"  # an .npz (zip)
    return t3 - t0, {"upload": t1 - t0, "job": t2 - t1, "download": t3 - t2}


def bench_job(tmp: Path, runs: int) -> None:
    print("\n## Whole 412-frame job (upload C3D + markerset, run, download the .npz)")
    with server(tmp / "job", workers=1) as (c, _, _, _):
        cold, _ = one_job(c)
        times = [one_job(c) for _ in range(runs)]
    totals = sorted(t for t, _ in times)
    med = statistics.median(totals)
    split = min(times)[1]
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| first job (cold worker) | {cold:.3f} s | |")
    print(f"| warm job, median of {runs} | {med:.3f} s | <= 1.0 s |")
    print(f"| warm job, best | {totals[0]:.3f} s | |")
    print(
        f"| best split | upload {split['upload'] * 1000:.0f} ms, job {split['job'] * 1000:.0f} ms,"
        f" download {split['download'] * 1000:.0f} ms | |"
    )


def _long_recording(path: Path, repeats: int) -> Path:
    import ezc3d

    c = ezc3d.c3d(str(SAMPLE))
    c["data"]["points"] = np.concatenate([c["data"]["points"]] * repeats, axis=2)
    meta = c["data"]["meta_points"]
    for name in ("residuals", "camera_masks"):
        c["data"]["meta_points"][name] = np.concatenate([meta[name]] * repeats, axis=2)
    c.write(str(path))
    return path


async def _httpx_load(url: str, key: str, seconds: float, conc: int) -> tuple[float, list[float]]:
    lat: list[float] = []
    limits = httpx.Limits(max_connections=conc)
    async with httpx.AsyncClient(headers={"X-Api-Key": key}, limits=limits, trust_env=False) as c:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < end:
                t = time.perf_counter()
                r = await c.get(url)
                lat.append(time.perf_counter() - t)
                assert r.status_code == 200

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        return len(lat) / (time.perf_counter() - t0), sorted(lat)


def _wrk(url: str, key: str, seconds: int, conc: int) -> tuple[float, float, float, int]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conc}", f"-d{seconds}s", "--latency", "-H", f"X-Api-Key: {key}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, ms("50"), ms("99"), int(non2xx.group(1)) if non2xx else 0


def bench_get(tmp: Path, seconds: int, conc: int) -> None:
    print(f"\n## GET /v1/jobs/{{id}} while a job runs ({conc} connections, {seconds} s)")
    with server(tmp / "get", workers=1) as (c, base, key, _):
        long_id = upload_path(c, _long_recording(tmp / "long.c3d", 150))
        ms = upload_path(c, MARKERSET)
        job_id = c.post(
            "/v1/runs/retarget", json={"c3d_asset_id": long_id, "markerset_asset_id": ms}
        ).json()["job_id"]
        while c.get(f"/v1/jobs/{job_id}").json()["status"] != "RUNNING":
            time.sleep(0.01)
        url = f"{base}/v1/jobs/{job_id}"
        if shutil.which("wrk"):
            tool = "wrk"
            rps, p50, p99, errors = _wrk(url, key, seconds, conc)
        else:
            tool = "httpx (asyncio)"
            rps, lat = asyncio.run(_httpx_load(url, key, seconds, conc))
            p50, p99, errors = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000, 0
        after = c.get(f"/v1/jobs/{job_id}").json()
        c.delete(f"/v1/jobs/{job_id}")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| load generator | {tool} | |")
    print(f"| throughput | {rps:,.0f} req/s | >= 1,000 |")
    print(f"| latency p50 / p99 | {p50:.1f} / {p99:.1f} ms | p99 <= 50 ms |")
    print(f"| non-2xx responses | {errors} | 0 |")
    print(
        f"| job still RUNNING at the end | {after['status'] == 'RUNNING'} "
        f"(progress {after['progress']:.2f}) | True |"
    )


def bench_upload(tmp: Path, size_mib: int) -> None:
    print(f"\n## {size_mib} MiB upload through the presigned POST (server memory)")
    big = tmp / "big.bin"
    with open(big, "wb") as fh:  # random-looking but cheap: a repeated 1 MiB random block
        block = os.urandom(1 << 20)
        for _ in range(size_mib):
            fh.write(block)
    size = big.stat().st_size
    with server(tmp / "upload", workers=0) as (c, _, _, pid):
        upload(c, b"warm-up", "w.bin", purpose="trackers")
        info = c.post(
            "/v1/assets/initiate",
            json={"purpose": "trackers", "filename": "big.bin", "expected_size_bytes": size},
        ).json()
        base_rss = _rss_kib(pid)
        peak = [base_rss]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_kib(pid))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        t0 = time.perf_counter()
        if shutil.which("curl"):
            tool = "curl"
            form = [a for k, v in info["fields"].items() for a in ("-F", f"{k}={v}")]
            subprocess.run(
                [
                    "curl",
                    "-sS",
                    "-f",
                    "-o",
                    "/dev/null",
                    *form,
                    "-F",
                    f"file=@{big}",
                    info["upload_url"],
                ],
                check=True,
            )
        else:
            tool = "httpx"
            with open(big, "rb") as src:
                r = httpx.post(
                    info["upload_url"],
                    data=info["fields"],
                    files={"file": ("big.bin", src)},
                    timeout=600,
                    trust_env=False,
                )
                r.raise_for_status()
        dt = time.perf_counter() - t0
        done.set()
        sampler.join()
        hwm = _rss_kib(pid, "VmHWM")
        result = c.post(f"/v1/assets/{info['asset_id']}/complete").json()
    assert result["size_bytes"] == size
    growth = (peak[0] - base_rss) / 1024
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| client | {tool} | |")
    print(f"| server RSS before / peak | {base_rss / 1024:.0f} / {peak[0] / 1024:.0f} MiB | |")
    print(f"| server RSS growth | {growth:.1f} MiB | <= 64 MiB |")
    print(f"| server VmHWM after | {hwm / 1024:.0f} MiB | |")
    print(f"| throughput | {size / dt / 1e6:.0f} MB/s ({dt:.1f} s) | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="warm jobs to time")
    parser.add_argument("--seconds", type=int, default=8, help="load test duration")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--only", choices=["job", "get", "upload"], default=None)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# myo_server benchmark\n\n{machine_line()}, {os.cpu_count()} CPUs, load {load}")
    with tempfile.TemporaryDirectory(prefix="bench-server-") as d:
        tmp = Path(d)
        if args.only in (None, "job"):
            bench_job(tmp, args.runs)
        if args.only in (None, "get"):
            bench_get(tmp, args.seconds, args.connections)
        if args.only in (None, "upload"):
            bench_upload(tmp, args.upload_mib)


if __name__ == "__main__":
    main()
