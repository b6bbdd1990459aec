"""Stored duplicate searches: run once (a command or a queued job), read a page at a time, kept current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import mailer.dedupe.search
import mailer.dedupe.service
from mailer.customers.erasure import erase_customer
from mailer.customers.models import Customer
from mailer.db import db
from mailer.dedupe.blocking import RULES, block_digests
from mailer.dedupe.jobs import enqueue_search
from mailer.dedupe.keys import KeyTable
from mailer.dedupe.model import model_as_data
from mailer.dedupe.models import CandidatePair, CustomerMatchKeys, DedupeRun
from mailer.dedupe.search import compare_rows, find_pairs
from mailer.dedupe.service import dismiss_pair, merge_customers, pair_score
from mailer.dedupe.stored import (
    IncrementalError,
    StoredKeys,
    compare_new_customers,
    compare_with_stored,
    latest_run,
    store_search,
    stored_pairs,
)
from tests.batches.conftest import _migrated_app
from tests.batches.test_jobs import private_render_queue, run_worker
from tests.dedupe.labelled import customer_fields, generate_labelled_set
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
    # A pair both dismissed and with a customer merged since drops out once, not twice.
    merge_customers(session, survivor_no="C003", merged_no="C005", actor=ACTOR)
    page = stored_pairs(session, run=run)
    assert (page.total, page.page.items, page.dismissed) == (0, [], 1)
    again = store_search(session, actor=ACTOR)
    assert session.scalar(select(func.count()).select_from(DedupeRun)) == 1
    assert session.scalars(select(CandidatePair.run_id).distinct()).all() in ([again.id], [])


def _stored(session: Session, run: DedupeRun) -> dict[tuple[str, str], tuple[int, int, float]]:
    """Return the run's open pairs by customer numbers: row id, group and score."""
    rows = session.execute(
        select(CandidatePair.id, CandidatePair.first_id, CandidatePair.second_id, CandidatePair.cluster,
               CandidatePair.score).where(CandidatePair.run_id == run.id)
    ).all()
    numbers = {customer_id: no for customer_id, no in session.execute(select(Customer.id, Customer.customer_no))}
    return {
        tuple(sorted((numbers[first], numbers[second]))): (row_id, cluster, score)  # type: ignore[misc]
        for row_id, first, second, cluster, score in rows
    }


def _no_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was fitted again")

    monkeypatch.setattr(mailer.dedupe.search, "fit", refuse)
    monkeypatch.setattr(mailer.dedupe.service, "fit_matcher", refuse)


def test_a_new_duplicate_is_added_by_an_incremental_run_without_scoring_the_others_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    assert run.model is not None and run.refreshed_at is None
    before = _stored(session, run)
    _no_fitting(monkeypatch)
    add_customer(session, "C006", name="John Smiht")

    refresh = compare_new_customers(session, actor=ACTOR)

    assert refresh.run is run and refresh.customers == 1 and run.refreshed_at is not None
    after = _stored(session, run)
    # The stored pairs are the very rows stored before: nothing else was scored again.
    assert {pair: after[pair] for pair in before} == before
    new = {pair: value for pair, value in after.items() if pair not in before}
    assert set(new) == {("C001", "C006"), ("C002", "C006")}
    assert {cluster for _, cluster, _ in new.values()} == {before["C001", "C002"][1]}
    assert refresh.pairs_found == 2 and refresh.pairs_compared < 5 * 4 // 2
    assert run.customers == 6 and stored_pairs(session, run=run).total == 4
    # Nothing new since: a second refresh compares nobody.
    assert compare_new_customers(session, actor=ACTOR).customers == 0
    assert _stored(session, run) == after


def test_a_changed_customer_is_compared_again_and_loses_pairs_it_no_longer_has(session: Session) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    customer = session.scalar(select(Customer).where(Customer.customer_no == "C005"))
    assert customer is not None
    customer.name = "Peter Brown"
    session.flush()
    refresh = compare_new_customers(session, actor=ACTOR)
    assert refresh.customers == 1 and set(_stored(session, run)) == {("C001", "C002")}


def test_an_incremental_run_needs_a_stored_search(session: Session) -> None:
    add_pairs(session)
    with pytest.raises(IncrementalError, match="run a full search first"):
        compare_new_customers(session, actor=ACTOR)


def test_an_erased_customer_loses_its_stored_pairs(session: Session) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    customer = session.scalar(select(Customer).where(Customer.customer_no == "C002"))
    assert customer is not None
    erase_customer(session, customer=customer, actor=ACTOR)
    assert set(_stored(session, run)) == {("C004", "C005")}
    assert stored_pairs(session, run=run).total == 1
    # Nor does an incremental run bring it back (erased customers are never compared).
    compare_new_customers(session, actor=ACTOR)
    assert set(_stored(session, run)) == {("C004", "C005")}


def test_new_customers_compared_with_their_block_mates_meet_whom_the_whole_file_meets() -> None:
    rows = generate_labelled_set(700, seed=5).rows
    whole = KeyTable.from_customers(customer_fields(rows))
    ids = np.arange(1, len(whole) + 1, dtype=np.int64)
    new = np.random.default_rng(5).choice(len(whole), size=60, replace=False)
    is_new = np.zeros(len(whole), dtype=bool)
    is_new[new] = True
    stored_table, new_table = KeyTable(), KeyTable()
    for i in range(len(whole)):
        (new_table if is_new[i] else stored_table).append(whole.customer_nos[i], whole.keys(i))
    matcher = find_pairs(stored_table).matcher
    model = model_as_data(matcher.model, matcher.columns)
    stored = StoredKeys(table=stored_table, ids=ids[~is_new], blocks=block_digests(stored_table))

    def found(table: KeyTable, pairs: mailer.dedupe.search.ScoredPairs) -> set[tuple[str, str, float]]:
        numbers = table.customer_nos
        return {
            (*sorted((numbers[a], numbers[b])), round(float(p), 9))  # type: ignore[misc]
            for a, b, p in zip(pairs.a.tolist(), pairs.b.tolist(), pairs.probability.tolist(), strict=True)
        }

    # A small window, so large key groups are compared as sliding windows too.
    for window in (3, 24):
        _, everyone, compared = compare_rows(whole, sorted(new.tolist()), model=model, threshold=0.5, window=window)
        mates = compare_with_stored(stored, new_table, ids[is_new], model=model, threshold=0.5, window=window)
        assert found(mates.table, mates.found) == found(whole, everyone) and len(everyone) > 20
        assert mates.pairs_compared == compared
        assert mates.block_mates < len(stored_table)


def test_a_stored_search_keeps_the_match_keys_and_a_refresh_renews_the_changed_ones(session: Session) -> None:
    add_pairs(session)
    store_search(session, actor=ACTOR)
    keys = {no: row for no, row in session.execute(
        select(Customer.customer_no, CustomerMatchKeys).join(CustomerMatchKeys)
    )}
    assert set(keys) == {"C001", "C002", "C003", "C004", "C005"}
    assert keys["C003"].name == "lei wang" and len(keys["C003"].blocks) == 8 * len(RULES)
    customer = session.scalar(select(Customer).where(Customer.customer_no == "C005"))
    assert customer is not None
    customer.name = "Peter Brown"
    session.flush()
    compare_new_customers(session, actor=ACTOR)
    renewed = session.get(CustomerMatchKeys, customer.id, populate_existing=True)
    assert renewed is not None and renewed.name == "brown peter"
    merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    assert session.scalar(select(func.count()).select_from(CustomerMatchKeys)) == 4


def test_an_incremental_run_needs_the_match_keys_of_a_stored_search(session: Session) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    # A run stored before the keys were, or with other blocking rules.
    run.blocking_rules = None
    with pytest.raises(IncrementalError, match="run a full search first"):
        compare_new_customers(session, actor=ACTOR)


def test_pairs_found_since_come_after_their_groups_own_and_new_groups_last(session: Session) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    stored_order = [(p.customer_no_a, p.customer_no_b) for p in stored_pairs(session, run=run).page.items]
    add_customer(session, "C006", name="John Smiht")
    add_customer(session, "C007", name="Ann Lee", line1="3 Elm St")
    add_customer(session, "C008", name="Anne Lee", line1="3 Elm Street")
    compare_new_customers(session, actor=ACTOR)

    shown = []
    page = stored_pairs(session, run=run, size=2)
    while True:
        shown += page.page.items
        if page.page.next_after is None:
            break
        page = stored_pairs(session, run=run, after=page.page.next_after, size=2)
    order = [(p.customer_no_a, p.customer_no_b) for p in shown]
    # John Smith's group first, as the search ranked it, with the pairs C006 brought since after
    # its own; then Mary Jones's group; then the group found since.
    assert stored_order == [("C001", "C002"), ("C004", "C005")]
    assert order[0] == ("C001", "C002") and set(order[1:3]) == {("C001", "C006"), ("C002", "C006")}
    assert order[3:] == [("C004", "C005"), ("C007", "C008")]
    assert [p.cluster for p in shown] == [1, 1, 1, 2, 3]
    assert page.total == len(order) == run.pairs_found == 5
    assert run.pairs_found == session.scalar(select(func.count()).select_from(CandidatePair))


def test_a_pair_is_scored_with_the_stored_model_without_fitting_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_pairs(session)
    run = store_search(session, actor=ACTOR)
    stored = next(pair for pair in stored_pairs(session, run=run).page.items if pair.customer_no_a == "C001")
    _no_fitting(monkeypatch)
    scored = pair_score(session, first_no="C002", second_no="C001")
    assert scored is not None and (scored.customer_no_a, scored.customer_no_b) == ("C001", "C002")
    assert scored.match_probability == pytest.approx(stored.match_probability, abs=1e-6)
    assert pair_score(session, first_no="C001", second_no="C999") is None


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


def test_a_queued_search_compares_only_new_customers_when_a_search_is_stored(
    committed_app: Flask, queue: Queue
) -> None:
    with committed_app.app_context():
        add_pairs(db.session)
        run = store_search(db.session, actor=ACTOR)
        add_customer(db.session, "C006", name="John Smiht")
        db.session.commit()
        run_id = run.id
        url = committed_app.config["DATABASE_URL"]
        incremental = enqueue_search(queue, actor=ACTOR, database_url=url)
    run_worker(queue)
    assert incremental.get_status(refresh=True) == "finished" and incremental.return_value() == run_id
    with committed_app.app_context():
        run = latest_run(db.session)
        assert run is not None and run.id == run_id and run.refreshed_at is not None
        assert stored_pairs(db.session, run=run).total == 4
        full = enqueue_search(queue, actor=ACTOR, database_url=url, full=True)
    run_worker(queue)
    with committed_app.app_context():
        latest = latest_run(db.session)
        assert latest is not None and latest.id == full.return_value() != run_id and latest.refreshed_at is None


def test_a_queued_search_searches_everyone_when_the_stored_one_kept_no_match_keys(
    committed_app: Flask, queue: Queue
) -> None:
    with committed_app.app_context():
        add_pairs(db.session)
        run = store_search(db.session, actor=ACTOR)
        # As a run stored before match keys were.
        run.blocking_rules = None
        db.session.commit()
        run_id = run.id
        job = enqueue_search(queue, actor=ACTOR, database_url=committed_app.config["DATABASE_URL"])
    run_worker(queue)
    assert job.get_status(refresh=True) == "finished" and job.return_value() != run_id
    with committed_app.app_context():
        latest = latest_run(db.session)
        assert latest is not None and latest.blocking_rules is not None and latest.refreshed_at is None
