"""The ``myo-mcp`` command line: --version, log levels."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import myo_mcp

ENTRY = Path(sys.executable).parent / "myo-mcp"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "pytest", "version": "0"},
    },
}


@pytest.fixture(autouse=True)
def _installed() -> None:
    assert ENTRY.exists(), f"the myo-mcp entry point is not installed at {ENTRY} (uv sync)"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYOSDK_", "MYO_MCP_"))}
    return {**env, "MYO_HOME": str(home), "MYO_MCP_WORKERS": "0", **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRY), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(tmp_path / "home", **env),
        timeout=30,
        check=False,
    )


def test_version_is_the_distributions(tmp_path: Path) -> None:
    done = _run(tmp_path, "--version")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"myo-mcp {version('myo-mcp')}\n"
    assert myo_mcp.__version__ == version("myo-mcp")


def test_log_level_is_case_insensitive(tmp_path: Path) -> None:
    request = json.dumps(INITIALIZE) + "\n"
    done = subprocess.run(
        [str(ENTRY), "--log-level", "debug"],
        input=request,  # then end of input: the server answers and exits
        capture_output=True,
        text=True,
        env=_env(tmp_path / "home"),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["id"] == 1
    assert " DEBUG " in done.stderr
