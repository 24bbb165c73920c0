"""Routes of the server itself: the health probe."""

from __future__ import annotations

from fastapi import APIRouter

from . import __version__
from ._models import Health

router = APIRouter()


@router.get("/health", response_model=Health, tags=["meta"])
async def health() -> Health:
    """Liveness probe (no API key needed)."""
    return Health(status="ok", version=__version__)
