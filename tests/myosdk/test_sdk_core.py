"""Unit tests of the SDK's I/O-free core: pure functions, no network."""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from myosdk import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    Job,
    JobFailedError,
    JobStatus,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from myosdk import _core as core


def _body(request: core.ApiRequest) -> dict[str, object]:
    assert request.body is not None
    decoded: dict[str, object] = json.loads(request.body)
    return decoded


# --------------------------------------------------------------------------- configuration


def test_config_prefers_arguments_then_environment_then_default() -> None:
    env = {"MYOSDK_API_KEY": "env-key", "MYOSDK_BASE_URL": "http://env:9/"}
    cfg = core.resolve_config("arg-key", "http://arg:1/", 5.0, 2, env)
    assert (cfg.api_key, cfg.base_url) == ("arg-key", "http://arg:1")
    cfg = core.resolve_config(None, None, 5.0, 2, env)
    assert (cfg.api_key, cfg.base_url) == ("env-key", "http://env:9")
    cfg = core.resolve_config(None, None, 5.0, 2, {"MYOSDK_API_KEY": "k"})
    assert cfg.base_url == "https://api.myolab.ai"


def test_config_without_key_says_how_to_get_one() -> None:
    with pytest.raises(ConfigurationError, match="MYOSDK_API_KEY") as info:
        core.resolve_config(None, None, 5.0, 2, {})
    assert "myo-server keys create" in str(info.value)
    with pytest.raises(ConfigurationError):
        core.resolve_config("  ", None, 5.0, 2, {})


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigurationError, match="base URL"):
        core.resolve_config("k", "api.myolab.ai", 5.0, 2, {})
    with pytest.raises(ValueError, match="max_retries"):
        core.resolve_config("k", None, 5.0, -1, {})
    with pytest.raises(ValueError, match="timeout"):
        core.resolve_config("k", None, 0.0, 2, {})


def test_config_repr_hides_the_key() -> None:
    cfg = core.resolve_config("sk-secret-123", None, 5.0, 2, {})
    assert "sk-secret-123" not in repr(cfg)


def test_logging_level_from_environment() -> None:
    log = logging.getLogger("myosdk")
    saved = (log.level, list(log.handlers))
    try:
        log.handlers.clear()
        core.configure_logging_from_env({"MYOSDK_LOG": "debug"})
        assert log.level == logging.DEBUG
        assert len(log.handlers) == 1
        core.configure_logging_from_env({"MYOSDK_LOG": "debug"})
        assert len(log.handlers) == 1  # no duplicate handler
        core.configure_logging_from_env({"MYOSDK_LOG": "nonsense"})
        assert log.level == logging.DEBUG
    finally:
        log.setLevel(saved[0])
        log.handlers[:] = saved[1]


# --------------------------------------------------------------------------- requests


def test_headers_carry_key_agent_and_idempotency() -> None:
    cfg = core.resolve_config("k1", None, 5.0, 2, {})
    request = core.jobs_start_retarget(c3d_asset_id="a", markerset_asset_id="b")
    headers = core.api_headers(cfg, request, core.user_agent("httpx/x"))
    assert headers["X-Api-Key"] == "k1"
    assert headers["User-Agent"].startswith("myosdk-python/")
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == request.idempotency_key
    get = core.jobs_get("j")
    assert "Idempotency-Key" not in core.api_headers(cfg, get, "ua")
    assert "Content-Type" not in core.api_headers(cfg, get, "ua")


def test_urls_keep_base_prefix_and_quote_ids() -> None:
    assert core.build_url("https://h/api/", "/v1/jobs") == "https://h/api/v1/jobs"
    assert core.jobs_get("a/b?c").path == "/v1/jobs/a%2Fb%3Fc"
    assert core.assets_complete("x").path == "/v1/assets/x/complete"
    assert core.characters_validate_manifest("c", "v1.0.0").path == (
        "/v1/characters/c/validate-manifest"
    )


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_empty_ids_are_refused_before_any_request(bad: object) -> None:
    # An empty id would silently hit the list endpoint instead.
    with pytest.raises(ValueError, match="job_id"):
        core.jobs_get(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="asset_id"):
        core.assets_delete(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="version"):
        core.characters_validate_manifest("c", bad)  # type: ignore[arg-type]


def test_start_retarget_sends_set_arguments_only() -> None:
    request = core.jobs_start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    assert request.method == "POST"
    assert request.path == "/v1/runs/retarget"
    assert _body(request) == {
        "c3d_asset_id": "c",
        "markerset_asset_id": "m",
        "character_id": core.DEFAULT_CHARACTER_ID,
        "character_version": "v1.0.0",
        "enable_scaling": True,
        "subject_gender": "male",
    }
    full = core.jobs_start_retarget(
        c3d_s3="s3://b/c.c3d",
        markerset_s3="s3://b/m.xml",
        character_id="x",
        character_version="v2",
        enable_scaling=False,
        subject_gender="female",
        subject_height=1.7,
        subject_weight=60,
        metadata={"k": [1]},
    )
    assert _body(full) == {
        "c3d_s3": "s3://b/c.c3d",
        "markerset_s3": "s3://b/m.xml",
        "character_id": "x",
        "character_version": "v2",
        "enable_scaling": False,
        "subject_gender": "female",
        "subject_height": 1.7,
        "subject_weight": 60,
        "metadata": {"k": [1]},
    }


def test_start_retarget_sends_export_formats_in_one_order_and_only_when_given() -> None:
    asked = core.jobs_start_retarget(
        c3d_asset_id="c", markerset_asset_id="m", export_formats=["csv", "GLB", ".bvh", "csv"]
    )
    assert _body(asked)["export_formats"] == ["glb", "bvh", "csv"]
    nothing: tuple[list[str] | None, ...] = (None, [])
    for none in nothing:
        plain = core.jobs_start_retarget(
            c3d_asset_id="c", markerset_asset_id="m", export_formats=none
        )
        assert "export_formats" not in _body(plain)  # the hosted API knows no such field


def test_the_sdk_names_the_same_exports_as_the_server() -> None:
    """The SDK cannot import the server: its copy of the names is checked against it here."""
    from myo_server._records import EXPORT_OUTPUTS

    assert core.EXPORT_OUTPUTS == EXPORT_OUTPUTS


def test_each_start_retarget_call_gets_a_fresh_idempotency_key() -> None:
    one = core.jobs_start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    two = core.jobs_start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    assert one.idempotency_key
    assert two.idempotency_key
    assert one.idempotency_key != two.idempotency_key
    assert one.body == two.body


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"markerset_asset_id": "m"}, "neither"),
        (
            {"c3d_asset_id": "c", "c3d_s3": "k", "markerset_asset_id": "m"},
            "c3d_asset_id and c3d_s3",
        ),
        ({"c3d_asset_id": "c"}, "one of markerset_asset_id"),
        ({"c3d_asset_id": "c", "markerset_asset_id": "m", "markerset_s3": "k"}, "markerset"),
        ({"c3d_asset_id": "", "markerset_asset_id": "m"}, "non-empty"),
        ({"c3d_asset_id": "c", "markerset_asset_id": "m", "subject_height": "tall"}, "number"),
        ({"c3d_asset_id": "c", "markerset_asset_id": "m", "metadata": [1]}, "metadata"),
        (
            {"c3d_asset_id": "c", "markerset_asset_id": "m", "export_formats": ["bvh", "fbx"]},
            "unknown export format 'fbx': choose from glb, bvh, mot, csv, parquet, html",
        ),
        (
            {"c3d_asset_id": "c", "markerset_asset_id": "m", "export_formats": "bvh"},
            "export_formats must be a list of format names",
        ),
    ],
)
def test_start_retarget_argument_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        core.jobs_start_retarget(**kwargs)  # type: ignore[arg-type]


def test_start_retarget_sends_the_newer_fields_only_when_given() -> None:
    """The vendor's newer API fields (0.2.1's create_retarget): typed, checked, and absent from
    the body unless given, so the reference's servers are never asked for them."""
    plain = core.jobs_start_retarget(c3d_asset_id="c", markerset_asset_id="m")
    newer = ("rotation", "mocap_scale", "clip_length", "n_frames_scaling", "chunk_size")
    assert not set(_body(plain)) & {*newer, "disable_contacts"}
    options = core.tracker_options(
        rotation="ydown_to_zup",
        mocap_scale=1000,
        clip_length=-1,
        n_frames_scaling=10,
        chunk_size=-1,
        disable_contacts=False,  # False is given, so sent
    )
    asked = core.jobs_start_retarget(c3d_asset_id="c", markerset_asset_id="m", options=options)
    assert _body(asked) == {
        **_body(plain),
        "rotation": "ydown_to_zup",
        "mocap_scale": 1000,
        "clip_length": -1,
        "n_frames_scaling": 10,
        "chunk_size": -1,
        "disable_contacts": False,
    }
    assert core.tracker_options(rotation="yup_to_zup") == {"rotation": "yup_to_zup"}
    assert core.ROTATIONS == ("yup_to_zup", "ydown_to_zup")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"rotation": "zup"},
            "rotation must be one of yup_to_zup, ydown_to_zup or None, got 'zup'",
        ),
        ({"mocap_scale": 0}, r"mocap_scale must be > 0 \(the tracker table's units per metre"),
        ({"mocap_scale": "mm"}, "mocap_scale must be a number"),
        ({"clip_length": 2.5}, "clip_length must be an integer"),
        ({"n_frames_scaling": True}, "n_frames_scaling must be an integer"),
        ({"chunk_size": "all"}, "chunk_size must be an integer"),
        ({"disable_contacts": 1}, "disable_contacts must be True, False or None"),
    ],
)
def test_newer_fields_are_checked_before_any_request(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        core.tracker_options(**kwargs)  # type: ignore[arg-type]


def test_list_queries_repeat_lists_and_drop_unset() -> None:
    after = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    request = core.jobs_list(
        status=["QUEUED", "RUNNING"],
        job_type="retarget",
        created_after=after,
        created_before="2026-02-01T00:00:00Z",
        has_output=False,
        limit=10,
        offset=20,
    )
    assert request.params == (
        ("status", "QUEUED"),
        ("status", "RUNNING"),
        ("type", "retarget"),
        ("created_after", "2026-01-02T03:04:05+00:00"),
        ("created_before", "2026-02-01T00:00:00Z"),
        ("has_output", "false"),
        ("limit", "10"),
        ("offset", "20"),
    )
    assert core.assets_list(None, 0, 50, 0).params == (
        ("reference_count", "0"),
        ("limit", "50"),
        ("offset", "0"),
    )
    assert core.characters_list("hum", True, 5, 0).params == (
        ("name_contains", "hum"),
        ("has_ready_versions", "true"),
        ("limit", "5"),
        ("offset", "0"),
    )
    with pytest.raises(ValueError, match="offset"):
        core.assets_list(None, None, 50, -1)
    with pytest.raises(ValueError, match="created_after"):
        core.jobs_list(created_after=12345)  # type: ignore[arg-type]


def test_initiate_body_and_retry_safety() -> None:
    request = core.assets_initiate("retarget", "walk.c3d", "application/octet-stream", 10, None)
    assert _body(request) == {
        "purpose": "retarget",
        "filename": "walk.c3d",
        "content_type": "application/octet-stream",
        "expected_size_bytes": 10,
    }
    assert request.idempotency_key
    assert request.retry_safe


# --------------------------------------------------------------------------- retries


def test_backoff_grows_with_jitter_and_is_bounded() -> None:
    policy = core.RetryPolicy(max_retries=10, base_delay=0.5, max_delay=4.0)
    rng = random.Random(1)
    for index, step in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        delays = {policy.backoff(index, rng) for _ in range(50)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1  # jittered


def test_retry_after_parsing() -> None:
    assert core.parse_retry_after("3") == 3.0
    assert core.parse_retry_after(" 1.5 ") == 1.5
    assert core.parse_retry_after("-4") == 0.0
    assert core.parse_retry_after(None) is None
    assert core.parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert core.parse_retry_after(date, now=now.timestamp()) == pytest.approx(30.0)


def test_status_retry_decisions() -> None:
    policy = core.RetryPolicy(max_retries=2)
    # Safe requests: 429 and the 502/503/504 family are retried, within the budget.
    for status in (429, 502, 503, 504):
        assert core.retry_delay_for_status(policy, 0, status, None, True) is not None
        assert core.retry_delay_for_status(policy, 2, status, None, True) is None
    for status in (400, 401, 404, 409, 422, 500):
        assert core.retry_delay_for_status(policy, 0, status, None, True) is None
    # Unsafe requests: only a 429 (the server did not act) is resent.
    assert core.retry_delay_for_status(policy, 0, 429, None, False) is not None
    assert core.retry_delay_for_status(policy, 0, 503, None, False) is None
    # Retry-After is honoured, unless it is longer than we are willing to wait inside a call.
    assert core.retry_delay_for_status(policy, 0, 429, 7.0, True) == 7.0
    assert core.retry_delay_for_status(policy, 0, 429, 3600.0, True) is None
    assert core.retry_delay_for_status(core.RetryPolicy(max_retries=0), 0, 503, None, True) is None


def test_transport_retry_decisions() -> None:
    policy = core.RetryPolicy(max_retries=1)
    # Never reached the server: always safe.
    assert core.retry_delay_for_transport_error(policy, 0, False, False) is not None
    # May have reached it: only when the request is safe to resend.
    assert core.retry_delay_for_transport_error(policy, 0, True, False) is None
    assert core.retry_delay_for_transport_error(policy, 0, True, True) is not None
    assert core.retry_delay_for_transport_error(policy, 1, False, True) is None


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
def test_status_to_error_class(status: int, cls: type[APIError]) -> None:
    error = core.error_from_response("op", status, {}, b"")
    assert type(error) is cls
    assert error.status_code == status


def test_error_message_carries_detail_request_id_and_hint() -> None:
    error = core.error_from_response(
        "assets.delete",
        409,
        {"x-request-id": "req-7", "content-type": "application/json"},
        b'{"detail": "asset is referenced by 1 job"}',
        attempts=1,
    )
    assert isinstance(error, ValidationError)  # 409 is a ValidationError, as the reference says
    assert error.detail == "asset is referenced by 1 job"
    assert error.request_id == "req-7"
    assert error.body == {"detail": "asset is referenced by 1 job"}
    text = str(error)
    assert "assets.delete failed with HTTP 409: asset is referenced by 1 job" in text
    assert "req-7" in text


def test_fastapi_field_errors_are_readable() -> None:
    body = {"detail": [{"loc": ["body", "subject_height"], "msg": "must be > 0", "type": "x"}]}
    error = core.error_from_response("jobs.start_retarget", 422, {}, json.dumps(body).encode())
    assert "subject_height: must be > 0" in str(error)


def test_rate_limit_error_has_retry_after() -> None:
    error = core.error_from_response("jobs.get", 429, {"retry-after": "12"}, b"{}", attempts=3)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 12.0
    assert error.attempts == 3
    assert "Retry after 12 s" in str(error)


def test_s3_style_xml_errors() -> None:
    xml = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>expired</Message></Error>"
    error = core.error_from_response("assets.upload", 403, {}, xml)
    assert isinstance(error, PermissionDeniedError)
    assert error.detail == "AccessDenied: expired"


def test_plain_text_errors() -> None:
    error = core.error_from_response("jobs.get", 502, {}, b"Bad Gateway")
    assert error.detail == "Bad Gateway"


# --------------------------------------------------------------------------- pagination


def test_pager_walks_the_pages_and_takes_each_item_once() -> None:
    pager = core.Pager("jobs", "job_id")
    assert pager.offset == 0
    page = {"jobs": [{"job_id": "a"}, {"job_id": "b"}], "total": 5, "offset": 0}
    assert pager.take(page) == page["jobs"]
    assert pager.offset == 2
    # An item added meanwhile shifted the offsets: "b" comes again and is skipped.
    page = {"jobs": [{"job_id": "b"}, {"job_id": "c"}], "total": 6, "offset": 2}
    assert pager.take(page) == [{"job_id": "c"}]
    assert pager.offset == 4
    assert pager.take({"jobs": [{"job_id": "d"}, {"job_id": "e"}], "total": 6, "offset": 4})
    assert pager.offset is None


def test_next_offset() -> None:
    assert core.next_offset({"jobs": [1, 2], "total": 5, "offset": 0}, "jobs") == 2
    assert core.next_offset({"jobs": [1], "total": 5, "offset": 4}, "jobs") is None
    assert core.next_offset({"jobs": [], "total": 5, "offset": 2}, "jobs") is None
    assert core.next_offset({"jobs": [1], "offset": 3}, "jobs") == 4


# --------------------------------------------------------------------------- files


def test_purpose_detection() -> None:
    assert core.detect_purpose("a/walk.C3D") == "retarget"
    assert core.detect_purpose(Path("m.xml")) == "retarget"
    # marker recordings beyond C3D are retarget inputs too; animations are motion
    for name in ("walk.trc", "walk.csv", "walk.PARQUET"):
        assert core.detect_purpose(name) == "retarget", name
    assert core.detect_purpose("walk.glb") == "motion"
    assert core.detect_purpose("walk.gltf") == "motion"
    with pytest.raises(ValueError, match=r"'\.bvh'.*purpose="):
        core.detect_purpose("walk.bvh")
    with pytest.raises(ValueError, match="none"):
        core.detect_purpose("README")


def test_content_types() -> None:
    assert core.content_type_for("m.xml") == "application/xml"
    assert core.content_type_for("w.c3d") == "application/octet-stream"
    assert core.content_type_for("x.json") == "application/json"
    assert core.content_type_for("x.unknownext") == "application/octet-stream"


def test_local_file_checks(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.c3d"):
        core.local_file(tmp_path / "missing.c3d")
    with pytest.raises(IsADirectoryError):
        core.local_file(tmp_path)
    (tmp_path / "a.c3d").write_bytes(b"12345")
    assert core.local_file(tmp_path / "a.c3d") == (tmp_path / "a.c3d", 5)


def test_multipart_layout_is_well_formed() -> None:
    layout = core.multipart_layout(
        {"key": "k/1", "policy": "p", "x-signature": "s"}, 'we"ird.c3d', "application/x", 3, "BND"
    )
    body = layout.head + b"abc" + layout.tail
    assert layout.content_length == len(body)
    assert layout.content_type == "multipart/form-data; boundary=BND"
    assert body == (
        b'--BND\r\nContent-Disposition: form-data; name="key"\r\n\r\nk/1\r\n'
        b'--BND\r\nContent-Disposition: form-data; name="policy"\r\n\r\np\r\n'
        b'--BND\r\nContent-Disposition: form-data; name="x-signature"\r\n\r\ns\r\n'
        b'--BND\r\nContent-Disposition: form-data; name="file"; filename="we%22ird.c3d"\r\n'
        b"Content-Type: application/x\r\n\r\nabc\r\n--BND--\r\n"
    )
    headers = core.presigned_headers(layout, "ua")
    assert "X-Api-Key" not in headers
    assert headers["Content-Length"] == str(len(body))


def test_download_helpers(tmp_path: Path) -> None:
    assert core.download_headers("ua")["Accept-Encoding"] == "identity"
    assert "Range" not in core.download_headers("ua")
    assert core.download_headers("ua", 100)["Range"] == "bytes=100-"
    assert core.parse_content_range("bytes 100-199/200") == (100, 199, 200)
    assert core.parse_content_range("bytes 0-9/*") == (0, 9, None)
    assert core.parse_content_range("garbage") is None
    assert core.download_destination(tmp_path, "x/y.npz") == tmp_path / "y.npz"
    assert core.download_destination(tmp_path / "o.npz", "y.npz") == tmp_path / "o.npz"
    with pytest.raises(ValueError, match="directory"):
        core.download_destination(tmp_path, None)


def test_redaction_drops_query_strings() -> None:
    url = "https://store/bucket/key.npz?X-Amz-Signature=abc123&X-Amz-Credential=me"
    assert "abc123" not in core.redact_url(url)
    assert core.redact_url(url).startswith("https://store/bucket/key.npz")
    assert "abc123" not in core.describe_request("GET", url, presigned=True)
    assert core.describe_request("GET", "http://h/v1/jobs?limit=5", False).endswith("limit=5")


# --------------------------------------------------------------------------- waiting


def test_wait_helpers() -> None:
    assert core.is_terminal({"status": "FAILED"})
    assert not core.is_terminal({"status": "RUNNING"})
    assert core.wait_sleep(2.0, None, 0.0) == 2.0
    assert core.wait_sleep(2.0, 10.0, 9.5) == 0.5
    assert core.wait_sleep(2.0, 10.0, 11.0) == 0.0
    with pytest.raises(ValueError, match="interval"):
        core.check_wait_args(0, None)
    with pytest.raises(ValueError, match="timeout"):
        core.check_wait_args(1, -1)
    message = core.timeout_message({"job_id": "j", "status": "RUNNING", "progress": 0.5}, 3)
    assert "j still RUNNING, progress 50% after 3 s" in message


def _job(status: JobStatus, progress: float | None = None) -> Job:
    return {"job_id": "j", "type": "retarget", "status": status, "progress": progress}


def test_job_waiter_reports_changes_and_times_out_with_the_last_job() -> None:
    waiter = core.JobWaiter(interval=2.0, timeout=10.0, now=100.0)
    assert waiter.polled(_job("QUEUED"))
    assert not waiter.polled(_job("QUEUED"))
    assert waiter.polled(_job("RUNNING", 0.2))
    assert waiter.after_poll(now=101.0) == 2.0
    assert waiter.after_poll(now=109.5) == 0.5  # clipped so the deadline is checked on time
    with pytest.raises(JobTimeoutError, match="still RUNNING, progress 20%") as info:
        waiter.after_poll(now=110.0)
    assert info.value.job["progress"] == 0.2
    assert core.JobWaiter(interval=2.0, timeout=None, now=0.0).deadline is None
    with pytest.raises(ValueError, match="interval"):
        core.JobWaiter(interval=0, timeout=None, now=0.0)


def test_job_waiter_backs_off_on_429_and_resets_after_a_poll() -> None:
    def limited(retry_after: float | None = None) -> RateLimitError:
        return RateLimitError("slow down", 429, retry_after=retry_after)

    waiter = core.JobWaiter(interval=1.0, timeout=None, now=0.0)
    assert [waiter.after_rate_limit(limited(), now=0.0) for _ in range(8)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
        60.0,
    ]
    waiter.polled(_job("RUNNING"))
    assert waiter.after_rate_limit(limited(), now=0.0) == 1.0  # the streak restarts
    assert waiter.after_rate_limit(limited(retry_after=5.0), now=0.0) == 5.0
    assert waiter.after_rate_limit(limited(retry_after=0.1), now=0.0) == 1.0  # never below interval

    bounded = core.JobWaiter(interval=1.0, timeout=3.0, now=0.0)
    assert bounded.after_rate_limit(limited(retry_after=5.0), now=1.0) == 2.0  # up to the deadline
    first = limited()
    with pytest.raises(RateLimitError) as raised:  # nothing seen yet: the 429 itself
        bounded.after_rate_limit(first, now=3.0)
    assert raised.value is first
    bounded.polled(_job("QUEUED"))
    with pytest.raises(JobTimeoutError) as info:
        bounded.after_rate_limit(limited(), now=3.0)
    assert info.value.job["status"] == "QUEUED"
    assert isinstance(info.value.__cause__, RateLimitError)


def test_job_outputs_names_each_output_the_job_has_and_refuses_one_not_succeeded() -> None:
    job = {
        "job_id": "j",
        "status": "SUCCEEDED",
        "output": {
            "retarget_output_asset_id": "npz",
            "retarget_output_asset_ids": {"qpos": "q", "xpos": "x", "model": "m", "motion": None},
        },
    }
    assert core.job_outputs(job) == {core.NPZ_OUTPUT: "npz", "qpos": "q", "xpos": "x", "model": "m"}
    # a server that predates the further outputs: the .npz alone
    assert core.job_outputs({**job, "output": {"retarget_output_asset_id": "npz"}}) == {
        core.NPZ_OUTPUT: "npz"
    }
    with pytest.raises(ValueError, match=r"job j is RUNNING, not SUCCEEDED.*jobs\.wait"):
        core.job_outputs({"job_id": "j", "status": "RUNNING", "output": None})
    with pytest.raises(ValueError, match=r"job j is FAILED.*start it again"):
        core.job_outputs({"job_id": "j", "status": "FAILED", "output": None})


def test_purposes_the_sdk_detects_are_purposes_the_server_takes() -> None:
    """The SDK cannot import the server: its purposes are checked against the server's here."""
    from myo_server import INPUT_PURPOSES

    assert set(core.PURPOSE_BY_EXTENSION.values()) <= set(INPUT_PURPOSES)


def test_retarget_input_tells_files_from_asset_ids(tmp_path: Path) -> None:
    c3d = tmp_path / "walk.c3d"
    c3d.write_bytes(b"x")
    trc = tmp_path / "walk.trc"
    trc.write_text("x")
    assert core.retarget_input("tracker", c3d) == c3d
    assert core.retarget_input("tracker", str(trc)) == trc  # an existing file named by a str
    assert core.retarget_input("tracker", "0199e278-06e6-7726") == "0199e278-06e6-7726"
    assert core.retarget_input("markerset", {"asset_id": "a", "verified": True}) == "a"
    # a missing file that looks like one is not taken for an asset id
    with pytest.raises(FileNotFoundError, match=r"walk_missing\.c3d"):
        core.retarget_input("tracker", "walk_missing.c3d")
    with pytest.raises(FileNotFoundError, match="nope"):
        core.retarget_input("tracker", tmp_path / "nope")
    glb = tmp_path / "walk.glb"
    glb.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"tracker .*walk\.glb.* is not a retarget input"):
        core.retarget_input("tracker", glb)
    with pytest.raises(ValueError, match=r"the markerset is a markerset \(\.xml\)"):
        core.retarget_input("markerset", c3d)
    with pytest.raises(ValueError, match="file path or an asset id"):
        core.retarget_input("tracker", " ")
    with pytest.raises(ValueError, match="file path or an asset id"):
        core.retarget_input("tracker", 42)


def test_job_failure_carries_the_servers_reason_in_either_shape() -> None:
    ok: dict[str, Any] = {"job_id": "j", "type": "retarget", "status": "SUCCEEDED"}
    assert core.job_failure(ok) is None
    old: dict[str, Any] = {
        "job_id": "j",
        "type": "retarget",
        "status": "FAILED",
        "error": "walk.c3d: not a C3D file",
    }
    err = core.job_failure(old)
    assert isinstance(err, JobFailedError)
    assert str(err) == (
        "Job j failed: walk.c3d: not a C3D file. Fix the input it names and start the job again."
    )
    assert (err.job_id, err.error_message, err.error_type, err.job) == (
        "j",
        "walk.c3d: not a C3D file",
        None,
        old,
    )
    newer = {**old, "error": {"error_message": "walk.trc: row 3", "error_type": "InputError"}}
    err = core.job_failure(newer)
    assert err is not None
    assert (err.error_message, err.error_type) == ("walk.trc: row 3", "InputError")
    assert "walk.trc: row 3" in str(err)
    canceled: dict[str, Any] = {
        "job_id": "j",
        "type": "retarget",
        "status": "CANCELED",
        "message": "Bye",
    }
    err = core.job_failure(canceled)
    assert err is not None
    assert (err.error_message, err.error_type) == ("Bye", "CANCELED")
    assert "Job j was canceled" in str(err)
