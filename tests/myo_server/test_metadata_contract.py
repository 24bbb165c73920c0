"""The metadata store's contract, run against both implementations: one SQLite file, and a
PostgreSQL database of the session's cluster. Several processes use one database at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from myo_server._db import DatabaseError
from myo_server._metadata import (
    PostgresMetadataStore,
    SqliteMetadataStore,
    SqlMetadataStore,
)
from myo_server._records import CharacterVersionRecord, IdempotencyEntry, JobFilters, KeyRecord
from myo_server._schema import schema
from myo_server._util import new_id, now

from .records import asset, output, queued_job


@dataclass
class Target:
    """Where a store lives: what another process needs to open the same one."""

    kind: str
    where: str

    def open(self) -> SqlMetadataStore:
        if self.kind == "sqlite":
            return SqliteMetadataStore(Path(self.where))
        return PostgresMetadataStore(self.where)

    def script(self, body: str) -> str:
        """Python source that opens this store as ``store`` and then runs ``body``."""
        opener = (
            f"SqliteMetadataStore(Path({self.where!r}))"
            if self.kind == "sqlite"
            else f"PostgresMetadataStore({self.where!r})"
        )
        return (
            "import sys\nfrom pathlib import Path\n"
            "from myo_server._metadata import SqliteMetadataStore, PostgresMetadataStore\n"
            f"store = {opener}\n" + textwrap.dedent(body)
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "sqlite":
        return Target("sqlite", str(tmp_path / "myo.sqlite3"))
    return Target("postgresql", request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(target: Target) -> Iterator[SqlMetadataStore]:
    opened = target.open()
    yield opened
    opened.close()


def _processes(target: Target, body: str, args: list[str]) -> list[str]:
    """Run ``body`` in one process per argument at once; their stdout lines, all together."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", target.script(body), arg],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for arg in args
    ]
    lines: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        lines += out.split()
    return lines


# -- the queue -------------------------------------------------------------------------------


def test_concurrent_claims_from_several_processes_never_share_a_job(
    target: Target, store: SqlMetadataStore
) -> None:
    ids = [new_id() for _ in range(120)]
    for job_id in ids:
        store.create_job(queued_job(job_id))
    body = """
        got = []
        while (job := store.claim_job(sys.argv[1])) is not None:
            got.append(job.job_id)
        print("\\n".join(got))
    """
    claimed = _processes(target, body, [f"w{i}" for i in range(4)])
    assert sorted(claimed) == sorted(ids)
    assert store.claim_job("late") is None
    assert store.running_worker_ids() <= {"w0", "w1", "w2", "w3"}


def test_jobs_are_claimed_oldest_first_once(store: SqlMetadataStore) -> None:
    first, second = queued_job(), queued_job()
    second.created_at = first.created_at + 1
    store.create_job(second)
    store.create_job(first)
    claimed = store.claim_job("w")
    assert claimed is not None
    assert (claimed.job_id, claimed.status, claimed.attempts) == (first.job_id, "RUNNING", 1)
    assert (claimed.worker_id, claimed.message) == ("w", "Job started")
    assert store.queue_position(second.created_at) == 1  # the running one is ahead of it
    assert store.claim_job("w2").job_id == second.job_id  # type: ignore[union-attr]
    assert store.claim_job("w3") is None


def test_recovery_requeues_once_then_fails(store: SqlMetadataStore) -> None:
    job_id = new_id()
    store.create_job(queued_job(job_id))
    assert store.claim_job("dead1") is not None
    assert store.recover_worker_jobs("dead1", 2, "its worker died") == [(job_id, "QUEUED")]
    assert store.claim_job("dead2") is not None
    assert store.recover_worker_jobs("dead2", 2, "its worker died") == [(job_id, "FAILED")]
    job = store.get_job(job_id, None)
    assert job is not None
    assert job.error is not None
    assert "its worker died, on each of its 2 attempts" in job.error
    assert job.error_type == "ENGINE_CRASH"


def test_a_lease_is_renewed_while_the_job_runs_and_expires_when_its_worker_stops(
    store: SqlMetadataStore,
) -> None:
    alive, dead, gone = queued_job(), queued_job(), queued_job()
    for i, job in enumerate((alive, dead, gone)):
        job.created_at += i
        store.create_job(job)
    assert store.claim_job("w1", lease_s=0.3).job_id == alive.job_id  # type: ignore[union-attr]
    assert store.claim_job("w2", lease_s=0.3).job_id == dead.job_id  # type: ignore[union-attr]
    assert store.claim_job("w3", lease_s=0.3).job_id == gone.job_id  # type: ignore[union-attr]
    assert store.recover_expired_jobs(2, "its worker stopped") == []  # all leases are fresh
    assert store.cancel_job(gone.job_id, "t")[0] == "canceled"
    assert not store.renew_lease(gone.job_id, "w3", 60)  # canceled: its worker stops
    assert not store.renew_lease(alive.job_id, "w2", 60)  # not that worker's job
    time.sleep(0.2)
    assert store.renew_lease(alive.job_id, "w1", 60)
    time.sleep(0.2)  # dead's lease (0.3 s) is over; alive's runs for a minute
    assert store.recover_expired_jobs(2, "its worker stopped renewing its lease") == [
        (dead.job_id, "QUEUED")
    ]
    requeued = store.get_job(dead.job_id, "t")
    assert requeued is not None and requeued.worker_id is None
    assert requeued.message == "Job re-queued: its worker stopped renewing its lease"
    assert not store.renew_lease(dead.job_id, "w2", 60)  # w2 comes back: the job is not its own
    assert not store.finish_job_succeeded(dead.job_id, "w2", output("late.npz"), "done")
    again = store.claim_job("w4", lease_s=0.01)
    assert again is not None and (again.job_id, again.attempts) == (dead.job_id, 2)
    time.sleep(0.05)
    assert store.recover_expired_jobs(2, "its worker stopped") == [(dead.job_id, "FAILED")]
    assert store.get_job(alive.job_id, "t").status == "RUNNING"  # type: ignore[union-attr]


def test_a_job_handed_back_at_shutdown_keeps_its_attempts(store: SqlMetadataStore) -> None:
    a, b = queued_job(), queued_job()
    b.created_at = a.created_at + 1
    store.create_job(a)
    store.create_job(b)
    assert store.claim_job("w") is not None
    assert store.requeue_job(a.job_id, "w")
    assert not store.requeue_job(a.job_id, "w")  # no longer running there
    again = store.get_job(a.job_id, "t")
    assert again is not None
    assert (again.status, again.attempts, again.worker_id) == ("QUEUED", 0, None)
    assert store.claim_job("w").job_id == a.job_id  # type: ignore[union-attr]
    assert store.claim_job("w").job_id == b.job_id  # type: ignore[union-attr]
    assert sorted(store.requeue_worker_jobs("w")) == sorted([a.job_id, b.job_id])
    assert store.running_worker_ids() == set()


def test_cancel_wins_over_a_late_finish(store: SqlMetadataStore) -> None:
    job = queued_job()
    store.create_job(job)
    assert store.claim_job("w") is not None
    outcome, canceled = store.cancel_job(job.job_id, "t")
    assert outcome == "canceled" and canceled is not None and canceled.status == "CANCELED"
    assert store.job_status(job.job_id) == "CANCELED"
    assert not store.update_progress(job.job_id, "w", 0.5, "still going")
    assert not store.finish_job_succeeded(job.job_id, "w", output("walk.npz"), "done")
    assert not store.finish_job_failed(job.job_id, "w", "boom", "INTERNAL")
    assert store.get_job(job.job_id, "t").status == "CANCELED"  # type: ignore[union-attr]
    assert store.cancel_job(job.job_id, "t")[0] == "finished"
    assert store.cancel_job(job.job_id, "other tenant") == ("not_found", None)


def test_progress_and_failure_are_recorded_for_the_running_worker_only(
    store: SqlMetadataStore,
) -> None:
    job = queued_job()
    store.create_job(job)
    assert store.claim_job("w") is not None
    assert not store.update_progress(job.job_id, "intruder", 0.9, "no")
    assert store.update_progress(job.job_id, "w", 0.25, "Fitting")
    got = store.get_job(job.job_id, "t")
    assert got is not None and (got.progress, got.message) == (0.25, "Fitting")
    assert store.jobs_running_since(now() + 1) == [(job.job_id, "w")]
    assert store.jobs_running_since(got.started_at - 1) == []  # type: ignore[operator]
    assert store.finish_job_failed(job.job_id, "w", "the C3D has no markers", "INVALID_RECORDING")
    got = store.get_job(job.job_id, "t")
    assert got is not None
    assert (got.status, got.error, got.error_type) == (
        "FAILED",
        "the C3D has no markers",
        "INVALID_RECORDING",
    )


def test_any_job_text_is_stored_readably(store: SqlMetadataStore) -> None:
    # A C3D label byte that is not UTF-8 reaches messages as a surrogate (surrogateescape);
    # neither database takes it, and a NUL cuts text short (PostgreSQL refuses it).
    text = "labels \udcffBWT, \ud800, C\x007"
    shown = "labels \\xffBWT, \\ud800, C\\x007"
    failed, progressed, recovered = new_id(), new_id(), new_id()
    for job_id in (failed, progressed, recovered):
        store.create_job(queued_job(job_id))
        assert store.claim_job(job_id) is not None  # one worker per job
    assert store.finish_job_failed(failed, failed, text, "INTERNAL")
    assert store.update_progress(progressed, progressed, 0.5, text)
    assert store.recover_worker_jobs(recovered, 1, text) == [(recovered, "FAILED")]
    job = store.get_job(failed, "t")
    assert job is not None
    assert (job.status, job.error, job.message) == ("FAILED", shown, shown)
    assert store.get_job(progressed, "t").message == shown  # type: ignore[union-attr]
    assert shown in store.get_job(recovered, "t").error  # type: ignore[union-attr,operator]


def test_a_succeeded_job_is_read_with_its_outputs_and_their_storage_keys(
    store: SqlMetadataStore,
) -> None:
    c3d, xml = asset("completed"), asset("completed", "m.xml")
    store.insert_asset(c3d)
    store.insert_asset(xml)
    job = queued_job(input_asset_ids=[c3d.asset_id, xml.asset_id])
    store.create_job(job)
    assert store.claim_job("w") is not None
    assert store.get_job(job.job_id, "t").output_key is None  # type: ignore[union-attr]
    npz, model = output("walk.npz"), output("walk_model.mjb")
    info = {"processing_time_seconds": 1.5, "diagnostics": {"warnings": ["toes"]}}
    assert store.finish_job_succeeded(job.job_id, "w", npz, "done", {"model": model}, info)
    got = store.get_job(job.job_id, "t")
    assert got is not None
    assert (got.status, got.progress, got.message) == ("SUCCEEDED", 1.0, "done")
    assert got.input_asset_ids == [c3d.asset_id, xml.asset_id]
    assert (got.output_asset_id, got.output_key) == (npz.asset_id, npz.storage_key)
    assert got.outputs == {"model": model.asset_id}
    assert got.output_keys == {model.asset_id: model.storage_key}
    assert got.output_info == info
    listed, total = store.list_jobs("t", JobFilters(), 10, 0)
    assert total == 1 and [j.output_key for j in listed] == [npz.storage_key]
    assert store.mean_job_seconds() == pytest.approx(got.completed_at - got.started_at)  # type: ignore[operator]
    assert store.delete_asset(npz.asset_id, "t")[0] == "deleted"
    assert store.get_job(job.job_id, "t").output_key is None  # type: ignore[union-attr]


def test_jobs_are_listed_newest_first_with_every_filter(store: SqlMetadataStore) -> None:
    c3d = asset("completed")
    store.insert_asset(c3d)
    jobs = [queued_job() for _ in range(5)]
    for i, job in enumerate(jobs):
        job.created_at = 1000.0 + i
        if i == 2:
            job.input_asset_ids = [c3d.asset_id]
            job.run_id = "run-2"
        store.create_job(job)
    store.create_job(queued_job(tenant_id="other"))
    assert store.claim_job("w").job_id == jobs[0].job_id  # type: ignore[union-attr]
    assert store.finish_job_succeeded(jobs[0].job_id, "w", output("o.npz"), "done")

    def ids(filters: JobFilters, limit: int = 10, offset: int = 0) -> tuple[list[str], int]:
        listed, total = store.list_jobs("t", filters, limit, offset)
        return [j.job_id for j in listed], total

    newest = [j.job_id for j in reversed(jobs)]
    assert ids(JobFilters()) == (newest, 5)
    assert ids(JobFilters(), 2, 1) == (newest[1:3], 5)
    assert ids(JobFilters(statuses=["SUCCEEDED"])) == ([jobs[0].job_id], 1)
    assert ids(JobFilters(statuses=["QUEUED", "RUNNING"]))[1] == 4
    assert ids(JobFilters(types=["retarget"]))[1] == 5
    assert ids(JobFilters(types=["other"])) == ([], 0)
    assert ids(JobFilters(created_after=1002.0))[0] == newest[:2]  # strictly after its own time
    assert ids(JobFilters(created_before=1002.0))[0] == newest[3:]
    assert ids(JobFilters(run_id="run-2")) == ([jobs[2].job_id], 1)
    assert ids(JobFilters(has_output=True)) == ([jobs[0].job_id], 1)
    assert ids(JobFilters(has_output=False))[1] == 4
    assert ids(JobFilters(input_asset_id=c3d.asset_id)) == ([jobs[2].job_id], 1)


# -- assets ----------------------------------------------------------------------------------


def test_an_upload_is_claimed_once_and_a_failed_publish_rolls_the_claim_back(
    store: SqlMetadataStore,
) -> None:
    a = asset()
    store.insert_asset(a)
    published: list[str] = []

    def fail() -> None:
        raise OSError("rename failed")

    with pytest.raises(OSError, match="rename failed"):
        store.claim_upload(a.asset_id, 3, "aa" * 32, fail)
    assert store.get_asset(a.asset_id, None).status == "pending"  # type: ignore[union-attr]
    assert store.claim_upload(a.asset_id, 3, "bb" * 32, lambda: published.append("first"))
    assert not store.claim_upload(a.asset_id, 4, "cc" * 32, lambda: published.append("second"))
    got = store.get_asset(a.asset_id, None)
    assert got is not None
    assert (got.status, got.size_bytes, got.checksum_sha256) == ("uploaded", 3, "bb" * 32)
    assert published == ["first"]  # the loser never touched the object
    done = store.mark_completed(a.asset_id)
    assert done is not None and done.status == "completed" and done.completed_at is not None
    assert store.get_asset_by_key(a.storage_key, "t") == done
    assert store.get_asset_by_key(a.storage_key, "other tenant") is None


def test_an_asset_in_use_is_not_deleted_and_is_listed_by_reference_count(
    store: SqlMetadataStore,
) -> None:
    used, free = asset("completed", "used.c3d"), asset("completed", "free.c3d")
    used.metadata = {"subject": "s01", "take": 2}
    free.created_at = used.created_at + 1
    store.insert_asset(used)
    store.insert_asset(free)
    job = queued_job(input_asset_ids=[used.asset_id])
    store.create_job(job)
    outcome, record = store.delete_asset(used.asset_id, "t")
    assert outcome == "referenced" and record is not None and record.reference_count == 1
    assert record.metadata == {"subject": "s01", "take": 2}
    listed, total = store.list_assets("t", None, 1, 10, 0)
    assert (total, [a.asset_id for a in listed]) == (1, [used.asset_id])
    listed, total = store.list_assets("t", "retarget", None, 1, 0)
    assert (total, [a.asset_id for a in listed]) == (2, [free.asset_id])  # newest first
    assert store.list_assets("t", "retarget_output", None, 10, 0) == ([], 0)
    assert store.cancel_job(job.job_id, "t")[0] == "canceled"
    assert store.delete_asset(used.asset_id, "t")[0] == "deleted"
    assert store.delete_asset(used.asset_id, "t") == ("not_found", None)
    assert store.delete_asset(free.asset_id, "other tenant") == ("not_found", None)


# -- idempotency, keys, characters -----------------------------------------------------------


def _entry(key: str, body: str) -> IdempotencyEntry:
    return IdempotencyEntry(key, "POST /v1/runs/retarget", "hash", 202, body)


def test_an_idempotency_key_records_the_first_answer(store: SqlMetadataStore) -> None:
    first, again = queued_job(), queued_job()
    assert store.create_job(first, _entry("k1", first.job_id)) is None
    replay = store.create_job(again, _entry("k1", again.job_id))
    assert replay is not None and replay.body == first.job_id
    assert store.get_job(again.job_id, None) is None
    got = store.get_idempotency("t", "k1", "POST /v1/runs/retarget")
    assert got == _entry("k1", first.job_id)
    assert store.get_idempotency("other tenant", "k1", "POST /v1/runs/retarget") is None
    assert store.get_idempotency("t", "k1", "POST /v1/assets/initiate") is None


def test_processes_racing_with_one_idempotency_key_make_one_job(
    target: Target, store: SqlMetadataStore
) -> None:
    body = """
        from myo_server._records import IdempotencyEntry, JobRecord
        from myo_server._util import new_id, now
        t = now()
        job = JobRecord(job_id=new_id(), tenant_id="t", type="retarget", status="QUEUED",
                        params={}, created_at=t, updated_at=t, run_id=new_id())
        entry = IdempotencyEntry("race", "POST /v1/runs/retarget", "h", 202, job.job_id)
        existing = store.create_job(job, entry)
        print(existing.body if existing else job.job_id)
    """
    answers = _processes(target, body, [str(i) for i in range(6)])
    assert len(set(answers)) == 1  # every process answers with the one job made
    listed, total = store.list_jobs("t", JobFilters(), 10, 0)
    assert total == 1 and listed[0].job_id == answers[0]


def test_a_token_bucket_allows_its_burst_then_its_rate(store: SqlMetadataStore) -> None:
    waits = [store.take_token("k", 1.0, 3) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0] and 0.9 < waits[3] <= 1.0  # a token a second
    assert store.take_token("other key", 1.0, 3) == 0.0  # every key has its own bucket
    time.sleep(1.1)
    assert [store.take_token("k", 1.0, 3) == 0.0 for _ in range(2)] == [True, False]
    assert store.take_token("never", 1.0, 0.5) > 0  # a burst below one request allows none


def test_processes_share_one_token_bucket(target: Target, store: SqlMetadataStore) -> None:
    body = """
        print(sum(store.take_token("shared", 0.001, 10) == 0.0 for _ in range(8)))
    """
    granted = _processes(target, body, ["a", "b", "c"])
    assert sum(int(n) for n in granted) == 10  # 24 requests, one burst of 10 between them


def test_api_keys_are_added_found_and_revoked_once(store: SqlMetadataStore) -> None:
    store.create_tenant("t", "lab")
    store.create_tenant("u", "other lab")
    assert store.default_tenant() in ("t", "u")
    assert store.tenant_exists("t") and not store.tenant_exists("nobody")
    key = KeyRecord(new_id(), "t", "laptop", "hash", now())
    store.add_api_key(key)
    assert store.get_api_key(key.key_id) == key
    assert store.get_api_key("missing") is None
    assert store.count_api_keys() == 1 and store.list_api_keys() == [key]
    assert store.revoke_api_key(key.key_id)
    assert not store.revoke_api_key(key.key_id)
    assert store.get_api_key(key.key_id).revoked_at is not None  # type: ignore[union-attr]


def _version(version: str, status: str = "READY") -> CharacterVersionRecord:
    t = now()
    return CharacterVersionRecord(
        version_id=new_id(),
        character_id="c1",
        version=version,
        name="humanoid",
        description="the default",
        status=status,
        manifest_key=f"characters/c1/{version}/manifest.json",
        files={"model.xml": f"characters/c1/{version}/model.xml"},
        created_at=t,
        updated_at=t,
    )


def test_a_character_version_is_upserted_in_place(target: Target, store: SqlMetadataStore) -> None:
    first = store.upsert_character_version(_version("v1.0.0"))
    again = store.upsert_character_version(_version("v1.0.0", "FAILED"))
    assert (again.version_id, again.created_at) == (first.version_id, first.created_at)
    body = """
        from myo_server._records import CharacterVersionRecord
        from myo_server._util import new_id, now
        t = now()
        store.upsert_character_version(CharacterVersionRecord(
            new_id(), "c1", "v2.0.0", "humanoid", "", "READY", "m", {}, t, t))
        print("ok")
    """
    assert _processes(target, body, ["a", "b", "c"]) == ["ok"] * 3  # API processes seeding
    listed = store.list_character_versions("c1")
    assert [(v.version, v.status) for v in listed] == [("v1.0.0", "FAILED"), ("v2.0.0", "READY")]
    changed = store.set_character_version_status("c1", "v1.0.0", "READY", "compiled")
    assert changed is not None and (changed.status, changed.message) == ("READY", "compiled")
    assert store.set_character_version_status("c1", "v9", "READY", "") is None
    assert store.list_character_versions("nobody") == []


# -- schema ----------------------------------------------------------------------------------


def test_the_schema_is_migrated_once_and_a_newer_one_is_refused(
    target: Target, store: SqlMetadataStore
) -> None:
    job = queued_job()
    store.create_job(job)
    reopened = target.open()  # migrating again changes nothing
    assert reopened.get_job(job.job_id, "t") is not None
    reopened.close()
    older_server = schema(store.db.dialect)[:-1]
    with pytest.raises(DatabaseError, match="newer myo-server"):
        store.db.migrate(older_server)
