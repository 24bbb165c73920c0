"""The export tool: a motion ``.npz`` written as ``.glb``, ``.bvh``, ``.mot``, ``.csv`` or
``.parquet`` by the engine's ``export_motion``, and the helper ``retarget_motion`` writes its
``formats`` with.

The engine (numpy, MuJoCo) is imported inside the functions, never at start-up.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration.
"""

import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ListRootsResult
from pydantic import Field

from ._errors import tool_errors
from ._models import ExportedFile
from ._tooling import WRITE_LOCAL, ClientRoots, Deps, ToolDeps, ToolSpec, with_title

__all__ = [
    "OPENS_WITH",
    "READ_TOOLS",
    "WRITE_TOOLS",
    "ExportFormatName",
    "ParquetTable",
    "export_motion",
    "write_export",
]

# The engine's format names (myo_retarget.export_formats()) and Parquet tables (PARQUET_TABLES),
# spelled out so that the tool's schema lists them without loading the engine at start-up; a
# test keeps them equal to the engine's.
ExportFormatName = Literal["glb", "bvh", "mot", "csv", "parquet", "html"]
ParquetTable = Literal["qpos", "xpos"]

#: What opens each format: the one-line note of the result.
OPENS_WITH: dict[str, str] = {
    "glb": "Animated glTF 2.0: open it in Blender (File > Import > glTF 2.0), a three.js page or "
    "any glTF viewer to see the character move.",
    "bvh": "BVH skeleton animation: import it in Blender, MotionBuilder, Maya or a game engine.",
    "mot": "OpenSim motion (joint angles in degrees): File > Load Motion in OpenSim, or "
    "opensim.TimeSeriesTable.",
    "csv": "Joint angles in degrees per frame: a spreadsheet or pandas.read_csv.",
    "parquet": "Table of the motion (MuJoCo coordinates, or body positions with table='xpos'): "
    "pandas.read_parquet or pyarrow.",
    "html": "The 3-D viewer page (character, markers, joint-angle curves): open it in any web "
    "browser, offline.",
}


def _format_from(output_path: str | None, formats: dict[str, Any]) -> str:
    """The format ``output_path``'s extension names (ToolError when none does)."""
    choose = f"give format ({', '.join(formats)})"
    if output_path is None:
        raise ToolError(
            f"Say which format to write: {choose}, or an output_path ending in its extension."
        )
    suffix = Path(output_path).suffix.lower()
    for name, fmt in formats.items():
        if suffix in fmt.extensions:
            return name
    raise ToolError(f"{output_path!r}: its extension names no export format; {choose}.")


async def write_export(
    deps: ToolDeps,
    roots: ListRootsResult | None,
    source: Path,
    format: str | None,
    output_path: str | None = None,
    **options: Any,
) -> ExportedFile:
    """Write the motion ``source`` (a checked local ``.npz``) in ``format``.

    The file goes to ``output_path`` (a file, or an existing directory), by default beside
    ``source`` with the format's extension; it must lie inside the allowed directories and end
    with the format's extension, so that no other file (the ``.npz``, a ``.c3d``) is replaced.

    Raises:
        ToolError: The export was refused or failed; the message says why in the user's words.
        AccessDeniedError: The output lies outside the allowed directories.
    """
    from myo_retarget import RetargetError, export_formats
    from myo_retarget import export_motion as engine_export

    formats = export_formats()
    name = _format_from(output_path, formats) if format is None else format.lower()
    if name not in formats:
        raise ToolError(
            f"The {name} export is not available in this installation: choose one of "
            f"{', '.join(formats)}."
        )
    extension = formats[name].extensions[0]
    target = deps.local_path(output_path or str(source.with_suffix(extension)), roots)
    if target.is_dir():
        target = deps.local_path(str(target / (source.stem + extension)), roots)
    if target.suffix.lower() not in formats[name].extensions:
        raise ToolError(
            f"{str(target)!r}: a {name} export is written to a file ending in {extension} "
            f"(so that no other file is replaced); give output_path ending in {extension}."
        )
    given = {k: v for k, v in options.items() if v is not None}
    try:
        await anyio.to_thread.run_sync(partial(engine_export, source, target, name, **given))
    except RetargetError as exc:
        # ExportError (unknown option, not a motion, pyarrow or pygltflib missing) and
        # CharacterError: their messages name the file and what to install.
        raise ToolError(f"Cannot export {source.name} as {name}: {exc}") from None
    return ExportedFile(
        path=str(target), format=name, size_bytes=target.stat().st_size, note=OPENS_WITH[name]
    )


async def export_motion(
    deps: Deps,
    roots: ClientRoots,
    path: Annotated[
        str | None,
        Field(description="Local motion .npz."),
    ] = None,
    asset_id: Annotated[
        str | None,
        Field(description="Or a job's output asset (needs output_path)."),
    ] = None,
    format: Annotated[
        ExportFormatName | None,
        Field(description="Default: the one output_path's extension names."),
    ] = None,
    output_path: Annotated[
        str | None,
        Field(
            description="File with the format's extension, or a directory; default: beside "
            "the .npz."
        ),
    ] = None,
    markers: Annotated[
        bool | None,
        Field(description="glb: also draw the markers."),
    ] = None,
    table: Annotated[
        ParquetTable | None,
        Field(description="parquet: qpos (default, MuJoCo coordinates) or xpos (body positions)."),
    ] = None,
) -> ExportedFile:
    """Write a motion (.npz: path or asset_id) as glb (Blender), bvh, mot (OpenSim), csv,
    parquet or html (viewer page). Tell the user the result's note."""
    with tool_errors(deps.backend, f"export {path or asset_id}", "list_assets"):
        if (asset_id is None) == (path is None):
            raise ToolError("Give exactly one of path (a local .npz) or asset_id.")
        options = {"markers": markers, "table": table}
        if path is not None:
            source = deps.local_file(path, roots)
            return await write_export(deps, roots, source, format, output_path, **options)
        assert asset_id is not None
        if output_path is None:
            raise ToolError(
                f"Exporting asset {asset_id} needs output_path: a file ending in the format's "
                "extension, or a directory, inside the allowed directories."
            )
        deps.local_path(output_path, roots)  # refused before anything is downloaded
        client = await deps.backend.client()
        info = await client.assets.get(asset_id)
        name = Path(info.get("filename") or f"{asset_id}.npz").name
        with tempfile.TemporaryDirectory(prefix="myo-mcp-") as tmp:
            got = await client.assets.download(info, Path(tmp) / name)
            return await write_export(
                deps, roots, Path(got["path"]), format, output_path, **options
            )


#: Registered in every mode.
READ_TOOLS: tuple[ToolSpec, ...] = ()
#: Registered unless the server is read-only.
WRITE_TOOLS = (
    ToolSpec(
        export_motion,
        with_title(WRITE_LOCAL.model_copy(update={"open_world_hint": False}), "Export a motion"),
        local_files=True,
    ),
)
