"""Identical uploads are reused: retrying a workflow re-sends nothing (real MCP session, real
embedded backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from myo_mcp import Backend, MyoMCPServer

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def _input_assets(backend: Backend) -> int:
    client = await backend.client()
    return (await client.assets.list(purpose="retarget", limit=1))["total"]


@pytest.mark.slow
async def test_five_retargets_of_the_same_files_leave_two_assets(
    server: MyoMCPServer, backend: Backend, work: Path
) -> None:
    async with Client(server) as client:
        args = {"c3d_path": str(work / "walk.c3d"), "markerset": str(work / "cmu.xml")}
        first = await call(client, "retarget_motion", args)
        before = await _input_assets(backend)
        for _ in range(4):
            again = await call(client, "retarget_motion", args)
            assert again["c3d_asset_id"] == first["c3d_asset_id"]
            assert again["markerset_asset_id"] == first["markerset_asset_id"]
        assert await _input_assets(backend) == before

        up = await call(client, "upload_asset", {"path": str(work / "walk.c3d")})
        assert up["asset"]["asset_id"] == first["c3d_asset_id"]

        # A changed file is uploaded anew.
        edited = work / "cmu.xml"
        edited.write_text(edited.read_text(encoding="utf-8") + "<!-- edited -->\n", "utf-8")
        changed = await call(client, "retarget_motion", args)
        assert changed["markerset_asset_id"] != first["markerset_asset_id"]
        assert changed["c3d_asset_id"] == first["c3d_asset_id"]
        assert await _input_assets(backend) == before + 1
