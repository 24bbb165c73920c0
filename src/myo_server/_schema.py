"""The metadata database's schema: its migrations, in order, written once for both dialects."""

from __future__ import annotations

from ._db import SQLITE, Dialect

__all__ = ["SCHEMA_VERSION", "schema"]


def schema(d: Dialect) -> list[list[str]]:
    """The migrations, in order: ``steps[i]`` takes a database at version ``i`` to ``i + 1``."""
    real = d.real
    create = [
        f"""CREATE TABLE tenants (
            tenant_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at {real} NOT NULL
        )""",
        f"""CREATE TABLE api_keys (
            key_id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            created_at {real} NOT NULL,
            revoked_at {real},
            last_used_at {real}
        )""",
        f"""CREATE TABLE assets (
            asset_id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            purpose TEXT NOT NULL,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            storage_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            expected_size_bytes BIGINT,
            size_bytes BIGINT,
            checksum_sha256 TEXT,
            metadata TEXT,
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL,
            completed_at {real},
            source_job_id TEXT
        )""",
        "CREATE INDEX assets_tenant ON assets(tenant_id, created_at)",
        f"""CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            params TEXT NOT NULL,
            metadata TEXT,
            message TEXT NOT NULL DEFAULT '',
            error TEXT,
            progress {real} NOT NULL DEFAULT 0,
            run_id TEXT NOT NULL,
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL,
            started_at {real},
            completed_at {real},
            output_asset_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            worker_id TEXT
        )""",
        "CREATE INDEX jobs_tenant ON jobs(tenant_id, created_at)",
        "CREATE INDEX jobs_status ON jobs(status, created_at)",
        """CREATE TABLE job_inputs (
            job_id TEXT NOT NULL REFERENCES jobs(job_id),
            asset_id TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (job_id, role)
        )""",
        "CREATE INDEX job_inputs_asset ON job_inputs(asset_id)",
        f"""CREATE TABLE idempotency (
            tenant_id TEXT NOT NULL,
            key TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status_code INTEGER NOT NULL,
            body TEXT NOT NULL,
            created_at {real} NOT NULL,
            PRIMARY KEY (tenant_id, endpoint, key)
        )""",
        f"""CREATE TABLE character_versions (
            version_id TEXT PRIMARY KEY,
            character_id TEXT NOT NULL,
            version TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL,
            manifest_key TEXT NOT NULL,
            files TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL,
            UNIQUE (character_id, version)
        )""",
    ]
    outputs = [
        # Without these each POST scanned history: mean_job_seconds sorted every success
        # (23 ms per retarget POST with 50,000 jobs), the idempotency expiry sweep read every
        # key (16 ms per POST with 100,000 keys of the last day). IF NOT EXISTS: schema-1 files
        # of later releases have them.
        "CREATE INDEX IF NOT EXISTS jobs_completed ON jobs(status, completed_at)",
        "CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at)",
        "ALTER TABLE jobs ADD COLUMN outputs TEXT",  # JSON: output name -> asset id
        "ALTER TABLE jobs ADD COLUMN output_info TEXT",  # JSON: processing time, diagnostics
    ]
    leases = [
        # Workers on many hosts: a RUNNING job belongs to its worker until its lease expires;
        # the worker renews it while it runs, anyone re-queues it once expired.
        f"ALTER TABLE jobs ADD COLUMN lease_expires_at {real}",
        "CREATE INDEX jobs_lease ON jobs(status, lease_expires_at)",
        # Token buckets of the per-key rate limit, shared by the API processes.
        f"""CREATE TABLE rate_buckets (
            key_id TEXT PRIMARY KEY,
            tokens {real} NOT NULL,
            updated_at {real} NOT NULL,
            allowed INTEGER NOT NULL
        )""",
    ]
    error_types = [
        # What kind of failure a FAILED job had (clients branch on it); NULL on older rows.
        "ALTER TABLE jobs ADD COLUMN error_type TEXT",
    ]
    sha256_lookup = [
        # GET /v1/assets?sha256=: clients look for an identical upload before uploading again.
        "CREATE INDEX assets_sha256 ON assets(tenant_id, checksum_sha256)",
    ]
    return [create, outputs, leases, error_types, sha256_lookup]


#: The version a database has once migrated.
SCHEMA_VERSION = len(schema(SQLITE))
