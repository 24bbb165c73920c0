"""The engine's output: a retargeted motion, saved as a self-describing ``.npz``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._files import atomic_write
from ._markerset import listing

FloatArray = NDArray[np.float64]

# Keys written to the .npz (documented in the README).
ARRAY_KEYS = (
    "joint_angles_degrees",
    "joint_observed",
    "qpos",
    "time_s",
    "root_position",
    "root_quaternion",
    "body_positions",
    "marker_observed",
    "marker_fitted",
    "marker_residual_mm",
    "marker_gap_filled",
    "frame_ok",
    "scale_factors",
)
MIN_FITTED_MARKERS = 4
# Joints without data a one-line note (a job's message, an inspection) names before it abbreviates.
NOTE_JOINTS = 12
NAME_KEYS = ("joint_names", "qpos_names", "body_names", "marker_names", "scale_segments")


@dataclass(eq=False)
class Motion:
    """A motion on a character, frame by frame.

    Attributes:
        joint_names: Hinge joint names, ``(J,)``.
        joint_angles_degrees: Joint angles, ``(F, J)`` degrees; NaN where no marker determines
            the joint (see ``joint_observed``).
        qpos_names: Names of the ``qpos`` columns.
        qpos: MuJoCo generalized coordinates, ``(F, nq)`` (root position m, root quaternion
            w-x-y-z, hinge angles rad).
        fps: Frame rate, Hz.
        time_s: Time of each frame from the first, ``(F,)`` s.
        body_names: Body names, ``(B,)``.
        body_positions: World position of each body frame, ``(F, B, 3)`` m.
        marker_names: Names of the fitted markers, ``(M,)``.
        marker_observed: Recorded marker positions in the character's world frame, ``(F, M, 3)``
            m, NaN where missing.
        marker_fitted: The character's marker positions, ``(F, M, 3)`` m.
        marker_gap_filled: ``(F, M)`` True where the recording marks the sample as gap-filled
            rather than measured (C3D residual exactly 0); residual figures leave those out.
        joint_observed: ``(J,)`` False for a joint that no marker determines in any frame (its
            angle is NaN throughout; ``qpos`` keeps the value the fit held it at). Where True,
            NaN angles mark the frames in which the joint's markers are missing. Derived from
            the NaNs when not given (files written before the key existed: all True).
        frame_ok: False for frames whose fit failed (too few markers or a large residual).
        scale_factors: Segment name -> scale factor applied to the character.
        metadata: Everything else (character, options, engine version, source file, markerset,
            calibration, bodies without markers), JSON-serialisable.
    """

    joint_names: list[str]
    joint_angles_degrees: FloatArray
    qpos_names: list[str]
    qpos: FloatArray
    fps: float
    time_s: FloatArray
    body_names: list[str]
    body_positions: FloatArray
    marker_names: list[str]
    marker_observed: FloatArray
    marker_fitted: FloatArray
    frame_ok: NDArray[np.bool_]
    scale_factors: dict[str, float]
    metadata: dict[str, Any] = field(default_factory=dict)
    marker_gap_filled: NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros((0, 0), dtype=bool)
    )
    joint_observed: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        shape = self.marker_observed.shape[:2]
        if self.marker_gap_filled.size == 0:  # not given: nothing was gap-filled
            self.marker_gap_filled = np.zeros(shape, dtype=bool)
        elif self.marker_gap_filled.shape != shape:
            raise ValueError(
                f"marker_gap_filled has shape {self.marker_gap_filled.shape}, not {shape}"
            )
        n_joints = len(self.joint_names)
        if self.joint_observed.size == 0 and n_joints:
            self.joint_observed = np.asarray(~np.isnan(self.joint_angles_degrees).all(axis=0))
        elif self.joint_observed.shape != (n_joints,):
            raise ValueError(
                f"joint_observed has shape {self.joint_observed.shape}, not ({n_joints},)"
            )

    @property
    def n_frames(self) -> int:
        return int(self.qpos.shape[0])

    @property
    def root_position(self) -> FloatArray:
        return self.qpos[:, 0:3]

    @property
    def root_quaternion(self) -> FloatArray:
        return self.qpos[:, 3:7]

    @property
    def marker_residual_mm(self) -> FloatArray:
        """Distance between recorded and fitted markers, ``(F, M)`` mm, NaN where missing."""
        d = np.linalg.norm(self.marker_fitted - self.marker_observed, axis=2)
        return np.asarray(d * 1000.0, dtype=np.float64)

    def summary(self, worst: int = 5) -> dict[str, Any]:
        """Figures a person checks first: size, residuals, worst markers, failed frames, and the
        joints without data.

        Residual figures are over measured samples: gap-filled ones (see ``marker_gap_filled``)
        are counted in ``gap_filled_samples`` but are no measurement to fit.
        ``unobserved_joints`` have no data in any frame, ``joint_frames_without_data`` counts the
        NaN frames of the others that have some, ``unmarked_bodies`` are the top bodies of the
        subtrees that carry no marker.
        """
        res = self.marker_residual_mm
        present = ~np.isnan(res)
        gap = self.marker_gap_filled & present
        valid = present & ~gap
        # Frames with too few markers to fit are held, not fitted: they count as failed frames
        # but do not enter the residual figures.
        valid &= valid.sum(axis=1, keepdims=True) >= MIN_FITTED_MARKERS
        per_frame_max = np.where(valid.any(axis=1), np.nanmax(np.where(valid, res, -1), axis=1), 0)
        per_marker = np.full(res.shape[1], np.nan)
        seen = valid.any(axis=0)
        per_marker[seen] = np.sqrt(np.nanmean(np.where(valid, res, np.nan)[:, seen] ** 2, axis=0))
        order = [int(i) for i in np.argsort(-np.nan_to_num(per_marker, nan=-1.0))[:worst]]
        return {
            "frames": self.n_frames,
            "fps": self.fps,
            "duration_s": float(self.time_s[-1]) if self.n_frames else 0.0,
            "rms_residual_mm": float(np.sqrt(np.mean(res[valid] ** 2))) if valid.any() else None,
            "max_residual_mm": float(res[valid].max()) if valid.any() else None,
            "p95_frame_max_residual_mm": float(np.percentile(per_frame_max, 95)),
            "failed_frames": int((~self.frame_ok).sum()),
            "gap_filled_samples": int(gap.sum()),
            "unobserved_joints": self.unobserved_joints,
            "joint_frames_without_data": self.joint_frames_without_data,
            "unmarked_bodies": self.unmarked_bodies,
            "worst_markers": [
                {"marker": self.marker_names[i], "rms_mm": float(per_marker[i])}
                for i in order
                if not np.isnan(per_marker[i])
            ],
        }

    @property
    def unobserved_joints(self) -> list[str]:
        """Joints no marker determines in any frame (NaN throughout)."""
        return [
            n for n, seen in zip(self.joint_names, self.joint_observed, strict=True) if not seen
        ]

    @property
    def joint_frames_without_data(self) -> dict[str, int]:
        """Observed joints with NaN frames (their markers missing there) -> how many."""
        counts = np.isnan(self.joint_angles_degrees).sum(axis=0)
        return {
            name: int(c)
            for name, seen, c in zip(self.joint_names, self.joint_observed, counts, strict=True)
            if seen and c
        }

    @property
    def unmarked_bodies(self) -> list[str]:
        """Top body of each subtree without markers, from the metadata (empty in older files)."""
        observation = self.metadata.get("observation") or {}
        return [str(b) for b in observation.get("unmarked_bodies", [])]

    def unobserved_note(self) -> str | None:
        """One line naming the joints without data, or None when every joint has some.

        E.g. ``"no markers on femur_r or below; 6 joints left NaN: hip_flex_r, …"``.
        """
        joints = self.unobserved_joints
        partial = self.joint_frames_without_data
        parts = []
        if self.unmarked_bodies:
            parts.append(f"no markers on {', '.join(self.unmarked_bodies)} or below")
        if joints:
            parts.append(f"{_joints(len(joints))} left NaN: {listing(joints, NOTE_JOINTS)}")
        if partial:
            parts.append(
                f"{_joints(len(partial), 'other ' if joints else '')} NaN in the frames where "
                f"their markers are missing (up to {max(partial.values())} of {self.n_frames})"
            )
        return "; ".join(parts) or None

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """Every array the .npz holds, by key."""
        segs = sorted(self.scale_factors)
        return {
            "joint_angles_degrees": self.joint_angles_degrees,
            "joint_observed": self.joint_observed,
            "joint_names": np.array(self.joint_names, dtype=str),
            "qpos": self.qpos,
            "qpos_names": np.array(self.qpos_names, dtype=str),
            "fps": np.array(self.fps),
            "time_s": self.time_s,
            "root_position": self.root_position,
            "root_quaternion": self.root_quaternion,
            "body_names": np.array(self.body_names, dtype=str),
            "body_positions": self.body_positions,
            "marker_names": np.array(self.marker_names, dtype=str),
            "marker_observed": self.marker_observed,
            "marker_fitted": self.marker_fitted,
            "marker_residual_mm": self.marker_residual_mm,
            "marker_gap_filled": self.marker_gap_filled,
            "frame_ok": self.frame_ok,
            "scale_segments": np.array(segs, dtype=str),
            "scale_factors": np.array([self.scale_factors[s] for s in segs]),
            "metadata": np.array(json.dumps(self.metadata, sort_keys=True)),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the motion as an uncompressed ``.npz`` atomically (a new temporary file beside
        ``path``, never opened through a symlink; fsync; rename).

        Returns:
            The path written.
        """
        target = Path(path)
        with atomic_write(target) as fh:
            np.savez(fh, **self.to_arrays())  # type: ignore[arg-type]
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Motion:
        """Read a motion written by :meth:`save` (no pickles involved)."""
        with np.load(path, allow_pickle=False) as d:
            segs = [str(s) for s in d["scale_segments"]]
            # Files written before a key existed: derived in __post_init__.
            empty = np.zeros((0, 0), dtype=bool)
            observed = d["joint_observed"] if "joint_observed" in d.files else np.zeros(0, bool)
            return cls(
                joint_names=[str(s) for s in d["joint_names"]],
                joint_angles_degrees=d["joint_angles_degrees"],
                qpos_names=[str(s) for s in d["qpos_names"]],
                qpos=d["qpos"],
                fps=float(d["fps"]),
                time_s=d["time_s"],
                body_names=[str(s) for s in d["body_names"]],
                body_positions=d["body_positions"],
                marker_names=[str(s) for s in d["marker_names"]],
                marker_observed=d["marker_observed"],
                marker_fitted=d["marker_fitted"],
                frame_ok=d["frame_ok"],
                marker_gap_filled=d["marker_gap_filled"]
                if "marker_gap_filled" in d.files
                else empty,
                joint_observed=observed,
                scale_factors={s: float(v) for s, v in zip(segs, d["scale_factors"], strict=True)},
                metadata=json.loads(str(d["metadata"])),
            )


def _joints(n: int, kind: str = "") -> str:
    return f"{n} {kind}joint" + ("" if n == 1 else "s")
