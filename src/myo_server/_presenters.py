"""Records as the API shows them: assets, jobs and character versions with their presigned
download URLs and ``s3://`` references."""

from __future__ import annotations

import re
import time

from ._errors import ServiceError
from ._job_errors import INTERNAL
from ._models import (
    Asset,
    CharacterDetail,
    CharacterVersion,
    Job,
    JobDiagnostics,
    JobDownloadUrls,
    JobError,
    JobInput,
    JobOutput,
    RetargetOutputAssetIds,
)
from ._records import (
    ENGINE_OPTIONS,
    EXTENSION_OPTIONS,
    AssetRecord,
    CharacterVersionRecord,
    JobRecord,
)
from ._runtime import ServerRuntime
from ._util import to_datetime


def download_url(rt: ServerRuntime, key: str, filename: str | None = None) -> tuple[str, int]:
    """A presigned GET of ``key`` (this server's storage route, or the bucket's own) and when
    it expires (epoch s)."""
    ttl = rt.config.download_url_ttl
    return rt.objects.presign_download(key, expires_in=ttl, filename=filename), int(
        time.time()
    ) + ttl


def asset_model(rt: ServerRuntime, a: AssetRecord) -> Asset:
    """An asset, with a ``download_url`` once completed."""
    url: str | None = None
    url_expires: int | None = None
    if a.status == "completed":
        url, url_expires = download_url(rt, a.storage_key, a.filename)
    return Asset(
        asset_id=a.asset_id,
        purpose=a.purpose,
        filename=a.filename,
        content_type=a.content_type,
        status=a.status,
        size_bytes=a.size_bytes,
        expected_size_bytes=a.expected_size_bytes,
        checksum_sha256=a.checksum_sha256,
        download_url=url,
        download_url_expires_at=to_datetime(url_expires),
        reference_count=a.reference_count,
        source_job_id=a.source_job_id,
        metadata=a.metadata,
        created_at=to_datetime(a.created_at),
        updated_at=to_datetime(a.updated_at),
        completed_at=to_datetime(a.completed_at),
    )


def _job_error(j: JobRecord) -> JobError | None:
    """A FAILED job's error; rows failed before error types were recorded are INTERNAL."""
    if j.status != "FAILED":
        return None
    return JobError(
        error_message=j.error or j.message or "The job failed (no reason was recorded).",
        error_type=j.error_type or INTERNAL,
    )


def job_model(rt: ServerRuntime, j: JobRecord) -> Job:
    """A job, with download URLs of the outputs that still exist."""
    output = downloads = None
    if j.output_asset_id:
        info = j.output_info or {}
        diagnostics = info.get("diagnostics")
        output = JobOutput(
            retarget_output_asset_id=j.output_asset_id,
            retarget_output_asset_ids=RetargetOutputAssetIds(**j.outputs) if j.outputs else None,
            processing_time_seconds=info.get("processing_time_seconds"),
            diagnostics=JobDiagnostics(**diagnostics) if diagnostics else None,
        )
        url = download_url(rt, j.output_key)[0] if j.output_key else None
        urls: dict[str, str | None] = {}
        for name, asset_id in j.outputs.items():
            key = j.output_keys.get(asset_id)  # None once the asset was deleted
            urls[name] = download_url(rt, key)[0] if key else None
        downloads = JobDownloadUrls(retarget_output=url, **urls)
    p = j.params
    return Job(
        job_id=j.job_id,
        run_id=j.run_id,
        type=j.type,
        status=j.status,
        message=j.message,
        progress=round(j.progress, 4),
        error=_job_error(j),
        created_at=to_datetime(j.created_at),
        updated_at=to_datetime(j.updated_at),
        started_at=to_datetime(j.started_at),
        completed_at=to_datetime(j.completed_at),
        output=output,
        download_urls=downloads,
        input=JobInput(
            c3d_asset_id=p.get("c3d_asset_id"),
            markerset_asset_id=p.get("markerset_asset_id"),
            character_id=p["character_id"],
            character_version=p["character_version"],
            enable_scaling=p["enable_scaling"],
            subject_gender=p["subject_gender"],
            subject_height=p.get("subject_height"),
            subject_weight=p.get("subject_weight"),
            **{name: p.get(name) for name in ENGINE_OPTIONS + EXTENSION_OPTIONS},
        ),
        metadata=j.metadata,
        attempts=j.attempts,
    )


def version_key(v: CharacterVersionRecord) -> tuple[tuple[int, ...], str]:
    """Sorts versions by their numbers (v1.10.0 after v1.9.0)."""
    nums = tuple(int(n) for n in re.findall(r"\d+", v.version))
    return nums, v.version


def version_model(rt: ServerRuntime, v: CharacterVersionRecord) -> CharacterVersion:
    """One character version."""
    return CharacterVersion(
        version_id=v.version_id,
        version=v.version,
        status=v.status,
        created_at=to_datetime(v.created_at),
        updated_at=to_datetime(v.updated_at),
        manifest_s3=s3_ref(rt, v.manifest_key),
    )


def character_detail(rt: ServerRuntime, versions: list[CharacterVersionRecord]) -> CharacterDetail:
    """A character from its versions (at least one)."""
    versions = sorted(versions, key=version_key)
    ready = [v for v in versions if v.status == "READY"]
    latest = versions[-1]
    return CharacterDetail(
        character_id=latest.character_id,
        name=latest.name,
        description=latest.description,
        created_at=to_datetime(min(v.created_at for v in versions)),
        versions=[version_model(rt, v) for v in versions],
        latest_version=version_model(rt, latest),
        ready_versions=[version_model(rt, v) for v in ready],
        total_versions=len(versions),
        ready_version_count=len(ready),
    )


def s3_ref(rt: ServerRuntime, key: str) -> str:
    """How a storage key is shown (``s3://bucket/key``); :func:`storage_key` reads it back."""
    return f"s3://{rt.config.bucket}/{key}"


def storage_key(rt: ServerRuntime, ref: str) -> str:
    """The storage key an ``s3://`` reference (or a bare key) names.

    Raises:
        ServiceError: 404 for a reference into another bucket.
    """
    prefix = s3_ref(rt, "")
    if ref.startswith("s3://") and not ref.startswith(prefix):
        raise ServiceError(
            404, f"{ref} is not in this server's store (its bucket is {rt.config.bucket!r})"
        )
    return ref[len(prefix) :] if ref.startswith(prefix) else ref
