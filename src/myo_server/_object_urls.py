"""Storage URLs: ``file:///DIR`` or ``s3://BUCKET[/PREFIX]`` to an :class:`ObjectStore`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ._config import SCALE_EXTRA_HINT, ServerConfig
from ._objects import ObjectStore
from ._signing import Signer
from ._storage import BlobStore, DirectoryBlobStore, InvalidKeyError, check_key

_FORMS = "file:///DIR or s3://BUCKET[/PREFIX]"
# S3's bucket naming rules (the common subset every S3-compatible store accepts).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class StorageURLError(ValueError):
    """A storage URL this server cannot use (the message says why and what to write)."""


def open_object_store(
    url: str,
    *,
    signer: Signer | None = None,
    base_url: str | Callable[[], str] | None = None,
) -> ObjectStore:
    """The object store a storage URL names.

    Args:
        url: ``file:///DIR`` (a directory on this host) or ``s3://BUCKET[/PREFIX]`` (endpoint
            and credentials from the standard AWS variables, e.g. ``AWS_ENDPOINT_URL``).
        signer: For ``file:``: signs presigned URLs with the secret of the server serving DIR.
        base_url: For ``file:``: that server's public base URL (or a function giving it).

    Raises:
        StorageURLError: Not one of the two forms, a bad bucket or prefix, ``file:`` without
            signer and base URL, or ``s3:`` without boto3 installed.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return _open_directory(url, signer, base_url)
    if scheme == "s3":
        return _open_s3(url, parts.netloc, parts.path)
    raise StorageURLError(f"unsupported storage URL {url!r}: use {_FORMS}")


def storage_directory(url: str) -> Path:
    """The directory a ``file:///DIR`` storage URL names.

    Raises:
        StorageURLError: Not a file: URL of a directory on this host.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise StorageURLError(f"storage URL {url!r} is not a file: URL; write file:///DIR")
    host, path = parts.netloc, parts.path
    if host not in ("", "localhost"):
        raise StorageURLError(
            f"storage URL {url!r} names host {host!r}: a file: URL is a directory on this host,"
            " written file:///DIR (three slashes)"
        )
    if not path or path == "/":
        raise StorageURLError(f"storage URL {url!r} names no directory: write file:///DIR")
    return Path(unquote(path))


def open_blob_store(config: ServerConfig) -> BlobStore:
    """The server's files as the workers and the catalog use them (no presigning): the data
    directory's ``blobs/``, the directory of a ``file:`` URL, or an S3 bucket."""
    if config.storage_url is None:
        return DirectoryBlobStore(config.blob_dir)
    if config.local_storage:
        return DirectoryBlobStore(storage_directory(config.storage_url))
    from ._objects_blobs import ObjectBlobStore

    return ObjectBlobStore(open_object_store(config.storage_url))


def _open_directory(
    url: str, signer: Signer | None, base_url: str | Callable[[], str] | None
) -> ObjectStore:
    from ._objects_local import LocalObjectStore

    directory = storage_directory(url)
    if signer is None or base_url is None:
        raise StorageURLError(
            f"storage URL {url!r}: a directory store presigns URLs for the server that serves"
            " it; give that server's signer and base URL"
        )
    return LocalObjectStore(DirectoryBlobStore(directory), signer, base_url)


def _open_s3(url: str, bucket: str, path: str) -> ObjectStore:
    if not _BUCKET.match(bucket):
        raise StorageURLError(
            f"storage URL {url!r}: {bucket!r} is not a bucket name (3 to 63 lowercase letters,"
            " digits, dots or hyphens, starting and ending with a letter or digit); write"
            " s3://BUCKET[/PREFIX]"
        )
    prefix = unquote(path).strip("/")
    if prefix:
        try:
            check_key(prefix)
        except InvalidKeyError:
            raise StorageURLError(
                f"storage URL {url!r}: the prefix {prefix!r} must be /-separated segments of"
                " letters, digits, '.', '_' or '-'"
            ) from None
    try:
        from ._objects_s3 import S3ObjectStore, make_s3_client

        client = make_s3_client()
    except ImportError:
        raise StorageURLError(
            f"storage URL {url!r} needs boto3, which is not installed: {SCALE_EXTRA_HINT}"
        ) from None
    return S3ObjectStore(bucket, prefix, client=client)
