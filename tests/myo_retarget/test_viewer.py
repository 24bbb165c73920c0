from __future__ import annotations

import base64
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget import (
    Motion,
    RetargetOptions,
    export_motion,
    retarget,
    viewer_html,
    viewer_payload,
    write_viewer,
)
from myo_retarget._cli import main
from myo_retarget._skeleton import posed_skeleton, quat_rotate
from myo_retarget._viewer import CURVE_GROUPS, MAX_FPS, MISSING, QUAT_SCALE

PAYLOAD = re.compile(r'<script type="application/json" id="motion">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def motion(walk_c3d: Path) -> Motion:
    return retarget(walk_c3d, "cmu", options=RetargetOptions(frame_range=(0, 40)))


def _decode(array: dict[str, Any]) -> NDArray[Any]:
    raw = base64.b64decode(array["b64"])
    values = np.frombuffer(raw, dtype=np.dtype(array["dtype"]).newbyteorder("<"))
    return np.asarray(values.reshape(array["shape"]))


def _payload_of(page: str) -> dict[str, Any]:
    found = PAYLOAD.findall(page)
    assert len(found) == 1
    payload: dict[str, Any] = json.loads(found[0])
    return payload


def test_payload_reproduces_the_skeleton_markers_and_curves(motion: Motion) -> None:
    """Decoded, the payload gives the posed bodies within 1 mm, unit quaternions within 1e-4,
    the measured markers (missing ones as MISSING), the model's markers within 2 mm and the
    curves with their NaNs."""
    payload = viewer_payload(motion)
    skeleton = posed_skeleton(motion)
    keep = np.arange(0, motion.n_frames, payload["stride"])
    assert payload["fps"] == motion.fps / payload["stride"] <= MAX_FPS
    np.testing.assert_allclose(_decode(payload["time_s"]), motion.time_s[keep], atol=1e-6)
    origin = np.array(payload["origin"])
    positions = _decode(payload["body_positions"]) / 1000.0 + origin
    np.testing.assert_allclose(positions, skeleton.positions[keep], atol=1e-3)
    quats = _decode(payload["body_quats"]) / QUAT_SCALE
    np.testing.assert_allclose(quats, skeleton.quats[keep], atol=1e-4)
    assert [b["name"] for b in payload["bodies"]] == skeleton.body_names
    ranges = payload["mesh"]["ranges"]
    assert len(ranges) == len(skeleton.body_names)
    assert all(count > 0 for _, count in ranges)
    n_vertices = _decode(payload["mesh"]["vertices"]).shape[0]
    assert _decode(payload["mesh"]["indices"]).max() < n_vertices
    observed = _decode(payload["markers"]["observed"])
    missing = np.isnan(motion.marker_observed[keep]).any(axis=2)
    assert ((observed == MISSING).all(axis=2) == missing).all()
    seen = ~missing
    np.testing.assert_allclose(
        observed[seen] / 1000.0 + origin, motion.marker_observed[keep][seen], atol=1e-3
    )
    # The model's markers, placed by their bodies' decoded poses.
    body = payload["markers"]["body"]
    local = _decode(payload["markers"]["local"])
    fitted = quat_rotate(quats[:, body], np.broadcast_to(local, (len(keep), *local.shape)))
    fitted += positions[:, body]
    np.testing.assert_allclose(fitted, motion.marker_fitted[keep], atol=2e-3)
    assert payload["curves"]["joints"] == list(CURVE_GROUPS[0])
    columns = [motion.joint_names.index(j) for j in CURVE_GROUPS[0]]
    np.testing.assert_allclose(
        _decode(payload["curves"]["degrees"]),
        motion.joint_angles_degrees[keep][:, columns],
        rtol=1e-6,
        equal_nan=True,
    )


def test_upper_body_motion_plots_the_arm_joints(motion: Motion) -> None:
    legs = [i for i, j in enumerate(motion.joint_names) if j in CURVE_GROUPS[0]]
    angles = motion.joint_angles_degrees.copy()
    angles[:, legs] = np.nan
    observed = motion.joint_observed.copy()
    observed[legs] = False
    upper = dataclasses.replace(motion, joint_angles_degrees=angles, joint_observed=observed)
    assert viewer_payload(upper)["curves"]["joints"] == list(CURVE_GROUPS[1])


def test_page_of_a_30_s_clip_stays_under_1_mb(motion: Motion, tmp_path: Path) -> None:
    """A 30 s clip at 120 Hz (the walk repeated) is decimated to at most 60 fps and a page
    under 1 MB, still at 30 fps or more."""
    repeat = int(np.ceil(30 * motion.fps / motion.n_frames))
    n = repeat * motion.n_frames

    def tiled(a: NDArray[Any]) -> NDArray[Any]:
        return np.concatenate([a] * repeat)

    long = dataclasses.replace(
        motion,
        joint_angles_degrees=tiled(motion.joint_angles_degrees),
        qpos=tiled(motion.qpos),
        time_s=np.arange(n) / motion.fps,
        body_positions=tiled(motion.body_positions),
        marker_observed=tiled(motion.marker_observed),
        marker_fitted=tiled(motion.marker_fitted),
        marker_gap_filled=tiled(motion.marker_gap_filled),
        frame_ok=tiled(motion.frame_ok),
    )
    assert n / motion.fps >= 30
    path = write_viewer(long, tmp_path / "long.html")
    assert path.stat().st_size <= 1_000_000
    payload = _payload_of(path.read_text(encoding="utf-8"))
    assert 30 <= payload["fps"] <= MAX_FPS
    print(f"30 s page: {path.stat().st_size} bytes at {payload['fps']:g} fps")


def test_page_inlines_script_style_and_payload_safely(motion: Motion) -> None:
    """No network: nothing is fetched. A marker name that closes a script element cannot end
    the payload early: the page's JSON still decodes to the payload."""
    hostile = dataclasses.replace(
        motion, marker_names=["</script><script>alert(1)</script>", *motion.marker_names[1:]]
    )
    page = viewer_html(hostile)
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert "{{" not in page.split('id="motion">')[0]
    payload = _payload_of(page)
    assert payload == json.loads(json.dumps(viewer_payload(hostile)))
    assert payload["markers"]["names"][0] == "</script><script>alert(1)</script>"


def test_cli_view_writes_the_page(
    motion: Motion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    npz = motion.save(tmp_path / "walk.npz")
    out = tmp_path / "out" / "walk.html"
    assert main(["view", str(npz), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert _payload_of(out.read_text(encoding="utf-8"))["bodies"]
    assert main(["view", str(npz)]) == 0
    assert (tmp_path / "walk.html").is_file()


def test_export_to_html_writes_the_same_page_as_view(
    motion: Motion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    npz = motion.save(tmp_path / "walk.npz")
    page = export_motion(npz, tmp_path / "walk.html").read_text(encoding="utf-8")
    assert page == viewer_html(motion)
    assert main(["export", str(npz), "-o", str(tmp_path / "walk.htm")]) == 0
    assert (tmp_path / "walk.htm").read_text(encoding="utf-8") == page
    assert main(["export", str(npz), "-o", str(tmp_path / "page"), "--format", "html"]) == 0
    assert _payload_of((tmp_path / "page").read_text(encoding="utf-8"))["bodies"]


def test_cli_view_of_a_file_that_is_no_motion_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.npz"
    bad.write_text("not a motion")
    out = tmp_path / "notes.html"
    assert main(["view", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "not a motion .npz" in err
    assert not out.exists()


@pytest.mark.parametrize("fps", [1e300, 1e-300])
def test_payload_of_a_motion_at_an_absurd_rate(motion: Motion, fps: float) -> None:
    """A damaged recording's rate (the fuzz's 1e300 Hz made a stride too large for an index
    array, and the job lost its viewer page) still gives a page of the motion's frames."""
    odd = dataclasses.replace(motion, fps=fps, time_s=np.arange(motion.n_frames) / fps)
    payload = viewer_payload(odd)
    assert 1 <= payload["stride"] <= motion.n_frames
    assert _decode(payload["body_positions"]).shape[0] == len(
        range(0, motion.n_frames, payload["stride"])
    )
