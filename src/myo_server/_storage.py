"""Blob storage: a narrow protocol (an S3-compatible store can be added) and a directory store."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from ._filelock import FileLock
from ._private import FILE_MODE, make_dirs

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_CHUNK = 1 << 20
# Temporary files named without an owner (by servers before owners existed) are removed at start
# only once unmodified for this long: nothing tells whether their writer still lives.
UNOWNED_TEMP_GRACE = 24 * 3600.0


class InvalidKeyError(ValueError):
    """A storage key that is not of the form the server writes (``a/b/c``, safe characters)."""


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise :class:`InvalidKeyError`."""
    parts = key.split("/")
    if not key or len(key) > 1024 or any(not _SEGMENT.match(p) or p in {".", ".."} for p in parts):
        raise InvalidKeyError(f"invalid storage key {key!r}")
    return key


def safe_filename(name: str) -> str:
    """A storage-safe version of a client's file name (the original is kept in the metadata)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return base[:120]


def asset_key(tenant_id: str, asset_id: str, filename: str) -> str:
    """Where an asset's file is stored (uploads and job outputs alike)."""
    return f"tenants/{tenant_id}/assets/{asset_id}/{safe_filename(filename)}"


class BlobWriter(Protocol):
    """A pending object: bytes are invisible until :meth:`commit`."""

    def write(self, data: bytes) -> None:
        """Append bytes."""

    def sync(self) -> int:
        """Put the bytes on stable storage and stop writing; returns the size.

        Optional before :meth:`commit`; after it, commit is quick (a rename), so a caller may
        commit while it holds a lock.
        """

    def commit(self) -> int:
        """Make the object visible atomically (replacing any previous one); returns its size."""

    def abort(self) -> None:
        """Discard the pending bytes (safe to call after commit or twice)."""


class BlobStore(Protocol):
    """What the server needs from an object store; keys are ``/``-separated safe segments."""

    def writer(self, key: str) -> BlobWriter:
        """Start writing the object ``key``."""

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading (seekable, for ranged reads).

        Raises:
            FileNotFoundError: No such object.
        """

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""

    def exists(self, key: str) -> bool:
        """Whether the object exists."""

    def delete(self, key: str) -> None:
        """Remove the object (no error when absent)."""

    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file holding the object, valid inside the ``with`` block (for the engine)."""


def sha256_of(fh: BinaryIO) -> str:
    """The hex sha256 of what remains to read from ``fh`` (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    for chunk in iter(lambda: fh.read(_CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


def put_stream(blobs: BlobStore, key: str, source: BinaryIO) -> tuple[int, str]:
    """Copy what remains to read from ``source`` into the object ``key`` (visible only once
    complete).

    Returns:
        The object's size and hex sha256.
    """
    h = hashlib.sha256()
    writer = blobs.writer(key)
    try:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            h.update(chunk)
            writer.write(chunk)
        size = writer.commit()
    except BaseException:
        writer.abort()
        raise
    return size, h.hexdigest()


def put_file(blobs: BlobStore, key: str, path: Path) -> tuple[int, str]:
    """Copy a local file into the object ``key`` (visible only once complete).

    Returns:
        The object's size and hex sha256.
    """
    with open(path, "rb") as fh:
        return put_stream(blobs, key, fh)


# Each process writing temporary files names them after itself ("OWNER.TOKEN.part") and holds
# "OWNER.lock" locked until it dies (the OS then releases it): a lock that can be taken marks
# files that belong to no live writer, whichever process on the data directory wrote them.
_owners: dict[Path, str] = {}
_owners_guard = threading.Lock()


def _owner(tmp_dir: Path) -> str:
    """This process's owner name in ``tmp_dir``, its lock held for the process's lifetime."""
    with _owners_guard:
        owner = _owners.get(tmp_dir)
        while owner is None:
            candidate = f"{os.getpid()}-{secrets.token_hex(4)}"
            lock = FileLock(tmp_dir / f"{candidate}.lock")
            # A sweep may take and remove a lock file between its creation and our lock: then
            # the name is burnt (the file is gone), take another.
            if lock.try_acquire() and lock.path.exists():
                owner = _owners[tmp_dir] = candidate
            else:
                lock.release()
        return owner


def _owner_of(part: Path) -> str | None:
    owner, dot, _ = part.name.partition(".")
    return owner if dot and part.name.count(".") == 2 else None


class _DirectoryWriter:
    def __init__(self, final: Path, tmp_dir: Path) -> None:
        self._final = final
        make_dirs(tmp_dir)
        self._tmp = tmp_dir / f"{_owner(tmp_dir)}.{secrets.token_hex(8)}.part"
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        self._fh: BinaryIO | None = os.fdopen(fd, "wb")
        self._size = 0

    def write(self, data: bytes) -> None:
        assert self._fh is not None, "writer already closed"
        self._fh.write(data)
        self._size += len(data)

    def sync(self) -> int:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            try:
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fh.close()
        return self._size

    def commit(self) -> int:
        self.sync()
        make_dirs(self._final.parent)
        os.replace(self._tmp, self._final)
        _fsync_dir(self._final.parent)
        return self._size

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be fsynced on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectoryBlobStore:
    """Objects as files under a root directory; writes go to ``.tmp`` then are renamed in place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / ".tmp"
        make_dirs(self._tmp)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def writer(self, key: str) -> BlobWriter:
        return _DirectoryWriter(self._path(key), self._tmp)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Prune now-empty parents up to the root so deleted assets leave no directories behind.
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        yield path

    def cleanup_temp(self, unowned_grace: float = UNOWNED_TEMP_GRACE) -> int:
        """Remove the temporary files of writers that died mid-write (crashed uploads).

        A file whose owner's lock can be taken, or is gone, belongs to a dead process; one of
        unknown owner goes once unmodified for ``unowned_grace`` seconds. Safe while other
        processes share the directory: their files stay. Returns how many files went.
        """
        removed = 0
        for lock_path in self._tmp.glob("*.lock"):
            lock = FileLock(lock_path)
            if not lock.try_acquire():
                continue  # a live writer, in this or another process
            try:
                for part in self._tmp.glob(f"{lock_path.stem}.*.part"):
                    removed += _unlink(part)
            finally:
                lock.release()
            _unlink(lock_path)
        cutoff = time.time() - unowned_grace
        for part in self._tmp.glob("*.part"):
            owner = _owner_of(part)
            try:
                if owner is not None:
                    dead = not (self._tmp / f"{owner}.lock").exists()
                else:
                    dead = part.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            if dead:
                removed += _unlink(part)
        return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1
