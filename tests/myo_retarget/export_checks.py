"""Independent readers and validators the export tests check the engine's files with."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
VALIDATE = Path(__file__).with_name("gltf_validate.mjs")
VALIDATOR = ROOT / ".ci" / "node" / "node_modules" / "gltf-validator"
FloatArray = NDArray[np.float64]


def validate_gltf(path: Path) -> dict[str, Any]:
    if shutil.which("node") is None or not VALIDATOR.is_dir():
        pytest.skip("the Khronos glTF-Validator is not installed: run .ci/run (npm, node)")
    done = subprocess.run(
        ["node", str(VALIDATE), str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def axis_rotation(axis: str, degrees: float) -> FloatArray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = {"X": (1, 2), "Y": (2, 0), "Z": (0, 1)}[axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def read_bvh(path: Path) -> tuple[list[str], float, FloatArray]:
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
                    turn = turn @ axis_rotation(channel[0], v)
            p = parents[j]
            if p < 0:
                world[f, j], r = move, turn
            else:
                world[f, j], r = world[f, p] + rot[p] @ move, rot[p] @ turn
            rot.append(r)
    return names, frame_time, world
