"""Everything one server process holds: stores, signer, authenticator, catalog and workers."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ._auth import (
    Authenticator,
    RateLimiter,
    SharedRateLimiter,
    create_api_key,
    create_tenant,
)
from ._catalog import CharacterCatalog
from ._config import ServerConfig
from ._filelock import FileLock
from ._metadata import MetadataStore, open_metadata_store
from ._object_urls import open_object_store
from ._objects import ObjectStore
from ._objects_blobs import ObjectBlobStore
from ._objects_local import LocalObjectStore
from ._pool import WorkerPool
from ._private import make_dirs, secure_data_dir, touch_private
from ._signing import Signer, load_or_create_secret
from ._storage import BlobStore
from ._util import write_private_file

log = logging.getLogger("myo_server")


class ServerRuntime:
    """The state behind the routes. ``open`` prepares the data directory; ``close`` stops all."""

    store: MetadataStore
    signer: Signer
    auth: Authenticator
    limiter: RateLimiter | SharedRateLimiter
    catalog: CharacterCatalog
    pool: WorkerPool

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._opened = False
        # The address the server is bound to (set by whoever binds it): the base of presigned
        # URLs unless config.public_base_url names another.
        self.listen_url: str | None = None

    def presign_base(self) -> str:
        """The base URL of the presigned URLs this server hands out (no trailing slash)."""
        base = self.config.public_base_url or self.listen_url
        if base is None:
            raise RuntimeError("the server's address is unknown: set listen_url before serving")
        return base.rstrip("/")

    def open(self) -> None:
        """Create or migrate the data directory (safe with other processes doing the same)."""
        cfg = self.config
        secure_data_dir(cfg.data_dir, self._private_entries())
        make_dirs(cfg.run_dir)
        with FileLock(cfg.run_dir / "init.lock"):
            if cfg.database_url is None:
                touch_private(cfg.db_path)  # SQLite would create it (and its -wal, -shm) 0644
            self.store = open_metadata_store(cfg.metadata_url)
            self.signer = Signer(load_or_create_secret(cfg.secret_path))
            if cfg.local_storage:
                url = cfg.storage_url or cfg.blob_dir.resolve().as_uri()
                local = open_object_store(url, signer=self.signer, base_url=self.presign_base)
                assert isinstance(local, LocalObjectStore)
                removed = local.blobs.cleanup_temp()
                if removed:
                    log.info("removed %d temporary files left by interrupted writes", removed)
                self.objects: ObjectStore = local
                self.blobs: BlobStore = local.blobs
            else:  # an S3 bucket: clients upload and download there, with its own presigning
                assert cfg.storage_url is not None
                self.objects = open_object_store(cfg.storage_url)
                self.blobs = ObjectBlobStore(self.objects)
        self.auth = Authenticator(self.store)
        rate, burst = cfg.rate_limit_per_second, cfg.rate_limit_burst
        if cfg.metadata_url.startswith("sqlite:"):
            self.limiter = RateLimiter(rate, burst)  # one machine: buckets in memory
        else:  # the API processes of many hosts share the database, and so the buckets
            self.limiter = SharedRateLimiter(self.store, rate, burst)
        self.catalog = CharacterCatalog(self.store, self.blobs, cfg.run_dir / "catalog.lock")
        self.pool = WorkerPool(cfg, self.store, cfg.workers)
        self._opened = True

    def _private_entries(self) -> list[Path]:
        """What the server keeps in the data directory (its other contents are not its own)."""
        cfg = self.config
        db = cfg.db_path
        wal, shm = (db.with_name(db.name + suffix) for suffix in ("-wal", "-shm"))
        return [db, wal, shm, cfg.secret_path, cfg.embedded_key_path, cfg.blob_dir, cfg.run_dir]

    def start_background(self) -> None:
        """Start the workers and synchronise the character catalog in the background."""
        self.pool.start()
        threading.Thread(target=self._sync_catalog, name="myo-catalog-sync", daemon=True).start()

    def _sync_catalog(self) -> None:
        try:
            self.catalog.ensure_synced()
        except Exception:
            log.exception("character catalog synchronisation failed")

    def notify_job_queued(self) -> None:
        """Wake the workers."""
        self.pool.notify()

    def bootstrap_key(self) -> str | None:
        """On a data directory without any key: create a tenant and a key, return the key."""
        with FileLock(self.config.run_dir / "init.lock"):
            if self.store.count_api_keys():
                return None
            tenant = self.store.default_tenant() or create_tenant(self.store, "default")
            key, _ = create_api_key(self.store, tenant, "default")
            return key

    def embedded_key(self) -> str:
        """The embedded server's key, kept in ``embedded_api_key`` (0600) so restarts reuse it."""
        path = self.config.embedded_key_path
        with FileLock(self.config.run_dir / "init.lock"):
            if path.exists():
                key = path.read_text().strip()
                if self.auth.authenticate(key) is not None:
                    return key
                path.unlink()  # revoked or damaged: replace it
            tenant = self.store.default_tenant() or create_tenant(self.store, "default")
            key, _ = create_api_key(self.store, tenant, "embedded")
            write_private_file(path, key.encode())
            return key

    def close(self) -> None:
        """Stop the workers and close the database; idempotent."""
        if not self._opened:
            return
        self._opened = False
        self.pool.stop()
        self.store.close()
