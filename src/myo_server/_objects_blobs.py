"""The server's :class:`~._storage.BlobStore` over any :class:`~._objects.ObjectStore`: the
catalog, the workers and the asset service keep their one interface whether the files live in
the data directory or in an S3 bucket."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from ._objects import ObjectNotFoundError, ObjectStore

__all__ = ["ObjectBlobStore"]


class _SpooledWriter:
    """Bytes spooled to a temporary file, stored as one object on commit (atomic)."""

    def __init__(self, objects: ObjectStore, key: str) -> None:
        self._objects = objects
        self._key = key
        # Closed by commit or abort, as the BlobWriter contract says.
        self._file: BinaryIO | None = cast(BinaryIO, tempfile.TemporaryFile())  # noqa: SIM115
        self._size = 0

    def write(self, data: bytes) -> None:
        assert self._file is not None, "write after commit or abort"
        self._file.write(data)
        self._size += len(data)

    def sync(self) -> int:
        return self._size

    def commit(self) -> int:
        assert self._file is not None, "commit after commit or abort"
        self._file.seek(0)
        try:
            self._objects.put(self._key, self._file)
        finally:
            self.abort()
        return self._size

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class ObjectBlobStore:
    """:class:`~._storage.BlobStore` whose objects live in ``objects``."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def writer(self, key: str) -> _SpooledWriter:
        return _SpooledWriter(self.objects, key)

    def open(self, key: str) -> BinaryIO:
        try:
            return cast(BinaryIO, self.objects.open(key))
        except ObjectNotFoundError:
            raise FileNotFoundError(key) from None

    def size(self, key: str) -> int | None:
        try:
            return self.objects.stat(key).size
        except ObjectNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        self.objects.delete(key)

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        try:
            with self.objects.local_path(key) as path:
                yield path
        except ObjectNotFoundError:
            raise FileNotFoundError(key) from None
