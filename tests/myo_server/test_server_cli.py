"""The myo-server command: key management and serve (first start prints a key, JSON logs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

import myo_server
from myo_server._cli import main
from myo_server.testing import wait_for


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
    sixty_keys: Path, argv: list[str], buffering: str
) -> None:
    """``myo-server keys list | head -1`` when head has gone: no "Broken pipe" traceback, and the
    exit status a command killed by SIGPIPE would have (141), like ``myo``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if buffering == "unbuffered":
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write fails
    try:
        done = subprocess.run(
            [_entry_point("myo-server"), "keys", *argv, "--data-dir", str(sixty_keys)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def _entry_point(name: str) -> str:
    script = Path(sysconfig.get_path("scripts")) / name
    assert script.exists(), f"the {name} console script is not installed at {script} (uv sync)"
    return str(script)


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


def test_version_is_the_distributions() -> None:
    script = Path(sysconfig.get_path("scripts")) / "myo-server"
    done = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
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


def _serve(port: int, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
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
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
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
