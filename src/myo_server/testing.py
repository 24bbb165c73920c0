"""Helpers for tests that talk to a real server: tenants, three-step uploads, polling.

Used by this project's server, SDK and MCP tests; safe to use in yours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ._auth import create_api_key, create_tenant
from ._embed import LocalServer


def new_tenant_key(srv: LocalServer, name: str = "test") -> str:
    """An API key of a new, isolated tenant of ``srv``."""
    store = srv.runtime.store
    key, _ = create_api_key(store, create_tenant(store, name), name)
    return key


def new_tenant_client(srv: LocalServer, name: str = "test") -> httpx.Client:
    """An httpx client authenticated as a new, isolated tenant of ``srv``."""
    key = new_tenant_key(srv, name)
    return httpx.Client(
        base_url=srv.base_url, headers={"X-Api-Key": key}, timeout=30.0, trust_env=False
    )


def initiate(
    client: httpx.Client, filename: str, size: int | None, purpose: str = "retarget"
) -> dict[str, Any]:
    """Step 1: the presigned POST for a file."""
    body: dict[str, Any] = {"purpose": purpose, "filename": filename}
    if size is not None:
        body["expected_size_bytes"] = size
    r = client.post("/v1/assets/initiate", json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def post_file(info: dict[str, Any], data: bytes, filename: str = "file.bin") -> httpx.Response:
    """Step 2: the multipart POST to the presigned URL (no API key)."""
    return httpx.post(
        info["upload_url"],
        data=info["fields"],
        files={"file": (filename, data, "application/octet-stream")},
        trust_env=False,
        timeout=60.0,
    )


def upload(
    client: httpx.Client, data: bytes, filename: str = "walk.c3d", purpose: str = "retarget"
) -> str:
    """All three steps; returns the completed asset's id."""
    info = initiate(client, filename, len(data), purpose)
    r = post_file(info, data, filename)
    assert r.status_code == 204, r.text
    r = client.post(f"/v1/assets/{info['asset_id']}/complete")
    assert r.status_code == 200, r.text
    asset_id: str = info["asset_id"]
    return asset_id


def upload_path(client: httpx.Client, path: Path) -> str:
    """Upload a local file (three steps)."""
    return upload(client, path.read_bytes(), path.name)


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def job_status(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """GET the job (asserting 200)."""
    r = client.get(f"/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def wait_job(
    client: httpx.Client, job_id: str, statuses: tuple[str, ...], timeout: float = 120.0
) -> dict[str, Any]:
    """Poll a job until its status is one of ``statuses``."""
    job: dict[str, Any] = wait_for(
        lambda: (j := job_status(client, job_id))["status"] in statuses and j,
        timeout=timeout,
        interval=0.05,
    )
    return job
