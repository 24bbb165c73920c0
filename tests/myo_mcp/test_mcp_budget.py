"""What the model reads stays small (issue 13): tools/list and each typical result within their
budgets over a real session, and every result's text the one short view of its structured
content (benchmarks/bench_mcp_tokens.py prints the figures)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import mcp.types as types
import pytest
from mcp import Client

from myo_mcp import Backend, McpConfig, build_server
from myo_mcp._budget import RESULT_BUDGET, TOOLS_LIST_BUDGET, result_chars, tools_list_chars
from myo_mcp._tooling import PAGE, text_view
from myo_server import LocalServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("read_only", [False, True])
async def test_tools_list_within_budget(
    config: McpConfig, local_server: LocalServer, read_only: bool
) -> None:
    config = dataclasses.replace(config, read_only=read_only)
    backend = Backend(config, local_server=local_server)
    try:
        async with Client(build_server(config, backend)) as client:
            tools = (await client.list_tools()).tools
    finally:
        await backend.aclose()
    assert tools_list_chars(tools) <= TOOLS_LIST_BUDGET
    for tool in tools:  # no pydantic titles left to pay for
        assert '"title"' not in str(tool.input_schema) + str(tool.output_schema), tool.name


def texts(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


@pytest.mark.slow
async def test_typical_results_within_budget(
    config: McpConfig, local_server: LocalServer, work: Path
) -> None:
    """Every tool once over a real session with 20 jobs (one retargeted, one failed, the others
    canceled): each result (text + structured content, no image) within the budget, its text
    the short view of its structured content, never indented JSON."""
    results: dict[str, types.CallToolResult] = {}
    walk, cmu = str(work / "walk.c3d"), str(work / "cmu.xml")
    backend = Backend(config, local_server=local_server)
    try:
        async with Client(build_server(config, backend)) as client:

            async def call(tool: str, args: dict[str, Any]) -> dict[str, Any]:
                result = await client.call_tool(tool, args)
                assert not result.is_error, texts(result)
                results[tool] = result
                assert isinstance(result.structured_content, dict)
                return result.structured_content

            await call("list_allowed_directories", {})
            await call("inspect_c3d", {"path": walk})
            run = await call("retarget_motion", {"c3d_path": walk, "markerset": "cmu"})
            npz = run["output"]["path"]
            rec = (await call("upload_asset", {"path": walk}))["asset"]["asset_id"]
            ms = (await call("upload_asset", {"path": cmu}))["asset"]["asset_id"]
            bad = await call("start_retarget", {"c3d_asset_id": ms, "markerset_asset_id": ms})
            failed = await call("wait_for_job", {"job_id": bad["job"]["job_id"], "timeout_s": 30})
            assert failed["job"]["status"] == "FAILED"
            for _ in range(18):
                started = await call(
                    "start_retarget", {"c3d_asset_id": rec, "markerset_asset_id": ms}
                )
                await call("cancel_job", {"job_id": started["job"]["job_id"]})
            await call("get_job", {"job_id": run["job_id"]})
            page = await call("list_jobs", {})
            assert len(page["jobs"]) == PAGE and page["next_offset"] == PAGE
            assert {"job_id", "status", "recording", "markerset", "age"} <= set(page["jobs"][0])
            await call("list_assets", {})
            await call("get_asset", {"asset_id": rec})
            await call("download_asset", {"asset_id": rec, "destination": str(work / "c.c3d")})
            character = (await call("list_characters", {}))["characters"][0]["character_id"]
            detail = await call("get_character", {"character_id": character})
            await call(
                "validate_character_manifest",
                {"character_id": character, "version": detail["ready_versions"][0]},
            )
            await call("summarize_motion", {"path": npz})
            await call("show_motion", {"path": npz})
            await call("export_motion", {"path": npz, "format": "csv"})
            await call("delete_asset", {"asset_id": rec, "confirm": True})
            draft = await call("draft_markerset", {"path": walk})
            assert draft["ready"] is True
            await call("cleanup_assets", {})
            listed = {t.name for t in (await client.list_tools()).tools}
    finally:
        await backend.aclose()
    assert listed <= set(results), "a tool the session does not measure"
    sizes = {tool: result_chars(r) for tool, r in results.items()}
    assert {t: n for t, n in sizes.items() if n > RESULT_BUDGET} == {}, sizes
    for tool, result in results.items():
        assert isinstance(result.structured_content, dict)
        assert texts(result) == text_view(result.structured_content), tool
        assert "\n  " not in texts(result), tool
