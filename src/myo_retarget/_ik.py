"""Marker-based inverse kinematics: damped least squares (Levenberg–Marquardt) per frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mujoco
import numpy as np
from numpy.typing import NDArray
from scipy.linalg.blas import dsyrk as _dsyrk
from scipy.linalg.lapack import dposv as _dposv

from ._exceptions import RetargetCancelled
from ._kinematics import FloatArray, MarkerKinematics

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

# Lumbar and thoracic joints act in series with no marker between them: only their sum is
# observable, so a coupling term splits the motion evenly and keeps the answer deterministic.
# Entries: (joint, joint, weight in m² per rad²).
DEFAULT_COUPLED_JOINTS: tuple[tuple[str, str, float], ...] = (
    ("lumbar_flex", "thorax_flex", 1e-2),
    ("lumbar_bend", "thorax_bend", 1e-2),
    ("lumbar_arot", "thorax_arot", 1e-2),
)


@dataclass(frozen=True)
class IKSettings:
    """Tuning of the per-frame solver.

    Attributes:
        max_iterations: Iteration cap for a warm-started frame.
        max_iterations_cold: Iteration cap for the first frame (or after a lost track).
        tolerance: Stop when the step's largest component (m or rad) falls below this.
        rel_improvement: Stop when a step lowers the objective by less than this fraction.
        temporal_weight: Pull of each hinge toward its previous-frame value (m² per rad²);
            holds unobserved joints still and breaks ties between redundant ones.
        posture_weight: Pull of each hinge toward its neutral value (m² per rad²).
        min_markers: Fewer observed markers than this and the frame is not fitted (held).
        fail_rms: A frame whose RMS marker residual exceeds this (m) is flagged as failed.
        gap_filled_weight: Factor on the weight of samples the recording marks as gap-filled
            (not measured): an interpolation across a long occlusion can run through the body.
        coupled_joints: ``(joint, joint, weight)`` pairs pulled toward equal angles (m² per rad²).
    """

    max_iterations: int = 6
    max_iterations_cold: int = 80
    tolerance: float = 2e-5
    rel_improvement: float = 1e-2
    temporal_weight: float = 1e-5
    posture_weight: float = 1e-7
    min_markers: int = 4
    fail_rms: float = 0.03
    gap_filled_weight: float = 0.0
    coupled_joints: tuple[tuple[str, str, float], ...] = field(default=DEFAULT_COUPLED_JOINTS)


@dataclass
class IKResult:
    """Per-frame output of :meth:`IKSolver.solve_sequence`.

    Attributes:
        qpos: Joint coordinates, ``(F, nq)``.
        fitted: Model marker positions, ``(F, M, 3)`` metres.
        iterations: Iterations spent per frame, ``(F,)``.
        ok: False where the frame was not fitted or its residual is too large, ``(F,)``.
    """

    qpos: FloatArray
    fitted: FloatArray
    iterations: NDArray[np.int64]
    ok: NDArray[np.bool_]


class IKSolver:
    """Fits a character's pose to observed marker positions, one frame at a time.

    Minimises ``Σ wᵢ‖pᵢ(q) − mᵢ‖²`` plus small temporal/posture/coupling regularisers, with joint
    limits enforced by projection after each step.

    Args:
        kinematics: Marker kinematics of the character.
        weights: Per-marker weight (the markerset's ``ik_weight``), shape ``(M,)``.
        settings: Solver tuning.
    """

    def __init__(
        self,
        kinematics: MarkerKinematics,
        weights: FloatArray,
        settings: IKSettings | None = None,
    ) -> None:
        self.kin = kinematics
        self.settings = settings or IKSettings()
        self.weights = np.asarray(weights, dtype=np.float64)
        s = self.settings
        nv, nh = kinematics.nv, len(kinematics.hinge_joints)
        names = kinematics.character.hinge_names
        coupling = np.zeros((nh, nh))
        for a, b, weight in s.coupled_joints:
            if a in names and b in names:
                i, j = names.index(a), names.index(b)
                coupling[[i, j], [i, j]] += weight
                coupling[[i, j], [j, i]] -= weight
        self._coupling = coupling
        reg = np.zeros((nv, nv))
        reg[6:, 6:] = np.eye(nh) * (s.temporal_weight + s.posture_weight) + coupling
        self._reg = reg
        # Keeps the root block invertible when markers barely constrain it.
        self._reg[:6, :6] += np.eye(6) * 1e-9
        self.neutral = np.asarray(kinematics.model.qpos0, dtype=np.float64).copy()
        self._neutral_h = self.neutral[7:]

    def _cost(
        self, r: FloatArray, w3: FloatArray, q: FloatArray, q_prev: FloatArray
    ) -> tuple[float, FloatArray]:
        """Objective value and the regularisers' half-gradient on the hinges."""
        s = self.settings
        h = q[7:]
        dh_prev = h - q_prev[7:]
        dh_neutral = h - self._neutral_h
        ch = self._coupling @ h
        g = s.temporal_weight * dh_prev + s.posture_weight * dh_neutral + ch
        rr = r.reshape(-1)
        cost = float(
            rr @ (w3 * rr)
            + s.temporal_weight * (dh_prev @ dh_prev)
            + s.posture_weight * (dh_neutral @ dh_neutral)
            + h @ ch
        )
        return cost, g

    def solve_frame(
        self,
        q_init: FloatArray,
        targets: FloatArray,
        q_prev: FloatArray | None = None,
        max_iterations: int | None = None,
    ) -> tuple[FloatArray, FloatArray, int]:
        """Fit one frame.

        Args:
            q_init: Starting qpos ``(nq,)``.
            targets: Observed marker positions ``(M, 3)``; NaN rows are missing.
            q_prev: Previous frame's qpos for the temporal term (defaults to ``q_init``).
            max_iterations: Iteration cap (defaults to the settings' warm-start cap).

        Returns:
            The fitted qpos, the model marker positions there, and the iterations used.
        """
        return self._solve(q_init, *self._frame_terms(targets), q_prev, max_iterations)

    def marker_weights(
        self, targets: FloatArray, gap_filled: NDArray[np.bool_] | None = None
    ) -> FloatArray:
        """Weight of each marker sample in the fit, ``targets.shape[:-1]``: 0 where missing,
        scaled by ``gap_filled_weight`` where gap-filled."""
        w: FloatArray = self.weights * np.asarray(~np.isnan(targets).any(axis=-1))
        if gap_filled is not None:
            w = np.where(gap_filled, w * self.settings.gap_filled_weight, w)
        return w

    def _frame_terms(
        self, targets: FloatArray, gap_filled: NDArray[np.bool_] | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Targets with missing rows zeroed, and the per-coordinate weights and their roots."""
        observed = np.asarray(~np.isnan(targets).any(axis=-1))
        w = self.marker_weights(targets, gap_filled)
        w3 = np.repeat(w, 3, axis=-1)
        tgt = np.where(observed[..., None], targets, 0.0)
        return tgt, w3, np.sqrt(w3), np.sqrt(w)

    def _solve(
        self,
        q_init: FloatArray,
        tgt: FloatArray,
        w3: FloatArray,
        sw3: FloatArray,
        sw_m: FloatArray,
        q_prev: FloatArray | None,
        max_iterations: int | None,
    ) -> tuple[FloatArray, FloatArray, int]:
        kin = self.kin
        m = kin.model
        nv = kin.nv
        sw = sw_m[:, None, None]
        q = np.array(q_init, dtype=np.float64)
        qp = q.copy() if q_prev is None else q_prev
        n_iter = self.settings.max_iterations if max_iterations is None else max_iterations
        tol = self.settings.tolerance
        rel = self.settings.rel_improvement
        lo, hi = kin.lower, kin.upper
        P, J = kin.forward_with_jacobian(q)
        r = P - tgt
        cost, g_reg = self._cost(r, w3, q, qp)
        mu = 1e-6
        it = 0
        while it < n_iter:
            it += 1
            Jw = (J * sw).reshape(-1, nv)
            # Upper triangle of JᵀJ (all dposv reads), in about two thirds of a matmul's time.
            H = _dsyrk(1.0, Jw.T)
            H += self._reg
            g = Jw.T @ (r.reshape(-1) * sw3)
            g[6:] += g_reg
            H.flat[:: nv + 1] += mu * (1.0 + H.flat[:: nv + 1])
            # Projected Newton: a joint resting on a limit that the gradient pushes further out
            # is held for this step, so the others move as if the limit were a wall.
            h = q[7:]
            held = ((h <= lo + 1e-9) & (g[6:] > 0)) | ((h >= hi - 1e-9) & (g[6:] < 0))
            if held.any():
                idx = 6 + np.flatnonzero(held)
                H[idx, :] = 0.0
                H[:, idx] = 0.0
                H[idx, idx] = 1.0
                g[idx] = 0.0
            _, dq, info = _dposv(H, -g, overwrite_a=True, overwrite_b=False)
            if info != 0:
                mu *= 10.0
                continue
            q_new = q.copy()
            mujoco.mj_integratePos(m, q_new, dq, 1.0)
            np.clip(q_new[7:], lo, hi, out=q_new[7:])
            # Gauss-Newton's own estimate of what this step gains: when it is a negligible
            # fraction of the objective, take the step and stop without another Jacobian.
            if -float(g @ dq) <= rel * cost or np.max(np.abs(dq)) < tol:
                P_new = kin.forward(q_new)
                cost_new, _ = self._cost(P_new - tgt, w3, q_new, qp)
                if cost_new <= cost:
                    q, P = q_new, P_new
                break
            P_new, J_new = kin.forward_with_jacobian(q_new)
            r_new = P_new - tgt
            cost_new, g_new = self._cost(r_new, w3, q_new, qp)
            if cost_new <= cost:
                q, P, J, r, g_reg, cost = q_new, P_new, J_new, r_new, g_new, cost_new
                mu = max(mu * 0.1, 1e-9)
            else:
                mu *= 10.0
                if mu > 1e6:
                    break
        return q, P, it

    def _extrapolate(self, q0: FloatArray, q1: FloatArray) -> FloatArray:
        """Constant-velocity guess for the next frame from the two previous ones."""
        m = self.kin.model
        vel = np.empty(self.kin.nv)
        mujoco.mj_differentiatePos(m, vel, 1.0, q0, q1)
        q2: FloatArray = q1.copy()
        mujoco.mj_integratePos(m, q2, vel, 1.0)
        np.clip(q2[7:], self.kin.lower, self.kin.upper, out=q2[7:])
        return q2

    def solve_sequence(
        self,
        targets: FloatArray,
        q_init: FloatArray,
        *,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        report_every: int = 32,
        gap_filled: NDArray[np.bool_] | None = None,
    ) -> IKResult:
        """Fit every frame, warm-starting each from the previous one.

        Args:
            targets: Observed marker positions ``(F, M, 3)``, NaN where missing.
            q_init: Starting pose for the first frame (e.g. from calibration).
            progress: Called with ``(frames_done, total)`` every ``report_every`` frames and at the
                end.
            should_cancel: Polled as often; returning True raises :class:`RetargetCancelled`.
            report_every: Frames between progress/cancel callbacks.
            gap_filled: ``(F, M)`` True for samples made by gap filling; their weight is scaled
                by the settings' ``gap_filled_weight``.

        Returns:
            The per-frame poses, fitted markers, iteration counts and success flags.
        """
        F = targets.shape[0]
        s = self.settings
        kin = self.kin
        qpos = np.empty((F, kin.nq))
        fitted = np.empty((F, kin.n_markers, 3))
        iters = np.zeros(F, dtype=np.int64)
        ok = np.zeros(F, dtype=bool)
        q = np.array(q_init, dtype=np.float64)
        tracking = False
        all_tgt, all_w3, all_sw3, all_sw = self._frame_terms(targets, gap_filled)
        n_obs = (all_sw > 0).sum(axis=1)
        for f in range(F):
            if should_cancel is not None and f % report_every == 0 and should_cancel():
                raise RetargetCancelled("retargeting was cancelled")
            if n_obs[f] >= s.min_markers:
                cap = s.max_iterations if tracking else s.max_iterations_cold
                q_start = q
                if tracking and f >= 2 and ok[f - 2]:
                    q_start = self._extrapolate(qpos[f - 2], q)
                q, P, it = self._solve(
                    q_start, all_tgt[f], all_w3[f], all_sw3[f], all_sw[f], q, cap
                )
                iters[f] = it
                r = P - targets[f]
                valid = all_sw[f] > 0
                rms = float(np.sqrt(np.mean(np.sum(r[valid] ** 2, axis=1))))
                ok[f] = rms <= s.fail_rms
                tracking = ok[f]
            else:
                P = kin.forward(q)
                tracking = False
            qpos[f] = q
            fitted[f] = P
            if progress is not None and (f + 1) % report_every == 0:
                progress(f + 1, F)
        fitted_frames = np.flatnonzero(n_obs >= s.min_markers)
        if len(fitted_frames) and fitted_frames[0] > 0:
            # Frames before the first fittable one hold its pose (not the cold-start guess).
            first = int(fitted_frames[0])
            qpos[:first] = qpos[first]
            fitted[:first] = fitted[first]
        if progress is not None:
            progress(F, F)
        return IKResult(qpos=qpos, fitted=fitted, iterations=iters, ok=ok)
