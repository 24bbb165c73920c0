"""What the route modules share: their FastAPI dependencies (the runtime, the caller, the
services, the ``Idempotency-Key`` header) as typed ``Annotated`` aliases, the list bounds and the
response of an idempotent answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import Response

from ._assets_service import AssetService
from ._auth import Principal
from ._characters_service import CharacterService
from ._idempotency import IDEMPOTENCY_KEY_PATTERN, Answer
from ._jobs_service import JobService
from ._runtime import ServerRuntime

# The largest ``offset`` a list accepts (and ``reference_count`` filter).
MAX_OFFSET = 1_000_000_000


# The dependencies are coroutines so that FastAPI calls them on the event loop, not in a thread.
async def get_runtime(request: Request) -> ServerRuntime:
    """The runtime the app was created with."""
    rt: ServerRuntime = request.app.state.runtime
    return rt


async def get_principal(request: Request) -> Principal:
    """The caller, authenticated by the gateway (every ``/v1`` request has one)."""
    principal: Principal = request.state.principal
    return principal


Runtime = Annotated[ServerRuntime, Depends(get_runtime)]
Caller = Annotated[Principal, Depends(get_principal)]


async def get_assets(rt: Runtime) -> AssetService:
    """The asset service over the app's runtime."""
    return AssetService(rt)


async def get_characters(rt: Runtime) -> CharacterService:
    """The character service over the app's runtime."""
    return CharacterService(rt)


async def get_jobs(rt: Runtime) -> JobService:
    """The job service over the app's runtime."""
    return JobService(rt)


Assets = Annotated[AssetService, Depends(get_assets)]
Characters = Annotated[CharacterService, Depends(get_characters)]
Jobs = Annotated[JobService, Depends(get_jobs)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN}),
]


def answer_response(answer: Answer) -> Response:
    """The HTTP response of a creating POST's answer (a replay says so in a header)."""
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status_code, media_type="application/json", headers=headers
    )
