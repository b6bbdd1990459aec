"""Consent per channel: decisions with their source, the status mirror, refused returns, and batch selection."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.batches.selection import BatchFilters, create_batch
from mailer.customers.consent import ConsentError, consent_history, current_consents, may_contact, set_consent
from mailer.customers.models import ConsentChannel, ConsentSource, CustomerStatus
from mailer.db import utcnow
from returns.models import ReturnSource
from returns.service import record_return
from tests.factories import US_ROW, add_customer
from tests.returns.conftest import customer, mail_customers


def scan(session: Session, piece_code: str, reason: str, now: datetime) -> None:
    record_return(session, piece_code=piece_code, reason=reason, source=ReturnSource.SCAN, actor="clerk@example.com",
                  returned_at=now, window_days=180)


def test_withdrawing_mail_consent_keeps_source_date_wording_and_mirrors_the_status(session: Session) -> None:
    person = add_customer(session, "C1")

    decision = set_consent(
        session, customer=person, channel=ConsentChannel.MAIL, granted=False, source=ConsentSource.STAFF,
        actor="ann@example.com", wording="Asked on the phone to get no catalogs", note="call of 3 Dec",
    )

    assert decision is not None and decision.decided_at is not None
    assert (decision.source, decision.wording, decision.actor) == (
        ConsentSource.STAFF, "Asked on the phone to get no catalogs", "ann@example.com")
    assert person.status is CustomerStatus.DO_NOT_MAIL
    assert not may_contact(session, customer_id=person.id, channel=ConsentChannel.MAIL)
    assert may_contact(session, customer_id=person.id, channel=ConsentChannel.EMAIL)
    (audit,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.consent"))
    assert audit.object_id == "C1" and audit.detail == {"channel": "mail", "granted": [None, False], "source": "staff"}


def test_granting_again_makes_the_customer_mailable_and_keeps_the_history(session: Session) -> None:
    person = add_customer(session, "C1")
    set_consent(session, customer=person, channel=ConsentChannel.MAIL, granted=False, source=ConsentSource.STAFF,
                actor="a")
    set_consent(session, customer=person, channel=ConsentChannel.MAIL, granted=True, source=ConsentSource.STAFF,
                actor="a", wording="Yes, send me the catalog")

    assert person.status is CustomerStatus.ACTIVE
    assert [c.granted for c in consent_history(session, customer_id=person.id)] == [True, False]
    assert current_consents(session, customer_id=person.id)[ConsentChannel.MAIL].wording == "Yes, send me the catalog"


def test_the_same_decision_twice_records_nothing(session: Session) -> None:
    person = add_customer(session, "C1")
    set_consent(session, customer=person, channel=ConsentChannel.PHONE, granted=False, source=ConsentSource.STAFF,
                actor="a")
    again = set_consent(session, customer=person, channel=ConsentChannel.PHONE, granted=False,
                        source=ConsentSource.STAFF, actor="a")
    assert again is None
    assert len(consent_history(session, customer_id=person.id)) == 1
    assert person.status is CustomerStatus.ACTIVE  # phone is not mail


def test_staff_cannot_record_a_consent_without_its_wording(session: Session) -> None:
    person = add_customer(session, "C1")
    with pytest.raises(ConsentError, match="wording"):
        set_consent(session, customer=person, channel=ConsentChannel.EMAIL, granted=True,
                    source=ConsentSource.STAFF, actor="a")


def test_an_erased_customer_can_never_grant_again(session: Session) -> None:
    person = add_customer(session, "C1")
    person.erased_at = utcnow()
    with pytest.raises(ConsentError, match="erased"):
        set_consent(session, customer=person, channel=ConsentChannel.MAIL, granted=True,
                    source=ConsentSource.STAFF, actor="a", wording="yes")


def test_batch_selection_leaves_out_withdrawn_mail_consent_whatever_the_status(session: Session) -> None:
    kept = add_customer(session, "C1", base=US_ROW)
    withdrawn = add_customer(session, "C2", base=US_ROW, line1="14 Oak Street")
    email_only = add_customer(session, "C3", base=US_ROW, line1="16 Oak Street")
    set_consent(session, customer=withdrawn, channel=ConsentChannel.MAIL, granted=False,
                source=ConsentSource.STAFF, actor="a")
    set_consent(session, customer=email_only, channel=ConsentChannel.EMAIL, granted=False,
                source=ConsentSource.STAFF, actor="a")
    # A status written elsewhere cannot reopen the channel: the consent decides.
    withdrawn.status = CustomerStatus.ACTIVE
    session.flush()

    batch = create_batch(session, campaign_name="Spring", profile="us-10", filters=BatchFilters(), actor="t")

    assert batch.piece_count == 2 and batch.left_out["do_not_mail"] == 1
    assert kept.id != withdrawn.id


def test_a_refused_return_withdraws_mail_consent_and_its_correction_takes_it_back(session: Session) -> None:
    piece = mail_customers(session, "C1")["C1"]
    person = customer(session, "C1")
    set_consent(session, customer=person, channel=ConsentChannel.MAIL, granted=True, source=ConsentSource.IMPORT,
                actor="import", wording="Catalog by post: yes")
    now = utcnow()

    scan(session, piece.piece_code, "REF", now)
    refused = current_consents(session, customer_id=person.id)[ConsentChannel.MAIL]
    assert (refused.granted, refused.source) == (False, ConsentSource.RETURN_REFUSED)
    assert customer(session, "C1").status is CustomerStatus.DO_NOT_MAIL

    scan(session, piece.piece_code, "ANK", now)  # the clerk picked the wrong reason: a correction
    restored = current_consents(session, customer_id=person.id)[ConsentChannel.MAIL]
    assert (restored.granted, restored.source, restored.wording) == (True, ConsentSource.IMPORT, "Catalog by post: yes")
    assert customer(session, "C1").status is CustomerStatus.ACTIVE
    assert len(consent_history(session, customer_id=person.id)) == 2
