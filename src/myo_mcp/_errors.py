"""Errors of tools and resources: what failed, the backend's detail, and what to do next."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

from ._backend import Backend, BackendUnavailableError
from ._paths import AccessDeniedError

__all__ = ["describe_error", "resource_errors", "tool_errors", "without_http"]

log = logging.getLogger("myo_mcp")

# A clause of a server's message that speaks HTTP (a method and a path, or an API path).
_HTTP = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+/|/v1\b")
# Where a server's message may be cut into clauses.
_CLAUSES = re.compile(r"(?<=[:;.,])\s+")


def without_http(detail: str) -> str:
    """``detail`` without its clauses that speak HTTP (e.g. "Character x not found: GET
    /v1/characters lists the catalog" -> "Character x not found"): advice for an API client,
    which an MCP user cannot follow."""
    kept = [c for c in _CLAUSES.split(detail) if not _HTTP.search(c)]
    return " ".join(kept).rstrip(" :;,.") if kept else "the server refused the request"


@contextlib.contextmanager
def tool_errors(backend: Backend, doing: str, ids_from: str | None = None) -> Iterator[None]:
    """Turn what the model can act on into a tool error (isError) that says what to do next.

    Args:
        backend: The backend the tool talks to (its secrets are redacted from messages).
        doing: What the tool was doing, completing "Cannot ...".
        ids_from: The tool that lists the valid ids when one is not found (e.g. list_jobs).
    """
    try:
        yield
    except ToolError as exc:
        raise ToolError(backend.redact(exc)) from None
    except AccessDeniedError as exc:
        raise ToolError(f"Cannot {doing}: {exc}") from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ToolError(
            f"Cannot {doing}: {exc}. Check the path (an absolute path is safest)."
        ) from None
    except BackendUnavailableError as exc:
        raise ToolError(f"Cannot {doing}: {exc}") from None
    except OSError as exc:  # unreadable file, full disk, ...: the OS says which
        raise ToolError(
            f"Cannot {doing}: {exc}. Check the file's permissions and the free disk space."
        ) from None
    except Exception as exc:
        raise ToolError(describe_error(backend, doing, exc, ids_from)) from None


@contextlib.contextmanager
def resource_errors(backend: Backend, kind: str) -> Iterator[None]:
    """Backend failures of a resource read become resource errors the client can show."""
    try:
        yield
    except ResourceError:
        raise
    except Exception as exc:
        from myosdk import NotFoundError

        if isinstance(exc, NotFoundError):
            raise ResourceNotFoundError(backend.redact(f"No such {kind}: {exc}")) from None
        raise ResourceError(backend.redact(f"Cannot read the {kind}: {exc}")) from None


# What an MCP user does about an SDK error, where it differs from the SDK's neutral advice
# (myosdk.error_hint): the configuration is the MCP client's, and the next step is a tool.
_CONFIGURE = (
    "check MYOSDK_API_KEY in the MCP client's configuration of myo-mcp, or remove it to use "
    "the embedded local backend"
)


def describe_error(
    backend: Backend, doing: str, exc: Exception, ids_from: str | None = None
) -> str:
    """One message: what failed, the backend's detail (without HTTP), and the next step: the
    SDK's advice for that kind of error, or the MCP's where it names a tool or the MCP client's
    configuration. A message of our own (ValueError) already says what to do: nothing is glued."""
    from myosdk import (
        APIConnectionError,
        APIError,
        AuthenticationError,
        ConfigurationError,
        MyoSDKError,
        NotFoundError,
        RateLimitError,
        error_hint,
    )

    if isinstance(exc, APIConnectionError):
        cause = exc.__cause__
        reason = f"{type(cause).__name__}: {cause}" if cause is not None else "no connection"
        return backend.redact(
            f"Cannot {doing}: cannot reach {backend.describe()} ({reason}). Check the network, "
            "or --base-url in the MCP client's configuration of myo-mcp."
        )
    if isinstance(exc, ConfigurationError):
        return backend.redact(f"Cannot {doing}: no usable API key or base URL: {_CONFIGURE}.")
    if isinstance(exc, APIError):
        detail = without_http(_detail_text(exc.detail) if exc.detail else str(exc))
        if isinstance(exc, AuthenticationError):
            hint = f"The API key was refused: {_CONFIGURE}."
        elif isinstance(exc, NotFoundError) and ids_from is not None:
            hint = f"{ids_from} shows the valid ones."
        elif isinstance(exc, RateLimitError):
            hint = f"Too many requests: wait {exc.retry_after or 'a few'} s and call again."
        else:
            hint = error_hint(exc) or "Check the arguments and call again."
        return backend.redact(f"Cannot {doing}: {detail}. {hint}")
    if isinstance(exc, MyoSDKError | ValueError):
        return backend.redact(f"Cannot {doing}: {str(exc).rstrip('.')}.")
    log.exception("unexpected error while trying to %s", doing)
    return backend.redact(
        f"Cannot {doing}: unexpected {type(exc).__name__} (see myo-mcp's stderr log); "
        "check the arguments and call again."
    )


def _detail_text(detail: object) -> str:
    """A server's ``detail``: a string, or FastAPI's field errors as ``field: message``."""
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []) if p != 'body')}: {d.get('msg')}"
            if isinstance(d, dict)
            else str(d)
            for d in detail
        )
    return str(detail)
