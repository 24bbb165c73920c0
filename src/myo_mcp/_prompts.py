"""The prompt (retarget_c3d) and the completion of ids and .c3d paths.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
prompt's annotations at registration.
"""

import logging
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import Field

from ._paths import AccessDeniedError, check_access
from ._tooling import ToolDeps

__all__ = ["complete_argument", "register_prompts", "retarget_c3d"]

log = logging.getLogger("myo_mcp")


def register_prompts(mcp: MCPServer[Any], deps: ToolDeps) -> None:
    """Register the retarget_c3d prompt and the completion handler.

    Args:
        mcp: The server to register them on.
        deps: The backend (ids to complete) and the allowed directories (paths to complete).
    """
    mcp.prompt(
        name="retarget_c3d",
        title="Retarget a C3D recording",
        description="Guides the assistant through inspect -> upload -> start -> wait -> summarize.",
    )(retarget_c3d)

    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        return await complete_argument(deps, argument)

    mcp.completion()(complete)  # type: ignore[no-untyped-call]


def retarget_c3d(
    c3d_path: Annotated[str, Field(description="Local path of the .c3d recording.")],
    subject: Annotated[
        str | None,
        Field(description="The subject, e.g. 'woman, 1.65 m, 60 kg' (optional)."),
    ] = None,
) -> str:
    """The steps of a retarget of ``c3d_path``, with what is known of the subject."""
    who = (
        f"The subject: {subject}. Pass subject_gender, subject_height (metres) and "
        "subject_weight (kg) accordingly."
        if subject
        else "Nothing is known about the subject: keep the defaults (scaling on)."
    )
    return (
        f"Retarget the motion capture recording {c3d_path} onto the default humanoid.\n"
        f"1. inspect_c3d(path='{c3d_path}'): check frames, rate and gaps, and pick the "
        "best-fitting shipped markerset (best_markerset). If none fits, stop and ask me for "
        "a markerset XML.\n"
        "2. upload_asset the C3D, and the markerset (a shipped one is the resource "
        "myo://markersets/<name>; retarget_motion accepts its name directly).\n"
        "3. start_retarget(c3d_asset_id, markerset_asset_id, ...subject figures).\n"
        "4. wait_for_job(job_id) until done=true; report FAILED errors to me.\n"
        "5. download_asset(output_asset_id, destination next to the C3D), then "
        "summarize_motion(path=...) and show me the ranges of motion, the fit quality "
        "(rms residual, worst markers) and the plot.\n"
        f"(Steps 2-5 are also one call: retarget_motion.) {who}"
    )


async def complete_argument(deps: ToolDeps, argument: CompletionArgument) -> Completion | None:
    """Ids of the backend (asset_id, job_id, character_id) or .c3d paths inside the allowed
    directories (c3d_path) that continue the argument's value; None for other arguments."""
    prefix = argument.value or ""
    values: list[str] = []
    if argument.name in ("asset_id", "job_id", "character_id"):
        try:
            client = await deps.backend.client()
            if argument.name == "asset_id":
                values = [a["asset_id"] for a in (await client.assets.list(limit=100))["assets"]]
            elif argument.name == "job_id":
                values = [j["job_id"] for j in (await client.jobs.list(limit=100))["jobs"]]
            else:
                page = await client.characters.list(limit=100)
                values = [c["character_id"] for c in page["characters"]]
        except Exception as exc:
            log.warning("completion of %s failed: %s", argument.name, deps.backend.redact(exc))
            return None
    elif argument.name == "c3d_path":
        values = _complete_path(prefix, deps.allowed_roots(None))
    else:
        return None
    matches = [v for v in values if v.startswith(prefix)]
    return Completion(values=matches[:100], total=len(matches), has_more=len(matches) > 100)


def _complete_path(prefix: str, roots: list[Path]) -> list[str]:
    """Directories and .c3d files that continue ``prefix`` (inside the allowed roots)."""
    base = Path(prefix).expanduser() if prefix else Path.cwd()
    folder = base if prefix.endswith("/") or not prefix else base.parent
    try:
        check_access(folder, roots)
        entries = sorted(folder.iterdir())[:500]
    except (OSError, AccessDeniedError):
        return []
    shown = (
        prefix[: len(prefix) - len(base.name)] if prefix and not prefix.endswith("/") else prefix
    )
    out = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            out.append(f"{shown}{entry.name}/")
        elif entry.suffix.lower() == ".c3d":
            out.append(f"{shown}{entry.name}")
    return out
