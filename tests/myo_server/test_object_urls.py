"""Storage URLs: the two forms, and a clear error for everything else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myo_server._object_urls import StorageURLError, open_object_store
from myo_server._objects_local import LocalObjectStore
from myo_server._objects_s3 import S3ObjectStore
from myo_server._signing import Signer

from ..s3_service import S3Service

SIGNER = Signer(b"s" * 64)


def test_a_file_url_opens_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "blobs dir"
    store = open_object_store(root.as_uri(), signer=SIGNER, base_url="http://127.0.0.1:1/")
    assert isinstance(store, LocalObjectStore)
    assert store.blobs.root == root  # percent-escapes decoded
    assert store.presign_download("a/b", expires_in=5).startswith(
        "http://127.0.0.1:1/storage/objects/a/b?"
    )
    same = open_object_store(f"file://localhost{root}", signer=SIGNER, base_url="http://h")
    assert isinstance(same, LocalObjectStore)
    assert same.blobs.root == root


def test_an_s3_url_opens_the_bucket_under_its_prefix(
    s3_service: S3Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_service.use(monkeypatch)
    store = open_object_store("s3://my-bucket.v2/team/a/")
    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix) == ("my-bucket.v2", "team/a/")
    assert s3_service.endpoint_url in repr(store)  # the endpoint from AWS_ENDPOINT_URL
    assert open_object_store("s3://my-bucket").prefix == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/var/lib/myo", "unsupported storage URL '/var/lib/myo': use file:///DIR or s3://"),
        ("gs://bucket", "unsupported storage URL 'gs://bucket'"),
        ("postgresql://u@h/db", "unsupported storage URL"),
        ("file://server/share", "names host 'server'.*file:///DIR \\(three slashes\\)"),
        ("file://", "names no directory"),
        ("s3://", "'' is not a bucket name"),
        ("s3://Bad_Bucket", "'Bad_Bucket' is not a bucket name"),
        ("s3://ab", "'ab' is not a bucket name"),
        ("s3://bucket/../x", "the prefix '../x' must be"),
    ],
)
def test_bad_urls_say_what_to_write(url: str, message: str) -> None:
    with pytest.raises(StorageURLError, match=message):
        open_object_store(url, signer=SIGNER, base_url="http://h")


def test_a_file_url_needs_the_serving_server_s_signer_and_address(tmp_path: Path) -> None:
    with pytest.raises(StorageURLError, match="give that server's signer and base URL"):
        open_object_store(tmp_path.as_uri())
    with pytest.raises(StorageURLError, match="give that server's signer and base URL"):
        open_object_store(tmp_path.as_uri(), signer=SIGNER)


def test_an_s3_url_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # what an install without the extra has
    with pytest.raises(StorageURLError, match=r"needs boto3.*pip install 'myo-mcp\[scale\]'"):
        open_object_store("s3://bucket")


def test_a_child_process_reaches_s3_through_the_standard_variables_alone(
    s3_service: S3Service,
) -> None:
    """What a worker on another host does: only the URL and the AWS variables."""
    bucket = s3_service.create_bucket()
    code = (
        "import io, sys; from myo_server._object_urls import open_object_store;"
        " open_object_store(sys.argv[1]).put('a/walk.c3d', io.BytesIO(b'from the child'))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-c", code, f"s3://{bucket}/p"],
        env={**env, **s3_service.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body = s3_service.client().get_object(Bucket=bucket, Key="p/a/walk.c3d")["Body"].read()
    assert body == b"from the child"
