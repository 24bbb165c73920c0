"""cleanup_assets through a real MCP session over a myo_server of its own (it deletes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from myo_mcp import Backend, McpConfig, build_server
from myo_server import LocalServer

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """Without workers: a started job stays QUEUED and keeps its inputs in use."""
    with LocalServer(data_dir=tmp_path_factory.mktemp("myo-cleanup"), workers=0) as server:
        yield server


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_cleanup_assets_dry_run_then_delete(
    work: Path, own_server: LocalServer, mode: str
) -> None:
    config = McpConfig(backend="local", data_dir=own_server.data_dir, allow_dirs=[work])
    backend = Backend(config, local_server=own_server)
    spare = work / f"spare-{mode}.c3d"
    spare.write_bytes((work / "walk.c3d").read_bytes() + mode.encode())
    try:
        async with Client(build_server(config, backend), mode=mode) as client:
            c3d = (await call(client, "upload_asset", {"path": str(work / "walk.c3d")}))["asset"]
            xml = (await call(client, "upload_asset", {"path": str(work / "cmu.xml")}))["asset"]
            await call(
                client,
                "start_retarget",
                {"c3d_asset_id": c3d["asset_id"], "markerset_asset_id": xml["asset_id"]},
            )
            unused = (await call(client, "upload_asset", {"path": str(spare)}))["asset"]

            young = await call(client, "cleanup_assets", {"older_than_days": 1})
            assert young["dry_run"] is True and young["count"] == 0

            plan = await call(client, "cleanup_assets", {"older_than_days": 0})
            assert plan["dry_run"] is True
            assert [a["asset_id"] for a in plan["assets"]] == [unused["asset_id"]]
            assert plan["count"] == 1 and plan["size_bytes"] == spare.stat().st_size
            assert "dry_run=false" in plan["next_step"]
            assert "jobs cannot be deleted" in plan["next_step"].lower()
            await call(client, "get_asset", {"asset_id": unused["asset_id"]})  # still there

            done = await call(client, "cleanup_assets", {"older_than_days": 0, "dry_run": False})
            assert done["dry_run"] is False and done["count"] == 1
            gone = await client.call_tool("get_asset", {"asset_id": unused["asset_id"]})
            assert gone.is_error
            for kept in (c3d, xml):  # a queued job reads them
                await call(client, "get_asset", {"asset_id": kept["asset_id"]})
    finally:
        await backend.aclose()


async def test_read_only_hides_cleanup(work: Path, own_server: LocalServer) -> None:
    config = McpConfig(
        backend="local", data_dir=own_server.data_dir, allow_dirs=[work], read_only=True
    )
    backend = Backend(config, local_server=own_server)
    try:
        async with Client(build_server(config, backend)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert "cleanup_assets" not in names and "list_assets" in names
    finally:
        await backend.aclose()
