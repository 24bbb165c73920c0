"""The local object store: a :class:`DirectoryBlobStore` plus the server's :class:`Signer`.

Its presigned URLs point at the server's own ``/storage`` routes, which check the signatures and
stream the bytes: the server is on the data path, as on one machine it may be.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from ._objects import (
    ObjectInfo,
    ObjectNotFoundError,
    ObjectReader,
    PresignedPost,
    check_expires_in,
    check_max_size,
    resolve_range,
)
from ._signing import Signer, UploadPolicy
from ._storage import DirectoryBlobStore, check_key, put_stream

# The server's presigned storage routes (the app serves them; these build their URLs).
UPLOAD_PATH = "/storage/upload"
OBJECTS_PATH = "/storage/objects"


class LocalObjectStore:
    """Objects as files under a directory, presigned by the server that serves that directory.

    Args:
        blobs: The directory store (atomic writers, temporary-file cleanup).
        signer: Signs with the secret of the server that serves ``blobs``.
        base_url: That server's public base URL, or a function giving it (a server learns its
            address once bound).
    """

    def __init__(
        self, blobs: DirectoryBlobStore, signer: Signer, base_url: str | Callable[[], str]
    ) -> None:
        self.blobs = blobs
        self._signer = signer
        self._base_url = base_url

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.blobs.root)!r})"

    def _base(self) -> str:
        base = self._base_url() if callable(self._base_url) else self._base_url
        return base.rstrip("/")

    def _missing(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(key, str(self.blobs.root))

    def put(self, key: str, source: BinaryIO) -> ObjectInfo:
        size, sha256 = put_stream(self.blobs, key, source)
        return ObjectInfo(size, sha256)

    def open(self, key: str, offset: int = 0, length: int | None = None) -> ObjectReader:
        try:
            fh = self.blobs.open(key)
        except FileNotFoundError:
            raise self._missing(key) from None
        try:
            start, count = resolve_range(os.fstat(fh.fileno()).st_size, offset, length)
            fh.seek(start)
        except BaseException:
            fh.close()
            raise
        return ObjectReader(fh, count)

    def copy(self, source: str, target: str) -> ObjectInfo:
        with self.open(source) as reader:
            return self.put(target, reader)  # type: ignore[arg-type]

    def stat(self, key: str) -> ObjectInfo:
        size = self.blobs.size(key)
        if size is None:
            raise self._missing(key)
        return ObjectInfo(size, None)  # the sha256 is in the asset's record, not beside the file

    def delete(self, key: str) -> None:
        self.blobs.delete(key)

    def presign_upload(
        self, key: str, *, asset_id: str, max_size: int, expires_in: int
    ) -> PresignedPost:
        expires = int(time.time()) + check_expires_in(expires_in)
        policy = UploadPolicy(asset_id, check_key(key), check_max_size(max_size), expires)
        return PresignedPost(
            f"{self._base()}{UPLOAD_PATH}", self._signer.upload_fields(policy), expires
        )

    def presign_download(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        # ``filename`` is not signed into the URL: the route names an asset's file after its
        # record, the only names this store serves.
        expires = int(time.time()) + check_expires_in(expires_in)
        signature = self._signer.download_signature(check_key(key), expires)
        return f"{self._base()}{OBJECTS_PATH}/{quote(key)}?expires={expires}&signature={signature}"

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with contextlib.ExitStack() as stack:
            try:
                path = stack.enter_context(self.blobs.local_path(key))
            except FileNotFoundError:
                raise self._missing(key) from None
            yield path  # the stored file itself: nothing to copy or clean up
