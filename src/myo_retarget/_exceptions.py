"""The engine's error hierarchy: every message names the file, marker or field at fault."""

from __future__ import annotations

from collections.abc import Sequence


class RetargetError(Exception):
    """Base class of every error the engine raises on bad input or a failed fit."""


class MarkerReadError(RetargetError):
    """A marker recording (C3D, TRC, CSV or parquet table) could not be read or is unusable.

    Attributes:
        path: The file at fault.
        reason: What is wrong with it (with the row and column when a cell is at fault), in words
            a person can act on.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class C3DReadError(MarkerReadError):
    """A C3D file could not be read or is unusable (see :class:`MarkerReadError`)."""


class MarkersetError(RetargetError):
    """A markerset XML file is invalid.

    Attributes:
        path: The markerset file (or shipped name).
        line: The 1-based line of the offending element, when known.
        reason: What is wrong.
    """

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class MarkersetMismatchError(RetargetError):
    """The recording's labels do not match the markerset well enough to fit the character.

    Attributes:
        matched: Markerset marker names found in the recording.
        missing: Markerset marker names not found in the recording.
        unused: Recording labels that the markerset does not define.
        empty: The ``missing`` markers whose label is in the recording but holds no data.
    """

    def __init__(
        self,
        message: str,
        matched: Sequence[str] = (),
        missing: Sequence[str] = (),
        unused: Sequence[str] = (),
        empty: Sequence[str] = (),
    ) -> None:
        self.matched = list(matched)
        self.missing = list(missing)
        self.unused = list(unused)
        self.empty = list(empty)
        super().__init__(message)


class CharacterError(RetargetError):
    """An unknown character id/version, or a character model that does not compile."""


class RetargetCancelled(RetargetError):  # noqa: N818 - the public name the server catches
    """The caller's cancellation check asked the engine to stop."""


class ExportError(RetargetError):
    """A motion could not be exported: unknown format, unreadable motion file, or a writer's
    optional dependency is missing."""
