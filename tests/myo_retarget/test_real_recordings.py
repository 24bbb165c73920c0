"""Every real recording in ../shared/data/c3d retargets with a markerset that fits it, or fails
with a specific error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myo_retarget import (
    SHIPPED_MARKERSETS,
    C3DReadError,
    MarkersetMismatchError,
    inspect_c3d,
    retarget,
)

# file -> (markerset, coverage at least, RMS residual below mm)
RETARGETS = {
    "cmu_01_01.c3d": ("cmu", 1.0, 9.0),
    "pig_motion_flatfoot_full.c3d": ("plug-in-gait", 0.8, 10.0),
    "pig_static_one_frame.c3d": ("plug-in-gait", 0.8, 6.0),
    "shd01_prefixed.c3d": ("plug-in-gait", 0.6, 8.0),  # upper body, every label prefixed
    "opensim_walking2.c3d": ("opensim-gait", 1.0, 16.5),  # half the samples missing
    "qualisys.c3d": ("qualisys", 1.0, 13.5),
    # The upper body's labels hold no data; the four pelvis markers anchor the legs.
    "functional_static_dec.c3d": ("plug-in-gait", 0.4, 12.0),
}
# file -> top bodies of the subtrees without markers: their joints have no data (NaN throughout).
# No shipped markerset has a marker on the toes.
UNMARKED = {
    "cmu_01_01.c3d": ["toes_r", "toes_l"],
    "pig_motion_flatfoot_full.c3d": ["toes_r", "toes_l"],
    "pig_static_one_frame.c3d": ["toes_r", "toes_l"],
    "shd01_prefixed.c3d": ["femur_r", "femur_l"],  # no leg markers
    "opensim_walking2.c3d": ["clavicle_r", "clavicle_l", "toes_r", "toes_l"],  # no arms
    "qualisys.c3d": ["toes_r", "toes_l"],
    "functional_static_dec.c3d": ["lumbar_spine", "toes_r", "toes_l"],  # no data above the pelvis
}
# No shipped markerset fits these labels: each must say so, naming what matched.
MISMATCHES = [
    "optotrak.c3d",  # Marker_1 … Marker_54
    "sprintbasket_metres.c3d",  # one arm, C7 and scapula only: 4 trunk markers (see below)
]


def test_the_list_covers_every_shared_file(shared_c3d: Path) -> None:
    listed = set(RETARGETS) | set(MISMATCHES) | {"mocap36_malformed.c3d"}
    assert {p.name for p in shared_c3d.glob("*.c3d")} == listed


@pytest.mark.parametrize("name", sorted(RETARGETS))
def test_retargets(shared_c3d: Path, name: str) -> None:
    markerset, coverage, rms_limit = RETARGETS[name]
    info = inspect_c3d(shared_c3d / name)
    assert info["best_markerset"]["name"] == markerset
    assert info["best_markerset"]["coverage"] >= coverage
    motion = retarget(shared_c3d / name, markerset)
    s = motion.summary()
    assert s["rms_residual_mm"] < rms_limit, s
    assert motion.frame_ok.any()
    assert s["unmarked_bodies"] == UNMARKED[name]
    angles, observed = motion.joint_angles_degrees, motion.joint_observed
    assert np.isnan(angles[:, ~observed]).all()
    assert np.isfinite(angles[:, observed]).any(axis=0).all()
    assert np.isfinite(motion.qpos).all()


# Plug-in Gait on the partial recordings: the bodies it leaves without markers.
PIG_UNMARKED = {
    "opensim_walking2.c3d": ["clavicle_r", "clavicle_l", "femur_r", "femur_l"],  # no limbs
    "shd01_prefixed.c3d": ["femur_r", "femur_l"],
}


@pytest.mark.parametrize(
    ("name", "missing", "kept", "n_nan"),
    [
        ("opensim_walking2.c3d", ("hip", "knee", "ankle", "shoulder", "elbow"), ("neck",), 32),
        ("shd01_prefixed.c3d", ("hip", "knee", "ankle"), ("shoulder", "elbow", "neck"), 14),
    ],
)
def test_partial_recordings_leave_the_missing_segments_nan(
    shared_c3d: Path, name: str, missing: tuple[str, ...], kept: tuple[str, ...], n_nan: int
) -> None:
    # These used to "succeed" with every joint of the absent limbs at exactly 0 deg, and
    # inspect_c3d called plug-in-gait a fit without a word about the missing limbs.
    ranking = inspect_c3d(shared_c3d / name)["markersets"]
    pig = next(m for m in ranking if m["name"] == "plug-in-gait")
    assert pig["name"] == "plug-in-gait" and pig["fits"] and pig["partial"]
    assert pig["unobserved_bodies"] == PIG_UNMARKED[name]
    assert pig["note"].startswith("partial fit (")
    motion = retarget(shared_c3d / name, "plug-in-gait")
    for k, joint in enumerate(motion.joint_names):
        column = motion.joint_angles_degrees[:, k]
        if joint.startswith(missing):
            assert np.isnan(column).all() and not motion.joint_observed[k], joint
        elif joint.startswith(kept):
            assert motion.joint_observed[k] and np.isfinite(column).any(), joint
    note = motion.unobserved_note()
    assert note is not None and "femur_r, femur_l or below" in note
    assert f"; {n_nan} joints left NaN: " in note


def test_cmu_01_01_meets_the_residual_targets(shared_c3d: Path) -> None:
    # The figures (benchmarks/bench_retarget.py prints them): RMS <= 8 mm and p95 of the
    # per-frame max <= 30 mm, over measured samples.
    motion = retarget(shared_c3d / "cmu_01_01.c3d", "cmu")
    s = motion.summary()
    assert s["rms_residual_mm"] <= 8.0 and s["p95_frame_max_residual_mm"] <= 30.0, s
    # The file's gap fills (zero residual): RFHD bridged over 141 frames, CLAV over 147.
    filled = dict(zip(motion.marker_names, motion.marker_gap_filled.sum(axis=0), strict=True))
    assert filled["RFHD"] == 141 and filled["CLAV"] == 147
    assert s["gap_filled_samples"] == sum(filled.values()) == 857


@pytest.mark.parametrize("name", MISMATCHES)
def test_mismatch_is_specific(shared_c3d: Path, name: str) -> None:
    assert inspect_c3d(shared_c3d / name)["best_markerset"] is None
    for markerset in SHIPPED_MARKERSETS:
        with pytest.raises(MarkersetMismatchError, match="trunk/pelvis markers") as info:
            retarget(shared_c3d / name, markerset)
        assert len(info.value.matched) < len(info.value.missing)


def test_malformed_file_is_rejected(shared_c3d: Path) -> None:
    with pytest.raises(C3DReadError, match=r"mocap36_malformed\.c3d: "):
        retarget(shared_c3d / "mocap36_malformed.c3d", "cmu")


def test_units_and_prefixes_are_handled(shared_c3d: Path) -> None:
    metres = inspect_c3d(shared_c3d / "sprintbasket_metres.c3d")
    assert metres["units"] == "m"
    prefixed = inspect_c3d(shared_c3d / "shd01_prefixed.c3d")
    assert "RASI" in prefixed["labels"]


def test_labels_without_data_are_named_as_such(shared_c3d: Path) -> None:
    # functional_static_dec.c3d stores its upper-body markers as all (0,0,0): the error used to
    # list them as missing and advise writing a new markerset; then it refused the trial for
    # too few trunk markers, though its four pelvis markers anchor the legs.
    path = shared_c3d / "functional_static_dec.c3d"
    upper = ["LSHO", "RSHO", "C7", "T10", "CLAV", "STRN", "RBAK", "SACR"]
    info = inspect_c3d(path)
    assert set(upper) <= set(info["empty_labels"])
    pig = info["best_markerset"]
    assert pig["name"] == "plug-in-gait" and pig["partial"]
    assert set(upper) <= set(pig["empty"])
    assert "no markers on lumbar_spine or below" in pig["note"]
    assert "LFHD, LBHD, LSHO" in pig["note"] and "are in the file but hold no data" in pig["note"]
    motion = retarget(path, "plug-in-gait")
    observed = dict(zip(motion.joint_names, motion.joint_observed, strict=True))
    assert all(observed[j] for j in ("hip_flex_r", "knee_flex_l", "ankle_flex_r"))
    assert not any(observed[j] for j in ("lumbar_flex", "neck_flex", "elbow_flex_r"))
