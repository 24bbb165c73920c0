"""Read C3D motion-capture files (through ezc3d) into metres in the engine's +Z-up world frame.

The engine world frame is right-handed with +Z up. Whatever lab axis the recording used as vertical
is rotated onto +Z by the smallest proper rotation (see :func:`lab_to_world_rotation`).

Only physical markers are kept: model outputs that Vicon and others store as points (joint angles,
forces, moments, powers, scalars, centre of mass, Plug-in Gait bone frames such as ``PELO``) are
listed in :attr:`MarkerRecording.ignored_labels` and stay reachable through
:func:`read_model_outputs`.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._exceptions import C3DReadError

__all__ = [
    "VERTICAL_AXES",
    "GapStats",
    "MarkerRecording",
    "lab_to_world_rotation",
    "read_c3d",
    "read_model_outputs",
    "strip_prefix",
]

VERTICAL_AXES: tuple[str, ...] = ("+X", "-X", "+Y", "-Y", "+Z", "-Z")

# The smallest rotation taking each lab axis onto world +Z (a quarter or half turn about X or Y).
_ROTATIONS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "+Z": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "-Z": ((1, 0, 0), (0, -1, 0), (0, 0, -1)),  # half turn about X
    "+Y": ((1, 0, 0), (0, 0, -1), (0, 1, 0)),  # +90 deg about X
    "-Y": ((1, 0, 0), (0, 0, 1), (0, -1, 0)),  # -90 deg about X
    "+X": ((0, 0, -1), (0, 1, 0), (1, 0, 0)),  # -90 deg about Y
    "-X": ((0, 0, 1), (0, 1, 0), (-1, 0, 0)),  # +90 deg about Y
}

_PROCESSORS = {84: "Intel", 85: "DEC", 86: "SGI"}
# Parameters ezc3d reads as scalars: when present they must hold a value (an empty one can
# crash it).
_SCALARS = (
    ("POINT", "USED"),
    ("POINT", "RATE"),
    ("POINT", "SCALE"),
    ("POINT", "DATA_START"),
    ("POINT", "FRAMES"),
    ("ANALOG", "USED"),
    ("ANALOG", "RATE"),
    ("ANALOG", "GEN_SCALE"),
)
_UNIT_SCALE = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}
_UNIT_ALIASES = {
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
    """The physical markers of a C3D file, in metres in the engine's +Z-up world frame.

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
    axis = _normalise_axis(vertical_axis)
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
        override = _normalise_axis(vertical_axis)
        if override is None:
            raise C3DReadError(
                spath,
                f"vertical axis {vertical_axis!r} is not one of {', '.join(VERTICAL_AXES)}",
            )
    head, size, sha256 = _read_head(spath)
    processor, announced_frames = _check_structure(spath, head, size)
    c3d = _ezc3d_read(spath)
    point = c3d["parameters"]["POINT"]

    raw_labels = _point_labels(point, c3d["data"]["points"].shape[1])
    data = c3d["data"]["points"]  # (4, points, frames)
    residuals = c3d["data"]["meta_points"]["residuals"]  # (1, points, frames)
    n_frames_file = int(data.shape[2])
    _check_size(spath, c3d, size, announced_frames)
    rate = _rate(spath, c3d)
    units = _units(spath, point)
    scale = point.get("SCALE", {}).get("value", [])
    storage = "int16" if len(scale) and float(scale[0]) > 0 else "float"

    start, stop = _frame_slice(spath, frame_range, n_frames_file)
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
    lab *= _UNIT_SCALE[units]

    kept_raw = [raw_labels[i] for i in keep]
    labels = _matching_labels(kept_raw)
    if override is not None:
        axis, source = override, "override"
    else:
        axis, source = _detect_vertical(lab, labels, point)
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
    head, size, _ = _read_head(spath)
    _check_structure(spath, head, size)
    c3d = _ezc3d_read(spath)
    point = c3d["parameters"]["POINT"]
    data = c3d["data"]["points"]
    raw_labels = _point_labels(point, data.shape[1])
    start, stop = _frame_slice(spath, frame_range, int(data.shape[2]))
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


# --------------------------------------------------------------------------- file-level checks


# The header and parameter section lie within the first 510 blocks (both block counts are bytes).
_HEAD_BYTES = 510 * 512


def _read_head(path: str) -> tuple[bytes, int, str]:
    """The file's first bytes (header and parameters), its size and its SHA-256.

    The file is streamed, so hashing a long recording does not hold a second copy of it.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                if size < _HEAD_BYTES:
                    head += chunk[: _HEAD_BYTES - size]
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise C3DReadError(path, "file not found") from None
    except IsADirectoryError:
        raise C3DReadError(path, "is a directory, not a C3D file") from None
    except OSError as exc:
        raise C3DReadError(path, f"cannot be read: {exc.strerror or exc}") from None
    return head, size, digest.hexdigest()


def _check_structure(path: str, blob: bytes, size: int) -> tuple[str, int | None]:
    """Validate the header and walk the parameter section before ezc3d sees the file.

    ezc3d trusts the sizes written in the parameter section; a corrupted dimension can make it read
    out of bounds and crash the process. Checking that every record fits where it claims to be is
    cheap (a few hundred records) and keeps a bad upload from killing a worker.

    Returns:
        The processor name, and the frame count that POINT:FRAMES announces (None if absent).
    """
    if size == 0:
        raise C3DReadError(path, "the file is empty")
    if size < 512 or blob[1] != 0x50:
        raise C3DReadError(path, "not a C3D file (the header's C3D signature byte 0x50 is missing)")
    param_block = blob[0]
    if param_block < 2:
        raise C3DReadError(path, f"corrupt header: parameter section at block {param_block}")
    start = (param_block - 1) * 512
    if size < start + 4:
        raise C3DReadError(path, f"truncated: the file ends ({size} bytes) before its parameters")
    proc_byte = blob[start + 3]
    processor = _PROCESSORS.get(proc_byte)
    if processor is None:
        raise C3DReadError(
            path,
            f"corrupt parameter section: unknown processor type byte {proc_byte} "
            "(expected 84 Intel, 85 DEC or 86 SGI)",
        )
    if processor == "SGI":
        raise C3DReadError(
            path,
            "it uses the SGI/MIPS (big-endian) processor format, which ezc3d cannot read; "
            "re-export it as an Intel (PC) C3D, e.g. from your capture software or with a C3D "
            "converter, and try again",
        )
    n_blocks = blob[start + 2]
    end = start + max(n_blocks, 1) * 512
    if end > size:
        raise C3DReadError(
            path,
            f"truncated: the parameter section ({n_blocks} blocks) runs past the end of the "
            f"file ({size} bytes)",
        )
    frames = _walk_parameters(path, blob, start + 4, end, intel=processor == "Intel")
    return processor, frames


def _walk_parameters(path: str, blob: bytes, offset: int, end: int, *, intel: bool) -> int | None:
    """Check that each group/parameter record fits inside the section, and the few semantic
    properties whose absence makes ezc3d crash (found by fuzzing it with damaged real files).

    Returns:
        POINT:FRAMES as stored (ezc3d rewrites it to what it could read), or None.
    """
    groups: dict[int, str] = {}
    params: dict[tuple[int, str], tuple[int, int]] = {}  # (group id, name) -> (type, data offset)
    while offset + 2 <= end:
        name_len = abs(struct.unpack_from("<b", blob, offset)[0])
        record_id = struct.unpack_from("<b", blob, offset + 1)[0]
        if name_len == 0 or record_id == 0:
            break  # end-of-parameters marker
        next_field = offset + 2 + name_len
        name = blob[offset + 2 : min(next_field, end)].decode("latin-1")
        if next_field + 2 > end:
            raise _corrupt(path, offset, name, "its name runs past the section")
        (to_next,) = struct.unpack_from("<h", blob, next_field)
        if to_next < 0:  # ezc3d would seek backwards
            raise _corrupt(path, offset, name, "its offset to the next record is negative")
        limit = end if to_next == 0 else next_field + to_next
        if limit > end:
            raise _corrupt(path, offset, name, "it points past the end of the section")
        body = next_field + 2
        if record_id > 0:  # a parameter: type, dimensions, data, description
            if body + 2 > limit:
                raise _corrupt(path, offset, name, "its header is cut short")
            kind = struct.unpack_from("<b", blob, body)[0]
            n_dims = blob[body + 1]
            # The C3D format allows at most 7 dimensions; ezc3d reads the count signed (a
            # corrupt count of 128+ crashes it).
            if kind not in (-1, 1, 2, 4) or n_dims > 7 or body + 2 + n_dims > limit:
                raise _corrupt(path, offset, name, "it has an invalid type or dimensions")
            if kind == -1 and n_dims == 0:
                raise _corrupt(path, offset, name, "it is a text parameter without dimensions")
            count = math.prod(blob[body + 2 : body + 2 + n_dims])
            data_at = body + 2 + n_dims
            desc_at = data_at + abs(kind) * count
            if desc_at + 1 > limit or desc_at + 1 + blob[desc_at] > limit:
                raise _corrupt(
                    path, offset, name, "its dimensions claim more data than the record holds"
                )
            _check_description(path, offset, name, blob[desc_at])
            params[(record_id, name.upper())] = (kind if count else 0, data_at)
        else:
            if body + 1 > limit or body + 1 + blob[body] > limit:
                raise _corrupt(path, offset, name, "its description runs past the record")
            _check_description(path, offset, name, blob[body])
            groups[-record_id] = name.upper()
        if to_next == 0:
            break
        offset = limit
    ids = {gname: gid for gid, gname in groups.items()}

    def used(group: str) -> int:
        kind, at = params.get((ids.get(group, 0), "USED"), (0, 0))
        return int(struct.unpack_from("<H", blob, at)[0]) if kind == 2 else 0

    for group, name in _SCALARS:
        kind, _ = params.get((ids.get(group, 0), name), (-2, 0))
        if kind == 0:
            raise C3DReadError(
                path,
                f"malformed parameter section: {group}:{name} has no value; the file is "
                "damaged, re-export it",
            )
    n_analogs = used("ANALOG")
    absent = [p for p in ("SCALE", "OFFSET") if (ids.get("ANALOG", 0), p) not in params]
    if n_analogs and absent:
        raise C3DReadError(
            path,
            f"malformed parameter section: ANALOG:USED is {n_analogs} but ANALOG:"
            f"{' and ANALOG:'.join(absent)} is missing; the file is damaged, re-export it",
        )
    frames: int | None = None
    kind, at = params.get((ids.get("POINT", 0), "FRAMES"), (0, 0))
    if kind == 2:
        frames = int(struct.unpack_from("<H", blob, at)[0])  # unsigned: files beyond 32767 frames
    elif kind == 4 and intel:
        value = struct.unpack_from("<f", blob, at)[0]
        frames = int(value) if math.isfinite(value) and value >= 0 else None
    if used("EVENT_CONTEXT"):
        gid = ids["EVENT_CONTEXT"]
        empty = [name for (g, name), (kind, _) in params.items() if g == gid and kind == 0]
        if empty:
            raise C3DReadError(
                path,
                "malformed parameter section: EVENT_CONTEXT is used but EVENT_CONTEXT:"
                f"{empty[0]} is empty; the file is damaged, re-export it",
            )
    return frames


def _check_description(path: str, offset: int, name: str, length: int) -> None:
    # ezc3d reads this length as a signed byte: 128..255 make it fail or crash.
    if length > 127:
        raise _corrupt(path, offset, name, f"its description length {length} exceeds 127")


def _corrupt(path: str, offset: int, name: str, what: str) -> C3DReadError:
    return C3DReadError(
        path,
        f"malformed parameter section: record {name!r} at byte {offset}: {what}; the file is "
        "damaged or was written by a non-conforming exporter, re-export it",
    )


def _ezc3d_read(path: str) -> Any:
    import ezc3d  # imported lazily: it is a heavy extension module

    try:
        return ezc3d.c3d(path, extract_forceplat_data=False)
    except (OSError, RuntimeError, ValueError, IndexError) as exc:
        detail = str(exc).replace(": iostream error", "").strip()
        if detail == "std::bad_alloc":
            # ezc3d reports a failed C++ allocation so: the process is short of memory, the file
            # may be fine. A server's worker must tell the two apart (and say which limit).
            raise MemoryError(f"{path}: not enough memory to read it") from exc
        if "ignoreBadFormatting" in detail:
            detail = "the parameter section is not standard-conforming"
        raise C3DReadError(path, f"ezc3d cannot read it: {detail}") from None


def _check_size(path: str, c3d: Any, size: int, announced: int | None) -> None:
    """Reject files shorter than the data their parameters announce.

    ezc3d silently reads what is there (and rewrites its header and POINT:FRAMES to match), so
    a cut-off upload would otherwise look like a shorter recording.
    """
    params = c3d["parameters"]
    point, analog = params["POINT"], params.get("ANALOG", {})

    def first(group: Any, name: str, default: float = 0.0) -> float:
        values = group.get(name, {}).get("value", [])
        return float(values[0]) if len(values) else default

    frames = announced if announced is not None else int(c3d["data"]["points"].shape[2])
    word = 4 if first(point, "SCALE", -1.0) < 0 else 2
    n_points = int(first(point, "USED"))
    n_analogs = int(first(analog, "USED"))
    point_rate = first(point, "RATE")
    per_frame = round(first(analog, "RATE") / point_rate) if n_analogs and point_rate > 0 else 0
    frame_bytes = word * (4 * n_points + n_analogs * per_frame)
    data_at = (max(int(first(point, "DATA_START", 1.0)), 1) - 1) * 512
    if not frame_bytes or size >= data_at + frames * frame_bytes:
        return
    held, leftover = divmod(max(size - data_at, 0), frame_bytes)
    # A file that stops exactly at a frame boundary is a writer that announced the wrong count
    # (NDI's Optotrak export does this); one that stops inside a frame was cut off.
    if leftover or held == 0:
        raise C3DReadError(
            path,
            f"truncated: its parameters announce {frames} frames but the file ({size} bytes) "
            f"stops inside frame {held + 1}; upload or copy the whole file again",
        )


# --------------------------------------------------------------------------- parameters


def _point_labels(point: Any, n_points: int) -> list[str]:
    labels: list[str] = list(point.get("LABELS", {}).get("value", []))
    k = 2
    while f"LABELS{k}" in point:  # files with more than 255 points continue in LABELS2, ...
        labels.extend(point[f"LABELS{k}"]["value"])
        k += 1
    labels = [str(lb) for lb in labels[:n_points]]
    labels.extend(f"POINT{i + 1}" for i in range(len(labels), n_points))
    return labels


def _rate(path: str, c3d: Any) -> float:
    values = c3d["parameters"]["POINT"].get("RATE", {}).get("value", [])
    rate = float(values[0]) if len(values) else float(c3d["header"]["points"]["frame_rate"])
    if not math.isfinite(rate) or rate <= 0:
        raise C3DReadError(path, f"invalid frame rate {rate} Hz (POINT:RATE must be > 0)")
    return rate


def _units(path: str, point: Any) -> str:
    values = [str(v).strip().lower() for v in point.get("UNITS", {}).get("value", [])]
    values = [v for v in values if v]
    if not values:
        raise C3DReadError(
            path, "POINT:UNITS is missing, so marker distances cannot be interpreted"
        )
    distinct = sorted(set(values))
    if len(distinct) > 1:
        raise C3DReadError(path, f"POINT:UNITS mixes units {distinct}; re-export in one unit")
    unit = _UNIT_ALIASES.get(distinct[0])
    if unit is None:
        raise C3DReadError(path, f"unsupported POINT:UNITS {distinct[0]!r} (supported: mm, cm, m)")
    return unit


def _frame_slice(path: str, frame_range: tuple[int, int] | None, n: int) -> tuple[int, int]:
    if frame_range is None:
        return 0, n
    start, stop = (int(v) for v in frame_range)
    if not 0 <= start < stop <= n:
        raise C3DReadError(
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
                names.add(strip_prefix(value).upper())
    return frozenset(names)


def _matching_labels(raw_labels: list[str]) -> list[str]:
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


def _normalise_axis(axis: str) -> str | None:
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


def _detect_vertical(lab: NDArray[np.float64], labels: list[str], point: Any) -> tuple[str, str]:
    """Find the lab axis that points up, from the data first and from metadata last.

    1. Head markers sit above foot markers (or above the other markers, or foot markers below
       them) along the vertical axis, by a clear margin, in the median frame.
    2. Otherwise a body is taller than it is wide: the axis along which the markers of a frame are
       spread the most, signed by where most coordinates lie (lab origins are on the floor).
    3. Otherwise Vicon's POINT:Y_SCREEN hint, else +Z.
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

    hint = point.get("Y_SCREEN", {}).get("value", [])
    if len(hint):
        axis = _normalise_axis(str(hint[0]))
        if axis is not None:
            return axis, "POINT:Y_SCREEN"
    return "+Z", "default"
