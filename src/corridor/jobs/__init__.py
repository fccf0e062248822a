"""Background jobs: long work (simulation runs, energy runs, capture jobs, deliveries) off the web
workers, on a kept job-queue library (huey) shared by every API worker and ``corridor worker``.

A domain offers a plain function ``run(params, progress) -> result``; this package records the job
in the database, queues its id, and runs it in a consumer that reports progress to the job row.
Nothing here knows a domain rule: kinds are registered by name (see :mod:`corridor.jobs.kinds`).
"""

from corridor.jobs.kinds import (
    JobError,
    JobFunction,
    Progress,
    StoredJobFunction,
    register,
    register_stored,
    resolve,
)
from corridor.jobs.queue import JobQueue

__all__ = [
    "JobError",
    "JobFunction",
    "JobQueue",
    "Progress",
    "StoredJobFunction",
    "register",
    "register_stored",
    "resolve",
]
