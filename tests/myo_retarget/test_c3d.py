"""C3D reading: units, vertical axes, prefixes, missing samples, model outputs, bad files."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget._c3d import (
    VERTICAL_AXES,
    GapStats,
    lab_to_world_rotation,
    read_c3d,
    read_model_outputs,
    strip_prefix,
)
from myo_retarget._exceptions import C3DReadError

from .c3d_factory import parameter_offsets, set_parameter, write_c3d

SHARED_C3D = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"
LABELS = ["LFHD", "RFHD", "C7", "LASI", "RASI", "LKNE", "RKNE", "LTOE", "RTOE", "LHEE"]


def person(n_frames: int = 60, seed: int = 0) -> NDArray[np.float64]:
    """A crude standing-and-swaying figure in the world frame (z up, metres), walking along +x."""
    rng = np.random.default_rng(seed)
    base = np.array(
        [
            [0.10, 0.08, 1.70],  # LFHD
            [0.10, -0.08, 1.70],  # RFHD
            [-0.05, 0.00, 1.45],  # C7
            [0.10, 0.12, 0.95],  # LASI
            [0.10, -0.12, 0.95],  # RASI
            [0.05, 0.10, 0.50],  # LKNE
            [0.05, -0.10, 0.50],  # RKNE
            [0.15, 0.10, 0.03],  # LTOE
            [0.15, -0.10, 0.03],  # RTOE
            [-0.05, 0.10, 0.05],  # LHEE
        ]
    )
    t = np.arange(n_frames)[:, None, None] / 60.0
    walk = np.array([1.2, 0.0, 0.0]) * t + np.array([0.5, 0.3, 0.0])
    out: NDArray[np.float64] = base[None] + walk + rng.normal(0.0, 0.002, (n_frames, len(base), 3))
    return out


def shared_file(name: str) -> Path:
    if not SHARED_C3D.is_dir():
        pytest.skip(f"real recordings not available at {SHARED_C3D} (../shared/data is absent)")
    return SHARED_C3D / name


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("storage", ["float", "int16"])
@pytest.mark.parametrize("units", ["mm", "cm", "m"])
@pytest.mark.parametrize("vertical", VERTICAL_AXES)
def test_round_trip_detects_vertical_axis_and_units(
    tmp_path: Path, storage: str, units: str, vertical: str
) -> None:
    pos = person()
    path = write_c3d(
        tmp_path / "p.c3d", LABELS, pos, 60.0, units=units, vertical=vertical, storage=storage
    )
    rec = read_c3d(path)
    assert rec.vertical_axis == vertical
    assert rec.vertical_axis_detected
    assert rec.vertical_axis_source == "head and foot markers"
    assert rec.units == units
    assert rec.storage == storage
    assert rec.processor == "Intel"
    assert rec.labels == LABELS
    tol = 1e-5 if storage == "float" else 2e-4  # int16 quantises to ~1/60000 of the range
    np.testing.assert_allclose(rec.positions, pos, atol=tol)
    R = rec.lab_to_world
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    up = np.zeros(3)
    up["XYZ".index(vertical[1])] = 1.0 if vertical[0] == "+" else -1.0
    np.testing.assert_allclose(R @ up, [0.0, 0.0, 1.0], atol=1e-12)
    assert rec.positions.dtype == np.float64 and rec.positions.shape == (60, len(LABELS), 3)


@pytest.mark.parametrize("axis", VERTICAL_AXES)
def test_rotations_are_proper_and_lift_the_axis(axis: str) -> None:
    R = lab_to_world_rotation(axis)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)
    up = np.zeros(3)
    up["XYZ".index(axis[1])] = 1.0 if axis[0] == "+" else -1.0
    np.testing.assert_allclose(R @ up, [0, 0, 1], atol=1e-12)


def test_override_of_the_vertical_axis(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "y.c3d", LABELS, person(), 60.0, vertical="+Y")
    rec = read_c3d(path, vertical_axis="z")  # wrong on purpose: the caller is obeyed
    assert rec.vertical_axis == "+Z" and not rec.vertical_axis_detected
    assert rec.vertical_axis_source == "override"
    np.testing.assert_array_equal(rec.lab_to_world, np.eye(3))
    right = read_c3d(path, vertical_axis="+Y")
    np.testing.assert_allclose(right.positions, person(), atol=1e-5)
    with pytest.raises(C3DReadError, match=r"vertical axis 'up' is not one of \+X"):
        read_c3d(path, vertical_axis="up")


def test_vertical_axis_without_head_or_foot_labels_uses_the_marker_spread(
    tmp_path: Path,
) -> None:
    names = [f"Marker_{i}" for i in range(len(LABELS))]
    path = write_c3d(tmp_path / "anon.c3d", names, person(), 60.0, vertical="-Y")
    rec = read_c3d(path)
    assert (rec.vertical_axis, rec.vertical_axis_source) == ("-Y", "marker spread")


def test_vertical_axis_falls_back_to_default_when_the_data_says_nothing(tmp_path: Path) -> None:
    cube = np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]], dtype=float) + 0.5
    path = write_c3d(tmp_path / "cube.c3d", ["A", "B", "C", "D"], cube[None].repeat(5, 0), 50.0)
    rec = read_c3d(path)
    assert (rec.vertical_axis, rec.vertical_axis_source) == ("+Z", "default")


def test_vertical_axis_hint_of_vicon_files(tmp_path: Path) -> None:
    import ezc3d

    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [50.0]
    c["parameters"]["POINT"]["LABELS"]["value"] = ("A", "B", "C")
    c.add_parameter("POINT", "UNITS", ["mm"])
    c.add_parameter("POINT", "Y_SCREEN", ["-Y"])
    points = np.ones((4, 3, 4))
    points[:3] = np.array([[100.0, 0.0, 0.0], [0.0, 100.0, 0.0], [0.0, 0.0, 100.0]])[..., None]
    c["data"]["points"] = points
    c.write(str(tmp_path / "hint.c3d"))
    rec = read_c3d(tmp_path / "hint.c3d")
    assert (rec.vertical_axis, rec.vertical_axis_source) == ("-Y", "POINT:Y_SCREEN")


def test_more_than_255_points_continue_in_labels2(tmp_path: Path) -> None:
    labels = [f"M{i}" for i in range(300)]
    pos = np.random.default_rng(3).uniform(0.1, 1.0, (3, 300, 3))
    rec = read_c3d(write_c3d(tmp_path / "many.c3d", labels, pos, 50.0))
    assert rec.labels == labels
    np.testing.assert_allclose(rec.positions[:, 299], pos[:, 299], atol=1e-5)


def test_head_above_other_markers_is_enough(tmp_path: Path) -> None:
    labels = ["Forehead", "TempleL", "C7", "ShoulderL", "ElbowL", "HandL"]
    pos = person()[:, [0, 1, 2, 3, 4, 5]]
    path = write_c3d(tmp_path / "upper.c3d", labels, pos, 60.0, vertical="+X")
    rec = read_c3d(path)
    assert (rec.vertical_axis, rec.vertical_axis_source) == ("+X", "head markers")


# --------------------------------------------------------------------------- labels


def test_prefixes_are_stripped_and_raw_labels_kept(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "pre.c3d", LABELS, person(), 60.0, prefix="Justin3:")
    rec = read_c3d(path)
    assert rec.labels == LABELS
    assert rec.raw_labels == ["Justin3:" + lb for lb in LABELS]
    assert strip_prefix(" Sub:Part:LFHD ") == "LFHD"
    assert strip_prefix("RBAC-1") == "RBAC-1"


def test_labels_that_collide_after_stripping_keep_their_prefix(tmp_path: Path) -> None:
    labels = ["ArmL:Marker1", "ArmR:Marker1", "ArmR:marker2", "Body:LFHD", "LFHD", "Solo:C7"]
    pos = person()[:, :6]
    rec = read_c3d(write_c3d(tmp_path / "dup.c3d", labels, pos, 60.0))
    assert rec.labels == ["ArmL:Marker1", "ArmR:Marker1", "marker2", "Body:LFHD", "LFHD", "C7"]


def test_identical_labels_get_a_suffix(tmp_path: Path) -> None:
    rec = read_c3d(write_c3d(tmp_path / "same.c3d", ["A", "B", "A"], person()[:, :3], 60.0))
    assert rec.labels == ["A", "B", "A#2"]
    assert rec.raw_labels == ["A", "B", "A"]


def test_model_outputs_are_ignored_but_readable(tmp_path: Path) -> None:
    pos = person()
    angles = np.stack([np.linspace(0, 60, 60), np.zeros(60), np.full(60, -5.0)], axis=1)
    extra = {"LKneeAngles": angles, "PELO": pos[:, 3], "CentreOfMass": pos[:, 4]}
    path = write_c3d(tmp_path / "mo.c3d", LABELS, pos, 60.0, extra_points=extra)
    rec = read_c3d(path)
    assert rec.labels == LABELS
    assert rec.ignored_labels == ["LKneeAngles", "PELO", "CentreOfMass"]
    out = read_model_outputs(path, ["lkneeangles"])
    np.testing.assert_allclose(out["lkneeangles"], angles, atol=1e-4)  # degrees, no conversion
    everything = read_model_outputs(path)
    assert list(everything) == ["LKneeAngles", "PELO", "CentreOfMass"]
    np.testing.assert_allclose(everything["PELO"], pos[:, 3], atol=1e-6)  # as stored
    with pytest.raises(C3DReadError, match=r"no point named 'RKneeAngles'.*LKneeAngles"):
        read_model_outputs(path, ["RKneeAngles"])


# --------------------------------------------------------------------------- missing samples


def test_nan_zeros_and_negative_residuals_are_missing(tmp_path: Path) -> None:
    pos = person(40)
    pos[5:9, 0] = np.nan  # written as a negative residual by the factory
    pos[20, 1] = 0.0  # exactly (0, 0, 0) in the file
    residuals = np.ones((40, len(LABELS)))
    residuals[30:32, 2] = -1.0  # negative residual with non-zero coordinates stored
    pos[35, 3, 1] = np.inf  # a corrupt sample
    path = write_c3d(tmp_path / "gaps.c3d", LABELS, pos, 60.0, residuals=residuals)
    rec = read_c3d(path)
    missing = np.isnan(rec.positions).any(axis=2)
    assert np.isnan(rec.positions[missing]).all()  # all three coordinates, never one
    expected = np.zeros_like(missing)
    expected[5:9, 0] = expected[20, 1] = expected[30:32, 2] = expected[35, 3] = True
    np.testing.assert_array_equal(missing, expected)
    assert rec.gaps()["LFHD"] == GapStats(missing_frames=4, n_gaps=1, longest_gap=4)
    assert rec.gaps()["RFHD"] == GapStats(1, 1, 1)
    assert rec.gaps()["LTOE"] == GapStats(0, 0, 0)
    assert rec.observed.all()


def test_zero_residual_marks_gap_filled_samples_when_the_file_records_residuals(
    tmp_path: Path,
) -> None:
    pos = person(40)
    # ezc3d stores residuals in units of |POINT:SCALE| (1 for its float files): use whole numbers.
    residuals = np.full((40, len(LABELS)), 2.0)
    residuals[10:16, 1] = 0.0  # a gap the capture software filled
    residuals[38, 2] = 0.0
    pos[20:22, 1] = np.nan  # and a real gap in the same marker
    rec = read_c3d(write_c3d(tmp_path / "filled.c3d", LABELS, pos, 60.0, residuals=residuals))
    expected = np.zeros((40, len(LABELS)), dtype=bool)
    expected[10:16, 1] = expected[38, 2] = True
    np.testing.assert_array_equal(rec.gap_filled, expected)
    assert not np.isnan(rec.positions[10:16, 1]).any()  # present, just not measured
    np.testing.assert_array_equal(rec.measured, rec.valid & ~expected)
    assert rec.gaps()["RFHD"] == GapStats(2, 1, 2, gap_filled_frames=6)
    # A slice whose residuals are all zero is judged by the file, which does record them.
    part = read_c3d(tmp_path / "filled.c3d", frame_range=(10, 16))
    assert part.gap_filled[:, 1].all() and not part.gap_filled[:, 0].any()


def test_files_without_residuals_count_as_measured(tmp_path: Path) -> None:
    # Many writers store 0 for every residual: that says nothing about gap filling.
    rec = read_c3d(write_c3d(tmp_path / "plain.c3d", LABELS, person(20), 60.0))
    assert not rec.gap_filled.any()
    assert rec.measured.all()


def test_gaps_count_runs(tmp_path: Path) -> None:
    pos = person(30)
    pos[[0, 1, 5, 10, 11, 12, 29], 3] = np.nan
    rec = read_c3d(write_c3d(tmp_path / "runs.c3d", LABELS, pos, 60.0))
    assert rec.gaps()["LASI"] == GapStats(missing_frames=7, n_gaps=4, longest_gap=3)


def test_never_observed_marker(tmp_path: Path) -> None:
    pos = person(10)
    pos[:, 2] = 0.0
    rec = read_c3d(write_c3d(tmp_path / "zero.c3d", LABELS, pos, 60.0))
    assert rec.observed.tolist() == [lb != "C7" for lb in LABELS]


# --------------------------------------------------------------------------- frames and timing


def test_frame_range_rate_and_time(tmp_path: Path) -> None:
    pos = person(100)
    path = write_c3d(tmp_path / "fr.c3d", LABELS, pos, 250.0, first_frame=11)
    rec = read_c3d(path)
    assert (rec.n_frames, rec.rate, rec.first_frame) == (100, 250.0, 11)
    assert rec.duration_s == pytest.approx(0.4)
    np.testing.assert_allclose(rec.time_s, np.arange(100) / 250.0)
    part = read_c3d(path, frame_range=(20, 30))
    assert (part.n_frames, part.first_frame) == (10, 31)
    np.testing.assert_allclose(part.positions, rec.positions[20:30])
    for bad in [(30, 20), (-1, 5), (0, 101)]:
        with pytest.raises(C3DReadError, match="frame range"):
            read_c3d(path, frame_range=bad)


def test_metadata(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "meta.c3d", LABELS, person(), 60.0)
    rec = read_c3d(str(path))
    import hashlib

    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (rec.path, rec.filename, rec.n_markers) == (str(path), "meta.c3d", len(LABELS))
    assert rec.n_analog_channels == 0


# --------------------------------------------------------------------------- bad files


def test_missing_empty_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(C3DReadError, match=r"nope\.c3d: file not found"):
        read_c3d(tmp_path / "nope.c3d")
    empty = tmp_path / "empty.c3d"
    empty.write_bytes(b"")
    with pytest.raises(C3DReadError, match=r"empty\.c3d: the file is empty"):
        read_c3d(empty)
    text = tmp_path / "notes.c3d"
    text.write_text("LFHD,RFHD\n" * 200)
    with pytest.raises(C3DReadError, match=r"notes\.c3d: not a C3D file"):
        read_c3d(text)
    with pytest.raises(C3DReadError, match="is a directory"):
        read_c3d(tmp_path)


def test_truncated_files_are_rejected(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "full.c3d", LABELS, person(200), 60.0)
    blob = path.read_bytes()
    data_start = (blob[16] + 256 * blob[17] - 1) * 512
    frame_bytes = len(LABELS) * 4 * 4
    for cut in [10, 600, 1000, data_start + 100, len(blob) // 2 + 7, data_start + 199 * 160 + 1]:
        short = tmp_path / f"cut{cut}.c3d"
        short.write_bytes(blob[:cut])
        with pytest.raises(C3DReadError, match=rf"cut{cut}\.c3d: "):
            read_c3d(short)
    # Stopping exactly at a frame boundary is what writers that announce the wrong frame count
    # produce (the shared optotrak.c3d): those frames are read.
    exact = tmp_path / "exact.c3d"
    exact.write_bytes(blob[: data_start + 150 * frame_bytes])
    np.testing.assert_allclose(read_c3d(exact).positions, person(200)[:150], atol=1e-5)


def test_sgi_files_get_a_clear_message(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "intel.c3d", LABELS, person(), 60.0)
    blob = bytearray(path.read_bytes())
    blob[(blob[0] - 1) * 512 + 3] = 86  # processor type: 84 Intel, 85 DEC, 86 SGI/MIPS
    sgi = tmp_path / "sgi.c3d"
    sgi.write_bytes(bytes(blob))
    with pytest.raises(C3DReadError, match=r"sgi\.c3d: .*SGI.*re-export it as an Intel \(PC\)"):
        read_c3d(sgi)
    blob[(blob[0] - 1) * 512 + 3] = 99
    odd = tmp_path / "odd.c3d"
    odd.write_bytes(bytes(blob))
    with pytest.raises(C3DReadError, match="unknown processor type byte 99"):
        read_c3d(odd)


def test_parameter_dimensions_that_overflow_are_caught_before_ezc3d(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0, storage="int16")
    blob = bytearray(path.read_bytes())
    at = blob.index(b"LABELS") + len("LABELS") + 2  # type byte, then dims count, then dims
    blob[at + 3] = 250  # claim 250 labels
    bad = tmp_path / "dims.c3d"
    bad.write_bytes(bytes(blob))
    with pytest.raises(C3DReadError, match=r"record 'LABELS'.*claim more data"):
        read_c3d(bad)


def test_parameters_that_crash_ezc3d_are_caught_before_it(tmp_path: Path) -> None:
    """Regressions from fuzzing: all but the negative offset made ezc3d segfault."""
    blob = write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0, storage="int16").read_bytes()
    # An empty POINT:RATE with four zero dimensions.
    empty_rate = bytearray(blob)
    at = empty_rate.index(b"RATE") + len("RATE") + 2  # type byte, then the dimension count
    empty_rate[at + 1 : at + 7] = bytes([4, 0, 0, 0, 0, 0])
    # A text parameter without dimensions.
    dimensionless = bytearray(blob)
    at = dimensionless.index(b"UNITS") + len("UNITS") + 2
    dimensionless[at + 1] = 0
    # POINT:LABELS turned into a group record by one byte: its type byte (-1) becomes a group
    # description length of 255, which ezc3d reads as -1.
    many = [f"M{i:03d}" for i in range(80)]
    pos = np.random.default_rng(1).uniform(0.1, 1.0, (4, 80, 3))
    long_description = bytearray(
        write_c3d(tmp_path / "many.c3d", many, pos, 60.0, storage="int16").read_bytes()
    )
    at = long_description.index(b"LABELS") - 1  # the record id, just before the name
    long_description[at] = 256 - 9  # group 9
    # A dimension count of 248 in the last parameter record (zeros follow, so sizes still fit).
    many_dims = bytearray(blob)
    at = many_dims.index(b"DATA_START") + len("DATA_START") + 2
    many_dims[at + 1] = 248
    many_dims[at + 2 : at + 4] = b"\0\0"
    # A negative offset to the next record (ezc3d would seek backwards).
    backwards = bytearray(blob)
    at = backwards.index(b"UNITS") + len("UNITS")
    backwards[at : at + 2] = (0xFFF0).to_bytes(2, "little")
    cases = {
        "back.c3d": (bytes(backwards), "record 'UNITS'.*offset to the next record is negative"),
        "rate.c3d": (bytes(empty_rate), "POINT:RATE has no value"),
        "ndims.c3d": (bytes(many_dims), "record 'DATA_START'.*invalid type or dimensions"),
        "desc.c3d": (bytes(long_description), "record 'LABELS'.*description length 255"),
        "text.c3d": (bytes(dimensionless), "record 'UNITS'.*text parameter without dimensions"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(C3DReadError, match=message):
            read_c3d(tmp_path / name)


def test_only_model_outputs_means_no_markers(tmp_path: Path) -> None:
    angles = {"LKneeAngles": np.zeros((5, 3)), "RKneeAngles": np.ones((5, 3))}
    path = write_c3d(tmp_path / "angles.c3d", [], np.zeros((5, 0, 3)), 60.0, extra_points=angles)
    with pytest.raises(C3DReadError, match=r"no marker points.*LKneeAngles"):
        read_c3d(path)


def test_zero_frames_and_bad_rate(tmp_path: Path) -> None:
    none = write_c3d(tmp_path / "none.c3d", LABELS, np.zeros((0, 10, 3)), 60.0, storage="int16")
    with pytest.raises(C3DReadError, match=r"none\.c3d: it holds no frames"):
        read_c3d(none)
    still = write_c3d(tmp_path / "rate0.c3d", LABELS, person(5), 0.0, storage="int16")
    with pytest.raises(C3DReadError, match=r"rate0.c3d: .*rate"):
        read_c3d(still)


def test_unsupported_units(tmp_path: Path) -> None:
    path = write_c3d(tmp_path / "in.c3d", LABELS, person(), 60.0, storage="int16")
    blob = path.read_bytes().replace(b"mm", b"in", 1)
    inches = tmp_path / "inches.c3d"
    inches.write_bytes(blob)
    with pytest.raises(C3DReadError) as err:
        read_c3d(inches)
    assert err.value.reason == (
        "unsupported POINT:UNITS 'in' (supported: mm, cm, m); re-export the recording in one of "
        "these units"
    )
    blank = tmp_path / "blank.c3d"
    blank.write_bytes(path.read_bytes().replace(b"mm", b"  ", 1))
    with pytest.raises(C3DReadError) as err:
        read_c3d(blank)
    assert err.value.reason == (
        "POINT:UNITS is missing, so marker distances cannot be interpreted; re-export the "
        "recording with its units (mm, cm or m)"
    )


_READ_IN_CHILD = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from myo_retarget._c3d import read_c3d
    from myo_retarget._exceptions import C3DReadError
    try:
        read_c3d(sys.argv[1])
        print("read")
    except C3DReadError as exc:
        print(exc)
    """
)


def read_in_child(path: Path) -> str:
    """The reader's verdict on ``path`` ("read" or the error), from a child process limited to
    3 GiB: a crash or a runaway allocation inside ezc3d fails the test instead of pytest."""
    result = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"reader crashed (rc {result.returncode}): {result.stderr}"
    return result.stdout.strip()


# Parameter values that made ezc3d crash (segfault, abort), allocate gigabytes, or fail with its
# internals ("vector::_M_default_append"); found by benchmarks/fuzz_jobs.py. Each must be refused
# before ezc3d sees the file, saying which parameter is wrong.
_BAD_VALUES: dict[str, tuple[dict[str, float], str]] = {
    "point_rate_nan": ({"POINT:RATE": math.nan}, r"POINT:RATE is nan"),
    "point_rate_inf": ({"POINT:RATE": math.inf}, r"POINT:RATE is inf"),
    "analog_rate_nan": ({"ANALOG:RATE": math.nan}, r"ANALOG:RATE is nan"),
    "point_used_negative": ({"POINT:USED": -1}, r"POINT:USED is -1"),
    "analogs_without_rate": (
        {"ANALOG:USED": 2},
        r"ANALOG:RATE is 0 Hz, but ANALOG:USED is 2: a sampling rate must be a positive number",
    ),
    "analog_used_negative": ({"ANALOG:USED": -1}, r"ANALOG:USED is -1"),
    "points_beyond_the_file": (
        {"POINT:USED": 32767},
        r"32767 points per frame .* more than the \d+ bytes",
    ),
    "analog_scales_missing": (
        {"ANALOG:USED": 2, "ANALOG:RATE": 600.0},
        r"ANALOG:USED is 2 but ANALOG:SCALE holds 0 values",
    ),
    "rotation_ratio_negative": ({"ROTATION:RATIO": -1}, r"ROTATION:RATIO is -1"),
    "rotations": ({"ROTATION:USED": 1, "ROTATION:RATIO": 1}, r"rotation data \(ROTATION:USED 1\)"),
    "point_scale_zero": ({"POINT:SCALE": 0.0}, r"POINT:SCALE is 0"),
    "point_scale_nan": ({"POINT:SCALE": math.nan}, r"POINT:SCALE is nan"),
}


@pytest.mark.parametrize("case", sorted(_BAD_VALUES))
def test_parameter_values_that_break_ezc3d_are_refused_first(tmp_path: Path, case: str) -> None:
    values, message = _BAD_VALUES[case]
    blob = write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0).read_bytes()
    for name, value in values.items():
        blob = set_parameter(blob, name, value)
    bad = tmp_path / f"{case}.c3d"
    bad.write_bytes(blob)
    verdict = read_in_child(bad)
    assert re.search(rf"{case}\.c3d: .*{message}", verdict), verdict
    assert "re-export" in verdict


def test_a_markerset_given_as_the_recording_is_recognised(tmp_path: Path) -> None:
    xml = tmp_path / "walk.c3d"
    xml.write_text('<markers name="CMU">\n' + " " * 600 + "\n</markers>\n")
    with pytest.raises(C3DReadError) as err:
        read_c3d(xml)
    assert err.value.reason == (
        "not a C3D file (the header's C3D signature byte 0x50 is missing) (it looks like XML "
        "text: is it the markerset?)"
    )


def test_a_header_that_puts_the_data_inside_the_parameters_is_refused(tmp_path: Path) -> None:
    """ezc3d reads the data where the header says: block 2 made it read the parameter section
    as coordinates of 1e34 and succeed."""
    blob = bytearray(write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0).read_bytes())
    blob[16:18] = (2).to_bytes(2, "little")
    (tmp_path / "start.c3d").write_bytes(bytes(blob))
    with pytest.raises(
        C3DReadError,
        match=r"start\.c3d: corrupt header: the data section starts "
        r"at block 2, before the end of the parameter section \(block \d+\); "
        r"the file is damaged, re-export it",
    ):
        read_c3d(tmp_path / "start.c3d")


def test_what_ezc3d_still_refuses_says_what_to_do(tmp_path: Path) -> None:
    blob = bytearray(write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0).read_bytes())
    blob[blob.index(b"FRAMES") - 1] = 194  # POINT:FRAMES becomes a group record (id -62)
    (tmp_path / "group.c3d").write_bytes(bytes(blob))
    with pytest.raises(C3DReadError) as err:
        read_c3d(tmp_path / "group.c3d")
    assert err.value.reason == (
        "the C3D reader (ezc3d) cannot read it (its parameter section is not "
        "standard-conforming); the file is damaged or not a standard C3D: re-export it from the "
        "capture software"
    )


def test_a_rotation_group_without_its_parameters_is_refused(tmp_path: Path) -> None:
    """ezc3d requires them, and its message asked the user to contact the manufacturer."""
    blob = bytearray(write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0).read_bytes())
    _, at, _ = parameter_offsets(bytes(blob))["ROTATION:USED"]
    assert blob[at - 8 : at - 4] == b"USED"
    blob[at - 8 : at - 4] = b"USEX"
    (tmp_path / "rot.c3d").write_bytes(bytes(blob))
    with pytest.raises(C3DReadError) as err:
        read_c3d(tmp_path / "rot.c3d")
    assert err.value.reason == (
        "malformed parameter section: the ROTATION group lacks ROTATION:USED; the file is "
        "damaged, re-export it"
    )


def test_non_utf8_labels_and_units_are_shown_readably(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 (old Windows exporters write Latin-1) become their Latin-1
    characters, never the lone surrogates that no JSON or database write accepts."""
    blob = write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0).read_bytes()
    _, at, _ = parameter_offsets(blob)["POINT:LABELS"]
    latin = blob[:at] + b"\xc9P" + blob[at + 2 :]  # "LFHD" -> b"\xc9PHD"
    (tmp_path / "latin.c3d").write_bytes(latin)
    rec = read_c3d(tmp_path / "latin.c3d")
    assert rec.labels[0] == "\xc9PHD" and rec.raw_labels[0] == "\xc9PHD"
    _, at, _ = parameter_offsets(blob)["POINT:UNITS"]
    (tmp_path / "units.c3d").write_bytes(blob[:at] + b"\xff\xfe" + blob[at + 2 :])
    with pytest.raises(C3DReadError) as err:
        read_c3d(tmp_path / "units.c3d")
    assert "unsupported POINT:UNITS '\xff\xfe'" in str(err.value)
    str(err.value).encode("utf-8")  # no surrogates


def test_records_with_unreadable_names_are_not_quoted(tmp_path: Path) -> None:
    blob = bytearray(write_c3d(tmp_path / "ok.c3d", LABELS, person(), 60.0).read_bytes())
    at = blob.index(b"DATA_START")
    blob[at : at + 10] = bytes(range(1, 11))  # control characters for a name
    blob[at + 12] = 7  # and a type that does not exist
    (tmp_path / "name.c3d").write_bytes(bytes(blob))
    with pytest.raises(C3DReadError) as err:
        read_c3d(tmp_path / "name.c3d")
    assert err.value.reason.isprintable(), err.value.reason
    assert "a record with an unreadable name at byte" in err.value.reason


_FUZZ = textwrap.dedent(
    """
    import json, random, sys
    from pathlib import Path
    from myo_retarget._c3d import read_c3d
    from myo_retarget._exceptions import C3DReadError

    sources, workdir, n = sys.argv[1].split(","), Path(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(1234)
    counts = {"ok": 0, "rejected": 0}
    for src in sources:
        blob = Path(src).read_bytes()
        section_end = (blob[0] - 1 + blob[(blob[0] - 1) * 512 + 2]) * 512
        for k in range(n):
            b = bytearray(blob)
            if k % 5 == 0:
                b = b[: rng.randrange(len(b))]
            else:
                for _ in range(rng.choice([1, 1, 2, 4, 12])):
                    b[rng.randrange(section_end)] = rng.randrange(256)
            case = workdir / f"case{k}.c3d"
            case.write_bytes(bytes(b))
            try:
                read_c3d(case)
                counts["ok"] += 1
            except C3DReadError:
                counts["rejected"] += 1
    print(json.dumps(counts))
    """
)


@pytest.mark.timeout(300)
def test_damaged_files_never_crash_or_hang(tmp_path: Path) -> None:
    """Truncations and random byte changes in the header/parameters: every outcome is a read or a
    C3DReadError. Runs in a child process, so a crash inside ezc3d fails the test instead of
    killing pytest."""
    sources = [write_c3d(tmp_path / "src.c3d", LABELS, person(30), 60.0)]
    if SHARED_C3D.is_dir():
        sources += [SHARED_C3D / "shd01_prefixed.c3d", SHARED_C3D / "cmu_01_01.c3d"]
    result = subprocess.run(
        [sys.executable, "-c", _FUZZ, ",".join(map(str, sources)), str(tmp_path), "60"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"reader crashed (rc {result.returncode}): {result.stderr}"
    counts = json.loads(result.stdout)
    assert counts["ok"] + counts["rejected"] == 60 * len(sources)
    assert counts["rejected"] > 0


_READ_WITH_LITTLE_MEMORY = """
import re, resource, sys
import ezc3d  # loaded before the address space is measured
from myo_retarget._c3d import read_c3d
status = open("/proc/self/status").read()
used = int(re.search(r"VmSize:\\s+(\\d+)", status).group(1)) * 1024
_, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (used + 64 * 2**20, hard))
try:
    read_c3d(sys.argv[1])
    print("read")
except MemoryError as exc:
    print("MemoryError", exc)
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_recording_too_big_for_the_memory_left_raises_memory_error(tmp_path: Path) -> None:
    # ezc3d reports a failed C++ allocation as RuntimeError("std::bad_alloc"): the reader called
    # the file unreadable, so a server could not say that its memory limit was the cause.
    path = write_c3d(tmp_path / "big.c3d", LABELS, person(200_000), 100.0)  # 2 M samples, 32 MB
    result = subprocess.run(
        [sys.executable, "-c", _READ_WITH_LITTLE_MEMORY, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MemoryError"), result.stdout
    assert "big.c3d" in result.stdout


# --------------------------------------------------------------------------- real recordings

# file -> (vertical axis, units, processor, markers kept, model outputs ignored, frames, rate)
REAL = {
    "cmu_01_01.c3d": ("+Z", "mm", "Intel", 42, 0, 2751, 120.0),
    "functional_static_dec.c3d": ("+Z", "mm", "DEC", 68, 48, 655, 120.0),
    "opensim_walking2.c3d": ("+Z", "mm", "Intel", 44, 0, 1249, 250.0),
    "optotrak.c3d": ("+X", "mm", "Intel", 54, 0, 29, 30.0),
    "pig_motion_flatfoot_full.c3d": ("+Z", "mm", "Intel", 35, 158, 315, 100.0),
    "pig_static_one_frame.c3d": ("+Z", "mm", "Intel", 36, 102, 1, 100.0),
    "qualisys.c3d": ("+Z", "mm", "Intel", 55, 0, 340, 200.0),
    "shd01_prefixed.c3d": ("+Z", "mm", "Intel", 27, 0, 237, 250.0),
    "sprintbasket_metres.c3d": ("+Z", "m", "Intel", 26, 0, 3678, 120.0),
}


def test_every_shared_file_is_listed() -> None:
    shared_file("cmu_01_01.c3d")
    assert {p.name for p in SHARED_C3D.glob("*.c3d")} == set(REAL) | {"mocap36_malformed.c3d"}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_recordings(name: str) -> None:
    axis, units, processor, kept, ignored, frames, rate = REAL[name]
    rec = read_c3d(shared_file(name))
    assert (rec.vertical_axis, rec.units, rec.processor) == (axis, units, processor)
    assert (rec.n_markers, len(rec.ignored_labels), rec.n_frames, rec.rate) == (
        kept,
        ignored,
        frames,
        rate,
    )
    assert rec.vertical_axis_detected and rec.storage == "float"
    z = rec.positions[..., 2]
    # Upright people in metres: nothing far below the floor, heads below 2.1 m.
    assert np.nanmin(z) > -0.3 and 0.9 < np.nanmax(z) < 2.1
    assert len({lb.upper() for lb in rec.labels}) == len(rec.labels)


def test_real_recording_details() -> None:
    dec = read_c3d(shared_file("functional_static_dec.c3d"))
    never = [lb for lb, seen in zip(dec.labels, dec.observed, strict=True) if not seen]
    assert {"LFHD", "C7", "STRN", "RFIN", "SACR"} <= set(never)  # upper body all (0,0,0)
    assert "LKneeAngles" in dec.ignored_labels and "PELO" in dec.ignored_labels
    prefixed = read_c3d(shared_file("shd01_prefixed.c3d"))
    assert prefixed.labels[0] == "RASI" and prefixed.raw_labels[0] == "AbcdeFghijk:RASI"
    sprint = read_c3d(shared_file("sprintbasket_metres.c3d"))
    assert "ArmL:Marker1" in sprint.labels and "Forehead" in sprint.labels
    assert sprint.gaps()["Forehead"].n_gaps >= 0
    optotrak = read_c3d(shared_file("optotrak.c3d"))
    assert optotrak.vertical_axis_source == "marker spread"


def test_vicon_angles_of_the_plug_in_gait_file() -> None:
    path = shared_file("pig_motion_flatfoot_full.c3d")
    rec = read_c3d(path)
    out = read_model_outputs(path, ["LKneeAngles", "RKneeAngles", "LHipAngles"])
    knee = out["LKneeAngles"]
    assert knee.shape == (rec.n_frames, 3)
    flexion = knee[:, 0][np.isfinite(knee[:, 0])]
    assert flexion.size > 250 and -10.0 < flexion.min() < 15.0 and 45.0 < flexion.max() < 80.0


def test_malformed_real_file() -> None:
    with pytest.raises(C3DReadError, match=r"mocap36_malformed\.c3d: malformed parameter") as e:
        read_c3d(shared_file("mocap36_malformed.c3d"))
    assert e.value.path.endswith("mocap36_malformed.c3d")
