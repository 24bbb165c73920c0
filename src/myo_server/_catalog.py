"""The character catalog: the engine's shipped characters, copied into the blob store."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._filelock import FileLock
from ._metadata import MetadataStore
from ._records import CharacterVersionRecord
from ._storage import BlobStore, put_file, safe_filename, sha256_of
from ._util import new_id, now

if TYPE_CHECKING:
    from myo_retarget import CharacterInfo

log = logging.getLogger("myo_server.catalog")

MANIFEST_FILE = "manifest.json"


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return sha256_of(fh)


def _engine_catalog() -> Iterable[CharacterInfo]:
    # Heavy (numpy, MuJoCo): imported only when the catalog is first needed.
    import myo_retarget

    return myo_retarget.character_catalog()


class CharacterCatalog:
    """Synchronises the engine's characters into storage once per process and serves them."""

    def __init__(self, store: MetadataStore, blobs: BlobStore, lock_path: Path) -> None:
        self._store = store
        self._blobs = blobs
        self._lock_path = lock_path
        self._synced = threading.Event()
        self._sync_lock = threading.Lock()
        self.error: str | None = None

    def key_prefix(self, character_id: str, version: str) -> str:
        """Where a version's files are stored."""
        return f"characters/{safe_filename(character_id)}/{safe_filename(version)}"

    def ensure_synced(self) -> None:
        """Copy new or changed character files into storage and record them (idempotent)."""
        if self._synced.is_set():
            return
        with self._sync_lock:
            if self._synced.is_set():
                return
            try:
                infos = list(_engine_catalog())
            except Exception as exc:  # the engine is missing or broken: serve an empty catalog
                self.error = f"character catalog unavailable ({type(exc).__name__}: {exc})"
                log.error(self.error)
                infos = []
            with FileLock(self._lock_path):  # other server processes on this data dir
                for info in infos:
                    self._sync_one(info)
            self._synced.set()

    def _put_file(self, key: str, path: Path) -> None:
        if self._blobs.size(key) == path.stat().st_size:
            with self._blobs.open(key) as fh:
                stored = sha256_of(fh)
            if stored == _sha256(path):
                return
        put_file(self._blobs, key, path)

    def _sync_one(self, info: CharacterInfo) -> None:
        prefix = self.key_prefix(info.character_id, info.version)
        keys: dict[str, str] = {}
        for name, path in sorted(info.files.items()):
            key = f"{prefix}/{safe_filename(name)}"
            self._put_file(key, Path(path))
            keys[name] = key
        if MANIFEST_FILE not in keys:  # describe the stored files when the engine has no manifest
            doc: dict[str, Any] = {
                "character_id": info.character_id,
                "version": info.version,
                "files": {
                    n: {"key": k, "sha256": _sha256(Path(info.files[n]))} for n, k in keys.items()
                },
            }
            key = f"{prefix}/{MANIFEST_FILE}"
            writer = self._blobs.writer(key)
            writer.write(json.dumps(doc, indent=2, sort_keys=True).encode())
            writer.commit()
            keys[MANIFEST_FILE] = key
        t = now()
        self._store.upsert_character_version(
            CharacterVersionRecord(
                version_id=new_id(),
                character_id=info.character_id,
                version=info.version,
                name=info.name,
                description=info.description,
                status="READY",
                manifest_key=keys[MANIFEST_FILE],
                files=keys,
                created_at=t,
                updated_at=t,
            )
        )

    def versions(self, character_id: str | None = None) -> list[CharacterVersionRecord]:
        """Stored versions (after synchronising)."""
        self.ensure_synced()
        return self._store.list_character_versions(character_id)

    def validate(self, record: CharacterVersionRecord) -> CharacterVersionRecord:
        """Check the stored files exist and the model compiles; record READY or FAILED."""
        missing = [name for name, key in record.files.items() if not self._blobs.exists(key)]
        if missing:
            status, message = "FAILED", f"files missing from storage: {', '.join(sorted(missing))}"
        else:
            try:
                with ExitStack() as stack:
                    paths = {
                        name: stack.enter_context(self._blobs.local_path(key))
                        for name, key in record.files.items()
                    }
                    import myo_retarget

                    myo_retarget.validate_character_files(paths)
                status, message = "READY", "All files present; the model compiles"
            except Exception as exc:  # CharacterError or anything the compiler raises
                status, message = "FAILED", f"model check failed: {exc}"
        updated = self._store.set_character_version_status(
            record.character_id, record.version, status, message
        )
        return updated or record
