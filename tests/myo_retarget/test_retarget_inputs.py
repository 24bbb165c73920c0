"""Markersets that parse but cannot drive a fit as they are: the retarget says why, or copes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from myo_retarget import MarkersetMismatchError, RetargetError, retarget
from myo_retarget._markerset import shipped_markerset_path


def _cmu_with(tmp_path: Path, name: str, edit: str, extra: str = "") -> Path:
    """The shipped cmu markerset with every marker's attributes edited by ``edit`` (a regex
    substitution ``pattern=>replacement``) and ``extra`` elements appended."""
    pattern, replacement = edit.split("=>")
    text = re.sub(pattern, replacement, shipped_markerset_path("cmu").read_text())
    path = tmp_path / name
    path.write_text(text.replace("</markers>", extra + "</markers>"))
    return path


def test_no_weighted_marker_in_the_recording_is_a_clear_error(
    walk_c3d: Path, tmp_path: Path
) -> None:
    """Only a marker the recording lacks had a weight: the fit ended "Internal error
    (LinAlgError)"."""
    extra = '  <marker body="pelvis" name="XTRA" pos="0 0 0" ik_weight="1"/>\n'
    path = _cmu_with(tmp_path, "zero.xml", r'ik_weight="1"=>ik_weight="0"', extra)
    with pytest.raises(RetargetError) as err:
        retarget(walk_c3d, path)
    assert str(err.value) == (
        f"{path}: every marker the recording has (41 of them) has ik_weight 0, so no marker "
        'would drive the fit; set ik_weight="1" (the usual weight) on those that should'
    )


def test_markers_all_on_the_root_body_do_not_crash_the_calibration(
    walk_c3d: Path, tmp_path: Path
) -> None:
    """Every marker on the pelvis (no joint between them and the root) ended "Internal error
    (ValueError)" in the scale fit. The calibration copes; the pelvis cannot hold markers
    placed for the whole body, so no frame fits, and that is said, not a motion of no frame."""
    path = _cmu_with(tmp_path, "pelvis.xml", r'body="\w+"=>body="pelvis"')
    with pytest.raises(RetargetError) as err:
        retarget(walk_c3d, path)
    assert str(err.value).startswith(f"{walk_c3d.name}: no frame could be fitted (0 of 240)")


def test_a_markerset_that_does_not_match_names_the_recording(
    walk_c3d: Path, tmp_path: Path
) -> None:
    """The mismatch named the markerset and the labels but not the recording they came from."""
    foreign = _cmu_with(tmp_path, "foreign.xml", r'name="=>name="X_')
    with pytest.raises(MarkersetMismatchError) as err:
        retarget(walk_c3d, foreign)
    assert str(err.value).startswith(f"{walk_c3d}: markerset 'X_CMU' matches only 0 trunk")
