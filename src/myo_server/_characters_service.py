"""Characters: the catalog's versions, listed, looked up and validated."""

from __future__ import annotations

import anyio

from ._errors import ServiceError
from ._models import (
    CharacterDetail,
    CharacterList,
    CharacterSummary,
    ValidateManifestResponse,
)
from ._presenters import character_detail, s3_ref, version_key
from ._records import CharacterVersionRecord
from ._runtime import ServerRuntime
from ._util import to_datetime


class CharacterService:
    """The character operations over a runtime's catalog.

    Args:
        rt: The server's runtime (its catalog reads the metadata store and the blobs).
    """

    def __init__(self, rt: ServerRuntime) -> None:
        self.rt = rt

    async def versions(self, character_id: str | None = None) -> list[CharacterVersionRecord]:
        """Every version (of one character, if given).

        Raises:
            ServiceError: 503 when the catalog cannot be read (a broken install).
        """
        versions = await anyio.to_thread.run_sync(self.rt.catalog.versions, character_id)
        if not versions and self.rt.catalog.error:  # a broken install, not a bad request
            raise ServiceError(
                503, f"The character catalog is unavailable: {self.rt.catalog.error}"
            )
        return versions

    async def character_versions(self, character_id: str) -> list[CharacterVersionRecord]:
        """The versions of one character.

        Raises:
            ServiceError: 404 for an unknown character.
        """
        versions = await self.versions(character_id)
        if not versions:
            raise ServiceError(
                404, f"Character {character_id} not found: GET /v1/characters lists the catalog"
            )
        return versions

    async def find_version(self, character_id: str, version: str) -> CharacterVersionRecord:
        """One version of a character.

        Raises:
            ServiceError: 404 for an unknown character or version (naming the known versions).
        """
        versions = await self.character_versions(character_id)
        for v in versions:
            if v.version == version:
                return v
        known = ", ".join(v.version for v in sorted(versions, key=version_key))
        raise ServiceError(
            404, f"Character {character_id} has no version {version!r} (versions: {known})"
        )

    async def list_characters(
        self, name_contains: str | None, has_ready_versions: bool | None, limit: int, offset: int
    ) -> CharacterList:
        """The catalog, by name, filtered and paged."""
        grouped: dict[str, list[CharacterVersionRecord]] = {}
        for v in await self.versions():
            grouped.setdefault(v.character_id, []).append(v)
        chars = [character_detail(self.rt, vs) for vs in grouped.values()]
        if name_contains:
            chars = [c for c in chars if name_contains.lower() in c.name.lower()]
        if has_ready_versions is not None:
            chars = [c for c in chars if (c.ready_version_count > 0) == has_ready_versions]
        chars.sort(key=lambda c: (c.name, c.character_id))
        page = chars[offset : offset + limit]
        return CharacterList(
            characters=[
                CharacterSummary(
                    character_id=c.character_id,
                    name=c.name,
                    description=c.description,
                    version_count=c.total_versions,
                    latest_version=c.latest_version.version if c.latest_version else None,
                )
                for c in page
            ],
            total=len(chars),
            limit=limit,
            offset=offset,
        )

    async def get(self, character_id: str) -> CharacterDetail:
        """One character with its versions."""
        return character_detail(self.rt, await self.character_versions(character_id))

    async def validate(self, character_id: str, version: str) -> ValidateManifestResponse:
        """Check that a version's files are in storage and that its model compiles."""
        found = await self.find_version(character_id, version)
        checked = await anyio.to_thread.run_sync(self.rt.catalog.validate, found)
        return ValidateManifestResponse(
            version_id=checked.version_id,
            character_id=checked.character_id,
            version=checked.version,
            status=checked.status,
            message=checked.message,
            created_at=to_datetime(checked.created_at),
            updated_at=to_datetime(checked.updated_at),
            manifest_s3_key=s3_ref(self.rt, checked.manifest_key),
        )
