"""Storage and metadata internals: atomic blobs, safe keys, signatures, and what only the SQLite
store does (its file, its space, its plans; the store's contract: test_metadata_contract.py)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from myo_server import LocalServer
from myo_server._db import DatabaseError
from myo_server._db_sqlite import SqliteDatabase
from myo_server._metadata import SqliteMetadataStore
from myo_server._records import AssetRecord, JobRecord
from myo_server._schema import SCHEMA_VERSION, schema
from myo_server._signing import SignatureError, Signer, UploadPolicy, load_or_create_secret
from myo_server._space import out_of_space
from myo_server._storage import (
    DirectoryBlobStore,
    InvalidKeyError,
    asset_key,
    check_key,
    put_file,
    safe_filename,
    sha256_of,
)
from myo_server._util import new_id, now

from .records import asset, output, queued_job


def test_blob_writes_are_invisible_until_commit(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    w = store.writer("a/b/c.bin")
    w.write(b"hello ")
    w.write(b"world")
    assert not store.exists("a/b/c.bin")
    assert w.commit() == 11
    assert store.size("a/b/c.bin") == 11
    with store.open("a/b/c.bin") as fh:
        fh.seek(6)
        assert fh.read() == b"world"
    w2 = store.writer("a/b/c.bin")
    w2.write(b"partial")
    w2.abort()
    assert store.size("a/b/c.bin") == 11
    assert not list((tmp_path / ".tmp").glob("*.part"))
    store.delete("a/b/c.bin")
    store.delete("a/b/c.bin")
    assert not (tmp_path / "a").exists()


_WRITER = """
import os, sys
from pathlib import Path
from myo_server._storage import DirectoryBlobStore
writer = DirectoryBlobStore(Path(sys.argv[1])).writer("tenants/t/assets/a/walk.c3d")
writer.write(b"half an upload")
if sys.argv[2] == "crash":
    os._exit(1)  # no abort: as a killed server leaves it
print("writing", flush=True)
sys.stdin.read()  # an upload in progress until the test closes stdin
writer.abort()
"""


def test_temp_files_of_dead_writers_are_removed_at_start_live_ones_kept(tmp_path: Path) -> None:
    tmp = tmp_path / "blobs" / ".tmp"
    writer = [sys.executable, "-c", _WRITER, str(tmp_path / "blobs")]
    subprocess.run([*writer, "crash"], check=False, timeout=60)
    crashed = set(tmp.glob("*.part"))
    assert len(crashed) == 1
    with subprocess.Popen([*writer, "live"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as live:
        assert live.stdin is not None
        assert live.stdout is not None
        assert live.stdout.readline() == b"writing\n"
        # files of no known writer (named as before writers had owners): kept for a day
        old, recent = tmp / "0123456789abcdef.part", tmp / "fedcba9876543210.part"
        for legacy in (old, recent):
            legacy.write_bytes(b"x")
        os.utime(old, (time.time() - 2 * 86400,) * 2)
        in_use = set(tmp.glob("*.part")) - crashed - {old, recent}
        assert len(in_use) == 1
        try:
            with LocalServer(data_dir=tmp_path, workers=0):
                # The server's own writes (its start copies the character catalog into storage
                # in the background) are named after this process: not what the sweep is about.
                ours = f"{os.getpid()}-"
                left = {p for p in tmp.glob("*.part") if not p.name.startswith(ours)}
                assert left == in_use | {recent}
        finally:
            live.stdin.close()  # the upload in progress ends (its writer aborts)
    assert set(tmp.glob("*.part")) == {recent}
    owner = next(iter(crashed)).name.split(".")[0]
    assert not list(tmp.glob(f"{owner}.*"))  # the dead writer's lock went with its files


def test_put_file_copies_and_hashes_or_leaves_nothing(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "blobs")
    source = tmp_path / "src.bin"
    source.write_bytes(bytes(range(256)) * 5000)  # more than one 1 MiB chunk
    size, sha = put_file(store, "a/b.bin", source)
    assert (size, sha) == (source.stat().st_size, hashlib.sha256(source.read_bytes()).hexdigest())
    with store.open("a/b.bin") as fh:
        assert sha256_of(fh) == sha
    with pytest.raises(FileNotFoundError):
        put_file(store, "a/c.bin", tmp_path / "missing.bin")
    assert not store.exists("a/c.bin")
    assert list((tmp_path / "blobs" / ".tmp").glob("*.part")) == []


@pytest.mark.parametrize("key", ["", "../x", "a/../b", "/abs", "a//b", "a/./b", "a\\b", "a/b\x00"])
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        check_key(key)


def test_safe_filename() -> None:
    assert safe_filename("walk 01 (take 2).c3d") == "walk_01_take_2_.c3d"
    assert safe_filename("..") == "file"
    assert safe_filename("日本.xml") == "xml"
    assert asset_key("t1", "a1", "walk 01.c3d") == "tenants/t1/assets/a1/walk_01.c3d"
    assert check_key(asset_key("t1", "a1", "..")) == "tenants/t1/assets/a1/file"


def test_secret_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    a = load_or_create_secret(path)
    assert load_or_create_secret(path) == a
    assert path.stat().st_mode & 0o077 == 0


def test_upload_policy_round_trip_and_tampering() -> None:
    signer = Signer(b"k" * 32)
    fields = signer.upload_fields(UploadPolicy("id1", "t/a/id1/f.c3d", 10, 4_000_000_000))
    assert signer.verify_upload(fields).max_size == 10
    with pytest.raises(SignatureError):
        Signer(b"o" * 32).verify_upload(fields)
    with pytest.raises(SignatureError):
        signer.verify_upload({**fields, "key": "t/a/other/f.c3d"})


def _job(job_id: str) -> JobRecord:
    return queued_job(job_id)


def _pending_asset(store: SqliteMetadataStore) -> AssetRecord:
    record = asset()
    store.insert_asset(record)
    return record


def _schema_1_file(path: Path, job_id: str) -> None:
    """The file as a schema-1 server left it (without the indexes added later in schema 1),
    holding one queued job."""
    old = SqliteDatabase(path)
    old.migrate(schema(old.dialect)[:1])
    t = now()
    with old.write() as conn:
        conn.execute(
            "INSERT INTO jobs (job_id, tenant_id, type, status, params, run_id, created_at,"
            " updated_at) VALUES (?, 't', 'retarget', 'QUEUED', '{}', 'r', ?, ?)",
            (job_id, t, t),
        )
    old.close()


def test_a_schema_1_data_dir_gets_the_outputs_columns_on_open_and_keeps_its_jobs(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.sqlite3"
    old_job, new_job = new_id(), new_id()
    _schema_1_file(db, old_job)
    store = SqliteMetadataStore(db)
    got = store.get_job(old_job, "t")
    assert got is not None and got.outputs == {} and got.output_info is None
    store.create_job(_job(new_job))
    claimed = store.claim_job("w")
    assert claimed is not None and claimed.job_id == old_job  # the older job first
    npz, model = output("walk_retarget.npz"), output("walk_model.mjb")
    info = {"processing_time_seconds": 1.5}
    assert store.finish_job_succeeded(old_job, "w", npz, "done", {"model": model}, info)
    got = store.get_job(old_job, "t")
    assert got is not None
    assert got.outputs == {"model": model.asset_id}
    assert got.output_key == npz.storage_key
    assert got.output_keys == {model.asset_id: model.storage_key}
    assert got.output_info == info
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


class _CommitFailsOnce:
    """A connection whose next COMMIT fails as on a full disk (the WAL cannot grow)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = True

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)


def test_a_failed_commit_is_rolled_back_and_the_next_write_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteMetadataStore(tmp_path / "c.sqlite3")
    proxy = _CommitFailsOnce(store.db._conn())
    monkeypatch.setattr(store.db, "_conn", lambda: proxy)
    with pytest.raises(sqlite3.OperationalError) as failed:
        _pending_asset(store)
    assert out_of_space(failed.value)
    kept = _pending_asset(store)  # space is back: the connection is not stuck in a transaction
    assert [a.asset_id for a in store.list_assets("t", None, None, 10, 0)[0]] == [kept.asset_id]
    store.close()


def test_a_real_sqlite_full_is_recognised_as_out_of_space(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "f.sqlite3")
    conn = store.db._conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the database may not grow: SQLITE_FULL

    def fill() -> None:
        for _ in range(1000):
            _pending_asset(store)

    with pytest.raises(sqlite3.OperationalError) as full:
        fill()
    assert out_of_space(full.value)  # not hidden by a failed ROLLBACK (SQLite rolled back)
    conn.execute("PRAGMA max_page_count = 1000000")
    _pending_asset(store)  # and writes work again once there is room
    store.close()


def test_history_is_read_through_indexes(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "m.sqlite3"
    store = SqliteMetadataStore(db)
    conn = store.db._conn()
    # 30 successes, completed in the reverse order of their creation, lasting 1..30 s
    for i in range(30):
        job = _job(new_id())
        job.status, job.created_at = "SUCCEEDED", 1000.0 + i
        job.started_at, job.completed_at = 5000.0 - 100 * i, 5000.0 - 100 * i + (i + 1)
        store.create_job(job)
    assert store.mean_job_seconds() == pytest.approx(sum(range(1, 21)) / 20)
    plan = [
        tuple(r)
        for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT completed_at FROM jobs WHERE status = 'SUCCEEDED'"
            " ORDER BY completed_at DESC LIMIT 20"
        )
    ]
    assert "jobs_completed" in str(plan)
    assert "TEMP B-TREE" not in str(plan)
    plan = [  # the expiry sweep of every idempotent POST
        tuple(r)
        for r in conn.execute("EXPLAIN QUERY PLAN DELETE FROM idempotency WHERE created_at <= 0")
    ]
    assert "idempotency_created" in str(plan)
    store.close()
    old = tmp_path / "old.sqlite3"  # a data dir made before the indexes existed gets them
    _schema_1_file(old, new_id())
    SqliteMetadataStore(old).close()
    raw = sqlite3.connect(old)
    names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    raw.close()
    assert {"jobs_completed", "idempotency_created"} <= names


def test_schema_from_the_future_is_refused(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "f.sqlite3"
    SqliteMetadataStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(DatabaseError, match="newer myo-server"):
        SqliteMetadataStore(db)
