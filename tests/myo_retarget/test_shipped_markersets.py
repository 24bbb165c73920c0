"""The shipped markersets: each is the generator's output, fits the default character, and
retargets a real recording of its convention with the legs observed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from myo_retarget import (
    SHIPPED_MARKERSETS,
    MarkersetMismatchError,
    RetargetOptions,
    inspect_c3d,
    load_character,
    load_markerset,
    read_markers,
    retarget,
    shipped_markerset_path,
)
from myo_retarget._markerset import MIN_TRUNK_MARKERS, is_trunk_body

from .c3d_factory import write_c3d
from .motion_factory import known_motion, marker_trajectories

ROOT = Path(__file__).resolve().parents[2]
LEG_JOINTS = [f"{j}_{s}" for s in "rl" for j in ("hip_flex", "knee_flex", "ankle_flex")]

# The real CMU walk relabelled with the Motive skeleton names of the same anatomical spots, as
# Motive exports them (subject prefix): no shared recording uses Motive's skeleton names.
CMU_AS_MOTIVE = {
    "LFWT": "WaistLFront",
    "RFWT": "WaistRFront",
    "LBWT": "WaistLBack",
    "RBWT": "WaistRBack",
    "C7": "BackTop",
    "STRN": "Chest",
    "RBAC": "BackRight",
    **{
        f"{s}{cmu}": f"{s}{motive}"
        for s in "LR"
        for cmu, motive in (
            ("SHO", "ShoulderTop"),
            ("UPA", "UArmHigh"),
            ("ELB", "ElbowOut"),
            ("WRA", "WristOut"),
            ("WRB", "WristIn"),
            ("THI", "Thigh"),
            ("KNE", "KneeOut"),
            ("SHN", "Shin"),
            ("ANK", "AnkleOut"),
            ("HEE", "Heel"),
            ("MT5", "ToeOut"),
        )
    },
}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_character", ROOT / "tools" / "build_character.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_character"] = module
    spec.loader.exec_module(module)
    return module


def test_shipped_markersets_are_what_the_generator_writes() -> None:
    written = _generator().shipped_markersets()
    assert sorted(written) == sorted(SHIPPED_MARKERSETS)
    for name, text in written.items():
        assert shipped_markerset_path(name).read_text(encoding="utf-8") == text, name


@pytest.mark.parametrize("name", SHIPPED_MARKERSETS)
def test_each_shipped_markerset_fits_the_default_character(name: str) -> None:
    character = load_character()
    mset = load_markerset(name, valid_bodies=character.body_names)  # unknown bodies raise
    assert mset.written_for(character.info.name)
    assert sum(is_trunk_body(m.body) for m in mset.markers) >= MIN_TRUNK_MARKERS
    assert len({m.name.upper() for m in mset.markers}) == len(mset.markers)


@pytest.mark.parametrize("name", SHIPPED_MARKERSETS)
def test_each_shipped_markerset_recovers_a_known_motion(tmp_path: Path, name: str) -> None:
    # Without ../shared: a walk written with the set's own markers (1 mm noise, prefixed) comes
    # back at the knees and elbows it marks, so each set is well posed on its own.
    character = load_character()
    qpos = known_motion(character, 120, 100.0, seed=5)
    labels, positions = marker_trajectories(character, name, qpos)
    positions += np.random.default_rng(5).normal(0.0, 0.001, positions.shape)
    path = write_c3d(tmp_path / f"{name}.c3d", labels, positions, 100.0, prefix="Subject:")
    motion = retarget(path, name, options=RetargetOptions(enable_scaling=False))
    assert motion.summary()["rms_residual_mm"] < 3.0
    truth = np.degrees(qpos[:, 7:])
    # The sets without leg markers (the wheelchair one) or without arm markers (OpenSim's).
    unmarked = {"optitrack-rigid-bodies": "knee", "opensim-gait": "elbow"}.get(name, "none")
    for joint in ("knee_flex_r", "knee_flex_l", "elbow_flex_l"):
        k = motion.joint_names.index(joint)
        assert motion.joint_observed[k] == (not joint.startswith(unmarked)), joint
        if not motion.joint_observed[k]:
            continue
        error = float(np.sqrt(np.mean((motion.joint_angles_degrees[:, k] - truth[:, k]) ** 2)))
        assert error < 3.0, (joint, error)


@pytest.fixture(scope="module")
def motive_c3d(shared_c3d: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cmu_01_01.c3d with the CMU_AS_MOTIVE labels (others dropped), prefixed ``Skeleton_001:``."""
    rec = read_markers(shared_c3d / "cmu_01_01.c3d")
    cols = [rec.labels.index(cmu) for cmu in CMU_AS_MOTIVE]
    path = tmp_path_factory.mktemp("motive") / "cmu_01_01_motive.c3d"
    labels = list(CMU_AS_MOTIVE.values())
    return write_c3d(path, labels, rec.positions[:, cols], rec.rate, prefix="Skeleton_001:")


# recording -> (markerset it is written in, RMS residual bound mm: ~1.5x the measured one)
GAIT = {
    "qualisys.c3d": ("qualisys", 13.5),  # measured 8.9 mm
    "opensim_walking2.c3d": ("opensim-gait", 16.5),  # measured 11.1 mm
    "motive": ("optitrack-motive", 11.0),  # measured 7.3 mm
}


@pytest.mark.parametrize("recording", sorted(GAIT))
def test_a_real_recording_of_each_convention_retargets_with_its_legs(
    shared_c3d: Path, motive_c3d: Path, recording: str
) -> None:
    markerset, rms_bound = GAIT[recording]
    path = motive_c3d if recording == "motive" else shared_c3d / recording
    best = inspect_c3d(path)["best_markerset"]
    assert best["name"] == markerset and best["fits"] and best["coverage"] > 0.5, best
    motion = retarget(path, markerset)
    s = motion.summary()
    assert s["rms_residual_mm"] < rms_bound, s
    angles = motion.joint_angles_degrees
    for joint in LEG_JOINTS:
        column = angles[:, motion.joint_names.index(joint)]
        assert np.isfinite(column).mean() > 0.55, joint  # opensim_walking2: half missing
    for knee in ("knee_flex_r", "knee_flex_l"):
        column = angles[:, motion.joint_names.index(knee)]
        low, high = np.nanpercentile(column, [2, 98])
        # Gait: near extension at heel strike, 50-90 deg in swing.
        assert -10.0 < low < 20.0 and 45.0 < high - low < 100.0, (knee, low, high)


def test_the_half_missing_opensim_trial_says_where_its_joints_have_no_data(
    shared_c3d: Path,
) -> None:
    # opensim_walking2.c3d holds no data for about half its markers at its start and end.
    motion = retarget(shared_c3d / "opensim_walking2.c3d", "opensim-gait")
    missing = motion.joint_frames_without_data
    assert all(missing[j] > 0.2 * motion.n_frames for j in LEG_JOINTS), missing
    note = motion.unobserved_note()
    assert note is not None and "NaN in the frames where their markers are missing" in note
    # The lab's computed joint centres are matched but weigh nothing in the fit.
    weights = {m.name: m.ik_weight for m in load_markerset("opensim-gait").markers}
    assert {n for n, w in weights.items() if w == 0} == {f"{s}{j}JC" for s in "LR" for j in "HKA"}
    assert "RHJC" in motion.marker_names


def test_the_wheelchair_recording_is_told_it_has_too_few_trunk_markers(shared_c3d: Path) -> None:
    # sprintbasket_metres.c3d: Motive rigid bodies on the left arm and forearm, landmarks on the
    # head, C7 and the left scapula, and the chair. No shipped set fitted it at all; now
    # optitrack-rigid-bodies matches every body label, and the fit is refused for the trunk only.
    path = shared_c3d / "sprintbasket_metres.c3d"
    ranking = inspect_c3d(path)["markersets"]
    top = ranking[0]
    assert top["name"] == "optitrack-rigid-bodies" and not top["fits"]
    assert "only 4 trunk/pelvis markers match" in top["note"]
    assert {"ArmL:Marker1", "ForearmL:Marker4", "AcromionL", "LateralEpicondyleL", "C7"} <= set(
        top["matched"]
    )
    with pytest.raises(MarkersetMismatchError, match="matches only 4 trunk/pelvis markers") as err:
        retarget(path, "optitrack-rigid-bodies")
    assert not any(label.startswith(("Wheelchair", "SWL")) for label in err.value.matched)
