"""The OpenAPI document: the error responses the routes declare and the customised schema
(security schemes, 400 instead of 422, enum query parameters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ._models import ErrorResponse, ValidationErrorResponse
from ._records import JOB_STATUSES, JOB_TYPES

ERROR: dict[str, Any] = {"model": ErrorResponse}
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ValidationErrorResponse, "description": "Bad parameters"},
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
    429: {"model": ErrorResponse, "description": "Rate limit exceeded (see Retry-After)"},
}
FULL: dict[str, Any] = {"model": ErrorResponse, "description": "The server is out of disk space"}
TOO_LARGE: dict[str, Any] = {
    "model": ErrorResponse,
    "description": "Request body over the JSON size cap",
}
S3_ERROR: dict[str, Any] = {
    "content": {"application/xml": {"schema": {"type": "string"}}},
    "description": "S3-style XML error",
}


def openapi_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The ``app.openapi`` of this API: FastAPI's document, adjusted once and cached.

    Args:
        app: The application whose routes it documents.

    Returns:
        A function to assign to ``app.openapi``.
    """

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "Bearer": {"type": "http", "scheme": "bearer"},
        }
        for path, ops in schema.get("paths", {}).items():
            for op in ops.values():
                op.setdefault("responses", {}).pop("422", None)  # validation errors are 400 here
                if path.startswith("/v1/"):
                    op["security"] = [{"ApiKey": []}, {"Bearer": []}]
        enums = {"status": list(JOB_STATUSES), "type": list(JOB_TYPES)}
        for param in schema["paths"]["/v1/jobs"]["get"]["parameters"]:
            if param["name"] in enums:
                items = {"type": "string", "enum": enums[param["name"]]}
                param["schema"] = {"type": "array", "items": items, "title": param["name"]}
        app.openapi_schema = schema
        return schema

    return build
