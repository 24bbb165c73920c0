"""Server settings and the data directory layout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BUCKET = "myo-local"
# The largest request body read as JSON (the API's bodies are a few KiB; metadata is capped at
# 16 KiB). The presigned upload form is not JSON and has its own size rule.
MAX_JSON_BODY_BYTES = 1024 * 1024
#: How to install the drivers of the scale-out backends (PostgreSQL, S3), for the error that
#: says one is missing.
SCALE_EXTRA_HINT = "pip install 'myo-mcp[scale]' (or uv sync --extra scale)"


def default_data_dir() -> Path:
    """``$MYO_HOME`` if set, else the platform's user data directory for "myo"."""
    env = os.environ.get("MYO_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("myo", appauthor=False))


def default_workers() -> int:
    """One worker per CPU (jobs are CPU-bound)."""
    return max(1, os.cpu_count() or 1)


@dataclass
class ServerConfig:
    """Settings of one server process.

    Attributes:
        data_dir: Where the database, the blobs and the server secret live.
        workers: Worker processes running jobs (0: jobs stay QUEUED, useful in tests).
        public_base_url: Base of the presigned URLs; default: the address the server is bound to
            (never the request's Host header).
        rate_limit_per_second: Sustained requests per second allowed per API key (0 disables).
        rate_limit_burst: Requests a key may make at once before the sustained rate applies.
        upload_url_ttl: Seconds an upload URL stays valid.
        download_url_ttl: Seconds a download URL stays valid.
        max_upload_bytes: Largest upload accepted when the client gives no expected size.
        max_attempts: Times a job is started before a crashing worker makes it FAILED.
        worker_memory_limit_mb: Address space (MiB) each worker process may use; a job needing
            more ends FAILED instead of exhausting the host (0: no limit). An idle worker holds
            about 310 MB; jobs of 2,751 / 16,480 / 41,200 frames peaked at about 450 / 580 /
            800 MB (~12 KB per frame), so the default takes recordings of ~40 min at 120 Hz.
        job_timeout_s: Seconds a job may run before it ends FAILED and its worker is replaced,
            so an input that hangs the engine cannot hold a worker forever (0: no limit).
        bucket: Bucket name shown in ``s3://bucket/key`` storage references.
        storage_url: Where the files live: ``file:///DIR`` or ``s3://BUCKET[/PREFIX]``
            (endpoint and credentials from the standard AWS variables); default: ``blobs/`` in
            ``data_dir``.
        job_lease_s: Seconds a running job stays its worker's without a renewal (the worker
            renews it every third of that): after a host dies, its jobs run elsewhere this long
            after its last renewal.
        database_url: Where the metadata and the job queue live: ``sqlite:///PATH`` or
            ``postgresql://USER@HOST:PORT/DB`` (shared by the API and worker processes of many
            hosts); default: the SQLite file in ``data_dir``.
    """

    data_dir: Path
    workers: int = 1
    public_base_url: str | None = None
    rate_limit_per_second: float = 2000.0
    rate_limit_burst: int = 4000
    upload_url_ttl: int = 3600
    download_url_ttl: int = 3600
    max_upload_bytes: int = 20 * 1024**3
    max_attempts: int = 2
    worker_memory_limit_mb: int = 4096
    job_timeout_s: float = 3600.0
    bucket: str = DEFAULT_BUCKET
    database_url: str | None = None
    job_lease_s: float = 30.0
    storage_url: str | None = None

    @property
    def local_storage(self) -> bool:
        """Whether the files live in a directory of this host (not in an S3 bucket)."""
        return self.storage_url is None or self.storage_url.lower().startswith("file:")

    @property
    def db_path(self) -> Path:
        """The SQLite database of the data directory (used unless ``database_url`` is set)."""
        return self.data_dir / "myo.sqlite3"

    @property
    def metadata_url(self) -> str:
        """The database of the metadata: ``database_url``, else the data directory's file."""
        return self.database_url or f"sqlite://{self.db_path.resolve().as_posix()}"

    @property
    def blob_dir(self) -> Path:
        """Root of the directory blob store."""
        return self.data_dir / "blobs"

    @property
    def run_dir(self) -> Path:
        """Lock files (worker liveness, initialisation)."""
        return self.data_dir / "run"

    @property
    def secret_path(self) -> Path:
        """The HMAC secret that signs presigned URLs."""
        return self.data_dir / "secret.key"

    @property
    def embedded_key_path(self) -> Path:
        """The API key of the embedded server's tenant (mode 0600)."""
        return self.data_dir / "embedded_api_key"
