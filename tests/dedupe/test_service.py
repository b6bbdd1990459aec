"""Finding duplicates in the database, merging them, undoing merges, the auto-merge line, and pairs
marked as not duplicates."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressValidity
from mailer.audit.models import AuditEntry
from mailer.batches.models import Batch, Campaign, MailPiece
from mailer.customers.importing import import_customers
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import utcnow
from mailer.dedupe.models import CustomerMerge, DismissedPair
from mailer.dedupe.service import (
    MOVED_WITH_CUSTOMER,
    MergeError,
    auto_merge,
    dismiss_pair,
    find_duplicates,
    list_dismissed,
    list_merges,
    merge_customers,
    pair_score,
    restore_pair,
    undo_merge,
)
from mailer.orders.models import Order
from returns.models import MailReturn, ReturnSource
from tests.factories import CN_ROW, customer_row, write_csv

ACTOR = "test:marketing"


def add_customers(session: Session, tmp_path: Path, rows: list[dict[str, str]], name: str = "c.csv") -> None:
    import_customers(session, path=write_csv(tmp_path / name, rows), actor="test:import")


def customer(session: Session, customer_no: str) -> Customer:
    found = session.scalar(select(Customer).where(Customer.customer_no == customer_no))
    assert found is not None
    return found


def add_orders(session: Session, customer_no: str, count: int) -> None:
    owner = customer(session, customer_no)
    for day in range(count):
        session.add(Order(customer_id=owner.id, ordered_on=date(2026, 1, 1) + timedelta(days=day),
                          amount_cents=1000 + day))
    session.flush()


def add_returned_piece(session: Session, customer_no: str) -> None:
    owner = customer(session, customer_no)
    address = session.scalar(select(Address).where(Address.customer_id == owner.id, Address.is_current))
    assert address is not None
    campaign = Campaign(name=f"Spring {customer_no}", created_by=ACTOR)
    session.add(campaign)
    session.flush()
    batch = Batch(campaign_id=campaign.id, profile="cn-dl", update_expires_on=date(2027, 1, 1), created_by=ACTOR)
    session.add(batch)
    session.flush()
    piece = MailPiece(
        batch_id=batch.id, customer_id=owner.id, address_id=address.id, piece_code=f"P{owner.id:07d}",
        sequence=1, bundle="310", lines=["line"], postal_code=address.postal_code, country=address.country,
    )
    session.add(piece)
    session.flush()
    session.add(MailReturn(
        piece_id=piece.id, batch_id=batch.id, customer_id=owner.id, address_id=address.id, reason="ANK", given_as="ANK",
        source=ReturnSource.SCAN, returned_at=utcnow(), actor=ACTOR,
    ))
    session.flush()


@pytest.fixture
def duplicates(session: Session, tmp_path: Path) -> None:
    """C001 and C002 are one person; C002 moved once and has returned mail; C003 is someone else."""
    add_customers(session, tmp_path, [
        customer_row(customer_no="C001", name="John Smith", line1="12 Oak St", line2="Apt 4"),
        customer_row(customer_no="C002", name="Jon Smith", line1="40 Elm St", line2=""),
        customer_row(CN_ROW, customer_no="C003"),
    ])
    # C002 moves to C001's flat: its old address becomes history.
    add_customers(session, tmp_path, [
        customer_row(customer_no="C002", name="Jon Smith", line1="12 Oak Street", line2="#4"),
    ], name="moves.csv")
    add_orders(session, "C001", 2)
    add_orders(session, "C002", 3)
    add_orders(session, "C003", 1)
    add_returned_piece(session, "C002")


def snapshot(session: Session) -> dict[str, Any]:
    """Who owns every row that a merge may move, and the state a merge may change."""
    state: dict[str, Any] = {
        model.__tablename__: {row_id: owner for row_id, owner in session.execute(select(model.id, column))}  # type: ignore[attr-defined]
        for model, column in MOVED_WITH_CUSTOMER
    }
    state["address_state"] = {
        a.id: (a.is_current, a.validity) for a in session.scalars(select(Address))
    }
    state["customers"] = {
        c.customer_no: (c.status, c.merged_into_id) for c in session.scalars(select(Customer))
    }
    return state


def test_find_duplicates_reports_the_pair(session: Session, duplicates: None) -> None:
    search = find_duplicates(session)
    assert [(p.customer_no_a, p.customer_no_b) for p in search.pairs] == [("C001", "C002")]
    pair = search.pairs[0]
    assert pair.match_probability >= 0.9 and pair.score == round(100 * pair.match_probability, 1)
    assert pair.name_score > 0 and pair.address_score > 0 and pair.cluster == 1
    assert pair.waterfall[-1] == {"step": "match_probability", "probability": pair.match_probability}
    assert search.stats.customers == 3
    assert search.without_address == 0


def test_merge_moves_every_row_and_keeps_one_current_address(session: Session, duplicates: None) -> None:
    before = snapshot(session)
    survivor, merged = customer(session, "C001"), customer(session, "C002")
    survivor_address = session.scalar(
        select(Address.id).where(Address.customer_id == survivor.id, Address.is_current)
    )
    merged_rows = {
        table: sorted(row for row, owner in rows.items() if owner == merged.id)
        for table, rows in before.items() if table in {m.__tablename__ for m, _ in MOVED_WITH_CUSTOMER}
    }
    assert len(merged_rows["orders"]) == 3
    assert len(merged_rows["addresses"]) == 2
    assert len(merged_rows["mail_returns"]) == 1

    merge = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR, score=97.3)
    after = snapshot(session)

    # Every row of the merged customer now belongs to the survivor; nothing was lost or added,
    # but for one history row recording that the merged customer's address was retired.
    for table, rows in merged_rows.items():
        assert all(after[table][row] == survivor.id for row in rows), table
        assert set(before[table]) <= set(after[table])
    assert len(after["address_events"]) == len(before["address_events"]) + 1
    assert {k: v for k, v in after["orders"].items()} == {
        k: (survivor.id if v == merged.id else v) for k, v in before["orders"].items()
    }
    assert merge.moved["address_events"] == sorted(merged_rows["address_events"] + [max(after["address_events"])])
    assert merge.moved["orders"] == merged_rows["orders"]

    current = session.scalars(
        select(Address.id).where(Address.customer_id == survivor.id, Address.is_current)
    ).all()
    assert current == [survivor_address]
    assert session.scalar(select(func.count()).select_from(Address).where(Address.customer_id == merged.id)) == 0
    assert (merged.status, merged.merged_into_id) == (CustomerStatus.MERGED, survivor.id)
    assert survivor.status == CustomerStatus.ACTIVE
    assert merge.retired_address_validity == AddressValidity.UNVERIFIED
    assert merge.score == 97.3 and not merge.automatic

    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.merge"))
    assert entry is not None
    assert (entry.actor, entry.object_id) == (ACTOR, "C002")
    assert entry.detail["survivor"] == "C001" and entry.detail["automatic"] is False
    assert entry.detail["moved"]["orders"] == 3

    # A merged customer is not offered as a duplicate again.
    assert find_duplicates(session).pairs == []


def test_undo_restores_exactly(session: Session, duplicates: None) -> None:
    before = snapshot(session)
    events_before = set(before["address_events"])
    merge = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    undone = undo_merge(session, merge_id=merge.id, actor="test:other")
    after = snapshot(session)

    merged_id = customer(session, "C002").id
    new_events = set(after["address_events"]) - events_before
    assert len(new_events) == 2  # retired at the merge, restored at the undo
    assert all(after["address_events"][event] == merged_id for event in new_events)
    after["address_events"] = {k: v for k, v in after["address_events"].items() if k in events_before}
    assert after == before
    assert undone.undone_at is not None and undone.undone_by == "test:other"
    assert session.scalar(select(AuditEntry.object_id).where(AuditEntry.action == "customer.merge_undo")) == "C002"
    assert [(p.customer_no_a, p.customer_no_b) for p in find_duplicates(session).pairs] == [("C001", "C002")]


def test_a_merge_is_undone_once(session: Session, duplicates: None) -> None:
    merge = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    undo_merge(session, merge_id=merge.id, actor=ACTOR)
    with pytest.raises(MergeError, match="already undone"):
        undo_merge(session, merge_id=merge.id, actor=ACTOR)
    with pytest.raises(MergeError, match="no merge"):
        undo_merge(session, merge_id=merge.id + 100, actor=ACTOR)


@pytest.mark.parametrize(
    ("survivor_no", "merged_no", "message"),
    [("C001", "C001", "into itself"), ("C001", "C999", "no customer C999")],
)
def test_impossible_merges_are_refused(
    session: Session, duplicates: None, survivor_no: str, merged_no: str, message: str
) -> None:
    with pytest.raises(MergeError, match=message):
        merge_customers(session, survivor_no=survivor_no, merged_no=merged_no, actor=ACTOR)


def test_merged_customers_take_part_in_no_other_merge_and_undo_goes_in_order(
    session: Session, duplicates: None
) -> None:
    first = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    for survivor_no, merged_no in (("C003", "C002"), ("C002", "C003")):
        with pytest.raises(MergeError, match="C002 is already merged"):
            merge_customers(session, survivor_no=survivor_no, merged_no=merged_no, actor=ACTOR)
    second = merge_customers(session, survivor_no="C003", merged_no="C001", actor=ACTOR)
    with pytest.raises(MergeError, match=f"merged later \\(merge {second.id}\\)"):
        undo_merge(session, merge_id=first.id, actor=ACTOR)
    undo_merge(session, merge_id=second.id, actor=ACTOR)
    undo_merge(session, merge_id=first.id, actor=ACTOR)
    assert all(c.status == CustomerStatus.ACTIVE for c in session.scalars(select(Customer)))


def test_a_do_not_mail_request_survives_the_merge_and_its_undo(session: Session, duplicates: None) -> None:
    customer(session, "C002").status = CustomerStatus.DO_NOT_MAIL
    merge = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    assert customer(session, "C001").status == CustomerStatus.DO_NOT_MAIL
    undo_merge(session, merge_id=merge.id, actor=ACTOR)
    assert customer(session, "C001").status == CustomerStatus.ACTIVE
    assert customer(session, "C002").status == CustomerStatus.DO_NOT_MAIL


def test_pair_score_and_list_of_merges(session: Session, duplicates: None) -> None:
    scored = pair_score(session, first_no="C001", second_no="C002")
    assert scored is not None and scored.score == 100
    assert pair_score(session, first_no="C001", second_no="C999") is None
    merge = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR, score=scored.score)
    assert [(m.id, s, d) for m, s, d in list_merges(session)] == [(merge.id, "C001", "C002")]


@pytest.fixture
def near_duplicates(session: Session, tmp_path: Path, duplicates: None) -> None:
    """C004 and C005 are likely one person (a typo and a missing unit) but score below 95."""
    add_customers(session, tmp_path, [
        customer_row(customer_no="C004", name="Mary Jones", line1="7 Pine Ave", line2="Apt 9"),
        customer_row(customer_no="C005", name="Mary Jnoes", line1="7 Pine Ave", line2=""),
    ], name="more.csv")


def test_auto_merge_merges_only_at_or_above_its_line(session: Session, near_duplicates: None) -> None:
    scores = {(p.customer_no_a, p.customer_no_b): p.score for p in find_duplicates(session).pairs}
    above = sorted(pair for pair, score in scores.items() if score >= 99.9)
    assert ("C001", "C002") in above

    done = auto_merge(session, min_score=99.9, actor=ACTOR)
    assert sorted((pair.customer_no_a, pair.customer_no_b) for pair, _ in done) == above
    merge = next(m for pair, m in done if (pair.customer_no_a, pair.customer_no_b) == ("C001", "C002"))
    assert merge is not None and merge.automatic and merge.score is not None and merge.score >= 99.9
    # The older customer survives.
    assert (merge.survivor_id, merge.merged_id) == (customer(session, "C001").id, customer(session, "C002").id)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.merge")).all()
    assert [e.detail["automatic"] for e in entries] == [True] * len(above)
    # C003 is someone else and scores below every line.
    assert customer(session, "C003").status == CustomerStatus.ACTIVE


def test_auto_merge_refuses_a_line_below_its_floor_and_dry_run_merges_nothing(
    session: Session, near_duplicates: None
) -> None:
    with pytest.raises(MergeError, match="between 95 and 100"):
        auto_merge(session, min_score=90, actor=ACTOR)
    done = auto_merge(session, min_score=95, actor=ACTOR, dry_run=True)
    assert done and [merge for _, merge in done] == [None] * len(done)
    assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 0


def test_auto_merge_folds_a_cluster_into_its_oldest_member(session: Session, tmp_path: Path) -> None:
    add_customers(session, tmp_path, [
        customer_row(customer_no=f"C00{i}", name="John Smith", line1="12 Oak St", line2="Apt 4")
        for i in (1, 2, 3)
    ])
    done = auto_merge(session, min_score=99, actor=ACTOR)
    assert len(done) == 2
    oldest = customer(session, "C001")
    assert {customer(session, no).merged_into_id for no in ("C002", "C003")} == {oldest.id}
    assert session.scalar(select(func.count()).select_from(AddressEvent).where(
        AddressEvent.customer_id == oldest.id)) == 5  # 3 created, 2 retired by the merges


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_dismissed_pair_is_one_row_whichever_way_round(session: Session, duplicates: None) -> None:
    dismissed, created = dismiss_pair(session, first_no="C002", second_no="C001", actor=ACTOR, note="twins")
    assert created
    assert (dismissed.first_id, dismissed.second_id) == (customer(session, "C001").id, customer(session, "C002").id)
    assert dismissed.actor == ACTOR and dismissed.note == "twins" and dismissed.dismissed_at is not None

    # Again, either way round: nothing changes, not even the note, and nothing more is audited.
    for first_no, second_no in (("C001", "C002"), ("C002", "C001")):
        again, created = dismiss_pair(session, first_no=first_no, second_no=second_no, actor="someone", note="x")
        assert again.id == dismissed.id and not created
    assert session.scalar(select(func.count()).select_from(DismissedPair)) == 1
    assert dismissed.note == "twins" and dismissed.actor == ACTOR
    (entry,) = _audit(session, "customer.pair_dismiss")
    assert (entry.actor, entry.object_id) == (ACTOR, "C002")
    assert entry.detail == {"dismissed_id": dismissed.id, "other": "C001", "note": "twins"}


def test_a_dismissed_pair_is_left_out_of_the_search_and_counted(session: Session, near_duplicates: None) -> None:
    before = find_duplicates(session)
    assert sorted((p.customer_no_a, p.customer_no_b) for p in before.pairs) == [("C001", "C002"), ("C004", "C005")]
    assert before.dismissed == 0

    dismiss_pair(session, first_no="C002", second_no="C001", actor=ACTOR)
    after = find_duplicates(session)
    assert [(p.customer_no_a, p.customer_no_b) for p in after.pairs] == [("C004", "C005")]
    assert after.dismissed == 1
    assert after.stats.pairs_found == before.stats.pairs_found
    # Left out of the pairs the auto-merge line works through too.
    merged = auto_merge(session, min_score=95, actor=ACTOR)
    assert [(pair.customer_no_a, pair.customer_no_b) for pair, _ in merged] == [("C004", "C005")]
    assert customer(session, "C002").status == CustomerStatus.ACTIVE


def test_restoring_a_pair_offers_it_again_and_is_audited(session: Session, duplicates: None) -> None:
    dismissed, _ = dismiss_pair(session, first_no="C001", second_no="C002", actor=ACTOR, note="father and son")
    dismissed_id = dismissed.id
    restore_pair(session, first_no="C002", second_no="C001", actor="test:other")

    assert session.scalar(select(func.count()).select_from(DismissedPair)) == 0
    assert [(p.customer_no_a, p.customer_no_b) for p in find_duplicates(session).pairs] == [("C001", "C002")]
    (entry,) = _audit(session, "customer.pair_restore")
    assert (entry.actor, entry.object_id) == ("test:other", "C002")
    assert entry.detail["dismissed_id"] == dismissed_id and entry.detail["dismissed_by"] == ACTOR
    assert entry.detail["note"] == "father and son"
    with pytest.raises(MergeError, match="C002 and C001 are not marked as different people"):
        restore_pair(session, first_no="C002", second_no="C001", actor=ACTOR)
    # A pair can be dismissed again after a restore.
    assert dismiss_pair(session, first_no="C001", second_no="C002", actor=ACTOR)[1]


@pytest.mark.parametrize(
    ("first_no", "second_no", "message"),
    [("C001", "C001", "C001 cannot be paired with itself"), ("C001", "C999", "no customer C999"),
     ("C998", "C001", "no customer C998")],
)
def test_impossible_dismissals_and_restores_are_refused(
    session: Session, duplicates: None, first_no: str, second_no: str, message: str
) -> None:
    for service in (dismiss_pair, restore_pair):
        with pytest.raises(MergeError, match=message) as refused:
            service(session, first_no=first_no, second_no=second_no, actor=ACTOR)
        assert refused.value.args[0].template  # a Message, said in the reader's language on the web
    assert session.scalar(select(func.count()).select_from(DismissedPair)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.in_(["customer.pair_dismiss", "customer.pair_restore"]))) == 0


def test_dismissed_pairs_are_listed_newest_first(session: Session, near_duplicates: None) -> None:
    dismiss_pair(session, first_no="C002", second_no="C001", actor=ACTOR)
    dismiss_pair(session, first_no="C004", second_no="C005", actor=ACTOR, note="  ")
    listed = list_dismissed(session)
    assert [(a, b, d.note) for d, a, b in listed] == [("C004", "C005", None), ("C001", "C002", None)]
    assert [(a, b) for _, a, b in list_dismissed(session, limit=1)] == [("C004", "C005")]


def test_auto_merge_never_joins_a_dismissed_pair_through_a_third_customer(
    session: Session, tmp_path: Path
) -> None:
    add_customers(session, tmp_path, [
        customer_row(customer_no=f"C00{i}", name="John Smith", line1="12 Oak St", line2="Apt 4")
        for i in (1, 2, 3)
    ])
    dismiss_pair(session, first_no="C001", second_no="C002", actor=ACTOR, note="twins")
    done = auto_merge(session, min_score=99, actor=ACTOR)
    # C003 folds into one of the twins; the other twin stays apart.
    assert len(done) == 1
    statuses = {no: customer(session, no).status for no in ("C001", "C002", "C003")}
    assert statuses["C003"] == CustomerStatus.MERGED
    assert statuses["C001"] == statuses["C002"] == CustomerStatus.ACTIVE


def test_a_pair_marked_different_people_is_not_merged_until_the_mark_is_taken_back(
    session: Session, duplicates: None
) -> None:
    dismiss_pair(session, first_no="C001", second_no="C002", actor=ACTOR, note="twins")
    for survivor_no, merged_no in (("C001", "C002"), ("C002", "C001")):
        with pytest.raises(MergeError, match=f"marked as different people \\(by {ACTOR}\\)"):
            merge_customers(session, survivor_no=survivor_no, merged_no=merged_no, actor=ACTOR)
    assert customer(session, "C002").status == CustomerStatus.ACTIVE
    assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 0

    restore_pair(session, first_no="C001", second_no="C002", actor=ACTOR)
    merge = merge_customers(session, survivor_no="C001", merged_no="C002", actor=ACTOR)
    assert merge.id is not None and customer(session, "C002").status == CustomerStatus.MERGED
