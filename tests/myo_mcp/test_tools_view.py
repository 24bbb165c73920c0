"""show_motion through real MCP sessions: the MCP App (a client advertising the Apps extension)
and the PNG of key poses (a client without it)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import mcp.types as types
import numpy as np
import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from myo_mcp import MyoMCPServer
from myo_mcp._app import APP_URI, PAYLOAD_KEY
from myo_mcp._tooling import text_view
from myo_retarget import retarget, sample_c3d_path

pytestmark = pytest.mark.anyio

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: The model reads the text result: a short summary, never the motion.
SUMMARY_CHARS = 600
#: The viewer payload of a 30 s clip stays under 1 MB; the sample is 3.4 s.
PAYLOAD_BYTES = 1_000_000


def apps_client(server: MyoMCPServer, **options: Any) -> Client:
    """An MCP client that advertises MCP Apps, as a host that renders them does."""
    ui = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    return Client(server, extensions=[ui], **options)


@pytest.fixture(scope="module")
def sample_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("motion") / "walk.npz"
    retarget(sample_c3d_path(), "cmu").save(path)
    return path


@pytest.fixture
def walk_npz(sample_npz: Path, work: Path) -> Path:
    return Path(shutil.copy(sample_npz, work / "walk.npz"))


def text_of(result: types.CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_show_motion_is_an_mcp_app_whose_page_is_self_contained(
    server: MyoMCPServer, mode: str
) -> None:
    async with apps_client(server, mode=mode) as client:
        (tool,) = [t for t in (await client.list_tools()).tools if t.name == "show_motion"]
        assert tool.meta == {"ui": {"resourceUri": APP_URI}}
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        read = await client.read_resource(APP_URI)
    (page,) = read.contents
    assert isinstance(page, types.TextResourceContents)
    assert page.mime_type == APP_MIME_TYPE
    html = page.text
    assert html.startswith("<!DOCTYPE html>") and "window.startViewer" in html
    assert "ui/initialize" in html and json.dumps(PAYLOAD_KEY) in html
    assert "{{" not in html  # every placeholder filled
    # Nothing fetched from elsewhere: the host's default CSP allows no external origin.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"""\b(fetch|XMLHttpRequest|WebSocket|import)\s*\(""", html)


async def test_with_apps_the_motion_goes_to_the_app_and_the_model_gets_a_summary(
    server: MyoMCPServer, walk_npz: Path, mode: str
) -> None:
    async with apps_client(server, mode=mode) as client:
        result = await client.call_tool("show_motion", {"path": str(walk_npz)})
    assert not result.is_error, text_of(result)
    summary = result.structured_content
    assert summary is not None
    assert summary["shown_as"] == "viewer" and summary["source"] == str(walk_npz)
    assert summary["frames"] == 412 and summary["fps"] == 120.0
    assert summary["rms_residual_mm"] < 20 and summary["unmarked_bodies"] == ["toes_r", "toes_l"]
    assert summary["unobserved_joints"] == []  # the toes' joints: below an unmarked body
    # The model's part: one short text, no image, no motion.
    assert [c.type for c in result.content] == ["text"]
    assert len(text_of(result)) < SUMMARY_CHARS
    assert text_of(result) == text_view(summary)  # the same facts, one short form
    # The App's part: the viewer payload in _meta.
    assert result.meta is not None
    payload = result.meta[PAYLOAD_KEY]
    assert payload["version"] == 1 and payload["title"] == "cmu_01_01_412.c3d"  # the recording
    assert payload["time_s"]["shape"] == [206] and payload["fps"] == 60.0  # decimated
    assert len(json.dumps(payload)) < PAYLOAD_BYTES


async def test_without_apps_the_result_is_a_png_of_key_poses_and_the_summary(
    server: MyoMCPServer, walk_npz: Path, mode: str
) -> None:
    import matplotlib.image

    async with Client(server, mode=mode) as client:
        result = await client.call_tool("show_motion", {"path": str(walk_npz)})
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["shown_as"] == "key_poses_png"
    assert result.meta is None or PAYLOAD_KEY not in result.meta
    assert len(text_of(result)) < SUMMARY_CHARS
    (image,) = [c for c in result.content if isinstance(c, types.ImageContent)]
    assert image.mime_type == "image/png"
    png = base64.b64decode(image.data)
    assert png.startswith(PNG_MAGIC) and len(png) < 150_000
    pixels = np.asarray(matplotlib.image.imread(io.BytesIO(png), format="png"))[..., :3]
    assert pixels.shape[0] > 200 and pixels.shape[1] > 500
    # The poses are drawn in the viewer's side colours: red (right) and blue (left) pixels.
    red = (pixels[..., 0] > 0.6) & (pixels[..., 2] < 0.4)
    blue = (pixels[..., 2] > 0.6) & (pixels[..., 0] < 0.4)
    assert red.mean() > 0.003 and blue.mean() > 0.003


async def test_show_motion_errors_in_the_users_words(
    server: MyoMCPServer, work: Path, walk_npz: Path
) -> None:
    async with apps_client(server) as client:
        for arguments in ({}, {"path": str(walk_npz), "asset_id": "a"}):
            result = await client.call_tool("show_motion", arguments)
            assert result.is_error and "exactly one of asset_id or path" in text_of(result)
        (work / "x.npz").write_bytes(b"not an npz")
        result = await client.call_tool("show_motion", {"path": str(work / "x.npz")})
        assert result.is_error and "x.npz is not a retargeted motion" in text_of(result)
        result = await client.call_tool("show_motion", {"path": str(work / "gone.npz")})
        assert result.is_error and "no such file" in text_of(result)
        result = await client.call_tool("show_motion", {"asset_id": "no-such-asset"})
        assert result.is_error and "no-such-asset" in text_of(result)
