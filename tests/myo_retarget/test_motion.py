"""The retarget pipeline's output and its .npz."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from myo_retarget import (
    DEFAULT_CHARACTER_ID,
    CharacterError,
    MarkersetError,
    Motion,
    RetargetError,
    RetargetOptions,
    retarget,
)


def test_npz_is_self_describing(walk_c3d: Path, tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    motion = retarget(walk_c3d, "cmu", progress=lambda d, t: progress.append((d, t)))
    assert progress[0] == (0, 240) and progress[-1] == (240, 240)
    out = motion.save(tmp_path / "nested" / "walk.npz")
    with np.load(out) as d:  # no pickles needed
        frame = pd.DataFrame(d["joint_angles_degrees"], columns=d["joint_names"])
        assert frame.shape == (240, len(motion.joint_names))
        assert "knee_flex_r" in frame.columns
        F, B, M = 240, len(d["body_names"]), len(d["marker_names"])
        assert d["qpos"].shape == (F, 48) and len(d["qpos_names"]) == 48
        assert d["body_positions"].shape == (F, B, 3)
        assert d["marker_observed"].shape == d["marker_fitted"].shape == (F, M, 3)
        assert d["marker_residual_mm"].shape == (F, M)
        assert d["root_position"].shape == (F, 3) and d["root_quaternion"].shape == (F, 4)
        np.testing.assert_allclose(np.linalg.norm(d["root_quaternion"], axis=1), 1.0)
        assert float(d["fps"]) == 120.0
        np.testing.assert_allclose(d["time_s"], np.arange(F) / 120.0)
        meta = json.loads(str(d["metadata"]))
    assert meta["character_id"] == DEFAULT_CHARACTER_ID
    assert meta["character_version"] == "v1.0.0"
    assert meta["source"]["filename"] == "walk.c3d"
    assert len(meta["source"]["sha256"]) == 64
    assert meta["options"]["enable_scaling"] is True
    assert meta["engine_version"]
    assert set(meta["scale_factors"]) == set(motion.scale_factors)
    back = Motion.load(out)
    np.testing.assert_array_equal(back.qpos, motion.qpos)
    assert back.metadata == motion.metadata
    s = motion.summary()
    assert s["frames"] == 240 and s["rms_residual_mm"] < 3.0 and s["failed_frames"] == 0


def test_save_is_atomic_on_failure(walk_c3d: Path, tmp_path: Path) -> None:
    motion = retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 30)))
    target = tmp_path / "out.npz"
    target.write_bytes(b"previous")
    motion.metadata["bad"] = object()  # not JSON-serialisable: the write fails
    with pytest.raises(TypeError):
        motion.save(target)
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]


@pytest.fixture(scope="module")
def short_motion(walk_c3d: Path) -> Motion:
    return retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 30)))


def test_save_never_writes_through_a_symlink(short_motion: Motion, tmp_path: Path) -> None:
    """Neither a link planted at a guessable temporary name nor a destination that is a link
    makes save() write into the file they point to: the link at the destination is replaced."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    work = tmp_path / "work"
    work.mkdir()
    for name in ("walk.npz.part", "walk.npz.tmp", ".walk.npz.tmp", "walk.npz"):
        (work / name).symlink_to(outside)
    short_motion.save(work / "walk.npz")
    assert outside.read_bytes() == b"keep"
    assert not (work / "walk.npz").is_symlink()
    assert Motion.load(work / "walk.npz").n_frames == 30
    assert sorted(p.name for p in work.iterdir() if not p.is_symlink()) == ["walk.npz"]


def test_save_creates_the_file_like_an_ordinary_open(short_motion: Motion, tmp_path: Path) -> None:
    """The .npz gets the permissions of any new file (0o666 minus the umask), not the 0o600 of
    a private temporary file: a motion saved in a shared folder is readable like its C3D."""
    umask = os.umask(0o022)
    try:
        short_motion.save(tmp_path / "walk.npz")
    finally:
        os.umask(umask)
    assert (tmp_path / "walk.npz").stat().st_mode & 0o777 == 0o644


def test_interrupted_save_keeps_the_previous_file(
    short_motion: Motion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of writing (simulated: it cannot be timed from a test)."""
    target = tmp_path / "walk.npz"
    target.write_bytes(b"previous")

    def interrupted(file: Any, **arrays: Any) -> None:
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        short_motion.save(target)
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (RetargetOptions(subject_gender="other"), "subject_gender"),
        (RetargetOptions(subject_height=17.5), "subject_height"),
        (RetargetOptions(subject_weight=-1), "subject_weight"),
        (RetargetOptions(frame_range=(10, 5)), "frame_range"),
        (RetargetOptions(calibration_window=(2.0, 1.0)), "calibration_window"),
    ],
)
def test_bad_options_name_the_field(walk_c3d: Path, options: RetargetOptions, match: str) -> None:
    with pytest.raises(RetargetError, match=match):
        retarget(walk_c3d, "cmu", options=options)


def test_bad_markerset_and_character(walk_c3d: Path, tmp_path: Path) -> None:
    with pytest.raises(MarkersetError, match="shipped"):
        retarget(walk_c3d, tmp_path / "missing.xml")
    with pytest.raises(CharacterError, match="unknown character_id"):
        retarget(walk_c3d, "cmu", character_id="nope")


def test_deterministic(walk_c3d: Path) -> None:
    a = retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 60)))
    b = retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 60)))
    np.testing.assert_array_equal(a.qpos, b.qpos)


def test_shipped_sample_retargets_with_cmu() -> None:
    from myo_retarget import inspect_c3d, sample_c3d_path

    path = sample_c3d_path()
    info = inspect_c3d(path)
    assert info["frames"] == 412 and info["rate_hz"] == 120.0
    assert info["best_markerset"]["name"] == "cmu"
    motion = retarget(path, "cmu")
    s = motion.summary()
    assert s["rms_residual_mm"] < 9.0 and s["failed_frames"] == 0
