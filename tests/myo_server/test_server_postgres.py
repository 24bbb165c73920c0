"""The server on a PostgreSQL database (``--database-url``): a whole job through the API, the
``migrate`` and ``keys`` commands, and database URLs that cannot work."""

from __future__ import annotations

import io
import os
import signal
import socket
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

import myo_retarget
from myo_server import LocalServer
from myo_server._auth import key_id_of
from myo_server._metadata import (
    DatabaseURLError,
    PostgresMetadataStore,
    SqliteMetadataStore,
    open_metadata_store,
)
from myo_server._schema import SCHEMA_VERSION
from myo_server.testing import new_tenant_client, upload_path, wait_job

MARKERSETS = Path(myo_retarget.__file__).parent / "data" / "markersets"


def test_a_retarget_job_runs_with_its_metadata_in_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    with (
        LocalServer(data_dir=tmp_path / "data", workers=1, database_url=postgres_url) as srv,
        new_tenant_client(srv) as client,
    ):
        assert isinstance(srv.runtime.store, PostgresMetadataStore)
        c3d = upload_path(client, myo_retarget.sample_c3d_path())
        xml = upload_path(client, MARKERSETS / "cmu.xml")
        r = client.post(
            "/v1/runs/retarget",
            json={"c3d_asset_id": c3d, "markerset_asset_id": xml},
            headers={"Idempotency-Key": "first"},
        )
        assert r.status_code == 201, r.text
        again = client.post(
            "/v1/runs/retarget",
            json={"c3d_asset_id": c3d, "markerset_asset_id": xml},
            headers={"Idempotency-Key": "first"},
        )
        assert again.json()["job_id"] == r.json()["job_id"]
        job = wait_job(client, r.json()["job_id"], ("SUCCEEDED", "FAILED", "CANCELED"))
        assert job["status"] == "SUCCEEDED", job
        got = httpx.get(job["download_urls"]["retarget_output"], trust_env=False)
        assert np.load(io.BytesIO(got.content))["qpos"].shape[0] == 412
        listed = client.get("/v1/jobs", params={"status": "SUCCEEDED"}).json()
        assert [j["job_id"] for j in listed["jobs"]] == [job["job_id"]]
    assert not (tmp_path / "data" / "myo.sqlite3").exists()  # nothing went to SQLite


def test_migrate_and_keys_use_the_database_url(
    tmp_path: Path, postgres_url: str, console_script: Callable[[str], str]
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [console_script("myo-server"), *args, "--database-url", postgres_url]
        return subprocess.run(
            [*argv, "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
        )

    migrated = run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema {SCHEMA_VERSION}" in migrated.stderr
    assert "@127.0.0.1:" in migrated.stderr  # where, without a password
    created = run("keys", "create", "--name", "lab")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    store = open_metadata_store(postgres_url)
    try:
        assert [(k.key_id, k.name) for k in store.list_api_keys()] == [(key_id_of(key), "lab")]
    finally:
        store.close()
    assert not (tmp_path / "myo.sqlite3").exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://u@h/db", "sqlite:///PATH or postgresql://USER@HOST:PORT/DB"),
        ("sqlite://relative/x.db", "absolute path after three slashes"),
        ("sqlite:///", "absolute path after three slashes"),
        ("no-scheme", "sqlite:///PATH or postgresql://USER@HOST:PORT/DB"),
    ],
)
def test_a_database_url_that_cannot_work_says_which_forms_do(url: str, said: str) -> None:
    with pytest.raises(DatabaseURLError, match=said.replace("(", r"\(")):
        open_metadata_store(url)


def test_a_password_in_a_bad_url_is_not_repeated() -> None:
    with pytest.raises(DatabaseURLError) as err:
        open_metadata_store("mysql://lab:s3cret@db.example/myo")
    assert "s3cret" not in str(err.value)


def test_sqlite_url_opens_that_file(tmp_path: Path) -> None:
    store = open_metadata_store(f"sqlite://{tmp_path.as_posix()}/m%20y.sqlite3")
    try:
        assert isinstance(store, SqliteMetadataStore)
        assert store.path == tmp_path / "m y.sqlite3"
    finally:
        store.close()


def test_an_unreachable_database_fails_the_command_with_where_and_what_to_check(
    tmp_path: Path, console_script: Callable[[str], str]
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://lab:s3cret@127.0.0.1:{port}/myo?connect_timeout=1"
    done = subprocess.run(
        [
            console_script("myo-server"),
            "migrate",
            "--database-url",
            url,
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"cannot connect to the database postgresql://lab@127.0.0.1:{port}/myo" in done.stderr
    assert "check that PostgreSQL runs there" in done.stderr
    assert "s3cret" not in done.stderr and "Traceback" not in done.stderr


def test_a_bad_or_newer_database_fails_the_command_with_exit_2_or_1(
    tmp_path: Path, console_script: Callable[[str], str]
) -> None:
    def migrate(url: str) -> subprocess.CompletedProcess[str]:
        argv = [console_script("myo-server"), "migrate", "--data-dir", str(tmp_path)]
        return subprocess.run(
            [*argv, "--database-url", url], capture_output=True, text=True, timeout=60
        )

    bad = migrate("mysql://lab:s3cret@db/myo")
    assert (bad.returncode, bad.stderr.count("\n")) == (2, 1)
    assert "postgresql://USER@HOST:PORT/DB" in bad.stderr and "s3cret" not in bad.stderr
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    done = migrate(f"sqlite://{newer}")
    assert done.returncode == 1
    assert "written by a newer myo-server (schema 99" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_process_runs_the_jobs_an_api_only_server_queues(
    tmp_path: Path, postgres_url: str, console_script: Callable[[str], str]
) -> None:
    data = tmp_path / "data"
    with (
        LocalServer(data_dir=data, workers=0, database_url=postgres_url) as api,
        new_tenant_client(api) as client,
    ):
        c3d = upload_path(client, myo_retarget.sample_c3d_path())
        xml = upload_path(client, MARKERSETS / "cmu.xml")
        r = client.post("/v1/runs/retarget", json={"c3d_asset_id": c3d, "markerset_asset_id": xml})
        job_id = r.json()["job_id"]
        argv = [console_script("myo-server"), "worker", "--workers", "1", "--data-dir", str(data)]
        worker = subprocess.Popen(
            [*argv, "--database-url", postgres_url, "--log-level", "warning"],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            job = wait_job(client, job_id, ("SUCCEEDED", "FAILED", "CANCELED"))
            assert job["status"] == "SUCCEEDED", job
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert "Traceback" not in err


def test_api_processes_on_one_database_share_each_keys_rate_limit(
    tmp_path: Path, postgres_url: str
) -> None:
    """Each process kept its own buckets: with two API processes a key got twice its burst."""
    limits = {"workers": 0, "rate_limit_per_second": 0.5, "rate_limit_burst": 3}
    with (
        LocalServer(data_dir=tmp_path / "a", database_url=postgres_url, **limits) as a,  # type: ignore[arg-type]
        LocalServer(data_dir=tmp_path / "b", database_url=postgres_url, **limits) as b,  # type: ignore[arg-type]
    ):
        headers = {"X-Api-Key": a.api_key}
        codes = [
            httpx.get(srv.base_url + "/v1/jobs", headers=headers, trust_env=False)
            for srv in (a, b, a, b, a)
        ]
        assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
        assert int(codes[3].headers["retry-after"]) >= 1
        assert "Rate limit exceeded" in codes[3].json()["detail"]


@pytest.mark.parametrize(
    ("url", "said"),
    [("ftp://files/x", "use file:///DIR or s3://BUCKET"), ("s3://No_Such", "is not a bucket name")],
)
def test_a_storage_url_that_cannot_work_fails_the_command_with_exit_2(
    tmp_path: Path, console_script: Callable[[str], str], url: str, said: str
) -> None:
    argv = [console_script("myo-server"), "worker", "--workers", "1", "--data-dir", str(tmp_path)]
    done = subprocess.run([*argv, "--storage-url", url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr


def test_the_urls_come_from_the_environment_as_the_readme_shows(
    tmp_path: Path, postgres_url: str, console_script: Callable[[str], str]
) -> None:
    env = {**os.environ, "MYO_DATABASE_URL": postgres_url, "MYO_STORAGE_URL": "ftp://x"}
    server = console_script("myo-server")
    migrated = subprocess.run(
        [server, "migrate", "--data-dir", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert migrated.returncode == 0 and "@127.0.0.1:" in migrated.stderr, migrated.stderr
    worker = subprocess.run(
        [server, "worker", "--data-dir", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert worker.returncode == 2 and "ftp://x" in worker.stderr  # the storage URL was read
