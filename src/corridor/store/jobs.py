"""Reading and writing job rows. Every state change is a conditional UPDATE, so a job that two
consumers picked up (a redelivery after a crash) is run by one of them only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from corridor.store.jobs_tables import Job, JobState


def create(
    s: Session,
    kind: str,
    params: dict[str, Any],
    organisation_id: str | None,
    job_id: str | None = None,
) -> Job:
    job = Job(
        id=job_id or uuid.uuid4().hex,
        kind=kind,
        organisation_id=organisation_id,
        state=JobState.QUEUED,
        progress=0.0,
        message="queued",
        params=params,
        result=None,
        error=None,
        created_at=datetime.now(UTC),
        started_at=None,
        finished_at=None,
    )
    s.add(job)
    s.flush()
    return job


def get(s: Session, job_id: str) -> Job | None:
    return s.get(Job, job_id)


def claim(s: Session, job_id: str) -> bool:
    """Move a queued job to running; False when another consumer already has it."""
    moved = s.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, started_at=datetime.now(UTC), message="started")
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def report(s: Session, job_id: str, progress: float, message: str) -> None:
    s.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(progress=progress, message=message[:300])
    )


def finish(
    s: Session,
    job_id: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    s.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(
            state=JobState.FAILED if error is not None else JobState.DONE,
            progress=1.0 if error is None else Job.progress,
            message="failed" if error is not None else "done",
            result=result,
            error=error,
            finished_at=datetime.now(UTC),
        )
    )


def record_finished(
    s: Session,
    kind: str,
    params: dict[str, Any],
    organisation_id: str | None,
    job_id: str,
    started_at: datetime,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> Job:
    """A job that ran outside the queue (an EPCIS capture run in the request's own thread),
    recorded finished, so that ``GET /jobs/{id}`` shows it like any other."""
    job = Job(
        id=job_id,
        kind=kind,
        organisation_id=organisation_id,
        state=JobState.FAILED if error is not None else JobState.DONE,
        progress=0.0 if error is not None else 1.0,
        message="failed" if error is not None else "done",
        params=params,
        result=result,
        error=error,
        created_at=started_at,
        started_at=started_at,
        finished_at=datetime.now(UTC),
    )
    s.add(job)
    return job
