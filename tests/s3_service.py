"""A throwaway S3-compatible service for tests: moto's standalone server on 127.0.0.1.

Started once per test session (the ``s3_service`` fixture of tests/conftest.py); a test takes a
bucket of its own and points the standard AWS variables at the service, so code under test, and
child processes given :meth:`S3Service.env`, reach it as they would reach a real store.

Moto checks neither the signatures nor the policies of presigned requests (size limits, expiry):
tests of those read the signed documents instead.
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

ACCESS_KEY_ID = "myo-test-key"
SECRET_ACCESS_KEY = "myo-test-secret"
REGION = "us-east-1"
_bucket_numbers = itertools.count(1)


@dataclass(frozen=True)
class S3Service:
    """A running test S3 service.

    Attributes:
        endpoint_url: Its address (``http://127.0.0.1:PORT``).
    """

    endpoint_url: str

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a client at this service."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            # Not the developer's own AWS files: their profile or endpoint must not leak in.
            "AWS_CONFIG_FILE": "/nonexistent/myo-test-aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/myo-test-aws-credentials",
        }

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point this process's AWS variables at the service for one test."""
        for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env().items():
            monkeypatch.setenv(name, value)

    def client(self) -> Any:
        """A boto3 S3 client of the service (for setting up and inspecting, not under test)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        )

    def create_bucket(self) -> str:
        """A new, empty bucket; returns its name."""
        name = f"myo-test-{next(_bucket_numbers)}"
        self.client().create_bucket(Bucket=name)
        return name


@contextmanager
def running_s3_service() -> Iterator[S3Service]:
    """Start moto's S3 server on a free loopback port, in a process of its own (its request
    handling leaks temporary files this process would be warned about); stop it on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield S3Service(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
