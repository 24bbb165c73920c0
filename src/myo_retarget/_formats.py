"""The marker inputs the engine reads and the names of its input options (stdlib only, so that the
server can validate a job's inputs without loading the engine)."""

from __future__ import annotations

__all__ = [
    "DEFAULT_CALIBRATION_FRAMES",
    "DEFAULT_MOCAP_SCALE",
    "ROTATIONS",
    "TRACKER_EXTENSIONS",
    "VERTICAL_AXES",
]

#: Extensions of the marker recordings the engine reads: C3D, OpenSim's TRC, and "trackers" tables
#: (CSV or parquet: a ``time`` column then ``<marker>_x, <marker>_y, <marker>_z`` per marker).
TRACKER_EXTENSIONS: tuple[str, ...] = (".c3d", ".trc", ".csv", ".parquet")

#: The lab axes a recording's vertical may be (its override's values), here with the formats'
#: constants so that light callers (the MCP server, the API's request checks) need no numpy.
VERTICAL_AXES: tuple[str, ...] = ("+X", "-X", "+Y", "-Y", "+Z", "-Z")

#: The vendor's named rotations of a recording into the engine's +Z-up world, as the lab axis that
#: points up (one of :data:`VERTICAL_AXES`).
ROTATIONS: dict[str, str] = {"yup_to_zup": "+Y", "ydown_to_zup": "-Y"}

#: Divisor taking a tracker table's numbers to metres when ``mocap_scale`` is not given:
#: millimetres, the vendor's default.
DEFAULT_MOCAP_SCALE = 1000.0

#: Frames the calibration (scaling and marker registration) uses unless ``calibration_frames``
#: says otherwise (the vendor's ``n_frames_scaling``).
DEFAULT_CALIBRATION_FRAMES = 32
