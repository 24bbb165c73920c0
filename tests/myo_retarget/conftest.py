from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myo_retarget import load_character

from .c3d_factory import write_c3d
from .motion_factory import known_motion, marker_trajectories

SHARED_C3D = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"


@pytest.fixture(scope="session")
def walk_c3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second synthetic CMU-marker recording of the default character (mm, +Z up)."""
    character = load_character()
    qpos = known_motion(character, 240, 120.0, seed=11)
    labels, positions = marker_trajectories(character, "cmu", qpos)
    positions += np.random.default_rng(11).normal(0.0, 0.0005, positions.shape)
    return write_c3d(tmp_path_factory.mktemp("c3d") / "walk.c3d", labels, positions, 120.0)


@pytest.fixture
def shared_c3d() -> Path:
    """The real recordings in ../shared/data/c3d (skips when they are not there)."""
    if not SHARED_C3D.is_dir():
        pytest.skip(f"real recordings not available at {SHARED_C3D} (../shared/data is absent)")
    return SHARED_C3D
