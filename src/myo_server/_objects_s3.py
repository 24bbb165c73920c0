"""The S3 object store: any S3-compatible service, through boto3 (the ``scale`` extra).

Presigned POSTs and GETs are S3's own: clients send and fetch the bytes from the store, the
server is off the data path. The endpoint, credentials and region come from the standard AWS
variables and files (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``, ``~/.aws``). boto3 is imported when a store is made, not with this module.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ._checks import SHA256_HEX
from ._objects import (
    READ_CHUNK,
    InvalidRangeError,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectReader,
    ObjectStoreError,
    PresignedPost,
    check_expires_in,
    check_max_size,
    check_range,
    content_disposition,
)
from ._storage import check_key

# The user metadata (x-amz-meta-sha256) where ``put`` records an object's sha256. A presigned
# POST cannot set it: S3 refuses form fields its policy does not list, and ours lists none.
SHA256_METADATA = "sha256"
_MISSING = {"NoSuchKey", "404", "NotFound"}


def make_s3_client() -> Any:
    """A boto3 S3 client configured from the standard AWS variables, signing with SigV4.

    Raises:
        ImportError: boto3 is not installed.
    """
    import boto3
    from botocore.config import Config

    # SigV4 everywhere: boto3 would presign with the deprecated SigV2 in us-east-1, which
    # newer regions and many S3-compatible stores refuse.
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


class S3ObjectStore:
    """Objects in an S3 bucket, under an optional key prefix.

    Args:
        bucket: The bucket (it must exist).
        prefix: Prepended to every key (``prefix/key``), so that one bucket can hold several
            servers' files; empty for none.
        client: A boto3 S3 client; default: :func:`make_s3_client`.
        tmp_dir: Where :meth:`local_path` downloads objects; default: the system's.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        tmp_dir: Path | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self._client = client if client is not None else make_s3_client()
        self._tmp_dir = tmp_dir

    def __repr__(self) -> str:
        return f"S3ObjectStore({self._where()!r})"

    def _where(self) -> str:
        endpoint = getattr(self._client.meta, "endpoint_url", None)
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {endpoint}" if endpoint else "")

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _failure(self, exc: Exception, action: str, key: str) -> Exception:
        """The port's error for a boto3 failure of ``action`` on ``key``."""
        code = _error_code(exc)
        if code in _MISSING:
            return ObjectNotFoundError(key, self._where())
        if code == "NoSuchBucket":
            return ObjectStoreError(
                f"bucket {self.bucket!r} does not exist ({self._where()}): create it or fix the"
                " storage URL"
            )
        return ObjectStoreError(f"{action} {key!r} failed on {self._where()}: {exc}")

    def put(self, key: str, source: BinaryIO) -> ObjectInfo:
        full = self._key(key)
        with contextlib.ExitStack() as stack:
            fh = source
            if not source.seekable():  # hashed before the upload starts: spool it first
                fh = stack.enter_context(tempfile.TemporaryFile(dir=self._tmp_dir))
                shutil.copyfileobj(source, fh, READ_CHUNK)
                fh.seek(0)
            start = fh.tell()
            h, size = hashlib.sha256(), 0
            for chunk in iter(lambda: fh.read(READ_CHUNK), b""):
                h.update(chunk)
                size += len(chunk)
            fh.seek(start)
            digest = h.hexdigest()
            try:
                # Multipart above 8 MiB; the object appears only once complete (atomic).
                self._client.upload_fileobj(
                    fh, self.bucket, full, ExtraArgs={"Metadata": {SHA256_METADATA: digest}}
                )
            except Exception as exc:
                raise self._failure(exc, "put", key) from exc
        return ObjectInfo(size, digest)

    def open(self, key: str, offset: int = 0, length: int | None = None) -> ObjectReader:
        check_range(offset, length)
        full = self._key(key)
        if length == 0:
            self.stat(key)  # still an error when the object is missing
            return ObjectReader(io.BytesIO())
        extra: dict[str, str] = {}
        if offset < 0:
            extra["Range"] = f"bytes={offset}"  # "bytes=-N": the last N bytes
        elif offset > 0 or length is not None:
            last = "" if length is None else str(offset + length - 1)
            extra["Range"] = f"bytes={offset}-{last}"
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=full, **extra)
        except Exception as exc:
            if _error_code(exc) == "InvalidRange":
                if offset <= 0:  # an empty object: nothing to range over, as locally
                    return ObjectReader(io.BytesIO())
                raise InvalidRangeError(
                    f"offset {offset} is past the end of {key!r} in {self._where()}"
                ) from None
            raise self._failure(exc, "get", key) from exc
        return ObjectReader(response["Body"])

    def copy(self, source: str, target: str) -> ObjectInfo:
        try:
            # Managed copy: server-side, multipart above its threshold (CopyObject stops at
            # 5 GB); the metadata (the sha256 put recorded) goes along.
            self._client.copy(
                {"Bucket": self.bucket, "Key": self._key(source)}, self.bucket, self._key(target)
            )
        except Exception as exc:
            raise self._failure(exc, "copy", source) from exc
        return self.stat(target)

    def stat(self, key: str) -> ObjectInfo:
        try:
            head = self._client.head_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
        except Exception as exc:
            raise self._failure(exc, "stat", key) from exc
        return ObjectInfo(int(head["ContentLength"]), _recorded_sha256(head))

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._failure(exc, "delete", key) from exc

    def presign_upload(
        self, key: str, *, asset_id: str, max_size: int, expires_in: int
    ) -> PresignedPost:
        # The key is unique to its asset: S3 needs no other binding to asset_id.
        expires = int(time.time()) + check_expires_in(expires_in)
        post = self._client.generate_presigned_post(
            self.bucket,
            self._key(key),  # boto3 adds the exact-key and bucket conditions
            Conditions=[["content-length-range", 0, check_max_size(max_size)]],
            ExpiresIn=expires_in,
        )
        return PresignedPost(
            str(post["url"]), {k: str(v) for k, v in post["fields"].items()}, expires
        )

    def presign_download(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename is not None:
            params["ResponseContentDisposition"] = content_disposition(filename)
        url = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=check_expires_in(expires_in)
        )
        return str(url)

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        full = self._key(key)
        with tempfile.TemporaryDirectory(prefix="myo-object-", dir=self._tmp_dir) as tmp:
            path = Path(tmp) / full.rpartition("/")[2]
            try:
                self._client.download_file(self.bucket, full, str(path))
            except Exception as exc:
                raise self._failure(exc, "download", key) from exc
            yield path


def _recorded_sha256(head: dict[str, Any]) -> str | None:
    """The sha256 that ``put`` stored in the metadata, or S3's own full-object checksum."""
    recorded = head.get("Metadata", {}).get(SHA256_METADATA)
    if isinstance(recorded, str) and SHA256_HEX.match(recorded):
        return recorded
    checksum = head.get("ChecksumSHA256")
    # A multipart upload's checksum is of its parts' checksums ("...-N"), not of the object.
    if isinstance(checksum, str) and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
        try:
            raw = base64.b64decode(checksum, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) == 32:
            return raw.hex()
    return None
