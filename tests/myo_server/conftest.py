"""Fixtures of the server tests: a real server on loopback per module, a tenant per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

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
