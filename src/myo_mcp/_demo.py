"""``myo-mcp demo``: the whole story, as an MCP client talking to ``myo-mcp`` over stdio.

list_characters -> inspect_c3d -> upload_asset x2 -> start_retarget -> wait_for_job (live
progress) -> download_asset -> summarize_motion -> export_motion (GLB, viewer page) -> show_motion
(key poses: this client has no MCP Apps), on the shipped CMU sample and the shipped ``cmu``
markerset, against the embedded local backend (offline). Writes the .npz, the PNG plot, the PNG of
key poses, the animated GLB and the viewer's HTML page to ``./myo-demo/``; the backend's data stays
in ``./myo-demo/data`` so it never touches the user's.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from myo_retarget import sample_c3d_path, shipped_markerset_path

from ._analysis import engine_data_dir


class _DemoFailedError(Exception):
    """A tool call failed (already reported on the console)."""


def _failed(exc: BaseException) -> bool:
    if isinstance(exc, _DemoFailedError):
        return True
    return any(_failed(e) for e in getattr(exc, "exceptions", ()))


@dataclass
class _Step:
    tool: str
    seconds: float
    outcome: str


def _server_command(out: Path, data_dir: Path, sample_dir: Path) -> tuple[str, list[str]]:
    """``myo-mcp`` from this environment (the console script, else ``python -m myo_mcp``)."""
    args = [
        "--backend",
        "local",
        "--data-dir",
        str(data_dir),
        "--allow-dir",
        str(out),
        "--allow-dir",
        str(sample_dir),
        "--log-level",
        "INFO",
    ]
    script = Path(sys.executable).parent / ("myo-mcp.exe" if os.name == "nt" else "myo-mcp")
    if script.exists():
        return str(script), args
    found = shutil.which("myo-mcp")
    if found:
        return found, args
    return sys.executable, ["-m", "myo_mcp", *args]


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``myo-mcp demo``."""
    parser = argparse.ArgumentParser(
        prog="myo-mcp demo",
        description="Run the retargeting story through a real MCP session with myo-mcp "
        "(embedded backend, offline).",
    )
    parser.add_argument("--out", default="myo-demo", help="output directory (default ./myo-demo)")
    args = parser.parse_args(argv)
    import anyio

    try:
        return anyio.run(_demo, Path(args.out).resolve())
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if _failed(exc):
            return 1
        raise


async def _demo(out: Path) -> int:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    data_dir = out / "data"
    sample = sample_c3d_path()
    markerset = shipped_markerset_path("cmu")
    npz_path = out / f"{sample.stem}.npz"
    png_path = out / f"{sample.stem}_angles.png"
    poses_path = out / f"{sample.stem}_poses.png"
    log_path = out / "myo-mcp.log"
    command, cmd_args = _server_command(out, data_dir, engine_data_dir())
    env = {k: v for k, v in os.environ.items() if k not in ("MYOSDK_API_KEY", "MYOSDK_BASE_URL")}
    env["MYO_HOME"] = str(data_dir)
    params = StdioServerParameters(command=command, args=cmd_args, env=env)
    steps: list[_Step] = []
    exports: list[Path] = []
    console.rule("[bold]myo-mcp demo")
    console.print(f"server: [cyan]{Path(command).name} {' '.join(cmd_args[:2])}[/] over stdio")
    console.print(f"sample: {sample.name} (CMU subject 01, trial 01, first 412 frames)")
    console.print(f"output: {out}   server log: {log_path.name}\n")

    async def call(
        client: Client, tool: str, arguments: dict[str, Any], optional: bool = False, **kw: Any
    ) -> Any:
        shown = {
            k: (Path(v).name if isinstance(v, str) and "/" in v else v)
            for k, v in arguments.items()
        }
        console.print(
            f"[bold blue]→ {tool}[/]({', '.join(f'{k}={v!r}' for k, v in shown.items())})"
        )
        started = time.perf_counter()
        result = await client.call_tool(tool, arguments, **kw)
        seconds = time.perf_counter() - started
        if result.is_error:
            # Escaped: a message like "pip install 'myo-mcp[export]'" is no rich markup.
            text = escape(" ".join(getattr(c, "text", "") for c in result.content))
            if optional:  # e.g. an export whose optional library is not installed
                console.print(f"  [yellow]skipped:[/] {text}")
                steps.append(_Step(tool, seconds, "skipped"))
                return None, seconds
            console.print(f"[bold red]✗ {tool} failed:[/] {text}")
            steps.append(_Step(tool, seconds, "error"))
            raise _DemoFailedError(tool)
        return result, seconds

    t_total = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(cast(Any, transport)) as client:
            console.print(
                f"[dim]connected: protocol {client.protocol_version}, "
                f"{len((await client.list_tools()).tools)} tools[/]\n"
            )
            result, s = await call(client, "list_characters", {})
            chars = result.structured_content["characters"]
            character = chars[0]
            console.print(
                f"  {len(chars)} character(s): [green]{character['name']}[/] "
                f"{character['latest_version']} ({character['character_id']})"
            )
            steps.append(_Step("list_characters", s, f"{character['name']}"))

            result, s = await call(client, "inspect_c3d", {"path": str(sample)})
            info = result.structured_content
            best = info["best_markerset"]
            console.print(
                f"  {info['frames']} frames at {info['rate_hz']:g} Hz "
                f"({info['duration_s']:.2f} s), {len(info['labels'])} markers, "
                f"units {info['units']}, vertical {info['vertical_axis']}; "
                f"best markerset [green]{best['name']}[/] ({best['coverage']:.0%} coverage)"
            )
            steps.append(_Step("inspect_c3d", s, f"{info['frames']} frames, best {best['name']}"))

            ids = {}
            for path in (sample, markerset):
                result, s = await call(client, "upload_asset", {"path": str(path)})
                asset = result.structured_content["asset"]
                ids[path.suffix] = asset["asset_id"]
                console.print(
                    f"  asset [green]{asset['asset_id']}[/] {asset['filename']} "
                    f"{asset['size_bytes']} B verified={result.structured_content['verified']}"
                )
                steps.append(_Step("upload_asset", s, f"{asset['filename']}"))

            result, s = await call(
                client,
                "start_retarget",
                {"c3d_asset_id": ids[".c3d"], "markerset_asset_id": ids[".xml"]},
            )
            job = result.structured_content["job"]
            console.print(f"  job [green]{job['job_id']}[/] {job['status']}")
            steps.append(_Step("start_retarget", s, job["status"]))

            with Progress(
                TextColumn("  [progress.description]{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as bar:
                task = bar.add_task("waiting", total=100)

                async def on_progress(
                    progress: float, total: float | None, message: str | None
                ) -> None:
                    bar.update(
                        task, completed=progress, total=total or 100, description=message or ""
                    )

                done = False
                waited = 0.0
                while not done:
                    result, s = await call(
                        client,
                        "wait_for_job",
                        {"job_id": job["job_id"], "timeout_s": 25},
                        progress_callback=on_progress,
                    )
                    waited += s
                    done = result.structured_content["done"]
            job = result.structured_content["job"]
            if job["status"] != "SUCCEEDED":
                console.print(f"[bold red]job {job['status']}:[/] {job.get('error')}")
                return 1
            console.print(f"  {job['status']}: {job.get('message')}")
            steps.append(_Step("wait_for_job", waited, job["status"]))

            result, s = await call(
                client,
                "download_asset",
                {"asset_id": job["output_asset_id"], "destination": str(npz_path)},
            )
            got = result.structured_content
            console.print(
                f"  wrote [green]{got['path']}[/] ({got['size_bytes']:,} B, "
                f"sha256 {got['sha256'][:12]}…)"
            )
            steps.append(_Step("download_asset", s, f"{got['size_bytes']:,} B"))

            result, s = await call(client, "summarize_motion", {"path": str(npz_path)})
            summary = result.structured_content
            image = next(c for c in result.content if c.type == "image")
            png_path.write_bytes(base64.b64decode(image.data))
            steps.append(
                _Step(
                    "summarize_motion",
                    s,
                    f"rms {summary['rms_residual_mm']} mm, PNG {png_path.stat().st_size:,} B",
                )
            )

            # The GLB writer needs the `export` extra; the viewer page needs nothing more.
            for fmt in ("glb", "html"):
                arguments = {"path": str(npz_path), "format": fmt}
                result, s = await call(client, "export_motion", arguments, optional=fmt == "glb")
                if result is None:
                    continue
                wrote = result.structured_content
                exports.append(Path(wrote["path"]))
                console.print(f"  wrote [green]{wrote['path']}[/] ({wrote['size_bytes']:,} B)")
                console.print(f"  [dim]{wrote['note']}[/]")
                steps.append(_Step("export_motion", s, f"{fmt}, {wrote['size_bytes']:,} B"))

            # A client without MCP Apps (this one) gets the key poses as a PNG; Claude Desktop
            # and other hosts with Apps show the 3-D viewer in the conversation instead.
            result, s = await call(client, "show_motion", {"path": str(npz_path)})
            shown = result.structured_content
            image = next(c for c in result.content if c.type == "image")
            poses_path.write_bytes(base64.b64decode(image.data))
            console.print(
                f"  shown as {shown['shown_as']}: wrote [green]{poses_path.name}[/] "
                f"({poses_path.stat().st_size:,} B)"
            )
            steps.append(_Step("show_motion", s, f"key poses, PNG {poses_path.stat().st_size:,} B"))

    table = Table(title="Joint ranges (degrees)", show_lines=False)
    for col in ("joint", "min", "max", "range"):
        table.add_column(col, justify="right" if col != "joint" else "left")
    plotted = set(summary["plotted_joints"])
    for j in summary["joints"]:
        if j["joint"] in plotted:
            table.add_row(
                j["joint"], f"{j['min_deg']:.1f}", f"{j['max_deg']:.1f}", f"{j['range_deg']:.1f}"
            )
    console.print()
    console.print(table)
    console.print(
        f"fit: rms residual {summary['rms_residual_mm']} mm, max {summary['max_residual_mm']} mm, "
        f"failed frames {summary['failed_frames']}; worst markers "
        + ", ".join(f"{w['marker']} {w['rms_mm']} mm" for w in summary["worst_markers"][:3])
    )

    calls = Table(title="MCP calls")
    calls.add_column("#", justify="right")
    calls.add_column("tool")
    calls.add_column("time", justify="right")
    calls.add_column("result")
    for i, step in enumerate(steps, 1):
        calls.add_row(str(i), step.tool, f"{step.seconds:.2f} s", step.outcome)
    console.print(calls)
    console.print(
        f"[bold green]done[/] in {time.perf_counter() - t_total:.1f} s: "
        f"{npz_path.relative_to(Path.cwd()) if npz_path.is_relative_to(Path.cwd()) else npz_path}, "
        + ", ".join(p.name for p in (png_path, poses_path, *exports))
    )
    console.print(f"open {exports[-1].name} in a browser to see the character move.")
    console.print(
        "[dim]Sample data: mocap.cs.cmu.edu; the database was created with funding from "
        "NSF EIA-0196217.[/]"
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0
