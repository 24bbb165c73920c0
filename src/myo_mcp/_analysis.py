"""Local computations for ``inspect_c3d``, ``summarize_motion`` and ``show_motion`` (the engine,
lazily).

They run in a worker thread: numpy, MuJoCo and matplotlib load on first use, never at start-up.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from myo_retarget import Motion

DEFAULT_PLOT_JOINTS = (
    "hip_flex_r",
    "knee_flex_r",
    "ankle_flex_r",
    "hip_flex_l",
    "knee_flex_l",
    "ankle_flex_l",
)
# When the leg flexions have no data (an upper-body recording): the arm flexions.
UPPER_PLOT_JOINTS = ("shoulder_flex_r", "elbow_flex_r", "shoulder_flex_l", "elbow_flex_l")
MAX_PLOT_JOINTS = 8


def engine_data_dir() -> Path:
    """``myo_retarget/data`` without importing the engine (which loads numpy and MuJoCo)."""
    spec = importlib.util.find_spec("myo_retarget")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the myo_retarget package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


#: What each extension the engine reads is called in messages.
RECORDING_KINDS = {
    ".c3d": "a C3D recording",
    ".trc": "a TRC file",
    ".csv": "a CSV trackers table",
    ".parquet": "a parquet trackers table",
}


def recording_kind(path: Path) -> str:
    """What ``path`` is read as: ``"a CSV trackers table"``, ...; ``"a marker recording"`` for
    another extension (the engine reads it if it starts like a C3D file)."""
    return RECORDING_KINDS.get(path.suffix.lower(), "a marker recording")


class RecordingError(ValueError):
    """A file the engine cannot read as a recording (the engine's reason says why)."""


def inspect_recording(
    path: Path, mocap_scale: float | None = None, vertical_axis: str | None = None
) -> dict[str, Any]:
    """``myo_retarget.inspect_c3d`` of ``path`` (a C3D, TRC or CSV/parquet trackers table).

    Raises:
        RecordingError: The engine cannot read it (truncated, malformed, a bad cell); the
            message is the engine's reason, without the file's path.
    """
    from myo_retarget import MarkerReadError, RetargetError, inspect_c3d

    try:
        return inspect_c3d(path, mocap_scale=mocap_scale, vertical_axis=vertical_axis)
    except MarkerReadError as exc:
        raise RecordingError(exc.reason) from exc
    except RetargetError as exc:
        raise RecordingError(str(exc)) from exc


def load_motion(path: Path) -> Motion:
    """The motion in a .npz.

    Raises:
        ValueError: The file is not a motion .npz (the message says what to pass instead).
    """
    from myo_retarget import Motion

    try:
        # An open file, not the path: numpy leaks its own handle when the zip is corrupt.
        with path.open("rb") as fh:
            return Motion.load(cast(Any, fh))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"{path.name} is not a retargeted motion .npz ({exc}); pass the output of a "
            "retarget job (its output asset, or the file download_asset wrote)."
        ) from exc


def without_data(motion: Motion) -> tuple[list[str], list[str]]:
    """The top bodies of the subtrees without markers, and the joints without data besides the
    ones below those bodies (all of which have none: naming them again cost ~400 characters
    on a lower-body trial)."""
    from myo_retarget import CharacterError, load_character
    from myo_retarget._observability import joints_below

    bodies, joints = motion.unmarked_bodies, motion.unobserved_joints
    if not bodies:
        return bodies, joints
    meta = motion.metadata
    try:
        character = load_character(meta["character_id"], meta["character_version"])
        below = set(joints_below(character.model, [character.body_id(b) for b in bodies]))
    except (CharacterError, KeyError, ValueError):  # another character: name them all
        return bodies, joints
    return bodies, [j for j in joints if j not in below]


def summarize_npz(
    path: Path, joints: list[str] | None, worst: int = 5
) -> tuple[dict[str, Any], bytes]:
    """Figures of a motion .npz and a PNG plot of ``joints`` (or the leg flexions) over time.

    Raises:
        ValueError: The file is not a motion .npz, or a joint name is unknown.
    """
    import numpy as np

    motion = load_motion(path)
    names = list(motion.joint_names)
    angles = np.asarray(motion.joint_angles_degrees, dtype=float)
    has_data = np.isfinite(angles).any(axis=0)
    if joints:
        unknown = [j for j in joints if j not in names]
        if unknown:
            raise ValueError(
                f"Unknown joint(s) {unknown}; this motion's joints are: {', '.join(names)}."
            )
        requested = list(dict.fromkeys(joints))
    else:
        requested = [j for j in DEFAULT_PLOT_JOINTS if j in names]
    # A joint without data is no flat line at 0 deg: it is left out of the plot and named.
    not_plotted = [j for j in requested if not has_data[names.index(j)]]
    chosen = [j for j in requested if j not in not_plotted][:MAX_PLOT_JOINTS]
    if not joints:
        not_plotted = []
        if not chosen:
            fallback = [j for j in UPPER_PLOT_JOINTS if j in names] + names
            chosen = [j for j in dict.fromkeys(fallback) if has_data[names.index(j)]][:4]
    # By default the plotted joints only: every joint's range is ~40 lines the model rarely needs.
    selected = chosen if not joints else requested
    ranges = []
    for name in selected:
        col = angles[:, names.index(name)]
        finite = col[np.isfinite(col)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (None, None)
        ranges.append(
            {
                "joint": name,
                "min_deg": _round(lo),
                "max_deg": _round(hi),
                "range_deg": None if lo is None or hi is None else round(hi - lo, 1),
                "observed_pct": round(100.0 * finite.size / max(1, col.size), 1),
            }
        )
    summary = motion.summary(worst=worst)
    unmarked, unobserved = without_data(motion)
    figures = {
        "frames": summary["frames"],
        "fps": float(summary["fps"]),
        "duration_s": round(float(summary["duration_s"]), 3),
        "joints": ranges,
        "plotted_joints": chosen,
        "not_plotted": not_plotted,
        "unmarked_bodies": unmarked,
        "unobserved_joints": unobserved,
        "note": motion.unobserved_note(),
        "rms_residual_mm": _round(summary["rms_residual_mm"]),
        "max_residual_mm": _round(summary["max_residual_mm"]),
        "failed_frames": summary["failed_frames"],
        "gap_filled_samples": summary["gap_filled_samples"],
        "worst_markers": [
            {"marker": w["marker"], "rms_mm": round(w["rms_mm"], 1)}
            for w in summary["worst_markers"]
        ],
    }
    png = _plot(
        np.asarray(motion.time_s, dtype=float), angles, names, chosen, not_plotted, path.name
    )
    return figures, png


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _plot(
    time_s: Any,
    angles: Any,
    names: list[str],
    chosen: list[str],
    not_plotted: list[str],
    title: str,
) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.2), dpi=80)  # 512 x 256 px: a few tens of kB
    ax = fig.add_subplot(1, 1, 1)
    for name in chosen:
        # NaN frames (no markers there) stay gaps in the line.
        ax.plot(time_s, angles[:, names.index(name)], label=name, linewidth=1.2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("angle (deg)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    if chosen:
        ax.legend(fontsize=7, ncol=2, loc="best")
    if not_plotted:
        ax.text(
            0.01,
            0.02,
            "no data (no markers): " + ", ".join(not_plotted),
            transform=ax.transAxes,
            fontsize=7,
            color="firebrick",
        )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
