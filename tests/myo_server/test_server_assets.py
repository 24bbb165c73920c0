"""Assets over real HTTP: the three-step upload, get/list/delete, errors and tenancy."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from myo_server import LocalServer
from myo_server._records import AssetRecord
from myo_server._storage import asset_key, put_file
from myo_server._util import new_id, now
from myo_server.testing import initiate, new_tenant_client, new_tenant_key, post_file, upload


def test_initiate_returns_absolute_url_signed_fields_and_expiry(client: httpx.Client) -> None:
    info = initiate(client, "walk.c3d", 10)
    assert info["upload_url"].startswith(str(client.base_url).rstrip("/") + "/")
    assert set(info["fields"]) == {"key", "policy", "signature"}
    assert info["fields"]["key"].endswith("/walk.c3d")
    assert info["expires_at"].endswith("Z")
    asset = client.get(f"/v1/assets/{info['asset_id']}").json()
    assert asset["status"] == "pending"
    assert asset["download_url"] is None


def test_three_step_upload_then_get_and_download(client: httpx.Client) -> None:
    data = bytes(range(256)) * 40
    info = initiate(client, "rec ording.c3d", len(data))
    r = post_file(info, data)
    assert r.status_code == 204
    assert "x-request-id" in r.headers
    asset = client.get(f"/v1/assets/{info['asset_id']}").json()
    assert asset["status"] == "uploaded"
    r = client.post(f"/v1/assets/{info['asset_id']}/complete")
    assert r.status_code == 200
    done = r.json()
    assert done == {
        "asset_id": info["asset_id"],
        "verified": True,
        "size_bytes": len(data),
        "checksum_sha256": hashlib.sha256(data).hexdigest(),
        "message": done["message"],
    }
    # complete is idempotent (clients retry it)
    assert client.post(f"/v1/assets/{info['asset_id']}/complete").json()["verified"] is True
    asset = client.get(f"/v1/assets/{info['asset_id']}").json()
    assert asset["status"] == "completed"
    assert asset["filename"] == "rec ording.c3d"
    assert asset["purpose"] == "retarget"
    assert asset["size_bytes"] == len(data)
    assert asset["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert asset["reference_count"] == 0
    for field in ("created_at", "updated_at", "completed_at", "download_url_expires_at"):
        assert asset[field].endswith("Z")
    got = httpx.get(asset["download_url"], trust_env=False)  # no API key needed
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["etag"] == f'"{asset["checksum_sha256"]}"'


def test_initiate_with_metadata_and_content_type(client: httpx.Client) -> None:
    r = client.post(
        "/v1/assets/initiate",
        json={
            "purpose": "retarget",
            "filename": "cmu.xml",
            "content_type": "application/xml",
            "metadata": {"subject": "s01", "n": 3},
        },
    )
    assert r.status_code == 201
    asset = client.get(f"/v1/assets/{r.json()['asset_id']}").json()
    assert asset["metadata"] == {"subject": "s01", "n": 3}
    assert asset["content_type"] == "application/xml"
    assert asset["expected_size_bytes"] is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"purpose": "nope", "filename": "a.c3d"}, "unknown purpose 'nope'"),
        ({"purpose": "retarget_output", "filename": "a.c3d"}, "unknown purpose"),
        ({"purpose": "retarget", "filename": "../a.c3d"}, "bare file name"),
        ({"purpose": "retarget", "filename": ""}, "filename"),
        ({"purpose": "retarget", "filename": "a.c3d", "expected_size_bytes": -1}, "expected_size"),
        ({"purpose": "retarget"}, "filename: Field required"),
        ({"purpose": "retarget", "filename": "a.c3d", "colour": "red"}, "colour"),
    ],
)
def test_initiate_rejects_bad_bodies_with_a_precise_400(
    client: httpx.Client, body: dict[str, object], fragment: str
) -> None:
    r = client.post("/v1/assets/initiate", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["detail"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain\r\nX-Injected: 1",
        "text/plain\n",
        "text/pl\x00ain",
        "text/plaın",
        "plain",
        "text/plain; charset=utf-8\r\n",
        "text/plain; charset",
    ],
)
def test_initiate_refuses_a_content_type_that_is_not_a_mime_type(
    client: httpx.Client, content_type: str
) -> None:
    body = {"purpose": "retarget", "filename": "a.c3d", "content_type": content_type}
    r = client.post("/v1/assets/initiate", json=body)
    assert r.status_code == 400
    assert "content_type must be a MIME type" in r.json()["detail"]
    assert client.get("/v1/assets").json()["total"] == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "application/octet-stream",
        "text/plain; charset=utf-8",
        'text/plain; charset="utf-8"',
        "application/vnd.myo+xml",
        "model/gltf-binary",
    ],
)
def test_mime_types_are_served_back_on_download(client: httpx.Client, content_type: str) -> None:
    body = {"purpose": "retarget", "filename": "a.c3d", "content_type": content_type}
    info = client.post("/v1/assets/initiate", json=body).json()
    assert post_file(info, b"abc").status_code == 204
    assert client.post(f"/v1/assets/{info['asset_id']}/complete").status_code == 200
    url = client.get(f"/v1/assets/{info['asset_id']}").json()["download_url"]
    got = httpx.get(url, trust_env=False)
    assert got.content == b"abc"
    assert got.headers["content-type"] == content_type


def test_a_filename_with_control_characters_is_quoted_in_content_disposition(
    client: httpx.Client,
) -> None:
    asset_id = upload(client, b"abc", 'we\r\nird"; x=1.c3d')
    url = client.get(f"/v1/assets/{asset_id}").json()["download_url"]
    got = httpx.get(url, trust_env=False)
    assert got.content == b"abc"
    assert got.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''we%0D%0Aird%22%3B%20x%3D1.c3d"
    )


def test_an_asset_stored_with_an_illegal_content_type_still_downloads(
    srv: LocalServer, tmp_path: Path
) -> None:
    """Assets initiated before content types were checked keep their bytes reachable."""
    key = new_tenant_key(srv, "legacy")
    tenant = srv.runtime.auth.authenticate(key).tenant_id  # type: ignore[union-attr]
    asset_id = new_id()
    source = tmp_path / "old.c3d"
    source.write_bytes(b"old bytes")
    storage_key = asset_key(tenant, asset_id, "old.c3d")
    size, sha = put_file(srv.runtime.blobs, storage_key, source)
    t = now()
    srv.runtime.store.insert_asset(
        AssetRecord(
            asset_id=asset_id,
            tenant_id=tenant,
            purpose="retarget",
            filename="old.c3d",
            content_type="text/plain\r\nX-Injected: 1",
            storage_key=storage_key,
            status="completed",
            created_at=t,
            updated_at=t,
            size_bytes=size,
            checksum_sha256=sha,
            completed_at=t,
        )
    )
    with httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": key}) as c:
        url = c.get(f"/v1/assets/{asset_id}").json()["download_url"]
    got = httpx.get(url, trust_env=False)
    assert got.content == b"old bytes"
    assert got.headers["content-type"] == "application/octet-stream"
    assert "x-injected" not in got.headers


def test_a_full_database_is_507_with_a_clear_message(
    srv: LocalServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's SQLITE_FULL, simulated: the disk cannot be filled in a test."""

    def full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(srv.runtime.store, "insert_asset", full)
    r = client.post("/v1/assets/initiate", json={"purpose": "retarget", "filename": "a.c3d"})
    assert r.status_code == 507
    assert "out of disk space" in r.json()["detail"]
    assert r.headers["x-request-id"]


def test_invalid_json_is_400_not_500(client: httpx.Client) -> None:
    r = client.post(
        "/v1/assets/initiate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert isinstance(r.json()["detail"], str)


def test_complete_before_upload_is_400(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 4)
    r = client.post(f"/v1/assets/{info['asset_id']}/complete")
    assert r.status_code == 400
    assert "upload_url" in r.json()["detail"]


def test_upload_shorter_than_expected_is_refused_and_the_form_stays_usable(
    client: httpx.Client,
) -> None:
    info = initiate(client, "a.c3d", 100)
    r = post_file(info, b"x" * 60)
    assert r.status_code == 400
    assert "<Code>EntityTooSmall</Code>" in r.text
    assert "60 bytes but expected_size_bytes is 100" in r.text
    assert client.get(f"/v1/assets/{info['asset_id']}").json()["status"] == "pending"
    # nothing was stored: the same form takes the whole file
    assert post_file(info, b"y" * 100).status_code == 204
    done = client.post(f"/v1/assets/{info['asset_id']}/complete").json()
    assert done["checksum_sha256"] == hashlib.sha256(b"y" * 100).hexdigest()


def test_unknown_asset_is_404_everywhere(client: httpx.Client) -> None:
    missing = "01a203b1-0000-7000-8000-000000000000"
    assert client.get(f"/v1/assets/{missing}").status_code == 404
    assert client.post(f"/v1/assets/{missing}/complete").status_code == 404
    r = client.delete(f"/v1/assets/{missing}")
    assert r.status_code == 404
    assert r.json() == {"detail": f"Asset {missing} not found"}


def test_list_filters_and_paginates(client: httpx.Client) -> None:
    ids = [upload(client, f"file {i}".encode(), f"f{i}.c3d") for i in range(5)]
    video = upload(client, b"frames", "clip.mp4", purpose="video")
    page = client.get("/v1/assets", params={"limit": 2}).json()
    assert page["total"] == 6
    assert (page["limit"], page["offset"]) == (2, 0)
    assert [a["asset_id"] for a in page["assets"]] == [video, ids[4]]  # newest first
    rest = client.get("/v1/assets", params={"limit": 100, "offset": 2}).json()
    assert [a["asset_id"] for a in rest["assets"]] == ids[3::-1]
    only = client.get("/v1/assets", params={"purpose": "video"}).json()
    assert [a["asset_id"] for a in only["assets"]] == [video]
    assert client.get("/v1/assets", params={"reference_count": 0}).json()["total"] == 6
    assert client.get("/v1/assets", params={"reference_count": 1}).json()["total"] == 0
    assert client.get("/v1/assets", params={"purpose": "retarget_output"}).json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"purpose": "bogus"}, {"reference_count": -2}],
)
def test_list_rejects_bad_parameters(client: httpx.Client, params: dict[str, Any]) -> None:
    r = client.get("/v1/assets", params=params)
    assert r.status_code == 400
    assert isinstance(r.json()["detail"], str)


def test_list_by_sha256_finds_the_tenants_identical_uploads(
    srv: LocalServer, client: httpx.Client
) -> None:
    """The ``sha256`` filter (our extension) finds uploads of the same bytes, in one tenant."""
    data = b"same bytes " + new_id().encode()
    digest = hashlib.sha256(data).hexdigest()
    first = upload(client, data, "a.c3d")
    second = upload(client, data, "b.c3d")
    upload(client, data + b"!", "c.c3d")
    found = client.get("/v1/assets", params={"sha256": digest}).json()
    assert [a["asset_id"] for a in found["assets"]] == [second, first]
    assert found["total"] == 2
    upper = client.get("/v1/assets", params={"sha256": digest.upper(), "purpose": "retarget"})
    assert upper.json()["total"] == 2
    with new_tenant_client(srv, "sha-other") as other:
        assert other.get("/v1/assets", params={"sha256": digest}).json()["total"] == 0
    bad = client.get("/v1/assets", params={"sha256": "abc"})
    assert bad.status_code == 400
    assert "sha256" in bad.json()["detail"] and "64 hex" in bad.json()["detail"]


def test_delete_removes_the_record_and_the_file(srv: LocalServer, client: httpx.Client) -> None:
    asset_id = upload(client, b"to delete", "d.c3d")
    url = client.get(f"/v1/assets/{asset_id}").json()["download_url"]
    key = srv.runtime.store.get_asset(asset_id, None)
    assert key is not None
    assert srv.runtime.blobs.exists(key.storage_key)
    r = client.delete(f"/v1/assets/{asset_id}")
    assert r.status_code == 204
    assert r.content == b""
    assert client.get(f"/v1/assets/{asset_id}").status_code == 404
    assert not srv.runtime.blobs.exists(key.storage_key)
    gone = httpx.get(url, trust_env=False)
    assert gone.status_code == 404
    assert "<Code>NoSuchKey</Code>" in gone.text


def test_idempotent_initiate_returns_the_same_asset(client: httpx.Client) -> None:
    body = {"purpose": "retarget", "filename": "same.c3d", "expected_size_bytes": 3}
    headers = {"Idempotency-Key": "init-1"}
    first = client.post("/v1/assets/initiate", json=body, headers=headers)
    again = client.post("/v1/assets/initiate", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    for field in ("asset_id", "upload_url"):
        assert again.json()[field] == first.json()[field]
    assert again.json()["fields"]["key"] == first.json()["fields"]["key"]
    assert again.headers["idempotent-replayed"] == "true"
    assert client.get("/v1/assets").json()["total"] == 1
    other = client.post("/v1/assets/initiate", json={**body, "filename": "x.c3d"}, headers=headers)
    assert other.status_code == 409


def test_a_replayed_initiate_renews_an_expired_upload_form(
    srv: LocalServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"purpose": "retarget", "filename": "late.c3d", "expected_size_bytes": 3}
    headers = {"Idempotency-Key": "renew-1"}
    with monkeypatch.context() as patch:
        # A form signed two hours ago (it lives one): expired.
        now = time.time()
        patch.setattr(srv.runtime.config, "upload_url_ttl", 3600)
        patch.setattr("myo_server._objects_local.time.time", lambda: now - 7200)
        first = client.post("/v1/assets/initiate", json=body, headers=headers).json()
    r = post_file(first, b"abc")
    assert r.status_code == 403
    assert "Policy expired" in r.text
    again = client.post("/v1/assets/initiate", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    renewed = again.json()
    assert renewed["asset_id"] == first["asset_id"]
    assert renewed["fields"]["key"] == first["fields"]["key"]
    expires = datetime.fromisoformat(renewed["expires_at"].replace("Z", "+00:00"))
    assert expires > datetime.now(timezone.utc) + timedelta(minutes=30)
    assert post_file(renewed, b"abc").status_code == 204
    assert client.post(f"/v1/assets/{first['asset_id']}/complete").status_code == 200
    assert client.get("/v1/assets").json()["total"] == 1


def test_tenants_cannot_see_each_others_assets(srv: LocalServer, client: httpx.Client) -> None:
    asset_id = upload(client, b"mine", "mine.c3d")
    with new_tenant_client(srv, "other") as other:
        assert other.get(f"/v1/assets/{asset_id}").status_code == 404
        assert other.post(f"/v1/assets/{asset_id}/complete").status_code == 404
        assert other.delete(f"/v1/assets/{asset_id}").status_code == 404
        assert other.get("/v1/assets").json()["total"] == 0
    assert client.get(f"/v1/assets/{asset_id}").status_code == 200


def test_upload_streams_a_real_recording(client: httpx.Client, tmp_path: Path) -> None:
    data = (Path(__file__).parent / "test_server_assets.py").read_bytes() * 50
    asset_id = upload(client, data, "big.bin", purpose="trackers")
    url = client.get(f"/v1/assets/{asset_id}").json()["download_url"]
    out = tmp_path / "out.bin"
    with httpx.stream("GET", url, trust_env=False) as r, open(out, "wb") as fh:
        for chunk in r.iter_bytes():
            fh.write(chunk)
    assert out.read_bytes() == data


@pytest.mark.parametrize(
    ("purpose", "filename"),
    [
        ("trackers", "walk.parquet"),
        ("motion", "walk.glb"),
        ("motion", "walk.gltf"),
        ("video", "a.mp4"),
    ],
)
def test_the_vendors_newer_upload_purposes_are_accepted_and_listed(
    client: httpx.Client, purpose: str, filename: str
) -> None:
    # The vendor's SDK 0.2.1 uploads GLB motions with purpose "motion": it was refused.
    asset_id = upload(client, b"bytes", filename, purpose=purpose)
    listed = client.get("/v1/assets", params={"purpose": purpose}).json()["assets"]
    assert asset_id in [a["asset_id"] for a in listed]
