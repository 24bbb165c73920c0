"""Export figures: the time of each export format beside the retarget of the same recording.

Run by hand: ``uv run python benchmarks/bench_export.py [--c3d PATH] [--repeats 3]`` (default:
``cmu_01_01.c3d`` from ../shared/data, else the shipped sample). Issue 10's targets: all five
formats together take at most 25 % of the retarget time, and the GLB of cmu_01_01 is at most 4 MB.
Every figure comes from one run, side by side (absolute times on a shared machine vary).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from _common import SHARED_DATA, best_of, machine_line
from myo_retarget import Motion, export_formats, export_motion, retarget, sample_c3d_path

# (label, file name, export options): both parquet tables, the GLB with and without markers.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("glb", "motion.glb", {}),
    ("bvh", "motion.bvh", {}),
    ("mot", "motion.mot", {}),
    ("csv", "motion.csv", {}),
    ("parquet qpos", "qpos.parquet", {"table": "qpos"}),
    ("parquet xpos", "xpos.parquet", {"table": "xpos"}),
    ("glb + markers", "markers.glb", {"markers": True}),
]
# The five formats the target counts (one parquet table, the GLB without markers).
COUNTED = {"glb", "bvh", "mot", "csv", "parquet qpos"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = SHARED_DATA / "c3d" / "cmu_01_01.c3d"
    parser.add_argument("--c3d", type=Path, default=default if default.exists() else None)
    parser.add_argument("--markerset", default="cmu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    c3d = args.c3d or sample_c3d_path()
    print(f"bench_export: {machine_line()}")
    print(f"recording: {c3d.name}, markerset {args.markerset}, best of {args.repeats}")
    print(f"formats available: {', '.join(export_formats())}")

    t0 = time.perf_counter()
    motion = retarget(c3d, args.markerset)
    retarget_s = time.perf_counter() - t0
    frames, bodies = len(motion.time_s), len(motion.body_names)
    print(f"retarget: {retarget_s:.2f} s ({frames} frames, {bodies} bodies)")

    with tempfile.TemporaryDirectory(prefix="myo-bench-export-") as tmp:
        npz = motion.save(Path(tmp) / "motion.npz")
        loaded = Motion.load(npz)
        for _, name, options in CASES:  # imports (scipy, pyarrow, pygltflib) and the character
            export_motion(loaded, Path(tmp) / f"warm-{name}", **options)
        counted = 0.0
        print(f"{'format':<15} {'time':>8} {'% of retarget':>14} {'size':>10}")
        for label, name, options in CASES:
            out = Path(tmp) / name
            seconds = best_of(partial(export_motion, loaded, out, **options), args.repeats)
            if label in COUNTED:
                counted += seconds
            size = out.stat().st_size / 1e6
            pct = 100 * seconds / retarget_s
            print(f"{label:<15} {seconds:>7.3f}s {pct:>13.1f}% {size:>8.2f} MB")
    print(
        f"five formats together: {counted:.3f} s = {100 * counted / retarget_s:.1f} % of the "
        "retarget (target <= 25 %)"
    )


if __name__ == "__main__":
    main()
