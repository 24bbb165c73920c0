"""The ``myo-mcp`` command: the MCP server (stdio or streamable HTTP), and ``myo-mcp demo``."""

from __future__ import annotations

import argparse
import contextlib
import hmac
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from . import __version__
from ._config import McpConfig

log = logging.getLogger("myo_mcp")

TOKEN_ENV = "MYO_MCP_TOKEN"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="myo-mcp",
        description="MCP server for motion-capture retargeting (C3D -> MuJoCo character). "
        "Without MYOSDK_API_KEY it runs an embedded local backend. "
        "'myo-mcp demo' runs the whole story on a shipped sample.",
        epilog="commands: 'myo-mcp demo [--out DIR]' runs the retargeting story end to end "
        "through a real MCP session (offline) and writes the results to ./myo-demo/.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--backend",
        choices=["local", "remote"],
        help="default: remote if MYOSDK_API_KEY is set, else local",
    )
    p.add_argument(
        "--base-url", help="remote API address (default MYOSDK_BASE_URL or https://api.myolab.ai)"
    )
    p.add_argument(
        "--data-dir", help="embedded backend's data (default MYO_HOME or the user data directory)"
    )
    p.add_argument("--workers", type=int, help="embedded backend's worker processes (default 1)")
    p.add_argument(
        "--allow-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="directory tools may read/write (repeatable; default: the client's "
        "roots, else the home directory only; env MYO_MCP_ALLOW_DIRS)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="register no tool that writes or deletes (env MYO_MCP_READ_ONLY=1)",
    )
    p.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="streamable-http address (default 127.0.0.1; any other needs a token)",
    )
    p.add_argument("--port", type=int, default=8765, help="streamable-http port")
    auth = p.add_mutually_exclusive_group()
    auth.add_argument(
        "--auth-token-file",
        metavar="PATH",
        help=f"file holding the streamable-http bearer token (or set {TOKEN_ENV})",
    )
    auth.add_argument(
        "--auth-token",
        metavar="TOKEN",
        help=f"streamable-http bearer token; other users see it in 'ps': prefer {TOKEN_ENV} "
        "or --auth-token-file",
    )
    p.add_argument(
        "--log-level",
        default="WARNING",
        type=str.upper,  # any case: --log-level debug
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level (default WARNING)",
    )
    return p


def _configure_logging(level: str) -> None:
    # Logs go to stderr only: stdout carries the protocol.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _warn(message: str) -> None:
    # Printed, not logged: security warnings show whatever --log-level says.
    print(f"myo-mcp: warning: {message}", file=sys.stderr, flush=True)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # another host name: it may resolve to any interface
        return False


def _http_token(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The streamable-HTTP bearer token (--auth-token-file, --auth-token, else $MYO_MCP_TOKEN),
    after the checks on who could reach the server. Exits with status 2 on a usage error."""
    token: str | None
    if args.auth_token_file is not None:
        where = f"--auth-token-file {args.auth_token_file}"
        try:
            token = Path(args.auth_token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            parser.error(f"{where}: cannot read it ({reason})")
        if not token:
            parser.error(f"{where}: the file is empty; write the token in it")
        if any(c.isspace() for c in token):
            parser.error(f"{where}: the token must be one word (no spaces or line breaks)")
    else:
        token = args.auth_token or os.environ.get(TOKEN_ENV) or None
    if args.auth_token:
        _warn(
            "--auth-token is visible to every user of this machine (ps, /proc); "
            f"prefer {TOKEN_ENV} or --auth-token-file PATH"
        )
    if args.transport != "streamable-http" or token is not None:
        return token
    if not _is_loopback(args.host):
        parser.error(
            f"--host {args.host} without a token would let anyone who can reach this machine "
            "use this server (its tools read and write files and start jobs): set "
            f"{TOKEN_ENV} or pass --auth-token-file PATH, or serve on 127.0.0.1"
        )
    _warn(
        f"streamable-http on {args.host}:{args.port} without a token: any program or user of "
        f"this machine can use it; set {TOKEN_ENV} or pass --auth-token-file PATH to require one"
    )
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``myo-mcp``."""
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["demo"]:
        from ._demo import main as demo_main

        return demo_main(args_in[1:])
    parser = _parser()
    args = parser.parse_args(args_in)
    token = _http_token(parser, args)
    _configure_logging(args.log_level)
    config = McpConfig.from_env(
        backend=args.backend,
        base_url=args.base_url,
        data_dir=args.data_dir,
        workers=args.workers,
        allow_dirs=args.allow_dir,
        read_only=args.read_only,
    )
    import anyio

    try:
        anyio.run(_serve, config, args.transport, args.host, args.port, token)
    except KeyboardInterrupt:
        return 130
    return 0


async def _serve(
    config: McpConfig, transport: str, host: str, port: int, token: str | None
) -> None:
    import anyio

    from ._backend import Backend
    from ._server import build_server

    backend = Backend(config)
    server = build_server(config, backend)
    try:
        async with anyio.create_task_group() as tg:

            async def watch_signals() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for signum in signals:
                        log.info("signal %s: shutting down", signum)
                        with anyio.CancelScope(shield=True), anyio.move_on_after(20):
                            await backend.aclose()
                        # The stdio transport reads stdin in a thread no cancellation can
                        # interrupt: with the backend and its workers stopped, leave now.
                        sys.stderr.flush()
                        os._exit(128 + int(signum))

            tg.start_soon(watch_signals)
            if transport == "stdio":
                await server.run_stdio_async()
            else:
                await _serve_http(server, host, port, token)
            tg.cancel_scope.cancel()  # the client went away
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(20):
            await backend.aclose()


async def _serve_http(server: Any, host: str, port: int, token: str | None) -> None:
    import uvicorn

    app: ASGIApp = server.streamable_http_app(host=host)
    if token:
        app = _bearer_auth(app, token)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, server_header=False)
    await uvicorn.Server(config).serve()


def _bearer_auth(app: ASGIApp, token: str) -> ASGIApp:
    """Refuse HTTP requests without ``Authorization: Bearer <token>`` (constant-time check)."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                body = b'{"error": "missing or wrong bearer token (Authorization: Bearer ...)"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
