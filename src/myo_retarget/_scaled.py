"""The character a motion was retargeted onto, scaled to its subject, as a MuJoCo model file."""

from __future__ import annotations

import os
from pathlib import Path

import mujoco
import numpy as np

from ._calibration import apply_scales
from ._character import load_character
from ._files import atomic_write
from ._motion import Motion

__all__ = ["save_scaled_model", "scaled_character_model"]


def scaled_character_model(motion: Motion) -> mujoco.MjModel:
    """The motion's character (from its metadata) with the motion's segment scales applied.

    Raises:
        CharacterError: The motion names a character that is not shipped with this engine.
    """
    character = load_character(
        str(motion.metadata["character_id"]), str(motion.metadata["character_version"])
    )
    apply_scales(character, motion.scale_factors)
    return character.model


def save_scaled_model(motion: Motion, path: str | os.PathLike[str]) -> Path:
    """Write :func:`scaled_character_model` as a binary MuJoCo model (``.mjb``) to ``path``.

    Returns:
        The path written (atomically: an existing file is replaced only when complete).
    """
    model = scaled_character_model(motion)
    buffer = np.empty(mujoco.mj_sizeModel(model), dtype=np.uint8)
    mujoco.mj_saveModel(model, None, buffer)
    target = Path(path)
    with atomic_write(target) as out:
        out.write(buffer.tobytes())
    return target
