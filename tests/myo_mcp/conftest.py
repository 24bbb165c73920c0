"""Fixtures of the MCP tests: one real embedded backend for the session, MCP clients per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
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


class HttpMcp(NamedTuple):
    """A running ``myo-mcp --transport streamable-http`` process."""

    url: str
    """Its /mcp endpoint, via 127.0.0.1."""
    stderr: Path
    """The file its stderr goes to."""
    process: subprocess.Popen[bytes]


HttpMcpStarter = Callable[..., contextlib.AbstractContextManager[HttpMcp]]


@pytest.fixture
def streamable_http_mcp(tmp_path: Path, console_script: Callable[[str], str]) -> HttpMcpStarter:
    """``with streamable_http_mcp(*args, host="127.0.0.1", **env) as server``: the installed
    ``myo-mcp`` on streamable HTTP (home ``tmp_path/home``, no job workers, no MYOSDK_/MYO_MCP_
    variables but ``env``), once it answers; stopped with SIGTERM at the end of the block."""

    @contextlib.contextmanager
    def start(*args: str, host: str = "127.0.0.1", **env: str) -> Iterator[HttpMcp]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("MYOSDK_", "MYO_MCP_"))}
        err_path = tmp_path / "stderr.log"
        with err_path.open("wb") as err:
            proc = subprocess.Popen(
                [
                    console_script("myo-mcp"),
                    *("--transport", "streamable-http", "--host", host, "--port", str(port)),
                    *args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**clean, "MYO_HOME": str(tmp_path / "home"), "MYO_MCP_WORKERS": "0", **env},
            )
        url = f"http://127.0.0.1:{port}/mcp"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, err_path.read_text()
                try:
                    httpx.get(url, timeout=2, trust_env=False)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "streamable-http server did not start"
                    time.sleep(0.1)
            yield HttpMcp(url, err_path, proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)

    return start
