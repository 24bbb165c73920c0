"""Metadata storage: the protocol the routes and workers use, and its implementation over SQL
(one SQLite file on one machine, or PostgreSQL shared by many hosts: :mod:`._db`)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from ._db import Connection, Database, Dialect, Row
from ._db_sqlite import SqliteDatabase
from ._job_errors import ENGINE_CRASH
from ._records import (
    AssetRecord,
    CharacterVersionRecord,
    IdempotencyEntry,
    JobFilters,
    JobRecord,
    KeyRecord,
)
from ._schema import schema
from ._util import now

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
        sha256: str | None = None,
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
    def claim_job(self, worker_id: str, lease_s: float = ...) -> JobRecord | None: ...
    def renew_lease(self, job_id: str, worker_id: str, lease_s: float = ...) -> bool: ...
    def recover_expired_jobs(self, max_attempts: int, reason: str) -> list[tuple[str, str]]: ...
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
    def finish_job_failed(
        self, job_id: str, worker_id: str, error: str, error_type: str
    ) -> bool: ...
    def requeue_job(self, job_id: str, worker_id: str) -> bool: ...
    def requeue_worker_jobs(self, worker_id: str) -> list[str]: ...
    def running_worker_ids(self) -> set[str]: ...
    def jobs_running_since(self, before: float) -> list[tuple[str, str]]: ...
    def recover_worker_jobs(
        self, worker_id: str, max_attempts: int, reason: str
    ) -> list[tuple[str, str]]: ...
    def queue_position(self, created_at: float) -> int: ...
    def take_token(self, key_id: str, rate: float, burst: float) -> float: ...
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
_KEY_COLS = "key_id, tenant_id, name, key_hash, created_at, revoked_at, last_used_at"
_IDEMPOTENCY_COLS = "key, endpoint, request_hash, status_code, body"
_CHARACTER_COLS = (
    "version_id, character_id, version, name, description, status, manifest_key, files,"
    " message, created_at, updated_at"
)
_IDEMPOTENCY_TTL = 24 * 3600.0
#: How long a claimed job stays its worker's without a renewal (the worker renews it every third
#: of that while it runs): a worker whose host died loses its jobs after this.
LEASE_S = 30.0


def _job_cols(d: Dialect) -> str:
    return (
        "j.job_id, j.tenant_id, j.type, j.status, j.params, j.created_at, j.updated_at,"
        " j.run_id, j.metadata, j.message, j.error, j.error_type, j.progress, j.started_at,"
        " j.completed_at,"
        " j.output_asset_id, j.attempts, j.worker_id, j.outputs, j.output_info,"
        f" (SELECT {d.join_ids.format('ji.asset_id')} FROM job_inputs ji"
        " WHERE ji.job_id = j.job_id) AS inputs,"
        " (SELECT a.storage_key FROM assets a"
        " WHERE a.asset_id = j.output_asset_id AND a.tenant_id = j.tenant_id) AS output_key,"
        f" (SELECT {d.json_object_agg.format('a.asset_id', 'a.storage_key')} FROM assets a"
        f" WHERE a.asset_id IN ({d.json_values.format('j.outputs')})"
        " AND a.tenant_id = j.tenant_id) AS output_keys"
    )


# Lone surrogates: how Python keeps bytes that are not UTF-8 (e.g. a C3D label byte 0xff decoded
# with surrogateescape). Neither database stores them, so a message holding one was never
# recorded.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape of the byte code - 0xDC00: show that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def _storable(text: str) -> str:
    """``text`` as the database stores and every reader shows it: an undecodable byte becomes
    its ``\\xff`` escape, another lone surrogate ``\\udXXX``, NUL (which cuts text short in SQL
    and most tools, and PostgreSQL refuses) ``\\x00``."""
    return _SURROGATE.sub(_escape_surrogate, text).replace("\x00", "\\x00")


def _json(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _asset(row: Row) -> AssetRecord:
    return AssetRecord(
        asset_id=row["asset_id"],
        tenant_id=row["tenant_id"],
        purpose=row["purpose"],
        filename=row["filename"],
        content_type=row["content_type"],
        storage_key=row["storage_key"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expected_size_bytes=row["expected_size_bytes"],
        size_bytes=row["size_bytes"],
        checksum_sha256=row["checksum_sha256"],
        metadata=json.loads(row["metadata"]) if row["metadata"] is not None else None,
        completed_at=row["completed_at"],
        source_job_id=row["source_job_id"],
        reference_count=int(row["refs"]),
    )


def _job(row: Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"],
        tenant_id=row["tenant_id"],
        type=row["type"],
        status=row["status"],
        params=json.loads(row["params"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        run_id=row["run_id"],
        metadata=json.loads(row["metadata"]) if row["metadata"] is not None else None,
        message=row["message"],
        error=row["error"],
        error_type=row["error_type"],
        progress=row["progress"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        output_asset_id=row["output_asset_id"],
        attempts=row["attempts"],
        worker_id=row["worker_id"],
        input_asset_ids=row["inputs"].split(",") if row["inputs"] else [],
        output_key=row["output_key"],
        outputs=_loads(row["outputs"]) or {},
        output_info=_loads(row["output_info"]),
        output_keys=_loads(row["output_keys"]) or {},
    )


_Plain = TypeVar("_Plain", KeyRecord, IdempotencyEntry)


def _plain(cls: type[_Plain], row: Row) -> _Plain:
    """A record whose fields are its table's columns, as they are (no JSON, nothing computed)."""
    return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


def _character(row: Row) -> CharacterVersionRecord:
    return CharacterVersionRecord(
        version_id=row["version_id"],
        character_id=row["character_id"],
        version=row["version"],
        name=row["name"],
        description=row["description"],
        status=row["status"],
        manifest_key=row["manifest_key"],
        files=json.loads(row["files"]),
        message=row["message"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _insert(conn: Connection, table: str, values: Mapping[str, Any]) -> None:
    """``INSERT INTO table (columns) VALUES (...)`` from a column -> value mapping."""
    columns = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))


class SqlMetadataStore:
    """:class:`MetadataStore` over a :class:`~._db.Database` (SQLite or PostgreSQL).

    Every write is one transaction. Where a write reads before it decides (cancel, delete),
    the rows it read stay locked until it commits (SQLite's writes are serial anyway).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._d = db.dialect
        self._job_cols = _job_cols(self._d)
        db.migrate(schema(self._d))

    def __str__(self) -> str:
        return str(self.db)  # a path, or a URL without its password

    def close(self) -> None:
        """Close the database's connections."""
        self.db.close()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.db.read() as conn:
            return conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.db.read() as conn:
            return conn.execute(sql, params).fetchall()

    # -- tenants and keys -------------------------------------------------------------------
    def create_tenant(self, tenant_id: str, name: str) -> None:
        with self.db.write() as conn:
            _insert(conn, "tenants", {"tenant_id": tenant_id, "name": name, "created_at": now()})

    def default_tenant(self) -> str | None:
        row = self._one("SELECT tenant_id FROM tenants ORDER BY created_at, tenant_id LIMIT 1")
        return row["tenant_id"] if row else None

    def tenant_exists(self, tenant_id: str) -> bool:
        return self._one("SELECT 1 FROM tenants WHERE tenant_id = ?", (tenant_id,)) is not None

    def add_api_key(self, record: KeyRecord) -> None:
        with self.db.write() as conn:
            _insert(conn, "api_keys", dataclasses.asdict(record))

    def get_api_key(self, key_id: str) -> KeyRecord | None:
        row = self._one(f"SELECT {_KEY_COLS} FROM api_keys WHERE key_id = ?", (key_id,))
        return _plain(KeyRecord, row) if row else None

    def list_api_keys(self) -> list[KeyRecord]:
        return [
            _plain(KeyRecord, r)
            for r in self._all(f"SELECT {_KEY_COLS} FROM api_keys ORDER BY created_at")
        ]

    def revoke_api_key(self, key_id: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (now(), key_id),
            )
            return cur.rowcount == 1

    def count_api_keys(self) -> int:
        return int(self._one("SELECT COUNT(*) AS n FROM api_keys")["n"])

    # -- idempotency ------------------------------------------------------------------------
    def get_idempotency(self, tenant_id: str, key: str, endpoint: str) -> IdempotencyEntry | None:
        row = self._one(
            f"SELECT {_IDEMPOTENCY_COLS} FROM idempotency"
            " WHERE tenant_id = ? AND endpoint = ? AND key = ? AND created_at > ?",
            (tenant_id, endpoint, key, now() - _IDEMPOTENCY_TTL),
        )
        return _plain(IdempotencyEntry, row) if row else None

    def _claim_idempotency(
        self, conn: Connection, tenant_id: str, idem: IdempotencyEntry | None
    ) -> IdempotencyEntry | None:
        """Inside a write transaction: the existing entry, or None after recording ``idem``.

        Two API processes racing with one key: the second INSERT waits for the first to commit
        and then inserts nothing, and reads the winner's entry.
        """
        if idem is None:
            return None
        t = now()
        conn.execute("DELETE FROM idempotency WHERE created_at <= ?", (t - _IDEMPOTENCY_TTL,))
        cur = conn.execute(
            "INSERT INTO idempotency (tenant_id, key, endpoint, request_hash, status_code, body,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, endpoint, key) DO NOTHING",
            (tenant_id, idem.key, idem.endpoint, idem.request_hash, idem.status_code, idem.body, t),
        )
        if cur.rowcount == 1:
            return None
        row = conn.execute(
            f"SELECT {_IDEMPOTENCY_COLS} FROM idempotency"
            " WHERE tenant_id = ? AND endpoint = ? AND key = ?",
            (tenant_id, idem.endpoint, idem.key),
        ).fetchone()
        return _plain(IdempotencyEntry, row)

    # -- assets -----------------------------------------------------------------------------
    def _insert_asset(self, conn: Connection, r: AssetRecord) -> None:
        _insert(
            conn,
            "assets",
            {
                "asset_id": r.asset_id,
                "tenant_id": r.tenant_id,
                "purpose": r.purpose,
                "filename": r.filename,
                "content_type": r.content_type,
                "storage_key": r.storage_key,
                "status": r.status,
                "expected_size_bytes": r.expected_size_bytes,
                "size_bytes": r.size_bytes,
                "checksum_sha256": r.checksum_sha256,
                "metadata": _json(r.metadata),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "completed_at": r.completed_at,
                "source_job_id": r.source_job_id,
            },
        )

    def insert_asset(
        self, record: AssetRecord, idem: IdempotencyEntry | None = None
    ) -> IdempotencyEntry | None:
        with self.db.write() as conn:
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
        row = self._one(q, args)
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
        with self.db.write() as conn:
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
        with self.db.write() as conn:
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
        sha256: str | None = None,
    ) -> tuple[list[AssetRecord], int]:
        where = ["a.tenant_id = ?"]
        args: list[Any] = [tenant_id]
        if sha256 is not None:
            where.append("a.checksum_sha256 = ?")
            args.append(sha256)
        if purpose is not None:
            where.append("a.purpose = ?")
            args.append(purpose)
        if reference_count is not None:
            where.append(f"{_REFS} = ?")
            args.append(reference_count)
        cond = " AND ".join(where)
        with self.db.read() as conn:
            total = conn.execute(f"SELECT COUNT(*) AS n FROM assets a WHERE {cond}", args)
            rows = conn.execute(
                f"SELECT {_ASSET_COLS} FROM assets a WHERE {cond}"
                " ORDER BY a.created_at DESC, a.asset_id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [_asset(r) for r in rows], int(total.fetchone()["n"])

    def delete_asset(
        self, asset_id: str, tenant_id: str
    ) -> tuple[DeleteOutcome, AssetRecord | None]:
        with self.db.write() as conn:
            # Locked: a job cannot start using it (create_job locks its inputs) until we are done.
            locked = conn.execute(
                f"SELECT asset_id FROM assets WHERE asset_id = ? AND tenant_id = ?"
                f"{self._d.for_update}",
                (asset_id, tenant_id),
            ).fetchone()
            if locked is None:
                return "not_found", None
            row = conn.execute(
                f"SELECT {_ASSET_COLS} FROM assets a WHERE a.asset_id = ?", (asset_id,)
            ).fetchone()
            record = _asset(row)
            if record.reference_count:
                return "referenced", record
            conn.execute("DELETE FROM assets WHERE asset_id = ?", (asset_id,))
            return "deleted", record

    # -- jobs -------------------------------------------------------------------------------
    def create_job(
        self, record: JobRecord, idem: IdempotencyEntry | None = None
    ) -> IdempotencyEntry | None:
        with self.db.write() as conn:
            existing = self._claim_idempotency(conn, record.tenant_id, idem)
            if existing is not None:
                return existing
            if record.input_asset_ids and self._d.for_update:
                # Held until the job is recorded: delete_asset waits, then sees the reference.
                marks = ", ".join("?" * len(record.input_asset_ids))
                conn.execute(
                    f"SELECT asset_id FROM assets WHERE asset_id IN ({marks}) FOR SHARE",
                    record.input_asset_ids,
                ).fetchall()
            _insert(
                conn,
                "jobs",
                {
                    "job_id": record.job_id,
                    "tenant_id": record.tenant_id,
                    "type": record.type,
                    "status": record.status,
                    "params": json.dumps(record.params),
                    "metadata": _json(record.metadata),
                    "message": record.message,
                    "error": record.error,
                    "error_type": record.error_type,
                    "progress": record.progress,
                    "run_id": record.run_id,
                    "created_at": record.created_at,
                    "updated_at": record.updated_at,
                    "started_at": record.started_at,
                    "completed_at": record.completed_at,
                    "output_asset_id": record.output_asset_id,
                    "attempts": record.attempts,
                    "worker_id": record.worker_id,
                    "outputs": _json(record.outputs or None),
                    "output_info": _json(record.output_info),
                },
            )
            roles = ("c3d", "markerset")
            for role, asset_id in zip(roles, record.input_asset_ids, strict=False):
                _insert(
                    conn,
                    "job_inputs",
                    {"job_id": record.job_id, "asset_id": asset_id, "role": role},
                )
            return None

    def get_job(self, job_id: str, tenant_id: str | None) -> JobRecord | None:
        q = f"SELECT {self._job_cols} FROM jobs j WHERE j.job_id = ?"
        args: tuple[Any, ...] = (job_id,)
        if tenant_id is not None:
            q += " AND j.tenant_id = ?"
            args += (tenant_id,)
        row = self._one(q, args)
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
        with self.db.read() as conn:
            total = conn.execute(f"SELECT COUNT(*) AS n FROM jobs j WHERE {cond}", args)
            rows = conn.execute(
                f"SELECT {self._job_cols} FROM jobs j WHERE {cond}"
                " ORDER BY j.created_at DESC, j.job_id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [_job(r) for r in rows], int(total.fetchone()["n"])

    def cancel_job(self, job_id: str, tenant_id: str) -> tuple[CancelOutcome, JobRecord | None]:
        with self.db.write() as conn:
            # Locked: a worker's final UPDATE waits, then finds the job no longer RUNNING.
            locked = conn.execute(
                f"SELECT status FROM jobs WHERE job_id = ? AND tenant_id = ?{self._d.for_update}",
                (job_id, tenant_id),
            ).fetchone()
            if locked is None:
                return "not_found", None
            row = conn.execute(
                f"SELECT {self._job_cols} FROM jobs j WHERE j.job_id = ?", (job_id,)
            ).fetchone()
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

    def claim_job(self, worker_id: str, lease_s: float = LEASE_S) -> JobRecord | None:
        """Start the oldest QUEUED job on ``worker_id``, leased to it for ``lease_s``."""
        with self.db.write() as conn:
            t = now()
            row = conn.execute(
                "UPDATE jobs SET status = 'RUNNING', worker_id = ?, started_at = ?, updated_at = ?,"
                " lease_expires_at = ?, attempts = attempts + 1, progress = 0,"
                " message = 'Job started'"
                " WHERE job_id = (SELECT job_id FROM jobs WHERE status = 'QUEUED'"
                f" ORDER BY created_at, job_id LIMIT 1{self._d.skip_locked})"
                " AND status = 'QUEUED' RETURNING job_id",
                (worker_id, t, t, t + lease_s),
            ).fetchone()
            if row is None:
                return None
            got = conn.execute(
                f"SELECT {self._job_cols} FROM jobs j WHERE j.job_id = ?", (row["job_id"],)
            ).fetchone()
            return _job(got)

    def job_status(self, job_id: str) -> str | None:
        row = self._one("SELECT status FROM jobs WHERE job_id = ?", (job_id,))
        return row["status"] if row else None

    def update_progress(self, job_id: str, worker_id: str, progress: float, message: str) -> bool:
        with self.db.write() as conn:
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
        with self.db.write() as conn:
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
                    _json(info),
                    job_id,
                    worker_id,
                ),
            )
            if cur.rowcount != 1:
                return False
            for record in (output, *outputs.values()):
                self._insert_asset(conn, record)
            return True

    def finish_job_failed(self, job_id: str, worker_id: str, error: str, error_type: str) -> bool:
        """Record a running job's failure: ``error`` its message, ``error_type`` one of
        :data:`~myo_server._job_errors.ERROR_TYPES`."""
        error = _storable(error)
        with self.db.write() as conn:
            t = now()
            cur = conn.execute(
                "UPDATE jobs SET status = 'FAILED', message = ?, error = ?, error_type = ?,"
                " updated_at = ?, completed_at = ?"
                " WHERE job_id = ? AND worker_id = ? AND status = 'RUNNING'",
                (error, error, error_type, t, t, job_id, worker_id),
            )
            return cur.rowcount == 1

    def _hand_back(self) -> str:
        """A RUNNING job a stopping server hands back: QUEUED again, its attempt not counted (the
        input is not to blame). Parameters: updated_at, worker_id."""
        return (
            "UPDATE jobs SET status = 'QUEUED', worker_id = NULL, started_at = NULL,"
            " lease_expires_at = NULL, progress = 0,"
            f" attempts = {self._d.greatest}(attempts - 1, 0),"
            " message = 'Job re-queued: the server stopped while it ran',"
            " updated_at = ? WHERE worker_id = ? AND status = 'RUNNING'"
        )

    def requeue_job(self, job_id: str, worker_id: str) -> bool:
        """Put a job interrupted by a clean shutdown back in the queue without using an attempt."""
        with self.db.write() as conn:
            cur = conn.execute(self._hand_back() + " AND job_id = ?", (now(), worker_id, job_id))
            return cur.rowcount == 1

    def requeue_worker_jobs(self, worker_id: str) -> list[str]:
        """:meth:`requeue_job` for every RUNNING job of a worker the stopping server had to kill."""
        with self.db.write() as conn:
            rows = conn.execute(self._hand_back() + " RETURNING job_id", (now(), worker_id))
            return [r["job_id"] for r in rows.fetchall()]

    def running_worker_ids(self) -> set[str]:
        rows = self._all(
            "SELECT DISTINCT worker_id FROM jobs WHERE status = 'RUNNING' AND worker_id IS NOT NULL"
        )
        return {r["worker_id"] for r in rows}

    def jobs_running_since(self, before: float) -> list[tuple[str, str]]:
        """``(job_id, worker_id)`` of the RUNNING jobs started before ``before`` (epoch seconds)."""
        rows = self._all(
            "SELECT job_id, worker_id FROM jobs WHERE status = 'RUNNING' AND started_at < ?",
            (before,),
        )
        return [(r["job_id"], r["worker_id"]) for r in rows]

    def renew_lease(self, job_id: str, worker_id: str, lease_s: float = LEASE_S) -> bool:
        """Extend the lease of a job running on ``worker_id``; False when it no longer runs
        there (canceled, finished, or re-queued after its lease expired): the worker stops."""
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_expires_at = ?"
                " WHERE job_id = ? AND worker_id = ? AND status = 'RUNNING'",
                (now() + lease_s, job_id, worker_id),
            )
            return cur.rowcount == 1

    def _recover(
        self, conn: Connection, where: str, args: Sequence[Any], max_attempts: int, reason: str
    ) -> list[tuple[str, str]]:
        """Re-queue (or fail, after ``max_attempts``) the RUNNING jobs ``where`` selects."""
        out: list[tuple[str, str]] = []
        reason = _storable(reason)
        rows = conn.execute(
            f"SELECT job_id, attempts FROM jobs WHERE status = 'RUNNING' AND {where}"
            f"{self._d.skip_locked}",
            args,
        ).fetchall()
        t = now()
        for row in rows:
            job_id, attempts = row["job_id"], row["attempts"]
            if attempts < max_attempts:
                conn.execute(
                    "UPDATE jobs SET status = 'QUEUED', worker_id = NULL, started_at = NULL,"
                    " lease_expires_at = NULL, progress = 0, message = ?, updated_at = ?"
                    " WHERE job_id = ?",
                    (f"Job re-queued: {reason}", t, job_id),
                )
                out.append((job_id, "QUEUED"))
            else:
                error = (
                    f"Job failed: {reason}, on each of its {attempts} attempts. The input"
                    " probably crashes the engine: check the C3D and markerset files."
                )
                conn.execute(
                    "UPDATE jobs SET status = 'FAILED', message = ?, error = ?, error_type = ?,"
                    " updated_at = ?, completed_at = ? WHERE job_id = ?",
                    (error, error, ENGINE_CRASH, t, t, job_id),
                )
                out.append((job_id, "FAILED"))
        return out

    def recover_worker_jobs(
        self, worker_id: str, max_attempts: int, reason: str
    ) -> list[tuple[str, str]]:
        """Re-queue (or fail, after ``max_attempts``) the RUNNING jobs of a dead worker."""
        with self.db.write() as conn:
            return self._recover(conn, "worker_id = ?", (worker_id,), max_attempts, reason)

    def recover_expired_jobs(self, max_attempts: int, reason: str) -> list[tuple[str, str]]:
        """Re-queue (or fail, after ``max_attempts``) the RUNNING jobs whose lease expired: their
        worker stopped renewing it (its host died, or it hangs)."""
        with self.db.write() as conn:
            return self._recover(conn, "lease_expires_at < ?", (now(),), max_attempts, reason)

    def queue_position(self, created_at: float) -> int:
        row = self._one(
            "SELECT COUNT(*) AS n FROM jobs WHERE status = 'RUNNING'"
            " OR (status = 'QUEUED' AND created_at < ?)",
            (created_at,),
        )
        return int(row["n"])

    def take_token(self, key_id: str, rate: float, burst: float) -> float:
        """Take one request from ``key_id``'s token bucket (``rate`` tokens a second, at most
        ``burst``): 0 when taken, else the seconds until a token is there. One statement, so
        the API processes share the buckets.
        """
        t = now()
        # SET expressions read the row as it was: the refill is computed from the old tokens.
        refilled = f"{self._d.least}(?, rate_buckets.tokens + (? - rate_buckets.updated_at) * ?)"
        with self.db.write() as conn:
            row = conn.execute(
                "INSERT INTO rate_buckets (key_id, tokens, updated_at, allowed)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET"
                f" tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END,"
                f" allowed = CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END,"
                " updated_at = excluded.updated_at RETURNING allowed, tokens",
                (key_id, burst - 1, t, int(burst >= 1), *(burst, t, rate) * 4),
            ).fetchone()
        if row["allowed"]:
            return 0.0
        return (1.0 - float(row["tokens"])) / rate if rate > 0 else float("inf")

    def mean_job_seconds(self) -> float | None:
        row = self._one(
            "SELECT AVG(completed_at - started_at) AS mean FROM"
            " (SELECT completed_at, started_at FROM jobs"
            " WHERE status = 'SUCCEEDED' ORDER BY completed_at DESC LIMIT 20) AS recent"
        )
        return float(row["mean"]) if row and row["mean"] is not None else None

    # -- characters -------------------------------------------------------------------------
    def upsert_character_version(self, record: CharacterVersionRecord) -> CharacterVersionRecord:
        with self.db.write() as conn:
            # One statement: API processes starting together all seed the catalog.
            row = conn.execute(
                "INSERT INTO character_versions (version_id, character_id, version, name,"
                " description, status, manifest_key, files, message, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (character_id, version) DO UPDATE SET name = excluded.name,"
                " description = excluded.description, status = excluded.status,"
                " manifest_key = excluded.manifest_key, files = excluded.files,"
                " message = excluded.message, updated_at = excluded.updated_at"
                " RETURNING version_id, created_at",
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
            ).fetchone()
            record.version_id, record.created_at = row["version_id"], row["created_at"]
            return record

    def list_character_versions(
        self, character_id: str | None = None
    ) -> list[CharacterVersionRecord]:
        q = f"SELECT {_CHARACTER_COLS} FROM character_versions"
        args: tuple[Any, ...] = ()
        if character_id is not None:
            q += " WHERE character_id = ?"
            args = (character_id,)
        rows = self._all(q + " ORDER BY character_id, created_at, version", args)
        return [_character(r) for r in rows]

    def set_character_version_status(
        self, character_id: str, version: str, status: str, message: str
    ) -> CharacterVersionRecord | None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE character_versions SET status = ?, message = ?, updated_at = ?"
                " WHERE character_id = ? AND version = ?",
                (status, message, now(), character_id, version),
            )
        found = [v for v in self.list_character_versions(character_id) if v.version == version]
        return found[0] if found else None


class SqliteMetadataStore(SqlMetadataStore):
    """The store in one SQLite file (the embedded default)."""

    db: SqliteDatabase

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        super().__init__(SqliteDatabase(path, busy_timeout_ms))


class PostgresMetadataStore(SqlMetadataStore):
    """The store in a PostgreSQL database (``postgresql://USER@HOST:PORT/DB``) shared by the
    API and worker processes of many hosts. Needs the ``scale`` extra."""

    def __init__(self, url: str, max_connections: int = 8) -> None:
        from ._db_postgres import PostgresDatabase

        super().__init__(PostgresDatabase(url, max_connections))


class DatabaseURLError(ValueError):
    """A database URL that names no database this server can use."""


def open_metadata_store(url: str) -> SqlMetadataStore:
    """The metadata store at ``url``: ``sqlite:///PATH`` (an absolute path) or
    ``postgresql://USER@HOST:PORT/DB`` (``postgres://`` too; psycopg's URL parameters apply).

    Raises:
        DatabaseURLError: Another form; the message shows the two that work.
        DatabaseError: The database cannot be used (the message says why).
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise DatabaseURLError(
                f"database URL {url!r}: write an absolute path after three slashes,"
                " e.g. sqlite:///var/lib/myo/myo.sqlite3"
            )
        return SqliteMetadataStore(Path(unquote(parts.path)))
    if scheme in ("postgresql", "postgres"):
        return PostgresMetadataStore(url)
    raise DatabaseURLError(
        f"database URL {url.split('@')[-1]!r} names no database myo-server can use: write"
        " sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    )
