"""Draft a markerset for a recording no shipped markerset covers.

Labels that name an anatomical landmark (:mod:`._landmarks`) are placed where our shipped
markersets place that landmark. The character is then fitted to those markers (calibration and IK
on a subsample of frames), and every other marker is attached to the body in whose frame it moves
least, at its mean position there: cluster and wand markers, and landmarks under names the draft
does not know. Markers that move with no body (a chair, a prop, noise) are left out with the reason.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

from ._c3d import MarkerRecording
from ._calibration import MarkerAttachment, calibrate, initial_pose
from ._character import DEFAULT_CHARACTER_ID, DEFAULT_CHARACTER_VERSION, Character, load_character
from ._exceptions import MarkersetMismatchError
from ._files import atomic_write
from ._formats import DEFAULT_CALIBRATION_FRAMES
from ._ik import IKSolver
from ._kinematics import MarkerKinematics
from ._landmarks import Placement, known_names, placement, recognise
from ._markerset import (
    MAX_NAME_CHARS,
    ROOT_REQUIREMENT,
    anchors_root,
    is_trunk_body,
    listing,
    parse_markerset,
)

__all__ = [
    "DRAFT_FRAMES",
    "MAX_REFITS",
    "MAX_SPREAD_MM",
    "MIN_DRAFT_TRUNK",
    "MIN_SAMPLES",
    "DraftMarker",
    "LeftOut",
    "MarkersetDraft",
    "draft_markerset",
]

MIN_DRAFT_TRUNK = 3
"""Fewest recognised pelvis/trunk landmarks to fit the character at all."""
DRAFT_FRAMES = 120
"""Most frames the draft fits (spread over the recording): enough poses to tell bodies apart."""
MAX_SPREAD_MM = 30.0
"""A marker whose position in its best body's frame spreads more than this (RMS, mm) is left out:
it moves with no body (soft-tissue clusters spread 5-15 mm)."""
MIN_SAMPLES = 5
"""Fewest fitted frames a marker must be seen in to be placed by rigidity."""
MAX_REFITS = 5
"""Most named markers dropped (one per refit) for moving with no body."""
# Hinges whose angle varies less than this over the fitted frames did not move (rad): a body
# hanging from such hinges moved with its parent, and a marker cannot tell the two apart.
_STILL_RAD = 1e-3


@dataclass(frozen=True)
class DraftMarker:
    """One marker of the draft.

    Attributes:
        label: The recording's label (the marker's name in the draft).
        body: The body it is attached to.
        method: ``"synonym"`` (its name names a landmark) or ``"rigidity"`` (it moves with the
            body).
        confidence: 0-1: low spread in the body's frame and, for rigidity, a clear margin to the
            next-best body.
        spread_mm: RMS deviation of its position in the body's frame over the fitted frames.
        pos: Offset in the body's frame at the character's default size, metres.
        movable: Whether registration may re-place the offset per subject (every marker placed
            by rigidity, and approximate landmarks).
        landmark: The landmark its name names (synonym), else the runner-up body (rigidity).
    """

    label: str
    body: str
    method: str
    confidence: float
    spread_mm: float
    pos: tuple[float, float, float]
    movable: bool
    landmark: str = ""


@dataclass(frozen=True)
class LeftOut:
    """A label the draft does not use, and why."""

    label: str
    reason: str


@dataclass(frozen=True)
class MarkersetDraft:
    """A proposed markerset for one recording.

    Attributes:
        source: The recording's path.
        character_id: The character the draft is written for.
        xml: The markerset XML (our format).
        markers: Per placed marker, in the XML's order.
        left_out: Labels not in the draft, with the reason.
        fit_rms_mm: RMS residual of the recognised markers in the fit the rigidity step used.
        fit_frames: Number of frames fitted.
        notes: What to check before using the draft.
    """

    source: str
    character_id: str
    xml: str
    markers: tuple[DraftMarker, ...]
    left_out: tuple[LeftOut, ...]
    fit_rms_mm: float
    fit_frames: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def trunk_markers(self) -> int:
        """Markers of the draft on the pelvis and trunk."""
        return sum(is_trunk_body(m.body) for m in self.markers)

    @property
    def retargetable(self) -> bool:
        """Whether retargeting can use the draft: its markers fix the character's root (see
        :func:`~myo_retarget.anchors_root`; else ``notes`` says what is missing)."""
        return anchors_root([m.body for m in self.markers])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the XML atomically (an existing file is replaced whole or not at all)."""
        target = Path(path)
        with atomic_write(target) as f:
            f.write(self.xml.encode("utf-8"))
        return target

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of everything but the XML text."""
        out = asdict(self)
        del out["xml"]
        out["markers"] = [
            {**m, "confidence": round(m["confidence"], 2), "spread_mm": round(m["spread_mm"], 1)}
            for m in out["markers"]
        ]
        out["fit_rms_mm"] = round(self.fit_rms_mm, 1)
        out["notes"] = list(self.notes)
        return out

    def summary(self) -> str:
        """A few lines: what was placed, how, how sure, and what was left out."""
        by_method = {
            method: [m for m in self.markers if m.method == method]
            for method in ("synonym", "rigidity")
        }
        low = [m.label for m in self.markers if m.confidence < 0.5]
        lines = [
            f"Draft markerset for {os.path.basename(self.source)}: {len(self.markers)} markers "
            f"({len(by_method['synonym'])} by name, {len(by_method['rigidity'])} by rigidity), "
            f"fit RMS {self.fit_rms_mm:.1f} mm over {self.fit_frames} frames.",
        ]
        if low:
            lines.append(f"Low confidence (check them): {listing(low, 12)}.")
        if self.left_out:
            lines.append(
                "Left out: "
                + "; ".join(f"{lo.label} ({lo.reason})" for lo in self.left_out[:8])
                + (f"; … (+{len(self.left_out) - 8})" if len(self.left_out) > 8 else "")
                + "."
            )
        lines.extend(self.notes)
        return "\n".join(lines)


def _not_enough(
    rec: MarkerRecording, character: Character, placed: dict[int, Placement], unusable: list[str]
) -> str:
    trunk = [rec.labels[i] for i, p in placed.items() if is_trunk_body(p.body)]
    names = known_names()
    seen = [label for label in rec.labels if label not in unusable] or rec.labels
    return (
        f"{rec.path}: cannot draft a markerset: {len(trunk)} of its labels name a pelvis/trunk "
        f"landmark (need {MIN_DRAFT_TRUNK} to fit the character before placing the rest): "
        f"recognised {listing(trunk) if trunk else 'none'}; labels {listing(seen, 20)}. "
        f"Names it knows (with a side as L/R, Left/Right, L_/_L): pelvis "
        f"{', '.join(names['pelvis'])}; trunk {', '.join(names['trunk'])}. Write a markerset XML "
        '(<markers><marker name="LABEL" body="pelvis" pos="x y z" movable="1"/>…</markers>, pos '
        "in metres in the body's frame: x anterior, y up, z to the right) that attaches the "
        f"labels to the bodies of {character.info.name} ({', '.join(character.body_names)}), "
        f"with at least {ROOT_REQUIREMENT}, or relabel the markers in the "
        "capture software and draft again."
    )


def _recognised(
    rec: MarkerRecording, character: Character
) -> tuple[dict[int, Placement], list[LeftOut], list[int]]:
    """Placements of the labels that name landmarks; left-out labels; the rest (columns)."""
    placed: dict[int, Placement] = {}
    left_out: list[LeftOut] = []
    rest: list[int] = []
    taken: dict[tuple[str, str], str] = {}
    names_seen: set[str] = set()
    observed = rec.observed
    for col, label in enumerate(rec.labels):
        name = label.strip()
        if not observed[col]:
            left_out.append(LeftOut(label, "no data (every sample missing)"))
            continue
        if not name or len(name) > MAX_NAME_CHARS:
            left_out.append(
                LeftOut(label, f"not usable as a marker name (1-{MAX_NAME_CHARS} chars)")
            )
            continue
        if name.upper() in names_seen:
            left_out.append(LeftOut(label, "same name as an earlier label (case-insensitive)"))
            continue
        names_seen.add(name.upper())
        found = recognise(name)
        if found is not None:
            landmark, side = found
            p = placement(landmark, side)
            if p.body in character.body_names and (p.landmark, side) not in taken:
                taken[(p.landmark, side)] = label
                placed[col] = p
                continue
        rest.append(col)
    return placed, left_out, rest


def _frames(valid: NDArray[np.bool_], n: int, least: int) -> NDArray[np.int64]:
    """Up to ``n`` frames spread over those where at least ``least`` of the columns are seen."""
    counts = valid.sum(axis=1)
    good = np.flatnonzero(counts >= min(least, int(counts.max())))
    pick = np.linspace(0, len(good) - 1, min(n, len(good))).round().astype(np.int64)
    return np.unique(good[pick])


def _locked_parent(character: Character, qpos: NDArray[np.float64]) -> list[int]:
    """Per body, the body a marker on it is attached to when it cannot tell them apart.

    A body whose hinges stayed still in the fit moved with its parent: the parent stands for
    both (a marker cannot say which it is on). A body with no joint at all (skull, scapula) is
    its parent's rigid extension: it stands for both, as markersets attach markers to it.
    """
    m = character.model
    still = np.std(qpos, axis=0) < _STILL_RAD
    out = list(range(m.nbody))
    welded: dict[int, int] = {}
    for b in range(2, m.nbody):
        first, count = int(m.body_jntadr[b]), int(m.body_jntnum[b])
        if count == 0:
            welded.setdefault(int(m.body_parentid[b]), b)
        if all(still[int(m.jnt_qposadr[j])] for j in range(first, first + count)):
            out[b] = out[int(m.body_parentid[b])]
    return [welded.get(r, r) for r in out]


def _spread_mm(local: NDArray[np.float64]) -> NDArray[np.float64]:
    """RMS distance from the mean, mm, of ``(samples, bodies, 3)`` positions: per body."""
    dev = local - local.mean(axis=0)
    out: NDArray[np.float64] = np.sqrt((dev**2).sum(axis=2).mean(axis=0)) * 1000
    return out


class _Fit:
    """The character fitted to the recognised markers on a subsample of frames.

    Attributes:
        frames: The fitted frames.
        rms_mm: RMS residual of the recognised markers over them.
        groups: Body ids a marker can be told apart on (see :func:`_locked_parent`).
        synonym_spreads: Per recognised column, the spread of its position in its body's frame.
    """

    def __init__(
        self,
        character: Character,
        rec: MarkerRecording,
        measured: NDArray[np.float64],
        placed: dict[int, Placement],
        max_frames: int,
    ) -> None:
        self.character = character
        cols = sorted(placed)
        plist = [placed[c] for c in cols]
        attachment = MarkerAttachment(
            names=[rec.labels[c] for c in cols],
            bodies=np.array([character.body_id(p.body) for p in plist], dtype=np.int64),
            offsets=np.array([p.pos for p in plist], dtype=np.float64),
            movable=np.array([p.movable for p in plist], dtype=bool),
            weights=np.ones(len(plist)),
        )
        targets = measured[:, cols]
        self.calib = calibrate(
            character, attachment, targets, rec.rate, n_frames=DEFAULT_CALIBRATION_FRAMES
        )
        kin = MarkerKinematics(character, attachment.bodies, self.calib.offsets)
        solver = IKSolver(kin, attachment.weights)
        valid = np.asarray(~np.isnan(targets).any(axis=2), dtype=bool)
        least = max(solver.settings.min_markers, int(0.8 * len(cols)))
        self.frames = _frames(valid, max_frames, least)
        qs = np.empty((len(self.frames), kin.nq))
        q = initial_pose(kin, targets[self.frames[0]])
        residuals: list[NDArray[np.float64]] = []
        for n, f in enumerate(self.frames):
            # Frames lie apart: each gets the cold-start iteration cap.
            q, fitted, _ = solver.solve_frame(q, targets[f], q, solver.settings.max_iterations_cold)
            qs[n] = q
            residuals.append(np.linalg.norm(fitted[valid[f]] - targets[f][valid[f]], axis=1))
        res = np.concatenate(residuals)
        self.rms_mm = float(np.sqrt(np.mean(res**2)) * 1000) if res.size else float("nan")
        poses = [kin.body_poses(qk) for qk in qs]
        self.xpos = np.stack([p[0] for p in poses])  # (S, nbody, 3)
        self.rot = np.stack([p[1] for p in poses])  # (S, nbody, 3, 3)
        self.groups = sorted(set(_locked_parent(character, qs)[1:]))
        self.synonym_spreads: dict[int, float] = {}
        for k, c in enumerate(cols):
            seen = valid[self.frames, k]
            local = self.body_frame(targets[self.frames, k], seen)
            b = int(attachment.bodies[k])
            self.synonym_spreads[c] = float(_spread_mm(local)[b]) if seen.sum() > 1 else 0.0

    def body_frame(
        self, points: NDArray[np.float64], seen: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """``(n, nbody, 3)``: a marker's seen samples (of the fitted frames) in every body's
        frame."""
        local: NDArray[np.float64] = np.einsum(
            "sbji,sbj->sbi", self.rot[seen], points[seen][:, None, :] - self.xpos[seen]
        )
        return local

    def nominal(self, body: int, local_mean: NDArray[np.float64]) -> tuple[float, float, float]:
        """A position in ``body``'s frame at the character's default size (markerset offsets
        grow with their segment's scale)."""
        scale = self.calib.scales.get(self.character.body_segment[body], 1.0)
        x, y, z = (float(v) for v in local_mean / scale)
        return round(x, 4), round(y, 4), round(z, 4)


def _confidence(spread: float, runner_up: float | None) -> float:
    sure = max(0.0, 1.0 - spread / MAX_SPREAD_MM)
    margin = 1.0 if runner_up is None else max(0.0, 1.0 - spread / max(runner_up, 1e-9))
    return float(sure * margin)


def _comment(text: str) -> str:
    """An XML comment holding ``text`` ("--" may not appear inside one; a file name may hold it)."""
    return "<!-- " + text.replace("--", "- -") + " -->"


def draft_markerset(
    path: str | os.PathLike[str],
    *,
    character_id: str = DEFAULT_CHARACTER_ID,
    character_version: str = DEFAULT_CHARACTER_VERSION,
    vertical_axis: str | None = None,
    rotation: str | None = None,
    mocap_scale: float | None = None,
    frame_range: tuple[int, int] | None = None,
    max_frames: int = DRAFT_FRAMES,
) -> MarkersetDraft:
    """Propose a markerset for a recording: landmarks by name, the other markers by rigidity.

    Args:
        path: The recording: C3D, TRC, CSV or parquet (see :func:`read_markers`).
        character_id: The character to write it for.
        character_version: Its version.
        vertical_axis: Override the detected vertical axis (``"+Y"``...).
        rotation: The vendor's named rotation (``"yup_to_zup"``...), instead of ``vertical_axis``.
        mocap_scale: Divisor taking a CSV/parquet table's numbers to metres.
        frame_range: ``(first, stop)`` frames to use.
        max_frames: Most frames to fit for the rigidity step.

    Returns:
        The draft; ``draft.save(path)`` writes its XML, ``retarget(recording, path)`` uses it.

    Raises:
        MarkerReadError: The recording cannot be read.
        MarkersetMismatchError: Fewer than :data:`MIN_DRAFT_TRUNK` labels name pelvis/trunk
            landmarks: the message lists what was seen, the names the draft knows and what to do.
        RetargetError: Bad options.
    """
    from ._retarget import RetargetOptions
    from ._trackers import read_markers

    opts = RetargetOptions(
        vertical_axis=vertical_axis,
        rotation=rotation,
        mocap_scale=mocap_scale,
        frame_range=frame_range,
    )
    opts.validate()
    character = load_character(character_id, character_version)
    rec = read_markers(
        path,
        vertical_axis=opts.lab_vertical_axis,
        frame_range=opts.frame_range,
        mocap_scale=opts.mocap_scale,
    )
    placed, left_out, rest = _recognised(rec, character)
    unusable = [lo.label for lo in left_out]
    if sum(is_trunk_body(p.body) for p in placed.values()) < MIN_DRAFT_TRUNK:
        raise MarkersetMismatchError(
            _not_enough(rec, character, placed, unusable),
            matched=[rec.labels[i] for i in placed],
            unused=[rec.labels[i] for i in rest],
        )

    measured = np.where(rec.measured[..., None], rec.positions, np.nan)
    fit = _Fit(character, rec, measured, placed, max_frames)
    # A label named like a landmark that moves with no body is not that landmark (a prop, a
    # mislabelled marker). It drags the fit, so others look loose too: the worst leaves the draft
    # and the fit is redone, until every named marker moves with its body.
    for _ in range(MAX_REFITS):
        worst = max(fit.synonym_spreads, key=lambda c: fit.synonym_spreads[c])
        spread = fit.synonym_spreads[worst]
        if spread <= MAX_SPREAD_MM:
            break
        p = placed.pop(worst)
        left_out.append(
            LeftOut(
                rec.labels[worst],
                f"named like {p.landmark} ({p.body}) but moves {spread:.0f} mm in that body's "
                f"frame (limit {MAX_SPREAD_MM:g})",
            )
        )
        if sum(is_trunk_body(q.body) for q in placed.values()) < MIN_DRAFT_TRUNK:
            raise MarkersetMismatchError(
                _not_enough(rec, character, placed, unusable),
                matched=[rec.labels[i] for i in placed],
                unused=[rec.labels[i] for i in rest],
            )
        fit = _Fit(character, rec, measured, placed, max_frames)
    frames = fit.frames

    markers: list[DraftMarker] = []
    for c, spread in fit.synonym_spreads.items():
        p = placed[c]
        markers.append(
            DraftMarker(
                label=rec.labels[c],
                body=p.body,
                method="synonym",
                confidence=_confidence(spread, None),
                spread_mm=spread,
                pos=p.pos,
                movable=p.movable,
                landmark=p.landmark,
            )
        )

    for c in rest:
        label = rec.labels[c]
        points = measured[frames, c]
        seen = ~np.isnan(points).any(axis=1)
        if seen.sum() < MIN_SAMPLES:
            left_out.append(
                LeftOut(
                    label,
                    f"seen in {int(seen.sum())} of the {len(frames)} fitted frames (need "
                    f"{MIN_SAMPLES})",
                )
            )
            continue
        local = fit.body_frame(points, seen)
        spreads = _spread_mm(local)
        ranked = sorted(fit.groups, key=lambda g: spreads[g])
        best = ranked[0]
        runner = float(spreads[ranked[1]]) if len(ranked) > 1 else None
        if spreads[best] > MAX_SPREAD_MM:
            left_out.append(
                LeftOut(
                    label,
                    f"moves with no body: {spreads[best]:.0f} mm spread in the frame of "
                    f"{character.body_names[best - 1]}, the steadiest (limit {MAX_SPREAD_MM:g})",
                )
            )
            continue
        markers.append(
            DraftMarker(
                label=label,
                body=character.body_names[best - 1],
                method="rigidity",
                confidence=_confidence(float(spreads[best]), runner),
                spread_mm=float(spreads[best]),
                pos=fit.nominal(best, local[:, best].mean(axis=0)),
                movable=True,
                landmark=character.body_names[ranked[1] - 1] if len(ranked) > 1 else "",
            )
        )

    trunk = sum(is_trunk_body(m.body) for m in markers)
    notes: list[str] = []
    if not anchors_root([m.body for m in markers]):  # MarkersetDraft.retargetable
        notes.append(
            f"Only {trunk} of the draft's markers are on the pelvis/trunk and retargeting needs "
            f"{ROOT_REQUIREMENT}: add pelvis/trunk markers the recording has to the draft by "
            "hand, or retarget a recording with more of them."
        )
    xml = _xml(rec, character, markers, fit.rms_mm)
    parse_markerset(xml, source=str(rec.path), valid_bodies=character.body_names)  # self-check
    return MarkersetDraft(
        source=str(rec.path),
        character_id=character.character_id,
        xml=xml,
        markers=tuple(markers),
        left_out=tuple(left_out),
        fit_rms_mm=fit.rms_mm,
        fit_frames=len(frames),
        notes=tuple(notes),
    )


def _xml(
    rec: MarkerRecording, character: Character, markers: list[DraftMarker], fit_rms_mm: float
) -> str:
    stem = Path(rec.filename).stem
    lines = [
        f"<markers name={quoteattr('draft-' + stem)} model={quoteattr(character.info.name)}>",
        "  "
        + _comment(
            f"Draft from {rec.filename} by draft_markerset: {len(markers)} markers, fit RMS "
            f"{fit_rms_mm:.1f} mm. Synonym markers sit where our shipped markersets put the "
            "landmark; rigidity markers (movable) where they moved least. Review before use."
        ),
    ]
    for m in markers:
        x, y, z = m.pos
        how = m.landmark if m.method == "synonym" else f"rigidity, next best {m.landmark}"
        lines.append(
            f"  <marker body={quoteattr(m.body)} name={quoteattr(m.label)} "
            f'pos="{x:g} {y:g} {z:g}" movable="{1.0 if m.movable else 0.0}" ik_weight="1"/>'
            + "  "
            + _comment(f"{how}: confidence {m.confidence:.2f}, spread {m.spread_mm:.1f} mm")
        )
    lines.append("</markers>")
    return "\n".join(lines) + "\n"
