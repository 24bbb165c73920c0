"""Where a server listens, and the base URL of the presigned URLs it hands out.

Presigned URLs are built from the configured public URL or the bound address, never from the
request's ``Host`` header: a client could otherwise make the server sign links to any host.
"""

from __future__ import annotations

import socket

# Binding to these listens on every interface: no single address says how clients reach us.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


def check_public_url(host: str, public_url: str | None) -> None:
    """Refuse a wildcard ``host`` without a public URL (presigned URLs need a reachable host).

    Raises:
        ValueError: The message says what to pass.
    """
    if public_url is None and host in WILDCARD_HOSTS:
        raise ValueError(
            f"host {host!r} listens on every interface, so the server cannot tell which address"
            " clients reach it at: give the URL they use for presigned URLs with --public-url"
            " (public_base_url=), e.g. http://myo.example.org:8000"
        )


def http_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free one), for uvicorn to serve on.

    Raises:
        OSError: The address is in use or not available.
    """
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on such sockets, and without it
    # small responses wait ~40 ms for delayed ACKs.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock
