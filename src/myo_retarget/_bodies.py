"""The bodies of a character as someone writing a markerset needs them: each body's parent, the
distance to each child, the shipped markers on it, and the frame convention of them all."""

from __future__ import annotations

from dataclasses import dataclass

from ._character import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    Character,
    load_character,
)
from ._markerset import load_markerset
from ._shipped import SHIPPED_MARKERSETS

__all__ = ["BODY_FRAME_AXES", "BodyInfo", "character_bodies"]

#: The axes of every body frame of the shipped characters, at the neutral pose (the convention
#: tools/build_character.py builds them with, and the shipped markersets' offsets use).
BODY_FRAME_AXES = (
    "x anterior, y superior, z to the subject's right (every body, in the standing anatomical "
    "pose): a long bone runs proximal to distal along -y, and a marker lateral of a left-side "
    "body has a negative z"
)


@dataclass(frozen=True)
class BodyInfo:
    """One body of a character.

    Attributes:
        name: The body name a markerset's ``body`` attribute takes.
        parent: Its parent body, None for the root.
        segment: The scale segment it belongs to.
        children: ``(child body, distance from this origin to the child's, metres)`` at the
            character's default height.
        shipped_markers: ``(shipped markerset, its marker names on this body)``, for the sets
            with markers on it.
    """

    name: str
    parent: str | None
    segment: str
    children: tuple[tuple[str, float], ...]
    shipped_markers: tuple[tuple[str, tuple[str, ...]], ...]


def character_bodies(
    character_id: str = DEFAULT_CHARACTER_ID, version: str = DEFAULT_CHARACTER_VERSION
) -> tuple[BodyInfo, ...]:
    """The bodies of a character, in model order (parents before children).

    Raises:
        CharacterError: Unknown character or version; the message lists the known ones.
    """
    import numpy as np

    character: Character = load_character(character_id, version)
    model = character.model
    names = ["", *character.body_names]  # index = body id; the world body is 0
    on_body: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for set_name in SHIPPED_MARKERSETS:
        by_body: dict[str, list[str]] = {}
        for marker in load_markerset(set_name).markers:
            by_body.setdefault(marker.body, []).append(marker.name)
        for body, markers in by_body.items():
            on_body.setdefault(body, []).append((set_name, tuple(sorted(markers))))
    out = []
    for body_id in range(1, model.nbody):
        name = names[body_id]
        parent_id = int(model.body_parentid[body_id])
        children = tuple(
            (names[c], float(np.linalg.norm(character.nominal_body_pos[c])))
            for c in range(1, model.nbody)
            if int(model.body_parentid[c]) == body_id
        )
        out.append(
            BodyInfo(
                name=name,
                parent=names[parent_id] or None,
                segment=character.body_segment[body_id],
                children=children,
                shipped_markers=tuple(on_body.get(name, ())),
            )
        )
    return tuple(out)
