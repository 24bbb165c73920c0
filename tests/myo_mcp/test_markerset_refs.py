"""Shipped markerset names and ``myo://markersets/<name>`` URIs where the tools take a markerset
file, through a real MCP session over the embedded backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from myo_mcp import MyoMCPServer
from myo_retarget import SHIPPED_MARKERSETS

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def error_of(client: Client, tool: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_upload_asset_takes_shipped_names_and_uris(server: MyoMCPServer, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        for name in SHIPPED_MARKERSETS:
            for ref in (name, f"myo://markersets/{name}"):
                up = await call(client, "upload_asset", {"path": ref})
                assert up["asset"]["filename"] == f"{name}.xml", ref
        message = await error_of(client, "upload_asset", {"path": "myo://markersets/nope"})
        assert "'nope'" in message and all(n in message for n in SHIPPED_MARKERSETS)
        assert "outside the directories" not in message


async def test_retarget_motion_takes_a_markerset_uri(
    server: MyoMCPServer, work: Path, mode: str
) -> None:
    async with Client(server, mode=mode) as client:
        run = await call(
            client,
            "retarget_motion",
            {"c3d_path": str(work / "walk.c3d"), "markerset": "myo://markersets/cmu"},
        )
        assert run["done"] and run["status"] == "SUCCEEDED"
        message = await error_of(
            client,
            "retarget_motion",
            {"c3d_path": str(work / "walk.c3d"), "markerset": "myo://markersets/nope"},
        )
        assert "'nope'" in message and all(n in message for n in SHIPPED_MARKERSETS)
