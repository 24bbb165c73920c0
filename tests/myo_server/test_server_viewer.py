"""A succeeded job's viewer page: written by the worker, linked signed and expiring, served inline
under a Content-Security-Policy that lets the self-contained page run and fetch nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import myo_retarget
from myo_server import LocalServer
from myo_server._app import VIEWER_CSP
from myo_server._records import VIEWER_CONTENT_TYPE
from myo_server._worker import _write_outputs
from myo_server.testing import new_tenant_client, upload, upload_path, wait_job
from tests.myo_retarget.browser import chromium_available, drawn, open_viewer

MARKERSETS = Path(myo_retarget.__file__).parent / "data" / "markersets"
SAMPLE = myo_retarget.sample_c3d_path()
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("viewer"), workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def client(srv: LocalServer) -> Iterator[httpx.Client]:
    with new_tenant_client(srv) as c:
        yield c


@pytest.fixture(scope="module")
def job(client: httpx.Client) -> dict[str, Any]:
    """A succeeded job on the shipped sample."""
    body = {
        "c3d_asset_id": upload_path(client, SAMPLE),
        "markerset_asset_id": upload_path(client, MARKERSETS / "cmu.xml"),
    }
    r = client.post("/v1/runs/retarget", json=body)
    assert r.status_code == 201, r.text
    done = wait_job(client, r.json()["job_id"], ("SUCCEEDED", "FAILED", "CANCELED"))
    assert done["status"] == "SUCCEEDED", done
    return done


def _directives(csp: str) -> dict[str, str]:
    parts = (d.strip().partition(" ") for d in csp.split(";"))
    return {name: value for name, _, value in parts}


def test_a_succeeded_job_links_its_viewer_page_which_opens_without_an_api_key(
    client: httpx.Client, job: dict[str, Any]
) -> None:
    viewer_id = job["output"]["retarget_output_asset_ids"]["viewer"]
    asset = client.get(f"/v1/assets/{viewer_id}").json()
    assert asset["filename"] == "cmu_01_01_412_viewer.html"
    assert asset["content_type"] == VIEWER_CONTENT_TYPE
    url = job["download_urls"]["viewer"]
    assert "expires=" in url and "signature=" in url
    r = httpx.get(url, trust_env=False)  # a browser: no API key
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == (
        "inline; filename*=UTF-8''cmu_01_01_412_viewer.html"
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == VIEWER_CSP
    csp = _directives(VIEWER_CSP)
    assert csp["default-src"] == "'none'"  # no fetch, no connection, no frame, no font
    assert csp["sandbox"] == "allow-scripts"  # an opaque origin: not the API's
    assert "connect-src" not in csp
    assert r.text.startswith("<!DOCTYPE html>")
    assert len(r.content) == asset["size_bytes"]
    assert "cmu_01_01_412" in r.text.split("</title>")[0]
    # the other outputs stay attachments
    npz = httpx.get(job["download_urls"]["retarget_output"], trust_env=False)
    assert npz.headers["content-disposition"].startswith("attachment;")
    assert "content-security-policy" not in npz.headers


def test_an_uploaded_html_file_is_downloaded_as_an_attachment_not_shown(
    client: httpx.Client,
) -> None:
    """Only a page the worker wrote is served inline: an uploaded one could be anything."""
    page = b"<!DOCTYPE html><script>alert(1)</script>"
    asset_id = upload(client, page, "page.html")
    url = client.get(f"/v1/assets/{asset_id}").json()["download_url"]
    r = httpx.get(url, trust_env=False)
    assert r.status_code == 200 and r.content == page
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "content-security-policy" not in r.headers


def test_a_tampered_or_expired_viewer_link_is_refused(
    srv: LocalServer, job: dict[str, Any]
) -> None:
    base, _, query = job["download_urls"]["viewer"].partition("?")
    params = dict(p.split("=") for p in query.split("&"))
    forged = httpx.get(base, params={**params, "signature": "0" * 64}, trust_env=False)
    assert forged.status_code == 403 and "SignatureDoesNotMatch" in forged.text
    later = str(int(params["expires"]) + 3600)
    assert httpx.get(base, params={**params, "expires": later}, trust_env=False).status_code == 403
    key = base.split("/storage/objects/", 1)[1]
    past = int(time.time()) - 5
    sig = srv.runtime.signer.download_signature(key, past)
    expired = httpx.get(base, params={"expires": past, "signature": sig}, trust_env=False)
    assert expired.status_code == 403 and "expired" in expired.text
    assert "content-security-policy" not in expired.headers


@pytest.fixture(scope="module")
def motion() -> myo_retarget.Motion:
    return myo_retarget.retarget(SAMPLE, MARKERSETS / "cmu.xml")


_OUT_OF_MEMORY = (
    "it ran out of memory; if the worker memory limit is the cause, raise it (myo-server serve"
    " --worker-memory-mb)"
)


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (MemoryError(), _OUT_OF_MEMORY),
        # how MuJoCo says it, through the engine, when the page poses the scaled character
        (
            myo_retarget.CharacterError(
                "/srv/characters/character.xml: the model does not compile: Error: engine"
                " error: Could not allocate memory"
            ),
            _OUT_OF_MEMORY,
        ),
        (KeyError("/srv/secret/path"), "KeyError, the server log has the details"),
    ],
)
def test_a_viewer_page_that_cannot_be_written_is_left_out_with_a_warning(
    motion: myo_retarget.Motion,
    tmp_path: Path,
    error: Exception,
    why: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker short of memory at that step (or a bug there) cannot be caused on demand.
    def fail(motion: object, path: object) -> Path:
        raise error

    monkeypatch.setattr(myo_retarget, "write_viewer", fail)
    files, warnings = _write_outputs(motion, tmp_path, "walk", ["bvh"])
    assert set(files) == {"model", "qpos", "xpos", "bvh"}  # the job keeps the others
    assert warnings == [
        f"The viewer page was not written: {why}; `myo-retarget view` on the .npz writes the"
        " same page"
    ]
    assert "/srv" not in warnings[0]  # no server paths


@pytest.mark.skipif(
    not chromium_available(), reason="Chromium is not installed: run .ci/run (apt chromium)"
)
def test_the_signed_viewer_link_draws_in_a_browser_and_fetches_nothing(
    srv: LocalServer, job: dict[str, Any]
) -> None:
    url = job["download_urls"]["viewer"]
    with open_viewer(url) as viewer:
        assert viewer.page.evaluate("window.viewer.renderer") in ("webgl", "webgl2")
        viewer.seek(1.0)
        shot = viewer.screenshot()
        assert viewer.errors == []
        assert [u for u in viewer.requests if u != url and not u.startswith("data:")] == []
        # The policy holds in the page: a request to the server itself is refused.
        refused = viewer.page.evaluate(
            "u => fetch(u).then(() => 'fetched', e => 'refused: ' + e)", f"{srv.base_url}/health"
        )
        assert refused.startswith("refused"), refused
    assert drawn(shot) > 0.02
