"""Fixtures of the SDK tests: the anyio backend and a real myo_server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One embedded myo_server for the session (127.0.0.1, ephemeral port, its own key)."""
    try:
        from myo_server import LocalServer  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:  # the server package is built in parallel
        pytest.skip(f"myo_server.LocalServer is not available yet ({exc})")
    data_dir: Path = tmp_path_factory.mktemp("myo-server")
    with LocalServer(data_dir=data_dir, workers=1) as server:
        yield server
