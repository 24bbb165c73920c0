"""``myo-retarget run`` and ``inspect`` on TRC and CSV/parquet trackers tables, with the vendor's
options --mocap-scale, --rotation and --calibration-frames."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from myo_retarget import load_character
from myo_retarget._cli import main

from .motion_factory import known_motion, marker_trajectories
from .tracker_factory import table_columns, write_csv, write_trc

RATE = 100.0


@pytest.fixture(scope="module")
def metres_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-frame cmu recording as a trackers CSV in metres, +Y up."""
    character = load_character()
    labels, positions = marker_trajectories(
        character, "cmu", known_motion(character, 60, RATE, seed=8)
    )
    columns = table_columns(labels, positions, RATE, scale=1.0, vertical="+Y")
    return write_csv(tmp_path_factory.mktemp("csv") / "walk_m.csv", columns)


def test_run_a_metres_table_with_the_vendor_options(
    metres_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "walk.npz"
    code = main(
        ["run", str(metres_csv), "--markerset", "cmu", "-o", str(out), "--mocap-scale", "1",
         "--rotation", "yup_to_zup", "--calibration-frames", "6", "--json", "-q"]
    )  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 60 and summary["rms_residual_mm"] < 5.0
    with np.load(out, allow_pickle=False) as d:
        meta = json.loads(str(d["metadata"]))
    assert meta["source"]["format"] == "csv" and meta["source"]["units"] == "m"
    assert meta["source"]["vertical_axis"] == "+Y"
    assert not meta["source"]["vertical_axis_detected"]
    assert len(meta["calibration"]["frames"]) == 6
    assert meta["options"]["mocap_scale"] == 1.0


def test_inspect_a_trc_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    character = load_character()
    labels, positions = marker_trajectories(
        character, "cmu", known_motion(character, 30, RATE, seed=9)
    )
    trc = write_trc(tmp_path / "walk.trc", labels, positions, RATE, units="cm")
    assert main(["inspect", str(trc), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["format"], info["units"], info["vertical_axis"]) == ("trc", "cm", "+Y")
    assert info["best_markerset"]["name"] == "cmu"
    assert main(["inspect", str(trc), "--rotation", "ydown_to_zup", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vertical_axis"] == "-Y"
    assert main(["inspect", str(trc)]) == 0
    assert "trc" in capsys.readouterr().out


def test_a_bad_table_is_one_line_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "walk.csv"
    bad.write_text("t,A_x,A_y,A_z\n0,1,2,3\n")
    result = subprocess.run(
        [sys.executable, "-m", "myo_retarget._cli", "inspect", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"myo-retarget: error: {bad}: it has no 'time' column; a trackers table needs one "
        "(seconds), then <marker>_x, <marker>_y, <marker>_z columns per marker"
    )


def test_help_names_the_formats_and_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "myo_retarget._cli", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    text = " ".join(result.stdout.split())
    assert "C3D, TRC, CSV or parquet" in text
    for option in ("--mocap-scale", "--rotation {yup_to_zup,ydown_to_zup}", "--calibration-frames"):
        assert option in text


def test_rotation_and_vertical_axis_exclude_each_other() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "x.csv", "--rotation", "yup_to_zup", "--vertical-axis", "+Z"])
    assert exc.value.code == 2
