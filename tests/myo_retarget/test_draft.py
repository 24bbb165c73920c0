"""draft_markerset: landmarks by name, the other markers by rigidity, and what it cannot do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myo_retarget import (
    MarkersetMismatchError,
    draft_markerset,
    load_character,
    load_markerset,
    retarget,
)
from myo_retarget._draft import MAX_SPREAD_MM
from myo_retarget._landmarks import LANDMARKS, placement, recognise

from .c3d_factory import write_c3d
from .motion_factory import PIG_ZEROED, known_motion, marker_trajectories
from .tracker_factory import write_trc

# Plug-in-gait markers written under names no convention uses.
RENAMED = {
    "LTHI": "Marker_7",
    "RTIB": "Marker_8",
    "LUPA": "Marker_10",
    "RFRA": "Marker_11",
    "LFHD": "Marker_12",
    "RBAK": "Marker_13",
}
# The right knee marker, renamed too: it sits on the knee's flexion axis.
ON_AXIS = "Marker_9"
NOISE = "Marker_99"
# Noise under a landmark's name (the right hip centre): its name is no proof.
NAMED_NOISE = "RHJC"


@pytest.mark.parametrize(
    ("label", "key", "side"),
    [
        ("LASI", "ASIS", "l"),
        ("L_IAS", "ASIS", "l"),
        ("LeftASIS", "ASIS", "l"),
        ("L.ASIS", "ASIS", "l"),
        ("WaistLFront", "ASIS", "l"),
        ("LFWT", "ASIS", "l"),
        ("lasi", "ASIS", "l"),
        ("RightASIS", "ASIS", "r"),
        ("Sub01:R_IAS", "ASIS", "r"),
        ("RBWT", "PSIS", "r"),
        ("LKNE", "KNEE_LATERAL", "l"),
        ("L_FLE", "KNEE_LATERAL", "l"),
        ("LKneeOut", "KNEE_LATERAL", "l"),
        ("L.Knee.Lat", "KNEE_LATERAL", "l"),
        ("RLFC", "KNEE_LATERAL", "r"),
        ("R_FME", "KNEE_MEDIAL", "r"),
        ("LLMAL", "ANKLE_LATERAL", "l"),
        ("RMMAL", "ANKLE_MEDIAL", "r"),
        ("R_FCC", "HEEL", "r"),
        ("RCAL", "HEEL", "r"),
        ("LHJC", "HIP_CENTRE", "l"),
        ("AcromionL", "ACROMION", "l"),
        ("LateralEpicondyleL", "ELBOW_LATERAL", "l"),
        ("R_RSP", "RADIAL_STYLOID", "r"),
        ("CV7", "C7", ""),
        ("C7", "C7", ""),
        ("SNJ", "JUGULAR_NOTCH", ""),
        ("CLAV", "JUGULAR_NOTCH", ""),
        ("SXS", "XIPHOID", ""),
        ("TV8", "T8", ""),
        # OptiTrack Motive's skeleton marker names
        ("Skeleton:WaistRBack", "PSIS", "r"),
        ("LShoulderTop", "ACROMION", "l"),
        ("BackLeft", "SCAPULA", "l"),
        ("Chest", "XIPHOID", ""),
        ("LUArmHigh", "UPPER_ARM", "l"),
        ("RElbowOut", "ELBOW_LATERAL", "r"),
        ("LThigh", "THIGH", "l"),
        ("RShin", "SHANK", "r"),
        ("LAnkleOut", "ANKLE_LATERAL", "l"),
        ("RHeel", "HEEL", "r"),
        ("LToeOut", "MT5", "l"),
        ("LToeIn", "MT1", "l"),
        ("RToeTip", "TOE", "r"),
    ],
)
def test_labels_of_every_convention_name_their_landmark(label: str, key: str, side: str) -> None:
    found = recognise(label)
    assert found is not None, label
    assert (found[0].key, found[1]) == (key, side)


@pytest.mark.parametrize("label", ["Marker_7", "RTH1", "L_WAND1", "Sync", "ArmL:Marker1", "LFC"])
def test_other_labels_name_no_landmark(label: str) -> None:
    assert recognise(label) is None


def test_landmarks_sit_where_the_shipped_markersets_put_them() -> None:
    pig = {m.name: m for m in load_markerset("plug-in-gait").markers}
    for name, key in (("ASI", "ASIS"), ("KNE", "KNEE_LATERAL"), ("HEE", "HEEL")):
        landmark = next(lm for lm in LANDMARKS if lm.key == key)
        for side in "lr":
            p = placement(landmark, side)
            shipped = pig[side.upper() + name]
            assert (p.body, p.pos) == (shipped.body, shipped.pos)
    # A medial landmark is its lateral one mirrored (z is lateral on both sides).
    medial = placement(next(lm for lm in LANDMARKS if lm.key == "KNEE_MEDIAL"), "r")
    assert medial.body == "femur_r" and medial.pos[2] == -pig["RKNE"].pos[2]


@pytest.fixture(scope="module")
def renamed_walk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plug-in-gait walk of the character with six markers renamed (RENAMED), the right knee
    marker renamed ON_AXIS, and two markers of random noise around the subject (NOISE,
    NAMED_NOISE)."""
    character = load_character()
    qpos = known_motion(character, 240, 120.0, seed=7)
    labels, positions = marker_trajectories(character, "plug-in-gait", qpos)
    rng = np.random.default_rng(7)
    positions += rng.normal(0.0, 0.0005, positions.shape)
    noise = positions[:, [labels.index("SACR")] * 2] + rng.uniform(-0.3, 0.3, (240, 2, 3))
    renamed = {**RENAMED, "RKNE": ON_AXIS}
    labels = [renamed.get(label, label) for label in labels] + [NOISE, NAMED_NOISE]
    positions = np.concatenate([positions, noise], axis=1)
    return write_c3d(tmp_path_factory.mktemp("draft") / "renamed.c3d", labels, positions, 120.0)


def test_unknown_names_are_attached_by_rigidity_to_the_right_body(renamed_walk: Path) -> None:
    draft = draft_markerset(renamed_walk)
    pig = {m.name: m for m in load_markerset("plug-in-gait").markers}
    rows = {m.label: m for m in draft.markers}
    for original, renamed in RENAMED.items():
        row = rows[renamed]
        truth = pig[original]
        assert (row.method, row.body) == ("rigidity", truth.body), renamed
        assert np.linalg.norm(np.subtract(row.pos, truth.pos)) < 0.01, (renamed, row.pos)
        assert row.confidence > 0.7 and row.spread_mm < 3.0 and row.movable, row
    assert rows["LASI"].method == "synonym" and rows["LASI"].landmark == "ASIS"
    # On the flexion axis a marker moves with thigh and shank alike: placed, but flagged unsure.
    knee = rows[ON_AXIS]
    assert {knee.body, knee.landmark} == {"femur_r", "tibia_r"} and knee.confidence < 0.5
    assert np.linalg.norm(np.subtract(knee.pos, pig["RKNE"].pos)) < 0.01
    assert NOISE not in rows
    [reason] = [lo.reason for lo in draft.left_out if lo.label == NOISE]
    assert "moves with no body" in reason and f"limit {MAX_SPREAD_MM:g}" in reason
    assert NAMED_NOISE not in rows
    [reason] = [lo.reason for lo in draft.left_out if lo.label == NAMED_NOISE]
    assert reason.startswith("named like HIP_CENTRE (femur_r) but moves")
    assert draft.fit_rms_mm < 2.0


def test_the_draft_retargets_its_recording(renamed_walk: Path, tmp_path: Path) -> None:
    draft = draft_markerset(renamed_walk)
    path = draft.save(tmp_path / "draft.xml")
    mset = load_markerset(path)
    assert {m.name: m.movable for m in mset.markers}["Marker_7"] is True
    assert {m.name: m.movable for m in mset.markers}["LASI"] is False
    assert f"Draft from {renamed_walk.name}" in path.read_text()
    motion = retarget(renamed_walk, path)
    assert motion.summary()["rms_residual_mm"] < 3.0
    assert "Marker_7" in motion.marker_names


def test_result_is_json_and_a_short_summary(renamed_walk: Path) -> None:
    draft = draft_markerset(renamed_walk)
    data = json.loads(json.dumps(draft.to_dict()))
    assert "xml" not in data and data["fit_frames"] == draft.fit_frames
    row = next(m for m in data["markers"] if m["label"] == "Marker_7")
    assert row["body"] == "femur_l" and row["method"] == "rigidity"
    text = draft.summary()
    assert text.startswith("Draft markerset for renamed.c3d:") and NOISE in text
    assert len(text) < 1000


def test_a_trc_recording_drafts_alike(renamed_walk: Path, tmp_path: Path) -> None:
    from myo_retarget import read_markers

    rec = read_markers(renamed_walk)
    trc = write_trc(tmp_path / "renamed.trc", rec.labels, rec.positions, rec.rate)
    rows = {m.label: m for m in draft_markerset(trc).markers}
    assert rows["Marker_7"].body == "femur_l" and rows["Marker_8"].body == "tibia_r"


def test_no_landmark_names_says_why_and_what_to_do(tmp_path: Path) -> None:
    character = load_character()
    qpos = known_motion(character, 60, 120.0, seed=3)
    labels, positions = marker_trajectories(character, "cmu", qpos)
    generic = [f"Marker_{k + 1}" for k in range(len(labels))]
    path = write_c3d(tmp_path / "generic.c3d", generic, positions, 120.0)
    with pytest.raises(MarkersetMismatchError) as info:
        draft_markerset(path)
    text = str(info.value)
    assert text.startswith(f"{path}: cannot draft a markerset: 0 of its labels")
    assert "recognised none" in text and "Marker_1, Marker_2" in text
    assert "ASI, ASIS, IAS" in text and "C7" in text  # the names it looks for
    assert "Write a markerset XML" in text and "x anterior, y up, z to the right" in text
    assert "(pelvis, lumbar_spine, thoracic_spine," in text and "toes_l)" in text


# --------------------------------------------------------------------------- real recordings


def test_optotrak_generic_labels_cannot_start(shared_c3d: Path) -> None:
    with pytest.raises(MarkersetMismatchError) as info:
        draft_markerset(shared_c3d / "optotrak.c3d")
    text = str(info.value)
    assert "optotrak.c3d: cannot draft a markerset: 0 of its labels name a pelvis/trunk" in text
    assert "Marker_1, Marker_2" in text and "relabel the markers" in text


@pytest.mark.parametrize(
    ("name", "max_rms_mm"), [("qualisys.c3d", 8.0), ("opensim_walking2.c3d", 11.0)]
)
def test_a_real_recording_of_another_convention_retargets_with_its_draft(
    shared_c3d: Path, tmp_path: Path, name: str, max_rms_mm: float
) -> None:
    draft = draft_markerset(shared_c3d / name)
    assert {"synonym", "rigidity"} <= {m.method for m in draft.markers}
    motion = retarget(shared_c3d / name, draft.save(tmp_path / "draft.xml"))
    observed = dict(zip(motion.joint_names, motion.joint_observed, strict=True))
    for joint in ("hip_flex", "knee_flex", "ankle_flex"):
        assert observed[f"{joint}_r"] and observed[f"{joint}_l"], joint
    knee = motion.joint_angles_degrees[:, motion.joint_names.index("knee_flex_r")]
    assert np.nanmax(knee) - np.nanmin(knee) > 40  # a walk bends the knee
    assert motion.summary()["rms_residual_mm"] < max_rms_mm


def test_a_draft_too_thin_on_the_trunk_to_retarget_says_so(tmp_path: Path) -> None:
    # LASI, RASI and C7 are enough to fit the character and place the legs, but neither six
    # trunk markers nor three on the pelvis: the draft says it cannot be retargeted.
    character = load_character()
    labels, positions = marker_trajectories(
        character, "plug-in-gait", known_motion(character, 30, 100.0, seed=2)
    )
    for name in PIG_ZEROED:
        if name != "C7":
            positions[:, labels.index(name)] = 0.0
    path = write_c3d(
        tmp_path / "thin.c3d", labels, positions, 100.0, residuals=np.ones(positions.shape[:2])
    )
    draft = draft_markerset(path)
    assert {lo.label for lo in draft.left_out} >= {"CLAV", "LSHO", "LPSI"}
    assert all(lo.reason.startswith("no data") for lo in draft.left_out)
    assert not draft.retargetable
    [note] = draft.notes
    assert note.startswith(
        "Only 3 of the draft's markers are on the pelvis/trunk and retargeting needs 6 on the "
        "pelvis/trunk, or 3 on the pelvis for the lower body"
    )
    assert note in draft.summary()


def test_a_lower_body_draft_retargets_the_legs(tmp_path: Path) -> None:
    # functional_static_dec.c3d's case: the upper body holds no data, four pelvis markers do.
    character = load_character()
    labels, positions = marker_trajectories(
        character, "plug-in-gait", known_motion(character, 30, 100.0, seed=2)
    )
    for name in PIG_ZEROED[:-2]:  # LPSI and RPSI keep their data
        positions[:, labels.index(name)] = 0.0
    path = write_c3d(
        tmp_path / "legs.c3d", labels, positions, 100.0, residuals=np.ones(positions.shape[:2])
    )
    draft = draft_markerset(path)
    assert draft.retargetable and draft.notes == ()
    motion = retarget(path, draft.save(tmp_path / "legs.xml"))
    assert "knee_flex_r" not in motion.unobserved_joints
    assert "lumbar_flex" in motion.unobserved_joints


def test_labels_and_file_names_xml_cannot_hold_as_they_are(tmp_path: Path) -> None:
    character = load_character()
    qpos = known_motion(character, 60, 120.0, seed=5)
    labels, positions = marker_trajectories(character, "plug-in-gait", qpos)
    odd = 'Pad"&<1>'
    labels[labels.index("LTHI")] = odd
    path = write_c3d(tmp_path / "walk--take 2.c3d", labels, positions, 120.0)
    draft = draft_markerset(path)
    saved = load_markerset(draft.save(tmp_path / "draft.xml"))
    assert {m.name: m.body for m in saved.markers}[odd] == "femur_l"
    assert "walk- -take 2.c3d" in draft.xml  # "--" may not stand in an XML comment
