"""The asset tools: list, get, upload, download and delete stored files.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from ._convert import (
    asset_info,
    asset_item,
    downloaded,
    paging,
)
from ._errors import tool_errors
from ._models import AssetInfo, AssetPage, DeletedAsset, DownloadedFile, UploadedAsset
from ._paths import shipped_markerset_file
from ._tooling import (
    DESTRUCTIVE,
    PAGE,
    READ,
    RECORDING_FORMATS,
    WRITE,
    WRITE_LOCAL,
    AssetId,
    ClientRoots,
    Deps,
    Limit,
    Offset,
    ToolSpec,
    with_title,
)

__all__ = [
    "READ_TOOLS",
    "WRITE_TOOLS",
    "delete_asset",
    "download_asset",
    "get_asset",
    "list_assets",
    "upload_asset",
]


class DeleteConfirmation(BaseModel):
    """What the user is asked before an asset is deleted."""

    confirm: bool = Field(description="Delete this asset for good?")


def _confirm_delete(
    asset_id: str, confirm: bool, ctx: Context[Any, Any]
) -> Elicit[DeleteConfirmation] | None:
    """Ask the user to confirm a deletion, unless ``confirm`` already says so."""
    if confirm:
        return None
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return None
    return Elicit(f"Delete asset {asset_id}? This cannot be undone.", DeleteConfirmation)


# No confirmation needed (confirm=true) or possible (no elicitation): accepted with data None.
DeleteDecision = Annotated[ElicitationResult[DeleteConfirmation], Resolve(_confirm_delete)]


async def list_assets(
    deps: Deps,
    purpose: Annotated[
        str | None,
        Field(description="'retarget' (inputs) or 'retarget_output'."),
    ] = None,
    reference_count: Annotated[
        int | None, Field(ge=0, description="Used by this many jobs (0: unused).")
    ] = None,
    limit: Limit = PAGE,
    offset: Offset = 0,
) -> AssetPage:
    """List stored files (uploads, job outputs), newest first. Details: get_asset."""
    with tool_errors(deps.backend, "list assets"):
        client = await deps.backend.client()
        page = await client.assets.list(purpose, reference_count, limit, offset)
        return AssetPage(
            assets=[asset_item(a) for a in page["assets"]],
            **paging(page, "assets"),
        )


async def get_asset(deps: Deps, asset_id: AssetId) -> AssetInfo:
    """One asset: file name, purpose, size, status, checksum, producing job."""
    with tool_errors(deps.backend, f"get asset {asset_id}", "list_assets"):
        client = await deps.backend.client()
        return asset_info(await client.assets.get(asset_id))


async def upload_asset(
    deps: Deps,
    path: Annotated[
        str,
        Field(
            description=f"A recording ({RECORDING_FORMATS}), markerset .xml or .glb; or a shipped "
            "markerset's name or myo://markersets/ URI."
        ),
    ],
    roots: ClientRoots,
    purpose: Annotated[
        str | None,
        Field(description="Default: from the extension."),
    ] = None,
    metadata: Annotated[
        dict[str, Any] | None, Field(description="Small JSON metadata to attach.")
    ] = None,
) -> UploadedAsset:
    """Upload a local file (recording, markerset XML, GLB motion) for start_retarget; an
    identical earlier upload is reused. retarget_motion does it all in one call."""
    with tool_errors(deps.backend, f"upload {path}"):
        file = shipped_markerset_file(path) or deps.local_file(path, roots)
        client = await deps.backend.client()
        up = await client.assets.upload_file(file, purpose, metadata, reuse=True)
        asset = asset_item(await client.assets.get(up["asset_id"]))
        return UploadedAsset(
            asset=asset,
            verified=bool(up.get("verified")),
            next_step="start_retarget(c3d_asset_id=..., markerset_asset_id=...) once both "
            "are uploaded.",
        )


async def download_asset(
    deps: Deps,
    asset_id: AssetId,
    destination: Annotated[
        str,
        Field(description="Local file path or existing directory."),
    ],
    roots: ClientRoots,
) -> DownloadedFile:
    """Save an asset (e.g. a job's .npz) to a local file, sha256-verified."""
    with tool_errors(deps.backend, f"download asset {asset_id}", "list_assets"):
        dest = deps.local_path(destination, roots)
        client = await deps.backend.client()
        info = await client.assets.get(asset_id)
        if dest.is_dir():
            dest = deps.local_path(str(dest / Path(info.get("filename") or asset_id).name), roots)
        got = await client.assets.download(info, dest)
        return downloaded(asset_id, got)


async def delete_asset(
    deps: Deps,
    asset_id: AssetId,
    decision: DeleteDecision,
    confirm: Annotated[
        bool,
        Field(description="The user agreed (when the client cannot ask)."),
    ] = False,
) -> DeletedAsset:
    """Delete an asset for good, after the user confirms (asked here, or confirm=true once they
    agreed). An asset a job still uses cannot be deleted."""
    with tool_errors(deps.backend, f"delete asset {asset_id}", "list_assets"):
        if not confirm:
            if not isinstance(decision, AcceptedElicitation):
                return DeletedAsset(
                    asset_id=asset_id,
                    deleted=False,
                    message=f"The user {decision.action}d the deletion; nothing deleted.",
                )
            if decision.data is None:
                raise ToolError(
                    f"Deleting asset {asset_id} needs confirmation: ask the user, then "
                    "call delete_asset again with confirm=true."
                )
            if not decision.data.confirm:
                return DeletedAsset(
                    asset_id=asset_id, deleted=False, message="The user did not confirm."
                )
        client = await deps.backend.client()
        await client.assets.delete(asset_id)
        return DeletedAsset(asset_id=asset_id, deleted=True, message="Deleted.")


#: Registered in every mode, in this order.
READ_TOOLS = (
    ToolSpec(list_assets, with_title(READ, "List assets")),
    ToolSpec(get_asset, with_title(READ, "Get an asset")),
)
#: Registered unless the server is read-only.
WRITE_TOOLS = (
    ToolSpec(upload_asset, with_title(WRITE, "Upload a file"), local_files=True),
    ToolSpec(download_asset, with_title(WRITE_LOCAL, "Download an asset"), local_files=True),
    ToolSpec(delete_asset, with_title(DESTRUCTIVE, "Delete an asset")),
)
