"""Fixtures of the server tests: a real server on loopback per module, a tenant per test, a long
recording, child processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

import myo_retarget
from myo_server import LocalServer
from myo_server.testing import new_tenant_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def srv(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LocalServer]:
    """A server without workers (jobs stay QUEUED), one per test module."""
    data_dir = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    with LocalServer(data_dir=data_dir, workers=0) as server:
        yield server


@pytest.fixture
def client(srv: LocalServer) -> Iterator[httpx.Client]:
    """A client of a new, isolated tenant of ``srv``."""
    with new_tenant_client(srv) as c:
        yield c


@pytest.fixture(scope="session")
def cmu_markerset() -> Path:
    """The engine's shipped CMU markerset XML (fits the sample recording)."""
    return Path(myo_retarget.__file__).parent / "data" / "markersets" / "cmu.xml"


@pytest.fixture(scope="session")
def tiled_recording(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``tiled_recording(n)``: the sample tiled ``n`` times (412 n frames), written once."""
    made: dict[int, Path] = {}

    def make(repeats: int) -> Path:
        if repeats not in made:
            import ezc3d

            c = ezc3d.c3d(str(myo_retarget.sample_c3d_path()))
            pts = c["data"]["points"]
            c["data"]["points"] = np.concatenate([pts] * repeats, axis=2)
            meta = c["data"]["meta_points"]
            for name in ("residuals", "camera_masks"):
                c["data"]["meta_points"][name] = np.concatenate([meta[name]] * repeats, axis=2)
            path = tmp_path_factory.mktemp("tiled") / f"sample_x{repeats}.c3d"
            c.write(str(path))
            made[repeats] = path
        return made[repeats]

    return make


@pytest.fixture(scope="session")
def long_recording(tiled_recording: Callable[[int], Path]) -> Path:
    """The sample recording tiled 40 times (16,480 frames): a job that runs for seconds."""
    return tiled_recording(40)


def _child_pids(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.fixture
def child_pids() -> Callable[[int], list[int]]:
    """``child_pids(pid)``: the process ids of ``pid``'s children (Linux: reads /proc)."""
    return _child_pids
