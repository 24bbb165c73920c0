"""Job handles: one started job to follow (``stream``), wait on (``wait``), cancel or download.
Twins ``JobHandle`` and ``AsyncJobHandle``; ``client.jobs.create_retarget`` and
``client.jobs.handle`` make them."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from myosdk._core import JobWaiter, is_terminal, job_failure
from myosdk._exceptions import RateLimitError
from myosdk._streaming import notify
from myosdk._types import CancelResult, Job

if TYPE_CHECKING:
    from myosdk._client import AsyncClient, Client
    from myosdk._jobs import JobProgress

__all__ = ["DEFAULT_INTERVAL", "AsyncJobHandle", "JobHandle"]

#: Seconds between two polls of a job (as ``jobs.wait``'s default).
DEFAULT_INTERVAL = 2.0


class _HandleState:
    """What both twins hold: the job id, the last state seen and the poll interval."""

    def __init__(self, job: Mapping[str, Any], interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self._job = cast(Job, dict(job))
        self._interval = interval

    @property
    def job_id(self) -> str:
        """The job's id."""
        return str(self._job["job_id"])

    @property
    def job(self) -> Job:
        """The last state of the job seen (as started, or as last polled)."""
        return self._job

    @property
    def status(self) -> str:
        """The last status seen: QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELED."""
        return str(self._job["status"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(job_id={self.job_id!r}, status={self.status!r})"


class JobHandle(_HandleState):
    """A started job: follow it with ``stream()``, or ``wait()`` for it to succeed.

    Args:
        client: The client that started (or found) the job.
        job: The job as the server last answered (at least ``job_id`` and ``status``).
        interval: Seconds between polls.

    Example:
        >>> handle = client.jobs.create_retarget("walk.c3d", "cmu.xml")  # doctest: +SKIP
        >>> for job in handle.stream():  # doctest: +SKIP
        ...     print(job["status"], job["progress"])
        >>> handle.download_outputs("out")  # doctest: +SKIP
    """

    def __init__(
        self, client: Client, job: Mapping[str, Any], interval: float = DEFAULT_INTERVAL
    ) -> None:
        super().__init__(job, interval)
        self._client = client

    def refresh(self) -> Job:
        """Fetch the job's current state (also kept as ``.job``)."""
        self._job = self._client.jobs.get(self.job_id)
        return self._job

    def stream(self, timeout: float | None = None) -> Iterator[Job]:
        """Poll the job and yield its state each time its status or progress changes, up to and
        including its final state (SUCCEEDED, FAILED or CANCELED; a failure is yielded, not
        raised).

        Args:
            timeout: Give up after this many seconds (None: as long as it takes).

        Yields:
            The job (``status``, ``progress`` 0-1, ``message``, ...), first as polled now.

        Raises:
            JobTimeoutError: ``timeout`` passed (``.job`` is the last state; the job runs on).
        """
        waiter = JobWaiter(self._interval, timeout, time.monotonic())
        while True:
            try:
                job = self.refresh()
            except RateLimitError as err:
                self._client._sleep(waiter.after_rate_limit(err, time.monotonic()))
                continue
            if waiter.polled(job):
                yield job
            if is_terminal(job):
                return
            self._client._sleep(waiter.after_poll(time.monotonic()))

    def wait(self, timeout: float | None = None, on_status: JobProgress | None = None) -> Job:
        """Wait until the job succeeds.

        Unlike ``jobs.wait`` (the reference's, which returns a failed job), a job that fails or
        is canceled raises, so the job returned always has its outputs.

        Args:
            timeout: Give up after this many seconds (None: as long as it takes).
            on_status: Called with the job each time its status or progress changes.

        Returns:
            The SUCCEEDED job (its outputs under ``output``).

        Raises:
            JobFailedError: The job ended FAILED (the server's reason as ``error_message``) or
                CANCELED.
            JobTimeoutError: ``timeout`` passed (``.job`` is the last state; the job runs on).
        """
        for job in self.stream(timeout):
            if on_status is not None:
                on_status(job)
        failure = job_failure(self._job)
        if failure is not None:
            raise failure
        return self._job

    def cancel(self) -> CancelResult:
        """Cancel the job if QUEUED or RUNNING; see ``jobs.cancel``."""
        result = self._client.jobs.cancel(self.job_id)
        self._job = cast(Job, {**self._job, **result})
        return result

    def download_outputs(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Download every output of the succeeded job into ``folder``; see
        ``jobs.download_outputs``."""
        return self._client.jobs.download_outputs(self.job_id, folder)


class AsyncJobHandle(_HandleState):
    """A started job, followed with ``async for job in handle.stream()`` or awaited with
    ``await handle.wait()``; see ``JobHandle``."""

    def __init__(
        self, client: AsyncClient, job: Mapping[str, Any], interval: float = DEFAULT_INTERVAL
    ) -> None:
        super().__init__(job, interval)
        self._client = client

    async def refresh(self) -> Job:
        """Fetch the job's current state (also kept as ``.job``)."""
        self._job = await self._client.jobs.get(self.job_id)
        return self._job

    async def stream(self, timeout: float | None = None) -> AsyncIterator[Job]:
        """Yield the job each time its status or progress changes, up to and including its final
        state; see ``JobHandle.stream``."""
        waiter = JobWaiter(self._interval, timeout, time.monotonic())
        while True:
            try:
                job = await self.refresh()
            except RateLimitError as err:
                await self._client._sleep(waiter.after_rate_limit(err, time.monotonic()))
                continue
            if waiter.polled(job):
                yield job
            if is_terminal(job):
                return
            await self._client._sleep(waiter.after_poll(time.monotonic()))

    async def wait(self, timeout: float | None = None, on_status: JobProgress | None = None) -> Job:
        """Wait until the job succeeds (``on_status`` may be a coroutine function); see
        ``JobHandle.wait``."""
        async for job in self.stream(timeout):
            if on_status is not None:
                await notify(on_status, job)
        failure = job_failure(self._job)
        if failure is not None:
            raise failure
        return self._job

    async def cancel(self) -> CancelResult:
        """Cancel the job if QUEUED or RUNNING; see ``jobs.cancel``."""
        result = await self._client.jobs.cancel(self.job_id)
        self._job = cast(Job, {**self._job, **result})
        return result

    async def download_outputs(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Download every output of the succeeded job into ``folder``; see
        ``jobs.download_outputs``."""
        return await self._client.jobs.download_outputs(self.job_id, folder)
