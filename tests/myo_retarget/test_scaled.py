"""The scaled character of a motion, saved as a MuJoCo binary model."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from myo_retarget import Motion, load_character, retarget, save_scaled_model


def test_saved_scaled_model_reproduces_the_motions_body_positions(
    walk_c3d: Path, tmp_path: Path
) -> None:
    motion = retarget(walk_c3d, "cmu")
    motion = Motion.load(motion.save(tmp_path / "walk.npz"))  # what a worker has: the saved file
    assert any(abs(s - 1.0) > 1e-3 for s in motion.scale_factors.values())  # really scaled
    path = save_scaled_model(motion, tmp_path / "scaled.mjb")

    model = mujoco.MjModel.from_binary_path(str(path))
    assert model.nbody == load_character().model.nbody
    data = mujoco.MjData(model)
    for f in (0, motion.n_frames // 2, motion.n_frames - 1):
        data.qpos[:] = motion.qpos[f]
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(data.xpos[1:], motion.body_positions[f], atol=1e-9)
