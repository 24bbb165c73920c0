"""The ``myo-mcp`` command line: --version, log levels, and who may use the streamable-HTTP
transport (a token is required off loopback; warnings where a token is missing or exposed)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
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
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


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


def _initialize(url: str, token: str | None = None) -> httpx.Response:
    headers = {**HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    return httpx.post(url, json=INITIALIZE, headers=headers, timeout=10, trust_env=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_no_token_off_loopback_is_refused(tmp_path: Path, host: str) -> None:
    port = _free_port()
    done = _run(tmp_path, "--transport", "streamable-http", "--host", host, "--port", str(port))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert host in last and "MYO_MCP_TOKEN" in last and "--auth-token-file" in last
    with socket.socket() as sock:  # nothing was served meanwhile
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_no_token_on_loopback_warns(streamable_http_mcp: Any) -> None:
    with streamable_http_mcp() as server:
        assert _initialize(server.url).status_code == 200  # still served: local use is common
        warning = server.stderr.read_text()
    assert "warning" in warning and "without a token" in warning
    assert "MYO_MCP_TOKEN" in warning and "--auth-token-file" in warning


def test_auth_token_on_the_command_line_warns(streamable_http_mcp: Any) -> None:
    with streamable_http_mcp("--auth-token", "t0k") as server:
        assert _initialize(server.url).status_code == 401
        ok = _initialize(server.url, "t0k")
        assert ok.status_code == 200
        assert "myo-mcp" in ok.text
        warning = server.stderr.read_text()
    assert "--auth-token" in warning and "ps" in warning
    assert "MYO_MCP_TOKEN" in warning and "--auth-token-file" in warning
    assert "t0k" not in warning


def test_auth_token_file_off_loopback(tmp_path: Path, streamable_http_mcp: Any) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-from-a-file\n")  # the trailing newline is not part of it
    token_file.chmod(0o600)
    with streamable_http_mcp("--auth-token-file", str(token_file), host="0.0.0.0") as server:
        assert _initialize(server.url).status_code == 401
        assert _initialize(server.url, "s3cret-from-a-file").status_code == 200
        logged = server.stderr.read_text()
    assert "warning" not in logged.lower()
    assert "s3cret" not in logged


def test_token_from_the_environment_gives_no_warning(
    streamable_http_mcp: Any,
) -> None:
    with streamable_http_mcp(MYO_MCP_TOKEN="env-t0k") as server:
        assert _initialize(server.url).status_code == 401
        assert _initialize(server.url, "env-t0k").status_code == 200
        logged = server.stderr.read_text()
    assert "warning" not in logged.lower()


def test_bad_token_files_are_usage_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    empty = tmp_path / "empty"
    empty.write_text("\n")
    http = ("--transport", "streamable-http")
    for path, reason in ((missing, "No such file"), (empty, "empty")):
        done = _run(tmp_path, *http, "--auth-token-file", str(path))
        assert done.returncode == 2
        last = done.stderr.strip().splitlines()[-1]
        assert str(path) in last and reason in last
    both = _run(tmp_path, *http, "--auth-token", "a", "--auth-token-file", str(empty))
    assert both.returncode == 2
    assert "not allowed with" in both.stderr
