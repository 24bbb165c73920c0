"""``client.assets``: upload (three steps, streamed), get, download (streamed, verified), list,
delete. ``Assets`` and ``AsyncAssets`` are twins."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio.to_thread

from myosdk._base import upload_mismatch
from myosdk._cleanup import JOBS_STAY_NOTE, stale_assets
from myosdk._core import (
    CHUNK_SIZE,
    Pager,
    assets_complete,
    assets_delete,
    assets_get,
    assets_initiate,
    assets_list,
    content_type_for,
    detect_purpose,
    download_destination,
    local_file,
)
from myosdk._exceptions import ConflictError, MyoSDKError, NotFoundError
from myosdk._streaming import TransferProgress
from myosdk._types import Asset, AssetList, CleanupResult, DownloadResult, UploadResult

if TYPE_CHECKING:
    from myosdk._client import AsyncClient, Client

__all__ = ["Assets", "AsyncAssets"]


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.hexdigest()


def _check_purpose(purpose: object, path: Path) -> str:
    if purpose is None:
        return detect_purpose(path)
    if not isinstance(purpose, str) or not purpose.strip():
        raise ValueError(f"purpose must be a non-empty string or None, got {purpose!r}")
    return purpose.strip()


def _reusable(
    page: Mapping[str, Any],
    path: Path,
    purpose: str,
    size: int,
    sha256: str,
    metadata: Mapping[str, Any] | None,
) -> UploadResult | None:
    """An upload of ``path`` found on ``page`` as an ``upload_file`` result, or None.

    Checked here, not only by the server's ``sha256`` filter: a server without that extension
    ignores it and lists every asset.
    """
    for asset in page.get("assets") or []:
        same = (
            asset.get("status") == "completed"
            and str(asset.get("checksum_sha256") or "").lower() == sha256
            and asset.get("size_bytes") == size
            and asset.get("purpose") == purpose
            # The name tells the server the file's format, and people which file a job read.
            and asset.get("filename") == path.name
            and (asset.get("metadata") or None) == (dict(metadata) if metadata else None)
        )
        if same:
            return {
                "asset_id": str(asset["asset_id"]),
                "verified": True,
                "size_bytes": size,
                "checksum_sha256": sha256,
                "message": f"Reused asset {asset['asset_id']}: an identical upload of "
                f"{path.name} (same bytes, name and purpose).",
                "reused": True,
            }
    return None


def _older_than(days: float) -> timedelta:
    if isinstance(days, bool) or not isinstance(days, int | float) or not days >= 0:
        raise ValueError(f"older_than_days must be a number >= 0, got {days!r}")
    return timedelta(days=days)


def _cleanup_result(dry_run: bool, assets: list[Asset], in_use: list[str]) -> CleanupResult:
    return {
        "dry_run": dry_run,
        "assets": assets,
        "size_bytes": sum(a.get("size_bytes") or 0 for a in assets),
        "in_use": in_use,
        "note": JOBS_STAY_NOTE,
    }


def _asset_id_of(asset: str | Mapping[str, Any]) -> str:
    if isinstance(asset, str):
        return asset
    if isinstance(asset, Mapping) and isinstance(asset.get("asset_id"), str):
        return str(asset["asset_id"])
    raise ValueError(f"asset must be an asset id or a dict from assets.get(), got {asset!r}")


def _needs_fetch(asset: str | Mapping[str, Any]) -> bool:
    return isinstance(asset, str) or not asset.get("download_url")


def _download_plan(info: Mapping[str, Any]) -> tuple[str, str | None, int | None, str | None]:
    """``(url, asset_id, size, sha256)`` of a fetched asset; a clear error if not downloadable."""
    url = info.get("download_url")
    asset_id = info.get("asset_id")
    if not isinstance(url, str) or not url:
        raise MyoSDKError(
            f"Asset {asset_id} has no download_url (status {info.get('status')!r}): only "
            "completed assets can be downloaded. Finish its upload (or wait for its job) first."
        )
    size = info.get("size_bytes")
    sha = info.get("checksum_sha256")
    return (
        url,
        asset_id if isinstance(asset_id, str) else None,
        size if isinstance(size, int) else None,
        sha if isinstance(sha, str) and sha else None,
    )


class Assets:
    """Files stored by the API: inputs (marker recordings, markerset XML) and job outputs."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def upload_file(
        self,
        file_path: str | os.PathLike[str],
        purpose: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        on_progress: TransferProgress | None = None,
        reuse: bool = False,
    ) -> UploadResult:
        """Upload a local file in one call: initiate, stream it to the presigned URL, complete.

        The file is streamed from disk (never held in memory) and its sha256 computed on the way
        is checked against the server's ``checksum_sha256``.

        Args:
            file_path: The file to upload.
            purpose: The asset purpose; detected from the extension when None (.c3d, .trc,
                .csv, .parquet and .xml → ``"retarget"``; .glb and .gltf → ``"motion"``).
            metadata: Free-form JSON metadata stored with the asset.
            on_progress: Called as ``on_progress(bytes_sent, total_bytes)`` while streaming.
            reuse: First look for a completed asset of the same bytes (sha256), file name,
                purpose and metadata, and return it (``reused: True``) instead of uploading
                again: retried workflows cost nothing. Off by default, as in the vendor's SDK,
                where each call makes a new asset (that the caller may delete).

        Returns:
            ``{"asset_id", "verified", "size_bytes", "checksum_sha256", "message"}``
            (and ``reused``).

        Raises:
            FileNotFoundError: No such file (before any request).
            ValueError: Unknown extension and no ``purpose``.
            ChecksumMismatchError: The server stored other bytes than the file's (asset deleted).
        """
        path, size = local_file(file_path)
        purpose = _check_purpose(purpose, path)
        if reuse:
            digest = _sha256_file(path)
            page = self._client._call(assets_list(purpose, None, 100, 0, digest))
            found = _reusable(page, path, purpose, size, digest, metadata)
            if found is not None:
                return found
        content_type = content_type_for(path)
        started = self._client._call(
            assets_initiate(purpose, path.name, content_type, size, metadata)
        )
        asset_id = started["asset_id"]
        sha = self._client._upload(
            started["upload_url"], dict(started["fields"]), path, content_type, size, on_progress
        )
        result = cast(UploadResult, self._client._call(assets_complete(asset_id)))
        if sha is None:  # a retried upload found its signature used: hash the file to verify
            sha = _sha256_file(path)
        mismatch = upload_mismatch(result, path, size, sha)
        if mismatch is not None:
            self._discard(asset_id)
            raise mismatch
        return result

    def _discard(self, asset_id: str) -> None:
        with contextlib.suppress(MyoSDKError):  # best effort: the error raised next matters
            self.delete(asset_id)

    def get(self, asset_id: str) -> Asset:
        """Details of an asset, with a fresh presigned ``download_url`` once it is completed."""
        return cast(Asset, self._client._call(assets_get(asset_id)))

    def download(
        self,
        asset: str | Mapping[str, Any],
        destination: str | os.PathLike[str],
        *,
        on_progress: TransferProgress | None = None,
    ) -> DownloadResult:
        """Stream an asset to ``destination`` (its parent directory is created).

        Bytes go to a new temporary file beside ``destination`` (created exclusively, never
        through a symlink), are checked against the asset's size and sha256, then renamed into
        place; on any failure the temporary file is removed and an existing ``destination`` is
        left as it was. A dropped connection resumes with ``Range``; an expired link is renewed
        once.

        Args:
            asset: An asset id, or the dict from ``get()``.
            destination: A file path, or an existing directory (the asset's filename is used).
            on_progress: Called as ``on_progress(bytes_received, total_bytes_or_None)``.

        Returns:
            ``{"path", "size_bytes", "checksum_sha256"}`` of the verified file.
        """
        info: Mapping[str, Any] = (
            self.get(_asset_id_of(asset)) if _needs_fetch(asset) else cast(Mapping[str, Any], asset)
        )
        url, asset_id, size, sha = _download_plan(info)
        dest = download_destination(destination, info.get("filename"))

        def refresh() -> str:
            assert asset_id is not None
            return _download_plan(self.get(asset_id))[0]

        return self._client._download(
            url, dest, asset_id, size, sha, on_progress, refresh if asset_id else None
        )

    def list(
        self,
        purpose: str | None = None,
        reference_count: int | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        sha256: str | None = None,
    ) -> AssetList:
        """One page of assets: ``{"assets", "total", "limit", "offset"}``.

        Args:
            purpose: Only assets of this purpose.
            reference_count: Only assets referenced by this many jobs (0 = unused).
            limit: Page size, 1-100.
            offset: Items to skip.
            sha256: Only uploads of these bytes (myo-server's extension; the vendor's API
                ignores it and lists every asset).
        """
        return cast(
            AssetList,
            self._client._call(assets_list(purpose, reference_count, limit, offset, sha256)),
        )

    def iter_assets(
        self,
        purpose: str | None = None,
        reference_count: int | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[Asset]:
        """Every matching asset, fetching pages of ``page_size`` as needed."""
        pager = Pager("assets", "asset_id")
        while pager.offset is not None:
            page = self.list(purpose, reference_count, page_size, pager.offset)
            yield from pager.take(page)

    def delete(self, asset_id: str) -> None:
        """Delete an asset.

        Raises:
            ConflictError: (a ``ValidationError``) a job still references the asset.
            NotFoundError: No such asset.
        """
        try:
            self._client._call(assets_delete(asset_id))
        except NotFoundError as err:
            if err.attempts == 1:
                raise
            # A retried DELETE answered 404: an earlier attempt deleted it.

    def cleanup(self, older_than_days: float, *, dry_run: bool = True) -> CleanupResult:
        """Delete the assets no QUEUED or RUNNING job uses, created over ``older_than_days``
        days ago (job outputs included). A dry run (the default) only lists them.

        Jobs cannot be deleted through the API: their records stay.

        Raises:
            ValueError: ``older_than_days`` is not a number >= 0.
        """
        found = stale_assets(self.iter_assets(reference_count=0), _older_than(older_than_days))
        if dry_run:
            return _cleanup_result(True, found, [])
        deleted: list[Asset] = []
        in_use: list[str] = []
        for asset in found:
            try:
                self.delete(asset["asset_id"])
            except ConflictError:  # a job started using it since it was listed
                in_use.append(asset["asset_id"])
                continue
            except NotFoundError:  # deleted by someone else meanwhile
                continue
            deleted.append(asset)
        return _cleanup_result(False, deleted, in_use)


class AsyncAssets:
    """Files stored by the API: inputs (marker recordings, markerset XML) and job outputs."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def upload_file(
        self,
        file_path: str | os.PathLike[str],
        purpose: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        on_progress: TransferProgress | None = None,
        reuse: bool = False,
    ) -> UploadResult:
        """Upload a local file in one call: initiate, stream it to the presigned URL, complete.

        See ``Assets.upload_file``.
        """
        path, size = local_file(file_path)
        purpose = _check_purpose(purpose, path)
        if reuse:
            digest = await anyio.to_thread.run_sync(_sha256_file, path)
            page = await self._client._call(assets_list(purpose, None, 100, 0, digest))
            found = _reusable(page, path, purpose, size, digest, metadata)
            if found is not None:
                return found
        content_type = content_type_for(path)
        started = await self._client._call(
            assets_initiate(purpose, path.name, content_type, size, metadata)
        )
        asset_id = started["asset_id"]
        sha = await self._client._upload(
            started["upload_url"], dict(started["fields"]), path, content_type, size, on_progress
        )
        result = cast(UploadResult, await self._client._call(assets_complete(asset_id)))
        if sha is None:
            sha = await anyio.to_thread.run_sync(_sha256_file, path)
        mismatch = upload_mismatch(result, path, size, sha)
        if mismatch is not None:
            await self._discard(asset_id)
            raise mismatch
        return result

    async def _discard(self, asset_id: str) -> None:
        with contextlib.suppress(MyoSDKError):  # best effort: the error raised next matters
            await self.delete(asset_id)

    async def get(self, asset_id: str) -> Asset:
        """Details of an asset, with a fresh presigned ``download_url`` once it is completed."""
        return cast(Asset, await self._client._call(assets_get(asset_id)))

    async def download(
        self,
        asset: str | Mapping[str, Any],
        destination: str | os.PathLike[str],
        *,
        on_progress: TransferProgress | None = None,
    ) -> DownloadResult:
        """Stream an asset to ``destination``; see ``Assets.download``."""
        info: Mapping[str, Any] = (
            await self.get(_asset_id_of(asset))
            if _needs_fetch(asset)
            else cast(Mapping[str, Any], asset)
        )
        url, asset_id, size, sha = _download_plan(info)
        dest = download_destination(destination, info.get("filename"))

        async def refresh() -> str:
            assert asset_id is not None
            return _download_plan(await self.get(asset_id))[0]

        return await self._client._download(
            url, dest, asset_id, size, sha, on_progress, refresh if asset_id else None
        )

    async def list(
        self,
        purpose: str | None = None,
        reference_count: int | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        sha256: str | None = None,
    ) -> AssetList:
        """One page of assets; see ``Assets.list``."""
        return cast(
            AssetList,
            await self._client._call(assets_list(purpose, reference_count, limit, offset, sha256)),
        )

    async def iter_assets(
        self,
        purpose: str | None = None,
        reference_count: int | None = None,
        *,
        page_size: int = 100,
    ) -> AsyncIterator[Asset]:
        """Every matching asset, fetching pages of ``page_size`` as needed."""
        pager = Pager("assets", "asset_id")
        while pager.offset is not None:
            page = await self.list(purpose, reference_count, page_size, pager.offset)
            for item in pager.take(page):
                yield item

    async def delete(self, asset_id: str) -> None:
        """Delete an asset; see ``Assets.delete``."""
        try:
            await self._client._call(assets_delete(asset_id))
        except NotFoundError as err:
            if err.attempts == 1:
                raise

    async def cleanup(self, older_than_days: float, *, dry_run: bool = True) -> CleanupResult:
        """Delete old assets no job uses; see ``Assets.cleanup``."""
        older_than = _older_than(older_than_days)
        found = stale_assets([a async for a in self.iter_assets(reference_count=0)], older_than)
        if dry_run:
            return _cleanup_result(True, found, [])
        deleted: list[Asset] = []
        in_use: list[str] = []
        for asset in found:
            try:
                await self.delete(asset["asset_id"])
            except ConflictError:
                in_use.append(asset["asset_id"])
                continue
            except NotFoundError:
                continue
            deleted.append(asset)
        return _cleanup_result(False, deleted, in_use)
