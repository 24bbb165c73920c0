"""A motion's key poses as one small PNG (front and side views), for ``show_motion`` in hosts
without MCP Apps: what a 3-D tool's viewport screenshot is to a chat.

Drawn with matplotlib from the engine's posed skeleton: each body a line to its parent, coloured
by side as in the viewer and the GLB export. Runs in a worker thread (the engine loads lazily).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from myo_retarget import Motion

#: Key poses drawn: evenly spaced over the clip, first and last frames included.
KEY_POSES = 5
#: Height and width of one pose's panel, inches (at :data:`DPI`).
PANEL_IN = 1.6
DPI = 80
#: The bodies whose origins (the hip joints) give the character's left-right axis.
HIPS = ("femur_l", "femur_r")
#: Metres of room about the pose's root in each panel (horizontal half-width, floor to top).
HALF_WIDTH_M = 0.8
TOP_M = 2.0


def _axes(pose: Any, names: list[str]) -> tuple[Any, Any]:
    """The horizontal unit vectors (lateral, forward) of the character in one pose, so each key
    pose is seen from its own front and side even if the subject turns: lateral from the left
    hip to the right one (else the world's x), forward at right angles to it."""
    import numpy as np

    lateral = np.array([1.0, 0.0, 0.0])
    if all(h in names for h in HIPS):
        across = pose[names.index(HIPS[1])] - pose[names.index(HIPS[0])]
        across[2] = 0.0
        if np.isfinite(across).all() and np.linalg.norm(across) > 1e-6:
            lateral = across / np.linalg.norm(across)
    forward = np.cross(np.array([0.0, 0.0, 1.0]), lateral)
    return lateral, forward


def contact_sheet(motion: Motion, title: str) -> bytes:
    """PNG of :data:`KEY_POSES` poses of ``motion``, front view above and side view below.

    Raises:
        CharacterError: The motion's character is not installed.
    """
    import matplotlib
    import numpy as np

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from myo_retarget._export_glb import COLOURS, side
    from myo_retarget._skeleton import posed_skeleton

    skeleton = posed_skeleton(motion)
    names = skeleton.body_names
    positions = skeleton.positions
    frames = np.unique(np.linspace(0, max(motion.n_frames - 1, 0), KEY_POSES).round().astype(int))
    fig = Figure(figsize=(PANEL_IN * len(frames), PANEL_IN * 2 + 0.4), dpi=DPI)
    fig.suptitle(title, fontsize=8)
    for col, f in enumerate(frames):
        pose = positions[f]
        root = pose[0]
        lateral, forward = _axes(pose, names)
        # Front: facing the character, its right on the left. Side: from its right, facing right.
        views = (("front", -lateral), ("side", forward))
        for row, (view, axis) in enumerate(views):
            ax = fig.add_subplot(2, len(frames), row * len(frames) + col + 1)
            across = (pose - root) @ axis
            for b, parent in enumerate(skeleton.parents):
                if parent < 0:
                    continue
                ax.plot(
                    [across[parent], across[b]],
                    [pose[parent, 2], pose[b, 2]],
                    color=COLOURS[side(names[b])][:3],
                    linewidth=2,
                    solid_capstyle="round",
                )
            ax.axhline(0.0, color="0.6", linewidth=0.8)
            ax.set_xlim(-HALF_WIDTH_M, HALF_WIDTH_M)
            ax.set_ylim(-0.05, TOP_M)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{motion.time_s[f] - motion.time_s[0]:.2f} s", fontsize=7)
            if col == 0:
                ax.set_ylabel(view, fontsize=7)
    fig.subplots_adjust(left=0.03, right=0.99, bottom=0.02, top=0.86, wspace=0.05, hspace=0.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
