"""Background jobs over HTTP: every long run answers 202 with a Location to poll here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from corridor.api.deps import PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.jobs import JobQueue
from corridor.store import jobs as job_store
from corridor.store.jobs_tables import Job
from corridor.store.models import OrgKind

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    """A background job: ``state`` is queued, running, done or failed; ``result`` once done."""

    id: str
    kind: str
    state: str
    progress: float
    message: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def queue(request: Request) -> JobQueue:
    jobs: JobQueue = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobQueue, Depends(queue)]


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state,
        progress=job.progress,
        message=job.message,
        result=job.result,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def accepted(job: Job) -> JSONResponse:
    """The 202 answer to a request that started ``job``: its state now, and where to follow it."""
    return JSONResponse(
        job_out(job).model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/jobs/{job.id}"},
    )


@router.get(
    "/jobs/{job_id}", response_model=JobOut, summary="A background job's progress and result"
)
def get_job(job_id: str, s: SessionDep, who: PrincipalDep) -> JobOut:
    job = job_store.get(s, job_id)
    if job is None or (
        who.kind is not OrgKind.ADMIN and job.organisation_id != who.organisation_id
    ):
        raise ApiError(404, "not_found", "job_id", f"no job {job_id} that you may see")
    return job_out(job)
