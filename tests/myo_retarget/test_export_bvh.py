from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget import CharacterError, Motion, RetargetOptions, retarget
from myo_retarget._export_bvh import write_bvh

from .export_checks import read_bvh

FloatArray = NDArray[np.float64]


@pytest.fixture(scope="module")
def motion(walk_c3d: Path) -> Motion:
    return retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 40)))


def test_bvh_forward_kinematics_reproduce_the_bodies(motion: Motion, tmp_path: Path) -> None:
    """Read back strictly, the BVH's joints are the character's bodies, its frame time the
    motion's, and its forward kinematics put every body where the motion has it (Y-up) within
    1 mm in every frame."""
    path = tmp_path / "walk.bvh"
    write_bvh(motion, path)
    names, frame_time, world = read_bvh(path)
    assert sorted(names) == sorted(motion.body_names)
    assert frame_time == pytest.approx(1.0 / motion.fps)
    order = [motion.body_names.index(n) for n in names]
    expected = motion.body_positions[:, order]
    y_up = np.stack([expected[..., 0], expected[..., 2], -expected[..., 1]], axis=-1)
    np.testing.assert_allclose(world, y_up, atol=1e-3)


def test_bvh_of_an_unknown_character_leaves_the_file_alone(motion: Motion, tmp_path: Path) -> None:
    path = tmp_path / "walk.bvh"
    path.write_bytes(b"previous")
    stranger = dataclasses.replace(motion, metadata={**motion.metadata, "character_id": "nobody"})
    with pytest.raises(CharacterError, match="nobody"):
        write_bvh(stranger, path)
    assert path.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [path]
