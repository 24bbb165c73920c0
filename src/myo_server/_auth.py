"""API keys: generation, hashing, lookup with a short cache, and per-key rate limiting."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass

from ._metadata import MetadataStore
from ._records import KeyRecord
from ._util import new_id, now

KEY_PREFIX = "myo_"
_CACHE_SECONDS = 2.0  # a revoked key stops working within this delay in other processes


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(store: MetadataStore, tenant_id: str, name: str) -> tuple[str, KeyRecord]:
    """Make a new key for ``tenant_id``; returns the plaintext (shown once) and its record."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    record = KeyRecord(
        key_id=key_id, tenant_id=tenant_id, name=name, key_hash=hash_key(key), created_at=now()
    )
    store.add_api_key(record)
    return key, record


def create_tenant(store: MetadataStore, name: str) -> str:
    """Make a tenant and return its id."""
    tenant_id = new_id()
    store.create_tenant(tenant_id, name)
    return tenant_id


def key_id_of(key: str) -> str | None:
    """The public id part of a well-formed key, else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, _ = key[len(KEY_PREFIX) :].partition("_")
    return key_id if sep and len(key_id) == 12 else None


@dataclass
class Principal:
    """Who made a request."""

    tenant_id: str
    key_id: str


class Authenticator:
    """Resolves keys to tenants; constant-time hash comparison, results cached briefly."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def authenticate(self, key: str) -> Principal | None:
        """The principal for ``key``, or None if it is unknown or revoked."""
        digest = hash_key(key)
        t = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[1] > t:
            return hit[0]
        key_id = key_id_of(key)
        record = self._store.get_api_key(key_id) if key_id else None
        ok = (
            record is not None
            and record.revoked_at is None
            and hmac.compare_digest(record.key_hash, digest)
        )
        if not ok or record is None:
            return None
        principal = Principal(tenant_id=record.tenant_id, key_id=record.key_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (principal, t + _CACHE_SECONDS)
        return principal


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second sustained, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> int | None:
        """None if the request may proceed, else seconds to wait (for ``Retry-After``)."""
        if self.rate <= 0:
            return None
        t = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.burst), t))
            tokens = min(float(self.burst), tokens + (t - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, t)
                return None
            self._buckets[key_id] = (tokens, t)
            return max(1, math.ceil((1.0 - tokens) / self.rate))


class SharedRateLimiter:
    """:class:`RateLimiter`'s buckets kept in the metadata store, so that every API process on
    the database draws on the same ones (a database round trip per request)."""

    def __init__(self, store: MetadataStore, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._store = store

    def check(self, key_id: str) -> int | None:
        """None if the request may proceed, else seconds to wait (for ``Retry-After``)."""
        if self.rate <= 0:
            return None
        wait = self._store.take_token(key_id, self.rate, self.burst)
        return None if wait == 0 else max(1, math.ceil(wait))
