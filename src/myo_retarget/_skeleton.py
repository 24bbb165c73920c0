"""The posed skeleton of a :class:`Motion`: what the GLB and BVH exports draw and animate."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from ._calibration import apply_scales
from ._character import DEFAULT_CHARACTER_ID, DEFAULT_CHARACTER_VERSION, load_character
from ._motion import Motion

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# The motion's Z-up world -> the Y-up of glTF and BVH: a -90 degree turn about x (w-x-y-z).
Z_UP_TO_Y_UP = np.array([np.sqrt(0.5), -np.sqrt(0.5), 0.0, 0.0])
# MuJoCo geom types the exports draw (planes and height fields are scenery, not the body).
GEOM_TYPES = {
    int(mujoco.mjtGeom.mjGEOM_SPHERE): "sphere",
    int(mujoco.mjtGeom.mjGEOM_CAPSULE): "capsule",
    int(mujoco.mjtGeom.mjGEOM_ELLIPSOID): "ellipsoid",
    int(mujoco.mjtGeom.mjGEOM_CYLINDER): "cylinder",
    int(mujoco.mjtGeom.mjGEOM_BOX): "box",
    int(mujoco.mjtGeom.mjGEOM_MESH): "mesh",
}


@dataclass(frozen=True)
class Geom:
    """One geom in its body's frame.

    Attributes:
        type: ``"sphere"``, ``"capsule"``, ``"ellipsoid"``, ``"cylinder"``, ``"box"`` or
            ``"mesh"``.
        size: MuJoCo size, ``(3,)`` m (radius; radius and half-length along z; radii;
            half-sizes), grown with the body's segment.
        pos: Position in the body frame, ``(3,)`` m.
        quat: Orientation in the body frame, ``(4,)`` w-x-y-z.
        vertices: Mesh vertices in the geom frame, ``(V, 3)`` m (empty unless ``"mesh"``).
        faces: Mesh triangles, ``(T, 3)`` vertex indices (empty unless ``"mesh"``).
    """

    type: str
    size: FloatArray
    pos: FloatArray
    quat: FloatArray
    vertices: FloatArray
    faces: IntArray


@dataclass(frozen=True)
class Skeleton:
    """A motion's character, scaled as the motion was fitted, posed frame by frame.

    World frame as the motion's (metres, +Z up). Bodies are the character's (world excluded), in
    model order, so each body's parent comes before it.

    Attributes:
        body_names: ``(B,)`` names.
        parents: ``(B,)`` index of each body's parent in ``body_names``, -1 for a root.
        offsets: ``(B, 3)`` position of each body in its parent's frame at the scaled neutral pose
            (a root's: in the world).
        rest_quats: ``(B, 4)`` w-x-y-z orientation of each body in its parent's frame at the
            neutral pose.
        positions: ``(F, B, 3)`` world position of each body per frame.
        quats: ``(F, B, 4)`` world orientation (w-x-y-z, unit) of each body per frame.
        geoms: Per body, its geoms.
    """

    body_names: list[str]
    parents: IntArray
    offsets: FloatArray
    rest_quats: FloatArray
    positions: FloatArray
    quats: FloatArray
    geoms: list[list[Geom]]


def _geom(model: mujoco.MjModel, g: int, scale: float) -> Geom:
    kind = GEOM_TYPES[int(model.geom_type[g])]
    size = np.array(model.geom_size[g], dtype=np.float64)
    if kind in ("capsule", "cylinder"):
        size[1] *= scale  # the length grows with the segment, the radius stays
    else:
        size *= scale
    vertices = np.zeros((0, 3))
    faces = np.zeros((0, 3), dtype=np.int64)
    if kind == "mesh":
        mesh = int(model.geom_dataid[g])
        v0, nv = int(model.mesh_vertadr[mesh]), int(model.mesh_vertnum[mesh])
        f0, nf = int(model.mesh_faceadr[mesh]), int(model.mesh_facenum[mesh])
        vertices = np.array(model.mesh_vert[v0 : v0 + nv], dtype=np.float64) * scale
        faces = np.array(model.mesh_face[f0 : f0 + nf], dtype=np.int64)
    return Geom(
        type=kind,
        size=size,
        pos=np.array(model.geom_pos[g], dtype=np.float64) * scale,
        quat=np.array(model.geom_quat[g], dtype=np.float64),
        vertices=vertices,
        faces=faces,
    )


def posed_skeleton(motion: Motion) -> Skeleton:
    """Load the motion's character, apply its segment scales and pose it at every frame.

    Args:
        motion: A motion from :func:`retarget` or :func:`load_motion`.

    Returns:
        The skeleton; its body positions reproduce ``motion.body_positions``.

    Raises:
        CharacterError: The motion's character (``metadata["character_id"]`` and
            ``["character_version"]``) is not installed.
    """
    character = load_character(
        str(motion.metadata.get("character_id", DEFAULT_CHARACTER_ID)),
        str(motion.metadata.get("character_version", DEFAULT_CHARACTER_VERSION)),
    )
    apply_scales(character, motion.scale_factors)
    model = character.model
    n_bodies = model.nbody - 1
    # Model ids are 1..nbody-1; world (0) becomes -1.
    parents = np.asarray(model.body_parentid[1:], dtype=np.int64) - 1
    geoms: list[list[Geom]] = [[] for _ in range(n_bodies)]
    for g in range(model.ngeom):
        body = int(model.geom_bodyid[g])
        if body == 0 or int(model.geom_type[g]) not in GEOM_TYPES:
            continue
        scale = motion.scale_factors.get(character.body_segment[body], 1.0)
        geoms[body - 1].append(_geom(model, g, scale))
    data = mujoco.MjData(model)
    positions = np.empty((motion.n_frames, n_bodies, 3))
    quats = np.empty((motion.n_frames, n_bodies, 4))
    for f in range(motion.n_frames):
        data.qpos[:] = motion.qpos[f]
        mujoco.mj_kinematics(model, data)
        positions[f] = data.xpos[1:]
        quats[f] = data.xquat[1:]
    quats /= np.linalg.norm(quats, axis=2, keepdims=True)
    return Skeleton(
        body_names=list(character.body_names),
        parents=parents,
        offsets=np.array(model.body_pos[1:], dtype=np.float64),
        rest_quats=np.array(model.body_quat[1:], dtype=np.float64),
        positions=positions,
        quats=quats,
        geoms=geoms,
    )


def quat_multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product ``a * b`` of w-x-y-z quaternions, broadcast over leading axes."""
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    out = np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )
    return np.asarray(out, dtype=np.float64)


def quat_conjugate(q: FloatArray) -> FloatArray:
    """The inverse of unit w-x-y-z quaternions."""
    return np.asarray(q * np.array([1.0, -1.0, -1.0, -1.0]), dtype=np.float64)


def quat_rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate vectors ``v`` (..., 3) by unit w-x-y-z quaternions ``q`` (..., 4)."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return np.asarray(v + w * t + np.cross(u, t), dtype=np.float64)


def local_poses(skeleton: Skeleton) -> tuple[FloatArray, FloatArray]:
    """Each body's pose in its parent's frame (a root's: in the world), per frame.

    Returns:
        Translations ``(F, B, 3)`` m and unit w-x-y-z rotations ``(F, B, 4)``.
    """
    pos, quat = skeleton.positions, skeleton.quats
    translations = pos.copy()
    rotations = quat.copy()
    child = np.flatnonzero(skeleton.parents >= 0)
    parent = skeleton.parents[child]
    inverse = quat_conjugate(quat[:, parent])
    translations[:, child] = quat_rotate(inverse, pos[:, child] - pos[:, parent])
    rotations[:, child] = quat_multiply(inverse, quat[:, child])
    rotations /= np.linalg.norm(rotations, axis=2, keepdims=True)
    return translations, rotations
