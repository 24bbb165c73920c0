"""The outermost ASGI layer: request ids, access log, API key check, rate limit, JSON body cap and
the last-resort 500, plus the small responses it (and the routes) answer with."""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ._config import MAX_JSON_BODY_BYTES
from ._objects_local import UPLOAD_PATH
from ._runtime import ServerRuntime
from ._space import OUT_OF_SPACE, out_of_space
from ._util import new_id

log = logging.getLogger("myo_server")
access_log = logging.getLogger("myo_server.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def json_response(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """The API's error body: ``{"detail": ...}``."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def unexpected_error(exc: BaseException, request_id: str) -> Response:
    """The answer to an exception no route handled: 507 for a full disk, else a 500."""
    if out_of_space(exc):
        return json_response(507, OUT_OF_SPACE)
    return json_response(
        500, f"Internal server error; request id {request_id}. It has been logged."
    )


def s3_error(status: int, code: str, message: str, request_id: str) -> Response:
    """An S3-style XML error, as the presigned storage routes answer."""

    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{esc(code)}</Code><Message>{esc(message)}</Message>"
        f"<RequestId>{esc(request_id)}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def _body_too_large(declared: int | None = None) -> str:
    size = f" (it declared {declared} bytes)" if declared is not None else ""
    return (
        f"The request body is too large{size}: this API takes at most {MAX_JSON_BODY_BYTES}"
        " bytes of JSON. Files go to the upload_url from /v1/assets/initiate."
    )


def _capped(receive: Receive) -> Receive:
    """``receive`` that refuses a body (chunked, or longer than declared) past the JSON cap."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_JSON_BODY_BYTES:
                # FastAPI answers an HTTPException raised while it reads the body as is.
                raise HTTPException(413, _body_too_large())
        return message

    return receive_capped


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class Gateway:
    """Outermost ASGI layer: request ids, access log, API key check, rate limit, last-resort 500.

    Args:
        app: The application it guards.
        runtime: Holds the authenticator and the rate limiter.
    """

    def __init__(self, app: ASGIApp, runtime: ServerRuntime) -> None:
        self.app = app
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        auth_value = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    rid = candidate
            elif name == b"x-api-key":
                auth_value = value.decode("latin-1").strip()
            elif name == b"authorization" and not auth_value:
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    auth_value = token.strip()
        rid = rid or new_id()
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        path: str = scope["path"]
        try:
            if path == "/v1" or path.startswith("/v1/"):
                response = self._authorize(auth_value, state)
                if response is not None:
                    await response(scope, receive, send_with_id)
                    return
            if path != UPLOAD_PATH:  # refuse oversized bodies before reading them
                declared = _declared_length(scope)
                if declared is not None and declared > MAX_JSON_BODY_BYTES:
                    too_large = json_response(413, _body_too_large(declared))
                    await too_large(scope, receive, send_with_id)
                    return
                receive = _capped(receive)
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.error(
                "unhandled error on %s %s:\n%s", scope["method"], path, traceback.format_exc()
            )
            if status[0] == 0:
                await unexpected_error(exc, rid)(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    path,  # never the query: it carries signatures
                    status[0],
                    extra={
                        "request_id": rid,
                        "status": status[0],
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )

    def _authorize(self, key: str, state: dict[str, Any]) -> Response | None:
        if not key:
            return json_response(
                401,
                "Missing API key: send it as 'X-Api-Key: KEY' or 'Authorization: Bearer KEY'",
                {"WWW-Authenticate": "Bearer"},
            )
        principal = self.rt.auth.authenticate(key)
        if principal is None:
            return json_response(
                401,
                "Invalid or revoked API key: check the key, or create one with"
                " 'myo-server keys create'",
                {"WWW-Authenticate": "Bearer"},
            )
        retry = self.rt.limiter.check(principal.key_id)
        if retry is not None:
            return json_response(
                429,
                f"Rate limit exceeded for this API key; retry after {retry} s",
                {"Retry-After": str(retry)},
            )
        state["principal"] = principal
        return None
