"""``myo-retarget``: retarget or inspect a marker recording (C3D, TRC, CSV or parquet trackers
table), or export a motion, from the command line."""

from __future__ import annotations

import argparse
import errno
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._exceptions import RetargetError
from ._export_tables import PARQUET_TABLES
from ._formats import DEFAULT_CALIBRATION_FRAMES, ROTATIONS, TRACKER_EXTENSIONS
from ._markerset import SHIPPED_MARKERSETS
from ._pipes import EXIT_BROKEN_PIPE, silence_stdout

_INPUT_HELP = (
    f"the marker recording: {', '.join(e[1:].upper() for e in TRACKER_EXTENSIONS[:-1])} or "
    f"{TRACKER_EXTENSIONS[-1][1:]} (a C3D, an OpenSim TRC, or a trackers table: time, then "
    "<marker>_x, <marker>_y, <marker>_z columns)"
)
_MOCAP_SCALE_HELP = (
    "CSV/parquet tables (and TRC files without Units): divisor taking the numbers to metres "
    "(default 1000: millimetres; 1 for metres)"
)


def _recording_options(parser: argparse.ArgumentParser) -> None:
    """The options of reading a recording, shared by run and inspect."""
    axes = parser.add_mutually_exclusive_group()
    axes.add_argument("--vertical-axis", help="override the detected vertical axis, e.g. +Y")
    axes.add_argument(
        "--rotation",
        choices=list(ROTATIONS),
        help="the vendor's named rotation: yup_to_zup (the lab's +Y is up) or ydown_to_zup (-Y)",
    )
    parser.add_argument("--mocap-scale", type=float, help=_MOCAP_SCALE_HELP)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="myo-retarget",
        description="Retarget motion capture (C3D, TRC, CSV or parquet trackers table) onto the "
        "default MuJoCo humanoid.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="retarget a recording (C3D, TRC, CSV, parquet) and write the motion as .npz"
    )
    run.add_argument("input", help=_INPUT_HELP)
    run.add_argument(
        "--markerset",
        required=True,
        help=f"a shipped markerset ({', '.join(SHIPPED_MARKERSETS)}) or the path of a markerset "
        "XML file",
    )
    run.add_argument("-o", "--output", help="output .npz (default: INPUT with .npz)")
    run.add_argument("--height", type=float, help="subject height in metres")
    run.add_argument("--weight", type=float, help="subject mass in kg")
    run.add_argument("--gender", choices=["male", "female"], default="male")
    run.add_argument("--no-scaling", action="store_true", help="keep the character's default size")
    _recording_options(run)
    run.add_argument("--frames", help="frame range FIRST:STOP (0-based, stop exclusive)")
    run.add_argument("--calibration-window", help="calibration window START:STOP in seconds")
    run.add_argument(
        "--calibration-frames",
        type=int,
        help=f"number of frames to calibrate (scale) on (default {DEFAULT_CALIBRATION_FRAMES})",
    )
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ins = sub.add_parser(
        "inspect",
        help="describe a recording (C3D, TRC, CSV, parquet) and the best-matching markerset",
    )
    ins.add_argument("input", help=_INPUT_HELP)
    _recording_options(ins)
    ins.add_argument("--json", action="store_true", help="print JSON")
    exp = sub.add_parser(
        "export",
        help="write a motion .npz as .glb, .bvh, .mot, .csv, .parquet or .html (the viewer)",
    )
    exp.add_argument("input", help="the motion .npz (written by `myo-retarget run`)")
    exp.add_argument("-o", "--output", required=True, help="the file to write")
    exp.add_argument("--format", help="the format, when OUTPUT's extension does not name it")
    exp.add_argument(
        "--table",
        choices=PARQUET_TABLES,
        help="parquet only: qpos (MuJoCo coordinates, the default) or xpos (body positions)",
    )
    exp.add_argument(
        "--markers",
        action="store_true",
        help="glb only: add the measured markers as small animated spheres",
    )
    draft = sub.add_parser(
        "draft-markerset",
        help="propose a markerset for a recording no shipped markerset covers (landmarks by "
        "name, the other markers by rigidity)",
    )
    draft.add_argument("input", help=_INPUT_HELP)
    draft.add_argument(
        "-o", "--output", help="the markerset XML to write (default: INPUT with .markerset.xml)"
    )
    _recording_options(draft)
    draft.add_argument("--json", action="store_true", help="print the per-marker rows as JSON")
    view = sub.add_parser(
        "view", help="write a motion .npz as one self-contained HTML page that plays it"
    )
    view.add_argument("input", help="the motion .npz (written by `myo-retarget run`)")
    view.add_argument("-o", "--output", help="the .html to write (default: INPUT with .html)")
    return p


def _stdout_console() -> Any:
    """A rich console on stdout that reports a closed pipe like print() does."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit with status 1 here; main() ends every closed-pipe case alike.
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "the reader of stdout has gone")

    return PipeConsole()


def _pair(text: str | None, kind: type[int] | type[float], what: str) -> Any:
    if text is None:
        return None
    try:
        a, b = text.split(":")
        return (kind(a), kind(b))
    except ValueError:
        raise RetargetError(f"{what} must look like START:STOP, not {text!r}") from None


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from ._retarget import RetargetOptions, retarget

    options = RetargetOptions(
        enable_scaling=not args.no_scaling,
        subject_gender=args.gender,
        subject_height=args.height,
        subject_weight=args.weight,
        vertical_axis=args.vertical_axis,
        frame_range=_pair(args.frames, int, "--frames"),
        calibration_window=_pair(args.calibration_window, float, "--calibration-window"),
        mocap_scale=args.mocap_scale,
        rotation=args.rotation,
        calibration_frames=args.calibration_frames,
    )
    out = Path(args.output) if args.output else Path(args.input).with_suffix(".npz")
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("retargeting"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=err,
        disable=args.quiet,
        transient=True,
    )
    with progress:
        task = progress.add_task("ik", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        motion = retarget(args.input, args.markerset, options=options, progress=on_progress)
    motion.save(out)
    summary = motion.summary()
    summary["output"] = str(out)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    table = Table(title=f"{Path(args.input).name} -> {out}", show_header=False)
    table.add_row("frames", f"{summary['frames']} at {summary['fps']:g} Hz")
    table.add_row("duration", f"{summary['duration_s']:.2f} s")
    table.add_row("RMS residual", _mm(summary["rms_residual_mm"]))
    table.add_row("max residual", _mm(summary["max_residual_mm"]))
    table.add_row("p95 frame max", _mm(summary["p95_frame_max_residual_mm"]))
    table.add_row("failed frames", str(summary["failed_frames"]))
    if summary["gap_filled_samples"]:
        table.add_row("gap-filled samples", f"{summary['gap_filled_samples']} (not fitted)")
    worst = ", ".join(f"{w['marker']} {w['rms_mm']:.1f}" for w in summary["worst_markers"])
    table.add_row("worst markers (mm)", worst)
    note = motion.unobserved_note()
    if note is not None:
        table.add_row("joints without data", note)
    _stdout_console().print(table)
    return 0


def _mm(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f} mm"


def _inspect(args: argparse.Namespace) -> int:
    from ._inspect import inspect_c3d

    axis = ROTATIONS[args.rotation] if args.rotation else args.vertical_axis
    info = inspect_c3d(args.input, vertical_axis=axis, mocap_scale=args.mocap_scale)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    from rich.table import Table

    table = Table(title=info["filename"], show_header=False)
    table.add_row("format", info["format"])
    table.add_row(
        "frames", f"{info['frames']} at {info['rate_hz']:g} Hz ({info['duration_s']:.2f} s)"
    )
    table.add_row("units", info["units"])
    det = f"from {info['vertical_axis_source']}" if info["vertical_axis_detected"] else "given"
    table.add_row("vertical axis", f"{info['vertical_axis']} ({det})")
    table.add_row("markers", f"{len(info['labels'])}: " + " ".join(info["labels"]))
    table.add_row("ignored points", str(len(info["ignored_labels"])))
    table.add_row("analog channels", str(info["analog_channels"]))
    gappy = [g for g in info["gaps"] if g["missing_frames"]]
    table.add_row(
        "gaps",
        ", ".join(f"{g['label']} {g['missing_pct']:.0f}%" for g in gappy[:12]) or "none",
    )
    filled = [g for g in info["gaps"] if g["gap_filled_frames"]]
    if filled:
        table.add_row(
            "gap-filled (not fitted)",
            ", ".join(f"{g['label']} {g['gap_filled_frames']}" for g in filled[:12]),
        )
    if info["empty_labels"]:
        table.add_row("labels without data", " ".join(info["empty_labels"]))
    best = info["best_markerset"]
    if best is not None:
        table.add_row(
            "best markerset",
            f"{best['name']} ({best['coverage'] * 100:.0f}% of its markers; missing: "
            + (", ".join(best["missing"]) or "none")
            + ")",
        )
        if best["note"]:
            table.add_row("", best["note"])
    elif info["empty_labels"] or (info["markersets"] and info["markersets"][0]["coverage"] > 0):
        # The closest shipped set and why it does not fit (too few trunk markers, labels
        # without data) say more than "none fits".
        top = info["markersets"][0]
        table.add_row(
            "best markerset",
            f"none fits: closest {top['name']} ({top['coverage'] * 100:.0f}% of its markers) "
            f"{top['note']}",
        )
    else:
        table.add_row("best markerset", "none fits: write a markerset XML for these labels")
    _stdout_console().print(table)
    return 0


def _export(args: argparse.Namespace) -> int:
    from ._export import export_motion

    options: dict[str, Any] = {} if args.table is None else {"table": args.table}
    if args.markers:
        options["markers"] = True
    out = export_motion(args.input, args.output, format=args.format, **options)
    print(f"wrote {out}")
    return 0


def _draft(args: argparse.Namespace) -> int:
    from ._draft import draft_markerset

    out = Path(args.output) if args.output else Path(args.input).with_suffix(".markerset.xml")
    draft = draft_markerset(
        args.input,
        vertical_axis=args.vertical_axis,
        rotation=args.rotation,
        mocap_scale=args.mocap_scale,
    )
    draft.save(out)
    if args.json:
        print(json.dumps({**draft.to_dict(), "output": str(out)}, indent=2))
        return 0
    from rich.table import Table

    table = Table(title=f"{Path(args.input).name}: draft markerset")
    for column in ("label", "body", "method", "confidence", "spread mm"):
        table.add_column(column, justify="right" if column[0] in "cs" else "left")
    for m in draft.markers:
        table.add_row(m.label, m.body, m.method, f"{m.confidence:.2f}", f"{m.spread_mm:.1f}")
    _stdout_console().print(table)
    # Plain lines after the table: a path is never wrapped.
    for left in draft.left_out:
        print(f"left out {left.label}: {left.reason}")
    for note in draft.notes:
        print(note)
    print(f"fit RMS {draft.fit_rms_mm:.1f} mm over {draft.fit_frames} frames; wrote {out}")
    return 0


def _view(args: argparse.Namespace) -> int:
    from ._viewer_html import write_viewer

    out = Path(args.output) if args.output else Path(args.input).with_suffix(".html")
    write_viewer(args.input, out)
    print(f"wrote {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 bad input, 2 usage, 141 stdout closed)."""
    args = _parser().parse_args(argv)
    try:
        commands = {
            "run": _run,
            "inspect": _inspect,
            "export": _export,
            "view": _view,
            "draft-markerset": _draft,
        }
        status = commands[args.command](args)
        sys.stdout.flush()  # output that fit the buffer meets a closed pipe only here
    except BrokenPipeError:
        # stdout's reader left (`myo-retarget inspect F | head -1`): stop quietly, like a command
        # killed by SIGPIPE. `run` has saved its .npz before printing: nothing is lost.
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except RetargetError as exc:
        print(f"myo-retarget: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"myo-retarget: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("myo-retarget: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
