"""Metadata storage: the protocol the routes and workers use, and its SQLite implementation."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from ._records import (
    AssetRecord,
    CharacterVersionRecord,
    IdempotencyEntry,
    JobFilters,
    JobRecord,
    KeyRecord,
)
from ._util import now

SCHEMA_VERSION = 2

DeleteOutcome = Literal["deleted", "not_found", "referenced"]
CancelOutcome = Literal["canceled", "not_found", "finished"]


class MetadataStore(Protocol):
    """Everything the server records besides file bytes. Implementations must be process-safe."""

    # tenants and keys
    def create_tenant(self, tenant_id: str, name: str) -> None: ...
    def default_tenant(self) -> str | None: ...
    def tenant_exists(self, tenant_id: str) -> bool: ...
    def add_api_key(self, record: KeyRecord) -> None: ...
    def get_api_key(self, key_id: str) -> KeyRecord | None: ...
    def list_api_keys(self) -> list[KeyRecord]: ...
    def revoke_api_key(self, key_id: str) -> bool: ...
    def count_api_keys(self) -> int: ...

    # assets
    def insert_asset(
        self, record: AssetRecord, idem: IdempotencyEntry | None = None
    ) -> IdempotencyEntry | None: ...
    def get_asset(self, asset_id: str, tenant_id: str | None) -> AssetRecord | None: ...
    def get_asset_by_key(self, storage_key: str, tenant_id: str | None) -> AssetRecord | None: ...
    def claim_upload(
        self, asset_id: str, size: int, sha256: str, publish: Callable[[], object]
    ) -> bool: ...
    def mark_completed(self, asset_id: str) -> AssetRecord | None: ...
    def list_assets(
        self,
        tenant_id: str,
        purpose: str | None,
        reference_count: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[AssetRecord], int]: ...
    def delete_asset(
        self, asset_id: str, tenant_id: str
    ) -> tuple[DeleteOutcome, AssetRecord | None]: ...

    # idempotency
    def get_idempotency(
        self, tenant_id: str, key: str, endpoint: str
    ) -> IdempotencyEntry | None: ...

    # jobs
    def create_job(
        self, record: JobRecord, idem: IdempotencyEntry | None = None
    ) -> IdempotencyEntry | None: ...
    def get_job(self, job_id: str, tenant_id: str | None) -> JobRecord | None: ...
    def list_jobs(
        self, tenant_id: str, filters: JobFilters, limit: int, offset: int
    ) -> tuple[list[JobRecord], int]: ...
    def cancel_job(self, job_id: str, tenant_id: str) -> tuple[CancelOutcome, JobRecord | None]: ...
    def claim_job(self, worker_id: str) -> JobRecord | None: ...
    def job_status(self, job_id: str) -> str | None: ...
    def update_progress(
        self, job_id: str, worker_id: str, progress: float, message: str
    ) -> bool: ...
    def finish_job_succeeded(
        self,
        job_id: str,
        worker_id: str,
        output: AssetRecord,
        message: str,
        outputs: Mapping[str, AssetRecord] | None = None,
        info: dict[str, Any] | None = None,
    ) -> bool: ...
    def finish_job_failed(self, job_id: str, worker_id: str, error: str) -> bool: ...
    def requeue_job(self, job_id: str, worker_id: str) -> bool: ...
    def requeue_worker_jobs(self, worker_id: str) -> list[str]: ...
    def running_worker_ids(self) -> set[str]: ...
    def jobs_running_since(self, before: float) -> list[tuple[str, str]]: ...
    def recover_worker_jobs(
        self, worker_id: str, max_attempts: int, reason: str
    ) -> list[tuple[str, str]]: ...
    def queue_position(self, created_at: float) -> int: ...
    def mean_job_seconds(self) -> float | None: ...

    # characters
    def upsert_character_version(
        self, record: CharacterVersionRecord
    ) -> CharacterVersionRecord: ...
    def list_character_versions(
        self, character_id: str | None = None
    ) -> list[CharacterVersionRecord]: ...
    def set_character_version_status(
        self, character_id: str, version: str, status: str, message: str
    ) -> CharacterVersionRecord | None: ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE tenants (
    tenant_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL,
    last_used_at REAL
);
CREATE TABLE assets (
    asset_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    expected_size_bytes INTEGER,
    size_bytes INTEGER,
    checksum_sha256 TEXT,
    metadata TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    completed_at REAL,
    source_job_id TEXT
);
CREATE INDEX assets_tenant ON assets(tenant_id, created_at);
CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    metadata TEXT,
    message TEXT NOT NULL DEFAULT '',
    error TEXT,
    progress REAL NOT NULL DEFAULT 0,
    run_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    output_asset_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker_id TEXT
);
CREATE INDEX jobs_tenant ON jobs(tenant_id, created_at);
CREATE INDEX jobs_status ON jobs(status, created_at);
CREATE TABLE job_inputs (
    job_id TEXT NOT NULL REFERENCES jobs(job_id),
    asset_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (job_id, role)
);
CREATE INDEX job_inputs_asset ON job_inputs(asset_id);
CREATE TABLE idempotency (
    tenant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, endpoint, key)
);
CREATE TABLE character_versions (
    version_id TEXT PRIMARY KEY,
    character_id TEXT NOT NULL,
    version TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    manifest_key TEXT NOT NULL,
    files TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (character_id, version)
);
"""

# Indexes added after schema 1 shipped, created on open when missing (older servers still open
# the file). Without them each POST scanned history on the event loop:
_LATER_INDEXES = (
    # mean_job_seconds sorted every success (23 ms per retarget POST with 50,000 jobs)
    "CREATE INDEX IF NOT EXISTS jobs_completed ON jobs(status, completed_at)",
    # the expiry sweep read every key (16 ms per POST with 100,000 keys of the last day)
    "CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at)",
)

# Columns added after schema 1 shipped, added on open when missing (at the end of the table, where
# a new file's CREATE TABLE + these ALTERs put them too). Schema 2: older servers refuse the file.
_LATER_COLUMNS = (
    ("jobs", "outputs", "TEXT"),  # JSON: output name (OUTPUT_NAMES) -> asset id
    ("jobs", "output_info", "TEXT"),  # JSON: processing_time_seconds, diagnostics
)

# An asset's references are the jobs still using it (QUEUED or RUNNING): those block deletion.
_REFS = (
    "(SELECT COUNT(DISTINCT ji.job_id) FROM job_inputs ji JOIN jobs j ON j.job_id = ji.job_id"
    " WHERE ji.asset_id = a.asset_id AND j.status IN ('QUEUED', 'RUNNING'))"
)
_ASSET_COLS = (
    "a.asset_id, a.tenant_id, a.purpose, a.filename, a.content_type, a.storage_key, a.status,"
    " a.created_at, a.updated_at, a.expected_size_bytes, a.size_bytes, a.checksum_sha256,"
    f" a.metadata, a.completed_at, a.source_job_id, {_REFS} AS refs"
)
_JOB_COLS = (
    "j.job_id, j.tenant_id, j.type, j.status, j.params, j.created_at, j.updated_at, j.run_id,"
    " j.metadata, j.message, j.error, j.progress, j.started_at, j.completed_at,"
    " j.output_asset_id, j.attempts, j.worker_id,"
    " (SELECT group_concat(asset_id) FROM job_inputs ji WHERE ji.job_id = j.job_id) AS inputs,"
    " (SELECT a.storage_key FROM assets a"
    " WHERE a.asset_id = j.output_asset_id AND a.tenant_id = j.tenant_id) AS output_key,"
    " j.outputs, j.output_info,"
    " (SELECT json_group_object(a.asset_id, a.storage_key) FROM assets a"
    " WHERE a.asset_id IN (SELECT value FROM json_each(j.outputs))"
    " AND a.tenant_id = j.tenant_id) AS output_keys"
)
_IDEMPOTENCY_TTL = 24 * 3600.0
# A RUNNING job a stopping server hands back: QUEUED again, its attempt not counted (the input is
# not to blame). Parameters: updated_at, worker_id.
_HAND_BACK = (
    "UPDATE jobs SET status = 'QUEUED', worker_id = NULL, started_at = NULL, progress = 0,"
    " attempts = MAX(attempts - 1, 0), message = 'Job re-queued: the server stopped while it ran',"
    " updated_at = ? WHERE worker_id = ? AND status = 'RUNNING'"
)

# Lone surrogates: how Python keeps bytes that are not UTF-8 (e.g. a C3D label byte 0xff decoded
# with surrogateescape). SQLite cannot store them, so a message holding one was never recorded.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape of the byte code - 0xDC00: show that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def _storable(text: str) -> str:
    """``text`` as SQLite stores and every reader shows it: an undecodable byte becomes its
    ``\\xff`` escape, another lone surrogate ``\\udXXX``, NUL (which cuts text short in SQL
    and most tools) ``\\x00``."""
    return _SURROGATE.sub(_escape_surrogate, text).replace("\x00", "\\x00")


def _asset(row: sqlite3.Row) -> AssetRecord:
    return AssetRecord(
        asset_id=row[0],
        tenant_id=row[1],
        purpose=row[2],
        filename=row[3],
        content_type=row[4],
        storage_key=row[5],
        status=row[6],
        created_at=row[7],
        updated_at=row[8],
        expected_size_bytes=row[9],
        size_bytes=row[10],
        checksum_sha256=row[11],
        metadata=json.loads(row[12]) if row[12] is not None else None,
        completed_at=row[13],
        source_job_id=row[14],
        reference_count=row[15],
    )


def _job(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row[0],
        tenant_id=row[1],
        type=row[2],
        status=row[3],
        params=json.loads(row[4]),
        created_at=row[5],
        updated_at=row[6],
        run_id=row[7],
        metadata=json.loads(row[8]) if row[8] is not None else None,
        message=row[9],
        error=row[10],
        progress=row[11],
        started_at=row[12],
        completed_at=row[13],
        output_asset_id=row[14],
        attempts=row[15],
        worker_id=row[16],
        input_asset_ids=row[17].split(",") if row[17] else [],
        output_key=row[18],
        outputs=json.loads(row[19]) if row[19] else {},
        output_info=json.loads(row[20]) if row[20] else None,
        output_keys=json.loads(row[21]) if row[21] else {},
    )


def _character(row: sqlite3.Row) -> CharacterVersionRecord:
    return CharacterVersionRecord(
        version_id=row[0],
        character_id=row[1],
        version=row[2],
        name=row[3],
        description=row[4],
        status=row[5],
        manifest_key=row[6],
        files=json.loads(row[7]),
        message=row[8],
        created_at=row[9],
        updated_at=row[10],
    )


class SqliteMetadataStore:
    """:class:`MetadataStore` over stdlib sqlite3 (WAL, one connection per thread).

    Several processes may open the same file: writes take ``BEGIN IMMEDIATE`` and wait up to
    ``busy_timeout`` for each other, readers never block.
    """

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self._busy = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._migrate()

    # -- plumbing ---------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=self._busy / 1000, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (SQLITE_FULL does): a second ROLLBACK would
            # raise and hide the real error. A failed COMMIT leaves the transaction open.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _migrate(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer myo-server (schema {version} >"
                    f" {SCHEMA_VERSION}); upgrade myo-mcp or use another data directory"
                )
            if version < 1:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            for statement in _LATER_INDEXES:
                conn.execute(statement)
            for table, column, kind in _LATER_COLUMNS:
                present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    # -- tenants and keys -------------------------------------------------------------------
    def create_tenant(self, tenant_id: str, name: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO tenants VALUES (?, ?, ?)", (tenant_id, name, now()))

    def default_tenant(self) -> str | None:
        row = (
            self._conn()
            .execute("SELECT tenant_id FROM tenants ORDER BY created_at, tenant_id LIMIT 1")
            .fetchone()
        )
        return row[0] if row else None

    def tenant_exists(self, tenant_id: str) -> bool:
        q = "SELECT 1 FROM tenants WHERE tenant_id = ?"
        return self._conn().execute(q, (tenant_id,)).fetchone() is not None

    def add_api_key(self, record: KeyRecord) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key_id,
                    record.tenant_id,
                    record.name,
                    record.key_hash,
                    record.created_at,
                    record.revoked_at,
                    record.last_used_at,
                ),
            )

    def get_api_key(self, key_id: str) -> KeyRecord | None:
        row = (
            self._conn()
            .execute(
                "SELECT key_id, tenant_id, name, key_hash, created_at, revoked_at, last_used_at"
                " FROM api_keys WHERE key_id = ?",
                (key_id,),
            )
            .fetchone()
        )
        return KeyRecord(*row) if row else None

    def list_api_keys(self) -> list[KeyRecord]:
        rows = self._conn().execute(
            "SELECT key_id, tenant_id, name, key_hash, created_at, revoked_at, last_used_at"
            " FROM api_keys ORDER BY created_at"
        )
        return [KeyRecord(*row) for row in rows]

    def revoke_api_key(self, key_id: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (now(), key_id),
            )
            return cur.rowcount == 1

    def count_api_keys(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM api_keys").fetchone()[0])

    # -- idempotency ------------------------------------------------------------------------
    def get_idempotency(self, tenant_id: str, key: str, endpoint: str) -> IdempotencyEntry | None:
        row = (
            self._conn()
            .execute(
                "SELECT key, endpoint, request_hash, status_code, body FROM idempotency"
                " WHERE tenant_id = ? AND endpoint = ? AND key = ? AND created_at > ?",
                (tenant_id, endpoint, key, now() - _IDEMPOTENCY_TTL),
            )
            .fetchone()
        )
        return IdempotencyEntry(*row) if row else None

    def _claim_idempotency(
        self, conn: sqlite3.Connection, tenant_id: str, idem: IdempotencyEntry | None
    ) -> IdempotencyEntry | None:
        """Inside a write transaction: the existing entry, or None after recording ``idem``."""
        if idem is None:
            return None
        t = now()
        conn.execute("DELETE FROM idempotency WHERE created_at <= ?", (t - _IDEMPOTENCY_TTL,))
        row = conn.execute(
            "SELECT key, endpoint, request_hash, status_code, body FROM idempotency"
            " WHERE tenant_id = ? AND endpoint = ? AND key = ?",
            (tenant_id, idem.endpoint, idem.key),
        ).fetchone()
        if row:
            return IdempotencyEntry(*row)
        conn.execute(
            "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tenant_id, idem.key, idem.endpoint, idem.request_hash, idem.status_code, idem.body, t),
        )
        return None

    # -- assets -----------------------------------------------------------------------------
    def _insert_asset(self, conn: sqlite3.Connection, r: AssetRecord) -> None:
        conn.execute(
            "INSERT INTO assets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.asset_id,
                r.tenant_id,
                r.purpose,
                r.filename,
                r.content_type,
                r.storage_key,
                r.status,
                r.expected_size_bytes,
                r.size_bytes,
                r.checksum_sha256,
                json.dumps(r.metadata) if r.metadata is not None else None,
                r.created_at,
                r.updated_at,
                r.completed_at,
                r.source_job_id,
            ),
        )

    def insert_asset(
        self, record: AssetRecord, idem: IdempotencyEntry | None = None
    ) -> IdempotencyEntry | None:
        with self._write() as conn:
            existing = self._claim_idempotency(conn, record.tenant_id, idem)
            if existing is None:
                self._insert_asset(conn, record)
            return existing

    def _find_asset(
        self, column: Literal["asset_id", "storage_key"], value: str, tenant_id: str | None
    ) -> AssetRecord | None:
        q = f"SELECT {_ASSET_COLS} FROM assets a WHERE a.{column} = ?"
        args: tuple[Any, ...] = (value,)
        if tenant_id is not None:
            q += " AND a.tenant_id = ?"
            args += (tenant_id,)
        row = self._conn().execute(q, args).fetchone()
        return _asset(row) if row else None

    def get_asset(self, asset_id: str, tenant_id: str | None) -> AssetRecord | None:
        return self._find_asset("asset_id", asset_id, tenant_id)

    def get_asset_by_key(self, storage_key: str, tenant_id: str | None) -> AssetRecord | None:
        return self._find_asset("storage_key", storage_key, tenant_id)

    def claim_upload(
        self, asset_id: str, size: int, sha256: str, publish: Callable[[], object]
    ) -> bool:
        """Record a finished upload if the asset is still pending and run ``publish`` (which
        stores its bytes) inside that transaction; False when another upload claimed it first or
        the asset is gone.

        Only the winner writes the object, and only while the asset is pending: once uploaded,
        its bytes are the ones hashed. If ``publish`` raises, the claim is rolled back.
        """
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE assets SET status = 'uploaded', size_bytes = ?, checksum_sha256 = ?,"
                " updated_at = ? WHERE asset_id = ? AND status = 'pending'",
                (size, sha256, now(), asset_id),
            )
            if cur.rowcount != 1:
                return False
            publish()
            return True

    def mark_completed(self, asset_id: str) -> AssetRecord | None:
        with self._write() as conn:
            t = now()
            conn.execute(
                "UPDATE assets SET status = 'completed', completed_at = ?, updated_at = ?"
                " WHERE asset_id = ? AND status = 'uploaded'",
                (t, t, asset_id),
            )
            row = conn.execute(
                f"SELECT {_ASSET_COLS} FROM assets a WHERE a.asset_id = ?", (asset_id,)
            ).fetchone()
            return _asset(row) if row else None

    def list_assets(
        self,
        tenant_id: str,
        purpose: str | None,
        reference_count: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[AssetRecord], int]:
        where = ["a.tenant_id = ?"]
        args: list[Any] = [tenant_id]
        if purpose is not None:
            where.append("a.purpose = ?")
            args.append(purpose)
        if reference_count is not None:
            where.append(f"{_REFS} = ?")
            args.append(reference_count)
        cond = " AND ".join(where)
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM assets a WHERE {cond}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_ASSET_COLS} FROM assets a WHERE {cond}"
            " ORDER BY a.created_at DESC, a.asset_id DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [_asset(r) for r in rows], int(total)

    def delete_asset(
        self, asset_id: str, tenant_id: str
    ) -> tuple[DeleteOutcome, AssetRecord | None]:
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_ASSET_COLS} FROM assets a WHERE a.asset_id = ? AND a.tenant_id = ?",
                (asset_id, tenant_id),
            ).fetchone()
            if row is None:
                return "not_found", None
            record = _asset(row)
            if record.reference_count:
                return "referenced", record
            conn.execute("DELETE FROM assets WHERE asset_id = ?", (asset_id,))
            return "deleted", record

    # -- jobs -------------------------------------------------------------------------------
    def create_job(
        self, record: JobRecord, idem: IdempotencyEntry | None = None
    ) -> IdempotencyEntry | None:
        with self._write() as conn:
            existing = self._claim_idempotency(conn, record.tenant_id, idem)
            if existing is not None:
                return existing
            conn.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.job_id,
                    record.tenant_id,
                    record.type,
                    record.status,
                    json.dumps(record.params),
                    json.dumps(record.metadata) if record.metadata is not None else None,
                    record.message,
                    record.error,
                    record.progress,
                    record.run_id,
                    record.created_at,
                    record.updated_at,
                    record.started_at,
                    record.completed_at,
                    record.output_asset_id,
                    record.attempts,
                    record.worker_id,
                    json.dumps(record.outputs) if record.outputs else None,
                    json.dumps(record.output_info) if record.output_info is not None else None,
                ),
            )
            roles = ("c3d", "markerset")
            for role, asset_id in zip(roles, record.input_asset_ids, strict=False):
                conn.execute(
                    "INSERT INTO job_inputs VALUES (?, ?, ?)", (record.job_id, asset_id, role)
                )
            return None

    def get_job(self, job_id: str, tenant_id: str | None) -> JobRecord | None:
        q = f"SELECT {_JOB_COLS} FROM jobs j WHERE j.job_id = ?"
        args: tuple[Any, ...] = (job_id,)
        if tenant_id is not None:
            q += " AND j.tenant_id = ?"
            args += (tenant_id,)
        row = self._conn().execute(q, args).fetchone()
        return _job(row) if row else None

    def list_jobs(
        self, tenant_id: str, filters: JobFilters, limit: int, offset: int
    ) -> tuple[list[JobRecord], int]:
        where = ["j.tenant_id = ?"]
        args: list[Any] = [tenant_id]

        def any_of(column: str, values: Sequence[str]) -> None:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            args.extend(values)

        f = filters
        if f.statuses:
            any_of("j.status", f.statuses)
        if f.types:
            any_of("j.type", f.types)
        if f.created_after is not None:
            # Times are shown to the microsecond: half a microsecond of slack keeps a job out of
            # the filters bounded by its own created_at.
            where.append("j.created_at >= ?")
            args.append(f.created_after + 5e-7)
        if f.created_before is not None:
            where.append("j.created_at < ?")
            args.append(f.created_before - 5e-7)
        if f.run_id is not None:
            where.append("j.run_id = ?")
            args.append(f.run_id)
        if f.has_output is not None:
            where.append(
                "j.output_asset_id IS NOT NULL" if f.has_output else "j.output_asset_id IS NULL"
            )
        if f.input_asset_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM job_inputs ji"
                " WHERE ji.job_id = j.job_id AND ji.asset_id = ?)"
            )
            args.append(f.input_asset_id)
        cond = " AND ".join(where)
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM jobs j WHERE {cond}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_JOB_COLS} FROM jobs j WHERE {cond}"
            " ORDER BY j.created_at DESC, j.job_id DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [_job(r) for r in rows], int(total)

    def cancel_job(self, job_id: str, tenant_id: str) -> tuple[CancelOutcome, JobRecord | None]:
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_JOB_COLS} FROM jobs j WHERE j.job_id = ? AND j.tenant_id = ?",
                (job_id, tenant_id),
            ).fetchone()
            if row is None:
                return "not_found", None
            record = _job(row)
            if record.status not in ("QUEUED", "RUNNING"):
                return "finished", record
            t = now()
            # The row becomes final now; a running worker sees it in its should_cancel check
            # and its own final UPDATE (conditioned on RUNNING) then changes nothing.
            conn.execute(
                "UPDATE jobs SET status = 'CANCELED', message = 'Job canceled by request',"
                " updated_at = ?, completed_at = ? WHERE job_id = ?",
                (t, t, job_id),
            )
            record.status, record.updated_at, record.completed_at = "CANCELED", t, t
            record.message = "Job canceled by request"
            return "canceled", record

    def claim_job(self, worker_id: str) -> JobRecord | None:
        with self._write() as conn:
            t = now()
            row = conn.execute(
                "UPDATE jobs SET status = 'RUNNING', worker_id = ?, started_at = ?, updated_at = ?,"
                " attempts = attempts + 1, progress = 0, message = 'Job started'"
                " WHERE job_id = (SELECT job_id FROM jobs WHERE status = 'QUEUED'"
                " ORDER BY created_at, job_id LIMIT 1) AND status = 'QUEUED' RETURNING job_id",
                (worker_id, t, t),
            ).fetchone()
            if row is None:
                return None
            got = conn.execute(
                f"SELECT {_JOB_COLS} FROM jobs j WHERE j.job_id = ?", (row[0],)
            ).fetchone()
            return _job(got)

    def job_status(self, job_id: str) -> str | None:
        row = self._conn().execute("SELECT status FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def update_progress(self, job_id: str, worker_id: str, progress: float, message: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE jobs SET progress = ?, message = ?, updated_at = ?"
                " WHERE job_id = ? AND worker_id = ? AND status = 'RUNNING'",
                (progress, _storable(message), now(), job_id, worker_id),
            )
            return cur.rowcount == 1

    def finish_job_succeeded(
        self,
        job_id: str,
        worker_id: str,
        output: AssetRecord,
        message: str,
        outputs: Mapping[str, AssetRecord] | None = None,
        info: dict[str, Any] | None = None,
    ) -> bool:
        """Record a job's success with its .npz (``output``), its further ``outputs`` by name
        and ``info`` (processing time, diagnostics); False (nothing recorded) if it no longer
        runs on this worker, e.g. it was canceled meanwhile."""
        outputs = outputs or {}
        with self._write() as conn:
            t = now()
            cur = conn.execute(
                "UPDATE jobs SET status = 'SUCCEEDED', progress = 1, message = ?, updated_at = ?,"
                " completed_at = ?, output_asset_id = ?, outputs = ?, output_info = ?"
                " WHERE job_id = ? AND worker_id = ? AND status = 'RUNNING'",
                (
                    _storable(message),
                    t,
                    t,
                    output.asset_id,
                    json.dumps({name: a.asset_id for name, a in outputs.items()}),
                    json.dumps(info) if info is not None else None,
                    job_id,
                    worker_id,
                ),
            )
            if cur.rowcount != 1:
                return False
            for record in (output, *outputs.values()):
                self._insert_asset(conn, record)
            return True

    def finish_job_failed(self, job_id: str, worker_id: str, error: str) -> bool:
        error = _storable(error)
        with self._write() as conn:
            t = now()
            cur = conn.execute(
                "UPDATE jobs SET status = 'FAILED', message = ?, error = ?, updated_at = ?,"
                " completed_at = ? WHERE job_id = ? AND worker_id = ? AND status = 'RUNNING'",
                (error, error, t, t, job_id, worker_id),
            )
            return cur.rowcount == 1

    def requeue_job(self, job_id: str, worker_id: str) -> bool:
        """Put a job interrupted by a clean shutdown back in the queue without using an attempt."""
        with self._write() as conn:
            cur = conn.execute(_HAND_BACK + " AND job_id = ?", (now(), worker_id, job_id))
            return cur.rowcount == 1

    def requeue_worker_jobs(self, worker_id: str) -> list[str]:
        """:meth:`requeue_job` for every RUNNING job of a worker the stopping server had to kill."""
        with self._write() as conn:
            rows = conn.execute(_HAND_BACK + " RETURNING job_id", (now(), worker_id)).fetchall()
            return [r[0] for r in rows]

    def running_worker_ids(self) -> set[str]:
        rows = self._conn().execute(
            "SELECT DISTINCT worker_id FROM jobs WHERE status = 'RUNNING' AND worker_id IS NOT NULL"
        )
        return {r[0] for r in rows}

    def jobs_running_since(self, before: float) -> list[tuple[str, str]]:
        """``(job_id, worker_id)`` of the RUNNING jobs started before ``before`` (epoch seconds)."""
        rows = self._conn().execute(
            "SELECT job_id, worker_id FROM jobs WHERE status = 'RUNNING' AND started_at < ?",
            (before,),
        )
        return [(r[0], r[1]) for r in rows]

    def recover_worker_jobs(
        self, worker_id: str, max_attempts: int, reason: str
    ) -> list[tuple[str, str]]:
        """Re-queue (or fail, after ``max_attempts``) the RUNNING jobs of a dead worker."""
        out: list[tuple[str, str]] = []
        reason = _storable(reason)
        with self._write() as conn:
            rows = conn.execute(
                "SELECT job_id, attempts FROM jobs WHERE worker_id = ? AND status = 'RUNNING'",
                (worker_id,),
            ).fetchall()
            t = now()
            for job_id, attempts in rows:
                if attempts < max_attempts:
                    conn.execute(
                        "UPDATE jobs SET status = 'QUEUED', worker_id = NULL, started_at = NULL,"
                        " progress = 0, message = ?, updated_at = ? WHERE job_id = ?",
                        (f"Job re-queued: {reason}", t, job_id),
                    )
                    out.append((job_id, "QUEUED"))
                else:
                    error = (
                        f"Job failed: {reason}, on each of its {attempts} attempts. The input"
                        " probably crashes the engine: check the C3D and markerset files."
                    )
                    conn.execute(
                        "UPDATE jobs SET status = 'FAILED', message = ?, error = ?, updated_at = ?,"
                        " completed_at = ? WHERE job_id = ?",
                        (error, error, t, t, job_id),
                    )
                    out.append((job_id, "FAILED"))
        return out

    def queue_position(self, created_at: float) -> int:
        row = (
            self._conn()
            .execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING'"
                " OR (status = 'QUEUED' AND created_at < ?)",
                (created_at,),
            )
            .fetchone()
        )
        return int(row[0])

    def mean_job_seconds(self) -> float | None:
        row = (
            self._conn()
            .execute(
                "SELECT AVG(completed_at - started_at) FROM"
                " (SELECT completed_at, started_at FROM jobs"
                " WHERE status = 'SUCCEEDED' ORDER BY completed_at DESC LIMIT 20)"
            )
            .fetchone()
        )
        return float(row[0]) if row and row[0] is not None else None

    # -- characters -------------------------------------------------------------------------
    def upsert_character_version(self, record: CharacterVersionRecord) -> CharacterVersionRecord:
        with self._write() as conn:
            row = conn.execute(
                "SELECT version_id, created_at FROM character_versions"
                " WHERE character_id = ? AND version = ?",
                (record.character_id, record.version),
            ).fetchone()
            if row is not None:
                record.version_id, record.created_at = row[0], row[1]
                conn.execute(
                    "UPDATE character_versions SET name = ?, description = ?, status = ?,"
                    " manifest_key = ?, files = ?, message = ?, updated_at = ?"
                    " WHERE version_id = ?",
                    (
                        record.name,
                        record.description,
                        record.status,
                        record.manifest_key,
                        json.dumps(record.files),
                        record.message,
                        record.updated_at,
                        record.version_id,
                    ),
                )
            else:
                conn.execute(
                    "INSERT INTO character_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.version_id,
                        record.character_id,
                        record.version,
                        record.name,
                        record.description,
                        record.status,
                        record.manifest_key,
                        json.dumps(record.files),
                        record.message,
                        record.created_at,
                        record.updated_at,
                    ),
                )
            return record

    def list_character_versions(
        self, character_id: str | None = None
    ) -> list[CharacterVersionRecord]:
        q = (
            "SELECT version_id, character_id, version, name, description, status, manifest_key,"
            " files, message, created_at, updated_at FROM character_versions"
        )
        args: tuple[Any, ...] = ()
        if character_id is not None:
            q += " WHERE character_id = ?"
            args = (character_id,)
        rows = self._conn().execute(q + " ORDER BY character_id, created_at, version", args)
        return [_character(r) for r in rows]

    def set_character_version_status(
        self, character_id: str, version: str, status: str, message: str
    ) -> CharacterVersionRecord | None:
        with self._write() as conn:
            conn.execute(
                "UPDATE character_versions SET status = ?, message = ?, updated_at = ?"
                " WHERE character_id = ? AND version = ?",
                (status, message, now(), character_id, version),
            )
        found = [v for v in self.list_character_versions(character_id) if v.version == version]
        return found[0] if found else None
