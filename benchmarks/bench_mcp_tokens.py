"""What the model reads from myo-mcp, in characters: ``tools/list`` (compact JSON) of the default
and the read-only server, and each tool's typical result (text + structuredContent, images left
out) over a real session: an embedded myo_server, the in-memory MCP client, the shipped sample.

The session makes 20 jobs (one retargeted, one failed, the others canceled) before list_jobs,
then calls every tool once. The budgets are myo_mcp's (tests/myo_mcp/test_mcp_budget.py guards
them).

Run by hand: ``uv run python benchmarks/bench_mcp_tokens.py [TOOL ...]`` (each TOOL named: its
results are printed too).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from _common import machine_line
from myo_mcp import Backend, McpConfig, build_server
from myo_mcp._budget import (
    RESULT_BUDGET,
    TOOLS_LIST_BUDGET,
    compact_json,
    result_chars,
    tools_list_chars,
)
from myo_retarget import sample_c3d_path, shipped_markerset_path
from myo_server import LocalServer

#: The tools whose results are printed (the command line's arguments).
SHOW = set(sys.argv[1:])


async def list_chars(config: McpConfig, server: LocalServer) -> int:
    backend = Backend(config, local_server=server)
    try:
        async with Client(build_server(config, backend)) as client:
            tools = (await client.list_tools()).tools
    finally:
        await backend.aclose()
    return tools_list_chars(tools)


async def session(config: McpConfig, server: LocalServer, work: Path) -> dict[str, int]:
    """Every tool once, after 20 jobs; the characters of each result."""
    sizes: dict[str, int] = {}
    backend = Backend(config, local_server=server)

    async def call(tool: str, args: dict[str, Any], key: str | None = None) -> Any:
        result = await client.call_tool(tool, args)
        sizes[key or tool] = result_chars(result)
        if tool in SHOW:
            print(f"--- {key or tool}", *(c.text for c in result.content if c.type == "text"))
            print(compact_json(result.structured_content))
        if result.is_error:
            sizes[key or tool] = -sizes[key or tool]  # shown as an error in the table
        return result.structured_content or {}

    walk, cmu = str(work / "walk.c3d"), str(work / "cmu.xml")
    try:
        async with Client(build_server(config, backend)) as client:
            await call("list_allowed_directories", {})
            await call("inspect_c3d", {"path": walk})
            run = await call("retarget_motion", {"c3d_path": walk, "markerset": cmu})
            npz = run["output"]["path"]
            rec = (await call("upload_asset", {"path": walk}))["asset"]["asset_id"]
            ms = (await call("upload_asset", {"path": cmu}, "upload_asset (xml)"))["asset"]
            # A job that fails: the markerset uploaded as the recording.
            bad = await call(
                "start_retarget",
                {"c3d_asset_id": ms["asset_id"], "markerset_asset_id": ms["asset_id"]},
                "start_retarget (bad)",
            )
            await call("wait_for_job", {"job_id": bad["job"]["job_id"], "timeout_s": 30})
            for _ in range(18):
                started = await call(
                    "start_retarget", {"c3d_asset_id": rec, "markerset_asset_id": ms["asset_id"]}
                )
                await call("cancel_job", {"job_id": started["job"]["job_id"]})
            await call("get_job", {"job_id": run["job_id"]})
            await call("list_jobs", {})
            await call("list_jobs", {"limit": 20}, "list_jobs (limit 20, not typical)")
            await call("list_assets", {})
            await call("get_asset", {"asset_id": rec})
            await call("download_asset", {"asset_id": rec, "destination": str(work / "copy.c3d")})
            await call("list_characters", {})
            chars = await call("list_characters", {})
            character = chars["characters"][0]["character_id"]
            detail = await call("get_character", {"character_id": character})
            version = (detail.get("ready_versions") or ["v1.0.0"])[0]
            await call(
                "validate_character_manifest", {"character_id": character, "version": version}
            )
            await call("summarize_motion", {"path": npz})
            await call("show_motion", {"path": npz})
            await call("export_motion", {"path": npz, "format": "csv"})
            await call("delete_asset", {"asset_id": rec, "confirm": True})
            await call("get_job", {"job_id": "no-such-job"}, "get_job (unknown id)")
    finally:
        await backend.aclose()
    return sizes


async def main() -> None:
    logging.disable(logging.INFO)  # the servers' request logs are not the figures
    with tempfile.TemporaryDirectory(prefix="bench-mcp-tokens-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        shutil.copy(sample_c3d_path(), work / "walk.c3d")
        shutil.copy(shipped_markerset_path("cmu"), work / "cmu.xml")
        with LocalServer(data_dir=Path(tmp) / "data", workers=1) as server:
            config = McpConfig(backend="local", data_dir=server.data_dir, allow_dirs=[work])
            full = await list_chars(config, server)
            read_only = await list_chars(dataclasses.replace(config, read_only=True), server)
            sizes = await session(config, server, work)
    print(machine_line(), file=sys.stderr)
    print(f"{'tools/list (all tools)':32} {full:>7,}  budget {TOOLS_LIST_BUDGET:,}")
    print(f"{'tools/list (--read-only)':32} {read_only:>7,}  budget {TOOLS_LIST_BUDGET:,}")
    print(f"result (text + structuredContent, images left out; budget {RESULT_BUDGET:,}):")
    for tool, chars in sizes.items():
        mark = " (error)" if chars < 0 else ""
        over = "  OVER" if abs(chars) > RESULT_BUDGET and "not typical" not in tool else ""
        print(f"  {tool + mark:30} {abs(chars):>7,}{over}")


if __name__ == "__main__":
    anyio.run(main)
