"""The configuration README.md gives for Claude Desktop works as written from this clone: the
JSON blocks are read from the README, the clone's path put in, and the command spawned over stdio
with the environment an MCP client gives it (no shell, no activated virtualenv)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CLONE_PLACEHOLDER = "/absolute/path/to/myo-mcp"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n### {title}\n")
    end = text.find("\n#", start + 1)
    return text[start:end]


def _claude_desktop_servers() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", _section("Claude Desktop"), re.DOTALL)
    return [json.loads(block)["mcpServers"]["myo"] for block in blocks]


def test_the_readme_installs_from_a_clone_until_published() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "pip install myo-mcp" not in readme  # not on the package index yet
    local, cloud = _claude_desktop_servers()
    assert CLONE_PLACEHOLDER in local["args"] and "env" not in local
    assert (cloud["command"], cloud["args"]) == (local["command"], local["args"])
    assert set(cloud["env"]) == {"MYOSDK_API_KEY"}
    # uvx stays documented, as the form for once the package is published.
    (uvx,) = [p for p in _section("Claude Desktop").split("\n\n") if '"uvx"' in p]
    assert "once" in uvx.lower() and "PyPI" in uvx


@pytest.mark.anyio
async def test_the_documented_command_serves_mcp(tmp_path: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    local = _claude_desktop_servers()[0]
    args = [str(ROOT) if arg == CLONE_PLACEHOLDER else arg for arg in local["args"]]
    # Only what an MCP client passes on (HOME, PATH, ...; the SDK's default) and a data dir.
    params = StdioServerParameters(
        command=local["command"], args=args, env={"MYO_HOME": str(tmp_path / "home")}
    )
    with (tmp_path / "stderr.log").open("w") as errlog:
        transport: Any = stdio_client(params, errlog=errlog)
        async with Client(transport) as client:
            assert client.server_info is not None
            assert client.server_info.name == "myo-mcp"
            names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"inspect_c3d", "retarget_motion", "list_characters"} <= names
