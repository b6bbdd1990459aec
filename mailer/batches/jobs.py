"""The RQ queue render jobs go to, waiting for them, and the render of a batch as a chain of jobs.

The web pages start a render with ``enqueue_render``: one job (``prepare_batch_render``) checks
every piece's layout and plans the files, then queues one ``render_file`` job per file and a
last job (``finish_batch_render``) that waits on all of them and writes the manifest. Every job
opens its own database connection from its RenderSettings, so workers may run on any machine
that reaches the database and the shared output folder. Why a render stopped (pieces that do
not fit, a failed job) is written on the batch, where its page shows it. Each job's database work
runs in ``job_transaction``, the jobs' one transaction boundary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from flask import current_app
from redis import Redis
from rq import Callback, Queue, Worker, get_current_job
from rq.job import Job, JobStatus
from rq.types import JobDependencyType
from rq.worker_registration import clean_worker_registry
from sqlalchemy.orm import Session

from mailer.batches.rendering import (
    DEFAULT_PIECES_PER_FILE,
    LayoutRefused,
    RenderSettings,
    TestLinksRefused,
    finish_render,
    prepare_render,
    render_file,
)
from mailer.batches.service import record_render_failure
from mailer.db import make_engine
from mailer.messages import Message, join
from mailer.settings import require_secret_key

logger = logging.getLogger(__name__)

# A million pieces are checked in one job; a file is at most a few thousand pieces.
PREPARE_TIMEOUT = 6 * 3600
FILE_TIMEOUT = 3600
FINISH_TIMEOUT = 3600
# Layout problems written on the batch; the rest are counted.
PROBLEMS_SHOWN = 20


@contextmanager
def job_transaction(database_url: str) -> Iterator[Session]:
    """Run a job's database work in one transaction on a connection of its own: commit, or roll back on error."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def render_queue() -> Queue:
    """Return the app's render queue (the RENDER_QUEUE setting) on its Redis."""
    return Queue(current_app.config["RENDER_QUEUE"], connection=Redis.from_url(current_app.config["REDIS_URL"]))


def render_settings(out_dir: Path) -> RenderSettings:
    """Return the render settings of the current app for an output folder."""
    return RenderSettings(
        database_url=current_app.config["DATABASE_URL"],
        out_dir=str(out_dir.resolve()),
        secret_key=require_secret_key(current_app.config, current_app.instance_path),
        public_base_url=current_app.config["PUBLIC_BASE_URL"],
        senders=current_app.config.get("SENDERS"),
        imb_ids=current_app.config.get("USPS_IMB_IDS"),
    )


class JobFailed(RuntimeError):
    """A queued job failed; its error is in the message."""


def workers_listening(queue: Queue) -> int:
    """Count the RQ workers registered on the queue now, leaving out those that died without signing off."""
    clean_worker_registry(queue)
    return Worker.count(connection=queue.connection, queue=queue)


def no_worker_notice(queue: Queue) -> Message:
    """Say plainly that nothing will happen until a worker listens on the queue, and how to start one."""
    return Message(
        "no render worker is listening on the queue '%(queue)s': nothing is rendered until one starts "
        "(`rq worker %(queue)s`, with the same REDIS_URL, DATABASE_URL and SECRET_KEY)",
        queue=queue.name,
    )


def wait_for_jobs(
    queue: Queue,
    job_ids: Sequence[str],
    *,
    progress: Callable[[int], None] | None = None,
    files_done: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
    poll_seconds: float = 0.5,
    worker_check_seconds: float = 5.0,
    timeout_seconds: float = 3600,
) -> None:
    """Block until every job has finished, reporting each finished job's result to ``progress``.

    ``files_done`` hears (jobs finished, jobs in all) as they finish; ``notice`` hears, at once and
    again whenever it changes, that no worker is listening on the queue or that one is now. The
    timeout counts only the time a worker was listening: a render nobody started never timed out.
    """
    waiting = set(job_ids)
    total = len(waiting)
    listening_seconds = 0.0
    workers: int | None = None
    next_check = time.monotonic()
    while waiting:
        for job in Job.fetch_many(list(waiting), connection=queue.connection):
            if job is None:
                raise JobFailed("a render job disappeared from the queue")
            status = job.get_status()
            if status == JobStatus.FINISHED:
                waiting.discard(job.id)
                if progress:
                    progress(int(job.return_value() or 0))
                if files_done:
                    files_done(total - len(waiting), total)
            elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                raise JobFailed(f"job {job.id} {status.value}: {job.exc_info or ''}".strip())
        if not waiting:
            break
        now = time.monotonic()
        if now >= next_check:
            found = workers_listening(queue)
            if notice and (workers is None or (found == 0) != (workers == 0)):
                if found == 0:
                    notice(str(no_worker_notice(queue)))
                elif workers == 0:
                    notice(f"{found} worker(s) now listening on '{queue.name}'")
            workers = found
            next_check = now + worker_check_seconds
        if workers:
            listening_seconds += poll_seconds
            if listening_seconds > timeout_seconds:
                raise JobFailed(f"{len(waiting)} job(s) still running after {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)


def enqueue_render(
    queue: Queue,
    settings: RenderSettings,
    *,
    batch_id: int,
    actor: str,
    hold_unfit: bool = False,
    allow_test_links: bool = False,
    pieces_per_file: int = DEFAULT_PIECES_PER_FILE,
) -> Job:
    """Queue the render of a batch: its first job plans the files and queues the rest."""
    return queue.enqueue_call(
        prepare_batch_render,
        args=(settings.without_secrets(), batch_id),
        kwargs={
            "actor": actor, "hold_unfit": hold_unfit, "allow_test_links": allow_test_links,
            "pieces_per_file": pieces_per_file,
        },
        timeout=PREPARE_TIMEOUT,
        **_labelled(batch_id, "checking and planning the files"),
        on_failure=Callback(record_job_failure),
    )


def prepare_batch_render(
    settings: RenderSettings,
    batch_id: int,
    *,
    actor: str,
    hold_unfit: bool = False,
    allow_test_links: bool = False,
    pieces_per_file: int = DEFAULT_PIECES_PER_FILE,
) -> int:
    """Check and plan a batch's files (committed), queue a job per file and the manifest job; return the files queued.

    Runs in a worker. Pieces that do not fit their envelope refuse the whole render (nothing is
    planned; the reason is written on the batch) unless ``hold_unfit`` holds them.
    """
    job = get_current_job()
    if job is None:
        raise RuntimeError("prepare_batch_render runs as an RQ job")
    settings = settings.resolved()
    try:
        # File jobs read the plan through their own connections: it is committed before they are queued.
        with job_transaction(settings.database_url) as session:
            pending = prepare_render(
                session, batch_id=batch_id, settings=settings, pieces_per_file=pieces_per_file,
                hold_unfit=hold_unfit, allow_test_links=allow_test_links, actor=actor,
            )
            files = {f.id: f.file_name for f in pending}
    except LayoutRefused as exc:
        # Nothing was planned; why is written on the batch, where its page shows it.
        with job_transaction(settings.database_url) as session:
            record_render_failure(session, batch_id=batch_id, message=_refusal_text(exc))
        logger.info("render of batch %s refused: %s", batch_id, exc)
        return 0
    except TestLinksRefused as exc:
        with job_transaction(settings.database_url) as session:
            record_render_failure(session, batch_id=batch_id, message=exc.args[0])
        logger.warning("render of batch %s refused: update links would point at a test address", batch_id)
        return 0
    # The file jobs and the manifest job go to the queue this job came from.
    queue = Queue(job.origin, connection=job.connection)
    file_jobs = enqueue_file_jobs(queue, settings, batch_id=batch_id, files=files)
    depends_on: JobDependencyType | None = list(file_jobs) or None
    queue.enqueue_call(
        finish_batch_render,
        args=(settings.without_secrets(), batch_id),
        timeout=FINISH_TIMEOUT,
        depends_on=depends_on,
        **_labelled(batch_id, "writing the manifest"),
        on_failure=Callback(record_job_failure),
    )
    logger.info("queued %d file job(s) of batch %s", len(file_jobs), batch_id)
    return len(file_jobs)


def enqueue_file_jobs(
    queue: Queue, settings: RenderSettings, *, batch_id: int, files: Mapping[int, str]
) -> list[Job]:
    """Queue one ``render_file`` job per file (id: name) of a batch; a failure is written on the batch."""
    if not files:
        return []
    return queue.enqueue_many(
        [
            Queue.prepare_data(
                render_file,
                args=(settings.without_secrets(), file_id),
                timeout=FILE_TIMEOUT,
                **_labelled(batch_id, f"rendering {file_name}"),
                on_failure=Callback(record_job_failure),
            )
            for file_id, file_name in files.items()
        ]
    )


def _labelled(batch_id: int, step: str) -> dict[str, Any]:
    # The description is what workers log and queue dashboards show instead of the call with
    # its arguments, which would spell out the database URL (and its password).
    return {"description": f"batch {batch_id}: {step}", "meta": {"batch_id": batch_id, "step": step}}


def finish_batch_render(settings: RenderSettings, batch_id: int) -> str:
    """Write the manifest of a batch whose files are all rendered, and freeze it; return its path."""
    settings = settings.resolved()
    with job_transaction(settings.database_url) as session:
        manifest = finish_render(session, batch_id=batch_id, out_dir=Path(settings.out_dir))
    logger.info("batch %s rendered", batch_id)
    return str(manifest)


def record_job_failure(
    job: Job,
    connection: Redis,
    exc_type: type[BaseException],
    exc_value: BaseException,
    traceback: TracebackType | None,
) -> None:
    """Write on the batch which step of its render failed and why (an RQ failure callback)."""
    batch_id = job.meta["batch_id"]
    settings: RenderSettings = job.args[0].resolved()
    message = f"{job.meta.get('step', job.func_name)} failed: {exc_type.__name__}: {exc_value}"
    with job_transaction(settings.database_url) as session:
        record_render_failure(session, batch_id=batch_id, message=message)
    logger.warning("render of batch %s stopped: job %s failed (%s)", batch_id, job.id, exc_type.__name__)


def _refusal_text(refused: LayoutRefused) -> Message:
    # Piece codes, fields and what is wrong, never the address text itself.
    lines = [Message("%(refusal)s; nothing was rendered.", refusal=refused.args[0])]
    for problem in refused.problems[:PROBLEMS_SHOWN]:
        lines.append(Message("%(where)s: %(problem)s", where=problem.where, problem=problem.summary))
    if len(refused.problems) > PROBLEMS_SHOWN:
        lines.append(Message("… and %(count)s more", count=len(refused.problems) - PROBLEMS_SHOWN))
    return join("\n", lines)
