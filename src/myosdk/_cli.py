"""``myo``: the MyoSapiens API from the shell, for people (tables, progress bars) and scripts
(``--json``). Exit status: 0 success, 1 API or input error (one line on stderr), 2 usage error."""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from myosdk._client import Client
from myosdk._core import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    DEFAULT_TIMEOUT,
    EXPORT_OUTPUTS,
    ROTATIONS,
    __version__,
    export_format_names,
    job_outputs,
)
from myosdk._exceptions import ConfigurationError, MyoSDKError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
# The status a shell shows for a command killed by SIGPIPE (128 + 13): stdout's reader left early.
EXIT_BROKEN_PIPE = 141

Command = Callable[[Client, argparse.Namespace], Any]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line plus the usage, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# --------------------------------------------------------------------------- output


def _emit(args: argparse.Namespace, value: Any, human: Callable[[Any], None]) -> None:
    if args.json:
        json.dump(value, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        human(value)


def _console() -> Any:
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit with status 1 here; main() ends every closed-pipe case alike.
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "the reader of stdout has gone")

    # Piped output is for grep/awk: never wrap it to a pretend 80 columns.
    width = None if sys.stdout.isatty() else 10_000
    return PipeConsole(highlight=False, soft_wrap=True, width=width)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail on a closed pipe again
    (see "Note on SIGPIPE" in the Python documentation of the signal module)."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (in-process tests)
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for key, title in columns:
        # Ids must stay copyable in one piece; free text may fold.
        table.add_column(title, overflow="fold", no_wrap=key.endswith("id"))
    for row in rows:
        table.add_row(*("" if row.get(key) is None else str(row.get(key)) for key, _ in columns))
    _console().print(table)


def _fields(value: Mapping[str, Any]) -> None:
    console = _console()
    width = max((len(k) for k in value), default=0)
    for key, item in value.items():
        text = json.dumps(item, default=str) if isinstance(item, (dict, list)) else item
        console.print(f"[bold]{key.ljust(width)}[/bold]  {'' if text is None else text}")


def _page_footer(page: Mapping[str, Any], key: str) -> None:
    shown = len(page.get(key) or [])
    offset = int(page.get("offset") or 0)
    print(
        f"{shown} of {page.get('total')} (offset {offset}); next page: --offset {offset + shown}"
        if offset + shown < int(page.get("total") or 0)
        else f"{shown} of {page.get('total')}",
        file=sys.stderr,
    )


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _upload(client: Client, path: str, purpose: str | None, metadata: Any, quiet: bool) -> Any:
    if quiet:
        return client.assets.upload_file(path, purpose, metadata, reuse=True)
    size = Path(path).stat().st_size if Path(path).is_file() else None
    with _progress() as progress:
        task = progress.add_task(f"upload {Path(path).name}", total=size)
        return client.assets.upload_file(
            path,
            purpose,
            metadata,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            reuse=True,  # a retried command re-sends nothing
        )


def _download(client: Client, asset: Any, destination: str, quiet: bool) -> Any:
    if quiet:
        return client.assets.download(asset, destination)
    with _progress() as progress:
        task = progress.add_task(f"download {Path(destination).name}", total=None)
        return client.assets.download(
            asset,
            destination,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


def _metadata(text: str | None) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"--metadata must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError('--metadata must be a JSON object, e.g. \'{"subject": "S01"}\'')
    return value


# --------------------------------------------------------------------------- commands


def cmd_upload(client: Client, args: argparse.Namespace) -> None:
    result = _upload(client, args.file, args.purpose, _metadata(args.metadata), args.quiet)
    _emit(args, result, lambda r: print(r["asset_id"]))


def _markerset_file(name_or_path: str) -> str:
    """The markerset XML to upload: the file at that path if there is one, else the shipped
    markerset of that name (as ``myo-retarget`` and the MCP tools accept them)."""
    if Path(name_or_path).is_file():
        return name_or_path
    # The engine (same distribution) holds the shipped names and files (its light modules, no
    # numpy or MuJoCo). Imported only here: the SDK itself never needs it.
    from myo_retarget import SHIPPED_MARKERSETS, MarkersetError, shipped_markerset_path

    try:
        return str(shipped_markerset_path(name_or_path))
    except MarkersetError:
        raise FileNotFoundError(
            f"No such file: {name_or_path}; the markerset is the path of a markerset XML file "
            f"or a shipped markerset name ({', '.join(SHIPPED_MARKERSETS)})"
        ) from None


def cmd_retarget(client: Client, args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    if not Path(args.recording).is_file():
        raise FileNotFoundError(f"No such file: {args.recording}")
    markerset_file = _markerset_file(args.markerset)
    output = args.output or str(Path(Path(args.recording).name).with_suffix(".npz"))
    quiet = args.quiet or args.json
    c3d = _upload(client, args.recording, "retarget", None, quiet)
    markerset = _upload(client, markerset_file, "retarget", None, quiet)
    started = client.jobs.start_retarget(
        c3d_asset_id=c3d["asset_id"],
        markerset_asset_id=markerset["asset_id"],
        character_id=args.character_id,
        character_version=args.character_version,
        enable_scaling=not args.no_scaling,
        subject_gender=args.gender,
        subject_height=args.height,
        subject_weight=args.weight,
        metadata=_metadata(args.metadata),
        export_formats=args.export,
        rotation=args.rotation,
        mocap_scale=args.mocap_scale,
        clip_length=args.clip_length,
        n_frames_scaling=args.n_frames_scaling,
    )
    job_id = started["job_id"]
    if quiet:
        job = client.jobs.wait(job_id, interval=args.interval, timeout=args.timeout)
    else:
        with Progress(
            TextColumn("job {task.fields[job_id]}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        ) as progress:
            task = progress.add_task("job", total=1.0, job_id=job_id[:8], status="QUEUED")

            def show(job: Mapping[str, Any]) -> None:
                progress.update(
                    task,
                    completed=float(job.get("progress") or 0.0),
                    status=job.get("status"),
                )

            job = client.jobs.wait(
                job_id, interval=args.interval, timeout=args.timeout, on_progress=show
            )
            if job["status"] == "SUCCEEDED":
                progress.update(task, completed=1.0)
    if job["status"] != "SUCCEEDED":
        error = job.get("error")
        reason = (error and error.get("error_message")) or job.get("message") or "no reason given"
        raise MyoSDKError(f"job {job_id} {job['status']}: {reason}")
    output_id = (job.get("output") or {}).get("retarget_output_asset_id")
    if not output_id:
        raise MyoSDKError(f"job {job_id} succeeded but reports no output asset")
    saved = _download(client, output_id, output, quiet)
    files = [saved["path"]]
    outputs = job_outputs(job)
    for name, path in _export_paths(Path(saved["path"]), args.export).items():
        if name not in outputs:  # e.g. the Parquet tables of a server without pyarrow
            raise MyoSDKError(
                f"job {job_id} succeeded without its {name} output (its diagnostics say why);"
                f" the .npz is in {saved['path']}"
            )
        files.append(_download(client, outputs[name], str(path), quiet)["path"])
    result = {
        "job_id": job_id,
        "status": job["status"],
        "c3d_asset_id": c3d["asset_id"],
        "markerset_asset_id": markerset["asset_id"],
        "output_asset_id": output_id,
        **saved,
        "files": files,
    }
    _emit(args, result, lambda r: print("\n".join(r["files"])))


def _export_list(text: str) -> list[str]:
    """``--export glb,bvh``: the formats, checked before anything is uploaded."""
    try:
        return export_format_names([name.strip() for name in text.split(",") if name.strip()])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    """``--mocap-scale``: a number > 0, checked before anything is uploaded."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"must be a number > 0 (the table's units per metre, 1000 for mm), got {text!r}"
        )
    return value


def _frames(text: str, *, all_frames: bool = False) -> int:
    """A frame count: a whole number >= 1 (or -1, "all", where ``all_frames``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and not (all_frames and value == -1):
        raise argparse.ArgumentTypeError(
            f"must be a whole number >= 1{' or -1 (all)' if all_frames else ''}, got {text!r}"
        )
    return value


def _export_paths(npz: Path, formats: Sequence[str]) -> dict[str, Path]:
    """Where ``--export`` writes each output: beside the .npz, named like it (``walk.glb``,
    ``walk.bvh``, ...; the Parquet tables ``walk_qpos.parquet`` and ``walk_xpos.parquet``)."""
    paths: dict[str, Path] = {}
    for fmt in formats:
        names = EXPORT_OUTPUTS[fmt]
        for name in names:
            stem = npz.stem if len(names) == 1 else f"{npz.stem}_{name}"
            paths[name] = npz.with_name(f"{stem}.{fmt}")
    return paths


def cmd_jobs_list(client: Client, args: argparse.Namespace) -> None:
    kwargs: dict[str, Any] = {
        "status": args.status,
        "job_type": args.type,
        "created_after": args.created_after,
        "created_before": args.created_before,
        "run_id": args.run_id,
        "has_output": args.has_output,
        "input_asset_id": args.input_asset_id,
    }
    if args.all:
        items = list(client.jobs.iter_jobs(**kwargs))
        page: dict[str, Any] = {"jobs": items, "total": len(items), "limit": None, "offset": 0}
    else:
        page = dict(client.jobs.list(**kwargs, limit=args.limit, offset=args.offset))

    def human(p: Mapping[str, Any]) -> None:
        rows = [
            {
                **job,
                "progress": f"{float(job.get('progress') or 0):.0%}",
                "output": (job.get("output") or {}).get("retarget_output_asset_id"),
            }
            for job in p["jobs"]
        ]
        _table(
            rows,
            [
                ("job_id", "JOB"),
                ("status", "STATUS"),
                ("progress", "PROGRESS"),
                ("created_at", "CREATED"),
                ("output", "OUTPUT ASSET"),
            ],
        )
        _page_footer(p, "jobs")

    _emit(args, page, human)


def cmd_jobs_get(client: Client, args: argparse.Namespace) -> None:
    _emit(args, client.jobs.get(args.job_id), _fields)


def cmd_jobs_wait(client: Client, args: argparse.Namespace) -> None:
    job = client.jobs.wait(args.job_id, interval=args.interval, timeout=args.timeout)
    _emit(args, job, _fields)


def cmd_jobs_download_outputs(client: Client, args: argparse.Namespace) -> None:
    files = client.jobs.download_outputs(args.job_id, args.folder)
    result = {name: str(path) for name, path in files.items()}
    _emit(args, result, lambda r: print("\n".join(f"{k}\t{v}" for k, v in r.items())))


def cmd_jobs_cancel(client: Client, args: argparse.Namespace) -> None:
    _emit(args, client.jobs.cancel(args.job_id), _fields)


def cmd_assets_list(client: Client, args: argparse.Namespace) -> None:
    if args.all:
        items = list(client.assets.iter_assets(args.purpose, args.reference_count))
        page: dict[str, Any] = {"assets": items, "total": len(items), "limit": None, "offset": 0}
    else:
        page = dict(client.assets.list(args.purpose, args.reference_count, args.limit, args.offset))

    def human(p: Mapping[str, Any]) -> None:
        _table(
            p["assets"],
            [
                ("asset_id", "ASSET"),
                ("filename", "FILENAME"),
                ("purpose", "PURPOSE"),
                ("status", "STATUS"),
                ("size_bytes", "BYTES"),
                ("reference_count", "REFS"),
                ("created_at", "CREATED"),
            ],
        )
        _page_footer(p, "assets")

    _emit(args, page, human)


def cmd_assets_get(client: Client, args: argparse.Namespace) -> None:
    _emit(args, client.assets.get(args.asset_id), _fields)


def cmd_assets_download(client: Client, args: argparse.Namespace) -> None:
    saved = _download(client, args.asset_id, args.destination, args.quiet or args.json)
    _emit(args, saved, lambda r: print(r["path"]))


def cmd_assets_delete(client: Client, args: argparse.Namespace) -> None:
    client.assets.delete(args.asset_id)
    _emit(args, {"asset_id": args.asset_id, "deleted": True}, lambda r: print("deleted"))


def cmd_assets_cleanup(client: Client, args: argparse.Namespace) -> None:
    result = client.assets.cleanup(args.older_than_days, dry_run=not args.yes)

    def human(r: Mapping[str, Any]) -> None:
        _table(
            r["assets"],
            [
                ("asset_id", "ASSET"),
                ("filename", "FILENAME"),
                ("purpose", "PURPOSE"),
                ("size_bytes", "BYTES"),
                ("created_at", "CREATED"),
            ],
        )
        done = "would delete" if r["dry_run"] else "deleted"
        print(f"{done} {len(r['assets'])} asset(s), {r['size_bytes']} bytes")
        if r["in_use"]:
            print(f"left {len(r['in_use'])} a job started using meanwhile")
        if r["dry_run"] and r["assets"]:
            print("nothing deleted: run again with --yes to delete them")
        print(r["note"])

    _emit(args, result, human)


def cmd_characters_list(client: Client, args: argparse.Namespace) -> None:
    page = dict(client.characters.list(args.name_contains, args.ready, args.limit, args.offset))

    def human(p: Mapping[str, Any]) -> None:
        rows = [{**c, "latest": c.get("latest_version")} for c in p["characters"]]
        _table(
            rows,
            [
                ("character_id", "CHARACTER"),
                ("name", "NAME"),
                ("latest", "LATEST"),
                ("version_count", "VERSIONS"),
                ("description", "DESCRIPTION"),
            ],
        )
        _page_footer(p, "characters")

    _emit(args, page, human)


def cmd_characters_get(client: Client, args: argparse.Namespace) -> None:
    _emit(args, client.characters.get(args.character_id), _fields)


# --------------------------------------------------------------------------- parser


def _tristate(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _common() -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand (defaults suppressed so a later
    occurrence does not reset an earlier one)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument(
        "--api-key", default=argparse.SUPPRESS, help=f"API key (default: ${API_KEY_ENV})"
    )
    group.add_argument(
        "--base-url", default=argparse.SUPPRESS, help=f"API address (default: ${BASE_URL_ENV})"
    )
    group.add_argument(
        "--request-timeout",
        type=float,
        default=argparse.SUPPRESS,
        help=f"seconds per network operation (default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON on stdout"
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars"
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging"
    )
    return common


def _page_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="page size, 1-100 (default 50)")
    parser.add_argument("--offset", type=int, default=0, help="items to skip (default 0)")


def build_parser() -> argparse.ArgumentParser:
    """The ``myo`` argument parser."""
    common = _common()
    parser = _Parser(
        prog="myo",
        description="MyoSapiens API from the shell: upload motion capture, retarget it onto a "
        "character, download the joint angles.",
        parents=[common],
        epilog=f"The key comes from --api-key or ${API_KEY_ENV}; the address from --base-url or "
        f"${BASE_URL_ENV} (default https://api.myolab.ai).",
    )
    parser.add_argument("--version", action="version", version=f"myo (myosdk) {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def sub(group: Any, name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = group.add_parser(
            name, help=help_text, description=help_text, parents=[common]
        )
        p.set_defaults(handler=handler)
        return p

    p = sub(
        commands,
        "upload",
        cmd_upload,
        "upload a file (recording, markerset XML, GLB motion) as an asset",
    )
    p.add_argument("file")
    p.add_argument("--purpose", help="asset purpose (default: from the extension)")
    p.add_argument("--metadata", help="JSON object stored with the asset")

    p = sub(
        commands,
        "retarget",
        cmd_retarget,
        "upload a recording and a markerset, retarget, wait and download the .npz",
    )
    p.add_argument(
        "recording", help="the marker recording: .c3d, .trc, or a .csv/.parquet trackers table"
    )
    p.add_argument(
        "markerset",
        help="the markerset XML file, or the name of a shipped markerset such as cmu "
        "(when no file of that name exists)",
    )
    p.add_argument(
        "-o", "--output", help="where to write the .npz (default: ./<recording name>.npz)"
    )
    p.add_argument("--character-id", default=DEFAULT_CHARACTER_ID)
    p.add_argument("--character-version", default=DEFAULT_CHARACTER_VERSION)
    p.add_argument("--gender", choices=["male", "female"], default="male")
    p.add_argument("--height", type=float, help="subject height in metres")
    p.add_argument("--weight", type=float, help="subject weight in kg")
    p.add_argument("--no-scaling", action="store_true", help="do not scale the character")
    p.add_argument(
        "--rotation",
        choices=ROTATIONS,
        help="the recording's vertical axis is +Y (yup_to_zup) or -Y (ydown_to_zup); default:"
        " detected from the markers",
    )
    p.add_argument(
        "--mocap-scale",
        type=_positive,
        metavar="N",
        help="units per metre of a CSV/parquet table (default 1000: millimetres; 1 for metres);"
        " C3D and TRC files state their units",
    )
    p.add_argument(
        "--clip-length",
        type=functools.partial(_frames, all_frames=True),
        metavar="N",
        help="retarget the first N frames only (default, or -1: the whole recording)",
    )
    p.add_argument(
        "--n-frames-scaling",
        type=_frames,
        metavar="N",
        help="frames used to scale the character to the subject (default: the server's choice)",
    )
    p.add_argument("--metadata", help="JSON object stored with the job")
    p.add_argument(
        "--export",
        type=_export_list,
        default=[],
        metavar="FORMATS",
        help="also write these formats beside the .npz, named like it (comma-separated: glb,"
        " bvh, mot, csv, parquet as <name>_qpos/_xpos.parquet, html: the viewer page); the"
        " server makes them (myo-server's extension)",
    )
    p.add_argument("--timeout", type=float, help="give up waiting after this many seconds")
    p.add_argument("--interval", type=float, default=1.0, help="poll interval (default 1 s)")

    jobs = sub(commands, "jobs", _group_help, "list, inspect, wait for and cancel jobs")
    jobs_cmds = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", parser_class=_Parser)
    jobs_cmds.required = True
    p = sub(jobs_cmds, "list", cmd_jobs_list, "list jobs, newest first")
    p.add_argument("--status", action="append", help="filter; repeatable (QUEUED, RUNNING, ...)")
    p.add_argument("--type", action="append", help="job type filter; repeatable (retarget)")
    p.add_argument("--created-after", help="ISO 8601 time")
    p.add_argument("--created-before", help="ISO 8601 time")
    p.add_argument("--run-id")
    p.add_argument("--has-output", type=_tristate, metavar="true|false")
    p.add_argument("--input-asset-id")
    p.add_argument("--all", action="store_true", help="every page")
    _page_args(p)
    p = sub(jobs_cmds, "get", cmd_jobs_get, "show a job")
    p.add_argument("job_id")
    p = sub(jobs_cmds, "wait", cmd_jobs_wait, "wait until a job finishes")
    p.add_argument("job_id")
    p.add_argument("--timeout", type=float)
    p.add_argument("--interval", type=float, default=2.0)
    p = sub(
        jobs_cmds,
        "download-outputs",
        cmd_jobs_download_outputs,
        "download every output of a succeeded job (verified) into a folder",
    )
    p.add_argument("job_id")
    p.add_argument("folder", nargs="?", default=".", help="directory, created (default .)")
    p = sub(jobs_cmds, "cancel", cmd_jobs_cancel, "cancel a queued or running job")
    p.add_argument("job_id")

    assets = sub(commands, "assets", _group_help, "list, inspect, download and delete assets")
    assets_cmds = assets.add_subparsers(
        dest="assets_command", metavar="ACTION", parser_class=_Parser
    )
    assets_cmds.required = True
    p = sub(assets_cmds, "list", cmd_assets_list, "list assets, newest first")
    p.add_argument("--purpose")
    p.add_argument("--reference-count", type=int, help="jobs using it (0 = unused)")
    p.add_argument("--all", action="store_true", help="every page")
    _page_args(p)
    p = sub(assets_cmds, "get", cmd_assets_get, "show an asset")
    p.add_argument("asset_id")
    p = sub(assets_cmds, "download", cmd_assets_download, "download an asset (verified)")
    p.add_argument("asset_id")
    p.add_argument("destination", nargs="?", default=".", help="file or directory (default .)")
    p = sub(assets_cmds, "delete", cmd_assets_delete, "delete an asset no job uses")
    p.add_argument("asset_id")
    p = sub(
        assets_cmds,
        "cleanup",
        cmd_assets_cleanup,
        "delete old assets no queued or running job uses (lists them unless --yes)",
    )
    p.add_argument(
        "--older-than-days",
        type=float,
        default=30.0,
        metavar="DAYS",
        help="only assets created more than DAYS ago (default 30)",
    )
    p.add_argument("--yes", action="store_true", help="delete them (default: only list them)")

    chars = sub(commands, "characters", _group_help, "browse the character catalog")
    chars_cmds = chars.add_subparsers(dest="chars_command", metavar="ACTION", parser_class=_Parser)
    chars_cmds.required = True
    p = sub(chars_cmds, "list", cmd_characters_list, "list characters")
    p.add_argument("--name-contains")
    p.add_argument("--ready", type=_tristate, metavar="true|false", help="has READY versions")
    _page_args(p)
    p = sub(chars_cmds, "get", cmd_characters_get, "show a character and its versions")
    p.add_argument("character_id")
    return parser


def _group_help(client: Client, args: argparse.Namespace) -> None:  # pragma: no cover
    raise AssertionError("a subcommand is required")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``myo``; returns the exit status (0 ok, 1 error, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, default in (("json", False), ("quiet", False), ("verbose", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.verbose:
        logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
        logging.getLogger("myosdk").setLevel(logging.DEBUG)
    try:
        with Client(
            api_key=getattr(args, "api_key", None),
            base_url=getattr(args, "base_url", None),
            timeout=getattr(args, "request_timeout", DEFAULT_TIMEOUT),
        ) as client:
            args.handler(client, args)
        sys.stdout.flush()  # output that fit the buffer meets a closed pipe only here
    except BrokenPipeError:
        # stdout's reader left (`myo assets list | head`): stop quietly, like a command killed
        # by SIGPIPE. Network errors never get here: the SDK raises its own errors for them.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (MyoSDKError, ValueError, OSError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, ConfigurationError) and message.startswith("No API key"):
            message = (
                f"no API key: pass --api-key or set {API_KEY_ENV} (for a local server: "
                f"`myo-server keys create`, and --base-url or {BASE_URL_ENV} for its address)"
            )
        print(f"myo: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "myo: interrupted (a started job keeps running: see `myo jobs list`)", file=sys.stderr
        )
        return 130
    finally:
        _flush_stdout()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
