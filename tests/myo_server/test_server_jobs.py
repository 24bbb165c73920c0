"""Jobs and characters over real HTTP, without workers: validation, queue, cancel, tenancy."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from myo_server import LocalServer
from myo_server.testing import initiate, new_tenant_client, upload

DEFAULT_ID = "0199e278-06e6-7726-a6ba-9929f79005e8"

engine = pytest.importorskip("myo_retarget")
if not hasattr(engine, "character_catalog"):
    pytest.skip("myo_retarget has no character catalog yet", allow_module_level=True)


@pytest.fixture
def inputs(client: httpx.Client) -> tuple[str, str]:
    return upload(client, b"C3D bytes", "walk.c3d"), upload(client, b"<xml/>", "cmu.xml")


def _start(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/v1/runs/retarget", json=body)


def test_start_queues_a_job_with_the_reference_shape(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d, ms = inputs
    r = _start(client, c3d_asset_id=c3d, markerset_asset_id=ms)
    assert r.status_code == 201
    body = r.json()
    assert body["type"] == "retarget"
    assert body["status"] == "QUEUED"
    assert isinstance(body["estimated_wait_time_seconds"], int)
    assert body["message"]
    job = client.get(f"/v1/jobs/{body['job_id']}").json()
    assert job["status"] == "QUEUED"
    assert job["progress"] == 0
    assert job["output"] is None
    assert job["download_urls"] is None
    assert job["error"] is None
    assert job["started_at"] is None
    assert job["input"] == {
        "c3d_asset_id": c3d,
        "markerset_asset_id": ms,
        "character_id": DEFAULT_ID,
        "character_version": "v1.0.0",
        "enable_scaling": True,
        "subject_gender": "male",
        "subject_height": None,
        "subject_weight": None,
        "rotation": None,
        "mocap_scale": None,
        "clip_length": None,
        "n_frames_scaling": None,
        "chunk_size": None,
        "disable_contacts": None,
        "vertical_axis": None,
        "frame_range": None,
        "calibration_window": None,
    }
    # inputs now have an active reference: they cannot be deleted
    asset = client.get(f"/v1/assets/{c3d}").json()
    assert asset["reference_count"] == 1
    r = client.delete(f"/v1/assets/{c3d}")
    assert r.status_code == 409
    assert "active references" in r.json()["detail"]
    assert client.get("/v1/assets", params={"reference_count": 1}).json()["total"] == 2
    # canceling releases them
    assert client.delete(f"/v1/jobs/{body['job_id']}").json()["status"] == "CANCELED"
    assert client.delete(f"/v1/assets/{c3d}").status_code == 204


def test_every_argument_is_accepted_and_echoed(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d, ms = inputs
    r = _start(
        client,
        c3d_asset_id=c3d,
        markerset_asset_id=ms,
        character_id=DEFAULT_ID,
        character_version="v1.0.0",
        enable_scaling=False,
        subject_gender="female",
        subject_height=1.62,
        subject_weight=55.5,
        metadata={"session": 7},
        # the vendor's engine options (its newer SDKs send them)
        rotation="yup_to_zup",
        mocap_scale=10.0,
        clip_length=120,
        n_frames_scaling=30,
        chunk_size=256,
        disable_contacts=True,
    )
    assert r.status_code == 201, r.text
    job = client.get(f"/v1/jobs/{r.json()['job_id']}").json()
    assert job["input"]["enable_scaling"] is False
    assert job["input"]["subject_gender"] == "female"
    assert job["input"]["subject_height"] == 1.62
    assert job["input"]["subject_weight"] == 55.5
    assert job["metadata"] == {"session": 7}
    assert {k: job["input"][k] for k in _ENGINE_OPTIONS} == {
        "rotation": "yup_to_zup",
        "mocap_scale": 10.0,
        "clip_length": 120,
        "n_frames_scaling": 30,
        "chunk_size": 256,
        "disable_contacts": True,
    }
    # -1: the vendor's "whole clip" / "no chunking"
    r = _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, clip_length=-1, chunk_size=-1)
    assert r.status_code == 201, r.text
    job = client.get(f"/v1/jobs/{r.json()['job_id']}").json()
    assert (job["input"]["clip_length"], job["input"]["chunk_size"]) == (-1, -1)


_ENGINE_OPTIONS = (
    "rotation",
    "mocap_scale",
    "clip_length",
    "n_frames_scaling",
    "chunk_size",
    "disable_contacts",
)


def test_inputs_by_storage_key_and_vendor_aliases(
    srv: LocalServer, client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d, ms = inputs
    store = srv.runtime.store
    c3d_key = store.get_asset(c3d, None).storage_key  # type: ignore[union-attr]
    ms_key = store.get_asset(ms, None).storage_key  # type: ignore[union-attr]
    r = _start(client, c3d_s3=f"s3://myo-local/{c3d_key}", markerset_s3=ms_key)
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/jobs/{r.json()['job_id']}").json()["input"]["c3d_asset_id"] == c3d
    r = _start(client, tracker_asset_id=c3d, markerset_asset_id=ms, export_glb=False)
    assert r.status_code == 201, r.text
    r = _start(client, c3d_s3=f"s3://other-bucket/{c3d_key}", markerset_asset_id=ms)
    assert r.status_code == 404
    assert "not in this server's store" in r.json()["detail"]


_BOTH = {"c3d_asset_id": "C", "markerset_asset_id": "M"}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"markerset_asset_id": "M"}, 400, "c3d_asset_id or c3d_s3 is required"),
        ({"c3d_asset_id": "C"}, 400, "markerset_asset_id or markerset_s3 is required"),
        ({**_BOTH, "c3d_s3": "k"}, 400, "Give only one of c3d_asset_id and c3d_s3"),
        ({**_BOTH, "tracker_asset_id": "C"}, 400, "not both"),
        ({**_BOTH, "c3d_asset_id": "nope"}, 404, "asset nope not found"),
        ({"c3d_s3": "tenants/x/y.c3d", "markerset_asset_id": "M"}, 404, "no object"),
        ({**_BOTH, "character_id": "unknown"}, 404, "Character unknown not found"),
        ({**_BOTH, "character_version": "v9.9.9"}, 404, "no version 'v9.9.9' (versions: v1.0.0)"),
        ({**_BOTH, "subject_gender": "other"}, 400, "subject_gender must be 'male' or 'female'"),
        (
            {**_BOTH, "subject_height": 180},
            400,
            "subject_height: subject_height is in metres; 180 looks like centimetres: use 1.80",
        ),
        ({**_BOTH, "subject_height": 0.1}, 400, "subject_height is in metres"),
        ({**_BOTH, "subject_weight": 0}, 400, "subject_weight is in kilograms"),
        ({**_BOTH, "subject_heigth": 1.7}, 400, "subject_heigth"),
        ({**_BOTH, "enable_scaling": "maybe"}, 400, "enable_scaling"),
        ({}, 400, "c3d_asset_id or c3d_s3 is required"),
        (
            {**_BOTH, "export_formats": ["bvh", "fbx"]},
            400,
            "export_formats: unknown export format 'fbx': choose from glb, bvh, mot, csv,"
            " parquet, html",
        ),
        ({**_BOTH, "export_formats": "bvh"}, 400, "export_formats"),
        (
            {**_BOTH, "rotation": "zup"},
            400,
            "rotation: unknown rotation 'zup': use 'yup_to_zup' or 'ydown_to_zup'",
        ),
        ({**_BOTH, "mocap_scale": 0}, 400, "mocap_scale: mocap_scale must be a number > 0"),
        ({**_BOTH, "mocap_scale": -1000}, 400, "mocap_scale must be a number > 0"),
        ({**_BOTH, "clip_length": 0}, 400, "clip_length: clip_length must be -1"),
        ({**_BOTH, "clip_length": -2}, 400, "clip_length must be -1 (the whole recording)"),
        ({**_BOTH, "n_frames_scaling": 0}, 400, "n_frames_scaling must be a number of frames"),
        ({**_BOTH, "chunk_size": 0}, 400, "chunk_size: chunk_size must be -1"),
        ({**_BOTH, "disable_contacts": "maybe"}, 400, "disable_contacts"),
        # JSON true is no number (Python's bool is an int)
        ({**_BOTH, "mocap_scale": True}, 400, "mocap_scale: mocap_scale must be a number"),
        ({**_BOTH, "clip_length": True}, 400, "clip_length: clip_length must be a number"),
        ({**_BOTH, "n_frames_scaling": True}, 400, "n_frames_scaling must be a number"),
        ({**_BOTH, "chunk_size": False}, 400, "chunk_size: chunk_size must be a number"),
    ],
)
def test_bad_requests_get_a_precise_error(
    client: httpx.Client,
    inputs: tuple[str, str],
    body: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    c3d, ms = inputs
    full = {k: (c3d if v == "C" else ms if v == "M" else v) for k, v in body.items()}
    r = _start(client, **full)
    assert r.status_code == status, r.text
    assert fragment in r.json()["detail"]
    assert client.get("/v1/jobs").json()["total"] == 0


def test_an_asset_not_completed_is_refused(client: httpx.Client, inputs: tuple[str, str]) -> None:
    pending = initiate(client, "later.c3d", 10)["asset_id"]
    r = _start(client, c3d_asset_id=pending, markerset_asset_id=inputs[1])
    assert r.status_code == 400
    assert f"asset {pending} is not completed (status pending)" in r.json()["detail"]


def test_idempotency_key_returns_the_same_job(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d, ms = inputs
    headers = {"Idempotency-Key": "retry-me"}
    body = {"c3d_asset_id": c3d, "markerset_asset_id": ms, "subject_height": 1.7}
    first = client.post("/v1/runs/retarget", json=body, headers=headers)
    second = client.post("/v1/runs/retarget", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["job_id"] == first.json()["job_id"]
    assert client.get("/v1/jobs").json()["total"] == 1
    other = client.post("/v1/runs/retarget", json={**body, "subject_height": 1.8}, headers=headers)
    assert other.status_code == 409
    assert "different request body" in other.json()["detail"]
    fresh = client.post("/v1/runs/retarget", json=body, headers={"Idempotency-Key": "new"})
    assert fresh.json()["job_id"] != first.json()["job_id"]
    bad = client.post("/v1/runs/retarget", json=body, headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 400


def test_idempotency_race_loser_gets_the_winners_answer(
    srv: LocalServer,
    client: httpx.Client,
    inputs: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two requests with one key that both pass the look-up: the store keeps the first job and
    # hands the second its answer (the race cannot be timed over HTTP, so the look-up misses).
    monkeypatch.setattr(srv.runtime.store, "get_idempotency", lambda *args: None)
    c3d, ms = inputs
    headers = {"Idempotency-Key": "race"}
    body = {"c3d_asset_id": c3d, "markerset_asset_id": ms}
    first = client.post("/v1/runs/retarget", json=body, headers=headers)
    second = client.post("/v1/runs/retarget", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert client.get("/v1/jobs").json()["total"] == 1
    other = client.post(
        "/v1/runs/retarget", json={**body, "enable_scaling": False}, headers=headers
    )
    assert other.status_code == 409


def test_list_filters(srv: LocalServer, client: httpx.Client, inputs: tuple[str, str]) -> None:
    c3d, ms = inputs
    other_c3d = upload(client, b"other", "other.c3d")
    ids = [
        _start(client, c3d_asset_id=c, markerset_asset_id=ms).json()["job_id"]
        for c in (c3d, c3d, other_c3d)
    ]
    client.delete(f"/v1/jobs/{ids[0]}")

    def listed(**params: Any) -> list[str]:
        r = client.get("/v1/jobs", params=params)
        assert r.status_code == 200, r.text
        return [j["job_id"] for j in r.json()["jobs"]]

    assert listed() == ids[::-1]
    assert listed(status="QUEUED") == [ids[2], ids[1]]
    assert listed(status=["CANCELED", "QUEUED"]) == ids[::-1]
    assert listed(status="canceled") == [ids[0]]
    # The vendor's SDK 0.2.1 sends statuses=: it was ignored, every job listed.
    assert listed(statuses="QUEUED") == [ids[2], ids[1]]
    assert listed(statuses=["CANCELED", "QUEUED"]) == ids[::-1]
    assert listed(statuses="CANCELED", status="QUEUED") == ids[::-1]
    assert listed(type="retarget") == ids[::-1]
    assert listed(input_asset_id=other_c3d) == [ids[2]]
    assert listed(input_asset_id=ms) == ids[::-1]
    assert listed(has_output="false") == ids[::-1]
    assert listed(has_output="true") == []
    run_id = client.get(f"/v1/jobs/{ids[1]}").json()["run_id"]
    assert listed(run_id=run_id) == [ids[1]]
    created = client.get(f"/v1/jobs/{ids[1]}").json()["created_at"]
    assert listed(created_after=created) == [ids[2]]
    assert listed(created_before=created) == [ids[0]]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert listed(created_after=tomorrow) == []
    assert listed(created_before="2000-01-01") == []
    page = client.get("/v1/jobs", params={"limit": 1, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    assert [j["job_id"] for j in page["jobs"]] == [ids[1]]
    for params in ({"status": "DONE"}, {"type": "video"}, {"created_after": "yesterday"}):
        r = client.get("/v1/jobs", params=params)
        assert r.status_code == 400
        assert isinstance(r.json()["detail"], str)


def test_the_engine_options_extensions_are_checked_and_echoed(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    """vertical_axis, frame_range and calibration_window (this server's extensions) are echoed
    in the job's input; a bad one is refused with 400 naming the field and what it takes."""
    c3d, ms = inputs
    given = {"vertical_axis": "+X", "frame_range": [10, 50], "calibration_window": [0.5, 1.5]}
    r = _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, **given)
    assert r.status_code == 201, r.text
    job = client.get(f"/v1/jobs/{r.json()['job_id']}").json()
    assert {k: job["input"][k] for k in given} == given
    for bad, words in (
        ({"vertical_axis": "up"}, "vertical_axis"),
        ({"frame_range": [50, 10]}, "frame_range must be [first, stop)"),
        ({"frame_range": [1, 2, 3]}, "frame_range"),
        ({"calibration_window": [-1, 2]}, "calibration_window must be [start, stop)"),
        ({"rotation": "yup_to_zup", "vertical_axis": "-Y"}, "contradicts vertical_axis"),
        ({"clip_length": 100, "frame_range": [0, 10]}, "clip_length or frame_range"),
    ):
        r = _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, **bad)
        assert r.status_code == 400, bad
        assert words in str(r.json()["detail"]), r.json()


def test_cancel_a_queued_job_then_a_finished_one(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    job_id = _start(client, c3d_asset_id=inputs[0], markerset_asset_id=inputs[1]).json()["job_id"]
    r = client.delete(f"/v1/jobs/{job_id}")
    assert r.status_code == 200
    # The vendor's SDK 0.2.1 reads the canceled job's type too.
    assert r.json() == {
        "job_id": job_id,
        "type": "retarget",
        "status": "CANCELED",
        "message": r.json()["message"],
    }
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "CANCELED"
    assert job["completed_at"] is not None
    again = client.delete(f"/v1/jobs/{job_id}")
    assert again.status_code == 409
    assert "already finished (CANCELED)" in again.json()["detail"]
    assert client.delete("/v1/jobs/unknown").status_code == 404


def test_tenants_cannot_see_each_others_jobs(
    srv: LocalServer, client: httpx.Client, inputs: tuple[str, str]
) -> None:
    job_id = _start(client, c3d_asset_id=inputs[0], markerset_asset_id=inputs[1]).json()["job_id"]
    with new_tenant_client(srv, "intruder") as other:
        assert other.get(f"/v1/jobs/{job_id}").status_code == 404
        assert other.delete(f"/v1/jobs/{job_id}").status_code == 404
        assert other.get("/v1/jobs").json()["total"] == 0
        r = other.post(
            "/v1/runs/retarget", json={"c3d_asset_id": inputs[0], "markerset_asset_id": inputs[1]}
        )
        assert r.status_code == 404
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "QUEUED"


def test_characters_catalog(client: httpx.Client) -> None:
    listing = client.get("/v1/characters").json()
    assert listing["total"] >= 1
    assert (listing["limit"], listing["offset"]) == (50, 0)
    default = next(c for c in listing["characters"] if c["character_id"] == DEFAULT_ID)
    assert default["version_count"] >= 1
    # list items name the latest version (the reference's string); the detail keeps the object
    assert default["latest_version"] == "v1.0.0"
    detail = client.get(f"/v1/characters/{DEFAULT_ID}").json()
    assert detail["latest_version"]["version"] == default["latest_version"]
    assert detail["latest_version"]["status"] == "READY"
    assert detail["latest_version"]["manifest_s3"].startswith("s3://myo-local/characters/")
    assert detail["character_id"] == DEFAULT_ID
    assert detail["name"] == default["name"]
    assert "v1.0.0" in [v["version"] for v in detail["ready_versions"]]
    assert detail["total_versions"] == len(detail["versions"])
    assert detail["ready_version_count"] == len(detail["ready_versions"])
    assert detail["created_at"].endswith("Z")
    name = default["name"]
    assert (
        client.get("/v1/characters", params={"name_contains": name[:3].upper()}).json()["total"]
        >= 1
    )
    assert client.get("/v1/characters", params={"name_contains": "zzz-none"}).json()["total"] == 0
    ready = client.get("/v1/characters", params={"has_ready_versions": "true"}).json()
    assert DEFAULT_ID in [c["character_id"] for c in ready["characters"]]
    assert (
        client.get("/v1/characters", params={"has_ready_versions": "false"}).json()["characters"]
        == []
    )
    assert client.get("/v1/characters/unknown").status_code == 404


def test_validate_manifest(srv: LocalServer, client: httpx.Client) -> None:
    url = f"/v1/characters/{DEFAULT_ID}/validate-manifest"
    r = client.post(url, params={"version": "v1.0.0"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "READY", body
    assert body["character_id"] == DEFAULT_ID
    assert body["version"] == "v1.0.0"
    assert body["manifest_s3_key"].startswith("s3://myo-local/characters/")
    key = body["manifest_s3_key"].removeprefix("s3://myo-local/")
    assert srv.runtime.blobs.exists(key)
    assert client.post(url, params={"version": "v0"}).status_code == 404
    assert client.post(url).status_code == 400
    assert (
        client.post("/v1/characters/nope/validate-manifest", params={"version": "v1"}).status_code
        == 404
    )


def test_one_job_counts_once_even_when_an_asset_is_both_inputs(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d = inputs[0]
    r = _start(client, c3d_asset_id=c3d, markerset_asset_id=c3d)
    assert r.status_code == 201
    assert client.get(f"/v1/assets/{c3d}").json()["reference_count"] == 1
    _start(client, c3d_asset_id=c3d, markerset_asset_id=inputs[1])
    assert client.get(f"/v1/assets/{c3d}").json()["reference_count"] == 2


def test_unknown_character_or_version_reads_the_same_on_every_route(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d, ms = inputs
    unknown = "Character nope not found: GET /v1/characters lists the catalog"
    validate = "/v1/characters/{}/validate-manifest"
    answers = [
        client.get("/v1/characters/nope"),
        client.post(validate.format("nope"), params={"version": "v1"}),
        _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, character_id="nope"),
    ]
    assert [(r.status_code, r.json()["detail"]) for r in answers] == [(404, unknown)] * 3
    no_version = f"Character {DEFAULT_ID} has no version 'v0' (versions: v1.0.0)"
    answers = [
        client.post(validate.format(DEFAULT_ID), params={"version": "v0"}),
        _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, character_version="v0"),
    ]
    assert [(r.status_code, r.json()["detail"]) for r in answers] == [(404, no_version)] * 2


def test_oversized_metadata_is_refused_by_both_creating_routes(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    c3d, ms = inputs
    big = {"notes": "x" * (16 * 1024)}
    answers = [
        client.post(
            "/v1/assets/initiate",
            json={"purpose": "retarget", "filename": "a.c3d", "metadata": big},
        ),
        _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, metadata=big),
    ]
    detail = "metadata is too large (at most 16 KiB of JSON)"
    assert [(r.status_code, r.json()["detail"]) for r in answers] == [(400, detail)] * 2
    assert client.get("/v1/jobs").json()["total"] == 0


def test_status_and_type_filters_take_comma_lists_and_name_the_unknown_value(
    client: httpx.Client, inputs: tuple[str, str]
) -> None:
    job_id = _start(client, c3d_asset_id=inputs[0], markerset_asset_id=inputs[1]).json()["job_id"]
    params: dict[str, Any] = {"status": "failed, queued ,", "type": ["retarget,retarget"]}
    r = client.get("/v1/jobs", params=params)
    assert [j["job_id"] for j in r.json()["jobs"]] == [job_id]
    r = client.get("/v1/jobs", params={"status": ["QUEUED", "queued,Done"]})
    assert (r.status_code, r.json()["detail"]) == (
        400,
        "Unknown status 'DONE': use one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED",
    )
    r = client.get("/v1/jobs", params={"type": "retarget, video"})
    assert (r.status_code, r.json()["detail"]) == (
        400,
        "Unknown job type 'video': use one of retarget",
    )


def test_a_parquet_export_is_refused_by_a_server_without_pyarrow(
    client: httpx.Client, inputs: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    c3d, ms = inputs
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if the export extra was not installed
    r = _start(client, c3d_asset_id=c3d, markerset_asset_id=ms, export_formats=["parquet"])
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith("export_formats: parquet cannot be written: the server lacks pyarrow")
    assert "myo-mcp[export]" in detail  # what to install
    assert client.get("/v1/jobs").json()["total"] == 0
