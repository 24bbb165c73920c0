"""``client.characters``: the catalog of characters a job can drive. Twins ``Characters`` and
``AsyncCharacters``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, cast

from myosdk._core import (
    Pager,
    characters_get,
    characters_list,
    characters_validate_manifest,
)
from myosdk._types import Character, CharacterList, CharacterSummary, ManifestValidation

if TYPE_CHECKING:
    from myosdk._client import AsyncClient, Client

__all__ = ["AsyncCharacters", "Characters"]


class Characters:
    """The character catalog."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        name_contains: str | None = None,
        has_ready_versions: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> CharacterList:
        """One page of characters: ``{"characters", "total", "limit", "offset"}``.

        Args:
            name_contains: Only characters whose name contains this text.
            has_ready_versions: Only characters with (True) or without (False) a READY version.
            limit: Page size, 1-100.
            offset: Items to skip.
        """
        request = characters_list(name_contains, has_ready_versions, limit, offset)
        return cast(CharacterList, self._client._call(request))

    def iter_characters(
        self,
        name_contains: str | None = None,
        has_ready_versions: bool | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[CharacterSummary]:
        """Every matching character, fetching pages of ``page_size`` as needed."""
        pager = Pager("characters", "character_id")
        while pager.offset is not None:
            page = self.list(name_contains, has_ready_versions, page_size, pager.offset)
            yield from pager.take(page)

    def get(self, character_id: str) -> Character:
        """A character with its versions (``versions``, ``latest_version``, ``ready_versions``)."""
        return cast(Character, self._client._call(characters_get(character_id)))

    def validate_manifest(self, character_id: str, version: str) -> ManifestValidation:
        """Check that a version's files exist and its model compiles; returns its status.

        Raises:
            NotFoundError: Unknown character or version.
        """
        request = characters_validate_manifest(character_id, version)
        return cast(ManifestValidation, self._client._call(request))


class AsyncCharacters:
    """The character catalog."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        name_contains: str | None = None,
        has_ready_versions: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> CharacterList:
        """One page of characters; see ``Characters.list``."""
        request = characters_list(name_contains, has_ready_versions, limit, offset)
        return cast(CharacterList, await self._client._call(request))

    async def iter_characters(
        self,
        name_contains: str | None = None,
        has_ready_versions: bool | None = None,
        *,
        page_size: int = 100,
    ) -> AsyncIterator[CharacterSummary]:
        """Every matching character, fetching pages of ``page_size`` as needed."""
        pager = Pager("characters", "character_id")
        while pager.offset is not None:
            page = await self.list(name_contains, has_ready_versions, page_size, pager.offset)
            for item in pager.take(page):
                yield item

    async def get(self, character_id: str) -> Character:
        """A character with its versions; see ``Characters.get``."""
        return cast(Character, await self._client._call(characters_get(character_id)))

    async def validate_manifest(self, character_id: str, version: str) -> ManifestValidation:
        """Check a version's files and model; see ``Characters.validate_manifest``."""
        request = characters_validate_manifest(character_id, version)
        return cast(ManifestValidation, await self._client._call(request))
