"""A motion as the compact, JSON-ready payload the HTML viewer draws (and the MCP App will).

The payload carries the posed skeleton's bodies (a triangle mesh each, in the body frame) with
their world poses per frame, the measured markers per frame and the model's once (each rides on
a body), and a few joint-angle curves. Frames are decimated to at most :data:`MAX_FPS`, and
further until the encoded frames fit :data:`FRAME_BYTES` per :data:`BUDGET_SECONDS` of clip, so
the page of a 30 s clip stays under 1 MB. Per-frame arrays are quantised (positions int16
millimetres about the clip's origin, unit quaternions int16) and every array is base64 of its
little-endian bytes, described by ``{"dtype", "shape", "b64"}``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._export_glb import COLOURS, MARKER_SPHERE, geom_triangles, side
from ._motion import Motion
from ._skeleton import Geom, Skeleton, posed_skeleton, quat_conjugate, quat_rotate

FloatArray = NDArray[np.float64]

#: Payload layout version; the viewer refuses another.
PAYLOAD_VERSION = 1
#: The highest frame rate the viewer is given.
MAX_FPS = 60.0
#: Encoded bytes of the per-frame arrays per BUDGET_SECONDS of clip: with the meshes and the
#: script, the page of a 30 s clip stays under 1 MB.
FRAME_BYTES = 800_000
BUDGET_SECONDS = 30.0
#: int16 sentinel of a missing sample (a NaN marker position).
MISSING = -32768
#: Quantisation steps: positions in millimetres, unit quaternion components in 1/32767.
MM_PER_M = 1000.0
QUAT_SCALE = 32767.0
#: Frames the model's markers are located on their bodies from (evenly spread over the clip).
ATTACHMENT_FRAMES = 200
#: Joint-angle curves the viewer plots: the first group with data in the motion wins (a gait's
#: hip / knee / ankle flexions, else an upper-body motion's arm joints).
CURVE_GROUPS = (
    ("hip_flex_r", "hip_flex_l", "knee_flex_r", "knee_flex_l", "ankle_flex_r", "ankle_flex_l"),
    ("shoulder_flex_r", "shoulder_flex_l", "elbow_flex_r", "elbow_flex_l"),
)

# Encoded bytes per raw byte (base64).
_B64 = 4 / 3


def _array(values: NDArray[Any], dtype: str) -> dict[str, Any]:
    """An array as ``{"dtype", "shape", "b64"}`` (little-endian bytes); floats beyond the
    dtype's range (a damaged recording's) saturate at it instead of overflowing the cast."""
    kind = np.dtype(dtype)
    if kind.kind == "f":
        limit = float(np.finfo(kind).max)
        values = np.clip(np.asarray(values, dtype=np.float64), -limit, limit)
    flat = np.ascontiguousarray(values, dtype=kind.newbyteorder("<"))
    return {
        "dtype": dtype,
        "shape": list(flat.shape),
        "b64": base64.b64encode(flat.tobytes()).decode("ascii"),
    }


def _millimetres(positions: FloatArray, origin: FloatArray) -> NDArray[np.int16]:
    """Positions (m) about ``origin`` as int16 mm, :data:`MISSING` where NaN."""
    mm = np.round((positions - origin) * MM_PER_M)
    mm = np.clip(mm, MISSING + 1, -MISSING - 1)
    return np.where(np.isnan(mm), MISSING, mm).astype(np.int16)


def curve_joints(motion: Motion) -> list[str]:
    """The joints the viewer plots: the first group of :data:`CURVE_GROUPS` with data."""
    observed = {
        name for name, seen in zip(motion.joint_names, motion.joint_observed, strict=True) if seen
    }
    for group in CURVE_GROUPS:
        present = [j for j in group if j in observed]
        if present:
            return present
    return []


def frame_stride(motion: Motion, n_bodies: int, n_curves: int) -> int:
    """Every how many frames the payload keeps one: at most :data:`MAX_FPS`, and the encoded
    frames within :data:`FRAME_BYTES` per :data:`BUDGET_SECONDS` of clip (a shorter clip gets
    the whole budget)."""
    if motion.fps <= 0 or motion.n_frames < 2:
        return 1
    raw = n_bodies * (3 + 4) * 2 + len(motion.marker_names) * 3 * 2 + n_curves * 4 + 4
    budget = FRAME_BYTES * max(1.0, motion.n_frames / motion.fps / BUDGET_SECONDS)
    # A damaged recording's absurd rate would ask for a stride beyond the clip (and an index
    # array of floats): one frame is the most any stride can keep.
    stride = min(max(1, math.ceil(motion.fps / MAX_FPS)), motion.n_frames)
    while stride < motion.n_frames and math.ceil(motion.n_frames / stride) * raw * _B64 > budget:
        stride += 1
    return stride


def marker_attachment(skeleton: Skeleton, fitted: FloatArray) -> tuple[list[int], FloatArray]:
    """The body each model marker rides on and its place there, so the payload carries the
    model's markers once rather than per frame.

    Args:
        skeleton: The posed skeleton.
        fitted: The model's markers, ``(F, M, 3)`` m (``motion.marker_fitted``).

    Returns:
        Per marker, the index of the body in which it moves least (a site of that body: not at
        all) and its mean position in that body's frame, ``(M, 3)`` m.
    """
    n_frames, n_markers = fitted.shape[:2]
    if n_markers == 0 or n_frames == 0:
        return [], np.zeros((0, 3))
    frames = np.unique(np.linspace(0, n_frames - 1, ATTACHMENT_FRAMES).astype(np.int64))
    inverse = quat_conjugate(skeleton.quats[frames])[:, None]  # (S, 1, B, 4)
    relative = fitted[frames][:, :, None] - skeleton.positions[frames][:, None]  # (S, M, B, 3)
    local = quat_rotate(inverse, relative)
    mean = np.nanmean(local, axis=0)
    spread = np.nanmax(np.linalg.norm(local - mean, axis=-1), axis=0)  # (M, B)
    body = np.nanargmin(np.nan_to_num(spread, nan=np.inf), axis=1)
    return [int(b) for b in body], np.asarray(mean[np.arange(n_markers), body])


def _body_meshes(geoms: list[list[Geom]]) -> dict[str, Any]:
    """Every body's geoms as one triangle list per body, concatenated: vertices, normals,
    indices (into the whole vertex list) and each body's first index and index count."""
    verts: list[FloatArray] = []
    normals: list[FloatArray] = []
    indices: list[NDArray[np.int64]] = []
    ranges: list[list[int]] = []
    n_verts = n_indices = 0
    for body in geoms:
        start = n_indices
        for geom in body:
            v, n, t = geom_triangles(geom)
            verts.append(v)
            normals.append(n)
            indices.append(t.ravel() + n_verts)
            n_verts += len(v)
            n_indices += t.size
        ranges.append([start, n_indices - start])
    return {
        "vertices": _array(np.concatenate(verts) if verts else np.zeros((0, 3)), "float32"),
        "normals": _array(np.concatenate(normals) if normals else np.zeros((0, 3)), "float32"),
        "indices": _array(
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64), "uint32"
        ),
        "ranges": ranges,
    }


def _marker_mesh() -> dict[str, Any]:
    v, n, t = geom_triangles(MARKER_SPHERE)
    return {
        "vertices": _array(v, "float32"),
        "normals": _array(n, "float32"),
        "indices": _array(t.ravel(), "uint32"),
    }


def viewer_payload(motion: Motion) -> dict[str, Any]:
    """The motion as the viewer's JSON-serialisable payload.

    Args:
        motion: A motion from :func:`retarget` or :meth:`Motion.load`.

    Returns:
        ``version``, ``title``, ``fps`` (of the kept frames), ``stride`` (source frames per kept
        one), ``source_fps``, ``origin`` (m; positions are int16 mm about it), ``bodies``
        (name, parent, colour), ``mesh``, ``marker_mesh``, ``time_s``, ``body_positions``
        ``(F, B, 3)``, ``body_quats`` ``(F, B, 4)`` w-x-y-z, ``markers`` (names, ``observed``
        ``(F, M, 3)``, and the model's as the ``body`` each rides on and its ``local`` position
        there, ``(M, 3)`` m: see :func:`marker_attachment`) and ``curves`` (joint names,
        ``degrees`` ``(F, K)`` float32, NaN where the joint has no data).

    Raises:
        CharacterError: The motion's character is not installed.
    """
    skeleton = posed_skeleton(motion)
    joints = curve_joints(motion)
    stride = frame_stride(motion, len(skeleton.body_names), len(joints))
    keep = np.arange(0, motion.n_frames, stride)
    positions = skeleton.positions[keep]
    finite = positions[np.isfinite(positions).all(axis=2)]
    # The clip's centre on the floor: int16 mm then reaches 32 m either way.
    origin = np.zeros(3) if finite.size == 0 else (finite.min(axis=0) + finite.max(axis=0)) / 2
    origin[2] = 0.0
    quats = np.round(skeleton.quats[keep] * QUAT_SCALE).astype(np.int16)
    column = {name: i for i, name in enumerate(motion.joint_names)}
    degrees = motion.joint_angles_degrees[keep][:, [column[j] for j in joints]]
    attached, local = marker_attachment(skeleton, motion.marker_fitted)
    return {
        "version": PAYLOAD_VERSION,
        "title": str((motion.metadata.get("source") or {}).get("filename") or "motion"),
        "fps": motion.fps / stride,
        "source_fps": motion.fps,
        "stride": stride,
        "origin": origin.tolist(),
        "bodies": [
            {"name": name, "parent": int(parent), "colour": list(COLOURS[side(name)][:3])}
            for name, parent in zip(skeleton.body_names, skeleton.parents, strict=True)
        ],
        "mesh": _body_meshes(skeleton.geoms),
        "marker_mesh": _marker_mesh(),
        "time_s": _array(motion.time_s[keep], "float32"),
        "body_positions": _array(_millimetres(positions, origin), "int16"),
        "body_quats": _array(quats, "int16"),
        "markers": {
            "names": list(motion.marker_names),
            "observed": _array(_millimetres(motion.marker_observed[keep], origin), "int16"),
            "body": attached,
            "local": _array(local, "float32"),
        },
        "curves": {"joints": joints, "degrees": _array(degrees, "float32")},
    }
