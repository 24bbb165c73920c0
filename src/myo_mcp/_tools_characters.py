"""The character tools: list characters, get one, validate a version.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

from typing import Annotated

from pydantic import Field

from ._convert import (
    character_detail,
    character_info,
    paging,
)
from ._errors import tool_errors
from ._models import CharacterDetail, CharacterPage, ManifestCheck
from ._tooling import (
    PAGE,
    READ,
    CharacterId,
    Deps,
    Limit,
    Offset,
    ToolSpec,
    with_title,
)

__all__ = [
    "READ_TOOLS",
    "WRITE_TOOLS",
    "get_character",
    "list_characters",
    "validate_character_manifest",
]


async def list_characters(
    deps: Deps,
    name_contains: Annotated[str | None, Field(description="Names containing this text.")] = None,
    has_ready_versions: Annotated[bool | None, Field(description="With a READY version.")] = None,
    limit: Limit = PAGE,
    offset: Offset = 0,
) -> CharacterPage:
    """List the characters (MuJoCo models); the default humanoid needs no choice."""
    with tool_errors(deps.backend, "list characters"):
        client = await deps.backend.client()
        page = await client.characters.list(name_contains, has_ready_versions, limit, offset)
        return CharacterPage(
            characters=[character_info(c) for c in page["characters"]],
            **paging(page, "characters"),
        )


async def get_character(deps: Deps, character_id: CharacterId) -> CharacterDetail:
    """A character and its versions (start_retarget takes READY ones)."""
    with tool_errors(deps.backend, f"get character {character_id}", "list_characters"):
        client = await deps.backend.client()
        return character_detail(await client.characters.get(character_id))


async def validate_character_manifest(
    deps: Deps,
    character_id: CharacterId,
    version: Annotated[str, Field(description="The version, e.g. 'v1.0.0'.")],
) -> ManifestCheck:
    """Check that a character version's files exist and compile (for a job failing on it)."""
    with tool_errors(deps.backend, f"validate {character_id} {version}", "get_character"):
        client = await deps.backend.client()
        r = await client.characters.validate_manifest(character_id, version)
        return ManifestCheck(
            character_id=r.get("character_id", character_id),
            version=r.get("version", version),
            status=r.get("status", ""),
            valid=r.get("status") == "READY",
        )


#: Registered in every mode, in this order.
READ_TOOLS = (
    ToolSpec(list_characters, with_title(READ, "List characters")),
    ToolSpec(get_character, with_title(READ, "Get a character")),
    ToolSpec(validate_character_manifest, with_title(READ, "Validate a character version")),
)
#: Registered unless the server is read-only.
WRITE_TOOLS = ()
