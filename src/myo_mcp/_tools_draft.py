"""The tool that drafts a markerset for a recording whose labels no shipped markerset covers.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from . import _analysis
from ._errors import tool_errors
from ._tooling import (
    RECORDING_FORMATS,
    WRITE_LOCAL,
    ClientRoots,
    Deps,
    MocapScale,
    ToolSpec,
    VerticalAxis,
    check_engine_options,
    with_title,
)

__all__ = ["READ_TOOLS", "WRITE_TOOLS", "DraftResult", "draft_markerset"]

# A draft is as sure of a marker placed by its anatomical name as of the name itself; those
# are listed per body, the ones placed by rigidity one by one with their confidence.


class DraftResult(BaseModel):
    """A markerset drafted for a recording: where it was written and how sure it is."""

    markerset: str = Field(description="The XML's path: pass it as retarget_motion's markerset.")
    ready: bool = Field(description="False: too few pelvis/trunk markers to retarget (notes).")
    by_name: dict[str, list[str]] = Field(description="Body -> labels placed by anatomical name.")
    by_rigidity: list[str] = Field(
        description="'label -> body (confidence 0-1, spread mm)': placed by the body it moves with."
    )
    left_out: dict[str, list[str]] = Field(description="Why -> labels not in the draft.")
    fit_rms_mm: float = Field(description="Marker fit error of the draft; under ~20 mm is good.")
    notes: list[str]
    next_step: str


def _draft(file: Path, out: Path, mocap_scale: float | None, vertical_axis: str | None) -> Any:
    from myo_retarget import draft_markerset as engine_draft

    draft = engine_draft(file, mocap_scale=mocap_scale, vertical_axis=vertical_axis)
    draft.save(out)
    return draft


async def draft_markerset(
    deps: Deps,
    path: Annotated[str, Field(description=f"Local recording ({RECORDING_FORMATS}).")],
    roots: ClientRoots,
    output_path: Annotated[str | None, Field(description="Default: beside the recording.")] = None,
    mocap_scale: MocapScale = None,
    vertical_axis: VerticalAxis = None,
) -> DraftResult:
    """Draft a markerset XML for a recording no shipped markerset fits (labels placed by
    anatomical name, the rest by the body each moves with). Then follow next_step."""
    with tool_errors(deps.backend, f"draft a markerset for {path}"):
        check_engine_options(vertical_axis, mocap_scale)
        file = deps.local_file(path, roots)
        out = deps.local_path(output_path or str(file.with_suffix(".markerset.xml")), roots)
        try:
            draft = await anyio.to_thread.run_sync(_draft, file, out, mocap_scale, vertical_axis)
        except Exception as exc:
            from myo_retarget import MarkerReadError, RetargetError

            # The engine's messages start with the file's full path: the model knows which.
            reason = str(exc).removeprefix(f"{file}: ")
            if isinstance(exc, MarkerReadError):
                kind = _analysis.recording_kind(file)
                raise ToolError(f"Cannot read {file.name} as {kind}: {reason}") from None
            if isinstance(exc, RetargetError):  # too few labels recognised, ...
                reason = reason.removeprefix("cannot draft a markerset: ")
                raise ToolError(f"Cannot draft a markerset for {file.name}: {reason}") from None
            raise
        by_name: dict[str, list[str]] = {}
        by_rigidity = []
        for m in draft.markers:
            if m.method == "synonym":
                by_name.setdefault(m.body, []).append(m.label)
            else:
                by_rigidity.append(
                    f"{m.label} -> {m.body} ({m.confidence:.2f}, {m.spread_mm:.0f} mm)"
                )
        # Grouped by why: "moves with no body: 52 mm spread in the frame of scapula_l, ..."
        # once per label cost 2,000 characters on a wheelchair trial; its figures are dropped.
        left: dict[str, list[str]] = {}
        for lo in draft.left_out:
            left.setdefault(lo.reason.split(":")[0], []).append(lo.label)
        notes = list(draft.notes)
        if draft.retargetable:
            next_step = f"retarget_motion(c3d_path={str(file)!r}, markerset={str(out)!r})"
        else:  # retarget_motion would refuse it: say what is missing instead (once)
            next_step = " ".join(notes)
            notes = []
        return DraftResult(
            markerset=str(out),
            ready=draft.retargetable,
            by_name=by_name,
            by_rigidity=by_rigidity,
            left_out=left,
            fit_rms_mm=round(draft.fit_rms_mm, 1),
            notes=notes,
            next_step=next_step,
        )


READ_TOOLS: list[ToolSpec] = []
WRITE_TOOLS = [
    ToolSpec(draft_markerset, with_title(WRITE_LOCAL, "Draft a markerset"), local_files=True),
]
