"""The FastAPI application: the MyoSapiens REST API plus the presigned storage endpoints.

:func:`create_app` only composes: the routes are in ``_routes_*`` (one router per resource), the
work beneath them in the ``_*_service`` modules, the outer layer in ``_gateway``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from . import __version__
from ._errors import ServiceError
from ._gateway import ASGIApp, Gateway, json_response, unexpected_error
from ._objects_local import UPLOAD_PATH
from ._openapi import openapi_builder
from ._routes_assets import router as assets_router
from ._routes_characters import router as characters_router
from ._routes_jobs import router as jobs_router
from ._routes_meta import router as meta_router
from ._routes_storage import VIEWER_CSP
from ._routes_storage import router as storage_router
from ._runtime import ServerRuntime

__all__ = ["UPLOAD_PATH", "UVICORN_OPTIONS", "VIEWER_CSP", "build_asgi", "create_app"]

# Sorted, as the Allow header lists them.
_HTTP_METHODS = ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some route of the app takes at the request's path, sorted.

    Each method is tried against the routes (included routers hold theirs, so their own
    ``methods`` cannot be read from the app's route list).
    """
    return [
        method
        for method in _HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in app.router.routes
            if isinstance(route, BaseRoute)
        )
    ]


def _add_error_handlers(app: FastAPI) -> None:
    """Every error the app answers is ``{"detail": ...}`` (validation errors list ``errors``)."""

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # list every method of the path, not just the first route's
            methods = _allowed_methods(app, request)
            if methods:
                headers["Allow"] = ", ".join(methods)
        return json_response(exc.status_code, str(exc.detail), headers)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        return json_response(exc.status_code, exc.detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette re-raises after answering, so the gateway still logs the traceback.
        rid = request.scope.get("state", {}).get("request_id", "")
        return unexpected_error(exc, rid)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        parts = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            errors.append({"loc": loc, "msg": msg, "type": str(err.get("type", ""))})
            where = ".".join(loc[1:] if loc and loc[0] == "body" and len(loc) > 1 else loc)
            parts.append(f"{where}: {msg}" if where else msg)
        detail = "Invalid request: " + "; ".join(parts)
        return JSONResponse({"detail": detail, "errors": errors}, status_code=400)


def create_app(rt: ServerRuntime) -> FastAPI:
    """The FastAPI application serving ``rt`` (without the gateway: see :func:`build_asgi`).

    Args:
        rt: The opened runtime the routes use (injected as ``app.state.runtime``).

    Returns:
        The application with its error handlers, routers and OpenAPI document.
    """
    app = FastAPI(
        title="MyoSapiens API (local myo-server)",
        version=__version__,
        description=(
            "Local, self-hostable implementation of the MyoSapiens REST API: assets (three-step"
            " presigned upload), characters and retarget jobs. Authenticate with"
            " 'X-Api-Key: KEY' or 'Authorization: Bearer KEY'."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = rt
    _add_error_handlers(app)
    for router in (meta_router, assets_router, characters_router, jobs_router, storage_router):
        app.include_router(router)
    app.openapi = openapi_builder(app)  # type: ignore[method-assign]
    return app


# How uvicorn serves the app, for `myo-server serve` and LocalServer alike: the gateway logs
# access and errors itself, the runtime is opened before serving (no lifespan), no WebSockets.
UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "lifespan": "off",
    "ws": "none",
    "server_header": False,
}


def build_asgi(rt: ServerRuntime) -> ASGIApp:
    """The application wrapped in the gateway layer (what uvicorn serves)."""
    return Gateway(create_app(rt), rt)
