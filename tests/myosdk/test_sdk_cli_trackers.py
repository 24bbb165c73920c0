"""``myo retarget`` of marker tables with the vendor's engine options (issue 12), against a real
myo_server: --rotation, --mocap-scale, --clip-length and --n-frames-scaling reach the job and do
what their help says; wrong values stop before anything is uploaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.myo_retarget.tracker_factory import table_columns, write_csv
from tests.myosdk.test_sdk_cli import _json, _run

from myo_retarget import Motion, read_c3d, sample_c3d_path
from myosdk import Client
from myosdk._cli import main

OPTIONS = ("--rotation", "--mocap-scale", "--clip-length", "--n-frames-scaling")


def test_retarget_a_table_in_metres_with_the_vendor_options(
    capsys: pytest.CaptureFixture[str],
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    wait_for_catalog: Callable[[Client], None],
) -> None:
    """The sample walk as a CSV trackers table in metres with +Y up: --mocap-scale 1 and
    --rotation yup_to_zup read it right, --clip-length 100 keeps the first 100 frames, and the job
    records all four options."""
    rec = read_c3d(sample_c3d_path())
    columns = table_columns(rec.raw_labels, rec.positions, rec.rate, scale=1.0, vertical="+Y")
    table = write_csv(tmp_path / "walk_m.csv", columns)
    with Client(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        wait_for_catalog(client)
    monkeypatch.setenv("MYOSDK_API_KEY", local_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", local_server.base_url)
    monkeypatch.chdir(tmp_path)
    result = _json(
        capsys, "retarget", str(table), "cmu", "--mocap-scale", "1", "--rotation", "yup_to_zup",
        "--clip-length", "100", "--n-frames-scaling", "20", "--interval", "0.2",
    )  # fmt: skip
    assert result["status"] == "SUCCEEDED"
    assert Path(result["path"]).resolve() == tmp_path / "walk_m.npz"  # named like the table
    job = _json(capsys, "jobs", "get", result["job_id"])
    recorded = {k: job["input"][k] for k in ("mocap_scale", "rotation", "clip_length")}
    assert recorded == {"mocap_scale": 1, "rotation": "yup_to_zup", "clip_length": 100}
    assert job["input"]["n_frames_scaling"] == 20
    assert _json(capsys, "assets", "get", result["c3d_asset_id"])["filename"] == "walk_m.csv"
    motion = Motion.load(result["path"])
    assert motion.n_frames == 100
    # Read in metres and turned Z-up, the walk fits as the C3D does: residuals of millimetres.
    assert motion.summary()["rms_residual_mm"] < 20


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--rotation", "zup"], "argument --rotation: invalid choice: 'zup'"),
        (["--mocap-scale", "0"], "argument --mocap-scale: must be a number > 0"),
        (["--mocap-scale", "mm"], "argument --mocap-scale: must be a number > 0"),
        (["--clip-length", "0"], "argument --clip-length: must be a whole number >= 1 or -1"),
        (["--n-frames-scaling", "-3"], "argument --n-frames-scaling: must be a whole number >= 1"),
    ],
)
def test_wrong_option_values_stop_before_any_upload(
    capsys: pytest.CaptureFixture[str],
    idle_server: Any,
    tmp_path: Path,
    argv: list[str],
    said: str,
) -> None:
    table = tmp_path / "t.csv"
    table.write_text("time,A_x,A_y,A_z\n0,1,2,3\n")
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as client:
        before = client.assets.list(limit=1)["total"]
        with pytest.raises(SystemExit) as usage:
            main(["retarget", str(table), "cmu", *argv])
        assert usage.value.code == 2
        assert said in capsys.readouterr().err.splitlines()[-1]
        assert client.assets.list(limit=1)["total"] == before  # nothing uploaded


def test_retarget_help_says_what_each_option_does_here(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["retarget", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(option in text for option in OPTIONS)
    assert "{yup_to_zup,ydown_to_zup}" in text and "default: detected" in text
    assert "CSV/parquet" in text and "1000: millimetres" in text
    assert "first N frames" in text and "scale the character" in text
    assert ".trc" in text and ".parquet" in text  # the recording argument names the formats


def test_the_options_are_left_out_when_not_given(
    capsys: pytest.CaptureFixture[str],
    idle_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Without the options the job has none (the server's defaults); with them, they are sent
    as given (the job stays queued: the idle server runs none)."""
    monkeypatch.setenv("MYOSDK_API_KEY", idle_server.api_key)
    monkeypatch.setenv("MYOSDK_BASE_URL", idle_server.base_url)
    table = tmp_path / "t.csv"
    table.write_text("time,A_x,A_y,A_z\n0,1,2,3\n")
    inputs = []
    for extra in (
        [],
        ["--rotation", "ydown_to_zup", "--mocap-scale", "25.4", "--clip-length", "-1"],
    ):
        code, _, err = _run(
            capsys, "retarget", str(table), "cmu", "-q", "--timeout", "0.3", "--interval", "0.1",
            *extra,
        )  # fmt: skip
        assert code == 1 and "still QUEUED" in err, err
        with Client() as client:
            (job,) = client.jobs.list(status=["QUEUED"], limit=1)["jobs"]
            inputs.append(job["input"])
            client.jobs.cancel(job["job_id"])
    plain, given = inputs
    assert all(plain.get(name) is None for name in ("rotation", "mocap_scale", "clip_length"))
    assert (given["rotation"], given["mocap_scale"], given["clip_length"]) == (
        "ydown_to_zup",
        25.4,
        -1,
    )
