"""``client.jobs``: start a retarget (or create one with a handle), get, wait, cancel, list.
Twins ``Jobs`` and ``AsyncJobs``."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from myosdk._core import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    JobWaiter,
    Pager,
    RetargetInput,
    Rotation,
    check_retarget_args,
    is_terminal,
    job_outputs,
    jobs_cancel,
    jobs_get,
    jobs_list,
    jobs_start_retarget,
    retarget_input,
    tracker_options,
)
from myosdk._exceptions import ConflictError, RateLimitError
from myosdk._handle import DEFAULT_INTERVAL, AsyncJobHandle, JobHandle
from myosdk._streaming import notify
from myosdk._types import CancelResult, Job, JobList, RetargetStarted

if TYPE_CHECKING:
    from myosdk._client import AsyncClient, Client

__all__ = ["AsyncJobs", "JobProgress", "Jobs"]

#: ``on_progress(job)``: called with the job whenever its status or progress changes. With
#: ``AsyncJobs.wait`` it may be a coroutine function (e.g. to send a progress notification).
JobProgress = Callable[[Job], object]


def _cancel_result(job: Mapping[str, Any]) -> CancelResult | None:
    if job.get("status") != "CANCELED":
        return None
    return {
        "job_id": job["job_id"],
        "status": "CANCELED",
        "message": str(job.get("message") or "Job canceled."),
    }


class Jobs:
    """Retargeting jobs: start, follow, cancel, list."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def start_retarget(
        self,
        c3d_asset_id: str | None = None,
        c3d_s3: str | None = None,
        markerset_asset_id: str | None = None,
        markerset_s3: str | None = None,
        character_id: str = DEFAULT_CHARACTER_ID,
        character_version: str = DEFAULT_CHARACTER_VERSION,
        enable_scaling: bool = True,
        subject_gender: str = "male",
        subject_height: float | None = None,
        subject_weight: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        export_glb: bool = False,
        export_formats: Sequence[str] | None = None,
        *,
        rotation: Rotation | None = None,
        mocap_scale: float | None = None,
        clip_length: int | None = None,
        n_frames_scaling: int | None = None,
        chunk_size: int | None = None,
        disable_contacts: bool | None = None,
        vertical_axis: str | None = None,
        frame_range: Sequence[int] | None = None,
        calibration_window: Sequence[float] | None = None,
    ) -> RetargetStarted:
        """Start retargeting a C3D recording onto a character.

        Sent with an ``Idempotency-Key`` (fresh per call, the same across its retries), so a
        retried request never starts a second job.

        Args:
            c3d_asset_id: The uploaded C3D (or give ``c3d_s3``, a storage key; exactly one).
            c3d_s3: Storage key of the C3D.
            markerset_asset_id: The uploaded markerset XML (or ``markerset_s3``; exactly one).
            markerset_s3: Storage key of the markerset.
            character_id: The character to drive (default: the standard humanoid).
            character_version: Its version.
            enable_scaling: Scale the character to the subject.
            subject_gender: ``"male"`` or ``"female"``.
            subject_height: Subject height in metres (None: the server's estimate/default).
            subject_weight: Subject weight in kg (None: the server's default).
            metadata: Free-form JSON stored with the job.
            export_glb: Also write the animated character as a GLB (the job's ``motion``
                output); a server whose engine lacks the GLB writer refuses it.
            export_formats: Exports the job also writes, of ``glb``, ``bvh``, ``mot``,
                ``csv``, ``parquet``, ``html`` (outputs by format: ``motion`` for glb, ``bvh``,
                ``mot``, ``csv``; ``qpos`` and ``xpos`` for parquet; ``viewer`` for html).
                This project's myo-server only: the hosted API refuses the field.
            rotation: Turn the marker coordinates before retargeting: ``"yup_to_zup"`` or
                ``"ydown_to_zup"`` for recordings whose vertical axis is +Y or -Y.
            mocap_scale: Units per metre of a tracker table (1000 for millimetres).
            clip_length: Frames of the recording to retarget (-1: all).
            n_frames_scaling: Frames used to scale the character to the subject.
            chunk_size: Frames per retargeting chunk (-1: one chunk).
            disable_contacts: Turn off foot-ground contacts while retargeting.

            vertical_axis: The recording's vertical axis (+X, -X, +Y, -Y, +Z, -Z).
            frame_range: ``[first, stop)`` 0-based frames to retarget.
            calibration_window: ``[start, stop)`` seconds to scale the character on.

            The first six are the vendor's newer API fields, the last three extensions of this
            project's myo-server (the hosted API refuses them): each is sent only when given
            (not None), so servers that predate them are not asked for them.

        Returns:
            ``{"job_id", "type", "status": "QUEUED", "message", "estimated_wait_time_seconds"}``.

        Raises:
            ValueError: Not exactly one of each input pair, or an option of the wrong type or
                value (before any request).
        """
        request = jobs_start_retarget(
            c3d_asset_id,
            c3d_s3,
            markerset_asset_id,
            markerset_s3,
            character_id,
            character_version,
            enable_scaling,
            subject_gender,
            subject_height,
            subject_weight,
            metadata,
            export_glb,
            export_formats,
            tracker_options(
                rotation,
                mocap_scale,
                clip_length,
                n_frames_scaling,
                chunk_size,
                disable_contacts,
                vertical_axis,
                frame_range,
                calibration_window,
            ),
        )
        return cast(RetargetStarted, self._client._call(request))

    def download_outputs(self, job_id: str, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Download every output of a succeeded job into ``folder`` (created if missing).

        Each file is named after its asset (e.g. ``walk_retarget.npz``, ``walk_qpos.parquet``,
        ``walk_model.mjb``, ``walk_viewer.html``) and written like ``assets.download``: streamed
        to a temporary file, checked against the asset's size and sha256, then renamed into
        place.

        Args:
            job_id: The job.
            folder: The directory to write the files in.

        Returns:
            Output name (``retarget_output`` for the .npz, then ``qpos``, ``xpos``, ``model``,
            ``motion``, ``viewer`` as the job has them) -> the verified file.

        Raises:
            ValueError: The job has not succeeded.
        """
        outputs = job_outputs(self.get(job_id))
        target = Path(os.fspath(folder)).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        return {
            name: Path(self._client.assets.download(asset_id, target)["path"])
            for name, asset_id in outputs.items()
        }

    def create_retarget(
        self,
        tracker: RetargetInput,
        markerset: RetargetInput,
        *,
        character_id: str = DEFAULT_CHARACTER_ID,
        character_version: str = DEFAULT_CHARACTER_VERSION,
        enable_scaling: bool = True,
        subject_gender: str = "male",
        subject_height: float | None = None,
        subject_weight: float | None = None,
        export_glb: bool = False,
        export_formats: Sequence[str] | None = None,
        rotation: Rotation | None = None,
        mocap_scale: float | None = None,
        clip_length: int | None = None,
        n_frames_scaling: int | None = None,
        chunk_size: int | None = None,
        disable_contacts: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> JobHandle:
        """Start retargeting a recording, uploading local files first; returns a handle to follow
        the job (``stream()``) or wait for it (``wait()``).

        Every argument is checked before anything is uploaded.

        Args:
            tracker: The marker recording: a local file (.c3d, .trc, .csv, .parquet; uploaded
                with purpose ``retarget``) or an uploaded asset (its id, or the dict
                ``assets.upload_file``/``assets.get`` returned).
            markerset: The markerset: a local .xml file or an uploaded asset, likewise.
            character_id: See ``start_retarget`` for this and the other options.
            character_version: The character's version.
            enable_scaling: Scale the character to the subject.
            subject_gender: ``"male"`` or ``"female"``.
            subject_height: Subject height in metres.
            subject_weight: Subject weight in kg.
            export_glb: Also write the animated character as a GLB (output ``motion``).
            export_formats: Further exports (myo-server only).
            rotation: ``"yup_to_zup"`` or ``"ydown_to_zup"``.
            mocap_scale: Units per metre of a tracker table.
            clip_length: Frames to retarget (-1: all).
            n_frames_scaling: Frames used for scaling.
            chunk_size: Frames per chunk (-1: one chunk).
            disable_contacts: Turn off foot-ground contacts.
            metadata: Free-form JSON stored with the job.
            interval: Seconds between the handle's polls.

        Returns:
            A ``JobHandle`` of the QUEUED job.

        Raises:
            FileNotFoundError: A path that is no file (before any request).
            ValueError: Any other bad argument (before any request).
        """
        tracker_ref = retarget_input("tracker", tracker)
        markerset_ref = retarget_input("markerset", markerset)
        options = tracker_options(
            rotation,
            mocap_scale,
            clip_length,
            n_frames_scaling,
            chunk_size,
            disable_contacts,
        )
        exports = check_retarget_args(subject_height, subject_weight, metadata, export_formats)
        ids = [
            self._client.assets.upload_file(ref)["asset_id"] if isinstance(ref, Path) else ref
            for ref in (tracker_ref, markerset_ref)
        ]
        request = jobs_start_retarget(
            ids[0],
            None,
            ids[1],
            None,
            character_id,
            character_version,
            enable_scaling,
            subject_gender,
            subject_height,
            subject_weight,
            metadata,
            export_glb,
            exports,
            options,
        )
        started = cast(RetargetStarted, self._client._call(request))
        return JobHandle(self._client, started, interval)

    def handle(self, job_id: str, interval: float = DEFAULT_INTERVAL) -> JobHandle:
        """A handle of an existing job (fetched now, so an unknown id fails here).

        Raises:
            NotFoundError: No such job for this API key.
        """
        return JobHandle(self._client, self.get(job_id), interval)

    def get(self, job_id: str) -> Job:
        """The job's state: status, progress, timestamps, output asset and download URL."""
        return cast(Job, self._client._call(jobs_get(job_id)))

    def wait(
        self,
        job_id: str,
        interval: float = 2.0,
        timeout: float | None = None,
        *,
        on_progress: JobProgress | None = None,
    ) -> Job:
        """Poll every ``interval`` seconds until the job is SUCCEEDED, FAILED or CANCELED.

        Args:
            job_id: The job.
            interval: Seconds between polls (longer while rate limited).
            timeout: Give up after this many seconds (None: wait as long as it takes).
            on_progress: Called with the job whenever its status or progress changes.

        Returns:
            The final job (check its ``status``: a FAILED job is returned, not raised).

        Raises:
            JobTimeoutError: ``timeout`` passed (a builtin ``TimeoutError``; ``.job`` is the last
                state seen, and the job keeps running).
        """
        waiter = JobWaiter(interval, timeout, time.monotonic())
        while True:
            try:
                job = self.get(job_id)
            except RateLimitError as err:
                self._client._sleep(waiter.after_rate_limit(err, time.monotonic()))
                continue
            if waiter.polled(job) and on_progress is not None:
                on_progress(job)
            if is_terminal(job):
                return job
            self._client._sleep(waiter.after_poll(time.monotonic()))

    def cancel(self, job_id: str) -> CancelResult:
        """Cancel a QUEUED or RUNNING job: ``{"job_id", "status": "CANCELED", "message"}``.

        Raises:
            ConflictError: The job already finished.
        """
        try:
            return cast(CancelResult, self._client._call(jobs_cancel(job_id)))
        except ConflictError as err:
            # A retried DELETE may find the job canceled by the attempt whose answer was lost.
            if err.attempts > 1 and (result := _cancel_result(self.get(job_id))):
                return result
            raise

    def list(
        self,
        status: str | Sequence[str] | None = None,
        job_type: str | Sequence[str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        run_id: str | None = None,
        has_output: bool | None = None,
        input_asset_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> JobList:
        """One page of jobs: ``{"jobs", "total", "limit", "offset"}``.

        Args:
            status: One status or several (e.g. ``["QUEUED", "RUNNING"]``).
            job_type: One type or several (``"retarget"``).
            created_after: Only jobs created at/after this time (datetime or ISO 8601).
            created_before: Only jobs created before this time.
            run_id: Only the job with this run id.
            has_output: Only jobs with (True) or without (False) an output asset.
            input_asset_id: Only jobs that use this asset as input.
            limit: Page size, 1-100.
            offset: Items to skip.
        """
        request = jobs_list(
            status,
            job_type,
            created_after,
            created_before,
            run_id,
            has_output,
            input_asset_id,
            limit,
            offset,
        )
        return cast(JobList, self._client._call(request))

    def iter_jobs(
        self,
        status: str | Sequence[str] | None = None,
        job_type: str | Sequence[str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        run_id: str | None = None,
        has_output: bool | None = None,
        input_asset_id: str | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[Job]:
        """Every matching job, fetching pages of ``page_size`` as needed."""
        pager = Pager("jobs", "job_id")
        while pager.offset is not None:
            page = self.list(
                status,
                job_type,
                created_after,
                created_before,
                run_id,
                has_output,
                input_asset_id,
                page_size,
                pager.offset,
            )
            yield from pager.take(page)


class AsyncJobs:
    """Retargeting jobs: start, follow, cancel, list."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def start_retarget(
        self,
        c3d_asset_id: str | None = None,
        c3d_s3: str | None = None,
        markerset_asset_id: str | None = None,
        markerset_s3: str | None = None,
        character_id: str = DEFAULT_CHARACTER_ID,
        character_version: str = DEFAULT_CHARACTER_VERSION,
        enable_scaling: bool = True,
        subject_gender: str = "male",
        subject_height: float | None = None,
        subject_weight: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        export_glb: bool = False,
        export_formats: Sequence[str] | None = None,
        *,
        rotation: Rotation | None = None,
        mocap_scale: float | None = None,
        clip_length: int | None = None,
        n_frames_scaling: int | None = None,
        chunk_size: int | None = None,
        disable_contacts: bool | None = None,
        vertical_axis: str | None = None,
        frame_range: Sequence[int] | None = None,
        calibration_window: Sequence[float] | None = None,
    ) -> RetargetStarted:
        """Start retargeting a C3D recording onto a character; see ``Jobs.start_retarget``."""
        request = jobs_start_retarget(
            c3d_asset_id,
            c3d_s3,
            markerset_asset_id,
            markerset_s3,
            character_id,
            character_version,
            enable_scaling,
            subject_gender,
            subject_height,
            subject_weight,
            metadata,
            export_glb,
            export_formats,
            tracker_options(
                rotation,
                mocap_scale,
                clip_length,
                n_frames_scaling,
                chunk_size,
                disable_contacts,
                vertical_axis,
                frame_range,
                calibration_window,
            ),
        )
        return cast(RetargetStarted, await self._client._call(request))

    async def download_outputs(
        self, job_id: str, folder: str | os.PathLike[str]
    ) -> dict[str, Path]:
        """Download every output of a succeeded job into ``folder``; see
        ``Jobs.download_outputs``."""
        outputs = job_outputs(await self.get(job_id))
        target = Path(os.fspath(folder)).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        return {
            name: Path((await self._client.assets.download(asset_id, target))["path"])
            for name, asset_id in outputs.items()
        }

    async def create_retarget(
        self,
        tracker: RetargetInput,
        markerset: RetargetInput,
        *,
        character_id: str = DEFAULT_CHARACTER_ID,
        character_version: str = DEFAULT_CHARACTER_VERSION,
        enable_scaling: bool = True,
        subject_gender: str = "male",
        subject_height: float | None = None,
        subject_weight: float | None = None,
        export_glb: bool = False,
        export_formats: Sequence[str] | None = None,
        rotation: Rotation | None = None,
        mocap_scale: float | None = None,
        clip_length: int | None = None,
        n_frames_scaling: int | None = None,
        chunk_size: int | None = None,
        disable_contacts: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> AsyncJobHandle:
        """Start retargeting a recording, uploading local files first; returns a handle; see
        ``Jobs.create_retarget``.
        """
        tracker_ref = retarget_input("tracker", tracker)
        markerset_ref = retarget_input("markerset", markerset)
        options = tracker_options(
            rotation,
            mocap_scale,
            clip_length,
            n_frames_scaling,
            chunk_size,
            disable_contacts,
        )
        exports = check_retarget_args(subject_height, subject_weight, metadata, export_formats)
        ids = [
            (await self._client.assets.upload_file(ref))["asset_id"]
            if isinstance(ref, Path)
            else ref
            for ref in (tracker_ref, markerset_ref)
        ]
        request = jobs_start_retarget(
            ids[0],
            None,
            ids[1],
            None,
            character_id,
            character_version,
            enable_scaling,
            subject_gender,
            subject_height,
            subject_weight,
            metadata,
            export_glb,
            exports,
            options,
        )
        started = cast(RetargetStarted, await self._client._call(request))
        return AsyncJobHandle(self._client, started, interval)

    async def handle(self, job_id: str, interval: float = DEFAULT_INTERVAL) -> AsyncJobHandle:
        """A handle of an existing job; see ``Jobs.handle``."""
        return AsyncJobHandle(self._client, await self.get(job_id), interval)

    async def get(self, job_id: str) -> Job:
        """The job's state; see ``Jobs.get``."""
        return cast(Job, await self._client._call(jobs_get(job_id)))

    async def wait(
        self,
        job_id: str,
        interval: float = 2.0,
        timeout: float | None = None,
        *,
        on_progress: JobProgress | None = None,
    ) -> Job:
        """Poll until the job finishes; see ``Jobs.wait``."""
        waiter = JobWaiter(interval, timeout, time.monotonic())
        while True:
            try:
                job = await self.get(job_id)
            except RateLimitError as err:
                await self._client._sleep(waiter.after_rate_limit(err, time.monotonic()))
                continue
            if waiter.polled(job) and on_progress is not None:
                await notify(on_progress, job)
            if is_terminal(job):
                return job
            await self._client._sleep(waiter.after_poll(time.monotonic()))

    async def cancel(self, job_id: str) -> CancelResult:
        """Cancel a QUEUED or RUNNING job; see ``Jobs.cancel``."""
        try:
            return cast(CancelResult, await self._client._call(jobs_cancel(job_id)))
        except ConflictError as err:
            if err.attempts > 1 and (result := _cancel_result(await self.get(job_id))):
                return result
            raise

    async def list(
        self,
        status: str | Sequence[str] | None = None,
        job_type: str | Sequence[str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        run_id: str | None = None,
        has_output: bool | None = None,
        input_asset_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> JobList:
        """One page of jobs; see ``Jobs.list``."""
        request = jobs_list(
            status,
            job_type,
            created_after,
            created_before,
            run_id,
            has_output,
            input_asset_id,
            limit,
            offset,
        )
        return cast(JobList, await self._client._call(request))

    async def iter_jobs(
        self,
        status: str | Sequence[str] | None = None,
        job_type: str | Sequence[str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        run_id: str | None = None,
        has_output: bool | None = None,
        input_asset_id: str | None = None,
        *,
        page_size: int = 100,
    ) -> AsyncIterator[Job]:
        """Every matching job, fetching pages of ``page_size`` as needed."""
        pager = Pager("jobs", "job_id")
        while pager.offset is not None:
            page = await self.list(
                status,
                job_type,
                created_after,
                created_before,
                run_id,
                has_output,
                input_asset_id,
                page_size,
                pager.offset,
            )
            for item in pager.take(page):
                yield item
