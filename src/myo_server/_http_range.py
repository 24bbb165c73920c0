"""HTTP ``Range`` requests: parse one ``bytes=`` range and stream that part of a stored file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from ._storage import BlobStore

_CHUNK = 1 << 20


class UnsatisfiableRangeError(Exception):
    """The range starts past the end of the object (answered with 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single ``bytes=`` range as (start, end) inclusive; None to serve it all.

    Args:
        header: The request's ``Range`` header, if any.
        size: The object's size in bytes.

    Returns:
        The inclusive byte range, or None for a missing, malformed or multi-range header.

    Raises:
        UnsatisfiableRangeError: The range starts past the end.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    spec = header[6:].strip()
    first, sep, last = spec.partition("-")
    if not sep:
        return None
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                raise UnsatisfiableRangeError
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start < 0 or end < start:
        return None
    if start >= size:
        raise UnsatisfiableRangeError
    return start, min(end, size - 1)


async def read_range(blobs: BlobStore, key: str, start: int, length: int) -> AsyncIterator[bytes]:
    """Stream ``length`` bytes of ``key`` from ``start``, reading off the event loop.

    Args:
        blobs: The store holding the file.
        key: Its storage key.
        start: The first byte to send.
        length: How many bytes to send (fewer if the file is shorter).

    Yields:
        Chunks of at most 1 MiB.
    """
    fh = await anyio.to_thread.run_sync(blobs.open, key)
    try:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(fh.read, min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fh.close()
