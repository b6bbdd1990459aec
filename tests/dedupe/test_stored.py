"""Stored duplicate searches: run once (a command or a queued job), read a page at a time, kept current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.db import db
from mailer.dedupe.jobs import enqueue_search
from mailer.dedupe.models import CandidatePair, DedupeRun
from mailer.dedupe.service import dismiss_pair, merge_customers
from mailer.dedupe.stored import latest_run, store_search, stored_pairs
from tests.batches.conftest import _migrated_app
from tests.batches.test_jobs import private_render_queue, run_worker
from tests.factories import CN_ROW, add_customer

ACTOR = "test:dedupe"


def add_pairs(session: Session) -> None:
    """Two people typed twice each, and someone else."""
    add_customer(session, "C001", name="John Smith")
    add_customer(session, "C002", name="Jon Smith")
    add_customer(session, "C003", base=CN_ROW)
    add_customer(session, "C004", name="Mary Jones", line1="7 Pine Ave")
    add_customer(session, "C005", name="Mary Jnoes", line1="7 Pine Avenue")


def test_a_stored_search_is_read_a_page_at_a_time(session: Session) -> None:
    add_pairs(session)
    assert latest_run(session) is None
    run = store_search(session, actor=ACTOR)
    assert latest_run(session) is run and run.finished_at is not None
    assert (run.customers, run.pairs_found) == (5, 2)
    first = stored_pairs(session, run=run, size=1)
    assert first.total == 2 and len(first.page.items) == 1 and first.page.next_after is not None
    second = stored_pairs(session, run=run, after=first.page.next_after, size=1)
    pairs = {(p.customer_no_a, p.customer_no_b) for p in first.page.items + second.page.items}
    assert pairs == {("C001", "C002"), ("C004", "C005")}
    assert first.page.items[0].cluster == 1 and first.page.items[0].waterfall[0]["step"] == "prior"


def test_pairs_merged_or_dismissed_since_are_left_out_and_a_new_run_replaces_the_old(session: Session) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    dismiss_pair(session, first_no="C004", second_no="C005", actor=ACTOR)
    assert stored_pairs(session, run=run).total == 0
    again = store_search(session, actor=ACTOR)
    assert session.scalar(select(func.count()).select_from(DedupeRun)) == 1
    assert session.scalars(select(CandidatePair.run_id).distinct()).all() in ([again.id], [])


@pytest.fixture
def committed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on its own migrated SQLite file, which a worker reaches through its own connection."""
    app = _migrated_app(f"sqlite:///{tmp_path / 'dedupe.sqlite3'}", monkeypatch)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def queue() -> Iterator[Queue]:
    with private_render_queue() as queue:
        yield queue


def test_a_queued_search_is_stored(committed_app: Flask, queue: Queue) -> None:
    with committed_app.app_context():
        add_pairs(db.session)
        db.session.commit()
        job = enqueue_search(queue, actor=ACTOR, database_url=committed_app.config["DATABASE_URL"])
    run_worker(queue)
    assert job.get_status(refresh=True) == "finished"
    with committed_app.app_context():
        run = latest_run(db.session)
        assert run is not None and run.id == job.return_value() and run.actor == ACTOR
        assert stored_pairs(db.session, run=run).total == 2
