"""The presigned storage endpoints: signatures, expiry, reuse, sizes, bad bodies, Range."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from myo_server import LocalServer
from myo_server._signing import UploadPolicy
from myo_server._storage import DirectoryBlobStore, _DirectoryWriter
from myo_server.testing import initiate, post_file, upload, wait_for


def _s3_code(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("application/xml")
    assert "<RequestId>" in r.text
    return r.text.split("<Code>")[1].split("</Code>")[0]


_BOUNDARY = "BB"
_FORM_TAIL = f"\r\n--{_BOUNDARY}--\r\n".encode()


def _form_head(info: dict[str, Any]) -> bytes:
    """A multipart body up to the first byte of the file: the signed fields, the file's headers."""
    fields = "".join(
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in info["fields"].items()
    )
    return (
        fields
        + f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def _paused_post(info: dict[str, Any], data: bytes, release: threading.Event) -> httpx.Response:
    """A presigned POST (chunked) that sends half its file, then waits for ``release``."""

    def body() -> Iterator[bytes]:
        yield _form_head(info) + data[: len(data) // 2]
        release.wait(30)
        yield data[len(data) // 2 :] + _FORM_TAIL

    return httpx.post(
        info["upload_url"],
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={_BOUNDARY}"},
        trust_env=False,
        timeout=60,
    )


def _parts(srv: LocalServer) -> list[str]:
    return [p.name for p in (srv.runtime.config.blob_dir / ".tmp").glob("*.part")]


def test_forged_signature_is_403(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 3)
    forged = {**info, "fields": {**info["fields"], "signature": "0" * 64}}
    r = post_file(forged, b"abc")
    assert r.status_code == 403
    assert _s3_code(r) == "SignatureDoesNotMatch"
    assert client.get(f"/v1/assets/{info['asset_id']}").json()["status"] == "pending"


def test_tampered_policy_is_403(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 3)
    fields = dict(info["fields"])
    fields["policy"] = fields["policy"][:-4] + "AAA="
    r = post_file({**info, "fields": fields}, b"abc")
    assert r.status_code == 403


def test_key_swapped_for_another_assets_key_is_403(client: httpx.Client) -> None:
    a = initiate(client, "a.c3d", 3)
    b = initiate(client, "b.c3d", 3)
    fields = {**a["fields"], "key": b["fields"]["key"]}
    r = post_file({**a, "fields": fields}, b"abc")
    assert r.status_code == 403
    assert "key does not match" in r.text


def test_missing_fields_are_403(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 3)
    r = httpx.post(info["upload_url"], files={"file": ("a.c3d", b"abc")}, trust_env=False)
    assert r.status_code == 403
    assert "Missing form field(s) key, policy, signature" in r.text


def test_expired_policy_is_403(srv: LocalServer, client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 3)
    expired = srv.runtime.signer.upload_fields(
        UploadPolicy(info["asset_id"], info["fields"]["key"], 3, int(time.time()) - 1)
    )
    r = post_file({**info, "fields": expired}, b"abc")
    assert r.status_code == 403
    assert "Policy expired" in r.text


def test_reusing_a_completed_upload_is_403(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 3)
    assert post_file(info, b"abc").status_code == 204
    assert client.post(f"/v1/assets/{info['asset_id']}/complete").status_code == 200
    r = post_file(info, b"xyz")
    assert r.status_code == 403
    assert "already completed" in r.text
    url = client.get(f"/v1/assets/{info['asset_id']}").json()["download_url"]
    assert httpx.get(url, trust_env=False).content == b"abc"


def test_oversize_upload_is_400_and_stores_nothing(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 10)
    r = post_file(info, b"x" * 11)
    assert r.status_code == 400
    assert _s3_code(r) == "EntityTooLarge"
    assert "maximum allowed size (10 bytes declared as expected_size_bytes)" in r.text
    assert client.get(f"/v1/assets/{info['asset_id']}").json()["status"] == "pending"


def test_large_oversize_upload_is_refused_from_its_content_length(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 10)
    r = post_file(info, b"x" * (3 * 1024 * 1024))
    assert r.status_code == 400
    assert _s3_code(r) == "EntityTooLarge"
    assert "maximum allowed size (10 bytes declared as expected_size_bytes)" in r.text


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("application/json", b"{}", "MalformedPOSTRequest"),
        ("multipart/form-data", b"--x--", "MalformedPOSTRequest"),
        ("multipart/form-data; boundary=zz", b"garbage without boundaries", "MalformedPOSTRequest"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nContent-Dispo", "MalformedPOSTRequest"),
    ],
)
def test_malformed_bodies_are_400(
    srv: LocalServer, content_type: str, body: bytes, code: str
) -> None:
    r = httpx.post(
        srv.base_url + "/storage/upload",
        content=body,
        headers={"content-type": content_type},
        trust_env=False,
    )
    assert r.status_code == 400, r.text
    assert _s3_code(r) == code


def test_fields_without_a_file_part_are_400(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", 3)
    r = httpx.post(info["upload_url"], data=info["fields"], files={}, trust_env=False)
    # httpx sends an urlencoded body when there are no files
    assert r.status_code == 400
    r = httpx.post(
        info["upload_url"],
        data=info["fields"],
        files={"other": ("x.c3d", b"abc")},
        trust_env=False,
    )
    assert r.status_code == 400
    assert "name it 'file'" in r.text


def test_a_form_takes_one_file_a_second_upload_is_403(client: httpx.Client) -> None:
    info = initiate(client, "a.c3d", None)
    assert post_file(info, b"first").status_code == 204
    r = post_file(info, b"second!")
    assert r.status_code == 403
    assert _s3_code(r) == "AccessDenied"
    assert "already uploaded" in r.text
    done = client.post(f"/v1/assets/{info['asset_id']}/complete").json()
    assert done["size_bytes"] == 5


def test_a_completed_upload_cannot_be_replaced_by_a_slower_post(
    srv: LocalServer, client: httpx.Client
) -> None:
    info = initiate(client, "a.bin", None)
    slow_bytes, fast_bytes = b"S" * 200_000, b"F" * 100_000
    release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(_paused_post, info, slow_bytes, release)
        try:
            wait_for(lambda: _parts(srv), timeout=10)  # the slow POST is writing its file
            assert post_file(info, fast_bytes).status_code == 204
            done = client.post(f"/v1/assets/{info['asset_id']}/complete").json()
        finally:
            release.set()
        r = slow.result(timeout=60)
    assert r.status_code == 403
    assert _s3_code(r) == "AccessDenied"
    asset = client.get(f"/v1/assets/{info['asset_id']}").json()
    stored = httpx.get(asset["download_url"], trust_env=False).content
    assert stored == fast_bytes
    assert hashlib.sha256(stored).hexdigest() == done["checksum_sha256"] == asset["checksum_sha256"]
    assert not _parts(srv)


def test_deleting_an_asset_during_its_upload_leaves_no_blob(
    srv: LocalServer, client: httpx.Client
) -> None:
    info = initiate(client, "a.bin", None)
    release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(_paused_post, info, b"D" * 200_000, release)
        try:
            wait_for(lambda: _parts(srv), timeout=10)
            assert client.delete(f"/v1/assets/{info['asset_id']}").status_code == 204
        finally:
            release.set()
        r = slow.result(timeout=60)
    assert r.status_code == 403
    assert "no longer valid" in r.text
    asset_dir = srv.runtime.config.blob_dir / info["fields"]["key"].rpartition("/")[0]
    assert not asset_dir.exists()
    assert not _parts(srv)


@pytest.mark.parametrize(
    ("step", "code"),
    [("write", errno.ENOSPC), ("write", errno.EDQUOT), ("sync", errno.ENOSPC)],
)
def test_a_full_disk_is_507_and_the_form_stays_usable(
    srv: LocalServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch, step: str, code: int
) -> None:
    """The disk cannot be filled in a test: the blob writer's step fails as a full disk would."""
    info = initiate(client, "a.c3d", None)
    assert isinstance(srv.runtime.blobs, DirectoryBlobStore)

    def full(*args: object) -> None:
        raise OSError(code, os.strerror(code))

    with monkeypatch.context() as patch:
        patch.setattr(_DirectoryWriter, step, full)
        r = post_file(info, b"abc" * 1000)
    assert r.status_code == 507
    assert _s3_code(r) == "InsufficientStorage"
    assert "out of disk space" in r.text
    assert client.get(f"/v1/assets/{info['asset_id']}").json()["status"] == "pending"
    wait_for(lambda: not _parts(srv), timeout=10)
    assert post_file(info, b"abc").status_code == 204  # space is back: the same form works


def test_truncated_upload_leaves_the_asset_pending_and_no_temp_files(
    srv: LocalServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    info = initiate(client, "a.c3d", 1_000_000)
    head = _form_head(info)
    url = urlsplit(info["upload_url"])
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            (
                f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={_BOUNDARY}\r\n"
                f"Content-Length: {len(head) + 1_000_000 + 8}\r\n\r\n"
            ).encode()
            + head
            + b"z" * 300_000
        )
        time.sleep(0.2)
    tmp = srv.runtime.config.blob_dir / ".tmp"
    wait_for(lambda: not any(tmp.glob("*.part")), timeout=10)
    assert client.get(f"/v1/assets/{info['asset_id']}").json()["status"] == "pending"
    r = client.post(f"/v1/assets/{info['asset_id']}/complete")
    assert r.status_code == 400
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


def test_presigned_urls_ignore_a_forged_host_header(srv: LocalServer, client: httpx.Client) -> None:
    forged = {"Host": "evil.example:666"}
    body = {"purpose": "retarget", "filename": "a.c3d"}
    info = client.post("/v1/assets/initiate", json=body, headers=forged).json()
    assert info["upload_url"] == f"{srv.base_url}/storage/upload"
    assert post_file(info, b"abc").status_code == 204
    assert client.post(f"/v1/assets/{info['asset_id']}/complete").status_code == 200
    asset = client.get(f"/v1/assets/{info['asset_id']}", headers=forged).json()
    listed = client.get("/v1/assets", headers=forged).json()["assets"][0]
    for url in (asset["download_url"], listed["download_url"]):
        assert url.startswith(f"{srv.base_url}/storage/objects/")
    assert httpx.get(asset["download_url"], trust_env=False).content == b"abc"


def test_a_local_server_on_every_interface_needs_a_public_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"listens on every interface.*public_base_url"):
        LocalServer(data_dir=tmp_path, host="0.0.0.0")


def _download_url(client: httpx.Client, data: bytes) -> str:
    asset_id = upload(client, data, "r.bin", purpose="trackers")
    url: str = client.get(f"/v1/assets/{asset_id}").json()["download_url"]
    return url


@pytest.mark.parametrize(
    ("range_header", "status", "expected", "content_range"),
    [
        ("bytes=0-9", 206, b"0123456789", "bytes 0-9/36"),
        ("bytes=30-", 206, b"uvwxyz", "bytes 30-35/36"),
        ("bytes=-4", 206, b"wxyz", "bytes 32-35/36"),
        ("bytes=34-1000", 206, b"yz", "bytes 34-35/36"),
        ("bytes=0-1,4-5", 200, None, None),  # multiple ranges: the whole object
        ("items=0-3", 200, None, None),
    ],
)
def test_download_supports_range(
    client: httpx.Client,
    range_header: str,
    status: int,
    expected: bytes | None,
    content_range: str | None,
) -> None:
    data = b"0123456789abcdefghijklmnopqrstuvwxyz"
    r = httpx.get(_download_url(client, data), headers={"Range": range_header}, trust_env=False)
    assert r.status_code == status
    assert r.content == (expected if expected is not None else data)
    assert r.headers.get("content-range") == content_range
    assert r.headers["accept-ranges"] == "bytes"


def test_unsatisfiable_range_is_416(client: httpx.Client) -> None:
    r = httpx.get(
        _download_url(client, b"short"), headers={"Range": "bytes=10-20"}, trust_env=False
    )
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */5"


def test_head_gives_the_size_without_a_body(client: httpx.Client) -> None:
    r = httpx.head(_download_url(client, b"12345"), trust_env=False)
    assert r.status_code == 200
    assert r.headers["content-length"] == "5"
    assert r.content == b""


def test_forged_and_expired_download_urls_are_403(srv: LocalServer, client: httpx.Client) -> None:
    url = _download_url(client, b"secret")
    base, _, query = url.partition("?")
    params = dict(p.split("=") for p in query.split("&"))
    forged = httpx.get(base, params={**params, "signature": "f" * 64}, trust_env=False)
    assert forged.status_code == 403
    assert _s3_code(forged) == "SignatureDoesNotMatch"
    longer = httpx.get(base, params={**params, "expires": str(int(params["expires"]) + 60)})
    assert longer.status_code == 403
    assert httpx.get(base, trust_env=False).status_code == 403
    key = base.split("/storage/objects/", 1)[1]
    past = int(time.time()) - 5
    sig = srv.runtime.signer.download_signature(key, past)
    expired = httpx.get(base, params={"expires": past, "signature": sig}, trust_env=False)
    assert expired.status_code == 403
    assert "expired" in expired.text
    for bad in ("soon", "9" * 5000):
        r = httpx.get(base, params={**params, "expires": bad}, trust_env=False)
        assert (r.status_code, _s3_code(r)) == (403, "AccessDenied")
        assert "expires must be an integer" in r.text


def test_signed_url_for_a_missing_object_is_404(srv: LocalServer) -> None:
    key = "tenants/x/assets/y/none.bin"
    exp = int(time.time()) + 60
    sig = srv.runtime.signer.download_signature(key, exp)
    r = httpx.get(
        f"{srv.base_url}/storage/objects/{key}",
        params={"expires": exp, "signature": sig},
        trust_env=False,
    )
    assert r.status_code == 404
    assert _s3_code(r) == "NoSuchKey"
