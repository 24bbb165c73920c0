"""The asset tools called as plain functions over the real embedded backend, without an MCP
server."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from myo_mcp import Backend, McpConfig
from myo_mcp._tooling import ToolDeps
from myo_mcp._tools_assets import download_asset, get_asset, list_assets, upload_asset

pytestmark = pytest.mark.anyio


async def test_upload_get_list_download_called_directly(
    work: Path, config: McpConfig, backend: Backend
) -> None:
    deps = ToolDeps(backend, config)
    up = await upload_asset(deps, str(work / "cmu.xml"), None)
    assert up.verified and up.asset.filename == "cmu.xml"

    got = await get_asset(deps, up.asset.asset_id)
    assert got.size_bytes == (work / "cmu.xml").stat().st_size
    page = await list_assets(deps, limit=100)
    assert up.asset.asset_id in [a.asset_id for a in page.assets]

    saved = await download_asset(deps, up.asset.asset_id, str(work / "copy.xml"), None)
    assert Path(saved.path).read_bytes() == (work / "cmu.xml").read_bytes()

    with pytest.raises(ToolError, match="list_assets"):  # the not-found hint
        await get_asset(deps, "no-such-asset")
