"""Fixtures of the SDK tests: the anyio backend and real myo_servers on loopback."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from myosdk import Client

ServerFactory = Callable[..., contextlib.AbstractContextManager[Any]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def server_factory() -> ServerFactory:
    """``server_factory(data_dir, **LocalServer kwargs)``: a context manager serving a started
    myo_server (127.0.0.1, ephemeral port, its own key). Skips when the package is missing."""
    try:
        from myo_server import LocalServer
    except ImportError as exc:  # the server package is built in parallel
        pytest.skip(f"myo_server.LocalServer is not available ({exc})")

    @contextlib.contextmanager
    def start(data_dir: Path, **kwargs: Any) -> Iterator[Any]:
        with LocalServer(data_dir=data_dir, **kwargs) as server:
            yield server

    return start


@pytest.fixture(scope="session")
def local_server(
    server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A myo_server with one worker process: jobs really run."""
    with server_factory(tmp_path_factory.mktemp("myo-server"), workers=1) as server:
        yield server


@pytest.fixture(scope="session")
def idle_server(
    server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A myo_server without workers: jobs stay QUEUED, so queue states are deterministic."""
    with server_factory(tmp_path_factory.mktemp("myo-idle"), workers=0) as server:
        yield server


def _engine_has(name: str) -> bool:
    return hasattr(importlib.import_module("myo_retarget"), name)


def _wait_for_catalog(client: Client, timeout: float = 60.0) -> None:
    """The server fills its catalog from the engine in the background after start."""
    deadline = time.monotonic() + timeout
    while not client.characters.list()["characters"]:
        if not _engine_has("character_catalog"):
            pytest.skip("the engine does not export character_catalog yet: the catalog is empty")
        if time.monotonic() > deadline:
            pytest.fail("the server's character catalog stayed empty")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def wait_for_catalog() -> Callable[[Client], None]:
    """``wait_for_catalog(client)``: return once the server lists characters (jobs need them)."""
    return _wait_for_catalog


@pytest.fixture(scope="session")
def engine_has() -> Callable[[str], bool]:
    """``engine_has(name)``: whether the engine package exports ``name`` yet."""
    return _engine_has
