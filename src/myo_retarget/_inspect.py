"""A quick description of a marker recording (C3D, TRC, CSV or parquet trackers table), for people
and assistants choosing a markerset."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._character import Character, load_character
from ._kinematics import MarkerKinematics
from ._markerset import (
    EMPTY_LABELS_ADVICE,
    ROOT_REQUIREMENT,
    MarkerMatch,
    best_markerset,
    empty_labels_note,
    listing,
    load_markerset,
    match_markers,
)
from ._motion import NOTE_JOINTS
from ._observability import bodies_without_markers, observed_hinges, topmost
from ._trackers import read_markers


def inspect_c3d(
    path: str | os.PathLike[str],
    *,
    vertical_axis: str | None = None,
    mocap_scale: float | None = None,
) -> dict[str, Any]:
    """Describe a recording: labels, rate, frames, units, vertical axis, gaps, best markerset.

    Args:
        path: The recording: C3D, TRC, or a CSV/parquet trackers table (see
            :func:`~myo_retarget.read_markers`).
        vertical_axis: Override the detected vertical axis.
        mocap_scale: Divisor taking a CSV/parquet table's numbers to metres (default 1000:
            millimetres); ignored for C3D and for TRC files that state their Units.

    Returns:
        A JSON-serialisable dict; ``best_markerset`` is None when no shipped markerset fits, and
        ``markersets`` ranks every shipped one. Per markerset: ``fits`` (enough trunk/pelvis
        markers to retarget), ``partial`` (it fits, but the recording lacks markers the markerset
        needs for some joints: ``unobserved_bodies``, the top body of each subtree left without
        markers, and ``unobserved_joints`` will have no data, NaN in the output), ``coverage``,
        ``matched``, ``missing``, ``empty`` (missing markers whose label is in the file but holds
        no data) and a one-line ``note`` (None when it fits fully); one that does not fit says
        why in a short ``reason`` too. ``empty_labels`` lists every
        label of the file that holds no data. ``format`` is ``c3d``, ``trc``, ``csv`` or
        ``parquet``; ``processor`` is empty for formats other than C3D.

    Raises:
        MarkerReadError: The file cannot be read (:class:`C3DReadError` for a C3D file).
    """
    rec = read_markers(path, vertical_axis=vertical_axis, mocap_scale=mocap_scale)
    observed = rec.observed
    gaps = rec.gaps()
    character = load_character()
    ranking = []
    for name, match, coverage in best_markerset(rec.labels, observed):
        entry: dict[str, Any] = {"name": name, "fits": match is not None, "partial": False}
        entry["coverage"] = round(coverage, 3)
        entry.update(_fit(character, name, rec.labels, observed, fits=match is not None))
        ranking.append(entry)
    best = next((r for r in ranking if r["fits"]), None)
    return {
        "filename": rec.filename,
        "format": rec.format,
        "sha256": rec.sha256,
        "frames": rec.n_frames,
        "rate_hz": rec.rate,
        "duration_s": round(rec.duration_s, 4),
        "units": rec.units,
        "vertical_axis": rec.vertical_axis,
        "vertical_axis_detected": rec.vertical_axis_detected,
        "vertical_axis_source": rec.vertical_axis_source,
        "processor": rec.processor,
        "labels": rec.labels,
        "empty_labels": [
            label for label, seen in zip(rec.labels, observed, strict=True) if not seen
        ],
        "ignored_labels": rec.ignored_labels,
        "analog_channels": rec.n_analog_channels,
        "gaps": [
            {
                "label": label,
                "missing_frames": g.missing_frames,
                "missing_pct": round(100.0 * g.missing_frames / max(1, rec.n_frames), 1),
                "gaps": g.n_gaps,
                "longest_gap": g.longest_gap,
                "gap_filled_frames": g.gap_filled_frames,
            }
            for label, g in gaps.items()
        ],
        "best_markerset": best,
        "markersets": ranking,
    }


def _fit(
    character: Character,
    name: str,
    labels: list[str],
    observed: NDArray[np.bool_],
    *,
    fits: bool,
) -> dict[str, Any]:
    """How a shipped markerset meets the recording: what matched, and what it leaves unobserved."""
    mset = load_markerset(name, valid_bodies=character.body_names)
    match = match_markers(mset, labels, observed=observed, min_trunk=0)  # never raises
    bodies, joints = _unobserved(character, match)
    fields: dict[str, Any] = {
        "matched": match.matched,
        "missing": match.missing,
        "empty": match.empty,
        "unobserved_bodies": bodies,
        "unobserved_joints": joints,
    }
    if not fits:
        reason = (
            f"only {len(match.trunk_matched)} trunk/pelvis markers match (need {ROOT_REQUIREMENT})"
        )
        note = f"does not fit: {reason}"
        if match.empty:
            note += f"; {empty_labels_note(match)}. {EMPTY_LABELS_ADVICE}"
        return {**fields, "reason": reason, "note": note}
    if not joints:
        return {**fields, "note": None}
    listed = listing(joints, NOTE_JOINTS)
    where = f"no markers on {', '.join(bodies)} or below: " if bodies else ""
    note = (
        f"partial fit ({match.coverage:.0%} of its markers): {where}{len(joints)} joints will "
        f"have no data (NaN): {listed}"
    )
    if match.empty:
        note += f"; labels {listing(match.empty, NOTE_JOINTS)} are in the file but hold no data"
    return {**fields, "partial": True, "note": note}


def _unobserved(character: Character, match: MarkerMatch) -> tuple[list[str], list[str]]:
    """Bodies (top of each subtree) and joints that the whole markerset observes but its matched
    markers do not: what this recording would leave without data."""
    mset = match.markerset
    bodies = np.array([character.body_id(m.body) for m in mset.markers], dtype=np.int64)
    kin = MarkerKinematics(character, bodies, mset.positions)
    present = np.zeros((2, len(bodies)), dtype=bool)
    present[0] = True
    present[1, match.marker_indices] = True
    whole, matched = observed_hinges(kin, present)
    joints = [
        n for n, w, m in zip(character.hinge_names, whole, matched, strict=True) if w and not m
    ]
    m = character.model
    lost = bodies_without_markers(m, bodies[match.marker_indices]) - bodies_without_markers(
        m, bodies
    )
    return [character.body_names[b - 1] for b in topmost(m, lost)], joints
