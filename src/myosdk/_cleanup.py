"""Which assets a cleanup removes: completed or abandoned uploads no queued or running job uses,
older than a given age. Jobs themselves cannot be deleted through the API (only canceled)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from myosdk._types import Asset

__all__ = ["JOBS_STAY_NOTE", "created_at", "stale_assets"]

#: Said wherever a cleanup is offered: what it cannot do.
JOBS_STAY_NOTE = (
    "Jobs cannot be deleted through the API (only canceled): their records stay, their "
    "output assets are cleaned like any other."
)


def created_at(asset: Asset) -> datetime | None:
    """When ``asset`` was created (UTC), None if the server gave no readable time."""
    text = asset.get("created_at")
    if not isinstance(text, str) or not text:
        return None
    try:  # Python 3.10's fromisoformat does not take the "Z" suffix
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def stale_assets(
    assets: Iterable[Asset], older_than: timedelta, now: datetime | None = None
) -> list[Asset]:
    """The assets of ``assets`` no QUEUED or RUNNING job uses, created more than
    ``older_than`` before ``now`` (default: the current time), oldest first."""
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    out = []
    for asset in assets:
        when = created_at(asset)
        if asset.get("reference_count", 0) == 0 and when is not None and when <= cutoff:
            out.append((when, asset))
    return [asset for _, asset in sorted(out, key=lambda pair: pair[0])]
