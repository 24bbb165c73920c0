"""The myo-server command: key management and serve (first start prints a key, JSON logs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

import myo_server
from myo_server._cli import main
from myo_server._metadata import SqliteMetadataStore
from myo_server.testing import upload_path, wait_for, wait_job


def _run(*args: str, data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "myo_server._cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_keys_create_prints_only_the_key_and_list_never_shows_it(tmp_path: Path) -> None:
    created = _run("keys", "create", "--name", "ci", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n"
    assert key.startswith("myo_")
    listed = _run("keys", "list", "--json", data_dir=tmp_path)
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["ci"]
    assert key not in listed.stdout
    # not even the secret part (split on the first two "_" only: the secret may contain "_")
    secret = key.removeprefix(f"myo_{rows[0]['key_id']}_")
    assert len(secret) >= 40
    assert secret not in listed.stdout
    plain = _run("keys", "list", data_dir=tmp_path)
    assert rows[0]["key_id"] in plain.stdout
    assert "active" in plain.stdout


def test_keys_revoke_by_id_or_by_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--data-dir", str(tmp_path)]) == 0
    k1 = capsys.readouterr().out.strip()
    assert main(["keys", "create", "--data-dir", str(tmp_path), "--new-tenant", "acme"]) == 0
    k2 = capsys.readouterr().out.strip()
    assert main(["keys", "list", "--json", "--data-dir", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len({r["tenant_id"] for r in rows}) == 2
    assert main(["keys", "revoke", rows[0]["key_id"], "--data-dir", str(tmp_path)]) == 0
    assert main(["keys", "revoke", k2, "--data-dir", str(tmp_path)]) == 0
    assert main(["keys", "revoke", k1, "--data-dir", str(tmp_path)]) == 1  # already revoked
    assert "no active key" in capsys.readouterr().err
    assert main(["keys", "create", "--tenant", "nope", "--data-dir", str(tmp_path)]) == 2


@pytest.fixture(scope="module")
def sixty_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with 60 keys: about 5 KB as a table, 11 KB as JSON."""
    data_dir = tmp_path_factory.mktemp("keys")
    for k in range(60):
        assert _run("keys", "create", "--name", f"k{k}", data_dir=data_dir).returncode == 0
    return data_dir


# Buffered (a shell's default), the table fits Python's 8 KB stdout buffer and meets the closed
# pipe at the last flush, the JSON in the middle of a print; unbuffered, both at the first print.
@pytest.mark.parametrize("buffering", ["buffered", "unbuffered"])
@pytest.mark.parametrize("argv", [["list"], ["list", "--json"], ["create"]])
def test_keys_output_into_a_closed_pipe_exits_quietly(
    sixty_keys: Path,
    argv: list[str],
    buffering: str,
    run_into_closed_pipe: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """``myo-server keys list | head -1`` when head has gone: no "Broken pipe" traceback, and the
    exit status a command killed by SIGPIPE would have (141), like ``myo``."""
    done = run_into_closed_pipe(
        ["myo-server", "keys", *argv, "--data-dir", str(sixty_keys)],
        unbuffered=buffering == "unbuffered",
    )
    assert (done.returncode, done.stderr) == (141, "")


def test_serve_prints_a_key_once_and_logs_json_without_secrets(tmp_path: Path) -> None:
    env = {**os.environ, "MYO_HOME": str(tmp_path)}
    port = _free_port()
    proc = _serve(port, env)
    try:
        assert proc.stdout is not None
        key = proc.stdout.readline().strip()
        assert key.startswith("myo_")
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(base), timeout=30)
        r = httpx.get(base + "/v1/assets", headers={"X-Api-Key": key}, trust_env=False)
        assert r.status_code == 200
        assert "server" not in r.headers  # served with the same uvicorn options as LocalServer
        r = httpx.post(
            base + "/v1/assets/initiate",
            json={"purpose": "retarget", "filename": "a.c3d"},
            headers={"Authorization": f"Bearer {key}"},
            trust_env=False,
        )
        signature = r.json()["fields"]["signature"]
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "myo.sqlite3").exists()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(doc.get("logger") == "myo_server.access" for doc in lines)
    assert key not in err
    assert key not in out
    assert signature not in err
    # a second start on the same data dir prints no new key
    again = _serve(port, env)
    try:
        wait_for(lambda: _up(f"http://127.0.0.1:{port}"), timeout=30)
    finally:
        again.send_signal(signal.SIGTERM)
        out2, _ = again.communicate(timeout=30)
    assert out2 == ""


def test_version_is_the_distributions(console_script: Callable[[str], str]) -> None:
    done = subprocess.run(
        [console_script("myo-server"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"myo-server {version('myo-mcp')}\n"
    assert myo_server.__version__ == version("myo-mcp")


def test_log_level_is_case_insensitive(tmp_path: Path) -> None:
    env = {**os.environ, "MYO_HOME": str(tmp_path)}
    port = _free_port()
    proc = _serve(port, env, "--log-level", "WARNING")
    try:
        wait_for(lambda: _up(f"http://127.0.0.1:{port}") or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    levels = {json.loads(line)["level"] for line in err.splitlines() if line.startswith("{")}
    assert levels <= {"warning", "error", "critical"}  # the level applied: no info lines


def test_serve_builds_presigned_urls_from_its_address_not_the_host_header(tmp_path: Path) -> None:
    port = _free_port()
    proc = _serve(port, {**os.environ, "MYO_HOME": str(tmp_path)})
    try:
        assert proc.stdout is not None
        key = proc.stdout.readline().strip()
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(base), timeout=30)
        r = httpx.post(
            base + "/v1/assets/initiate",
            json={"purpose": "retarget", "filename": "a.c3d"},
            headers={"X-Api-Key": key, "Host": "evil.example"},
            trust_env=False,
        )
        assert r.json()["upload_url"] == f"{base}/storage/upload"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_serve_on_every_interface_needs_a_public_url(tmp_path: Path) -> None:
    port = str(_free_port())
    r = _run("serve", "--host", "0.0.0.0", "--port", port, data_dir=tmp_path, timeout=20)
    assert r.returncode == 2
    assert "--public-url" in r.stderr
    assert "0.0.0.0" in r.stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("sig", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, True)],
    # the server alone (kill PID); its whole group (a service manager; Ctrl-C in a terminal)
    ids=["SIGTERM", "SIGTERM-group", "SIGINT-group"],
)
def test_a_signal_hands_the_running_job_back_and_a_restart_runs_it_once(
    tmp_path: Path,
    sig: signal.Signals,
    to_group: bool,
    long_recording: Path,
    cmu_markerset: Path,
    child_pids: Callable[[int], list[int]],
) -> None:
    env = {**os.environ, "MYO_HOME": str(tmp_path)}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(port, env, "--workers", "1", "--log-level", "warning")
    try:
        assert proc.stdout is not None
        key = proc.stdout.readline().strip()
        wait_for(lambda: _up(base), timeout=30)
        with httpx.Client(
            base_url=base, headers={"X-Api-Key": key}, trust_env=False, timeout=30
        ) as c:
            markerset = upload_path(c, cmu_markerset)
            r = c.post(
                "/v1/runs/retarget",
                json={
                    "c3d_asset_id": upload_path(c, long_recording),
                    "markerset_asset_id": markerset,
                },
            )
            job_id = r.json()["job_id"]
            wait_for(lambda: c.get(f"/v1/jobs/{job_id}").json()["progress"] > 0, timeout=60)
        workers = child_pids(proc.pid)
        assert workers
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 0, err
    assert not [p for p in workers if Path(f"/proc/{p}").exists()]  # no orphan worker
    store = SqliteMetadataStore(tmp_path / "myo.sqlite3")
    job = store.get_job(job_id, None)
    store.close()
    assert job is not None
    assert (job.status, job.attempts) == ("QUEUED", 0), job.message  # no attempt was used
    again = _serve(port, env, "--workers", "1", "--log-level", "warning")
    try:
        wait_for(lambda: _up(base), timeout=30)
        with httpx.Client(
            base_url=base, headers={"X-Api-Key": key}, trust_env=False, timeout=30
        ) as c:
            done = wait_job(c, job_id, ("SUCCEEDED", "FAILED"), timeout=180)
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=30)
    assert done["status"] == "SUCCEEDED", done
    assert done["attempts"] == 1
    assert again.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_caps_the_memory_of_its_workers(
    tmp_path: Path, child_pids: Callable[[int], list[int]]
) -> None:
    env = {**os.environ, "MYO_HOME": str(tmp_path)}
    port = _free_port()
    proc = _serve(port, env, "--workers", "1", "--worker-memory-mb", "1500", "--log-level", "error")
    try:
        wait_for(lambda: _up(f"http://127.0.0.1:{port}"), timeout=30)

        def worker_limits() -> str:
            (pid,) = child_pids(proc.pid)
            return Path(f"/proc/{pid}/limits").read_text()

        # the worker sets it as it starts: wait for it
        limits = wait_for(lambda: (t := worker_limits()) and str(1500 * 2**20) in t and t, 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    (line,) = [x for x in limits.splitlines() if x.startswith("Max address space")]
    assert line.split()[3] == str(1500 * 2**20)  # soft limit, bytes
    assert proc.returncode == 0


def _serve(port: int, env: dict[str, str], *options: str) -> subprocess.Popen[str]:
    """``myo-server serve`` on ``port`` (no workers unless ``options`` say so), stdout and stderr
    piped: read them, or keep the server quiet (its log fills the pipe and blocks it). It leads
    its own process group, so a test may signal the group."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "myo_server._cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/health", trust_env=False).status_code == 200
    except httpx.TransportError:
        return False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
