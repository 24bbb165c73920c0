"""A throwaway PostgreSQL cluster for the test session: ``initdb`` into a temporary directory,
``pg_ctl start`` on a free loopback port, a fresh database per test, ``pg_ctl stop`` at the end.

PostgreSQL is Debian's ``postgresql`` package (``.ci/run`` installs it when missing). As root,
the server runs as the ``postgres`` user (it refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

# Durability is not what these tests are about: fsync off makes a cluster start in ~1 s.
_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def pg_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    """A running cluster, its superuser ``myo`` trusted on loopback."""

    root: Path
    bin: Path
    port: int
    user: str = "myo"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def _run(argv: list[str]) -> None:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        argv = ["runuser", "-u", "postgres", "--", *argv]
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)


def start_cluster() -> PostgresCluster:
    """Start a cluster (raises ``RuntimeError`` with the server's words when it cannot)."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb)")
    root = Path(tempfile.mkdtemp(prefix="myo-pg-"))
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(root, postgres.pw_uid, postgres.pw_gid)
    cluster = PostgresCluster(root, bin_dir, _free_port())
    data, log = root / "data", root / "server.log"
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", cluster.user]
        _run([*initdb, "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"])
        options = f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 {_FAST}"
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]
        )
    except subprocess.CalledProcessError as exc:
        said = exc.stderr or (log.read_text() if log.exists() else "")
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {said.strip()[-800:]}") from None
    return cluster
