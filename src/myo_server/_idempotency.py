"""``Idempotency-Key`` on the POSTs that create: a retry with the same key and body gets the stored
answer, the same key with another body a 409."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from ._errors import ServiceError
from ._metadata import MetadataStore
from ._records import IdempotencyEntry
from ._util import dumps

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


@dataclass(frozen=True)
class Answer:
    """A JSON answer to a creating POST: a new one (201) or a stored one replayed."""

    body: str
    status_code: int
    replayed: bool


@dataclass
class Idempotency:
    """One POST honouring ``Idempotency-Key``."""

    key: str | None
    endpoint: str
    request_hash: str
    # Rewrites a stored answer whose content goes stale (an upload form's signature expires).
    renew: Callable[[str], str] | None = None

    def replay(self, entry: IdempotencyEntry) -> Answer:
        """The stored answer of an earlier request with this key.

        Raises:
            ServiceError: 409 when that request had another body.
        """
        if entry.request_hash != self.request_hash:
            raise ServiceError(
                409,
                "This Idempotency-Key was already used with a different request body;"
                " use a new key for a new request",
            )
        body = self.renew(entry.body) if self.renew else entry.body
        return Answer(body, entry.status_code, replayed=True)

    def created(
        self, payload: str, save: Callable[[IdempotencyEntry | None], IdempotencyEntry | None]
    ) -> tuple[Answer, bool]:
        """Save the new resource and this answer in one transaction (``save``): the 201 and True,
        or the answer a concurrent request with the same key stored first and False."""
        entry = (
            IdempotencyEntry(self.key, self.endpoint, self.request_hash, 201, payload)
            if self.key
            else None
        )
        existing = save(entry)
        if existing is not None:
            return self.replay(existing), False
        return Answer(payload, 201, replayed=False), True


def begin(
    store: MetadataStore,
    tenant: str,
    key: str | None,
    endpoint: str,
    body: BaseModel,
    renew: Callable[[str], str] | None = None,
) -> tuple[Idempotency, Answer | None]:
    """Check an ``Idempotency-Key`` and hash the request.

    Args:
        store: Holds the stored answers.
        tenant: Keys are per tenant.
        key: The request's ``Idempotency-Key``, if any.
        endpoint: Keys are per endpoint too.
        body: The request body (its explicitly set fields are hashed).
        renew: Passes a replayed answer through this.

    Returns:
        The request's :class:`Idempotency` and the stored answer of an earlier request with this
        key, if any.

    Raises:
        ServiceError: 400 for a malformed key, 409 for a key used with another body.
    """
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise ServiceError(400, "Idempotency-Key must be 1-255 visible ASCII characters")
    request_hash = hashlib.sha256(dumps(body.model_dump(exclude_unset=True)).encode()).hexdigest()
    idem = Idempotency(key, endpoint, request_hash, renew)
    entry = store.get_idempotency(tenant, key, endpoint) if key is not None else None
    return idem, idem.replay(entry) if entry else None
