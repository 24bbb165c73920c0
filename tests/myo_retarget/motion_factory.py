"""Known motions of the default character, and the marker trajectories they produce."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from myo_retarget import Character, load_markerset
from myo_retarget._calibration import apply_scales
from myo_retarget._kinematics import MarkerKinematics

FloatArray = NDArray[np.float64]

# Joints no shipped markerset observes: generated at zero and left out of the comparison.
UNOBSERVED = ("mtp_flex_r", "mtp_flex_l")
# The cmu markers on the right humerus and below, and the joints they alone determine.
CMU_RIGHT_ARM = ("RUPA", "RELB", "RWRA", "RWRB", "RFIN", "RFRM")
RIGHT_ARM_JOINTS = (
    "shoulder_flex_r",
    "shoulder_abdu_r",
    "shoulder_arot_r",
    "elbow_flex_r",
    "wrist_pron_r",
    "wrist_flex_r",
    "wrist_devi_r",
)
# The cmu left shank and foot markers, and the frames they are occluded in (one_armed_c3d).
LEFT_SHANK = ("LSHN", "LANK", "LHEE", "LTOE", "LMT5")
OCCLUDED = slice(100, 140)
# functional_static_dec.c3d's pattern: the upper-body labels are in the file, every sample (0,0,0)
# -- and here the back of the pelvis too, so that two pelvis markers are left and no markerset
# anchors the root (the real file keeps four: a lower-body fit).
PIG_ZEROED: tuple[str, ...] = (
    *("LFHD", "RFHD", "LBHD", "RBHD", "C7", "T10", "CLAV", "STRN", "RBAK", "SACR"),
    *("LSHO", "LUPA", "LELB", "LFRA", "LWRA", "LWRB", "LFIN"),
    *("RSHO", "RUPA", "RELB", "RFRA", "RWRA", "RWRB", "RFIN"),
    *("LPSI", "RPSI"),
)

# (mean, amplitude) in degrees of each joint's oscillation: a walk-like, arm-swinging motion
# that stays inside the joint limits and away from the shoulder's gimbal singularity.
_PATTERN: dict[str, tuple[float, float]] = {
    "hip_flex": (10, 25),
    "hip_abdu": (3, 6),
    "hip_arot": (0, 8),
    "knee_flex": (30, 25),
    "ankle_flex": (0, 12),
    "subtal_inve": (2, 6),
    "clav_elev": (5, 4),
    "clav_prot": (2, 4),
    "shoulder_flex": (10, 25),
    "shoulder_abdu": (15, 8),
    "shoulder_arot": (10, 15),
    "elbow_flex": (60, 25),
    "wrist_pron": (60, 30),
    "wrist_flex": (0, 20),
    "wrist_devi": (5, 10),
    "lumbar_flex": (5, 5),
    "lumbar_bend": (0, 4),
    "lumbar_arot": (0, 5),
    "thorax_flex": (5, 5),
    "thorax_bend": (0, 4),
    "thorax_arot": (0, 5),
    "neck_flex": (5, 10),
    "neck_bend": (0, 8),
    "neck_arot": (0, 15),
}


def known_motion(character: Character, n_frames: int, rate: float, seed: int = 0) -> FloatArray:
    """A smooth motion ``(F, nq)``: the root walks forward while turning; joints oscillate.

    Lumbar and thoracic joints move together (their split is not observable from markers).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / rate
    q = np.tile(np.asarray(character.model.qpos0, dtype=np.float64), (n_frames, 1))
    for k, name in enumerate(character.hinge_names):
        base = name.rsplit("_", 1)[0] if name.endswith(("_r", "_l")) else name
        if name in UNOBSERVED or base not in _PATTERN:
            continue
        mean, amp = _PATTERN[base]
        if base.startswith("thorax"):
            continue  # copied from the lumbar joint below
        phase = rng.uniform(0, 2 * np.pi)
        freq = rng.uniform(0.6, 1.1)
        q[:, 7 + k] = np.radians(mean + amp * np.sin(2 * np.pi * freq * t + phase))
    names = character.hinge_names
    for axis in ("flex", "bend", "arot"):
        q[:, 7 + names.index(f"thorax_{axis}")] = q[:, 7 + names.index(f"lumbar_{axis}")]
    heading = 0.4 * t
    q[:, 0] = 0.8 * t
    q[:, 1] = 0.1 * np.sin(heading)
    q[:, 2] += 0.02 * np.sin(2 * np.pi * 1.8 * t)
    # Root orientation: the standing pelvis rotated about world z by the heading.
    base_quat = np.asarray(character.model.qpos0[3:7], dtype=np.float64)
    for f in range(n_frames):
        yaw = np.array([np.cos(heading[f] / 2), 0.0, 0.0, np.sin(heading[f] / 2)])
        q[f, 3:7] = _quat_mul(yaw, base_quat)
    return q


def _quat_mul(a: FloatArray, b: FloatArray) -> FloatArray:
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def marker_trajectories(
    character: Character,
    markerset: str,
    qpos: FloatArray,
    scales: dict[str, float] | None = None,
) -> tuple[list[str], FloatArray]:
    """World positions ``(F, M, 3)`` of a shipped markerset's markers on a (rescaled) character."""
    mset = load_markerset(markerset, valid_bodies=character.body_names)
    bodies = np.array([character.body_id(m.body) for m in mset.markers], dtype=np.int64)
    offsets = np.array([m.pos for m in mset.markers], dtype=np.float64)
    if scales:
        apply_scales(character, scales)
        factor = np.array([scales.get(character.body_segment[int(b)], 1.0) for b in bodies])
        offsets = offsets * factor[:, None]
    kin = MarkerKinematics(character, bodies, offsets)
    positions = np.stack([kin.forward(q) for q in qpos])
    return [m.name for m in mset.markers], positions
