"""Marker tables through the MCP tools (issue 12): inspect_c3d, retarget_motion and start_retarget
take TRC files and CSV/parquet trackers tables, with the vendor's mocap_scale and rotation, in a
real MCP session against the real embedded backend; the tables are written by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mcp import Client
from tests.myo_mcp.test_mcp_tools import error_text, session, structured, upload
from tests.myo_retarget.tracker_factory import (
    c3d_as_tables,
    table_columns,
    write_csv,
    write_parquet,
    write_trc,
)

from myo_mcp import Backend, McpConfig, MyoMCPServer
from myo_retarget import Motion, read_c3d
from myo_server import LocalServer

pytestmark = pytest.mark.anyio


def _metres_y_up(c3d: Path, out: Path) -> Path:
    """The markers of ``c3d`` as a CSV trackers table in metres whose lab is +Y up (a layout
    the defaults would misread: numbers taken as millimetres)."""
    rec = read_c3d(c3d)
    columns = table_columns(rec.raw_labels, rec.positions, rec.rate, scale=1.0, vertical="+Y")
    return write_csv(out, columns)


async def test_inspect_c3d_reads_trc_csv_and_parquet(
    server: MyoMCPServer, work: Path, mode: str
) -> None:
    """The sample walk as TRC, CSV and parquet: each inspected like the C3D, its format shown,
    and the next step names that file."""
    tables = c3d_as_tables(work / "walk.c3d", work)
    async with Client(server, mode=mode) as client:
        for fmt in ("c3d", "trc", "csv", "parquet"):
            path = tables[fmt]
            info = structured(await client.call_tool("inspect_c3d", {"path": str(path)}))
            assert info["format"] == fmt
            assert (info["frames"], info["rate_hz"], info["units"]) == (412, 120.0, "mm")
            assert info["vertical_axis"] == "+Z" and "LKNE" in info["labels"]
            assert info["best_markerset"]["name"] == "cmu", fmt
            assert info["next_step"].startswith(f"retarget_motion(c3d_path='{path}'")


async def test_inspect_c3d_mocap_scale_reads_a_table_in_metres(
    server: MyoMCPServer, work: Path
) -> None:
    """mocap_scale=1: a table in metres is read in metres (and the +Y lab detected), and the next
    step carries the scale on to retarget_motion."""
    table = _metres_y_up(work / "walk.c3d", work / "walk_m.csv")
    async with Client(server) as client:
        info = structured(
            await client.call_tool("inspect_c3d", {"path": str(table), "mocap_scale": 1})
        )
        assert (info["format"], info["units"], info["vertical_axis"]) == ("csv", "m", "+Y")
        assert info["best_markerset"]["name"] == "cmu"
        assert "mocap_scale=1" in info["next_step"]
        refused = error_text(
            await client.call_tool("inspect_c3d", {"path": str(table), "mocap_scale": -5})
        )
        assert "mocap_scale" in refused and "-5" in refused


async def test_a_bad_table_is_named_in_its_own_format(server: MyoMCPServer, work: Path) -> None:
    """A table the engine cannot read: the message names the file, its format, the line and
    column at fault and what to do, and never calls it a C3D."""
    bad_csv = work / "bad.csv"
    bad_csv.write_text("time,LKNE_x,LKNE_y,LKNE_z\n0,1,2,3\n0.01,1,abc,3\n")
    bad_trc = work / "bad.trc"
    bad_trc.write_text("hello\n")
    bad_parquet = work / "bad.parquet"
    bad_parquet.write_bytes(b"not parquet at all")
    async with Client(server) as client:
        csv = error_text(await client.call_tool("inspect_c3d", {"path": str(bad_csv)}))
        assert "Cannot read bad.csv as a CSV trackers table: line 3, column 3" in csv
        assert "'abc' is not a number" in csv and "leave the cell empty" in csv
        trc = error_text(await client.call_tool("inspect_c3d", {"path": str(bad_trc)}))
        assert "Cannot read bad.trc as a TRC file: " in trc and "PathFileType" in trc
        parquet = error_text(await client.call_tool("inspect_c3d", {"path": str(bad_parquet)}))
        assert "Cannot read bad.parquet as a parquet trackers table: " in parquet
        for text in (csv, trc, parquet):
            assert "C3D" not in text and ".c3d" not in text, text
            assert str(work) not in text  # the file's name, not its path twice

        broken = work / "broken.c3d"
        broken.write_bytes(b"\x02\x50" + bytes(300))
        c3d = error_text(await client.call_tool("inspect_c3d", {"path": str(broken)}))
        assert "Cannot read broken.c3d as a C3D recording: " in c3d and "truncated" in c3d


async def test_retarget_motion_of_a_csv_table_end_to_end(
    server: MyoMCPServer, backend: Backend, work: Path
) -> None:
    """A CSV trackers table in metres with +Y up, retargeted with mocap_scale=1 and vertical_axis
    +Y (the vendor's rotation yup_to_zup): the job records both, and its joint angles are the
    C3D's (within 0.5 deg RMS)."""
    table = _metres_y_up(work / "walk.c3d", work / "walk_m.csv")
    async with Client(server) as client:
        from_c3d = structured(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"}
            )
        )
        from_csv = structured(
            await client.call_tool(
                "retarget_motion",
                {
                    "c3d_path": str(table),
                    "markerset": "cmu",
                    "mocap_scale": 1,
                    "vertical_axis": "+Y",
                },
            )
        )
        assert from_csv["done"] is True and from_csv["status"] == "SUCCEEDED"
        assert from_csv["output"]["path"] == str(work / "walk_m.npz")  # beside the table
        uploaded = structured(
            await client.call_tool("get_asset", {"asset_id": from_csv["c3d_asset_id"]})
        )
        assert (uploaded["filename"], uploaded["purpose"]) == ("walk_m.csv", "retarget")
    sdk = await backend.client()
    recorded = (await sdk.jobs.get(from_csv["job_id"]))["input"]
    assert (recorded["mocap_scale"], recorded["rotation"]) == (1, "yup_to_zup")
    reference = Motion.load(from_c3d["output"]["path"])
    motion = Motion.load(from_csv["output"]["path"])
    assert motion.n_frames == reference.n_frames == 412
    diff = np.asarray(motion.joint_angles_degrees) - np.asarray(reference.joint_angles_degrees)
    observed = np.isfinite(diff)
    assert observed.mean() > 0.9
    assert float(np.sqrt(np.mean(diff[observed] ** 2))) < 0.5


async def test_retarget_motion_of_a_bad_table_says_why_without_c3d(
    server: MyoMCPServer, work: Path
) -> None:
    """A table the worker cannot read: the tool error carries the engine's reason (the line, the
    column) in the table's terms."""
    bad = work / "bad.csv"
    bad.write_text("time,LKNE_x,LKNE_y,LKNE_z\n0,1,2,3\n0.01,1,abc,3\n")
    async with Client(server) as client:
        text = error_text(
            await client.call_tool("retarget_motion", {"c3d_path": str(bad), "markerset": "cmu"})
        )
    assert "FAILED" in text and "bad.csv" in text and "line 3, column 3" in text
    # the next step points at the file as well as the markerset
    assert f"inspect_c3d(path='{bad}')" in text
    assert "C3D" not in text and "/v1/" not in text, text


async def test_tracker_options_reach_the_job_and_bad_ones_upload_nothing(
    work: Path, idle_server: LocalServer
) -> None:
    """start_retarget (over uploaded assets) and retarget_motion send mocap_scale and the vertical
    axis (-Y: the vendor's rotation ydown_to_zup) with the job; left out, the job has none; an
    unknown axis or a scale <= 0 is refused in the user's words before anything is uploaded."""
    config = McpConfig(
        backend="local", data_dir=idle_server.data_dir, allow_dirs=[work], call_budget_s=1
    )
    rec = read_c3d(work / "walk.c3d")
    columns = table_columns(rec.raw_labels, rec.positions, rec.rate, scale=100.0)
    table = write_parquet(work / "walk_cm.parquet", columns)
    trc = write_trc(work / "walk.trc", rec.raw_labels, rec.positions, rec.rate)
    options = {"mocap_scale": 100, "vertical_axis": "-Y"}
    async with session(config, idle_server) as (client, backend):
        assets = {
            "c3d_asset_id": await upload(client, table),
            "markerset_asset_id": await upload(client, work / "cmu.xml"),
        }
        jobs = [
            structured(await client.call_tool("start_retarget", {**assets, **options}))["job"],
            structured(await client.call_tool("start_retarget", assets))["job"],
            structured(
                await client.call_tool(
                    "retarget_motion", {"c3d_path": str(trc), "markerset": "cmu", **options}
                )
            ),
        ]
        sdk = await backend.client()
        given, plain, one_call = [dict((await sdk.jobs.get(j["job_id"]))["input"]) for j in jobs]
        for job in jobs:
            await sdk.jobs.cancel(job["job_id"])
        before = (await sdk.assets.list(limit=1))["total"]
        wrong_axis = error_text(
            await client.call_tool(
                "retarget_motion",
                {"c3d_path": str(trc), "markerset": "cmu", "vertical_axis": "zup"},
            )
        )
        wrong_scale = error_text(
            await client.call_tool(
                "retarget_motion", {"c3d_path": str(trc), "markerset": "cmu", "mocap_scale": 0}
            )
        )
        assert (await sdk.assets.list(limit=1))["total"] == before  # nothing uploaded
        refused_start = error_text(
            await client.call_tool("start_retarget", {**assets, "vertical_axis": "x_up"})
        )
    for recorded in (given, one_call):
        assert (recorded["mocap_scale"], recorded["rotation"]) == (100, "ydown_to_zup")
    assert plain.get("mocap_scale") is None and plain.get("rotation") is None
    assert "'zup'" in wrong_axis and "+Y" in wrong_axis and "vertical_axis" in wrong_axis
    assert "mocap_scale" in wrong_scale and "metre" in wrong_scale
    assert "'x_up'" in refused_start and "-Y" in refused_start
    for text in (wrong_axis, wrong_scale, refused_start):
        assert "/v1/" not in text and "validation error" not in text, text


async def test_upload_asset_takes_tables_and_glb_motions(server: MyoMCPServer, work: Path) -> None:
    """upload_asset of a CSV trackers table and a GLB: purposes retarget and motion by extension;
    the tools' descriptions say which files they take."""
    rec = read_c3d(work / "walk.c3d")
    csv = write_csv(work / "t.csv", table_columns(rec.raw_labels, rec.positions, rec.rate))
    glb = work / "m.glb"
    glb.write_bytes(b"glTF" + bytes(60))
    async with Client(server) as client:
        purposes = [
            structured(await client.call_tool("upload_asset", {"path": str(p)}))["asset"]["purpose"]
            for p in (csv, glb)
        ]
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert purposes == ["retarget", "motion"]
    for name, param in (
        ("inspect_c3d", "path"),
        ("retarget_motion", "c3d_path"),
        ("start_retarget", "c3d_asset_id"),
        ("upload_asset", "path"),
    ):
        described = tools[name].input_schema["properties"][param]["description"]
        assert all(ext in described for ext in (".c3d", ".trc", ".csv", ".parquet")), name
    assert ".glb" in tools["upload_asset"].input_schema["properties"]["path"]["description"]
    for name in ("retarget_motion", "start_retarget"):
        params = tools[name].input_schema["properties"]
        assert {"mocap_scale", "vertical_axis", "frame_range", "calibration_window"} <= set(
            params
        ), name
    assert "mocap_scale" in tools["inspect_c3d"].input_schema["properties"]


async def test_engine_options_reach_inspect_c3d_and_the_job(
    server: MyoMCPServer, backend: Backend, work: Path
) -> None:
    """The engine CLI's options through MCP (issue 13): inspect_c3d reads with a vertical axis
    override and carries it into its next step; retarget_motion's frame range and calibration
    window reach the job (myo-server's extensions) and the motion has the frames asked for; a
    range past the end fails the job naming the recording's frames."""
    walk = str(work / "walk.c3d")
    async with Client(server) as client:
        info = structured(
            await client.call_tool("inspect_c3d", {"path": walk, "vertical_axis": "+Y"})
        )
        assert info["vertical_axis"] == "+Y" and "vertical_axis='+Y'" in info["next_step"]
        run = structured(
            await client.call_tool(
                "retarget_motion",
                {
                    "c3d_path": walk,
                    "markerset": "cmu",
                    "vertical_axis": "+Z",
                    "frame_range": [100, 200],
                    "calibration_window": [0.0, 1.0],
                },
            )
        )
        past = error_text(
            await client.call_tool(
                "retarget_motion",
                {"c3d_path": walk, "markerset": "cmu", "frame_range": [5000, 6000]},
            )
        )
        refused = error_text(
            await client.call_tool(
                "retarget_motion", {"c3d_path": walk, "markerset": "cmu", "frame_range": [9, 3]}
            )
        )
    assert run["status"] == "SUCCEEDED"
    assert Motion.load(run["output"]["path"]).n_frames == 100
    recorded = (await (await backend.client()).jobs.get(run["job_id"]))["input"]
    assert (recorded["vertical_axis"], recorded["rotation"]) == ("+Z", None)
    assert (recorded["frame_range"], recorded["calibration_window"]) == ([100, 200], [0.0, 1.0])
    assert "frame_range" in past and "412 frames" in past and "inspect_c3d" in past
    assert "frame_range must be [start, stop)" in refused
