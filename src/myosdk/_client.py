"""``Client`` and ``AsyncClient``: the I/O twins over the core (same methods, same behaviour).

Each twin owns an httpx client and implements four primitives the resources use: an API call with
retries, the presigned multipart upload, the presigned streaming download, and sleeping.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import httpx

from myosdk._assets import Assets, AsyncAssets
from myosdk._base import (
    BaseClient,
    download_mismatch,
    incomplete_download,
    parse_json,
    request_was_sent,
    transport_error,
)
from myosdk._characters import AsyncCharacters, Characters
from myosdk._core import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ApiRequest,
    RetargetInput,
    Rotation,
    api_headers,
    build_url,
    download_headers,
    error_from_response,
    job_outputs,
    multipart_layout,
    parse_content_range,
    presigned_headers,
    redact_url,
    retry_delay_for_transport_error,
)
from myosdk._handle import DEFAULT_INTERVAL
from myosdk._jobs import AsyncJobs, JobProgress, Jobs
from myosdk._streaming import (
    AsyncFileMultipartStream,
    DownloadSink,
    FileMultipartStream,
    TransferProgress,
    astream_to_sink,
    notify,
    stream_to_sink,
)
from myosdk._types import DownloadResult, RetargetResult

__all__ = ["AsyncClient", "Client"]

_UPLOAD = "assets.upload"
_DOWNLOAD = "assets.download"


def _expected_total(response: httpx.Response, offset: int, expected: int | None) -> int | None:
    if expected is not None:
        return expected
    length = response.headers.get("content-length")
    return offset + int(length) if length and length.isdigit() else None


def _resume_offset_ok(response: httpx.Response, offset: int) -> bool:
    """Whether a 206 answer continues exactly where the partial file stops."""
    parsed = parse_content_range(response.headers.get("content-range"))
    return parsed is not None and parsed[0] == offset


class _AbandonedError(Exception):
    """Stops a threaded download whose awaiting task went away."""


class Client(BaseClient):
    """Synchronous client of the MyoSapiens API.

    Args:
        api_key: The API key; defaults to ``MYOSDK_API_KEY``.
        base_url: The API address; defaults to ``MYOSDK_BASE_URL``, then https://api.myolab.ai.
        timeout: Seconds allowed per connect/read/write (not per whole transfer); None = no limit.
        max_retries: Retries on connection errors, 429 and 502/503/504 for requests safe to resend.
        http_client: An ``httpx.Client`` to use (the caller keeps ownership; it is not closed).

    Raises:
        ConfigurationError: No API key anywhere.

    Example:
        >>> with Client(api_key="...") as client:  # doctest: +SKIP
        ...     client.characters.list()
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._timeout())
        self.assets = Assets(self)
        self.jobs = Jobs(self)
        self.characters = Characters(self)

    # lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (if the client created it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # one call ----------------------------------------------------------------------------

    def retarget(
        self,
        tracker: RetargetInput,
        markerset: RetargetInput,
        *,
        output_dir: str | os.PathLike[str] | None = None,
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
        on_status: JobProgress | None = None,
        timeout: float | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> RetargetResult:
        """Retarget a recording in one call: upload local files, start the job, wait for it and
        download every output into ``output_dir``.

        Args:
            tracker: The marker recording: a local .c3d, .trc, .csv or .parquet file, or an
                uploaded asset (its id or the dict ``assets.upload_file`` returned).
            markerset: The markerset: a local .xml file or an uploaded asset.
            output_dir: Where to save the outputs (created if missing; each file named after
                its asset, written like ``assets.download``); None: download nothing.
            character_id: The options of ``jobs.create_retarget`` (and ``start_retarget``).
            character_version: The character's version.
            enable_scaling: Scale the character to the subject.
            subject_gender: ``"male"`` or ``"female"``.
            subject_height: Subject height in metres.
            subject_weight: Subject weight in kg.
            export_glb: Also write the animated character as a GLB (output ``motion``).
            export_formats: Further exports (myo-server only): glb, bvh, mot, csv, parquet, html.
            rotation: ``"yup_to_zup"`` or ``"ydown_to_zup"``.
            mocap_scale: Units per metre of a tracker table.
            clip_length: Frames to retarget (-1: all).
            n_frames_scaling: Frames used for scaling.
            chunk_size: Frames per chunk (-1: one chunk).
            disable_contacts: Turn off foot-ground contacts.
            metadata: Free-form JSON stored with the job.
            on_status: Called with the job each time its status or progress changes.
            timeout: Seconds to wait for the job (uploads and downloads not counted); None: as
                long as it takes.
            interval: Seconds between polls.

        Returns:
            ``{"job", "output_asset_ids", "files"}`` (``RetargetResult``).

        Raises:
            FileNotFoundError: A path that is no file (before any request).
            ValueError: Any other bad argument (before any request).
            JobFailedError: The job failed (the server's reason in the message and
                ``error_message``) or was canceled.
            JobTimeoutError: ``timeout`` passed (``.job`` is the last state; the job runs on).
        """
        handle = self.jobs.create_retarget(
            tracker,
            markerset,
            character_id=character_id,
            character_version=character_version,
            enable_scaling=enable_scaling,
            subject_gender=subject_gender,
            subject_height=subject_height,
            subject_weight=subject_weight,
            export_glb=export_glb,
            export_formats=export_formats,
            rotation=rotation,
            mocap_scale=mocap_scale,
            clip_length=clip_length,
            n_frames_scaling=n_frames_scaling,
            chunk_size=chunk_size,
            disable_contacts=disable_contacts,
            metadata=metadata,
            interval=interval,
        )
        job = handle.wait(timeout, on_status)
        files = {} if output_dir is None else handle.download_outputs(output_dir)
        return {"job": job, "output_asset_ids": job_outputs(job), "files": files}

    # primitives ------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _send(self, request: ApiRequest) -> httpx.Response:
        """Send an API request with retries; return the successful response or raise."""
        url = build_url(self._config.base_url, request.path)
        headers = api_headers(self._config, request, self._agent)
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self._http.request(
                    request.method,
                    url,
                    params=request.params or None,
                    content=request.body,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                self._sleep(
                    self._delay_after_transport_error(
                        request.operation, exc, url, attempt, request.retry_safe
                    )
                )
                continue
            self._log_response(
                request.operation, request.method, url, False, response, started, attempt
            )
            if response.is_success:
                return response
            self._sleep(
                self._delay_after_status(request.operation, response, attempt, request.retry_safe)
            )

    def _call(self, request: ApiRequest) -> Any:
        """Send an API request and return its decoded JSON (None for 204)."""
        return parse_json(request.operation, self._send(request))

    def _upload(
        self,
        url: str,
        fields: dict[str, Any],
        path: Path,
        content_type: str,
        size: int,
        on_progress: TransferProgress | None,
    ) -> str | None:
        """POST the file to a presigned URL (no API key); return the sha256 streamed.

        Returns None when a retry was refused with 403 after a failed attempt: the first attempt
        may have stored the object (the signature then counts as used), and ``complete`` decides.
        """
        layout = multipart_layout(fields, path.name, content_type, size)
        headers = presigned_headers(layout, self._agent)
        where = redact_url(url)
        attempt = 0
        while True:
            attempt += 1
            body = FileMultipartStream(path, layout, on_progress)  # re-opens the file per attempt
            started = time.monotonic()
            try:
                response = self._http.send(
                    self._http.build_request("POST", url, headers=headers, content=body)
                )
            except httpx.TransportError as exc:
                # Re-sending the same bytes to the same key is idempotent for the store.
                self._sleep(self._delay_after_transport_error(_UPLOAD, exc, where, attempt, True))
                continue
            self._log_response(_UPLOAD, "POST", url, True, response, started, attempt)
            if response.is_success:
                if not body.complete:  # answered before the whole body was sent
                    raise error_from_response(
                        _UPLOAD, 502, response.headers, b"storage answered mid-upload", attempt
                    )
                return body.state.sha256
            if response.status_code == 403 and attempt > 1:
                return None
            self._sleep(self._delay_after_status(_UPLOAD, response, attempt, True))

    def _download(
        self,
        url: str,
        destination: Path,
        asset_id: str | None,
        expected_size: int | None,
        expected_sha: str | None,
        on_progress: TransferProgress | None,
        refresh_url: Callable[[], str] | None,
    ) -> DownloadResult:
        """Stream a presigned GET into a temporary file beside ``destination``, resuming with
        ``Range`` after a dropped connection; verify size and sha256, then rename into place."""
        sink = DownloadSink(destination)
        sink.open()
        try:
            attempt = 0
            use_range = True
            stalled = 0  # consecutive failed attempts that received nothing
            while True:
                attempt += 1
                offset = sink.size if use_range else 0
                if offset == 0 and sink.size:
                    sink.restart()
                started = time.monotonic()
                try:
                    with self._http.stream(
                        "GET",
                        url,
                        headers=download_headers(self._agent, offset),
                        follow_redirects=True,
                    ) as response:
                        self._log_response(_DOWNLOAD, "GET", url, True, response, started, attempt)
                        status = response.status_code
                        if status == 206 and not _resume_offset_ok(response, offset):
                            use_range = False  # a Range we cannot trust: start over
                            continue
                        if status == 416 and offset and offset == expected_size:
                            break  # everything had arrived before the connection dropped
                        if status == 200 and offset:
                            sink.restart()  # the server ignored Range
                        elif not response.is_success:
                            response.read()
                            if status == 403 and refresh_url:
                                url, refresh_url = refresh_url(), None  # expired link: renew once
                                continue
                            self._sleep(
                                self._delay_after_status(_DOWNLOAD, response, attempt, True)
                            )
                            continue
                        expected = _expected_total(response, sink.size, expected_size)
                        stream_to_sink(response.iter_raw(), sink, on_progress, expected)
                    break
                except httpx.TransportError as exc:
                    # The retry budget counts attempts without progress: a flaky link that keeps
                    # delivering bytes resumes until the file is complete.
                    stalled = 0 if sink.size > offset else stalled + 1
                    delay = retry_delay_for_transport_error(
                        self._retry, max(stalled - 1, 0), True, True
                    )
                    if delay is None:
                        if sink.size == 0 and not request_was_sent(exc):
                            raise transport_error(_DOWNLOAD, exc, redact_url(url), attempt) from exc
                        raise incomplete_download(
                            asset_id, destination, sink.size, expected_size, exc, attempt
                        ) from exc
                    self._log_retry(_DOWNLOAD, delay, type(exc).__name__, attempt)
                    self._sleep(delay)
            mismatch = download_mismatch(
                asset_id, destination, expected_size, expected_sha, sink.size, sink.sha256
            )
            if mismatch is not None:
                raise mismatch
            sink.commit()
        except BaseException:
            sink.discard()
            raise
        return {"path": str(destination), "size_bytes": sink.size, "checksum_sha256": sink.sha256}


class AsyncClient(BaseClient):
    """Asynchronous client of the MyoSapiens API (asyncio or trio through anyio).

    Args:
        api_key: The API key; defaults to ``MYOSDK_API_KEY``.
        base_url: The API address; defaults to ``MYOSDK_BASE_URL``, then https://api.myolab.ai.
        timeout: Seconds allowed per connect/read/write (not per whole transfer); None = no limit.
        max_retries: Retries on connection errors, 429 and 502/503/504 for requests safe to resend.
        http_client: An ``httpx.AsyncClient`` to use (the caller keeps ownership).

    Raises:
        ConfigurationError: No API key anywhere.

    Example:
        >>> async with AsyncClient(api_key="...") as client:  # doctest: +SKIP
        ...     await client.characters.list()
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._timeout())
        self.assets = AsyncAssets(self)
        self.jobs = AsyncJobs(self)
        self.characters = AsyncCharacters(self)
        # Downloads run as a sync pump in a worker thread (see _download): made on first use.
        self._transfer_twin: Client | None = None

    # lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool (if the client created it)."""
        if self._owns_http:
            await self._http.aclose()
        if self._transfer_twin is not None:
            self._transfer_twin.close()
            self._transfer_twin = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # one call ----------------------------------------------------------------------------

    async def retarget(
        self,
        tracker: RetargetInput,
        markerset: RetargetInput,
        *,
        output_dir: str | os.PathLike[str] | None = None,
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
        on_status: JobProgress | None = None,
        timeout: float | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> RetargetResult:
        """Retarget a recording in one call (``on_status`` may be a coroutine function); see
        ``Client.retarget``.
        """
        handle = await self.jobs.create_retarget(
            tracker,
            markerset,
            character_id=character_id,
            character_version=character_version,
            enable_scaling=enable_scaling,
            subject_gender=subject_gender,
            subject_height=subject_height,
            subject_weight=subject_weight,
            export_glb=export_glb,
            export_formats=export_formats,
            rotation=rotation,
            mocap_scale=mocap_scale,
            clip_length=clip_length,
            n_frames_scaling=n_frames_scaling,
            chunk_size=chunk_size,
            disable_contacts=disable_contacts,
            metadata=metadata,
            interval=interval,
        )
        job = await handle.wait(timeout, on_status)
        files = {} if output_dir is None else await handle.download_outputs(output_dir)
        return {"job": job, "output_asset_ids": job_outputs(job), "files": files}

    # primitives ------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def _send(self, request: ApiRequest) -> httpx.Response:
        """Send an API request with retries; return the successful response or raise."""
        url = build_url(self._config.base_url, request.path)
        headers = api_headers(self._config, request, self._agent)
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = await self._http.request(
                    request.method,
                    url,
                    params=request.params or None,
                    content=request.body,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                await self._sleep(
                    self._delay_after_transport_error(
                        request.operation, exc, url, attempt, request.retry_safe
                    )
                )
                continue
            self._log_response(
                request.operation, request.method, url, False, response, started, attempt
            )
            if response.is_success:
                return response
            await self._sleep(
                self._delay_after_status(request.operation, response, attempt, request.retry_safe)
            )

    async def _call(self, request: ApiRequest) -> Any:
        """Send an API request and return its decoded JSON (None for 204)."""
        return parse_json(request.operation, await self._send(request))

    async def _upload(
        self,
        url: str,
        fields: dict[str, Any],
        path: Path,
        content_type: str,
        size: int,
        on_progress: TransferProgress | None,
    ) -> str | None:
        """POST the file to a presigned URL (no API key); return the sha256 streamed.

        Returns None when a retry was refused with 403 after a failed attempt: the first attempt
        may have stored the object (the signature then counts as used), and ``complete`` decides.
        """
        layout = multipart_layout(fields, path.name, content_type, size)
        headers = presigned_headers(layout, self._agent)
        where = redact_url(url)
        attempt = 0
        while True:
            attempt += 1
            body = AsyncFileMultipartStream(path, layout, on_progress)
            started = time.monotonic()
            try:
                response = await self._http.send(
                    self._http.build_request("POST", url, headers=headers, content=body)
                )
            except httpx.TransportError as exc:
                await self._sleep(
                    self._delay_after_transport_error(_UPLOAD, exc, where, attempt, True)
                )
                continue
            self._log_response(_UPLOAD, "POST", url, True, response, started, attempt)
            if response.is_success:
                if not body.complete:  # answered before the whole body was sent
                    raise error_from_response(
                        _UPLOAD, 502, response.headers, b"storage answered mid-upload", attempt
                    )
                return body.state.sha256
            if response.status_code == 403 and attempt > 1:
                return None
            await self._sleep(self._delay_after_status(_UPLOAD, response, attempt, True))

    async def _download_in_thread(
        self,
        url: str,
        destination: Path,
        asset_id: str | None,
        expected_size: int | None,
        expected_sha: str | None,
        on_progress: TransferProgress | None,
        refresh_url: Callable[[], Awaitable[str]] | None,
    ) -> DownloadResult:
        if self._transfer_twin is None:
            self._transfer_twin = Client(
                api_key=self._config.api_key,
                base_url=self._config.base_url,
                timeout=self._config.timeout,
                max_retries=self._retry.max_retries,
            )
        twin = self._transfer_twin
        token = anyio.lowlevel.current_token()
        stop = threading.Event()

        def progress(done: int, total: int | None) -> None:
            if stop.is_set():  # the awaiting task was cancelled: abandon (the temp file goes)
                raise _AbandonedError(f"download to {destination} cancelled")
            if on_progress is not None:
                anyio.from_thread.run(notify, on_progress, done, total, token=token)

        async def renew() -> str:
            assert refresh_url is not None
            return await refresh_url()

        def refresh() -> str:
            return anyio.from_thread.run(renew, token=token)

        try:
            return await anyio.to_thread.run_sync(
                functools.partial(
                    twin._download,
                    url,
                    destination,
                    asset_id,
                    expected_size,
                    expected_sha,
                    progress,
                    refresh if refresh_url is not None else None,
                ),
                abandon_on_cancel=True,
            )
        finally:
            stop.set()

    async def _download(
        self,
        url: str,
        destination: Path,
        asset_id: str | None,
        expected_size: int | None,
        expected_sha: str | None,
        on_progress: TransferProgress | None,
        refresh_url: Callable[[], Awaitable[str]] | None,
    ) -> DownloadResult:
        """Stream a presigned GET into a temporary file beside ``destination``, resuming with
        ``Range`` after a dropped connection; verify size and sha256, then rename into place.

        With its own connection pool, the client pumps the bytes in a worker thread through a
        sync twin: per 32 KiB read, the async HTTP stack costs several times the sync one, and
        with hashing on top that halves a large download's throughput on a busy machine. The
        event loop stays free; callbacks still run on it. With a caller's ``http_client``, the
        transfer stays on that client (fully async).
        """
        if self._owns_http:
            return await self._download_in_thread(
                url, destination, asset_id, expected_size, expected_sha, on_progress, refresh_url
            )
        sink = DownloadSink(destination)
        await anyio.to_thread.run_sync(sink.open)
        try:
            attempt = 0
            use_range = True
            stalled = 0  # consecutive failed attempts that received nothing
            while True:
                attempt += 1
                offset = sink.size if use_range else 0
                if offset == 0 and sink.size:
                    sink.restart()
                started = time.monotonic()
                try:
                    async with self._http.stream(
                        "GET",
                        url,
                        headers=download_headers(self._agent, offset),
                        follow_redirects=True,
                    ) as response:
                        self._log_response(_DOWNLOAD, "GET", url, True, response, started, attempt)
                        status = response.status_code
                        if status == 206 and not _resume_offset_ok(response, offset):
                            use_range = False
                            continue
                        if status == 416 and offset and offset == expected_size:
                            break  # everything had arrived before the connection dropped
                        if status == 200 and offset:
                            sink.restart()
                        elif not response.is_success:
                            await response.aread()
                            if status == 403 and refresh_url:
                                url, refresh_url = await refresh_url(), None
                                continue
                            await self._sleep(
                                self._delay_after_status(_DOWNLOAD, response, attempt, True)
                            )
                            continue
                        expected = _expected_total(response, sink.size, expected_size)
                        await astream_to_sink(response.aiter_raw(), sink, on_progress, expected)
                    break
                except httpx.TransportError as exc:
                    # The retry budget counts attempts without progress: a flaky link that keeps
                    # delivering bytes resumes until the file is complete.
                    stalled = 0 if sink.size > offset else stalled + 1
                    delay = retry_delay_for_transport_error(
                        self._retry, max(stalled - 1, 0), True, True
                    )
                    if delay is None:
                        if sink.size == 0 and not request_was_sent(exc):
                            raise transport_error(_DOWNLOAD, exc, redact_url(url), attempt) from exc
                        raise incomplete_download(
                            asset_id, destination, sink.size, expected_size, exc, attempt
                        ) from exc
                    self._log_retry(_DOWNLOAD, delay, type(exc).__name__, attempt)
                    await self._sleep(delay)
            mismatch = download_mismatch(
                asset_id, destination, expected_size, expected_sha, sink.size, sink.sha256
            )
            if mismatch is not None:
                raise mismatch
            await anyio.to_thread.run_sync(sink.commit)
        except BaseException:
            sink.discard()
            raise
        return {"path": str(destination), "size_bytes": sink.size, "checksum_sha256": sink.sha256}
