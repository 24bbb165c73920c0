"""Settings of one myo-mcp process, from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BackendKind = Literal["local", "remote"]
DEFAULT_REMOTE_URL = "https://api.myolab.ai"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def default_data_dir() -> Path:
    """``$MYO_HOME`` if set, else the platform's user data directory for "myo".

    The same directory ``myo-server`` uses, so assets and jobs are shared with it.
    """
    env = os.environ.get("MYO_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("myo", appauthor=False))


@dataclass
class McpConfig:
    """What a myo-mcp server needs to know.

    Attributes:
        backend: ``local`` (the embedded myo-server) or ``remote`` (the MyoSapiens cloud API).
        base_url: The remote API's address (remote backend only).
        api_key: The remote API key (remote backend only); never shown anywhere.
        data_dir: The embedded backend's data directory.
        workers: Worker processes of the embedded backend.
        allow_dirs: Directories files may be read from and written to; empty means the
            client's roots when it offers them, else the home directory only.
        read_only: Register no tool that writes or deletes anything.
        call_budget_s: Seconds a long tool call (``retarget_motion``) may take before it hands
            back a job id to continue with.
    """

    backend: BackendKind = "local"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    data_dir: Path = field(default_factory=default_data_dir)
    workers: int = 1
    allow_dirs: list[Path] = field(default_factory=list)
    read_only: bool = False
    call_budget_s: float = 40.0

    @classmethod
    def from_env(
        cls,
        *,
        backend: BackendKind | None = None,
        base_url: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        workers: int | None = None,
        allow_dirs: list[str] | None = None,
        read_only: bool | None = None,
    ) -> McpConfig:
        """Combine explicit options (first) with the environment.

        ``MYOSDK_API_KEY`` selects the remote backend unless ``backend`` says otherwise;
        ``MYOSDK_BASE_URL``, ``MYO_HOME``, ``MYO_MCP_ALLOW_DIRS`` (os.pathsep-separated),
        ``MYO_MCP_READ_ONLY`` and ``MYO_MCP_WORKERS`` fill what the options leave unset.
        """
        api_key = os.environ.get("MYOSDK_API_KEY") or None
        kind: BackendKind = backend or ("remote" if api_key else "local")
        url = base_url or os.environ.get("MYOSDK_BASE_URL") or None
        if kind == "remote" and url is None:
            url = DEFAULT_REMOTE_URL
        dirs = list(allow_dirs or [])
        if not dirs:
            env_dirs = os.environ.get("MYO_MCP_ALLOW_DIRS", "")
            dirs = [d for d in env_dirs.split(os.pathsep) if d.strip()]
        env_workers = os.environ.get("MYO_MCP_WORKERS")
        n_workers = workers if workers is not None else int(env_workers) if env_workers else 1
        return cls(
            backend=kind,
            base_url=url,
            api_key=api_key,
            data_dir=Path(data_dir).expanduser() if data_dir is not None else default_data_dir(),
            workers=max(0, n_workers),
            allow_dirs=[Path(d).expanduser() for d in dirs],
            read_only=read_only
            if read_only is not None
            else _truthy(os.environ.get("MYO_MCP_READ_ONLY")),
        )
