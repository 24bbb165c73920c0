"""Job changes pushed to the client: ``myo://jobs/{id}`` resource updates and log messages.

Both protocol eras are served. Handshake era (2025-11-25): ``resources/subscribe`` and
``resources/unsubscribe`` register a session for a job's URI, and ``logging/setLevel`` sets the
level of the log messages a session receives (none until it asks). 2026-07-28 era: a
``subscriptions/listen`` stream naming a job's URI gets its ``ResourceUpdated`` events through
the server's subscription bus; ``logging/setLevel`` is gone (SEP-2577), and log messages ride
the request that asked for them (``log_to``).

A job is polled through the backend while someone watches it, until it ends.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, get_args

import anyio
from anyio.abc import TaskGroup
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import (
    EmptyResult,
    LoggingLevel,
    SetLevelRequestParams,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ._backend import Backend
from ._convert import TERMINAL, job_uri

__all__ = ["JOB_LOGGER", "JobWatcher", "log_to"]

log = logging.getLogger("myo_mcp")

#: Severity-ascending, as the protocol orders them.
LOG_LEVELS: tuple[LoggingLevel, ...] = get_args(LoggingLevel)
#: The logger name of the job messages the client receives.
JOB_LOGGER = "myo_mcp.jobs"
_JOB_PREFIX = job_uri("")


def _connection(session: ServerSession) -> Connection:
    """The client connection a request came on: its sessions are made per request."""
    connection: Connection = session._connection  # no public accessor on ServerSession
    return connection


def _allows(threshold: LoggingLevel | None, level: LoggingLevel) -> bool:
    return threshold is not None and LOG_LEVELS.index(level) >= LOG_LEVELS.index(threshold)


class JobWatcher:
    """Who watches which job, the sessions' log levels, and the polls that feed them.

    Args:
        backend: Where jobs are read.
        poll_s: Seconds between two reads of a watched job.
    """

    def __init__(self, backend: Backend, poll_s: float) -> None:
        self.backend = backend
        self.poll_s = poll_s
        #: The bus ``subscriptions/listen`` streams read (passed to the server).
        self.bus = InMemorySubscriptionBus()
        self._sessions: dict[str, set[Connection]] = {}  # handshake-era subscribers
        self._streams: dict[str, int] = {}  # open listen streams per URI
        self._levels: dict[Connection, LoggingLevel] = {}
        self._polled: set[str] = set()
        self._groups: list[TaskGroup] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, _server: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        """The server's lifespan: the task group the polls run in."""
        async with anyio.create_task_group() as tg:
            self._groups.append(tg)
            try:
                yield {}
            finally:
                self._groups.remove(tg)
                tg.cancel_scope.cancel()

    def install(self, server: MCPServer[Any]) -> None:
        """Serve subscribe, unsubscribe and setLevel, and watch the jobs listen streams name."""
        low = server._lowlevel_server  # the handlers MCPServer does not expose
        low.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        low.add_request_handler(
            "resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe
        )
        low.add_request_handler("logging/setLevel", SetLevelRequestParams, self._set_level)
        listen = low.get_request_handler("subscriptions/listen")
        if listen is not None:
            serve: Callable[[Any, Any], Awaitable[Any]] = listen.handler

            async def listen_and_watch(
                ctx: ServerRequestContext[Any, Any], params: SubscriptionsListenRequestParams
            ) -> Any:
                uris = [
                    u
                    for u in params.notifications.resource_subscriptions or ()
                    if u.startswith(_JOB_PREFIX)
                ]
                for uri in uris:
                    self._streams[uri] = self._streams.get(uri, 0) + 1
                    await self._watch(uri)
                try:
                    return await serve(ctx, params)
                finally:
                    for uri in uris:
                        self._streams[uri] -= 1

            low.add_request_handler(
                "subscriptions/listen", SubscriptionsListenRequestParams, listen_and_watch
            )

    def level_of(self, session: ServerSession) -> LoggingLevel | None:
        """The level a handshake-era session asked for (None: it sent no logging/setLevel)."""
        return self._levels.get(_connection(session))

    async def _subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        uri = str(params.uri)
        self._sessions.setdefault(uri, set()).add(_connection(ctx.session))
        if uri.startswith(_JOB_PREFIX):
            await self._watch(uri)
        return EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        self._sessions.get(str(params.uri), set()).discard(_connection(ctx.session))
        return EmptyResult()

    async def _set_level(
        self, ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams
    ) -> EmptyResult:
        self._levels[_connection(ctx.session)] = params.level
        return EmptyResult()

    def _watched(self, uri: str) -> bool:
        return bool(self._sessions.get(uri)) or self._streams.get(uri, 0) > 0

    async def _watch(self, uri: str) -> None:
        """Start polling ``uri``'s job unless it is polled already or has ended.

        Its state is read here, before the subscribe call returns, so a change made right
        after it is seen as one.
        """
        if uri in self._polled or not self._groups:
            return
        job_id = uri[len(_JOB_PREFIX) :]
        try:
            client = await self.backend.client()
            job = await client.jobs.get(job_id)
        except Exception as exc:  # no such job (yet), backend away: nothing to watch
            log.info("not watching %s: %s", uri, self.backend.redact(exc))
            return
        if job["status"] in TERMINAL:
            return
        self._polled.add(uri)
        self._groups[-1].start_soon(self._poll, uri, job_id, (job["status"], job.get("progress")))

    async def _poll(self, uri: str, job_id: str, last: tuple[str, Any]) -> None:
        try:
            while self._watched(uri):
                await anyio.sleep(self.poll_s)
                try:
                    client = await self.backend.client()
                    job = await client.jobs.get(job_id)
                except Exception as exc:
                    log.warning("cannot read %s: %s", uri, self.backend.redact(exc))
                    continue
                state = (job["status"], job.get("progress"))
                if state != last:
                    await self._notify(uri, job, status_changed=state[0] != last[0])
                    last = state
                if job["status"] in TERMINAL:
                    self._sessions.pop(uri, None)  # it will not change again
                    return
        finally:
            self._polled.discard(uri)

    async def _notify(self, uri: str, job: Mapping[str, Any], *, status_changed: bool) -> None:
        if self._streams.get(uri, 0) > 0:
            await self.bus.publish(ResourceUpdated(uri=uri))
        message = _status_message(job)
        for connection in list(self._sessions.get(uri, ())):
            try:
                await connection.send_resource_updated(uri)
                if status_changed and _allows(self._levels.get(connection), "info"):
                    with _logging_capability():
                        await connection.log("info", message, JOB_LOGGER)
            except Exception:  # the connection has gone: forget it
                self._sessions[uri].discard(connection)
                self._levels.pop(connection, None)


def _status_message(job: Mapping[str, Any]) -> str:
    progress = job.get("progress")
    running = job["status"] == "RUNNING" and isinstance(progress, float | int)
    shown = f" ({progress:.0%})" if running else ""
    return f"Job {job['job_id']} is {job['status']}{shown}."


async def log_to(ctx: Context[Any, Any], level: LoggingLevel, message: str) -> None:
    """Send a log message on the request ``ctx`` serves, if the client asked for that level.

    2026-07-28 era: the SDK drops it unless the request opted in at that level or below.
    Handshake era: sent if the session's ``logging/setLevel`` allows it.
    """
    watcher = getattr(ctx.mcp_server, "job_watcher", None)
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        session = ctx.request_context.session
        if not isinstance(watcher, JobWatcher) or not _allows(watcher.level_of(session), level):
            return
    with contextlib.suppress(Exception), _logging_capability():  # never fails the call
        await ctx.log(level, message, logger_name=JOB_LOGGER)


@contextlib.contextmanager
def _logging_capability() -> Iterator[None]:
    """Use MCP logging without its deprecation warning. The 2026-07-28 protocol deprecates the
    capability (SEP-2577), yet clients of both eras still read it, so we send job messages on
    purpose; the SDK's warning would otherwise reach stderr with every message (or, where
    warnings are errors, drop the message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        yield
