"""The local-file tools called as plain functions, without an MCP server: the seam a new tool
module is tested through."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from myo_mcp import Backend, McpConfig
from myo_mcp._tooling import ToolDeps
from myo_mcp._tools_local import inspect_c3d, list_allowed_directories

pytestmark = pytest.mark.anyio


async def test_inspect_c3d_called_directly(
    work: Path, config: McpConfig, backend: Backend, tmp_path: Path
) -> None:
    """inspect_c3d takes its dependencies as an argument: no build_server, no client."""
    deps = ToolDeps(backend, config)
    info = await inspect_c3d(deps, str(work / "walk.c3d"), None)
    assert info.best_markerset is not None and info.best_markerset.name == "cmu"
    assert info.next_step.startswith("retarget_motion(")

    outside = tmp_path / "elsewhere.c3d"
    outside.write_bytes(b"not read")
    with pytest.raises(ToolError, match="outside the directories"):
        await inspect_c3d(deps, str(outside), None)


async def test_allowed_directories_follow_the_given_config(work: Path, backend: Backend) -> None:
    """The config a tool sees is the one in its ToolDeps (read-only here)."""
    config = McpConfig(backend="local", allow_dirs=[work], read_only=True)
    got = await list_allowed_directories(ToolDeps(backend, config), None)
    assert got.directories == [str(work.resolve())]
    assert got.source == "allow-dir" and got.writable is False
