"""myosdk: Python SDK of the MyoSapiens API (motion-capture retargeting), sync and async.

Example:
    >>> from myosdk import Client
    >>> with Client(api_key="...") as client:  # doctest: +SKIP
    ...     c3d = client.assets.upload_file("walk.c3d")
    ...     markers = client.assets.upload_file("markerset.xml")
    ...     job = client.jobs.start_retarget(
    ...         c3d_asset_id=c3d["asset_id"], markerset_asset_id=markers["asset_id"]
    ...     )
    ...     job = client.jobs.wait(job["job_id"], timeout=600)
    ...     client.assets.download(job["output"]["retarget_output_asset_id"], "walk.npz")
    ...     # or in one call (the vendor's newer SDK): upload, start, wait, download every output
    ...     result = client.retarget("walk.c3d", "markerset.xml", output_dir="out")

Logging goes to ``logging.getLogger("myosdk")``; ``MYOSDK_LOG=debug`` prints it on stderr. Keys and
presigned signatures are never logged.
"""

from __future__ import annotations

from myosdk._assets import Assets, AsyncAssets
from myosdk._characters import AsyncCharacters, Characters
from myosdk._client import AsyncClient, Client
from myosdk._core import (
    DEFAULT_BASE_URL,
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    ERROR_HINTS,
    TERMINAL_STATUSES,
    __version__,
    error_hint,
)
from myosdk._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ChecksumMismatchError,
    ConfigurationError,
    ConflictError,
    IncompleteDownloadError,
    IntegrityError,
    JobFailedError,
    JobTimeoutError,
    MyoSDKError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from myosdk._handle import AsyncJobHandle, JobHandle
from myosdk._jobs import AsyncJobs, JobProgress, Jobs
from myosdk._streaming import TransferProgress
from myosdk._types import (
    Asset,
    AssetList,
    CancelResult,
    Character,
    CharacterList,
    CharacterSummary,
    CharacterVersion,
    CleanupResult,
    DownloadResult,
    Job,
    JobErrorDetail,
    JobList,
    JobStatus,
    ManifestValidation,
    RetargetResult,
    RetargetStarted,
    UploadResult,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CHARACTER_ID",
    "DEFAULT_CHARACTER_VERSION",
    "ERROR_HINTS",
    "TERMINAL_STATUSES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Asset",
    "AssetList",
    "Assets",
    "AsyncAssets",
    "AsyncCharacters",
    "AsyncClient",
    "AsyncJobHandle",
    "AsyncJobs",
    "AuthenticationError",
    "CancelResult",
    "Character",
    "CharacterList",
    "CharacterSummary",
    "CharacterVersion",
    "Characters",
    "ChecksumMismatchError",
    "CleanupResult",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "DownloadResult",
    "IncompleteDownloadError",
    "IntegrityError",
    "Job",
    "JobErrorDetail",
    "JobFailedError",
    "JobHandle",
    "JobList",
    "JobProgress",
    "JobStatus",
    "JobTimeoutError",
    "Jobs",
    "ManifestValidation",
    "MyoSDKError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetargetResult",
    "RetargetStarted",
    "ServerError",
    "TransferProgress",
    "UploadResult",
    "ValidationError",
    "__version__",
    "error_hint",
]
