"""Worker processes: claim QUEUED jobs from the database and run the engine on them."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._config import ServerConfig
from ._filelock import FileLock
from ._job_errors import (
    CHARACTER,
    EXPORT,
    INTERNAL,
    INVALID_INPUT,
    INVALID_MARKERSET,
    INVALID_RECORDING,
    MARKERSET_MISMATCH,
    MISSING_INPUT,
    OUT_OF_MEMORY,
    OUT_OF_SPACE,
)
from ._metadata import LEASE_S, MetadataStore, open_metadata_store
from ._object_urls import open_blob_store
from ._records import (
    EXPORT_OUTPUTS,
    ON_REQUEST_EXPORTS,
    OUTPUT_PURPOSE,
    VIEWER_CONTENT_TYPE,
    VIEWER_OUTPUT,
    AssetRecord,
    JobRecord,
)
from ._space import JOB_OUT_OF_SPACE, out_of_space
from ._storage import BlobStore, asset_key, put_file, safe_filename
from ._util import new_id, now

if TYPE_CHECKING:
    from myo_retarget import Motion, RetargetOptions

log = logging.getLogger("myo_server.worker")

PROGRESS_INTERVAL = 0.25  # seconds between progress writes
CANCEL_CHECK_INTERVAL = 0.2  # seconds between cancellation look-ups
# An upload's extension as the engine may read it (anything else is left as stored).
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")


def worker_lock_path(config: ServerConfig, worker_id: str) -> Path:
    """The file a live worker keeps locked (its liveness signal to every server process)."""
    return config.run_dir / f"worker-{worker_id}.lock"


# Below this worker memory limit (MiB) pyarrow is not loaded ahead of a job: with pandas, which
# it loads on its first array, it maps about 350 MB, which a tight limit would lack for the job.
WARM_PARQUET_MIN_MB = 1024


def _warm_parquet() -> None:
    """Load pyarrow's Parquet writer and what its first array loads (pandas: seconds)."""
    if importlib.util.find_spec("pyarrow") is not None:
        pa: Any = importlib.import_module("pyarrow")
        importlib.import_module("pyarrow.parquet")
        pa.array([0.0])


# A worker exits with this code to be replaced by a fresh one: its job ran out of memory, after
# which the heap may stay fragmented and C extensions may have leaked.
RECYCLE_EXIT_CODE = 3


@dataclass
class _Context:
    store: MetadataStore
    blobs: BlobStore
    worker_id: str
    stop: threading.Event
    memory_limit_mb: int = 0  # for the message of a job that needs more
    lease_s: float = LEASE_S  # how long a claimed job stays ours without a renewal
    # Where this worker keeps the stored character files it retargets onto (None: the engine's
    # shipped ones), and which versions it has fetched.
    characters_dir: Path | None = None
    characters: set[tuple[str, str]] = field(default_factory=set)


class _ParentLink:
    """The worker's stdin pipe from the supervisor: a byte means "a job was queued", EOF means
    "stop" (also when the server process dies, whatever killed it)."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stop = threading.Event()
        threading.Thread(target=self._read, name="parent-link", daemon=True).start()

    def _read(self) -> None:
        fd = sys.stdin.fileno() if sys.stdin is not None else -1
        try:
            while fd >= 0 and os.read(fd, 4096):
                self.wake.set()
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Stop as if the supervisor had closed the pipe."""
        self.stop.set()
        self.wake.set()


def _set_parent_death_signal() -> None:
    """Ask Linux to kill this process when its parent dies (even if stuck in C code)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _limit_memory(limit_mb: int) -> None:
    """Cap this process's address space: past it allocations fail (MemoryError), the host lives."""
    if limit_mb <= 0 or sys.platform == "win32":
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = limit_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def worker_main(config: ServerConfig, worker_id: str, parent_pid: int) -> int:
    """Run jobs until the supervisor closes our stdin (or sends SIGTERM); returns the exit code.

    Raises:
        Exception: A job's outcome could not be recorded at all (see :func:`run_job`): the
            process must exit so that the supervisor recovers that job.
    """
    _set_parent_death_signal()
    if os.getppid() != parent_pid:
        return 0
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C reaches the whole group: the parent decides
    link = _ParentLink()
    # SIGTERM (a service manager stopping the whole group) stops us like EOF: the running job
    # goes back to the queue without using an attempt, instead of dying with it.
    signal.signal(signal.SIGTERM, lambda signum, frame: link.close())
    _limit_memory(config.worker_memory_limit_mb)
    lock = FileLock(worker_lock_path(config, worker_id))
    if not lock.try_acquire():
        log.error("worker %s: liveness lock already held; exiting", worker_id)
        return 0
    store = open_metadata_store(config.metadata_url)
    blobs = open_blob_store(config)
    characters_dir = Path(tempfile.mkdtemp(prefix="myo-characters-"))
    ctx = _Context(
        store,
        blobs,
        worker_id,
        link.stop,
        config.worker_memory_limit_mb,
        config.job_lease_s,
        characters_dir,
    )
    with contextlib.suppress(Exception):  # warm the engine (imports, default model) for job one
        import myo_retarget

        myo_retarget.load_character()
    if config.worker_memory_limit_mb <= 0 or config.worker_memory_limit_mb >= WARM_PARQUET_MIN_MB:
        with contextlib.suppress(Exception):  # and the Parquet writer: seconds off each job one
            _warm_parquet()
    try:
        while not link.stop.is_set():
            try:
                job = store.claim_job(worker_id, config.job_lease_s)
            except Exception:  # e.g. the database stayed locked: log, breathe, carry on
                log.exception("worker %s: queue error; retrying", worker_id)
                time.sleep(0.5)
                continue
            if job is None:
                link.wake.wait(1.0)
                link.wake.clear()
                continue
            if not run_job(ctx, job):
                log.info("worker %s: a job ran out of memory; exiting to be replaced", worker_id)
                return RECYCLE_EXIT_CODE
    finally:
        store.close()
        lock.release()
        shutil.rmtree(characters_dir, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> None:
    """``python -m myo_server._worker CONFIG_JSON WORKER_ID PARENT_PID LOG_LEVEL``."""
    args = sys.argv[1:] if argv is None else argv
    doc = json.loads(args[0])
    doc["data_dir"] = Path(doc["data_dir"])
    logging.basicConfig(
        level=int(args[3]),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    sys.exit(worker_main(ServerConfig(**doc), args[1], int(args[2])))


class _Lease:
    """Keeps a claimed job leased to this worker while it runs: a thread renews the lease every
    third of its length, so that a worker whose host dies loses the job to the others, and
    sets :attr:`lost` when the job no longer runs here (canceled, or taken back after a lapse)."""

    def __init__(self, store: MetadataStore, job_id: str, worker_id: str, lease_s: float) -> None:
        self.lost = threading.Event()
        self._done = threading.Event()
        self._lease_s = lease_s
        self._thread = threading.Thread(
            target=self._renew, args=(store, job_id, worker_id), name="lease", daemon=True
        )

    def _renew(self, store: MetadataStore, job_id: str, worker_id: str) -> None:
        while not self._done.wait(self._lease_s / 3):
            try:
                if not store.renew_lease(job_id, worker_id, self._lease_s):
                    self.lost.set()
                    return
            except Exception:  # a database hiccup: the lease lasts; try again next time
                log.warning("job %s: renewing its lease failed", job_id, exc_info=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(5)


def _throttled(interval: float, fn: Callable[[], bool]) -> Callable[[], bool]:
    last = [0.0]
    cached = [False]

    def check() -> bool:
        t = time.monotonic()
        if t - last[0] >= interval:
            last[0] = t
            cached[0] = fn()
        return cached[0]

    return check


def run_job(ctx: _Context, job: JobRecord) -> bool:
    """Run one claimed job to a final state (or back to the queue if the server is stopping).

    Returns:
        Whether this worker may run more jobs: False after the job ran out of memory.

    Raises:
        Exception: Only if not even a plain failure could be recorded. The worker must then exit
            so that the supervisor recovers the job: one that carried on would leave it RUNNING.
    """
    try:
        with _Lease(ctx.store, job.job_id, ctx.worker_id, ctx.lease_s) as lease:
            return _run_job(ctx, job, lease)
    except Exception as exc:  # recording the outcome failed: record a message that cannot
        log.exception("job %s: recording its outcome failed", job.job_id)
        message = (
            f"Job failed, and recording why failed too ({type(exc).__name__}). The server log"
            " has the details; start the job again, and report it with this job id if it"
            " persists."
        )
        ctx.store.finish_job_failed(job.job_id, ctx.worker_id, message, INTERNAL)
        return not _out_of_memory(exc)


def _run_job(ctx: _Context, job: JobRecord, lease: _Lease) -> bool:
    store, worker_id = ctx.store, ctx.worker_id
    params = job.params
    log.info("job %s started (attempt %d)", job.job_id, job.attempts)
    started = time.monotonic()
    replacements: dict[str, str] = {}
    stopping = [False]
    try:
        import myo_retarget as engine  # heavy (numpy, MuJoCo): loaded by the worker only

        def cancel_requested() -> bool:
            if ctx.stop.is_set():
                stopping[0] = True  # the server is stopping: hand the job back to the queue
                return True
            return lease.lost.is_set() or store.job_status(job.job_id) != "RUNNING"

        should_cancel = _throttled(CANCEL_CHECK_INTERVAL, cancel_requested)
        last_progress = [0.0]

        def progress(done: int, total: int) -> None:
            t = time.monotonic()
            if total > 0 and (t - last_progress[0] >= PROGRESS_INTERVAL or done >= total):
                last_progress[0] = t
                store.update_progress(
                    job.job_id,
                    worker_id,
                    min(max(done / total, 0.0), 0.99),
                    f"Retargeting: frame {done}/{total}",
                )

        _use_stored_character(ctx, params["character_id"], params["character_version"])
        options = engine.RetargetOptions(
            enable_scaling=bool(params.get("enable_scaling", True)),
            subject_gender=str(params.get("subject_gender", "male")),
            subject_height=params.get("subject_height"),
            subject_weight=params.get("subject_weight"),
            rotation=params.get("rotation"),
            mocap_scale=params.get("mocap_scale"),
            calibration_frames=params.get("n_frames_scaling"),
            vertical_axis=params.get("vertical_axis"),
            calibration_window=_pair(params.get("calibration_window"), float),
        )
        with (
            ctx.blobs.local_path(params["c3d_key"]) as stored,
            _named_like(stored, params["c3d_filename"]) as c3d,
            ctx.blobs.local_path(params["markerset_key"]) as markerset,
        ):
            replacements = {
                str(c3d): params["c3d_filename"],
                str(stored): params["c3d_filename"],
                str(markerset): params["markerset_filename"],
            }
            options = _frame_window(
                options, c3d, params.get("clip_length"), _pair(params.get("frame_range"), int)
            )
            motion = engine.retarget(
                c3d,
                markerset,
                character_id=params["character_id"],
                character_version=params["character_version"],
                options=options,
                progress=progress,
                should_cancel=should_cancel,
            )
        _store_output(ctx, job, motion, started)
    except FileNotFoundError as exc:
        if exc.filename is None and str(exc) in (
            params.get("c3d_key"),
            params.get("markerset_key"),
        ):
            msg = "An input file is missing from storage (asset deleted?): start the job again"
            store.finish_job_failed(job.job_id, worker_id, msg, MISSING_INPUT)
        else:
            _fail(ctx, job, exc, replacements)
    except Exception as exc:
        if stopping[0]:
            store.requeue_job(job.job_id, worker_id)
            log.info("job %s handed back to the queue: server stopping", job.job_id)
        else:
            _fail(ctx, job, exc, replacements)
            return not _out_of_memory(exc)
    return True


@contextlib.contextmanager
def _named_like(path: Path, filename: str) -> Iterator[Path]:
    """``path``, or a link to it named like the upload when its stored name lost the upload's
    extension (storage keys cut long names): the engine picks its reader by the extension."""
    suffix = Path(filename).suffix
    if path.suffix.lower() == suffix.lower() or not _SUFFIX.fullmatch(suffix):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="myo-input-") as tmp:
        link = Path(tmp) / f"{safe_filename(Path(filename).stem)[:100]}{suffix}"
        link.symlink_to(path)
        yield link


def _pair(value: Any, kind: type[float] | type[int]) -> Any:
    """A stored ``[a, b]`` as the engine's ``(a, b)`` of ``kind`` (None stays None)."""
    return None if value is None else (kind(value[0]), kind(value[1]))


def _frame_window(
    options: RetargetOptions,
    recording: Path,
    clip_length: int | None,
    frame_range: tuple[int, int] | None,
) -> RetargetOptions:
    """``options`` retargeting the frames asked for: the first ``clip_length`` (the vendor's
    option; -1 or None: all, as is a length beyond the recording) or ``frame_range`` (this
    server's extension; the request refuses both at once), the stop cut to the recording's
    frames -- which only reading the recording tells (the engine's own range is strict)."""
    if clip_length is not None and clip_length >= 1:
        first, stop = 0, clip_length
    elif frame_range is not None:
        first, stop = frame_range
    else:
        return options
    import myo_retarget as engine

    options.validate()  # lab_vertical_axis needs valid options
    frames = len(
        engine.read_markers(
            recording, vertical_axis=options.lab_vertical_axis, mocap_scale=options.mocap_scale
        ).positions
    )
    if first >= frames:
        raise engine.RetargetError(
            f"frame_range starts at frame {first}, but the recording has {frames} frames "
            f"(0-{frames - 1})"
        )
    return dataclasses.replace(options, frame_range=(first, min(stop, frames)))


def _use_stored_character(ctx: _Context, character_id: str, version: str) -> None:
    """Retarget from the server's stored copy of the character version, the one source of truth
    for the workers of every host (fetched once per worker process)."""
    import myo_retarget as engine

    if ctx.characters_dir is None or (character_id, version) in ctx.characters:
        return
    stored = [v for v in ctx.store.list_character_versions(character_id) if v.version == version]
    if not stored:  # not in storage (the catalog could not be synchronised): the engine's own
        return
    folder = ctx.characters_dir / f"{len(ctx.characters)}"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    try:
        for name, key in stored[0].files.items():
            if Path(name).name != name:  # the manifest names its files: plain names only
                raise OSError(f"not a file name: {name!r}")
            files[name] = folder / name
            with ctx.blobs.local_path(key) as source:
                shutil.copyfile(source, files[name])
    except OSError as exc:
        raise engine.CharacterError(
            f"character {character_id} {version}: its stored files cannot be read"
            f" ({type(exc).__name__}); the server's character catalog needs repair"
        ) from None
    engine.use_character(engine.character_from_files(files))
    ctx.characters.add((character_id, version))


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` or an error it was raised from (the engine wraps some) is a MemoryError."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, MemoryError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _memory_message(limit_mb: int) -> str:
    if limit_mb > 0:
        return (
            f"The job needs more memory than a worker may use ({limit_mb} MB). Split the"
            " recording into shorter trials, or raise the server's limit (myo-server serve"
            " --worker-memory-mb, LocalServer(worker_memory_limit_mb=...); 0 removes it)."
        )
    return (
        "The job ran out of memory: the server has too little free for this input. Split the"
        " recording into shorter trials, or run it on a machine with more memory."
    )


def _engine_error_type(exc: Exception) -> str:
    """The error_type of an error the engine raised on bad input (a RetargetError)."""
    from myo_retarget import _exceptions as e

    kinds: list[tuple[type[Exception], str]] = [
        (e.MarkerReadError, INVALID_RECORDING),
        (e.MarkersetError, INVALID_MARKERSET),
        (e.MarkersetMismatchError, MARKERSET_MISMATCH),
        (e.CharacterError, CHARACTER),
        (e.ExportError, EXPORT),
    ]
    return next((kind for cls, kind in kinds if isinstance(exc, cls)), INVALID_INPUT)


def _fail(ctx: _Context, job: JobRecord, exc: Exception, replacements: dict[str, str]) -> None:
    try:
        from myo_retarget._exceptions import RetargetCancelled, RetargetError
    except Exception:  # the engine itself failed to import: every error is unexpected
        RetargetCancelled = RetargetError = type("_Never", (Exception,), {})  # type: ignore[assignment,misc]
    if isinstance(exc, RetargetCancelled):
        log.info("job %s canceled", job.job_id)
        return  # the API already made the row CANCELED
    if _out_of_memory(exc):  # before RetargetError: the engine reports some as unreadable input
        message, kind = _memory_message(ctx.memory_limit_mb), OUT_OF_MEMORY
        log.warning("job %s ran out of memory: %s", job.job_id, exc)
    elif out_of_space(exc):
        message, kind = JOB_OUT_OF_SPACE, OUT_OF_SPACE
        log.error("job %s: the disk is full: %s", job.job_id, exc)
    elif isinstance(exc, RetargetError):
        message, kind = str(exc), _engine_error_type(exc)
        for local, shown in replacements.items():  # never show server paths, show the file names
            message = message.replace(local, shown)
        log.info("job %s failed: %s", job.job_id, message)
    else:
        message = (
            f"Internal error while running the job ({type(exc).__name__}). The server log has"
            " the details; report it with this job id if it persists."
        )
        kind = INTERNAL
        log.error("job %s crashed:\n%s", job.job_id, traceback.format_exc())
    ctx.store.finish_job_failed(job.job_id, ctx.worker_id, message, kind)


def _output_asset(
    job: JobRecord,
    asset_id: str,
    filename: str,
    key: str,
    size: int,
    sha256: str,
    content_type: str = "application/octet-stream",
) -> AssetRecord:
    t = now()
    return AssetRecord(
        asset_id=asset_id,
        tenant_id=job.tenant_id,
        purpose=OUTPUT_PURPOSE,
        filename=filename,
        content_type=content_type,
        storage_key=key,
        status="completed",
        created_at=t,
        updated_at=t,
        size_bytes=size,
        expected_size_bytes=size,
        checksum_sha256=sha256,
        completed_at=t,
        source_job_id=job.job_id,
    )


def _parquet_problem(memory_limit_mb: int) -> str | None:
    """Why this worker cannot write the Parquet tables (None: it can)."""
    from myo_retarget._export import EXPORT_EXTRA_HINT

    if importlib.util.find_spec("pyarrow") is None:
        return f"the server lacks pyarrow; {EXPORT_EXTRA_HINT}"
    try:
        importlib.import_module("pyarrow.parquet")
    except (ImportError, MemoryError) as exc:  # e.g. its libraries do not fit the memory limit
        return f"pyarrow failed to load ({type(exc).__name__}: {exc}); " + _memory_problem(
            memory_limit_mb
        )
    return None


def pyarrow_missing() -> str | None:
    """Why no worker of this server can write the Parquet tables: pyarrow is not installed
    (None: it is; loading it is left to the worker, where it may still fail)."""
    if importlib.util.find_spec("pyarrow") is None:
        return _parquet_problem(0)
    return None


def _memory_problem(memory_limit_mb: int) -> str:
    limit = f" ({memory_limit_mb} MB)" if memory_limit_mb > 0 else ""
    return (
        f"pyarrow ran out of memory; if the worker memory limit{limit} is the cause, raise it"
        " (myo-server serve --worker-memory-mb); the .npz holds the same values"
    )


# What MuJoCo's message says when an allocation of its own failed.
_MUJOCO_OUT_OF_MEMORY = "Could not allocate memory"


def _viewer_memory_problem(memory_limit_mb: int) -> str:
    limit = f" ({memory_limit_mb} MB)" if memory_limit_mb > 0 else ""
    return (
        f"it ran out of memory; if the worker memory limit{limit} is the cause, raise it"
        " (myo-server serve --worker-memory-mb)"
    )


def _write_outputs(
    motion: Motion,
    folder: Path,
    stem: str,
    exports: Collection[str] = (),
    memory_limit_mb: int = 0,
) -> tuple[dict[str, Path], list[str]]:
    """Write a motion's further outputs (OUTPUT_NAMES) into ``folder``: those of every job and
    the ``exports`` the request asked for (ON_REQUEST_EXPORTS, ``<stem>_motion.<format>``).

    Returns:
        Output name -> the file written (named for the user: ``<stem>_<name>.<ext>``), and the
        warnings for the job's diagnostics: the Parquet tables are left out, not the job failed,
        when the worker cannot load pyarrow (the .npz holds the same values), and so is the
        viewer page when it cannot be written (e.g. out of memory).
    """
    import myo_retarget as engine

    # What MuJoCo makes first (the model, the page and the exports pose the scaled character):
    # once pyarrow is loaded its allocator keeps memory MuJoCo may then lack.
    files = {"model": engine.save_scaled_model(motion, folder / f"{stem}_model.mjb")}
    warnings: list[str] = []
    viewer = _write_viewer(motion, folder / f"{stem}_viewer.html", memory_limit_mb)
    if isinstance(viewer, Path):
        files[VIEWER_OUTPUT] = viewer
    else:
        warnings.append(viewer)
    for fmt in ON_REQUEST_EXPORTS:  # the request was refused unless the engine has the writer
        if fmt in exports:
            path = folder / f"{stem}_motion.{fmt}"
            engine.export_motion(motion, path, format=fmt)
            (name,) = EXPORT_OUTPUTS[fmt]
            files[name] = path
    problem = _parquet_problem(memory_limit_mb)
    if problem is None:
        try:
            for table in ("qpos", "xpos"):
                path = folder / f"{stem}_{table}.parquet"
                engine.export_motion(motion, path, format="parquet", table=table)
                files[table] = path
        except MemoryError:  # pyarrow's allocator needs more than the limit leaves
            files.pop("qpos", None)
            problem = _memory_problem(memory_limit_mb)
    if problem:
        warnings.append(f"The qpos and xpos Parquet tables were not written: {problem}")
    return files, warnings


def _write_viewer(motion: Motion, path: Path, memory_limit_mb: int) -> Path | str:
    """Write the viewer page; on failure the warning that says why instead (the page is a
    convenience: the job keeps its other outputs)."""
    import myo_retarget as engine

    try:
        return engine.write_viewer(motion, path)
    except Exception as exc:
        # MuJoCo reports its own allocations failing as an error of the model, not MemoryError.
        if _out_of_memory(exc) or _MUJOCO_OUT_OF_MEMORY in str(exc):
            why = _viewer_memory_problem(memory_limit_mb)
        else:  # a bug: its message may hold server paths, the log keeps it
            log.exception("writing the viewer page failed")
            why = f"{type(exc).__name__}, the server log has the details"
    return (
        f"The viewer page was not written: {why}; `myo-retarget view` on the .npz writes"
        " the same page"
    )


def _requested_exports(params: dict[str, Any]) -> set[str]:
    """The exports a job's request asked for (jobs queued before export_formats have only
    export_glb)."""
    exports = set(params.get("export_formats") or ())
    if params.get("export_glb"):
        exports.add("glb")
    return exports


def _diagnostics(motion: Motion, warnings: list[str]) -> dict[str, Any]:
    import mujoco

    import myo_retarget as engine

    note = motion.unobserved_note()
    return {
        "engine_version": str(motion.metadata.get("engine_version") or engine.__version__),
        "mujoco_version": str(mujoco.__version__),
        "warnings": [*([note] if note else []), *warnings],
    }


def _store_output(ctx: _Context, job: JobRecord, motion: Motion, started: float) -> None:
    params = job.params
    stem = Path(params.get("c3d_filename", "motion")).stem or "motion"
    filename = f"{stem}_retarget.npz"
    records: dict[str, AssetRecord] = {}
    keys: list[str] = []
    with tempfile.TemporaryDirectory(prefix="myo-job-") as tmp:
        folder = Path(tmp)
        files = {"": motion.save(folder / filename)}
        more, warnings = _write_outputs(
            motion,
            folder,
            stem,
            _requested_exports(params),
            ctx.memory_limit_mb,
        )
        files.update(more)
        try:
            for name, path in files.items():
                asset_id = new_id()
                key = asset_key(job.tenant_id, asset_id, path.name)
                keys.append(key)
                size, sha256 = put_file(ctx.blobs, key, path)
                kind = VIEWER_CONTENT_TYPE if name == VIEWER_OUTPUT else "application/octet-stream"
                records[name] = _output_asset(job, asset_id, path.name, key, size, sha256, kind)
        except BaseException:  # a half-stored job keeps no blobs
            for key in keys:
                with contextlib.suppress(Exception):
                    ctx.blobs.delete(key)
            raise
    record = records.pop("")
    frames = getattr(motion, "n_frames", None) or getattr(motion, "num_frames", None)
    message = f"Retarget completed ({frames} frames)" if frames else "Retarget completed"
    # Joints no marker determines are NaN in the output: say so where the user looks first.
    unobserved = getattr(motion, "unobserved_note", None)
    note = unobserved() if callable(unobserved) else None
    if note:
        message += f"; {note}"
    info = {
        "processing_time_seconds": round(time.monotonic() - started, 3),
        "diagnostics": _diagnostics(motion, warnings),
    }
    if not ctx.store.finish_job_succeeded(
        job.job_id, ctx.worker_id, record, message, records, info
    ):
        for key in keys:  # canceled meanwhile: drop every orphan output
            ctx.blobs.delete(key)
        log.info("job %s finished after it was canceled; outputs discarded", job.job_id)
    else:
        log.info("job %s succeeded -> asset %s", job.job_id, record.asset_id)


if __name__ == "__main__":
    main()
