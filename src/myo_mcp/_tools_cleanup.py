"""The cleanup tool: delete old assets no job uses (a dry run first).

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

from typing import Annotated

from pydantic import BaseModel, Field

from ._errors import tool_errors
from ._tooling import DESTRUCTIVE, Deps, ToolSpec, with_title

__all__ = ["LISTED_MAX", "READ_TOOLS", "WRITE_TOOLS", "CleanupAsset", "CleanupResult"]

#: A result names at most this many assets (the count and size cover them all).
LISTED_MAX = 20


class CleanupAsset(BaseModel):
    """An asset a cleanup removes (or would)."""

    asset_id: str
    filename: str
    purpose: str
    size_bytes: int | None = None
    created_at: str | None = None


class CleanupResult(BaseModel):
    """Result of ``cleanup_assets``."""

    dry_run: bool = Field(description="True: nothing was deleted, the assets are the plan.")
    count: int = Field(description="Assets deleted (or that would be).")
    size_bytes: int
    assets: list[CleanupAsset] = Field(description=f"The oldest {LISTED_MAX} of them.")
    in_use: list[str] = Field(description="Left: a job started using them meanwhile.")
    next_step: str


async def cleanup_assets(
    deps: Deps,
    older_than_days: Annotated[float, Field(ge=0, description="Minimum age.")] = 30,
    dry_run: Annotated[bool, Field(description="False deletes.")] = True,
) -> CleanupResult:
    """Delete old assets no queued or running job uses. First a dry run (default): show the
    user the list, then dry_run=false once they agree. Jobs cannot be deleted."""
    with tool_errors(deps.backend, "clean up assets"):
        client = await deps.backend.client()
        done = await client.assets.cleanup(older_than_days, dry_run=dry_run)
        assets = done["assets"]
        if dry_run and assets:
            step = (
                f"Nothing deleted yet: call cleanup_assets(older_than_days={older_than_days}, "
                "dry_run=false) to delete these once the user agrees."
            )
        elif dry_run:
            step = "Nothing to delete at this age."
        else:
            step = f"Deleted {len(assets)} asset(s)."
        return CleanupResult(
            dry_run=dry_run,
            count=len(assets),
            size_bytes=done["size_bytes"],
            assets=[
                CleanupAsset(
                    asset_id=a["asset_id"],
                    filename=a.get("filename") or "",
                    purpose=a.get("purpose") or "",
                    size_bytes=a.get("size_bytes"),
                    created_at=a.get("created_at"),
                )
                for a in assets[:LISTED_MAX]
            ],
            in_use=done["in_use"],
            next_step=f"{step} {done['note']}",
        )


#: Registered in every mode (none: the tool deletes).
READ_TOOLS: tuple[ToolSpec, ...] = ()
#: Registered unless the server is read-only.
WRITE_TOOLS = (ToolSpec(cleanup_assets, with_title(DESTRUCTIVE, "Delete old unused assets")),)
