"""A minimal MCP Apps host page for the browser: an iframe of the App and a script that answers
its ``ui/initialize`` and posts it a tool's input and result, as a host that renders Apps does
(SEP-1865). Used by test_app_browser.py and tools/viewer_screenshots.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from myo_retarget._viewer_html import inline_json

#: The App's frame in the host page, CSS pixels.
APP_WIDTH, APP_MAX_HEIGHT = 800, 560

_HOST = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>MCP Apps test host</title>
<style>body { margin: 0; background: #fff; } iframe { border: 0; display: block; }</style>
</head>
<body>
<iframe id="app" src="app.html" sandbox="allow-scripts" width="WIDTH" height="100"></iframe>
<script type="application/json" id="call">CALL</script>
<script>
"use strict";
const call = JSON.parse(document.getElementById("call").textContent);
const frame = document.getElementById("app");
window.hostLog = [];
function post(message) {
  frame.contentWindow.postMessage(Object.assign({ jsonrpc: "2.0" }, message), "*");
}
window.addEventListener("message", (event) => {
  if (event.source !== frame.contentWindow) return;
  const msg = event.data;
  window.hostLog.push(msg.method || "response " + msg.id);
  if (msg.method === "ui/initialize") {
    post({ id: msg.id, result: {
      protocolVersion: msg.params.protocolVersion,
      hostInfo: { name: "test host", version: "1" },
      hostCapabilities: {},
      hostContext: { theme: "dark", displayMode: "inline", platform: "web",
        containerDimensions: { width: WIDTH, maxHeight: MAX_HEIGHT } },
    } });
  } else if (msg.method === "ui/notifications/initialized") {
    post({ method: "ui/notifications/tool-input", params: { arguments: call.arguments } });
    post({ method: "ui/notifications/tool-result", params: call.result });
  } else if (msg.method === "ui/notifications/size-changed") {
    frame.style.height = msg.params.height + "px";
  }
});
</script>
</body>
</html>
"""


def write_app_host(
    directory: Path, app_html: str, arguments: dict[str, Any], result: dict[str, Any]
) -> Path:
    """Write ``app.html`` (the App's page) and ``host.html`` (the host showing it the call of
    ``arguments`` that gave ``result``, a CallToolResult as JSON) in ``directory``; return the
    host page's path."""
    (directory / "app.html").write_text(app_html, encoding="utf-8")
    # The call last: its base64 is never searched for the other placeholders.
    page = (
        _HOST.replace("MAX_HEIGHT", str(APP_MAX_HEIGHT))
        .replace("WIDTH", str(APP_WIDTH))
        .replace("CALL", inline_json({"arguments": arguments, "result": result}))
    )
    host = directory / "host.html"
    host.write_text(page, encoding="utf-8")
    return host
