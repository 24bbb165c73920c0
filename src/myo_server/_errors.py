"""The error the service layer raises: what to answer and why, without any web framework type."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the services refuse; the app answers it as ``{"detail": detail}``.

    Args:
        status_code: The HTTP status of the answer (400 bad input, 404 unknown, 409 conflict...).
        detail: The message for the client: what is wrong and what to do next.
    """

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
