// The MCP App side of show_motion: speaks the MCP Apps protocol (JSON-RPC 2.0 over postMessage
// with the host, SEP-1865) and hands the motion of the tool result to the viewer.
// Handshake: ui/initialize -> (host's result) -> ui/notifications/initialized; the host then sends
// ui/notifications/tool-input and ui/notifications/tool-result. The motion rides in the result's
// _meta (for the App, not the model's context) under PAYLOAD_KEY, set by myo_mcp._app.
"use strict";

(function () {
  const PAYLOAD_KEY = "{{PAYLOAD_KEY}}";
  const PROTOCOL_VERSION = "2026-01-26";
  const APP_INFO = { name: "myo-mcp motion viewer", version: "{{VERSION}}" };
  // The App's height when the host lets it choose (a flexible container): the viewer's stage,
  // controls and curves.
  const HEIGHT_PX = 560;
  const host = window.parent;
  const pending = new Map();
  let nextId = 1;
  let shown = false;

  function send(message) {
    host.postMessage(Object.assign({ jsonrpc: "2.0" }, message), "*");
  }

  function request(method, params) {
    const id = nextId++;
    send({ id: id, method: method, params: params });
    return new Promise((resolve, reject) => pending.set(id, { resolve: resolve, reject: reject }));
  }

  function notify(method, params) {
    send({ method: method, params: params || {} });
  }

  function say(text) {
    document.getElementById("info").textContent = text;
  }

  function fit(context) {
    const dims = (context && context.containerDimensions) || {};
    // A fixed height fills the container; otherwise the App asks for HEIGHT_PX (or the max).
    const height = "height" in dims ? dims.height : Math.min(HEIGHT_PX, dims.maxHeight || HEIGHT_PX);
    document.documentElement.style.height = height + "px";
    notify("ui/notifications/size-changed", {
      width: document.documentElement.scrollWidth,
      height: height,
    });
  }

  function show(result) {
    const payload = result && result._meta && result._meta[PAYLOAD_KEY];
    if (!payload) {
      const text = ((result && result.content) || [])
        .filter((c) => c.type === "text").map((c) => c.text).join(" ");
      say(result && result.isError ? "show_motion failed: " + text
        : "The tool result carries no motion (this host may drop the result's _meta).");
      return;
    }
    if (shown) return; // one motion per App instance
    shown = true;
    document.title = payload.title + " - myo-mcp";
    document.querySelector("header h1").textContent = payload.title;
    try {
      window.startViewer(payload);
    } catch (err) {
      say("Cannot show this motion: " + err.message);
    }
  }

  const handlers = {
    "ui/notifications/tool-result": show,
    "ui/notifications/tool-cancelled": (p) => say("show_motion was cancelled: " + (p.reason || "")),
    "ui/notifications/host-context-changed": fit,
  };
  const requests = {
    ping: () => ({}),
    "ui/resource-teardown": () => ({}),
  };

  window.addEventListener("message", (event) => {
    if (event.source !== host) return; // only the host speaks to the App
    const msg = event.data;
    if (!msg || msg.jsonrpc !== "2.0") return;
    if (msg.method === undefined && pending.has(msg.id)) {
      const call = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) call.reject(new Error(msg.error.message || "host error"));
      else call.resolve(msg.result);
    } else if (msg.method !== undefined && msg.id !== undefined) {
      const answer = requests[msg.method];
      if (answer) send({ id: msg.id, result: answer(msg.params || {}) });
      else send({ id: msg.id, error: { code: -32601, message: "Method not found: " + msg.method } });
    } else if (handlers[msg.method]) {
      handlers[msg.method](msg.params || {});
    }
  });

  say("waiting for the motion from the host...");
  request("ui/initialize", {
    protocolVersion: PROTOCOL_VERSION,
    appInfo: APP_INFO,
    appCapabilities: { availableDisplayModes: ["inline"] },
  }).then((result) => {
    notify("ui/notifications/initialized");
    fit(result && result.hostContext);
  }, (err) => say("The host refused the App: " + err.message));
})();
