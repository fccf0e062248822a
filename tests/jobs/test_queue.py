"""The job queue on a real consumer (huey threads) over SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest

from corridor.jobs import JobError, JobQueue, register
from corridor.settings import Settings
from corridor.store import jobs as job_store
from corridor.store import migrate
from corridor.store.jobs_tables import JobState


def triangular(params: dict[str, Any], progress) -> dict[str, Any]:
    """Sums 1..n, reporting progress: the result has a closed form, n(n+1)/2."""
    n = int(params["n"])
    total = 0
    for i in range(1, n + 1):
        total += i
        progress(i / n, f"{i} of {n}")
    return {"sum": total}


def refuses(params: dict[str, Any], progress) -> dict[str, Any]:
    raise JobError("invalid", "n", f"n must be positive, got {params['n']}")


def crashes(params: dict[str, Any], progress) -> dict[str, Any]:
    return {"ratio": 1 / params["zero"]}


register("test-triangular", triangular)
register("test-refuses", refuses)
register("test-crashes", crashes)


@pytest.fixture
def queue(db, tmp_path):
    migrate.upgrade(db)
    q = JobQueue(Settings(var_dir=tmp_path), db)
    q.start_consumer(2)
    yield q
    q.close()


def wait(q: JobQueue, job_id: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with q.db.session() as s:
            job = job_store.get(s, job_id)
            assert job is not None
            if job.state in (JobState.DONE, JobState.FAILED):
                return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_a_job_runs_in_the_consumer_and_stores_its_result(queue):
    job = queue.submit("test-triangular", {"n": 2000}, None)
    assert job.state == JobState.QUEUED
    done = wait(queue, job.id)
    assert done.state == JobState.DONE
    assert done.result == {"sum": 2000 * 2001 // 2}
    assert done.progress == 1.0
    assert done.started_at is not None
    assert done.finished_at >= done.started_at


def test_a_refused_job_keeps_its_reason_and_a_crash_hides_its_traceback(queue):
    refused = wait(queue, queue.submit("test-refuses", {"n": -1}, None).id)
    assert refused.state == JobState.FAILED
    assert refused.error == {
        "code": "invalid",
        "field": "n",
        "reason": "n must be positive, got -1",
    }
    crashed = wait(queue, queue.submit("test-crashes", {"zero": 0}, None).id)
    assert crashed.state == JobState.FAILED
    assert crashed.error["code"] == "internal"
    assert "ZeroDivision" not in crashed.error["reason"]


def test_unknown_kinds_are_refused_before_anything_is_stored(db, tmp_path):
    migrate.upgrade(db)
    q = JobQueue(Settings(var_dir=tmp_path), db)
    with pytest.raises(JobError) as caught:
        q.submit("no-such-kind", {}, None)
    q.close()
    assert caught.value.field == "kind"
    from sqlalchemy import func, select

    from corridor.store.jobs_tables import Job

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_a_redelivered_job_runs_once(db, tmp_path):
    """A message delivered twice (a consumer died after taking it) must not run the work twice."""
    migrate.upgrade(db)
    runs: list[int] = []

    def counted(params: dict[str, Any], progress) -> dict[str, Any]:
        runs.append(1)
        return {}

    register("test-counted", counted)
    q = JobQueue(Settings(var_dir=tmp_path), db)  # no consumer: run by hand, twice
    try:
        job = q.submit("test-counted", {}, None)
        q.execute(job.id)
        q.execute(job.id)
    finally:
        q.close()
    assert runs == [1]
