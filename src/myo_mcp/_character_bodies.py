"""The ``myo://characters/{id}/bodies`` text: what a model needs to write a markerset XML."""

from __future__ import annotations

from myo_retarget import CharacterError

__all__ = ["bodies_text"]


def bodies_text(character_id: str) -> str:
    """A compact table of the character's bodies (its newest version in the engine's catalog).

    Raises:
        CharacterError: The engine knows no such character; the message lists the known ones.
    """
    # The engine's body model needs numpy and MuJoCo: loaded on the first read, not at start-up.
    from myo_retarget import BODY_FRAME_AXES, character_bodies, character_catalog

    versions = [c for c in character_catalog() if c.character_id == character_id]
    if not versions:
        known = ", ".join(f"{c.character_id} ({c.name})" for c in character_catalog())
        raise CharacterError(
            f"No body list for character {character_id!r}: it is known for {known}"
        )
    info = versions[-1]
    lines = [
        f"Bodies of {info.name} {info.version}. Frames: {BODY_FRAME_AXES}. A markerset XML "
        'line: <marker name="RKNE" body="femur_r" pos="x y z"/> with pos in metres in '
        "that body's frame.",
        "body | parent | child: distance m | shipped markers",
    ]
    for body in character_bodies(info.character_id, info.version):
        children = ", ".join(f"{name} {dist:.3f}" for name, dist in body.children) or "-"
        markers = "; ".join(f"{s}: {' '.join(names)}" for s, names in body.shipped_markers)
        lines.append(f"{body.name} | {body.parent or '-'} | {children} | {markers or '-'}")
    return "\n".join(lines)
