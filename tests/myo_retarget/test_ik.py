"""Marker kinematics and the per-frame solver."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from myo_retarget import RetargetCancelled, load_character, load_markerset
from myo_retarget._ik import IKSolver
from myo_retarget._kinematics import MarkerKinematics

from .motion_factory import known_motion


def _kinematics() -> MarkerKinematics:
    ch = load_character()
    mset = load_markerset("cmu", valid_bodies=ch.body_names)
    bodies = np.array([ch.body_id(m.body) for m in mset.markers], dtype=np.int64)
    return MarkerKinematics(ch, bodies, mset.positions)


def test_jacobian_matches_finite_differences() -> None:
    kin = _kinematics()
    q = known_motion(kin.character, 30, 100.0, seed=1)[17]
    P, J = kin.forward_with_jacobian(q)
    eps = 1e-6
    for i in range(kin.nv):
        dq = np.zeros(kin.nv)
        dq[i] = eps
        q2 = q.copy()
        mujoco.mj_integratePos(kin.model, q2, dq, 1.0)
        np.testing.assert_allclose((kin.forward(q2) - P) / eps, J[:, :, i], atol=2e-5)


def test_solver_recovers_a_pose_and_respects_limits() -> None:
    kin = _kinematics()
    truth = known_motion(kin.character, 60, 100.0, seed=2)
    targets = np.stack([kin.forward(q) for q in truth])
    solver = IKSolver(kin, np.ones(kin.n_markers))
    start = truth[0].copy()
    start[7:] = 0.0
    result = solver.solve_sequence(targets, start)
    assert result.ok.all()
    res = np.linalg.norm(result.fitted - targets, axis=2)
    assert res.max() < 1e-3
    assert np.all(result.qpos[:, 7:] >= kin.lower - 1e-9)
    assert np.all(result.qpos[:, 7:] <= kin.upper + 1e-9)
    # Warm starts keep tracking cheap.
    assert result.iterations[1:].mean() < 4


def test_missing_markers_and_unobserved_joints_hold_still() -> None:
    kin = _kinematics()
    truth = known_motion(kin.character, 40, 100.0, seed=3)
    targets = np.stack([kin.forward(q) for q in truth])
    targets[10:20, :] = np.nan  # a gap in every marker: frames are held, flagged
    solver = IKSolver(kin, np.ones(kin.n_markers))
    result = solver.solve_sequence(targets, truth[0])
    assert not result.ok[10:20].any()
    np.testing.assert_allclose(result.qpos[10:20], result.qpos[9:10].repeat(10, axis=0))
    assert result.ok[25:].all()
    mtp = kin.character.hinge_names.index("mtp_flex_r")
    assert np.abs(result.qpos[:, 7 + mtp]).max() < 1e-3  # no marker on the toes: stays neutral


def test_cancellation_and_progress() -> None:
    kin = _kinematics()
    truth = known_motion(kin.character, 100, 100.0, seed=4)
    targets = np.stack([kin.forward(q) for q in truth])
    solver = IKSolver(kin, np.ones(kin.n_markers))
    seen: list[tuple[int, int]] = []
    solver.solve_sequence(targets, truth[0], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (100, 100)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    calls = iter(range(1000))
    with pytest.raises(RetargetCancelled):
        solver.solve_sequence(targets, truth[0], should_cancel=lambda: next(calls) >= 1)
