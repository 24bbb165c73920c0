"""myo_retarget: motion capture (C3D, TRC, CSV/parquet trackers) -> MuJoCo character joint angles.

```python
from myo_retarget import retarget, RetargetOptions
motion = retarget("walk.c3d", "cmu", options=RetargetOptions(subject_height=1.8))
motion.save("walk.npz")
```

Importing the package is cheap: each name loads its module (numpy, MuJoCo, ezc3d) on first use,
so the server and the MCP server can use its light modules (``_subject``) without the engine.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._bodies import BODY_FRAME_AXES, BodyInfo, character_bodies
    from ._c3d import GapStats, MarkerRecording, read_c3d, read_model_outputs, strip_prefix
    from ._character import (
        DEFAULT_CHARACTER_ID,
        DEFAULT_CHARACTER_VERSION,
        Character,
        CharacterInfo,
        character_catalog,
        character_from_files,
        find_character,
        load_character,
        use_character,
        validate_character_files,
    )
    from ._draft import DraftMarker, LeftOut, MarkersetDraft, draft_markerset
    from ._exceptions import (
        C3DReadError,
        CharacterError,
        ExportError,
        MarkerReadError,
        MarkersetError,
        MarkersetMismatchError,
        RetargetCancelled,
        RetargetError,
    )
    from ._export import export_formats, export_motion
    from ._formats import (
        DEFAULT_CALIBRATION_FRAMES,
        DEFAULT_MOCAP_SCALE,
        ROTATIONS,
        TRACKER_EXTENSIONS,
    )
    from ._ik import IKSettings
    from ._inspect import inspect_c3d
    from ._markerset import (
        MarkerDef,
        MarkerMatch,
        Markerset,
        anchors_root,
        best_markerset,
        load_markerset,
        match_markers,
        parse_markerset,
    )
    from ._motion import Motion
    from ._retarget import RetargetOptions, retarget
    from ._samples import SAMPLE_ACKNOWLEDGEMENT, sample_c3d_path
    from ._scaled import save_scaled_model, scaled_character_model
    from ._shipped import SHIPPED_CONVENTIONS, SHIPPED_MARKERSETS, shipped_markerset_path
    from ._subject import GENDERS, HEIGHT_RANGE_M, WEIGHT_RANGE_KG
    from ._trackers import read_markers
    from ._viewer import viewer_payload
    from ._viewer_html import viewer_html, viewer_page, write_viewer

# One version for the four packages: the distribution's, from pyproject.toml.
__version__ = importlib.metadata.version("myo-mcp")

# Public name -> the private module that defines it (imported on first access, PEP 562).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("BODY_FRAME_AXES", "BodyInfo", "character_bodies"), "_bodies"),
    **dict.fromkeys(
        ("GapStats", "MarkerRecording", "read_c3d", "read_model_outputs", "strip_prefix"), "_c3d"
    ),
    **dict.fromkeys(
        (
            "DEFAULT_CHARACTER_ID",
            "DEFAULT_CHARACTER_VERSION",
            "Character",
            "CharacterInfo",
            "character_catalog",
            "character_from_files",
            "find_character",
            "load_character",
            "use_character",
            "validate_character_files",
        ),
        "_character",
    ),
    **dict.fromkeys(
        (
            "C3DReadError",
            "CharacterError",
            "ExportError",
            "MarkerReadError",
            "MarkersetError",
            "MarkersetMismatchError",
            "RetargetCancelled",
            "RetargetError",
        ),
        "_exceptions",
    ),
    **dict.fromkeys(("DraftMarker", "LeftOut", "MarkersetDraft", "draft_markerset"), "_draft"),
    **dict.fromkeys(("export_formats", "export_motion"), "_export"),
    **dict.fromkeys(
        ("DEFAULT_CALIBRATION_FRAMES", "DEFAULT_MOCAP_SCALE", "ROTATIONS", "TRACKER_EXTENSIONS"),
        "_formats",
    ),
    "IKSettings": "_ik",
    "inspect_c3d": "_inspect",
    **dict.fromkeys(
        (
            "MarkerDef",
            "MarkerMatch",
            "Markerset",
            "anchors_root",
            "best_markerset",
            "load_markerset",
            "match_markers",
            "parse_markerset",
        ),
        "_markerset",
    ),
    "Motion": "_motion",
    "RetargetOptions": "_retarget",
    "retarget": "_retarget",
    "SAMPLE_ACKNOWLEDGEMENT": "_samples",
    "sample_c3d_path": "_samples",
    **dict.fromkeys(("save_scaled_model", "scaled_character_model"), "_scaled"),
    **dict.fromkeys(
        ("SHIPPED_CONVENTIONS", "SHIPPED_MARKERSETS", "shipped_markerset_path"), "_shipped"
    ),
    **dict.fromkeys(("GENDERS", "HEIGHT_RANGE_M", "WEIGHT_RANGE_KG"), "_subject"),
    "read_markers": "_trackers",
    "viewer_payload": "_viewer",
    **dict.fromkeys(("viewer_html", "viewer_page", "write_viewer"), "_viewer_html"),
}

__all__ = [
    "BODY_FRAME_AXES",
    "DEFAULT_CALIBRATION_FRAMES",
    "DEFAULT_CHARACTER_ID",
    "DEFAULT_CHARACTER_VERSION",
    "DEFAULT_MOCAP_SCALE",
    "GENDERS",
    "HEIGHT_RANGE_M",
    "ROTATIONS",
    "SAMPLE_ACKNOWLEDGEMENT",
    "SHIPPED_CONVENTIONS",
    "SHIPPED_MARKERSETS",
    "TRACKER_EXTENSIONS",
    "WEIGHT_RANGE_KG",
    "BodyInfo",
    "C3DReadError",
    "Character",
    "CharacterError",
    "CharacterInfo",
    "DraftMarker",
    "ExportError",
    "GapStats",
    "IKSettings",
    "LeftOut",
    "MarkerDef",
    "MarkerMatch",
    "MarkerReadError",
    "MarkerRecording",
    "Markerset",
    "MarkersetDraft",
    "MarkersetError",
    "MarkersetMismatchError",
    "Motion",
    "RetargetCancelled",
    "RetargetError",
    "RetargetOptions",
    "__version__",
    "anchors_root",
    "best_markerset",
    "character_bodies",
    "character_catalog",
    "character_from_files",
    "draft_markerset",
    "export_formats",
    "export_motion",
    "find_character",
    "inspect_c3d",
    "load_character",
    "load_markerset",
    "match_markers",
    "parse_markerset",
    "read_c3d",
    "read_markers",
    "read_model_outputs",
    "retarget",
    "sample_c3d_path",
    "save_scaled_model",
    "scaled_character_model",
    "shipped_markerset_path",
    "strip_prefix",
    "use_character",
    "validate_character_files",
    "viewer_html",
    "viewer_page",
    "viewer_payload",
    "write_viewer",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
