"""The OpenAPI document: every endpoint, its responses and the security schemes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from myo_retarget._formats import ROTATIONS
from myo_server import LocalServer
from myo_server._job_errors import ERROR_TYPES
from myo_server._records import ENGINE_OPTIONS, EXPORT_OUTPUTS, OUTPUT_NAMES


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("openapi"), workers=0) as srv:
        r = httpx.get(srv.base_url + "/openapi.json", trust_env=False)
        assert r.status_code == 200
        yield r.json()


EXPECTED = {
    ("/v1/assets/initiate", "post"): {"201", "400", "401", "409", "413", "429", "507"},
    ("/v1/assets/{asset_id}/complete", "post"): {"200", "400", "401", "404", "429", "507"},
    ("/v1/assets/{asset_id}", "get"): {"200", "400", "401", "404", "429"},
    ("/v1/assets/{asset_id}", "delete"): {"204", "400", "401", "404", "409", "429", "507"},
    ("/v1/assets", "get"): {"200", "400", "401", "429"},
    ("/v1/characters", "get"): {"200", "400", "401", "429"},
    ("/v1/characters/{character_id}", "get"): {"200", "400", "401", "404", "429"},
    ("/v1/characters/{character_id}/validate-manifest", "post"): {
        "200",
        "400",
        "401",
        "404",
        "429",
        "507",
    },
    ("/v1/runs/retarget", "post"): {"201", "400", "401", "404", "409", "413", "429", "507"},
    ("/v1/jobs/{job_id}", "get"): {"200", "400", "401", "404", "429"},
    ("/v1/jobs", "get"): {"200", "400", "401", "429"},
    ("/v1/jobs/{job_id}", "delete"): {"200", "400", "401", "404", "409", "429", "507"},
    ("/storage/upload", "post"): {"204", "400", "403", "507"},
    ("/storage/objects/{key}", "get"): {"200", "206", "403", "404", "416"},
}


def test_every_endpoint_documents_its_responses(spec: dict[str, object]) -> None:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    for (path, method), codes in EXPECTED.items():
        op = paths[path][method]
        assert set(op["responses"]) == codes, (path, method)
        if path.startswith("/v1/"):
            assert op["security"] == [{"ApiKey": []}, {"Bearer": []}]


def test_security_schemes_and_models(spec: dict[str, object]) -> None:
    components = spec["components"]
    assert isinstance(components, dict)
    assert components["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
    }
    schemas = components["schemas"]
    for name in ("Asset", "AssetList", "Job", "JobList", "RetargetRequest", "ErrorResponse"):
        assert name in schemas
    job = schemas["Job"]["properties"]
    for field in ("job_id", "type", "status", "progress", "error", "output", "download_urls"):
        assert field in job
    # a FAILED job's error is an object (the vendor's SDKs read error_message and error_type)
    assert {"$ref": "#/components/schemas/JobError"} in job["error"]["anyOf"]
    error = schemas["JobError"]
    assert set(error["required"]) == {"error_message", "error_type"}
    assert error["properties"]["error_type"]["enum"] == list(ERROR_TYPES)
    for name in ERROR_TYPES:
        assert name in error["properties"]["error_type"]["description"]


def test_a_jobs_outputs_are_documented_by_name(spec: dict[str, object]) -> None:
    components = spec["components"]
    assert isinstance(components, dict)
    schemas = components["schemas"]
    output = schemas["JobOutput"]["properties"]
    for field in (
        "retarget_output_asset_id",
        "retarget_output_asset_ids",
        "processing_time_seconds",
        "diagnostics",
    ):
        assert field in output
    names = set(OUTPUT_NAMES)
    assert set(schemas["RetargetOutputAssetIds"]["properties"]) == names
    assert set(schemas["JobDownloadUrls"]["properties"]) == {"retarget_output", *names}
    assert set(schemas["JobDiagnostics"]["required"]) == {
        "engine_version",
        "mujoco_version",
        "warnings",
    }
    request = schemas["RetargetRequest"]["properties"]
    assert "GLB" in request["export_glb"]["description"]
    (listed, _) = request["export_formats"]["anyOf"]
    assert listed["items"] == {"type": "string", "enum": list(EXPORT_OUTPUTS)}
    # the vendor's engine options, each documented; the no-ops say so
    (rotation, _) = request["rotation"]["anyOf"]
    assert rotation["enum"] == list(ROTATIONS)
    for name in ENGINE_OPTIONS:
        assert request[name]["description"], name
    for name in ("chunk_size", "disable_contacts"):
        assert "no effect here" in request[name]["description"]
    assert set(ENGINE_OPTIONS) <= set(schemas["JobInput"]["properties"])


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/assets/a1", "DELETE, GET"),
        ("PATCH", "/v1/jobs/j1", "DELETE, GET"),
        ("GET", "/v1/runs/retarget", "POST"),
        ("PUT", "/storage/objects/t/a/f.c3d", "GET, HEAD"),
        ("GET", "/storage/upload", "POST"),
    ],
)
def test_a_wrong_method_is_405_and_allow_lists_every_method_of_the_path(
    client: httpx.Client, method: str, path: str, allowed: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allowed
    assert r.json() == {"detail": "Method Not Allowed"}
