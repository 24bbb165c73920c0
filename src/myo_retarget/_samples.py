"""Recordings shipped with the package, for demos and first tries."""

from __future__ import annotations

from pathlib import Path

_SAMPLES = Path(__file__).parent / "data" / "samples"

SAMPLE_ACKNOWLEDGEMENT = (
    "The data used in this project was obtained from mocap.cs.cmu.edu. "
    "The database was created with funding from NSF EIA-0196217."
)


def sample_c3d_path() -> Path:
    """The shipped sample: the first 412 frames (3.4 s, 120 Hz) of CMU subject 01 trial 01.

    It carries the CMU 41-marker set, so it retargets with the shipped ``cmu`` markerset. See
    :data:`SAMPLE_ACKNOWLEDGEMENT` for the credit the CMU database asks for.
    """
    return _SAMPLES / "cmu_01_01_412.c3d"
