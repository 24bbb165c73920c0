"""Every tool through the SDK's in-memory client, against the real embedded backend, in both
protocol eras (the ``mode`` fixture): results, progress notifications and tool errors."""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import mcp.types as types
import numpy as np
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext

from myo_mcp import Backend, McpConfig, MyoMCPServer, build_server
from myo_retarget import SHIPPED_CONVENTIONS, SHIPPED_MARKERSETS
from myo_server import LocalServer

pytestmark = pytest.mark.anyio

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HUMANOID = "0199e278-06e6-7726-a6ba-9929f79005e8"


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, error_text_of(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text_of(result: types.CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


def error_text(result: types.CallToolResult) -> str:
    assert result.is_error, f"expected a tool error, got {result.structured_content}"
    return error_text_of(result)


@contextlib.asynccontextmanager
async def session(
    config: McpConfig, local_server: LocalServer | None = None, **client_options: Any
) -> AsyncIterator[tuple[Client, Backend]]:
    """A client session with a server of its own over ``config`` (and ``local_server``, if given),
    its backend closed afterwards."""
    backend = Backend(config, local_server=local_server)
    try:
        async with Client(build_server(config, backend), **client_options) as client:
            yield client, backend
    finally:
        await backend.aclose()


async def upload(client: Client, path: Path) -> str:
    result = await client.call_tool("upload_asset", {"path": str(path)})
    return str(structured(result)["asset"]["asset_id"])


# -- characters -----------------------------------------------------------------------------
async def test_characters(server: MyoMCPServer, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        page = structured(await client.call_tool("list_characters", {"has_ready_versions": True}))
        assert page["total"] == 1
        assert "next_offset" not in page  # the last page: nulls are left out
        (char,) = page["characters"]
        assert char["character_id"] == HUMANOID
        assert char["latest_version"] == "v1.0.0"
        none = structured(await client.call_tool("list_characters", {"name_contains": "zebra"}))
        assert none["characters"] == [] and none["total"] == 0

        detail = structured(await client.call_tool("get_character", {"character_id": HUMANOID}))
        assert detail["ready_versions"] == ["v1.0.0"]
        assert detail["versions"][0]["status"] == "READY"

        check = structured(
            await client.call_tool(
                "validate_character_manifest", {"character_id": HUMANOID, "version": "v1.0.0"}
            )
        )
        assert check == {
            "character_id": HUMANOID,
            "version": "v1.0.0",
            "status": "READY",
            "valid": True,
        }

        missing = error_text(await client.call_tool("get_character", {"character_id": "nope"}))
        assert "list_characters" in missing
        bad_version = error_text(
            await client.call_tool(
                "validate_character_manifest", {"character_id": HUMANOID, "version": "v9"}
            )
        )
        assert "v9" in bad_version


# -- assets ---------------------------------------------------------------------------------
async def test_upload_get_list_assets(server: MyoMCPServer, work: Path, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        up = structured(
            await client.call_tool(
                "upload_asset", {"path": str(work / "cmu.xml"), "metadata": {"note": "t"}}
            )
        )
        asset = up["asset"]
        assert up["verified"] is True
        assert asset["filename"] == "cmu.xml"
        assert asset["purpose"] == "retarget"
        assert asset["size_bytes"] == (work / "cmu.xml").stat().st_size
        assert asset["filename"] == "cmu.xml"
        assert "start_retarget" in up["next_step"]

        got = structured(await client.call_tool("get_asset", {"asset_id": asset["asset_id"]}))
        assert got["asset_id"] == asset["asset_id"] and got["status"] == "completed"
        second = await upload(client, work / "walk.c3d")

        page = structured(
            await client.call_tool("list_assets", {"purpose": "retarget", "limit": 1})
        )
        assert len(page["assets"]) == 1 and page["total"] >= 2
        assert page["next_offset"] == 1
        rest = structured(
            await client.call_tool(
                "list_assets", {"purpose": "retarget", "limit": 100, "offset": 1}
            )
        )
        ids = {a["asset_id"] for a in page["assets"] + rest["assets"]}
        assert {asset["asset_id"], second} <= ids
        unused = structured(await client.call_tool("list_assets", {"reference_count": 0}))
        for item in unused["assets"]:  # a listing's items are short: get_asset has the count
            got = structured(await client.call_tool("get_asset", {"asset_id": item["asset_id"]}))
            assert got["reference_count"] == 0

        assert "list_assets" in error_text(
            await client.call_tool("get_asset", {"asset_id": "does-not-exist"})
        )
        bad_limit = await client.call_tool("list_assets", {"limit": 1000})
        assert bad_limit.is_error


async def test_upload_errors(server: MyoMCPServer, work: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.c3d"
    secret.write_bytes(b"x" * 10)
    (work / "link.c3d").symlink_to(secret)
    async with Client(server) as client:
        missing = error_text(
            await client.call_tool("upload_asset", {"path": str(work / "nope.c3d")})
        )
        assert "nope.c3d" in missing and "path" in missing
        for path in (
            str(secret),
            str(work / ".." / "outside" / "secret.c3d"),
            str(work / "link.c3d"),
        ):
            text = error_text(await client.call_tool("upload_asset", {"path": path}))
            assert "outside the directories" in text and "--allow-dir" in text, path
            assert str(work) in text
        odd = work / "notes.weird"
        odd.write_text("hello")
        assert "weird" in error_text(await client.call_tool("upload_asset", {"path": str(odd)}))


async def test_download_asset(server: MyoMCPServer, work: Path, tmp_path: Path, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        asset_id = await upload(client, work / "cmu.xml")
        got = structured(
            await client.call_tool(
                "download_asset", {"asset_id": asset_id, "destination": str(work / "out" / "m.xml")}
            )
        )
        assert Path(got["path"]) == work / "out" / "m.xml"
        assert Path(got["path"]).read_bytes() == (work / "cmu.xml").read_bytes()
        assert got["size_bytes"] == (work / "cmu.xml").stat().st_size
        assert len(got["sha256"]) == 64
        into_dir = structured(
            await client.call_tool(
                "download_asset", {"asset_id": asset_id, "destination": str(work / "out")}
            )
        )
        assert Path(into_dir["path"]) == work / "out" / "cmu.xml"
        denied = error_text(
            await client.call_tool(
                "download_asset", {"asset_id": asset_id, "destination": str(tmp_path / "x.xml")}
            )
        )
        assert "outside the directories" in denied
        assert not (tmp_path / "x.xml").exists()
        assert "list_assets" in error_text(
            await client.call_tool(
                "download_asset", {"asset_id": "nope", "destination": str(work / "y")}
            )
        )


async def test_delete_asset_with_confirm_flag(server: MyoMCPServer, work: Path, mode: str) -> None:
    async with Client(server, mode=mode) as client:  # no elicitation capability
        asset_id = await upload(client, work / "cmu.xml")
        ask = error_text(await client.call_tool("delete_asset", {"asset_id": asset_id}))
        assert "confirm=true" in ask
        assert not (await client.call_tool("get_asset", {"asset_id": asset_id})).is_error
        done = structured(
            await client.call_tool("delete_asset", {"asset_id": asset_id, "confirm": True})
        )
        assert done == {"asset_id": asset_id, "deleted": True, "message": "Deleted."}
        assert (await client.call_tool("get_asset", {"asset_id": asset_id})).is_error


@pytest.mark.parametrize("answer", ["yes", "no", "decline"])
async def test_delete_asset_elicitation(
    server: MyoMCPServer, work: Path, mode: str, answer: str
) -> None:
    asked: list[str] = []

    async def elicit(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        asked.append(params.message)
        if answer == "decline":
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"confirm": answer == "yes"})

    async with Client(server, mode=mode, elicitation_callback=elicit) as client:
        asset_id = await upload(client, work / "cmu.xml")
        out = structured(await client.call_tool("delete_asset", {"asset_id": asset_id}))
        assert len(asked) == 1 and asset_id in asked[0]
        assert out["deleted"] is (answer == "yes")
        exists = not (await client.call_tool("get_asset", {"asset_id": asset_id})).is_error
        assert exists is (answer != "yes")


async def test_delete_asset_in_use_is_refused(server: MyoMCPServer, work: Path) -> None:
    async with Client(server) as client:
        c3d, xml = await upload(client, work / "walk.c3d"), await upload(client, work / "cmu.xml")
        job = structured(
            await client.call_tool(
                "start_retarget", {"c3d_asset_id": c3d, "markerset_asset_id": xml}
            )
        )["job"]
        text = error_text(
            await client.call_tool("delete_asset", {"asset_id": c3d, "confirm": True})
        )
        assert "refused" in text or "referenc" in text
        structured(await client.call_tool("wait_for_job", {"job_id": job["job_id"]}))


# -- jobs -----------------------------------------------------------------------------------
async def test_job_flow_with_progress(server: MyoMCPServer, work: Path, mode: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with Client(server, mode=mode) as client:
        c3d, xml = await upload(client, work / "walk.c3d"), await upload(client, work / "cmu.xml")
        started = structured(
            await client.call_tool(
                "start_retarget",
                {
                    "c3d_asset_id": c3d,
                    "markerset_asset_id": xml,
                    "subject_gender": "female",
                    "subject_height": 1.7,
                    "subject_weight": 60,
                    "metadata": {"take": 1},
                },
            )
        )
        job = started["job"]
        assert job["status"] in ("QUEUED", "RUNNING", "SUCCEEDED")
        assert "wait_for_job" in started["next_step"]
        now = structured(await client.call_tool("get_job", {"job_id": job["job_id"]}))
        assert now["job_id"] == job["job_id"]

        waited = structured(
            await client.call_tool(
                "wait_for_job",
                {"job_id": job["job_id"], "timeout_s": 50},
                progress_callback=on_progress,
            )
        )
        assert waited["done"] is True
        final = waited["job"]
        assert final["status"] == "SUCCEEDED", final
        assert final["output_asset_id"]
        assert "download_asset" in waited["next_step"]
        assert updates and updates[-1][0] == 100.0 and updates[-1][1] == 100.0
        assert all(m and m.startswith("job ") for _, _, m in updates)
        values = [v for v, _, _ in updates]
        assert all(a < b for a, b in pairwise(values)), values

        listed = structured(
            await client.call_tool(
                "list_jobs",
                {
                    "status": ["SUCCEEDED"],
                    "has_output": True,
                    "input_asset_id": c3d,
                    "job_type": "retarget",
                },
            )
        )
        # Other tests' jobs read the same upload of walk.c3d (identical uploads are reused).
        assert job["job_id"] in [j["job_id"] for j in listed["jobs"]]
        assert {j["status"] for j in listed["jobs"]} == {"SUCCEEDED"}
        recent = structured(
            await client.call_tool(
                "list_jobs",
                {
                    "created_after": "2000-01-01T00:00:00Z",
                    "created_before": "2999-01-01T00:00:00Z",
                    "limit": 1,
                },
            )
        )
        assert len(recent["jobs"]) == 1 and recent["total"] >= 1
        assert error_text(await client.call_tool("list_jobs", {"created_after": "yesterday"}))

        out = structured(
            await client.call_tool(
                "download_asset",
                {"asset_id": final["output_asset_id"], "destination": str(work / "walk.npz")},
            )
        )
        summary = await client.call_tool("summarize_motion", {"path": out["path"]})
        figures = structured(summary)
        assert figures["frames"] == 412 and figures["fps"] == 120.0
        assert figures["rms_residual_mm"] < 20
        assert figures["gap_filled_samples"] == 1  # RBAC at frame 127 of the sample
        image = [c for c in summary.content if isinstance(c, types.ImageContent)]
        assert len(image) == 1 and image[0].mime_type == "image/png"
        png = base64.b64decode(image[0].data)
        assert png.startswith(PNG_MAGIC) and len(png) < 150_000

        by_asset = structured(
            await client.call_tool(
                "summarize_motion",
                {"asset_id": final["output_asset_id"], "joints": ["knee_flex_r"]},
            )
        )
        assert by_asset["source"] == f"myo://assets/{final['output_asset_id']}"
        (knee,) = by_asset["joints"]
        assert knee["joint"] == "knee_flex_r" and knee["range_deg"] > 40
        assert by_asset["plotted_joints"] == ["knee_flex_r"]

        late = error_text(await client.call_tool("cancel_job", {"job_id": job["job_id"]}))
        assert job["job_id"] in late or "SUCCEEDED" in late or "finished" in late


async def test_a_height_in_centimetres_is_refused_in_the_users_words(
    server: MyoMCPServer, work: Path, mode: str
) -> None:
    """The tools check height and weight themselves (before any upload), with the engine's
    wording, instead of the raw schema-validation text."""
    cm = "subject_height is in metres; 180 looks like centimetres: use 1.80"
    async with Client(server, mode=mode) as client:
        c3d, xml = await upload(client, work / "walk.c3d"), await upload(client, work / "cmu.xml")
        ids = {"c3d_asset_id": c3d, "markerset_asset_id": xml}
        text = error_text(await client.call_tool("start_retarget", {**ids, "subject_height": 180}))
        assert cm in text and "Input should" not in text
        heavy = error_text(await client.call_tool("start_retarget", {**ids, "subject_weight": 600}))
        assert "subject_weight is in kilograms, between 2 and 500; got 600" in heavy
        assets = structured(await client.call_tool("list_assets", {}))["total"]
        local = {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu", "subject_height": 180}
        text = error_text(await client.call_tool("retarget_motion", local))
        assert cm in text and "Input should" not in text
        # Refused before anything was uploaded.
        assert structured(await client.call_tool("list_assets", {}))["total"] == assets
    assert not (work / "walk.npz").exists()


async def test_the_tools_publish_the_engines_height_and_weight_ranges(
    server: MyoMCPServer,
) -> None:
    from myo_retarget._subject import HEIGHT_RANGE_M, WEIGHT_RANGE_KG

    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name in ("start_retarget", "retarget_motion"):
        props = tools[name].input_schema["properties"]
        for param, (lo, hi) in (
            ("subject_height", HEIGHT_RANGE_M),
            ("subject_weight", WEIGHT_RANGE_KG),
        ):
            spec = props[param]
            assert (spec.get("minimum"), spec.get("maximum")) == (lo, hi), (name, param, spec)


async def test_job_errors(server: MyoMCPServer, work: Path, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        for tool in ("get_job", "wait_for_job", "cancel_job"):
            assert "list_jobs" in error_text(await client.call_tool(tool, {"job_id": "nope"}))
        c3d = await upload(client, work / "walk.c3d")
        text = error_text(
            await client.call_tool(
                "start_retarget", {"c3d_asset_id": c3d, "markerset_asset_id": "nope"}
            )
        )
        assert "nope" in text
        bad = await client.call_tool(
            "start_retarget",
            {"c3d_asset_id": c3d, "markerset_asset_id": c3d, "subject_height": 17.5},
        )
        assert bad.is_error


async def test_wait_timeout_and_cancel(
    work: Path, idle_server: LocalServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = McpConfig(
        backend="local", data_dir=idle_server.data_dir, allow_dirs=[work], call_budget_s=2
    )
    async with session(config, idle_server, mode=mode) as (client, _):
        c3d, xml = (
            await upload(client, work / "walk.c3d"),
            await upload(client, work / "cmu.xml"),
        )
        job = structured(
            await client.call_tool(
                "start_retarget", {"c3d_asset_id": c3d, "markerset_asset_id": xml}
            )
        )["job"]
        waited = structured(
            await client.call_tool("wait_for_job", {"job_id": job["job_id"], "timeout_s": 0.3})
        )
        assert waited["done"] is False and waited["job"]["status"] == "QUEUED"
        assert 0.2 <= waited["waited_s"] < 5
        assert "wait_for_job" in waited["next_step"]
        monkeypatch.setattr("myo_mcp._tools_jobs.WAIT_CAP_S", 0.5)  # the cap (50 s), scaled down
        capped = structured(
            await client.call_tool("wait_for_job", {"job_id": job["job_id"], "timeout_s": 30})
        )
        assert capped["done"] is False and 0.4 <= capped["waited_s"] < 5
        monkeypatch.undo()

        slow = structured(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"}
            )
        )
        assert slow["done"] is False and "output" not in slow
        assert slow["status"] == "QUEUED"
        assert "wait_for_job" in slow["next_step"]

        for pending in (job["job_id"], slow["job_id"]):
            canceled = structured(await client.call_tool("cancel_job", {"job_id": pending}))
            assert canceled["status"] == "CANCELED"
        again = structured(
            await client.call_tool("wait_for_job", {"job_id": job["job_id"], "timeout_s": 5})
        )
        assert again["done"] is True and "canceled" in again["next_step"]


async def test_job_options_reach_the_backend(work: Path, idle_server: LocalServer) -> None:
    """Options left out take the SDK's defaults; options given (false and female too) reach the
    job, from start_retarget and from retarget_motion."""
    config = McpConfig(
        backend="local", data_dir=idle_server.data_dir, allow_dirs=[work], call_budget_s=1
    )
    async with session(config, idle_server) as (client, backend):
        c3d, xml = (
            await upload(client, work / "walk.c3d"),
            await upload(client, work / "cmu.xml"),
        )
        assets = {"c3d_asset_id": c3d, "markerset_asset_id": xml}
        subject = {"enable_scaling": False, "subject_gender": "female", "subject_height": 1.6}
        jobs = [
            structured(await client.call_tool("start_retarget", assets))["job"]["job_id"],
            structured(
                await client.call_tool(
                    "start_retarget",
                    {**assets, **subject, "character_id": HUMANOID, "subject_weight": 55},
                )
            )["job"]["job_id"],
            structured(
                await client.call_tool(
                    "retarget_motion",
                    {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu", **subject},
                )
            )["job_id"],
        ]
        sdk = await backend.client()
        plain, custom, one_call = [dict((await sdk.jobs.get(j))["input"]) for j in jobs]
        for job_id in jobs:
            await sdk.jobs.cancel(job_id)
    defaults = {
        "character_id": HUMANOID,
        "character_version": "v1.0.0",
        "enable_scaling": True,
        "subject_gender": "male",
        "subject_height": None,
        "subject_weight": None,
    }
    assert {k: plain[k] for k in defaults} == defaults
    assert {k: custom[k] for k in defaults} == {**defaults, **subject, "subject_weight": 55}
    assert {k: one_call[k] for k in defaults} == {**defaults, **subject}


# -- the one-call workflow ------------------------------------------------------------------
async def test_retarget_motion(server: MyoMCPServer, work: Path, mode: str) -> None:
    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    async with Client(server, mode=mode) as client:
        result = structured(
            await client.call_tool(
                "retarget_motion",
                {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu", "subject_height": 1.8},
                progress_callback=on_progress,
            )
        )
        assert result["done"] is True and result["status"] == "SUCCEEDED"
        assert result["output"]["path"] == str(work / "walk.npz")
        assert (work / "walk.npz").stat().st_size == result["output"]["size_bytes"]
        assert "summarize_motion" in result["next_step"]
        assert updates[0] == 0 and updates[-1] == 100
        assert all(a < b for a, b in pairwise(updates)), updates  # strictly increasing

        by_path = structured(
            await client.call_tool(
                "retarget_motion",
                {
                    "c3d_path": str(work / "walk.c3d"),
                    "markerset": str(work / "cmu.xml"),
                    "output_path": str(work / "sub" / "b.npz"),
                    "enable_scaling": False,
                    "subject_gender": "female",
                },
            )
        )
        assert Path(by_path["output"]["path"]).exists()


async def test_retarget_motion_errors(server: MyoMCPServer, work: Path, tmp_path: Path) -> None:
    async with Client(server) as client:
        broken = work / "broken.c3d"
        broken.write_bytes(b"\x02\x50" + os.urandom(4000))
        failed = error_text(
            await client.call_tool("retarget_motion", {"c3d_path": str(broken), "markerset": "cmu"})
        )
        assert "FAILED" in failed and "inspect_c3d" in failed and "broken.c3d" in failed
        denied = error_text(
            await client.call_tool(
                "retarget_motion",
                {
                    "c3d_path": str(work / "walk.c3d"),
                    "markerset": "cmu",
                    "output_path": str(tmp_path / "o.npz"),
                },
            )
        )
        assert "outside the directories" in denied
        unknown = error_text(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "vicon-x"}
            )
        )
        assert "vicon-x" in unknown and "plug-in-gait" in unknown


async def test_the_assistant_is_told_every_shipped_markerset(server: MyoMCPServer) -> None:
    # The instructions named only cmu and plug-in-gait (the tool descriptions name none: they
    # point to inspect_c3d, which ranks them all).
    async with Client(server) as client:
        instructions = client.instructions or ""
    for name in SHIPPED_MARKERSETS:
        assert f"'{name}': {SHIPPED_CONVENTIONS[name]}" in instructions, name


# -- local analysis ---------------------------------------------------------------------------
async def test_inspect_c3d(server: MyoMCPServer, work: Path, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        info = structured(await client.call_tool("inspect_c3d", {"path": str(work / "walk.c3d")}))
        assert info["frames"] == 412 and info["rate_hz"] == 120.0
        assert info["units"] == "mm" and info["vertical_axis"] == "+Z"
        assert "LKNE" in info["labels"]
        assert info["best_markerset"]["name"] == "cmu"
        assert info["best_markerset"]["coverage"] == 1.0
        # The others that match any label, in brief.
        others = {m["name"] for m in info["markersets"]}
        assert "plug-in-gait" in others and others < set(SHIPPED_MARKERSETS) - {"cmu"}
        assert "retarget_motion" in info["next_step"]
        # The sample's one gap-filled RBAC sample (frame 127) is listed with the gaps.
        filled = {g["label"]: g["gap_filled_frames"] for g in info["gaps"]}
        assert filled["RBAC"] == 1 and filled["RBAC-1"] == 2

        broken = work / "broken.c3d"
        broken.write_bytes(os.urandom(3000))
        assert "Cannot read broken.c3d" in error_text(
            await client.call_tool("inspect_c3d", {"path": str(broken)})
        )
        assert "outside" in error_text(
            await client.call_tool("inspect_c3d", {"path": "/etc/passwd"})
        )
        for missing in (work / "gone.c3d", work):
            text = error_text(await client.call_tool("inspect_c3d", {"path": str(missing)}))
            assert str(missing) in text and ("no such file" in text or "directory" in text)


# The cmu markers on the right humerus and below, and the joints only they determine.
RIGHT_ARM = ["RUPA", "RELB", "RWRA", "RWRB", "RFIN", "RFRM"]
ARM_JOINTS = ["shoulder_flex_r", "shoulder_abdu_r", "shoulder_arot_r", "elbow_flex_r"]
ARM_JOINTS += ["wrist_pron_r", "wrist_flex_r", "wrist_devi_r"]


def _without_right_arm(src: Path, dst: Path) -> Path:
    """``src`` with every sample of the right-arm markers (0,0,0): labels kept, no data."""
    import ezc3d

    c = ezc3d.c3d(str(src))
    labels = [str(lb).rsplit(":", 1)[-1] for lb in c["parameters"]["POINT"]["LABELS"]["value"]]
    points = c["data"]["points"]
    for k, label in enumerate(labels):
        if label in RIGHT_ARM:
            points[:3, k, :] = 0.0
    c["data"]["points"] = points
    c.write(str(dst))
    return dst


async def test_joints_without_markers_are_named_not_zero(server: MyoMCPServer, work: Path) -> None:
    # A recording without one arm used to "succeed" with the arm's joints at exactly 0 deg, a
    # flat line in the plot, and inspect_c3d said fits: true.
    one_arm = _without_right_arm(work / "walk.c3d", work / "one_arm.c3d")
    async with Client(server) as client:
        info = structured(await client.call_tool("inspect_c3d", {"path": str(one_arm)}))
        assert sorted(info["empty_labels"]) == sorted(RIGHT_ARM)
        best = info["best_markerset"]
        assert best["name"] == "cmu" and best["fits"] is True and best["partial"] is True
        # Its missing markers are in the file without data: empty_labels says so, once.
        assert best["unobserved_bodies"] == ["humerus_r"] and "missing" not in best
        assert best["note"] == (
            "partial fit: no markers on humerus_r or below, so 7 joints get no data (NaN); "
            f"{len(RIGHT_ARM)} of its labels hold no data"
        )
        assert info["next_step"].endswith("markerset='cmu')")

        result = structured(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(one_arm), "markerset": "cmu"}
            )
        )
        assert result["status"] == "SUCCEEDED"
        assert "no markers on humerus_r, toes_r, toes_l or below" in result["message"]
        path = result["output"]["path"]

        figures = structured(
            await client.call_tool(
                "summarize_motion", {"path": path, "joints": ["shoulder_flex_r", "knee_flex_r"]}
            )
        )
        # No markers on these or below: the arm's and toes' joints, not named again one by one.
        assert figures["unmarked_bodies"] == ["humerus_r", "toes_r", "toes_l"]
        assert figures["unobserved_joints"] == []
        shoulder, knee = figures["joints"]
        assert shoulder == {"joint": "shoulder_flex_r", "observed_pct": 0.0}  # no range
        assert knee["range_deg"] > 40 and knee["observed_pct"] == 100.0
        # The joint without data is not drawn as a flat line; the plot says why it is absent.
        assert figures["plotted_joints"] == ["knee_flex_r"]
        assert figures["not_plotted"] == ["shoulder_flex_r"]

        default = structured(await client.call_tool("summarize_motion", {"path": path}))
        ranges = {j["joint"]: j for j in default["joints"]}
        # By default the plotted joints only: those with data.
        assert list(ranges) == default["plotted_joints"] and not set(ARM_JOINTS) & set(ranges)


async def test_summarize_motion_errors(server: MyoMCPServer, work: Path) -> None:
    async with Client(server) as client:
        assert "exactly one" in error_text(await client.call_tool("summarize_motion", {}))
        assert "no such file" in error_text(
            await client.call_tool("summarize_motion", {"path": str(work / "gone.npz")})
        )
        assert "exactly one" in error_text(
            await client.call_tool("summarize_motion", {"asset_id": "a", "path": "b"})
        )
        (work / "x.npz").write_bytes(b"not an npz")
        (work / "cut.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 40)  # a truncated zip
        np.savez(work / "other.npz", a=np.zeros(3))  # an npz, but not a motion
        for name in ("x.npz", "cut.npz", "other.npz"):
            assert "not a retargeted motion" in error_text(
                await client.call_tool("summarize_motion", {"path": str(work / name)})
            ), name
        structured(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"}
            )
        )
        unknown = error_text(
            await client.call_tool(
                "summarize_motion", {"path": str(work / "walk.npz"), "joints": ["tail_wag"]}
            )
        )
        assert "tail_wag" in unknown and "knee_flex_r" in unknown


# -- writes stay inside the allowed directories ---------------------------------------------
SECRET = b"a file outside the allowed directories: must never change\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the allowed directory ``work`` that an attacker wants overwritten."""
    target = tmp_path / "outside" / "secret.txt"
    target.parent.mkdir()
    target.write_bytes(SECRET)
    return target


async def test_planted_part_symlink_does_not_redirect_downloads(
    server: MyoMCPServer, work: Path, outside: Path
) -> None:
    """``W/out.npz.part -> outside``: the download lands in W/out.npz, the outside file keeps
    its bytes (the temporary file was once always DEST.part, opened following symlinks)."""
    (work / "out.npz.part").symlink_to(outside)
    async with Client(server) as client:
        asset_id = await upload(client, work / "cmu.xml")
        got = structured(
            await client.call_tool(
                "download_asset", {"asset_id": asset_id, "destination": str(work / "out.npz")}
            )
        )
    assert outside.read_bytes() == SECRET
    assert got["path"] == str(work / "out.npz")
    assert not (work / "out.npz").is_symlink()
    assert (work / "out.npz").read_bytes() == (work / "cmu.xml").read_bytes()


async def test_planted_part_symlink_does_not_redirect_retarget_output(
    server: MyoMCPServer, work: Path, outside: Path
) -> None:
    """The default output of retarget_motion (walk.c3d -> walk.npz, once via walk.npz.part)."""
    (work / "walk.npz.part").symlink_to(outside)
    async with Client(server) as client:
        result = structured(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"}
            )
        )
    assert outside.read_bytes() == SECRET
    assert result["output"]["path"] == str(work / "walk.npz")
    assert not (work / "walk.npz").is_symlink()
    assert (work / "walk.npz").stat().st_size == result["output"]["size_bytes"]
    assert sorted(p.name for p in work.iterdir()) == [
        "cmu.xml",
        "walk.c3d",
        "walk.npz",
        "walk.npz.part",  # the planted link, left alone; no temporary file of ours remains
    ]


async def test_destination_symlink_pointing_outside_is_refused(
    server: MyoMCPServer, work: Path, outside: Path
) -> None:
    (work / "link.npz").symlink_to(outside)
    (work / "walk.npz").symlink_to(outside)  # retarget_motion's default output
    (work / "dangling.npz").symlink_to(outside.parent / "new.npz")
    async with Client(server) as client:
        asset_id = await upload(client, work / "cmu.xml")
        for name in ("link.npz", "dangling.npz"):
            text = error_text(
                await client.call_tool(
                    "download_asset", {"asset_id": asset_id, "destination": str(work / name)}
                )
            )
            assert "outside the directories" in text and str(work) in text, name
        for arguments in ({}, {"output_path": str(work / "link.npz")}):
            text = error_text(
                await client.call_tool(
                    "retarget_motion",
                    {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu", **arguments},
                )
            )
            assert "outside the directories" in text, arguments
    assert outside.read_bytes() == SECRET
    assert sorted(p.name for p in outside.parent.iterdir()) == ["secret.txt"]
    assert all((work / n).is_symlink() for n in ("link.npz", "walk.npz", "dangling.npz"))


# -- roots, read-only, remote ---------------------------------------------------------------------
async def test_client_roots_bound_file_access(
    local_server: LocalServer, work: Path, tmp_path: Path, mode: str
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "walk.c3d").write_bytes((work / "walk.c3d").read_bytes())
    config = McpConfig(backend="local", data_dir=local_server.data_dir)  # no --allow-dir

    async def roots(context: ClientRequestContext) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=work.as_uri(), name="work")])

    async with session(config, local_server, mode=mode, list_roots_callback=roots) as (client, _):
        structured(await client.call_tool("inspect_c3d", {"path": str(work / "walk.c3d")}))
        text = error_text(await client.call_tool("inspect_c3d", {"path": str(other / "walk.c3d")}))
        assert "outside" in text and str(work) in text


async def test_default_access_is_the_home_directory_only(
    local_server: LocalServer,
    work: Path,
    tmp_path: Path,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No --allow-dir and no client roots: the home directory only, never the current directory
    (desktop clients start servers in /, which made every file on the machine readable)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "walk.c3d").write_bytes((work / "walk.c3d").read_bytes())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir("/")
    config = McpConfig(backend="local", data_dir=local_server.data_dir)
    async with session(config, local_server, mode=mode) as (client, _):
        structured(await client.call_tool("inspect_c3d", {"path": str(home / "walk.c3d")}))
        for path in ("/etc/hostname", str(work / "walk.c3d")):
            text = error_text(await client.call_tool("inspect_c3d", {"path": path}))
            assert "outside the directories" in text and f"({home})" in text, path
        monkeypatch.chdir(work)  # nor a current directory outside the home directory
        text = error_text(await client.call_tool("inspect_c3d", {"path": "walk.c3d"}))
        assert "outside the directories" in text
        allowed = structured(await client.call_tool("list_allowed_directories", {}))
        assert allowed["directories"] == [str(home)]
        assert allowed["source"] == "home-default" and allowed["writable"] is True
        assert "--allow-dir" in allowed["how_to_change"]


async def test_list_allowed_directories_says_where_they_come_from(
    local_server: LocalServer, work: Path, tmp_path: Path, mode: str
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (tmp_path / "link").symlink_to(other)

    async def roots(context: ClientRequestContext) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=(tmp_path / "link").as_uri())])

    shared = McpConfig(backend="local", data_dir=local_server.data_dir)
    async with session(shared, local_server, mode=mode, list_roots_callback=roots) as (client, _):
        allowed = structured(await client.call_tool("list_allowed_directories", {}))
    # Shown resolved, as the access check compares them.
    assert allowed["directories"] == [str(other.resolve())]
    assert allowed["source"] == "client-roots" and "in the client" in allowed["how_to_change"]

    configured = McpConfig(
        backend="local", data_dir=local_server.data_dir, allow_dirs=[work, other], read_only=True
    )
    # --allow-dir wins over the client's roots.
    async with session(configured, local_server, mode=mode, list_roots_callback=roots) as (
        client,
        _,
    ):
        allowed = structured(await client.call_tool("list_allowed_directories", {}))
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert allowed["directories"] == [str(work.resolve()), str(other.resolve())]
    assert allowed["source"] == "allow-dir" and allowed["writable"] is False
    assert "MYO_MCP_ALLOW_DIRS" in allowed["how_to_change"]
    tool = tools["list_allowed_directories"]
    assert tool.annotations is not None and tool.annotations.read_only_hint is True
    # Every tool that takes a local path states the default and names this tool.
    for name in ("inspect_c3d", "summarize_motion"):
        assert "list_allowed_directories" in (tools[name].description or ""), name


async def test_read_only_registers_no_write_tool(
    local_server: LocalServer, work: Path, mode: str
) -> None:
    config = McpConfig(
        backend="local", data_dir=local_server.data_dir, allow_dirs=[work], read_only=True
    )
    async with session(config, local_server, mode=mode) as (client, _):
        tools = (await client.list_tools()).tools
        assert sorted(t.name for t in tools) == [
            "get_asset",
            "get_character",
            "get_job",
            "inspect_c3d",
            "list_allowed_directories",
            "list_assets",
            "list_characters",
            "list_jobs",
            "show_motion",
            "summarize_motion",
            "validate_character_manifest",
            "wait_for_job",
        ]
        assert all(t.annotations and t.annotations.read_only_hint for t in tools)
        refused = await client.call_tool("upload_asset", {"path": str(work / "cmu.xml")})
        assert refused.is_error


async def test_remote_backend_never_shows_the_key(local_server: LocalServer, work: Path) -> None:
    """The remote backend (here the local server addressed as a remote API) with a real key and
    a wrong one: the key appears in no result and no error."""
    key = local_server.api_key
    config = McpConfig(
        backend="remote", base_url=local_server.base_url, api_key=key, allow_dirs=[work]
    )
    seen: list[str] = []
    async with session(config) as (client, _):
        seen.append(json.dumps(structured(await client.call_tool("list_characters", {}))))
        up = await client.call_tool("upload_asset", {"path": str(work / "cmu.xml")})
        seen.append(json.dumps(structured(up)))
        seen.append(error_text(await client.call_tool("get_job", {"job_id": key})))
        res = await client.read_resource(f"myo://assets/{structured(up)['asset']['asset_id']}")
        seen.append(res.model_dump_json())
    assert all(key not in s for s in seen)
    assert "***" in seen[2]

    wrong = McpConfig(
        backend="remote",
        base_url=local_server.base_url,
        api_key="sk-wrong-123456",
        allow_dirs=[work],
    )
    async with session(wrong) as (client, _):
        text = error_text(await client.call_tool("list_assets", {}))
        assert "MYOSDK_API_KEY" in text and "sk-wrong-123456" not in text


async def test_unreachable_backend(work: Path) -> None:
    config = McpConfig(
        backend="remote", base_url="http://127.0.0.1:9", api_key="k", allow_dirs=[work]
    )
    async with session(config) as (client, _):
        text = error_text(await client.call_tool("list_jobs", {}))
        assert "cannot reach" in text and "127.0.0.1:9" in text
        # Against a remote API the backend tools say they reach an open world; the local
        # file tools do not.
        hints = {t.name: t.annotations for t in (await client.list_tools()).tools}
        assert hints["list_jobs"] is not None and hints["list_jobs"].open_world_hint is True
        assert hints["inspect_c3d"] is not None
        assert hints["inspect_c3d"].open_world_hint is False


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared recordings not found at {SHARED}")
async def test_inspect_real_recordings(local_server: LocalServer) -> None:
    config = McpConfig(backend="local", data_dir=local_server.data_dir, allow_dirs=[SHARED])
    async with session(config, local_server) as (client, _):
        pig = structured(
            await client.call_tool(
                "inspect_c3d", {"path": str(SHARED / "pig_motion_flatfoot_full.c3d")}
            )
        )
        assert pig["best_markerset"]["name"] == "plug-in-gait"
        assert pig["rate_hz"] == 100.0 and pig["frames"] == 315
        opto = structured(
            await client.call_tool("inspect_c3d", {"path": str(SHARED / "optotrak.c3d")})
        )
        assert "best_markerset" not in opto
        assert "No shipped markerset fits" in opto["next_step"]
        # OpenSim's gait lab set fits this gait trial whole; Plug-in Gait fits only its trunk
        # and head, and says so.
        walk = structured(
            await client.call_tool("inspect_c3d", {"path": str(SHARED / "opensim_walking2.c3d")})
        )
        assert walk["best_markerset"]["name"] == "opensim-gait"
        assert walk["best_markerset"]["coverage"] == 1.0
        assert "partial" not in walk["best_markerset"]  # a full fit
        assert "markerset='opensim-gait'" in walk["next_step"]
        pig_walk = next(m for m in walk["markersets"] if m["name"] == "plug-in-gait")
        assert pig_walk["partial"] is True
        assert "unobserved_bodies" not in pig_walk  # what a markerset misses: the best one's only
        assert "note" not in pig_walk  # the best one's note says what a partial fit leaves out
        # The upper-body labels are there but every sample is (0,0,0).
        dec = structured(
            await client.call_tool(
                "inspect_c3d", {"path": str(SHARED / "functional_static_dec.c3d")}
            )
        )
        assert {"LSHO", "RSHO", "C7"} <= set(dec["empty_labels"])
        assert not {"LSHO", "RSHO", "C7"} & set(dec["labels"])  # said once
        # Its four pelvis markers anchor the legs: a partial fit that says what it leaves out.
        pig_dec = dec["best_markerset"]
        assert pig_dec["name"] == "plug-in-gait" and pig_dec["partial"] is True
        assert pig_dec["note"] == (
            "partial fit: no markers on lumbar_spine or below, so 27 joints get no data (NaN); "
            "24 of its labels hold no data"
        )
        assert "C7" not in pig_dec.get("missing", [])  # in the file, without data
        bad = error_text(
            await client.call_tool("inspect_c3d", {"path": str(SHARED / "mocap36_malformed.c3d")})
        )
        assert "mocap36_malformed.c3d" in bad


async def test_backend_starts_after_the_handshake_and_stops(tmp_path: Path, work: Path) -> None:
    """The embedded backend does not start for initialize; it starts on the first request after
    it, serves, and stops with its worker on close."""
    config = McpConfig(backend="local", data_dir=tmp_path / "own-data", allow_dirs=[work])
    async with session(config, mode="legacy") as (client, backend):
        assert backend.local_server is None
        assert not (tmp_path / "own-data").exists()
        structured(await client.call_tool("list_characters", {}))
        server = backend.local_server
        assert server is not None and server.running
        pids = server.runtime.pool.worker_pids()
        assert len(pids) == 1
    assert not server.running
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
