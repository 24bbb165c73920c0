"""Resources, templates, the prompt and completion through the in-memory client (both eras),
and the tools/list interface snapshot."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import mcp.types as types
import pytest
from inline_snapshot import snapshot
from mcp import Client
from mcp.shared.exceptions import MCPError

from myo_mcp import MyoMCPServer
from myo_retarget import shipped_markerset_path

pytestmark = pytest.mark.anyio

HUMANOID = "0199e278-06e6-7726-a6ba-9929f79005e8"


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def text_of(result: types.ReadResourceResult) -> str:
    (content,) = result.contents
    assert isinstance(content, types.TextResourceContents)
    return content.text


async def test_resources(server: MyoMCPServer, work: Path, mode: str) -> None:
    # New bytes: an identical earlier upload would be reused, and be too old to be listed.
    mine = work / "cmu.xml"
    mine.write_text(mine.read_text(encoding="utf-8") + f"<!-- {uuid.uuid4()} -->\n", "utf-8")
    async with Client(server, mode=mode) as client:
        xml = (await call(client, "upload_asset", {"path": str(mine)}))["asset"]
        run = await call(
            client, "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"}
        )
        job_id = run["job_id"]

        listed = {
            str(r.uri): r for r in (await client.list_resources(cache_mode="bypass")).resources
        }
        assert listed["myo://markersets/cmu"].mime_type == "application/xml"
        assert "myo://markersets/plug-in-gait" in listed
        assert f"myo://assets/{xml['asset_id']}" in listed
        assert f"myo://jobs/{job_id}" in listed
        assert "SUCCEEDED" in (listed[f"myo://jobs/{job_id}"].description or "")

        templates = await client.list_resource_templates()
        assert sorted(t.uri_template for t in templates.resource_templates) == [
            "myo://assets/{asset_id}",
            "myo://assets/{asset_id}/content",
            "myo://characters/{character_id}",
            "myo://characters/{character_id}/bodies",
            "myo://jobs/{job_id}",
        ]

        shipped = await client.read_resource("myo://markersets/cmu")
        assert text_of(shipped) == shipped_markerset_path("cmu").read_text(encoding="utf-8")
        assert shipped.contents[0].mime_type == "application/xml"

        meta = json.loads(text_of(await client.read_resource(f"myo://assets/{xml['asset_id']}")))
        assert meta["filename"] == "cmu.xml" and meta["status"] == "completed"
        assert "download_url" not in meta

        content = text_of(await client.read_resource(f"myo://assets/{xml['asset_id']}/content"))
        assert content == (work / "cmu.xml").read_text(encoding="utf-8")

        job = json.loads(text_of(await client.read_resource(f"myo://jobs/{job_id}")))
        assert job["status"] == "SUCCEEDED" and job["output_asset_id"]

        char = json.loads(text_of(await client.read_resource(f"myo://characters/{HUMANOID}")))
        assert char["character_id"] == HUMANOID and char["versions"]

        with pytest.raises(MCPError, match="download_asset"):
            await client.read_resource(f"myo://assets/{job['output_asset_id']}/content")
        for uri in ("myo://assets/nope", "myo://jobs/nope", "myo://characters/nope"):
            with pytest.raises(MCPError, match="No such"):
                await client.read_resource(uri)
        with pytest.raises(MCPError):
            await client.read_resource("myo://markersets/vicon")


async def test_prompt(server: MyoMCPServer, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        (prompt,) = (await client.list_prompts()).prompts
        assert prompt.name == "retarget_c3d"
        args = {a.name: a for a in prompt.arguments or []}
        assert args["c3d_path"].required is True
        assert args["subject"].required is False

        got = await client.get_prompt(
            "retarget_c3d", {"c3d_path": "/data/walk.c3d", "subject": "woman, 1.65 m"}
        )
        (message,) = got.messages
        assert message.role == "user"
        assert isinstance(message.content, types.TextContent)
        text = message.content.text
        for step in ("inspect_c3d", "upload_asset", "start_retarget", "wait_for_job"):
            assert step in text
        assert "summarize_motion" in text and "/data/walk.c3d" in text and "1.65 m" in text
        plain = await client.get_prompt("retarget_c3d", {"c3d_path": "a.c3d"})
        assert isinstance(plain.messages[0].content, types.TextContent)
        assert "defaults" in plain.messages[0].content.text
        with pytest.raises(MCPError):
            await client.get_prompt("retarget_c3d", {})


async def test_completion(server: MyoMCPServer, work: Path, mode: str) -> None:
    (work / "runs").mkdir()
    (work / "runs" / "jump.c3d").write_bytes(b"")
    (work / "notes.txt").write_text("x")
    async with Client(server, mode=mode) as client:
        asset_id = (await call(client, "upload_asset", {"path": str(work / "cmu.xml")}))["asset"][
            "asset_id"
        ]
        asset_ref = types.ResourceTemplateReference(
            type="ref/resource", uri="myo://assets/{asset_id}"
        )
        done = await client.complete(asset_ref, {"name": "asset_id", "value": asset_id[:20]})
        assert asset_id in done.completion.values
        assert all(v.startswith(asset_id[:20]) for v in done.completion.values)
        none = await client.complete(asset_ref, {"name": "asset_id", "value": "zzz"})
        assert none.completion.values == []

        run = await call(
            client, "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"}
        )
        job_ref = types.ResourceTemplateReference(type="ref/resource", uri="myo://jobs/{job_id}")
        jobs = await client.complete(job_ref, {"name": "job_id", "value": ""})
        assert run["job_id"] in jobs.completion.values

        char_ref = types.ResourceTemplateReference(
            type="ref/resource", uri="myo://characters/{character_id}"
        )
        chars = await client.complete(char_ref, {"name": "character_id", "value": "0199"})
        assert chars.completion.values == [HUMANOID]

        prompt_ref = types.PromptReference(type="ref/prompt", name="retarget_c3d")
        paths = await client.complete(prompt_ref, {"name": "c3d_path", "value": f"{work}/"})
        assert f"{work}/walk.c3d" in paths.completion.values
        assert f"{work}/runs/" in paths.completion.values
        assert f"{work}/notes.txt" not in paths.completion.values
        deeper = await client.complete(prompt_ref, {"name": "c3d_path", "value": f"{work}/runs/ju"})
        assert deeper.completion.values == [f"{work}/runs/jump.c3d"]
        outside = await client.complete(prompt_ref, {"name": "c3d_path", "value": "/etc/"})
        assert outside.completion.values == []
        other = await client.complete(prompt_ref, {"name": "subject", "value": "wo"})
        assert other.completion.values == []


def _interface(tool: types.Tool) -> dict[str, Any]:
    """What clients depend on: names, parameter types and required ones, result fields, hints."""
    params = tool.input_schema.get("properties", {})
    out = tool.output_schema or {}
    hints = (
        tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
    )
    return {
        "params": {
            name: spec.get("type") or [s.get("type") for s in spec.get("anyOf", [])]
            for name, spec in params.items()
        },
        "required": sorted(tool.input_schema.get("required", [])),
        "result": sorted(out.get("properties", {})),
        "hints": hints,
    }


async def test_tools_list_snapshot(server: MyoMCPServer) -> None:
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    assert all(t.description and len(t.description) > 60 for t in tools)
    assert {t.name: _interface(t) for t in tools} == snapshot(
        {
            "list_assets": {
                "params": {
                    "purpose": "string",
                    "reference_count": "integer",
                    "limit": "integer",
                    "offset": "integer",
                },
                "required": [],
                "result": ["assets", "next_offset", "offset", "total"],
                "hints": {
                    "title": "List assets",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "get_asset": {
                "params": {"asset_id": "string"},
                "required": ["asset_id"],
                "result": [
                    "asset_id",
                    "checksum_sha256",
                    "created_at",
                    "filename",
                    "metadata",
                    "purpose",
                    "reference_count",
                    "size_bytes",
                    "source_job_id",
                    "status",
                ],
                "hints": {
                    "title": "Get an asset",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "list_characters": {
                "params": {
                    "name_contains": "string",
                    "has_ready_versions": "boolean",
                    "limit": "integer",
                    "offset": "integer",
                },
                "required": [],
                "result": ["characters", "next_offset", "offset", "total"],
                "hints": {
                    "title": "List characters",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "get_character": {
                "params": {"character_id": "string"},
                "required": ["character_id"],
                "result": [
                    "character_id",
                    "description",
                    "name",
                    "ready_versions",
                    "versions",
                ],
                "hints": {
                    "title": "Get a character",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "validate_character_manifest": {
                "params": {"character_id": "string", "version": "string"},
                "required": ["character_id", "version"],
                "result": ["character_id", "status", "valid", "version"],
                "hints": {
                    "title": "Validate a character version",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "get_job": {
                "params": {"job_id": "string"},
                "required": ["job_id"],
                "result": [
                    "completed_at",
                    "created_at",
                    "error",
                    "job_id",
                    "markerset",
                    "message",
                    "output_asset_id",
                    "progress",
                    "recording",
                    "status",
                ],
                "hints": {
                    "title": "Get a job",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "wait_for_job": {
                "params": {"job_id": "string", "timeout_s": "number"},
                "required": ["job_id"],
                "result": ["done", "job", "next_step", "waited_s"],
                "hints": {
                    "title": "Wait for a job",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "list_jobs": {
                "params": {
                    "status": "array",
                    "created_after": "string",
                    "created_before": "string",
                    "has_output": "boolean",
                    "input_asset_id": "string",
                    "limit": "integer",
                    "offset": "integer",
                },
                "required": [],
                "result": ["jobs", "next_offset", "offset", "total"],
                "hints": {
                    "title": "List jobs",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "list_allowed_directories": {
                "params": {},
                "required": [],
                "result": ["directories", "how_to_change", "source", "writable"],
                "hints": {
                    "title": "List allowed directories",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "inspect_c3d": {
                "params": {"path": "string", "mocap_scale": "number", "vertical_axis": "string"},
                "required": ["path"],
                "result": [
                    "best_markerset",
                    "duration_s",
                    "empty_labels",
                    "format",
                    "frames",
                    "gaps",
                    "labels",
                    "markersets",
                    "next_step",
                    "path",
                    "rate_hz",
                    "units",
                    "vertical_axis",
                ],
                "hints": {
                    "title": "Inspect a recording",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "summarize_motion": {
                "params": {
                    "asset_id": "string",
                    "path": "string",
                    "joints": "array",
                },
                "required": [],
                "result": [
                    "duration_s",
                    "failed_frames",
                    "fps",
                    "frames",
                    "gap_filled_samples",
                    "joints",
                    "max_residual_mm",
                    "not_plotted",
                    "plotted_joints",
                    "rms_residual_mm",
                    "source",
                    "unmarked_bodies",
                    "unobserved_joints",
                    "worst_markers",
                ],
                "hints": {
                    "title": "Summarize a motion",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "show_motion": {
                "params": {"asset_id": "string", "path": "string"},
                "required": [],
                "result": [
                    "duration_s",
                    "fps",
                    "frames",
                    "rms_residual_mm",
                    "shown_as",
                    "source",
                    "unmarked_bodies",
                    "unobserved_joints",
                ],
                "hints": {
                    "title": "Show a motion",
                    "readOnlyHint": True,
                    "openWorldHint": False,
                },
            },
            "upload_asset": {
                "params": {
                    "path": "string",
                    "purpose": "string",
                    "metadata": "object",
                },
                "required": ["path"],
                "result": ["asset", "next_step", "verified"],
                "hints": {
                    "title": "Upload a file",
                    "destructiveHint": False,
                    "openWorldHint": False,
                },
            },
            "download_asset": {
                "params": {"asset_id": "string", "destination": "string"},
                "required": ["asset_id", "destination"],
                "result": ["asset_id", "path", "sha256", "size_bytes"],
                "hints": {
                    "title": "Download an asset",
                    "destructiveHint": False,
                    "idempotentHint": True,
                    "openWorldHint": False,
                },
            },
            "delete_asset": {
                "params": {"asset_id": "string", "confirm": "boolean"},
                "required": ["asset_id"],
                "result": ["asset_id", "deleted", "message"],
                "hints": {
                    "title": "Delete an asset",
                    "idempotentHint": True,
                    "openWorldHint": False,
                },
            },
            "start_retarget": {
                "params": {
                    "c3d_asset_id": "string",
                    "markerset_asset_id": "string",
                    "character_id": "string",
                    "character_version": "string",
                    "mocap_scale": "number",
                    "vertical_axis": "string",
                    "frame_range": "array",
                    "calibration_window": "array",
                    "enable_scaling": "boolean",
                    "subject_gender": "string",
                    "subject_height": "number",
                    "subject_weight": "number",
                    "metadata": "object",
                },
                "required": ["c3d_asset_id", "markerset_asset_id"],
                "result": ["job", "next_step"],
                "hints": {
                    "title": "Start a retarget job",
                    "destructiveHint": False,
                    "openWorldHint": False,
                },
            },
            "cancel_job": {
                "params": {"job_id": "string"},
                "required": ["job_id"],
                "result": ["job_id", "message", "status"],
                "hints": {
                    "title": "Cancel a job",
                    "idempotentHint": True,
                    "openWorldHint": False,
                },
            },
            "retarget_motion": {
                "params": {
                    "c3d_path": "string",
                    "markerset": "string",
                    "output_path": "string",
                    "mocap_scale": "number",
                    "vertical_axis": "string",
                    "frame_range": "array",
                    "calibration_window": "array",
                    "subject_gender": "string",
                    "subject_height": "number",
                    "subject_weight": "number",
                    "enable_scaling": "boolean",
                    "formats": "array",
                },
                "required": ["c3d_path", "markerset"],
                "result": [
                    "c3d_asset_id",
                    "done",
                    "exports",
                    "failed_exports",
                    "job_id",
                    "markerset_asset_id",
                    "message",
                    "next_step",
                    "output",
                    "status",
                ],
                "hints": {
                    "title": "Retarget a recording",
                    "destructiveHint": False,
                    "openWorldHint": False,
                },
            },
            "draft_markerset": {
                "params": {
                    "path": "string",
                    "output_path": "string",
                    "mocap_scale": "number",
                    "vertical_axis": "string",
                },
                "required": ["path"],
                "result": [
                    "by_name",
                    "by_rigidity",
                    "fit_rms_mm",
                    "left_out",
                    "markerset",
                    "next_step",
                    "notes",
                    "ready",
                ],
                "hints": {
                    "title": "Draft a markerset",
                    "destructiveHint": False,
                    "idempotentHint": True,
                    "openWorldHint": False,
                },
            },
            "export_motion": {
                "params": {
                    "path": "string",
                    "asset_id": "string",
                    "format": "string",
                    "output_path": "string",
                    "markers": "boolean",
                    "table": "string",
                },
                "required": [],
                "result": ["format", "note", "path", "size_bytes"],
                "hints": {
                    "title": "Export a motion",
                    "destructiveHint": False,
                    "idempotentHint": True,
                    "openWorldHint": False,
                },
            },
            "cleanup_assets": {
                "params": {"older_than_days": "number", "dry_run": "boolean"},
                "required": [],
                "result": ["assets", "count", "dry_run", "in_use", "next_step", "size_bytes"],
                "hints": {
                    "title": "Delete old unused assets",
                    "idempotentHint": True,
                    "openWorldHint": False,
                },
            },
        }
    )
