"""The resources: assets, their text content, jobs, characters, their bodies and the shipped
markersets."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from myo_retarget import SHIPPED_MARKERSETS, CharacterError, shipped_markerset_path

from ._backend import Backend
from ._character_bodies import bodies_text
from ._convert import asset_info, job_info
from ._errors import resource_errors
from ._paths import MARKERSET_URI_PREFIX

__all__ = ["TEXT_RESOURCE_MAX_BYTES", "TEXT_SUFFIXES", "register_resources"]

#: The asset-content resource serves only text files up to this size.
TEXT_RESOURCE_MAX_BYTES = 256 * 1024
TEXT_SUFFIXES = (".xml", ".json", ".txt", ".csv", ".md")


def register_resources(mcp: MCPServer[Any], backend: Backend) -> None:
    """Register the resource templates over ``backend`` and one resource per shipped markerset.

    Args:
        mcp: The server to register them on.
        backend: Where the resources are read from.
    """

    @mcp.resource(
        "myo://assets/{asset_id}",
        name="asset",
        title="Asset metadata",
        description="An asset's metadata (JSON); text assets' content is at .../content.",
        mime_type="application/json",
    )
    async def asset_resource(asset_id: str) -> str:
        with resource_errors(backend, "asset"):
            client = await backend.client()
            # AssetInfo, so presigned URLs stay out: they are long, expire, carry a signature.
            asset = asset_info(await client.assets.get(asset_id))
            return json.dumps(asset.model_dump(mode="json"))

    @mcp.resource(
        "myo://assets/{asset_id}/content",
        name="asset-content",
        title="Asset content (text)",
        description="The content of a small text asset, such as a markerset XML.",
        mime_type="text/plain",
    )
    async def asset_content_resource(asset_id: str) -> str:
        with resource_errors(backend, "asset"):
            client = await backend.client()
            info = await client.assets.get(asset_id)
            name = str(info.get("filename") or "")
            size = info.get("size_bytes") or 0
            if not name.lower().endswith(TEXT_SUFFIXES) or size > TEXT_RESOURCE_MAX_BYTES:
                raise ResourceError(
                    f"Asset {asset_id} ({name}, {size} bytes) is not a small text file: use "
                    "download_asset to save it, or summarize_motion for a motion."
                )
            with tempfile.TemporaryDirectory(prefix="myo-mcp-") as tmp:
                got = await client.assets.download(info, Path(tmp) / "content")
                return Path(got["path"]).read_text(encoding="utf-8", errors="replace")

    @mcp.resource(
        "myo://jobs/{job_id}",
        name="job",
        title="Job",
        description="A job's status, progress, output asset and error (JSON).",
        mime_type="application/json",
    )
    async def job_resource(job_id: str) -> str:
        with resource_errors(backend, "job"):
            client = await backend.client()
            job = job_info(await client.jobs.get(job_id))
            return json.dumps(job.model_dump(mode="json"))

    @mcp.resource(
        "myo://characters/{character_id}",
        name="character",
        title="Character",
        description="A character with its versions (JSON).",
        mime_type="application/json",
    )
    async def character_resource(character_id: str) -> str:
        with resource_errors(backend, "character"):
            client = await backend.client()
            return json.dumps(await client.characters.get(character_id), default=str)

    @mcp.resource(
        "myo://characters/{character_id}/bodies",
        name="character-bodies",
        title="Character bodies",
        description="Each body of a character: parent, distance to each child, the shipped "
        "markers on it, and the frame axes. Read it before writing a markerset XML.",
        mime_type="text/plain",
    )
    async def character_bodies_resource(character_id: str) -> str:
        try:
            return await anyio.to_thread.run_sync(bodies_text, character_id)
        except CharacterError as exc:
            raise ResourceNotFoundError(str(exc)) from None

    def _add_markerset(name: str) -> None:
        async def read_markerset() -> str:
            return shipped_markerset_path(name).read_text(encoding="utf-8")

        read_markerset.__name__ = f"markerset_{name.replace('-', '_')}"
        mcp.resource(
            f"{MARKERSET_URI_PREFIX}{name}",
            name=f"markerset-{name}",
            title=f"Shipped markerset '{name}'",
            description=f"The shipped '{name}' markerset XML (marker names, bodies, offsets); "
            f"pass markerset='{name}' to retarget_motion.",
            mime_type="application/xml",
        )(read_markerset)

    for _name in SHIPPED_MARKERSETS:
        _add_markerset(_name)
