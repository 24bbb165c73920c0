"""The retarget pipeline: marker recording + markerset + character -> :class:`Motion`."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from ._body_span import check_human_span
from ._c3d import VERTICAL_AXES, MarkerRecording, normalise_axis
from ._calibration import MarkerAttachment, calibrate, initial_pose
from ._character import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    Character,
    load_character,
)
from ._exceptions import MarkersetError, RetargetError
from ._formats import DEFAULT_CALIBRATION_FRAMES, ROTATIONS
from ._ik import CancelCheck, IKSettings, IKSolver, ProgressCallback
from ._kinematics import MarkerKinematics
from ._markerset import NO_WEIGHT, MarkerMatch, Markerset, load_markerset, match_markers
from ._motion import Motion
from ._observability import MIN_LEVER_M, observed_hinges, unmarked_bodies
from ._subject import gender_problem, height_problem, weight_problem
from ._trackers import read_markers


@dataclass(frozen=True)
class RetargetOptions:
    """Options of a retarget run; the first four mirror the API's retarget arguments.

    Attributes:
        enable_scaling: Fit segment scales and register markers to the subject.
        subject_gender: ``"male"`` or ``"female"``; sets the stature prior when no height is given.
        subject_height: Standing height, metres (:data:`~myo_retarget.HEIGHT_RANGE_M`).
        subject_weight: Body mass, kg (:data:`~myo_retarget.WEIGHT_RANGE_KG`); recorded in the
            output's metadata, the kinematics ignore it.
        vertical_axis: Override the detected vertical axis of the recording (``"+Y"``, ``"-Z"``...).
        frame_range: ``(first, stop)`` 0-based frame indices to retarget (stop exclusive).
        calibration_window: ``(start, stop)`` seconds of the calibration window (a static trial,
            say); default: ``calibration_frames`` well-observed frames spread over the whole
            recording.
        mocap_scale: Divisor taking a CSV/parquet trackers table's numbers to metres (default
            1000: millimetres, the vendor's default); a TRC file without Units uses it too. C3D
            (POINT:UNITS) and TRC (Units) files state their units, so it is ignored for them.
        rotation: The vendor's named rotation to the +Z-up world (:data:`ROTATIONS`):
            ``"yup_to_zup"`` (the lab's vertical axis is +Y) or ``"ydown_to_zup"`` (-Y); a named
            ``vertical_axis`` override.
        calibration_frames: Number of frames to calibrate (scale and register) on, >= 1
            (the vendor's ``n_frames_scaling``); default
            :data:`DEFAULT_CALIBRATION_FRAMES` (32).
    """

    enable_scaling: bool = True
    subject_gender: str = "male"
    subject_height: float | None = None
    subject_weight: float | None = None
    vertical_axis: str | None = None
    frame_range: tuple[int, int] | None = None
    calibration_window: tuple[float, float] | None = None
    mocap_scale: float | None = None
    rotation: str | None = None
    calibration_frames: int | None = None

    @property
    def lab_vertical_axis(self) -> str | None:
        """The vertical-axis override these options ask for (``rotation`` or ``vertical_axis``),
        None to detect it; call :meth:`validate` first."""
        if self.rotation is not None:
            return ROTATIONS[self.rotation]
        return self.vertical_axis

    def validate(self) -> None:
        """Raise :class:`RetargetError` naming the first bad field."""
        for problem in (
            gender_problem(self.subject_gender),
            self.subject_height is not None and height_problem(self.subject_height),
            self.subject_weight is not None and weight_problem(self.subject_weight),
        ):
            if problem:
                raise RetargetError(problem)
        cw = self.calibration_window
        if cw is not None and not (0 <= cw[0] < cw[1]):
            raise RetargetError(f"calibration_window must be (start, stop) seconds, not {cw}")
        fr = self.frame_range
        if fr is not None and not (0 <= fr[0] < fr[1]):
            raise RetargetError(f"frame_range must be (first, stop) with first < stop, not {fr}")
        axis = None
        if self.vertical_axis is not None:
            axis = normalise_axis(self.vertical_axis)
            if axis is None:
                raise RetargetError(
                    f"vertical_axis {self.vertical_axis!r} is not one of {', '.join(VERTICAL_AXES)}"
                )
        if self.rotation is not None:
            names = " or ".join(repr(n) for n in ROTATIONS)
            rotated = ROTATIONS.get(self.rotation)
            if rotated is None:
                raise RetargetError(f"rotation {self.rotation!r} is not one of {names}")
            if axis is not None and axis != rotated:
                raise RetargetError(
                    f"rotation {self.rotation!r} (vertical axis {rotated}) contradicts "
                    f"vertical_axis {self.vertical_axis!r}: give one of them"
                )
        scale = self.mocap_scale
        if scale is not None and not (
            isinstance(scale, int | float)
            and not isinstance(scale, bool)
            and math.isfinite(scale)
            and scale > 0
        ):
            raise RetargetError(
                f"mocap_scale must be a positive number (the divisor taking the table's numbers "
                f"to metres: 1000 for millimetres, 1 for metres), not {scale!r}"
            )
        n = self.calibration_frames
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise RetargetError(
                f"calibration_frames must be a whole number of frames >= 1, not {n!r}"
            )


@dataclass(frozen=True, eq=False)
class MarkerInputs:
    """A recording's markers lined up with a markerset on a character: what calibration and IK take.

    Attributes:
        match: Which markerset markers matched which recording labels.
        attachment: The matched markers' bodies, offsets, movable flags and weights.
        targets: ``(F, M, 3)`` recorded positions of the matched markers, NaN where missing.
        gap_filled: ``(F, M)`` True where the recording marks the sample as gap-filled.
        measured: ``targets`` with the gap-filled samples NaN as well (``targets`` itself when
            there are none).
    """

    match: MarkerMatch
    attachment: MarkerAttachment
    targets: NDArray[np.float64]
    gap_filled: NDArray[np.bool_]
    measured: NDArray[np.float64]


def marker_inputs(rec: MarkerRecording, mset: Markerset, character: Character) -> MarkerInputs:
    """Match ``mset`` against ``rec`` and gather the matched markers' data.

    Raises:
        MarkersetMismatchError: Too few of the markerset's markers are in the recording.
        MarkersetError: Every matched marker has ``ik_weight`` 0 (nothing would drive the fit).
    """
    match = match_markers(mset, rec.labels, observed=rec.observed, recording=rec.path)
    defs = [mset.markers[int(i)] for i in match.marker_indices]
    if not any(d.ik_weight > 0 for d in defs):
        who = f"every marker the recording has ({len(defs)} of them)"
        raise MarkersetError(mset.source, NO_WEIGHT.format(who=who))
    attachment = MarkerAttachment(
        names=[d.name for d in defs],
        bodies=np.array([character.body_id(d.body) for d in defs], dtype=np.int64),
        offsets=np.array([d.pos for d in defs], dtype=np.float64),
        movable=np.array([d.movable for d in defs], dtype=bool),
        weights=np.array([d.ik_weight for d in defs], dtype=np.float64),
        own_frames=mset.written_for(character.info.name),
    )
    targets = np.ascontiguousarray(rec.positions[:, match.label_indices])
    gap_filled = np.ascontiguousarray(rec.gap_filled[:, match.label_indices])
    # Calibration and the first pose see measured samples only.
    measured = np.where(gap_filled[..., None], np.nan, targets) if gap_filled.any() else targets
    check_human_span(rec.path, rec.units, mset.name, measured, attachment.names)
    return MarkerInputs(match, attachment, targets, gap_filled, measured)


def _engine_version() -> str:
    from . import __version__

    return __version__


def retarget(
    c3d: str | os.PathLike[str],
    markerset: str | os.PathLike[str],
    *,
    character_id: str = DEFAULT_CHARACTER_ID,
    character_version: str = DEFAULT_CHARACTER_VERSION,
    options: RetargetOptions | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    ik_settings: IKSettings | None = None,
) -> Motion:
    """Retarget a motion-capture recording onto a character.

    Args:
        c3d: Path of the marker recording: C3D, TRC, or a CSV/parquet trackers table
            (:data:`TRACKER_EXTENSIONS`; see :func:`read_markers`).
        markerset: A shipped markerset name (:data:`SHIPPED_MARKERSETS`, e.g. ``"cmu"``) or a
            markerset XML path.
        character_id: Character to retarget onto (default: the built-in humanoid).
        character_version: Its version.
        options: Subject and engine options.
        progress: Called with ``(frames_done, total_frames)`` as the fit advances.
        should_cancel: Polled regularly; returning True stops with :class:`RetargetCancelled`.
        ik_settings: Solver tuning (advanced).

    Returns:
        The retargeted :class:`Motion`; ``motion.save(path)`` writes the ``.npz``.

    Raises:
        MarkerReadError: The recording cannot be read (:class:`C3DReadError` for a C3D file).
        MarkersetError: The markerset file is invalid.
        MarkersetMismatchError: Too few of the markerset's markers are in the recording.
        CharacterError: Unknown character or version.
        RetargetError: Bad options.
        RetargetCancelled: ``should_cancel`` returned True.
    """
    opts = options or RetargetOptions()
    opts.validate()
    character = load_character(character_id, character_version)
    rec = read_markers(
        c3d,
        vertical_axis=opts.lab_vertical_axis,
        frame_range=opts.frame_range,
        mocap_scale=opts.mocap_scale,
    )
    mset = load_markerset(markerset, valid_bodies=character.body_names)
    inputs = marker_inputs(rec, mset, character)
    match, attachment = inputs.match, inputs.attachment
    targets, gap_filled, measured = inputs.targets, inputs.gap_filled, inputs.measured
    F = targets.shape[0]
    if progress is not None:
        progress(0, F)
    calib = calibrate(
        character,
        attachment,
        measured,
        rec.rate,
        enable_scaling=opts.enable_scaling,
        subject_gender=opts.subject_gender,
        subject_height=opts.subject_height,
        window_s=opts.calibration_window,
        should_cancel=should_cancel,
        n_frames=opts.calibration_frames or DEFAULT_CALIBRATION_FRAMES,
    )
    kin = MarkerKinematics(character, attachment.bodies, calib.offsets)
    solver = IKSolver(kin, attachment.weights, ik_settings)

    seen = np.asarray(~np.isnan(measured).any(axis=2))
    first = int(np.argmax(seen.sum(axis=1) >= min(solver.settings.min_markers, seen.shape[1])))
    q0 = initial_pose(kin, measured[first])
    result = solver.solve_sequence(
        targets, q0, progress=progress, should_cancel=should_cancel, gap_filled=gap_filled
    )

    # Unscaled (enable_scaling=False) a subject unlike the character may leave every frame over
    # the residual bound and still be the motion asked for; scaled, it is no fit at all.
    if opts.enable_scaling and not result.ok.any():
        s = solver.settings
        raise RetargetError(
            f"{rec.filename}: no frame could be fitted (0 of {F}): in each the markers sit more "
            f"than {s.fail_rms * 1000:g} mm (RMS) from where markerset '{mset.name}' puts them "
            f"on the character, or fewer than {s.min_markers} are seen; check that the "
            "markerset is the recording's and its labels name the right markers"
        )

    # A joint no usable marker determines is no measurement: NaN in the angles, frame by frame
    # (none at all in frames too sparse to fit, which only hold the previous pose).
    usable = solver.marker_weights(targets, gap_filled) > 0
    fitted = usable.sum(axis=1) >= solver.settings.min_markers
    observed = observed_hinges(kin, usable) & fitted[:, None]
    angles = np.where(observed, np.degrees(result.qpos[:, 7:]), np.nan)
    unmarked = unmarked_bodies(character.model, attachment.bodies[usable.any(axis=0)])

    m = character.model
    data = mujoco.MjData(m)
    body_positions = np.empty((F, m.nbody - 1, 3))
    for f in range(F):
        data.qpos[:] = result.qpos[f]
        mujoco.mj_kinematics(m, data)
        body_positions[f] = data.xpos[1:]
    opts_dict: dict[str, Any] = asdict(opts)
    metadata: dict[str, Any] = {
        "engine": "myo_retarget",
        "engine_version": _engine_version(),
        "character_id": character.character_id,
        "character_version": character.version,
        "character_name": character.info.name,
        "options": opts_dict,
        "source": {
            "filename": rec.filename,
            "format": rec.format,
            "sha256": rec.sha256,
            "rate_hz": rec.rate,
            "units": rec.units,
            "vertical_axis": rec.vertical_axis,
            "vertical_axis_detected": rec.vertical_axis_detected,
            "first_frame": rec.first_frame,
            "frames": rec.n_frames,
        },
        "markerset": {
            "name": mset.name,
            "source": mset.source if not Path(str(mset.source)).is_absolute() else None,
            "matched": match.matched,
            "missing": match.missing,
            "unused_labels": match.unused_labels,
            "coverage": match.coverage,
        },
        "calibration": {
            "frames": [int(i) for i in calib.frames],
            "stature_prior_m": calib.stature_prior,
            "scaled": opts.enable_scaling,
        },
        "scale_factors": calib.scales,
        "observation": {
            "unmarked_bodies": [character.body_names[b - 1] for b in unmarked],
            "min_lever_m": MIN_LEVER_M,
        },
        "world": {"up": "+Z", "units": "m", "faces": "character's pelvis +x is anterior"},
    }
    return Motion(
        joint_names=list(character.hinge_names),
        joint_angles_degrees=angles,
        joint_observed=observed.any(axis=0),
        qpos_names=character.qpos_names,
        qpos=result.qpos,
        fps=rec.rate,
        time_s=np.arange(F) / rec.rate,
        body_names=list(character.body_names),
        body_positions=body_positions,
        marker_names=attachment.names,
        marker_observed=targets,
        marker_fitted=result.fitted,
        marker_gap_filled=gap_filled,
        frame_ok=result.ok,
        scale_factors=calib.scales,
        metadata=metadata,
    )
