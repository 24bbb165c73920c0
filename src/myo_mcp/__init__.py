"""myo_mcp: the MCP server of the MyoSapiens retargeting API (``myo-mcp``).

Run it with ``myo-mcp`` (stdio) in an MCP client, or try the whole story with ``myo-mcp demo``.
Without ``MYOSDK_API_KEY`` the tools use an embedded local server; with it, the cloud API.
Importing this package is cheap: the MCP SDK, the API client and the engine load when used.
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

from ._config import McpConfig, default_data_dir

if TYPE_CHECKING:
    from ._backend import Backend
    from ._server import MyoMCPServer, build_server

# One version for the four packages: the distribution's, from pyproject.toml.
__version__ = importlib.metadata.version("myo-mcp")

__all__ = [
    "Backend",
    "McpConfig",
    "MyoMCPServer",
    "__version__",
    "build_server",
    "default_data_dir",
]


def __getattr__(name: str) -> Any:
    if name == "Backend":
        from ._backend import Backend

        return Backend
    if name in ("MyoMCPServer", "build_server"):
        from . import _server

        return getattr(_server, name)
    raise AttributeError(f"module 'myo_mcp' has no attribute {name!r}")
