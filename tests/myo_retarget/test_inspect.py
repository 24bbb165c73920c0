"""inspect_c3d: what a recording holds and how each shipped markerset would meet it."""

from __future__ import annotations

from pathlib import Path

from myo_retarget import inspect_c3d

from .motion_factory import PIG_ZEROED, RIGHT_ARM_JOINTS


def test_a_full_recording_fits_fully(walk_c3d: Path) -> None:
    cmu = inspect_c3d(walk_c3d)["best_markerset"]
    assert cmu["name"] == "cmu" and cmu["fits"] is True and cmu["partial"] is False
    # The toes: no shipped markerset has a marker there, so this recording loses nothing.
    assert cmu["unobserved_bodies"] == [] and cmu["unobserved_joints"] == []
    assert cmu["note"] is None


def test_a_recording_without_an_arm_is_a_partial_fit(one_armed_c3d: Path) -> None:
    cmu = inspect_c3d(one_armed_c3d)["best_markerset"]
    assert cmu["name"] == "cmu" and cmu["fits"] is True
    assert cmu["partial"] is True
    assert cmu["unobserved_bodies"] == ["humerus_r"]
    assert cmu["unobserved_joints"] == list(RIGHT_ARM_JOINTS)
    assert cmu["note"].startswith("partial fit (85% of its markers): no markers on humerus_r or")
    assert "7 joints will have no data (NaN): shoulder_flex_r" in cmu["note"]


def test_inspect_names_labels_without_data(zeroed_upper_body_c3d: Path) -> None:
    info = inspect_c3d(zeroed_upper_body_c3d)
    assert info["empty_labels"] == [lb for lb in info["labels"] if lb in PIG_ZEROED]
    assert info["best_markerset"] is None
    pig = next(m for m in info["markersets"] if m["name"] == "plug-in-gait")
    assert pig["fits"] is False and set(pig["empty"]) == set(PIG_ZEROED)
    assert pig["note"].startswith(
        "does not fit: only 2 trunk/pelvis markers match (need 6 on the pelvis/trunk, or 3 on "
        "the pelvis for the lower body); "
    )
    assert "LSHO" in pig["note"] and "hold no data" in pig["note"]
