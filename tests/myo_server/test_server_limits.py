"""Request bodies are capped before they are read: 413, whether declared or streamed (chunked)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from myo_server import MAX_JSON_BODY_BYTES, LocalServer
from myo_server.testing import new_tenant_key


def _raw_post(srv: LocalServer, key: str, path: str, head: str, body: bytes) -> tuple[int, str]:
    """Send a POST's headers (``head``) and ``body`` on a raw socket; the status and body read."""
    url = urlsplit(srv.base_url)
    assert url.port is not None
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Api-Key: {key}\r\n"
                f"Content-Type: application/json\r\n{head}\r\n"
            ).encode()
            + body
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode()


@pytest.mark.parametrize("path", ["/v1/assets/initiate", "/v1/runs/retarget"])
def test_a_declared_100_mb_json_body_is_413_before_it_is_read(srv: LocalServer, path: str) -> None:
    key = new_tenant_key(srv)
    # only the first bytes are sent: the answer must not wait for the other 100 MB
    status, body = _raw_post(srv, key, path, "Content-Length: 100000000\r\n", b'{"purpose": "')
    assert status == 413
    detail = json.loads(body)["detail"]
    assert f"at most {MAX_JSON_BODY_BYTES} bytes" in detail
    assert "100000000" in detail


def test_a_chunked_json_body_is_counted_as_it_streams(srv: LocalServer) -> None:
    key = new_tenant_key(srv)
    piece = b" " * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(17))  # > 1 MiB
    status, body = _raw_post(
        srv, key, "/v1/assets/initiate", "Transfer-Encoding: chunked\r\n", chunks + b"0\r\n\r\n"
    )
    assert status == 413
    assert f"at most {MAX_JSON_BODY_BYTES} bytes" in json.loads(body)["detail"]
    with httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": key}) as c:
        assert c.get("/v1/assets").json()["total"] == 0


def test_a_body_of_exactly_the_cap_is_read(srv: LocalServer) -> None:
    doc = json.dumps({"purpose": "retarget", "filename": "a.c3d"}).encode()
    body = doc + b" " * (MAX_JSON_BODY_BYTES - len(doc))  # JSON allows trailing whitespace
    with httpx.Client(base_url=srv.base_url, headers={"X-Api-Key": new_tenant_key(srv)}) as c:
        r = c.post(
            "/v1/assets/initiate", content=body, headers={"content-type": "application/json"}
        )
    assert r.status_code == 201, r.text
