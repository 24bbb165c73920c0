"""Which local files the tools may read and write: the allowed roots, and the shipped markersets
a tool may name instead of a file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from myo_retarget import SHIPPED_MARKERSETS, shipped_markerset_path

#: The URI of a shipped markerset is this prefix and its name (also its resource's URI).
MARKERSET_URI_PREFIX = "myo://markersets/"

#: Where the allowed roots come from, in order of precedence.
RootSource = Literal["allow-dir", "client-roots", "home-default"]


class AccessDeniedError(PermissionError):
    """A path lies outside every allowed root."""


class UnknownMarkersetError(ValueError):
    """A ``myo://markersets/<name>`` URI names no shipped markerset."""


def shipped_markerset_file(ref: str) -> Path | None:
    """The shipped markerset file ``ref`` names, or None when ``ref`` is a local path.

    Args:
        ref: A shipped markerset's name (``"cmu"``, any case) or its URI
            (``myo://markersets/cmu``, as the resource list shows it); anything else is taken
            for a local path.

    Raises:
        UnknownMarkersetError: A ``myo://markersets/`` URI of no shipped markerset.
    """
    text = ref.strip()
    is_uri = text.lower().startswith(MARKERSET_URI_PREFIX)
    name = text[len(MARKERSET_URI_PREFIX) :] if is_uri else text
    shipped = {n.lower(): n for n in SHIPPED_MARKERSETS}
    if name.lower() in shipped:
        return shipped_markerset_path(shipped[name.lower()])
    if is_uri:
        raise UnknownMarkersetError(
            f"No shipped markerset {name!r}: the shipped ones are "
            f"{', '.join(MARKERSET_URI_PREFIX + n for n in SHIPPED_MARKERSETS)}; for another "
            "markerset pass the path of its .xml file"
        )
    return None


def default_roots() -> list[Path]:
    """The user's home directory, alone.

    Never the current directory: desktop clients start servers in ``/``, which would open every
    file on the machine.
    """
    return [Path.home()]


def choose_roots(
    configured: Sequence[Path], client_uris: Iterable[str] | None
) -> tuple[list[Path], RootSource]:
    """The allowed roots and where they come from.

    Args:
        configured: ``--allow-dir`` / ``MYO_MCP_ALLOW_DIRS``; they win when given.
        client_uris: The client's root URIs, None when it offers none; its ``file://`` ones
            are used next.

    Returns:
        The roots, else the home directory (``default_roots``), and which of the three it is.
    """
    if configured:
        return list(configured), "allow-dir"
    from_client = roots_from_uris(client_uris or ())
    if from_client:
        return from_client, "client-roots"
    return default_roots(), "home-default"


def roots_from_uris(uris: Iterable[str]) -> list[Path]:
    """Local directories of ``file://`` root URIs (others are ignored)."""
    out: list[Path] = []
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            out.append(Path(unquote(parts.path)))
    return out


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """``path`` absolute, with ``~``, ``..`` and symlinks resolved (relative to the cwd)."""
    p = Path(os.fspath(path)).expanduser()
    if not p.is_absolute():
        p = Path.cwd() / p
    return p.resolve(strict=False)


def check_access(path: str | os.PathLike[str], roots: Sequence[Path]) -> Path:
    """The resolved ``path`` if it lies inside one of ``roots``.

    Both sides are resolved first, so neither ``..`` nor a symlink pointing outside escapes.

    Raises:
        AccessDeniedError: Outside every root; the message lists them and says how to widen them.
    """
    resolved = resolve_path(path)
    real_roots = [resolve_path(r) for r in roots]
    for root in real_roots:
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    listed = ", ".join(str(r) for r in real_roots) or "(none)"
    raise AccessDeniedError(
        f"{str(resolved)!r} is outside the directories this server may access ({listed}). "
        "Use a file inside one of them, or restart myo-mcp with --allow-dir DIR "
        "(or MYO_MCP_ALLOW_DIRS) to allow another directory."
    )
