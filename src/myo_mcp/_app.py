"""The MCP App of ``show_motion``: the engine's viewer page with a bridge to the host.

Hosts that support MCP Apps (the ``io.modelcontextprotocol/ui`` extension) render the
``ui://`` resource :data:`APP_URI` in a sandboxed iframe and post it the tool's result; the bridge
(``app/app_bridge.js``) takes the motion from the result's ``_meta`` under :data:`PAYLOAD_KEY` and
starts the viewer. The page is self-contained: no CDN, no network, the default CSP suffices.
"""

from __future__ import annotations

import json
from importlib.resources import files

from mcp.server.apps import Apps

from myo_retarget import viewer_page

__all__ = ["APP_URI", "PAYLOAD_KEY", "app_html", "apps_extension"]

#: The App's resource, named in show_motion's ``_meta.ui.resourceUri``.
APP_URI = "ui://myo-mcp/motion-viewer.html"
#: Where show_motion's result carries the viewer payload: ``_meta`` reaches the App through the
#: host but is not meant for the model's context (SEP-1865, "Data Passing").
PAYLOAD_KEY = "myo-mcp/viewer-payload"


def app_html() -> str:
    """The App page: the viewer's page without a motion, and the bridge that waits for one."""
    from myo_mcp import __version__

    bridge = (files(__package__) / "app" / "app_bridge.js").read_text(encoding="utf-8")
    bridge = bridge.replace('"{{PAYLOAD_KEY}}"', json.dumps(PAYLOAD_KEY)).replace(
        "{{VERSION}}", __version__
    )
    return viewer_page("motion", None, bridge)


def apps_extension() -> Apps:
    """The Apps extension of the server: advertises MCP Apps and serves the App page."""
    apps = Apps()
    apps.add_html_resource(
        APP_URI,
        app_html(),
        name="motion viewer",
        title="Motion viewer",
        description="show_motion's interactive 3-D viewer (an MCP App).",
        prefers_border=True,
    )
    return apps
