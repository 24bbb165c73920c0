"""A quick description of a C3D recording, for people and assistants choosing a markerset."""

from __future__ import annotations

import os
from typing import Any

from ._c3d import read_c3d
from ._markerset import best_markerset


def inspect_c3d(
    path: str | os.PathLike[str], *, vertical_axis: str | None = None
) -> dict[str, Any]:
    """Describe a recording: labels, rate, frames, units, vertical axis, gaps, best markerset.

    Args:
        path: The C3D file.
        vertical_axis: Override the detected vertical axis.

    Returns:
        A JSON-serialisable dict; ``best_markerset`` is None when no shipped markerset fits, and
        ``markersets`` ranks every shipped one with its coverage and missing markers.

    Raises:
        C3DReadError: The file cannot be read.
    """
    rec = read_c3d(path, vertical_axis=vertical_axis)
    observed = rec.observed
    gaps = rec.gaps()
    ranking = []
    for name, match, coverage in best_markerset(rec.labels, observed):
        ranking.append(
            {
                "name": name,
                "fits": match is not None,
                "coverage": round(coverage, 3),
                "matched": match.matched if match is not None else [],
                "missing": match.missing if match is not None else [],
            }
        )
    best = next((r for r in ranking if r["fits"]), None)
    return {
        "filename": rec.filename,
        "sha256": rec.sha256,
        "frames": rec.n_frames,
        "rate_hz": rec.rate,
        "duration_s": round(rec.duration_s, 4),
        "units": rec.units,
        "vertical_axis": rec.vertical_axis,
        "vertical_axis_detected": rec.vertical_axis_detected,
        "vertical_axis_source": rec.vertical_axis_source,
        "processor": rec.processor,
        "labels": rec.labels,
        "ignored_labels": rec.ignored_labels,
        "analog_channels": rec.n_analog_channels,
        "gaps": [
            {
                "label": label,
                "missing_frames": g.missing_frames,
                "missing_pct": round(100.0 * g.missing_frames / max(1, rec.n_frames), 1),
                "gaps": g.n_gaps,
                "longest_gap": g.longest_gap,
                "gap_filled_frames": g.gap_filled_frames,
            }
            for label, g in gaps.items()
        ],
        "best_markerset": best,
        "markersets": ranking,
    }
