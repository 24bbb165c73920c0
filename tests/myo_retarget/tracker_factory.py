"""Write marker tables (TRC, CSV and parquet "trackers") for tests that need known content.

Each writer takes markers in the engine's world frame (metres, +Z up) like
:func:`~tests.myo_retarget.c3d_factory.write_c3d`, rotates them into a lab whose ``vertical`` axis
is up and writes them in the file's units. Missing samples (NaN) are written as empty cells (text)
or nulls (parquet).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from myo_retarget import C3DReadError, MarkerRecording, read_c3d

from .c3d_factory import world_to_lab

# Numbers per metre of each unit a writer may use.
PER_METRE = {"mm": 1000.0, "cm": 100.0, "m": 1.0, "in": 1 / 0.0254}


def _lab(positions_m: NDArray[np.float64], vertical: str, per_metre: float) -> NDArray[np.float64]:
    lab: NDArray[np.float64] = (
        np.einsum("ij,fmj->fmi", world_to_lab(vertical), np.asarray(positions_m)) * per_metre
    )
    return lab


def _cell(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6f}"


def write_trc(
    path: Path,
    labels: Sequence[str],
    positions_m: NDArray[np.float64],
    rate: float,
    *,
    units: str = "mm",
    vertical: str = "+Y",
    first_frame: int = 1,
    header_units: str | None = None,
) -> Path:
    """Write an OpenSim TRC file (tab separated; OpenSim's labs are +Y up, hence the default).

    Args:
        path: Output file.
        labels: Marker names.
        positions_m: ``(frames, markers, 3)`` metres, world frame, NaN where missing.
        rate: DataRate and CameraRate, Hz.
        units: Units of the written numbers (``mm``, ``cm``, ``m``, ``in``).
        vertical: The lab axis that is up in the file.
        first_frame: Frame# of the first row.
        header_units: The Units cell to write, when it should differ from ``units`` (``""``
            writes none).
    """
    lab = _lab(positions_m, vertical, PER_METRE[units])
    F, M, _ = lab.shape
    unit_cell = units if header_units is None else header_units
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame"
        "\tOrigNumFrames",
        f"{rate:g}\t{rate:g}\t{F}\t{M}\t{unit_cell}\t{rate:g}\t{first_frame}\t{F}",
        "Frame#\tTime\t" + "\t".join(f"{name}\t\t" for name in labels),
        "\t\t" + "\t".join(f"X{k + 1}\tY{k + 1}\tZ{k + 1}" for k in range(M)),
        "",
    ]
    for f in range(F):
        cells = [str(first_frame + f), f"{f / rate:.6f}"]
        cells += [_cell(v) for v in lab[f].reshape(-1)]
        lines.append("\t".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def table_columns(
    labels: Sequence[str],
    positions_m: NDArray[np.float64],
    rate: float,
    *,
    scale: float = 1000.0,
    vertical: str = "+Z",
    suffix: str = "_{}",
) -> dict[str, NDArray[np.float64]]:
    """The vendor's trackers layout: ``time`` then ``<marker>_x, _y, _z`` (``suffix`` formats
    the component: ``"_{}"``, ``".{}"``, ``"_{}".upper()``...), numbers = metres * ``scale``."""
    lab = _lab(positions_m, vertical, scale)
    columns = {"time": np.arange(lab.shape[0]) / rate}
    for k, name in enumerate(labels):
        for a, axis in enumerate("xyz"):
            columns[name + suffix.format(axis)] = lab[:, k, a]
    return columns


def write_csv(path: Path, columns: dict[str, NDArray[np.float64]]) -> Path:
    """Write ``columns`` as a comma-separated table, empty cells for NaN."""
    names = list(columns)
    values = np.column_stack([columns[n] for n in names])
    lines = [",".join(names)] + [",".join(_cell(v) for v in row) for row in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_parquet(path: Path, columns: dict[str, NDArray[np.float64]]) -> Path:
    """Write ``columns`` as a parquet table, nulls for NaN."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array(v, mask=np.isnan(v)) for v in columns.values()]
    pq.write_table(pa.table(arrays, names=list(columns)), path)
    return path


def c3d_as_tables(c3d: Path, out: Path) -> dict[str, Path]:
    """The markers of a C3D file as TRC, CSV and parquet files in ``out`` (what a user's
    conversion would give): same lab frame, TRC in the C3D's units, tables in millimetres."""
    rec: MarkerRecording = read_c3d(c3d)
    if rec.vertical_axis != "+Z":
        raise C3DReadError(str(c3d), "the conversion assumes a +Z-up recording")
    stem = c3d.stem
    columns = table_columns(rec.raw_labels, rec.positions, rec.rate)
    return {
        "c3d": c3d,
        "trc": write_trc(
            out / f"{stem}.trc", rec.raw_labels, rec.positions, rec.rate, units="mm", vertical="+Z"
        ),
        "csv": write_csv(out / f"{stem}.csv", columns),
        "parquet": write_parquet(out / f"{stem}.parquet", columns),
    }
