"""The body table of a character: parents, frames, lengths and the shipped markers on each."""

from __future__ import annotations

import pytest

from myo_retarget import (
    BODY_FRAME_AXES,
    DEFAULT_CHARACTER_ID,
    CharacterError,
    character_bodies,
    load_markerset,
)


def test_character_bodies_of_the_default_humanoid() -> None:
    bodies = {b.name: b for b in character_bodies()}
    assert bodies["pelvis"].parent is None
    femur = bodies["femur_r"]
    assert femur.parent == "pelvis" and femur.segment
    assert dict(femur.children) == {"tibia_r": pytest.approx(0.42875)}
    assert bodies["skull"].children == ()
    cmu = load_markerset("cmu")
    on_femur = sorted(m.name for m in cmu.markers if m.body == "femur_r")
    assert on_femur and dict(femur.shipped_markers)["cmu"] == tuple(on_femur)
    assert "x anterior" in BODY_FRAME_AXES and "z to the subject's right" in BODY_FRAME_AXES


def test_the_frame_convention_is_what_the_shipped_markersets_use() -> None:
    """Left-side lateral markers have negative z, right-side positive: z points right."""
    cmu = {m.name: m for m in load_markerset("cmu").markers}
    assert cmu["RKNE"].pos[2] > 0 > cmu["LKNE"].pos[2]


def test_unknown_character_lists_the_known_ones() -> None:
    with pytest.raises(CharacterError, match=DEFAULT_CHARACTER_ID):
        character_bodies("nope")
