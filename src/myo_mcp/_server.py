"""The MCP server: the MyoSapiens API (through ``myosdk``) as tools, resources and a prompt.

The tools live in ``_tools_*`` modules (one per domain), the resources in ``_resources`` and the
prompt and completion in ``_prompts``; ``build_server`` registers them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from mcp.types import Resource as MCPResource
from mcp.types import Tool as MCPTool

from myo_retarget import SHIPPED_CONVENTIONS

from . import (
    _tools_assets,
    _tools_characters,
    _tools_cleanup,
    _tools_draft,
    _tools_export,
    _tools_jobs,
    _tools_local,
    _tools_view,
)
from ._app import apps_extension
from ._backend import Backend
from ._config import McpConfig
from ._convert import asset_uri, job_uri
from ._job_watch import JobWatcher
from ._prompts import register_prompts
from ._resources import register_resources
from ._tooling import LOCAL_FILES_NOTE, ToolDeps, ToolSpec, compact_tool, short_result

log = logging.getLogger("myo_mcp")

__all__ = ["MyoMCPServer", "build_server"]

#: The tool modules, in the order their tools are listed (read tools of all, then write tools).
TOOL_MODULES = (
    _tools_assets,
    _tools_characters,
    _tools_jobs,
    _tools_local,
    _tools_draft,
    _tools_view,
    _tools_export,
    _tools_cleanup,
)

INSTRUCTIONS = """\
Retargets motion capture (C3D, TRC or CSV/parquet marker tables) onto a MuJoCo humanoid: \
joint angles over time (.npz).
Typical flow: inspect_c3d(path) to see the markers and the best shipped markerset -> \
retarget_motion(c3d_path, markerset) does upload, job, wait and download in one call -> \
summarize_motion(path) for ranges of motion and a plot, show_motion(path) to show the user \
the motion (a 3-D viewer or key poses) -> export_motion(path, format) for \
Blender/three.js (glb), animation tools (bvh), OpenSim (mot) or tables (csv, parquet). \
Step by step instead: \
upload_asset (recording and markerset XML) -> start_retarget -> wait_for_job (repeat while \
done=false) -> download_asset. \
Shipped markersets: {shipped}; they are also resources myo://markersets/<name>. Before \
writing a markerset XML, read myo://characters/{{character_id}}/bodies. Local paths must \
lie inside the directories the server allows (list_allowed_directories shows them; by default the \
user's home directory only).""".format(
    shipped="; ".join(f"'{name}': {about}" for name, about in SHIPPED_CONVENTIONS.items())
)


class MyoMCPServer(MCPServer[Any]):
    """MCPServer whose resource list also shows recent assets and jobs of the backend, and whose
    tools are registered on first use rather than at start-up.

    Registering a tool builds pydantic models and JSON schemas for its arguments and result
    (about 0.1 s for all of them): deferred, it stays out of the process start -> ``initialize``
    path. Anything that looks tools up (tools/list, tools/call, the 2026-07-28 schema check that
    runs before middleware) registers them first.
    """

    def __init__(self, deps: ToolDeps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tool_deps = deps  # what the tools' ``Deps`` parameter receives
        self.backend = deps.backend
        self.job_watcher: JobWatcher | None = None  # set by build_server
        self._pending_tools: list[
            tuple[Callable[..., Any], str, ToolAnnotations, dict[str, Any] | None]
        ] = []

    def defer_tool(
        self,
        fn: Callable[..., Any],
        description: str,
        annotations: ToolAnnotations,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Register ``fn`` as a tool when tools are first needed."""
        self._pending_tools.append((fn, description, annotations, meta))

    def register_pending_tools(self) -> None:
        """Register the deferred tools now (idempotent)."""
        pending, self._pending_tools = self._pending_tools, []
        for fn, description, notes, meta in pending:
            self.add_tool(fn, description=description, annotations=notes, meta=meta)

    async def list_tools(self) -> list[MCPTool]:
        self.register_pending_tools()
        return [compact_tool(tool) for tool in await super().list_tools()]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self.register_pending_tools()
        return short_result(await super().call_tool(name, arguments, context))

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        self.register_pending_tools()
        return super()._tool_input_schema(name)

    async def list_resources(self) -> list[MCPResource]:
        """Static resources (shipped markersets), then the 20 newest assets and jobs."""
        resources = await super().list_resources()
        try:
            with anyio.fail_after(15):
                client = await self.backend.client()
                assets = await client.assets.list(limit=20)
                jobs = await client.jobs.list(limit=20)
        except Exception as exc:  # a listing must not fail because the backend is away
            log.warning("resources/list without backend items: %s", self.backend.redact(exc))
            return resources
        for a in assets["assets"]:
            resources.append(
                MCPResource(
                    uri=asset_uri(a["asset_id"]),
                    name=f"asset {a.get('filename') or a['asset_id']}",
                    description=f"{a.get('purpose')} asset, {a.get('size_bytes')} bytes, "
                    f"{a.get('status')}, created {a.get('created_at')}",
                    mime_type="application/json",
                )
            )
        for j in jobs["jobs"]:
            resources.append(
                MCPResource(
                    uri=job_uri(j["job_id"]),
                    name=f"job {j['job_id']}",
                    description=f"{j.get('type')} job, {j['status']}, "
                    f"created {j.get('created_at')}",
                    mime_type="application/json",
                )
            )
        return resources


def build_server(config: McpConfig, backend: Backend) -> MyoMCPServer:
    """The MCP server over ``backend`` (the caller starts and closes the backend).

    Args:
        config: Settings (allowed directories, read-only mode, call budget).
        backend: Where the tools send their requests.
    """
    from myo_mcp import __version__

    deps = ToolDeps(backend, config)
    watcher = JobWatcher(backend, poll_s=0.25 if config.backend == "local" else 2.0)
    mcp = MyoMCPServer(
        deps,
        lifespan=watcher.lifespan,  # the job polls run in its task group
        subscriptions=watcher.bus,
        name="myo-mcp",
        title="Myo motion retargeting",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://github.com/myolab/myo-mcp",
        extensions=[apps_extension()],  # MCP Apps: show_motion's viewer
    )

    async def warm_up(ctx: Any, call_next: Any) -> Any:
        # The embedded backend starts after the handshake, never delaying the initialize reply.
        if ctx.method not in ("initialize", "server/discover"):
            backend.start_background()
        return await call_next(ctx)

    mcp.middleware.append(warm_up)
    mcp.job_watcher = watcher
    watcher.install(mcp)
    specs = [spec for module in TOOL_MODULES for spec in module.READ_TOOLS]
    if not config.read_only:
        specs += [spec for module in TOOL_MODULES for spec in module.WRITE_TOOLS]
    for spec in specs:
        _defer(mcp, spec)
    register_resources(mcp, backend)
    register_prompts(mcp, deps)
    return mcp


def _defer(mcp: MyoMCPServer, spec: ToolSpec) -> None:
    """Register ``spec`` on first use; its docstring, dedented, is the description the model reads
    (with the allowed-directories note when the tool takes local paths)."""
    notes = spec.annotations
    if notes.open_world_hint is None:
        # Backend tools reach the cloud API (an open world) or only the embedded store.
        notes = notes.model_copy(update={"open_world_hint": mcp.backend.kind == "remote"})
    description = inspect.cleandoc(spec.fn.__doc__ or "")
    if spec.local_files:
        description += "\n\n" + LOCAL_FILES_NOTE
    mcp.defer_tool(spec.fn, description, notes, spec.meta)
