"""A markerset written for another skeleton (the vendor's) against ours, on one recording.

Prints both RMS marker residuals and their ratio, then per body of the other markerset: the RMS
residual with each, and where the fit with ours puts the recorded markers in our body frames
minus where the other markerset puts them (mean shift and spread, mm). A shift that a body's
markers share points at a frame-origin difference; one that differs from marker to marker, at a
proportion or at a subject's own placement. Last, each fit's segment scales.

Run by hand, e.g. with a copy of the vendor's ``cmu_markerset.xml``:
``uv run python benchmarks/bench_vendor_markerset.py /tmp/cmu_markerset.xml``
(default recording: ../shared/data/c3d/cmu_01_01.c3d; default reference markerset: ``cmu``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mujoco
import numpy as np
from numpy.typing import NDArray

from _common import SHARED_DATA, machine_line
from myo_retarget import (
    Markerset,
    Motion,
    __version__,
    load_character,
    load_markerset,
    retarget,
    scaled_character_model,
)


def _shifts(fit: Motion, markerset: Markerset) -> dict[str, NDArray[np.float64]]:
    """Marker -> where ``fit`` puts the recorded marker in the frame of the body ``markerset``
    attaches it to (mean over the measured samples), minus the markerset's position grown with
    the fit's segment scale; mm."""
    character = load_character()
    names = [n for n in fit.marker_names if n in {m.name for m in markerset.markers}]
    defs = {m.name: m for m in markerset.markers}
    bodies = np.array([character.body_id(defs[n].body) for n in names])
    scale = [fit.scale_factors.get(character.body_segment[b], 1.0) for b in bodies]
    nominal = np.array([defs[n].pos for n in names]) * np.array(scale)[:, None]
    cols = [fit.marker_names.index(n) for n in names]
    observed = np.where(fit.marker_gap_filled[..., None], np.nan, fit.marker_observed)[:, cols]
    local = np.full_like(observed, np.nan)
    model = scaled_character_model(fit)  # the fitted qpos are for the subject's size
    data = mujoco.MjData(model)
    for f in range(len(fit.qpos)):
        data.qpos[:] = fit.qpos[f]
        mujoco.mj_kinematics(model, data)
        R = data.xmat[bodies].reshape(-1, 3, 3)
        local[f] = np.einsum("mji,mj->mi", R, observed[f] - data.xpos[bodies])
    shift = (np.nanmean(local, axis=0) - nominal) * 1000.0
    return dict(zip(names, shift, strict=True))


def _body_rms(motion: Motion, markerset: Markerset) -> dict[str, float]:
    """Body -> RMS residual of its markers over the measured samples, mm."""
    body = {m.name: m.body for m in markerset.markers}
    residual = np.where(motion.marker_gap_filled, np.nan, motion.marker_residual_mm)
    out: dict[str, float] = {}
    for b in dict.fromkeys(body[n] for n in motion.marker_names):
        cols = [k for k, n in enumerate(motion.marker_names) if body[n] == b]
        out[b] = float(np.sqrt(np.nanmean(residual[:, cols] ** 2)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("markerset", help="markerset XML written for another skeleton")
    parser.add_argument(
        "recording",
        nargs="?",
        default=str(SHARED_DATA / "c3d" / "cmu_01_01.c3d"),
        help="C3D recording whose labels both markersets use (default: cmu_01_01.c3d)",
    )
    parser.add_argument("--ours", default="cmu", help="reference markerset (default: cmu)")
    args = parser.parse_args()
    print(f"# {Path(args.markerset).name} vs {args.ours} on {Path(args.recording).name}")
    print(f"{machine_line()}, myo_retarget {__version__}")
    motions: dict[str, Motion] = {}
    markersets: dict[str, Markerset] = {}
    for label, mset in (("ours", args.ours), ("theirs", args.markerset)):
        t0 = time.perf_counter()
        motions[label] = retarget(args.recording, mset)
        print(f"{label}: {mset} retargeted in {time.perf_counter() - t0:.1f} s")
        markersets[label] = load_markerset(mset)
    ours, theirs = (motions[k].summary()["rms_residual_mm"] for k in ("ours", "theirs"))
    print("\n| markerset | RMS marker residual | ratio to ours |")
    print("|---|---|---|")
    print(f"| {args.ours} (ours) | {ours:.2f} mm | 1.00 |")
    print(f"| {Path(args.markerset).name} | {theirs:.2f} mm | {theirs / ours:.2f} |")
    rms = {k: _body_rms(motions[k], markersets[k]) for k in motions}
    shifts = _shifts(motions["ours"], markersets["theirs"])
    print("\nPer body of theirs: RMS residual (mm) with each markerset, and where our markerset's")
    print("fit puts the recorded markers in our body frames minus where theirs does (mean shift")
    print("x, y, z and the spread of the markers' shifts about it, mm; x anterior, y superior,")
    print("z right). A shift shared by a body's markers (small spread) is a frame origin")
    print("difference; a large spread, a proportion or a placement difference.")
    print("\n| body | RMS ours | RMS theirs | mean shift | spread | markers (shift) |")
    print("|---|---|---|---|---|---|")
    for body, theirs_rms in rms["theirs"].items():
        names = [
            m.name for m in markersets["theirs"].markers if m.body == body and m.name in shifts
        ]
        if not names:
            continue
        vectors = np.array([shifts[n] for n in names])
        x, y, z = mean = vectors.mean(axis=0)
        spread = float(np.sqrt(np.mean(np.sum((vectors - mean) ** 2, axis=1))))
        each = " ".join(
            f"{n} ({v[0]:+.0f} {v[1]:+.0f} {v[2]:+.0f})"
            for n, v in zip(names, vectors, strict=True)
        )
        ours_rms = rms["ours"].get(body, float("nan"))
        print(
            f"| {body} | {ours_rms:.1f} | {theirs_rms:.1f} | {x:+.0f}, {y:+.0f}, {z:+.0f} |"
            f" {spread:.0f} | {each} |"
        )
    print("\n| segment scale | ours | theirs |")
    print("|---|---|---|")
    for seg, s in motions["ours"].scale_factors.items():
        print(f"| {seg} | {s:.3f} | {motions['theirs'].scale_factors[seg]:.3f} |")


if __name__ == "__main__":
    main()
