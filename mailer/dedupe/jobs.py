"""The duplicate search as a queued job: the review page starts it, a render worker runs and stores it.

The job carries no database URL (it would sit in Redis with its password): the worker takes its
own, as render jobs do.
"""

from __future__ import annotations

import logging

from rq import Queue
from rq.job import Job

from mailer.batches.jobs import job_transaction
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.stored import comparable, compare_new_customers, latest_run, store_search
from mailer.settings import Settings

logger = logging.getLogger(__name__)

SEARCH_TIMEOUT = 3600


def enqueue_search(
    queue: Queue, *, actor: str, threshold: float = DEFAULT_THRESHOLD, database_url: str = "", full: bool = False
) -> Job:
    """Queue a stored duplicate search: new and changed customers only when a search is stored, unless ``full``."""
    return queue.enqueue_call(
        run_search,
        kwargs={"actor": actor, "threshold": threshold, "database_url": database_url, "full": full},
        timeout=SEARCH_TIMEOUT,
        description="duplicate search",
    )


def run_search(*, actor: str, threshold: float = DEFAULT_THRESHOLD, database_url: str = "", full: bool = False) -> int:
    """Run and store a duplicate search (in a worker); return the stored run's id.

    With a stored search (with its model and match keys) and not ``full``, only new and changed
    customers are compared against it; otherwise every customer is searched and the run replaces the
    stored one.
    """
    url = database_url or Settings.from_environment().database_url
    with job_transaction(url) as session:
        stored = latest_run(session)
        if not full and stored is not None and comparable(stored):
            run = compare_new_customers(session, actor=actor).run
        else:
            run = store_search(session, actor=actor, threshold=threshold)
        run_id = run.id
    logger.info("duplicate search %s stored by a job for %s", run_id, actor)
    return run_id
