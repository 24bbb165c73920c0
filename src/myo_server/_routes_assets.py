"""Routes of ``/v1/assets``: the three-step upload, reading, listing and deleting assets."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ._deps import MAX_OFFSET, Assets, Caller, IdempotencyKeyHeader, answer_response
from ._models import (
    Asset,
    AssetList,
    CompleteUploadResponse,
    InitiateUploadRequest,
    InitiateUploadResponse,
)
from ._openapi import COMMON_ERRORS, ERROR, FULL, TOO_LARGE
from ._records import PURPOSES

router = APIRouter()


@router.post(
    "/v1/assets/initiate",
    status_code=201,
    response_model=InitiateUploadResponse,
    responses={**COMMON_ERRORS, 409: ERROR, 413: TOO_LARGE, 507: FULL},
    tags=["assets"],
)
async def initiate_upload(
    body: InitiateUploadRequest,
    p: Caller,
    assets: Assets,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Step 1 of an upload: get a presigned POST (URL + form fields) for the file."""
    return answer_response(assets.initiate(p.tenant_id, body, idempotency_key))


@router.post(
    "/v1/assets/{asset_id}/complete",
    response_model=CompleteUploadResponse,
    responses={**COMMON_ERRORS, 404: ERROR, 507: FULL},
    tags=["assets"],
)
async def complete_upload(asset_id: str, p: Caller, assets: Assets) -> CompleteUploadResponse:
    """Step 3 of an upload: verify the stored file and make the asset usable (idempotent)."""
    return assets.complete(p.tenant_id, asset_id)


@router.get(
    "/v1/assets/{asset_id}",
    response_model=Asset,
    responses={**COMMON_ERRORS, 404: ERROR},
    tags=["assets"],
)
async def get_asset(asset_id: str, p: Caller, assets: Assets) -> Asset:
    """An asset's details, with a presigned ``download_url`` once completed."""
    return assets.get(p.tenant_id, asset_id)


@router.get("/v1/assets", response_model=AssetList, responses=COMMON_ERRORS, tags=["assets"])
async def list_assets(
    p: Caller,
    assets: Assets,
    purpose: str | None = Query(
        default=None,
        description=f"One of {', '.join(PURPOSES)}",
        json_schema_extra={"enum": list(PURPOSES)},
    ),
    reference_count: int | None = Query(default=None, ge=0, le=MAX_OFFSET),
    limit: int = Query(default=50, ge=1, le=100),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    sha256: str | None = Query(
        default=None,
        description="Only uploads of these bytes: the file's SHA-256, 64 hex digits "
        "(an extension of this server: clients reuse an identical upload instead of "
        "uploading again)",
    ),
) -> AssetList:
    """The tenant's assets, newest first."""
    return assets.list_assets(p.tenant_id, purpose, reference_count, limit, offset, sha256)


@router.delete(
    "/v1/assets/{asset_id}",
    status_code=204,
    response_class=Response,
    responses={**COMMON_ERRORS, 404: ERROR, 409: ERROR, 507: FULL},
    tags=["assets"],
)
async def delete_asset(asset_id: str, p: Caller, assets: Assets) -> Response:
    """Delete an asset and its file; 409 while a queued or running job uses it."""
    await assets.delete(p.tenant_id, asset_id)
    return Response(status_code=204)
