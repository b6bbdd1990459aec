"""`customers verify`: the backfill of stored addresses, and checking them again after a reference update."""

from __future__ import annotations

import json

from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressVerification
from tests.factories import CN_ROW, US_ROW, add_customer


def test_addresses_never_checked_are_verified_and_the_others_left_alone(
    runner: FlaskCliRunner, session: Session
) -> None:
    cn = add_customer(session, "C1", base=CN_ROW, line1="西湖区文三路478号")
    us = add_customer(session, "C2", base=US_ROW)
    # As the migration leaves addresses stored before verification existed.
    session.execute(
        update(Address).where(Address.customer_id == cn.id).values(
            verification=AddressVerification.UNVERIFIABLE, verification_reason=None
        )
    )
    session.execute(update(Address).where(Address.customer_id == us.id).values(verification_reason="kept"))

    result = runner.invoke(args=["customers", "verify"])
    kept = session.scalar(select(Address.verification_reason).where(Address.customer_id == us.id))
    everything = runner.invoke(args=["customers", "verify", "--all"])
    checked = session.scalar(select(Address.verification_reason).where(Address.customer_id == us.id))
    shown = json.loads(runner.invoke(args=["customers", "show", "C1", "--json"]).stdout)

    assert result.exit_code == 0, result.output
    assert "1 addresses checked: 1 verified" in result.stdout
    assert kept == "kept"
    assert "2 addresses checked: 2 verified" in everything.stdout and checked == "ZIP 62704 is Springfield, IL"
    assert shown["address"]["verification"] == "verified"
    assert shown["address"]["verification_reason"] == "postcode 310012 is 浙江省杭州市西湖区"
