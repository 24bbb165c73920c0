"""Conversions from the SDK's dicts to the tools' result models (and the resources' URIs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._models import (
    INSPECTION_GAPS,
    AssetInfo,
    AssetItem,
    C3DInspection,
    CharacterDetail,
    CharacterInfo,
    CharacterVersionInfo,
    DownloadedFile,
    JobInfo,
    JobItem,
    MarkerGap,
    MarkersetFit,
)

__all__ = [
    "LIST_ERROR_CHARS",
    "TERMINAL",
    "age",
    "asset_info",
    "asset_item",
    "asset_uri",
    "character_detail",
    "character_info",
    "character_uri",
    "downloaded",
    "input_ids",
    "inspection",
    "job_info",
    "job_item",
    "job_next_step",
    "job_uri",
    "paging",
]

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED")
#: A failed job's error in a listing is cut to this many characters (get_job has it whole).
LIST_ERROR_CHARS = 80


def asset_uri(asset_id: str) -> str:
    return f"myo://assets/{asset_id}"


def job_uri(job_id: str) -> str:
    return f"myo://jobs/{job_id}"


def character_uri(character_id: str) -> str:
    return f"myo://characters/{character_id}"


def age(created_at: Any, now: datetime | None = None) -> str | None:
    """How long ago an ISO 8601 time was, as a person says it: "40 s ago", "3 min ago"."""
    if not created_at:
        return None
    try:
        then = datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
    except ValueError:
        return str(created_at)
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


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
    )


def asset_item(a: Mapping[str, Any]) -> AssetItem:
    return AssetItem(
        asset_id=a["asset_id"],
        filename=a.get("filename") or "",
        purpose=a.get("purpose") or "",
        size_bytes=a.get("size_bytes"),
        age=age(a.get("created_at")),
    )


def _error_message(error: Any) -> str | None:
    """The message of a FAILED job's ``error`` ({error_message, error_type}); older servers
    sent the message alone."""
    if isinstance(error, Mapping):
        message = error.get("error_message")
        return str(message) if message is not None else None
    return str(error) if error is not None else None


def input_ids(j: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The asset ids of a job's recording and markerset (None when the job does not say)."""
    given = j.get("input") or {}
    return given.get("c3d_asset_id") or given.get("tracker_asset_id"), given.get(
        "markerset_asset_id"
    )


def job_info(j: Mapping[str, Any], names: Mapping[str, str] | None = None) -> JobInfo:
    """A job, its inputs named by ``names`` (asset id -> file name) where known."""
    output = j.get("output") or {}
    recording, markerset = ((names or {}).get(i or "", i) if i else None for i in input_ids(j))
    return JobInfo(
        job_id=j["job_id"],
        status=j["status"],
        progress=j.get("progress") if j["status"] == "RUNNING" else None,
        message=j.get("message") if j["status"] != "FAILED" else None,  # FAILED: see error
        error=_error_message(j.get("error")),
        recording=recording,
        markerset=markerset,
        created_at=j.get("created_at"),
        completed_at=j.get("completed_at"),
        output_asset_id=output.get("retarget_output_asset_id"),
    )


def job_item(j: Mapping[str, Any], names: Mapping[str, str]) -> JobItem:
    """A job in a listing: its inputs by file name, its age, a failure's reason (cut)."""
    info = job_info(j, names)
    error = info.error
    if error is not None and len(error) > LIST_ERROR_CHARS:
        error = error[: LIST_ERROR_CHARS - 1].rstrip() + "…"
    return JobItem(
        job_id=info.job_id,
        status=info.status,
        recording=info.recording,
        markerset=info.markerset,
        age=age(j.get("created_at")),
        error=error,
    )


def character_info(c: Mapping[str, Any]) -> CharacterInfo:
    return CharacterInfo(
        character_id=c["character_id"],
        name=c["name"],
        description=c.get("description"),
        latest_version=_version_name(c.get("latest_version")),
    )


def character_detail(c: Mapping[str, Any]) -> CharacterDetail:
    versions = [
        CharacterVersionInfo(version=v["version"], status=v["status"])
        for v in c.get("versions") or []
    ]
    return CharacterDetail(
        character_id=c["character_id"],
        name=c["name"],
        description=c.get("description"),
        versions=versions,
        ready_versions=[v.version for v in versions if v.status == "READY"],
    )


def inspection(
    file: Path,
    info: Mapping[str, Any],
    mocap_scale: float | None = None,
    vertical_axis: str | None = None,
) -> C3DInspection:
    """The engine's inspection of ``file`` (read with ``mocap_scale``, if given), in brief: the
    labels with data apart from those without, the best shipped markerset with what it misses,
    the others' figures, the markers with the most frames missing or gap-filled (labels without
    data left out: ``empty_labels`` says it once)."""
    fits = [
        MarkersetFit(
            **{k: m[k] for k in MarkersetFit.model_fields if k in m and k != "partial"},
            partial=m.get("partial") or None,
        )
        for m in info["markersets"]
    ]
    best = next((f for f in fits if f.name == (info["best_markerset"] or {}).get("name")), None)
    empty = set(info["empty_labels"])
    if best is not None:  # nothing missing: no empty lists to read; labels without data said once
        absent = [m for m in best.missing or [] if m not in empty]
        best = best.model_copy(
            update={
                "missing": absent or None,
                "unobserved_bodies": best.unobserved_bodies or None,
                "note": _partial_note(info["best_markerset"], empty) if best.partial else None,
            }
        )
    gaps = sorted(
        (
            g
            for g in info["gaps"]
            if g["missing_frames"] + g["gap_filled_frames"] > 0 and g["label"] not in empty
        ),
        key=lambda g: -(g["missing_frames"] + g["gap_filled_frames"]),
    )[:INSPECTION_GAPS]
    if best is not None:
        scale = f", mocap_scale={mocap_scale:g}" if mocap_scale is not None else ""
        if vertical_axis is not None:
            scale += f", vertical_axis='{vertical_axis}'"
        # A partial fit's note stands beside it in best_markerset.
        step = f"retarget_motion(c3d_path='{file}', markerset='{best.name}'{scale})"
    else:
        closest = next(iter(info["markersets"]), None)
        why = ""
        if closest is not None and closest.get("reason"):
            why = f" (closest {closest['name']}: {closest['reason']}"
            if closest.get("empty"):
                why += (
                    f"; {len(closest['empty'])} of its labels hold no data, which no markerset "
                    "can use: re-export the trial with them reconstructed"
                )
            why += ")"
        step = (
            f"No shipped markerset fits{why}. draft_markerset(path='{file}') drafts one; or "
            "write your own (myo://characters/{character_id}/bodies)."
        )
    return C3DInspection(
        path=str(file),
        format=info["format"],
        frames=info["frames"],
        rate_hz=info["rate_hz"],
        duration_s=info["duration_s"],
        units=info["units"],
        vertical_axis=info["vertical_axis"],
        labels=[label for label in info["labels"] if label not in empty],
        empty_labels=info["empty_labels"],
        gaps=[MarkerGap(**{k: g[k] for k in MarkerGap.model_fields}) for g in gaps],
        best_markerset=best,
        # The others in brief: those that match any label, by their figures (the best one's
        # note says what a partial fit leaves out; the others' would repeat it).
        markersets=[
            f.model_copy(update={"missing": None, "unobserved_bodies": None, "note": None})
            for f in fits
            if (best is None or f.name != best.name) and f.coverage > 0
        ],
        next_step=step,
    )


def _partial_note(fit: Mapping[str, Any], empty: set[str]) -> str:
    """The engine's note on a partial fit in brief: the joints are counted, not named (the
    bodies say which), and labels without data are left to ``empty_labels``."""
    note = (
        f"partial fit: no markers on {', '.join(fit['unobserved_bodies'])} or below, so "
        f"{len(fit['unobserved_joints'])} joints get no data (NaN)"
    )
    unused = [m for m in fit.get("empty") or [] if m in empty]
    return note + (f"; {len(unused)} of its labels hold no data" if unused else "")


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
            f"download_asset(asset_id='{job.output_asset_id}', destination=...) saves the .npz; "
            "summarize_motion(asset_id=...) shows joint ranges and a plot."
        )
    if job.status == "FAILED":
        return (
            "Fix the inputs (inspect_c3d of the recording tells which markerset fits) and "
            "start a new job."
        )
    if job.status == "CANCELED":
        return "The job was canceled; start a new one if needed."
    return f"Still {job.status}: call wait_for_job(job_id='{job.job_id}') again."
