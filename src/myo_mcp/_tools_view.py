"""The tool that shows a motion: ``show_motion``, an MCP App with a PNG fallback.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

import base64
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent
from pydantic import Field

from . import _analysis
from ._app import APP_URI, PAYLOAD_KEY
from ._errors import tool_errors
from ._models import MotionView
from ._tooling import READ_LOCAL, ClientRoots, Deps, ToolSpec, text_view, with_title
from ._tools_local import motion_file

__all__ = ["READ_TOOLS", "WRITE_TOOLS", "show_motion"]


def _view(file: Path, source: str, as_app: bool) -> tuple[MotionView, dict[str, Any] | bytes]:
    """The summary of the motion in ``file`` and the viewer payload (``as_app``) or the PNG of
    its key poses (worker thread: the engine loads here)."""
    from myo_retarget import CharacterError, viewer_payload

    from ._contact_sheet import contact_sheet

    motion = _analysis.load_motion(file)
    summary = motion.summary()
    rms = summary["rms_residual_mm"]
    unmarked, unobserved = _analysis.without_data(motion)
    view = MotionView(
        source=source,
        frames=summary["frames"],
        fps=float(summary["fps"]),
        duration_s=round(float(summary["duration_s"]), 3),
        rms_residual_mm=None if rms is None else round(float(rms), 1),
        unmarked_bodies=unmarked,
        unobserved_joints=unobserved,
        shown_as="viewer" if as_app else "key_poses_png",
    )
    # Titled, as the viewer is, by the recording the motion came from.
    title = str((motion.metadata.get("source") or {}).get("filename") or file.name)
    try:
        return view, viewer_payload(motion) if as_app else contact_sheet(motion, title)
    except CharacterError as exc:
        raise ValueError(
            f"Cannot pose {file.name}: {exc}. Install the character it was retargeted onto "
            "(list_characters shows the installed ones)."
        ) from exc


async def show_motion(
    deps: Deps,
    ctx: Context[Any, Any],
    roots: ClientRoots,
    asset_id: Annotated[str | None, Field(description="A job's output asset (.npz).")] = None,
    path: Annotated[str | None, Field(description="Or a local .npz file.")] = None,
) -> Annotated[CallToolResult, MotionView]:
    """Show a motion to the user (asset_id or path): a 3-D viewer in MCP App hosts, else a PNG
    of key poses."""
    with tool_errors(deps.backend, "show the motion", "list_assets"):
        as_app = client_supports_apps(ctx)
        async with motion_file(deps, roots, asset_id, path) as (file, source):
            try:
                view, shown = await anyio.to_thread.run_sync(_view, file, source, as_app)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
        data = view.model_dump(mode="json")
        content: list[ContentBlock] = [TextContent(type="text", text=text_view(data))]
        if isinstance(shown, bytes):
            content.append(
                ImageContent(
                    type="image", data=base64.b64encode(shown).decode(), mime_type="image/png"
                )
            )
            return CallToolResult(content=content, structured_content=data)
        # The motion travels to the App in _meta, out of the model's context.
        return CallToolResult(content=content, structured_content=data, meta={PAYLOAD_KEY: shown})


#: Registered in every mode (it only reads).
READ_TOOLS = (
    ToolSpec(
        show_motion,
        with_title(READ_LOCAL, "Show a motion"),
        local_files=True,
        meta={"ui": {"resourceUri": APP_URI}},
    ),
)
WRITE_TOOLS: tuple[ToolSpec, ...] = ()
