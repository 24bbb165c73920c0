"""Authentication, request ids, rate limiting, health and error shapes."""

from __future__ import annotations

import httpx
import pytest

from myo_server import LocalServer
from myo_server._auth import key_id_of
from myo_server.testing import new_tenant_key, wait_for

V1_ROUTES = [
    ("GET", "/v1/assets"),
    ("GET", "/v1/assets/x"),
    ("POST", "/v1/assets/initiate"),
    ("POST", "/v1/assets/x/complete"),
    ("DELETE", "/v1/assets/x"),
    ("GET", "/v1/characters"),
    ("GET", "/v1/characters/x"),
    ("POST", "/v1/characters/x/validate-manifest?version=v1.0.0"),
    ("POST", "/v1/runs/retarget"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/x"),
    ("DELETE", "/v1/jobs/x"),
    ("GET", "/v1/no-such-route"),
]


@pytest.mark.parametrize(("method", "path"), V1_ROUTES)
def test_every_v1_route_needs_a_key(srv: LocalServer, method: str, path: str) -> None:
    r = httpx.request(method, srv.base_url + path, json={}, trust_env=False)
    assert r.status_code == 401
    assert "X-Api-Key" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Api-Key": "nope"},
        {"X-Api-Key": "myo_0123456789ab_notthesecret"},
        {"Authorization": "Bearer myo_0123456789ab_x"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_wrong_keys_are_401(srv: LocalServer, headers: dict[str, str]) -> None:
    r = httpx.get(srv.base_url + "/v1/jobs", headers=headers, trust_env=False)
    assert r.status_code == 401


def test_a_forged_secret_for_a_real_key_id_is_401(srv: LocalServer) -> None:
    key = new_tenant_key(srv)
    forged = key[:-3] + ("aaa" if not key.endswith("aaa") else "bbb")
    r = httpx.get(srv.base_url + "/v1/jobs", headers={"X-Api-Key": forged}, trust_env=False)
    assert r.status_code == 401


def test_x_api_key_and_bearer_both_work(srv: LocalServer) -> None:
    for headers in ({"X-Api-Key": srv.api_key}, {"Authorization": f"Bearer {srv.api_key}"}):
        r = httpx.get(srv.base_url + "/v1/jobs", headers=headers, trust_env=False)
        assert r.status_code == 200
        assert r.json() == {"jobs": [], "total": 0, "limit": 50, "offset": 0}


def test_a_revoked_key_stops_working(srv: LocalServer) -> None:
    key = new_tenant_key(srv)
    url = srv.base_url + "/v1/jobs"
    assert httpx.get(url, headers={"X-Api-Key": key}, trust_env=False).status_code == 200
    kid = key_id_of(key)
    assert kid is not None
    assert srv.runtime.store.revoke_api_key(kid)
    wait_for(
        lambda: httpx.get(url, headers={"X-Api-Key": key}, trust_env=False).status_code == 401,
        timeout=5,
        interval=0.2,
    )


def test_request_ids_are_generated_or_echoed(srv: LocalServer) -> None:
    a = httpx.get(srv.base_url + "/health", trust_env=False)
    b = httpx.get(srv.base_url + "/health", trust_env=False)
    assert a.headers["x-request-id"] != b.headers["x-request-id"]
    c = httpx.get(srv.base_url + "/health", headers={"X-Request-Id": "abc-123"}, trust_env=False)
    assert c.headers["x-request-id"] == "abc-123"
    bad = httpx.get(srv.base_url + "/health", headers={"X-Request-Id": "a b<c>"}, trust_env=False)
    assert bad.headers["x-request-id"] != "a b<c>"
    nf = httpx.get(srv.base_url + "/nowhere", trust_env=False)
    assert nf.status_code == 404
    assert nf.headers["x-request-id"]


def test_health_needs_no_key(srv: LocalServer) -> None:
    r = httpx.get(srv.base_url + "/health", trust_env=False)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert "server" not in r.headers  # uvicorn's Server header is off


def test_rate_limit_answers_429_with_retry_after(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("ratelimit")
    with LocalServer(
        data_dir=data_dir, workers=0, rate_limit_per_second=0.5, rate_limit_burst=3
    ) as server:
        headers = {"X-Api-Key": server.api_key}
        codes = [
            httpx.get(server.base_url + "/v1/jobs", headers=headers, trust_env=False)
            for _ in range(5)
        ]
        assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
        limited = codes[3]
        assert int(limited.headers["retry-after"]) >= 1
        assert "Rate limit exceeded" in limited.json()["detail"]
        # another key has its own budget
        other = new_tenant_key(server)
        r = httpx.get(server.base_url + "/v1/jobs", headers={"X-Api-Key": other}, trust_env=False)
        assert r.status_code == 200


def test_the_embedded_key_survives_restarts(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("restart")
    with LocalServer(data_dir=data_dir, workers=0) as first:
        key = first.api_key
    assert not first.running
    first.stop()  # idempotent
    with LocalServer(data_dir=data_dir, workers=0) as second:
        assert second.api_key == key
        r = httpx.get(second.base_url + "/v1/jobs", headers={"X-Api-Key": key}, trust_env=False)
        assert r.status_code == 200
    assert (data_dir / "embedded_api_key").stat().st_mode & 0o077 == 0


def test_a_revoked_or_damaged_embedded_key_is_replaced(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("replace")
    with LocalServer(data_dir=data_dir, workers=0) as first:
        key = first.api_key
        kid = key_id_of(key)
        assert kid is not None
        assert first.runtime.store.revoke_api_key(kid)
    with LocalServer(data_dir=data_dir, workers=0) as second:
        assert second.api_key != key
        r = httpx.get(second.base_url + "/v1/jobs", headers={"X-Api-Key": key}, trust_env=False)
        assert r.status_code == 401
        replaced = second.api_key
    (data_dir / "embedded_api_key").write_text("not a key")
    with LocalServer(data_dir=data_dir, workers=0) as third:
        assert third.api_key not in (key, replaced, "not a key")
        headers = {"X-Api-Key": third.api_key}
        r = httpx.get(third.base_url + "/v1/jobs", headers=headers, trust_env=False)
        assert r.status_code == 200


@pytest.mark.anyio
async def test_async_start_and_stop(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = LocalServer(data_dir=tmp_path_factory.mktemp("async"), workers=0)
    async with server, httpx.AsyncClient(trust_env=False) as c:
        r = await c.get(server.base_url + "/v1/jobs", headers={"X-Api-Key": server.api_key})
        assert r.status_code == 200
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url


def test_an_internal_fault_is_a_json_500_with_the_request_id(
    srv: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(srv.runtime.store, "get_job", broken)
    r = httpx.get(
        srv.base_url + "/v1/jobs/some-job", headers={"X-Api-Key": srv.api_key}, trust_env=False
    )
    assert r.status_code == 500
    assert r.json()["detail"].startswith("Internal server error; request id ")
    assert r.headers["x-request-id"] in r.json()["detail"]
    assert "injected fault" not in r.text


def test_a_fault_before_the_routes_is_the_same_json_500(
    srv: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(key: str) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(srv.runtime.auth, "authenticate", broken)  # raised in the gateway
    r = httpx.get(
        srv.base_url + "/v1/jobs",
        headers={"X-Api-Key": "myo_x", "X-Request-Id": "rid-1"},
        trust_env=False,
    )
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal server error; request id rid-1. It has been logged."}
    assert r.headers["x-request-id"] == "rid-1"
