"""draft_markerset (issue 13) in a real MCP session against the real embedded backend: a recording
whose labels are partly unknown gets a markerset the next call retargets with, in a compact
answer; a recording with no recognisable label gets a specific reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mcp import Client
from tests.myo_mcp.test_mcp_tools import error_text, structured
from tests.myo_retarget.tracker_factory import table_columns, write_csv

from myo_mcp import McpConfig, MyoMCPServer, build_server
from myo_retarget import read_c3d

pytestmark = pytest.mark.anyio

SHARED_C3D = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"
# Limb markers of the sample walk given names no convention uses.
RENAMED = {"LKNE": "Marker_1", "RKNE": "Marker_2", "LELB": "Marker_3", "RWRA": "Marker_4"}


async def test_a_draft_places_unknown_labels_and_retargets(
    server: MyoMCPServer, work: Path
) -> None:
    rec = read_c3d(work / "walk.c3d")
    labels = [RENAMED.get(label, label) for label in rec.raw_labels]
    table = write_csv(work / "renamed.csv", table_columns(labels, rec.positions, rec.rate))
    async with Client(server) as client:
        result = await client.call_tool("draft_markerset", {"path": str(table)})
        draft = structured(result)
        answer = len(json.dumps(draft, separators=(",", ":"))) + len(
            "".join(getattr(c, "text", "") for c in result.content)
        )
        assert answer <= 4000, answer  # text and structured content together
        assert Path(draft["markerset"]) == work / "renamed.markerset.xml"
        assert Path(draft["markerset"]).is_file()
        placed = {line.split(" -> ")[0]: line.split(" -> ")[1] for line in draft["by_rigidity"]}
        assert placed["Marker_1"].startswith(("femur_l", "tibia_l"))
        assert placed["Marker_3"].startswith(("humerus_l", "ulna_l", "radius_l"))
        assert "LFWT" in draft["by_name"]["pelvis"]
        assert draft["fit_rms_mm"] < 20
        assert draft["next_step"].startswith("retarget_motion(")
        done = structured(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(table), "markerset": draft["markerset"]}
            )
        )
        assert done["status"] == "SUCCEEDED"


async def test_a_draft_is_a_write_tool(work: Path, local_server: object) -> None:
    config = McpConfig(backend="local", allow_dirs=[work], read_only=True)
    from myo_mcp import Backend

    backend = Backend(config)
    try:
        async with Client(build_server(config, backend)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
        assert "draft_markerset" not in names and "inspect_c3d" in names
    finally:
        await backend.aclose()


@pytest.mark.skipif(
    not (SHARED_C3D / "optotrak.c3d").exists(), reason=f"shared recordings not at {SHARED_C3D}"
)
async def test_no_recognisable_label_says_why_once(server: MyoMCPServer, work: Path) -> None:
    shutil.copy(SHARED_C3D / "optotrak.c3d", work / "optotrak.c3d")
    async with Client(server) as client:
        result = await client.call_tool("draft_markerset", {"path": str(work / "optotrak.c3d")})
    message = error_text(result)
    assert "Cannot draft a markerset for optotrak.c3d: 0 of its labels" in message, message
    assert message.count("draft a markerset") == 1, message
    assert str(work) not in message  # the file's name, not its path again
    assert "Marker" in message  # the labels it saw


@pytest.mark.skipif(
    not (SHARED_C3D / "sprintbasket_metres.c3d").exists(),
    reason=f"shared recordings not at {SHARED_C3D}",
)
async def test_a_draft_too_thin_to_retarget_says_so_instead_of_next_calling_retarget(
    server: MyoMCPServer, work: Path
) -> None:
    # One arm, the head, C7 and the left scapula on a wheelchair: the draft has 4 pelvis/trunk
    # markers and none on the pelvis. retarget_motion would only refuse it.
    shutil.copy(SHARED_C3D / "sprintbasket_metres.c3d", work / "chair.c3d")
    async with Client(server) as client:
        draft = structured(
            await client.call_tool("draft_markerset", {"path": str(work / "chair.c3d")})
        )
    assert draft["ready"] is False
    assert "pelvis/trunk" in draft["next_step"] and "retarget_motion(" not in draft["next_step"]
    assert "3 on the pelvis for the lower body" in draft["next_step"]
