"""Assets: the three-step upload (initiate, the presigned POST, complete), listing and deletion."""

from __future__ import annotations

import time

import anyio

from ._checks import check_metadata
from ._errors import ServiceError
from ._idempotency import Answer, begin
from ._models import (
    Asset,
    AssetList,
    CompleteUploadResponse,
    InitiateUploadRequest,
    InitiateUploadResponse,
)
from ._objects_local import UPLOAD_PATH
from ._presenters import asset_model
from ._records import PURPOSES, AssetRecord
from ._runtime import ServerRuntime
from ._signing import UploadPolicy
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
        """A freshly signed upload form for an asset."""
        cfg = self.rt.config
        expires = int(time.time()) + cfg.upload_url_ttl
        max_size = expected_size if expected_size is not None else cfg.max_upload_bytes
        fields = self.rt.signer.upload_fields(UploadPolicy(asset_id, key, max_size, expires))
        return InitiateUploadResponse(
            asset_id=asset_id,
            upload_url=f"{self.rt.presign_base()}{UPLOAD_PATH}",
            fields=fields,
            expires_at=to_datetime(expires),
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

    def get(self, tenant: str, asset_id: str) -> Asset:
        """One asset.

        Raises:
            ServiceError: 404 for an unknown asset.
        """
        a = self.rt.store.get_asset(asset_id, tenant)
        if a is None:
            raise ServiceError(404, f"Asset {asset_id} not found")
        return asset_model(self.rt, self.rt.presign_base(), a)

    def list_assets(
        self,
        tenant: str,
        purpose: str | None,
        reference_count: int | None,
        limit: int,
        offset: int,
    ) -> AssetList:
        """The tenant's assets, newest first.

        Raises:
            ServiceError: 400 for an unknown purpose.
        """
        if purpose is not None and purpose not in PURPOSES:
            raise ServiceError(
                400, f"Unknown purpose {purpose!r}: use one of {', '.join(PURPOSES)}"
            )
        items, total = self.rt.store.list_assets(tenant, purpose, reference_count, limit, offset)
        base = self.rt.presign_base()
        return AssetList(
            assets=[asset_model(self.rt, base, a) for a in items],
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
