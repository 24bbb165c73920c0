"""Export a motion to the files other tools read: the format registry and ``export_motion``.

Each format names the private module and function that write it, imported on first use (the
Parquet writer needs pyarrow, an optional extra). A writer is called as
``writer(motion, path, **options)`` and writes ``path`` atomically (``_files.atomic_write``).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import ExportError
from ._motion import Motion

__all__ = ["EXPORT_EXTRA_HINT", "EXPORT_FORMATS", "TEXT_NUMBER", "export_formats", "export_motion"]

#: How to install the writers' optional libraries (pyarrow, pygltflib), for the error that says
#: one is missing.
EXPORT_EXTRA_HINT = "pip install 'myo-mcp[export]' (or uv sync --extra export)"
#: How the text formats (mot, csv) write a number: ten significant digits, far below the noise
#: of a degree or a millimetre.
TEXT_NUMBER = "{:.10g}"


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its file extensions and the writer that produces it."""

    extensions: tuple[str, ...]
    module: str
    function: str


#: Format name -> its extensions and writer (a private module of this package).
EXPORT_FORMATS: dict[str, ExportFormat] = {
    "mot": ExportFormat((".mot",), "_export_mot", "write_mot"),
    "csv": ExportFormat((".csv",), "_export_tables", "write_csv"),
    "parquet": ExportFormat((".parquet",), "_export_tables", "write_parquet"),
    "glb": ExportFormat((".glb",), "_export_glb", "write_glb"),
    "bvh": ExportFormat((".bvh",), "_export_bvh", "write_bvh"),
    # The viewer page (`myo-retarget view`): one self-contained file a browser opens offline.
    "html": ExportFormat((".html", ".htm"), "_viewer_html", "write_viewer"),
}


def export_formats() -> dict[str, ExportFormat]:
    """The formats whose writer is in this installation, by name."""
    return {
        name: fmt
        for name, fmt in EXPORT_FORMATS.items()
        if importlib.util.find_spec(f"{__package__}.{fmt.module}") is not None
    }


def _supported(formats: dict[str, ExportFormat]) -> str:
    return ", ".join(ext for fmt in formats.values() for ext in fmt.extensions)


def _format_of(path: Path, format: str | None) -> tuple[str, ExportFormat]:
    formats = export_formats()
    if format is not None:
        key = format.lower().lstrip(".")
        if key not in formats:
            raise ExportError(
                f"unknown export format {format!r}: choose one of {', '.join(formats)}"
            )
        return key, formats[key]
    suffix = path.suffix.lower()
    for name, fmt in formats.items():
        if suffix in fmt.extensions:
            return name, fmt
    what = f"extension {suffix!r}" if suffix else "no extension"
    raise ExportError(
        f"{path}: {what} names no export format; end the name with one of "
        f"{_supported(formats)} (or give the format)"
    )


def _load(source: Motion | str | os.PathLike[str]) -> Motion:
    if isinstance(source, Motion):
        return source
    try:
        return Motion.load(source)
    except (OSError, EOFError):
        raise  # a missing or unreadable file: the caller reports the OS's words
    except Exception as exc:  # numpy refuses a file that is no motion in many ways
        raise ExportError(
            f"{source}: not a motion .npz written by myo-retarget ({type(exc).__name__}: {exc})"
        ) from exc


def export_motion(
    motion: Motion | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    format: str | None = None,
    **options: Any,
) -> Path:
    """Write a motion (or the motion ``.npz`` at a path) in another format.

    Args:
        motion: A :class:`Motion`, or the path of a ``.npz`` written by ``Motion.save``.
        out_path: The file to write (replaced atomically; its directory is created).
        format: The format name (``mot``, ``csv``, ``parquet``, ...); by default the one
            ``out_path``'s extension names.
        **options: Options of the format, e.g. ``table="xpos"`` for Parquet.

    Returns:
        The path written.

    Raises:
        ExportError: For an unknown format or option, a file that is not a motion, or a
            writer whose optional dependency is missing (the message says what to install).
    """
    target = Path(out_path)
    name, fmt = _format_of(target, format)
    writer: Callable[..., None] = getattr(
        importlib.import_module(f".{fmt.module}", __package__), fmt.function
    )
    try:
        inspect.signature(writer).bind(motion, target, **options)
    except TypeError:
        accepted = list(inspect.signature(writer).parameters)[2:]
        takes = f"the options {', '.join(accepted)}" if accepted else "no options"
        raise ExportError(
            f"the {name} format takes {takes}, not {', '.join(sorted(options))}"
        ) from None
    writer(_load(motion), target, **options)
    return target
