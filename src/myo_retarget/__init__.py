"""myo_retarget: motion-capture (C3D) to MuJoCo character retargeting engine."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
