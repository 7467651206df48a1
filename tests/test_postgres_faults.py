"""PostgreSQL failing under a running store (issue #15): the connection is cut by the server
(``pg_terminate_backend``, what a failover or an operator's restart does to it). Every store leaves it
as the one ``core.errors.StoreUnavailableError``, so the job recorder's patient retry works on
PostgreSQL as on SQLite, and the pool hands out a fresh connection on the next call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from adapters.postgres.db import PoolSize, PostgresDatabase
from adapters.postgres.jobs import PostgresJobStore
from core.clock import FakeClock
from core.errors import StoreUnavailableError
from core.jobs import JobState
from core.pipeline.durability import JobRecorder
from tests.support.backends import Backend
from tests.test_jobs import make_job


@pytest.fixture
def place(postgres_url: str) -> Iterator[Backend]:
    chosen = Backend("postgresql", postgres_url=postgres_url)
    try:
        yield chosen
    finally:
        chosen.drop()


@pytest.fixture
async def pg(place: Backend, postgres_url: str) -> AsyncIterator[PostgresDatabase]:
    """One pooled connection (so the one cut is the one the next call gets)."""
    one = PoolSize(min_size=1, max_size=1)
    async with PostgresDatabase(postgres_url, schema=place.schema, size=one) as db:
        yield db


async def cut_connection(pg: PostgresDatabase, postgres_url: str) -> None:
    """The server ends the pool's connection, as at a failover; the pool does not know yet."""
    async with pg.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
    assert row is not None
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(%s)", (row["pid"],)).fetchone()
    assert ended == (True,)


async def test_a_cut_connection_is_the_core_store_error_and_the_next_call_gets_a_fresh_one(
        pg: PostgresDatabase, postgres_url: str) -> None:
    jobs = PostgresJobStore(pg)
    job, _ = await jobs.insert(make_job())
    await cut_connection(pg, postgres_url)
    with pytest.raises(StoreUnavailableError) as caught:
        await jobs.get(job.job_id)
    assert "PostgreSQL at" in str(caught.value) and "password" not in str(caught.value)
    assert await jobs.get(job.job_id) == job


async def test_the_job_recorder_rides_out_a_cut_connection(pg: PostgresDatabase, postgres_url: str) -> None:
    jobs = PostgresJobStore(pg)
    job, _ = await jobs.insert(make_job())
    acked = job.advance(JobState.ACKNOWLEDGED, 101.0)
    await cut_connection(pg, postgres_url)
    recorder = JobRecorder(jobs, FakeClock())
    await recorder.save(acked)  # the first attempt meets the cut; a retry lands it
    assert await jobs.get(job.job_id) == acked and not recorder.behind(job.job_id)


async def test_an_unreachable_server_at_start_is_the_core_store_error_naming_the_host(
        postgres_url: str) -> None:
    closed = psycopg.conninfo.make_conninfo(postgres_url, port="1")  # nobody listens there
    db = PostgresDatabase(closed, password="s3cret", size=PoolSize(timeout_s=5.0))
    with pytest.raises(StoreUnavailableError) as caught:
        await db.start()
    assert "cannot connect to PostgreSQL at" in str(caught.value) and "s3cret" not in str(caught.value)
