"""Read a marker recording of any supported format: C3D, TRC, or a CSV/parquet trackers table.

TRC is OpenSim's marker format: a ``PathFileType`` line, a line of header keys (DataRate,
CameraRate, NumFrames, NumMarkers, Units, OrigDataRate, OrigDataStartFrame, OrigNumFrames) and
their values, a ``Frame#``/``Time``/marker-names row, an ``X1 Y1 Z1 ...`` row, then one row per
frame; tab separated, blank cells missing. A trackers table (the vendor's layout) has a ``time``
column (seconds) and three columns per marker, ``<marker>_x, <marker>_y, <marker>_z`` (or
``.x``/``.y``/``.z``, either case), in millimetres unless ``mocap_scale`` says otherwise.

Every reader returns the same :class:`~myo_retarget.MarkerRecording` as :func:`read_c3d`: metres
in the engine's +Z-up world frame, the vertical axis detected from the markers alike.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from ._body_span import typical_span
from ._c3d import (
    UNIT_ALIASES,
    UNIT_SCALE,
    VERTICAL_AXES,
    MarkerRecording,
    detect_vertical,
    frame_slice,
    lab_to_world_rotation,
    matching_labels,
    normalise_axis,
    read_c3d,
)
from ._exceptions import MarkerReadError
from ._formats import DEFAULT_MOCAP_SCALE, TRACKER_EXTENSIONS
from ._markerset import MAX_MARKERSET_ELEMENTS

__all__ = ["MAX_TABLE_MARKERS", "read_markers"]

#: The most markers a TRC file or table may hold: no markerset can use more (a hostile header of a
#: million columns is refused before its rows are read).
MAX_TABLE_MARKERS = MAX_MARKERSET_ELEMENTS
# Longest line read: a full-width row of long numbers fits with room to spare.
_MAX_LINE_BYTES = (3 * MAX_TABLE_MARKERS + 2) * 32
_ACCEPTED = "accepted formats: " + ", ".join(TRACKER_EXTENSIONS)
_C3D_SIGNATURE = 0x50  # the second byte of every C3D file
_INCH_M = 0.0254
# TRC Units: the C3D units plus inches (OpenSim accepts them).
_TRC_UNITS = {**UNIT_ALIASES, "in": "in", "inch": "in", "inches": "in"}
_TRC_SCALE = {**UNIT_SCALE, "in": _INCH_M}
_TRC_HEADER_KEYS = ("DataRate", "NumFrames", "NumMarkers")
# A table's marker columns: the name, a separator and the component.
_COMPONENT = re.compile(r"^(?P<name>.+?)[_.](?P<axis>[xyzXYZ])$")
_TIME_COLUMN = "time"
# A frame-number column that tables may carry beside time: not a marker.
_FRAME_COLUMNS = frozenset({"frame", "frame#", "frames"})
# Successive time steps may differ this much (relative) from the usual (median) step: timestamps
# rounded to milliseconds at 120 Hz jitter by 6 %, a dropped frame doubles the step.
_TIME_STEP_TOLERANCE = 0.25
_ROWS_PER_CHUNK = 4096
# The markers of a person span this much in a frame (a foot-only set: ~0.3 m; arms out: 2.5 m);
# tighter than HUMAN_SPAN_M, since a table's units are a guess.
_BODY_SPAN_M = (0.2, 20.0)
_TYPICAL_SPAN_M = 1.2
_SCALE_GUESSES = (1, 10, 100, 1000)
# A rate this close (relative) to a whole number of Hz is that number.
_RATE_SNAP = 1e-4


@dataclass
class _Markers:
    """What a format's reader found: lab-frame positions in metres and how to describe them."""

    labels: list[str]
    positions: NDArray[np.float64]  # (frames, markers, 3) metres, lab frame, NaN missing
    rate: float
    units: str
    first_frame: int
    storage: str
    units_stated: bool = False  # the file says its units (a TRC header's Units)


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
        vertical_axis: Force the lab's vertical axis (one of :data:`VERTICAL_AXES`) instead of
            detecting it.
        frame_range: ``(start, stop)`` 0-based frame indices to keep (stop excluded).
        mocap_scale: Divisor taking a CSV/parquet table's numbers to metres (default 1000:
            millimetres); also used by a TRC file without Units. C3D and TRC files state their
            units, so it is ignored for them.

    Returns:
        The markers in metres in the engine's +Z-up world frame, NaN where missing (empty, NaN or
        infinite cells, or exactly (0, 0, 0) as in C3D files).

    Raises:
        MarkerReadError: The file is missing, of an unsupported format, or unusable; the message
            names the file and, for text tables, the line and column at fault.
            (:class:`~myo_retarget.C3DReadError` for C3D files.)
    """
    spath = os.fspath(path)
    ext = os.path.splitext(spath)[1].lower()
    if ext == ".c3d" or (ext not in TRACKER_EXTENSIONS and _looks_like_c3d(spath)):
        return read_c3d(spath, vertical_axis=vertical_axis, frame_range=frame_range)
    if ext not in TRACKER_EXTENSIONS:
        raise MarkerReadError(
            spath,
            f"unsupported marker file {ext or '(no extension)'}; {_ACCEPTED} (a C3D file is "
            "recognised whatever its name)",
        )
    override = None
    if vertical_axis is not None:
        override = normalise_axis(vertical_axis)
        if override is None:
            raise MarkerReadError(
                spath,
                f"vertical axis {vertical_axis!r} is not one of {', '.join(VERTICAL_AXES)}",
            )
    if mocap_scale is not None and not (math.isfinite(mocap_scale) and mocap_scale > 0):
        raise MarkerReadError(spath, f"mocap_scale must be a positive number, not {mocap_scale!r}")
    scale = DEFAULT_MOCAP_SCALE if mocap_scale is None else float(mocap_scale)
    sha256 = _digest(spath)
    fmt = ext[1:]
    if ext == ".trc":
        found = _read_trc(spath, scale)
    elif ext == ".csv":
        found = _read_csv(spath, scale)
    else:
        found = _read_parquet(spath, scale)
    if not found.units_stated:
        _check_body_size(spath, found.positions, scale)
    start, stop = frame_slice(spath, frame_range, len(found.positions), MarkerReadError)
    lab = found.positions[start:stop]
    labels = matching_labels(found.labels)
    if override is not None:
        axis, source = override, "override"
    else:
        axis, source = detect_vertical(lab, labels)
    rotation = lab_to_world_rotation(axis)
    return MarkerRecording(
        path=spath,
        filename=os.path.basename(spath),
        sha256=sha256,
        labels=labels,
        raw_labels=found.labels,
        positions=lab @ rotation.T,
        rate=found.rate,
        first_frame=found.first_frame + start,
        units=found.units,
        vertical_axis=axis,
        vertical_axis_detected=override is None,
        lab_to_world=rotation,
        ignored_labels=[],
        processor="",
        storage=found.storage,
        n_analog_channels=0,
        vertical_axis_source=source,
        format=fmt,
    )


def _check_body_size(path: str, positions: NDArray[np.float64], scale: float) -> None:
    """Refuse numbers whose units the caller guessed wrong (a table carries none).

    Read in the wrong units a recording still retargets -- every frame failing, the job
    "succeeded" -- so a body that spans less than :data:`_BODY_SPAN_M` or more, in a typical
    frame, is refused with the ``mocap_scale`` that gives it a human size.
    """
    span = typical_span(positions)
    low, high = _BODY_SPAN_M
    if span is None or low <= span <= high or span == 0.0:
        return
    fits = min(_SCALE_GUESSES, key=lambda c: abs(math.log(span * scale / c / _TYPICAL_SPAN_M)))
    unit = {1: "metres", 10: "decimetres", 100: "centimetres", 1000: "millimetres"}[fits]
    raise MarkerReadError(
        path,
        f"read with mocap_scale={scale:g} ({_scale_units(scale)}) its markers span "
        f"{span:.3g} m in a typical frame, and a person spans about {low:g} to {high:g} m: "
        f"the numbers are probably in {unit}; pass mocap_scale={fits} (--mocap-scale {fits} "
        "on the command line)",
    )


# --------------------------------------------------------------------------- files


def _looks_like_c3d(path: str) -> bool:
    try:
        with open(path, "rb") as stream:
            head = stream.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[1] == _C3D_SIGNATURE


def _digest(path: str) -> str:
    """The file's SHA-256, streamed; the file's absence or unreadability as a MarkerReadError."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        raise MarkerReadError(path, "file not found") from None
    except IsADirectoryError:
        raise MarkerReadError(path, "is a directory, not a marker file") from None
    except OSError as exc:
        raise MarkerReadError(path, f"cannot be read: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _scale_units(scale: float) -> str:
    """How ``mocap_scale`` reads: ``mm`` for 1000, ``1/2.54 m`` for an unusual divisor."""
    for unit, metres in UNIT_SCALE.items():
        if math.isclose(scale * metres, 1.0):
            return unit
    return f"1/{scale:g} m"


class _Lines:
    """A text file's lines, numbered from 1, each bounded in length (a hostile file cannot make
    one line take the memory)."""

    def __init__(self, path: str, stream: IO[bytes]) -> None:
        self.path = path
        self.stream = stream
        self.number = 0

    def next(self) -> str | None:
        """The next line without its line break, or None at the end of the file."""
        raw = self.stream.readline(_MAX_LINE_BYTES + 1)
        if not raw:
            return None
        self.number += 1
        try:
            line = raw.decode("utf-8-sig" if self.number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise MarkerReadError(
                self.path,
                f"line {self.number} is not UTF-8 text: is it a text table? Save it as UTF-8 "
                "CSV (or TRC) text",
            ) from None
        if len(raw) > _MAX_LINE_BYTES:
            raise MarkerReadError(
                self.path,
                f"line {self.number} is longer than {_MAX_LINE_BYTES} bytes (at most "
                f"{MAX_TABLE_MARKERS} markers are accepted)",
            )
        return line.rstrip("\r\n")

    def rows(self) -> Iterator[str]:
        """The remaining non-blank lines."""
        while (line := self.next()) is not None:
            if line.strip():
                yield line


def _open_text(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise MarkerReadError(path, f"cannot be read: {exc.strerror or exc}") from None


def _too_many_markers(path: str, n: int, where: str) -> MarkerReadError:
    return MarkerReadError(
        path,
        f"{where} has {n} markers; at most {MAX_TABLE_MARKERS} are accepted (no markerset uses "
        "more): is it the right file?",
    )


def _numbers(
    path: str, lines: _Lines, columns: list[str], delimiter: str, *, pad: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Parse the remaining rows into ``(rows, len(columns))`` floats, NaN for blank cells.

    Args:
        path: The file, for messages.
        lines: Its lines, positioned at the first data row.
        columns: Column names, for messages.
        delimiter: The cell separator.
        pad: Accept rows shorter than the header (TRC writers leave trailing missing markers out).

    Returns:
        The numbers, and the line number of each row (for messages about a row).

    Raises:
        MarkerReadError: A row has more cells than the header (or fewer, without ``pad``), or a
            cell is not a number (naming its line and column).
    """
    width = len(columns)
    chunks: list[NDArray[np.float64]] = []
    chunk: list[list[float]] = []
    numbers: list[int] = []
    for line in lines.rows():
        numbers.append(lines.number)
        cells = line.split(delimiter)
        while len(cells) > width and not cells[-1].strip():
            cells.pop()  # trailing separators
        if len(cells) > width or (len(cells) < width and not pad):
            raise MarkerReadError(
                path,
                f"line {lines.number} has {len(cells)} cells but the header names {width} "
                "columns; every row needs one cell per column (leave a cell empty when a "
                "marker is missing)",
            )
        try:
            row = [float(c) if c.strip() else math.nan for c in cells]
        except ValueError:
            row = []
            for k, cell in enumerate(cells):
                try:
                    row.append(float(cell) if cell.strip() else math.nan)
                except ValueError:
                    raise MarkerReadError(
                        path,
                        f"line {lines.number}, column {k + 1} ({columns[k]!r}): {cell.strip()!r} "
                        "is not a number; leave the cell empty (or NaN) where a marker is missing",
                    ) from None
        row.extend([math.nan] * (width - len(row)))
        chunk.append(row)
        if len(chunk) == _ROWS_PER_CHUNK:
            chunks.append(np.array(chunk, dtype=np.float64))
            chunk = []
    if chunk:
        chunks.append(np.array(chunk, dtype=np.float64))
    rows = np.array(numbers, dtype=np.int64)
    if not chunks:
        return np.empty((0, width), dtype=np.float64), rows
    return np.concatenate(chunks), rows


def _to_positions(values: NDArray[np.float64], metres: float) -> NDArray[np.float64]:
    """``(frames, 3 * markers)`` numbers -> ``(frames, markers, 3)`` metres, NaN where missing."""
    lab = np.ascontiguousarray(values.reshape(len(values), -1, 3), dtype=np.float64) * metres
    missing = ~np.isfinite(lab).all(axis=2) | np.all(lab == 0.0, axis=2)
    lab[missing] = np.nan
    return lab


# --------------------------------------------------------------------------- TRC


def _read_trc(path: str, mocap_scale: float) -> _Markers:
    with _open_text(path) as stream:
        lines = _Lines(path, stream)
        first = lines.next()
        if first is None:
            raise MarkerReadError(path, "the file is empty")
        if not first.strip().lower().startswith("pathfiletype"):
            raise MarkerReadError(
                path,
                "not a TRC file: its first line does not start with PathFileType (OpenSim's "
                "marker format); export the markers as TRC, or save them as a .csv table",
            )
        keys_line, values_line = lines.next(), lines.next()
        if keys_line is None or values_line is None:
            raise MarkerReadError(path, "the TRC header ends before its DataRate... lines")
        header = _trc_header(path, keys_line, values_line)
        names_line, axes_line = lines.next(), lines.next()
        if names_line is None or axes_line is None:
            raise MarkerReadError(
                path, "the TRC header ends before its Frame#/Time and X1/Y1/Z1 rows"
            )
        names = _trc_names(path, names_line, header)
        columns = ["Frame#", "Time"] + [f"{n}.{a}" for n in names for a in "XYZ"]
        values, _ = _numbers(path, lines, columns, "\t", pad=True)
    announced = header["NumFrames"]
    if len(values) == 0:
        raise MarkerReadError(path, "it holds no frames (no rows after the X1/Y1/Z1 row)")
    if announced != len(values):
        raise MarkerReadError(
            path,
            f"its header announces NumFrames {announced} but the file holds {len(values)} "
            "frame rows: the file is cut off or was edited; export it again",
        )
    units_text = str(header["Units"]).strip()
    if units_text:
        unit = _TRC_UNITS.get(units_text.lower())
        if unit is None:
            raise MarkerReadError(
                path,
                f"unknown Units {units_text!r} in the TRC header (accepted: mm, cm, m, in); "
                "correct it to the units of the numbers",
            )
        metres, units, stated = _TRC_SCALE[unit], unit, True
    else:  # a header without Units: the caller says
        metres, units, stated = 1.0 / mocap_scale, _scale_units(mocap_scale), False
    frame_numbers = values[:, 0]
    first_frame = int(frame_numbers[0]) if np.isfinite(frame_numbers[0]) else 1
    return _Markers(
        labels=names,
        positions=_to_positions(values[:, 2:], metres),
        rate=float(header["DataRate"]),
        units=units,
        first_frame=first_frame,
        storage="text",
        units_stated=stated,
    )


def _trc_header(path: str, keys_line: str, values_line: str) -> dict[str, Any]:
    keys = [k.strip() for k in keys_line.split("\t")]
    values = [v.strip() for v in values_line.split("\t")]
    found = {k.lower(): (k, values[i] if i < len(values) else "") for i, k in enumerate(keys)}
    missing = [k for k in _TRC_HEADER_KEYS if k.lower() not in found]
    if missing:
        raise MarkerReadError(
            path,
            f"the TRC header (line 2) lacks {', '.join(missing)}; it must list DataRate, "
            "CameraRate, NumFrames, NumMarkers, Units... with their values on line 3",
        )
    header: dict[str, Any] = {"Units": found.get("units", ("Units", ""))[1]}
    for key in _TRC_HEADER_KEYS:
        text = found[key.lower()][1]
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        whole = key != "DataRate"
        if not math.isfinite(value) or value < 0 or (whole and value != int(value)):
            what = "a whole number >= 0" if whole else "a rate in Hz > 0"
            raise MarkerReadError(
                path, f"the TRC header's {key} is {text!r} (line 3); it must be {what}"
            )
        header[key] = int(value) if whole else value
    if header["DataRate"] <= 0:
        raise MarkerReadError(
            path, f"the TRC header's DataRate is {header['DataRate']:g} (line 3); it must be > 0"
        )
    if header["NumMarkers"] > MAX_TABLE_MARKERS:
        raise _too_many_markers(path, header["NumMarkers"], "its header (NumMarkers)")
    return header


def _trc_names(path: str, line: str, header: dict[str, Any]) -> list[str]:
    cells = [c.strip() for c in line.split("\t")]
    if len(cells) < 2 or cells[0].lower() != "frame#" or cells[1].lower() != "time":
        raise MarkerReadError(
            path, "line 4 of a TRC file must start with Frame# and Time, then the marker names"
        )
    names = [c for c in cells[2:] if c]
    if len(names) > MAX_TABLE_MARKERS:
        raise _too_many_markers(path, len(names), "line 4")
    if len(names) != header["NumMarkers"]:
        raise MarkerReadError(
            path,
            f"its header announces NumMarkers {header['NumMarkers']} but line 4 names "
            f"{len(names)} markers; correct NumMarkers or the names",
        )
    if not names:
        raise MarkerReadError(path, "it names no markers (line 4 holds only Frame# and Time)")
    return names


# --------------------------------------------------------------------------- tables


def _read_csv(path: str, mocap_scale: float) -> _Markers:
    with _open_text(path) as stream:
        lines = _Lines(path, stream)
        header = next(lines.rows(), None)
        if header is None:
            raise MarkerReadError(path, "the file is empty (no header row)")
        delimiter = next((d for d in (",", ";", "\t") if d in header), ",")
        columns = [c.strip().strip('"').strip() for c in header.split(delimiter)]
        if len(columns) > 3 * MAX_TABLE_MARKERS + 2:
            raise _too_many_markers(path, len(columns) // 3, "its header")
        layout = _table_layout(path, columns)
        values, rows = _numbers(path, lines, columns, delimiter)
    return _table_markers(path, layout, values, mocap_scale, [f"line {n}" for n in rows], "text")


def _read_parquet(path: str, mocap_scale: float) -> _Markers:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from ._export import EXPORT_EXTRA_HINT

        raise MarkerReadError(
            path, f"reading parquet tables needs pyarrow; install it: {EXPORT_EXTRA_HINT}"
        ) from None
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise MarkerReadError(
            path, f"not a readable parquet file ({_first_sentence(exc)}); write it again"
        ) from None
    columns = list(schema.names)
    if len(columns) > 3 * MAX_TABLE_MARKERS + 2:
        raise _too_many_markers(path, len(columns) // 3, "its schema")
    layout = _table_layout(path, columns)
    for k in layout.used:
        kind = schema.field(k).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)):
            raise MarkerReadError(
                path,
                f"column {k + 1} ({columns[k]!r}) holds {kind}, not numbers; write the time and "
                "the coordinates as numbers (null or NaN where a marker is missing)",
            )
    try:
        table = parquet.read(columns=[columns[k] for k in layout.used])
    except (pa.ArrowException, OSError) as exc:
        raise MarkerReadError(
            path, f"its data cannot be read ({_first_sentence(exc)}); write it again"
        ) from None
    values = np.full((table.num_rows, len(columns)), np.nan)
    for k, column in zip(layout.used, table.columns, strict=True):
        values[:, k] = column.to_numpy(zero_copy_only=False).astype(np.float64)
    rows = [f"row {i + 1}" for i in range(len(values))]
    return _table_markers(path, layout, values, mocap_scale, rows, "parquet")


def _first_sentence(exc: BaseException) -> str:
    return str(exc).strip().split("\n")[0].rstrip(".") or type(exc).__name__


@dataclass(frozen=True)
class _Layout:
    """Which columns of a table hold the time and each marker's x, y and z."""

    columns: list[str]
    time: int
    names: list[str]
    xyz: list[tuple[int, int, int]]

    @property
    def used(self) -> list[int]:
        """Every column read: time, then the coordinates."""
        return [self.time] + [k for triplet in self.xyz for k in triplet]


def _table_layout(path: str, columns: list[str]) -> _Layout:
    """Find the time column and group the others into marker triplets."""
    times = [k for k, c in enumerate(columns) if c.lower() == _TIME_COLUMN]
    if not times:
        raise MarkerReadError(
            path,
            f"it has no {_TIME_COLUMN!r} column; a trackers table needs one (seconds), then "
            "<marker>_x, <marker>_y, <marker>_z columns per marker",
        )
    if len(times) > 1:
        raise MarkerReadError(path, f"it has {len(times)} time columns; keep one")
    slots: dict[str, dict[str, int]] = {}
    shown: dict[str, str] = {}
    for k, column in enumerate(columns):
        if k == times[0] or column.lower() in _FRAME_COLUMNS:
            continue
        m = _COMPONENT.match(column)
        if m is None:
            raise MarkerReadError(
                path,
                f"column {k + 1} ({column!r}) is not a marker coordinate: name each marker's "
                "columns <marker>_x, <marker>_y, <marker>_z (or .x/.y/.z)",
            )
        name, axis = m["name"].strip(), m["axis"].lower()
        key = name.upper()
        shown.setdefault(key, name)
        if axis in slots.setdefault(key, {}):
            raise MarkerReadError(
                path,
                f"marker {shown[key]!r} has two {axis} columns (columns {slots[key][axis] + 1} and "
                f"{k + 1}); keep one",
            )
        slots[key][axis] = k
    names, xyz = [], []
    for key, found in slots.items():
        lacking = [a for a in "xyz" if a not in found]
        if lacking:
            raise MarkerReadError(
                path,
                f"marker {shown[key]!r} has no {', '.join(lacking)} column; each marker needs "
                "_x, _y and _z columns",
            )
        names.append(shown[key])
        xyz.append((found["x"], found["y"], found["z"]))
    if not names:
        raise MarkerReadError(path, "it has no marker columns (<marker>_x, _y, _z) beside time")
    if len(names) > MAX_TABLE_MARKERS:
        raise _too_many_markers(path, len(names), "its header")
    return _Layout(columns, times[0], names, xyz)


def _table_markers(
    path: str,
    layout: _Layout,
    values: NDArray[np.float64],
    mocap_scale: float,
    rows: list[str],
    storage: str,
) -> _Markers:
    """The markers of a parsed table, the rate from its time column.

    Args:
        path: The file, for messages.
        layout: Its columns.
        values: ``(rows, columns)`` numbers.
        mocap_scale: Divisor taking the numbers to metres.
        rows: How a message names each row (``line 7`` of a CSV file, ``row 6`` of parquet).
        storage: ``text`` or ``parquet``.
    """
    if len(values) == 0:
        raise MarkerReadError(path, "it holds no rows of data below the header")
    time = values[:, layout.time]
    bad = np.flatnonzero(~np.isfinite(time))
    if len(bad):
        raise MarkerReadError(
            path,
            f"{rows[bad[0]]}: the {layout.columns[layout.time]!r} cell is empty or not finite; "
            "every row needs its time in seconds",
        )
    rate = _rate(path, time, rows)
    coords = values[:, [k for triplet in layout.xyz for k in triplet]]
    return _Markers(
        labels=layout.names,
        positions=_to_positions(coords, 1.0 / mocap_scale),
        rate=rate,
        units=_scale_units(mocap_scale),
        first_frame=1,
        storage=storage,
    )


def _rate(path: str, time: NDArray[np.float64], rows: list[str]) -> float:
    """The frame rate of uniformly spaced times (seconds)."""
    if len(time) < 2:
        raise MarkerReadError(
            path,
            "it has a single row, so its frame rate cannot be told from the time column; a "
            "trackers table needs at least two rows",
        )
    steps = np.diff(time)
    back = np.flatnonzero(steps <= 0)
    if len(back):
        i = int(back[0])
        raise MarkerReadError(
            path,
            f"{rows[i + 1]}: time does not increase ({time[i + 1]:g} s after {time[i]:g} s); "
            "sort the rows by time and remove duplicates",
        )
    usual = float(np.median(steps))
    off = np.flatnonzero(np.abs(steps - usual) > _TIME_STEP_TOLERANCE * usual)
    if len(off):
        i = int(off[0])
        raise MarkerReadError(
            path,
            f"time is not evenly spaced: the step from {rows[i]} to {rows[i + 1]} is "
            f"{steps[i]:g} s, the usual step {usual:g} s; the engine needs a constant frame "
            "rate (resample the table, or fill dropped frames with empty cells)",
        )
    mean = float(time[-1] - time[0]) / (len(time) - 1)
    rate = 1.0 / mean
    # Times written with a few decimals make 120 Hz read as 119.99997 Hz.
    nearest = round(rate)
    return float(nearest) if abs(rate - nearest) <= _RATE_SNAP * rate else rate
