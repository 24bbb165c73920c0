"""Anatomical landmarks by name: which marker label names which landmark, and where it sits.

A label such as ``LASI``, ``L_IAS``, ``LeftASIS``, ``L.ASIS`` or ``WaistLFront`` names the left
anterior superior iliac spine; :func:`recognise` reads the side from a prefix, suffix or separate
token (``L``, ``Left``, ``_L``, ``R``, ``Right``...) and the landmark from the rest, ignoring case
and separators. Each landmark's body and offset on the character come from a shipped markerset
that has it (loaded at run time, so the numbers live in one place); the few landmarks no shipped
set has are defined here, or as the mirror image of a lateral one (medial knee, ankle, elbow).
Bilateral landmarks are given for the right side; the left is the same body on the left with the
lateral (z) coordinate negated, as in every body frame of the character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ._markerset import Markerset, load_markerset

__all__ = ["LANDMARKS", "Landmark", "Placement", "known_names", "placement", "recognise"]

SIDES = {"L": "l", "LEFT": "l", "R": "r", "RIGHT": "r"}


@dataclass(frozen=True)
class Landmark:
    """One anatomical landmark and the names recordings give it.

    Attributes:
        key: Canonical name (``"ASIS"``).
        names: Side-free label spellings, upper case without separators.
        sided: Bilateral (the label must say the side) or on the midline.
        shipped: ``(markerset, right-side or midline marker name)`` to take the body and offset
            from.
        body: Body (right side, ``_r``) when no shipped markerset has the landmark.
        pos: Offset in ``body``'s frame, metres (right side).
        mirror: Key of a lateral landmark whose position, z negated, this medial one takes.
        movable: Whether registration may move the offset much (clusters, approximate places).
    """

    key: str
    names: tuple[str, ...]
    sided: bool = True
    shipped: tuple[str, str] | None = None
    body: str | None = None
    pos: tuple[float, float, float] | None = None
    mirror: str | None = None
    movable: bool = False


_PIG, _CMU = "plug-in-gait", "cmu"

LANDMARKS: tuple[Landmark, ...] = (
    # Pelvis
    Landmark(
        "ASIS", ("ASI", "ASIS", "IAS", "FWT", "WAISTFRONT", "FRONTWAIST"), shipped=(_PIG, "RASI")
    ),
    Landmark(
        "PSIS", ("PSI", "PSIS", "IPS", "BWT", "WAISTBACK", "BACKWAIST"), shipped=(_PIG, "RPSI")
    ),
    Landmark("SACRUM", ("SACR", "SACRUM", "SAC", "VSACRAL"), sided=False, shipped=(_PIG, "SACR")),
    # Trunk
    Landmark("C7", ("C7", "CV7", "VC7"), sided=False, shipped=(_PIG, "C7")),
    Landmark("T10", ("T10", "TV10", "TH10"), sided=False, shipped=(_PIG, "T10")),
    Landmark(
        "T8", ("T8", "TV8", "TH8"), sided=False, body="thoracic_spine", pos=(-0.0875, 0.106, 0.0)
    ),
    Landmark(
        "JUGULAR_NOTCH",
        ("CLAV", "SNJ", "IJ", "JN", "SJN", "STERNALNOTCH", "JUGULARNOTCH", "MANUBRIUM"),
        sided=False,
        shipped=(_PIG, "CLAV"),
    ),
    Landmark(
        "XIPHOID",
        ("STRN", "STERNUM", "SXS", "XIPH", "XIPHOID", "PX", "XP", "CHEST"),
        sided=False,
        shipped=(_PIG, "STRN"),
    ),
    Landmark(
        "SCAPULA", ("BAK", "BAC", "BACK", "SCAP", "SCAPULA"), shipped=(_PIG, "RBAK"), movable=True
    ),
    # Head
    Landmark(
        "FRONT_HEAD", ("FHD", "HDF", "HEADFRONT", "FRONTHEAD", "TEMPLE"), shipped=(_CMU, "RFHD")
    ),
    Landmark("BACK_HEAD", ("BHD", "HDB", "HEADBACK", "BACKHEAD"), shipped=(_CMU, "RBHD")),
    # Arms
    Landmark(
        "ACROMION",
        ("SHO", "SHOULDER", "SAJ", "SAE", "ACR", "ACROMION", "SHOULDERTOP"),
        shipped=(_CMU, "RSHO"),
    ),
    Landmark("UPPER_ARM", ("UPA", "UPPERARM", "UARM", "UARMHIGH"), shipped=(_CMU, "RUPA")),
    Landmark(
        "ELBOW_LATERAL",
        ("ELB", "ELBOW", "HLE", "ELBOWOUT", "ELBOWLAT", "LATERALEPICONDYLE", "LEPI"),
        shipped=(_CMU, "RELB"),
    ),
    Landmark(
        "ELBOW_MEDIAL",
        ("HME", "ELBOWIN", "ELBOWMED", "MEDIALEPICONDYLE", "MEPI"),
        mirror="ELBOW_LATERAL",
        movable=True,
    ),
    Landmark("FOREARM", ("FRM", "FRA", "FOREARM"), shipped=(_CMU, "RFRM")),
    Landmark("RADIAL_STYLOID", ("WRA", "RSP", "RADIALSTYLOID", "WRR"), shipped=(_CMU, "RWRA")),
    Landmark("ULNAR_STYLOID", ("WRB", "USP", "UHE", "ULNARSTYLOID", "WRU"), shipped=(_CMU, "RWRB")),
    Landmark("HAND", ("FIN", "HM2", "MH2", "FINGER", "HAND"), shipped=(_CMU, "RFIN")),
    # Legs
    Landmark(
        "HIP_CENTRE",
        ("HJC", "HIPJC", "HIPJOINTCENTER", "HIPJOINTCENTRE"),
        body="femur_r",
        pos=(0.0, 0.0, 0.0),
    ),
    Landmark("THIGH", ("THI", "THIGH"), shipped=(_PIG, "RTHI")),
    Landmark(
        "KNEE_LATERAL",
        ("KNE", "KNEE", "FLE", "LFC", "LFE", "KNEEOUT", "KNEELAT", "LATKNEE", "KNEELATERAL"),
        shipped=(_PIG, "RKNE"),
    ),
    Landmark(
        "KNEE_MEDIAL",
        ("FME", "MFC", "MFE", "KNEEIN", "KNEEMED", "MEDKNEE", "KNEEMEDIAL"),
        mirror="KNEE_LATERAL",
        movable=True,
    ),
    Landmark(
        "KNEE_CENTRE",
        ("KJC", "KNEEJC", "KNEEJOINTCENTER", "KNEEJOINTCENTRE"),
        body="tibia_r",
        pos=(0.0, 0.0, 0.0),
    ),
    Landmark("SHANK", ("TIB", "SHN", "SHANK", "SHIN", "TIBIA"), shipped=(_PIG, "RTIB")),
    Landmark(
        "ANKLE_LATERAL",
        ("ANK", "ANKLE", "FAL", "LMAL", "LM", "ANKLEOUT", "ANKLELAT", "LATMAL", "LATERALMALLEOLUS"),
        shipped=(_PIG, "RANK"),
    ),
    Landmark(
        "ANKLE_MEDIAL",
        ("TAM", "MMAL", "MM", "ANKLEIN", "ANKLEMED", "MEDMAL", "MEDIALMALLEOLUS"),
        mirror="ANKLE_LATERAL",
        movable=True,
    ),
    Landmark(
        "ANKLE_CENTRE",
        ("AJC", "ANKLEJC", "ANKLEJOINTCENTER", "ANKLEJOINTCENTRE"),
        body="talus_r",
        pos=(0.0, 0.0, 0.0),
    ),
    Landmark("HEEL", ("HEE", "HEEL", "FCC", "CAL", "CALC"), shipped=(_PIG, "RHEE")),
    Landmark("TOE", ("TOE", "MT2", "FM2", "TOETIP"), shipped=(_PIG, "RTOE")),
    Landmark("MT5", ("MT5", "FM5", "MH5", "TOEOUT"), shipped=(_CMU, "RMT5")),
    Landmark("MT1", ("MT1", "FM1", "MH1", "TOEIN"), mirror="MT5", movable=True),
)
"""Every landmark the draft recognises by name."""


@dataclass(frozen=True)
class Placement:
    """Where a recognised label sits on the character.

    Attributes:
        landmark: The landmark's key.
        side: ``"l"``, ``"r"`` or ``""`` (midline).
        body: Body name.
        pos: Offset in the body's frame at the character's default size, metres.
        movable: Whether registration may move it freely.
    """

    landmark: str
    side: str
    body: str
    pos: tuple[float, float, float]
    movable: bool


_BY_KEY = {lm.key: lm for lm in LANDMARKS}
_SIDED = {name: lm for lm in LANDMARKS if lm.sided for name in lm.names}
_MIDLINE = {name: lm for lm in LANDMARKS if not lm.sided for name in lm.names}
# Splits "WaistLFront" -> Waist L Front, "LeftASIS" -> Left ASIS, "L_IAS" -> L IAS.
_TOKENS = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def recognise(label: str) -> tuple[Landmark, str] | None:
    """The landmark and side (``"l"``, ``"r"``, ``""``) a label names, or None.

    A subject prefix (``Sub01:``) is ignored.
    """
    tokens = [t.upper() for t in _TOKENS.split(label.rsplit(":", 1)[-1]) if t]
    sides = [SIDES[t] for t in tokens if t in SIDES]
    if len(sides) == 1 and len(tokens) > 1:
        key = "".join(t for t in tokens if t not in SIDES)
        found = _SIDED.get(key)
        return (found, sides[0]) if found is not None else None
    key = "".join(tokens)
    if key in _MIDLINE:
        return _MIDLINE[key], ""
    for side_word, side in sorted(SIDES.items(), key=lambda kv: -len(kv[0])):
        if key.startswith(side_word) and key[len(side_word) :] in _SIDED:
            return _SIDED[key[len(side_word) :]], side
    for side_word, side in sorted(SIDES.items(), key=lambda kv: -len(kv[0])):
        if key.endswith(side_word) and key[: -len(side_word)] in _SIDED:
            return _SIDED[key[: -len(side_word)]], side
    return None


@cache
def _shipped(name: str) -> Markerset:
    return load_markerset(name)


def _right_side(landmark: Landmark) -> tuple[str, tuple[float, float, float], bool]:
    """Body, offset and movable flag of the landmark's right-side (or midline) placement."""
    if landmark.mirror is not None:
        body, (x, y, z), _ = _right_side(_BY_KEY[landmark.mirror])
        return body, (x, y, -z), landmark.movable
    if landmark.shipped is not None:
        mset_name, marker = landmark.shipped
        mdef = next(m for m in _shipped(mset_name).markers if m.name == marker)
        return mdef.body, mdef.pos, mdef.movable or landmark.movable
    assert landmark.body is not None and landmark.pos is not None  # the table defines one
    return landmark.body, landmark.pos, landmark.movable


def placement(landmark: Landmark, side: str) -> Placement:
    """Body and offset of ``landmark`` on ``side`` (``"l"``, ``"r"``, or ``""`` for midline)."""
    body, (x, y, z), movable = _right_side(landmark)
    if side == "l":  # the mirror image: the left body (a midline body stays), z negated
        body, z = (body[:-2] + "_l" if body.endswith("_r") else body), -z
    return Placement(landmark.key, side, body, (x, y, z), movable)


def known_names() -> dict[str, list[str]]:
    """The names the draft knows, by region: for messages that say what it looks for."""
    regions = {
        "pelvis": ("ASIS", "PSIS", "SACRUM"),
        "trunk": ("C7", "T10", "T8", "JUGULAR_NOTCH", "XIPHOID", "SCAPULA", "ACROMION"),
    }
    out: dict[str, list[str]] = {}
    for region, keys in regions.items():
        out[region] = [n for k in keys for n in _BY_KEY[k].names[:3]]
    return out
