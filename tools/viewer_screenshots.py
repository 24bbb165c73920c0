"""Write the README's viewer screenshots, docs/viewer.png and docs/viewer_late.png (run by hand).

``uv run python tools/viewer_screenshots.py`` retargets the shipped sample, writes its viewer page
and photographs it in headless Chromium (as tests/myo_retarget/test_viewer_browser.py does) at
0.5 s and 2.5 s.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from myo_retarget import retarget, sample_c3d_path, write_viewer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser helper lives with the tests

from tests.myo_retarget.browser import open_viewer  # noqa: E402

SHOTS = {"viewer.png": 0.5, "viewer_late.png": 2.5}


def main() -> None:
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = write_viewer(retarget(sample_c3d_path(), "cmu"), Path(tmp) / "sample.html")
        with open_viewer(page) as viewer:
            for name, t in SHOTS.items():
                viewer.seek(t)
                (docs / name).write_bytes(viewer.page.screenshot())
                print(f"wrote {docs / name}")


if __name__ == "__main__":
    main()
