"""Job changes pushed to the client in both protocol eras: ``myo://jobs/{id}`` updates to
subscribers and status log messages, through real MCP sessions over a real backend whose jobs
stay QUEUED until canceled (a change the test makes when it wants)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import Client

from myo_mcp import Backend, McpConfig, build_server
from myo_server import LocalServer

pytestmark = pytest.mark.anyio
# The client's logging/setLevel and resources/subscribe are handshake-era (SEP-2577), and warn.
HANDSHAKE_ERA_CLIENT = pytest.mark.filterwarnings(
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning"
)


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


@contextlib.asynccontextmanager
async def queued_job(
    work: Path, idle_server: LocalServer, **client_options: Any
) -> AsyncIterator[tuple[Client, str]]:
    """A session over the worker-less server and a job of it that stays QUEUED."""
    config = McpConfig(backend="local", data_dir=idle_server.data_dir, allow_dirs=[work])
    backend = Backend(config, local_server=idle_server)
    try:
        async with Client(build_server(config, backend), **client_options) as client:
            ids = [
                structured(await client.call_tool("upload_asset", {"path": str(work / name)}))[
                    "asset"
                ]["asset_id"]
                for name in ("walk.c3d", "cmu.xml")
            ]
            started = await client.call_tool(
                "start_retarget", {"c3d_asset_id": ids[0], "markerset_asset_id": ids[1]}
            )
            yield client, structured(started)["job"]["job_id"]
    finally:
        await backend.aclose()


@HANDSHAKE_ERA_CLIENT
async def test_handshake_era_subscribe_and_set_level(work: Path, idle_server: LocalServer) -> None:
    updated: list[str] = []
    logs: list[types.LoggingMessageNotificationParams] = []
    got = anyio.Event()

    async def on_message(message: Any) -> None:
        note = getattr(message, "root", message)
        if isinstance(note, types.ResourceUpdatedNotification):
            updated.append(str(note.params.uri))
            got.set()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with queued_job(
        work, idle_server, mode="legacy", message_handler=on_message, logging_callback=on_log
    ) as (client, job_id):
        caps = client.server_capabilities
        assert caps.logging is not None
        assert caps.resources is not None and caps.resources.subscribe
        uri = f"myo://jobs/{job_id}"
        await client.set_logging_level("info")  # answered, not "method not found"
        await client.subscribe_resource(uri)
        structured(await client.call_tool("cancel_job", {"job_id": job_id}))
        with anyio.fail_after(10):
            await got.wait()
        assert updated == [uri]
        assert '"CANCELED"' in str((await client.read_resource(uri)).contents[0])
        with anyio.fail_after(5):
            while not logs:
                await anyio.sleep(0.05)
        assert logs[0].level == "info" and logs[0].logger == "myo_mcp.jobs"
        assert logs[0].data == f"Job {job_id} is CANCELED."
        await client.unsubscribe_resource(uri)

        # A level above info silences the job messages a tool call sends.
        logs.clear()
        await client.set_logging_level("warning")
        structured(await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_s": 1}))
        assert logs == []
        await client.set_logging_level("info")
        structured(await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_s": 1}))
        assert [m.data for m in logs] == [f"Job {job_id} is CANCELED."]


async def test_2026_era_listen_and_request_logs(work: Path, idle_server: LocalServer) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with queued_job(
        work, idle_server, mode="2026-07-28", log_level="info", logging_callback=on_log
    ) as (client, job_id):
        uri = f"myo://jobs/{job_id}"
        async with client.listen(resource_subscriptions=[uri]) as subscription:
            structured(await client.call_tool("cancel_job", {"job_id": job_id}))
            with anyio.fail_after(10):
                event = await subscription.__anext__()
        assert getattr(event, "uri", None) == uri
        # Log messages ride the request that opted in (log_level): wait_for_job's status.
        structured(await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_s": 1}))
        assert [(m.level, m.data) for m in logs] == [("info", f"Job {job_id} is CANCELED.")]
