"""The object store contract, run against both implementations.

``local``: the directory store of a real server (its secret and base URL), whose ``/storage``
routes answer the presigned URLs. ``s3``: a bucket of the test S3 service (moto over HTTP),
reached through the standard AWS variables as in production.

Moto does not enforce presigned policies (size limit, expiry): the tests that send refused
requests run on the local store, and the S3 store's tests check the signed documents S3 enforces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from myo_server import LocalServer
from myo_server._object_urls import open_object_store
from myo_server._objects import (
    InvalidRangeError,
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
    object_sha256,
)
from myo_server._objects_s3 import S3ObjectStore
from myo_server._signing import Signer, load_or_create_secret
from myo_server._storage import InvalidKeyError, asset_key
from myo_server._util import new_id
from myo_server.testing import initiate

from ..s3_service import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Service

MiB = 1 << 20
PREFIX = "server-a"


@dataclass
class Harness:
    """One implementation under test.

    Attributes:
        kind: ``local`` or ``s3``.
        store: The store.
        new_upload: ``new_upload(filename)``: the key and asset id of a new pending upload, as
            the server makes them before presigning (the local route checks the asset).
    """

    kind: str
    store: ObjectStore
    new_upload: Callable[[str], tuple[str, str]]


@pytest.fixture(params=["local", "s3"])
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    if request.param == "local":
        srv: LocalServer = request.getfixturevalue("srv")
        api: httpx.Client = request.getfixturevalue("client")
        cfg = srv.runtime.config
        signer = Signer(load_or_create_secret(cfg.secret_path))
        store = open_object_store(
            cfg.blob_dir.as_uri(), signer=signer, base_url=lambda: srv.base_url
        )

        def new_local_upload(filename: str) -> tuple[str, str]:
            info = initiate(api, filename, None)
            return info["fields"]["key"], info["asset_id"]

        yield Harness("local", store, new_local_upload)
    else:
        s3: S3Service = request.getfixturevalue("s3_service")
        s3.use(monkeypatch)
        bucket = s3.create_bucket()

        def new_s3_upload(filename: str) -> tuple[str, str]:
            asset_id = new_id()
            return asset_key("tenant", asset_id, filename), asset_id

        yield Harness("s3", open_object_store(f"s3://{bucket}/{PREFIX}"), new_s3_upload)


@pytest.fixture(scope="module")
def payload() -> bytes:
    """9 MiB of random bytes: over S3's multipart threshold (8 MiB) and the 1 MiB read chunk."""
    return os.urandom(9 * MiB)


def _key() -> str:
    return f"tests/{new_id()}/data.bin"


def _post(url: str, fields: dict[str, str], data: bytes) -> httpx.Response:
    return httpx.post(
        url,
        data=fields,
        files={"file": ("walk.c3d", data, "application/octet-stream")},
        trust_env=False,
        timeout=60,
    )


def _get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(url, headers=headers, trust_env=False, timeout=60)


class _Unseekable(io.RawIOBase):
    """A stream that can only be read once, front to back (a pipe, a request body)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 100_000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# -- put, open, stat, delete ------------------------------------------------------------------


def test_put_then_open_round_trip(harness: Harness, payload: bytes) -> None:
    key = _key()
    info = harness.store.put(key, io.BytesIO(payload))
    assert (info.size, info.sha256) == (len(payload), hashlib.sha256(payload).hexdigest())
    with harness.store.open(key) as reader:
        assert reader.read() == payload


def test_put_replaces_the_object(harness: Harness) -> None:
    key = _key()
    harness.store.put(key, io.BytesIO(b"first version, longer"))
    harness.store.put(key, io.BytesIO(b"second"))
    with harness.store.open(key) as reader:
        assert reader.read() == b"second"
    assert harness.store.stat(key).size == 6


def test_copy_makes_an_independent_object(harness: Harness) -> None:
    source, target = _key(), _key()
    harness.store.put(source, io.BytesIO(b"the uploaded bytes"))
    info = harness.store.copy(source, target)
    assert info.size == 18
    harness.store.put(source, io.BytesIO(b"replaced later"))  # the copy keeps what it copied
    with harness.store.open(target) as reader:
        assert reader.read() == b"the uploaded bytes"
    with pytest.raises(ObjectNotFoundError):
        harness.store.copy(_key(), target)


def test_put_reads_an_unseekable_stream(harness: Harness) -> None:
    data = os.urandom(300_000)
    key = _key()
    info = harness.store.put(key, io.BufferedReader(_Unseekable(data)))
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    with harness.store.open(key) as reader:
        assert reader.read() == data


def test_open_reads_byte_ranges(harness: Harness) -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes, each position recognisable
    key = _key()
    harness.store.put(key, io.BytesIO(data))

    def read(offset: int, length: int | None = None) -> bytes:
        with harness.store.open(key, offset, length) as reader:
            return b"".join(iter(lambda: reader.read(1000), b""))

    assert read(0, 10) == data[:10]  # first bytes
    assert read(5000, 1234) == data[5000:6234]  # middle
    assert read(-7) == data[-7:]  # suffix
    assert read(-20_000) == data  # a suffix longer than the object: all of it
    assert read(10_000) == data[10_000:]  # to the end
    assert read(10_000, 5000) == data[10_000:]  # a length past the end stops there
    assert read(3, 0) == b""
    with pytest.raises(InvalidRangeError):
        read(len(data))
    with pytest.raises(ValueError, match="negative offset"):
        read(-5, 2)


def test_stat_gives_size_and_a_true_or_no_sha256(harness: Harness, payload: bytes) -> None:
    key = _key()
    harness.store.put(key, io.BytesIO(payload))
    info = harness.store.stat(key)
    digest = hashlib.sha256(payload).hexdigest()
    assert info.size == len(payload)
    assert info.sha256 in (None, digest)
    assert object_sha256(harness.store, key) == digest


def test_delete_is_idempotent(harness: Harness) -> None:
    key = _key()
    harness.store.put(key, io.BytesIO(b"abc"))
    harness.store.delete(key)
    with pytest.raises(ObjectNotFoundError):
        harness.store.stat(key)
    harness.store.delete(key)
    harness.store.delete(_key())  # never existed


def test_a_missing_key_is_object_not_found_naming_it(harness: Harness) -> None:
    key = _key()
    calls: list[Callable[[], object]] = [
        lambda: harness.store.stat(key),
        lambda: harness.store.open(key),
        lambda: harness.store.open(key, 5, 3),
        lambda: harness.store.open(key, 0, 0),
        lambda: harness.store.local_path(key).__enter__(),
        lambda: object_sha256(harness.store, key),
    ]
    for call in calls:
        with pytest.raises(ObjectNotFoundError, match=key) as caught:
            call()
        assert isinstance(caught.value, FileNotFoundError)  # what callers of the old store catch


def test_unsafe_keys_are_refused(harness: Harness) -> None:
    for key in ("../escape", "a//b", "/abs", "a/./b", "sp ace"):
        with pytest.raises(InvalidKeyError):
            harness.store.put(key, io.BytesIO(b"x"))
        with pytest.raises(InvalidKeyError):
            harness.store.presign_download(key, expires_in=60)
        with pytest.raises(InvalidKeyError):
            harness.store.presign_upload(key, asset_id="a", max_size=1, expires_in=60)


def test_local_path_holds_the_bytes_under_the_key_s_name(harness: Harness) -> None:
    key = f"tests/{new_id()}/walk.c3d"
    harness.store.put(key, io.BytesIO(b"C3D bytes"))
    with harness.store.local_path(key) as path:
        assert path.name == "walk.c3d"  # the engine reads the extension
        assert path.read_bytes() == b"C3D bytes"
    if harness.kind == "s3":
        assert not path.exists()  # the download went with the block


def test_presign_lifetimes_are_checked(harness: Harness) -> None:
    key, asset_id = harness.new_upload("walk.c3d")
    for bad in (0, -1, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError, match="expires_in must be 1 to 604800"):
            harness.store.presign_upload(key, asset_id=asset_id, max_size=10, expires_in=bad)
        with pytest.raises(ValueError, match="expires_in must be 1 to 604800"):
            harness.store.presign_download(key, expires_in=bad)


# -- presigned POST and GET over HTTP ---------------------------------------------------------


def test_presigned_post_stores_the_file(harness: Harness) -> None:
    data = os.urandom(200_000)
    key, asset_id = harness.new_upload("walk.c3d")
    post = harness.store.presign_upload(key, asset_id=asset_id, max_size=len(data), expires_in=60)
    assert time.time() < post.expires_at <= time.time() + 61
    r = _post(post.url, post.fields, data)
    assert r.status_code == 204, r.text
    assert harness.store.stat(key).size == len(data)
    # What `complete` will do: the recorded sha256 or, as after a browser's POST, a streamed one.
    assert object_sha256(harness.store, key) == hashlib.sha256(data).hexdigest()


def test_presigned_get_serves_the_bytes_ranges_and_name(harness: Harness) -> None:
    data = os.urandom(50_000)
    key, asset_id = harness.new_upload("walk.c3d")
    post = harness.store.presign_upload(key, asset_id=asset_id, max_size=len(data), expires_in=60)
    assert _post(post.url, post.fields, data).status_code == 204
    url = harness.store.presign_download(key, expires_in=60, filename="walk.c3d")

    r = _get(url)
    assert r.status_code == 200
    assert r.content == data
    assert "walk.c3d" in r.headers["content-disposition"]
    r = _get(url, {"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"


# The next two send requests S3 refuses by policy; moto does not, so they run on the local store
# and test_s3_presigned_post_signs_the_limits_s3_enforces covers S3.


@pytest.mark.parametrize("harness", ["local"], indirect=True)
def test_presigned_post_over_the_size_limit_is_refused_and_stores_nothing(
    harness: Harness,
) -> None:
    key, asset_id = harness.new_upload("walk.c3d")
    post = harness.store.presign_upload(key, asset_id=asset_id, max_size=1000, expires_in=60)
    r = _post(post.url, post.fields, b"x" * 1001)
    assert r.status_code == 400
    assert "EntityTooLarge" in r.text
    with pytest.raises(ObjectNotFoundError):
        harness.store.stat(key)
    assert _post(post.url, post.fields, b"x" * 1000).status_code == 204  # the limit itself


@pytest.mark.parametrize("harness", ["local"], indirect=True)
def test_expired_presigned_urls_are_refused(harness: Harness) -> None:
    key, asset_id = harness.new_upload("walk.c3d")
    post = harness.store.presign_upload(key, asset_id=asset_id, max_size=10, expires_in=1)
    stored = _key()
    harness.store.put(stored, io.BytesIO(b"abc"))
    url = harness.store.presign_download(stored, expires_in=1)
    time.sleep(max(0.0, post.expires_at + 1.1 - time.time()))  # both past their second

    r = _post(post.url, post.fields, b"abc")
    assert r.status_code == 403
    assert "Policy expired" in r.text
    with pytest.raises(ObjectNotFoundError):
        harness.store.stat(key)
    r = _get(url)
    assert r.status_code == 403
    assert "expired" in r.text


# -- S3 only: what the store asks S3 to enforce, and what it records --------------------------


def _sigv4_key(secret: str, date: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@pytest.fixture
def s3_bucket(s3_service: S3Service, monkeypatch: pytest.MonkeyPatch) -> str:
    s3_service.use(monkeypatch)
    return s3_service.create_bucket()


def test_s3_presigned_post_signs_the_limits_s3_enforces(s3_bucket: str) -> None:
    store = open_object_store(f"s3://{s3_bucket}/{PREFIX}")
    before = time.time()
    post = store.presign_upload("a/b/walk.c3d", asset_id="x", max_size=1234, expires_in=300)
    fields = post.fields
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    credential = fields["x-amz-credential"].split("/")
    assert credential[0] == ACCESS_KEY_ID
    expected = hmac.new(
        _sigv4_key(SECRET_ACCESS_KEY, credential[1]), fields["policy"].encode(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["x-amz-signature"], expected)  # S3 will accept it

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 0, 1234] in conditions
    assert {"key": f"{PREFIX}/a/b/walk.c3d"} in conditions  # this key only
    assert fields["key"] == f"{PREFIX}/a/b/walk.c3d"
    assert {"bucket": s3_bucket} in conditions
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    expires = expiration.replace(tzinfo=timezone.utc).timestamp()
    assert before + 299 <= expires <= time.time() + 301
    assert abs(expires - post.expires_at) <= 1


def test_s3_presigned_get_expires_when_asked(s3_bucket: str) -> None:
    store = open_object_store(f"s3://{s3_bucket}")
    query = parse_qs(urlsplit(store.presign_download("a/walk.c3d", expires_in=90)).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["90"]
    assert "response-content-disposition" not in query


def test_s3_put_records_the_sha256_so_complete_need_not_stream(
    s3_bucket: str, s3_service: S3Service, payload: bytes
) -> None:
    store = open_object_store(f"s3://{s3_bucket}/{PREFIX}")
    store.put("a/walk.c3d", io.BytesIO(payload))
    assert store.stat("a/walk.c3d").sha256 == hashlib.sha256(payload).hexdigest()
    # Under the prefix, so that servers can share a bucket.
    listed = s3_service.client().list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"{PREFIX}/a/walk.c3d"]


def test_s3_stat_takes_s3_s_own_sha256_or_none(s3_bucket: str, s3_service: S3Service) -> None:
    """Objects written by others: S3's full-object SHA256 checksum when asked for, else None
    (then `complete` streams the bytes)."""
    raw = s3_service.client()
    raw.put_object(Bucket=s3_bucket, Key="a/sha", Body=b"hello", ChecksumAlgorithm="SHA256")
    raw.put_object(Bucket=s3_bucket, Key="a/crc", Body=b"hello", ChecksumAlgorithm="CRC32")
    store = open_object_store(f"s3://{s3_bucket}")
    assert store.stat("a/sha").sha256 == hashlib.sha256(b"hello").hexdigest()
    assert store.stat("a/crc").sha256 is None
    assert object_sha256(store, "a/crc") == hashlib.sha256(b"hello").hexdigest()


def test_s3_a_missing_bucket_is_named(s3_bucket: str) -> None:
    store = open_object_store("s3://no-such-bucket-here")
    with pytest.raises(ObjectStoreError, match="bucket 'no-such-bucket-here' does not exist"):
        store.put("a/b", io.BytesIO(b"x"))


def test_s3_local_path_downloads_into_the_given_directory(s3_bucket: str, tmp_path: Path) -> None:
    store = open_object_store(f"s3://{s3_bucket}")
    assert isinstance(store, S3ObjectStore)
    store = S3ObjectStore(s3_bucket, tmp_dir=tmp_path)
    store.put("a/walk.c3d", io.BytesIO(b"bytes"))
    with store.local_path("a/walk.c3d") as path:
        assert path.is_relative_to(tmp_path)
        assert path.read_bytes() == b"bytes"
    assert list(tmp_path.iterdir()) == []
