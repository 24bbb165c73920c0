"""How far a recording's markers spread in a typical frame: a person's size, which tells
numbers in the wrong units or damaged coordinates from a body."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from ._exceptions import MarkerReadError
from ._markerset import listing

__all__ = ["HUMAN_SPAN_M", "check_human_span", "far_markers", "typical_span"]

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


def check_human_span(
    path: str, units: str, markerset: str, measured: NDArray[np.float64], names: list[str]
) -> None:
    """Refuse matched markers of no human size: a file in metres that says mm (or damaged
    coordinates) would fail the fit in every frame, and a motion of no frame is no result.
    Markers all at one point are left to the fit, which says so.

    Args:
        path: The recording, named in the message.
        units: The units the file states.
        markerset: The markerset's name.
        measured: The matched markers' measured positions ``(F, M, 3)`` m, NaN where missing.
        names: The matched markers' names ``(M,)``.

    Raises:
        MarkerReadError: The span is outside :data:`HUMAN_SPAN_M`, naming the markers far from
            the others when the rest make a body.
    """
    span = typical_span(measured)
    low, high = HUMAN_SPAN_M
    if span is None or span == 0.0 or low <= span <= high:
        return
    far, distance = far_markers(measured, high)
    if far.any() and (rest := typical_span(measured[:, ~far])) and low <= rest <= high:
        # A body, but for a few markers (damaged samples): name them rather than the units.
        who = [name for name, out in zip(names, far, strict=True) if out]
        one = len(who) == 1
        raise MarkerReadError(
            path,
            f"marker{'' if one else 's'} {listing(who)} {'sits' if one else 'sit'} "
            f"{float(distance[far].max()):.3g} m from the others in a typical frame, where a "
            f"person's markers are within {high:g} m: {'its' if one else 'their'} coordinates "
            f"are damaged; re-export the recording, or leave {'it' if one else 'them'} out of "
            "the markerset",
        )
    raise MarkerReadError(
        path,
        f"the {measured.shape[1]} markers markerset '{markerset}' matches span {span:.3g} m in "
        f"a typical frame, read in the {units} the file states; on a person they span "
        f"{low:g} to {high:g} m: its coordinates or its units are wrong; re-export the "
        "recording in mm, cm or m",
    )
