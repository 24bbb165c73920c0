"""MCP server figures: process start -> ``initialize`` reply, and ``retarget_motion`` end to end.

1. Start-up: spawn the server, send ``initialize`` on stdin at once, time the first stdout line.
   ``myo-mcp`` (the installed entry point, embedded backend) and the bare ``mcp`` SDK's minimal
   one-tool server (written below) alternate run by run in the same session; medians are
   compared (target: myo-mcp <= 1.1x the bare server).
2. ``retarget_motion`` on the shipped 412-frame sample with the shipped ``cmu`` markerset, through
   a real MCP client session over stdio: the first call (the embedded backend starts on the
   handshake's heels) and warm calls.

Run by hand: ``uv run python benchmarks/bench_mcp.py [--runs 9] [--warm 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine_line

BARE_SERVER = '''
from mcp.server import MCPServer

mcp = MCPServer("bare")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


mcp.run()
'''

INITIALIZE = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        }
    )
    + "\n"
).encode()


def _entry_point() -> Path:
    entry = Path(sys.executable).parent / "myo-mcp"
    if not entry.exists():
        raise SystemExit(f"{entry} is missing: run 'uv sync' first")
    return entry


def time_to_initialize(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning ``cmd`` to its reply to ``initialize``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(INITIALIZE)
    proc.stdin.flush()
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    reply = json.loads(line)
    assert reply["id"] == 1 and "result" in reply, reply
    proc.stdin.close()
    proc.wait(30)
    proc.stdout.close()
    return elapsed


def bench_startup(runs: int, tmp: Path) -> None:
    bare_script = tmp / "bare_server.py"
    bare_script.write_text(BARE_SERVER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOSDK_")}
    env["MYO_HOME"] = str(tmp / "startup-home")
    bare_cmd = [sys.executable, str(bare_script)]
    myo_cmd = [str(_entry_point())]
    time_to_initialize(bare_cmd, env)  # warm the OS file cache for both
    time_to_initialize(myo_cmd, env)
    bare: list[float] = []
    myo: list[float] = []
    for _ in range(runs):
        bare.append(time_to_initialize(bare_cmd, env))
        myo.append(time_to_initialize(myo_cmd, env))
    b, m = statistics.median(bare), statistics.median(myo)
    print(f"\nprocess start -> initialize reply ({runs} runs each, alternating)")
    print(f"  bare mcp one-tool server  median {b:6.3f} s   min {min(bare):6.3f} s")
    print(f"  myo-mcp (17 tools)        median {m:6.3f} s   min {min(myo):6.3f} s")
    print(f"  ratio myo-mcp / bare      {m / b:6.2f}x   (target <= 1.10x)")


async def _retarget(warm: int, tmp: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from myo_mcp._analysis import engine_data_dir
    from myo_retarget import sample_c3d_path

    work = tmp / "work"
    work.mkdir()
    c3d = work / "sample.c3d"
    c3d.write_bytes(sample_c3d_path().read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOSDK_")}
    env["MYO_HOME"] = str(tmp / "retarget-home")
    params = StdioServerParameters(
        command=str(_entry_point()),
        args=["--allow-dir", str(work), "--allow-dir", str(engine_data_dir())],
        env=env,
    )
    started = time.perf_counter()
    with (tmp / "server.log").open("w") as errlog:
        transport: Any = stdio_client(params, errlog=errlog)
        async with Client(transport) as client:
            connected = time.perf_counter() - started
            protocol = client.protocol_version
            times: list[float] = []
            for i in range(warm + 1):
                t0 = time.perf_counter()
                result = await client.call_tool(
                    "retarget_motion",
                    {
                        "c3d_path": str(c3d),
                        "markerset": "cmu",
                        "output_path": str(work / f"out{i}.npz"),
                    },
                )
                times.append(time.perf_counter() - t0)
                assert not result.is_error, result.content
                assert result.structured_content and result.structured_content["done"]
    print("\nretarget_motion, 412-frame sample + cmu markerset, over stdio (embedded backend)")
    print(f"  spawn + connect ({protocol})   {connected:6.3f} s")
    print(f"  first call (backend start + worker warm-up)   {times[0]:6.3f} s")
    if warm:
        print(
            f"  warm calls ({warm})  median {statistics.median(times[1:]):6.3f} s   "
            f"min {min(times[1:]):6.3f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="start-up runs per server")
    parser.add_argument("--warm", type=int, default=3, help="warm retarget_motion calls")
    args = parser.parse_args()
    from importlib.metadata import version

    import mcp  # noqa: F401  (its version for the header)

    print(f"bench_mcp: {machine_line()}, mcp {version('mcp')}, myo-mcp {version('myo-mcp')}")
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp:
        bench_startup(args.runs, Path(tmp))
        import anyio

        anyio.run(_retarget, args.warm, Path(tmp))


if __name__ == "__main__":
    main()
