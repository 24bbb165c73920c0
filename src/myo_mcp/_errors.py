"""Errors of tools and resources: what failed, the backend's detail, and what to do next."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

from ._backend import Backend, BackendUnavailableError
from ._paths import AccessDeniedError

__all__ = ["describe_error", "resource_errors", "tool_errors"]

log = logging.getLogger("myo_mcp")


@contextlib.contextmanager
def tool_errors(backend: Backend, doing: str) -> Iterator[None]:
    """Turn what the model can act on into a tool error (isError) that says what to do next."""
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
        raise ToolError(describe_error(backend, doing, exc)) from None


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


def describe_error(backend: Backend, doing: str, exc: Exception) -> str:
    """One message: what failed, the backend's detail, and the next step."""
    from myosdk import (
        APIConnectionError,
        APIError,
        AuthenticationError,
        ConfigurationError,
        MyoSDKError,
        NotFoundError,
        RateLimitError,
        ServerError,
    )
    from myosdk import ValidationError as SDKValidationError

    detail = exc.detail if isinstance(exc, APIError) and exc.detail else str(exc)
    if isinstance(detail, list):  # FastAPI-style field errors
        detail = "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail
        )
    if isinstance(exc, AuthenticationError | ConfigurationError):
        hint = (
            "The API key was rejected or is missing: check MYOSDK_API_KEY in the MCP client's "
            "configuration, or remove it to use the embedded local backend."
        )
    elif isinstance(exc, NotFoundError):
        hint = "No such id: list_assets, list_jobs or list_characters show the valid ones."
    elif isinstance(exc, RateLimitError):
        hint = f"Too many requests: wait {exc.retry_after or 'a few'} s and try again."
    elif isinstance(exc, SDKValidationError):
        hint = "The backend refused the request: fix the argument it names and call again."
    elif isinstance(exc, ServerError):
        hint = "The backend had an internal error: try again shortly."
    elif isinstance(exc, APIConnectionError):
        hint = f"Cannot reach {backend.describe()}: check the network or --base-url."
    elif isinstance(exc, MyoSDKError | ValueError):
        hint = "Fix the arguments and call again."
    else:
        log.exception("unexpected error while trying to %s", doing)
        hint = "Unexpected error (logged on the server's stderr)."
    return backend.redact(f"Cannot {doing}: {detail}. {hint}")
