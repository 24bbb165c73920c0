"""Each shared recording through a scripted assistant over a real stdio MCP session.

Prints, per recording of ``../shared/data/c3d``, how the conversation ended (retargeted with
legs, without, or stopped and why) and the characters it spent (calls + answers, compact JSON),
plus the size of ``tools/list``. The script follows only what the tools answer
(tests/myo_mcp/conversation.py).

    uv run python benchmarks/bench_conversations.py
    uv run python benchmarks/bench_conversations.py --command "uv run --directory OTHER myo-mcp"

The second form runs another checkout's server (e.g. an older commit, for before/after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.myo_mcp.conversation import converse  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "c3d"


async def _run(command: list[str], recordings: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work, home, out = Path(tmp, "work"), Path(tmp, "home"), Path(tmp, "work", "out")
        out.mkdir(parents=True)
        home.mkdir()
        for rec in recordings:
            shutil.copy(rec, work / rec.name)
        params = StdioServerParameters(
            command=command[0],
            args=[*command[1:], "--allow-dir", str(work), "--data-dir", str(home / "data")],
            env={"MYO_HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin"},
        )
        async with Client(params, read_timeout_seconds=600) as client:
            listed = await client.list_tools()
            tools = [
                t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools
            ]
            size = len(json.dumps({"tools": tools}, separators=(",", ":")))
            print(f"tools/list: {len(tools)} tools, {size:,} characters (compact JSON)\n")
            print("| recording | outcome | calls | characters | reason |")
            print("|---|---|---|---|---|")
            total = 0
            for rec in recordings:
                started = time.perf_counter()
                talk = await converse(client, work / rec.name, out)
                total += talk.chars
                reason = " ".join(talk.reason.split())[:160]
                calls = " > ".join(t.tool for t in talk.turns)
                print(
                    f"| {rec.name} | {talk.outcome} | {calls} | {talk.chars:,} | {reason} |"
                    f"  <!-- {time.perf_counter() - started:.1f} s -->"
                )
            print(f"\ntotal characters: {total:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default=f"{sys.executable} -m myo_mcp")
    parser.add_argument("recordings", nargs="*", type=Path)
    ns = parser.parse_args()
    recordings = ns.recordings or sorted(SHARED.glob("*.c3d"))
    if not recordings:
        sys.exit(f"no recordings: pass some, or put the shared data at {SHARED}")
    asyncio.run(_run(shlex.split(ns.command), recordings))


if __name__ == "__main__":
    main()
