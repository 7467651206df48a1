"""The store suite: every store behind a core port, on SQLite AND on a real PostgreSQL (``backend`` is
parametrised in conftest). What one backend promises, the other keeps: round trips, idempotent inserts,
restarts, dedupe lifetimes, and the job leases that let several replicas share one database."""

from __future__ import annotations

import asyncio

import pytest

from adapters.postgres.db import PostgresDatabase
from adapters.postgres.db import migrations as postgres_migrations
from adapters.postgres.durations import PostgresDurationStore
from adapters.sqlite.db import Database
from adapters.sqlite.db import _migrations as sqlite_migrations
from adapters.sqlite.durations import SqliteDurationStore
from core.clock import FakeClock
from core.errors import ErrorKind
from core.jobs import Job, JobState, LeaseLostError
from core.timing.durations import DurationKey, DurationStore
from core.types import MediaResult, MediaType
from tests.support.backends import Backend
from tests.test_jobs import make_job

EIGHT_HOURS = 8 * 3600.0
CONSOLE = ("console",)


def test_both_backends_share_one_migration_numbering() -> None:
    assert [v for v, _, _ in postgres_migrations()] == [v for v, _, _ in sqlite_migrations()]


async def test_migrations_apply_once_and_a_reopen_changes_nothing(backend: Backend) -> None:
    async with backend.database() as db:
        first = await db.schema_version()
    async with backend.database() as db:
        assert await db.schema_version() == first == sqlite_migrations()[-1][0]


# ---------------------------------------------------------------- jobs


async def test_job_round_trips_every_field(backend: Backend) -> None:
    async with backend.open() as stores:
        job = make_job()
        stored, inserted = await stores.jobs.insert(job)
        assert inserted and stored == job
        done = (job.advance(JobState.ACKNOWLEDGED, 101.0).with_ref("status", "msg-1", 101.0)
                .advance(JobState.SUBMITTING, 102.0, model_id="m", model_name="Wan 2.6", credits=25,
                         eta_s=(60, 120))
                .advance(JobState.SUBMITTED, 103.0, task_id="t-1", submitted_at=103.0)
                .advance(JobState.DELIVERING, 150.0, result=(MediaResult("https://x/v.mp4", MediaType.VIDEO,
                                                                          cover_url="https://x/c.jpg"),))
                .advance(JobState.DONE, 151.0))
        done = done.update(151.0, notes=("n1", "提示"), hints=("h1",), from_preference=True, polls=4,
                           error_params={"name": "猫.png"})
        await stores.jobs.save(done)
        assert await stores.jobs.get("j1") == done
        assert await stores.jobs.by_key("console:m1") == done
        assert await stores.jobs.get("nope") is None


async def test_repeated_idempotency_key_returns_the_first_job(backend: Backend) -> None:
    async with backend.open() as stores:
        await stores.jobs.insert(make_job("j1"))
        again, inserted = await stores.jobs.insert(make_job("j2"))
        assert not inserted and again.job_id == "j1"
        assert await stores.jobs.get("j2") is None


async def test_the_same_message_inserted_by_many_replicas_at_once_makes_one_job(backend: Backend) -> None:
    async with backend.open() as one, backend.open() as two:
        results = await asyncio.gather(*(
            (one if i % 2 else two).jobs.insert(make_job(f"j{i}", "feishu:om_same")) for i in range(12)))
    assert sum(inserted for _, inserted in results) == 1
    assert len({job.job_id for job, _ in results}) == 1


async def test_unfinished_lists_only_live_jobs_and_survives_reopen(backend: Backend) -> None:
    async with backend.open() as stores:
        await stores.jobs.insert(make_job("a", "k1"))
        b, _ = await stores.jobs.insert(make_job("b", "k2"))
        await stores.jobs.save(b.advance(JobState.FAILED, 120.0, error_kind=ErrorKind.AUTH))
    async with backend.open() as stores:
        live = await stores.jobs.unfinished()
    assert [j.job_id for j in live] == ["a"]


# ---------------------------------------------------------------- job leases


def leased(job_id: str, owner: str | None, until: float = 0.0, *, created_at: float = 100.0) -> Job:
    job = make_job(job_id, f"console:{job_id}")
    return job.update(created_at, created_at=created_at, lease_owner=owner, lease_until=until)


async def test_a_held_job_is_not_claimed_until_its_lease_expires(backend: Backend) -> None:
    async with backend.open() as stores:
        await stores.jobs.insert(leased("a", "r1", until=130.0))
        assert await stores.jobs.claim("r2", 129.0, 159.0, 10, CONSOLE) == []
        (taken,) = await stores.jobs.claim("r2", 130.0, 160.0, 10, CONSOLE)
        assert (taken.job_id, taken.lease_owner, taken.lease_until) == ("a", "r2", 160.0)
        assert await stores.jobs.claim("r3", 131.0, 161.0, 10, CONSOLE) == []


async def test_claims_take_oldest_first_up_to_the_limit_and_only_listed_platforms(backend: Backend) -> None:
    async with backend.open() as stores:
        for i, created in enumerate((105.0, 101.0, 103.0)):
            await stores.jobs.insert(leased(f"j{i}", None, created_at=created))
        done, _ = await stores.jobs.insert(leased("finished", None, created_at=90.0))
        await stores.jobs.save(done.advance(JobState.FAILED, 91.0, error_kind=ErrorKind.AUTH))
        assert await stores.jobs.claim("r1", 200.0, 230.0, 2, ("discord",)) == []
        first = await stores.jobs.claim("r1", 200.0, 230.0, 2, CONSOLE)
        assert [j.job_id for j in first] == ["j1", "j2"]
        rest = await stores.jobs.claim("r2", 200.0, 230.0, 5, CONSOLE)
        assert [j.job_id for j in rest] == ["j0"]


async def test_a_restarted_replica_frees_what_it_held_and_takes_it_back_at_once(backend: Backend) -> None:
    async with backend.open() as stores:
        await stores.jobs.insert(leased("a", "r1", until=500.0))
        await stores.jobs.insert(leased("b", "r2", until=500.0))
        assert await stores.jobs.claim("r1", 100.0, 130.0, 10, CONSOLE) == []
        await stores.jobs.release("r1")
        (mine,) = await stores.jobs.claim("r1", 100.0, 130.0, 10, CONSOLE)
        assert mine.job_id == "a"
        assert await stores.jobs.claim("r1", 100.0, 130.0, 10, CONSOLE) == []  # held: not again


async def test_concurrent_claims_by_several_replicas_never_share_a_job(backend: Backend) -> None:
    async with backend.open() as setup:
        for i in range(40):
            await setup.jobs.insert(leased(f"j{i:02d}", None, created_at=100.0 + i))
    async with backend.open() as one, backend.open() as two, backend.open() as three:
        replicas = {"r1": one, "r2": two, "r3": three}

        async def drain(owner: str) -> list[str]:
            got: list[str] = []
            while batch := await replicas[owner].jobs.claim(owner, 200.0, 230.0, 3, CONSOLE):
                got += [j.job_id for j in batch]
            return got

        taken = await asyncio.gather(*(drain(owner) for owner in replicas))
    flat = [job_id for part in taken for job_id in part]
    assert sorted(flat) == [f"j{i:02d}" for i in range(40)]  # every job once, none twice


async def test_renew_extends_only_the_owners_live_leases(backend: Backend) -> None:
    async with backend.open() as stores:
        await stores.jobs.insert(leased("a", "r1", until=130.0))
        b, _ = await stores.jobs.insert(leased("b", "r1", until=130.0))
        await stores.jobs.insert(leased("c", "r2", until=130.0))
        await stores.jobs.save(b.advance(JobState.CANCELLED, 110.0))
        assert await stores.jobs.renew("r1", 170.0) == frozenset({"a"})
        taken = await stores.jobs.claim("r3", 150.0, 180.0, 10, CONSOLE)
        assert [j.job_id for j in taken] == ["c"]  # r2 stopped renewing; r1's renewed lease holds


async def test_save_by_a_replica_that_lost_the_lease_is_refused(backend: Backend) -> None:
    async with backend.open() as stores:
        job, _ = await stores.jobs.insert(leased("a", "r1", until=130.0))
        (taken,) = await stores.jobs.claim("r2", 131.0, 161.0, 10, CONSOLE)
        with pytest.raises(LeaseLostError):
            await stores.jobs.save(job.advance(JobState.ACKNOWLEDGED, 132.0))
        await stores.jobs.save(taken.advance(JobState.ACKNOWLEDGED, 133.0))
        stored = await stores.jobs.get("a")
    assert stored is not None and stored.lease_owner == "r2" and stored.updated_at == 133.0


async def test_many_saves_at_once_each_land_or_are_refused_on_their_own(backend: Backend) -> None:
    """Saves made together (written as one batch on SQLite) keep their own outcome: the holder's lands,
    a save by a replica that lost its lease is refused, and nothing of the refused one is written."""
    async with backend.open() as stores:
        jobs = [(await stores.jobs.insert(leased(f"j{i:02d}", "r1", until=130.0)))[0] for i in range(30)]
        (taken,) = await stores.jobs.claim("r2", 131.0, 161.0, 1, CONSOLE)
        outcomes = await asyncio.gather(
            *(stores.jobs.save(job.advance(JobState.ACKNOWLEDGED, 140.0 + i)) for i, job in enumerate(jobs)),
            return_exceptions=True)
        stored = {job.job_id: await stores.jobs.get(job.job_id) for job in jobs}
    refused = [job.job_id for job, outcome in zip(jobs, outcomes, strict=True)
               if isinstance(outcome, LeaseLostError)]
    assert refused == [taken.job_id]
    assert all(outcome is None or isinstance(outcome, LeaseLostError) for outcome in outcomes)
    for i, job in enumerate(jobs):
        row = stored[job.job_id]
        assert row is not None
        if job.job_id == taken.job_id:
            assert (row.state, row.lease_owner) == (JobState.RECEIVED, "r2")
        else:
            assert (row.state, row.updated_at) == (JobState.ACKNOWLEDGED, 140.0 + i)


async def test_release_frees_jobs_for_anyone_at_once(backend: Backend) -> None:
    async with backend.open() as stores:
        await stores.jobs.insert(leased("a", "r1", until=900.0))
        await stores.jobs.insert(leased("b", "r1", until=900.0))
        await stores.jobs.release("r2", ["a"])  # not the holder: nothing happens
        await stores.jobs.release("r1", ["a"])
        assert [j.job_id for j in await stores.jobs.claim("r2", 100.0, 130.0, 10, CONSOLE)] == ["a"]


async def test_a_parked_job_is_taken_from_its_live_holder_only_while_parked(backend: Backend) -> None:
    async with backend.open() as one, backend.open() as two:  # r1 parked it; its user answers at r2
        job, _ = await one.jobs.insert(leased("a", "r1", until=900.0))
        parked = _parked(job)
        await one.jobs.save(parked)
        taken = await two.jobs.take_parked("a", "r2", 140.0)
        assert taken is not None and (taken.lease_owner, taken.lease_until) == ("r2", 140.0)
        assert taken.state is JobState.AWAITING_CONFIRMATION
        with pytest.raises(LeaseLostError):  # r1's copy no longer writes
            await one.jobs.save(parked.update(102.0))
        assert await one.jobs.renew("r1", 950.0) == frozenset()
        await two.jobs.save(taken.advance(JobState.ACKNOWLEDGED, 103.0))
        assert await one.jobs.take_parked("a", "r1", 990.0) is None  # answered: no longer parked
        assert await one.jobs.take_parked("nope", "r1", 990.0) is None
        other, _ = await one.jobs.insert(leased("b", "r1", until=900.0))
        await one.jobs.save(_parked(other))
        await two.jobs.request_cancel("b", "r2", 104.0, 134.0)  # a cancel pending: its holder acts
        assert await two.jobs.take_parked("b", "r2", 140.0) is None
        held = await one.jobs.get("b")
        assert held is not None and held.lease_owner == "r1"


def _parked(job: Job) -> Job:
    return job.advance(JobState.ACKNOWLEDGED, 101.0).advance(JobState.AWAITING_CONFIRMATION, 101.0)


# ---------------------------------------------------------------- dedupe keys


async def test_second_sighting_within_ttl_is_not_first(backend: Backend) -> None:
    clock = FakeClock(auto=False)
    async with backend.open(clock) as stores:
        assert await stores.dedupe.first_seen("feishu:msg:om_1", EIGHT_HOURS) is True
        clock.advance(7 * 3600 + 600)  # Feishu's last redelivery comes about 7.1 h later
        assert await stores.dedupe.first_seen("feishu:msg:om_1", EIGHT_HOURS) is False
        assert await stores.dedupe.first_seen("feishu:msg:om_2", EIGHT_HOURS) is True


async def test_key_is_new_again_after_its_lifetime(backend: Backend) -> None:
    clock = FakeClock(auto=False)
    async with backend.open(clock) as stores:
        assert await stores.dedupe.first_seen("k", 60) is True
        clock.advance(61)
        assert await stores.dedupe.first_seen("k", 60) is True
        assert await stores.dedupe.first_seen("k", 60) is False


async def test_dedupe_survives_a_restart(backend: Backend) -> None:
    clock = FakeClock(auto=False)
    async with backend.open(clock) as stores:
        assert await stores.dedupe.first_seen("feishu:event:e1", EIGHT_HOURS) is True
    clock.advance(3600)
    async with backend.open(clock) as stores:
        assert await stores.dedupe.first_seen("feishu:event:e1", EIGHT_HOURS) is False


async def test_concurrent_claims_of_a_key_from_two_replicas_have_exactly_one_winner(backend: Backend) -> None:
    clock = FakeClock(auto=False)
    async with backend.open(clock) as one, backend.open(clock) as two:
        results = await asyncio.gather(*((one if i % 2 else two).dedupe.first_seen("same", EIGHT_HOURS)
                                         for i in range(20)))
    assert results.count(True) == 1


# ---------------------------------------------------------------- job history (ops)


async def test_history_records_every_state_and_answers_the_ops_queries(backend: Backend) -> None:
    from core.ops.history import JobFilter, user_hash

    async with backend.open() as stores:
        job, _ = await stores.jobs.insert(leased("a", None, created_at=1_767_225_600.0))
        job = job.advance(JobState.ACKNOWLEDGED, 1_767_225_601.0)
        await stores.jobs.save(job)
        job = job.advance(JobState.SUBMITTING, 1_767_225_602.0, credits=40)
        await stores.jobs.save(job)
        job = job.advance(JobState.SUBMITTED, 1_767_225_603.0, task_id="task-9", submitted_at=1_767_225_603.0)
        await stores.jobs.save(job)
        await stores.jobs.save(job.update(1_767_225_604.0, polls=2))  # no state change: no history row
        await stores.jobs.insert(leased("b", None, created_at=1_767_225_700.0))
        h = stores.history
        assert [c.state for c in await h.changes("a")] == [
            JobState.RECEIVED, JobState.ACKNOWLEDGED, JobState.SUBMITTING, JobState.SUBMITTED]
        looked_up = await h.lookup("task-9")
        assert looked_up is not None and looked_up.job_id == "a"
        user = job.conversation.user_id
        found = await h.find(JobFilter(user=user_hash(job.conversation.platform.value, user)))
        assert [j.job_id for j in found] == ["b", "a"]
        assert await h.find(JobFilter(states=(JobState.SUBMITTED,))) == [await stores.jobs.get("a")]
        assert await h.unfinished_counts() == {("submitted", "video"): 1, ("received", "video"): 1}
        assert await stores.schema_version() >= 40


# ---------------------------------------------------------------- delivery records (issue #13 item 1)


async def test_delivery_records_keep_their_contract_across_a_restart(backend: Backend) -> None:
    from tests.test_delivery_log import check_contract

    async with backend.open(FakeClock(auto=False)) as stores:
        assert stores.deliveries is not None
        await check_contract(stores.deliveries)
    async with backend.open(FakeClock(auto=False)) as stores:
        assert stores.deliveries is not None
        assert (await stores.deliveries.records("j1"))["result:0"].ref == "msg-7"


# ---------------------------------------------------------------- inbox (deliveries recorded before the ack)


async def test_inbox_accepts_a_key_once_and_hands_an_unfinished_item_over_after_its_hold(
        backend: Backend) -> None:
    clock = FakeClock(auto=False)
    payload = '{"header": {"event_id": "ev_1"}, "event": {"text": "画猫 100%"}}'
    async with backend.open(clock) as stores:
        inbox = stores.inbox
        assert inbox is not None
        assert await inbox.accept("feishu:message:om_1", payload, EIGHT_HOURS, 30.0)
        assert not await inbox.accept("feishu:message:om_1", payload, EIGHT_HOURS, 30.0)
        assert await inbox.accept("feishu:message:om_2", payload, EIGHT_HOURS, 30.0)
        await inbox.finish("feishu:message:om_2")
        assert await inbox.take_stale(30.0, 10) == []  # still held by the replica that accepted it
    clock.advance(30.0)
    async with backend.open(clock) as first, backend.open(clock) as second:
        assert first.inbox is not None and second.inbox is not None
        taken = await first.inbox.take_stale(30.0, 10)
        assert [(i.key, i.payload) for i in taken] == [("feishu:message:om_1", payload)]
        assert await second.inbox.take_stale(30.0, 10) == []  # held again, by the one that took it
        await first.inbox.finish("feishu:message:om_1")
    clock.advance(60.0)
    async with backend.open(clock) as stores:
        assert stores.inbox is not None
        assert await stores.inbox.take_stale(30.0, 10) == []  # finished items are never handed out
        assert not await stores.inbox.accept("feishu:message:om_1", payload, EIGHT_HOURS, 30.0)


# ---------------------------------------------------------------- learned durations (0060)

VIDEO_KEY = DurationKey("kling-v2-6", "10", "1080P")
IMAGE_KEY = DurationKey("doubao-seedream-4.5")


def duration_store(db: Database | PostgresDatabase, keep: int) -> DurationStore:
    return SqliteDurationStore(db, keep) if isinstance(db, Database) else PostgresDurationStore(db, keep)


async def test_learned_durations_come_back_newest_per_key_after_a_restart(backend: Backend) -> None:
    async with backend.open() as stores:
        assert stores.durations is not None
        for i in range(10):
            await stores.durations.record(VIDEO_KEY, 100.0 + i, float(i))
        await stores.durations.record(IMAGE_KEY, 30.0, 99.0)
    async with backend.open() as stores:  # what the next process start learns
        assert stores.durations is not None
        assert await stores.durations.recent(3) == {VIDEO_KEY: [107.0, 108.0, 109.0], IMAGE_KEY: [30.0]}


async def test_old_durations_are_trimmed_to_twice_the_kept_count_per_key(backend: Backend) -> None:
    async with backend.database() as db:
        store = duration_store(db, keep=3)
        for i in range(10):
            await store.record(VIDEO_KEY, 100.0 + i, float(i))
        await store.record(IMAGE_KEY, 30.0, 99.0)
        assert await store.recent(100) == {VIDEO_KEY: [104.0, 105.0, 106.0, 107.0, 108.0, 109.0],
                                           IMAGE_KEY: [30.0]}


async def test_durations_recorded_by_two_replicas_at_once_are_all_kept(backend: Backend) -> None:
    async with backend.open() as one, backend.open() as two:
        first, second = one.durations, two.durations
        assert first is not None and second is not None
        await asyncio.gather(*((first if i % 2 else second).record(VIDEO_KEY, float(i + 1), float(i))
                               for i in range(20)))
        recent = await first.recent(100)
    assert sorted(recent[VIDEO_KEY]) == [float(i + 1) for i in range(20)]
