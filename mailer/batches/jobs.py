"""The RQ queue render jobs go to, and waiting for them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from flask import current_app
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

RENDER_QUEUE = "render"


def render_queue() -> Queue:
    """Return the render queue on the app's Redis."""
    return Queue(RENDER_QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))


class JobFailed(RuntimeError):
    """A queued job failed; its error is in the message."""


def wait_for_jobs(
    queue: Queue,
    job_ids: Sequence[str],
    *,
    progress: Callable[[int], None] | None = None,
    poll_seconds: float = 0.5,
    timeout_seconds: float = 3600,
) -> None:
    """Block until every job has finished, reporting each finished job's result to ``progress``."""
    waiting = set(job_ids)
    deadline = time.monotonic() + timeout_seconds
    while waiting:
        for job in Job.fetch_many(list(waiting), connection=queue.connection):
            if job is None:
                raise JobFailed("a render job disappeared from the queue")
            status = job.get_status()
            if status == JobStatus.FINISHED:
                waiting.discard(job.id)
                if progress:
                    progress(int(job.return_value() or 0))
            elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                raise JobFailed(f"job {job.id} {status.value}: {job.exc_info or ''}".strip())
        if waiting:
            if time.monotonic() > deadline:
                raise JobFailed(f"{len(waiting)} job(s) still running after {timeout_seconds:.0f} s")
            time.sleep(poll_seconds)
