"""Markerset XML: parsing, validation with line numbers, loading, matching against C3D labels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from myo_retarget._c3d import read_c3d
from myo_retarget._exceptions import MarkersetError, MarkersetMismatchError
from myo_retarget._markerset import (
    SHIPPED_MARKERSETS,
    TRUNK_BODIES,
    Markerset,
    best_markerset,
    is_trunk_body,
    load_markerset,
    match_markers,
    parse_markerset,
    shipped_markerset_path,
)

from .motion_factory import PIG_ZEROED

SHARED_C3D = Path(__file__).resolve().parents[3] / "shared" / "data" / "c3d"
BODIES = ["pelvis", "lumbar_spine", "thoracic_spine", "skull", "femur_r", "femur_l", "tibia_r"]

SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<markers name="Small" model="myo_humanoid">
  <!-- pelvis -->
  <marker body="pelvis" name="LASI" pos="0.1 0.0 -0.12" movable="0.0" ik_weight="1"/>
  <marker body="pelvis" name="RASI" pos="0.1 0.0 0.12" movable="0.0" ik_weight="1"/>
  <marker body="pelvis" name="LPSI" pos="-0.1 0.02 -0.05" movable="1.0" ik_weight="0.5"/>
  <marker body="pelvis" name="RPSI" pos="-0.1 0.02 0.05" movable="1" ik_weight="0.5"/>
  <marker body="thoracic_spine" name="C7" pos="-0.05 0.3 0"/>
  <marker body="thoracic_spine" name="STRN" pos="0.1 0.1 0" movable="0.0" ik_weight="2"/>
  <marker body="skull" name="LFHD" pos="0.1 0.1 -0.05" movable="1.0" ik_weight="1"/>
  <marker body="femur_r" name="RKNE" pos="0 -0.43 0.05" movable="0.0" ik_weight="1"/>
</markers>
"""
NAMES = ["LASI", "RASI", "LPSI", "RPSI", "C7", "STRN", "LFHD", "RKNE"]


def small() -> Markerset:
    return parse_markerset(SMALL, source="small.xml", valid_bodies=BODIES)


def doc(*markers: str, root: str = '<markers name="T">') -> str:
    return "\n".join([root, *markers, "</markers>"])


M = '<marker body="pelvis" name="{}" pos="0 0 0" movable="0" ik_weight="1"/>'


# --------------------------------------------------------------------------- parsing


def test_parse_a_valid_markerset() -> None:
    ms = small()
    assert (ms.name, ms.model, ms.source) == ("Small", "myo_humanoid", "small.xml")
    assert ms.names == NAMES
    assert ms.bodies[:5] == ["pelvis"] * 4 + ["thoracic_spine"]
    np.testing.assert_allclose(ms.positions[0], [0.1, 0.0, -0.12])
    assert ms.positions.shape == (8, 3) and ms.positions.dtype == np.float64
    np.testing.assert_allclose(ms.weights, [1, 1, 0.5, 0.5, 1, 2, 1, 1])
    assert ms.movable.tolist() == [False, False, True, True, False, False, True, False]
    assert [m.line for m in ms.markers] == [4, 5, 6, 7, 8, 9, 10, 11]
    assert ms.markers[4].movable is False and ms.markers[4].ik_weight == 1.0  # defaults
    assert parse_markerset(SMALL.encode("utf-8"), source="b.xml").names == NAMES


def test_whitespace_and_commas_in_pos() -> None:
    ms = parse_markerset(
        doc('<marker body="pelvis" name=" A " pos=" 0.1, 0.2 ,0.3 "/>'), source="s.xml"
    )
    assert ms.markers[0].name == "A" and ms.markers[0].pos == (0.1, 0.2, 0.3)


@pytest.mark.parametrize(
    ("xml", "line", "message"),
    [
        (doc(M.format("A"), M.format("a")), 3, r"duplicate marker name 'a': lines 2 \('A'\) and 3"),
        (doc('<marker body="pelvis" name="A" pos="0 0"/>'), 2, "pos must be three numbers"),
        (doc('<marker body="pelvis" name="A" pos="0 0 x"/>'), 2, "pos must be a number, not 'x'"),
        (doc('<marker body="pelvis" name="A" pos="0 nan 0"/>'), 2, "pos must be finite"),
        (doc('<marker body="pelvis" name="A" pos="0 0 0" movable="0.5"/>'), 2, "movable must be"),
        (doc('<marker body="pelvis" name="A" pos="0 0 0" ik_weight="-1"/>'), 2, "ik_weight must"),
        (doc('<marker body="pelvis" name="A" pos="0 0 0" ik_weight="inf"/>'), 2, "finite"),
        (doc('<marker name="A" pos="0 0 0"/>'), 2, "lacks the 'body' attribute"),
        (doc('<marker body="pelvis" pos="0 0 0"/>'), 2, "lacks the 'name' attribute"),
        (doc('<marker body="pelvis" name="A" pos=""/>'), 2, "lacks the 'pos' attribute"),
        (doc(M.format("A"), '<site name="B"/>'), 3, r"unexpected element <site> inside <markers>"),
        (doc('<marker body="pelvis" name="A" pos="0 0 0"><x/></marker>'), 2, "inside <marker>"),
        (doc(), 1, "defines no <marker> elements"),
        ('<markerset>\n<marker body="pelvis" name="A" pos="0 0 0"/></markerset>', 1, "root"),
        (doc(M.format("A"), "<marker"), 4, "not well-formed XML"),
        ("<markers", 1, "not well-formed XML"),
    ],
)
def test_errors_carry_the_line(xml: str, line: int, message: str) -> None:
    with pytest.raises(MarkersetError, match=message) as info:
        parse_markerset(xml, source="bad.xml")
    assert info.value.line == line
    assert info.value.path == "bad.xml"
    assert str(info.value).startswith(f"bad.xml:{line}: ")


def test_unknown_body_names_the_marker_and_lists_valid_bodies() -> None:
    xml = doc(M.format("A"), '<marker body="femur_R" name="RKNE" pos="0 0 0"/>')
    with pytest.raises(MarkersetError) as info:
        parse_markerset(xml, source="b.xml", valid_bodies=BODIES)
    text = str(info.value)
    assert "marker 'RKNE' is attached to unknown body 'femur_R'" in text
    assert "did you mean 'femur_r'" in text
    assert "valid bodies: femur_l, femur_r, lumbar_spine, pelvis" in text
    assert info.value.line == 3
    # Without a body list, any body is accepted (checked later against the character).
    assert parse_markerset(xml, source="b.xml").bodies == ["pelvis", "femur_R"]


def test_doctype_and_entities_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE markers [\n<!ENTITY a "aaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        '<markers name="&b;"><marker body="pelvis" name="A" pos="0 0 0"/></markers>'
    )
    with pytest.raises(MarkersetError, match="DOCTYPE/ENTITY declarations are not allowed"):
        parse_markerset(bomb, source="bomb.xml")
    external = (
        '<?xml version="1.0"?>\n<!DOCTYPE markers SYSTEM "file:///etc/passwd">\n'
        '<markers><marker body="pelvis" name="A" pos="0 0 0"/></markers>'
    )
    with pytest.raises(MarkersetError, match="DOCTYPE") as info:
        parse_markerset(external, source="ext.xml")
    assert info.value.line == 2


# --------------------------------------------------------------------------- hostile files
# Found by benchmarks/fuzz_jobs.py: each ended a job with "Internal error", an unclear message,
# or a worker holding ~1 GB for tens of seconds.


def test_a_huge_markerset_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """20 MB of tiny elements drove a worker to 942 MB for 21 s."""
    path = tmp_path / "huge.xml"
    path.write_bytes(b"<markers>" + b"<m/>" * 5_000_000 + b"</markers>")
    with pytest.raises(MarkersetError) as err:
        load_markerset(path)
    assert str(err.value) == (
        f"{path}: the file is 20.0 MB; a markerset is at most 1 MB (one <marker/> line per "
        "marker, ~100 bytes each): check that this is the markerset XML you meant"
    )
    with pytest.raises(MarkersetError, match=r"mem\.xml: the file is 20\.0 MB; a markerset"):
        parse_markerset(path.read_bytes(), source="mem.xml")


def test_too_many_elements_are_refused_while_parsing() -> None:
    many = doc(*(M.format(f"M{i}") for i in range(10_001)))
    assert len(many) < 1_000_000
    with pytest.raises(MarkersetError) as err:
        parse_markerset(many, source="many.xml")
    assert err.value.line == 10_001  # the 10,001st element (the root is the first)
    assert err.value.reason == (
        "more than 10000 elements; a markerset has one <marker/> per marker (a few hundred at "
        "most): check that this is the markerset XML you meant"
    )


def test_nested_elements_stop_the_parse_at_the_first() -> None:
    deep = "<markers>" + "<a>" * 100_000 + "</a>" * 100_000 + "</markers>"
    with pytest.raises(MarkersetError, match=r"unexpected element <a> inside <markers>") as err:
        parse_markerset(deep, source="deep.xml")
    assert err.value.line == 1


@pytest.mark.parametrize(
    ("pos", "message"),
    [
        ("1e300 1e300 1e300", r"pos \(1e\+300, 1e\+300, 1e\+300\) is 1\.73e\+300 m from"),
        ("1e30 0 0", r"pos \(1e\+30, 0, 0\) is 1e\+30 m from"),
        (
            "105 96.25 -52.5",
            r"pos \(105, 96\.25, -52\.5\) is 152 m from .* looks like millimetres: "
            r"use '0\.105 0\.09625 -0\.0525'",
        ),
    ],
)
def test_positions_far_from_the_body_are_refused(pos: str, message: str) -> None:
    """1e300 m made the fit end with "Internal error (LinAlgError)"."""
    xml = doc(M.format("A"), f'<marker body="skull" name="LFHD" pos="{pos}"/>')
    with pytest.raises(MarkersetError) as err:
        parse_markerset(xml, source="far.xml")
    assert err.value.line == 3
    assert re.search(rf"marker 'LFHD': {message}", err.value.reason), err.value.reason
    assert "origin of body 'skull'" in err.value.reason


def test_every_ik_weight_zero_is_refused() -> None:
    """A fit with no weighted marker ended "Internal error (LinAlgError)"."""
    zero = '<marker body="pelvis" name="{}" pos="0 0 0" ik_weight="0"/>'
    with pytest.raises(MarkersetError) as err:
        parse_markerset(doc(zero.format("A"), zero.format("B")), source="zero.xml")
    assert str(err.value) == (
        "zero.xml:1: every marker has ik_weight 0, so no marker would drive the fit; set "
        'ik_weight="1" (the usual weight) on those that should'
    )


def test_an_unknown_encoding_is_named() -> None:
    """It raised LookupError ("Internal error")."""
    xml = '<?xml version="1.0" encoding="klingon"?>\n' + doc(M.format("A"))
    with pytest.raises(MarkersetError) as err:
        parse_markerset(xml.encode(), source="enc.xml")
    assert str(err.value) == (
        "enc.xml:1: the XML declaration names the unknown encoding 'klingon'; save the file as "
        'UTF-8 and declare encoding="UTF-8" (or leave the declaration out)'
    )


def test_bytes_that_are_not_utf8_are_located() -> None:
    xml = doc(M.format("A"), M.format("LF\udcff")).encode("utf-8", "surrogateescape")
    with pytest.raises(MarkersetError) as err:
        parse_markerset(xml, source="latin.xml")
    assert err.value.line == 3
    assert err.value.reason == (
        "the byte 0xff at column 31 is not UTF-8; save the file as UTF-8, or declare its "
        'encoding (<?xml version="1.0" encoding="ISO-8859-1"?>)'
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty; a markerset is XML: <markers> holding one <marker/> per marker"),
        (b" \n\t\n", "the file is empty; a markerset is XML: <markers> holding one <marker/> per"),
        (b"\x02\x50" + bytes(510), "it is a binary file, not XML: it looks like a C3D recording"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "it is a binary file, not XML;"),
    ],
)
def test_empty_and_binary_files_say_so(data: bytes, message: str) -> None:
    with pytest.raises(MarkersetError) as err:
        parse_markerset(data, source="odd.xml")
    assert err.value.reason.startswith(message), err.value.reason


def test_names_and_bodies_are_of_sensible_length() -> None:
    long_name = doc(M.format("X" * 101))
    with pytest.raises(MarkersetError, match=r"a marker name of 101 characters; at most 100"):
        parse_markerset(long_name, source="long.xml")


# --------------------------------------------------------------------------- loading


def test_load_by_path_and_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.xml"
    path.write_text(SMALL)
    ms = load_markerset(path, valid_bodies=BODIES)
    assert ms.names == NAMES and ms.source == str(path)
    assert load_markerset(str(path)).names == NAMES
    with pytest.raises(MarkersetError, match=r"file not found.*shipped markerset name \(cmu") as e:
        load_markerset(tmp_path / "nope.xml")
    assert e.value.path == str(tmp_path / "nope.xml")
    with pytest.raises(MarkersetError, match="not a markerset XML file"):
        load_markerset(tmp_path)
    with pytest.raises(MarkersetError, match="no shipped markerset of that name"):
        shipped_markerset_path("vicon")


def test_shipped_markersets_load_by_name() -> None:
    for name in SHIPPED_MARKERSETS:
        assert shipped_markerset_path(name).is_file()
        ms = load_markerset(name.upper())
        assert ms.source == f"shipped:{name}"
        assert len(ms.markers) >= 35
        assert sum(is_trunk_body(b) for b in ms.bodies) >= 6
    assert load_markerset("Plug_In_Gait").source == "shipped:plug-in-gait"
    cmu = load_markerset("cmu")
    expected = [
        "LFHD",
        "RFHD",
        "LBHD",
        "RBHD",
        "C7",
        "T10",
        "CLAV",
        "STRN",
        "RBAC",
        "LSHO",
        "LUPA",
        "LELB",
        "LFRM",
        "LWRA",
        "LWRB",
        "LFIN",
        "RSHO",
        "RUPA",
        "RELB",
        "RFRM",
        "RWRA",
        "RWRB",
        "RFIN",
        "LFWT",
        "RFWT",
        "LBWT",
        "RBWT",
        "LTHI",
        "LKNE",
        "LSHN",
        "LANK",
        "LHEE",
        "LTOE",
        "LMT5",
        "RTHI",
        "RKNE",
        "RSHN",
        "RANK",
        "RHEE",
        "RTOE",
        "RMT5",
    ]
    assert sorted(cmu.names) == sorted(expected)


def test_shipped_markersets_use_the_default_characters_bodies() -> None:
    from myo_retarget._character import load_character

    bodies = load_character().body_names
    for name in SHIPPED_MARKERSETS:
        load_markerset(name, valid_bodies=bodies)  # raises on an unknown body
    assert {"pelvis", "thoracic_spine", "clavicle_r", "scapula_l"} <= TRUNK_BODIES


# --------------------------------------------------------------------------- matching


def test_match_is_case_insensitive_and_strips_prefixes() -> None:
    labels = ["Sub:lasi", "RASI", "Sub:LPSI", "rpsi", "c7", "Strn", "extra", "RKNE"]
    match = match_markers(small(), labels)
    assert match.matched == ["LASI", "RASI", "LPSI", "RPSI", "C7", "STRN", "RKNE"]
    assert match.missing == ["LFHD"]
    assert match.unused_labels == ["extra"]
    assert match.coverage == pytest.approx(7 / 8)
    assert match.marker_indices.tolist() == [0, 1, 2, 3, 4, 5, 7]
    assert match.label_indices.tolist() == [0, 1, 2, 3, 4, 5, 7]
    assert match.marker_indices.dtype == np.int64


def test_never_observed_labels_count_as_missing() -> None:
    labels = NAMES
    observed = np.array([True] * 7 + [False])
    match = match_markers(small(), labels, observed=observed)
    assert match.missing == ["RKNE"] and "RKNE" not in match.unused_labels
    observed[[0, 1, 4]] = False  # LASI, RASI, C7: only 3 trunk markers left
    with pytest.raises(MarkersetMismatchError) as info:
        match_markers(small(), labels, observed=observed)
    assert set(info.value.missing) >= {"LASI", "RASI", "C7"}


def test_too_few_trunk_markers_is_a_mismatch_that_says_what_matched() -> None:
    labels = ["LASI", "RASI", "LFHD", "RKNE", "Marker_1"]
    with pytest.raises(MarkersetMismatchError) as info:
        match_markers(small(), labels)
    err = info.value
    text = str(err)
    assert (
        "matches only 2 trunk/pelvis markers of the recording, 2 on the pelvis (need 6, or 3 on "
        "the pelvis for the lower body)"
    ) in text
    assert "matched LASI, RASI, LFHD, RKNE" in text
    assert "trunk/pelvis markers missing LPSI, RPSI, C7, STRN" in text
    assert "recording labels LASI, RASI, LFHD, RKNE, Marker_1" in text
    assert "write a markerset XML" in text or "Try the shipped markerset" in text
    assert err.matched == ["LASI", "RASI", "LFHD", "RKNE"]
    assert err.missing == ["LPSI", "RPSI", "C7", "STRN"]
    assert err.unused == ["Marker_1"]
    assert match_markers(small(), labels, min_trunk=2).coverage == pytest.approx(0.5)


def test_mismatch_suggests_a_shipped_markerset_that_fits() -> None:
    cmu_labels = load_markerset("cmu").names
    with pytest.raises(MarkersetMismatchError, match="Try the shipped markerset 'cmu'"):
        match_markers(small(), ["Foo:" + lb for lb in cmu_labels])


def test_prefixed_duplicates_match_by_full_label() -> None:
    xml = doc(
        *(M.format(n) for n in ["ArmL:Marker1", "ArmR:Marker1", "A", "B", "C", "D", "Marker2"])
    )
    ms = parse_markerset(xml, source="arms.xml")
    labels = ["ArmL:Marker1", "ArmR:Marker1", "a", "b", "c", "d", "Arm:Marker2"]
    match = match_markers(ms, labels)
    assert match.label_indices.tolist() == [0, 1, 2, 3, 4, 5, 6]
    # A bare name cannot pick one of two prefixed columns.
    bare = parse_markerset(doc(*(M.format(n) for n in ["Marker1", *"ABCDEF"])), source="x")
    assert match_markers(bare, [*labels[:2], *"ABCDEF"]).missing == ["Marker1"]


def test_best_markerset_ranks_and_never_raises() -> None:
    cmu_names = load_markerset("cmu").names
    ranked = best_markerset(cmu_names)
    assert ranked[0][0] == "cmu" and ranked[0][1] is not None and ranked[0][2] == 1.0
    assert {r[0] for r in ranked} == set(SHIPPED_MARKERSETS)
    nothing = best_markerset(["Marker_1", "Marker_2"])
    assert all(match is None and coverage == 0.0 for _, match, coverage in nothing)
    assert [r[0] for r in best_markerset([])] and best_markerset([])[0][2] == 0.0


# --------------------------------------------------------------------------- real recordings

# file -> the shipped markerset that must fit best, or None when none may fit
EXPECTED = {
    "cmu_01_01.c3d": "cmu",
    "pig_motion_flatfoot_full.c3d": "plug-in-gait",
    "pig_static_one_frame.c3d": "plug-in-gait",
    "shd01_prefixed.c3d": "plug-in-gait",
    "opensim_walking2.c3d": "opensim-gait",
    "qualisys.c3d": "qualisys",
    # Upper body all (0,0,0): the four pelvis markers anchor a lower-body fit.
    "functional_static_dec.c3d": "plug-in-gait",
    "optotrak.c3d": None,
    "sprintbasket_metres.c3d": None,  # optitrack-rigid-bodies is closest: 4 trunk markers
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_recordings_against_shipped_markersets(name: str) -> None:
    if not SHARED_C3D.is_dir():
        pytest.skip(f"real recordings not available at {SHARED_C3D} (../shared/data is absent)")
    rec = read_c3d(SHARED_C3D / name)
    ranked = best_markerset(rec.labels, rec.observed)
    expected = EXPECTED[name]
    if expected is None:
        assert all(match is None for _, match, _ in ranked), ranked
        for markerset in SHIPPED_MARKERSETS:
            with pytest.raises(MarkersetMismatchError, match="trunk/pelvis markers") as info:
                match_markers(load_markerset(markerset), rec.labels, observed=rec.observed)
            assert len(info.value.matched) < len(info.value.missing)
    else:
        best, match, coverage = ranked[0]
        assert best == expected and match is not None
        assert match.coverage == coverage
        assert sorted(match.label_indices.tolist()) == sorted(set(match.label_indices.tolist()))
        assert rec.observed[match.label_indices].all()
    if name == "cmu_01_01.c3d":
        assert ranked[0][2] == 1.0
        assert ranked[0][1] is not None and ranked[0][1].unused_labels == ["RBAC-1"]


# --------------------------------------------------------------------------- labels without data


def test_labels_present_but_empty_are_not_called_missing(zeroed_upper_body_c3d: Path) -> None:
    # functional_static_dec.c3d: the error listed such labels as missing and advised writing a
    # new markerset, which cannot help.
    rec = read_c3d(zeroed_upper_body_c3d)
    assert set(PIG_ZEROED) <= set(rec.labels)
    with pytest.raises(MarkersetMismatchError) as info:
        match_markers(load_markerset("plug-in-gait"), rec.labels, observed=rec.observed)
    err = info.value
    text = str(err)
    assert "matches only 2 trunk/pelvis markers of the recording, 2 on the pelvis" in text
    assert (
        "labels LFHD, LBHD, LPSI, LSHO, LUPA, LELB, LWRA, LWRB, LFIN, LFRA, RFHD, RBHD, RPSI, "
        "RSHO, RUPA, RELB, RWRA, RWRB, RFIN, RFRA, C7, T10, CLAV, STRN, RBAK, SACR are in the file "
        "but hold no data (every sample is 0,0,0 / missing)"
    ) in text
    assert "the recording has no data for scapula_l, scapula_r, thoracic_spine, skull," in text
    assert "export the trial again" in text
    # Neither "missing" nor the advice to write another markerset: no markerset can use them.
    assert "trunk/pelvis markers missing" not in text
    assert "write a markerset XML" not in text
    assert set(err.empty) == set(PIG_ZEROED) and set(err.empty) <= set(err.missing)


@pytest.mark.parametrize(
    ("model", "ours"),
    [("", True), ("myo_humanoid", True), ("MYO_HUMANOID", True), ("MyoSkeleton v1.0.0", False)],
)
def test_written_for_tells_our_frames_from_another_skeletons(model: str, ours: bool) -> None:
    # A markerset written for MyoSkeleton places its landmarks in that skeleton's frames: they
    # must not anchor our hip and knee zeros (see MarkerAttachment.own_frames).
    xml = f'<markers model="{model}"><marker name="A" body="pelvis" pos="0 0 0"/></markers>'
    assert parse_markerset(xml, source="m.xml").written_for("myo_humanoid") is ours
