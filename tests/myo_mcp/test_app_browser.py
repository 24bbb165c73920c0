"""show_motion's MCP App in a real browser: headless Chromium loads a small host page whose
iframe is the App's page (as resources/read serves it) and which posts the App the result of a
real show_motion call, as a host that renders Apps does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from tests.myo_mcp.app_host import write_app_host
from tests.myo_retarget.browser import changed, chromium_available, drawn, open_viewer

from myo_mcp import MyoMCPServer
from myo_mcp._app import APP_URI
from myo_retarget import retarget, sample_c3d_path

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.skipif(
        not chromium_available(), reason="Chromium is not installed: run .ci/run (apt chromium)"
    ),
]


async def test_the_app_draws_the_motion_the_host_posts_it(
    server: MyoMCPServer, work: Path, tmp_path: Path
) -> None:
    npz = work / "walk.npz"
    retarget(sample_c3d_path(), "cmu").save(npz)
    arguments = {"path": str(npz)}
    ui = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    async with Client(server, extensions=[ui]) as client:
        result = await client.call_tool("show_motion", arguments)
        (page,) = (await client.read_resource(APP_URI)).contents
    assert not result.is_error and isinstance(page, types.TextResourceContents)
    host = write_app_host(
        tmp_path, page.text, arguments, result.model_dump(mode="json", by_alias=True)
    )
    # Playwright's sync API, off the event loop.
    seen = await anyio.to_thread.run_sync(_look_at_the_app, host)
    log = seen["log"]
    assert log[:2] == ["ui/initialize", "ui/notifications/initialized"]
    assert "ui/notifications/size-changed" in log and seen["height"] > 400  # asked for room
    assert seen["renderer"] in ("webgl", "webgl2")
    assert seen["frames"] == 206  # the payload's
    assert seen["title"] == "cmu_01_01_412.c3d"
    assert seen["errors"] == [] and seen["requests"] == []
    early, late = seen["early"], seen["late"]
    assert drawn(early) > 0.02 and drawn(late) > 0.02 and drawn(seen["curves"]) > 0.01
    assert changed(early, late) > 0.005


async def test_the_app_shows_the_tools_error_when_there_is_no_motion(
    server: MyoMCPServer, work: Path, tmp_path: Path
) -> None:
    """A failed call (here a file that is not there) reaches the App as an error result: the
    page says what went wrong, in the tool's words, and logs no console error."""
    arguments = {"path": str(work / "gone.npz")}
    ui = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    async with Client(server, extensions=[ui]) as client:
        result = await client.call_tool("show_motion", arguments)
        (page,) = (await client.read_resource(APP_URI)).contents
    assert result.is_error and isinstance(page, types.TextResourceContents)
    host = write_app_host(
        tmp_path, page.text, arguments, result.model_dump(mode="json", by_alias=True)
    )
    said, errors = await anyio.to_thread.run_sync(_app_message, host)
    assert said.startswith("show_motion failed:") and "gone.npz" in said and "no such file" in said
    assert errors == []


def _app_message(host: Path) -> tuple[str, list[str]]:
    """What the App's header says once the host has posted the result, and the console errors."""
    with open_viewer(host, ready=None) as browser:
        browser.page.wait_for_function(
            "window.hostLog.includes('ui/notifications/initialized')", timeout=30_000
        )
        info = browser.page.frame_locator("#app").locator("#info")
        info.filter(has_text="show_motion failed").wait_for(timeout=10_000)
        return info.inner_text(), list(browser.errors)


def _look_at_the_app(host: Path) -> dict[str, Any]:
    """Open the host page, wait for the App's viewer, photograph it at 0.5 s and 2.5 s; what
    the page showed and said."""
    with open_viewer(host, ready=None) as browser:
        app = browser.page.frame_locator("#app")
        frame = next(f for f in browser.page.frames if f.url.endswith("app.html"))
        frame.wait_for_function("window.viewer !== undefined", timeout=30_000)
        seen: dict[str, Any] = {
            "renderer": frame.evaluate("window.viewer.renderer"),
            "frames": frame.evaluate("window.viewer.frames"),
            "title": app.locator("h1").inner_text(),
        }
        frame.evaluate("window.viewer.seek(0.5)")
        seen["early"] = app.locator("#scene").screenshot()
        frame.evaluate("window.viewer.seek(2.5)")
        seen["late"] = app.locator("#scene").screenshot()
        seen["curves"] = app.locator("#curves").screenshot()
        seen["log"] = browser.page.evaluate("window.hostLog")
        seen["height"] = browser.page.locator("#app").bounding_box()["height"]
        seen["errors"] = list(browser.errors)
        seen["requests"] = [
            u for u in browser.requests if not u.startswith(("file:", "data:", "about:"))
        ]
    return seen
