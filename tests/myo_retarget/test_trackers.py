"""Marker inputs beyond C3D: TRC files and CSV/parquet trackers tables read like C3D files, and
every unusable file says which file, line or row, column and what to do."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget import (
    TRACKER_EXTENSIONS,
    C3DReadError,
    MarkerReadError,
    RetargetError,
    inspect_c3d,
    load_character,
    read_c3d,
    read_markers,
)
from myo_retarget._export import EXPORT_EXTRA_HINT
from myo_retarget._trackers import MAX_TABLE_MARKERS

from .c3d_factory import write_c3d
from .motion_factory import known_motion, marker_trajectories
from .tracker_factory import table_columns, write_csv, write_parquet, write_trc

RATE = 100.0


@pytest.fixture(scope="module")
def markers() -> tuple[list[str], NDArray[np.float64]]:
    """40 frames of the cmu markers on the default character (world frame, metres), one
    marker missing in frames 5-9."""
    character = load_character()
    labels, positions = marker_trajectories(
        character, "cmu", known_motion(character, 40, RATE, seed=3)
    )
    positions[5:10, labels.index("LFHD")] = np.nan
    return labels, positions


def _check_same(rec_positions: NDArray[np.float64], expected: NDArray[np.float64]) -> None:
    assert np.array_equal(np.isnan(rec_positions), np.isnan(expected))
    np.testing.assert_allclose(rec_positions, expected, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("units", ["mm", "cm", "m", "in"])
@pytest.mark.parametrize("vertical", ["+Y", "+Z", "-Y"])
def test_trc_round_trip_in_its_units_and_lab_axis(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]], units: str, vertical: str
) -> None:
    labels, positions = markers
    path = write_trc(tmp_path / "walk.trc", labels, positions, RATE, units=units, vertical=vertical)
    rec = read_markers(path)
    assert (rec.format, rec.units, rec.rate, rec.n_frames) == ("trc", units, RATE, 40)
    assert rec.vertical_axis == vertical and rec.vertical_axis_detected
    assert rec.labels == labels and rec.first_frame == 1
    assert (rec.processor, rec.storage, rec.n_analog_channels) == ("", "text", 0)
    assert not rec.gap_filled.any() and rec.ignored_labels == []
    _check_same(rec.positions, positions)


def test_trc_without_units_uses_mocap_scale(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]]
) -> None:
    labels, positions = markers
    path = write_trc(tmp_path / "m.trc", labels, positions, RATE, units="m", header_units="")
    rec = read_markers(path, mocap_scale=1)
    assert rec.units == "m"
    _check_same(rec.positions, positions)
    in_mm = write_trc(tmp_path / "mm.trc", labels, positions, RATE, units="mm", header_units="")
    assert read_markers(in_mm).units == "mm"  # the default: millimetres


def test_trc_frame_numbers_and_frame_range(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]]
) -> None:
    labels, positions = markers
    path = write_trc(tmp_path / "w.trc", labels, positions, RATE, first_frame=101)
    rec = read_markers(path, frame_range=(10, 20))
    assert rec.first_frame == 111 and rec.n_frames == 10
    _check_same(rec.positions, positions[10:20])


@pytest.mark.parametrize("suffix", ["_{}", ".{}", "_{}".upper(), ".{}".upper()])
@pytest.mark.parametrize("writer", [write_csv, write_parquet])
def test_tables_round_trip_with_each_column_suffix(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]], suffix: str, writer: object
) -> None:
    labels, positions = markers
    columns = table_columns(labels, positions, RATE, vertical="+Y", suffix=suffix)
    if suffix.isupper():  # upper-case components: X, Y, Z
        columns = {k[:-1] + k[-1].upper() if k != "time" else k: v for k, v in columns.items()}
    ext = "csv" if writer is write_csv else "parquet"
    path = writer(tmp_path / f"t.{ext}", columns)  # type: ignore[operator]
    rec = read_markers(path)
    assert (rec.format, rec.units, rec.rate, rec.n_frames) == (ext, "mm", RATE, 40)
    assert rec.storage == ("text" if ext == "csv" else "parquet")
    assert rec.labels == labels and rec.vertical_axis == "+Y"
    _check_same(rec.positions, positions)


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_mocap_scale_divides_table_numbers(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]], ext: str
) -> None:
    labels, positions = markers
    columns = table_columns(labels, positions, RATE, scale=1.0)  # metres
    writer = write_csv if ext == "csv" else write_parquet
    path = writer(tmp_path / f"m.{ext}", columns)
    rec = read_markers(path, mocap_scale=1.0)
    assert rec.units == "m"
    _check_same(rec.positions, positions)
    assert read_markers(path, mocap_scale=2.54).units == "1/2.54 m"


@pytest.mark.parametrize(("scale", "read_as", "advice"), [(1.0, None, 1), (1000.0, 1.0, 1000)])
@pytest.mark.parametrize("ext", ["csv", "parquet", "trc"])
def test_a_table_read_in_the_wrong_units_says_which_mocap_scale_fits(
    tmp_path: Path,
    markers: tuple[list[str], NDArray[np.float64]],
    ext: str,
    scale: float,
    read_as: float | None,
    advice: int,
) -> None:
    # A table in metres read as millimetres made a body 1.8 mm tall: the job "succeeded" with
    # every frame failed. It is refused, naming the mocap_scale that gives a human size.
    labels, positions = markers
    if ext == "trc":
        units = "m" if scale == 1.0 else "mm"
        path = write_trc(tmp_path / "m.trc", labels, positions, RATE, units=units, header_units="")
    else:
        writer = write_csv if ext == "csv" else write_parquet
        path = writer(tmp_path / f"m.{ext}", table_columns(labels, positions, RATE, scale=scale))
    with pytest.raises(MarkerReadError) as caught:
        read_markers(path, mocap_scale=read_as)
    message = str(caught.value)
    assert f"m.{ext}" in message and f"mocap_scale={advice}" in message
    assert "--mocap-scale" in message
    rec = read_markers(path, mocap_scale=advice)
    np.testing.assert_allclose(rec.positions, positions * scale / advice, atol=1e-6)


def test_a_c3d_is_recognised_whatever_its_name(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]]
) -> None:
    labels, positions = markers
    c3d = write_c3d(tmp_path / "walk.c3d", labels, positions, RATE)
    renamed = tmp_path / "walk.dat"
    renamed.write_bytes(c3d.read_bytes())
    rec = read_markers(renamed)
    assert rec.format == "c3d"
    _check_same(rec.positions, read_c3d(c3d).positions)
    with pytest.raises(C3DReadError, match="not a C3D file"):  # C3D errors stay C3DReadError
        read_markers(_text(tmp_path, "text.c3d", GOOD_CSV))


def test_tables_feed_inspect_and_retarget(
    tmp_path: Path, markers: tuple[list[str], NDArray[np.float64]]
) -> None:
    from myo_retarget import RetargetOptions, retarget

    labels, positions = markers
    path = write_parquet(tmp_path / "w.parquet", table_columns(labels, positions, RATE))
    info = inspect_c3d(path)
    assert info["format"] == "parquet" and info["processor"] == ""
    assert info["best_markerset"]["name"] == "cmu" and info["frames"] == 40
    motion = retarget(path, "cmu", options=RetargetOptions(calibration_frames=8))
    assert motion.metadata["source"]["format"] == "parquet"
    assert motion.metadata["source"]["units"] == "mm"
    assert motion.summary()["rms_residual_mm"] < 5.0


# --------------------------------------------------------------------------- errors


def _text(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _error(path: str | Path, **kwargs: object) -> str:
    with pytest.raises(MarkerReadError) as err:
        read_markers(path, **kwargs)  # type: ignore[arg-type]
    assert err.value.path == str(path)
    return err.value.reason


GOOD_CSV = "time,A_x,A_y,A_z\n0,1,2,3\n0.01,1,2,3\n0.02,1,2,3\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "t,A_x,A_y,A_z\n0,1,2,3\n",
            "it has no 'time' column; a trackers table needs one (seconds), then <marker>_x, "
            "<marker>_y, <marker>_z columns per marker",
        ),
        (
            "time,A_x,A_y,A_z,weight\n0,1,2,3,4\n",
            "column 5 ('weight') is not a marker coordinate: name each marker's columns "
            "<marker>_x, <marker>_y, <marker>_z (or .x/.y/.z)",
        ),
        (
            "time,A_x,A_y,B_x,B_y,B_z\n0,1,2,3,4,5\n",
            "marker 'A' has no z column; each marker needs _x, _y and _z columns",
        ),
        (
            "time,A_x,A_y,A_z,a.x\n0,1,2,3,4\n",
            "marker 'A' has two x columns (columns 2 and 5); keep one",
        ),
        ("time,Time,A_x,A_y,A_z\n", "it has 2 time columns; keep one"),
        ("time\n0\n", "it has no marker columns (<marker>_x, _y, _z) beside time"),
        ("", "the file is empty (no header row)"),
        ("time,A_x,A_y,A_z\n", "it holds no rows of data below the header"),
        (
            "time,A_x,A_y,A_z\n0,1,2,3\n0.01,1,2mm,3\n",
            "line 3, column 3 ('A_y'): '2mm' is not a number; leave the cell empty (or NaN) where "
            "a marker is missing",
        ),
        (
            "time,A_x,A_y,A_z\n0,1,2,3\n0.01,1,2\n",
            "line 3 has 3 cells but the header names 4 columns; every row needs one cell per "
            "column (leave a cell empty when a marker is missing)",
        ),
        (
            "time,A_x,A_y,A_z\n0,1,2,3\n\n0.01,1,2,3\n0.01,1,2,3\n",
            "line 5: time does not increase (0.01 s after 0.01 s); sort the rows by time and "
            "remove duplicates",
        ),
        (
            "time,A_x,A_y,A_z\n0,1,2,3\n,1,2,3\n",
            "line 3: the 'time' cell is empty or not finite; every row needs its time in seconds",
        ),
        (
            "time,A_x,A_y,A_z\n0,1,2,3\n0.01,1,2,3\n0.03,1,2,3\n0.04,1,2,3\n",
            "time is not evenly spaced: the step from line 3 to line 4 is 0.02 s, the usual step "
            "0.01 s; the engine needs a constant frame rate (resample the table, or fill dropped "
            "frames with empty cells)",
        ),
        (
            "time,A_x,A_y,A_z\n0,1,2,3\n",
            "it has a single row, so its frame rate cannot be told from the time column; a "
            "trackers table needs at least two rows",
        ),
    ],
)
def test_csv_errors_name_the_line_column_or_marker(tmp_path: Path, text: str, reason: str) -> None:
    assert _error(_text(tmp_path, "bad.csv", text)) == reason


def test_a_good_csv_reads(tmp_path: Path) -> None:
    rec = read_markers(_text(tmp_path, "good.csv", GOOD_CSV), vertical_axis="+z")
    assert rec.rate == 100.0 and rec.labels == ["A"] and rec.positions[0, 0, 2] == 0.003


def test_csv_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"time,A_x,A_y,A_z\n\xff\xfe\x00\x01\n")
    assert _error(path) == (
        "line 2 is not UTF-8 text: is it a text table? Save it as UTF-8 CSV (or TRC) text"
    )


def test_a_million_column_header_is_refused_at_once(tmp_path: Path) -> None:
    header = "time," + ",".join(f"M{k}_{a}" for k in range(350_000) for a in "xyz")
    path = _text(tmp_path, "wide.csv", header + "\n" + "0," * 1_050_000 + "0\n")
    started = time.perf_counter()
    reason = _error(path)
    assert time.perf_counter() - started < 5.0
    assert reason == (
        f"line 1 is longer than {(3 * MAX_TABLE_MARKERS + 2) * 32} bytes (at most "
        f"{MAX_TABLE_MARKERS} markers are accepted)"
    )
    wide = "time," + ",".join(f"M{k}_{a}" for k in range(MAX_TABLE_MARKERS + 1) for a in "xyz")
    assert _error(_text(tmp_path, "wider.csv", wide + "\n")) == (
        f"its header has {MAX_TABLE_MARKERS + 1} markers; at most {MAX_TABLE_MARKERS} are "
        "accepted (no markerset uses more): is it the right file?"
    )


def test_many_rows_are_fine(tmp_path: Path) -> None:
    rows = 50_000
    t = np.arange(rows) / 1000.0
    columns = {"time": t, "A_x": t, "A_y": t + 1, "A_z": t + 2}
    rec = read_markers(write_csv(tmp_path / "long.csv", columns))
    assert rec.n_frames == rows and rec.rate == 1000.0


def _trc(**changes: str) -> str:
    lines = {
        "first": "PathFileType\t4\t(X/Y/Z)\tx.trc",
        "keys": "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate",
        "values": "100\t100\t2\t1\tmm\t100",
        "names": "Frame#\tTime\tA\t\t",
        "axes": "\t\tX1\tY1\tZ1",
        "rows": "1\t0\t1\t2\t3\n2\t0.01\t1\t2\t3",
    }
    lines.update(changes)
    return "\n".join(lines.values()) + "\n"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"first": "Frame#\tTime"},
            "not a TRC file: its first line does not start with PathFileType (OpenSim's marker "
            "format); export the markers as TRC, or save them as a .csv table",
        ),
        (
            {"keys": "DataRate\tCameraRate\tUnits", "values": "100\t100\tmm"},
            "the TRC header (line 2) lacks NumFrames, NumMarkers; it must list DataRate, "
            "CameraRate, NumFrames, NumMarkers, Units... with their values on line 3",
        ),
        (
            {"values": "fast\t100\t2\t1\tmm\t100"},
            "the TRC header's DataRate is 'fast' (line 3); it must be a rate in Hz > 0",
        ),
        (
            {"values": "0\t100\t2\t1\tmm\t100"},
            "the TRC header's DataRate is 0 (line 3); it must be > 0",
        ),
        (
            {"values": "100\t100\t2\t2\tmm\t100"},
            "its header announces NumMarkers 2 but line 4 names 1 markers; correct NumMarkers or "
            "the names",
        ),
        (
            {"values": "100\t100\t3\t1\tmm\t100"},
            "its header announces NumFrames 3 but the file holds 2 frame rows: the file is cut "
            "off or was edited; export it again",
        ),
        (
            {"values": "100\t100\t2\t1\tfeet\t100"},
            "unknown Units 'feet' in the TRC header (accepted: mm, cm, m, in); correct it to the "
            "units of the numbers",
        ),
        (
            {"names": "Time\tFrame#\tA"},
            "line 4 of a TRC file must start with Frame# and Time, then the marker names",
        ),
        (
            {"rows": "1\t0\t1\t2\t3\n2\t0.01\t1\t#\t3"},
            "line 7, column 4 ('A.Y'): '#' is not a number; leave the cell empty (or NaN) where "
            "a marker is missing",
        ),
        ({"rows": ""}, "it holds no frames (no rows after the X1/Y1/Z1 row)"),
        (
            {"values": f"100\t100\t2\t{MAX_TABLE_MARKERS + 1}\tmm\t100"},
            f"its header (NumMarkers) has {MAX_TABLE_MARKERS + 1} markers; at most "
            f"{MAX_TABLE_MARKERS} are accepted (no markerset uses more): is it the right file?",
        ),
    ],
)
def test_trc_errors_name_the_header_field_or_cell(
    tmp_path: Path, changes: dict[str, str], reason: str
) -> None:
    assert _error(_text(tmp_path, "bad.trc", _trc(**changes))) == reason


def test_a_good_trc_reads_and_short_rows_are_missing_markers(tmp_path: Path) -> None:
    rec = read_markers(_text(tmp_path, "ok.trc", _trc(rows="1\t0\t1\t2\t3\n2\t0.01")))
    assert rec.n_frames == 2 and np.isnan(rec.positions[1]).all()


def test_files_that_are_no_marker_recording(tmp_path: Path) -> None:
    assert _error(tmp_path / "absent.csv") == "file not found"
    (tmp_path / "dir.trc").mkdir()
    assert _error(tmp_path / "dir.trc") == "is a directory, not a marker file"
    notes = _text(tmp_path, "notes.txt", "hello")
    assert _error(notes) == (
        "unsupported marker file .txt; accepted formats: "
        + ", ".join(TRACKER_EXTENSIONS)
        + " (a C3D file is recognised whatever its name)"
    )
    assert _error(_text(tmp_path, "fake.parquet", GOOD_CSV)).startswith(
        "not a readable parquet file ("
    )


def test_arguments_are_checked(tmp_path: Path) -> None:
    path = _text(tmp_path, "good.csv", GOOD_CSV)
    assert _error(path, vertical_axis="up") == (
        "vertical axis 'up' is not one of +X, -X, +Y, -Y, +Z, -Z"
    )
    assert _error(path, mocap_scale=-1.0) == "mocap_scale must be a positive number, not -1.0"
    assert _error(path, frame_range=(2, 9)) == (
        "frame range (2, 9) is outside the recording: use 0 <= start < stop <= 3 (0-based frame "
        "indices, stop excluded)"
    )


def test_parquet_columns_must_be_numbers(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "text.parquet"
    table = pa.table({"time": [0.0, 0.01], "A_x": ["1", "2"], "A_y": [1, 2], "A_z": [1.0, 2.0]})
    pq.write_table(table, path)
    assert _error(path) == (
        "column 2 ('A_x') holds string, not numbers; write the time and the coordinates as "
        "numbers (null or NaN where a marker is missing)"
    )


def test_parquet_without_pyarrow_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyarrow is installed in the test environment: hide it (None in sys.modules fails import).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    assert _error(path) == f"reading parquet tables needs pyarrow; install it: {EXPORT_EXTRA_HINT}"


def test_marker_read_errors_are_retarget_errors() -> None:
    assert issubclass(MarkerReadError, RetargetError)
    assert issubclass(C3DReadError, MarkerReadError)
