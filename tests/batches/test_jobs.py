"""A batch's render as a chain of RQ jobs: plan, one job per file, then the manifest once all are done."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from flask import Flask
from pypdf import PdfReader
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.results import Result
from sqlalchemy import select

from mailer.audit.models import AuditEntry
from mailer.batches.jobs import enqueue_file_jobs, enqueue_render, render_settings
from mailer.batches.models import Batch, BatchStatus, MailPiece, PieceStatus
from mailer.batches.selection import BatchFilters, create_batch
from mailer.batches.service import render_progress
from mailer.db import db
from tests.batches.test_rendering import make_batch, manifest_rows
from tests.factories import CN_ROW, US_ROW, add_customer

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# CI sets this: a missing service fails the run instead of skipping the tests that need it.
SERVICES_REQUIRED = os.environ.get("MAILER_REQUIRE_POSTGRES") == "1"
LONG_LINE = "东方明珠花园" * 30 + "1号"


@contextmanager
def private_render_queue() -> Iterator[Queue]:
    """Yield a render queue of this test's own on the test Redis (skipped when Redis is not there).

    Its own name keeps test runs side by side, and the other render tests, out of each other's jobs.
    """
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        redis.ping()
    except RedisError as exc:
        redis.close()
        if SERVICES_REQUIRED:
            raise
        pytest.skip(f"Redis is not reachable at {TEST_REDIS_URL}: {exc}")
    queue = Queue(f"render-test-{uuid4().hex[:12]}", connection=redis)
    try:
        yield queue
    finally:
        _forget(queue)
        redis.close()


def _forget(queue: Queue) -> None:
    # Every job the test left behind, finished or failed, and the queue's registries.
    registries = (
        queue.finished_job_registry, queue.failed_job_registry, queue.deferred_job_registry,
        queue.started_job_registry, queue.canceled_job_registry, queue.scheduled_job_registry,
    )
    for job in Job.fetch_many([i for r in registries for i in r.get_job_ids()], connection=queue.connection):
        if job is not None:
            Result.delete_all(job)
            job.delete()
    queue.connection.delete(*(registry.key for registry in registries))
    queue.delete(delete_jobs=True)


def run_worker(queue: Queue) -> None:
    """Run the queue's jobs in this process until none is left, as `rq worker --burst` would."""
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


@pytest.fixture
def queue() -> Iterator[Queue]:
    with private_render_queue() as queue:
        yield queue


def _batch(app: Flask, batch_id: int) -> Batch:
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        assert batch is not None
        db.session.expunge(batch)
        return batch


@pytest.mark.parametrize("backend", ["committed_app", "committed_postgres_app"])
def test_a_queued_render_plans_renders_each_file_and_writes_the_manifest(
    backend: str, request: pytest.FixtureRequest, queue: Queue, tmp_path: Path
) -> None:
    app: Flask = request.getfixturevalue(backend)
    batch_id = make_batch(app, 5, base=US_ROW, profile="us-10")
    out = tmp_path / "out"
    with app.app_context():
        job = enqueue_render(queue, render_settings(out), batch_id=batch_id, actor="marketing@example.com",
                             pieces_per_file=2)

    run_worker(queue)

    assert job.get_status(refresh=True) == "finished" and job.return_value() == 3
    assert sorted(p.name for p in out.glob("*.pdf")) == [f"batch-{batch_id}-{n:04d}.pdf" for n in (1, 2, 3)]
    assert [len(PdfReader(path).pages) for path in sorted(out.glob("*.pdf"))] == [4, 4, 2]
    assert len(manifest_rows(out)) == 5
    batch = _batch(app, batch_id)
    assert batch.status is BatchStatus.RENDERED and batch.rendered_at is not None and batch.render_error is None
    with app.app_context():
        progress = render_progress(db.session, batch_id=batch_id)
        assert progress is not None and progress.done
        assert (progress.files_done, progress.files_total, progress.pieces_done, progress.pieces_total) == (3, 3, 5, 5)
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.render")).all()
        assert entry.actor == "marketing@example.com" and entry.object_id == str(batch_id)


def make_unfit_batch(app: Flask) -> int:
    with app.app_context():
        session = db.session
        add_customer(session, "C001", base=CN_ROW, line1="中山路1号")
        add_customer(session, "C002", base=CN_ROW, line1=LONG_LINE, postal_code="310099")
        batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
        session.commit()
        return batch.id


def test_pieces_that_do_not_fit_refuse_the_render_and_the_batch_says_why(
    committed_app: Flask, queue: Queue, tmp_path: Path
) -> None:
    batch_id = make_unfit_batch(committed_app)
    out = tmp_path / "out"
    with committed_app.app_context():
        job = enqueue_render(queue, render_settings(out), batch_id=batch_id, actor="t")

    run_worker(queue)

    assert job.get_status(refresh=True) == "finished" and job.return_value() == 0
    batch = _batch(committed_app, batch_id)
    assert batch.status is BatchStatus.SELECTED
    assert batch.render_error is not None
    first, *problems = batch.render_error.splitlines()
    assert first == "1 piece(s) do not fit their envelope; nothing was rendered."
    assert problems and all(line.startswith("piece ") and "mm wide" in line for line in problems)
    assert "东方明珠" not in batch.render_error  # piece codes and what is wrong, not the address
    assert not list(out.glob("*.pdf")) and not (out / "manifest.csv").exists()


def test_a_queued_render_with_test_links_is_refused_and_the_batch_says_which_setting(
    committed_app: Flask, queue: Queue, tmp_path: Path
) -> None:
    batch_id = make_batch(committed_app, 1)
    out = tmp_path / "out"
    committed_app.config["PUBLIC_BASE_URL"] = "http://localhost:5000"
    with committed_app.app_context():
        job = enqueue_render(queue, render_settings(out), batch_id=batch_id, actor="t")

    run_worker(queue)

    assert job.get_status(refresh=True) == "finished" and job.return_value() == 0
    batch = _batch(committed_app, batch_id)
    assert batch.status is BatchStatus.SELECTED
    assert (batch.render_error or "").startswith("PUBLIC_BASE_URL is http://localhost:5000: the update links")
    assert not list(out.glob("*.pdf"))


def test_holding_the_pieces_that_do_not_fit_renders_the_rest(
    committed_app: Flask, queue: Queue, tmp_path: Path
) -> None:
    batch_id = make_unfit_batch(committed_app)
    out = tmp_path / "out"
    with committed_app.app_context():
        enqueue_render(queue, render_settings(out), batch_id=batch_id, actor="t", hold_unfit=True)

    run_worker(queue)

    assert _batch(committed_app, batch_id).status is BatchStatus.RENDERED
    assert [row["customer_no"] for row in manifest_rows(out)] == ["C001"]
    assert (out / "held.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[1] == '"C002"'
    with committed_app.app_context():
        held = db.session.scalars(select(MailPiece).where(MailPiece.status == PieceStatus.HELD)).all()
        assert len(held) == 1 and "mm wide" in (held[0].hold_reason or "")


def test_a_failed_file_job_is_written_on_the_batch_and_the_manifest_waits(
    committed_app: Flask, queue: Queue, tmp_path: Path
) -> None:
    batch_id = make_batch(committed_app, 3)
    out = tmp_path / "out"
    with committed_app.app_context():
        settings = render_settings(out)
    with committed_app.app_context(), db.session.begin():
        db.session.get_one(Batch, batch_id).status = BatchStatus.RENDERING
    (failing,) = enqueue_file_jobs(queue, settings, batch_id=batch_id, files={999: "batch-x-0001.pdf"})

    run_worker(queue)

    assert failing.get_status(refresh=True) == "failed"
    batch = _batch(committed_app, batch_id)
    assert batch.render_error is not None
    assert batch.render_error.startswith("rendering batch-x-0001.pdf failed: RenderError: no batch file 999")
    # Nothing was planned: the batch may be rendered again.
    assert batch.status is BatchStatus.SELECTED
