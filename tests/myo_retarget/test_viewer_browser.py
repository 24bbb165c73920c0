"""The viewer page in a real browser: headless Chromium over file://, WebGL by SwiftShader."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from myo_retarget import retarget, sample_c3d_path, write_viewer

from .browser import chromium_available, open_viewer, pixels

pytestmark = pytest.mark.skipif(
    not chromium_available(), reason="Chromium is not installed: run .ci/run (apt chromium)"
)
# A pixel differs from another when a channel moves by more than this (PNG noise is none, but
# antialiasing flickers by a step or two).
CHANNEL_STEP = 8 / 255


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    motion = retarget(sample_c3d_path(), "cmu")
    return write_viewer(motion, tmp_path_factory.mktemp("viewer") / "sample.html")


def _changed(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two screenshots of the same size."""
    pa, pb = pixels(a), pixels(b)
    assert pa.shape == pb.shape
    return float((np.abs(pa - pb).max(axis=2) > CHANNEL_STEP).mean())


def _drawn(png: bytes) -> float:
    """Share of pixels unlike the most common colour (the background)."""
    p = np.round(pixels(png) * 255).astype(np.int64)
    codes = (p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]
    background = np.bincount(codes.ravel()).argmax()
    return float((codes != background).mean())


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
    assert _drawn(early) > 0.02
    assert _drawn(late) > 0.02
    assert _drawn(curves) > 0.01
    assert _changed(early, late) > 0.005


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
        assert _drawn(viewer.screenshot("#curves")) > 0.01
        assert viewer.errors == []
