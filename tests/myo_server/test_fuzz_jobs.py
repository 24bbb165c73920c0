"""benchmarks/fuzz_jobs.py, a short seeded run: it keeps working as the API changes (a failed
job's error became {error_message, error_type} and the script crashed at its summary), and no
damaged input leaves a job stuck or says only 'Internal error'."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_jobs.py"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_short_fuzz_ends_every_job_with_a_specific_message(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--seed", "3", "--c3d", "12", "--job-timeout", "120"],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    statuses = re.search(r"^final status: (.*)$", out, re.M)
    assert statuses, out[-3000:]
    counted = sum(int(n) for n in re.findall(r"(\d+)", statuses.group(1)))
    markersets = re.search(r"(\d+) hostile markersets", out)
    assert markersets, out[:3000]
    assert counted == 12 + int(markersets.group(1))
    assert re.search(r"^stuck \(.*\): 0$", out, re.M), out[-3000:]
    assert re.search(r"^messages that only say .*: 0$", out, re.M), out[-3000:]
    assert re.search(r"^worker peak RSS \(VmHWM\): \d+ MiB", out, re.M)
