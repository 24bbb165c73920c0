"""The subject's gender, height and weight: what every layer accepts, and one message for a bad one.

Dependency-free (no numpy, no MuJoCo): the server and the MCP server import it to validate
requests without loading the engine.
"""

from __future__ import annotations

import math

__all__ = [
    "GENDERS",
    "HEIGHT_RANGE_M",
    "WEIGHT_RANGE_KG",
    "gender_problem",
    "height_problem",
    "weight_problem",
]

GENDERS: tuple[str, ...] = ("male", "female")
"""Values of ``subject_gender`` (it picks the stature prior when no height is given)."""

HEIGHT_RANGE_M: tuple[float, float] = (0.5, 2.5)
"""Standing height the engine can scale the character to, metres (inclusive)."""

WEIGHT_RANGE_KG: tuple[float, float] = (2.0, 500.0)
"""Body mass accepted, kilograms (inclusive; the kinematics do not use it)."""

# Heights given in the wrong unit: (unit, factor to metres), tried on values out of range.
_HEIGHT_UNITS = (("centimetres", 1e-2), ("millimetres", 1e-3))


def gender_problem(value: str) -> str | None:
    """What is wrong with ``value`` as ``subject_gender``, or None if it is valid."""
    if value in GENDERS:
        return None
    return f"subject_gender must be {' or '.join(map(repr, GENDERS))}, not {value!r}"


def height_problem(value: float) -> str | None:
    """What is wrong with ``value`` as ``subject_height``, or None if it is a valid height.

    A value that is a plausible height in centimetres or millimetres gets the figure in metres:
    ``subject_height is in metres; 180 looks like centimetres: use 1.80``.
    """
    lo, hi = HEIGHT_RANGE_M
    if math.isfinite(value) and lo <= value <= hi:
        return None
    for unit, factor in _HEIGHT_UNITS:
        metres = round(value * factor, 4) if math.isfinite(value) else math.nan
        if lo <= metres <= hi:
            # Two decimals like a height is written (1.80), more only when they matter (0.625).
            shown = f"{metres:.2f}" if round(metres, 2) == metres else f"{metres:g}"
            return f"subject_height is in metres; {value:g} looks like {unit}: use {shown}"
    return f"subject_height is in metres, between {lo:g} and {hi:g}; got {value:g}"


def weight_problem(value: float) -> str | None:
    """What is wrong with ``value`` as ``subject_weight``, or None if it is a valid weight."""
    lo, hi = WEIGHT_RANGE_KG
    if math.isfinite(value) and lo <= value <= hi:
        return None
    return f"subject_weight is in kilograms, between {lo:g} and {hi:g}; got {value:g}"
