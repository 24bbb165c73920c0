"""Streaming bodies: a multipart upload read from disk chunk by chunk, and a download sink.

Neither ever holds the whole file: both hash (sha256) and count the bytes as they pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
import httpx

from myosdk._core import CHUNK_SIZE, MultipartLayout, part_path
from myosdk._exceptions import IntegrityError

#: ``on_progress(bytes_done, bytes_total)`` for uploads and downloads (total None if unknown).
TransferProgress = Callable[[int, "int | None"], object]


class _UploadState:
    """What one pass over the file measured."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.done = 0

    @property
    def sha256(self) -> str:
        return self.hasher.hexdigest()


def _changed(path: Path, expected: int, actual: int) -> IntegrityError:
    return IntegrityError(
        f"{path} changed while uploading (expected {expected} bytes, read {actual} so far); "
        "upload it again once nothing writes to it.",
        str(path),
        expected,
        actual,
    )


class _UploadBase:
    def __init__(
        self, path: Path, layout: MultipartLayout, on_progress: TransferProgress | None
    ) -> None:
        self.path = path
        self.layout = layout
        self.on_progress = on_progress
        self.state = _UploadState()
        self.complete = False

    def _take(self, chunk: bytes) -> None:
        state = self.state
        state.hasher.update(chunk)
        state.done += len(chunk)
        if state.done > self.layout.file_size:
            raise _changed(self.path, self.layout.file_size, state.done)

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.state.done, self.layout.file_size)

    def _finish(self) -> None:
        if self.state.done != self.layout.file_size:
            raise _changed(self.path, self.layout.file_size, self.state.done)
        self.complete = True


class FileMultipartStream(_UploadBase, httpx.SyncByteStream):
    """The multipart body of a presigned POST, streamed from disk (sync).

    Each iteration re-opens the file and restarts the hash, so a retry sends the file afresh.
    """

    def __iter__(self) -> Iterator[bytes]:
        self.state = _UploadState()
        self.complete = False
        yield self.layout.head
        with open(self.path, "rb") as f:
            while chunk := f.read(CHUNK_SIZE):
                self._take(chunk)
                yield chunk
                self._progress()
        self._finish()
        yield self.layout.tail


class AsyncFileMultipartStream(_UploadBase, httpx.AsyncByteStream):
    """The multipart body of a presigned POST, streamed from disk (async).

    File reads and hashing run in a worker thread (hashlib releases the GIL), so the event loop
    stays free and hashing overlaps with the socket writes.
    """

    def _read(self, f: BinaryIO) -> bytes:
        chunk = f.read(CHUNK_SIZE)
        if chunk:
            self._take(chunk)
        return chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.state = _UploadState()
        self.complete = False
        yield self.layout.head
        f = await anyio.to_thread.run_sync(open, self.path, "rb")
        try:
            while chunk := await anyio.to_thread.run_sync(self._read, f):
                yield chunk
                self._progress()
        finally:
            f.close()
        self._finish()
        yield self.layout.tail


class DownloadSink:
    """Receives a download into ``destination.part``, hashing and counting; ``commit`` renames it
    into place, ``discard`` removes it. Supports restarting from zero and resuming at an offset."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.part = part_path(destination)
        self.hasher = hashlib.sha256()
        self.size = 0
        self._file: BinaryIO | None = None

    def open(self) -> None:
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.part, "wb")  # noqa: SIM115 (closed by commit/discard)

    def restart(self) -> None:
        """Drop what was received (the server ignored our Range and sends from byte 0)."""
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self.hasher.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self.hasher.hexdigest()

    def commit(self) -> None:
        """Flush, fsync and atomically rename the verified ``.part`` to the destination."""
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        os.replace(self.part, self.destination)

    def discard(self) -> None:
        """Close and delete the partial file (nothing is left at the destination)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()
