"""Ground truth: motion generated from known joint angles, written as C3D, must come back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myo_retarget import (
    IKSettings,
    MarkersetMismatchError,
    RetargetOptions,
    load_character,
    retarget,
)

from .c3d_factory import write_c3d
from .motion_factory import UNOBSERVED, known_motion, marker_trajectories

RATE = 120.0
FRAMES = 360


def _recording(
    tmp_path: Path, scales: dict[str, float] | None, vertical: str, seed: int
) -> tuple[Path, np.ndarray, list[str]]:
    character = load_character()
    qpos = known_motion(character, FRAMES, RATE, seed=seed)
    labels, positions = marker_trajectories(character, "cmu", qpos, scales)
    rng = np.random.default_rng(seed)
    positions = positions + rng.normal(0.0, 0.001, positions.shape)  # 1 mm per axis
    for k in rng.choice(len(labels), size=6, replace=False):  # gaps of 1/6 s
        start = int(rng.integers(0, FRAMES - 20))
        positions[start : start + 20, k] = np.nan
    path = write_c3d(
        tmp_path / "known.c3d", labels, positions, RATE, vertical=vertical, prefix="Sub:"
    )
    return path, qpos, character.hinge_names


def _angle_rms(motion_angles: np.ndarray, qpos: np.ndarray, names: list[str]) -> dict[str, float]:
    truth = np.degrees(qpos[:, 7:])
    return {
        n: float(np.sqrt(np.mean((motion_angles[:, k] - truth[:, k]) ** 2)))
        for k, n in enumerate(names)
        if n not in UNOBSERVED
    }


def test_recovers_joint_angles_without_scaling(tmp_path: Path) -> None:
    path, qpos, names = _recording(tmp_path, None, "+Y", seed=3)
    motion = retarget(path, "cmu", options=RetargetOptions(enable_scaling=False))
    per_joint = _angle_rms(motion.joint_angles_degrees, qpos, names)
    overall = float(np.sqrt(np.mean(np.square(list(per_joint.values())))))
    assert overall <= 1.0, sorted(per_joint.items(), key=lambda kv: -kv[1])[:6]
    assert max(per_joint.values()) < 3.0, per_joint
    assert motion.metadata["source"]["vertical_axis"] == "+Y"
    assert motion.frame_ok.all()


def test_recovers_joint_angles_with_scaling_from_a_perturbed_size(tmp_path: Path) -> None:
    scales = {
        "pelvis": 1.08,
        "trunk": 1.03,
        "head": 1.02,
        "shoulder": 1.06,
        "upper_arm": 1.10,
        "forearm": 1.05,
        "hand": 1.04,
        "thigh": 1.12,
        "shank": 1.06,
        "foot": 1.05,
    }
    path, qpos, names = _recording(tmp_path, scales, "+Z", seed=5)
    motion = retarget(path, "cmu", options=RetargetOptions(subject_height=1.75 * 1.06))
    per_joint = _angle_rms(motion.joint_angles_degrees, qpos, names)
    overall = float(np.sqrt(np.mean(np.square(list(per_joint.values())))))
    assert overall <= 1.0, sorted(per_joint.items(), key=lambda kv: -kv[1])[:6]
    for segment in ("thigh", "shank", "upper_arm", "trunk"):
        assert motion.scale_factors[segment] == pytest.approx(scales[segment], abs=0.02)
    rms = motion.summary()["rms_residual_mm"]
    assert rms is not None and rms < 2.5


def test_gap_filled_samples_do_not_pull_the_fit(tmp_path: Path) -> None:
    # A capture package bridged long occlusions of two head markers and CLAV with a spline that
    # cuts through the body, and marked those samples with a zero residual (the C3D convention).
    character = load_character()
    qpos = known_motion(character, FRAMES, RATE, seed=11)
    labels, positions = marker_trajectories(character, "cmu", qpos, None)
    rng = np.random.default_rng(11)
    positions = positions + rng.normal(0.0, 0.001, positions.shape)
    residuals = np.full(positions.shape[:2], 2.0)
    bump = np.sin(np.linspace(0.0, np.pi, 121))[:, None] * np.array([0.0, 0.06, -0.04])
    for name, (a, b) in {"RFHD": (60, 180), "RBHD": (90, 210), "CLAV": (200, 320)}.items():
        k = labels.index(name)
        t = np.linspace(0.0, 1.0, b - a + 1)[:, None]
        positions[a : b + 1, k] = (1 - t) * positions[a, k] + t * positions[b, k] + bump
        residuals[a + 1 : b, k] = 0.0
    path = write_c3d(tmp_path / "filled.c3d", labels, positions, RATE, residuals=residuals)
    options = RetargetOptions(enable_scaling=False)

    motion = retarget(path, "cmu", options=options)
    n_filled = 2 * 119 + 119
    assert int(motion.marker_gap_filled.sum()) == n_filled
    assert motion.summary()["gap_filled_samples"] == n_filled
    per_joint = _angle_rms(motion.joint_angles_degrees, qpos, character.hinge_names)
    overall = float(np.sqrt(np.mean(np.square(list(per_joint.values())))))
    assert overall <= 1.0, sorted(per_joint.items(), key=lambda kv: -kv[1])[:6]

    # Fitted like measurements, the same samples bend the neck and trunk.
    naive = retarget(path, "cmu", options=options, ik_settings=IKSettings(gap_filled_weight=1.0))
    naive_joint = _angle_rms(naive.joint_angles_degrees, qpos, character.hinge_names)
    spine = [n for n in per_joint if n.startswith(("neck", "thorax", "lumbar"))]
    assert max(naive_joint[n] for n in spine) > 3 * max(per_joint[n] for n in spine)


@pytest.mark.parametrize("pelvis", [("LFWT", "RFWT", "LBWT", "RBWT"), ("LFWT", "RFWT", "LBWT")])
def test_a_lower_body_recording_gives_the_legs_from_its_pelvis_markers(
    tmp_path: Path, pelvis: tuple[str, ...]
) -> None:
    # A lower-body set (3 or 4 pelvis markers, the legs, nothing above) fixes the root by the
    # pelvis alone: the legs come back, the trunk and arms are left without data.
    character = load_character()
    qpos = known_motion(character, FRAMES, RATE, seed=7)
    labels, positions = marker_trajectories(character, "cmu", qpos, None)
    legs = ("THI", "KNE", "SHN", "ANK", "HEE", "TOE", "MT5")
    keep = [k for k, lb in enumerate(labels) if lb in pelvis or lb[1:] in legs]
    noise = np.random.default_rng(7).normal(0.0, 0.001, (FRAMES, len(keep), 3))
    path = write_c3d(
        tmp_path / "legs.c3d", [labels[k] for k in keep], positions[:, keep] + noise, RATE
    )
    motion = retarget(path, "cmu", options=RetargetOptions(enable_scaling=False))
    truth = np.degrees(qpos[:, 7:])
    names = character.hinge_names
    for joint in ("hip_flex_r", "hip_abdu_l", "knee_flex_r", "knee_flex_l", "ankle_flex_l"):
        k = names.index(joint)
        err = motion.joint_angles_degrees[:, k] - truth[:, k]
        assert float(np.sqrt(np.mean(err**2))) < 2.0, (joint, err)
    assert {"lumbar_flex", "elbow_flex_r", "shoulder_flex_l"} <= set(motion.unobserved_joints)


def test_two_pelvis_markers_do_not_anchor_a_lower_body_recording(tmp_path: Path) -> None:
    character = load_character()
    qpos = known_motion(character, 60, RATE, seed=7)
    labels, positions = marker_trajectories(character, "cmu", qpos, None)
    keep = [k for k, lb in enumerate(labels) if lb in ("LFWT", "RFWT") or lb[1:] in ("KNE", "ANK")]
    path = write_c3d(tmp_path / "legs.c3d", [labels[k] for k in keep], positions[:, keep], RATE)
    with pytest.raises(
        MarkersetMismatchError, match=r"2 on the pelvis \(need 6, or 3 on the pelvis"
    ):
        retarget(path, "cmu")
