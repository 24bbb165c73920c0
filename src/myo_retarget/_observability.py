"""Which joints the markers determine: a joint that no marker constrains is not a measurement.

The fit still gives such a joint a value (its temporal and posture terms hold it still), and the
pose stays physically consistent with it, but that value says nothing about the subject: the
output marks it (NaN angle, ``joint_observed`` False) instead of reporting it as data.
"""

from __future__ import annotations

from collections.abc import Iterable

import mujoco
import numpy as np
from numpy.typing import NDArray

from ._kinematics import MarkerKinematics

__all__ = [
    "MIN_LEVER_M",
    "NULL_SHARE",
    "bodies_without_markers",
    "joints_below",
    "observed_hinges",
    "topmost",
    "unmarked_bodies",
]

# A combination of a body's hinge rotations that moves the markers it carries by less than this
# per radian (1 cm/rad, 0.17 mm per degree: below typical marker noise over a few degrees) is not
# resolved by them.
MIN_LEVER_M = 0.01
# A hinge is unobserved when more than this share (squared norm) of its unit rotation lies in
# the body's unresolved motions.
NULL_SHARE = 0.5


def observed_hinges(kin: MarkerKinematics, usable: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Per frame, which hinges the markers usable in that frame determine.

    The rule follows the kinematic tree. A hinge turns its body and everything below it (its
    subtree); only markers on that subtree move with it, so only they can tell its angle, given
    the parent body's pose (which the markers on and above the parent fix). For each body with
    hinges, the motion each usable subtree marker makes per radian of each of the body's hinges
    (``axis × (marker − anchor)``, at the character's neutral pose) forms a small Jacobian; the
    rotations it leaves unresolved are its singular directions below :data:`MIN_LEVER_M`. A hinge
    is observed when less than :data:`NULL_SHARE` of its rotation lies in them. In practice:

    - one hinge (knee, elbow): at least one marker on the subtree, not on the hinge's axis;
    - two hinges (wrist, clavicle): one marker off both axes suffices (it moves on a sphere);
    - three hinges (hip, shoulder, neck, spine): one marker fixes where the segment points but not
      its spin about the line from the joint centre to the marker, so that hinge (e.g. hip
      rotation with only a knee marker) needs a second marker off that line.

    Lumbar and thoracic joints sit in series with markers above both: each counts as observed,
    their split being set by the solver's coupling term (see ``DEFAULT_COUPLED_JOINTS``).

    Args:
        kin: The markers' kinematics on the (calibrated) character.
        usable: ``(F, M)`` True where a marker's sample enters the fit (present, with weight).

    Returns:
        ``(F, J)`` booleans, one column per hinge in ``qpos`` order.
    """
    m = kin.model
    usable = np.asarray(usable, dtype=bool).reshape(-1, kin.n_markers)
    n_hinges = len(kin.hinge_joints)
    observed = np.zeros((usable.shape[0], n_hinges), dtype=bool)
    if kin.n_markers == 0 or usable.shape[0] == 0:
        return observed
    markers = kin.forward(np.asarray(m.qpos0, dtype=np.float64))
    anchors = kin.data.xanchor[kin.hinge_joints].copy()
    axes = kin.data.xaxis[kin.hinge_joints].copy()
    joint_body = m.jnt_bodyid[kin.hinge_joints]
    for body in np.unique(joint_body):
        hinges = np.flatnonzero(joint_body == body)
        carried = np.flatnonzero(kin.mask[:, hinges[0]] > 0)  # markers on the body or below
        if carried.size == 0:
            continue
        # (markers, 3, hinges): each carried marker's motion per radian of each hinge.
        motion = np.stack(
            [np.cross(axes[h], markers[carried] - anchors[h]) for h in hinges], axis=-1
        )
        # Per frame, JᵀJ of the usable markers' Jacobian: its eigenvalues are the squared
        # singular values, its eigenvectors the combinations of hinge rotations.
        n = len(hinges)
        per_marker = np.einsum("mih,mik->mhk", motion, motion).reshape(-1, n * n)
        gram = (usable[:, carried].astype(np.float64) @ per_marker).reshape(-1, n, n)
        eigenvalues, eigenvectors = np.linalg.eigh(gram)
        unresolved = eigenvalues < MIN_LEVER_M**2
        share = np.einsum("fhn,fn->fh", eigenvectors**2, unresolved.astype(np.float64))
        observed[:, hinges] = share <= NULL_SHARE
    return observed


def bodies_without_markers(model: mujoco.MjModel, marker_bodies: Iterable[int]) -> set[int]:
    """Ids of the bodies with no marker on them or on any body below them."""
    parent = model.body_parentid
    marked: set[int] = set()
    for b in {int(b) for b in marker_bodies}:
        while b > 0 and b not in marked:
            marked.add(b)
            b = int(parent[b])
    return {b for b in range(1, model.nbody) if b not in marked}


def topmost(model: mujoco.MjModel, bodies: set[int]) -> list[int]:
    """The bodies of ``bodies`` whose parent is not in it, in model order: one per subtree."""
    parent = model.body_parentid
    return sorted(b for b in bodies if int(parent[b]) not in bodies)


def unmarked_bodies(model: mujoco.MjModel, marker_bodies: Iterable[int]) -> list[int]:
    """Top body of each subtree that carries no marker (``toes_r`` for "toes_r and below")."""
    return topmost(model, bodies_without_markers(model, marker_bodies))


def joints_below(model: mujoco.MjModel, bodies: Iterable[int]) -> list[str]:
    """Names of the hinges on ``bodies`` or below them, in model order: the joints that "no
    markers on ``bodies`` or below" leaves without data."""
    parent = model.body_parentid
    tops = {int(b) for b in bodies}

    def under(b: int) -> bool:
        while b > 0:
            if b in tops:
                return True
            b = int(parent[b])
        return False

    return [
        model.joint(j).name
        for j in range(model.njnt)
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE and under(int(model.jnt_bodyid[j]))
    ]
