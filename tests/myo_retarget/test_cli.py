"""``myo-retarget`` from the shell: exit statuses, outputs, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

import myo_retarget
from myo_retarget._cli import main


def test_run_writes_npz_and_prints_a_summary(
    walk_c3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "walk.npz"
    assert main(["run", str(walk_c3d), "--markerset", "cmu", "-o", str(out), "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 240 and summary["output"] == str(out)
    with np.load(out) as d:
        assert d["joint_angles_degrees"].shape[0] == 240


def test_run_table_and_options(
    walk_c3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "short.npz"
    code = main(
        ["run", str(walk_c3d), "--markerset", "CMU", "-o", str(out), "--height", "1.8",
         "--gender", "female", "--frames", "0:50", "--calibration-window", "0:0.4", "-q"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "RMS residual" in text and "50 at 120 Hz" in text


def test_inspect_reports_the_best_markerset(
    walk_c3d: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(walk_c3d), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 240 and info["rate_hz"] == 120.0
    assert info["vertical_axis"] == "+Z" and info["units"] == "mm"
    assert info["best_markerset"]["name"] == "cmu"
    assert info["best_markerset"]["coverage"] == 1.0
    assert main(["inspect", str(walk_c3d)]) == 0
    assert "best markerset" in capsys.readouterr().out


def test_gap_filled_samples_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from myo_retarget import sample_c3d_path

    # The shipped CMU cut keeps the file's residuals: three samples in it are gap fills, one of
    # RBAC and two of RBAC-1 (a stray label the cmu markerset does not use).
    assert main(["inspect", str(sample_c3d_path()), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    filled = {g["label"]: g["gap_filled_frames"] for g in info["gaps"] if g["gap_filled_frames"]}
    assert filled == {"RBAC": 1, "RBAC-1": 2}
    assert main(["inspect", str(sample_c3d_path())]) == 0
    assert "gap-filled" in capsys.readouterr().out
    out = tmp_path / "sample.npz"
    assert main(["run", str(sample_c3d_path()), "--markerset", "cmu", "-o", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "gap-filled samples" in text and "1 (not fitted)" in text
    with np.load(out) as d:
        names = list(d["marker_names"])
        assert np.flatnonzero(d["marker_gap_filled"][:, names.index("RBAC")]).tolist() == [127]
        assert int(d["marker_gap_filled"].sum()) == 1


def test_bad_input_is_one_line_exit_1(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.c3d"
    bogus.write_text("this is not a C3D file")
    result = subprocess.run(
        [sys.executable, "-m", "myo_retarget._cli", "run", str(bogus), "--markerset", "cmu"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "notes.c3d" in lines[0] and "Traceback" not in result.stderr


def test_usage_error_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "myo_retarget._cli", "run", "x.c3d"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "--markerset" in result.stderr


def test_run_and_inspect_name_the_joints_without_data(
    one_armed_c3d: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one table row per line
    out = tmp_path / "one_arm.npz"
    assert main(["run", str(one_armed_c3d), "--markerset", "cmu", "-o", str(out), "-q"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "joints without data" in text and "humerus_r" in text and "shoulder_flex_r" in text
    assert main(["run", str(one_armed_c3d), "--markerset", "cmu", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "elbow_flex_r" in summary["unobserved_joints"]
    assert summary["unmarked_bodies"] == ["humerus_r", "toes_r", "toes_l"]
    assert main(["inspect", str(one_armed_c3d)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "partial fit" in text and "humerus_r" in text


def test_inspect_names_labels_without_data(
    zeroed_upper_body_c3d: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one table row per line
    assert main(["inspect", str(zeroed_upper_body_c3d)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "labels without data" in text and "hold no data" in text
    assert "write a markerset XML" not in text


def test_inspect_names_the_closest_markerset_when_none_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cmu recording of the legs with only the front waist markers (two on the pelvis): the
    # table used to say "none fits: write a markerset XML", hiding that cmu matches the rest.
    from myo_retarget import load_character

    from .c3d_factory import write_c3d
    from .motion_factory import known_motion, marker_trajectories

    character = load_character()
    labels, positions = marker_trajectories(character, "cmu", known_motion(character, 20, 100.0))
    keep = [k for k, name in enumerate(labels) if name[1:] in ("FWT", "THI", "KNE", "ANK")]
    path = write_c3d(tmp_path / "legs.c3d", [labels[k] for k in keep], positions[:, keep], 100.0)
    monkeypatch.setenv("COLUMNS", "1000")  # one table row per line
    assert main(["inspect", str(path)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "none fits: closest cmu (20% of its markers) does not fit: only 2 trunk/pelvis" in text
    assert "write a markerset XML" not in text


def test_version_is_the_distributions(console_script: Callable[[str], str]) -> None:
    done = subprocess.run(
        [console_script("myo-retarget"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"myo-retarget {version('myo-mcp')}\n"
    assert myo_retarget.__version__ == version("myo-mcp")


# rich flushes the tables at every print; a print of JSON reaches the closed pipe at once only
# unbuffered, buffered (a shell's default) in the middle of the print or at the last flush.
@pytest.mark.parametrize(
    ("argv", "buffering"),
    [
        (["inspect"], "buffered"),
        (["inspect", "--json"], "buffered"),
        (["inspect", "--json"], "unbuffered"),
        (["run", "--markerset", "cmu", "--frames", "0:30", "-q"], "buffered"),
        (["run", "--markerset", "cmu", "--frames", "0:30", "-q", "--json"], "buffered"),
        (["run", "--markerset", "cmu", "--frames", "0:30", "-q", "--json"], "unbuffered"),
    ],
)
def test_output_into_a_closed_pipe_exits_quietly(
    walk_c3d: Path,
    tmp_path: Path,
    argv: list[str],
    buffering: str,
    run_into_closed_pipe: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """``myo-retarget inspect F | head -1`` when head has gone: no "Broken pipe" error, and the
    exit status a command killed by SIGPIPE would have (141), like ``myo``; ``run`` has written
    its .npz all the same."""
    out = tmp_path / "walk.npz"
    command, *options = argv
    if command == "run":
        options += ["-o", str(out)]
    done = run_into_closed_pipe(
        ["myo-retarget", command, str(walk_c3d), *options],
        unbuffered=buffering == "unbuffered",
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (141, "")
    if command == "run":
        with np.load(out) as d:
            assert d["joint_angles_degrees"].shape[0] == 30


def test_draft_markerset_prints_the_table_and_writes_the_markerset(
    walk_c3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ms.xml"
    assert main(["draft-markerset", str(walk_c3d), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "LFWT" in text and "pelvis" in text and "synonym" in text
    assert f"wrote {out}" in text
    assert myo_retarget.retarget(walk_c3d, out).summary()["rms_residual_mm"] < 10
    assert main(["draft-markerset", str(walk_c3d), "-o", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows["output"] == str(out) and {m["method"] for m in rows["markers"]} == {"synonym"}


def test_draft_markerset_without_landmark_names_fails_and_writes_nothing(
    walk_c3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = myo_retarget.read_markers(walk_c3d)
    from .c3d_factory import write_c3d

    generic = write_c3d(
        tmp_path / "generic.c3d",
        [f"Marker_{k}" for k in range(rec.n_markers)],
        rec.positions,
        rec.rate,
    )
    out = tmp_path / "ms.xml"
    assert main(["draft-markerset", str(generic), "-o", str(out), "--vertical-axis", "+Z"]) == 1
    err = capsys.readouterr().err
    assert "generic.c3d: cannot draft a markerset" in err and "Marker_0" in err
    assert not out.exists()
