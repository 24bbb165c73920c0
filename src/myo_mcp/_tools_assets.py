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
    downloaded,
    paging,
)
from ._errors import tool_errors
from ._models import AssetInfo, AssetPage, DeletedAsset, DownloadedFile, UploadedAsset
from ._paths import shipped_markerset_file
from ._tooling import (
    DESTRUCTIVE,
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
        Field(description="Only this purpose: 'retarget' (inputs) or 'retarget_output'."),
    ] = None,
    reference_count: Annotated[
        int | None, Field(ge=0, description="Only assets used by this many jobs (0 = unused).")
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> AssetPage:
    """List stored assets (uploaded files and job outputs), newest first.

    Use it to find an asset id; page with offset=next_offset. Read one with get_asset.
    """
    with tool_errors(deps.backend, "list assets"):
        client = await deps.backend.client()
        page = await client.assets.list(purpose, reference_count, limit, offset)
        return AssetPage(
            assets=[asset_info(a) for a in page["assets"]],
            **paging(page, "assets"),
        )


async def get_asset(deps: Deps, asset_id: AssetId) -> AssetInfo:
    """Details of one asset: file name, purpose, size, status, checksum, producing job.

    Next: download_asset to save it locally, or summarize_motion for a job's .npz output.
    """
    with tool_errors(deps.backend, f"get asset {asset_id}"):
        client = await deps.backend.client()
        return asset_info(await client.assets.get(asset_id))


async def upload_asset(
    deps: Deps,
    path: Annotated[
        str,
        Field(
            description=f"Local file: a recording ({RECORDING_FORMATS}), markerset .xml or .glb; "
            "or a shipped markerset's name or URI (myo://markersets/cmu)."
        ),
    ],
    roots: ClientRoots,
    purpose: Annotated[
        str | None,
        Field(description="Default from the extension: 'retarget' ('motion' for .glb/.gltf)."),
    ] = None,
    metadata: Annotated[
        dict[str, Any] | None, Field(description="Small JSON metadata to attach.")
    ] = None,
) -> UploadedAsset:
    """Upload a local file (recording or markerset XML for a job; GLB/glTF: a motion).

    An identical earlier upload (same bytes, name, purpose) is reused, not sent again.
    Next: start_retarget with the recording's and the markerset's asset ids.
    (retarget_motion does upload + job + download in one call.)
    """
    with tool_errors(deps.backend, f"upload {path}"):
        file = shipped_markerset_file(path) or deps.local_file(path, roots)
        client = await deps.backend.client()
        up = await client.assets.upload_file(file, purpose, metadata, reuse=True)
        asset = asset_info(await client.assets.get(up["asset_id"]))
        return UploadedAsset(
            asset=asset,
            verified=bool(up.get("verified")),
            next_step="start_retarget(c3d_asset_id=..., markerset_asset_id=...) once "
            "both the recording and the markerset are uploaded.",
        )


async def download_asset(
    deps: Deps,
    asset_id: AssetId,
    destination: Annotated[
        str,
        Field(description="Local file path (or an existing directory) to write to."),
    ],
    roots: ClientRoots,
) -> DownloadedFile:
    """Save an asset (e.g. a job's .npz output) to a local file, verified by sha256.

    An existing file at destination is replaced. Next: summarize_motion(path=...).
    """
    with tool_errors(deps.backend, f"download asset {asset_id}"):
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
        Field(description="Set true once the user agreed, when the client cannot ask them."),
    ] = False,
) -> DeletedAsset:
    """Delete an asset for good. The user is asked to confirm first (or, when the client
    cannot ask, call again with confirm=true after the user agreed). An asset a job still
    references cannot be deleted."""
    with tool_errors(deps.backend, f"delete asset {asset_id}"):
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
