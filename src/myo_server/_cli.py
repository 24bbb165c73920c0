"""The ``myo-server`` command: serve the API, manage API keys."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from myo_retarget._pipes import EXIT_BROKEN_PIPE, silence_stdout

from . import __version__
from ._config import ServerConfig, default_data_dir, default_workers
from ._db import DatabaseError
from ._metadata import DatabaseURLError
from ._object_urls import StorageURLError

log = logging.getLogger("myo_server")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myo-server",
        description="Local MyoSapiens API server (assets, characters, retarget jobs).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="data directory (default: $MYO_HOME or the user data directory)",
        )
        p.add_argument(
            "--storage-url",
            default=os.environ.get("MYO_STORAGE_URL"),
            help="where the files live: file:///DIR or s3://BUCKET[/PREFIX] (endpoint and"
            " credentials from the standard AWS variables; default: $MYO_STORAGE_URL, else"
            " blobs/ in the data directory)",
        )
        p.add_argument(
            "--database-url",
            default=os.environ.get("MYO_DATABASE_URL"),
            help="the metadata's database: sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            " (default: $MYO_DATABASE_URL, else the SQLite file in the data directory)",
        )

    def worker_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--worker-memory-mb",
            type=int,
            default=ServerConfig.worker_memory_limit_mb,
            help="address space each job worker may use, MiB; a job needing more fails"
            f" (0: no limit; default {ServerConfig.worker_memory_limit_mb})",
        )
        p.add_argument(
            "--job-timeout",
            type=float,
            default=ServerConfig.job_timeout_s,
            help="seconds a job may run before it fails and its worker is replaced"
            f" (0: no limit; default {ServerConfig.job_timeout_s:g})",
        )

    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    data_dir_arg(serve)
    serve.add_argument(
        "--workers", type=int, default=None, help="job worker processes (default: CPU count)"
    )
    serve.add_argument(
        "--rate-limit",
        type=float,
        default=ServerConfig.rate_limit_per_second,
        help="requests per second per API key (0: unlimited;"
        f" default {ServerConfig.rate_limit_per_second:g}, burst twice that)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="base URL clients use, for presigned URLs (default: http://HOST:PORT; required"
        " with a wildcard --host such as 0.0.0.0)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        type=str.lower,  # any case: --log-level DEBUG
        choices=["debug", "info", "warning", "error"],
        help="log level (default info)",
    )
    worker_options(serve)

    worker = sub.add_parser(
        "worker", help="run job workers only (no API): scale out beside 'serve --workers 0'"
    )
    data_dir_arg(worker)
    worker.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: CPU count)"
    )
    worker_options(worker)
    worker.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=["debug", "info", "warning", "error"],
        help="log level (default info)",
    )

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it (only it) on stdout")
    data_dir_arg(create)
    create.add_argument("--name", default="cli", help="a label for the key")
    who = create.add_mutually_exclusive_group()
    who.add_argument("--tenant", default=None, help="tenant id (default: the first tenant)")
    who.add_argument(
        "--new-tenant", metavar="NAME", default=None, help="create a new, isolated tenant for it"
    )
    lst = keys_sub.add_parser("list", help="list keys (never their secret part)")
    data_dir_arg(lst)
    lst.add_argument("--json", action="store_true", help="JSON output")
    revoke = keys_sub.add_parser("revoke", help="revoke a key")
    data_dir_arg(revoke)
    revoke.add_argument("key", help="the key id (as listed) or the key itself")

    migrate = sub.add_parser(
        "migrate", help="create or upgrade the database's schema (serve does it too), then exit"
    )
    data_dir_arg(migrate)
    return parser


def _runtime_for(args: argparse.Namespace, **kwargs: object) -> ServerConfig:
    return ServerConfig(
        data_dir=args.data_dir or default_data_dir(),
        database_url=args.database_url,
        storage_url=args.storage_url,
        **kwargs,  # type: ignore[arg-type]
    )


def _migrate(args: argparse.Namespace) -> int:
    from ._metadata import open_metadata_store
    from ._schema import SCHEMA_VERSION

    config = _runtime_for(args, workers=0)
    store = open_metadata_store(config.metadata_url)
    store.close()
    print(f"{store.db}: schema {SCHEMA_VERSION}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ._app import UVICORN_OPTIONS, build_asgi
    from ._logging import configure_logging
    from ._net import check_public_url, http_url, listen_socket
    from ._runtime import ServerRuntime

    configure_logging(args.log_level)
    try:
        check_public_url(args.host, args.public_url)
        sock = listen_socket(args.host, args.port)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    url = http_url(args.host, sock.getsockname()[1])
    config = _runtime_for(
        args,
        workers=default_workers() if args.workers is None else max(0, args.workers),
        rate_limit_per_second=args.rate_limit,
        rate_limit_burst=max(1, int(args.rate_limit * 2)),
        public_base_url=args.public_url,
        worker_memory_limit_mb=max(0, args.worker_memory_mb),
        job_timeout_s=max(0.0, args.job_timeout),
    )
    # uvicorn stops on SIGTERM/SIGINT, then re-raises the signal to the handler found before it
    # ran: with the default one, SIGTERM killed the process before close() handed the running
    # jobs back. Ours only notes it: close() runs, the exit code is 0.
    stop_signals: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop_signals.append(signum))
    runtime = ServerRuntime(config)
    runtime.listen_url = url
    try:
        runtime.open()
        key = runtime.bootstrap_key()
        if key is not None:
            print(
                "First start: created a tenant and this API key (shown once, keep it):",
                file=sys.stderr,
            )
            print(key, flush=True)
        runtime.start_background()
        log.info(
            "serving",
            extra={"url": url, "data_dir": str(config.data_dir), "workers": config.workers},
        )
        if not stop_signals:  # else a signal came during start-up: stop without serving
            server = uvicorn.Server(
                uvicorn.Config(build_asgi(runtime), timeout_graceful_shutdown=5, **UVICORN_OPTIONS)
            )
            server.run(sockets=[sock])
    finally:
        runtime.close()
        sock.close()
    return 0


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set (instead of killing the process mid-job)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    return stop


def _worker(args: argparse.Namespace) -> int:
    from ._logging import configure_logging
    from ._runtime import ServerRuntime

    configure_logging(args.log_level)
    config = _runtime_for(
        args,
        workers=default_workers() if args.workers is None else max(1, args.workers),
        worker_memory_limit_mb=max(0, args.worker_memory_mb),
        job_timeout_s=max(0.0, args.job_timeout),
    )
    stop = _stop_on_signals()
    runtime = ServerRuntime(config)
    try:
        runtime.open()
        runtime.pool.start()
        log.info(
            "workers running",
            extra={"database": str(runtime.store), "workers": config.workers},
        )
        stop.wait()
    finally:
        runtime.close()  # a running job goes back to the queue
    return 0


def _quiet_into_a_closed_pipe(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Make ``command`` stop quietly with EXIT_BROKEN_PIPE, as if killed by SIGPIPE, when the
    reader of stdout has gone (``myo-server keys list | head -1``), not with a traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            status = command(args)
            sys.stdout.flush()  # output that fit the buffer meets a closed pipe only here
        except BrokenPipeError:
            silence_stdout()
            return EXIT_BROKEN_PIPE
        return status

    return run


def _fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


@_quiet_into_a_closed_pipe
def _keys(args: argparse.Namespace) -> int:
    from ._auth import create_api_key, create_tenant, key_id_of
    from ._runtime import ServerRuntime

    config = _runtime_for(args, workers=0)
    runtime = ServerRuntime(config)
    runtime.open()
    store = runtime.store
    try:
        if args.keys_command == "create":
            if args.new_tenant:
                tenant = create_tenant(store, args.new_tenant)
            elif args.tenant:
                if not store.tenant_exists(args.tenant):
                    print(f"error: no tenant {args.tenant} (see 'keys list')", file=sys.stderr)
                    return 2
                tenant = args.tenant
            else:
                tenant = store.default_tenant() or create_tenant(store, "default")
            key, _ = create_api_key(store, tenant, args.name)
            print(key)
            return 0
        if args.keys_command == "list":
            records = store.list_api_keys()
            if args.json:
                rows = [
                    {
                        "key_id": r.key_id,
                        "tenant_id": r.tenant_id,
                        "name": r.name,
                        "created_at": _fmt_time(r.created_at),
                        "revoked_at": _fmt_time(r.revoked_at) if r.revoked_at else None,
                    }
                    for r in records
                ]
                print(json.dumps(rows, indent=2))
            else:
                print(f"{'KEY ID':<14}{'TENANT':<38}{'NAME':<12}{'CREATED':<22}STATUS")
                for r in records:
                    status = f"revoked {_fmt_time(r.revoked_at)}" if r.revoked_at else "active"
                    print(
                        f"{r.key_id:<14}{r.tenant_id:<38}{r.name:<12}{_fmt_time(r.created_at):<22}{status}"
                    )
            return 0
        key_id = key_id_of(args.key) or args.key
        if store.revoke_api_key(key_id):
            print(f"revoked {key_id}", file=sys.stderr)
            return 0
        print(f"error: no active key {key_id} (see 'myo-server keys list')", file=sys.stderr)
        return 1
    finally:
        runtime.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``myo-server``."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "migrate":
            return _migrate(args)
        if args.command == "worker":
            return _worker(args)
        return _keys(args)
    except (DatabaseURLError, StorageURLError, DatabaseError) as exc:  # unusable stores
        print(f"error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, DatabaseError) else 2


if __name__ == "__main__":
    sys.exit(main())
