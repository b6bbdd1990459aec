"""Applying returns: read once, decide in memory in order, write in bulk.

A chunk of returns of distinct pieces is read with a few ``IN`` queries (the pieces, their
customers — locked, so two stations never interleave on one customer — the addresses and the
pieces' earlier returns), each return's effects are decided in memory in order (``returns.decide``,
no database there), and everything is written with a few multi-row statements inside one savepoint,
the addresses and their history through the address lifecycle's bulk form. A unique-index clash
(another station got there between our read and our write) rolls the savepoint back and the chunk
is read again. ``returns.service`` is the way in; the rules are told there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Final

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailer.addresses import lifecycle
from mailer.addresses.models import Address
from mailer.audit.service import record_many
from mailer.batches.models import Batch, MailPiece
from mailer.customers.consent import StatusChange, follow_refusals
from mailer.customers.models import Customer
from mailer.db import execute_rows, update_by_id
from returns.catalog import REASONS, BatchEffect
from returns.decide import (
    SOFT_REASONS,
    AddressState,
    ChunkState,
    CustomerState,
    Decisions,
    EarlierReturn,
    Effects,
    Piece,
    Settings,
    SoftReturn,
)
from returns.models import MailReturn
from returns.outcomes import ReturnError, ReturnOutcome, ReturnRequest

logger = logging.getLogger(__name__)

CHUNK_SIZE: Final = 2000

PRINT_PROBLEM_REASONS: Final = tuple(
    code for code, reason in REASONS.items() if reason.batch_effect is BatchEffect.FLAG_PRINT
)


def apply_chunk(
    session: Session, requests: Sequence[ReturnRequest], settings: Settings
) -> list[ReturnOutcome | ReturnError]:
    """Record returns of distinct pieces in order in a savepoint; return each one's outcome or error."""
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                return _Chunk(session, requests, settings).run()
        except IntegrityError:
            # Another station recorded one of these pieces between our reading and our writing
            # (possible where customers are not locked): read again, and it is "already recorded".
            if attempt == 2:
                raise
            logger.info("returns of %d piece(s) met a concurrent recording; reading again", len(requests))
    raise AssertionError("unreachable")


class _Chunk:
    """Returns of distinct pieces: read once, decided in order in memory, written in bulk."""

    def __init__(self, session: Session, requests: Sequence[ReturnRequest], settings: Settings) -> None:
        self.session = session
        self.requests = requests
        self.settings = settings

    def run(self) -> list[ReturnOutcome | ReturnError]:
        self.state = self._load()
        decisions = Decisions(self.state, self.settings)
        results: list[ReturnOutcome | ReturnError] = []
        for request in self.requests:
            try:
                results.append(decisions.decide(request))
            except ReturnError as exc:
                results.append(exc)
        self._write(decisions.effects)
        return results

    # --- reading ---

    def _load(self) -> ChunkState:
        # Plain rows from the connection: the ORM would only wrap them again on the way to the dataclasses.
        self.session.flush()
        connection = self.session.connection()
        codes = sorted({r.piece_code for r in self.requests})
        pieces = {
            row.piece_code: Piece(
                row.id, row.piece_code, row.batch_id, row.customer_id, row.address_id, row.lines, row.created_at
            )
            for row in connection.execute(
                select(
                    MailPiece.id, MailPiece.piece_code, MailPiece.batch_id, MailPiece.customer_id,
                    MailPiece.address_id, MailPiece.lines, Batch.created_at,
                )
                .join(Batch, Batch.id == MailPiece.batch_id)
                .where(MailPiece.piece_code.in_(codes))
            )
        }
        customer_ids = sorted({p.customer_id for p in pieces.values()})
        # Locked in id order (PostgreSQL; SQLite has one writer anyway): returns, confirmations and
        # cleared flags of one customer never interleave, so nothing is lost or counted twice.
        customers = {
            row.id: CustomerState(
                row.id, row.customer_no, row.name, row.status, row.churn_risk, row.churn_explanation,
                spent_cents=row.churn_spent_cents, loaded_status=row.status,
                loaded_value_at_risk_cents=row.churn_value_at_risk_cents,
            )
            for row in connection.execute(
                select(
                    Customer.id, Customer.customer_no, Customer.name, Customer.status, Customer.churn_risk,
                    Customer.churn_explanation, Customer.churn_spent_cents, Customer.churn_value_at_risk_cents,
                )
                .where(Customer.id.in_(customer_ids))
                .order_by(Customer.id)
                .with_for_update()
            )
        }
        addresses = {
            row.id: AddressState(
                row.id, row.customer_id, row.validity, row.is_current, row.fingerprint, row.confirmed_at,
                loaded=(row.validity, row.is_current),
            )
            for row in connection.execute(
                select(
                    Address.id, Address.customer_id, Address.validity, Address.is_current, Address.fingerprint,
                    Address.confirmed_at,
                ).where(Address.id.in_(sorted({p.address_id for p in pieces.values()})))
            )
        }
        state = ChunkState(pieces, customers, addresses)
        for row in connection.execute(
            select(
                MailReturn.id, MailReturn.piece_id, MailReturn.reason, MailReturn.returned_at, MailReturn.is_current,
                MailReturn.new_address_id, MailReturn.validity_before, MailReturn.validity_after,
                MailReturn.customer_status_before, MailReturn.churn_risk_before, MailReturn.churn_risk_after,
            )
            .where(MailReturn.piece_id.in_([p.id for p in pieces.values()]))
            .order_by(MailReturn.id)
        ):
            state.history[row.piece_id].append(
                EarlierReturn(
                    row.id, row.reason, row.returned_at, row.is_current, row.new_address_id, row.validity_before,
                    row.validity_after, row.customer_status_before, row.churn_risk_before, row.churn_risk_after,
                )
            )
        # Only the address in SQL, the rest here: with the reason in the query, SQLite walks the
        # reason index through every soft return ever recorded instead of a few per address.
        for address_id, returned_at, return_id, reason, address_unchanged in connection.execute(
            select(
                MailReturn.address_id, MailReturn.returned_at, MailReturn.id, MailReturn.reason,
                MailReturn.address_unchanged,
            ).where(MailReturn.address_id.in_(list(addresses)), MailReturn.is_current)
        ):
            if reason in SOFT_REASONS and not address_unchanged:
                state.soft[address_id].append(SoftReturn(returned_at, return_id))
        return state

    # --- writing ---

    def _write(self, effects: Effects) -> None:
        # Core statements on the tables: the ORM's bulk paths cost more than the database here. Rows
        # go in key order (stable, so one customer's history keeps its order): the indexes are then
        # walked page after page rather than at random.
        session, now = self.session, self.settings.now
        changed_addresses = [a for a in self.state.addresses.values() if a.changed]
        # Superseded addresses stop being current before the new ones are written (one current each).
        lifecycle.update_addresses(
            session, [{"id": a.id, **a.changed_columns(), "updated_at": now} for a in changed_addresses]
        )
        new_address_ids = lifecycle.insert_addresses(session, list(effects.new_addresses.values()))
        if effects.retired_returns:
            update_by_id(session, MailReturn, [{"id": i, "is_current": False} for i in effects.retired_returns])
        for position, customer_id in effects.moved_by_return.items():
            effects.new_returns[position]["new_address_id"] = new_address_ids[customer_id]
        if effects.new_returns:
            effects.new_returns.sort(key=lambda row: row["customer_id"])
            execute_rows(session, insert(MailReturn.__table__), effects.new_returns)
        lifecycle.insert_events(session, effects.events, new_address_ids=new_address_ids)
        # Read in id order, so already sorted.
        changed_customers = [c for c in self.state.customers.values() if c.changed]
        update_by_id(
            session, Customer, [{"id": c.id, **c.changed_columns(), "updated_at": now} for c in changed_customers]
        )
        if effects.flag_batches:
            session.execute(update(Batch).where(Batch.id.in_(effects.flag_batches)).values(print_problem=True))
        for batch_id in sorted(effects.recheck_batches - effects.flag_batches):
            still_illegible = exists().where(
                MailReturn.batch_id == batch_id, MailReturn.is_current, MailReturn.reason.in_(PRINT_PROBLEM_REASONS)
            )
            session.execute(update(Batch).where(Batch.id == batch_id).values(print_problem=still_illegible))
        record_many(
            session,
            effects.address_audits
            + [
                {
                    "actor": self.settings.actor, "action": "customer.status", "object_type": "customer",
                    "object_id": customer.customer_no, "detail": {"status": [old.value, new.value], "why": why},
                }
                for customer, old, new, why in effects.status_changes
            ],
        )
        # A refused return withdraws mail consent (and its correction takes that back).
        follow_refusals(
            session,
            [StatusChange(customer.id, old, new, why) for customer, old, new, why in effects.status_changes],
            actor=self.settings.actor, now=now,
        )
        self._expire(
            [(Customer, c.id) for c in changed_customers]
            + [(Address, a.id) for a in changed_addresses]
            + [(Batch, b) for b in effects.flag_batches | effects.recheck_batches]
            + [(MailReturn, i) for i in effects.retired_returns]
        )
        session.flush()

    def _expire(self, keys: Iterable[tuple[type, int]]) -> None:
        # The bulk statements bypass objects already in the session: let them load afresh. A chunk
        # changes thousands of rows while the session holds a few objects, so look those up.
        identity_map = self.session.identity_map
        if not len(identity_map):
            return
        changed = set(keys)
        for key in list(identity_map.keys()):
            model, primary_key, _ = key
            instance = identity_map.get(key)
            if (model, primary_key[0]) in changed and instance is not None:
                self.session.expire(instance)
