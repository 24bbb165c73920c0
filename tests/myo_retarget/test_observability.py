"""Joints no marker determines: NaN in the angles, named in the summary, flagged in the .npz."""

from __future__ import annotations

import json
from pathlib import Path

import mujoco
import numpy as np
import pytest

from myo_retarget import Character, Motion, load_character, retarget
from myo_retarget._kinematics import MarkerKinematics
from myo_retarget._observability import joints_below, observed_hinges, unmarked_bodies

from .motion_factory import OCCLUDED, RIGHT_ARM_JOINTS

# No shipped markerset puts a marker on the toes.
TOE_JOINTS = ("mtp_flex_r", "mtp_flex_l")
SHANK_JOINTS = ("knee_flex_l", "ankle_flex_l", "subtal_inve_l")


@pytest.fixture(scope="module")
def one_armed(one_armed_c3d: Path) -> Motion:
    """The retarget of a cmu recording without right-arm markers, the left shank occluded."""
    return retarget(one_armed_c3d, "cmu")


def test_joints_without_markers_are_nan_and_named(one_armed: Motion, tmp_path: Path) -> None:
    motion = one_armed
    unobserved = {*RIGHT_ARM_JOINTS, *TOE_JOINTS}
    for k, name in enumerate(motion.joint_names):
        column = motion.joint_angles_degrees[:, k]
        if name in unobserved:
            assert np.isnan(column).all(), name
            assert not motion.joint_observed[k], name
        else:
            assert motion.joint_observed[k], name
    # The pose itself stays what the fit left: physically consistent, every coordinate finite.
    assert np.isfinite(motion.qpos).all()
    s = motion.summary()
    assert set(s["unobserved_joints"]) == unobserved
    assert s["unmarked_bodies"] == ["humerus_r", "toes_r", "toes_l"]
    note = motion.unobserved_note()
    assert note is not None
    assert note.startswith("no markers on humerus_r, toes_r, toes_l or below; 9 joints left NaN:")
    assert "shoulder_flex_r" in note and "mtp_flex_l" in note

    back = Motion.load(motion.save(tmp_path / "one_arm.npz"))
    np.testing.assert_array_equal(back.joint_observed, motion.joint_observed)
    with np.load(tmp_path / "one_arm.npz") as d:
        assert d["joint_observed"].dtype == bool
        assert d["joint_observed"].shape == (len(d["joint_names"]),)
        meta = json.loads(str(d["metadata"]))
    assert meta["observation"]["unmarked_bodies"] == ["humerus_r", "toes_r", "toes_l"]


def test_joints_are_nan_in_the_frames_their_markers_are_missing(one_armed: Motion) -> None:
    motion = one_armed
    names = motion.joint_names
    for name in SHANK_JOINTS:
        column = motion.joint_angles_degrees[:, names.index(name)]
        gap = np.zeros(len(column), dtype=bool)
        gap[OCCLUDED] = True
        assert np.isnan(column[gap]).all(), name
        assert np.isfinite(column[~gap]).all(), name
        assert motion.joint_observed[names.index(name)], name
    # The thigh markers stay: the hip is measured throughout.
    hip = motion.joint_angles_degrees[:, names.index("hip_flex_l")]
    assert np.isfinite(hip).all()
    gaps = motion.summary()["joint_frames_without_data"]
    assert gaps == dict.fromkeys(SHANK_JOINTS, 40)


def test_an_old_npz_without_joint_observed_still_loads(one_armed: Motion, tmp_path: Path) -> None:
    path = one_armed.save(tmp_path / "new.npz")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files if k != "joint_observed"}
    arrays["joint_angles_degrees"] = np.nan_to_num(arrays["joint_angles_degrees"])  # old: zeros
    old = tmp_path / "old.npz"
    with old.open("wb") as fh:
        np.savez(fh, **arrays)
    motion = Motion.load(old)
    assert motion.joint_observed.all() and motion.summary()["unobserved_joints"] == []


# --------------------------------------------------------------------------- the rule


def _offset_on(character: Character, body: str, world: np.ndarray) -> np.ndarray:
    """The position in ``body``'s frame of a world point, at the character's neutral pose."""
    data = mujoco.MjData(character.model)
    data.qpos[:] = character.model.qpos0
    mujoco.mj_kinematics(character.model, data)
    b = character.body_id(body)
    offset: np.ndarray = data.xmat[b].reshape(3, 3).T @ (world - data.xpos[b])
    return offset


def _axis(character: Character, joint: str) -> tuple[np.ndarray, np.ndarray]:
    data = mujoco.MjData(character.model)
    data.qpos[:] = character.model.qpos0
    mujoco.mj_kinematics(character.model, data)
    j = character.model.joint(joint).id
    return data.xanchor[j].copy(), data.xaxis[j].copy()


def _observed(character: Character, markers: list[tuple[str, np.ndarray]]) -> set[str]:
    bodies = np.array([character.body_id(b) for b, _ in markers], dtype=np.int64)
    offsets = np.array([o for _, o in markers], dtype=np.float64)
    kin = MarkerKinematics(character, bodies, offsets)
    seen = observed_hinges(kin, np.ones((1, len(markers)), dtype=bool))[0]
    return {name for name, s in zip(character.hinge_names, seen, strict=True) if s}


def test_one_marker_on_the_spin_axis_leaves_the_spin_unobserved() -> None:
    character = load_character()
    anchor, axis = _axis(character, "hip_arot_r")
    knee = ("femur_r", _offset_on(character, "femur_r", anchor - 0.4 * axis))
    # A point on the thigh's long axis fixes where the thigh points, not how it is turned.
    assert _observed(character, [knee]) == {"hip_flex_r", "hip_abdu_r"}
    side = (
        "femur_r",
        _offset_on(character, "femur_r", anchor - 0.3 * axis + np.array([0.0, 0.06, 0.0])),
    )
    assert _observed(character, [knee, side]) == {"hip_flex_r", "hip_abdu_r", "hip_arot_r"}


def test_a_marker_on_a_hinge_axis_does_not_observe_it() -> None:
    character = load_character()
    anchor, axis = _axis(character, "knee_flex_r")
    on_axis = ("tibia_r", _offset_on(character, "tibia_r", anchor + 0.05 * axis))
    assert "knee_flex_r" not in _observed(character, [on_axis])
    below = ("tibia_r", _offset_on(character, "tibia_r", anchor + np.array([0.0, 0.0, -0.3])))
    assert "knee_flex_r" in _observed(character, [on_axis, below])


def test_unmarked_bodies_are_the_tops_of_the_subtrees_without_markers() -> None:
    character = load_character()
    m = character.model
    ids = [character.body_id(b) for b in ("pelvis", "thoracic_spine", "skull", "femur_l")]
    tops = unmarked_bodies(m, ids)
    assert [character.body_names[b - 1] for b in tops] == [
        "clavicle_r",
        "clavicle_l",
        "femur_r",
        "tibia_l",
    ]


def test_joints_below_names_every_hinge_of_the_subtrees() -> None:
    character = load_character()
    ids = [character.body_id(b) for b in ("humerus_r", "toes_l")]
    assert joints_below(character.model, ids) == [
        *("shoulder_flex_r", "shoulder_abdu_r", "shoulder_arot_r", "elbow_flex_r"),
        *("wrist_pron_r", "wrist_flex_r", "wrist_devi_r", "mtp_flex_l"),
    ]
    assert joints_below(character.model, []) == []
