"""Markersets: the vendor's XML format, its validation, and matching against C3D labels.

```
<markers name="CMU" model="...">
  <marker body="femur_r" name="RKNE" pos="x y z" movable="0.0|1.0" ik_weight="1"/>
</markers>
```
``pos`` is in metres in the body's frame; ``movable`` 1 lets the offset be re-registered per
subject; ``ik_weight`` weighs the marker's residual. ``movable`` defaults to 0 and ``ik_weight``
to 1 when absent; ``name``, ``body`` and ``pos`` are required.
"""

from __future__ import annotations

import codecs
import difflib
import math
import os
import re
import xml.parsers.expat
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._exceptions import MarkersetError, MarkersetMismatchError
from ._shipped import SHIPPED_MARKERSETS, shipped_key, shipped_markerset_path

__all__ = [
    "EMPTY_LABELS_ADVICE",
    "MAX_MARKERSET_BYTES",
    "MAX_MARKERSET_ELEMENTS",
    "MAX_MARKER_OFFSET_M",
    "MAX_NAME_CHARS",
    "MIN_PELVIS_MARKERS",
    "MIN_TRUNK_MARKERS",
    "NO_WEIGHT",
    "ROOT_REQUIREMENT",
    "SHIPPED_MARKERSETS",
    "TRUNK_BODIES",
    "MarkerDef",
    "MarkerMatch",
    "Markerset",
    "anchors_root",
    "best_markerset",
    "empty_labels_note",
    "is_trunk_body",
    "listing",
    "load_markerset",
    "match_markers",
    "parse_markerset",
    "shipped_markerset_path",
]

# Limits that keep a hostile or mistaken file from costing a worker time and memory; real
# markersets are far inside them (the shipped ones: 41 markers, 4 KB, offsets under 0.45 m).
MAX_MARKERSET_BYTES = 1_000_000
"""Largest markerset accepted, bytes (one ``<marker/>`` line is ~100 bytes)."""
MAX_MARKERSET_ELEMENTS = 10_000
"""Most elements accepted in a markerset."""
MAX_NAME_CHARS = 100
"""Longest marker or body name accepted."""
MAX_MARKER_OFFSET_M = 2.0
"""Farthest a marker may sit from its body's origin, metres (longer than any segment)."""
# The message when no marker that counts has a positive weight ({who}: which markers).
NO_WEIGHT = (
    '{who} has ik_weight 0, so no marker would drive the fit; set ik_weight="1" (the usual '
    "weight) on those that should"
)
_UNICODE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)

# Bodies whose markers pin down the trunk and pelvis; without enough of them no fit is meaningful.
# Any body whose name starts with "lumbar" counts too (see is_trunk_body).
TRUNK_BODIES = frozenset(
    {
        "pelvis",
        "lumbar_spine",
        "lumbar1",
        "lumbar2",
        "lumbar3",
        "lumbar4",
        "lumbar5",
        "thoracic_spine",
        "clavicle_r",
        "clavicle_l",
        "scapula_r",
        "scapula_l",
    }
)


# Fewest matched trunk/pelvis markers for a meaningful fit.
MIN_TRUNK_MARKERS = 6
# Or, for a lower-body set, markers on the pelvis itself: three fix its pose, and the legs hang
# from it (the trunk and arms are then left without data).
MIN_PELVIS_MARKERS = 3
#: What :func:`anchors_root` asks, in words, for messages.
ROOT_REQUIREMENT = (
    f"{MIN_TRUNK_MARKERS} on the pelvis/trunk, or {MIN_PELVIS_MARKERS} on the pelvis for the "
    "lower body"
)


def anchors_root(bodies: Sequence[str]) -> bool:
    """Whether markers on ``bodies`` (one entry per marker) fix the character's root: at least
    :data:`MIN_TRUNK_MARKERS` on trunk/pelvis bodies, or :data:`MIN_PELVIS_MARKERS` on the
    pelvis (a lower-body set)."""
    trunk = sum(is_trunk_body(b) for b in bodies)
    return trunk >= MIN_TRUNK_MARKERS or sum(b == "pelvis" for b in bodies) >= MIN_PELVIS_MARKERS


def is_trunk_body(body: str) -> bool:
    """Whether markers on ``body`` constrain the trunk/pelvis (see :data:`TRUNK_BODIES`)."""
    return body in TRUNK_BODIES or body.startswith("lumbar")


@dataclass(frozen=True)
class MarkerDef:
    """One marker of a markerset.

    Attributes:
        name: Marker label as in the C3D (matched case-insensitively).
        body: Character body it is attached to.
        pos: Position in that body's frame, metres.
        movable: Whether the offset may be re-registered per subject.
        ik_weight: Weight of its residual in the fit (0 disables it).
        line: 1-based line of its element in the source.
    """

    name: str
    body: str
    pos: tuple[float, float, float]
    movable: bool
    ik_weight: float
    line: int


@dataclass(frozen=True)
class Markerset:
    """A parsed, validated markerset.

    Attributes:
        name: The ``name`` attribute of ``<markers>`` (empty when absent).
        model: The ``model`` attribute (which character it was written for; may be empty).
        markers: The markers in file order.
        source: The file path, or ``shipped:NAME``.
    """

    name: str
    model: str
    markers: tuple[MarkerDef, ...]
    source: str

    def written_for(self, character_name: str) -> bool:
        """Whether the markerset places its markers in ``character_name``'s body frames.

        True when ``model`` is empty (a markerset written for whichever character it is used
        with) or names the character (case-insensitive); False for a markerset written for
        another skeleton, such as the vendor's ``model="MyoSkeleton v1.0.0"``: same body names
        and axes, other frame origins and proportions.
        """
        return not self.model or self.model.casefold() == character_name.casefold()

    @property
    def names(self) -> list[str]:
        """Marker names in file order."""
        return [m.name for m in self.markers]

    @property
    def bodies(self) -> list[str]:
        """Body of each marker."""
        return [m.body for m in self.markers]

    @property
    def positions(self) -> NDArray[np.float64]:
        """(markers, 3) positions in their bodies' frames, metres."""
        return np.array([m.pos for m in self.markers], dtype=np.float64).reshape(-1, 3)

    @property
    def weights(self) -> NDArray[np.float64]:
        """(markers,) IK weights."""
        return np.array([m.ik_weight for m in self.markers], dtype=np.float64)

    @property
    def movable(self) -> NDArray[np.bool_]:
        """(markers,) True where the offset may be re-registered per subject."""
        return np.array([m.movable for m in self.markers], dtype=bool)


# --------------------------------------------------------------------------- parsing


def _number(value: str, source: str, line: int, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise MarkersetError(source, f"{what} must be a number, not {value!r}", line) from None
    if not math.isfinite(x):
        raise MarkersetError(source, f"{what} must be finite, not {value!r}", line)
    return x


def _size_problem(size: int) -> str | None:
    if size <= MAX_MARKERSET_BYTES:
        return None
    return (
        f"the file is {size / 1e6:.1f} MB; a markerset is at most {MAX_MARKERSET_BYTES / 1e6:g} MB"
        " (one <marker/> line per marker, ~100 bytes each): check that this is the markerset XML"
        " you meant"
    )


def _not_xml(text: str | bytes, source: str) -> None:
    """Refuse empty and binary files with what they are, before expat's terse verdict."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    what_it_is = "a markerset is XML: <markers> holding one <marker/> per marker"
    if not data.strip():
        raise MarkersetError(source, f"the file is empty; {what_it_is}")
    if data.startswith(_UNICODE_BOMS) or b"\0" not in data[:1024]:
        return
    c3d = len(data) >= 512 and data[1] == 0x50  # a C3D header's signature byte
    looks = (
        ": it looks like a C3D recording (were the recording and the markerset swapped?)"
        if c3d
        else ""
    )
    raise MarkersetError(source, f"it is a binary file, not XML{looks}; {what_it_is}")


def _encoding_problem(text: str | bytes, exc: Exception) -> tuple[str, int] | None:
    """(reason, line) when the parse failed because of the file's encoding."""
    if not isinstance(text, bytes):
        return None
    declared = re.match(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']([^"']*)["']""", text)
    encoding = declared.group(1).decode("ascii", "replace") if declared else "utf-8"
    if isinstance(exc, LookupError):
        return (
            f"the XML declaration names the unknown encoding {encoding!r}; save the file as UTF-8"
            ' and declare encoding="UTF-8" (or leave the declaration out)',
            1,
        )
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return None
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = text.count(b"\n", 0, bad.start) + 1
        column = bad.start - (text.rfind(b"\n", 0, bad.start) + 1) + 1
        return (
            f"the byte 0x{text[bad.start]:02x} at column {column} is not UTF-8; save the file as"
            ' UTF-8, or declare its encoding (<?xml version="1.0" encoding="ISO-8859-1"?>)',
            line,
        )
    return None


def _read_elements(text: str | bytes, source: str) -> list[tuple[str, dict[str, str], int]]:
    """Parse with expat, refusing DTDs; returns (tag, attributes, line) of each <marker>.

    The structure is checked as elements arrive, so a hostile file (millions of elements, deep
    nesting) stops at its first wrong element instead of being held in memory whole.
    """
    elements: list[tuple[str, dict[str, str], int]] = []
    depth = 0
    parser = xml.parsers.expat.ParserCreate()
    # Never read external DTD subsets or parameter entities.
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        line = parser.CurrentLineNumber
        if depth == 0 and tag != "markers":
            raise MarkersetError(source, f"the root element must be <markers>, found <{tag}>", line)
        if (depth == 1 and tag != "marker") or depth > 1:
            where = "inside <markers>" if depth == 1 else "inside <marker>"
            raise MarkersetError(
                source, f"unexpected element <{tag}> {where} (only <marker/> elements)", line
            )
        if len(elements) >= MAX_MARKERSET_ELEMENTS:
            raise MarkersetError(
                source,
                f"more than {MAX_MARKERSET_ELEMENTS} elements; a markerset has one <marker/> per"
                " marker (a few hundred at most): check that this is the markerset XML you meant",
                line,
            )
        elements.append((tag, attrs, line))
        depth += 1

    def end(_tag: str) -> None:
        nonlocal depth
        depth -= 1

    def refuse_dtd(*_: object) -> None:
        # DTDs open the door to entity-expansion and external-entity attacks; markersets never
        # need one.
        raise MarkersetError(
            source,
            "DOCTYPE/ENTITY declarations are not allowed in a markerset; remove them",
            parser.CurrentLineNumber,
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        parser.Parse(text, True)
    except (xml.parsers.expat.ExpatError, LookupError) as exc:
        problem = _encoding_problem(text, exc)
        if problem is not None:
            raise MarkersetError(source, problem[0], problem[1]) from None
        if isinstance(exc, LookupError):
            raise
        reason = xml.parsers.expat.ErrorString(exc.code)
        raise MarkersetError(
            source, f"not well-formed XML ({reason}, column {exc.offset + 1})", exc.lineno
        ) from None
    return elements


def _position(
    attrs: dict[str, str], name: str, body: str, source: str, line: int
) -> tuple[float, float, float]:
    parts = [p for p in re.split(r"[\s,]+", attrs["pos"].strip()) if p]
    if len(parts) != 3:
        raise MarkersetError(
            source,
            f"marker {name!r}: pos must be three numbers 'x y z' in metres, not {attrs['pos']!r}",
            line,
        )
    x, y, z = (_number(p, source, line, f"marker {name!r}: pos") for p in parts)
    distance = math.hypot(x, y, z)
    if distance > MAX_MARKER_OFFSET_M:
        # A wildly distant marker is a unit slip or a damaged file; it would wreck the fit.
        hint = (
            f"; it looks like millimetres: use '{x / 1000:g} {y / 1000:g} {z / 1000:g}'"
            if distance / 1000 <= MAX_MARKER_OFFSET_M
            else ""
        )
        raise MarkersetError(
            source,
            f"marker {name!r}: pos ({x:g}, {y:g}, {z:g}) is {distance:.3g} m from the origin of "
            f"body {body!r}; pos is in metres in the body's frame, and a marker sits within "
            f"{MAX_MARKER_OFFSET_M:g} m of its body{hint}",
            line,
        )
    return x, y, z


def parse_markerset(
    text: str | bytes, *, source: str, valid_bodies: Collection[str] | None = None
) -> Markerset:
    """Parse and validate markerset XML.

    Args:
        text: The XML document.
        source: Where it came from, for error messages (a path or ``shipped:NAME``).
        valid_bodies: Body names of the target character; markers on other bodies are rejected.

    Returns:
        The markerset.

    Raises:
        MarkersetError: Empty, binary or oversized (:data:`MAX_MARKERSET_BYTES`,
            :data:`MAX_MARKERSET_ELEMENTS`) input, malformed XML or a wrong encoding, a DOCTYPE,
            wrong root, bad or missing attributes, a position farther than
            :data:`MAX_MARKER_OFFSET_M` from its body, unknown body, duplicate marker names
            (case-insensitive), no markers, or no marker with a positive ``ik_weight``; with the
            element's 1-based line.
    """
    size_problem = _size_problem(len(text))
    if size_problem:
        raise MarkersetError(source, size_problem)
    _not_xml(text, source)
    elements = _read_elements(text, source)
    if not elements:  # expat refuses a document without elements; kept for safety
        raise MarkersetError(source, "the root element must be <markers>, found no element", 1)
    root_attrs, root_line = elements[0][1], elements[0][2]
    markers: list[MarkerDef] = []
    seen: dict[str, tuple[str, int]] = {}
    bodies = set(valid_bodies) if valid_bodies is not None else None
    for _tag, attrs, line in elements[1:]:
        for key in ("name", "body", "pos"):
            if not attrs.get(key, "").strip():
                raise MarkersetError(source, f"<marker> lacks the {key!r} attribute", line)
        name = attrs["name"].strip()
        body = attrs["body"].strip()
        for what, value in (("marker name", name), ("body name", body)):
            if len(value) > MAX_NAME_CHARS:
                raise MarkersetError(
                    source,
                    f"a {what} of {len(value)} characters; at most {MAX_NAME_CHARS}",
                    line,
                )
        key = name.upper()
        if key in seen:
            first_name, first_line = seen[key]
            raise MarkersetError(
                source,
                f"duplicate marker name {name!r}: lines {first_line} ({first_name!r}) and {line} "
                "(names are compared case-insensitively); rename or remove one",
                line,
            )
        seen[key] = (name, line)
        if bodies is not None and body not in bodies:
            close = difflib.get_close_matches(body, sorted(bodies), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MarkersetError(
                source,
                f"marker {name!r} is attached to unknown body {body!r}{hint}; valid bodies: "
                + ", ".join(sorted(bodies)),
                line,
            )
        pos = _position(attrs, name, body, source, line)
        movable = _number(attrs.get("movable", "0"), source, line, f"marker {name!r}: movable")
        if movable not in (0.0, 1.0):
            raise MarkersetError(
                source, f"marker {name!r}: movable must be 0 or 1, not {attrs['movable']!r}", line
            )
        weight = _number(attrs.get("ik_weight", "1"), source, line, f"marker {name!r}: ik_weight")
        if weight < 0:
            raise MarkersetError(
                source, f"marker {name!r}: ik_weight must be >= 0, not {attrs['ik_weight']!r}", line
            )
        markers.append(MarkerDef(name, body, pos, movable == 1.0, weight, line))
    if not markers:
        raise MarkersetError(source, "the markerset defines no <marker> elements", root_line)
    if not any(m.ik_weight > 0 for m in markers):
        raise MarkersetError(source, NO_WEIGHT.format(who="every marker"), root_line)
    return Markerset(
        name=root_attrs.get("name", "").strip(),
        model=root_attrs.get("model", "").strip(),
        markers=tuple(markers),
        source=source,
    )


def load_markerset(
    name_or_path: str | os.PathLike[str], *, valid_bodies: Collection[str] | None = None
) -> Markerset:
    """Load a shipped markerset by name, or a markerset XML file by path.

    A plain string that names a shipped markerset (``"cmu"``, ``"Plug-in-Gait"``) wins over a file
    of the same name in the working directory.

    Raises:
        MarkersetError: Not found (the message lists the shipped names), unreadable or invalid.
    """
    text_name = os.fspath(name_or_path)
    key = shipped_key(text_name) if isinstance(name_or_path, str) else None
    if key is not None:
        path = shipped_markerset_path(key)
        source = f"shipped:{key}"
    else:
        path = Path(text_name)
        source = text_name
    try:
        size_problem = _size_problem(path.stat().st_size) if path.is_file() else None
        if size_problem:  # refused before it is read into memory
            raise MarkersetError(source, size_problem)
        data = path.read_bytes()
    except FileNotFoundError:
        raise MarkersetError(
            source,
            "file not found; give the path of a markerset XML file or a shipped markerset name ("
            + ", ".join(SHIPPED_MARKERSETS)
            + ")",
        ) from None
    except IsADirectoryError:
        raise MarkersetError(source, "is a directory, not a markerset XML file") from None
    except OSError as exc:
        raise MarkersetError(source, f"cannot read the file ({exc.strerror or exc})") from None
    return parse_markerset(data, source=source, valid_bodies=valid_bodies)


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MarkerMatch:
    """How a markerset's markers map onto a recording's labels.

    Attributes:
        markerset: The markerset.
        marker_indices: Indices into ``markerset.markers`` of the matched markers.
        label_indices: Recording column of each matched marker (same order).
        matched: Names of the matched markers.
        missing: Markerset markers absent from (or never observed in) the recording.
        unused_labels: Recording labels the markerset does not use.
        coverage: Fraction of the markerset's markers matched.
        empty: The ``missing`` markers whose label is in the recording but holds no data
            (every sample missing, e.g. all (0,0,0)).
    """

    markerset: Markerset
    marker_indices: NDArray[np.int64]
    label_indices: NDArray[np.int64]
    matched: list[str]
    missing: list[str]
    unused_labels: list[str]
    coverage: float
    empty: list[str] = field(default_factory=list)

    @property
    def trunk_matched(self) -> list[str]:
        """The matched markers on trunk/pelvis bodies (see :func:`is_trunk_body`)."""
        markers = self.markerset.markers
        return [
            markers[int(i)].name for i in self.marker_indices if is_trunk_body(markers[int(i)].body)
        ]

    @property
    def anchored(self) -> bool:
        """Whether the matched markers fix the character's root (see :func:`anchors_root`)."""
        markers = self.markerset.markers
        return anchors_root([markers[int(i)].body for i in self.marker_indices])


def _columns(labels: Sequence[str], observed: NDArray[np.bool_] | None) -> dict[str, int]:
    """Upper-case key -> first observed column.

    A label matches by its full text, and also by its text without subject prefix when that is
    unambiguous (two columns ``ArmL:Marker1`` and ``ArmR:Marker1`` keep only their full keys).
    """
    full: dict[str, int] = {}
    stripped: dict[str, list[int]] = {}
    for col, label in enumerate(labels):
        if observed is not None and not observed[col]:
            continue
        full.setdefault(label.strip().upper(), col)
        stripped.setdefault(label.rsplit(":", 1)[-1].strip().upper(), []).append(col)
    columns = {key: cols[0] for key, cols in stripped.items() if len(cols) == 1}
    columns.update(full)
    return columns


def _match(
    markerset: Markerset, labels: Sequence[str], observed: NDArray[np.bool_] | None
) -> MarkerMatch:
    if observed is not None and len(observed) != len(labels):
        raise ValueError(f"observed has {len(observed)} entries for {len(labels)} labels")
    columns = _columns(labels, observed)
    m_idx: list[int] = []
    l_idx: list[int] = []
    matched: list[str] = []
    missing: list[str] = []
    taken: set[int] = set()
    for i, marker in enumerate(markerset.markers):
        name = marker.name.strip().upper()
        found = columns.get(name)
        if found is None:
            found = columns.get(name.rsplit(":", 1)[-1])
        if found is None or found in taken:
            missing.append(marker.name)
        else:
            taken.add(found)
            m_idx.append(i)
            l_idx.append(found)
            matched.append(marker.name)
    empty: list[str] = []
    if observed is not None:
        # Columns a marker names but that hold no data are reported as missing markers (and as
        # empty, since no markerset can use them), not as unused labels.
        blind = _columns(labels, None)
        for marker in markerset.markers:
            name = marker.name.strip().upper()
            col = blind.get(name, blind.get(name.rsplit(":", 1)[-1]))
            if col is not None and not observed[col]:
                taken.add(col)
                empty.append(marker.name)
    unused = [label for col, label in enumerate(labels) if col not in taken]
    return MarkerMatch(
        markerset=markerset,
        marker_indices=np.array(m_idx, dtype=np.int64),
        label_indices=np.array(l_idx, dtype=np.int64),
        matched=matched,
        missing=missing,
        unused_labels=unused,
        coverage=len(matched) / len(markerset.markers),
        empty=empty,
    )


def match_markers(
    markerset: Markerset,
    labels: Sequence[str],
    *,
    min_trunk: int = MIN_TRUNK_MARKERS,
    observed: NDArray[np.bool_] | None = None,
    recording: str | None = None,
) -> MarkerMatch:
    """Match a markerset against a recording's labels (case-insensitive, prefixes stripped).

    Args:
        markerset: The markerset.
        labels: The recording's marker labels (e.g. :attr:`MarkerRecording.labels`).
        min_trunk: Fewest matched markers on trunk/pelvis bodies for a meaningful fit (0:
            never refuse); :data:`MIN_PELVIS_MARKERS` on the pelvis alone also do (a lower-body
            set, whose trunk and arms are left without data).
        observed: Per label, whether it has any valid sample; never-observed labels count as
            missing (they are not listed as unused either).
        recording: The recording's file, named first in a mismatch message when given.

    Returns:
        The match; each recording column is used by at most one marker.

    Raises:
        MarkersetMismatchError: Fewer than ``min_trunk`` trunk/pelvis markers matched (and too few
            on the pelvis for the lower body); the message
            lists what matched and what was missing and suggests a markerset.
    """
    match = _match(markerset, labels, observed)
    trunk_matched = match.trunk_matched
    body_of = {m.name: m.body for m in markerset.markers}
    pelvis = sum(body_of[name] == "pelvis" for name in match.matched)
    if len(trunk_matched) < min_trunk and pelvis < MIN_PELVIS_MARKERS:
        matched_set, empty_set = set(match.matched), set(match.empty)
        trunk_missing = [
            m.name for m in markerset.markers if is_trunk_body(m.body) and m.name not in matched_set
        ]
        trunk_absent = [name for name in trunk_missing if name not in empty_set]
        label = markerset.name or markerset.source
        parts = [
            f"markerset {label!r} matches only {len(trunk_matched)} trunk/pelvis markers of the "
            f"recording, {pelvis} on the pelvis (need {min_trunk}, or {MIN_PELVIS_MARKERS} on "
            f"the pelvis for the lower body): matched {listing(match.matched)}"
        ]
        if trunk_absent:
            parts.append(f"trunk/pelvis markers missing {listing(trunk_absent)}")
        if match.empty:
            parts.append(empty_labels_note(match))
        parts.append(f"recording labels {listing(list(labels))}")
        # A markerset can only help with labels it does not match; empty ones hold no data.
        advice = _best_hint(labels, observed, exclude=markerset.source) if trunk_absent else ""
        if match.empty:
            advice = f"{advice} {EMPTY_LABELS_ADVICE}".strip()
        where = f"{recording}: " if recording else ""
        raise MarkersetMismatchError(
            where + "; ".join(parts) + ". " + advice,
            matched=match.matched,
            missing=match.missing,
            unused=match.unused_labels,
            empty=match.empty,
        )
    return match


# What to do about labels that hold no data: no markerset can use them.
EMPTY_LABELS_ADVICE = (
    "No markerset can use labels without data: export the trial again from the capture software "
    "with those markers reconstructed and labelled, or retarget a trial in which they were "
    "captured."
)


def empty_labels_note(match: MarkerMatch) -> str:
    """Say that ``match.empty`` are in the recording but hold no data, and which bodies of the
    character are left with no data at all (trunk first)."""
    body_of = {m.name: m.body for m in match.markerset.markers}
    with_data = {body_of[name] for name in match.matched}
    bodies = [b for b in dict.fromkeys(body_of[n] for n in match.empty) if b not in with_data]
    bodies.sort(key=lambda b: not is_trunk_body(b))
    note = (
        f"labels {listing(match.empty)} are in the file but hold no data (every sample is "
        "0,0,0 / missing)"
    )
    return f"{note}: the recording has no data for {', '.join(bodies)}" if bodies else note


def listing(names: Sequence[str], limit: int = 40) -> str:
    """``names`` joined with commas, the first ``limit`` of them and a count of the rest."""
    if not names:
        return "none"
    more = f" … (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def best_markerset(
    labels: Sequence[str], observed: NDArray[np.bool_] | None = None
) -> list[tuple[str, MarkerMatch | None, float]]:
    """Rank the shipped markersets by how much of each the recording covers. Never raises.

    Returns:
        ``(name, match, coverage)`` per shipped markerset, best first: those that pass the
        trunk check (``match`` not None) before those that do not, then by coverage.
    """
    ranked: list[tuple[str, MarkerMatch | None, float]] = []
    for name in SHIPPED_MARKERSETS:
        try:
            mset = load_markerset(name)
            coverage = _match(mset, labels, observed).coverage
        except (MarkersetError, ValueError):
            ranked.append((name, None, 0.0))
            continue
        try:
            match: MarkerMatch | None = match_markers(mset, labels, observed=observed)
        except MarkersetMismatchError:
            match = None
        ranked.append((name, match, coverage))
    ranked.sort(key=lambda r: (r[1] is not None, r[2]), reverse=True)
    return ranked


def _best_hint(labels: Sequence[str], observed: NDArray[np.bool_] | None, exclude: str) -> str:
    best: tuple[float, str] | None = None
    for name in SHIPPED_MARKERSETS:
        if exclude == f"shipped:{name}":
            continue
        try:
            mset = load_markerset(name)
            raw = _match(mset, labels, observed)
        except (MarkersetError, ValueError):
            continue
        if raw.anchored and (best is None or raw.coverage > best[0]):
            best = (raw.coverage, name)
    if best is not None:
        return f"Try the shipped markerset {best[1]!r} ({best[0]:.0%} of it matches)."
    return (
        "No shipped markerset fits these labels: write a markerset XML "
        '(<markers name="..."><marker name="LABEL" body="pelvis" pos="x y z" movable="0" '
        "ik_weight=\"1\"/>…</markers>) that attaches the recording's labels to the character's "
        f"bodies, with at least {ROOT_REQUIREMENT}, and pass its path."
    )
