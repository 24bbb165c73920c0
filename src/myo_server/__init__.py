"""myo_server: a local, self-hostable implementation of the MyoSapiens REST API.

Embed it with :class:`LocalServer`; run it with the ``myo-server`` command. Importing this package
is cheap: the web stack loads when a server starts, the engine (numpy, MuJoCo) only in worker
processes and when the character catalog is first needed.
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

from ._config import MAX_JSON_BODY_BYTES, ServerConfig, default_data_dir
from ._records import INPUT_PURPOSES, OUTPUT_PURPOSE, PURPOSES

if TYPE_CHECKING:
    from ._embed import LocalServer

# One version for the four packages: the distribution's, from pyproject.toml.
__version__ = importlib.metadata.version("myo-mcp")

__all__ = [
    "INPUT_PURPOSES",
    "MAX_JSON_BODY_BYTES",
    "OUTPUT_PURPOSE",
    "PURPOSES",
    "LocalServer",
    "ServerConfig",
    "__version__",
    "default_data_dir",
]


def __getattr__(name: str) -> Any:
    if name == "LocalServer":
        from ._embed import LocalServer

        return LocalServer
    raise AttributeError(f"module 'myo_server' has no attribute {name!r}")
