"""The FastAPI application: the MyoSapiens REST API plus the presigned storage endpoints."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match

from myo_retarget import export_formats
from myo_retarget._export import EXPORT_FORMATS

from . import __version__
from ._auth import Principal
from ._gateway import ASGIApp, Gateway, json_response, s3_error, unexpected_error
from ._http_range import UnsatisfiableRangeError, parse_range, read_range
from ._models import (
    DEFAULT_CHARACTER_ID,
    DEFAULT_CHARACTER_VERSION,
    MIME_TYPE,
    Asset,
    AssetList,
    CancelJobResponse,
    CharacterDetail,
    CharacterList,
    CharacterSummary,
    CharacterVersion,
    CompleteUploadResponse,
    Health,
    InitiateUploadRequest,
    InitiateUploadResponse,
    Job,
    JobDiagnostics,
    JobDownloadUrls,
    JobInput,
    JobList,
    JobOutput,
    RetargetOutputAssetIds,
    RetargetRequest,
    RetargetResponse,
    ValidateManifestResponse,
)
from ._objects_local import OBJECTS_PATH, UPLOAD_PATH
from ._openapi import COMMON_ERRORS, ERROR, FULL, S3_ERROR, TOO_LARGE, openapi_builder
from ._records import (
    EXPORT_OUTPUTS,
    JOB_STATUSES,
    JOB_TYPES,
    OUTPUT_PURPOSE,
    PURPOSES,
    VIEWER_CONTENT_TYPE,
    AssetRecord,
    CharacterVersionRecord,
    IdempotencyEntry,
    JobFilters,
    JobRecord,
)
from ._runtime import ServerRuntime
from ._signing import SignatureError, UploadPolicy
from ._storage import InvalidKeyError, asset_key, check_key
from ._upload import UploadError, receive_upload
from ._util import dumps, new_id, now, parse_iso8601, to_datetime
from ._worker import pyarrow_missing

log = logging.getLogger("myo_server")
access_log = logging.getLogger("myo_server.access")

_IDEM_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEM_KEY = re.compile(_IDEM_PATTERN)
_IdempotencyKeyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", json_schema_extra={"pattern": _IDEM_PATTERN})
]
MAX_OFFSET = 1_000_000_000
# What a viewer page may do once a browser shows it: run its own inline script and style and
# draw data: images, nothing else (no fetch, no frame, no form, no navigation of its base), in a
# sandbox whose origin is opaque, so it can reach neither the API nor anything else.
VIEWER_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:;"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox allow-scripts"
)
_MAX_METADATA_BYTES = 16 * 1024


def _principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def _download_url(rt: ServerRuntime, base: str, key: str) -> tuple[str, int]:
    expires = int(time.time()) + rt.config.download_url_ttl
    sig = rt.signer.download_signature(key, expires)
    return f"{base}{OBJECTS_PATH}/{quote(key)}?expires={expires}&signature={sig}", expires


def _asset_model(rt: ServerRuntime, base: str, a: AssetRecord) -> Asset:
    url: str | None = None
    url_expires: int | None = None
    if a.status == "completed":
        url, url_expires = _download_url(rt, base, a.storage_key)
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


def _requested_exports(body: RetargetRequest) -> list[str]:
    """The exports a retarget request asks for (``export_glb`` is ``glb``), in one order.

    Raises:
        HTTPException: 400 for one this server cannot write (no writer, or no pyarrow).
    """
    asked = set(body.export_formats or ())
    if body.export_glb:
        asked.add("glb")
    if body.export_glb and "glb" not in export_formats():
        raise HTTPException(400, "export_glb is not supported by the local server: omit it")
    engine = export_formats()
    for name in EXPORT_OUTPUTS:
        if name not in asked:
            continue
        if name in EXPORT_FORMATS and name not in engine:
            raise HTTPException(
                400, f"export_formats: this server's engine cannot write {name}; omit it"
            )
        problem = pyarrow_missing() if name == "parquet" else None
        if problem:
            raise HTTPException(400, f"export_formats: parquet cannot be written: {problem}")
    return [name for name in EXPORT_OUTPUTS if name in asked]


def _job_model(rt: ServerRuntime, base: str, j: JobRecord) -> Job:
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
        url = _download_url(rt, base, j.output_key)[0] if j.output_key else None
        urls: dict[str, str | None] = {}
        for name, asset_id in j.outputs.items():
            key = j.output_keys.get(asset_id)  # None once the asset was deleted
            urls[name] = _download_url(rt, base, key)[0] if key else None
        downloads = JobDownloadUrls(retarget_output=url, **urls)
    p = j.params
    return Job(
        job_id=j.job_id,
        run_id=j.run_id,
        type=j.type,
        status=j.status,
        message=j.message,
        progress=round(j.progress, 4),
        error=j.error if j.status == "FAILED" else None,
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
        ),
        metadata=j.metadata,
        attempts=j.attempts,
    )


def _version_key(v: CharacterVersionRecord) -> tuple[tuple[int, ...], str]:
    nums = tuple(int(n) for n in re.findall(r"\d+", v.version))
    return nums, v.version


def _version_model(rt: ServerRuntime, v: CharacterVersionRecord) -> CharacterVersion:
    return CharacterVersion(
        version_id=v.version_id,
        version=v.version,
        status=v.status,
        created_at=to_datetime(v.created_at),
        updated_at=to_datetime(v.updated_at),
        manifest_s3=_s3_ref(rt, v.manifest_key),
    )


@dataclass
class _Idempotency:
    """One POST honouring ``Idempotency-Key``: a retry with the same key and body gets the stored
    answer, the same key with another body a 409."""

    key: str | None
    endpoint: str
    request_hash: str
    # Rewrites a stored answer whose content goes stale (an upload form's signature expires).
    renew: Callable[[str], str] | None = None

    def replay(self, entry: IdempotencyEntry) -> Response:
        if entry.request_hash != self.request_hash:
            raise HTTPException(
                409,
                "This Idempotency-Key was already used with a different request body;"
                " use a new key for a new request",
            )
        return Response(
            self.renew(entry.body) if self.renew else entry.body,
            status_code=entry.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    def created(
        self, payload: str, save: Callable[[IdempotencyEntry | None], IdempotencyEntry | None]
    ) -> tuple[Response, bool]:
        """Save the new resource and this answer in one transaction (``save``): the 201 and True,
        or the answer a concurrent request with the same key stored first and False."""
        entry = (
            IdempotencyEntry(self.key, self.endpoint, self.request_hash, 201, payload)
            if self.key
            else None
        )
        existing = save(entry)
        if existing is not None:
            return self.replay(existing), False
        return Response(payload, status_code=201, media_type="application/json"), True


def _idempotency(
    rt: ServerRuntime,
    tenant: str,
    key: str | None,
    endpoint: str,
    body: BaseModel,
    renew: Callable[[str], str] | None = None,
) -> tuple[_Idempotency, Response | None]:
    """Check an ``Idempotency-Key`` and hash the request; the stored answer of an earlier
    request with this key, if any (passed through ``renew``)."""
    if key is not None and not _IDEM_KEY.match(key):
        raise HTTPException(400, "Idempotency-Key must be 1-255 visible ASCII characters")
    request_hash = hashlib.sha256(dumps(body.model_dump(exclude_unset=True)).encode()).hexdigest()
    idem = _Idempotency(key, endpoint, request_hash, renew)
    entry = rt.store.get_idempotency(tenant, key, endpoint) if key is not None else None
    return idem, idem.replay(entry) if entry else None


def _check_metadata(metadata: dict[str, Any] | None) -> None:
    if metadata is not None and len(dumps(metadata)) > _MAX_METADATA_BYTES:
        raise HTTPException(400, "metadata is too large (at most 16 KiB of JSON)")


def _choices(values: list[str] | None, allowed: tuple[str, ...], what: str) -> list[str] | None:
    """A repeatable, comma-separable query parameter, each value one of ``allowed``."""
    chosen = [s.strip() for v in values or [] for s in v.split(",") if s.strip()]
    for s in chosen:
        if s not in allowed:
            raise HTTPException(400, f"Unknown {what} {s!r}: use one of {', '.join(allowed)}")
    return chosen or None


def _s3_ref(rt: ServerRuntime, key: str) -> str:
    """How a storage key is shown (``s3://bucket/key``); :func:`_storage_key` reads it back."""
    return f"s3://{rt.config.bucket}/{key}"


def _storage_key(rt: ServerRuntime, ref: str) -> str:
    prefix = _s3_ref(rt, "")
    if ref.startswith("s3://") and not ref.startswith(prefix):
        raise HTTPException(
            404, f"{ref} is not in this server's store (its bucket is {rt.config.bucket!r})"
        )
    return ref[len(prefix) :] if ref.startswith(prefix) else ref


def create_app(rt: ServerRuntime) -> FastAPI:
    """The ASGI application serving ``rt`` (auth, request ids and logging included)."""
    app = FastAPI(
        title="MyoSapiens API (local myo-server)",
        version=__version__,
        description=(
            "Local, self-hostable implementation of the MyoSapiens REST API: assets (three-step"
            " presigned upload), characters and retarget jobs. Authenticate with"
            " 'X-Api-Key: KEY' or 'Authorization: Bearer KEY'."
        ),
        docs_url="/docs",
        redoc_url=None,
    )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # list every method of the path, not just the first route's
            methods: set[str] = set()
            for route in app.router.routes:
                if isinstance(route, BaseRoute) and route.matches(request.scope)[0] != Match.NONE:
                    methods.update(getattr(route, "methods", None) or ())
            if methods:
                headers["Allow"] = ", ".join(sorted(methods))
        return json_response(exc.status_code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette re-raises after answering, so the gateway still logs the traceback.
        rid = request.scope.get("state", {}).get("request_id", "")
        return unexpected_error(exc, rid)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        parts = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            errors.append({"loc": loc, "msg": msg, "type": str(err.get("type", ""))})
            where = ".".join(loc[1:] if loc and loc[0] == "body" and len(loc) > 1 else loc)
            parts.append(f"{where}: {msg}" if where else msg)
        detail = "Invalid request: " + "; ".join(parts)
        return JSONResponse({"detail": detail, "errors": errors}, status_code=400)

    # -- health -------------------------------------------------------------------------------
    @app.get("/health", response_model=Health, tags=["meta"])
    async def health() -> Health:
        """Liveness probe (no API key needed)."""
        return Health(status="ok", version=__version__)

    # -- assets -------------------------------------------------------------------------------
    @app.post(
        "/v1/assets/initiate",
        status_code=201,
        response_model=InitiateUploadResponse,
        responses={**COMMON_ERRORS, 409: ERROR, 413: TOO_LARGE, 507: FULL},
        tags=["assets"],
    )
    async def initiate_upload(
        body: InitiateUploadRequest,
        request: Request,
        idempotency_key: _IdempotencyKeyHeader = None,
    ) -> Response:
        """Step 1 of an upload: get a presigned POST (URL + form fields) for the file."""
        p = _principal(request)
        cfg = rt.config

        def offer(asset_id: str, key: str, expected_size: int | None) -> InitiateUploadResponse:
            expires = int(time.time()) + cfg.upload_url_ttl
            max_size = expected_size if expected_size is not None else cfg.max_upload_bytes
            fields = rt.signer.upload_fields(UploadPolicy(asset_id, key, max_size, expires))
            return InitiateUploadResponse(
                asset_id=asset_id,
                upload_url=f"{rt.presign_base()}{UPLOAD_PATH}",
                fields=fields,
                expires_at=to_datetime(expires),
            )

        def renew(stored: str) -> str:
            """A replay gets a freshly signed form while its asset still waits for the file."""
            asset_id = InitiateUploadResponse.model_validate_json(stored).asset_id
            a = rt.store.get_asset(asset_id, p.tenant_id)
            if a is None or a.status != "pending":
                return stored
            return offer(a.asset_id, a.storage_key, a.expected_size_bytes).model_dump_json()

        idem, replay = _idempotency(rt, p.tenant_id, idempotency_key, "initiate", body, renew)
        if replay is not None:
            return replay
        if body.expected_size_bytes is not None and body.expected_size_bytes > cfg.max_upload_bytes:
            raise HTTPException(
                400,
                f"expected_size_bytes {body.expected_size_bytes} exceeds this server's limit of"
                f" {cfg.max_upload_bytes} bytes",
            )
        _check_metadata(body.metadata)
        asset_id = new_id()
        key = asset_key(p.tenant_id, asset_id, body.filename)
        result = offer(asset_id, key, body.expected_size_bytes)
        payload = result.model_dump_json()
        t = now()
        record = AssetRecord(
            asset_id=asset_id,
            tenant_id=p.tenant_id,
            purpose=body.purpose,
            filename=body.filename,
            content_type=body.content_type,
            storage_key=key,
            status="pending",
            created_at=t,
            updated_at=t,
            expected_size_bytes=body.expected_size_bytes,
            metadata=body.metadata,
        )
        return idem.created(payload, lambda entry: rt.store.insert_asset(record, entry))[0]

    @app.post(
        "/v1/assets/{asset_id}/complete",
        response_model=CompleteUploadResponse,
        responses={**COMMON_ERRORS, 404: ERROR, 507: FULL},
        tags=["assets"],
    )
    async def complete_upload(asset_id: str, request: Request) -> CompleteUploadResponse:
        """Step 3 of an upload: verify the stored file and make the asset usable (idempotent)."""
        p = _principal(request)
        a = rt.store.get_asset(asset_id, p.tenant_id)
        if a is None:
            raise HTTPException(404, f"Asset {asset_id} not found")
        if a.status == "pending":
            raise HTTPException(
                400,
                f"No file has been uploaded for asset {asset_id}: POST the file with the fields"
                " from /v1/assets/initiate to its upload_url first",
            )
        if a.status == "uploaded":
            # The upload route stores only files of the expected size, and only once: a
            # mismatch here means the stored file was damaged behind the server's back.
            stored = rt.blobs.size(a.storage_key)
            if stored is None or stored != a.size_bytes:
                raise HTTPException(
                    400,
                    f"The uploaded file of asset {asset_id} is missing or damaged in storage:"
                    " initiate a new upload for the file",
                )
            done = rt.store.mark_completed(asset_id)
            if done is None:
                raise HTTPException(404, f"Asset {asset_id} not found")
            a = done
        assert a.size_bytes is not None
        assert a.checksum_sha256 is not None
        return CompleteUploadResponse(
            asset_id=a.asset_id,
            verified=True,
            size_bytes=a.size_bytes,
            checksum_sha256=a.checksum_sha256,
            message=f"Upload verified: {a.size_bytes} bytes, sha256 {a.checksum_sha256}",
        )

    @app.get(
        "/v1/assets/{asset_id}",
        response_model=Asset,
        responses={**COMMON_ERRORS, 404: ERROR},
        tags=["assets"],
    )
    async def get_asset(asset_id: str, request: Request) -> Asset:
        """An asset's details, with a presigned ``download_url`` once completed."""
        p = _principal(request)
        a = rt.store.get_asset(asset_id, p.tenant_id)
        if a is None:
            raise HTTPException(404, f"Asset {asset_id} not found")
        return _asset_model(rt, rt.presign_base(), a)

    @app.get("/v1/assets", response_model=AssetList, responses=COMMON_ERRORS, tags=["assets"])
    async def list_assets(
        request: Request,
        purpose: str | None = Query(
            default=None,
            description=f"One of {', '.join(PURPOSES)}",
            json_schema_extra={"enum": list(PURPOSES)},
        ),
        reference_count: int | None = Query(default=None, ge=0, le=MAX_OFFSET),
        limit: int = Query(default=50, ge=1, le=100),
        offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    ) -> AssetList:
        """The tenant's assets, newest first."""
        p = _principal(request)
        if purpose is not None and purpose not in PURPOSES:
            raise HTTPException(
                400, f"Unknown purpose {purpose!r}: use one of {', '.join(PURPOSES)}"
            )
        items, total = rt.store.list_assets(p.tenant_id, purpose, reference_count, limit, offset)
        base = rt.presign_base()
        return AssetList(
            assets=[_asset_model(rt, base, a) for a in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    @app.delete(
        "/v1/assets/{asset_id}",
        status_code=204,
        response_class=Response,
        responses={**COMMON_ERRORS, 404: ERROR, 409: ERROR, 507: FULL},
        tags=["assets"],
    )
    async def delete_asset(asset_id: str, request: Request) -> Response:
        """Delete an asset and its file; 409 while a queued or running job uses it."""
        p = _principal(request)
        outcome, a = rt.store.delete_asset(asset_id, p.tenant_id)
        if outcome == "not_found" or a is None:
            raise HTTPException(404, f"Asset {asset_id} not found")
        if outcome == "referenced":
            raise HTTPException(
                409,
                f"Asset {asset_id} has active references: {a.reference_count} queued or running"
                " job(s) use it. Cancel them or wait until they finish, then delete it.",
            )
        await anyio.to_thread.run_sync(rt.blobs.delete, a.storage_key)
        return Response(status_code=204)

    # -- characters ---------------------------------------------------------------------------
    async def _versions(character_id: str | None = None) -> list[CharacterVersionRecord]:
        versions = await anyio.to_thread.run_sync(rt.catalog.versions, character_id)
        if not versions and rt.catalog.error:  # a broken install, not a bad request
            raise HTTPException(503, f"The character catalog is unavailable: {rt.catalog.error}")
        return versions

    async def _character_versions(character_id: str) -> list[CharacterVersionRecord]:
        versions = await _versions(character_id)
        if not versions:
            raise HTTPException(
                404, f"Character {character_id} not found: GET /v1/characters lists the catalog"
            )
        return versions

    async def _find_version(character_id: str, version: str) -> CharacterVersionRecord:
        versions = await _character_versions(character_id)
        for v in versions:
            if v.version == version:
                return v
        known = ", ".join(v.version for v in sorted(versions, key=_version_key))
        raise HTTPException(
            404, f"Character {character_id} has no version {version!r} (versions: {known})"
        )

    def _detail(versions: list[CharacterVersionRecord]) -> CharacterDetail:
        versions = sorted(versions, key=_version_key)
        ready = [v for v in versions if v.status == "READY"]
        latest = versions[-1]
        return CharacterDetail(
            character_id=latest.character_id,
            name=latest.name,
            description=latest.description,
            created_at=to_datetime(min(v.created_at for v in versions)),
            versions=[_version_model(rt, v) for v in versions],
            latest_version=_version_model(rt, latest),
            ready_versions=[_version_model(rt, v) for v in ready],
            total_versions=len(versions),
            ready_version_count=len(ready),
        )

    @app.get(
        "/v1/characters",
        response_model=CharacterList,
        responses=COMMON_ERRORS,
        tags=["characters"],
    )
    async def list_characters(
        request: Request,
        name_contains: str | None = Query(default=None),
        has_ready_versions: bool | None = Query(default=None),
        limit: int = Query(default=50, ge=1, le=100),
        offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    ) -> CharacterList:
        """The character catalog."""
        _principal(request)
        grouped: dict[str, list[CharacterVersionRecord]] = {}
        for v in await _versions():
            grouped.setdefault(v.character_id, []).append(v)
        chars = [_detail(vs) for vs in grouped.values()]
        if name_contains:
            chars = [c for c in chars if name_contains.lower() in c.name.lower()]
        if has_ready_versions is not None:
            chars = [c for c in chars if (c.ready_version_count > 0) == has_ready_versions]
        chars.sort(key=lambda c: (c.name, c.character_id))
        page = chars[offset : offset + limit]
        return CharacterList(
            characters=[
                CharacterSummary(
                    character_id=c.character_id,
                    name=c.name,
                    description=c.description,
                    version_count=c.total_versions,
                    latest_version=c.latest_version,
                )
                for c in page
            ],
            total=len(chars),
            limit=limit,
            offset=offset,
        )

    @app.get(
        "/v1/characters/{character_id}",
        response_model=CharacterDetail,
        responses={**COMMON_ERRORS, 404: ERROR},
        tags=["characters"],
    )
    async def get_character(character_id: str, request: Request) -> CharacterDetail:
        """One character with its versions."""
        _principal(request)
        return _detail(await _character_versions(character_id))

    @app.post(
        "/v1/characters/{character_id}/validate-manifest",
        response_model=ValidateManifestResponse,
        responses={**COMMON_ERRORS, 404: ERROR, 507: FULL},
        tags=["characters"],
    )
    async def validate_manifest(
        character_id: str,
        request: Request,
        version: str = Query(description="Version label, e.g. v1.0.0"),
    ) -> ValidateManifestResponse:
        """Check that a version's files are in storage and that its model compiles."""
        _principal(request)
        found = await _find_version(character_id, version)
        checked = await anyio.to_thread.run_sync(rt.catalog.validate, found)
        return ValidateManifestResponse(
            version_id=checked.version_id,
            character_id=checked.character_id,
            version=checked.version,
            status=checked.status,
            message=checked.message,
            created_at=to_datetime(checked.created_at),
            updated_at=to_datetime(checked.updated_at),
            manifest_s3_key=_s3_ref(rt, checked.manifest_key),
        )

    # -- jobs ---------------------------------------------------------------------------------
    def _resolve_input(
        tenant: str, role: str, asset_id: str | None, ref: str | None, fields: tuple[str, str]
    ) -> AssetRecord:
        if asset_id and ref:
            raise HTTPException(400, f"Give only one of {fields[0]} and {fields[1]}")
        if not asset_id and not ref:
            raise HTTPException(400, f"{fields[0]} or {fields[1]} is required ({role} input)")
        if asset_id:
            a = rt.store.get_asset(asset_id, tenant)
            if a is None:
                raise HTTPException(404, f"{fields[0]}: asset {asset_id} not found")
        else:
            assert ref is not None
            a = rt.store.get_asset_by_key(_storage_key(rt, ref), tenant)
            if a is None:
                raise HTTPException(404, f"{fields[1]}: no object {ref} in your assets")
        if a.status != "completed":
            raise HTTPException(
                400,
                f"{role} asset {a.asset_id} is not completed (status {a.status}): upload its file"
                f" and call POST /v1/assets/{a.asset_id}/complete first",
            )
        return a

    @app.post(
        "/v1/runs/retarget",
        status_code=201,
        response_model=RetargetResponse,
        responses={**COMMON_ERRORS, 404: ERROR, 409: ERROR, 413: TOO_LARGE, 507: FULL},
        tags=["jobs"],
    )
    async def start_retarget(
        body: RetargetRequest,
        request: Request,
        idempotency_key: _IdempotencyKeyHeader = None,
    ) -> Response:
        """Queue a retarget job (C3D + markerset -> joint angles .npz on a character)."""
        p = _principal(request)
        idem, replay = _idempotency(rt, p.tenant_id, idempotency_key, "retarget", body)
        if replay is not None:
            return replay
        exports = _requested_exports(body)
        if body.c3d_asset_id and body.tracker_asset_id:
            raise HTTPException(400, "Give c3d_asset_id or its alias tracker_asset_id, not both")
        if body.c3d_s3 and body.tracker_s3:
            raise HTTPException(400, "Give c3d_s3 or its alias tracker_s3, not both")
        c3d = _resolve_input(
            p.tenant_id,
            "C3D",
            body.c3d_asset_id or body.tracker_asset_id,
            body.c3d_s3 or body.tracker_s3,
            ("c3d_asset_id", "c3d_s3"),
        )
        markerset = _resolve_input(
            p.tenant_id,
            "markerset",
            body.markerset_asset_id,
            body.markerset_s3,
            ("markerset_asset_id", "markerset_s3"),
        )
        character_id = body.character_id or DEFAULT_CHARACTER_ID
        character_version = body.character_version or DEFAULT_CHARACTER_VERSION
        chosen = await _find_version(character_id, character_version)
        if chosen.status != "READY":
            raise HTTPException(
                400, f"Character {character_id} {character_version} is not READY ({chosen.message})"
            )
        _check_metadata(body.metadata)
        t = now()
        job = JobRecord(
            job_id=new_id(),
            tenant_id=p.tenant_id,
            type="retarget",
            status="QUEUED",
            params={
                "c3d_asset_id": c3d.asset_id,
                "markerset_asset_id": markerset.asset_id,
                "c3d_key": c3d.storage_key,
                "markerset_key": markerset.storage_key,
                "c3d_filename": c3d.filename,
                "markerset_filename": markerset.filename,
                "character_id": character_id,
                "character_version": character_version,
                "enable_scaling": body.enable_scaling,
                "subject_gender": body.subject_gender,
                "subject_height": body.subject_height,
                "subject_weight": body.subject_weight,
                "export_glb": body.export_glb,
                "export_formats": exports,
            },
            created_at=t,
            updated_at=t,
            run_id=new_id(),
            metadata=body.metadata,
            message="Job queued",
            input_asset_ids=[c3d.asset_id, markerset.asset_id],
        )
        ahead = rt.store.queue_position(t)
        mean = rt.store.mean_job_seconds() or 2.0
        wait = math.ceil(ahead / max(1, rt.config.workers) * mean)
        result = RetargetResponse(
            job_id=job.job_id,
            run_id=job.run_id,
            type=job.type,
            status=job.status,
            message="Retarget job queued",
            estimated_wait_time_seconds=wait,
        )
        payload = result.model_dump_json()
        response, queued = idem.created(payload, lambda entry: rt.store.create_job(job, entry))
        if queued:
            rt.notify_job_queued()
        return response

    @app.get(
        "/v1/jobs/{job_id}",
        response_model=Job,
        responses={**COMMON_ERRORS, 404: ERROR},
        tags=["jobs"],
    )
    async def get_job(job_id: str, request: Request) -> Response:
        """A job's status, progress, error and outputs (with presigned download URLs)."""
        p = _principal(request)
        j = rt.store.get_job(job_id, p.tenant_id)
        if j is None:
            raise HTTPException(404, f"Job {job_id} not found")
        # The hottest route (clients poll it): serialise once, skip FastAPI's re-validation.
        body = _job_model(rt, rt.presign_base(), j).model_dump_json()
        return Response(body, media_type="application/json")

    @app.get("/v1/jobs", response_model=JobList, responses=COMMON_ERRORS, tags=["jobs"])
    async def list_jobs(
        request: Request,
        status: Annotated[
            list[str] | None, Query(description="Repeatable (or comma-separated)")
        ] = None,
        type: Annotated[list[str] | None, Query(description="Repeatable")] = None,
        created_after: str | None = Query(
            default=None, description="ISO 8601", json_schema_extra={"format": "date-time"}
        ),
        created_before: str | None = Query(
            default=None, description="ISO 8601", json_schema_extra={"format": "date-time"}
        ),
        run_id: str | None = Query(default=None),
        has_output: bool | None = Query(default=None),
        input_asset_id: str | None = Query(default=None),
        limit: int = Query(default=50, ge=1, le=100),
        offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    ) -> JobList:
        """The tenant's jobs, newest first."""
        p = _principal(request)
        statuses = _choices([v.upper() for v in status or []], JOB_STATUSES, "status")
        types = _choices(type, JOB_TYPES, "job type")
        times: dict[str, float | None] = {}
        for name, value in (("created_after", created_after), ("created_before", created_before)):
            try:
                times[name] = parse_iso8601(value) if value else None
            except ValueError:
                raise HTTPException(
                    400, f"{name} must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z"
                ) from None
        filters = JobFilters(
            statuses=statuses,
            types=types,
            created_after=times["created_after"],
            created_before=times["created_before"],
            run_id=run_id,
            has_output=has_output,
            input_asset_id=input_asset_id,
        )
        items, total = rt.store.list_jobs(p.tenant_id, filters, limit, offset)
        base = rt.presign_base()
        return JobList(
            jobs=[_job_model(rt, base, j) for j in items], total=total, limit=limit, offset=offset
        )

    @app.delete(
        "/v1/jobs/{job_id}",
        response_model=CancelJobResponse,
        responses={**COMMON_ERRORS, 404: ERROR, 409: ERROR, 507: FULL},
        tags=["jobs"],
    )
    async def cancel_job(job_id: str, request: Request) -> CancelJobResponse:
        """Cancel a QUEUED or RUNNING job (a running one stops within a second)."""
        p = _principal(request)
        outcome, j = rt.store.cancel_job(job_id, p.tenant_id)
        if outcome == "not_found" or j is None:
            raise HTTPException(404, f"Job {job_id} not found")
        if outcome == "finished":
            raise HTTPException(
                409,
                f"Job {job_id} already finished ({j.status}); only QUEUED or RUNNING jobs"
                " can be canceled",
            )
        return CancelJobResponse(job_id=j.job_id, status=j.status, message=j.message)

    # -- presigned storage --------------------------------------------------------------------
    @app.post(
        UPLOAD_PATH,
        status_code=204,
        response_class=Response,
        responses={400: S3_ERROR, 403: S3_ERROR, 507: S3_ERROR},
        tags=["storage"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string"},
                                "policy": {"type": "string"},
                                "signature": {"type": "string"},
                                "file": {"type": "string", "format": "binary"},
                            },
                            "required": ["key", "policy", "signature", "file"],
                        }
                    }
                },
            }
        },
    )
    async def presigned_upload(request: Request) -> Response:
        """Step 2 of an upload: the presigned POST (no API key: the signed policy authorises it)."""
        rid = request.state.request_id
        length = request.headers.get("content-length")
        try:
            await receive_upload(
                request.headers.get("content-type", ""),
                request.stream(),
                rt.signer,
                rt.store,
                rt.blobs,
                int(length) if length and length.isdigit() else None,
                rt.config.max_upload_bytes,
            )
        except UploadError as exc:
            return s3_error(exc.status_code, exc.code, exc.message, rid)
        except ClientDisconnect:  # the client went away mid-upload: nothing was stored
            log.info("upload interrupted by the client", extra={"request_id": rid})
            return s3_error(400, "IncompleteBody", "The upload was interrupted", rid)
        return Response(status_code=204)

    @app.get(
        "/storage/objects/{key:path}",
        response_class=Response,
        responses={
            200: {
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
                "description": "The object",
            },
            206: {"description": "Part of the object (Range)"},
            403: S3_ERROR,
            404: S3_ERROR,
            416: S3_ERROR,
        },
        tags=["storage"],
    )
    @app.head("/storage/objects/{key:path}", response_class=Response, include_in_schema=False)
    async def presigned_download(
        key: str,
        request: Request,
        expires: str | None = Query(default=None),
        signature: str | None = Query(default=None),
    ) -> Response:
        """A presigned GET of a stored object (supports ``Range: bytes=…``)."""
        rid = request.state.request_id
        try:
            rt.signer.verify_download(key, expires, signature)
            check_key(key)
        except InvalidKeyError:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.", rid)
        except SignatureError as exc:
            return s3_error(exc.status_code, exc.code, exc.message, rid)
        size = rt.blobs.size(key)
        if size is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.", rid)
        asset = rt.store.get_asset_by_key(key, None)
        headers = {"Accept-Ranges": "bytes"}
        media_type = "application/octet-stream"
        if asset is not None:
            if MIME_TYPE.fullmatch(asset.content_type):  # not those stored before it was checked
                media_type = asset.content_type
            if asset.checksum_sha256:
                headers["ETag"] = f'"{asset.checksum_sha256}"'
            # Only a viewer page a worker wrote is shown by the browser; anything else (an
            # uploaded .html too) is saved, never rendered on the server's origin.
            shown = asset.purpose == OUTPUT_PURPOSE and asset.content_type == VIEWER_CONTENT_TYPE
            headers["Content-Disposition"] = (
                f"{'inline' if shown else 'attachment'};"
                f" filename*=UTF-8''{quote(asset.filename, safe='')}"
            )
            if shown:
                headers["Content-Security-Policy"] = VIEWER_CSP
                headers["X-Content-Type-Options"] = "nosniff"
        start, end, status = 0, size - 1, 200
        try:
            rng = parse_range(request.headers.get("range"), size)
        except UnsatisfiableRangeError:
            headers["Content-Range"] = f"bytes */{size}"
            resp = s3_error(416, "InvalidRange", "The requested range is not satisfiable", rid)
            resp.headers.update(headers)
            return resp
        if rng is not None:
            start, end = rng
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=media_type)
        return StreamingResponse(
            read_range(rt.blobs, key, start, length),
            status_code=status,
            headers=headers,
            media_type=media_type,
        )

    app.openapi = openapi_builder(app)  # type: ignore[method-assign]
    return app


# How uvicorn serves the app, for `myo-server serve` and LocalServer alike: the gateway logs
# access and errors itself, the runtime is opened before serving (no lifespan), no WebSockets.
UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "lifespan": "off",
    "ws": "none",
    "server_header": False,
}


def build_asgi(rt: ServerRuntime) -> ASGIApp:
    """The application wrapped in the gateway layer (what uvicorn serves)."""
    return Gateway(create_app(rt), rt)
