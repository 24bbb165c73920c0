"""Conversions from the SDK's dicts to the tools' result models (and the resources' URIs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._models import (
    AssetInfo,
    C3DInspection,
    CharacterDetail,
    CharacterInfo,
    CharacterVersionInfo,
    DownloadedFile,
    JobInfo,
    MarkerGap,
    MarkersetFit,
)

__all__ = [
    "TERMINAL",
    "asset_info",
    "asset_uri",
    "character_detail",
    "character_info",
    "character_uri",
    "downloaded",
    "inspection",
    "job_info",
    "job_next_step",
    "job_uri",
    "paging",
]

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED")


def asset_uri(asset_id: str) -> str:
    return f"myo://assets/{asset_id}"


def job_uri(job_id: str) -> str:
    return f"myo://jobs/{job_id}"


def character_uri(character_id: str) -> str:
    return f"myo://characters/{character_id}"


def asset_info(a: Mapping[str, Any]) -> AssetInfo:
    return AssetInfo(
        asset_id=a["asset_id"],
        purpose=a.get("purpose") or "",
        filename=a.get("filename") or "",
        size_bytes=a.get("size_bytes"),
        status=a.get("status") or "",
        created_at=a.get("created_at"),
        checksum_sha256=a.get("checksum_sha256"),
        reference_count=a.get("reference_count"),
        source_job_id=a.get("source_job_id"),
        metadata=a.get("metadata") or None,
        resource_uri=asset_uri(a["asset_id"]),
    )


def _error_message(error: Any) -> str | None:
    """The message of a FAILED job's ``error`` ({error_message, error_type}); older servers
    sent the message alone."""
    if isinstance(error, Mapping):
        message = error.get("error_message")
        return str(message) if message is not None else None
    return str(error) if error is not None else None


def job_info(j: Mapping[str, Any]) -> JobInfo:
    output = j.get("output") or {}
    out_id = output.get("retarget_output_asset_id")
    return JobInfo(
        job_id=j["job_id"],
        type=j.get("type") or "retarget",
        status=j["status"],
        progress=j.get("progress"),
        message=j.get("message"),
        error=_error_message(j.get("error")),
        created_at=j.get("created_at"),
        started_at=j.get("started_at"),
        completed_at=j.get("completed_at"),
        output_asset_id=out_id,
        output_resource_uri=asset_uri(out_id) if out_id else None,
        resource_uri=job_uri(j["job_id"]),
    )


def character_info(c: Mapping[str, Any]) -> CharacterInfo:
    return CharacterInfo(
        character_id=c["character_id"],
        name=c["name"],
        description=c.get("description"),
        latest_version=_version_name(c.get("latest_version")),
        version_count=c.get("version_count"),
        resource_uri=character_uri(c["character_id"]),
    )


def character_detail(c: Mapping[str, Any]) -> CharacterDetail:
    versions = [
        CharacterVersionInfo(
            version=v["version"], status=v["status"], created_at=v.get("created_at")
        )
        for v in c.get("versions") or []
    ]
    return CharacterDetail(
        character_id=c["character_id"],
        name=c["name"],
        description=c.get("description"),
        versions=versions,
        ready_versions=[v.version for v in versions if v.status == "READY"],
        latest_version=_version_name(c.get("latest_version")),
        resource_uri=character_uri(c["character_id"]),
    )


def inspection(
    file: Path, info: Mapping[str, Any], mocap_scale: float | None = None
) -> C3DInspection:
    """The engine's inspection of ``file`` (read with ``mocap_scale``, if given): the best shipped
    markerset, the 25 markers with the most frames missing or gap-filled."""
    fits = [
        MarkersetFit(**{k: m[k] for k in MarkersetFit.model_fields if k in m})
        for m in info["markersets"]
    ]
    best = next((f for f in fits if f.name == (info["best_markerset"] or {}).get("name")), None)
    gaps = sorted(
        (g for g in info["gaps"] if g["missing_frames"] + g["gap_filled_frames"] > 0),
        key=lambda g: -(g["missing_frames"] + g["gap_filled_frames"]),
    )[:25]
    if best is not None:
        scale = f", mocap_scale={mocap_scale:g}" if mocap_scale is not None else ""
        step = f"retarget_motion(c3d_path='{file}', markerset='{best.name}'{scale})"
        if best.partial:
            step += f"; note: {best.note}"
    elif fits and fits[0].empty:
        step = f"No shipped markerset fits ({fits[0].name} {fits[0].note})"
    else:
        step = "No shipped markerset fits: a markerset XML naming these labels is needed."
    return C3DInspection(
        path=str(file),
        format=info["format"],
        frames=info["frames"],
        rate_hz=info["rate_hz"],
        duration_s=info["duration_s"],
        units=info["units"],
        vertical_axis=info["vertical_axis"],
        labels=info["labels"],
        empty_labels=info["empty_labels"],
        gaps=[MarkerGap(**{k: g[k] for k in MarkerGap.model_fields}) for g in gaps],
        best_markerset=best,
        markersets=fits,
        next_step=step,
    )


def _version_name(v: Any) -> str | None:
    """A version's name: list items carry it, a character's detail the version object."""
    if isinstance(v, Mapping):
        return str(v.get("version")) if v.get("version") else None
    return str(v) if v else None


def paging(page: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A listing's paging fields, with the offset of the next page (None after the last)."""
    nxt = int(page["offset"]) + len(page[key])
    return {
        "total": page["total"],
        "limit": page["limit"],
        "offset": page["offset"],
        "next_offset": nxt if nxt < int(page["total"]) and page[key] else None,
    }


def downloaded(asset_id: str, got: Mapping[str, Any]) -> DownloadedFile:
    """The result of ``assets.download``: where the verified copy is."""
    return DownloadedFile(
        asset_id=asset_id,
        path=got["path"],
        size_bytes=got["size_bytes"],
        sha256=got["checksum_sha256"],
    )


def job_next_step(job: JobInfo) -> str:
    if job.status == "SUCCEEDED":
        return (
            f"Done. download_asset(asset_id='{job.output_asset_id}', destination=...) saves the "
            "motion (.npz); summarize_motion(asset_id=...) shows ranges of motion and a plot."
        )
    if job.status == "FAILED":
        return (
            f"The job failed: {job.error or job.message}. Fix the inputs (inspect_c3d helps "
            "choose a markerset) and start a new job."
        )
    if job.status == "CANCELED":
        return "The job was canceled; start a new one if needed."
    return f"Still {job.status}: call wait_for_job(job_id='{job.job_id}') again."
