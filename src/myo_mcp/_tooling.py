"""What every tool module shares: the tools' dependencies (``ToolDeps``, injected as ``Deps``),
their annotations and shared parameter types, and progress reporting.

A tool is a plain async function of this package taking ``deps: Deps``: the SDK fills that
parameter with a resolver (so it stays out of the tool's input schema), and a test can call the
function directly with a ``ToolDeps`` of its own.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations (and the ``Resolve(...)`` markers in them) at registration.
"""

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context, ListRoots, Resolve
from mcp.types import CallToolResult, ListRootsResult, TextContent, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import Field

from myo_retarget._formats import ROTATIONS, TRACKER_EXTENSIONS, VERTICAL_AXES
from myo_retarget._subject import HEIGHT_RANGE_M, WEIGHT_RANGE_KG, height_problem, weight_problem

from ._backend import Backend
from ._config import McpConfig
from ._convert import TERMINAL, job_info
from ._job_watch import log_to
from ._models import JobInfo
from ._paths import RootSource, check_access, choose_roots

__all__ = [
    "DESTRUCTIVE",
    "LOCAL_FILES_NOTE",
    "PAGE",
    "READ",
    "READ_LOCAL",
    "RECORDING_FORMATS",
    "WRITE",
    "WRITE_LOCAL",
    "AssetId",
    "CalibrationWindow",
    "CharacterId",
    "ClientRoots",
    "Deps",
    "FrameRange",
    "Height",
    "JobId",
    "Limit",
    "MocapScale",
    "Offset",
    "Progress",
    "Scaling",
    "SubjectGender",
    "ToolDeps",
    "ToolSpec",
    "VerticalAxis",
    "Weight",
    "check_engine_options",
    "check_subject",
    "compact_schema",
    "compact_tool",
    "engine_options",
    "given",
    "short_result",
    "text_view",
    "with_title",
    "without_nulls",
]

#: Appended to the description of every tool that reads or writes local files.
LOCAL_FILES_NOTE = "Paths: list_allowed_directories."


@dataclass(frozen=True)
class ToolDeps:
    """What the tools work with: the backend, the settings, and the allowed-directories checks.

    Attributes:
        backend: Where the tools send their requests (the caller starts and closes it).
        config: Settings (allowed directories, read-only mode, call budget).
    """

    backend: Backend
    config: McpConfig

    def roots_and_source(self, roots: ListRootsResult | None) -> tuple[list[Path], RootSource]:
        """The allowed directories, given the client's roots (if any), and where they come from."""
        uris = [str(r.uri) for r in roots.roots] if roots is not None else None
        return choose_roots(self.config.allow_dirs, uris)

    def allowed_roots(self, roots: ListRootsResult | None) -> list[Path]:
        """The allowed directories, given the client's roots (if any)."""
        return self.roots_and_source(roots)[0]

    def local_path(self, path: str, roots: ListRootsResult | None) -> Path:
        """``path`` resolved, if inside the allowed directories (else AccessDeniedError)."""
        return check_access(path, self.allowed_roots(roots))

    def local_file(self, path: str, roots: ListRootsResult | None) -> Path:
        """Like ``local_path``, and the path must be an existing file (else FileNotFoundError)."""
        file = self.local_path(path, roots)
        if not file.is_file():
            what = "a directory, not a file" if file.is_dir() else "no such file"
            raise FileNotFoundError(f"{str(file)!r}: {what}")
        return file

    async def poll_job(
        self,
        job_id: str,
        timeout_s: float,
        progress: "Progress",
        span: tuple[float, float] = (0.0, 100.0),
    ) -> tuple[JobInfo, float]:
        """``jobs.wait`` for ``job_id`` at most ``timeout_s``, reporting progress in ``span``.

        Returns the job as last seen (finished or not) and the seconds waited.
        """
        from myosdk import JobTimeoutError

        client = await self.backend.client()
        lo, hi = span
        poll_interval = 0.25 if self.config.backend == "local" else 1.0

        async def report(raw: Mapping[str, Any]) -> None:
            job = job_info(raw)
            await progress.status(job)
            fraction = 1.0 if job.status in TERMINAL else (job.progress or 0.0)
            await progress(
                lo + (hi - lo) * fraction,
                f"job {job.status.lower()}"
                + (f" {job.progress:.0%}" if job.progress is not None else ""),
            )

        started = time.monotonic()
        try:
            last = await client.jobs.wait(job_id, poll_interval, timeout_s, on_progress=report)
        except JobTimeoutError as exc:
            last = exc.job
        return job_info(last), time.monotonic() - started


def _tool_deps(ctx: Context[Any, Any]) -> ToolDeps:
    """The dependencies of the server running the call (``MyoMCPServer.tool_deps``)."""
    deps = getattr(ctx.mcp_server, "tool_deps", None)
    if not isinstance(deps, ToolDeps):
        raise RuntimeError("myo_mcp tools run on the server build_server makes")
    return deps


def _client_roots(ctx: Context[Any, Any]) -> ListRoots | None:
    """Ask the client for its roots when it offers them (the file tools' allowed directories)."""
    caps = ctx.client_capabilities
    return ListRoots() if caps is not None and caps.roots is not None else None


Deps = Annotated[ToolDeps, Resolve(_tool_deps)]
ClientRoots = Annotated[ListRootsResult | None, Resolve(_client_roots)]


@dataclass(frozen=True)
class ToolSpec:
    """A tool function and how it is registered.

    Attributes:
        fn: The tool; its name is the tool's, its docstring the description.
        annotations: Its hints and title.
        local_files: Whether it takes local paths (its description then says where they may lie).
        meta: The tool's ``_meta`` (e.g. an MCP App's ``{"ui": {"resourceUri": ...}}``).
    """

    fn: Callable[..., Any]
    annotations: ToolAnnotations
    local_files: bool = False
    meta: dict[str, Any] | None = None


# -- annotations ---------------------------------------------------------------------------
# The destructive and idempotent hints mean something only when read_only_hint is false.
READ = ToolAnnotations(read_only_hint=True)
READ_LOCAL = ToolAnnotations(read_only_hint=True, open_world_hint=False)
# Only what differs from the protocol's defaults (not read-only, destructive, not idempotent).
WRITE = ToolAnnotations(destructive_hint=False)
WRITE_LOCAL = ToolAnnotations(destructive_hint=False, idempotent_hint=True)
DESTRUCTIVE = ToolAnnotations(idempotent_hint=True)


def with_title(annotations: ToolAnnotations, title: str) -> ToolAnnotations:
    """``annotations`` with a title."""
    return annotations.model_copy(update={"title": title})


# -- parameters shared by several tools ------------------------------------------------------------
# Ids need no description: the listing tools name where they come from.
AssetId = str
JobId = str
CharacterId = str
#: A listing's default page: the items a person asks about, within the result budget.
PAGE = 6
Limit = Annotated[int, Field(ge=1, le=100)]
Offset = Annotated[int, Field(ge=0, description="The previous page's next_offset.")]
Gender = Literal["male", "female"]
# The ranges are published in the schema but checked by the tools (check_subject), so that a
# height of 180 is answered in the user's words rather than with a schema-validation dump.
Height = Annotated[
    float | None,
    Field(
        description="Metres, e.g. 1.80.",
        json_schema_extra={"minimum": HEIGHT_RANGE_M[0], "maximum": HEIGHT_RANGE_M[1]},
    ),
]
Weight = Annotated[
    float | None,
    Field(
        description="kg.",
        json_schema_extra={"minimum": WEIGHT_RANGE_KG[0], "maximum": WEIGHT_RANGE_KG[1]},
    ),
]
SubjectGender = Annotated[Gender | None, Field(description="Default male.")]
Scaling = Annotated[bool | None, Field(description="Scale to the subject (default true).")]

#: The recordings the engine reads, as the tools' descriptions name them: ".c3d/.trc/.csv/.parquet".
RECORDING_FORMATS = "/".join(TRACKER_EXTENSIONS)
# The schema states the names and the bound; the tools check them (check_tracker_options), so
# that a wrong value is answered in the user's words before anything is uploaded.
_AxisName = Annotated[str, Field(json_schema_extra={"enum": list(VERTICAL_AXES)})]
VerticalAxis = Annotated[_AxisName | None, Field(description="Up axis; default: detected.")]
FrameRange = Annotated[
    list[int] | None,
    Field(min_length=2, max_length=2, description="[first, stop) frames to retarget."),
]
CalibrationWindow = Annotated[
    list[float] | None,
    Field(min_length=2, max_length=2, description="[start, stop) s to scale on."),
]
#: The vendor's rotation for each vertical axis it names (the others go as vertical_axis).
_ROTATION_OF = {axis: name for name, axis in ROTATIONS.items()}
_Positive = Annotated[float, Field(json_schema_extra={"exclusiveMinimum": 0})]
MocapScale = Annotated[
    _Positive | None,
    Field(description="A table's units per metre (default 1000)."),
]


def check_subject(height: float | None, weight: float | None) -> None:
    """Refuse a height or weight out of range with the engine's message (ValueError)."""
    for problem in (
        height is not None and height_problem(height),
        weight is not None and weight_problem(weight),
    ):
        if problem:
            raise ValueError(problem)


def check_engine_options(
    vertical_axis: str | None,
    mocap_scale: float | None,
    frame_range: list[int] | None = None,
    calibration_window: list[float] | None = None,
) -> None:
    """Refuse an unknown vertical axis, a scale that is not a positive number, or a frame range
    or calibration window that is no [start, stop) pair (ValueError, in the user's words)."""
    if vertical_axis is not None and vertical_axis not in VERTICAL_AXES:
        raise ValueError(
            f"unknown vertical_axis {vertical_axis!r}: use one of {', '.join(VERTICAL_AXES)}, "
            "or omit it to detect the vertical axis"
        )
    for name, pair, unit in (
        ("frame_range", frame_range, "frames, 0-based"),
        ("calibration_window", calibration_window, "seconds"),
    ):
        if pair is not None and not (
            len(pair) == 2 and all(math.isfinite(v) for v in pair) and 0 <= pair[0] < pair[1]
        ):
            raise ValueError(
                f"{name} must be [start, stop) {unit} with 0 <= start < stop, not {pair}"
            )
    if mocap_scale is not None and not (math.isfinite(mocap_scale) and mocap_scale > 0):
        raise ValueError(
            f"mocap_scale must be a number > 0, a table's units per metre (1000 for millimetres, "
            f"1 for metres), not {mocap_scale!r}"
        )


def engine_options(
    vertical_axis: str | None,
    frame_range: list[int] | None = None,
    calibration_window: list[float] | None = None,
) -> dict[str, Any]:
    """The job's fields for the engine's options: +Y and -Y as the vendor's ``rotation`` (which
    any backend takes), other axes, the frame range and the calibration window as myo-server's
    extensions."""
    rotation = _ROTATION_OF.get(vertical_axis or "")
    return given(
        rotation=rotation,
        vertical_axis=None if rotation is not None else vertical_axis,
        frame_range=frame_range,
        calibration_window=calibration_window,
    )


def given(**options: Any) -> dict[str, Any]:
    """The options a tool call set; the SDK's defaults (the default humanoid, scaling on, male)
    stand for the others."""
    return {k: v for k, v in options.items() if v is not None and v != ""}


class Progress:
    """Progress notifications of one tool call, out of 100; the value only ever increases
    (the protocol requires it), so repeats and step-backs are not sent."""

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self._ctx = ctx
        self._last = -1.0
        self._status: str | None = None

    async def status(self, job: JobInfo) -> None:
        """An info log message when ``job``'s status differs from the last one seen."""
        if job.status != self._status:
            self._status = job.status
            await log_to(self._ctx, "info", f"Job {job.job_id} is {job.status}.")

    async def __call__(self, value: float, message: str) -> None:
        if value > self._last:
            self._last = value
            await self._ctx.report_progress(value, 100.0, message)


# -- what the model reads: compact schemas and short texts ------------------------------------
# pydantic's schema keywords that repeat what the names and types already say.
_REDUNDANT = ("title",)


def _without_null(schema: dict[str, Any]) -> dict[str, Any] | None:
    """``schema`` of ``T | None`` (``anyOf`` or a type list, as compacted) as the schema of
    ``T`` (None when it is no such union)."""
    types = schema.get("type")
    if isinstance(types, list) and len(types) == 2 and "null" in types:
        (other,) = [t for t in types if t != "null"]
        return {**schema, "type": other}
    options = schema.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        (other,) = [o for o in options if o != {"type": "null"}]
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return {**other, **rest}
    return None


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """``schema`` without what costs the model tokens and tells it nothing: pydantic's ``title``
    of every property and model, ``default: null``, and ``anyOf [T, null]`` of a plain type
    written as ``type: [T, "null"]``. Property names are kept (a property may be called title).

    A property that is optional and nullable is published as an optional ``T``: a tool's
    argument may be left out (or null, still accepted). A result's schema (``output``) keeps
    names and types only: results leave nulls out (``short_result``), so nothing is required;
    descriptions and defaults are for Python readers (the tool's description covers them).
    """
    if isinstance(schema, list):
        return [compact_schema(s, output=output) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _REDUNDANT and isinstance(value, str):
            continue
        if key == "default" and (value is None or output):
            continue
        if key == "description" and output and isinstance(value, str):
            continue  # a result's fields are named for what they hold; its text says the rest
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, output=output) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, output=output)
    if isinstance(out.get("properties"), dict):
        if output:
            out.pop("description", None)
            out.pop("additionalProperties", None)  # a result's objects: pydantic's default
        required = out.get("required", [])
        optional = []
        for name, sub in out["properties"].items():
            plain = _without_null(sub) if isinstance(sub, dict) else None
            if plain is not None and (output or name not in required):
                out["properties"][name] = plain
                optional.append(name)
        if "required" in out:
            out["required"] = [r for r in required if r not in optional]
            if output or not out["required"]:
                del out["required"]
    plain = _without_null(out)
    if (
        plain is not None
        and isinstance(plain.get("type"), str)
        and not {"enum", "const"} & plain.keys()
    ):
        out = {**plain, "type": [plain["type"], "null"]}
    return out


def compact_tool(tool: MCPTool) -> MCPTool:
    """``tool`` as listed to the model: its schemas compacted (``compact_schema``); a result's
    nested models are published as objects, their fields not spelled out (``$defs`` dropped)."""
    update: dict[str, Any] = {"input_schema": compact_schema(tool.input_schema)}
    if tool.output_schema is not None:
        schema = compact_schema(tool.output_schema, output=True)
        # Nested result models are named by their fields in the result itself: published as
        # objects (and arrays of objects), not spelled out again in $defs.
        schema.pop("$defs", None)
        for name, prop in schema.get("properties", {}).items():
            if "$ref" in prop:
                schema["properties"][name] = {"type": "object"}
            elif "$ref" in prop.get("items", {}):
                schema["properties"][name] = {"type": "array", "items": {"type": "object"}}
        update["output_schema"] = schema
    return tool.model_copy(update=update)


def without_nulls(data: Any) -> Any:
    """``data`` with every null value left out of its objects (results' nullable fields are
    optional in their published schemas)."""
    if isinstance(data, dict):
        return {k: without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [without_nulls(v) for v in data]
    return data


def _scalar(value: Any) -> str:
    """One value of the text view: a string as is unless it has spaces (then JSON-quoted),
    a list of scalars comma-separated, anything else compact JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ",".join(_scalar(v) for v in value)
    if isinstance(value, int | float) or value is None:
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _pairs(data: dict[str, Any]) -> str:
    return " ".join(f"{k}={_scalar(v)}" for k, v in data.items() if v not in (None, [], {}, ""))


def text_view(data: dict[str, Any]) -> str:
    """The short text every tool result carries beside its structured content (the source of
    truth), with the same facts: ``key=value`` pairs on the first line, one line per nested
    object, and a list of objects as a table (a header line of its keys, then one line of
    values per item, `` | ``-separated). Nulls and empty lists are left out."""
    head: list[str] = []
    lines: list[str] = []
    for key, value in data.items():
        if value in (None, [], {}, ""):
            continue
        if isinstance(value, dict):
            lines.append(f"{key}: {_pairs(value)}")
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for item in value for k in item))
            columns = [c for c in columns if any(i.get(c) not in (None, [], "") for i in value)]
            lines.append(f"{key} ({len(value)}): {' | '.join(columns)}")
            lines += [
                " | ".join(
                    "" if item.get(c) in (None, []) else _scalar(item.get(c)).strip('"')
                    for c in columns
                )
                for item in value
            ]
        else:
            head.append(f"{key}={_scalar(value)}")
    return "\n".join(([" ".join(head)] if head else []) + lines)


_Result = TypeVar("_Result")


def short_result(result: _Result) -> _Result:
    """A tool's result with its text replaced by ``text_view`` of its structured content (the
    SDK's text is indented JSON); errors and results without structured content are kept."""
    if not isinstance(result, CallToolResult) or result.is_error:
        return result
    if not isinstance(result.structured_content, dict):
        return result
    data = without_nulls(result.structured_content)
    others = [c for c in result.content if not isinstance(c, TextContent)]
    text = TextContent(type="text", text=text_view(data))
    return result.model_copy(update={"content": [text, *others], "structured_content": data})
