"""A motion as an animated glTF 2.0 binary (``.glb``): the character's bodies, moving.

Viewers (Blender, three.js, the Khronos sample viewer) open it as is: one node per body in the
kinematic tree, the body's geoms as a triangle mesh coloured right / left / centre, and one
animation sampled at the motion's frames. glTF is Y-up in metres; the motion's Z-up world turns
into it at the root nodes.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._exceptions import ExportError
from ._export import EXPORT_EXTRA_HINT
from ._files import atomic_write
from ._motion import Motion
from ._skeleton import (
    Z_UP_TO_Y_UP,
    Geom,
    local_poses,
    posed_skeleton,
    quat_multiply,
    quat_rotate,
)

FloatArray = NDArray[np.float64]

# Base colours (linear RGBA) of the bodies by side, and of the marker spheres.
COLOURS = {
    "right": (0.80, 0.25, 0.20, 1.0),
    "left": (0.20, 0.40, 0.80, 1.0),
    "centre": (0.75, 0.68, 0.60, 1.0),
    "marker": (1.00, 0.85, 0.10, 1.0),
}
MARKER_RADIUS_M = 0.012
# Tessellation of the round primitives: segments around the axis, and per quarter meridian.
AROUND = 16
QUARTER = 4

# glTF constants (spec 3.6.2, 3.7.2.1, 3.11).
_FLOAT = 5126
_UINT = 5125
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_TRIANGLES = 4


def side(name: str) -> str:
    """``"right"``, ``"left"`` or ``"centre"`` from a body name's ``_r`` / ``_l`` suffix."""
    if name.endswith("_r"):
        return "right"
    if name.endswith("_l"):
        return "left"
    return "centre"


def _revolve(profile: list[tuple[float, float, float, float]]) -> tuple[FloatArray, ...]:
    """A surface of revolution about z from a top-to-bottom profile of (radius, z, normal
    radial, normal z) points: vertices, unit normals, triangles (counter-clockwise outside)."""
    phi = np.linspace(0.0, 2 * np.pi, AROUND, endpoint=False)
    c, s = np.cos(phi), np.sin(phi)
    verts, norms = [], []
    for rho, z, n_rho, n_z in profile:
        verts.append(np.stack([rho * c, rho * s, np.full(AROUND, z)], axis=1))
        norms.append(np.stack([n_rho * c, n_rho * s, np.full(AROUND, n_z)], axis=1))
    tris: list[tuple[int, int, int]] = []
    for i in range(len(profile) - 1):
        (ra, za, *_), (rb, zb, *_) = profile[i], profile[i + 1]
        if ra == rb and za == zb:
            continue  # a crease: the same ring with a new normal
        for k in range(AROUND):
            a, a1 = i * AROUND + k, i * AROUND + (k + 1) % AROUND
            b, b1 = a + AROUND, a1 + AROUND
            if ra > 0:
                tris.append((a, b1, a1))
            if rb > 0:
                tris.append((a, b, b1))
    normals = np.concatenate(norms)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return np.concatenate(verts), normals, np.array(tris, dtype=np.float64)


def _capsule(radius: float, half: float) -> tuple[FloatArray, ...]:
    theta = np.linspace(0.0, np.pi / 2, QUARTER + 1)
    top = [(radius * np.sin(t), half + radius * np.cos(t), np.sin(t), np.cos(t)) for t in theta]
    bottom = [(rho, -z, n_r, -n_z) for rho, z, n_r, n_z in reversed(top)]
    return _revolve(top + bottom)


def _cylinder(radius: float, half: float) -> tuple[FloatArray, ...]:
    return _revolve(
        [
            (0.0, half, 0.0, 1.0),
            (radius, half, 0.0, 1.0),
            (radius, half, 1.0, 0.0),
            (radius, -half, 1.0, 0.0),
            (radius, -half, 0.0, -1.0),
            (0.0, -half, 0.0, -1.0),
        ]
    )


def _ellipsoid(radii: FloatArray) -> tuple[FloatArray, ...]:
    verts, normals, tris = _capsule(1.0, 0.0)
    normals = normals / radii
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return verts * radii, normals, tris


def _box(half: FloatArray) -> tuple[FloatArray, ...]:
    verts: list[FloatArray] = []
    normals: list[FloatArray] = []
    tris: list[tuple[int, int, int]] = []
    for axis in range(3):
        u, v = (axis + 1) % 3, (axis + 2) % 3
        for sign in (1.0, -1.0):
            n = np.zeros(3)
            n[axis] = sign
            base = len(verts)
            for cu, cv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = np.zeros(3)
                p[axis], p[u], p[v] = sign * half[axis], cu * half[u], cv * half[v]
                verts.append(p)
                normals.append(n)
            quad = [(0, 1, 2), (0, 2, 3)] if sign > 0 else [(0, 2, 1), (0, 3, 2)]
            tris += [(base + i, base + j, base + k) for i, j, k in quad]
    return np.array(verts), np.array(normals), np.array(tris, dtype=np.float64)


def _mesh(vertices: FloatArray, faces: NDArray[np.int64]) -> tuple[FloatArray, ...]:
    """Per-vertex normals of a triangle mesh: the area-weighted mean of its faces'."""
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.where(length > 0, normals / np.where(length > 0, length, 1.0), [0.0, 0.0, 1.0])
    return vertices, normals, faces.astype(np.float64)


def geom_triangles(geom: Geom) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """A geom as a triangle mesh in its body's frame: vertices, unit normals, triangles."""
    r = geom.size
    if geom.type == "sphere":
        verts, normals, tris = _capsule(float(r[0]), 0.0)
    elif geom.type == "capsule":
        verts, normals, tris = _capsule(float(r[0]), float(r[1]))
    elif geom.type == "cylinder":
        verts, normals, tris = _cylinder(float(r[0]), float(r[1]))
    elif geom.type == "ellipsoid":
        verts, normals, tris = _ellipsoid(r)
    elif geom.type == "box":
        verts, normals, tris = _box(r)
    else:
        verts, normals, tris = _mesh(geom.vertices, geom.faces)
    verts = quat_rotate(geom.quat, verts) + geom.pos
    normals = quat_rotate(geom.quat, normals)
    return verts, normals, tris.astype(np.int64)


class _Blob:
    """The GLB's binary chunk: one buffer view and accessor per array, 4-byte aligned."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[Any] = []
        self.accessors: list[Any] = []

    def add(self, array: NDArray[Any], kind: str, *, target: int | None = None) -> int:
        import pygltflib

        flat = np.ascontiguousarray(array)
        component = _UINT if flat.dtype == np.uint32 else _FLOAT
        self.views.append(
            pygltflib.BufferView(
                buffer=0, byteOffset=len(self.data), byteLength=flat.nbytes, target=target
            )
        )
        self.data += flat.tobytes()
        self.data += b"\0" * (-len(self.data) % 4)
        rows = flat.reshape(len(flat), -1)
        bounds: dict[str, Any] = {}
        if kind != "SCALAR" or target is None:
            # POSITION and animation inputs must carry their bounds; others may.
            bounds = {"min": rows.min(axis=0).tolist(), "max": rows.max(axis=0).tolist()}
        self.accessors.append(
            pygltflib.Accessor(
                bufferView=len(self.views) - 1,
                componentType=component,
                count=len(flat),
                type=kind,
                **bounds,
            )
        )
        return len(self.accessors) - 1

    def mesh(self, verts: FloatArray, normals: FloatArray, tris: NDArray[np.int64]) -> Any:
        import pygltflib

        attributes = pygltflib.Attributes(
            POSITION=self.add(verts.astype(np.float32), "VEC3", target=_ARRAY_BUFFER),
            NORMAL=self.add(normals.astype(np.float32), "VEC3", target=_ARRAY_BUFFER),
        )
        indices = self.add(tris.astype(np.uint32).ravel(), "SCALAR", target=_ELEMENT_ARRAY_BUFFER)
        return attributes, indices


def _continuous(quats: FloatArray) -> FloatArray:
    """Flip signs so consecutive keyframes are on the same side (the short way round).

    ``quats`` is ``(F, B, 4)``. Frame by frame, a keyframe flips when it points away from the
    previous one as written. Without a loop over frames: a keyframe ends up flipped when an odd
    number of its predecessors since the last undecided step (a dot product of exactly 0 or
    NaN, which leaves the keyframe as it is) point away.
    """
    dots = np.sum(quats[1:] * quats[:-1], axis=-1)
    away = np.zeros(quats.shape[:2], dtype=bool)
    away[1:] = dots < 0
    undecided = np.ones(quats.shape[:2], dtype=bool)
    undecided[1:] = ~(dots < 0) & ~(dots > 0)
    frames = np.arange(len(quats))[:, None]
    last = np.maximum.accumulate(np.where(undecided, frames, 0), axis=0)
    count = np.cumsum(away, axis=0)
    flipped = (count - np.take_along_axis(count, last, axis=0)) % 2 == 1
    return np.asarray(np.where(flipped[..., None], -quats, quats), dtype=np.float64)


def _xyzw(quats: FloatArray) -> NDArray[np.float32]:
    """w-x-y-z -> glTF's x-y-z-w, unit in float32."""
    q = np.asarray(quats[..., [1, 2, 3, 0]], dtype=np.float32)
    return np.asarray(q / np.linalg.norm(q, axis=-1, keepdims=True), dtype=np.float32)


def _engine_version() -> str:
    try:
        return importlib.metadata.version("myo-mcp")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_glb(motion: Motion, path: Path, *, markers: bool = False) -> None:
    """Write a motion as an animated glTF 2.0 binary.

    Args:
        motion: The motion to export.
        path: The ``.glb`` to write (atomically: an existing file is replaced only when the new
            one is complete).
        markers: Also draw the recorded markers as small spheres, hidden in frames where the
            marker is missing.

    Raises:
        CharacterError: The motion's character is not installed.
        ExportError: pygltflib is not installed (the message says how to install it).
    """
    try:
        import pygltflib
    except ImportError:
        raise ExportError(
            f"{path}: writing GLB needs pygltflib, which is not installed: {EXPORT_EXTRA_HINT}"
        ) from None

    skeleton = posed_skeleton(motion)
    translations, rotations = local_poses(skeleton)
    roots = np.flatnonzero(skeleton.parents < 0)
    translations[:, roots] = quat_rotate(Z_UP_TO_Y_UP, translations[:, roots])
    rotations[:, roots] = quat_multiply(Z_UP_TO_Y_UP, rotations[:, roots])
    rotations = _continuous(rotations)

    blob = _Blob()
    materials: list[Any] = []
    material_of: dict[str, int] = {}

    def material(kind: str) -> int:
        if kind not in material_of:
            material_of[kind] = len(materials)
            materials.append(
                pygltflib.Material(
                    name=kind,
                    pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(
                        baseColorFactor=list(COLOURS[kind]), metallicFactor=0.0
                    ),
                )
            )
        return material_of[kind]

    meshes: list[Any] = []
    nodes: list[Any] = []
    time = blob.add(motion.time_s.astype(np.float32), "SCALAR")
    samplers: list[Any] = []
    channels: list[Any] = []

    def animate(node: int, path_: str, values: NDArray[np.float32], *, step: bool = False) -> None:
        kind = {"translation": "VEC3", "rotation": "VEC4", "scale": "VEC3"}[path_]
        samplers.append(
            pygltflib.AnimationSampler(
                input=time,
                output=blob.add(values, kind),
                interpolation="STEP" if step else "LINEAR",
            )
        )
        channels.append(
            pygltflib.AnimationChannel(
                sampler=len(samplers) - 1,
                target=pygltflib.AnimationChannelTarget(node=node, path=path_),
            )
        )

    trans32 = translations.astype(np.float32)
    rot32 = _xyzw(rotations)
    for b, name in enumerate(skeleton.body_names):
        node = pygltflib.Node(
            name=name,
            translation=trans32[0, b].tolist(),
            rotation=rot32[0, b].tolist(),
            children=[int(c) for c in np.flatnonzero(skeleton.parents == b)],
        )
        if skeleton.geoms[b]:
            parts = [geom_triangles(g) for g in skeleton.geoms[b]]
            starts = np.cumsum([0] + [len(v) for v, _, _ in parts[:-1]])
            attributes, indices = blob.mesh(
                np.concatenate([v for v, _, _ in parts]),
                np.concatenate([n for _, n, _ in parts]),
                np.concatenate([t + s for (_, _, t), s in zip(parts, starts, strict=True)]),
            )
            primitive = pygltflib.Primitive(
                attributes=attributes, indices=indices, material=material(side(name))
            )
            node.mesh = len(meshes)
            meshes.append(pygltflib.Mesh(name=name, primitives=[primitive]))
        nodes.append(node)
        animate(b, "translation", trans32[:, b])
        animate(b, "rotation", rot32[:, b])
    scene_nodes = [int(r) for r in roots]

    if markers and motion.marker_names:
        scene_nodes.append(_add_markers(motion, blob, nodes, meshes, material, animate))

    gltf = pygltflib.GLTF2(
        asset=pygltflib.Asset(version="2.0", generator=f"myo_retarget {_engine_version()}"),
        scene=0,
        scenes=[pygltflib.Scene(name=motion.metadata.get("character_name"), nodes=scene_nodes)],
        nodes=nodes,
        meshes=meshes,
        materials=materials,
        animations=[pygltflib.Animation(name="motion", samplers=samplers, channels=channels)],
        accessors=blob.accessors,
        bufferViews=blob.views,
        buffers=[pygltflib.Buffer(byteLength=len(blob.data))],
    )
    gltf.set_binary_blob(bytes(blob.data))
    with atomic_write(path) as file:
        for chunk in gltf.save_to_bytes():
            file.write(chunk)


def _add_markers(
    motion: Motion, blob: _Blob, nodes: list[Any], meshes: list[Any], material: Any, animate: Any
) -> int:
    """The recorded markers as spheres under one ``markers`` node; a marker missing in a frame
    keeps its last position at scale 0 (hidden), one seen throughout has no scale track.
    Returns the ``markers`` node."""
    import pygltflib

    attributes, indices = blob.mesh(*geom_triangles(MARKER_SPHERE))
    sphere = len(meshes)
    meshes.append(
        pygltflib.Mesh(
            name="marker",
            primitives=[
                pygltflib.Primitive(
                    attributes=attributes, indices=indices, material=material("marker")
                )
            ],
        )
    )
    group = pygltflib.Node(name="markers", rotation=_xyzw(Z_UP_TO_Y_UP).tolist(), children=[])
    nodes.append(group)
    group_index = len(nodes) - 1
    observed = motion.marker_observed
    for m, name in enumerate(motion.marker_names):
        seen: NDArray[np.bool_] = np.asarray(~np.isnan(observed[:, m]).any(axis=1))
        if not seen.any():
            continue  # never recorded: nothing to draw
        # Hold the last seen position through a gap (the first seen one before it).
        last = np.maximum.accumulate(np.where(seen, np.arange(len(seen)), -1))
        last[last < 0] = int(np.argmax(seen))
        positions = observed[last, m].astype(np.float32)
        scale = np.repeat(seen.astype(np.float32)[:, None], 3, axis=1).astype(np.float32)
        nodes.append(
            pygltflib.Node(
                name=name, mesh=sphere, translation=positions[0].tolist(), scale=scale[0].tolist()
            )
        )
        group.children.append(len(nodes) - 1)
        animate(len(nodes) - 1, "translation", positions)
        if not seen.all():  # a marker seen throughout needs no visibility track
            animate(len(nodes) - 1, "scale", scale, step=True)
    return group_index


#: The sphere each marker is drawn as (the GLB's marker nodes, the viewer's markers).
MARKER_SPHERE = Geom(
    type="sphere",
    size=np.array([MARKER_RADIUS_M, 0.0, 0.0]),
    pos=np.zeros(3),
    quat=np.array([1.0, 0.0, 0.0, 0.0]),
    vertices=np.zeros((0, 3)),
    faces=np.zeros((0, 3), dtype=np.int64),
)
