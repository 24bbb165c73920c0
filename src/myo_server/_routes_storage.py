"""The presigned storage routes (no API key: the signature authorises): the upload form's POST
and ranged GETs of stored objects."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.requests import ClientDisconnect

from ._deps import Runtime
from ._gateway import s3_error
from ._http_range import UnsatisfiableRangeError, parse_range, read_range
from ._models import MIME_TYPE
from ._objects_local import OBJECTS_PATH, UPLOAD_PATH
from ._openapi import S3_ERROR
from ._records import OUTPUT_PURPOSE, VIEWER_CONTENT_TYPE
from ._signing import SignatureError
from ._storage import InvalidKeyError, check_key
from ._upload import UploadError, receive_upload

log = logging.getLogger("myo_server")

# What a viewer page may do once a browser shows it: run its own inline script and style and
# draw data: images, nothing else (no fetch, no frame, no form, no navigation of its base), in a
# sandbox whose origin is opaque, so it can reach neither the API nor anything else.
VIEWER_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:;"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox allow-scripts"
)

router = APIRouter()


@router.post(
    UPLOAD_PATH,
    status_code=204,
    response_class=Response,
    responses={400: S3_ERROR, 403: S3_ERROR, 507: S3_ERROR},
    tags=["storage"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "key": {"type": "string"},
                            "policy": {"type": "string"},
                            "signature": {"type": "string"},
                            "file": {"type": "string", "format": "binary"},
                        },
                        "required": ["key", "policy", "signature", "file"],
                    }
                }
            },
        }
    },
)
async def presigned_upload(request: Request, rt: Runtime) -> Response:
    """Step 2 of an upload: the presigned POST (no API key: the signed policy authorises it)."""
    rid = request.state.request_id
    length = request.headers.get("content-length")
    try:
        await receive_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            rt.signer,
            rt.store,
            rt.blobs,
            int(length) if length and length.isdigit() else None,
            rt.config.max_upload_bytes,
        )
    except UploadError as exc:
        return s3_error(exc.status_code, exc.code, exc.message, rid)
    except ClientDisconnect:  # the client went away mid-upload: nothing was stored
        log.info("upload interrupted by the client", extra={"request_id": rid})
        return s3_error(400, "IncompleteBody", "The upload was interrupted", rid)
    return Response(status_code=204)


@router.get(
    OBJECTS_PATH + "/{key:path}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The object",
        },
        206: {"description": "Part of the object (Range)"},
        403: S3_ERROR,
        404: S3_ERROR,
        416: S3_ERROR,
    },
    tags=["storage"],
)
@router.head(OBJECTS_PATH + "/{key:path}", response_class=Response, include_in_schema=False)
async def presigned_download(
    key: str,
    request: Request,
    rt: Runtime,
    expires: str | None = Query(default=None),
    signature: str | None = Query(default=None),
) -> Response:
    """A presigned GET of a stored object (supports ``Range: bytes=…``)."""
    rid = request.state.request_id
    try:
        rt.signer.verify_download(key, expires, signature)
        check_key(key)
    except InvalidKeyError:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", rid)
    except SignatureError as exc:
        return s3_error(exc.status_code, exc.code, exc.message, rid)
    size = rt.blobs.size(key)
    if size is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", rid)
    asset = rt.store.get_asset_by_key(key, None)
    headers = {"Accept-Ranges": "bytes"}
    media_type = "application/octet-stream"
    if asset is not None:
        if MIME_TYPE.fullmatch(asset.content_type):  # not those stored before it was checked
            media_type = asset.content_type
        if asset.checksum_sha256:
            headers["ETag"] = f'"{asset.checksum_sha256}"'
        # Only a viewer page a worker wrote is shown by the browser; anything else (an
        # uploaded .html too) is saved, never rendered on the server's origin.
        shown = asset.purpose == OUTPUT_PURPOSE and asset.content_type == VIEWER_CONTENT_TYPE
        headers["Content-Disposition"] = (
            f"{'inline' if shown else 'attachment'};"
            f" filename*=UTF-8''{quote(asset.filename, safe='')}"
        )
        if shown:
            headers["Content-Security-Policy"] = VIEWER_CSP
            headers["X-Content-Type-Options"] = "nosniff"
    start, end, status = 0, size - 1, 200
    try:
        rng = parse_range(request.headers.get("range"), size)
    except UnsatisfiableRangeError:
        headers["Content-Range"] = f"bytes */{size}"
        resp = s3_error(416, "InvalidRange", "The requested range is not satisfiable", rid)
        resp.headers.update(headers)
        return resp
    if rng is not None:
        start, end = rng
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(0, end - start + 1)
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        read_range(rt.blobs, key, start, length),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )
