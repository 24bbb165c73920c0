"""A motion as a Biovision Hierarchy (``.bvh``): the character's kinematic tree and its rotations.

Each body is a joint; its OFFSET is its origin in the parent's frame on the scaled character
(metres), every joint turns by Z, X then Y rotation channels (degrees, intrinsic: the joint's
rotation is Rz @ Rx @ Ry), and the root also carries its position. Y is up, as BVH tools expect:
the motion's Z-up world turns into it at the root.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from ._files import atomic_write
from ._motion import Motion
from ._skeleton import (
    Z_UP_TO_Y_UP,
    Skeleton,
    local_poses,
    posed_skeleton,
    quat_multiply,
    quat_rotate,
)
from ._text_table import format_rows

FloatArray = NDArray[np.float64]

ROTATION_ORDER = "ZXY"
JOINT_CHANNELS = tuple(f"{axis}rotation" for axis in ROTATION_ORDER)
ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", *JOINT_CHANNELS)
# How a channel value is written: six decimals (a micrometre, a millionth of a degree).
BVH_NUMBER = "{:.6f}"
# How far a body may move in its parent's frame and still be a BVH joint (rotation only).
OFFSET_TOLERANCE_M = 1e-6


def _hierarchy(skeleton: Skeleton, body: int, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    is_root = skeleton.parents[body] < 0
    offset = np.zeros(3) if is_root else skeleton.offsets[body]
    channels = ROOT_CHANNELS if is_root else JOINT_CHANNELS
    lines.append(f"{pad}{'ROOT' if is_root else 'JOINT'} {skeleton.body_names[body]}")
    lines.append(f"{pad}{{")
    lines.append(f"{pad}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
    lines.append(f"{pad}  CHANNELS {len(channels)} {' '.join(channels)}")
    children = [int(c) for c in np.flatnonzero(skeleton.parents == body)]
    for child in children:
        _hierarchy(skeleton, child, depth + 1, lines)
    if not children:
        lines.append(f"{pad}  End Site")
        lines.append(f"{pad}  {{")
        lines.append(f"{pad}    OFFSET 0.000000 0.000000 0.000000")
        lines.append(f"{pad}  }}")
    lines.append(f"{pad}}}")


def _order(skeleton: Skeleton, body: int) -> list[int]:
    """Bodies depth first from ``body``: the order of the joints in the file and its channels."""
    out = [body]
    for child in np.flatnonzero(skeleton.parents == body):
        out += _order(skeleton, int(child))
    return out


def write_bvh(motion: Motion, path: Path) -> None:
    """Write a motion as a BVH file.

    Args:
        motion: The motion to export.
        path: The ``.bvh`` to write (atomically: an existing file is replaced only when the new
            one is complete).

    Raises:
        CharacterError: The motion's character is not installed.
        ValueError: The character is no single tree of rotating joints (more than one root, or a
            body that slides in its parent's frame), which BVH cannot hold.
    """
    skeleton = posed_skeleton(motion)
    roots = np.flatnonzero(skeleton.parents < 0)
    if len(roots) != 1:
        names = ", ".join(skeleton.body_names[r] for r in roots)
        raise ValueError(f"BVH holds one tree; the character has {len(roots)} roots: {names}")
    translations, rotations = local_poses(skeleton)
    child = skeleton.parents >= 0
    slide = np.abs(translations[:, child] - skeleton.offsets[child]).max(axis=(0, 2), initial=0)
    if slide.size and slide.max() > OFFSET_TOLERANCE_M:
        name = np.asarray(skeleton.body_names)[child][int(np.argmax(slide))]
        raise ValueError(
            f"body {name} slides in its parent's frame (up to {slide.max() * 1000:.3f} mm); "
            "BVH joints only rotate"
        )
    root = int(roots[0])
    translations[:, root] = quat_rotate(Z_UP_TO_Y_UP, translations[:, root])
    rotations[:, root] = quat_multiply(Z_UP_TO_Y_UP, rotations[:, root])

    order = _order(skeleton, root)
    flat = rotations[:, order].reshape(-1, 4)
    euler = Rotation.from_quat(flat[:, [1, 2, 3, 0]]).as_euler(ROTATION_ORDER, degrees=True)
    columns = [translations[:, root], euler.reshape(motion.n_frames, -1)]
    frames = np.concatenate(columns, axis=1)

    lines = ["HIERARCHY"]
    _hierarchy(skeleton, root, 0, lines)
    lines += ["MOTION", f"Frames: {motion.n_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    text = "\n".join(lines) + "\n" + format_rows(frames, BVH_NUMBER, " ")
    with atomic_write(path) as file:
        file.write(text.encode("utf-8"))
