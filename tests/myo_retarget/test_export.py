"""Exports of a retargeted motion: .mot read by OpenSim, .csv and .parquet read by pandas and
pyarrow, the format dispatch and its errors, and ``myo-retarget export``."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy.spatial.transform import Rotation

from myo_retarget import ExportError, Motion, export_formats, export_motion, retarget
from myo_retarget._cli import main
from myo_retarget._export import EXPORT_EXTRA_HINT, TEXT_NUMBER
from myo_retarget._export_mot import ROOT_ROTATION_COLUMNS, ROOT_TRANSLATION_COLUMNS, mot_columns

from .motion_factory import OCCLUDED, RIGHT_ARM_JOINTS

# Written with ten significant digits.
RTOL, ATOL = 1e-9, 1e-9


@pytest.fixture(scope="module")
def motion_npz(one_armed_c3d: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one-armed recording retargeted once: joints NaN throughout (the right arm, the toes)
    and NaN in some frames (the left leg while its markers are occluded)."""
    motion = retarget(one_armed_c3d, "cmu")
    return motion.save(tmp_path_factory.mktemp("export") / "one_arm.npz")


@pytest.fixture(scope="module")
def motion(motion_npz: Path) -> Motion:
    loaded = Motion.load(motion_npz)
    angles = loaded.joint_angles_degrees
    # What the tests below rely on: whole NaN columns, NaN frames, and plain numbers.
    assert not loaded.joint_observed[loaded.joint_names.index("elbow_flex_r")]
    assert np.isnan(angles[OCCLUDED]).any() and not np.isnan(angles[: OCCLUDED.start]).all()
    assert np.isfinite(angles).any()
    return loaded


def test_mot_reads_back_with_opensims_adapter(motion: Motion, tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")  # the wheel needs Python >= 3.11
    out = export_motion(motion, tmp_path / "walk.mot")
    table = opensim.TimeSeriesTable(str(out))
    labels = list(table.getColumnLabels())
    assert labels == [*motion.joint_names, *ROOT_TRANSLATION_COLUMNS, *ROOT_ROTATION_COLUMNS]
    assert table.getTableMetaDataAsString("inDegrees") == "yes"
    assert table.getNumRows() == motion.n_frames
    times = np.array([table.getIndependentColumn()[i] for i in range(table.getNumRows())])
    np.testing.assert_allclose(times, motion.time_s, rtol=RTOL, atol=ATOL)
    matrix = table.getMatrix().to_numpy()
    columns = {name: matrix[:, k] for k, name in enumerate(labels)}
    angles = np.column_stack([columns[name] for name in motion.joint_names])
    np.testing.assert_array_equal(np.isnan(angles), np.isnan(motion.joint_angles_degrees))
    np.testing.assert_allclose(angles, motion.joint_angles_degrees, rtol=RTOL, atol=ATOL)
    root = np.column_stack([columns[name] for name in ROOT_TRANSLATION_COLUMNS])
    np.testing.assert_allclose(root, motion.root_position, rtol=RTOL, atol=ATOL)
    # The documented convention: intrinsic Z-Y'-X'' angles give back the root's orientation.
    zyx = np.column_stack([columns[name] for name in ROOT_ROTATION_COLUMNS])
    rebuilt = Rotation.from_euler("ZYX", zyx, degrees=True).as_matrix()
    wxyz = motion.root_quaternion
    expected = Rotation.from_quat(wxyz[:, [1, 2, 3, 0]]).as_matrix()
    np.testing.assert_allclose(rebuilt, expected, atol=1e-8)
    assert np.abs(np.diff(zyx, axis=0)).max() < 90.0  # unwrapped: no 360-degree jumps


def test_mot_header_is_opensims_version_1(motion: Motion, tmp_path: Path) -> None:
    lines = export_motion(motion, tmp_path / "walk.mot").read_text().splitlines()
    n_columns = 1 + len(motion.joint_names) + 6
    assert lines[:6] == [
        "walk",
        "version=1",
        f"nRows={motion.n_frames}",
        f"nColumns={n_columns}",
        "inDegrees=yes",
        "endheader",
    ]
    assert lines[6].split("\t")[0] == "time"
    assert len(lines) == 7 + motion.n_frames
    assert all(len(line.split("\t")) == n_columns for line in lines[6:])


def test_csv_round_trips_with_empty_cells_where_no_data(motion: Motion, tmp_path: Path) -> None:
    out = export_motion(motion, tmp_path / "walk.csv")
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["time", *motion.joint_names]
    np.testing.assert_allclose(frame["time"], motion.time_s, rtol=RTOL, atol=ATOL)
    angles = frame[motion.joint_names].to_numpy()
    np.testing.assert_array_equal(np.isnan(angles), np.isnan(motion.joint_angles_degrees))
    np.testing.assert_allclose(angles, motion.joint_angles_degrees, rtol=RTOL, atol=ATOL)
    first = out.read_text().splitlines()[1].split(",")
    elbow = 1 + motion.joint_names.index("elbow_flex_r")
    assert first[elbow] == ""  # empty, not "nan"


def test_mot_and_csv_rows_are_each_number_formatted_alone(motion: Motion, tmp_path: Path) -> None:
    """The writers format a whole table at once; a row is what formatting each value gives."""
    _, values = mot_columns(motion)
    mot = export_motion(motion, tmp_path / "walk.mot").read_text().splitlines()[7:]
    assert mot == ["\t".join(TEXT_NUMBER.format(v) for v in row) for row in values]
    table = np.column_stack([motion.time_s, motion.joint_angles_degrees])
    csv = export_motion(motion, tmp_path / "walk.csv").read_text().splitlines()[1:]
    cells = [["" if np.isnan(v) else TEXT_NUMBER.format(v) for v in row] for row in table]
    assert csv == [",".join(row) for row in cells]


def test_parquet_qpos_table_is_the_motions_qpos(motion: Motion, tmp_path: Path) -> None:
    out = export_motion(motion, tmp_path / "walk.parquet")
    table = pq.read_table(out)
    assert table.column_names == ["time", *motion.qpos_names]
    np.testing.assert_array_equal(table.column("time").to_numpy(), motion.time_s)
    qpos = np.column_stack([table.column(n).to_numpy() for n in motion.qpos_names])
    np.testing.assert_array_equal(qpos, motion.qpos)  # binary float64: exact


def test_parquet_xpos_table_holds_the_body_positions(motion: Motion, tmp_path: Path) -> None:
    out = export_motion(motion, tmp_path / "bodies.parquet", table="xpos")
    frame = pd.read_parquet(out)
    expected = ["time"] + [f"{b}_{a}" for b in motion.body_names for a in "xyz"]
    assert list(frame.columns) == expected
    for b, body in enumerate(motion.body_names):
        xyz = frame[[f"{body}_x", f"{body}_y", f"{body}_z"]].to_numpy()
        np.testing.assert_array_equal(xyz, motion.body_positions[:, b])


def test_export_reads_a_motion_npz_path_and_forced_formats(
    motion: Motion, motion_npz: Path, tmp_path: Path
) -> None:
    from_path = export_motion(motion_npz, tmp_path / "a.csv")
    from_motion = export_motion(motion, tmp_path / "b.csv")
    assert from_path.read_bytes() == from_motion.read_bytes()
    forced = export_motion(motion_npz, tmp_path / "angles.txt", format="CSV")
    assert forced.read_bytes() == from_motion.read_bytes()
    assert export_motion(motion, tmp_path / "UPPER.MOT").read_text().startswith("UPPER\n")


def test_every_registered_format_has_its_writer() -> None:
    formats = export_formats()
    assert {"mot", "csv", "parquet"} <= set(formats)
    for fmt in formats.values():
        module = importlib.import_module(f"myo_retarget.{fmt.module}")
        assert callable(getattr(module, fmt.function)), fmt


def test_unknown_extension_lists_the_supported_ones(motion: Motion, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"angles\.xlsx: extension '\.xlsx'") as err:
        export_motion(motion, tmp_path / "angles.xlsx")
    assert all(ext in str(err.value) for ext in (".mot", ".csv", ".parquet"))
    with pytest.raises(ExportError, match="no extension"):
        export_motion(motion, tmp_path / "angles")
    with pytest.raises(ExportError, match=r"unknown export format 'xls': choose one of mot, csv"):
        export_motion(motion, tmp_path / "angles.csv", format="xls")
    assert list(tmp_path.iterdir()) == []


def test_bad_options_and_tables_are_named(motion: Motion, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="the csv format takes no options, not table"):
        export_motion(motion, tmp_path / "a.csv", table="xpos")
    with pytest.raises(ExportError, match="the parquet format takes the options table, not tabel"):
        export_motion(motion, tmp_path / "a.parquet", tabel="xpos")
    with pytest.raises(ExportError, match="unknown Parquet table 'xyz': choose one of qpos, xpos"):
        export_motion(motion, tmp_path / "a.parquet", table="xyz")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_no_motion_is_named(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.npz"
    bogus.write_text("not a motion")
    with pytest.raises(ExportError, match=r"notes\.npz: not a motion \.npz"):
        export_motion(bogus, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_parquet_without_pyarrow_names_the_extra_and_keeps_the_old_file(
    motion: Motion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "walk.parquet"
    out.write_bytes(b"the previous export")
    # An installation without the extra: the import fails (None in sys.modules blocks it).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ExportError, match="needs pyarrow") as err:
        export_motion(motion, out)
    assert EXPORT_EXTRA_HINT in str(err.value) and "myo-mcp[export]" in EXPORT_EXTRA_HINT
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.parquet"]


def test_glb_without_pygltflib_names_the_extra_and_keeps_the_old_file(
    motion: Motion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It raised a bare ImportError, which the CLI and the MCP tool did not expect.
    out = tmp_path / "walk.glb"
    out.write_bytes(b"the previous export")
    monkeypatch.setitem(sys.modules, "pygltflib", None)
    with pytest.raises(ExportError, match="needs pygltflib") as err:
        export_motion(motion, out)
    assert EXPORT_EXTRA_HINT in str(err.value)
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.glb"]


def test_cli_export_writes_and_says_what(
    motion: Motion, motion_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "walk.mot"
    assert main(["export", str(motion_npz), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert out.read_text().startswith("walk\nversion=1\n")
    bodies = tmp_path / "bodies.parquet"
    assert main(["export", str(motion_npz), "-o", str(bodies), "--table", "xpos"]) == 0
    assert pq.read_table(bodies).column_names[1] == f"{motion.body_names[0]}_x"
    forced = tmp_path / "angles.dat"
    assert main(["export", str(motion_npz), "-o", str(forced), "--format", "csv"]) == 0
    assert forced.read_text().startswith("time,")


def test_cli_exports_glb_with_markers_and_bvh(
    motion: Motion, motion_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare, marked = tmp_path / "walk.glb", tmp_path / "walk_markers.glb"
    assert main(["export", str(motion_npz), "-o", str(bare)]) == 0
    assert main(["export", str(motion_npz), "-o", str(marked), "--markers"]) == 0
    assert capsys.readouterr().out == f"wrote {bare}\nwrote {marked}\n"
    assert bare.read_bytes()[:4] == marked.read_bytes()[:4] == b"glTF"
    assert marked.stat().st_size > bare.stat().st_size  # the marker spheres and their tracks
    bvh = tmp_path / "walk.bvh"
    assert main(["export", str(motion_npz), "-o", str(bvh)]) == 0
    text = bvh.read_text()
    assert text.startswith("HIERARCHY\n") and f"Frames: {len(motion.time_s)}" in text
    assert {"glb", "bvh"} <= set(export_formats())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-o", "{tmp}/angles.xlsx"], "extension '.xlsx' names no export format"),
        (["-o", "{tmp}/angles.csv", "--format", "xls"], "unknown export format 'xls'"),
        (["-o", "{tmp}/angles.csv", "--table", "xpos"], "the csv format takes no options"),
    ],
)
def test_cli_export_errors_are_one_line_exit_1(
    motion_npz: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "myo_retarget._cli", "export", str(motion_npz), *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_export_of_a_missing_motion_is_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.npz"
    assert main(["export", str(missing), "-o", str(tmp_path / "a.csv")]) == 1
    err = capsys.readouterr().err
    assert "nowhere.npz" in err and "No such file" in err


def test_the_right_arm_is_nan_in_every_format(motion: Motion, tmp_path: Path) -> None:
    # The joints without markers stay without numbers: no format fills them with zeros.
    arm = list(RIGHT_ARM_JOINTS)
    assert pd.read_csv(export_motion(motion, tmp_path / "a.csv"))[arm].isna().all().all()
    mot = pd.read_csv(export_motion(motion, tmp_path / "a.mot"), sep="\t", skiprows=6)
    assert mot[arm].isna().all().all()


@pytest.mark.slow
def test_a_real_recording_exports_to_every_table_format(shared_c3d: Path, tmp_path: Path) -> None:
    motion = retarget(shared_c3d / "cmu_01_01.c3d", "cmu")
    angles = motion.joint_angles_degrees
    mot = export_motion(motion, tmp_path / "cmu_01_01.mot")
    lines = mot.read_text().splitlines()
    assert lines[2] == f"nRows={motion.n_frames}" and len(lines) == 7 + motion.n_frames
    values = pd.read_csv(mot, sep="\t", skiprows=6)
    np.testing.assert_allclose(values[motion.joint_names], angles, rtol=RTOL, atol=ATOL)
    csv = pd.read_csv(export_motion(motion, tmp_path / "cmu_01_01.csv"))
    np.testing.assert_allclose(csv[motion.joint_names], angles, rtol=RTOL, atol=ATOL)
    assert csv[["mtp_flex_r", "mtp_flex_l"]].isna().all().all()  # no marker on the toes
    qpos = pq.read_table(export_motion(motion, tmp_path / "cmu_01_01.parquet"))
    np.testing.assert_array_equal(qpos.to_pandas()[motion.qpos_names].to_numpy(), motion.qpos)
    xpos = pd.read_parquet(export_motion(motion, tmp_path / "xpos.parquet", table="xpos"))
    pelvis = motion.body_names.index("pelvis")
    np.testing.assert_array_equal(
        xpos[["pelvis_x", "pelvis_y", "pelvis_z"]].to_numpy(), motion.body_positions[:, pelvis]
    )
