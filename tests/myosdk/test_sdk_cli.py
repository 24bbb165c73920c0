"""The ``myo`` CLI against a real myo_server: JSON for scripts, tables for people, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from myo_retarget import SHIPPED_MARKERSETS, sample_c3d_path
from myosdk import Client
from myosdk._cli import main

ROOT = Path(__file__).resolve().parents[2]
CMU_MARKERSET = ROOT / "src" / "myo_retarget" / "data" / "markersets" / "cmu.xml"
PIG_MARKERSET = CMU_MARKERSET.with_name("plug-in-gait.xml")
SHARED_C3D = ROOT.parent / "shared" / "data" / "c3d"
DEFAULT_CHARACTER = "0199e278-06e6-7726-a6ba-9929f79005e8"


@pytest.fixture
def env(idle_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MYOSDK_API_KEY", idle_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", idle_server.base_url)
    return idle_server


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = _run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.usefixtures("env")
def test_assets_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    c3d = tmp_path / "walk.c3d"
    c3d.write_bytes(os.urandom(50_000))
    uploaded = _json(capsys, "upload", str(c3d), "--metadata", '{"subject": "S02"}')
    asset_id = uploaded["asset_id"]
    assert uploaded["verified"] is True

    code, out, _ = _run(capsys, "upload", "-q", str(c3d))  # people: just the id
    assert code == 0
    assert out.strip() != asset_id  # other metadata: another asset
    assert len(out.strip()) > 10
    # The same file again: its identical upload is reused, nothing is sent.
    assert _run(capsys, "upload", "-q", str(c3d))[1] == out

    asset = _json(capsys, "assets", "get", asset_id)
    assert asset["metadata"] == {"subject": "S02"}
    listed = _json(capsys, "assets", "list", "--purpose", "retarget", "--limit", "100")
    assert asset_id in {a["asset_id"] for a in listed["assets"]}
    everything = _json(capsys, "assets", "list", "--all", "--reference-count", "0")
    assert asset_id in {a["asset_id"] for a in everything["assets"]}

    code, out, _ = _run(capsys, "assets", "list")  # a table for people
    assert code == 0
    assert "walk.c3d" in out

    saved = _json(capsys, "assets", "download", asset_id, str(tmp_path / "out"))
    assert Path(saved["path"]).read_bytes() == c3d.read_bytes()

    code, out, _ = _run(capsys, "assets", "delete", asset_id)
    assert (code, out.strip()) == (0, "deleted")
    code, out, err = _run(capsys, "assets", "delete", asset_id)
    assert code == 1
    assert out == ""
    assert err.startswith("myo: error: assets.delete failed with HTTP 404")
    assert err.count("\n") == 1  # one line


def test_assets_cleanup_lists_then_deletes(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a server of its own (it deletes): a dry run by default, --yes deletes."""
    with server_factory(tmp_path / "server", workers=0) as server:
        monkeypatch.setenv("MYOSDK_API_KEY", server.api_key)
        monkeypatch.setenv("MYOSDK_BASE_URL", server.base_url)
        c3d = tmp_path / "old.c3d"
        c3d.write_bytes(os.urandom(2_000))
        asset_id = _json(capsys, "upload", str(c3d))["asset_id"]
        assert _json(capsys, "assets", "cleanup", "--older-than-days", "1")["assets"] == []
        plan = _json(capsys, "assets", "cleanup", "--older-than-days", "0")
        assert plan["dry_run"] is True and [a["asset_id"] for a in plan["assets"]] == [asset_id]
        code, out, _ = _run(capsys, "assets", "cleanup", "--older-than-days", "0")
        assert code == 0 and "old.c3d" in out and "--yes" in out and "Jobs cannot" in out
        done = _json(capsys, "assets", "cleanup", "--older-than-days", "0", "--yes")
        assert done["dry_run"] is False and done["size_bytes"] == 2_000
        assert _json(capsys, "assets", "list")["total"] == 0


@pytest.mark.usefixtures("env")
def test_jobs_and_characters_commands(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    idle_server: Any,
    wait_for_catalog: Callable[[Client], None],
) -> None:
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as client:
        wait_for_catalog(client)
        c3d, markers = tmp_path / "walk.c3d", tmp_path / "m.xml"
        c3d.write_bytes(b"x" * 100)
        markers.write_text("<markerset/>")
        c3d_id = client.assets.upload_file(c3d)["asset_id"]
        markers_id = client.assets.upload_file(markers)["asset_id"]
        job_id = client.jobs.start_retarget(c3d_asset_id=c3d_id, markerset_asset_id=markers_id)[
            "job_id"
        ]

    page = _json(
        capsys, "jobs", "list", "--status", "QUEUED", "--status", "RUNNING",
        "--type", "retarget", "--has-output", "false", "--input-asset-id", c3d_id,
    )  # fmt: skip
    assert [j["job_id"] for j in page["jobs"]] == [job_id]
    assert _json(capsys, "jobs", "get", job_id)["status"] == "QUEUED"
    code, out, _ = _run(capsys, "jobs", "list", "--input-asset-id", c3d_id)
    assert code == 0
    assert job_id in out
    code, _, err = _run(capsys, "jobs", "wait", job_id, "--timeout", "0.2", "--interval", "0.05")
    assert code == 1
    assert "still QUEUED" in err
    assert _json(capsys, "jobs", "cancel", job_id)["status"] == "CANCELED"
    code, _, err = _run(capsys, "jobs", "cancel", job_id)
    assert code == 1
    assert "HTTP 409" in err

    characters = _json(capsys, "characters", "list", "--ready", "true")
    assert DEFAULT_CHARACTER in {c["character_id"] for c in characters["characters"]}
    code, out, err = _run(capsys, "characters", "list")  # the table shows the latest version
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if DEFAULT_CHARACTER in line]
    assert "v1.0.0" in row.split()
    detail = _json(capsys, "characters", "get", DEFAULT_CHARACTER)
    assert any(v["version"] == "v1.0.0" for v in detail["versions"])
    code, out, _ = _run(capsys, "characters", "get", DEFAULT_CHARACTER)
    assert code == 0
    assert "character_id" in out


def test_usage_and_configuration_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["jobs"])
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as unknown:
        main(["frobnicate"])
    assert unknown.value.code == 2
    capsys.readouterr()
    monkeypatch.delenv("MYOSDK_API_KEY", raising=False)
    code, _, err = _run(capsys, "characters", "list")
    assert code == 1
    assert "--api-key" in err
    assert "MYOSDK_API_KEY" in err
    code, _, err = _run(
        capsys, "--api-key", "k", "--base-url", "http://127.0.0.1:9", "jobs", "get", "x"
    )
    assert code == 1
    assert "could not complete" in err


def test_options_after_the_subcommand_and_a_wrong_key(
    capsys: pytest.CaptureFixture[str], idle_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MYOSDK_API_KEY", raising=False)
    monkeypatch.delenv("MYOSDK_BASE_URL", raising=False)
    code, out, err = _run(
        capsys, "characters", "list", "--json", "--api-key", idle_server.api_key,
        "--base-url", idle_server.base_url,
    )  # fmt: skip
    assert code == 0, err
    assert "characters" in json.loads(out)
    code, _, err = _run(
        capsys, "--base-url", idle_server.base_url, "--api-key", "nope", "assets", "list"
    )
    assert code == 1
    assert "HTTP 401" in err
    assert "nope" not in err


def test_installed_entry_point(idle_server: Any) -> None:
    script = Path(sysconfig.get_path("scripts")) / "myo"
    if not script.exists():
        pytest.skip(f"the myo console script is not installed at {script}")
    env = {
        **os.environ,
        "MYOSDK_API_KEY": idle_server.api_key,
        "MYOSDK_BASE_URL": idle_server.base_url,
    }
    done = subprocess.run(
        [str(script), "--json", "assets", "list", "--limit", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["limit"] == 1
    usage = subprocess.run(
        [str(script), "retarget"], capture_output=True, text=True, check=False, timeout=60
    )
    assert usage.returncode == 2
    assert "usage: myo retarget" in usage.stderr


@pytest.mark.slow
def test_retarget_command_end_to_end(
    capsys: pytest.CaptureFixture[str],
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    engine_has: Callable[[str], bool],
    wait_for_catalog: Callable[[Client], None],
) -> None:
    recording = SHARED_C3D / "cmu_01_01.c3d"
    if not recording.exists():
        pytest.skip(f"{recording} is absent (shared test data)")
    if not engine_has("retarget"):
        pytest.skip("the engine does not export retarget yet")
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        wait_for_catalog(client)
    monkeypatch.setenv("MYOSDK_API_KEY", local_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", local_server.base_url)
    out_path = tmp_path / "res" / "walk.npz"
    code, out, err = _run(
        capsys, "retarget", str(recording), str(CMU_MARKERSET), "-o", str(out_path),
        "--height", "1.75", "--interval", "0.3",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == str(out_path)
    assert out_path.stat().st_size > 0
    assert "SUCCEEDED" in err  # the progress bar on stderr
    result = _json(
        capsys, "retarget", str(recording), str(CMU_MARKERSET), "-o", str(tmp_path / "b.npz")
    )
    assert result["status"] == "SUCCEEDED"
    assert result["path"] == str(tmp_path / "b.npz")
    assert len(result["checksum_sha256"]) == 64


def test_retarget_export_downloads_each_format_beside_the_npz(
    capsys: pytest.CaptureFixture[str],
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    wait_for_catalog: Callable[[Client], None],
) -> None:
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        wait_for_catalog(client)
    monkeypatch.setenv("MYOSDK_API_KEY", local_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", local_server.base_url)
    out = tmp_path / "res" / "walk.npz"
    result = _json(
        capsys, "retarget", str(sample_c3d_path()), "cmu", "-o", str(out),
        "--export", "glb,bvh,mot,csv,parquet", "--interval", "0.2",
    )  # fmt: skip
    assert result["status"] == "SUCCEEDED"
    assert result["path"] == str(out)
    written = [out, *(out.with_suffix(ext) for ext in (".glb", ".bvh", ".mot", ".csv"))]
    written += [out.with_name("walk_qpos.parquet"), out.with_name("walk_xpos.parquet")]
    assert result["files"] == [str(path) for path in written]  # every file, the .npz first
    assert sorted(out.parent.iterdir()) == sorted(written)  # and nothing else
    assert out.with_suffix(".glb").read_bytes()[:4] == b"glTF"
    assert out.with_suffix(".bvh").read_text().startswith("HIERARCHY")
    assert "endheader" in out.with_suffix(".mot").read_text()
    assert out.with_suffix(".csv").read_text().startswith("time,")
    assert pq.read_table(out.with_name("walk_xpos.parquet")).num_rows == 412
    # for people: each file on a line; html is the viewer page
    code, text, err = _run(
        capsys, "retarget", str(sample_c3d_path()), "cmu", "-o", str(tmp_path / "v.npz"),
        "--export", "html", "-q",
    )  # fmt: skip
    assert code == 0, err
    assert text.splitlines() == [str(tmp_path / "v.npz"), str(tmp_path / "v.html")]
    assert (tmp_path / "v.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_retarget_of_a_failing_job_says_why_in_one_line(
    capsys: pytest.CaptureFixture[str],
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    wait_for_catalog: Callable[[Client], None],
) -> None:
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        wait_for_catalog(client)
    monkeypatch.setenv("MYOSDK_API_KEY", local_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", local_server.base_url)
    # the CMU markerset with every marker renamed: valid, but it matches no recorded label
    foreign = tmp_path / "foreign.xml"
    foreign.write_text(CMU_MARKERSET.read_text().replace('name="', 'name="X_'))
    code, out, err = _run(
        capsys, "retarget", str(sample_c3d_path()), str(foreign), "-o", str(tmp_path / "w.npz"),
        "-q", "--interval", "0.2",
    )  # fmt: skip
    assert code == 1
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("myo: error: job ") and " FAILED: " in line
    assert "marker" in line and "error_message" not in line  # the message, not the object


@pytest.mark.usefixtures("env")
def test_retarget_export_of_an_unknown_format_stops_before_any_upload(
    capsys: pytest.CaptureFixture[str], idle_server: Any, tmp_path: Path
) -> None:
    c3d = tmp_path / "walk.c3d"
    c3d.write_bytes(b"x" * 100)
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as client:
        before = client.assets.list(limit=1)["total"]
        with pytest.raises(SystemExit) as usage:
            main(["retarget", str(c3d), "cmu", "--export", "glb,fbx"])
        assert usage.value.code == 2
        err = capsys.readouterr().err
        assert err.splitlines()[-1] == (
            "myo retarget: error: argument --export: unknown export format 'fbx': choose from"
            " glb, bvh, mot, csv, parquet, html"
        )
        assert client.assets.list(limit=1)["total"] == before  # nothing uploaded


def test_myosdk_log_env_prints_requests_without_the_key(idle_server: Any) -> None:
    code = "from myosdk import Client\nwith Client() as c:\n    c.characters.list(limit=1)\n"
    env = {
        **os.environ,
        "MYOSDK_API_KEY": idle_server.api_key,
        "MYOSDK_BASE_URL": idle_server.base_url,
        "MYOSDK_LOG": "debug",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "myosdk DEBUG characters.list GET" in done.stderr
    assert "-> 200" in done.stderr
    assert idle_server.api_key not in done.stderr
    assert done.stdout == ""


def test_version_is_the_distributions(console_script: Callable[[str], str]) -> None:
    import myosdk

    done = subprocess.run(
        [console_script("myo"), "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == version("myo-mcp") == myosdk.__version__


@pytest.mark.parametrize("argv", [["assets", "list"], ["--json", "assets", "list"]])
def test_output_into_a_closed_pipe_exits_quietly(
    idle_server: Any,
    tmp_path: Path,
    argv: list[str],
    run_into_closed_pipe: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """``myo assets list | head`` when head has gone: no "Broken pipe" error, no traceback, and
    the exit status a command killed by SIGPIPE would have (141)."""
    (tmp_path / "a.c3d").write_bytes(b"x" * 100)
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as client:
        client.assets.upload_file(tmp_path / "a.c3d")
    env = {"MYOSDK_API_KEY": idle_server.api_key, "MYOSDK_BASE_URL": idle_server.base_url}
    done = run_into_closed_pipe(["myo", *argv], env)
    assert (done.returncode, done.stderr) == (141, "")


@pytest.mark.slow
def test_retarget_with_a_shipped_markerset_name(
    capsys: pytest.CaptureFixture[str],
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    wait_for_catalog: Callable[[Client], None],
) -> None:
    """``myo retarget FILE plug-in-gait`` uploads the shipped XML, as the other CLIs accept it."""
    recording = SHARED_C3D / "pig_static_one_frame.c3d"
    if not recording.exists():
        pytest.skip(f"{recording} is absent (shared test data)")
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        wait_for_catalog(client)
    monkeypatch.setenv("MYOSDK_API_KEY", local_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", local_server.base_url)
    monkeypatch.chdir(tmp_path)  # no file named plug-in-gait here: the name is the shipped one
    result = _json(capsys, "retarget", str(recording), "plug-in-gait", "-o", "pig.npz")
    assert result["status"] == "SUCCEEDED"
    assert (tmp_path / "pig.npz").stat().st_size > 0
    uploaded = _json(capsys, "assets", "get", result["markerset_asset_id"])
    assert uploaded["filename"] == "plug-in-gait.xml"
    assert uploaded["checksum_sha256"] == hashlib.sha256(PIG_MARKERSET.read_bytes()).hexdigest()


@pytest.mark.usefixtures("env")
def test_retarget_with_neither_a_file_nor_a_shipped_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    c3d = tmp_path / "walk.c3d"
    c3d.write_bytes(b"x" * 100)
    code, out, err = _run(capsys, "retarget", str(c3d), "plug-in-gate")
    assert (code, out) == (1, "")
    assert "plug-in-gate" in err and ", ".join(SHIPPED_MARKERSETS) in err
    assert err.count("\n") == 1


def test_jobs_download_outputs_writes_each_output_and_lists_them(
    local_server: Any,
    wait_for_catalog: Callable[[Client], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MYOSDK_API_KEY", local_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", local_server.base_url)
    with Client() as client:
        wait_for_catalog(client)
        # the shipped sample: this test needs no shared recording
        c3d = client.assets.upload_file(str(sample_c3d_path()))["asset_id"]
        ms = client.assets.upload_file(str(CMU_MARKERSET))["asset_id"]
        job_id = client.jobs.start_retarget(c3d_asset_id=c3d, markerset_asset_id=ms)["job_id"]
        assert client.jobs.wait(job_id, interval=0.2, timeout=240)["status"] == "SUCCEEDED"
    files = _json(capsys, "jobs", "download-outputs", job_id, str(tmp_path / "out"))
    assert set(files) == {"retarget_output", "qpos", "xpos", "model", "viewer"}
    assert files["model"] == str(tmp_path / "out" / "cmu_01_01_412_model.mjb")
    assert all(Path(path).stat().st_size > 0 for path in files.values())
    code, out, _ = _run(capsys, "jobs", "download-outputs", job_id, str(tmp_path / "again"))
    assert code == 0
    assert (
        out.splitlines()[0]
        == f"retarget_output\t{tmp_path / 'again' / 'cmu_01_01_412_retarget.npz'}"
    )
