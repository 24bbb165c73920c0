"""myo_retarget: motion capture (C3D) -> MuJoCo character joint angles.

```python
from myo_retarget import retarget, RetargetOptions
motion = retarget("walk.c3d", "cmu", options=RetargetOptions(subject_height=1.8))
motion.save("walk.npz")
```
"""

from __future__ import annotations

import importlib.metadata

from ._c3d import GapStats, MarkerRecording, read_c3d, read_model_outputs, strip_prefix
from ._character import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    Character,
    CharacterInfo,
    character_catalog,
    find_character,
    load_character,
    validate_character_files,
)
from ._exceptions import (
    C3DReadError,
    CharacterError,
    MarkersetError,
    MarkersetMismatchError,
    RetargetCancelled,
    RetargetError,
)
from ._ik import IKSettings
from ._inspect import inspect_c3d
from ._markerset import (
    SHIPPED_MARKERSETS,
    MarkerDef,
    MarkerMatch,
    Markerset,
    best_markerset,
    load_markerset,
    match_markers,
    parse_markerset,
    shipped_markerset_path,
)
from ._motion import Motion
from ._retarget import RetargetOptions, retarget
from ._samples import SAMPLE_ACKNOWLEDGEMENT, sample_c3d_path

# One version for the four packages: the distribution's, from pyproject.toml.
__version__ = importlib.metadata.version("myo-mcp")

__all__ = [
    "DEFAULT_CHARACTER_ID",
    "DEFAULT_CHARACTER_VERSION",
    "SAMPLE_ACKNOWLEDGEMENT",
    "SHIPPED_MARKERSETS",
    "C3DReadError",
    "Character",
    "CharacterError",
    "CharacterInfo",
    "GapStats",
    "IKSettings",
    "MarkerDef",
    "MarkerMatch",
    "MarkerRecording",
    "Markerset",
    "MarkersetError",
    "MarkersetMismatchError",
    "Motion",
    "RetargetCancelled",
    "RetargetError",
    "RetargetOptions",
    "__version__",
    "best_markerset",
    "character_catalog",
    "find_character",
    "inspect_c3d",
    "load_character",
    "load_markerset",
    "match_markers",
    "parse_markerset",
    "read_c3d",
    "read_model_outputs",
    "retarget",
    "sample_c3d_path",
    "shipped_markerset_path",
    "strip_prefix",
    "validate_character_files",
]
