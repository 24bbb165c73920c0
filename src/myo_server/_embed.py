"""Run the server inside another program: tests, the SDK's tests and myo-mcp's embedded backend."""

from __future__ import annotations

import atexit
import logging
import socket
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType

import anyio

from ._config import ServerConfig, default_data_dir, default_workers
from ._net import check_public_url, http_url, listen_socket
from ._runtime import ServerRuntime

log = logging.getLogger("myo_server")


class LocalServer:
    """A myo-server on 127.0.0.1 (ephemeral port by default) in a background thread.

    Example:
        >>> with LocalServer(data_dir=tmp, workers=1) as srv:  # doctest: +SKIP
        ...     httpx.get(srv.base_url + "/v1/jobs", headers={"X-Api-Key": srv.api_key})

    The data directory persists assets, jobs and the embedded key (``embedded_api_key``) across
    restarts; several processes may use the same one.

    Args:
        data_dir: Where to keep data; default ``$MYO_HOME`` or the user data directory.
        workers: Worker processes (default: one per CPU; 0 leaves jobs QUEUED).
        host: Interface to listen on.
        port: TCP port (0: any free one).
        rate_limit_per_second: Per-key sustained request rate (0 disables the limit).
        rate_limit_burst: Per-key burst.
        public_base_url: Base of presigned URLs, if clients reach the server by another name
            (required when ``host`` is a wildcard such as ``0.0.0.0``); default: ``base_url``.
        worker_memory_limit_mb: Address space (MiB) each worker may use; a job needing more ends
            FAILED (0: no limit).
        job_timeout_s: Seconds a job may run before it ends FAILED and its worker is replaced
            (0: no limit).
        database_url: The metadata's database (``sqlite:///PATH`` or
            ``postgresql://USER@HOST:PORT/DB``); default: the SQLite file in ``data_dir``.
        storage_url: Where the files live (``file:///DIR`` or ``s3://BUCKET[/PREFIX]``);
            default: ``blobs/`` in ``data_dir``.

    Raises:
        ValueError: A wildcard ``host`` without ``public_base_url``.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        workers: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit_per_second: float = ServerConfig.rate_limit_per_second,
        rate_limit_burst: int = ServerConfig.rate_limit_burst,
        public_base_url: str | None = None,
        worker_memory_limit_mb: int = ServerConfig.worker_memory_limit_mb,
        job_timeout_s: float = ServerConfig.job_timeout_s,
        database_url: str | None = None,
        storage_url: str | None = None,
    ) -> None:
        check_public_url(host, public_base_url)
        self.config = ServerConfig(
            data_dir=Path(data_dir) if data_dir is not None else default_data_dir(),
            workers=default_workers() if workers is None else workers,
            public_base_url=public_base_url,
            rate_limit_per_second=rate_limit_per_second,
            rate_limit_burst=rate_limit_burst,
            worker_memory_limit_mb=worker_memory_limit_mb,
            job_timeout_s=job_timeout_s,
            database_url=database_url,
            storage_url=storage_url,
        )
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._runtime: ServerRuntime | None = None
        self._server: object | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._base_url: str | None = None
        self._api_key: str | None = None

    # -- properties ---------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The data directory."""
        return self.config.data_dir

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._base_url is None:
            raise RuntimeError("LocalServer is not started: call start() or use 'with'")
        return self._base_url

    @property
    def api_key(self) -> str:
        """The embedded tenant's API key once started."""
        if self._api_key is None:
            raise RuntimeError("LocalServer is not started: call start() or use 'with'")
        return self._api_key

    @property
    def runtime(self) -> ServerRuntime:
        """The server's internals (stores, worker pool) for tests and tools."""
        if self._runtime is None:
            raise RuntimeError("LocalServer is not started")
        return self._runtime

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._thread is not None and self._thread.is_alive()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> LocalServer:
        """Start serving and the workers; returns when requests are accepted."""
        import uvicorn

        from ._app import UVICORN_OPTIONS, build_asgi

        with self._lock:
            if self._thread is not None:
                return self
            runtime = ServerRuntime(self.config)
            runtime.open()
            try:
                api_key = runtime.embedded_key()
                sock = listen_socket(self._host, self._port)
                base_url = http_url(self._host, sock.getsockname()[1])
                runtime.listen_url = base_url
                config = uvicorn.Config(
                    build_asgi(runtime), timeout_graceful_shutdown=2, **UVICORN_OPTIONS
                )
                server = uvicorn.Server(config)
                thread = threading.Thread(
                    target=server.run, kwargs={"sockets": [sock]}, name="myo-server", daemon=True
                )
                thread.start()
                deadline = time.monotonic() + timeout
                while not server.started:
                    if not thread.is_alive() or time.monotonic() > deadline:
                        server.should_exit = True
                        raise RuntimeError("myo-server failed to start (see the log on stderr)")
                    time.sleep(0.005)
                runtime.start_background()
            except BaseException:
                runtime.close()
                if "sock" in locals():
                    sock.close()
                raise
            self._runtime, self._server, self._thread = runtime, server, thread
            self._sock = sock
            self._base_url = base_url
            self._api_key = api_key
            _live.add(self)
            log.info("myo-server started", extra={"base_url": self._base_url})
            return self

    def stop(self) -> None:
        """Stop serving and the workers (a running job returns to the queue); idempotent."""
        with self._lock:
            thread, server, runtime = self._thread, self._server, self._runtime
            self._thread = self._server = self._runtime = None
            if thread is None or runtime is None:
                return
            server.should_exit = True  # type: ignore[union-attr]
            thread.join(10)
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            runtime.close()
            _live.discard(self)
            self._base_url = None
            self._api_key = None

    async def astart(self) -> LocalServer:
        """:meth:`start` without blocking the event loop."""
        return await anyio.to_thread.run_sync(self.start)

    async def astop(self) -> None:
        """:meth:`stop` without blocking the event loop."""
        await anyio.to_thread.run_sync(self.stop)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LocalServer:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()


_live: weakref.WeakSet[LocalServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:  # an embedding program that forgot stop() still leaves no workers
    for srv in list(_live):
        try:
            srv.stop()
        except Exception:
            log.exception("stopping a LocalServer at exit failed")
