"""Transport faults against the real myo_server, through a fault-injecting TCP proxy.

The server's presigned URLs point at the proxy (``public_base_url``), which forwards to the server
and, when armed, resets a connection after a given number of bytes in one direction: a connection
reset mid-upload, a truncated download, a response lost after the server acted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import selectors
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from myosdk import (
    APIConnectionError,
    AsyncClient,
    ChecksumMismatchError,
    Client,
    IncompleteDownloadError,
    NotFoundError,
)


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that can cut the next connections after N bytes: with a reset
    (RST, what a crashed peer or middlebox sends) or a close (FIN: a truncated response).

    Attributes:
        connections: Connections accepted so far.
        resets: Connections reset by an armed fault.
        requests: The first bytes the client sent on each connection (to check request lines and
            headers such as ``Range``).
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.target: tuple[str, int] | None = None
        self._faults: deque[tuple[str, int, str]] = deque()
        self._lock = threading.Lock()
        self.connections = 0
        self.resets = 0
        self.corrupted = 0
        self.requests: list[bytearray] = []
        self._closed = False
        threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, direction: str, after: int, times: int = 1, how: str = "reset") -> None:
        """Cut each of the next ``times`` connections once ``after`` bytes went ``direction``
        (``"up"``: client to server, ``"down"``: server to client); ``how`` is ``"reset"``,
        ``"close"``, or ``"flip"`` (invert that one byte and carry on: silent corruption)."""
        with self._lock:
            self._faults.extend([(direction, after, how)] * times)

    def reset_counters(self) -> None:
        with self._lock:
            self._faults.clear()
            self.connections = 0
            self.resets = 0
            self.corrupted = 0
            self.requests = []

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # with a zero linger: an RST, not a FIN

    def _serve(self, client: socket.socket) -> None:
        assert self.target is not None
        upstream = socket.create_connection(self.target)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            self.connections += 1
            record = bytearray()  # kept by this thread even if the list is reset meanwhile
            self.requests.append(record)
        peers = {client: (upstream, "up"), upstream: (client, "down")}
        counts = {"up": 0, "down": 0}
        selector = selectors.DefaultSelector()
        for sock in peers:
            selector.register(sock, selectors.EVENT_READ)
        open_ends = 2
        try:
            while open_ends:
                events = selector.select(timeout=30)
                if not events:
                    return
                for key, _ in events:
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    dst, direction = peers[src]
                    data = src.recv(1 << 16)
                    if not data:
                        selector.unregister(src)
                        open_ends -= 1
                        with contextlib.suppress(OSError):
                            dst.shutdown(socket.SHUT_WR)
                        continue
                    if direction == "up" and len(record) < 2048:
                        record += data[: 2048 - len(record)]
                    if fault and fault[0] == direction and counts[direction] + len(data) > fault[1]:
                        keep = fault[1] - counts[direction]
                        if fault[2] == "flip":  # one corrupted byte, then business as usual
                            data = data[:keep] + bytes([data[keep] ^ 0xFF]) + data[keep + 1 :]
                            fault = None
                            with self._lock:
                                self.corrupted += 1
                            dst.sendall(data)
                            counts[direction] += len(data)
                            continue
                        if keep > 0:
                            dst.sendall(data[:keep])
                        with self._lock:
                            self.resets += 1
                        self._reset(upstream)
                        if fault[2] == "reset":
                            self._reset(client)
                        return
                    dst.sendall(data)
                    counts[direction] += len(data)
        except OSError:
            pass
        finally:
            selector.close()
            for sock in peers:
                sock.close()


@pytest.fixture(scope="module")
def proxied(
    server_factory: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, FaultProxy]]:
    """A myo_server (no workers: jobs stay QUEUED) whose presigned URLs go through a proxy."""
    proxy = FaultProxy()
    data_dir = tmp_path_factory.mktemp("myo-faults")
    try:
        with server_factory(data_dir, workers=0, public_base_url=proxy.url) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            proxy.target = ("127.0.0.1", port)
            yield server, proxy
    finally:
        proxy.close()


@pytest.fixture
def proxy(proxied: tuple[Any, FaultProxy]) -> FaultProxy:
    proxied[1].reset_counters()
    return proxied[1]


@pytest.fixture
def client(proxied: tuple[Any, FaultProxy]) -> Iterator[Client]:
    server = proxied[0]
    with Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


def _random_file(path: Path, size: int) -> str:
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


MiB = 1 << 20


def _uploaded_then_idle(
    client: Client, proxy: FaultProxy, path: Path, size: int
) -> tuple[str, str]:
    """Upload a random file of ``size`` bytes; ``(asset_id, sha256)``. Then close the client (a
    download must open its own connection to meet a fault armed next) and zero the counters."""
    sha = _random_file(path, size)
    asset_id = client.assets.upload_file(path)["asset_id"]
    client.close()
    proxy.reset_counters()
    return asset_id, sha


def test_connection_reset_mid_upload_is_retried_from_a_reopened_file(
    client: Client, proxy: FaultProxy, tmp_path: Path
) -> None:
    path = tmp_path / "walk.c3d"
    sha = _random_file(path, 3 * MiB)
    proxy.arm("up", after=MiB)
    progress: list[int] = []
    result = client.assets.upload_file(path, on_progress=lambda done, total: progress.append(done))
    assert proxy.resets == 1
    assert proxy.connections == 2
    assert result["verified"] is True
    assert result["checksum_sha256"] == sha
    assert result["size_bytes"] == 3 * MiB
    # The file was streamed again from the start: more callbacks than one pass has chunks.
    assert len(progress) > 3
    assert progress[-1] == 3 * MiB
    saved = client.assets.download(result["asset_id"], tmp_path / "back" / "walk.c3d")
    assert saved["checksum_sha256"] == sha


def test_upload_failing_on_every_attempt_raises_a_connection_error(
    client: Client, proxy: FaultProxy, tmp_path: Path
) -> None:
    path = tmp_path / "walk.c3d"
    _random_file(path, 2 * MiB)
    proxy.arm("up", after=MiB // 2, times=3)
    with pytest.raises(APIConnectionError, match="after 3 attempts") as info:
        client.assets.upload_file(path)
    assert proxy.resets == 3
    # Nothing about the presigned URL's signature leaks into the message.
    assert "signature" not in str(info.value)


def test_truncated_download_resumes_with_range_and_verifies(
    proxied: tuple[Any, FaultProxy], client: Client, proxy: FaultProxy, tmp_path: Path
) -> None:
    server = proxied[0]
    path = tmp_path / "walk.c3d"
    asset_id, sha = _uploaded_then_idle(client, proxy, path, 3 * MiB)
    proxy.arm("down", after=MiB + 100, how="close")
    seen: list[tuple[int, int | None]] = []
    destination = tmp_path / "out" / "copy.c3d"
    with Client(api_key=server.api_key, base_url=server.base_url) as fresh:
        saved = fresh.assets.download(
            asset_id, destination, on_progress=lambda done, total: seen.append((done, total))
        )
    assert proxy.resets == 1
    assert saved == {"path": str(destination), "size_bytes": 3 * MiB, "checksum_sha256": sha}
    assert destination.read_bytes() == path.read_bytes()
    assert not list(destination.parent.glob("*.part"))  # no temporary file left
    assert b"range: bytes=" in proxy.requests[1].lower()  # the second request resumed
    assert seen[-1] == (3 * MiB, 3 * MiB)


def test_persistently_truncated_download_leaves_nothing(
    proxied: tuple[Any, FaultProxy], client: Client, proxy: FaultProxy, tmp_path: Path
) -> None:
    server = proxied[0]
    asset_id, _ = _uploaded_then_idle(client, proxy, tmp_path / "walk.c3d", 2 * MiB)
    # One cut after some bytes, then three that deliver nothing: the budget of retries without
    # progress (1 + max_retries attempts) runs out.
    proxy.arm("down", after=200_000, how="close")
    proxy.arm("down", after=0, times=3, how="close")
    destination = tmp_path / "out" / "copy.c3d"
    with (
        Client(api_key=server.api_key, base_url=server.base_url) as fresh,
        pytest.raises(IncompleteDownloadError, match="nothing was written") as info,
    ):
        fresh.assets.download(asset_id, destination)
    assert proxy.resets == 4
    assert info.value.expected == 2 * MiB
    assert 100_000 < int(info.value.actual) < 200_000  # type: ignore[call-overload]
    assert not destination.exists()
    assert not list(destination.parent.glob("*.part"))  # no temporary file left


def test_corrupted_upload_is_detected_and_the_asset_discarded(
    client: Client, proxy: FaultProxy, tmp_path: Path
) -> None:
    path = tmp_path / "walk.c3d"
    sha = _random_file(path, 2 * MiB)
    proxy.arm("up", after=MiB, how="flip")  # inside the file part: the server stores other bytes
    with pytest.raises(ChecksumMismatchError, match="corrupt") as info:
        client.assets.upload_file(path)
    assert proxy.corrupted == 1
    assert info.value.actual == sha
    assert info.value.expected != sha
    assert info.value.asset_id
    with pytest.raises(NotFoundError):  # not left behind for a job to use
        client.assets.get(info.value.asset_id)


def test_corrupted_download_is_detected_and_nothing_is_kept(
    proxied: tuple[Any, FaultProxy], client: Client, proxy: FaultProxy, tmp_path: Path
) -> None:
    server = proxied[0]
    asset_id, _ = _uploaded_then_idle(client, proxy, tmp_path / "walk.c3d", 2 * MiB)
    proxy.arm("down", after=MiB, how="flip")
    destination = tmp_path / "out" / "copy.c3d"
    with (
        Client(api_key=server.api_key, base_url=server.base_url) as fresh,
        pytest.raises(ChecksumMismatchError, match="nothing was written") as info,
    ):
        fresh.assets.download(asset_id, destination)
    assert info.value.asset_id == asset_id
    assert proxy.corrupted == 1
    assert not destination.exists()
    assert not list(destination.parent.glob("*.part"))  # no temporary file left


@pytest.mark.anyio
@pytest.mark.parametrize("own_pool", [True, False], ids=["threaded-pump", "caller-http-client"])
async def test_async_upload_and_download_survive_resets(
    proxied: tuple[Any, FaultProxy], proxy: FaultProxy, tmp_path: Path, own_pool: bool
) -> None:
    server = proxied[0]
    path = tmp_path / "markers.xml"
    sha = _random_file(path, 3 * MiB)

    @contextlib.asynccontextmanager
    async def make() -> AsyncIterator[AsyncClient]:
        http = None if own_pool else httpx.AsyncClient(timeout=30)
        async with AsyncClient(
            api_key=server.api_key, base_url=server.base_url, http_client=http
        ) as client:
            yield client
        if http is not None:  # the caller's client stays the caller's to close
            await http.aclose()

    async with make() as client:
        proxy.arm("up", after=2 * MiB)
        result = await client.assets.upload_file(path)
        assert result["checksum_sha256"] == sha
    seen: list[int] = []
    async with make() as client:
        proxy.arm("down", after=MiB, how="close")
        saved = await client.assets.download(
            result["asset_id"], tmp_path / "copy.xml", on_progress=lambda d, t: seen.append(d)
        )
    assert proxy.resets == 2
    assert saved["checksum_sha256"] == sha
    assert (tmp_path / "copy.xml").read_bytes() == path.read_bytes()
    assert seen[-1] == 3 * MiB


@pytest.mark.anyio
@pytest.mark.parametrize("own_pool", [True, False], ids=["threaded-pump", "caller-http-client"])
async def test_cancelled_async_download_leaves_nothing(
    proxied: tuple[Any, FaultProxy], tmp_path: Path, own_pool: bool
) -> None:
    server = proxied[0]
    path = tmp_path / "big.c3d"
    _random_file(path, 24 * MiB)
    http = None if own_pool else httpx.AsyncClient(timeout=30)
    destination = tmp_path / "out" / "big.c3d"
    async with (
        contextlib.AsyncExitStack() as stack,
        AsyncClient(api_key=server.api_key, base_url=server.base_url, http_client=http) as client,
    ):
        if http is not None:
            await stack.enter_async_context(http)
        asset_id = (await client.assets.upload_file(path))["asset_id"]
        with anyio.CancelScope() as scope:
            # Progress callbacks run on the event loop, so they may cancel the download.
            await client.assets.download(
                asset_id, destination, on_progress=lambda done, total: scope.cancel()
            )
        assert scope.cancelled_caught
    deadline = time.monotonic() + 5
    # A pump thread stops at its next chunk, then removes its temporary file.
    while list(destination.parent.glob("*.part")) and time.monotonic() < deadline:
        await anyio.sleep(0.02)
    assert not list(destination.parent.glob("*.part"))
    assert not destination.exists()


def test_lost_start_retarget_answers_create_no_duplicate_jobs(
    proxied: tuple[Any, FaultProxy],
    proxy: FaultProxy,
    tmp_path: Path,
    wait_for_catalog: Callable[[Client], None],
) -> None:
    """The server acts, the answer is lost (connection reset): the retries carry the same
    Idempotency-Key, so each call yields exactly one job."""
    server = proxied[0]
    with Client(api_key=server.api_key, base_url=server.base_url) as direct:
        wait_for_catalog(direct)
        c3d, markers = tmp_path / "walk.c3d", tmp_path / "markers.xml"
        c3d.write_bytes(os.urandom(1000))
        markers.write_text("<markerset/>")
        c3d_id = direct.assets.upload_file(c3d)["asset_id"]
        markers_id = direct.assets.upload_file(markers)["asset_id"]
    proxy.reset_counters()
    started = []
    for _ in range(4):
        proxy.arm("down", after=0, times=2)  # two lost answers, the third attempt gets through
        with Client(api_key=server.api_key, base_url=proxy.url) as client:
            started.append(
                client.jobs.start_retarget(c3d_asset_id=c3d_id, markerset_asset_id=markers_id)
            )
    assert proxy.resets == 8
    assert proxy.connections == 12
    keys = [
        line.split(b":", 1)[1].strip()
        for request in proxy.requests
        for line in bytes(request).split(b"\r\n")
        if line.lower().startswith(b"idempotency-key:")
    ]
    assert len(keys) == 12
    assert len(set(keys)) == 4  # one key per call, the same across its retries
    with Client(api_key=server.api_key, base_url=server.base_url) as direct:
        jobs = direct.jobs.list(input_asset_id=c3d_id, limit=100)
        assert jobs["total"] == 4  # zero duplicates
        assert {j["job_id"] for j in jobs["jobs"]} == {s["job_id"] for s in started}
        for job in started:
            direct.jobs.cancel(job["job_id"])


@pytest.mark.anyio
async def test_cancelled_async_upload_stops_its_reader_thread(
    proxied: tuple[Any, FaultProxy], tmp_path: Path
) -> None:
    server = proxied[0]
    path = tmp_path / "big.c3d"
    _random_file(path, 16 * MiB)
    async with AsyncClient(api_key=server.api_key, base_url=server.base_url) as client:
        with anyio.CancelScope() as scope:
            await client.assets.upload_file(path, on_progress=lambda done, total: scope.cancel())
        assert scope.cancelled_caught
    readers = [t for t in threading.enumerate() if t.name == "myosdk-upload-reader"]
    assert readers == []
