"""Retries and error mapping of both clients, with faults injected by ``httpx.MockTransport``
(a 429, a 503, a dropped connection: faults a healthy local server cannot produce on demand)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

from myosdk import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    DownloadResult,
    Job,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

BASE = "http://sdk.test"
Handler = Callable[[httpx.Request], httpx.Response]


def _sync(handler: Handler, **kwargs: int) -> Client:
    return Client(
        api_key="sk-test-secret",
        base_url=BASE,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **kwargs,
    )


def _async(handler: Handler, **kwargs: int) -> AsyncClient:
    return AsyncClient(
        api_key="sk-test-secret",
        base_url=BASE,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        **kwargs,
    )


def _job(status: str = "RUNNING", progress: float = 0.0) -> dict[str, object]:
    return {"job_id": "j1", "type": "retarget", "status": status, "progress": progress}


class Script:
    """Answers requests from a list (the last answer repeats) and records what was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_429_with_retry_after_is_honoured() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "1"}, json={"detail": "slow down"}),
        httpx.Response(200, json=_job()),
    )
    with _sync(script) as client:
        started = time.monotonic()
        assert client.jobs.get("j1")["status"] == "RUNNING"
        assert time.monotonic() - started >= 1.0
    assert len(script.requests) == 2


def test_429_exhausted_raises_rate_limit_error_with_retry_after() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "0", "x-request-id": "r9"}))
    with _sync(script, max_retries=1) as client, pytest.raises(RateLimitError) as info:
        client.characters.list()
    assert info.value.retry_after == 0.0
    assert info.value.attempts == 2
    assert info.value.request_id == "r9"
    assert len(script.requests) == 2


def test_503_then_success() -> None:
    script = Script(httpx.Response(503, text="unavailable"), httpx.Response(200, json=_job()))
    with _sync(script) as client:
        assert client.jobs.get("j1")["job_id"] == "j1"
    assert [r.method for r in script.requests] == ["GET", "GET"]


def test_retries_are_bounded_and_500_is_not_retried() -> None:
    script = Script(httpx.Response(503, json={"detail": "down"}))
    with _sync(script, max_retries=2) as client, pytest.raises(ServerError) as info:
        client.assets.get("a")
    assert len(script.requests) == 3
    assert "down" in str(info.value)
    assert "3 attempts" in str(info.value)
    script = Script(httpx.Response(500, json={"detail": "bug"}))
    with _sync(script) as client, pytest.raises(ServerError):
        client.assets.get("a")
    assert len(script.requests) == 1


def test_start_retarget_retries_with_one_idempotency_key() -> None:
    created = httpx.Response(201, json={"job_id": "j1", "type": "retarget", "status": "QUEUED"})
    script = Script(httpx.Response(502), httpx.ReadError("connection reset by peer"), created)
    with _sync(script) as client:
        job = client.jobs.start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    assert job["job_id"] == "j1"
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    bodies = {r.content for r in script.requests}
    assert len(script.requests) == 3
    assert len(keys) == 1
    assert len(bodies) == 1


def test_fresh_key_per_call() -> None:
    created = httpx.Response(201, json={"job_id": "j1", "type": "retarget", "status": "QUEUED"})
    script = Script(created)
    with _sync(script) as client:
        client.jobs.start_retarget(c3d_asset_id="c", markerset_asset_id="m")
        client.jobs.start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    keys = [r.headers["Idempotency-Key"] for r in script.requests]
    assert len(set(keys)) == 2


def test_connection_errors_are_retried_then_mapped() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json=_job()))
    with _sync(script) as client:
        assert client.jobs.get("j1")["job_id"] == "j1"
    script = Script(httpx.ConnectError("refused"))
    with _sync(script, max_retries=1) as client, pytest.raises(APIConnectionError) as info:
        client.jobs.get("j1")
    assert "after 2 attempts" in str(info.value)
    script = Script(httpx.ReadTimeout("slow"))
    with _sync(script, max_retries=0) as client, pytest.raises(APITimeoutError):
        client.jobs.get("j1")


def test_error_mapping_carries_detail_and_request_id() -> None:
    script = Script(
        httpx.Response(401, json={"detail": "Invalid API key"}, headers={"x-request-id": "abc"})
    )
    with _sync(script) as client, pytest.raises(AuthenticationError) as info:
        client.characters.list()
    assert "Invalid API key" in str(info.value)
    assert "abc" in str(info.value)
    assert "sk-test-secret" not in str(info.value)
    assert len(script.requests) == 1
    script = Script(httpx.Response(404, json={"detail": "no job 'x'"}))
    with _sync(script) as client, pytest.raises(NotFoundError, match="no job 'x'"):
        client.jobs.get("x")


def test_requests_carry_key_and_agent_and_never_log_them(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(httpx.Response(200, json={"characters": [], "total": 0}))
    with caplog.at_level(logging.DEBUG, logger="myosdk"), _sync(script) as client:
        client.characters.list(name_contains="hu", has_ready_versions=True)
    sent = script.requests[0]
    assert sent.headers["X-Api-Key"] == "sk-test-secret"
    assert sent.headers["User-Agent"].startswith("myosdk-python/")
    assert str(sent.url) == (
        f"{BASE}/v1/characters?name_contains=hu&has_ready_versions=true&limit=50&offset=0"
    )
    assert "characters.list" in caplog.text
    assert "sk-test-secret" not in caplog.text


def test_retried_delete_that_finds_the_asset_gone_succeeds() -> None:
    script = Script(httpx.Response(503), httpx.Response(404, json={"detail": "gone"}))
    with _sync(script) as client:
        client.assets.delete("a1")  # no error: the first attempt deleted it
    script = Script(httpx.Response(404, json={"detail": "no asset"}))
    with _sync(script) as client, pytest.raises(NotFoundError):
        client.assets.delete("a1")


def test_retried_cancel_that_finds_the_job_canceled_succeeds() -> None:
    script = Script(
        httpx.Response(504),
        httpx.Response(409, json={"detail": "job already CANCELED"}),
        httpx.Response(200, json=_job("CANCELED")),
    )
    with _sync(script) as client:
        assert client.jobs.cancel("j1")["status"] == "CANCELED"
    script = Script(httpx.Response(409, json={"detail": "job already SUCCEEDED"}))
    with _sync(script) as client, pytest.raises(ConflictError):
        client.jobs.cancel("j1")


def test_wait_reports_changes_and_times_out_with_the_last_job() -> None:
    script = Script(
        httpx.Response(200, json=_job("QUEUED")),
        httpx.Response(200, json=_job("RUNNING", 0.2)),
        httpx.Response(200, json=_job("RUNNING", 0.2)),
        httpx.Response(200, json=_job("RUNNING", 0.6)),
    )
    seen: list[tuple[str, float]] = []
    with _sync(script) as client, pytest.raises(TimeoutError) as info:
        client.jobs.wait(
            "j1",
            interval=0.05,
            timeout=1.0,
            on_progress=lambda job: seen.append((job["status"], job.get("progress") or 0.0)),
        )
    assert isinstance(info.value, JobTimeoutError)
    assert info.value.job["status"] == "RUNNING"
    assert seen == [("QUEUED", 0.0), ("RUNNING", 0.2), ("RUNNING", 0.6)]
    assert "still RUNNING" in str(info.value)


def test_wait_returns_failed_jobs_and_backs_off_on_429() -> None:
    script = Script(
        httpx.Response(200, json=_job("RUNNING")),
        httpx.Response(429, headers={"Retry-After": "0.3"}),
        httpx.Response(429, headers={"Retry-After": "0.3"}),
        httpx.Response(429, headers={"Retry-After": "0.3"}),
        httpx.Response(
            200,
            json={
                **_job("FAILED"),
                "error": {"error_message": "markers missing", "error_type": "MARKERSET_MISMATCH"},
            },
        ),
    )
    with _sync(script) as client:
        started = time.monotonic()
        job = client.jobs.wait("j1", interval=0.01)
    assert job["status"] == "FAILED"
    assert job["error"] == {"error_message": "markers missing", "error_type": "MARKERSET_MISMATCH"}
    assert time.monotonic() - started >= 0.9  # three Retry-After waits honoured


def test_arguments_are_checked_before_any_request() -> None:
    script = Script(httpx.Response(500))
    with _sync(script) as client:
        with pytest.raises(ValueError, match="exactly one"):
            client.jobs.start_retarget(c3d_asset_id="c", c3d_s3="k", markerset_asset_id="m")
        with pytest.raises(ValueError, match="job_id"):
            client.jobs.get("")
        with pytest.raises(FileNotFoundError):
            client.assets.upload_file("/nonexistent/walk.c3d")
        with pytest.raises(ValueError, match="purpose"):
            client.assets.upload_file(__file__)
    assert script.requests == []


@pytest.mark.anyio
async def test_async_client_retries_and_keeps_the_idempotency_key() -> None:
    created = httpx.Response(201, json={"job_id": "j1", "type": "retarget", "status": "QUEUED"})
    script = Script(httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(503), created)
    async with _async(script) as client:
        job = await client.jobs.start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    assert job["status"] == "QUEUED"
    assert len({r.headers["Idempotency-Key"] for r in script.requests}) == 1
    assert len(script.requests) == 3
    assert json.loads(script.requests[0].content)["c3d_asset_id"] == "c"


@pytest.mark.anyio
async def test_async_wait_timeout_and_paging() -> None:
    script = Script(httpx.Response(200, json=_job("RUNNING", 0.5)))
    async with _async(script) as client:
        with pytest.raises(JobTimeoutError) as info:
            await client.jobs.wait("j1", interval=0.05, timeout=0.2)
    assert info.value.job["progress"] == 0.5

    def pages(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        items = [
            {"job_id": f"j{i}", "status": "SUCCEEDED"}
            for i in range(offset, min(5, offset + limit))
        ]
        return httpx.Response(
            200, json={"jobs": items, "total": 5, "limit": limit, "offset": offset}
        )

    async with _async(pages) as client:
        ids = [
            job["job_id"] async for job in client.jobs.iter_jobs(status="SUCCEEDED", page_size=2)
        ]
    assert ids == ["j0", "j1", "j2", "j3", "j4"]
    with _sync(pages) as sync_client:
        assert [j["job_id"] for j in sync_client.jobs.iter_jobs(page_size=3)] == ids


@pytest.mark.anyio
async def test_async_wait_awaits_coroutine_callbacks() -> None:
    script = Script(
        httpx.Response(200, json=_job("RUNNING", 0.5)),
        httpx.Response(200, json=_job("SUCCEEDED", 1.0)),
    )
    seen: list[str] = []

    async def report(job: Job) -> None:  # e.g. an MCP progress notification
        await anyio.sleep(0)
        seen.append(job["status"])

    async with _async(script) as client:
        final = await client.jobs.wait("j1", interval=0.01, on_progress=report)
    assert final["status"] == "SUCCEEDED"
    assert seen == ["RUNNING", "SUCCEEDED"]


_STORED = b"joint angles " * 4096


def _stored_asset(url: str) -> dict[str, object]:
    return {
        "asset_id": "a1",
        "status": "COMPLETED",
        "filename": "walk.npz",
        "download_url": url,
        "size_bytes": len(_STORED),
        "checksum_sha256": hashlib.sha256(_STORED).hexdigest(),
    }


def _expired_then_busy_storage() -> Script:
    """Storage refuses the first link as expired, then answers 503 once, then the bytes."""
    return Script(
        httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"),
        httpx.Response(200, json=_stored_asset(f"{BASE}/store/a1?sig=new")),
        httpx.Response(503, text="slow down"),
        httpx.Response(200, stream=httpx.ByteStream(_STORED)),  # a body to stream, not preread
    )


def _check_renewed_and_retried(script: Script, saved: DownloadResult, path: Path) -> None:
    assert [(r.method, r.url.path, r.url.params.get("sig")) for r in script.requests] == [
        ("GET", "/store/a1", "old"),
        ("GET", "/v1/assets/a1", None),  # the expired link is renewed once
        ("GET", "/store/a1", "new"),
        ("GET", "/store/a1", "new"),  # the 503 is retried
    ]
    assert saved["size_bytes"] == len(_STORED)
    assert path.read_bytes() == _STORED


def test_download_renews_an_expired_link_and_retries_a_503(tmp_path: Path) -> None:
    script = _expired_then_busy_storage()
    with _sync(script) as client:
        saved = client.assets.download(_stored_asset(f"{BASE}/store/a1?sig=old"), tmp_path)
    _check_renewed_and_retried(script, saved, tmp_path / "walk.npz")


@pytest.mark.anyio
async def test_async_download_renews_an_expired_link_and_retries_a_503(tmp_path: Path) -> None:
    script = _expired_then_busy_storage()
    async with _async(script) as client:  # a caller's http_client: the fully async path
        saved = await client.assets.download(_stored_asset(f"{BASE}/store/a1?sig=old"), tmp_path)
    _check_renewed_and_retried(script, saved, tmp_path / "walk.npz")


def test_download_refused_again_raises_and_leaves_nothing(tmp_path: Path) -> None:
    script = Script(
        httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"),
        httpx.Response(200, json=_stored_asset(f"{BASE}/store/a1?sig=new")),
        httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"),
    )
    destination = tmp_path / "walk.npz"
    with _sync(script) as client, pytest.raises(PermissionDeniedError, match="AccessDenied"):
        client.assets.download(_stored_asset(f"{BASE}/store/a1?sig=old"), destination)
    assert len(script.requests) == 3  # renewed once, not in a loop
    assert not destination.exists()
    assert not list(destination.parent.glob("*.part"))  # no temporary file left
