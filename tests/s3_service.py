"""A throwaway S3-compatible service for tests: moto's standalone server on 127.0.0.1.

Started once per test session (the ``s3_service`` fixture of tests/conftest.py); a test takes a
bucket of its own and points the standard AWS variables at the service, so code under test, and
child processes given :meth:`S3Service.env`, reach it as they would reach a real store.

Moto checks neither the signatures nor the policies of presigned requests (size limits, expiry):
tests of those read the signed documents instead.
"""

from __future__ import annotations

import itertools
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
    """Start moto's S3 server on a free loopback port; stop it on exit."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Service(f"http://{host}:{port}")
    finally:
        server.stop()
