"""Tool errors are written for an MCP user (issue 13): no HTTP paths, no SDK constructor advice,
and each says what to do next (a tool to call or an action), over a real session."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import mcp.types as types
import pytest
from mcp import Client

from myo_mcp import Backend, McpConfig, build_server
from myo_server import LocalServer

pytestmark = pytest.mark.anyio

HUMANOID = "0199e278-06e6-7726-a6ba-9929f79005e8"
NEXT = re.compile(
    r"\b(list_\w+|get_\w+|inspect_c3d|retarget_motion|start_retarget|wait_for_job|upload_asset"
    r"|download_asset|summarize_motion|export_motion|delete_asset|cancel_job"
    r"|check|fix|give|try again|wait|ask|install|use|set|remove|pass|call)\b",
    re.IGNORECASE,
)


async def errors_of(
    config: McpConfig, local_server: LocalServer, calls: list[tuple[str, dict[str, Any]]]
) -> dict[str, str]:
    """The error text of each call (keyed by tool and arguments); a call that succeeds fails."""
    backend = Backend(config, local_server=local_server)
    found: dict[str, str] = {}
    try:
        async with Client(build_server(config, backend)) as client:
            for tool, args in calls:
                result = await client.call_tool(tool, args)
                text = " ".join(c.text for c in result.content if isinstance(c, types.TextContent))
                assert result.is_error, f"{tool}({args}) succeeded: {text}"
                found[f"{tool}({args})"] = text
    finally:
        await backend.aclose()
    return found


def check_words(found: dict[str, str]) -> None:
    for call, text in found.items():
        assert "/v1/" not in text and "Client(" not in text, f"{call}: {text}"
        assert NEXT.search(text), f"{call} says no next step: {text}"


async def test_errors_name_a_next_step_and_no_http(
    config: McpConfig, local_server: LocalServer, work: Path
) -> None:
    broken = work / "broken.c3d"
    broken.write_bytes(os.urandom(3000))
    walk, cmu = str(work / "walk.c3d"), str(work / "cmu.xml")
    found = await errors_of(
        config,
        local_server,
        [
            ("get_asset", {"asset_id": "no-such-asset"}),
            ("get_job", {"job_id": "no-such-job"}),
            ("wait_for_job", {"job_id": "no-such-job", "timeout_s": 1}),
            ("cancel_job", {"job_id": "no-such-job"}),
            ("get_character", {"character_id": "no-such-character"}),
            ("validate_character_manifest", {"character_id": HUMANOID, "version": "v9.9.9"}),
            ("start_retarget", {"c3d_asset_id": "nope", "markerset_asset_id": "nope"}),
            ("start_retarget", {"c3d_asset_id": "a", "markerset_asset_id": "b", "rotation": "x"}),
            ("download_asset", {"asset_id": "no-such-asset", "destination": str(work)}),
            ("delete_asset", {"asset_id": "no-such-asset", "confirm": True}),
            ("inspect_c3d", {"path": "/etc/hostname"}),
            ("inspect_c3d", {"path": str(work / "gone.c3d")}),
            ("inspect_c3d", {"path": str(broken)}),
            ("retarget_motion", {"c3d_path": walk, "markerset": "no-such-set"}),
            ("retarget_motion", {"c3d_path": walk, "markerset": "cmu", "subject_height": 180}),
            ("retarget_motion", {"c3d_path": cmu, "markerset": "cmu"}),
            ("summarize_motion", {}),
            ("export_motion", {"asset_id": "no-such-asset"}),
        ],
    )
    check_words(found)
    # The not-found hint names the listing of that kind of id, not all three.
    assert "list_characters" in found["get_character({'character_id': 'no-such-character'})"]
    assert "list_assets" not in found["get_job({'job_id': 'no-such-job'})"]


async def test_backend_errors_speak_mcp(config: McpConfig, local_server: LocalServer) -> None:
    """A refused API key and an unreachable API: what to change in the MCP client's configuration
    of myo-mcp, not SDK calls."""
    refused = dataclasses.replace(
        config, backend="remote", base_url=local_server.base_url, api_key="not-a-key"
    )
    away = dataclasses.replace(
        config, backend="remote", base_url="http://127.0.0.1:9", api_key="not-a-key"
    )
    found = await errors_of(refused, local_server, [("list_jobs", {})])
    found |= await errors_of(away, local_server, [("list_assets", {})])
    check_words(found)
    assert "MYOSDK_API_KEY" in found["list_jobs({})"]
