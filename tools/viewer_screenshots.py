"""Write the README's viewer screenshots, docs/viewer.png and docs/viewer_late.png, and the MCP
App's, docs/mcp_app.png (run by hand).

``uv run python tools/viewer_screenshots.py`` retargets the shipped sample, writes its viewer page
and photographs it in headless Chromium (as tests/myo_retarget/test_viewer_browser.py does) at
0.5 s and 2.5 s; then calls show_motion in a real MCP session with a client that advertises MCP
Apps and photographs the App in the test host page at 1.0 s (as
tests/myo_mcp/test_app_browser.py does).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from myo_retarget import retarget, sample_c3d_path, write_viewer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser helpers live with the tests

from tests.myo_mcp.app_host import write_app_host  # noqa: E402
from tests.myo_retarget.browser import open_viewer  # noqa: E402

SHOTS = {"viewer.png": 0.5, "viewer_late.png": 2.5}
APP_SHOT, APP_TIME_S = "mcp_app.png", 1.0


async def _show_motion(npz: Path, data_dir: Path) -> tuple[str, dict[str, Any]]:
    """The App's page and show_motion's result for ``npz``, from a real MCP session."""
    from mcp import Client
    from mcp.client.extension import advertise
    from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
    from mcp.types import TextResourceContents

    from myo_mcp import Backend, McpConfig, build_server
    from myo_mcp._app import APP_URI
    from myo_server import LocalServer

    with LocalServer(data_dir=data_dir, workers=0) as local:
        config = McpConfig(backend="local", data_dir=data_dir, allow_dirs=[npz.parent])
        backend = Backend(config, local_server=local)
        try:
            ui = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
            async with Client(build_server(config, backend), extensions=[ui]) as client:
                result = await client.call_tool("show_motion", {"path": str(npz)})
                (page,) = (await client.read_resource(APP_URI)).contents
        finally:
            await backend.aclose()
    assert not result.is_error and isinstance(page, TextResourceContents)
    return page.text, result.model_dump(mode="json", by_alias=True)


def main() -> None:
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        motion = retarget(sample_c3d_path(), "cmu")
        page = write_viewer(motion, Path(tmp) / "sample.html")
        with open_viewer(page) as viewer:
            for name, t in SHOTS.items():
                viewer.seek(t)
                (docs / name).write_bytes(viewer.page.screenshot())
                print(f"wrote {docs / name}")
        npz = Path(tmp) / "walk.npz"
        motion.save(npz)
        app_html, result = anyio.run(_show_motion, npz, Path(tmp) / "data")
        host = write_app_host(Path(tmp), app_html, {"path": str(npz)}, result)
        with open_viewer(host, ready=None) as browser:
            frame = next(f for f in browser.page.frames if f.url.endswith("app.html"))
            frame.wait_for_function("window.viewer !== undefined", timeout=30_000)
            frame.evaluate(f"window.viewer.seek({APP_TIME_S})")
            (docs / APP_SHOT).write_bytes(browser.page.locator("#app").screenshot())
            assert browser.errors == [], browser.errors
            print(f"wrote {docs / APP_SHOT}")


if __name__ == "__main__":
    main()
