"""Small helpers shared by the server's modules: identifiers, time, JSON."""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import datetime, timezone
from typing import Any

from ._private import FILE_MODE


def new_id() -> str:
    """A UUID version 7 string: time-ordered, so ids sort by creation like the vendor's."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def now() -> float:
    """Seconds since the epoch (UTC), to the microsecond; every stored time uses this unit."""
    return round(time.time(), 6)


def to_datetime(ts: float | None) -> datetime | None:
    """An aware UTC datetime from stored epoch seconds (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def parse_iso8601(text: str) -> float:
    """Epoch seconds from an ISO 8601 date or date-time; naive values are taken as UTC.

    Raises:
        ValueError: The text is not ISO 8601.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON: stable enough to hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_private_file(path: os.PathLike[str] | str, data: bytes) -> bool:
    """Create ``path`` (mode 0600) atomically; False if it already exists (another won the race)."""
    tmp = f"{os.fspath(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, os.fspath(path))  # fails if the target exists: no clobbering
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True
