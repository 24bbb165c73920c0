"""The engine's shipped files as myo_mcp offers them: no engine (numpy, MuJoCo) at start-up."""

from __future__ import annotations

import subprocess
import sys


def test_shipped_markersets_and_sample_load_no_engine() -> None:
    """The MCP server registers a resource per shipped markerset and the demo uses the sample
    when they start: the names and files come from the engine's package, whose light modules
    load without numpy, MuJoCo or ezc3d."""
    code = (
        "import sys, myo_mcp._server, myo_mcp._demo\n"
        "from myo_retarget import SHIPPED_MARKERSETS, sample_c3d_path, shipped_markerset_path\n"
        "assert all(shipped_markerset_path(n).is_file() for n in SHIPPED_MARKERSETS)\n"
        "assert sample_c3d_path().is_file()\n"
        "print(sorted(m for m in ('numpy', 'mujoco', 'ezc3d') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
