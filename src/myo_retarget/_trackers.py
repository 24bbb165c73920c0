"""Read a marker recording of any supported format: C3D, TRC, or a CSV/parquet trackers table."""

from __future__ import annotations

import os

from ._c3d import MarkerRecording, read_c3d
from ._exceptions import MarkerReadError
from ._formats import TRACKER_EXTENSIONS

__all__ = ["read_markers"]

_C3D_MAGIC_OFFSET = 1  # the header's second byte is 0x50 in every C3D file
_C3D_MAGIC = 0x50


def read_markers(
    path: str | os.PathLike[str],
    *,
    vertical_axis: str | None = None,
    frame_range: tuple[int, int] | None = None,
    mocap_scale: float | None = None,
) -> MarkerRecording:
    """Read the markers of a recording, choosing the reader by the file's extension.

    Args:
        path: A ``.c3d``, ``.trc``, ``.csv`` or ``.parquet`` file (:data:`TRACKER_EXTENSIONS`);
            a file with another extension is read as C3D when it starts like one.
        vertical_axis: Force the lab's vertical axis instead of detecting it.
        frame_range: ``(start, stop)`` 0-based frame indices to keep (stop excluded).
        mocap_scale: Divisor taking a CSV/parquet table's numbers to metres (default 1000:
            millimetres); also used by a TRC file without Units. C3D files state their units,
            so it is ignored for them.

    Returns:
        The markers in metres in the engine's +Z-up world frame, NaN where missing.

    Raises:
        MarkerReadError: The file is missing, of an unsupported format, or unusable (the
            message names the file and, for tables, the row and column at fault).
    """
    spath = os.fspath(path)
    ext = os.path.splitext(spath)[1].lower()
    if ext == ".c3d" or (ext not in TRACKER_EXTENSIONS and _looks_like_c3d(spath)):
        return read_c3d(spath, vertical_axis=vertical_axis, frame_range=frame_range)
    raise MarkerReadError(spath, f"unsupported marker file format; {_ACCEPTED}")


_ACCEPTED = "accepted formats: " + ", ".join(TRACKER_EXTENSIONS)


def _looks_like_c3d(path: str) -> bool:
    try:
        with open(path, "rb") as stream:
            head = stream.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[_C3D_MAGIC_OFFSET] == _C3D_MAGIC
