"""The markersets shipped with the package: their names and files.

Dependency-free (no numpy, no MuJoCo): the MCP server and the ``myo`` CLI offer the shipped
markersets without loading the engine.
"""

from __future__ import annotations

from pathlib import Path

from ._exceptions import MarkersetError

__all__ = ["SHIPPED_MARKERSETS", "shipped_key", "shipped_markerset_path"]

SHIPPED_MARKERSETS: tuple[str, ...] = (
    "cmu",
    "plug-in-gait",
    "qualisys",
    "opensim-gait",
    "optitrack-motive",
    "optitrack-rigid-bodies",
)
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
