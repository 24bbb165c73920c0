"""The MCP server: the MyoSapiens API (through ``myosdk``) as tools, resources and a prompt.

This module deliberately does not use ``from __future__ import annotations``: the SDK reads the
tools' annotations at registration, and some of them (``Resolve(...)``) name local functions.
"""

import base64
import inspect
import json
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    ListRoots,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import (
    CallToolResult,
    Completion,
    CompletionArgument,
    CompletionContext,
    ImageContent,
    InputRequiredResult,
    ListRootsResult,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Resource as MCPResource
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, Field

from myo_retarget import SHIPPED_MARKERSETS, shipped_markerset_path
from myo_retarget._subject import HEIGHT_RANGE_M, WEIGHT_RANGE_KG, height_problem, weight_problem

from . import _analysis
from ._backend import Backend
from ._config import McpConfig
from ._convert import (
    TERMINAL,
    asset_info,
    asset_uri,
    character_detail,
    character_info,
    downloaded,
    inspection,
    job_info,
    job_next_step,
    job_uri,
    paging,
)
from ._errors import resource_errors, tool_errors
from ._models import (
    AllowedDirectories,
    AssetInfo,
    AssetPage,
    C3DInspection,
    CanceledJob,
    CharacterDetail,
    CharacterPage,
    DeletedAsset,
    DownloadedFile,
    JobInfo,
    JobPage,
    JobWait,
    ManifestCheck,
    MotionSummary,
    RetargetResult,
    StartedJob,
    UploadedAsset,
)
from ._paths import AccessDeniedError, RootSource, check_access, choose_roots, resolve_path

log = logging.getLogger("myo_mcp")
_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["WAIT_CAP_S", "build_server"]

WAIT_CAP_S = 50.0
TEXT_RESOURCE_MAX_BYTES = 256 * 1024
TEXT_SUFFIXES = (".xml", ".json", ".txt", ".csv", ".md")

INSTRUCTIONS = """\
Retargets motion capture (C3D files) onto a MuJoCo humanoid: joint angles over time (.npz).
Typical flow: inspect_c3d(path) to see the markers and the best shipped markerset -> \
retarget_motion(c3d_path, markerset) does upload, job, wait and download in one call -> \
summarize_motion(path) for ranges of motion and a plot. Step by step instead: \
upload_asset (C3D and markerset XML) -> start_retarget -> wait_for_job (repeat while \
done=false) -> download_asset. \
Shipped markersets: 'cmu' (CMU 41 markers) and 'plug-in-gait' (Vicon full body); they are also \
resources myo://markersets/<name>. Local paths must lie inside the directories the server allows \
(list_allowed_directories shows them; by default the user's home directory only)."""

#: Appended to the description of every tool that reads or writes local files.
LOCAL_FILES_NOTE = (
    "Local paths must lie inside the allowed directories (by default the user's home directory "
    "only; list_allowed_directories shows them)."
)

#: What list_allowed_directories says about each source of the allowed directories.
ROOTS_HOW_TO_CHANGE: dict[RootSource, str] = {
    "allow-dir": "Set when myo-mcp was started (--allow-dir / MYO_MCP_ALLOW_DIRS); the user "
    "changes them in the MCP client's configuration of this server.",
    "client-roots": "The roots the MCP client shares with this server: the user changes them in "
    "the client, or starts myo-mcp with --allow-dir DIR.",
    "home-default": "Neither --allow-dir / MYO_MCP_ALLOW_DIRS nor client roots were given: the "
    "user's home directory only. To use other directories, the user adds --allow-dir DIR to "
    "myo-mcp's arguments in the MCP client's configuration.",
}

# -- annotations ---------------------------------------------------------------------------
READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
READ_LOCAL = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)
WRITE_LOCAL = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True)


def _with_title(annotations: ToolAnnotations, title: str) -> ToolAnnotations:
    return annotations.model_copy(update={"title": title})


# -- parameters shared by several tools ------------------------------------------------------------
AssetId = Annotated[
    str, Field(description="An asset id (from upload_asset, list_assets or a job's output).")
]
JobId = Annotated[str, Field(description="A job id (from start_retarget or list_jobs).")]
CharacterId = Annotated[str, Field(description="A character id (from list_characters).")]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size (1-100).")]
Offset = Annotated[int, Field(ge=0, description="Items to skip (from next_offset).")]
Gender = Literal["male", "female"]
# The ranges are published in the schema but checked by the tools (_check_subject), so that a
# height of 180 is answered in the user's words rather than with a schema-validation dump.
Height = Annotated[
    float | None,
    Field(
        description="Subject height in metres, e.g. 1.80 (scales the character).",
        json_schema_extra={"minimum": HEIGHT_RANGE_M[0], "maximum": HEIGHT_RANGE_M[1]},
    ),
]
Weight = Annotated[
    float | None,
    Field(
        description="Subject weight in kg.",
        json_schema_extra={"minimum": WEIGHT_RANGE_KG[0], "maximum": WEIGHT_RANGE_KG[1]},
    ),
]
SubjectGender = Annotated[Gender | None, Field(description="Subject gender (default male).")]
Scaling = Annotated[bool | None, Field(description="Scale the character to the subject (default).")]


def _check_subject(height: float | None, weight: float | None) -> None:
    """Refuse a height or weight out of range with the engine's message (ValueError)."""
    for problem in (
        height is not None and height_problem(height),
        weight is not None and weight_problem(weight),
    ):
        if problem:
            raise ValueError(problem)


def _given(**options: Any) -> dict[str, Any]:
    """The options a tool call set; the SDK's defaults (the default humanoid, scaling on, male)
    stand for the others."""
    return {k: v for k, v in options.items() if v is not None and v != ""}


class DeleteConfirmation(BaseModel):
    """What the user is asked before an asset is deleted."""

    confirm: bool = Field(description="Delete this asset for good?")


def _client_roots(ctx: Context[Any, Any]) -> ListRoots | None:
    """Ask the client for its roots when it offers them (the file tools' allowed directories)."""
    caps = ctx.client_capabilities
    return ListRoots() if caps is not None and caps.roots is not None else None


def _confirm_delete(
    asset_id: str, confirm: bool, ctx: Context[Any, Any]
) -> Elicit[DeleteConfirmation] | None:
    """Ask the user to confirm a deletion, unless ``confirm`` already says so."""
    if confirm:
        return None
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return None
    return Elicit(f"Delete asset {asset_id}? This cannot be undone.", DeleteConfirmation)


ClientRoots = Annotated[ListRootsResult | None, Resolve(_client_roots)]
# No confirmation needed (confirm=true) or possible (no elicitation): accepted with data None.
DeleteDecision = Annotated[ElicitationResult[DeleteConfirmation], Resolve(_confirm_delete)]


class _Progress:
    """Progress notifications of one tool call, out of 100; the value only ever increases
    (the protocol requires it), so repeats and step-backs are not sent."""

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self._ctx = ctx
        self._last = -1.0

    async def __call__(self, value: float, message: str) -> None:
        if value > self._last:
            self._last = value
            await self._ctx.report_progress(value, 100.0, message)


class MyoMCPServer(MCPServer[Any]):
    """MCPServer whose resource list also shows recent assets and jobs of the backend, and whose
    tools are registered on first use rather than at start-up.

    Registering a tool builds pydantic models and JSON schemas for its arguments and result
    (about 0.1 s for all of them): deferred, it stays out of the process start -> ``initialize``
    path. Anything that looks tools up (tools/list, tools/call, the 2026-07-28 schema check that
    runs before middleware) registers them first.
    """

    def __init__(self, backend: Backend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend
        self._pending_tools: list[tuple[Callable[..., Any], str, ToolAnnotations]] = []

    def defer_tool(
        self, fn: Callable[..., Any], description: str, annotations: ToolAnnotations
    ) -> None:
        """Register ``fn`` as a tool when tools are first needed."""
        self._pending_tools.append((fn, description, annotations))

    def register_pending_tools(self) -> None:
        """Register the deferred tools now (idempotent)."""
        pending, self._pending_tools = self._pending_tools, []
        for fn, description, annotations in pending:
            self.add_tool(fn, description=description, annotations=annotations)

    async def list_tools(self) -> list[MCPTool]:
        self.register_pending_tools()
        return await super().list_tools()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self.register_pending_tools()
        return await super().call_tool(name, arguments, context)

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        self.register_pending_tools()
        return super()._tool_input_schema(name)

    async def list_resources(self) -> list[MCPResource]:
        """Static resources (shipped markersets), then the 20 newest assets and jobs."""
        resources = await super().list_resources()
        try:
            with anyio.fail_after(15):
                client = await self.backend.client()
                assets = await client.assets.list(limit=20)
                jobs = await client.jobs.list(limit=20)
        except Exception as exc:  # a listing must not fail because the backend is away
            log.warning("resources/list without backend items: %s", self.backend.redact(exc))
            return resources
        for a in assets["assets"]:
            resources.append(
                MCPResource(
                    uri=asset_uri(a["asset_id"]),
                    name=f"asset {a.get('filename') or a['asset_id']}",
                    description=f"{a.get('purpose')} asset, {a.get('size_bytes')} bytes, "
                    f"{a.get('status')}, created {a.get('created_at')}",
                    mime_type="application/json",
                )
            )
        for j in jobs["jobs"]:
            resources.append(
                MCPResource(
                    uri=job_uri(j["job_id"]),
                    name=f"job {j['job_id']}",
                    description=f"{j.get('type')} job, {j['status']}, "
                    f"created {j.get('created_at')}",
                    mime_type="application/json",
                )
            )
        return resources


def build_server(config: McpConfig, backend: Backend) -> MyoMCPServer:
    """The MCP server over ``backend`` (the caller starts and closes the backend).

    Args:
        config: Settings (allowed directories, read-only mode, call budget).
        backend: Where the tools send their requests.
    """
    from myo_mcp import __version__

    mcp = MyoMCPServer(
        backend,
        name="myo-mcp",
        title="Myo motion retargeting",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://github.com/myolab/myo-mcp",
    )

    async def warm_up(ctx: Any, call_next: Any) -> Any:
        # The embedded backend starts after the handshake, never delaying the initialize reply.
        if ctx.method not in ("initialize", "server/discover"):
            backend.start_background()
        return await call_next(ctx)

    mcp.middleware.append(warm_up)

    def tool(annotations: ToolAnnotations, *, local_files: bool = False) -> Callable[[_F], _F]:
        """Register a tool; its docstring, dedented, is the description the model reads (with
        the allowed-directories note when the tool takes ``local_files`` paths)."""

        def register(fn: _F) -> _F:
            notes = annotations
            if notes.open_world_hint is None:
                # Backend tools reach the cloud API (an open world) or only the embedded store.
                notes = notes.model_copy(update={"open_world_hint": backend.kind == "remote"})
            description = inspect.cleandoc(fn.__doc__ or "")
            if local_files:
                description += "\n\n" + LOCAL_FILES_NOTE
            mcp.defer_tool(fn, description, notes)
            return fn

        return register

    def roots_and_source(roots: ListRootsResult | None) -> tuple[list[Path], RootSource]:
        uris = [str(r.uri) for r in roots.roots] if roots is not None else None
        return choose_roots(config.allow_dirs, uris)

    def allowed_roots(roots: ListRootsResult | None) -> list[Path]:
        return roots_and_source(roots)[0]

    def local_path(path: str, roots: ListRootsResult | None) -> Path:
        return check_access(path, allowed_roots(roots))

    def local_file(path: str, roots: ListRootsResult | None) -> Path:
        file = local_path(path, roots)
        if not file.is_file():
            what = "a directory, not a file" if file.is_dir() else "no such file"
            raise FileNotFoundError(f"{str(file)!r}: {what}")
        return file

    poll_interval = 0.25 if config.backend == "local" else 1.0

    async def poll_job(
        job_id: str,
        timeout_s: float,
        progress: _Progress,
        span: tuple[float, float] = (0.0, 100.0),
    ) -> tuple[JobInfo, float]:
        """``jobs.wait`` for ``job_id`` at most ``timeout_s``, reporting progress in ``span``.

        Returns the job as last seen (finished or not) and the seconds waited.
        """
        from myosdk import JobTimeoutError

        client = await backend.client()
        lo, hi = span

        async def report(raw: Mapping[str, Any]) -> None:
            job = job_info(raw)
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

    # ---------------------------------------------------------------------- read-only tools
    @tool(_with_title(READ, "List assets"))
    async def list_assets(
        purpose: Annotated[
            str | None,
            Field(description="Only this purpose: 'retarget' (inputs) or 'retarget_output'."),
        ] = None,
        reference_count: Annotated[
            int | None, Field(ge=0, description="Only assets used by this many jobs (0 = unused).")
        ] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> AssetPage:
        """List stored assets (uploaded C3D/markerset files and job outputs), newest first.

        Use it to find an asset id; page with offset=next_offset. Read one with get_asset.
        """
        with tool_errors(backend, "list assets"):
            client = await backend.client()
            page = await client.assets.list(purpose, reference_count, limit, offset)
            return AssetPage(
                assets=[asset_info(a) for a in page["assets"]],
                **paging(page, "assets"),
            )

    @tool(_with_title(READ, "Get an asset"))
    async def get_asset(asset_id: AssetId) -> AssetInfo:
        """Details of one asset: file name, purpose, size, status, checksum, producing job.

        Next: download_asset to save it locally, or summarize_motion for a job's .npz output.
        """
        with tool_errors(backend, f"get asset {asset_id}"):
            client = await backend.client()
            return asset_info(await client.assets.get(asset_id))

    @tool(_with_title(READ, "List characters"))
    async def list_characters(
        name_contains: Annotated[
            str | None, Field(description="Only names containing this text.")
        ] = None,
        has_ready_versions: Annotated[
            bool | None, Field(description="Only characters with a READY version.")
        ] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> CharacterPage:
        """List the characters (MuJoCo models) motions can be retargeted onto.

        start_retarget uses the default humanoid when no character is given, so this is only
        needed to pick another one; get_character shows its versions.
        """
        with tool_errors(backend, "list characters"):
            client = await backend.client()
            page = await client.characters.list(name_contains, has_ready_versions, limit, offset)
            return CharacterPage(
                characters=[character_info(c) for c in page["characters"]],
                **paging(page, "characters"),
            )

    @tool(_with_title(READ, "Get a character"))
    async def get_character(character_id: CharacterId) -> CharacterDetail:
        """A character with its versions; only READY versions can be used by start_retarget."""
        with tool_errors(backend, f"get character {character_id}"):
            client = await backend.client()
            return character_detail(await client.characters.get(character_id))

    @tool(_with_title(READ, "Validate a character version"))
    async def validate_character_manifest(
        character_id: CharacterId,
        version: Annotated[str, Field(description="The version, e.g. 'v1.0.0'.")],
    ) -> ManifestCheck:
        """Check that a character version's files exist and its model compiles.

        Use it when a retarget job fails on the character; a valid version has status READY.
        """
        with tool_errors(backend, f"validate {character_id} {version}"):
            client = await backend.client()
            r = await client.characters.validate_manifest(character_id, version)
            return ManifestCheck(
                character_id=r.get("character_id", character_id),
                version=r.get("version", version),
                status=r.get("status", ""),
                valid=r.get("status") == "READY",
            )

    @tool(_with_title(READ, "Get a job"))
    async def get_job(job_id: JobId) -> JobInfo:
        """Status of a job now (no waiting): progress while RUNNING, output asset once SUCCEEDED,
        error once FAILED. To wait for it, use wait_for_job."""
        with tool_errors(backend, f"get job {job_id}"):
            client = await backend.client()
            return job_info(await client.jobs.get(job_id))

    @tool(_with_title(READ, "Wait for a job"))
    async def wait_for_job(
        job_id: JobId,
        ctx: Context[Any, Any],
        timeout_s: Annotated[
            float,
            Field(ge=0, description=f"Seconds to wait at most (capped at {WAIT_CAP_S:.0f})."),
        ] = 25.0,
    ) -> JobWait:
        """Wait until a job ends or timeout_s passes, sending progress notifications.

        Returns the job whatever its state; done=false means it is still running: call
        wait_for_job again. Once SUCCEEDED, download_asset(job.output_asset_id, ...) saves it.
        """
        with tool_errors(backend, f"wait for job {job_id}"):
            job, waited = await poll_job(job_id, min(timeout_s, WAIT_CAP_S), _Progress(ctx))
            return JobWait(
                job=job,
                done=job.status in TERMINAL,
                waited_s=round(waited, 2),
                next_step=job_next_step(job),
            )

    @tool(_with_title(READ, "List jobs"))
    async def list_jobs(
        status: Annotated[
            list[Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"]] | None,
            Field(description="Only jobs in these statuses."),
        ] = None,
        job_type: Annotated[
            str | None, Field(description="Only jobs of this type ('retarget').")
        ] = None,
        created_after: Annotated[
            str | None, Field(description="ISO 8601 time, e.g. 2026-01-31T12:00:00Z.")
        ] = None,
        created_before: Annotated[str | None, Field(description="ISO 8601 time.")] = None,
        has_output: Annotated[
            bool | None, Field(description="Only jobs with (or without) an output.")
        ] = None,
        input_asset_id: Annotated[
            str | None, Field(description="Only jobs using this asset as input.")
        ] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> JobPage:
        """List retargeting jobs, newest first, with filters; page with offset=next_offset."""
        with tool_errors(backend, "list jobs"):
            client = await backend.client()
            page = await client.jobs.list(
                status=status,
                job_type=job_type,
                created_after=created_after,
                created_before=created_before,
                has_output=has_output,
                input_asset_id=input_asset_id,
                limit=limit,
                offset=offset,
            )
            return JobPage(
                jobs=[job_info(j) for j in page["jobs"]],
                **paging(page, "jobs"),
            )

    @tool(_with_title(READ_LOCAL, "List allowed directories"))
    async def list_allowed_directories(roots: ClientRoots) -> AllowedDirectories:
        """List the local directories whose files the tools may read and write, and where that
        list comes from: --allow-dir / MYO_MCP_ALLOW_DIRS, else the roots the MCP client shares,
        else the user's home directory only.

        Call it to choose paths (a .c3d to inspect, where to save a motion) or after an
        'outside the directories' error. Any path inside them works; absolute paths are safest.
        """
        found, source = roots_and_source(roots)
        return AllowedDirectories(
            directories=[str(resolve_path(r)) for r in found],
            source=source,
            writable=not config.read_only,
            how_to_change=ROOTS_HOW_TO_CHANGE[source],
        )

    @tool(_with_title(READ_LOCAL, "Inspect a C3D file"), local_files=True)
    async def inspect_c3d(
        path: Annotated[str, Field(description="Local path of the .c3d file.")],
        roots: ClientRoots,
    ) -> C3DInspection:
        """Describe a local C3D recording before uploading it: marker labels, frame rate, frames,
        units, vertical axis, gaps, and how well each shipped markerset fits (coverage, missing
        markers).

        Next: retarget_motion(c3d_path, markerset=best_markerset.name); if no shipped markerset
        fits, the user needs a markerset XML for their marker names.
        """
        with tool_errors(backend, f"inspect {path}"):
            file = local_file(path, roots)
            try:
                info = await anyio.to_thread.run_sync(_analysis.inspect_recording, file)
            except _analysis.RecordingError as exc:
                raise ToolError(
                    f"Cannot read {file.name} as a C3D recording: {exc}. Check that it is a "
                    ".c3d file (not truncated)."
                ) from None
            return inspection(file, info)

    @tool(_with_title(READ_LOCAL, "Summarize a motion"), local_files=True)
    async def summarize_motion(
        roots: ClientRoots,
        asset_id: Annotated[
            str | None, Field(description="A job's output asset (.npz) to summarize.")
        ] = None,
        path: Annotated[
            str | None, Field(description="Or a local .npz file (e.g. from download_asset).")
        ] = None,
        joints: Annotated[
            list[str] | None,
            Field(
                description="Joints to report and plot (max 8 plotted), e.g. ['knee_flex_r']; "
                "default: every joint's range, the hip/knee/ankle flexions plotted."
            ),
        ] = None,
    ) -> Annotated[CallToolResult, MotionSummary]:
        """Summarize a retargeted motion: frames, duration, per-joint range of motion (degrees),
        marker-fit quality (residuals, worst markers), and a small PNG plot of joint angles over
        time. Give exactly one of asset_id or path.

        Joint names: <joint>_<r|l> for hip_flex, hip_abdu, hip_arot, knee_flex, ankle_flex,
        subtal_inve, mtp_flex, shoulder_flex, shoulder_abdu, shoulder_arot, elbow_flex,
        wrist_pron, wrist_flex, wrist_devi; lumbar_/thorax_/neck_ flex, bend, arot.
        """
        with tool_errors(backend, "summarize the motion"):
            if (asset_id is None) == (path is None):
                raise ToolError("Give exactly one of asset_id or path.")
            with tempfile.TemporaryDirectory(prefix="myo-mcp-") as tmp:
                if asset_id is not None:
                    client = await backend.client()
                    got = await client.assets.download(asset_id, Path(tmp) / "motion.npz")
                    file, source = Path(got["path"]), asset_uri(asset_id)
                else:
                    assert path is not None
                    file = local_file(path, roots)
                    source = str(file)
                try:
                    figures, png = await anyio.to_thread.run_sync(
                        _analysis.summarize_npz, file, joints
                    )
                except ValueError as exc:
                    raise ToolError(str(exc)) from None
            summary = MotionSummary(source=source, **figures)
            data = summary.model_dump(mode="json")
            return CallToolResult(
                content=[
                    TextContent(type="text", text=json.dumps(data)),
                    ImageContent(
                        type="image", data=base64.b64encode(png).decode(), mime_type="image/png"
                    ),
                ],
                structured_content=data,
            )

    # ------------------------------------------------------------------ write/destructive tools
    if not config.read_only:

        @tool(_with_title(WRITE, "Upload a file"), local_files=True)
        async def upload_asset(
            path: Annotated[
                str, Field(description="Local file: a .c3d recording or a markerset .xml.")
            ],
            roots: ClientRoots,
            purpose: Annotated[
                str | None,
                Field(description="Asset purpose; default from the extension ('retarget')."),
            ] = None,
            metadata: Annotated[
                dict[str, Any] | None, Field(description="Small JSON metadata to attach.")
            ] = None,
        ) -> UploadedAsset:
            """Upload a local file (C3D recording or markerset XML) so a job can use it.

            Each call creates a new asset. Next: start_retarget with the C3D's and the markerset's
            asset ids. (retarget_motion does upload + job + download in one call.)
            """
            with tool_errors(backend, f"upload {path}"):
                file = local_file(path, roots)
                client = await backend.client()
                up = await client.assets.upload_file(file, purpose, metadata)
                asset = asset_info(await client.assets.get(up["asset_id"]))
                return UploadedAsset(
                    asset=asset,
                    verified=bool(up.get("verified")),
                    next_step="start_retarget(c3d_asset_id=..., markerset_asset_id=...) once "
                    "both the C3D and the markerset are uploaded.",
                )

        @tool(_with_title(WRITE_LOCAL, "Download an asset"), local_files=True)
        async def download_asset(
            asset_id: AssetId,
            destination: Annotated[
                str,
                Field(description="Local file path (or an existing directory) to write to."),
            ],
            roots: ClientRoots,
        ) -> DownloadedFile:
            """Save an asset (e.g. a job's .npz output) to a local file, verified by sha256.

            An existing file at destination is replaced. Next: summarize_motion(path=...).
            """
            with tool_errors(backend, f"download asset {asset_id}"):
                dest = local_path(destination, roots)
                client = await backend.client()
                info = await client.assets.get(asset_id)
                if dest.is_dir():
                    dest = local_path(
                        str(dest / Path(info.get("filename") or asset_id).name), roots
                    )
                got = await client.assets.download(info, dest)
                return downloaded(asset_id, got)

        @tool(_with_title(DESTRUCTIVE, "Delete an asset"))
        async def delete_asset(
            asset_id: AssetId,
            decision: DeleteDecision,
            confirm: Annotated[
                bool,
                Field(
                    description="Set true once the user agreed, when the client cannot ask them."
                ),
            ] = False,
        ) -> DeletedAsset:
            """Delete an asset for good. The user is asked to confirm first (or, when the client
            cannot ask, call again with confirm=true after the user agreed). An asset a job still
            references cannot be deleted."""
            with tool_errors(backend, f"delete asset {asset_id}"):
                if not confirm:
                    if not isinstance(decision, AcceptedElicitation):
                        return DeletedAsset(
                            asset_id=asset_id,
                            deleted=False,
                            message=f"The user {decision.action}d the deletion; nothing deleted.",
                        )
                    if decision.data is None:
                        raise ToolError(
                            f"Deleting asset {asset_id} needs confirmation: ask the user, then "
                            "call delete_asset again with confirm=true."
                        )
                    if not decision.data.confirm:
                        return DeletedAsset(
                            asset_id=asset_id, deleted=False, message="The user did not confirm."
                        )
                client = await backend.client()
                await client.assets.delete(asset_id)
                return DeletedAsset(asset_id=asset_id, deleted=True, message="Deleted.")

        @tool(_with_title(WRITE, "Start a retarget job"))
        async def start_retarget(
            c3d_asset_id: Annotated[str, Field(description="The uploaded C3D recording.")],
            markerset_asset_id: Annotated[str, Field(description="The uploaded markerset XML.")],
            character_id: Annotated[
                str | None, Field(description="Character; default: the built-in humanoid.")
            ] = None,
            character_version: Annotated[
                str | None, Field(description="A READY version; default v1.0.0.")
            ] = None,
            enable_scaling: Scaling = None,
            subject_gender: SubjectGender = None,
            subject_height: Height = None,
            subject_weight: Weight = None,
            metadata: Annotated[
                dict[str, Any] | None, Field(description="Small JSON metadata for the job.")
            ] = None,
        ) -> StartedJob:
            """Start retargeting an uploaded C3D onto a character; returns at once with a job id.

            Next: wait_for_job(job_id) until done, then download_asset the output.
            """
            with tool_errors(backend, "start the retarget job"):
                _check_subject(subject_height, subject_weight)
                client = await backend.client()
                started = await client.jobs.start_retarget(
                    c3d_asset_id=c3d_asset_id,
                    markerset_asset_id=markerset_asset_id,
                    **_given(
                        character_id=character_id,
                        character_version=character_version,
                        enable_scaling=enable_scaling,
                        subject_gender=subject_gender,
                        subject_height=subject_height,
                        subject_weight=subject_weight,
                        metadata=metadata,
                    ),
                )
                job = job_info(await client.jobs.get(started["job_id"]))
                return StartedJob(
                    job=job, next_step=f"wait_for_job(job_id='{job.job_id}') until done=true."
                )

        @tool(_with_title(DESTRUCTIVE, "Cancel a job"))
        async def cancel_job(job_id: JobId) -> CanceledJob:
            """Cancel a QUEUED or RUNNING job (a finished job cannot be canceled)."""
            with tool_errors(backend, f"cancel job {job_id}"):
                client = await backend.client()
                r = await client.jobs.cancel(job_id)
                return CanceledJob(job_id=r["job_id"], status=r["status"], message=r.get("message"))

        @tool(_with_title(WRITE, "Retarget a C3D file"), local_files=True)
        async def retarget_motion(
            c3d_path: Annotated[str, Field(description="Local .c3d recording.")],
            markerset: Annotated[
                str,
                Field(
                    description="A shipped markerset name ('cmu', 'plug-in-gait') or a local "
                    "markerset .xml path. inspect_c3d tells which shipped one fits."
                ),
            ],
            ctx: Context[Any, Any],
            roots: ClientRoots,
            output_path: Annotated[
                str | None,
                Field(description="Where to write the .npz; default: beside the C3D."),
            ] = None,
            subject_gender: SubjectGender = None,
            subject_height: Height = None,
            subject_weight: Weight = None,
            enable_scaling: Scaling = None,
        ) -> RetargetResult:
            """Retarget a local C3D recording in one call: upload it and the markerset, start the
            job, wait with progress, download the motion (.npz) next to the C3D (or output_path).

            If the job is not finished within this call's time budget, done=false and the job id
            is returned: continue with wait_for_job, then download_asset. Next when done:
            summarize_motion(path=output.path).
            """
            with tool_errors(backend, f"retarget {c3d_path}"):
                _check_subject(subject_height, subject_weight)
                started_at = time.monotonic()
                c3d = local_file(c3d_path, roots)
                if markerset in SHIPPED_MARKERSETS:
                    ms_file = shipped_markerset_path(markerset)
                elif "/" not in markerset and not markerset.lower().endswith(".xml"):
                    raise ToolError(
                        f"Unknown markerset {markerset!r}: the shipped ones are "
                        f"{', '.join(SHIPPED_MARKERSETS)}; otherwise pass the path of "
                        "a markerset .xml file."
                    )
                else:
                    ms_file = local_file(markerset, roots)
                out = local_path(output_path or str(c3d.with_suffix(".npz")), roots)
                client = await backend.client()
                progress = _Progress(ctx)
                await progress(0, f"uploading {c3d.name}")
                c3d_up = await client.assets.upload_file(c3d)
                await progress(5, f"uploading markerset {ms_file.name}")
                ms_up = await client.assets.upload_file(ms_file)
                started = await client.jobs.start_retarget(
                    c3d_asset_id=c3d_up["asset_id"],
                    markerset_asset_id=ms_up["asset_id"],
                    **_given(
                        enable_scaling=enable_scaling,
                        subject_gender=subject_gender,
                        subject_height=subject_height,
                        subject_weight=subject_weight,
                    ),
                )
                budget = config.call_budget_s - (time.monotonic() - started_at) - 3.0
                job, _ = await poll_job(started["job_id"], max(1.0, budget), progress, (10, 95))
                common: dict[str, Any] = {
                    "job": job,
                    "c3d_asset_id": c3d_up["asset_id"],
                    "markerset_asset_id": ms_up["asset_id"],
                }
                if job.status in ("FAILED", "CANCELED"):
                    raise ToolError(
                        f"Retarget job {job.job_id} {job.status}: {job.error or job.message}. "
                        "inspect_c3d shows which markerset fits; fix the inputs and try again."
                    )
                if job.status != "SUCCEEDED":
                    return RetargetResult(
                        done=False,
                        next_step=f"Still {job.status}: call wait_for_job(job_id='{job.job_id}'), "
                        f"then download_asset(asset_id=<output_asset_id>, destination='{out}').",
                        **common,
                    )
                assert job.output_asset_id is not None
                await progress(97, "downloading the motion")
                got = await client.assets.download(job.output_asset_id, out)
                await progress(100, "done")
                return RetargetResult(
                    done=True,
                    output=downloaded(job.output_asset_id, got),
                    next_step=f"summarize_motion(path='{got['path']}') for ranges of motion "
                    "and a plot.",
                    **common,
                )

    # ------------------------------------------------------------------------------ resources
    @mcp.resource(
        "myo://assets/{asset_id}",
        name="asset",
        title="Asset metadata",
        description="An asset's metadata (JSON); text assets' content is at .../content.",
        mime_type="application/json",
    )
    async def asset_resource(asset_id: str) -> str:
        with resource_errors(backend, "asset"):
            client = await backend.client()
            # AssetInfo, so presigned URLs stay out: they are long, expire, carry a signature.
            asset = asset_info(await client.assets.get(asset_id))
            return json.dumps(asset.model_dump(mode="json"))

    @mcp.resource(
        "myo://assets/{asset_id}/content",
        name="asset-content",
        title="Asset content (text)",
        description="The content of a small text asset, such as a markerset XML.",
        mime_type="text/plain",
    )
    async def asset_content_resource(asset_id: str) -> str:
        with resource_errors(backend, "asset"):
            client = await backend.client()
            info = await client.assets.get(asset_id)
            name = str(info.get("filename") or "")
            size = info.get("size_bytes") or 0
            if not name.lower().endswith(TEXT_SUFFIXES) or size > TEXT_RESOURCE_MAX_BYTES:
                raise ResourceError(
                    f"Asset {asset_id} ({name}, {size} bytes) is not a small text file: use "
                    "download_asset to save it, or summarize_motion for a motion."
                )
            with tempfile.TemporaryDirectory(prefix="myo-mcp-") as tmp:
                got = await client.assets.download(info, Path(tmp) / "content")
                return Path(got["path"]).read_text(encoding="utf-8", errors="replace")

    @mcp.resource(
        "myo://jobs/{job_id}",
        name="job",
        title="Job",
        description="A job's status, progress, output asset and error (JSON).",
        mime_type="application/json",
    )
    async def job_resource(job_id: str) -> str:
        with resource_errors(backend, "job"):
            client = await backend.client()
            job = job_info(await client.jobs.get(job_id))
            return json.dumps(job.model_dump(mode="json"))

    @mcp.resource(
        "myo://characters/{character_id}",
        name="character",
        title="Character",
        description="A character with its versions (JSON).",
        mime_type="application/json",
    )
    async def character_resource(character_id: str) -> str:
        with resource_errors(backend, "character"):
            client = await backend.client()
            return json.dumps(await client.characters.get(character_id), default=str)

    def _add_markerset(name: str) -> None:
        async def read_markerset() -> str:
            return shipped_markerset_path(name).read_text(encoding="utf-8")

        read_markerset.__name__ = f"markerset_{name.replace('-', '_')}"
        mcp.resource(
            f"myo://markersets/{name}",
            name=f"markerset-{name}",
            title=f"Shipped markerset '{name}'",
            description=f"The shipped '{name}' markerset XML (marker names, bodies, offsets); "
            f"pass markerset='{name}' to retarget_motion.",
            mime_type="application/xml",
        )(read_markerset)

    for _name in SHIPPED_MARKERSETS:
        _add_markerset(_name)

    # -------------------------------------------------------------------------------- prompt
    @mcp.prompt(
        name="retarget_c3d",
        title="Retarget a C3D recording",
        description="Guides the assistant through inspect -> upload -> start -> wait -> summarize.",
    )
    def retarget_c3d(
        c3d_path: Annotated[str, Field(description="Local path of the .c3d recording.")],
        subject: Annotated[
            str | None,
            Field(description="The subject, e.g. 'woman, 1.65 m, 60 kg' (optional)."),
        ] = None,
    ) -> str:
        who = (
            f"The subject: {subject}. Pass subject_gender, subject_height (metres) and "
            "subject_weight (kg) accordingly."
            if subject
            else "Nothing is known about the subject: keep the defaults (scaling on)."
        )
        return (
            f"Retarget the motion capture recording {c3d_path} onto the default humanoid.\n"
            f"1. inspect_c3d(path='{c3d_path}'): check frames, rate and gaps, and pick the "
            "best-fitting shipped markerset (best_markerset). If none fits, stop and ask me for "
            "a markerset XML.\n"
            "2. upload_asset the C3D, and the markerset (a shipped one is the resource "
            "myo://markersets/<name>; retarget_motion accepts its name directly).\n"
            "3. start_retarget(c3d_asset_id, markerset_asset_id, ...subject figures).\n"
            "4. wait_for_job(job_id) until done=true; report FAILED errors to me.\n"
            "5. download_asset(output_asset_id, destination next to the C3D), then "
            "summarize_motion(path=...) and show me the ranges of motion, the fit quality "
            "(rms residual, worst markers) and the plot.\n"
            f"(Steps 2-5 are also one call: retarget_motion.) {who}"
        )

    # ---------------------------------------------------------------------------- completion
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        prefix = argument.value or ""
        values: list[str] = []
        if argument.name in ("asset_id", "job_id", "character_id"):
            try:
                client = await backend.client()
                if argument.name == "asset_id":
                    values = [
                        a["asset_id"] for a in (await client.assets.list(limit=100))["assets"]
                    ]
                elif argument.name == "job_id":
                    values = [j["job_id"] for j in (await client.jobs.list(limit=100))["jobs"]]
                else:
                    page = await client.characters.list(limit=100)
                    values = [c["character_id"] for c in page["characters"]]
            except Exception as exc:
                log.warning("completion of %s failed: %s", argument.name, backend.redact(exc))
                return None
        elif argument.name == "c3d_path":
            values = _complete_path(prefix, allowed_roots(None))
        else:
            return None
        matches = [v for v in values if v.startswith(prefix)]
        return Completion(values=matches[:100], total=len(matches), has_more=len(matches) > 100)

    mcp.completion()(complete)  # type: ignore[no-untyped-call]

    return mcp


def _complete_path(prefix: str, roots: list[Path]) -> list[str]:
    """Directories and .c3d files that continue ``prefix`` (inside the allowed roots)."""
    base = Path(prefix).expanduser() if prefix else Path.cwd()
    folder = base if prefix.endswith("/") or not prefix else base.parent
    try:
        check_access(folder, roots)
        entries = sorted(folder.iterdir())[:500]
    except (OSError, AccessDeniedError):
        return []
    shown = (
        prefix[: len(prefix) - len(base.name)] if prefix and not prefix.endswith("/") else prefix
    )
    out = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            out.append(f"{shown}{entry.name}/")
        elif entry.suffix.lower() == ".c3d":
            out.append(f"{shown}{entry.name}")
    return out
