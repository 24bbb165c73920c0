"""Fixtures shared by the tests of every package: the installed console scripts, and the
session's PostgreSQL cluster and test S3 service."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from .postgres import PostgresCluster, pg_bin, start_cluster
from .s3_service import S3Service, running_s3_service

ClosedPipeRun = Callable[..., subprocess.CompletedProcess[str]]


def _console_script(name: str) -> str:
    script = Path(sysconfig.get_path("scripts")) / name
    assert script.exists(), f"the {name} console script is not installed at {script} (uv sync)"
    return str(script)


def _run_into_closed_pipe(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    unbuffered: bool = False,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the console script ``argv[0]`` with ``argv[1:]``, its stdout a pipe whose reader has
    gone before the first write (``cmd | head`` once head has exited): every write fails.

    Args:
        argv: The script's name and its arguments.
        env: Variables added to this process's environment.
        unbuffered: Set PYTHONUNBUFFERED (output meets the closed pipe at the first print rather
            than at the last flush); otherwise it is unset, as in a shell.
        timeout: Seconds the command may take.

    Returns:
        The finished command, its stderr captured as text.
    """
    run_env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    run_env.update(env or {})
    if unbuffered:
        run_env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [_console_script(argv[0]), *argv[1:]],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=run_env,
            check=False,
            timeout=timeout,
        )
    finally:
        os.close(write_end)


@pytest.fixture(scope="session")
def console_script() -> Callable[[str], str]:
    """``console_script(name)``: the path of an installed console script (myo, myo-server...)."""
    return _console_script


@pytest.fixture(scope="session")
def run_into_closed_pipe() -> ClosedPipeRun:
    """``run_into_closed_pipe(argv, env=None, *, unbuffered=False, timeout=60)``: see
    :func:`_run_into_closed_pipe`."""
    return _run_into_closed_pipe


@pytest.fixture(scope="session")
def s3_service() -> Iterator[S3Service]:
    """A test S3 service (moto on 127.0.0.1) for the session; see tests/s3_service.py."""
    with running_s3_service() as service:
        yield service


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster started for the session (skips where PostgreSQL is not installed)."""
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """The URL of a new, empty database in the session's cluster."""
    return postgres_cluster.create_database()
