"""Read C3D motion-capture files (through ezc3d) into metres in the engine's +Z-up world frame.

The engine world frame is right-handed with +Z up. Whatever lab axis the recording used as vertical
is rotated onto +Z by the smallest proper rotation (see :func:`lab_to_world_rotation`).

Only physical markers are kept: model outputs that Vicon and others store as points (joint angles,
forces, moments, powers, scalars, centre of mass, Plug-in Gait bone frames such as ``PELO``) are
listed in :attr:`MarkerRecording.ignored_labels` and stay reachable through
:func:`read_model_outputs`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._c3d_checks import check_file, read_head
from ._exceptions import C3DReadError, MarkerReadError
from ._formats import VERTICAL_AXES

__all__ = [
    "UNIT_ALIASES",
    "UNIT_SCALE",
    "VERTICAL_AXES",
    "GapStats",
    "MarkerRecording",
    "detect_vertical",
    "frame_slice",
    "lab_to_world_rotation",
    "matching_labels",
    "normalise_axis",
    "read_c3d",
    "read_model_outputs",
    "strip_prefix",
]


# The smallest rotation taking each lab axis onto world +Z (a quarter or half turn about X or Y).
_ROTATIONS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "+Z": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "-Z": ((1, 0, 0), (0, -1, 0), (0, 0, -1)),  # half turn about X
    "+Y": ((1, 0, 0), (0, 0, -1), (0, 1, 0)),  # +90 deg about X
    "-Y": ((1, 0, 0), (0, 0, 1), (0, -1, 0)),  # -90 deg about X
    "+X": ((0, 0, -1), (0, 1, 0), (1, 0, 0)),  # -90 deg about Y
    "-X": ((0, 0, 1), (0, 1, 0), (-1, 0, 0)),  # +90 deg about Y
}

#: Metres per unit of the units a C3D file may state.
UNIT_SCALE = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}
UNIT_ALIASES = {
    "mm": "mm",
    "millimeter": "mm",
    "millimeters": "mm",
    "millimetre": "mm",
    "millimetres": "mm",
    "cm": "cm",
    "centimeter": "cm",
    "centimeters": "cm",
    "centimetre": "cm",
    "centimetres": "cm",
    "m": "m",
    "meter": "m",
    "meters": "m",
    "metre": "m",
    "metres": "m",
}
# POINT parameters in which Vicon (and others) list the labels of model-output points.
_MODEL_OUTPUT_GROUPS = ("ANGLES", "FORCES", "MOMENTS", "POWERS", "SCALARS", "REACTIONS")
# Names of model outputs, for files that do not list them (or list only some of them).
_MODEL_OUTPUT_NAME = re.compile(
    r"(angles?|forces?|moments?|powers?|GRF)$|^(centre|center)ofmass", re.IGNORECASE
)
# Plug-in Gait bone frames: segment code + Origin/Anterior/Lateral/Proximal axis point.
_BONE_FRAME = re.compile(r"^(HED|TRX|PEL|[LR](CL|HU|RA|HN|FE|TI|FO|TO))[OALP]$")
# Head and foot marker names across common conventions (Vicon, CMU, OpenSim, Qualisys, OptiTrack),
# matched against the upper-case label with non-alphanumerics removed.
_HEAD = re.compile(r"^(L|R|LEFT|RIGHT)?([FB]HD|HD[FB]|HEAD\w*|FOREHEAD|TEMPLE\w?|VERTEX)$")
_FOOT = re.compile(
    r"^(L|R|LEFT|RIGHT)?(TOE|HEE|HEEL|ANK|ANKLE|MT\d|CAL|FCC|FM\d|FAL|TAM|[LM]MAL)(IN)?$"
)


@dataclass(frozen=True)
class GapStats:
    """Missing samples of one marker.

    Attributes:
        missing_frames: Frames without a valid sample.
        n_gaps: Number of maximal runs of missing frames.
        longest_gap: Length in frames of the longest run (0 when nothing is missing).
        gap_filled_frames: Frames whose sample is present but gap-filled, not measured.
    """

    missing_frames: int
    n_gaps: int
    longest_gap: int
    gap_filled_frames: int = 0


@dataclass(frozen=True, eq=False)
class MarkerRecording:
    """The physical markers of a recording (C3D, TRC or a table), metres, +Z-up world frame.

    Labels are what markersets match against: the subject prefix (text up to the last ``:``) and
    surrounding whitespace removed, original case kept. When stripping makes two labels equal
    (case-insensitively), e.g. ``ArmL:Marker1`` and ``ArmR:Marker1``, every label of that clash
    keeps its full (whitespace-stripped) text so that they stay distinguishable; identical full
    labels get a ``#2``, ``#3``... suffix on the later copies.

    Attributes:
        path: The path as given.
        filename: Its basename.
        sha256: Hex digest of the file's bytes.
        labels: Marker labels for matching (see above), one per column of ``positions``.
        raw_labels: The labels as stored in the file, same order.
        positions: (frames, markers, 3) float64 metres, world frame; NaN where missing.
        rate: Frame rate in Hz.
        first_frame: Number of the first frame kept, 1-based like C3D.
        units: POINT:UNITS as stored, normalised to ``mm``, ``cm`` or ``m``.
        vertical_axis: The lab axis that was vertical, one of :data:`VERTICAL_AXES`.
        vertical_axis_detected: False when the caller chose the axis.
        lab_to_world: 3x3 proper rotation applied: ``world = lab_to_world @ lab``.
        ignored_labels: Raw labels of the points dropped as model outputs.
        processor: ``Intel`` or ``DEC`` (``SGI`` files are rejected).
        storage: ``float`` or ``int16``.
        n_analog_channels: Analog channels in the file (never used for fitting).
        vertical_axis_source: How the vertical axis was chosen (``override``, ``head and foot
            markers``, ``head markers``, ``foot markers``, ``marker spread``, ``POINT:Y_SCREEN``
            or ``default``).
        gap_filled: (frames, markers) True where a present sample was not measured but made by
            processing (gap filling, filtering): the C3D residual is exactly 0 there. Only set
            when the file records residuals (some sample has a positive one); files that store
            0 everywhere carry no such information and count as measured throughout.
        format: The file's format: ``c3d``, ``trc``, ``csv`` or ``parquet``.

    For the other formats (see :func:`~myo_retarget.read_markers`) the C3D-specific fields say
    what the file has: ``units`` is the TRC header's Units or what ``mocap_scale`` made of a
    table's numbers (``mm``, ``cm``, ``m`` or ``1/<scale> m``), ``processor`` is empty,
    ``storage`` is ``text`` or ``parquet``, ``n_analog_channels`` is 0, no sample is gap-filled,
    ``ignored_labels`` is empty and ``first_frame`` counts the file's rows from 1 (a TRC file's
    own Frame# for TRC).
    """

    path: str
    filename: str
    sha256: str
    labels: list[str]
    raw_labels: list[str]
    positions: NDArray[np.float64]
    rate: float
    first_frame: int
    units: str
    vertical_axis: str
    vertical_axis_detected: bool
    lab_to_world: NDArray[np.float64]
    ignored_labels: list[str]
    processor: str
    storage: str
    n_analog_channels: int
    vertical_axis_source: str = field(default="default")
    gap_filled: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    format: str = "c3d"

    def __post_init__(self) -> None:
        shape = self.positions.shape[:2]
        if self.gap_filled.size == 0:  # not given: every present sample was measured
            object.__setattr__(self, "gap_filled", np.zeros(shape, dtype=bool))
        elif self.gap_filled.shape != shape:
            raise ValueError(f"gap_filled has shape {self.gap_filled.shape}, not {shape}")

    @property
    def measured(self) -> NDArray[np.bool_]:
        """(frames, markers) True where the sample is present and was measured (not gap-filled)."""
        return self.valid & ~self.gap_filled

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    @property
    def n_markers(self) -> int:
        """Number of physical markers kept."""
        return int(self.positions.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds (frames / rate)."""
        return self.n_frames / self.rate

    @property
    def time_s(self) -> NDArray[np.float64]:
        """Time of each frame in seconds, starting at 0."""
        return np.arange(self.n_frames, dtype=np.float64) / self.rate

    @property
    def valid(self) -> NDArray[np.bool_]:
        """(frames, markers) True where the sample is present."""
        return ~np.isnan(self.positions[..., 0])

    @property
    def observed(self) -> NDArray[np.bool_]:
        """(markers,) True for markers with at least one valid sample."""
        return np.asarray(self.valid.any(axis=0), dtype=bool)

    def gaps(self) -> dict[str, GapStats]:
        """Missing- and gap-filled-sample statistics per marker label."""
        missing = ~self.valid
        n_frames, n_markers = missing.shape
        padded = np.zeros((n_frames + 2, n_markers), dtype=np.int8)
        padded[1:-1] = missing
        edges = np.diff(padded, axis=0)
        result: dict[str, GapStats] = {}
        for j, label in enumerate(self.labels):
            starts = np.flatnonzero(edges[:, j] == 1)
            ends = np.flatnonzero(edges[:, j] == -1)
            lengths = ends - starts
            result[label] = GapStats(
                missing_frames=int(missing[:, j].sum()),
                n_gaps=len(starts),
                longest_gap=int(lengths.max()) if len(lengths) else 0,
                gap_filled_frames=int(self.gap_filled[:, j].sum()),
            )
        return result


def strip_prefix(label: str) -> str:
    """Return ``label`` without its subject prefix (text up to the last ``:``) and whitespace.

    >>> strip_prefix("Justin3:LFHD ")
    'LFHD'
    """
    return label.rsplit(":", 1)[-1].strip()


def lab_to_world_rotation(vertical_axis: str) -> NDArray[np.float64]:
    """The proper rotation taking the lab's ``vertical_axis`` onto world +Z.

    It is the smallest such rotation: identity for +Z, a half turn about X for -Z, a quarter turn
    about X for +/-Y (so a Y-up lab's +X stays forward) and a quarter turn about Y for +/-X.

    Raises:
        ValueError: ``vertical_axis`` is not one of :data:`VERTICAL_AXES`.
    """
    axis = normalise_axis(vertical_axis)
    if axis is None:
        raise ValueError(
            f"vertical axis {vertical_axis!r} is not one of {', '.join(VERTICAL_AXES)}"
        )
    return np.array(_ROTATIONS[axis], dtype=np.float64)


def read_c3d(
    path: str | os.PathLike[str],
    *,
    vertical_axis: str | None = None,
    frame_range: tuple[int, int] | None = None,
) -> MarkerRecording:
    """Read the physical markers of a C3D file.

    Args:
        path: The C3D file.
        vertical_axis: Force the lab's vertical axis (one of :data:`VERTICAL_AXES`) instead of
            detecting it from the data.
        frame_range: ``(start, stop)``: keep frames ``start <= i < stop``, 0-based indices into the
            file's frames (like a Python slice; ``stop`` may not exceed the frame count).

    Returns:
        The markers in metres in the +Z-up world frame, NaN where missing (NaN or infinite,
        exactly (0,0,0), or a negative residual in the file).

    Raises:
        C3DReadError: The file is missing, is not a readable C3D, uses the SGI processor format,
            has unsupported units, no markers, no frames or a bad rate, or an argument is invalid.
        MemoryError: The process has too little memory left to read it (not the file's fault).
    """
    spath = os.fspath(path)
    override = None
    if vertical_axis is not None:
        override = normalise_axis(vertical_axis)
        if override is None:
            raise C3DReadError(
                spath,
                f"vertical axis {vertical_axis!r} is not one of {', '.join(VERTICAL_AXES)}",
            )
    head, size, sha256 = read_head(spath)
    processor = check_file(spath, head, size).processor
    c3d = _ezc3d_read(spath)
    point = c3d["parameters"]["POINT"]

    raw_labels = _point_labels(point, c3d["data"]["points"].shape[1])
    data = c3d["data"]["points"]  # (4, points, frames)
    residuals = c3d["data"]["meta_points"]["residuals"]  # (1, points, frames)
    n_frames_file = int(data.shape[2])
    rate = _rate(spath, c3d)
    units = _units(spath, point)
    scale = point.get("SCALE", {}).get("value", [])
    storage = "int16" if len(scale) and float(scale[0]) > 0 else "float"

    start, stop = frame_slice(spath, frame_range, n_frames_file)
    keep = [i for i, label in enumerate(raw_labels) if not _is_model_output(label, point)]
    kept = set(keep)
    ignored = [label for i, label in enumerate(raw_labels) if i not in kept]
    if not keep:
        reason = "it has no marker points"
        if ignored:
            reason += f" (only model outputs such as {', '.join(ignored[:5])})"
        raise C3DReadError(spath, reason + "; export the marker trajectories to the C3D")
    if n_frames_file == 0:
        raise C3DReadError(spath, "it holds no frames of point data")

    lab = np.ascontiguousarray(
        np.transpose(data[:3, keep, start:stop], (2, 1, 0)), dtype=np.float64
    )  # (frames, markers, 3), file units
    missing = ~np.isfinite(lab).all(axis=2) | np.all(lab == 0.0, axis=2)
    res = residuals[0, keep, start:stop].T
    missing |= res < 0
    lab[missing] = np.nan
    # The C3D spec: a residual of exactly 0 marks a coordinate that was processed (gap-filled,
    # filtered), not measured -- meaningful only if the writer stores residuals at all.
    gap_filled = (res == 0) & ~missing
    if not (residuals[0, keep] > 0).any():
        gap_filled[:] = False
    lab *= UNIT_SCALE[units]

    kept_raw = [raw_labels[i] for i in keep]
    labels = matching_labels(kept_raw)
    if override is not None:
        axis, source = override, "override"
    else:
        hint = point.get("Y_SCREEN", {}).get("value", [])
        axis, source = detect_vertical(lab, labels, str(hint[0]) if len(hint) else None)
    rotation = lab_to_world_rotation(axis)
    positions = lab @ rotation.T

    first = int(c3d["header"]["points"]["first_frame"]) + 1 + start
    n_analogs = int(c3d["header"]["analogs"]["size"])
    return MarkerRecording(
        path=spath,
        filename=os.path.basename(spath),
        sha256=sha256,
        labels=labels,
        raw_labels=kept_raw,
        positions=positions,
        rate=rate,
        first_frame=first,
        units=units,
        vertical_axis=axis,
        vertical_axis_detected=override is None,
        lab_to_world=rotation,
        ignored_labels=ignored,
        processor=processor,
        storage=storage,
        n_analog_channels=n_analogs,
        vertical_axis_source=source,
        gap_filled=gap_filled,
    )


def read_model_outputs(
    path: str | os.PathLike[str],
    names: list[str] | tuple[str, ...] | None = None,
    *,
    frame_range: tuple[int, int] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Read model-output points (e.g. Vicon's ``LKneeAngles``) exactly as stored.

    No unit conversion and no rotation: angles stay in the file's ANGLE_UNITS (degrees for Vicon),
    in the file's component order. Samples with a negative residual are NaN (ezc3d's convention).

    Args:
        path: The C3D file.
        names: Point labels to return, matched case-insensitively after prefix stripping; None for
            every model-output point of the file.
        frame_range: Same meaning as in :func:`read_c3d`.

    Returns:
        ``{name: (frames, 3) array}``, keyed by the names as requested (or by stripped label).

    Raises:
        C3DReadError: The file cannot be read, or a requested name is not a point of the file.
    """
    spath = os.fspath(path)
    head, size, _ = read_head(spath)
    check_file(spath, head, size)
    c3d = _ezc3d_read(spath)
    point = c3d["parameters"]["POINT"]
    data = c3d["data"]["points"]
    raw_labels = _point_labels(point, data.shape[1])
    start, stop = frame_slice(spath, frame_range, int(data.shape[2]))
    index: dict[str, int] = {}
    for i, label in enumerate(raw_labels):
        index.setdefault(strip_prefix(label).upper(), i)
    if names is None:
        wanted = [strip_prefix(lb) for lb in raw_labels if _is_model_output(lb, point)]
    else:
        wanted = list(names)
    out: dict[str, NDArray[np.float64]] = {}
    for name in wanted:
        column = index.get(strip_prefix(name).upper())
        if column is None:
            outputs = [strip_prefix(lb) for lb in raw_labels if _is_model_output(lb, point)]
            hint = ", ".join(outputs[:30]) if outputs else "none"
            raise C3DReadError(
                spath, f"it has no point named {name!r}; its model outputs are: {hint}"
            )
        out[name] = np.ascontiguousarray(data[:3, column, start:stop].T, dtype=np.float64)
    return out


# --------------------------------------------------------------------------- ezc3d


def _ezc3d_read(path: str) -> Any:
    import ezc3d  # imported lazily: it is a heavy extension module

    try:
        return ezc3d.c3d(path, extract_forceplat_data=False)
    except (OSError, RuntimeError, ValueError, IndexError) as exc:
        detail = _text(str(exc).replace(": iostream error", "").strip())
        if detail == "std::bad_alloc":
            # ezc3d reports a failed C++ allocation so: the process is short of memory, the file
            # may be fine. A server's worker must tell the two apart (and say which limit).
            raise MemoryError(f"{path}: not enough memory to read it") from exc
        if "ignoreBadFormatting" in detail:
            detail = "its parameter section is not standard-conforming"
        # Its first sentence says what is wrong; later ones advise contacting the manufacturer.
        detail = detail.split(". ")[0].rstrip(".")
        raise C3DReadError(
            path,
            f"the C3D reader (ezc3d) cannot read it ({detail}); the file is damaged or not a "
            "standard C3D: re-export it from the capture software",
        ) from None


def _text(value: object) -> str:
    """``value`` as text without the lone surrogates ezc3d leaves for bytes that are not UTF-8.

    Such bytes come from exporters that write Latin-1 (``\xc9`` for É); shown as Latin-1 they
    read right and, unlike surrogates, can be written to JSON or a database.
    """
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("latin-1")
    return text


# --------------------------------------------------------------------------- parameters


def _point_labels(point: Any, n_points: int) -> list[str]:
    labels: list[str] = list(point.get("LABELS", {}).get("value", []))
    k = 2
    while f"LABELS{k}" in point:  # files with more than 255 points continue in LABELS2, ...
        labels.extend(point[f"LABELS{k}"]["value"])
        k += 1
    labels = [_text(lb) for lb in labels[:n_points]]
    labels.extend(f"POINT{i + 1}" for i in range(len(labels), n_points))
    return labels


def _rate(path: str, c3d: Any) -> float:
    values = c3d["parameters"]["POINT"].get("RATE", {}).get("value", [])
    rate = float(values[0]) if len(values) else float(c3d["header"]["points"]["frame_rate"])
    if not math.isfinite(rate) or rate <= 0:
        raise C3DReadError(
            path,
            f"invalid frame rate {rate:g} Hz (POINT:RATE must be > 0); the file is damaged, "
            "re-export it",
        )
    return rate


def _units(path: str, point: Any) -> str:
    values = [_text(v).strip().lower() for v in point.get("UNITS", {}).get("value", [])]
    values = [v for v in values if v]
    if not values:
        raise C3DReadError(
            path,
            "POINT:UNITS is missing, so marker distances cannot be interpreted; re-export the "
            "recording with its units (mm, cm or m)",
        )
    distinct = sorted(set(values))
    if len(distinct) > 1:
        raise C3DReadError(path, f"POINT:UNITS mixes units {distinct}; re-export in one unit")
    unit = UNIT_ALIASES.get(distinct[0])
    if unit is None:
        raise C3DReadError(
            path,
            f"unsupported POINT:UNITS {distinct[0]!r} (supported: mm, cm, m); re-export the "
            "recording in one of these units",
        )
    return unit


def frame_slice(
    path: str,
    frame_range: tuple[int, int] | None,
    n: int,
    error: type[MarkerReadError] = C3DReadError,
) -> tuple[int, int]:
    """``frame_range`` checked against a recording of ``n`` frames (``(0, n)`` when None).

    Raises:
        MarkerReadError: (``error``) The range is outside the recording.
    """
    if frame_range is None:
        return 0, n
    start, stop = (int(v) for v in frame_range)
    if not 0 <= start < stop <= n:
        raise error(
            path,
            f"frame range {tuple(frame_range)} is outside the recording: use 0 <= start < stop "
            f"<= {n} (0-based frame indices, stop excluded)",
        )
    return start, stop


def _is_model_output(label: str, point: Any) -> bool:
    name = strip_prefix(label)
    if _MODEL_OUTPUT_NAME.search(name) or _BONE_FRAME.match(name):
        return True
    return name.upper() in _listed_model_outputs(point)


def _listed_model_outputs(point: Any) -> frozenset[str]:
    groups = list(_MODEL_OUTPUT_GROUPS)
    type_groups = point.get("TYPE_GROUPS", {}).get("value", [])
    groups.extend(str(g).strip().upper() for g in type_groups[::2])  # (parameter, type) pairs
    names: set[str] = set()
    for group in groups:
        if group in ("LABELS", "DESCRIPTIONS", "UNITS"):
            continue
        for value in point.get(group, {}).get("value", []):
            if isinstance(value, str) and value.strip():
                names.add(strip_prefix(_text(value)).upper())
    return frozenset(names)


def matching_labels(raw_labels: list[str]) -> list[str]:
    """The labels markersets match against (see :class:`MarkerRecording`)."""
    stripped = [strip_prefix(lb) for lb in raw_labels]
    counts: dict[str, int] = {}
    for s in stripped:
        counts[s.upper()] = counts.get(s.upper(), 0) + 1
    labels = []
    for i, (raw, s) in enumerate(zip(raw_labels, stripped, strict=True)):
        label = raw.strip() if counts[s.upper()] > 1 else s
        labels.append(label or f"POINT{i + 1}")
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        key = label.upper()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            labels[i] = f"{label}#{seen[key]}"
    return labels


# --------------------------------------------------------------------------- vertical axis


def normalise_axis(axis: str) -> str | None:
    """``axis`` as one of :data:`VERTICAL_AXES` (``"y"`` -> ``"+Y"``), None if it is none."""
    text = axis.strip().upper()
    if text in ("X", "Y", "Z"):
        text = "+" + text
    return text if text in _ROTATIONS else None


def _axis_name(index: int, sign: float) -> str:
    return ("+" if sign >= 0 else "-") + "XYZ"[index]


def _dominant(vector: NDArray[np.float64], min_norm: float) -> str | None:
    """The signed axis carrying most of ``vector``, or None if it is short or ambiguous."""
    if not np.all(np.isfinite(vector)):
        return None
    magnitude = np.abs(vector)
    order = np.argsort(magnitude)[::-1]
    if magnitude[order[0]] < min_norm or magnitude[order[0]] < 2.0 * magnitude[order[1]]:
        return None
    return _axis_name(int(order[0]), float(vector[order[0]]))


def _group_mean(lab: NDArray[np.float64], columns: list[int]) -> NDArray[np.float64]:
    """Per-frame centroid (frames, 3) of ``columns``, NaN in frames where none is present."""
    sub = lab[:, columns, :]
    present = ~np.isnan(sub[..., 0])
    count = present.sum(axis=1)
    total = np.where(present[..., None], sub, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count[:, None] > 0, total / np.maximum(count, 1)[:, None], np.nan)


def _median_difference(upper: NDArray[np.float64], lower: NDArray[np.float64]) -> Any:
    diff = upper - lower
    rows = ~np.isnan(diff).any(axis=1)
    if not rows.any():
        return None
    return np.median(diff[rows], axis=0)


def detect_vertical(
    lab: NDArray[np.float64], labels: list[str], y_screen: str | None = None
) -> tuple[str, str]:
    """Find the lab axis that points up, from the data first and from metadata last.

    1. Head markers sit above foot markers (or above the other markers, or foot markers below
       them) along the vertical axis, by a clear margin, in the median frame.
    2. Otherwise a body is taller than it is wide: the axis along which the markers of a frame are
       spread the most, signed by where most coordinates lie (lab origins are on the floor).
    3. Otherwise ``y_screen`` (Vicon's POINT:Y_SCREEN hint, for C3D files), else +Z.

    Args:
        lab: ``(frames, markers, 3)`` positions in the lab frame, metres, NaN where missing.
        labels: The markers' labels.
        y_screen: The file's own hint of the vertical axis, if it has one.

    Returns:
        The axis (one of :data:`VERTICAL_AXES`) and how it was found.
    """
    keys = [re.sub(r"[^A-Z0-9]", "", strip_prefix(lb).upper().split("#")[0]) for lb in labels]
    head = [i for i, k in enumerate(keys) if _HEAD.match(k)]
    foot = [i for i, k in enumerate(keys) if _FOOT.match(k)]
    grouped = set(head) | set(foot)
    others = [i for i in range(len(labels)) if i not in grouped]
    candidates = []
    if head and foot:
        candidates.append((head, foot, "head and foot markers"))
    if head and others:
        candidates.append((head, others, "head markers"))
    if foot and others:
        candidates.append((others, foot, "foot markers"))
    for upper, lower, source in candidates:
        diff = _median_difference(_group_mean(lab, upper), _group_mean(lab, lower))
        if diff is not None:
            axis = _dominant(np.asarray(diff, dtype=np.float64), min_norm=0.1)
            if axis is not None:
                return axis, source

    present = ~np.isnan(lab[..., 0])
    frames = present.sum(axis=1) >= 3
    if frames.any():
        sub = lab[frames]
        with np.errstate(invalid="ignore"):
            extent = np.nanmax(sub, axis=1) - np.nanmin(sub, axis=1)
        spread = np.median(extent, axis=0)
        order = np.argsort(spread)[::-1]
        if spread[order[0]] > 0.3 and spread[order[0]] >= 1.3 * spread[order[1]]:
            centre = float(np.nanmedian(sub[..., order[0]]))
            return _axis_name(int(order[0]), centre), "marker spread"

    if y_screen is not None:
        axis = normalise_axis(y_screen)
        if axis is not None:
            return axis, "POINT:Y_SCREEN"
    return "+Z", "default"
