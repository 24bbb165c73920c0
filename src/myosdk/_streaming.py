"""Streaming bodies: a multipart upload read from disk chunk by chunk, and a download sink.

Neither ever holds the whole file: both hash (sha256) and count the bytes as they pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import queue
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import BinaryIO

import anyio
import anyio.to_thread
import httpx

from myosdk._core import CHUNK_SIZE, MultipartLayout
from myosdk._exceptions import IntegrityError
from myosdk._files import create_beside, replace_into

#: ``on_progress(bytes_done, bytes_total)`` for uploads and downloads (total None if unknown).
#: With ``AsyncClient`` it runs on the event loop and may be a coroutine function.
TransferProgress = Callable[[int, "int | None"], object]


async def notify(callback: Callable[..., object], *args: object) -> None:
    """Call a progress callback from async code, awaiting it when it is a coroutine function."""
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


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

    def _progress(self, sent: int) -> None:
        if self.on_progress is not None:
            self.on_progress(sent, self.layout.file_size)

    def _finish(self) -> None:
        if self.state.done != self.layout.file_size:
            raise _changed(self.path, self.layout.file_size, self.state.done)
        self.complete = True


#: Chunks read (and hashed) ahead of the socket at most: bounds memory to about 4 MiB.
_READ_AHEAD = 4


def _read_ahead(path: Path, take: Callable[[bytes], None]) -> Generator[bytes, None, None]:
    """Chunks of ``path``, read and passed to ``take`` (hashing) by a thread that stays a few
    chunks ahead, so disk reads and hashing overlap with the socket writes."""
    ready: queue.Queue[bytes | BaseException] = queue.Queue(_READ_AHEAD)
    stop = threading.Event()

    def put(item: bytes | BaseException) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            with open(path, "rb") as f:
                while not stop.is_set():
                    chunk = f.read(CHUNK_SIZE)
                    if chunk:
                        take(chunk)
                    put(chunk)  # b"" marks the end
                    if not chunk:
                        return
        except BaseException as exc:  # reported to the consumer, which re-raises it
            put(exc)

    reader = threading.Thread(target=produce, name="myosdk-upload-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:  # also when the send fails midway: stop the reader before a retry re-opens the file
        stop.set()
        reader.join()


class FileMultipartStream(_UploadBase, httpx.SyncByteStream):
    """The multipart body of a presigned POST, streamed from disk (sync).

    Each iteration re-opens the file and restarts the hash, so a retry sends the file afresh.
    """

    def __iter__(self) -> Iterator[bytes]:
        self.state = _UploadState()
        self.complete = False
        yield self.layout.head
        sent = 0
        for chunk in _read_ahead(self.path, self._take):
            yield chunk
            sent += len(chunk)
            self._progress(sent)
        self._finish()
        yield self.layout.tail


class AsyncFileMultipartStream(_UploadBase, httpx.AsyncByteStream):
    """The multipart body of a presigned POST, streamed from disk (async).

    The same read-ahead thread as the sync stream reads and hashes (hashlib releases the GIL);
    the event loop only picks up ready chunks, so it stays free and hashing overlaps with the
    socket writes.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.state = _UploadState()
        self.complete = False
        yield self.layout.head
        chunks = _read_ahead(self.path, self._take)
        sent = 0
        try:
            while chunk := await anyio.to_thread.run_sync(next, chunks, b""):
                yield chunk
                sent += len(chunk)
                if self.on_progress is not None:
                    await notify(self.on_progress, sent, self.layout.file_size)
        finally:  # stop the reader thread even when the send failed or was cancelled
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(chunks.close)
        self._finish()
        yield self.layout.tail


class DownloadSink:
    """Receives a download into a new temporary file beside the destination (``create_beside``),
    hashing and counting; ``commit`` renames it into place, ``discard`` removes it. Supports
    restarting from zero and resuming at an offset."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.part: Path | None = None
        self.hasher = hashlib.sha256()
        self.size = 0
        self._file: BinaryIO | None = None

    def open(self) -> None:
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self._file, self.part = create_beside(self.destination)

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
        """Close and atomically rename the verified temporary file to the destination.

        No fsync, like curl and wget: readers never see a partial file (the rename is atomic),
        and forcing 1 GiB to disk would double the time of a large download.
        """
        assert self._file is not None and self.part is not None
        self._file.close()
        self._file = None
        replace_into(self.part, self.destination)
        self.part = None

    def discard(self) -> None:
        """Close and delete the temporary file (an existing destination is left as it was)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.part is not None:
            with contextlib.suppress(FileNotFoundError):
                self.part.unlink()
            self.part = None


class _Batch:
    """Small network reads gathered into one disk write of about ``CHUNK_SIZE``."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> int:
        self.parts.append(chunk)
        self.size += len(chunk)
        return self.size

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


#: Batches waiting for the disk at most (bounds memory to about DEPTH * CHUNK_SIZE).
_DEPTH = 8


def _progress(sink: DownloadSink, on_progress: TransferProgress | None, total: int | None) -> None:
    if on_progress is not None:
        on_progress(sink.size, total)


def stream_to_sink(
    chunks: Iterator[bytes],
    sink: DownloadSink,
    on_progress: TransferProgress | None,
    total: int | None,
) -> None:
    """Write a response body to ``sink`` with a write-behind thread, so that reading the socket
    overlaps with writing and hashing (both release the GIL).

    A transport error is raised only after every byte received was written: ``sink.size`` is then
    exactly where a ``Range`` resume must start.
    """
    pending: queue.Queue[bytes | None] = queue.Queue(_DEPTH)
    failure: list[BaseException] = []

    def write_all() -> None:
        while (data := pending.get()) is not None:
            if not failure:
                try:
                    sink.write(data)
                    _progress(sink, on_progress, total)
                except BaseException as exc:  # e.g. disk full: reported to the reader
                    failure.append(exc)

    writer = threading.Thread(target=write_all, name="myosdk-download-writer", daemon=True)
    writer.start()
    batch = _Batch()
    try:
        for chunk in chunks:
            if batch.add(chunk) >= CHUNK_SIZE:
                if failure:
                    break
                pending.put(batch.take())
    finally:
        if batch.size:
            pending.put(batch.take())
        pending.put(None)
        writer.join()
    if failure:
        raise failure[0]


async def astream_to_sink(
    chunks: AsyncIterator[bytes],
    sink: DownloadSink,
    on_progress: TransferProgress | None,
    total: int | None,
) -> None:
    """The async twin of ``stream_to_sink``: a writer task hands batches to a worker thread while
    the event loop keeps reading the socket."""
    send, receive = anyio.create_memory_object_stream[bytes](_DEPTH)
    error: httpx.TransportError | None = None

    async def write_all() -> None:
        async with receive:
            async for data in receive:
                await anyio.to_thread.run_sync(sink.write, data)
                if on_progress is not None:
                    await notify(on_progress, sink.size, total)

    async with anyio.create_task_group() as group:
        group.start_soon(write_all)
        async with send:
            batch = _Batch()
            try:
                async for chunk in chunks:
                    if batch.add(chunk) >= CHUNK_SIZE:
                        await send.send(batch.take())
            except httpx.TransportError as exc:
                error = exc  # first write what arrived: the resume starts after it
            if batch.size:
                await send.send(batch.take())
    if error is not None:
        raise error
