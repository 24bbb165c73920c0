"""The same motion as C3D, TRC, CSV and parquet gives the same joint angles (issue 12: at most
0.5 deg RMS apart), on the shipped sample and on a real recording.

A C3D file can say more than the tables: its residuals mark the samples the capture software
gap-filled, which the engine does not fit on. The formats are compared on the same information
(a C3D without those marks), and the original C3D's distance to them is measured as well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myo_retarget import Motion, read_c3d, retarget, sample_c3d_path

from .tracker_factory import c3d_as_tables

MAX_RMS_DEG = 0.5
# The original C3D against the tables, when it marks gap-filled samples (0.7 % of cmu_01_01's).
MAX_RMS_GAP_FILLED_DEG = 1.0


def _rms_apart(a: Motion, b: Motion) -> float:
    """RMS difference of two motions' joint angles, degrees, over the samples both observe."""
    x, y = a.joint_angles_degrees, b.joint_angles_degrees
    both = ~np.isnan(x) & ~np.isnan(y)
    return float(np.sqrt(np.mean((x[both] - y[both]) ** 2)))


def _check_equivalent(c3d: Path, markerset: str, out: Path) -> None:
    paths = c3d_as_tables(c3d, out)
    motions = {fmt: retarget(path, markerset) for fmt, path in paths.items()}
    original = motions.pop("c3d")
    reference = motions.pop("c3d_unflagged")
    rms = {fmt: round(_rms_apart(reference, m), 4) for fmt, m in motions.items()}
    from_original = {fmt: round(_rms_apart(original, m), 4) for fmt, m in motions.items()}
    gap_filled = int(read_c3d(c3d).gap_filled.sum())
    print(
        f"\n{c3d.name}: joint angles RMS apart (deg) from the same markers as C3D: {rms}; from "
        f"the original C3D ({gap_filled} gap-filled samples marked): {from_original}"
    )
    for fmt, motion in motions.items():
        assert motion.metadata["source"]["format"] == fmt
        assert motion.fps == reference.fps and motion.qpos.shape == reference.qpos.shape
        same = np.isnan(motion.joint_angles_degrees) == np.isnan(reference.joint_angles_degrees)
        assert same.all()
    assert max(rms.values()) <= MAX_RMS_DEG, rms
    limit = MAX_RMS_GAP_FILLED_DEG if gap_filled else MAX_RMS_DEG
    assert max(from_original.values()) <= limit, from_original


def test_the_shipped_sample_retargets_alike_from_every_format(tmp_path: Path) -> None:
    _check_equivalent(sample_c3d_path(), "cmu", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("recording", "markerset"),
    # cmu_01_01 marks gap-filled samples; pig_motion_flatfoot_full marks none, so its original
    # C3D holds exactly what the tables hold.
    [("cmu_01_01.c3d", "cmu"), ("pig_motion_flatfoot_full.c3d", "plug-in-gait")],
)
def test_a_real_recording_retargets_alike_from_every_format(
    shared_c3d: Path, recording: str, markerset: str, tmp_path: Path
) -> None:
    _check_equivalent(shared_c3d / recording, markerset, tmp_path)
