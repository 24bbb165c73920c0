"""Headless Chromium (Debian's ``chromium``, driven by playwright) for the viewer's tests and the
README's screenshots (``tools/viewer_screenshots.py``)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# The system's Chromium (`apt-get install chromium`, .ci/run): playwright downloads nothing.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--headless=new",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # WebGL without a GPU: Chromium's software renderer.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
)
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 800, 600
# A pixel differs from another when a channel moves by more than this (PNG noise is none, but
# antialiasing flickers by a step or two).
CHANNEL_STEP = 8 / 255


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None


@dataclass
class ViewerPage:
    """A loaded viewer page and what its console said."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def seek(self, t: float) -> int:
        frame: int = self.page.evaluate(f"window.viewer.seek({t!r})")
        return frame

    def screenshot(self, selector: str = "#scene") -> bytes:
        shot: bytes = self.page.locator(selector).screenshot()
        return shot


@contextmanager
def open_viewer(
    html: Path | str, *extra_args: str, ready: str | None = "window.viewer !== undefined"
) -> Iterator[ViewerPage]:
    """Open a viewer page and wait until ``ready`` (JavaScript) is true in it (by default: until
    the viewer's script has run; ``None``: no wait). Console errors and requests of its frames
    are collected too.

    Args:
        html: The page's file (opened from ``file://``, no server), or the URL that serves it.
        *extra_args: More Chromium flags.
        ready: What to wait for.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            page = browser.new_page(viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT})
            viewer = ViewerPage(page)
            page.on(
                "console",
                lambda m: viewer.errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: viewer.errors.append(str(e)))
            page.on("request", lambda r: viewer.requests.append(r.url))
            page.goto(html if isinstance(html, str) else html.resolve().as_uri())
            if ready is not None:
                page.wait_for_function(ready, timeout=30_000)
            yield viewer
        finally:
            browser.close()


def pixels(png: bytes) -> NDArray[np.float64]:
    """A PNG's RGB pixels, ``(H, W, 3)`` in [0, 1]."""
    import matplotlib.image

    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    return np.asarray(image[..., :3], dtype=np.float64)


def changed(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two screenshots of the same size."""
    pa, pb = pixels(a), pixels(b)
    assert pa.shape == pb.shape
    return float((np.abs(pa - pb).max(axis=2) > CHANNEL_STEP).mean())


def drawn(png: bytes) -> float:
    """Share of pixels unlike the most common colour (the background): 0 for a blank image."""
    p = np.round(pixels(png) * 255).astype(np.int64)
    codes = (p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]
    background = np.bincount(codes.ravel()).argmax()
    return float((codes != background).mean())
