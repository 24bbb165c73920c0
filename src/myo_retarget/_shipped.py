"""The markersets shipped with the package: their names and files.

Dependency-free (no numpy, no MuJoCo): the MCP server and the ``myo`` CLI offer the shipped
markersets without loading the engine.
"""

from __future__ import annotations

from pathlib import Path

from ._exceptions import MarkersetError

__all__ = ["SHIPPED_CONVENTIONS", "SHIPPED_MARKERSETS", "shipped_key", "shipped_markerset_path"]

SHIPPED_CONVENTIONS: dict[str, str] = {
    "cmu": "CMU Graphics Lab, 41 markers (LFWT, LKNE, LMT5, ...)",
    "plug-in-gait": "Vicon Plug-in Gait full body (LASI, LTHI, LKNE, LTIB, ...)",
    "qualisys": "Qualisys sports/gait set (L_IAS, L_FLE, L_FAL, SNJ, CV7, ...)",
    "opensim-gait": "OpenSim gait lab set: thigh/shank clusters RTH1-3/RTB1-3, condyles RLFC/RMFC,"
    " malleoli RLMAL/RMMAL, joint centres RHJC/RKJC/RAJC",
    "optitrack-motive": "OptiTrack Motive skeleton markers (WaistLFront, LThigh, LKneeOut,"
    " LAnkleOut, LToeTip, ...)",
    "optitrack-rigid-bodies": "OptiTrack Motive rigid bodies per segment (ArmL:Marker1-4,"
    " ForearmL:Marker1-4) with named landmarks (AcromionL, LateralEpicondyleL, C7, ...)",
}
"""Each shipped markerset's convention, one line, by shipped name."""
SHIPPED_MARKERSETS: tuple[str, ...] = tuple(SHIPPED_CONVENTIONS)
_SHIPPED_DIR = Path(__file__).parent / "data" / "markersets"


def shipped_key(name: str) -> str | None:
    """The shipped markerset ``name`` designates (case-insensitive; ``_`` and ``-`` are
    equivalent; an ``.xml`` suffix is ignored), or None if it designates none."""
    key = name.strip().lower().replace("_", "-")
    if key.endswith(".xml"):
        key = key[:-4]
    return key if key in SHIPPED_MARKERSETS else None


def shipped_markerset_path(name: str) -> Path:
    """Path of a shipped markerset by name (case-insensitive; ``_`` and ``-`` are equivalent).

    Raises:
        MarkersetError: No shipped markerset has that name.
    """
    key = shipped_key(name)
    if key is None:
        raise MarkersetError(
            name, f"no shipped markerset of that name; shipped: {', '.join(SHIPPED_MARKERSETS)}"
        )
    return _SHIPPED_DIR / f"{key}.xml"
