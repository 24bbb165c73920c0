"""OpenSim motion file (``.mot``): joint angles in degrees, root translation and rotation.

Columns: ``time``, one column per hinge joint (degrees, ``nan`` where no marker determines the
joint), ``root_x``/``root_y``/``root_z`` (metres, the character's world frame: +Z up), then
``root_rotation_z``/``root_rotation_y``/``root_rotation_x`` (degrees): the root quaternion as
intrinsic Z-Y'-X'' Euler angles, ``R = Rz(a) @ Ry(b) @ Rx(c)``, unwrapped over time so a turn
past 180 degrees does not jump by 360 (OpenSim's ``pelvis_rotation/list/tilt`` play this role in
its Y-up models). OpenSim's ``STOFileAdapter`` reads ``nan`` as NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._export import TEXT_NUMBER
from ._files import atomic_write
from ._motion import Motion
from ._text_table import format_rows

#: The root translation and rotation columns after the joints, in order.
ROOT_TRANSLATION_COLUMNS = ("root_x", "root_y", "root_z")
ROOT_ROTATION_COLUMNS = ("root_rotation_z", "root_rotation_y", "root_rotation_x")


def root_euler_degrees(motion: Motion) -> NDArray[np.float64]:
    """The root rotation as intrinsic Z-Y'-X'' angles, ``(F, 3)`` degrees, unwrapped in time."""
    from scipy.spatial.transform import Rotation

    quat_wxyz = motion.root_quaternion
    angles = Rotation.from_quat(quat_wxyz[:, [1, 2, 3, 0]]).as_euler("ZYX")  # scipy: x-y-z-w
    return np.asarray(np.degrees(np.unwrap(angles, axis=0)), dtype=np.float64)


def mot_columns(motion: Motion) -> tuple[list[str], NDArray[np.float64]]:
    """The column names (``time`` first) and the ``(F, columns)`` values of the ``.mot``."""
    names = [
        "time",
        *motion.joint_names,
        *ROOT_TRANSLATION_COLUMNS,
        *ROOT_ROTATION_COLUMNS,
    ]
    values = np.column_stack(
        [
            motion.time_s,
            motion.joint_angles_degrees,
            motion.root_position,
            root_euler_degrees(motion),
        ]
    )
    return names, np.asarray(values, dtype=np.float64)


def write_mot(motion: Motion, path: Path) -> None:
    """Write ``motion`` as an OpenSim ``.mot`` (version 1 header, tab-separated, degrees)."""
    names, values = mot_columns(motion)
    lines = [
        path.stem,
        "version=1",
        f"nRows={values.shape[0]}",
        f"nColumns={len(names)}",
        "inDegrees=yes",
        "endheader",
        "\t".join(names),
    ]
    text = "\n".join(lines) + "\n" + format_rows(values, TEXT_NUMBER, "\t")
    with atomic_write(path) as fh:
        fh.write(text.encode())
