"""A motion as one self-contained HTML file: the viewer's page, script and style with the motion
inlined, for any browser, offline (no CDN, no network).

Assembling a page (:func:`viewer_page`) needs no numpy or MuJoCo: the MCP server builds its App
page from the same files at start-up, without the engine.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ._files import atomic_write

if TYPE_CHECKING:
    from ._motion import Motion

# The viewer's files, shipped in the package.
_VIEWER = files(__package__) / "viewer"
_PLACEHOLDER = re.compile(r"\{\{(?:TITLE|STYLE|PAYLOAD|SCRIPT)\}\}")


def inline_json(value: object) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>`` or comment opener can occur."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def viewer_page(title: str, payload: object | None, extra_script: str = "") -> str:
    """The viewer page: its style and script inlined, with a payload or none.

    Args:
        title: The page's title and heading.
        payload: A :func:`viewer_payload`, drawn when the page loads; ``None`` leaves the page
            waiting for a payload given to ``window.startViewer`` (by ``extra_script``).
        extra_script: JavaScript run after the viewer's script (the MCP App's bridge to its host).
    """
    page = (_VIEWER / "viewer.html").read_text(encoding="utf-8")
    script = (_VIEWER / "viewer.js").read_text(encoding="utf-8")
    parts = {
        "{{TITLE}}": html.escape(title),
        "{{STYLE}}": (_VIEWER / "viewer.css").read_text(encoding="utf-8"),
        "{{PAYLOAD}}": "" if payload is None else inline_json(payload),
        "{{SCRIPT}}": script + ("\n" + extra_script if extra_script else ""),
    }
    # One pass: text put in (a marker's name, the script) is never searched for placeholders.
    return _PLACEHOLDER.sub(lambda m: parts[m.group(0)], page)


def viewer_html(motion: Motion) -> str:
    """The viewer page of a motion, with its script, style and payload inlined."""
    from ._viewer import viewer_payload

    payload = viewer_payload(motion)
    return viewer_page(str(payload["title"]), payload)


def write_viewer(motion: Motion | str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Write the viewer page of a motion (atomically).

    Args:
        motion: The motion to show, or the path of a ``.npz`` written by ``Motion.save``.
        path: The ``.html`` to write.

    Returns:
        The path written.

    Raises:
        ExportError: ``motion`` is a file that is not a motion.
        CharacterError: The motion's character is not installed.
    """
    from ._export import _load

    target = Path(path)
    page = viewer_html(_load(motion))
    with atomic_write(target) as fh:
        fh.write(page.encode("utf-8"))
    return target
