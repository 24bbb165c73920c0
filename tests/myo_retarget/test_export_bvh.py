from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget import CharacterError, Motion, RetargetOptions, retarget
from myo_retarget._export_bvh import write_bvh

FloatArray = NDArray[np.float64]


@pytest.fixture(scope="module")
def motion(walk_c3d: Path) -> Motion:
    return retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 40)))


def _axis_rotation(axis: str, degrees: float) -> FloatArray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = {"X": (1, 2), "Y": (2, 0), "Z": (0, 1)}[axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def _read_bvh(path: Path) -> tuple[list[str], float, FloatArray]:
    """A strict BVH reader: joint names, frame time, and each joint's world position per frame
    ``(F, J, 3)`` by forward kinematics (a joint's frame: its parent's, moved by OFFSET plus any
    position channels, then turned by its rotation channels in the order listed)."""
    tokens = path.read_text().split()
    pos = 0

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        assert expected is None or token == expected, (expected, token, pos)
        return token

    names: list[str] = []
    parents: list[int] = []
    offsets: list[FloatArray] = []
    channels: list[list[str]] = []

    def joint(parent: int) -> None:
        names.append(take())
        parents.append(parent)
        me = len(names) - 1
        take("{")
        take("OFFSET")
        offsets.append(np.array([float(take()) for _ in range(3)]))
        take("CHANNELS")
        channels.append([take() for _ in range(int(take()))])
        while tokens[pos] != "}":
            kind = take()
            if kind == "JOINT":
                joint(me)
            else:
                assert (kind, take(), take()) == ("End", "Site", "{")
                take("OFFSET")
                [float(take()) for _ in range(3)]
                take("}")
        take("}")

    take("HIERARCHY")
    take("ROOT")
    joint(-1)
    take("MOTION")
    take("Frames:")
    n_frames = int(take())
    take("Frame")
    take("Time:")
    frame_time = float(take())
    values = np.array([float(t) for t in tokens[pos:]])
    width = sum(len(c) for c in channels)
    assert values.size == n_frames * width
    values = values.reshape(n_frames, width)

    world = np.empty((n_frames, len(names), 3))
    for f in range(n_frames):
        rot: list[FloatArray] = []
        column = 0
        for j in range(len(names)):
            move, turn = offsets[j].copy(), np.eye(3)
            for channel in channels[j]:
                v = values[f, column]
                column += 1
                if channel.endswith("position"):
                    move["XYZ".index(channel[0])] += v
                else:
                    turn = turn @ _axis_rotation(channel[0], v)
            p = parents[j]
            if p < 0:
                world[f, j], r = move, turn
            else:
                world[f, j], r = world[f, p] + rot[p] @ move, rot[p] @ turn
            rot.append(r)
    return names, frame_time, world


def test_bvh_forward_kinematics_reproduce_the_bodies(motion: Motion, tmp_path: Path) -> None:
    """Read back strictly, the BVH's joints are the character's bodies, its frame time the
    motion's, and its forward kinematics put every body where the motion has it (Y-up) within
    1 mm in every frame."""
    path = tmp_path / "walk.bvh"
    write_bvh(motion, path)
    names, frame_time, world = _read_bvh(path)
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
