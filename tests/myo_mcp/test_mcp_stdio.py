"""The installed ``myo-mcp`` entry point over real stdio (and streamable HTTP): nothing but
protocol on stdout, the embedded backend for real, clean exit with no orphans, and the demo."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from myo_retarget import sample_c3d_path

ENTRY = Path(sys.executable).parent / "myo-mcp"
pytestmark = pytest.mark.skipif(
    not ENTRY.exists(), reason=f"the myo-mcp entry point is not installed at {ENTRY} (uv sync)"
)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYOSDK_", "MYO_MCP_"))}
    env["MYO_HOME"] = str(home)
    return env


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is dead for our purpose
        status = Path(f"/proc/{pid}/status").read_text()
        return "zombie" not in status
    return True


class RawSession:
    """JSON-RPC over a child's stdin/stdout, one message per line; every stdout line must parse."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.raw: list[bytes] = []
        self._next = 0
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        self._next += 1
        rid = self._next
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "myo-mcp closed stdout"
            msg = json.loads(line)  # anything but protocol on stdout fails here
            assert msg["jsonrpc"] == "2.0"
            if msg.get("id") == rid:
                assert "error" not in msg, msg
                return dict(msg["result"])

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "pytest", "version": "0"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def tool(self, name: str, args: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        result = self.request("tools/call", {"name": name, "arguments": args}, timeout)
        assert not result.get("isError"), result
        return dict(result["structuredContent"])


@contextlib.contextmanager
def myo_mcp(home: Path, *args: str, stderr: IO[bytes] | None = None) -> Iterator[RawSession]:
    proc = subprocess.Popen(
        [str(ENTRY), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
        env=_env(home),
    )
    session = RawSession(proc)
    try:
        yield session
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        session.pump.join(10)
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


def _wait_exit(proc: subprocess.Popen[bytes], children: list[int], timeout: float = 10) -> float:
    started = time.monotonic()
    proc.wait(timeout)
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 5
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [c for c in children if _alive(c)], "worker processes outlived myo-mcp"
    return elapsed


def test_stdio_story_and_exit_on_stdin_close(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    c3d = work / "walk.c3d"
    c3d.write_bytes(sample_c3d_path().read_bytes())
    err_path = tmp_path / "stderr.log"
    with (
        err_path.open("wb") as err,
        myo_mcp(home, "--allow-dir", str(work), "--log-level", "DEBUG", stderr=err) as s,
    ):
        init = s.initialize()
        assert init["serverInfo"]["name"] == "myo-mcp"
        assert init["protocolVersion"] == "2025-11-25"
        assert "Retargets motion capture" in init["instructions"]
        tools = s.request("tools/list", {})["tools"]
        assert len(tools) == 21
        run = s.tool("retarget_motion", {"c3d_path": str(c3d), "markerset": "cmu"})
        assert run["done"] is True and Path(run["output"]["path"]).exists()
        summary = s.request(
            "tools/call", {"name": "summarize_motion", "arguments": {"path": run["output"]["path"]}}
        )
        assert [c["type"] for c in summary["content"]] == ["text", "image"]
        # A client without MCP Apps: show_motion answers with the PNG of key poses.
        shown = s.request(
            "tools/call", {"name": "show_motion", "arguments": {"path": run["output"]["path"]}}
        )
        assert [c["type"] for c in shown["content"]] == ["text", "image"]
        assert shown["structuredContent"]["shown_as"] == "key_poses_png"
        children = _children(s.proc.pid)
        assert children, "the embedded backend's worker should be running"
        assert s.proc.stdin is not None
        s.proc.stdin.close()
        assert _wait_exit(s.proc, children) < 10
        assert s.proc.returncode == 0
    key = (home / "embedded_api_key").read_text().strip()
    logged = err_path.read_bytes().decode(errors="replace")
    assert key and key not in logged
    assert "myo-server started" in logged  # the backend's logs went to stderr, not stdout
    assert all(json.loads(line) for line in s.raw)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_everything(tmp_path: Path, signum: int) -> None:
    with myo_mcp(tmp_path / "home") as s:
        s.initialize()
        s.tool("list_characters", {})
        children = _children(s.proc.pid)
        assert children
        s.proc.send_signal(signum)
        assert _wait_exit(s.proc, children) < 10
        assert s.proc.returncode == 128 + signum


def test_two_processes_share_a_data_dir(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "a.c3d").write_bytes(sample_c3d_path().read_bytes())
    with (
        myo_mcp(home, "--allow-dir", str(work)) as one,
        myo_mcp(home, "--allow-dir", str(work)) as two,
    ):
        one.initialize()
        two.initialize()
        a = one.tool("upload_asset", {"path": str(work / "a.c3d")})["asset"]["asset_id"]
        b = two.tool("upload_asset", {"path": str(work / "a.c3d")})["asset"]["asset_id"]
        for s in (one, two):
            ids = {x["asset_id"] for x in s.tool("list_assets", {"limit": 100})["assets"]}
            assert {a, b} <= ids


def test_read_only_over_stdio(tmp_path: Path) -> None:
    with myo_mcp(tmp_path / "home", "--read-only") as s:
        s.initialize()
        names = {t["name"] for t in s.request("tools/list", {})["tools"]}
        assert (
            "inspect_c3d" in names
            and "upload_asset" not in names
            and "cleanup_assets" not in names
            and len(names) == 12
        )
        assert "show_motion" in names


@pytest.mark.parametrize("export_extra", [True, False])
def test_demo_from_the_entry_point(tmp_path: Path, export_extra: bool) -> None:
    env = _env(tmp_path / "home-unused")
    if not export_extra:
        # An installation without myo-mcp[export]: importing pygltflib fails in the server.
        blocker = tmp_path / "blocker" / "pygltflib"
        blocker.mkdir(parents=True)
        (blocker / "__init__.py").write_text("raise ImportError('no pygltflib here')\n")
        env["PYTHONPATH"] = str(blocker.parent)
    done = subprocess.run(
        [str(ENTRY), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "myo-demo"
    assert (out / "cmu_01_01_412.npz").stat().st_size > 100_000
    assert (out / "cmu_01_01_412_angles.png").read_bytes().startswith(b"\x89PNG")
    assert b'id="motion"' in (out / "cmu_01_01_412.html").read_bytes()
    assert (out / "cmu_01_01_412_poses.png").read_bytes().startswith(b"\x89PNG")
    for tool in (
        "list_characters",
        "inspect_c3d",
        "upload_asset",
        "start_retarget",
        "wait_for_job",
        "download_asset",
        "summarize_motion",
        "export_motion",
        "show_motion",
    ):
        assert tool in done.stdout
    if export_extra:
        assert (out / "cmu_01_01_412.glb").read_bytes()[:4] == b"glTF"
    else:
        assert not (out / "cmu_01_01_412.glb").exists()
        said = " ".join(done.stdout.split())  # rich wraps lines
        assert "skipped:" in said and "writing GLB needs pygltflib" in said
        assert "myo-mcp[export]" in said.replace(" ", "")
    assert not (tmp_path / "home-unused").exists()  # the demo keeps its data under ./myo-demo


LONG = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d" / "cmu_01_01.c3d"


@pytest.mark.skipif(not LONG.exists(), reason=f"shared recording {LONG} not found")
def test_job_running_at_sigterm_finishes_after_restart(tmp_path: Path) -> None:
    """SIGTERM while a job runs: everything exits, the job goes back to the queue, and the next
    myo-mcp on the same data dir finishes it."""
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "long.c3d").write_bytes(LONG.read_bytes())
    with myo_mcp(home, "--allow-dir", str(work)) as s:
        s.initialize()
        c3d = s.tool("upload_asset", {"path": str(work / "long.c3d")})["asset"]["asset_id"]
        xml = s.tool("retarget_motion", {"c3d_path": str(work / "long.c3d"), "markerset": "cmu"})
        assert xml["done"] is True  # warms the worker up; the next job starts at once
        job = s.tool(
            "start_retarget",
            {"c3d_asset_id": c3d, "markerset_asset_id": xml["markerset_asset_id"]},
        )["job"]
        deadline = time.monotonic() + 30
        while s.tool("get_job", {"job_id": job["job_id"]})["status"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        children = _children(s.proc.pid)
        s.proc.send_signal(signal.SIGTERM)
        assert _wait_exit(s.proc, children) < 10
    with myo_mcp(home, "--allow-dir", str(work)) as again:
        again.initialize()
        status = again.tool("get_job", {"job_id": job["job_id"]})["status"]
        assert status in ("QUEUED", "RUNNING", "SUCCEEDED")
        waited = again.tool("wait_for_job", {"job_id": job["job_id"], "timeout_s": 50}, 70)
        assert waited["job"]["status"] == "SUCCEEDED", waited


@pytest.mark.anyio
async def test_streamable_http_session(tmp_path: Path, streamable_http_mcp: Any) -> None:
    """A whole MCP session over streamable HTTP with the bearer token (the SDK's HTTP client)."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    work = tmp_path / "work"
    work.mkdir()
    (work / "walk.c3d").write_bytes(sample_c3d_path().read_bytes())
    with streamable_http_mcp("--allow-dir", str(work), MYO_MCP_TOKEN="env-t0k") as server:
        async with httpx2.AsyncClient(headers={"Authorization": "Bearer env-t0k"}) as http:
            transport: Any = streamable_http_client(server.url, http_client=http)
            async with Client(transport) as client:
                result = await client.call_tool("inspect_c3d", {"path": str(work / "walk.c3d")})
                assert not result.is_error and result.structured_content
                assert result.structured_content["best_markerset"]["name"] == "cmu"
                chars = await client.call_tool("list_characters", {})
                assert not chars.is_error
                shipped = await client.read_resource("myo://markersets/cmu")
                assert "<markers" in str(shipped.contents[0])
    assert server.process.returncode == 128 + signal.SIGTERM
