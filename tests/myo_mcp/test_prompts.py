"""The prompt and the completion called as plain functions, without an MCP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.types import CompletionArgument

from myo_mcp import Backend, McpConfig
from myo_mcp._prompts import complete_argument, retarget_c3d
from myo_mcp._tooling import ToolDeps

pytestmark = pytest.mark.anyio


async def test_c3d_paths_complete_inside_the_allowed_directories_only(
    work: Path, config: McpConfig, backend: Backend, tmp_path: Path
) -> None:
    deps = ToolDeps(backend, config)
    got = await complete_argument(deps, CompletionArgument(name="c3d_path", value=f"{work}/wa"))
    assert got is not None and got.values == [f"{work}/walk.c3d"]

    (tmp_path / "other.c3d").write_bytes(b"")  # outside the allowed directory: not offered
    got = await complete_argument(deps, CompletionArgument(name="c3d_path", value=f"{tmp_path}/"))
    assert got is not None and got.values == []
    assert await complete_argument(deps, CompletionArgument(name="markerset", value="")) is None


def test_prompt_names_the_recording_and_the_subject() -> None:
    text = retarget_c3d("/data/walk.c3d", "woman, 1.65 m")
    assert "inspect_c3d(path='/data/walk.c3d')" in text and "woman, 1.65 m" in text
