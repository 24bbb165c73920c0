"""The API behind the tools: the MyoSapiens cloud, or the embedded myo-server.

Nothing here is imported at start-up beyond the standard library: the SDK (httpx) and the
embedded server (uvicorn, FastAPI) load when the backend is first needed, in the background, so
``initialize`` never waits for them.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import anyio

from ._config import McpConfig

if TYPE_CHECKING:
    from myo_server import LocalServer
    from myosdk import AsyncClient

log = logging.getLogger("myo_mcp.backend")


class BackendUnavailableError(RuntimeError):
    """The backend could not be reached or started."""


class Backend:
    """Hands out one ``myosdk.AsyncClient`` for the configured backend.

    For the local backend the embedded server starts in a background thread on
    :meth:`start_background` (or on the first :meth:`client` call) and stops on :meth:`aclose`.
    """

    def __init__(self, config: McpConfig, *, local_server: LocalServer | None = None) -> None:
        """Args:
        config: Which backend, and its settings.
        local_server: An already started embedded server to use (and leave running) instead of
            starting one; for tests and programs embedding several MCP servers.
        """
        self.config = config
        self._lock = threading.Lock()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: LocalServer | None = None
        self._error: BaseException | None = None
        self._client: AsyncClient | None = None
        self._closed = False
        if local_server is not None:
            self._server = local_server
            self._started.set()

    @property
    def kind(self) -> str:
        """``local`` or ``remote``."""
        return self.config.backend

    @property
    def secret(self) -> str | None:
        """The API key in use (to redact it from anything shown), if known."""
        if self.config.backend == "remote":
            return self.config.api_key
        return self._server.api_key if self._server is not None and self._server.running else None

    def describe(self) -> str:
        """Where requests go, for messages (never the key)."""
        if self.config.backend == "remote":
            return f"the MyoSapiens API at {self.config.base_url}"
        return f"the embedded local backend (data in {self.config.data_dir})"

    # -- embedded server ---------------------------------------------------------------------
    def start_background(self) -> None:
        """Start the embedded server in a background thread (no-op for remote or if started)."""
        if self.config.backend != "local":
            self._started.set()
            return
        with self._lock:
            if self._thread is not None or self._closed or self._started.is_set():
                return
            self._thread = threading.Thread(target=self._start_local, name="myo-mcp-backend")
            self._thread.daemon = True
            self._thread.start()

    def _start_local(self) -> None:
        try:
            from myo_server import LocalServer

            server = LocalServer(data_dir=self.config.data_dir, workers=self.config.workers)
            server.start()
            self._server = server
            log.info("embedded backend ready at %s", server.base_url)
        except BaseException as exc:  # reported to every caller of client()
            log.exception("the embedded backend failed to start")
            self._error = exc
        finally:
            self._started.set()

    @property
    def local_server(self) -> LocalServer | None:
        """The embedded server once started (None for remote)."""
        return self._server

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the backend can take requests.

        Raises:
            BackendUnavailableError: The embedded server failed to start, or timed out.
        """
        self.start_background()
        with anyio.move_on_after(timeout) as scope:
            while not self._started.is_set():
                await anyio.sleep(0.02)
        if scope.cancelled_caught:
            raise BackendUnavailableError(
                f"{self.describe()} is still starting; try again in a few seconds."
            )
        if self._error is not None:
            raise BackendUnavailableError(
                f"The embedded local backend failed to start ({type(self._error).__name__}: "
                f"{self._error}). Its log is on myo-mcp's stderr; check that the data directory "
                f"{self.config.data_dir} is writable, or set MYO_HOME to another one."
            ) from self._error

    async def client(self) -> AsyncClient:
        """The SDK client, once the backend is ready."""
        if self._client is not None:
            return self._client
        await self.wait_ready(120.0)
        if self._client is None:
            from myosdk import AsyncClient

            if self.config.backend == "remote":
                self._client = AsyncClient(
                    api_key=self.config.api_key, base_url=self.config.base_url
                )
            else:
                assert self._server is not None
                self._client = AsyncClient(
                    api_key=self._server.api_key, base_url=self._server.base_url
                )
        return self._client

    async def aclose(self) -> None:
        """Close the client and stop the embedded server (and its workers)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        client, self._client = self._client, None
        if client is not None:
            with anyio.CancelScope(shield=True):
                await client.aclose()
        if thread is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._stop_local, thread)

    def _stop_local(self, thread: threading.Thread) -> None:
        thread.join(60)
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def redact(self, text: Any) -> str:
        """``text`` with the API key blanked out."""
        out = str(text)
        secret = self.secret
        if secret:
            out = out.replace(secret, "***")
        return out
