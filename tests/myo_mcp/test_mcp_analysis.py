"""The engine's shipped files as myo_mcp finds them without importing the engine."""

from __future__ import annotations

import myo_retarget
from myo_mcp import _analysis


def test_shipped_files_are_the_engines() -> None:
    """_analysis names the shipped markersets and the sample itself (importing myo_retarget
    loads numpy and MuJoCo); they must be the engine's."""
    assert _analysis.SHIPPED_MARKERSETS == myo_retarget.SHIPPED_MARKERSETS
    assert _analysis.sample_c3d_path().resolve() == myo_retarget.sample_c3d_path().resolve()
    for name in _analysis.SHIPPED_MARKERSETS:
        path = _analysis.shipped_markerset_path(name)
        assert (
            myo_retarget.load_markerset(name).markers
            == myo_retarget.load_markerset(str(path)).markers
        )
