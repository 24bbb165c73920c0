"""Write synthetic C3D files for tests that need a recording with known content.

Float files are written with ezc3d. ezc3d always writes float storage, so ``storage="int16"``
uses the small writer below (Intel byte order, the layout of the C3D user guide): enough for the
reader's int16 path to be tested against known values.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import ezc3d
import numpy as np
from numpy.typing import NDArray

_UNIT_SCALE = {"mm": 1000.0, "cm": 100.0, "m": 1.0}


def world_to_lab(vertical: str) -> NDArray[np.float64]:
    """The smallest rotation taking world +Z (the engine's up) onto the lab axis ``vertical``.

    (A half turn about X for -Z.) Its transpose is what a reader applies to get back.
    """
    up = np.zeros(3)
    up["XYZ".index(vertical[1])] = 1.0 if vertical[0] == "+" else -1.0
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, up)
    cos = float(z @ up)
    if np.linalg.norm(axis) < 1e-12:
        axis, angle = np.array([1.0, 0.0, 0.0]), (0.0 if cos > 0 else np.pi)
    else:
        axis, angle = axis / np.linalg.norm(axis), np.arccos(cos)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    R: NDArray[np.float64] = np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K
    return R


def write_c3d(
    path: Path,
    labels: Sequence[str],
    positions_m: NDArray[np.float64],
    rate: float,
    *,
    units: str = "mm",
    vertical: str = "+Z",
    prefix: str = "",
    residuals: NDArray[np.float64] | None = None,
    extra_points: dict[str, NDArray[np.float64]] | None = None,
    storage: str = "float",
    first_frame: int = 1,
) -> Path:
    """Write markers given in the engine's world frame (metres, +Z up) as a C3D file.

    Args:
        path: Output file.
        labels: Marker labels (``prefix`` is prepended to each).
        positions_m: ``(frames, markers, 3)`` metres, NaN where a marker is missing (written as
            zeros with a negative residual, the C3D convention).
        rate: Frame rate, Hz.
        units: POINT:UNITS to store (``mm``, ``cm`` or ``m``).
        vertical: The lab axis that is up in the written file.
        prefix: Subject prefix such as ``"Sub01:"``.
        residuals: Optional ``(frames, markers)`` residuals; negative marks a missing sample.
        extra_points: Non-marker points to store too (e.g. ``{"LKneeAngles": (frames, 3)}``),
            written as given (no rotation or unit change) and listed in POINT:ANGLES so readers
            know they are model outputs.
        storage: ``"float"`` (ezc3d) or ``"int16"`` (scaled integers, POINT:SCALE > 0).
        first_frame: 1-based number of the first frame, stored in the header.
    """
    positions_m = np.asarray(positions_m, dtype=np.float64)
    F, M, _ = positions_m.shape
    R = world_to_lab(vertical)
    lab = np.einsum("ij,fmj->fmi", R, positions_m) * _UNIT_SCALE[units]
    missing = np.isnan(lab).any(axis=2)
    res = np.zeros((F, M)) if residuals is None else np.array(residuals, dtype=float)
    res[missing] = -1.0
    lab[missing] = 0.0
    names = [prefix + label for label in labels]
    extra = extra_points or {}
    n_points = M + len(extra)
    points = np.ones((4, n_points, F))
    points[:3, :M, :] = lab.transpose(2, 1, 0)
    for k, values in enumerate(extra.values()):
        points[:3, M + k, :] = np.asarray(values, dtype=float).T
    all_res = np.zeros((1, n_points, F))
    all_res[0, :M, :] = res.T
    if storage == "int16":
        return _write_int16(
            path, names + list(extra), points, all_res[0], rate, units, list(extra), first_frame
        )
    if storage != "float":
        raise ValueError(f"storage must be 'float' or 'int16', not {storage!r}")
    c = ezc3d.c3d()
    c["header"]["points"]["first_frame"] = first_frame - 1  # ezc3d counts from 0
    c["parameters"]["POINT"]["RATE"]["value"] = [float(rate)]
    c["parameters"]["POINT"]["LABELS"]["value"] = tuple(names + list(extra))
    c.add_parameter("POINT", "UNITS", [units])
    if extra:
        c.add_parameter("POINT", "ANGLES", list(extra))
    c["data"]["points"] = points
    c["data"]["meta_points"] = {
        "residuals": all_res,
        "camera_masks": np.zeros((7, n_points, F), dtype=bool),
    }
    c.write(str(path))
    return path


# --------------------------------------------------------------------------- int16 writer


def _record(name: str, record_id: int, body: bytes, description: str = "") -> bytes:
    """One parameter-section record: name, offset to the next record, body, description."""
    raw_name = name.encode("ascii")
    desc = description.encode("ascii")
    tail = body + bytes([len(desc)]) + desc
    return (
        struct.pack("<bb", len(raw_name), record_id)
        + raw_name
        + struct.pack("<H", 2 + len(tail))
        + tail
    )


def _param(group_id: int, name: str, kind: int, dims: Sequence[int], data: bytes) -> bytes:
    return _record(name, group_id, struct.pack("<bB", kind, len(dims)) + bytes(dims) + data)


def _strings(values: Sequence[str]) -> tuple[list[int], bytes]:
    width = max(1, *(len(v) for v in values))
    return [width, len(values)], b"".join(v.ljust(width).encode("ascii") for v in values)


def _write_int16(
    path: Path,
    labels: list[str],
    points: NDArray[np.float64],
    residuals: NDArray[np.float64],
    rate: float,
    units: str,
    angles: list[str],
    first_frame: int,
) -> Path:
    n_points, n_frames = points.shape[1], points.shape[2]
    peak = float(np.abs(points[:3]).max()) if points.size else 1.0
    scale = max(peak, 1.0) / 30000.0  # use most of the int16 range
    label_dims, label_data = _strings(labels)
    unit_dims, unit_data = _strings([units])
    groups = [_record("POINT", -1, b""), _record("ANALOG", -2, b"")]
    params = [
        _param(1, "USED", 2, [], struct.pack("<h", n_points)),
        _param(1, "FRAMES", 2, [], struct.pack("<h", n_frames)),
        _param(1, "SCALE", 4, [], struct.pack("<f", scale)),
        _param(1, "RATE", 4, [], struct.pack("<f", rate)),
        _param(1, "LABELS", -1, label_dims, label_data),
        _param(1, "UNITS", -1, unit_dims, unit_data),
        _param(2, "USED", 2, [], struct.pack("<h", 0)),
        _param(2, "RATE", 4, [], struct.pack("<f", rate)),
    ]
    if angles:
        dims, data = _strings(angles)
        params.append(_param(1, "ANGLES", -1, dims, data))
    # DATA_START goes last so its value can be filled once the section size is known.
    body = b"".join(groups + params)
    n_param_blocks = (4 + len(body) + 64) // 512 + 1
    data_start = 2 + n_param_blocks
    last = _param(1, "DATA_START", 2, [], struct.pack("<h", data_start))
    last = last[: 2 + len("DATA_START")] + struct.pack("<H", 0) + last[4 + len("DATA_START") :]
    section = bytes([1, 0x50, n_param_blocks, 84]) + body + last
    section = section.ljust(n_param_blocks * 512, b"\x00")

    header = bytearray(512)
    struct.pack_into("<BBhhhhh", header, 0, 2, 0x50, n_points, 0, first_frame, 0, 10)
    struct.pack_into("<h", header, 8, first_frame + n_frames - 1)
    struct.pack_into("<f", header, 12, scale)
    struct.pack_into("<hh", header, 16, data_start, 0)
    struct.pack_into("<f", header, 20, rate)

    words = np.zeros((n_frames, n_points, 4), dtype="<i2")
    xyz = np.round(points[:3].transpose(2, 1, 0) / scale)
    words[..., :3] = xyz.astype("<i2")
    res = residuals.T  # (frames, points)
    word4 = np.clip(np.round(np.maximum(res, 0.0) / scale), 0, 255).astype("<i2")
    word4[res < 0] = -1
    words[..., 3] = word4
    data = words.tobytes()
    Path(path).write_bytes(bytes(header) + section + data.ljust(-(-len(data) // 512) * 512, b"\0"))
    return Path(path)


# --------------------------------------------------------------------------- damaging files


def parameter_offsets(blob: bytes) -> dict[str, tuple[int, int, list[int]]]:
    """``GROUP:NAME`` -> (type, data offset, dimensions) of an intact Intel file's parameters.

    Written independently of the reader, so that tests damage files without trusting it.
    """
    start = (blob[0] - 1) * 512
    end = start + blob[start + 2] * 512
    offset = start + 4
    groups: dict[int, str] = {}
    found: list[tuple[int, str, tuple[int, int, list[int]]]] = []
    while offset + 2 <= end:
        name_len = abs(struct.unpack_from("<b", blob, offset)[0])
        record_id = struct.unpack_from("<b", blob, offset + 1)[0]
        if name_len == 0 or record_id == 0:
            break
        name = blob[offset + 2 : offset + 2 + name_len].decode("ascii").upper()
        to_next = struct.unpack_from("<h", blob, offset + 2 + name_len)[0]
        body = offset + 4 + name_len
        if record_id < 0:
            groups[-record_id] = name
        else:
            kind, n_dims = struct.unpack_from("<bB", blob, body)
            dims = list(blob[body + 2 : body + 2 + n_dims])
            found.append((record_id, name, (kind, body + 2 + n_dims, dims)))
        if to_next == 0:
            break
        offset = offset + 2 + name_len + to_next
    return {f"{groups[g]}:{n}": v for g, n, v in found}


def set_parameter(blob: bytes, name: str, value: float) -> bytes:
    """``blob`` with the first value of parameter ``name`` (``GROUP:NAME``) set to ``value``."""
    kind, at, _ = parameter_offsets(blob)[name]
    data = struct.pack("<f", value) if kind == 4 else struct.pack("<h", int(value))
    return blob[:at] + data + blob[at + len(data) :]
