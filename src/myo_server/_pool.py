"""The worker pool: spawns worker processes, restarts dead ones and recovers their jobs."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from ._config import ServerConfig
from ._filelock import FileLock
from ._job_errors import TIMEOUT
from ._metadata import MetadataStore
from ._util import now
from ._worker import RECYCLE_EXIT_CODE, worker_lock_path

log = logging.getLogger("myo_server.pool")

_MONITOR_INTERVAL = 0.2
_ORPHAN_SCAN_INTERVAL = 2.0


@dataclass
class _Slot:
    worker_id: str
    process: subprocess.Popen[bytes]
    started: float

    def alive(self) -> bool:
        return self.process.poll() is None

    def poke(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.write(b"\x01")
            self.process.stdin.flush()

    def close_pipe(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.close()


def recover_orphans(config: ServerConfig, store: MetadataStore, skip: set[str]) -> None:
    """Re-queue or fail RUNNING jobs whose worker is dead: a worker of any process on this data
    directory found dead by its lock file at once, a worker of another host (its lock file is not
    here) once it stops renewing its job's lease.

    A live worker holds the lock file named after it; a lock we can take belongs to a dead one.
    """
    expired = store.recover_expired_jobs(
        config.max_attempts, "its worker stopped renewing its lease (its host or process stopped)"
    )
    for job_id, status in expired:
        log.warning("job %s whose lease expired -> %s", job_id, status)
    for worker_id in store.running_worker_ids() - skip:
        path = worker_lock_path(config, worker_id)
        if not path.exists():
            continue  # another host's worker (a database shared by hosts): its lease decides
        lock = FileLock(path)
        if not lock.try_acquire():
            continue  # alive, in this or another process
        try:
            changed = store.recover_worker_jobs(
                worker_id, config.max_attempts, "its worker process died while running it"
            )
            for job_id, status in changed:
                log.warning("job %s of dead worker %s -> %s", job_id, worker_id, status)
        finally:
            lock.release()
        with contextlib.suppress(FileNotFoundError):
            lock.path.unlink()


class WorkerPool:
    """``count`` worker processes (``python -m myo_server._worker``) fed from the database queue.

    Each worker's stdin is a pipe from here: a byte wakes it, EOF stops it. The supervisor thread
    starts them (so on Linux their parent-death signal is tied to it), restarts dead ones and
    recovers the jobs of dead workers of any process sharing the data directory.
    """

    def __init__(self, config: ServerConfig, store: MetadataStore, count: int) -> None:
        self._config = config
        self._store = store
        self.count = count
        self._slots: list[_Slot] = []
        self._slots_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._ready = threading.Event()
        self._log_level = logging.getLogger("myo_server").getEffectiveLevel()

    def start(self) -> None:
        """Start the supervisor thread (it spawns the workers, so their parent thread lives on)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="myo-worker-pool", daemon=True)
        self._thread.start()
        self._ready.wait(60)

    def notify(self) -> None:
        """Wake idle workers: a job was queued."""
        with self._slots_lock:
            slots = list(self._slots)
        for slot in slots:
            slot.poke()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._slots_lock:
            return [s.process.pid for s in self._slots if s.alive()]

    def worker_ids(self) -> list[str]:
        """Worker ids of the live workers."""
        with self._slots_lock:
            return [s.worker_id for s in self._slots if s.alive()]

    def _spawn(self) -> _Slot:
        worker_id = f"{os.getpid()}-{secrets.token_hex(6)}"
        doc = dataclasses.asdict(self._config)
        doc["data_dir"] = str(self._config.data_dir)
        try:  # nothing but protocol on the embedding process's stdout: workers print to stderr
            out: int = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            out = subprocess.DEVNULL
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "myo_server._worker",
                json.dumps(doc),
                worker_id,
                str(os.getpid()),
                str(self._log_level),
            ],
            stdin=subprocess.PIPE,
            stdout=out,
            close_fds=True,
            env=_worker_env(),
        )
        return _Slot(worker_id, proc, time.monotonic())

    def _run(self) -> None:
        try:
            recover_orphans(self._config, self._store, skip=set())
        except Exception:
            log.exception("recovering jobs of dead workers failed")
        with self._slots_lock:
            for _ in range(self.count):
                self._slots.append(self._spawn())
        self._ready.set()
        last_scan = time.monotonic()
        while not self._halt.wait(_MONITOR_INTERVAL):
            try:
                self._enforce_job_timeout()
                self._check_workers()
                if time.monotonic() - last_scan > _ORPHAN_SCAN_INTERVAL:
                    last_scan = time.monotonic()
                    recover_orphans(self._config, self._store, skip=set(self.worker_ids()))
            except Exception:  # the supervisor must outlive database hiccups
                log.exception("worker supervision failed; retrying")
        self._shutdown()

    def _enforce_job_timeout(self) -> None:
        """Fail the jobs of our workers that ran past ``job_timeout_s`` and kill those workers
        (a job may hang in C code, where no cancellation reaches it); they are then replaced."""
        limit = self._config.job_timeout_s
        if limit <= 0:
            return
        with self._slots_lock:
            ours = {s.worker_id: s for s in self._slots if s.alive()}
        for job_id, worker_id in self._store.jobs_running_since(now() - limit):
            slot = ours.get(worker_id)
            if slot is None:
                continue  # another server process's worker: its own supervisor sees to it
            message = (
                f"Job failed: it took longer than {limit:g} s, the server's limit per job. Split"
                " the recording into shorter trials, or raise the limit (myo-server serve"
                " --job-timeout, LocalServer(job_timeout_s=...); 0 removes it)."
            )
            if self._store.finish_job_failed(
                job_id, worker_id, message, TIMEOUT
            ):  # else it just ended
                log.warning(
                    "job %s took longer than %g s: killing worker %s", job_id, limit, worker_id
                )
                slot.process.kill()

    def _check_workers(self) -> None:
        with self._slots_lock:
            slots = list(self._slots)
        for slot in slots:
            if slot.alive() or self._halt.is_set():
                continue
            code = slot.process.returncode
            slot.close_pipe()
            if code == RECYCLE_EXIT_CODE:  # it asked to be replaced (a job ran out of memory)
                log.info("worker %s exited to be replaced; restarting it", slot.worker_id)
            else:
                log.warning("worker %s exited (code %s); restarting it", slot.worker_id, code)
            reason = (
                f"its worker process was killed by signal {-code}"
                if code is not None and code < 0
                else f"its worker process exited unexpectedly (exit code {code})"
            )
            for job_id, status in self._store.recover_worker_jobs(
                slot.worker_id, self._config.max_attempts, reason
            ):
                log.warning("job %s -> %s", job_id, status)
            with contextlib.suppress(FileNotFoundError):
                worker_lock_path(self._config, slot.worker_id).unlink()
            if time.monotonic() - slot.started < 1.0:
                time.sleep(1.0)  # crash loop guard
            with self._slots_lock:
                self._slots.remove(slot)
                self._slots.append(self._spawn())

    def _shutdown(self, timeout: float = 3.0) -> None:
        with self._slots_lock:
            slots, self._slots = self._slots, []
        for slot in slots:
            slot.close_pipe()
        deadline = time.monotonic() + timeout
        for slot in slots:
            with contextlib.suppress(subprocess.TimeoutExpired):
                slot.process.wait(max(0.0, deadline - time.monotonic()))
        for slot in slots:
            if slot.alive():
                slot.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    slot.process.wait(1.0)
            if slot.alive():
                slot.process.kill()
                slot.process.wait(2.0)
            # A worker stopped by force leaves its job RUNNING: hand it back to the queue as the
            # worker would have, without counting the attempt (the input is not to blame).
            for job_id in self._store.requeue_worker_jobs(slot.worker_id):
                log.info("job %s re-queued at shutdown", job_id)
            with contextlib.suppress(FileNotFoundError):
                worker_lock_path(self._config, slot.worker_id).unlink()

    def stop(self) -> None:
        """Stop the workers (a running job returns to the queue) and the supervisor; idempotent."""
        if self._thread is None:
            return
        self._halt.set()
        self._thread.join(15)
        self._thread = None


def _worker_env() -> dict[str, str]:
    """The worker's environment: one BLAS/OpenMP thread each, unless the operator chose.

    A job is one CPU-bound process and the pool already runs one per core; threaded BLAS on the
    engine's small matrices only adds spin-waiting and oversubscribes the machine.
    """
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env
