"""Bytes sent by repeated uploads of the same recording and markerset, as ``retarget_motion``
makes them (a recording, then its markerset), with and without ``reuse=True``, against a local
myo_server (no workers: only the uploads are measured).

Run by hand: ``uv run python benchmarks/bench_upload_reuse.py [--calls 25] [RECORDING]``
(default recording: the shared CMU 01_01, 1.8 MB).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import machine_line
from myo_retarget import shipped_markerset_path
from myo_server import LocalServer
from myosdk import Client

DEFAULT_RECORDING = Path("/work/shared/data/c3d/cmu_01_01.c3d")


def _run(client: Client, files: list[Path], calls: int, reuse: bool) -> tuple[int, int, float]:
    """(bytes sent, assets made, seconds) of ``calls`` uploads of ``files``."""
    sent = 0
    before = client.assets.list(limit=1)["total"]
    started = time.perf_counter()
    last = [0]  # the bytes of the current upload sent so far

    def count(done: int, _total: int | None) -> None:
        last[0] = done

    for _ in range(calls):
        for path in files:
            last[0] = 0
            client.assets.upload_file(path, reuse=reuse, on_progress=count)
            sent += last[0]
    seconds = time.perf_counter() - started
    return sent, client.assets.list(limit=1)["total"] - before, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("recording", nargs="?", type=Path, default=DEFAULT_RECORDING)
    parser.add_argument("--calls", type=int, default=25)
    args = parser.parse_args()
    files = [args.recording, shipped_markerset_path("cmu")]
    print(machine_line())
    for reuse in (False, True):
        with (  # a fresh server each: no asset of the other run to reuse
            tempfile.TemporaryDirectory() as tmp,
            LocalServer(data_dir=Path(tmp), workers=0) as server,
            Client(api_key=server.api_key, base_url=server.base_url) as client,
        ):
            sent, made, seconds = _run(client, files, args.calls, reuse)
            print(
                f"reuse={reuse}: {args.calls} x ({' + '.join(p.name for p in files)}): "
                f"{sent / 1e6:.1f} MB sent, {made} assets, {seconds:.2f} s"
            )


if __name__ == "__main__":
    main()
