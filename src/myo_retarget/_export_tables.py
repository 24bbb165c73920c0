"""Table exports: Parquet (the ``qpos`` or the ``xpos`` table) and CSV (joint angles).

Parquet, ``table="qpos"`` (the default): ``time`` then one column per MuJoCo qpos entry, named
as ``Motion.qpos_names`` (root position m, root quaternion w-x-y-z, hinge angles rad).
``table="xpos"``: ``time`` then ``<body>_x``, ``<body>_y``, ``<body>_z`` per body (world
position of the body frame, m). One file holds one table: export twice for both.
CSV: ``time`` then one column per hinge joint in degrees; a cell is empty where no marker
determines the joint in that frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._exceptions import ExportError
from ._export import EXPORT_EXTRA_HINT, TEXT_NUMBER
from ._files import atomic_write
from ._motion import Motion
from ._text_table import format_rows

#: The tables a Parquet export can hold; the first is the default.
PARQUET_TABLES = ("qpos", "xpos")


def table_columns(motion: Motion, table: str) -> dict[str, Any]:
    """The named columns of the ``qpos`` or ``xpos`` table, ``time`` first."""
    columns: dict[str, Any] = {"time": motion.time_s}
    if table == "qpos":
        for k, name in enumerate(motion.qpos_names):
            columns[name] = motion.qpos[:, k]
    elif table == "xpos":
        for b, body in enumerate(motion.body_names):
            for a, axis in enumerate("xyz"):
                columns[f"{body}_{axis}"] = motion.body_positions[:, b, a]
    else:
        raise ExportError(
            f"unknown Parquet table {table!r}: choose one of {', '.join(PARQUET_TABLES)}"
        )
    return columns


def write_parquet(motion: Motion, path: Path, table: str = PARQUET_TABLES[0]) -> None:
    """Write the ``qpos`` or ``xpos`` table of ``motion`` as Parquet (float64 columns).

    Raises:
        ExportError: For an unknown table, or when pyarrow is not installed.
    """
    columns = table_columns(motion, table)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError(
            f"{path}: writing Parquet needs pyarrow, which is not installed: {EXPORT_EXTRA_HINT}"
        ) from None
    arrow = pa.table({k: pa.array(np.asarray(v, dtype=np.float64)) for k, v in columns.items()})
    with atomic_write(path) as fh:
        pq.write_table(arrow, fh)


def write_csv(motion: Motion, path: Path) -> None:
    """Write ``time`` and the joint angles in degrees as CSV, empty cells where NaN."""
    header = ",".join(["time", *motion.joint_names])
    values = np.column_stack([motion.time_s, motion.joint_angles_degrees])
    text = header + "\n" + format_rows(values, TEXT_NUMBER, ",", nan="")
    with atomic_write(path) as fh:
        fh.write(text.encode())
