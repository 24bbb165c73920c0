"""Recordings that read but cannot be a person's motion: the retarget refuses them, naming why,
instead of 'succeeding' with every frame failed (issue 9's fuzz: coordinates scaled by 1e-9 or a
C3D in metres that says mm gave SUCCEEDED jobs whose motion fitted no frame)."""

from __future__ import annotations

from pathlib import Path

import ezc3d
import pytest

from myo_retarget import (
    IKSettings,
    MarkerReadError,
    RetargetError,
    RetargetOptions,
    retarget,
    sample_c3d_path,
)


def _scaled(walk_c3d: Path, path: Path, factor: float) -> Path:
    """The sample with every coordinate times ``factor``, its stated units kept."""
    c3d = ezc3d.c3d(str(walk_c3d))
    points = c3d["data"]["points"]
    points[:3] *= factor
    c3d["data"]["points"] = points
    c3d.write(str(path))
    return path


@pytest.mark.parametrize(("factor", "span"), [(1e-9, "e-09 m"), (1e-3, "0.00"), (1e3, "e+03 m")])
def test_a_body_of_no_human_size_is_refused_naming_its_span(
    walk_c3d: Path, tmp_path: Path, factor: float, span: str
) -> None:
    # 1e-3 and 1e3: a C3D whose data are in metres or in micrometres while it says mm.
    path = _scaled(walk_c3d, tmp_path / "odd.c3d", factor)
    with pytest.raises(MarkerReadError) as err:
        retarget(path, "cmu")
    text = str(err.value)
    assert text.startswith(f"{path}: the 41 markers markerset 'CMU' matches span "), text
    assert span in text
    assert "read in the mm the file states" in text
    assert "re-export the recording" in text


def test_a_recording_no_frame_of_which_fits_is_refused(walk_c3d: Path) -> None:
    # A residual bound no fit can meet stands for a recording whose markers do not sit where
    # the markerset puts them: every frame fails, and that is no motion.
    with pytest.raises(RetargetError) as err:
        retarget(walk_c3d, "cmu", ik_settings=IKSettings(fail_rms=1e-9))
    text = str(err.value)
    assert text.startswith(f"{walk_c3d.name}: no frame could be fitted (0 of "), text
    assert "markerset 'CMU'" in text
    assert "check that the markerset is the recording's" in text


def test_a_human_recording_still_retargets(walk_c3d: Path) -> None:
    motion = retarget(walk_c3d, "cmu")
    assert motion.frame_ok.all()


def test_one_marker_far_from_the_others_is_named(walk_c3d: Path, tmp_path: Path) -> None:
    # The fuzz's 'one marker extreme': the whole body was blamed ("span 1e+33 m").
    c3d = ezc3d.c3d(str(walk_c3d))
    points = c3d["data"]["points"]
    label = c3d["parameters"]["POINT"]["LABELS"]["value"][5]
    points[:3, 5] = 1e30
    c3d["data"]["points"] = points
    path = tmp_path / "far.c3d"
    c3d.write(str(path))
    with pytest.raises(MarkerReadError) as err:
        retarget(path, "cmu")
    text = str(err.value)
    assert text.startswith(f"{path}: marker {label} sits 1.73e+27 m from the others"), text
    assert "leave it out of the markerset" in text


def test_an_unscaled_character_keeps_its_motion_whatever_the_residuals() -> None:
    # Without scaling, the default character sits more than 30 mm (RMS) off the shipped sample's
    # subject in every frame: still the motion asked for (enable_scaling=False), not a failed fit.
    motion = retarget(
        sample_c3d_path(),
        "cmu",
        options=RetargetOptions(enable_scaling=False, subject_gender="female"),
    )
    assert motion.n_frames == 412 and not motion.frame_ok.any()
