"""SDK transfer figures: a 1 GiB upload and download through ``myosdk`` (sync and async) against a
local myo_server, side by side with curl on the same server in the same run.

For each client: throughput (the whole reference call: initiate + presigned POST + complete for an
upload; get + presigned GET for a download, curl doing the same steps) and, for the SDK, the peak
RSS growth of the client process during the transfer (``/proc/self/clear_refs`` resets the peak,
``VmHWM`` reads it). Each SDK transfer runs in a fresh child process; the server runs in another.

Run by hand: ``uv run python benchmarks/bench_sdk.py [--size-mib 1024] [--repeat 5]``.
Targets: RSS growth <= 64 MiB per transfer; throughput >= 70 % of curl's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine_line

MiB = 1 << 20
SERVER_SCRIPT = """
import json, sys
from myo_server import LocalServer
server = LocalServer(data_dir=sys.argv[1], workers=0).start()
print(json.dumps({"base_url": server.base_url, "api_key": server.api_key}), flush=True)
sys.stdin.read()
server.stop()
"""


# --------------------------------------------------------------------------- child process


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def child(args: argparse.Namespace) -> None:
    """One SDK transfer in this (fresh) process; prints JSON figures on stdout."""
    import anyio

    from myosdk import AsyncClient, Client

    result: dict[str, Any] = {}

    def measure_start() -> None:
        _reset_peak()
        result["rss_before_kib"] = _status_kib("VmRSS")
        result["cpu0"] = _cpu(resource.RUSAGE_SELF)
        result["t0"] = time.perf_counter()

    def measure_end() -> None:
        result["seconds"] = time.perf_counter() - result.pop("t0")
        result["cpu_seconds"] = _cpu(resource.RUSAGE_SELF) - result.pop("cpu0")
        result["rss_growth_mib"] = (_status_kib("VmHWM") - result["rss_before_kib"]) / 1024

    if args.mode == "sync":
        with Client(api_key=args.api_key, base_url=args.base_url, timeout=120) as client:
            client.assets.list(limit=1)  # warm: imports, connection
            measure_start()
            if args.op == "upload":
                up = client.assets.upload_file(args.path)
                result["asset_id"], result["sha256"] = up["asset_id"], up["checksum_sha256"]
            else:
                down = client.assets.download(args.asset_id, args.path)
                result["sha256"] = down["checksum_sha256"]
            measure_end()
    else:

        async def run() -> None:
            async with AsyncClient(
                api_key=args.api_key, base_url=args.base_url, timeout=120
            ) as client:
                await client.assets.list(limit=1)
                measure_start()
                if args.op == "upload":
                    up = await client.assets.upload_file(args.path)
                    result["asset_id"], result["sha256"] = up["asset_id"], up["checksum_sha256"]
                else:
                    down = await client.assets.download(args.asset_id, args.path)
                    result["sha256"] = down["checksum_sha256"]
                measure_end()

        anyio.run(run)
    print(json.dumps(result))


# --------------------------------------------------------------------------- parent


def _sdk(
    op: str, mode: str, server: dict[str, str], path: Path, asset_id: str = "-"
) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            op,
            mode,
            server["base_url"],
            server["api_key"],
            str(path),
            asset_id,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"SDK {op} ({mode}) failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _curl(*args: str) -> str:
    done = subprocess.run(["curl", "-sS", "--fail", *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"curl {' '.join(args[:3])}... failed: {done.stderr.decode()}")
    return done.stdout.decode()


def _curl_upload(server: dict[str, str], path: Path) -> dict[str, Any]:
    """The three steps of ``upload_file`` with curl (``Expect:`` off, as a tuned script would)."""
    key = f"X-Api-Key: {server['api_key']}"
    cpu0 = _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    body = json.dumps(
        {
            "purpose": "retarget",
            "filename": path.name,
            "content_type": "application/octet-stream",
            "expected_size_bytes": path.stat().st_size,
        }
    )
    initiate = [
        "-X", "POST", "-H", key, "-H", "Content-Type: application/json", "-d", body,
        f"{server['base_url']}/v1/assets/initiate",
    ]  # fmt: skip
    started = json.loads(_curl(*initiate))
    form: list[str] = []
    for name, value in started["fields"].items():
        form += ["-F", f"{name}={value}"]
    _curl("-H", "Expect:", *form, "-F", f"file=@{path};type=application/octet-stream",
          "-o", os.devnull, started["upload_url"])  # fmt: skip
    complete = f"{server['base_url']}/v1/assets/{started['asset_id']}/complete"
    done = json.loads(_curl("-X", "POST", "-H", key, complete))
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu(resource.RUSAGE_CHILDREN) - cpu0,
        "asset_id": done["asset_id"],
        "sha256": done["checksum_sha256"],
    }


def _curl_download(server: dict[str, str], asset_id: str, path: Path) -> dict[str, Any]:
    key = f"X-Api-Key: {server['api_key']}"
    cpu0 = _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    asset = json.loads(_curl("-H", key, f"{server['base_url']}/v1/assets/{asset_id}"))
    _curl("-o", str(path), asset["download_url"])
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu(resource.RUSAGE_CHILDREN) - cpu0,
    }


def _delete_asset(server: dict[str, str], asset_id: str) -> None:
    _curl("-X", "DELETE", "-H", f"X-Api-Key: {server['api_key']}",
          f"{server['base_url']}/v1/assets/{asset_id}")  # fmt: skip


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _make_file(path: Path, size: int) -> str:
    """A file of ``size`` random-looking bytes (a random 8 MiB block repeated: incompressible
    enough, and quick to write)."""
    block = os.urandom(8 * MiB)
    hasher = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            part = block[: min(left, len(block))]
            f.write(part)
            hasher.update(part)
            left -= len(part)
    return hasher.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per client; best is kept")
    parser.add_argument("--dir", help="scratch directory (default: a temporary one)")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("curl is not installed: it is the reference this benchmark compares against")

    size = args.size_mib * MiB
    load_before = _load()
    scratch = Path(tempfile.mkdtemp(prefix="bench-sdk-", dir=args.dir))
    try:
        source = scratch / "motion.c3d"
        sha = _make_file(source, size)
        server_proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, str(scratch / "server")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server_proc.stdout is not None
        assert server_proc.stdin is not None
        server: dict[str, str] = json.loads(server_proc.stdout.readline())
        best: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            clients = ["curl", "sync", "async"]
            for rep in range(args.repeat):
                # Rotate the order so that no client always runs first (cold caches) or last.
                for client in clients[rep % 3 :] + clients[: rep % 3]:
                    dest = scratch / f"down-{client}.c3d"
                    if client == "curl":
                        up = _curl_upload(server, source)
                        down = _curl_download(server, up["asset_id"], dest)
                    else:
                        up = _sdk("upload", client, server, source)
                        down = _sdk("download", client, server, dest, up["asset_id"])
                        if down["sha256"] != sha:
                            raise RuntimeError(f"{client} download returned other bytes")
                    if up["sha256"] != sha:
                        raise RuntimeError(f"{client} upload stored other bytes")
                    if dest.stat().st_size != size:
                        raise RuntimeError(f"{client} download has the wrong size")
                    dest.unlink()
                    _delete_asset(server, up["asset_id"])
                    for op, figures in (("upload", up), ("download", down)):
                        kept = best.get((client, op))
                        if kept is None or figures["seconds"] < kept["seconds"]:
                            best[(client, op)] = figures
        finally:
            server_proc.stdin.close()
            server_proc.wait(timeout=30)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    import httpx

    print(f"# myosdk transfers, {args.size_mib} MiB, best of {args.repeat}")
    print(f"{machine_line()}; httpx {httpx.__version__}; {_curl('--version').splitlines()[0]}")
    print(f"load average before/after: {load_before} / {_load()} (other processes share the CPUs)")
    print()
    print("| client | op | seconds | MiB/s | vs curl | client CPU s | peak RSS growth | targets |")
    print("|---|---|---|---|---|---|---|---|")
    for op in ("upload", "download"):
        curl_rate = size / MiB / best[("curl", op)]["seconds"]
        for client in ("curl", "sync", "async"):
            figures = best[(client, op)]
            rate = size / MiB / figures["seconds"]
            growth: float | None = figures.get("rss_growth_mib")
            targets = (
                ""
                if growth is None
                else f"RSS {'ok' if growth <= 64 else 'OVER'} (<= 64 MiB), "
                f"speed {'ok' if rate >= 0.7 * curl_rate else 'UNDER'} (>= 70 %)"
            )
            print(
                f"| {'curl' if client == 'curl' else 'myosdk ' + client} | {op} "
                f"| {figures['seconds']:.2f} | {rate:.0f} | {rate / curl_rate:.0%} "
                f"| {figures['cpu_seconds']:.2f} "
                f"| {'-' if growth is None else f'{growth:.1f} MiB'} | {targets} |"
            )


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "--child":
        names = ("op", "mode", "base_url", "api_key", "path", "asset_id")
        child(argparse.Namespace(**dict(zip(names, sys.argv[2:], strict=True))))
    else:
        main()
