"""The presigned POST upload: a streaming multipart/form-data reader that writes to storage.

Form fields come first (as with S3), then the ``file`` part, which goes straight to a temporary
blob of its own while its sha256 is computed: the body is never held in memory. A form takes one
file: the first upload to finish claims the asset in the database and publishes its blob in the
same transaction; later ones are refused and leave nothing behind.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header

from ._metadata import MetadataStore
from ._records import AssetRecord
from ._signing import SignatureError, Signer, UploadPolicy
from ._space import OUT_OF_SPACE, out_of_space
from ._storage import BlobStore, BlobWriter

_MAX_FIELD_BYTES = 64 * 1024
_MAX_FIELDS = 64
_FORM_OVERHEAD = 1024 * 1024  # what a body may carry beyond the file: fields, part headers
_DRAIN_LIMIT = 8 * 1024 * 1024  # read (and drop) at most this much after refusing an upload


class UploadError(Exception):
    """An upload refused with an S3-like error code."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


@dataclass
class UploadResult:
    """A stored upload."""

    asset_id: str
    size: int
    sha256: str


@dataclass
class _State:
    fields: dict[str, str] = field(default_factory=dict)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, str] = field(default_factory=dict)
    part_name: str | None = None
    is_file: bool = False
    buffer: bytearray = field(default_factory=bytearray)
    policy: UploadPolicy | None = None
    writer: BlobWriter | None = None
    sha: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    file_done: bool = False
    part_count: int = 0
    expected_size: int | None = None


def _too_large(policy: UploadPolicy) -> UploadError:
    return UploadError(
        400,
        "EntityTooLarge",
        f"Your proposed upload exceeds the maximum allowed size ({policy.max_size} bytes"
        " declared as expected_size_bytes)",
    )


def _no_space() -> UploadError:
    return UploadError(507, "InsufficientStorage", OUT_OF_SPACE)


def _not_pending(asset: AssetRecord | None) -> SignatureError:
    """Why a form can no longer take a file: its asset is gone or already has one."""
    if asset is None:
        return SignatureError("AccessDenied", "This upload URL is no longer valid")
    if asset.status == "completed":
        return SignatureError(
            "AccessDenied",
            "This upload was already completed; initiate a new upload for another file",
        )
    return SignatureError(
        "AccessDenied",
        f"A file was already uploaded with this form (a form takes one file): complete asset"
        f" {asset.asset_id}, or initiate a new upload for another file",
    )


def _part_name(disposition: str) -> tuple[str | None, bool]:
    kind, params = parse_options_header(disposition)
    if kind != b"form-data":
        return None, False
    name = params.get(b"name")
    return (name.decode("utf-8", "replace") if name is not None else None), b"filename" in params


async def receive_upload(
    content_type: str,
    body: AsyncIterator[bytes],
    signer: Signer,
    store: MetadataStore,
    blobs: BlobStore,
    content_length: int | None,
    max_upload_bytes: int,
) -> UploadResult:
    """Parse, authorise and store one presigned upload.

    Raises:
        UploadError: Malformed form (400), bad signature or used form (403), too large or too
            short for ``expected_size_bytes`` (400), out of disk space (507).
    """
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError(
            400, "MalformedPOSTRequest", "The body must be multipart/form-data with a boundary"
        )
    if content_length is not None and content_length > max_upload_bytes + _FORM_OVERHEAD:
        raise UploadError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum size")
    st = _State()

    def start_file() -> None:
        policy = signer.verify_upload(st.fields)
        asset = store.get_asset(policy.asset_id, None)
        if asset is None or asset.storage_key != policy.key:
            raise _not_pending(None)
        if asset.status != "pending":  # refused now rather than after streaming the file
            raise _not_pending(asset)
        st.expected_size = asset.expected_size_bytes
        if content_length is not None and content_length > policy.max_size + _FORM_OVERHEAD:
            raise _too_large(policy)
        st.policy = policy
        st.writer = blobs.writer(policy.key)

    def on_part_begin() -> None:
        st.part_count += 1
        if st.part_count > _MAX_FIELDS:
            raise UploadError(400, "MalformedPOSTRequest", "Too many form fields")
        st.headers.clear()
        st.buffer.clear()
        st.part_name, st.is_file = None, False

    def on_header_field(data: bytes, start: int, end: int) -> None:
        st.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        st.header_value += data[start:end]

    def on_header_end() -> None:
        st.headers[st.header_field.decode("latin-1").lower()] = st.header_value.decode("latin-1")
        st.header_field.clear()
        st.header_value.clear()

    def on_headers_finished() -> None:
        name, has_filename = _part_name(st.headers.get("content-disposition", ""))
        if name is None:
            raise UploadError(400, "MalformedPOSTRequest", "A form part has no name")
        st.part_name = name
        st.is_file = name == "file"
        if st.is_file:
            if st.file_done:
                raise UploadError(
                    400, "MalformedPOSTRequest", "POST requires exactly one file upload per request"
                )
            start_file()
        elif has_filename:
            raise UploadError(
                400, "MalformedPOSTRequest", f"Unexpected file part {name!r}: name it 'file'"
            )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if st.is_file:
            assert st.writer is not None
            assert st.policy is not None
            chunk = data[start:end]
            st.size += len(chunk)
            if st.size > st.policy.max_size:
                raise _too_large(st.policy)
            st.sha.update(chunk)
            st.writer.write(chunk)
        else:
            st.buffer += data[start:end]
            if len(st.buffer) > _MAX_FIELD_BYTES:
                raise UploadError(
                    400, "MalformedPOSTRequest", f"Form field {st.part_name!r} too long"
                )

    def on_part_end() -> None:
        if st.is_file:
            st.file_done = True
        elif st.part_name is not None:
            st.fields[st.part_name] = st.buffer.decode("utf-8", "replace")

    callbacks: dict[str, Callable[..., None]] = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    failure: Exception | None = None
    drained = 0
    try:
        async for chunk in body:
            if failure is not None:  # let the client finish sending so it can read our answer
                drained += len(chunk)
                if drained > _DRAIN_LIMIT:
                    break
                continue
            try:
                parser.write(chunk)
            except (UploadError, SignatureError) as exc:
                failure = exc
            except OSError as exc:  # writing the temporary blob
                if not out_of_space(exc):
                    raise
                failure = _no_space()
            except Exception as exc:  # the parser's own errors: malformed body
                failure = UploadError(
                    400, "MalformedPOSTRequest", f"Malformed multipart body ({exc})"
                )
        if failure is None:
            try:
                parser.finalize()
            except Exception as exc:
                failure = UploadError(
                    400, "MalformedPOSTRequest", f"Malformed multipart body ({exc})"
                )
        if failure is None and not st.file_done:
            failure = UploadError(
                400,
                "MalformedPOSTRequest" if st.policy is None else "IncompleteBody",
                "The body has no complete 'file' part: send the fields, then the file",
            )
        if failure is not None:
            raise failure
        assert st.writer is not None
        assert st.policy is not None
        if st.expected_size is not None and st.size != st.expected_size:
            raise UploadError(
                400,
                "EntityTooSmall",
                f"The file has {st.size} bytes but expected_size_bytes is {st.expected_size}:"
                " it was cut short or is another file. Nothing was stored; send the whole file"
                " with the same form",
            )
        asset_id, sha256 = st.policy.asset_id, st.sha.hexdigest()
        try:
            await anyio.to_thread.run_sync(st.writer.sync)  # the slow part, outside the claim
            claimed = await anyio.to_thread.run_sync(
                store.claim_upload, asset_id, st.size, sha256, st.writer.commit
            )
        except (OSError, sqlite3.Error) as exc:
            if out_of_space(exc):
                raise _no_space() from None
            raise
        if not claimed:  # another upload finished first, or the asset was deleted meanwhile
            raise _not_pending(store.get_asset(asset_id, None))
        st.writer = None
        return UploadResult(asset_id, st.size, sha256)
    except SignatureError as exc:
        raise UploadError(403, exc.code, exc.message) from None
    finally:
        if st.writer is not None:
            st.writer.abort()
