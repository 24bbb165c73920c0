"""Marker kinematics: marker positions and their Jacobian from MuJoCo's body kinematics."""

from __future__ import annotations

import mujoco
import numpy as np
from numpy.typing import NDArray

from ._character import Character

FloatArray = NDArray[np.float64]


class MarkerKinematics:
    """Positions and Jacobians of markers rigidly attached to a character's bodies.

    MuJoCo computes the body poses and the joint axes/anchors (``mj_kinematics``); the marker
    Jacobian is assembled from them in a few vectorised NumPy operations, which is much cheaper than
    one ``mj_jacSite`` call per marker.

    Args:
        character: The character (its model is shared, not copied).
        marker_bodies: Body id of each marker, shape ``(M,)``.
        marker_offsets: Position of each marker in its body's frame, metres, shape ``(M, 3)``.
    """

    def __init__(
        self, character: Character, marker_bodies: NDArray[np.int64], marker_offsets: FloatArray
    ) -> None:
        m = character.model
        self.character = character
        self.model = m
        self.data = mujoco.MjData(m)
        self.marker_bodies = np.asarray(marker_bodies, dtype=np.int64)
        self.offsets = np.array(marker_offsets, dtype=np.float64)
        self.n_markers = len(self.marker_bodies)
        self.nq = int(m.nq)
        self.nv = int(m.nv)
        self.hinge_joints = np.arange(1, m.njnt)
        self.hinge_qpos = m.jnt_qposadr[1:].astype(np.int64)
        self.hinge_dofs = m.jnt_dofadr[1:].astype(np.int64)
        self.lower = m.jnt_range[1:, 0].copy()
        self.upper = m.jnt_range[1:, 1].copy()
        # mask[i, k]: hinge k moves marker i (its body hangs below the hinge's body).
        parent = m.body_parentid
        ancestors: list[set[int]] = []
        for b in range(m.nbody):
            chain = set()
            while b > 0:
                chain.add(b)
                b = int(parent[b])
            ancestors.append(chain)
        joint_body = m.jnt_bodyid[1:]
        self.mask = np.array(
            [[jb in ancestors[int(mb)] for jb in joint_body] for mb in self.marker_bodies],
            dtype=np.float64,
        )
        dof_mask = np.ones((self.n_markers, self.nv))
        dof_mask[:, self.hinge_dofs] = self.mask
        self._mask3 = dof_mask[:, None, :]
        self._cdof = self.data.cdof
        self._subtree_com = self.data.subtree_com
        self._xpos = self.data.xpos
        self._xmat = self.data.xmat
        self._xanchor = self.data.xanchor
        self._xaxis = self.data.xaxis

    def set_offsets(self, offsets: FloatArray) -> None:
        """Replace the marker offsets (after calibration registers them)."""
        self.offsets = np.array(offsets, dtype=np.float64)

    def forward(self, qpos: FloatArray) -> FloatArray:
        """World positions of the markers at ``qpos``, shape ``(M, 3)``."""
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        return self._marker_positions()

    def _marker_positions(self) -> FloatArray:
        R = self._xmat[self.marker_bodies].reshape(-1, 3, 3)
        out: FloatArray = self._xpos[self.marker_bodies] + np.einsum("mij,mj->mi", R, self.offsets)
        return out

    def forward_with_jacobian(self, qpos: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Marker positions ``(M, 3)`` and their Jacobian ``(M, 3, nv)`` w.r.t. MuJoCo's qvel.

        The root columns follow MuJoCo's free-joint convention: linear velocity in the world frame,
        angular velocity in the root body's frame.
        """
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)
        P = self._marker_positions()
        # MuJoCo's motion dofs (angular a, linear l at the root's subtree centre c): the column
        # for point p is l + a x (p - c) = (l - a x c) + S(p) a, with S(p) a = a x p. One batched
        # matmul then covers every (marker, dof) pair.
        ang_t = self._cdof[:, 0:3].T
        # l - a x c = l - S(c) a, for all dofs at once
        base_t = self._cdof[:, 3:6].T - (self._subtree_com[1] @ _SKEW).reshape(3, 3) @ ang_t
        J = (P @ _SKEW).reshape(-1, 3, 3) @ ang_t
        J += base_t
        J *= self._mask3
        return P, J

    def body_poses(self, qpos: FloatArray) -> tuple[FloatArray, FloatArray]:
        """World positions ``(nbody, 3)`` and rotation matrices ``(nbody, 3, 3)`` at ``qpos``."""
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        return self._xpos.copy(), self._xmat.reshape(-1, 3, 3).copy()


# p @ _SKEW, reshaped to 3x3, is the matrix S(p) with S(p) @ a = a x p.
_SKEW = np.zeros((3, 9))
_SKEW[2, 1], _SKEW[1, 2] = 1.0, -1.0  # row 0: (0, p2, -p1)
_SKEW[2, 3], _SKEW[0, 5] = -1.0, 1.0  # row 1: (-p2, 0, p0)
_SKEW[1, 6], _SKEW[0, 7] = 1.0, -1.0  # row 2: (p1, -p0, 0)
