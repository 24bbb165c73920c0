"""What ``Client`` and ``AsyncClient`` share besides the core: settings, logging, transport errors,
upload/download verification. No I/O here either; the twins in ``_client.py`` do it."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from myosdk._core import (
    ClientConfig,
    RetryPolicy,
    configure_logging_from_env,
    describe_request,
    error_from_response,
    error_hint,
    parse_retry_after,
    redact_url,
    resolve_config,
    retry_delay_for_status,
    retry_delay_for_transport_error,
    user_agent,
)
from myosdk._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ChecksumMismatchError,
    IncompleteDownloadError,
    IntegrityError,
)

logger = logging.getLogger("myosdk")


class _RedactPresignedQueries(logging.Filter):
    """Drops the query string of URLs in httpx's own request log lines: presigned URLs carry
    signatures there, and an application that turns on INFO logging must not leak them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, httpx.URL) and arg.query for arg in record.args
        ):
            record.args = tuple(
                redact_url(str(arg)) if isinstance(arg, httpx.URL) and arg.query else arg
                for arg in record.args
            )
        return True


_REDACTOR = _RedactPresignedQueries()


def install_log_redaction() -> None:
    """Attach the redacting filter to the ``httpx`` logger (once)."""
    httpx_logger = logging.getLogger("httpx")
    if _REDACTOR not in httpx_logger.filters:
        httpx_logger.addFilter(_REDACTOR)


def request_was_sent(exc: httpx.TransportError) -> bool:
    """False when the failure happened before any byte could reach the server."""
    return not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def transport_error(
    operation: str, exc: httpx.TransportError, where: str, attempts: int
) -> APIConnectionError:
    """The SDK error for an httpx transport failure (``where`` is already redacted)."""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "could not complete"
    reason = str(exc) or type(exc).__name__
    return cls(
        f"{operation} {what}{tries} ({where}: {type(exc).__name__}: {reason}). "
        f"{error_hint(cls)} A slow link: raise timeout=/max_retries= on the client."
    )


class BaseClient:
    """Settings and helpers shared by the twins."""

    _http_library = f"httpx/{httpx.__version__}"

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int,
    ) -> None:
        configure_logging_from_env()
        install_log_redaction()
        self._config: ClientConfig = resolve_config(api_key, base_url, timeout, max_retries)
        self._retry = RetryPolicy(max_retries=max_retries)
        self._agent = user_agent(self._http_library)

    @property
    def base_url(self) -> str:
        """The API's base URL (e.g. ``https://api.myolab.ai``)."""
        return self._config.base_url

    @property
    def max_retries(self) -> int:
        """Retries after a first failed attempt (connection errors, 429, 502/503/504)."""
        return self._retry.max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self._config.timeout)

    @staticmethod
    def _log_response(
        operation: str,
        method: str,
        url: str,
        presigned: bool,
        response: httpx.Response,
        started: float,
        attempt: int,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.0f ms (attempt %d, request id %s)",
                operation,
                describe_request(method, url, presigned),
                response.status_code,
                (time.monotonic() - started) * 1000,
                attempt,
                response.headers.get("x-request-id", "-"),
            )

    def _log_retry(self, operation: str, delay: float, reason: str, attempt: int) -> None:
        logger.info(
            "%s: %s; retrying in %.2f s (attempt %d of %d)",
            operation,
            reason,
            delay,
            attempt + 1,
            self._retry.max_retries + 1,
        )

    def _delay_after_status(
        self, operation: str, response: httpx.Response, attempt: int, retry_safe: bool
    ) -> float:
        """Seconds to wait before resending after the error ``response`` (its body read), logged.

        Raises:
            APIError: The error of the response, when the call stops here.
        """
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        delay = retry_delay_for_status(self._retry, attempt - 1, status, retry_after, retry_safe)
        if delay is None:
            raise error_from_response(
                operation, status, response.headers, response.content, attempt
            )
        self._log_retry(operation, delay, f"HTTP {status}", attempt)
        return delay

    def _delay_after_transport_error(
        self, operation: str, exc: httpx.TransportError, where: str, attempt: int, retry_safe: bool
    ) -> float:
        """Seconds to wait before resending after a transport failure, logged.

        Raises:
            APIConnectionError: The failure (``where`` is already redacted), when the call stops.
        """
        sent = request_was_sent(exc)
        delay = retry_delay_for_transport_error(self._retry, attempt - 1, sent, retry_safe)
        if delay is None:
            raise transport_error(operation, exc, where, attempt) from exc
        self._log_retry(operation, delay, type(exc).__name__, attempt)
        return delay


def parse_json(operation: str, response: httpx.Response) -> Any:
    """The JSON body of a successful response (None for an empty body)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise APIError(
            f"{operation}: the server answered HTTP {response.status_code} with a body that is not "
            "JSON; check that the base URL points at the MyoSapiens API.",
            response.status_code,
            body=response.text[:500],
            request_id=response.headers.get("x-request-id"),
        ) from None


def upload_mismatch(
    result: Mapping[str, Any], path: Path, size: int, sha256: str
) -> IntegrityError | None:
    """The error to raise when the server's view of an uploaded object differs from the file."""
    asset_id = str(result.get("asset_id"))
    server_sha = result.get("checksum_sha256")
    if isinstance(server_sha, str) and server_sha and server_sha.lower() != sha256:
        return ChecksumMismatchError(
            f"Upload of {path} as asset {asset_id} is corrupt: the server stored sha256 "
            f"{server_sha} but the file streamed has {sha256}. The asset was discarded; "
            "upload the file again.",
            str(path),
            server_sha,
            sha256,
            asset_id,
        )
    server_size = result.get("size_bytes")
    if isinstance(server_size, int) and server_size != size:
        return IntegrityError(
            f"Upload of {path} as asset {asset_id} is incomplete: the server stored "
            f"{server_size} bytes of {size}. The asset was discarded; upload the file again.",
            str(path),
            size,
            server_size,
            asset_id,
        )
    if result.get("verified") is False:
        return IntegrityError(
            f"The server could not verify asset {asset_id} uploaded from {path}: "
            f"{result.get('message') or 'no reason given'}. Upload the file again.",
            str(path),
            "verified",
            result.get("message"),
            asset_id,
        )
    return None


def download_mismatch(
    asset_id: str | None,
    destination: Path,
    expected_size: int | None,
    expected_sha: str | None,
    size: int,
    sha256: str,
) -> IntegrityError | None:
    """The error to raise when downloaded bytes differ from the asset's recorded size/sha256."""
    label = f"asset {asset_id}" if asset_id else "the download"
    if expected_size is not None and size < expected_size:
        return IncompleteDownloadError(
            f"Download of {label} ended after {size} of {expected_size} bytes; nothing was "
            f"written to {destination}. Try again.",
            str(destination),
            expected_size,
            size,
            asset_id,
        )
    if expected_size is not None and size != expected_size:
        return IntegrityError(
            f"Download of {label} returned {size} bytes, the asset has {expected_size}; "
            f"nothing was written to {destination}. Try again.",
            str(destination),
            expected_size,
            size,
            asset_id,
        )
    if expected_sha and expected_sha.lower() != sha256:
        return ChecksumMismatchError(
            f"Download of {label} is corrupt: sha256 {sha256}, the asset has {expected_sha}; "
            f"nothing was written to {destination}. Try again.",
            str(destination),
            expected_sha,
            sha256,
            asset_id,
        )
    return None


def incomplete_download(
    asset_id: str | None,
    destination: Path,
    received: int,
    expected: int | None,
    cause: Exception,
    attempts: int,
) -> IncompleteDownloadError:
    label = f"asset {asset_id}" if asset_id else "the download"
    of = f" of {expected}" if expected is not None else ""
    return IncompleteDownloadError(
        f"Download of {label} stopped after {received}{of} bytes ({type(cause).__name__}: "
        f"{cause}; {attempts} attempt(s)); nothing was written to {destination}. Try again.",
        str(destination),
        expected,
        received,
        asset_id,
    )
