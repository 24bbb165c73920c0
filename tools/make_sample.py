"""Cut the shipped sample recording from the CMU trial in ../shared/data (run by hand).

``uv run python tools/make_sample.py`` writes ``src/myo_retarget/data/samples/cmu_01_01_412.c3d``:
the first 412 frames (3.4 s at 120 Hz) of CMU subject 01 trial 01, markers only, in millimetres.

The data used in this project was obtained from mocap.cs.cmu.edu. The database was created with
funding from NSF EIA-0196217.
"""

from __future__ import annotations

from pathlib import Path

import ezc3d
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "c3d" / "cmu_01_01.c3d"
TARGET = ROOT / "src" / "myo_retarget" / "data" / "samples" / "cmu_01_01_412.c3d"
FRAMES = 412


def main() -> None:
    src = ezc3d.c3d(str(SOURCE))
    point = src["parameters"]["POINT"]
    labels = list(point["LABELS"]["value"])
    points = np.array(src["data"]["points"][:, :, :FRAMES], dtype=float)
    residuals = np.array(src["data"]["meta_points"]["residuals"][:, :, :FRAMES], dtype=float)
    out = ezc3d.c3d()
    out["parameters"]["POINT"]["RATE"]["value"] = [float(point["RATE"]["value"][0])]
    # Residuals are stored in units of |POINT:SCALE|: keep the source's, or sub-unit residuals
    # would round to 0, which marks a sample as gap-filled.
    out["parameters"]["POINT"]["SCALE"]["value"] = [float(point["SCALE"]["value"][0])]
    out["parameters"]["POINT"]["LABELS"]["value"] = tuple(labels)
    out.add_parameter("POINT", "UNITS", [point["UNITS"]["value"][0]])
    out.add_parameter(
        "POINT",
        "DESCRIPTIONS",
        ["CMU mocap subject 01 trial 01, first 412 frames (mocap.cs.cmu.edu)"] * len(labels),
    )
    out["data"]["points"] = points
    out["data"]["meta_points"] = {
        "residuals": residuals,
        "camera_masks": np.zeros((7, len(labels), FRAMES), dtype=bool),
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    out.write(str(TARGET))
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
