"""Routes of the server itself: the liveness and readiness probes of a load balancer."""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from . import __version__
from ._deps import Runtime
from ._models import Health, Readiness
from ._objects import ObjectNotFoundError

router = APIRouter()

# A key no object has: looking it up reaches the store without reading anything.
_PROBE_KEY = "probes/ready"


@router.get("/health", response_model=Health, tags=["meta"])
async def health() -> Health:
    """Liveness probe (no API key needed)."""
    return Health(status="ok", version=__version__)


def _check(rt: Runtime) -> list[str]:
    """What keeps this process from serving: its database or its file storage unreachable."""
    problems = []
    try:
        rt.store.count_api_keys()
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}: {exc}")
    try:  # a GET, not a HEAD: S3 says which is missing, the object or the bucket, in the body
        rt.objects.open(_PROBE_KEY).close()
    except ObjectNotFoundError:
        pass  # the store answered
    except Exception as exc:
        problems.append(f"storage: {type(exc).__name__}: {exc}")
    return problems


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database or the storage is down"}},
    tags=["meta"],
)
async def ready(rt: Runtime) -> JSONResponse:
    """Readiness probe (no API key needed): 200 when this process reaches its database and its
    file storage, else 503 with what failed; a load balancer sends it requests only while 200."""
    problems = await anyio.to_thread.run_sync(_check, rt)
    status = "unavailable" if problems else "ready"
    body = Readiness(status=status, version=__version__, problems=problems)
    return JSONResponse(body.model_dump(), status_code=503 if problems else 200)
