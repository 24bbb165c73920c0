"""A command whose stdout reader has gone (``cmd | head``) stops quietly, as if killed by SIGPIPE.

Dependency-free (stdlib only): myo-server's CLI uses it without loading the engine. The SDK's
``myo`` keeps its own copy, as the SDK never imports the engine.
"""

from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["EXIT_BROKEN_PIPE", "silence_stdout"]

# The status a shell shows for a command killed by SIGPIPE (128 + 13): stdout's reader left early.
EXIT_BROKEN_PIPE = 141


def silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail on the closed pipe again
    (see "Note on SIGPIPE" in the Python documentation of the signal module)."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (in-process tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
