"""The object store port: what the server needs from wherever its files live.

Two implementations: the local directory with the server's own signer and ``/storage`` routes
(:mod:`._objects_local`) and any S3-compatible store (:mod:`._objects_s3`);
:func:`~._object_urls.open_object_store` picks one from a URL. Methods are synchronous (the
server calls them in threads). Keys are ``/``-separated safe segments (:func:`._storage.check_key`).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

# Presigned URLs live at most this long: S3's limit for SigV4, applied to both stores so that a
# setting valid on one is valid on the other.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
READ_CHUNK = 1 << 20


class ObjectNotFoundError(FileNotFoundError):
    """No object under this key (a :class:`FileNotFoundError`, as the directory store raises)."""

    def __init__(self, key: str, where: str) -> None:
        super().__init__(f"no object {key!r} in {where}")
        self.key = key


class InvalidRangeError(ValueError):
    """A byte range that starts past the end of the object."""


class ObjectStoreError(RuntimeError):
    """The store refused or failed a request for another reason than a missing object (no such
    bucket, access denied, unreachable endpoint); the message says which store and why."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about an object.

    Attributes:
        size: Its size in bytes.
        sha256: Its hex sha256 when the store recorded it (objects the server wrote with
            ``put`` on S3); None otherwise: then :func:`object_sha256` streams the bytes.
    """

    size: int
    sha256: str | None


@dataclass(frozen=True)
class PresignedPost:
    """A browser-style upload: POST ``fields`` then the ``file`` part as multipart/form-data.

    Attributes:
        url: Where to POST.
        fields: Form fields to send verbatim, before the file.
        expires_at: Unix time after which the form is refused.
    """

    url: str
    fields: dict[str, str]
    expires_at: int


class RawStream(Protocol):
    """What :class:`ObjectReader` wraps: a file or an HTTP response body."""

    def read(self, size: int = ..., /) -> bytes:
        """Up to ``size`` bytes."""

    def close(self) -> None:
        """Release it."""


class ObjectReader:
    """An open object, or the requested range of it, read front to back; a context manager.

    Args:
        raw: The stream, positioned at the range's first byte.
        length: Bytes to read from ``raw`` at most (None: until its end).
    """

    def __init__(self, raw: RawStream, length: int | None = None) -> None:
        self._raw = raw
        self._left = length

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that remain if negative); ``b""`` at the end."""
        if self._left is not None:
            size = self._left if size < 0 else min(size, self._left)
            if size == 0:
                return b""
        data = self._raw.read(size) if size >= 0 else self._raw.read()
        if self._left is not None:
            self._left -= len(data)
        return data

    def close(self) -> None:
        """Release the file or connection (safe twice)."""
        self._raw.close()

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ObjectStore(Protocol):
    """Put, read, inspect, delete and presign objects."""

    def put(self, key: str, source: BinaryIO) -> ObjectInfo:
        """Store what remains to read from ``source`` as ``key``, atomically: readers see the
        old object or the whole new one, never a part.

        Returns:
            The stored object's size and sha256 (always known here: the bytes went through).
        """

    def open(self, key: str, offset: int = 0, length: int | None = None) -> ObjectReader:
        """Stream the object, or a byte range of it.

        Args:
            key: The object.
            offset: First byte; negative for the last ``-offset`` bytes (all if fewer).
            length: Bytes from ``offset`` (None: to the end; fewer if the object ends first).
                Must be None with a negative ``offset``.

        Raises:
            ObjectNotFoundError: No such object.
            InvalidRangeError: ``offset`` at or past the end of a non-empty object.
        """

    def copy(self, source: str, target: str) -> ObjectInfo:
        """Copy the object ``source`` to ``target`` inside the store (the bytes do not pass
        through this process on S3), atomically like :meth:`put`.

        Returns:
            The copy's size and, when the store recorded it, sha256.

        Raises:
            ObjectNotFoundError: No object ``source``.
        """

    def stat(self, key: str) -> ObjectInfo:
        """Size and, when recorded, sha256 of the object.

        Raises:
            ObjectNotFoundError: No such object.
        """

    def delete(self, key: str) -> None:
        """Remove the object (no error when absent)."""

    def presign_upload(
        self, key: str, *, asset_id: str, max_size: int, expires_in: int
    ) -> PresignedPost:
        """A form that lets its holder upload one file of at most ``max_size`` bytes as
        ``key`` until ``expires_in`` seconds from now, without other credentials.

        Args:
            key: The object the file becomes (the form is good for this key only).
            asset_id: The pending asset the upload belongs to: the local store's upload
                route binds the form to it (one file per asset); S3 needs no binding.
            max_size: Largest file accepted, in bytes.
            expires_in: Seconds the form stays valid (1 to :data:`MAX_PRESIGN_SECONDS`).
        """

    def presign_download(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A URL that GETs the object (``Range`` supported) for ``expires_in`` seconds.

        Args:
            key: The object.
            expires_in: Seconds the URL stays valid (1 to :data:`MAX_PRESIGN_SECONDS`).
            filename: The name browsers save it as (S3: ``Content-Disposition`` of the
                response). The local store's route names an asset's file after the asset's
                record whatever this says.
        """

    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file holding the object, valid inside the ``with`` block (for the engine).

        The file's name is the key's last segment (the engine reads the extension).

        Raises:
            ObjectNotFoundError: No such object.
        """


def check_range(offset: int, length: int | None) -> None:
    """Raise ValueError for a range :meth:`ObjectStore.open` does not take."""
    if length is not None and length < 0:
        raise ValueError(f"length must be 0 or more bytes, not {length}")
    if offset < 0 and length is not None:
        raise ValueError("a negative offset (the last bytes) takes no length")


def resolve_range(size: int, offset: int, length: int | None) -> tuple[int, int]:
    """The first byte and the byte count that ``offset`` and ``length`` select in ``size`` bytes.

    Raises:
        InvalidRangeError: ``offset`` at or past the end of a non-empty object.
        ValueError: A range :meth:`ObjectStore.open` does not take.
    """
    check_range(offset, length)
    if offset < 0:
        start = max(0, size + offset)
        return start, size - start
    if offset > 0 and offset >= size:
        raise InvalidRangeError(f"offset {offset} is past the end of the object ({size} bytes)")
    left = size - offset
    return offset, left if length is None else min(length, left)


def check_expires_in(expires_in: int) -> int:
    """Return ``expires_in`` if it is a valid presigned URL lifetime, else raise ValueError."""
    if not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
        raise ValueError(
            f"expires_in must be 1 to {MAX_PRESIGN_SECONDS} seconds (7 days), not {expires_in}"
        )
    return expires_in


def check_max_size(max_size: int) -> int:
    """Return ``max_size`` if it is a valid upload size limit, else raise ValueError."""
    if max_size < 0:
        raise ValueError(f"max_size must be 0 or more bytes, not {max_size}")
    return max_size


def content_disposition(filename: str) -> str:
    """The ``Content-Disposition`` of a download saved as ``filename`` (any characters)."""
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


def sha256_of_reader(reader: ObjectReader) -> str:
    """The hex sha256 of what remains to read from ``reader`` (1 MiB at a time)."""
    h = hashlib.sha256()
    for chunk in iter(lambda: reader.read(READ_CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


def object_sha256(store: ObjectStore, key: str) -> str:
    """The object's hex sha256: the recorded one if the store has it, else streamed.

    Raises:
        ObjectNotFoundError: No such object.
    """
    recorded = store.stat(key).sha256
    if recorded is not None:
        return recorded
    with store.open(key) as reader:
        return sha256_of_reader(reader)
