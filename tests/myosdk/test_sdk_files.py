"""Downloads write only where they are told to: a temporary file created exclusively beside the
destination (never through a symlink), renamed into place once verified; a failed or cancelled
download leaves an existing destination as it was. Against a real myo_server on loopback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from myosdk import AsyncClient, ChecksumMismatchError, Client

SECRET = b"outside the download's directory: must never change\n"


@pytest.fixture
def client(idle_server: Any) -> Iterator[Client]:
    with Client(api_key=idle_server.api_key, base_url=idle_server.base_url) as c:
        yield c


@pytest.fixture
def uploaded(client: Client, tmp_path: Path) -> tuple[str, bytes]:
    """An uploaded asset's id and bytes."""
    data = os.urandom(300_000)
    source = tmp_path / "source.c3d"
    source.write_bytes(data)
    return client.assets.upload_file(source)["asset_id"], data


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file an attacker would like the download to overwrite."""
    target = tmp_path / "outside" / "secret.txt"
    target.parent.mkdir()
    target.write_bytes(SECRET)
    return target


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_never_writes_through_a_planted_part_symlink(
    client: Client, uploaded: tuple[str, bytes], outside: Path, work: Path
) -> None:
    asset_id, data = uploaded
    (work / "out.npz.part").symlink_to(outside)  # where the old fixed temp name pointed
    saved = client.assets.download(asset_id, work / "out.npz")
    assert outside.read_bytes() == SECRET
    assert (work / "out.npz").read_bytes() == data
    assert not (work / "out.npz").is_symlink()
    assert saved["path"] == str(work / "out.npz")
    assert _names(work) == ["out.npz", "out.npz.part"]  # the planted link is left alone


@contextlib.asynccontextmanager
async def _async_client(server: Any, own_pool: bool) -> AsyncIterator[AsyncClient]:
    http = None if own_pool else httpx.AsyncClient(timeout=30)
    async with AsyncClient(api_key=server.api_key, base_url=server.base_url, http_client=http) as c:
        yield c
    if http is not None:
        await http.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("own_pool", [True, False], ids=["threaded-pump", "caller-http-client"])
async def test_async_download_never_writes_through_a_planted_part_symlink(
    idle_server: Any, uploaded: tuple[str, bytes], outside: Path, work: Path, own_pool: bool
) -> None:
    asset_id, data = uploaded
    (work / "out.npz.part").symlink_to(outside)
    async with _async_client(idle_server, own_pool) as client:
        await client.assets.download(asset_id, work / "out.npz")
    assert outside.read_bytes() == SECRET
    assert (work / "out.npz").read_bytes() == data
    assert _names(work) == ["out.npz", "out.npz.part"]


def test_a_destination_symlink_is_replaced_not_written_through(
    client: Client, uploaded: tuple[str, bytes], outside: Path, work: Path
) -> None:
    asset_id, data = uploaded
    (work / "out.npz").symlink_to(outside)
    client.assets.download(asset_id, work / "out.npz")
    assert outside.read_bytes() == SECRET
    assert not (work / "out.npz").is_symlink()
    assert (work / "out.npz").read_bytes() == data


def test_download_creates_files_like_an_ordinary_open(
    client: Client, uploaded: tuple[str, bytes], work: Path
) -> None:
    """The temporary file is private to its creator only by its unguessable name: the result has
    the permissions of any new file (umask), like the plain open() it replaces."""
    asset_id, _ = uploaded
    umask = os.umask(0o022)
    try:
        client.assets.download(asset_id, work / "out.npz")
    finally:
        os.umask(umask)
    assert (work / "out.npz").stat().st_mode & 0o777 == 0o644


def test_failed_download_keeps_the_existing_destination(
    client: Client, uploaded: tuple[str, bytes], work: Path
) -> None:
    asset_id, _ = uploaded
    (work / "out.npz").write_bytes(b"the previous motion")
    info = dict(client.assets.get(asset_id))
    info["checksum_sha256"] = "0" * 64  # the bytes that arrive cannot match
    with pytest.raises(ChecksumMismatchError, match="nothing was written"):
        client.assets.download(info, work / "out.npz")
    assert (work / "out.npz").read_bytes() == b"the previous motion"
    assert _names(work) == ["out.npz"]  # no temporary file left behind


@pytest.mark.anyio
@pytest.mark.parametrize("own_pool", [True, False], ids=["threaded-pump", "caller-http-client"])
async def test_cancelled_download_keeps_the_existing_destination(
    idle_server: Any, work: Path, tmp_path: Path, own_pool: bool
) -> None:
    source = tmp_path / "big.c3d"
    source.write_bytes(os.urandom(24 * 1024 * 1024))
    (work / "big.c3d").write_bytes(b"the previous recording")
    async with _async_client(idle_server, own_pool) as client:
        asset_id = (await client.assets.upload_file(source))["asset_id"]
        with anyio.CancelScope() as scope:
            await client.assets.download(
                asset_id, work / "big.c3d", on_progress=lambda done, total: scope.cancel()
            )
        assert scope.cancelled_caught
    with anyio.fail_after(5):  # a pump thread stops at its next chunk
        while _names(work) != ["big.c3d"]:
            await anyio.sleep(0.02)
    assert (work / "big.c3d").read_bytes() == b"the previous recording"
