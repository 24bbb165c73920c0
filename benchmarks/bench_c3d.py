"""C3D reading and markerset matching figures, per shared recording.

Run by hand: ``uv run python benchmarks/bench_c3d.py`` (needs ../shared/data). Prints, per file,
the best of five reads (ezc3d plus our checks, units, vertical axis, filtering), ezc3d's share of
it, and the time to rank the shipped markersets.
"""

from __future__ import annotations

import contextlib
import time
from functools import partial
from pathlib import Path

import ezc3d

from _common import SHARED_DATA, best_of, machine_line
from myo_retarget._c3d import read_c3d
from myo_retarget._exceptions import C3DReadError
from myo_retarget._markerset import best_markerset


def main() -> None:
    files = sorted((SHARED_DATA / "c3d").glob("*.c3d"))
    if not files:
        raise SystemExit(f"no recordings in {SHARED_DATA / 'c3d'}")
    print(machine_line())
    _try(files[0])  # warm the imports
    header = (
        f"{'file':30} {'frames':>6} {'markers':>7} {'MB':>5} {'read ms':>8} {'ezc3d ms':>8} "
        f"{'Mframe·marker/s':>15} {'match ms':>8}  up / units / best markerset"
    )
    print(header)
    print("-" * len(header))
    for path in files:
        size_mb = path.stat().st_size / 1e6
        try:
            rec = read_c3d(path)
        except C3DReadError as exc:
            t = best_of(partial(_try, path), repeat=5)
            print(f"{path.name:30} {'-':>6} {'-':>7} {size_mb:5.2f} {t * 1e3:8.1f}  rejected:")
            print(f"    {exc.reason}")
            continue
        t_read = best_of(partial(read_c3d, path), repeat=5)
        t_ez = best_of(partial(ezc3d.c3d, str(path)), repeat=5)
        t0 = time.perf_counter()
        ranked = best_markerset(rec.labels, rec.observed)
        t_match = time.perf_counter() - t0
        best = next((f"{n} ({c:.0%})" for n, m, c in ranked if m is not None), "none fits")
        rate = rec.n_frames * rec.n_markers / t_read / 1e6
        print(
            f"{path.name:30} {rec.n_frames:6d} {rec.n_markers:7d} {size_mb:5.2f} "
            f"{t_read * 1e3:8.1f} {t_ez * 1e3:8.1f} {rate:15.2f} {t_match * 1e3:8.1f}  "
            f"{rec.vertical_axis} ({rec.vertical_axis_source}) / {rec.units} / {best}"
        )


def _try(path: Path) -> None:
    with contextlib.suppress(C3DReadError):
        read_c3d(path)


if __name__ == "__main__":
    main()
