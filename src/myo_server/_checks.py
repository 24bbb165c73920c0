"""Checks of request values that several services share."""

from __future__ import annotations

import re
from typing import Any

from ._errors import ServiceError
from ._util import dumps

MAX_METADATA_BYTES = 16 * 1024
#: A SHA-256 digest as the server stores it: 64 lowercase hex digits.
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def check_metadata(metadata: dict[str, Any] | None) -> None:
    """Refuse user metadata over :data:`MAX_METADATA_BYTES` of JSON.

    Raises:
        ServiceError: 400 when it is too large.
    """
    if metadata is not None and len(dumps(metadata)) > MAX_METADATA_BYTES:
        raise ServiceError(400, "metadata is too large (at most 16 KiB of JSON)")
