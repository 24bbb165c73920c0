"""How far a recording's markers spread in a typical frame: a person's size, which tells
numbers in the wrong units or damaged coordinates from a body."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

__all__ = ["HUMAN_SPAN_M", "far_markers", "typical_span"]

#: The span of the markers a retarget matches on a person, m: three on the pelvis make ~0.25 m,
#: a whole body with arms out ~2.5 m. Outside this by a wide margin the numbers are no body
#: (a factor 1000 of a unit mix-up, or damage), and every frame's fit would fail.
HUMAN_SPAN_M = (0.05, 50.0)

# Frames looked at: a typical frame, not all of them.
_SAMPLED_FRAMES = 200


def typical_span(positions: NDArray[np.float64]) -> float | None:
    """The median, over frames with two markers or more, of the markers' largest extent along
    an axis.

    Args:
        positions: Marker positions ``(F, M, 3)``, NaN where missing.

    Returns:
        The span in the positions' units, or None when no frame sees two markers.
    """
    seen = ~np.isnan(positions[..., 0])
    frames = np.flatnonzero(seen.sum(axis=1) >= 2)
    if len(frames) == 0:
        return None
    step = max(1, len(frames) // _SAMPLED_FRAMES)
    spans = [float(np.ptp(positions[f][seen[f]], axis=0).max()) for f in frames[::step]]
    return float(np.median(spans))


def far_markers(
    positions: NDArray[np.float64], limit: float
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """The markers whose typical distance from the others' median exceeds ``limit``.

    Args:
        positions: Marker positions ``(F, M, 3)``, NaN where missing.
        limit: The distance beyond which a marker is far, in the positions' units.

    Returns:
        Per marker, whether it is far ``(M,)``, and its median distance from the frame's
        median position ``(M,)`` (NaN for a marker never seen).
    """
    with warnings.catch_warnings():  # frames or markers without data give NaN, as they should
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmedian(positions, axis=1, keepdims=True)
        distance = np.nanmedian(np.linalg.norm(positions - centre, axis=2), axis=0)
    return np.nan_to_num(distance, nan=0.0) > limit, distance
