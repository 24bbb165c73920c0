"""The marker inputs the engine reads and the names of its input options (stdlib only, so that the
server can validate a job's inputs without loading the engine)."""

from __future__ import annotations

__all__ = ["DEFAULT_MOCAP_SCALE", "ROTATIONS", "TRACKER_EXTENSIONS"]

#: Extensions of the marker recordings the engine reads: C3D, OpenSim's TRC, and "trackers" tables
#: (CSV or parquet: a ``time`` column then ``<marker>_x, <marker>_y, <marker>_z`` per marker).
TRACKER_EXTENSIONS: tuple[str, ...] = (".c3d", ".trc", ".csv", ".parquet")

#: The vendor's named rotations of a recording into the engine's +Z-up world, as the lab axis that
#: points up (see :data:`~myo_retarget._c3d.VERTICAL_AXES`).
ROTATIONS: dict[str, str] = {"yup_to_zup": "+Y", "ydown_to_zup": "-Y"}

#: Divisor taking a tracker table's numbers to metres when ``mocap_scale`` is not given:
#: millimetres, the vendor's default.
DEFAULT_MOCAP_SCALE = 1000.0
