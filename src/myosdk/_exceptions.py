"""The SDK's one error hierarchy. Every message says what failed and what to do next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from myosdk._types import Job

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "ConflictError",
    "IncompleteDownloadError",
    "IntegrityError",
    "JobFailedError",
    "JobTimeoutError",
    "MyoSDKError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
]


class MyoSDKError(Exception):
    """Base class of the SDK's errors (bad arguments raise ValueError/FileNotFoundError)."""


class ConfigurationError(MyoSDKError):
    """The client is misconfigured (e.g. no API key anywhere)."""


class APIError(MyoSDKError):
    """The API (or the storage behind a presigned URL) answered with an error status.

    Attributes:
        message: The full message (operation, status, server detail, request id, next step).
        status_code: The HTTP status of the response.
        detail: The server's ``detail`` (a string, or FastAPI's list of field errors), else None.
        body: The decoded JSON body, or the raw text when the body is not JSON.
        request_id: The response's ``x-request-id`` header, to quote when reporting a problem.
        attempts: How many times the SDK sent the request (1 + retries).
    """

    def __init__(
        self,
        message: str,
        status_code: int,
        detail: Any = None,
        body: Any = None,
        request_id: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.detail = detail
        self.body = body
        self.request_id = request_id
        self.attempts = attempts


class AuthenticationError(APIError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIError):
    """403: e.g. a presigned URL that is forged, expired or already used."""


class NotFoundError(APIError):
    """404: no such asset, job, character or version for this API key."""


class ValidationError(APIError):
    """400/422: the request was refused as invalid (the message names the field)."""


class ConflictError(ValidationError):
    """409: the request conflicts with the current state (e.g. deleting an asset a job uses)."""


class RateLimitError(APIError):
    """429: too many requests for this key.

    Attributes:
        retry_after: Seconds the server asked to wait (``Retry-After``), when it said.
    """

    def __init__(
        self,
        message: str,
        status_code: int,
        detail: Any = None,
        body: Any = None,
        request_id: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code, detail, body, request_id, attempts)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed; retrying later may help."""


class APIConnectionError(MyoSDKError):
    """The request could not be completed at the transport level (refused, reset, DNS...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class IntegrityError(MyoSDKError):
    """Bytes transferred do not match what the server recorded (size or sha256).

    Attributes:
        path: The local file concerned.
        expected: What the server (or the declared size) says.
        actual: What the SDK measured while streaming.
        asset_id: The asset concerned, when known.
    """

    def __init__(
        self,
        message: str,
        path: str,
        expected: object,
        actual: object,
        asset_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual
        self.asset_id = asset_id


class ChecksumMismatchError(IntegrityError):
    """The sha256 of the streamed bytes differs from the server's ``checksum_sha256``."""


class IncompleteDownloadError(IntegrityError):
    """A download ended before all bytes arrived (connection dropped, truncated body)."""


class JobTimeoutError(MyoSDKError, TimeoutError):
    """``jobs.wait`` gave up before the job finished (a builtin ``TimeoutError``).

    Attributes:
        job: The last job state seen (still QUEUED or RUNNING); the job keeps running.
    """

    def __init__(self, message: str, job: Job) -> None:
        super().__init__(message)
        self.job = job

    def __str__(self) -> str:
        return str(self.args[0])


class JobFailedError(MyoSDKError):
    """A job the SDK waited on for its outputs ended FAILED or CANCELED (``client.retarget``,
    a job handle's ``wait``; ``jobs.wait`` returns such a job instead, as the reference does).

    Attributes:
        job: The final job state.
        job_id: Its id.
        error_message: The server's reason (``"Job was canceled."`` for a canceled job).
        error_type: The server's error type when it gives one, ``"CANCELED"`` for a canceled job,
            else None.
    """

    def __init__(
        self, message: str, job: Job, error_message: str, error_type: str | None = None
    ) -> None:
        super().__init__(message)
        self.job = job
        self.job_id = str(job.get("job_id"))
        self.error_message = error_message
        self.error_type = error_type

    def __str__(self) -> str:
        return str(self.args[0])
