"""The viewer page in a real browser: headless Chromium over file://, WebGL by SwiftShader."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from myo_retarget import Motion, retarget, sample_c3d_path, write_viewer

from .browser import chromium_available, drawn, open_viewer, pixels

pytestmark = pytest.mark.skipif(
    not chromium_available(), reason="Chromium is not installed: run .ci/run (apt chromium)"
)
# A pixel differs from another when a channel moves by more than this (PNG noise is none, but
# antialiasing flickers by a step or two).
CHANNEL_STEP = 8 / 255


@pytest.fixture(scope="module")
def motion() -> Motion:
    return retarget(sample_c3d_path(), "cmu")


@pytest.fixture(scope="module")
def page_path(motion: Motion, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_viewer(motion, tmp_path_factory.mktemp("viewer") / "sample.html")


def _changed(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two screenshots of the same size."""
    pa, pb = pixels(a), pixels(b)
    assert pa.shape == pb.shape
    return float((np.abs(pa - pb).max(axis=2) > CHANNEL_STEP).mean())


def test_viewer_draws_the_character_moving_from_file_without_network(page_path: Path) -> None:
    """Two times of the walk: both drawn (not blank), different, no console error, and the
    page fetched nothing but itself."""
    with open_viewer(page_path) as viewer:
        assert viewer.page.evaluate("window.viewer.renderer") in ("webgl", "webgl2")
        assert viewer.page.locator("#no-webgl").is_hidden()
        viewer.seek(0.5)
        early = viewer.screenshot()
        viewer.seek(2.5)
        late = viewer.screenshot()
        curves = viewer.screenshot("#curves")
        assert viewer.errors == []
        assert [u for u in viewer.requests if not u.startswith(("file:", "data:"))] == []
    assert drawn(early) > 0.02
    assert drawn(late) > 0.02
    assert drawn(curves) > 0.01
    assert _changed(early, late) > 0.005


def test_scrubbing_updates_the_time_at_once_not_at_the_next_animation_frame(
    page_path: Path,
) -> None:
    """The label followed the slider only when the next animation frame ran; a busy or hidden
    page (CI's headless Chromium under load) showed 0.00 s after the scrub."""
    with open_viewer(page_path) as viewer:
        page = viewer.page
        page.evaluate("window.requestAnimationFrame = () => 0")  # no more animation frames
        page.wait_for_timeout(100)  # the one already scheduled runs out
        page.locator("#scrub").fill("40")
        assert page.evaluate("window.viewer.frame()") == 40
        assert (
            page.locator("#time").inner_text() == f"{40 / page.evaluate('window.viewer.fps'):.2f} s"
        )


def test_scrub_speed_markers_and_play_drive_the_view(page_path: Path) -> None:
    with open_viewer(page_path) as viewer:
        page = viewer.page
        page.locator("#scrub").fill("40")  # a range input takes fill() and fires input
        assert page.evaluate("window.viewer.frame()") == 40
        assert page.locator("#time").inner_text() != "0.00 s"
        with_markers = viewer.screenshot()
        page.locator("#markers").uncheck()
        page.wait_for_timeout(200)
        assert _changed(with_markers, viewer.screenshot()) > 0.0002
        page.locator("#speed").select_option("2")
        page.locator("#play").click()
        start = time.monotonic()
        page.wait_for_function("window.viewer.frame() > 45", timeout=10_000)
        assert time.monotonic() - start < 10
        page.locator("#play").click()
        assert page.locator("#play").inner_text() == "Play"
        assert viewer.errors == []


def test_without_webgl_the_page_says_so_and_still_plots(page_path: Path) -> None:
    with open_viewer(page_path, "--disable-webgl", "--disable-3d-apis") as viewer:
        assert viewer.page.evaluate("window.viewer.renderer") is None
        assert viewer.page.locator("#no-webgl").is_visible()
        assert "WebGL is unavailable" in viewer.page.locator("#no-webgl").inner_text()
        viewer.seek(1.0)
        assert drawn(viewer.screenshot("#curves")) > 0.01
        assert viewer.errors == []


def test_drag_orbits_and_wheel_zooms(page_path: Path) -> None:
    with open_viewer(page_path) as viewer:
        page = viewer.page
        viewer.seek(1.0)
        before = viewer.screenshot()
        box = page.locator("#scene").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 120, y + 30, steps=5)
        page.mouse.up()
        page.wait_for_timeout(200)
        orbited = viewer.screenshot()
        page.mouse.wheel(0, -600)
        page.wait_for_timeout(200)
        zoomed = viewer.screenshot()
        assert viewer.errors == []
    assert _changed(before, orbited) > 0.005
    assert _changed(orbited, zoomed) > 0.005
    assert drawn(zoomed) > drawn(orbited)  # closer: the character fills more of the view


def test_curve_has_a_gap_where_the_joint_has_no_data(motion: Motion, tmp_path: Path) -> None:
    """NaN frames of the last plotted joint (drawn on top) leave its colour out of the plot's
    columns there, and the curve goes on either side."""
    ankle = motion.joint_names.index("ankle_flex_l")
    angles = motion.joint_angles_degrees.copy()
    middle = slice(motion.n_frames * 2 // 5, motion.n_frames * 3 // 5)
    angles[middle, ankle] = np.nan
    gappy = dataclasses.replace(motion, joint_angles_degrees=angles)
    page = write_viewer(gappy, tmp_path / "gappy.html")
    with open_viewer(page) as viewer:
        viewer.seek(0.0)
        plot = pixels(viewer.screenshot("#curves"))
        assert viewer.errors == []
    # ankle_flex_l is drawn last, in CURVE_COLOURS[5] of viewer.js, the one green curve
    # (#5ae08d: green 0.33 over red and blue; antialiased, at least half that). The plot spans
    # 44 px from the left to 8 px from the right, 18 px from the top (the legend) to 16 px from
    # the bottom.
    area = plot[18 : plot.shape[0] - 16]
    green = area[..., 1] - np.maximum(area[..., 0], area[..., 2])
    near: NDArray[np.bool_] = np.asarray((green > 0.15).any(axis=0))
    left, right = 44, plot.shape[1] - 8
    column = np.arange(plot.shape[1])
    share = (column - left) / (right - left)
    assert near[(share > 0.05) & (share < 0.35)].mean() > 0.9  # drawn before the gap
    assert not near[(share > 0.45) & (share < 0.55)].any()  # nothing in the gap
    assert near[(share > 0.65) & (share < 0.95)].mean() > 0.9  # and after it
