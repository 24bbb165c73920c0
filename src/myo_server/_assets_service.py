"""Assets: the three-step upload (initiate, the presigned POST, complete), listing and deletion."""

from __future__ import annotations

import anyio

from ._checks import SHA256_HEX, check_metadata
from ._errors import ServiceError
from ._idempotency import Answer, begin
from ._models import (
    Asset,
    AssetList,
    CompleteUploadResponse,
    InitiateUploadRequest,
    InitiateUploadResponse,
)
from ._objects import ObjectNotFoundError, object_sha256
from ._presenters import asset_model
from ._records import PURPOSES, AssetRecord
from ._runtime import ServerRuntime
from ._storage import asset_key
from ._util import new_id, now, to_datetime


class AssetService:
    """The asset operations of one tenant's requests over a runtime's stores.

    Args:
        rt: The server's runtime (metadata store, blobs, signer, config).
    """

    def __init__(self, rt: ServerRuntime) -> None:
        self.rt = rt

    def _offer(self, asset_id: str, key: str, expected_size: int | None) -> InitiateUploadResponse:
        """A freshly signed upload form for an asset (the store's own: this server's upload
        route, or the S3 bucket's, where the file goes to :func:`upload_key` until complete)."""
        cfg = self.rt.config
        max_size = expected_size if expected_size is not None else cfg.max_upload_bytes
        post = self.rt.objects.presign_upload(
            upload_key(self.rt, key),
            asset_id=asset_id,
            max_size=max_size,
            expires_in=cfg.upload_url_ttl,
        )
        return InitiateUploadResponse(
            asset_id=asset_id,
            upload_url=post.url,
            fields=post.fields,
            expires_at=to_datetime(post.expires_at),
        )

    def initiate(
        self, tenant: str, body: InitiateUploadRequest, idempotency_key: str | None
    ) -> Answer:
        """Step 1 of an upload: create a pending asset and sign its upload form.

        Raises:
            ServiceError: 400 for a bad key, size or metadata; 409 for a reused key.
        """
        rt = self.rt
        cfg = rt.config

        def renew(stored: str) -> str:
            """A replay gets a freshly signed form while its asset still waits for the file."""
            asset_id = InitiateUploadResponse.model_validate_json(stored).asset_id
            a = rt.store.get_asset(asset_id, tenant)
            if a is None or a.status != "pending":
                return stored
            return self._offer(a.asset_id, a.storage_key, a.expected_size_bytes).model_dump_json()

        idem, replay = begin(rt.store, tenant, idempotency_key, "initiate", body, renew)
        if replay is not None:
            return replay
        if body.expected_size_bytes is not None and body.expected_size_bytes > cfg.max_upload_bytes:
            raise ServiceError(
                400,
                f"expected_size_bytes {body.expected_size_bytes} exceeds this server's limit of"
                f" {cfg.max_upload_bytes} bytes",
            )
        check_metadata(body.metadata)
        asset_id = new_id()
        key = asset_key(tenant, asset_id, body.filename)
        payload = self._offer(asset_id, key, body.expected_size_bytes).model_dump_json()
        t = now()
        record = AssetRecord(
            asset_id=asset_id,
            tenant_id=tenant,
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

    def complete(self, tenant: str, asset_id: str) -> CompleteUploadResponse:
        """Step 3 of an upload: verify the stored file and make the asset usable (idempotent).

        Raises:
            ServiceError: 404 for an unknown asset, 400 when its file is missing or damaged.
        """
        rt = self.rt
        a = rt.store.get_asset(asset_id, tenant)
        if a is None:
            raise ServiceError(404, f"Asset {asset_id} not found")
        if a.status == "pending" and not rt.config.local_storage:
            a = self._claim_from_bucket(a)
        if a.status == "pending":
            raise ServiceError(
                400,
                f"No file has been uploaded for asset {asset_id}: POST the file with the fields"
                " from /v1/assets/initiate to its upload_url first",
            )
        if a.status == "uploaded":
            # The upload route stores only files of the expected size, and only once: a
            # mismatch here means the stored file was damaged behind the server's back.
            stored = rt.blobs.size(a.storage_key)
            if stored is None or stored != a.size_bytes:
                raise ServiceError(
                    400,
                    f"The uploaded file of asset {asset_id} is missing or damaged in storage:"
                    " initiate a new upload for the file",
                )
            done = rt.store.mark_completed(asset_id)
            if done is None:
                raise ServiceError(404, f"Asset {asset_id} not found")
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

    def _claim_from_bucket(self, a: AssetRecord) -> AssetRecord:
        """Claim the file a client POSTed to the bucket (S3 storage): snapshot it under a key
        only this call writes, hash the snapshot, and let the first complete to record its hash
        publish it as the asset's file. A later POST with a still-valid form changes only the
        upload key, never the verified file (the bytes stay in the store: the server reads
        them once, to hash them)."""
        objects = self.rt.objects
        try:
            uploaded = objects.stat(upload_key(self.rt, a.storage_key))
        except ObjectNotFoundError:
            return a  # nothing uploaded yet: the caller says so
        limit = a.expected_size_bytes
        if limit is not None and uploaded.size != limit:
            raise ServiceError(
                400,
                f"The file uploaded for asset {a.asset_id} has {uploaded.size} bytes, not the"
                f" {limit} announced at initiate: upload the whole file again",
            )
        snapshot = f"{upload_key(self.rt, a.storage_key)}.{new_id()}"
        try:
            objects.copy(upload_key(self.rt, a.storage_key), snapshot)
            digest = object_sha256(objects, snapshot)
            size = objects.stat(snapshot).size
            self.rt.store.claim_upload(
                a.asset_id, size, digest, lambda: objects.copy(snapshot, a.storage_key)
            )
        finally:
            objects.delete(snapshot)
        objects.delete(upload_key(self.rt, a.storage_key))
        return self.rt.store.get_asset(a.asset_id, a.tenant_id) or a

    def get(self, tenant: str, asset_id: str) -> Asset:
        """One asset.

        Raises:
            ServiceError: 404 for an unknown asset.
        """
        a = self.rt.store.get_asset(asset_id, tenant)
        if a is None:
            raise ServiceError(404, f"Asset {asset_id} not found")
        return asset_model(self.rt, a)

    def list_assets(
        self,
        tenant: str,
        purpose: str | None,
        reference_count: int | None,
        limit: int,
        offset: int,
        sha256: str | None = None,
    ) -> AssetList:
        """The tenant's assets, newest first.

        Args:
            tenant: Whose assets.
            purpose: Only this purpose.
            reference_count: Only assets used by this many QUEUED or RUNNING jobs.
            limit: Page size.
            offset: Items skipped.
            sha256: Only uploads of these bytes (hex, any case): a client looks for an
                identical upload before uploading again.

        Raises:
            ServiceError: 400 for an unknown purpose or a malformed sha256.
        """
        if purpose is not None and purpose not in PURPOSES:
            raise ServiceError(
                400, f"Unknown purpose {purpose!r}: use one of {', '.join(PURPOSES)}"
            )
        if sha256 is not None:
            sha256 = sha256.strip().lower()
            if not SHA256_HEX.fullmatch(sha256):
                raise ServiceError(
                    400,
                    f"sha256 must be 64 hex digits (a file's SHA-256 digest), got {sha256!r}",
                )
        items, total = self.rt.store.list_assets(
            tenant, purpose, reference_count, limit, offset, sha256
        )
        return AssetList(
            assets=[asset_model(self.rt, a) for a in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def delete(self, tenant: str, asset_id: str) -> None:
        """Delete an asset and its file.

        Raises:
            ServiceError: 404 for an unknown asset, 409 while a queued or running job uses it.
        """
        outcome, a = self.rt.store.delete_asset(asset_id, tenant)
        if outcome == "not_found" or a is None:
            raise ServiceError(404, f"Asset {asset_id} not found")
        if outcome == "referenced":
            raise ServiceError(
                409,
                f"Asset {asset_id} has active references: {a.reference_count} queued or running"
                " job(s) use it. Cancel them or wait until they finish, then delete it.",
            )
        await anyio.to_thread.run_sync(self.rt.blobs.delete, a.storage_key)


def upload_key(rt: ServerRuntime, key: str) -> str:
    """Where a client's upload goes before ``complete``: the asset's own key when this server
    receives the file (its upload route claims it atomically), else beside it in the bucket."""
    return key if rt.config.local_storage else f"uploads/{key}"
