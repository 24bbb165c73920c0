"""export_motion, and retarget_motion's formats, through a real MCP session over the embedded
backend: the files each format writes, where they may go, and the errors in the user's words."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, get_args

import mcp.types as types
import pandas as pd
import pytest
from mcp import Client

from myo_mcp import Backend, McpConfig, MyoMCPServer, build_server
from myo_mcp._tools_export import ExportFormatName, ParquetTable
from myo_retarget import Motion, export_formats, retarget, sample_c3d_path
from myo_retarget._export_tables import PARQUET_TABLES
from myo_server import LocalServer

pytestmark = pytest.mark.anyio

SECRET = b"keep me"


@pytest.fixture(scope="module")
def sample_motion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sample retargeted once with the cmu markerset, for every test to copy."""
    return retarget(sample_c3d_path(), "cmu").save(tmp_path_factory.mktemp("motion") / "walk.npz")


@pytest.fixture
def npz(work: Path, sample_motion: Path) -> Path:
    """The sample motion inside the allowed directory."""
    return Path(shutil.copy(sample_motion, work / "walk.npz"))


def structured(result: types.CallToolResult) -> dict[str, Any]:
    text = " ".join(c.text for c in result.content if isinstance(c, types.TextContent))
    assert not result.is_error, text
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: types.CallToolResult) -> str:
    assert result.is_error, f"expected a tool error, got {result.structured_content}"
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def export(client: Client, **arguments: Any) -> types.CallToolResult:
    return await client.call_tool("export_motion", arguments)


def test_the_tool_offers_the_engines_formats_and_tables() -> None:
    assert set(get_args(ExportFormatName)) == set(export_formats())
    assert get_args(ParquetTable) == PARQUET_TABLES


async def test_export_motion_writes_every_format(server: MyoMCPServer, npz: Path) -> None:
    frames = Motion.load(npz).qpos.shape[0]
    async with Client(server) as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["export_motion"]
        assert tool.annotations is not None
        assert tool.annotations.destructive_hint is False
        assert tool.annotations.idempotent_hint is True
        assert tool.output_schema is not None and "size_bytes" in tool.output_schema["properties"]

        written: dict[str, dict[str, Any]] = {}
        for name in ("glb", "bvh", "mot", "csv", "parquet"):
            written[name] = structured(await export(client, path=str(npz), format=name))
        with_markers = structured(
            await export(
                client,
                path=str(npz),
                format="glb",
                markers=True,
                output_path=str(npz.parent / "m.glb"),
            )
        )
        xpos = structured(
            await export(
                client, path=str(npz), output_path=str(npz.parent / "x.parquet"), table="xpos"
            )
        )

    for name, got in written.items():
        assert got["path"] == str(npz.with_suffix(f".{name}")), name
        assert got["format"] == name
        assert Path(got["path"]).stat().st_size == got["size_bytes"] > 0
        assert got["note"]
    assert "Blender" in written["glb"]["note"] and "OpenSim" in written["mot"]["note"]
    assert npz.with_suffix(".glb").read_bytes()[:4] == b"glTF"
    assert with_markers["size_bytes"] > written["glb"]["size_bytes"]  # the marker spheres
    assert npz.with_suffix(".bvh").read_text().startswith("HIERARCHY")
    mot_lines = npz.with_suffix(".mot").read_text().splitlines()
    mot = pd.read_csv(npz.with_suffix(".mot"), sep="\t", skiprows=mot_lines.index("endheader") + 1)
    assert len(mot) == frames and "knee_flex_r" in mot.columns
    csv = pd.read_csv(npz.with_suffix(".csv"))
    assert len(csv) == frames and csv.columns[0] == "time"
    qpos = pd.read_parquet(npz.with_suffix(".parquet"))
    assert len(qpos) == frames and qpos.shape[1] == 1 + 48
    assert xpos["format"] == "parquet"
    assert any(c.endswith("_x") for c in pd.read_parquet(xpos["path"]).columns)


async def test_export_motion_format_from_the_output_path(server: MyoMCPServer, npz: Path) -> None:
    (npz.parent / "out").mkdir()
    async with Client(server) as client:
        by_extension = structured(
            await export(client, path=str(npz), output_path=str(npz.parent / "sub" / "a.csv"))
        )
        into_directory = structured(
            await export(client, path=str(npz), format="bvh", output_path=str(npz.parent / "out"))
        )
    assert by_extension["format"] == "csv" and Path(by_extension["path"]).is_file()
    assert into_directory["path"] == str(npz.parent / "out" / "walk.bvh")


async def test_export_motion_refuses_outputs_outside_the_allowed_directories(
    server: MyoMCPServer, npz: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.glb"
    secret.write_bytes(SECRET)
    (npz.parent / "link.glb").symlink_to(secret)
    async with Client(server) as client:
        for target in (outside / "new.glb", npz.parent / "link.glb", npz.parent / ".." / "up.glb"):
            text = error_text(await export(client, path=str(npz), output_path=str(target)))
            assert "outside the directories" in text and "/v1/" not in text, target
    assert secret.read_bytes() == SECRET
    assert sorted(p.name for p in outside.iterdir()) == ["secret.glb"]
    assert not (tmp_path / "up.glb").exists()


async def test_export_motion_errors_lose_nothing(server: MyoMCPServer, npz: Path) -> None:
    before = npz.read_bytes()
    c3d = npz.parent / "walk.c3d"
    c3d_bytes = c3d.read_bytes()
    async with Client(server) as client:
        over_npz = error_text(
            await export(client, path=str(npz), format="csv", output_path=str(npz))
        )
        assert "ending in .csv" in over_npz
        over_c3d = error_text(
            await export(client, path=str(npz), format="mot", output_path=str(c3d))
        )
        assert "ending in .mot" in over_c3d
        unsaid = error_text(await export(client, path=str(npz)))
        assert "give format" in unsaid and "glb" in unsaid
        unknown_ext = error_text(
            await export(client, path=str(npz), output_path=str(npz.parent / "a.fbx"))
        )
        assert "a.fbx" in unknown_ext and "parquet" in unknown_ext
        wrong_option = error_text(await export(client, path=str(npz), format="bvh", markers=True))
        assert "bvh" in wrong_option and "markers" in wrong_option
        not_motion = error_text(await export(client, path=str(c3d), format="csv"))
        assert "not a motion .npz" in not_motion and "walk.c3d" in not_motion
        missing = error_text(await export(client, path=str(npz.parent / "nope.npz"), format="csv"))
        assert "nope.npz" in missing and "no such file" in missing
    assert npz.read_bytes() == before and c3d.read_bytes() == c3d_bytes
    assert not (npz.parent / "walk.csv").exists()


@pytest.mark.parametrize(("module", "fmt"), [("pyarrow", "parquet"), ("pygltflib", "glb")])
async def test_a_missing_optional_writer_names_the_extra(
    server: MyoMCPServer, npz: Path, monkeypatch: pytest.MonkeyPatch, module: str, fmt: str
) -> None:
    # Uninstalling a package is not possible in the test environment: None in sys.modules makes
    # its import fail exactly as when it is missing.
    for name in [m for m in sys.modules if m == module or m.startswith(f"{module}.")] + [module]:
        monkeypatch.setitem(sys.modules, name, None)
    async with Client(server) as client:
        text = error_text(await export(client, path=str(npz), format=fmt))
    assert "myo-mcp[export]" in text and fmt in text
    assert not npz.with_suffix(f".{fmt}").exists()


async def test_retarget_motion_writes_the_formats(
    server: MyoMCPServer, work: Path, tmp_path: Path
) -> None:
    """The exports land beside the .npz; one that cannot be written (a planted symlink leading
    outside) is reported, and the .npz and the other exports are kept."""
    secret = tmp_path / "secret.bvh"
    secret.write_bytes(SECRET)
    (work / "walk.bvh").symlink_to(secret)
    async with Client(server) as client:
        result = structured(
            await client.call_tool(
                "retarget_motion",
                {
                    "c3d_path": str(work / "walk.c3d"),
                    "markerset": "cmu",
                    "formats": ["glb", "bvh", "mot"],
                },
            )
        )
    assert result["done"] is True and Path(result["output"]["path"]).is_file()
    assert "export_motion" in result["next_step"]
    assert [(e["format"], e["path"]) for e in result["exports"]] == [
        ("glb", str(work / "walk.glb")),
        ("mot", str(work / "walk.mot")),
    ]
    assert all(Path(e["path"]).stat().st_size == e["size_bytes"] for e in result["exports"])
    assert (work / "walk.glb").read_bytes()[:4] == b"glTF"
    [failed] = result["failed_exports"]
    assert failed["format"] == "bvh" and "outside the directories" in failed["error"]
    assert secret.read_bytes() == SECRET


async def test_export_motion_of_a_jobs_output_asset(
    server: MyoMCPServer, work: Path, tmp_path: Path
) -> None:
    (work / "out").mkdir()
    async with Client(server) as client:
        done = structured(
            await client.call_tool(
                "retarget_motion",
                {"c3d_path": str(work / "walk.c3d"), "markerset": "cmu"},
            )
        )
        asset_id = done["output"]["asset_id"]
        got = structured(
            await export(client, asset_id=asset_id, format="csv", output_path=str(work / "out"))
        )
        both = error_text(await export(client, asset_id=asset_id, path=done["output"]["path"]))
        nowhere = error_text(await export(client, asset_id=asset_id, format="csv"))
        outside = error_text(
            await export(client, asset_id=asset_id, output_path=str(tmp_path / "o.csv"))
        )
    assert Path(got["path"]).parent == work / "out" and got["path"].endswith(".csv")
    assert len(pd.read_csv(got["path"])) == Motion.load(work / "walk.npz").qpos.shape[0]
    assert "exactly one of path" in both
    assert "needs output_path" in nowhere and asset_id in nowhere
    assert "outside the directories" in outside and not (tmp_path / "o.csv").exists()


async def test_read_only_mode_has_no_export_motion(
    local_server: LocalServer, work: Path, npz: Path
) -> None:
    config = McpConfig(
        backend="local", data_dir=local_server.data_dir, allow_dirs=[work], read_only=True
    )
    backend = Backend(config, local_server=local_server)
    try:
        async with Client(build_server(config, backend)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            refused = await export(client, path=str(npz), format="csv")
    finally:
        await backend.aclose()
    assert "export_motion" not in names and "summarize_motion" in names
    assert refused.is_error and not npz.with_suffix(".csv").exists()
