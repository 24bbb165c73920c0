"""The data directory at rest: private to the server's user (0700 directories, 0600 files)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from myo_server import LocalServer
from myo_server.testing import new_tenant_client, upload

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common umask (022), under which files are world-readable unless the server says so."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _readable_by_others(root: Path) -> dict[str, str]:
    """Every entry of ``root`` (itself included) that its group or others may use."""
    found = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found[str(path.relative_to(root))] = oct(mode)
    return found


def _use(data: Path) -> None:
    """Start a server on ``data``, store a file and the character catalog, stop it."""
    with LocalServer(data_dir=data, workers=0) as srv, new_tenant_client(srv) as client:
        upload(client, b"a private recording", "walk.c3d")
        srv.runtime.catalog.ensure_synced()
        assert client.get("/v1/characters").status_code == 200


@pytest.mark.usefixtures("usual_umask")
def test_a_new_data_dir_is_private(tmp_path: Path) -> None:
    data = tmp_path / "home" / "myo"
    _use(data)
    names = {str(p.relative_to(data)) for p in data.rglob("*")}
    for name in ("myo.sqlite3", "secret.key", "embedded_api_key", "blobs/.tmp", "run/init.lock"):
        assert name in names
    assert any(n.startswith("blobs/tenants/") and n.endswith("/walk.c3d") for n in names)
    assert any(n.startswith("blobs/characters/") for n in names)
    assert _readable_by_others(data) == {}
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700  # created for it too


@pytest.mark.usefixtures("usual_umask")
def test_an_existing_open_data_dir_is_made_private_at_start(tmp_path: Path) -> None:
    data = tmp_path / "myo"
    _use(data)
    for path in [data, *data.rglob("*")]:  # as servers before this rule left it
        path.chmod(0o755 if path.is_dir() else 0o644)
    with LocalServer(data_dir=data, workers=0) as srv:
        wal = data / "myo.sqlite3-wal"
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
        assert srv.runtime.store.count_api_keys() >= 1
    assert _readable_by_others(data) == {}
