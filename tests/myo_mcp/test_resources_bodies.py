"""The body list resource, read through a real MCP session in both eras."""

from __future__ import annotations

import mcp.types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from myo_mcp import MyoMCPServer
from myo_mcp._server import INSTRUCTIONS
from myo_retarget import BODY_FRAME_AXES, DEFAULT_CHARACTER_ID

pytestmark = pytest.mark.anyio

URI = f"myo://characters/{DEFAULT_CHARACTER_ID}/bodies"


async def test_body_list_resource(server: MyoMCPServer, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        templates = await client.list_resource_templates()
        assert "myo://characters/{character_id}/bodies" in {
            t.uri_template for t in templates.resource_templates
        }
        (content,) = (await client.read_resource(URI)).contents
        assert isinstance(content, types.TextResourceContents)
        text = content.text
        assert BODY_FRAME_AXES in text
        lines = text.splitlines()
        femur = next(line for line in lines if line.startswith("femur_r |"))
        assert femur.startswith("femur_r | pelvis | tibia_r 0.429 | cmu: ")
        assert "RKNE" in femur and "plug-in-gait: " in femur
        assert next(line for line in lines if line.startswith("pelvis |")).startswith(
            "pelvis | - | "
        )
        assert len(text) < 5000  # compact: one line a body
        with pytest.raises(MCPError, match=DEFAULT_CHARACTER_ID):
            await client.read_resource("myo://characters/nope/bodies")


def test_the_instructions_point_to_it() -> None:
    assert "myo://characters/{character_id}/bodies" in INSTRUCTIONS
