"""Every shared recording that retargets exports to all five formats, and each file passes its
independent check: the Khronos glTF-Validator, a strict BVH reader's forward kinematics, OpenSim's
own table adapter, pyarrow and pandas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from myo_retarget import Motion, export_motion, retarget

from .export_checks import read_bvh, validate_gltf
from .test_real_recordings import RETARGETS

# The text formats print every number with full precision (as tests/myo_retarget/test_export.py).
RTOL, ATOL = 1e-9, 1e-9


@pytest.fixture(scope="module", params=sorted(RETARGETS))
def real_motion(request: pytest.FixtureRequest, shared_c3d: Path) -> Motion:
    name: str = request.param
    return retarget(shared_c3d / name, RETARGETS[name][0])


@pytest.mark.slow
def test_glb_passes_the_khronos_validator(real_motion: Motion, tmp_path: Path) -> None:
    report = validate_gltf(export_motion(real_motion, tmp_path / "m.glb", markers=True))
    issues = report["issues"]
    assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), issues["messages"]
    assert report["info"]["animationCount"] == 1


@pytest.mark.slow
def test_bvh_forward_kinematics_reproduce_the_bodies(real_motion: Motion, tmp_path: Path) -> None:
    names, frame_time, world = read_bvh(export_motion(real_motion, tmp_path / "m.bvh"))
    assert frame_time == pytest.approx(1.0 / real_motion.fps)
    order = [real_motion.body_names.index(n) for n in names]
    z_up = real_motion.body_positions[:, order]
    y_up = np.stack([z_up[..., 0], z_up[..., 2], -z_up[..., 1]], axis=-1)
    np.testing.assert_allclose(world, y_up, atol=1e-3)


@pytest.mark.slow
def test_mot_reads_back_with_opensims_adapter(real_motion: Motion, tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")  # the wheel needs Python >= 3.11
    table = opensim.TimeSeriesTable(str(export_motion(real_motion, tmp_path / "m.mot")))
    assert table.getNumRows() == real_motion.n_frames
    assert table.getTableMetaDataAsString("inDegrees") == "yes"
    labels = list(table.getColumnLabels())
    matrix = table.getMatrix().to_numpy()
    angles = matrix[:, [labels.index(n) for n in real_motion.joint_names]]
    np.testing.assert_allclose(angles, real_motion.joint_angles_degrees, rtol=RTOL, atol=ATOL)


@pytest.mark.slow
def test_parquet_and_csv_round_trip(real_motion: Motion, tmp_path: Path) -> None:
    qpos = pq.read_table(export_motion(real_motion, tmp_path / "q.parquet")).to_pandas()
    np.testing.assert_array_equal(qpos[real_motion.qpos_names].to_numpy(), real_motion.qpos)
    np.testing.assert_array_equal(qpos["time"].to_numpy(), real_motion.time_s)
    xpos = pd.read_parquet(export_motion(real_motion, tmp_path / "x.parquet", table="xpos"))
    xyz = [f"{body}_{axis}" for body in real_motion.body_names for axis in "xyz"]
    np.testing.assert_array_equal(
        xpos[xyz].to_numpy(), real_motion.body_positions.reshape(real_motion.n_frames, -1)
    )
    csv = pd.read_csv(export_motion(real_motion, tmp_path / "m.csv"))
    np.testing.assert_allclose(
        csv[real_motion.joint_names].to_numpy(),
        real_motion.joint_angles_degrees,
        rtol=RTOL,
        atol=ATOL,
    )
