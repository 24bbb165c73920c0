from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myo_retarget import load_character

from .c3d_factory import write_c3d
from .motion_factory import (
    CMU_RIGHT_ARM,
    LEFT_SHANK,
    OCCLUDED,
    PIG_ZEROED,
    known_motion,
    marker_trajectories,
)

SHARED_C3D = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"


@pytest.fixture(scope="session")
def walk_c3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second synthetic CMU-marker recording of the default character (mm, +Z up)."""
    character = load_character()
    qpos = known_motion(character, 240, 120.0, seed=11)
    labels, positions = marker_trajectories(character, "cmu", qpos)
    positions += np.random.default_rng(11).normal(0.0, 0.0005, positions.shape)
    return write_c3d(tmp_path_factory.mktemp("c3d") / "walk.c3d", labels, positions, 120.0)


@pytest.fixture(scope="session")
def one_armed_c3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 240-frame cmu recording without the right-arm markers (CMU_RIGHT_ARM), the left shank
    and foot markers (LEFT_SHANK) occluded in the frames OCCLUDED."""
    character = load_character()
    qpos = known_motion(character, 240, 120.0, seed=4)
    labels, positions = marker_trajectories(character, "cmu", qpos)
    positions += np.random.default_rng(4).normal(0.0, 0.0005, positions.shape)
    for name in LEFT_SHANK:
        positions[OCCLUDED, labels.index(name)] = np.nan
    keep = [k for k, name in enumerate(labels) if name not in CMU_RIGHT_ARM]
    path = tmp_path_factory.mktemp("c3d") / "one_arm.c3d"
    return write_c3d(path, [labels[k] for k in keep], positions[:, keep], 120.0)


@pytest.fixture(scope="session")
def zeroed_upper_body_c3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plug-in-gait recording whose upper-body and posterior pelvis labels (PIG_ZEROED) hold
    nothing but (0,0,0) samples."""
    character = load_character()
    qpos = known_motion(character, 30, 100.0, seed=2)
    labels, positions = marker_trajectories(character, "plug-in-gait", qpos)
    for name in PIG_ZEROED:
        positions[:, labels.index(name)] = 0.0  # written as zeros with a valid residual
    path = tmp_path_factory.mktemp("c3d") / "zeroed.c3d"
    return write_c3d(path, labels, positions, 100.0, residuals=np.ones(positions.shape[:2]))


@pytest.fixture(scope="session")
def shared_c3d() -> Path:
    """The real recordings in ../shared/data/c3d (skips when they are not there)."""
    if not SHARED_C3D.is_dir():
        pytest.skip(f"real recordings not available at {SHARED_C3D} (../shared/data is absent)")
    return SHARED_C3D
