"""The vendor's engine options: ``rotation`` (a named vertical axis), ``calibration_frames`` and
``mocap_scale`` are checked field by field and honoured by :func:`retarget`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myo_retarget import ROTATIONS, RetargetError, RetargetOptions, load_character, retarget

from .c3d_factory import write_c3d
from .motion_factory import known_motion, marker_trajectories


@pytest.fixture(scope="module")
def y_up_c3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-frame cmu recording stored with +Y as the lab's vertical axis."""
    character = load_character()
    qpos = known_motion(character, 40, 100.0, seed=5)
    labels, positions = marker_trajectories(character, "cmu", qpos)
    path = tmp_path_factory.mktemp("c3d") / "y_up.c3d"
    return write_c3d(path, labels, positions, 100.0, vertical="+Y")


def test_rotations_name_the_vendor_rotations() -> None:
    assert ROTATIONS == {"yup_to_zup": "+Y", "ydown_to_zup": "-Y"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            RetargetOptions(rotation="xup"),
            "rotation 'xup' is not one of 'yup_to_zup' or 'ydown_to_zup'",
        ),
        (
            RetargetOptions(rotation="yup_to_zup", vertical_axis="-Z"),
            "rotation 'yup_to_zup' (vertical axis +Y) contradicts vertical_axis '-Z': give one "
            "of them",
        ),
        (
            RetargetOptions(vertical_axis="up"),
            "vertical_axis 'up' is not one of +X, -X, +Y, -Y, +Z, -Z",
        ),
        (
            RetargetOptions(mocap_scale=0),
            "mocap_scale must be a positive number (the divisor taking the table's numbers to "
            "metres: 1000 for millimetres, 1 for metres), not 0",
        ),
        (
            RetargetOptions(mocap_scale=float("nan")),
            "mocap_scale must be a positive number (the divisor taking the table's numbers to "
            "metres: 1000 for millimetres, 1 for metres), not nan",
        ),
        (
            RetargetOptions(calibration_frames=0),
            "calibration_frames must be a whole number of frames >= 1, not 0",
        ),
        (
            RetargetOptions(calibration_frames=2.5),  # type: ignore[arg-type]
            "calibration_frames must be a whole number of frames >= 1, not 2.5",
        ),
    ],
)
def test_bad_options_say_which_field_and_why(options: RetargetOptions, message: str) -> None:
    with pytest.raises(RetargetError) as err:
        options.validate()
    assert str(err.value) == message


def test_a_rotation_agreeing_with_vertical_axis_is_accepted() -> None:
    RetargetOptions(rotation="ydown_to_zup", vertical_axis="-y").validate()


def test_rotation_sets_the_vertical_axis(y_up_c3d: Path) -> None:
    motion = retarget(y_up_c3d, "cmu", options=RetargetOptions(rotation="yup_to_zup"))
    source = motion.metadata["source"]
    assert source["vertical_axis"] == "+Y" and source["vertical_axis_detected"] is False
    assert motion.metadata["options"]["rotation"] == "yup_to_zup"
    assert motion.summary()["rms_residual_mm"] < 5.0
    # Told the opposite, the recording is upside down: the fit is far off.
    flipped = retarget(y_up_c3d, "cmu", options=RetargetOptions(rotation="ydown_to_zup"))
    assert flipped.metadata["source"]["vertical_axis"] == "-Y"
    assert not np.allclose(flipped.qpos[:, 3:7], motion.qpos[:, 3:7], atol=0.1)


def test_calibration_frames_sets_how_many_frames_calibrate(y_up_c3d: Path) -> None:
    default = retarget(y_up_c3d, "cmu")
    assert len(default.metadata["calibration"]["frames"]) == 32
    few = retarget(y_up_c3d, "cmu", options=RetargetOptions(calibration_frames=4))
    assert few.metadata["calibration"]["frames"] == [0, 13, 26, 39]
