"""Subject calibration: per-segment scale factors and per-subject marker registration."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from ._character import Character
from ._ik import CancelCheck, IKSolver
from ._kinematics import FloatArray, MarkerKinematics

# Mean adult stature used as the size prior when no height is given (m).
DEFAULT_STATURE = {"male": 1.75, "female": 1.62}

# Prior strength of the registered offset toward the markerset position, as a multiple of the
# data's pull: markers placed on bony landmarks barely move, cluster/wand markers move freely.
REGISTRATION_PRIOR_FIXED = 0.1
REGISTRATION_PRIOR_MOVABLE = 0.01
# Landmarks on the pelvis, thighs and shanks define the hip and knee angles' zero: if they
# floated freely the pelvis could tilt and the knee bend with the offsets compensating.
ANCHOR_PRIOR = 2.0
ANCHOR_BODIES = ("pelvis", "femur_r", "femur_l", "tibia_r", "tibia_l")
# Pull of each segment scale toward the stature prior (m² per unit of scale, per frame).
SCALE_PRIOR = 2e-4
SCALE_BOUNDS = (0.6, 1.6)
MAX_CALIBRATION_FRAMES = 32
REGISTRATION_ROUNDS = 3


@dataclass(frozen=True)
class MarkerAttachment:
    """Where the matched markers sit on the character, as the markerset says.

    Attributes:
        names: Marker names, ``(M,)``.
        bodies: Body id of each marker, ``(M,)``.
        offsets: Position in the body frame at the character's default size, ``(M, 3)`` m.
        movable: Whether each offset may be re-registered per subject, ``(M,)``.
        weights: IK weight of each marker, ``(M,)``.
    """

    names: list[str]
    bodies: NDArray[np.int64]
    offsets: FloatArray
    movable: NDArray[np.bool_]
    weights: FloatArray


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate`.

    Attributes:
        scales: Scale factor per segment name.
        offsets: Registered marker offsets in their body frames, ``(M, 3)`` m.
        frames: Indices of the frames used.
        stature_prior: Standing height the prior assumed, m.
    """

    scales: dict[str, float]
    offsets: FloatArray
    frames: NDArray[np.int64]
    stature_prior: float


def _anchor_bodies(character: Character) -> list[int]:
    return [character.body_id(n) for n in ANCHOR_BODIES if n in character.body_names]


def apply_scales(character: Character, scales: dict[str, float]) -> None:
    """Rescale the character's model in place: each body's offset from its parent grows with the
    parent's segment (the free root keeps its position)."""
    m = character.model
    parent = m.body_parentid
    for b in range(2, m.nbody):
        seg = character.body_segment[int(parent[b])]
        m.body_pos[b] = character.nominal_body_pos[b] * scales.get(seg, 1.0)


def scaled_offsets(
    character: Character, attachment: MarkerAttachment, scales: dict[str, float]
) -> FloatArray:
    """Markerset offsets grown with their body's segment."""
    factor = np.array([scales.get(character.body_segment[int(b)], 1.0) for b in attachment.bodies])
    out: FloatArray = attachment.offsets * factor[:, None]
    return out


def choose_window(
    targets: FloatArray,
    rate: float,
    window_s: tuple[float, float] | None = None,
    n_frames: int = MAX_CALIBRATION_FRAMES,
) -> NDArray[np.int64]:
    """Frames to calibrate on.

    With a window, up to ``n_frames`` frames evenly spread over it (a static
    trial or a one-second stretch). Without one, the same number spread over the whole
    recording among its well-observed frames: varied poses pin down joint centres (the hip's
    above all) far better than one second of standing, and the fit stays fast.

    Args:
        targets: Observed markers ``(F, M, 3)`` with NaN for missing samples.
        rate: Frame rate, Hz.
        window_s: Explicit ``(start, stop)`` window in seconds from the first frame.
        n_frames: Most frames to pick (default :data:`MAX_CALIBRATION_FRAMES`).

    Returns:
        Sorted frame indices.
    """
    F = targets.shape[0]
    observed = (~np.isnan(targets).any(axis=2)).sum(axis=1)
    if window_s is not None:
        start = min(F - 1, max(0, round(window_s[0] * rate)))
        stop = min(F, max(start + 1, round(window_s[1] * rate)))
        candidates = np.arange(start, stop)
        candidates = candidates[observed[candidates] > 0]
    else:
        candidates = np.flatnonzero(observed >= max(1, int(np.ceil(0.8 * observed.max()))))
    if len(candidates) == 0:
        return np.array([int(np.argmax(observed))], dtype=np.int64)
    pick = np.linspace(0, len(candidates) - 1, min(max(1, n_frames), len(candidates)))
    return np.unique(candidates[pick.round().astype(np.int64)])


def initial_pose(kin: MarkerKinematics, targets: FloatArray) -> FloatArray:
    """Rigidly place the neutral character on one frame's markers (Kabsch), for a cold start."""
    q = np.array(kin.model.qpos0, dtype=np.float64)
    # Joints whose neutral angle is a limit (a straight elbow) start a little inside it, so the
    # first steps can bend them either way.
    margin = np.radians(10.0)
    q[7:] = np.clip(q[7:], kin.lower + margin, kin.upper - margin)
    model_pts = kin.forward(q)
    ok = ~np.isnan(targets).any(axis=1)
    if ok.sum() < 3:
        if ok.any():
            q[0:3] += np.mean(targets[ok] - model_pts[ok], axis=0)
        return q
    a, b = model_pts[ok], targets[ok]
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    U, _, Vt = np.linalg.svd((a - ca).T @ (b - cb))
    d = np.sign(np.linalg.det(Vt.T @ U.T))
    R = Vt.T @ np.diag([1.0, 1.0, d]) @ U.T
    root = q[0:3].copy()
    q[0:3] = R @ (root - ca) + cb
    # MuJoCo's own conversions (row-major 3x3, quaternion w-x-y-z).
    root_R = np.empty(9)
    mujoco.mju_quat2Mat(root_R, q[3:7])
    mujoco.mju_mat2Quat(q[3:7], (R @ root_R.reshape(3, 3)).reshape(-1))
    return q


class _ScaleProblem:
    """Marker positions as a linear function of the segment scales, for fixed joint angles.

    For fixed joint angles every body-to-child offset and marker offset only changes length with
    its segment's scale, so ``p_i = p_root + Σ_k s_k v_ik``: scales are a linear least-squares fit.
    """

    def __init__(self, character: Character, attachment: MarkerAttachment) -> None:
        m = character.model
        self.segments = character.segments
        seg_index = {s: i for i, s in enumerate(self.segments)}
        parent = m.body_parentid
        link_marker, link_body, link_parent, link_seg = [], [], [], []
        for i, b in enumerate(attachment.bodies):
            a = int(b)
            while a >= 2:
                pa = int(parent[a])
                link_marker.append(i)
                link_body.append(a)
                link_parent.append(pa)
                link_seg.append(seg_index[character.body_segment[pa]])
                a = pa
        self.link_marker = np.array(link_marker, dtype=np.int64)
        self.link_pos = character.nominal_body_pos[np.array(link_body, dtype=np.int64)]
        self.link_parent = np.array(link_parent, dtype=np.int64)
        self.link_seg = np.array(link_seg, dtype=np.int64)
        self.marker_seg = np.array(
            [seg_index[character.body_segment[int(b)]] for b in attachment.bodies], dtype=np.int64
        )
        self.bodies = attachment.bodies
        self.n_markers = len(attachment.bodies)
        K = len(self.segments)
        # One-hot maps (link -> marker, link -> segment, marker -> segment) turn the scatter into
        # one einsum.
        self._link_marker_1h = np.eye(self.n_markers)[self.link_marker]
        self._link_seg_1h = np.eye(K)[self.link_seg]
        self._marker_seg_1h = np.eye(K)[self.marker_seg]

    def design(self, R: FloatArray, offsets: FloatArray) -> FloatArray:
        """``V`` with ``V[i, :, k]`` = marker i's displacement per unit scale of segment k."""
        links = np.einsum("lij,lj->li", R[self.link_parent], self.link_pos)
        # Explicit width: with every marker on the root body there are no links at all.
        per_seg = (self._link_seg_1h[:, :, None] * links[:, None, :]).reshape(
            len(links), 3 * self._link_seg_1h.shape[1]
        )
        V: FloatArray = (
            (self._link_marker_1h.T @ per_seg).reshape(self.n_markers, -1, 3).transpose(0, 2, 1)
        )
        own = np.einsum("mij,mj->mi", R[self.bodies], offsets)
        V += own[:, :, None] * self._marker_seg_1h[:, None, :]
        return V


def calibrate(
    character: Character,
    attachment: MarkerAttachment,
    targets: FloatArray,
    rate: float,
    *,
    enable_scaling: bool = True,
    subject_gender: str = "male",
    subject_height: float | None = None,
    window_s: tuple[float, float] | None = None,
    should_cancel: CancelCheck | None = None,
    rounds: int = 3,
    n_frames: int = MAX_CALIBRATION_FRAMES,
) -> Calibration:
    """Fit the character's size and the markers' offsets to one subject.

    With scaling, segment scales start from the stature prior (``subject_height``, else the mean
    stature for ``subject_gender``) and are fitted to the calibration frames by alternating IK
    and a linear least-squares fit; marker offsets are then registered with a prior toward the
    markerset (weak for movable markers, strong otherwise). Without scaling the character keeps
    its default size and the markers their markerset offsets.

    Args:
        character: The character; its model is rescaled in place.
        attachment: The matched markers.
        targets: Observed markers ``(F, M, 3)`` in metres, NaN where missing.
        rate: Frame rate, Hz.
        enable_scaling: Fit scales and register markers.
        subject_gender: ``"male"`` or ``"female"`` (stature prior when no height is given).
        subject_height: Standing height in metres, if known.
        window_s: Calibration window in seconds; default: frames spread over the whole
            recording (see :func:`choose_window`).
        should_cancel: Polled between rounds.
        rounds: Alternations of IK and scale fitting.
        n_frames: Most calibration frames (see :func:`choose_window`).

    Returns:
        The fitted scales and offsets (already applied to ``character.model``).
    """
    frames = choose_window(targets, rate, window_s, n_frames)
    segments = character.segments
    if not enable_scaling:
        scales = dict.fromkeys(segments, 1.0)
        apply_scales(character, scales)
        return Calibration(scales, attachment.offsets.copy(), frames, character.default_height)

    stature = subject_height or DEFAULT_STATURE.get(subject_gender, DEFAULT_STATURE["male"])
    s0 = stature / character.default_height
    scales = dict.fromkeys(segments, s0)
    apply_scales(character, scales)
    offsets = scaled_offsets(character, attachment, scales)
    kin = MarkerKinematics(character, attachment.bodies, offsets)
    solver = IKSolver(kin, attachment.weights)
    problem = _ScaleProblem(character, attachment)
    calib_targets = targets[frames]
    K = len(segments)
    # Movable markers say little about segment lengths: they weigh less in the scale fit.
    fit_w = attachment.weights * np.where(attachment.movable, 0.1, 1.0)
    poses: FloatArray | None = None

    def solve_frames() -> FloatArray:
        # First round: each frame starts from the previous calibration frame (the first from a
        # rigid placement). Later rounds: from the same frame's last solution, which the small
        # change of scales or offsets barely moves.
        nonlocal poses
        cap = solver.settings.max_iterations_cold
        if poses is None:
            poses = np.empty((len(frames), kin.nq))
            q = initial_pose(kin, calib_targets[0])
            for n in range(len(frames)):
                q, _, _ = solver.solve_frame(q, calib_targets[n], q, cap)
                poses[n] = q
        else:
            for n in range(len(frames)):
                poses[n] = solver.solve_frame(poses[n], calib_targets[n], poses[n], cap)[0]
        out: FloatArray = poses.copy()
        return out

    for _ in range(rounds):
        if should_cancel is not None and should_cancel():
            from ._exceptions import RetargetCancelled

            raise RetargetCancelled("retargeting was cancelled")
        qs = solve_frames()
        # Normal equations with each frame's root position eliminated: for fixed scales the
        # best root is the weighted mean, so residuals become deviations from the means.
        normal = np.eye(K) * SCALE_PRIOR * len(frames)
        rhs = np.full(K, SCALE_PRIOR * len(frames) * s0)
        for n in range(len(frames)):
            _, R = kin.body_poses(qs[n])
            obs = ~np.isnan(calib_targets[n]).any(axis=1)
            w = fit_w[obs]
            V = problem.design(R, attachment.offsets)[obs]  # (m, 3, K), unscaled offsets
            target = calib_targets[n][obs]
            Vc = V - np.einsum("m,mik->ik", w, V) / w.sum()
            tc = target - (w @ target) / w.sum()
            normal += np.einsum("m,mik,mil->kl", w, Vc, Vc)
            rhs += np.einsum("m,mik,mi->k", w, Vc, tc)
        sol = np.linalg.solve(normal, rhs)
        new = np.clip(sol, SCALE_BOUNDS[0] * s0, SCALE_BOUNDS[1] * s0)
        scales = {seg: float(v) for seg, v in zip(segments, new, strict=True)}
        apply_scales(character, scales)
        kin.set_offsets(scaled_offsets(character, attachment, scales))

    # Per-subject registration: average each marker's observed position in its body frame and
    # blend it with the markerset position.
    nominal = scaled_offsets(character, attachment, scales)
    anchored = np.isin(attachment.bodies, _anchor_bodies(character)) & ~attachment.movable
    for _ in range(REGISTRATION_ROUNDS):
        qs = solve_frames()
        acc = np.zeros_like(nominal)
        count = np.zeros(len(nominal))
        for n in range(len(frames)):
            xpos, R = kin.body_poses(qs[n])
            obs = ~np.isnan(calib_targets[n]).any(axis=1)
            b = attachment.bodies[obs]
            local = np.einsum("mji,mj->mi", R[b], calib_targets[n][obs] - xpos[b])
            acc[obs] += local
            count[obs] += 1
        k = np.where(attachment.movable, REGISTRATION_PRIOR_MOVABLE, REGISTRATION_PRIOR_FIXED)
        k = np.where(anchored, ANCHOR_PRIOR, k)
        seen = count > 0
        registered = nominal.copy()
        registered[seen] = (acc[seen] / count[seen, None] + k[seen, None] * nominal[seen]) / (
            1.0 + k[seen, None]
        )
        kin.set_offsets(registered)
    return Calibration(scales, kin.offsets.copy(), frames, stature)
