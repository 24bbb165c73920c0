"""Fixtures of the MCP tests: one real embedded backend for the session, MCP clients per test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from myo_mcp import Backend, McpConfig, MyoMCPServer, build_server
from myo_retarget import sample_c3d_path, shipped_markerset_path
from myo_server import LocalServer

# Both protocol eras the SDK speaks: the initialize handshake (2025-11-25) and the stateless
# per-request envelope (2026-07-28), where elicitation and roots travel in InputRequiredResult.
MODES = ["legacy", "2026-07-28"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """The embedded myo_server with one worker: jobs really run."""
    with LocalServer(data_dir=tmp_path_factory.mktemp("myo-data"), workers=1) as server:
        yield server


@pytest.fixture(scope="session")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A myo_server without workers: jobs stay QUEUED (for waits that time out, cancels)."""
    with LocalServer(data_dir=tmp_path_factory.mktemp("myo-idle"), workers=0) as server:
        yield server


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An allowed directory holding the shipped sample C3D and the cmu markerset."""
    root = tmp_path / "work"
    root.mkdir()
    shutil.copy(sample_c3d_path(), root / "walk.c3d")
    shutil.copy(shipped_markerset_path("cmu"), root / "cmu.xml")
    return root


@pytest.fixture
def config(work: Path, local_server: LocalServer) -> McpConfig:
    return McpConfig(backend="local", data_dir=local_server.data_dir, allow_dirs=[work])


@pytest.fixture
async def backend(config: McpConfig, local_server: LocalServer) -> AsyncIterator[Backend]:
    be = Backend(config, local_server=local_server)
    yield be
    await be.aclose()


@pytest.fixture
def server(config: McpConfig, backend: Backend) -> MyoMCPServer:
    return build_server(config, backend)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)
