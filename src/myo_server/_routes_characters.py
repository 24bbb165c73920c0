"""Routes of ``/v1/characters``: the catalog and manifest validation."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ._deps import MAX_OFFSET, Caller, Characters
from ._models import CharacterDetail, CharacterList, ValidateManifestResponse
from ._openapi import COMMON_ERRORS, ERROR, FULL

router = APIRouter()

# Each route takes the Caller, though it does not read it: the gateway has authenticated it.


@router.get(
    "/v1/characters",
    response_model=CharacterList,
    responses=COMMON_ERRORS,
    tags=["characters"],
)
async def list_characters(
    _: Caller,
    characters: Characters,
    name_contains: str | None = Query(default=None),
    has_ready_versions: bool | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=100),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> CharacterList:
    """The character catalog."""
    return await characters.list_characters(name_contains, has_ready_versions, limit, offset)


@router.get(
    "/v1/characters/{character_id}",
    response_model=CharacterDetail,
    responses={**COMMON_ERRORS, 404: ERROR},
    tags=["characters"],
)
async def get_character(character_id: str, _: Caller, characters: Characters) -> CharacterDetail:
    """One character with its versions."""
    return await characters.get(character_id)


@router.post(
    "/v1/characters/{character_id}/validate-manifest",
    response_model=ValidateManifestResponse,
    responses={**COMMON_ERRORS, 404: ERROR, 507: FULL},
    tags=["characters"],
)
async def validate_manifest(
    character_id: str,
    _: Caller,
    characters: Characters,
    version: str = Query(description="Version label, e.g. v1.0.0"),
) -> ValidateManifestResponse:
    """Check that a version's files are in storage and that its model compiles."""
    return await characters.validate(character_id, version)
