"""Looking before mailing: a batch's audience, regions, bundles and postage, with nothing stored."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressValidity
from mailer.audit.models import AuditEntry
from mailer.batches.models import Batch, Campaign, MailPiece
from mailer.batches.preview import preview_batch
from mailer.batches.selection import BatchError, BatchFilters, create_batch
from mailer.customers.models import CustomerStatus
from tests.factories import CN_ROW, US_ROW, add_customer


def _stored(session: Session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Campaign)) or 0,
        session.scalar(select(func.count()).select_from(Batch)) or 0,
        session.scalar(select(func.count()).select_from(MailPiece)) or 0,
        session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
    )


def _audience(session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW)  # 浙江省, 310012
    add_customer(session, "C2", base=CN_ROW, line1="文三路100号", postal_code="310013")
    add_customer(session, "C3", base=CN_ROW, line1="南京路1号", city="上海市", region="上海市", postal_code="200001")
    add_customer(session, "C4", base=CN_ROW, line1="南京路2号", city="上海市", region="上海市", postal_code="200002",
                 status=CustomerStatus.DECEASED)
    add_customer(session, "C5", base=CN_ROW, line1="南京路3号", city="上海市", region="上海市", postal_code="200003",
                 validity=AddressValidity.UNDELIVERABLE)
    add_customer(session, "C6", base=US_ROW)


def test_the_preview_counts_what_creating_selects_and_stores_nothing(session: Session) -> None:
    _audience(session)
    before = _stored(session)

    preview = preview_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")

    assert _stored(session) == before
    assert preview.pieces == 3
    assert preview.left_out == {
        "filter": 1, "deceased": 1, "do_not_mail": 0, "merged": 0, "undeliverable": 1, "already_in_campaign": 0,
        "household": 0, "unverifiable": 0,
    }
    assert [(row.key, row.pieces) for row in preview.regions] == [("浙江省", 2), ("上海市", 1)]
    # Bundles come in presort order: by postal code.
    assert [(row.key, row.pieces) for row in preview.bundles] == [("200", 1), ("310", 2)]
    assert preview.currency == "CNY" and preview.postage_per_piece == Decimal("1.20")
    assert preview.postage == Decimal("3.60")

    batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
    assert batch.piece_count == preview.pieces and batch.left_out == preview.left_out


def test_the_preview_leaves_out_customers_already_in_the_campaign(session: Session) -> None:
    _audience(session)
    create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(postal_prefixes=("310",)),
                 actor="t")

    again = preview_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
    remail = preview_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t",
                           remail=True)

    assert again.pieces == 1 and again.left_out["already_in_campaign"] == 2
    assert remail.pieces == 3 and remail.left_out["already_in_campaign"] == 0


def test_the_preview_refuses_as_creating_does(session: Session) -> None:
    _audience(session)
    before = _stored(session)
    with pytest.raises(BatchError, match="No customer matches"):
        preview_batch(session, campaign_name="Spring", profile="cn-dl",
                      filters=BatchFilters(regions=("Nowhere",)), actor="t")
    with pytest.raises(BatchError, match="unknown envelope profile"):
        preview_batch(session, campaign_name="Spring", profile="a4", filters=BatchFilters(), actor="t")
    assert _stored(session) == before


def test_us_postage_is_in_dollars(session: Session) -> None:
    add_customer(session, "C1", base=US_ROW)
    preview = preview_batch(session, campaign_name="Fall", profile="us-10", filters=BatchFilters(), actor="t")
    assert preview.as_json()["postage"] == {
        "per_piece": "0.78", "total": "0.78", "currency": "USD", "basis": preview.postage_basis,
    }


def test_cli_dry_run_prints_the_preview_as_json_and_creates_nothing(runner: FlaskCliRunner, session: Session) -> None:
    _audience(session)
    before = _stored(session)

    result = runner.invoke(args=["batch", "create", "--campaign", "Spring", "--profile", "cn-dl", "--dry-run",
                                 "--json"])

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["dry_run"] is True and shown["pieces"] == 3
    assert shown["left_out"]["deceased"] == 1 and shown["left_out"]["filter"] == 1
    assert shown["by_region"] == [{"region": "浙江省", "pieces": 2}, {"region": "上海市", "pieces": 1}]
    assert shown["by_bundle"] == [{"bundle": "200", "pieces": 1}, {"bundle": "310", "pieces": 2}]
    assert shown["postage"]["total"] == "3.60" and shown["postage"]["currency"] == "CNY"
    assert _stored(session) == before


def test_cli_dry_run_in_words(runner: FlaskCliRunner, session: Session) -> None:
    _audience(session)
    result = runner.invoke(args=["batch", "create", "--campaign", "Spring", "--profile", "cn-dl", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing created" in result.output and "3 pieces" in result.output
    assert "Estimated postage: 3.60 CNY" in result.output
    assert "浙江省: 2" in result.output and "310: 2" in result.output


def test_cli_dry_run_of_nobody_says_who_was_left_out(runner: FlaskCliRunner, session: Session) -> None:
    _audience(session)
    result = runner.invoke(args=["batch", "create", "--campaign", "Spring", "--profile", "cn-dl", "--dry-run",
                                 "--region", "Nowhere"])
    assert result.exit_code == 2
    assert "No customer matches" in result.output and "nothing was created" in result.output
