"""The vendor reference's examples, as written, against a real myo_server on loopback.

``idle_server`` has no workers, so jobs stay QUEUED (deterministic waits, cancels and conflicts);
``local_server`` runs jobs for real with the engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import pytest

from myosdk import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    IntegrityError,
    JobTimeoutError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED_C3D = ROOT.parent / "shared" / "data" / "c3d"
CMU_MARKERSET = ROOT / "src" / "myo_retarget" / "data" / "markersets" / "cmu.xml"
DEFAULT_CHARACTER = "0199e278-06e6-7726-a6ba-9929f79005e8"


@pytest.fixture(params=["local", "postgresql+s3"])
def server(
    request: pytest.FixtureRequest,
    idle_server: Any,
    server_factory: Callable[..., contextlib.AbstractContextManager[Any]],
    tmp_path: Path,
) -> Iterator[Any]:
    """A server without workers: the embedded default, or the scale-out configuration
    (metadata in PostgreSQL, files in an S3 bucket, a server of its own per test)."""
    if request.param == "local":
        yield idle_server
        return
    s3 = request.getfixturevalue("s3_service")
    s3.use(request.getfixturevalue("monkeypatch"))
    with server_factory(
        tmp_path / "scale-out",
        workers=0,
        database_url=request.getfixturevalue("postgres_url"),
        storage_url=f"s3://{s3.create_bucket()}",
    ) as srv:
        yield srv


@pytest.fixture
def client(server: Any) -> Iterator[Client]:
    with Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


@pytest.fixture
def catalog(client: Client, wait_for_catalog: Callable[[Client], None]) -> None:
    wait_for_catalog(client)


@pytest.fixture
def inputs(client: Client, tmp_path: Path) -> tuple[str, str]:
    """A synthetic C3D-named file and the shipped CMU markerset, uploaded (the idle server never
    reads them: its jobs stay queued)."""
    c3d = tmp_path / "walk.c3d"
    c3d.write_bytes(os.urandom(4096))
    markers = tmp_path / "markers.xml"
    markers.write_bytes(CMU_MARKERSET.read_bytes() if CMU_MARKERSET.exists() else b"<markerset/>")
    return (
        client.assets.upload_file(str(c3d))["asset_id"],
        client.assets.upload_file(str(markers))["asset_id"],
    )


# --------------------------------------------------------------------------- assets


def test_upload_get_download_and_list_assets(client: Client, tmp_path: Path) -> None:
    c3d = tmp_path / "walk.c3d"
    data = os.urandom(300_000)
    c3d.write_bytes(data)
    progress: list[tuple[int, int | None]] = []
    result = client.assets.upload_file(
        str(c3d),
        metadata={"subject": "S01"},
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert result["verified"] is True
    assert result["size_bytes"] == len(data)
    assert result["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert progress[-1] == (len(data), len(data))

    asset = client.assets.get(result["asset_id"])
    assert asset["purpose"] == "retarget"  # detected from .c3d
    assert asset["filename"] == "walk.c3d"
    assert asset["status"] == "completed"
    assert asset.get("metadata") == {"subject": "S01"}
    assert (asset.get("download_url") or "").startswith("http")

    # download(asset, destination): by id or with the dict from get(); parents are created.
    by_dict = client.assets.download(asset, tmp_path / "a" / "b" / "copy.c3d")
    assert Path(by_dict["path"]).read_bytes() == data
    by_id = client.assets.download(result["asset_id"], tmp_path / "dir-target")
    assert Path(by_id["path"]).read_bytes() == data
    (tmp_path / "into").mkdir()
    into_dir = client.assets.download(result["asset_id"], tmp_path / "into")
    assert into_dir["path"] == str(tmp_path / "into" / "walk.c3d")
    assert not list(tmp_path.rglob("*.part"))

    page = client.assets.list(purpose="retarget", reference_count=0, limit=1, offset=0)
    assert set(page) >= {"assets", "total", "limit", "offset"}
    assert page["limit"] == 1
    assert len(page["assets"]) == 1
    assert page["total"] >= 1
    every = list(client.assets.iter_assets(purpose="retarget", page_size=2))
    assert len(every) == page["total"]
    assert result["asset_id"] in {a["asset_id"] for a in every}


def test_upload_file_reuse_finds_an_identical_upload(client: Client, tmp_path: Path) -> None:
    """reuse=True: the same bytes, name and purpose give back the completed asset, unsent."""
    c3d = tmp_path / "same.c3d"
    c3d.write_bytes(os.urandom(50_000))
    first = client.assets.upload_file(c3d, reuse=True)
    assert first.get("reused") is not True
    sent: list[int] = []
    again = client.assets.upload_file(c3d, reuse=True, on_progress=lambda d, t: sent.append(d))
    assert again["asset_id"] == first["asset_id"] and again.get("reused") is True
    assert again["verified"] is True and again["checksum_sha256"] == first["checksum_sha256"]
    assert sent == []  # no byte went up
    digest = hashlib.sha256(c3d.read_bytes()).hexdigest()
    assert client.assets.list(sha256=digest)["total"] == 1
    # Another purpose, other metadata or reuse=False: a new asset.
    trackers = client.assets.upload_file(c3d, purpose="trackers", reuse=True)
    labelled = client.assets.upload_file(c3d, metadata={"take": 2}, reuse=True)
    plain = client.assets.upload_file(c3d)
    assert len({first["asset_id"], trackers["asset_id"], labelled["asset_id"]}) == 3
    assert plain["asset_id"] != first["asset_id"]
    # Changed bytes upload anew.
    c3d.write_bytes(os.urandom(50_000))
    changed = client.assets.upload_file(c3d, reuse=True)
    assert changed["asset_id"] not in {first["asset_id"], plain["asset_id"]}


def test_empty_and_non_ascii_files_round_trip(client: Client, tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    result = client.assets.upload_file(empty)
    assert result["size_bytes"] == 0
    assert result["checksum_sha256"] == hashlib.sha256(b"").hexdigest()
    saved = client.assets.download(result["asset_id"], tmp_path / "back" / "empty.xml")
    assert Path(saved["path"]).read_bytes() == b""
    named = tmp_path / "marche rapide été 歩.c3d"
    named.write_bytes(b"\x00\x01" * 1000)
    uploaded = client.assets.upload_file(named)
    assert client.assets.get(uploaded["asset_id"])["filename"] == named.name
    (tmp_path / "into").mkdir()
    into = client.assets.download(uploaded["asset_id"], tmp_path / "into")
    assert Path(into["path"]).name == named.name
    assert Path(into["path"]).read_bytes() == named.read_bytes()


def test_upload_errors_before_any_request(client: Client, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        client.assets.upload_file(str(tmp_path / "missing.c3d"))
    (tmp_path / "walk.bvh").write_text("x")
    with pytest.raises(ValueError, match="purpose"):
        client.assets.upload_file(str(tmp_path / "walk.bvh"))
    # With an explicit purpose, any file goes.
    assert client.assets.upload_file(str(tmp_path / "walk.bvh"), purpose="retarget")["verified"]
    # Marker recordings beyond C3D are retarget inputs; a GLB/glTF animation is motion.
    for name, purpose in (
        ("walk.trc", "retarget"),
        ("walk.parquet", "retarget"),
        ("w.glb", "motion"),
    ):
        (tmp_path / name).write_bytes(b"x")
        asset_id = client.assets.upload_file(tmp_path / name)["asset_id"]
        assert client.assets.get(asset_id)["purpose"] == purpose, name


def test_server_refuses_an_unknown_purpose_with_a_validation_error(
    client: Client, tmp_path: Path
) -> None:
    (tmp_path / "x.c3d").write_bytes(b"1")
    with pytest.raises(ValidationError, match="purpose") as info:
        client.assets.upload_file(str(tmp_path / "x.c3d"), purpose="no-such-purpose")
    assert info.value.status_code in (400, 422)
    assert info.value.request_id


def test_missing_asset_and_bad_key(client: Client, server: Any) -> None:
    with pytest.raises(NotFoundError) as info:
        client.assets.get("01a00000-0000-7000-8000-000000000000")
    assert info.value.request_id
    with (
        Client(api_key="wrong-key", base_url=server.base_url) as bad,
        pytest.raises(AuthenticationError),
    ):
        bad.assets.list()


# --------------------------------------------------------------------------- jobs


@pytest.mark.usefixtures("catalog")
def test_start_with_every_argument_wait_list_cancel_delete(
    client: Client, inputs: tuple[str, str]
) -> None:
    c3d_id, markers_id = inputs
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    job = client.jobs.start_retarget(
        c3d_asset_id=c3d_id,
        markerset_asset_id=markers_id,
        character_id=DEFAULT_CHARACTER,
        character_version="v1.0.0",
        enable_scaling=False,
        subject_gender="female",
        subject_height=1.68,
        subject_weight=61.5,
        metadata={"trial": 3},
    )
    assert job["status"] == "QUEUED"
    assert job["type"] == "retarget"
    job_id = job["job_id"]
    state = client.jobs.get(job_id)
    assert state.get("input") == {
        "c3d_asset_id": c3d_id,
        "markerset_asset_id": markers_id,
        "character_id": DEFAULT_CHARACTER,
        "character_version": "v1.0.0",
        "enable_scaling": False,
        "subject_gender": "female",
        "subject_height": 1.68,
        "subject_weight": 61.5,
        # the vendor's engine options, none given
        "rotation": None,
        "mocap_scale": None,
        "clip_length": None,
        "n_frames_scaling": None,
        "chunk_size": None,
        "disable_contacts": None,
        # myo-server's extensions, none given
        "vertical_axis": None,
        "frame_range": None,
        "calibration_window": None,
    }
    assert state.get("metadata") == {"trial": 3}

    # wait with a timeout: the builtin TimeoutError, carrying the last state.
    seen: list[str] = []
    with pytest.raises(TimeoutError) as timeout:
        client.jobs.wait(
            job_id, interval=0.1, timeout=0.3, on_progress=lambda j: seen.append(j["status"])
        )
    assert isinstance(timeout.value, JobTimeoutError)
    assert timeout.value.job["status"] == "QUEUED"
    assert seen == ["QUEUED"]

    # list with every filter
    page = client.jobs.list(
        status=["QUEUED", "RUNNING"],
        job_type="retarget",
        created_after=before,
        created_before=(datetime.now(timezone.utc) + timedelta(seconds=5)).isoformat(),
        run_id=state.get("run_id"),
        has_output=False,
        input_asset_id=c3d_id,
        limit=10,
        offset=0,
    )
    assert [j["job_id"] for j in page["jobs"]] == [job_id]
    assert page["total"] == 1
    assert client.jobs.list(status="SUCCEEDED", input_asset_id=c3d_id)["total"] == 0
    assert client.jobs.list(has_output=True, input_asset_id=c3d_id)["total"] == 0
    assert (
        client.jobs.list(created_after=datetime.now(timezone.utc) + timedelta(hours=1))["total"]
        == 0
    )
    assert [j["job_id"] for j in client.jobs.iter_jobs(input_asset_id=markers_id)] == [job_id]

    # the inputs are in use: reference_count and delete → ValidationError (409)
    assert client.assets.get(c3d_id).get("reference_count") == 1
    in_use = {a["asset_id"] for a in client.assets.list(reference_count=1, limit=100)["assets"]}
    assert {c3d_id, markers_id} <= in_use
    with pytest.raises(ValidationError) as conflict:
        client.assets.delete(c3d_id)
    assert isinstance(conflict.value, ConflictError)
    assert conflict.value.status_code == 409

    canceled = client.jobs.cancel(job_id)
    assert canceled["job_id"] == job_id
    assert canceled["status"] == "CANCELED"
    assert client.jobs.wait(job_id, interval=0.1, timeout=5)["status"] == "CANCELED"
    with pytest.raises(ConflictError):
        client.jobs.cancel(job_id)

    client.assets.delete(c3d_id)
    with pytest.raises(NotFoundError):
        client.assets.get(c3d_id)


@pytest.mark.usefixtures("catalog")
def test_start_with_storage_keys(client: Client, inputs: tuple[str, str]) -> None:
    def key_of(asset_id: str) -> str:
        path = unquote(urlsplit(client.assets.get(asset_id).get("download_url") or "").path)
        if path.startswith("/storage/objects/"):  # the server's own storage route
            return path.removeprefix("/storage/objects/")
        return path.split("/", 2)[2]  # an S3 bucket's URL: /BUCKET/KEY

    c3d_id, markers_id = inputs
    job = client.jobs.start_retarget(c3d_s3=key_of(c3d_id), markerset_s3=key_of(markers_id))
    assert client.jobs.get(job["job_id"]).get("input", {}).get("c3d_asset_id") == c3d_id
    client.jobs.cancel(job["job_id"])


@pytest.mark.usefixtures("catalog")
def test_server_side_validation_errors_name_the_field(
    client: Client, inputs: tuple[str, str]
) -> None:
    c3d_id, markers_id = inputs
    with pytest.raises(ValidationError, match="subject_height"):
        client.jobs.start_retarget(
            c3d_asset_id=c3d_id, markerset_asset_id=markers_id, subject_height=180
        )
    with pytest.raises(NotFoundError, match="no version"):
        client.jobs.start_retarget(
            c3d_asset_id=c3d_id, markerset_asset_id=markers_id, character_version="v9.9.9"
        )
    assert client.jobs.list(input_asset_id=c3d_id)["total"] == 0


# --------------------------------------------------------------------------- characters


@pytest.mark.usefixtures("catalog")
def test_characters_list_get_validate(client: Client) -> None:
    page = client.characters.list()
    assert set(page) >= {"characters", "total", "limit", "offset"}
    ids = [c["character_id"] for c in page["characters"]]
    assert DEFAULT_CHARACTER in ids
    summary = page["characters"][ids.index(DEFAULT_CHARACTER)]
    name = summary["name"]
    assert (
        client.characters.list(name_contains=name[:3], has_ready_versions=True, limit=5)["total"]
        >= 1
    )
    assert client.characters.list(name_contains="no-such-character-name")["total"] == 0
    assert [c["character_id"] for c in client.characters.iter_characters(page_size=1)] == ids

    character = client.characters.get(DEFAULT_CHARACTER)
    versions = [v["version"] for v in character.get("versions", [])]
    assert "v1.0.0" in versions
    assert character.get("ready_version_count", 0) >= 1
    assert all((v.get("manifest_s3") or "").startswith("s3://") for v in character["versions"])

    checked = client.characters.validate_manifest(DEFAULT_CHARACTER, "v1.0.0")
    assert checked["status"] == "READY"
    assert checked["character_id"] == DEFAULT_CHARACTER
    assert checked["version"] == "v1.0.0"
    with pytest.raises(NotFoundError):
        client.characters.validate_manifest(DEFAULT_CHARACTER, "v0.0.0-missing")
    with pytest.raises(NotFoundError):
        client.characters.get("01a00000-0000-7000-8000-00000000dead")


# --------------------------------------------------------------------------- async twin


@pytest.mark.anyio
async def test_async_client_reference_flow(server: Any, tmp_path: Path) -> None:
    c3d = tmp_path / "walk.c3d"
    c3d.write_bytes(os.urandom(70_000))
    async with AsyncClient(api_key=server.api_key, base_url=server.base_url) as client:
        sizes: list[int] = []

        async def progress(done: int, total: int | None) -> None:  # coroutines are awaited
            await anyio.sleep(0)
            sizes.append(done)

        uploaded = await client.assets.upload_file(c3d, on_progress=progress)
        assert sizes[-1] == 70_000
        reused = await client.assets.upload_file(c3d, reuse=True)
        assert (await client.assets.upload_file(c3d, reuse=True))["asset_id"] == reused["asset_id"]
        asset = await client.assets.get(uploaded["asset_id"])
        saved = await client.assets.download(
            asset, tmp_path / "out" / "c.c3d", on_progress=progress
        )
        assert Path(saved["path"]).read_bytes() == c3d.read_bytes()
        assert sizes[-1] == 70_000
        assert len(sizes) >= 2
        listed = [a["asset_id"] async for a in client.assets.iter_assets(page_size=3)]
        assert uploaded["asset_id"] in listed
        page = await client.assets.list(purpose="retarget", limit=2)
        assert len(page["assets"]) <= 2
        characters = await client.characters.list()
        if characters["characters"]:  # the catalog may still be loading: jobs need it
            markers = tmp_path / "m.xml"
            markers.write_text("<markerset/>")
            markers_id = (await client.assets.upload_file(markers))["asset_id"]
            job = await client.jobs.start_retarget(
                c3d_asset_id=uploaded["asset_id"], markerset_asset_id=markers_id
            )
            with pytest.raises(JobTimeoutError):
                await client.jobs.wait(job["job_id"], interval=0.05, timeout=0.2)
            assert (await client.jobs.cancel(job["job_id"]))["status"] == "CANCELED"
            jobs = [j["job_id"] async for j in client.jobs.iter_jobs(input_asset_id=markers_id)]
            assert jobs == [job["job_id"]]
        await client.assets.delete(uploaded["asset_id"])
        with pytest.raises(NotFoundError):
            await client.assets.get(uploaded["asset_id"])


# --------------------------------------------------------------------------- real jobs


@pytest.fixture(params=["local", "postgresql+s3"])
def real_client(
    request: pytest.FixtureRequest,
    local_server: Any,
    engine_has: Callable[[str], bool],
    wait_for_catalog: Callable[[Client], None],
    server_factory: Callable[..., contextlib.AbstractContextManager[Any]],
    tmp_path: Path,
) -> Iterator[Client]:
    """A client of a server whose workers really run jobs: the embedded default, or the
    scale-out configuration (metadata in PostgreSQL, files in an S3 bucket)."""
    if not engine_has("retarget"):
        pytest.skip("the engine does not export retarget yet: jobs cannot succeed")
    with contextlib.ExitStack() as stack:
        server = local_server
        if request.param == "postgresql+s3":
            s3 = request.getfixturevalue("s3_service")
            s3.use(request.getfixturevalue("monkeypatch"))
            server = stack.enter_context(
                server_factory(
                    tmp_path / "scale-out",
                    workers=1,
                    database_url=request.getfixturevalue("postgres_url"),
                    storage_url=f"s3://{s3.create_bucket()}",
                )
            )
        c = stack.enter_context(Client(api_key=server.api_key, base_url=server.base_url))
        wait_for_catalog(c)
        yield c


@pytest.mark.slow
def test_reference_example_end_to_end(real_client: Client, tmp_path: Path) -> None:
    """Upload a real C3D and the CMU markerset, retarget, wait, download the npz."""
    recording = SHARED_C3D / "cmu_01_01.c3d"
    if not recording.exists():
        pytest.skip(f"{recording} is absent (shared test data)")
    client = real_client
    c3d = client.assets.upload_file(str(recording))
    markerset = client.assets.upload_file(str(CMU_MARKERSET))
    job = client.jobs.start_retarget(
        c3d_asset_id=c3d["asset_id"],
        markerset_asset_id=markerset["asset_id"],
        subject_height=1.75,
    )
    statuses: list[str] = []
    final = client.jobs.wait(
        job["job_id"], interval=0.5, timeout=600, on_progress=lambda j: statuses.append(j["status"])
    )
    assert final["status"] == "SUCCEEDED", final.get("error")
    assert statuses[-1] == "SUCCEEDED"
    output_id = (final.get("output") or {}).get("retarget_output_asset_id")
    assert output_id
    saved = client.assets.download(output_id, tmp_path / "results" / "walk.npz")
    import numpy as np

    with np.load(saved["path"]) as npz:
        assert len(npz.files) > 0
    assert client.jobs.list(has_output=True, input_asset_id=c3d["asset_id"])["total"] == 1


def test_logs_never_show_keys_or_signatures(
    client: Client, server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "m.xml").write_text("<markerset/>")
    with caplog.at_level(logging.DEBUG, logger="myosdk"), caplog.at_level(logging.DEBUG, "httpx"):
        uploaded = client.assets.upload_file(tmp_path / "m.xml")
        client.assets.download(uploaded["asset_id"], tmp_path / "copy.xml")
    assert "assets.download" in caplog.text  # the SDK did log the transfer...
    assert "/m.xml?…" in caplog.text  # ...with the object's URL...
    assert "signature=" not in caplog.text.lower()  # ...without the presigned URL's signature
    assert server.api_key not in caplog.text
    fields = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert fields  # httpx's own request lines are there, redacted


def test_real_rate_limit_is_absorbed_by_retry_after(
    server_factory: Callable[..., Any],
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server limiting the key to 2 requests/s (burst 2): the SDK waits as told and every call
    succeeds; without retries the 429 surfaces as RateLimitError with ``retry_after``."""
    with server_factory(
        tmp_path_factory.mktemp("myo-limited"),
        workers=0,
        rate_limit_per_second=2.0,
        rate_limit_burst=2,
    ) as server:
        with (
            caplog.at_level(logging.INFO, logger="myosdk"),
            Client(api_key=server.api_key, base_url=server.base_url) as client,
        ):
            for _ in range(4):
                assert client.assets.list(limit=1)["limit"] == 1
        assert "assets.list: HTTP 429; retrying" in caplog.text
        errors: list[RateLimitError] = []
        with Client(api_key=server.api_key, base_url=server.base_url, max_retries=0) as eager:
            for _ in range(5):
                try:
                    eager.assets.list(limit=1)
                except RateLimitError as exc:
                    errors.append(exc)
                    break
        assert errors, "five calls at once never hit the limit"
        assert errors[0].status_code == 429
        assert errors[0].retry_after is not None
        assert errors[0].retry_after >= 1
        assert errors[0].request_id


def test_a_file_growing_during_upload_is_refused(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "live.c3d"
    path.write_bytes(os.urandom(16 << 20))  # longer than the read-ahead (a few MiB)

    def grow(done: int, total: int | None) -> None:
        with open(path, "ab") as f:  # another program still writing the recording
            f.write(os.urandom(1 << 20))

    with pytest.raises(IntegrityError, match="changed while uploading") as info:
        client.assets.upload_file(path, on_progress=grow)
    assert info.value.expected == 16 << 20
