"""Creating a batch: selection, hygiene counts, households, presort order."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressValidity
from mailer.audit.models import AuditEntry
from mailer.batches.models import Batch, Campaign, MailPiece
from mailer.batches.selection import BatchError, BatchFilters, create_batch
from mailer.batches.service import cancel_batch
from mailer.customers.models import CustomerStatus
from tests.factories import CN_ROW, US_ROW, add_customer


def pieces_of(session: Session, batch: Batch) -> list[MailPiece]:
    return list(session.scalars(select(MailPiece).where(MailPiece.batch_id == batch.id).order_by(MailPiece.sequence)))


def test_bad_addresses_and_customers_are_left_out_and_counted(session: Session) -> None:
    mailed = add_customer(session, "C1", base=CN_ROW)
    add_customer(session, "C2", base=CN_ROW, line1="中山路88号", postal_code="310001",
                 validity=AddressValidity.UNDELIVERABLE)
    add_customer(session, "C3", base=CN_ROW, line1="中山路90号", status=CustomerStatus.DECEASED)
    add_customer(session, "C4", base=CN_ROW, line1="中山路92号", status=CustomerStatus.DO_NOT_MAIL)
    add_customer(session, "C5", base=CN_ROW, line1="中山路94号", status=CustomerStatus.MERGED)
    suspect = add_customer(session, "C6", base=CN_ROW, line1="中山路96号", validity=AddressValidity.SUSPECT)
    add_customer(session, "C7", base=US_ROW)  # another country: outside a cn-dl batch

    batch = create_batch(session, campaign_name="Spring 2027", profile="cn-dl", filters=BatchFilters(), actor="t")

    assert batch.piece_count == 2
    assert batch.left_out == {
        "filter": 1, "deceased": 1, "do_not_mail": 1, "merged": 1, "undeliverable": 1, "unverifiable": 0,
        "already_in_campaign": 0, "household": 0,
    }
    pieces = pieces_of(session, batch)
    assert [p.sequence for p in pieces] == [1, 2]
    assert {p.customer_id for p in pieces} == {mailed.id, suspect.id}


def test_one_piece_per_household_addressed_to_the_most_valuable(session: Session) -> None:
    low = add_customer(session, "C1", base=US_ROW, name="Ann Smith", order_cents=[1000])
    high = add_customer(session, "C2", base=US_ROW, name="Bob Smith", line1="12 OAK ST", line2="#4",
                        order_cents=[5000, 2500])
    add_customer(session, "C3", base=US_ROW, name="Cy Smith", line2="Apt 5")  # another unit

    batch = create_batch(session, campaign_name="Fall", profile="us-10", filters=BatchFilters(), actor="t")

    assert batch.piece_count == 2 and batch.left_out["household"] == 1
    by_customer = {p.customer_id: p for p in pieces_of(session, batch)}
    assert low.id not in by_customer
    assert by_customer[high.id].household_size == 2
    assert by_customer[high.id].lines == ["BOB SMITH", "12 OAK ST", "#4", "SPRINGFIELD IL 62704"]


def test_pieces_are_in_presort_order_with_bundles(session: Session) -> None:
    for number, postal_code in (("C1", "94110"), ("C2", "10001"), ("C3", "60601"), ("C4", "10003")):
        add_customer(session, number, base=US_ROW, line1=f"{number[1]} Main St", postal_code=postal_code)

    batch = create_batch(session, campaign_name="Fall", profile="us-10", filters=BatchFilters(), actor="t")

    pieces = pieces_of(session, batch)
    assert [p.postal_code for p in pieces] == ["10001", "10003", "60601", "94110"]
    assert [p.bundle for p in pieces] == ["100", "100", "606", "941"]
    assert len({p.piece_code for p in pieces}) == 4


def test_filters_select_region_postal_prefix_and_risk_band(session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW, churn_risk=0.9)
    add_customer(session, "C2", base=CN_ROW, line1="中山路1号", churn_risk=0.1)
    add_customer(session, "C3", base=CN_ROW, line1="中山路2号", postal_code="100001", region="", city="北京市",
                 churn_risk=0.95)
    add_customer(session, "C4", base=CN_ROW, line1="中山路3号")  # not scored: outside any band

    high = create_batch(session, campaign_name="Win-back", profile="cn-dl",
                        filters=BatchFilters(risk_bands=("high",)), actor="t")
    # Re-mailed explicitly: the high-risk batch's customers are already in "Win-back".
    zhejiang = create_batch(session, campaign_name="Win-back", profile="cn-dl",
                            filters=BatchFilters(regions=("浙江省",), postal_prefixes=("310",)), remail=True, actor="t")

    assert (high.piece_count, high.left_out["filter"]) == (2, 2)
    assert (zhejiang.piece_count, zhejiang.left_out["filter"]) == (3, 1)
    assert high.campaign_id == zhejiang.campaign_id


def test_piece_codes_are_unique_across_batches(session: Session) -> None:
    for index in range(30):
        add_customer(session, f"C{index}", base=US_ROW, line1=f"{index} Elm St")
    first = create_batch(session, campaign_name="A", profile="us-10", filters=BatchFilters(), actor="t")
    second = create_batch(session, campaign_name="B", profile="us-10", filters=BatchFilters(), actor="t")

    codes = [p.piece_code for b in (first, second) for p in pieces_of(session, b)]
    assert len(codes) == 60 and len(set(codes)) == 60


def test_unknown_profile_or_band_is_an_error(session: Session) -> None:
    with pytest.raises(BatchError, match="unknown envelope profile"):
        create_batch(session, campaign_name="A", profile="a4", filters=BatchFilters(), actor="t")
    with pytest.raises(BatchError, match="unknown risk band"):
        BatchFilters(risk_bands=("extreme",))


def test_cli_batch_create_prints_json(runner: FlaskCliRunner, session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW)
    add_customer(session, "C2", base=CN_ROW, line1="中山路88号", validity=AddressValidity.UNDELIVERABLE)

    result = runner.invoke(args=["batch", "create", "--campaign", "Spring catalog 2027", "--profile", "cn-dl",
                                 "--json"])

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["pieces"] == 1 and isinstance(shown["batch_id"], int)
    assert shown["left_out"] == {
        "filter": 0, "deceased": 0, "do_not_mail": 0, "merged": 0, "undeliverable": 1, "unverifiable": 0,
        "already_in_campaign": 0, "household": 0,
    }


def test_a_selection_of_nobody_is_refused_with_who_was_left_out_and_nothing_stored(session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW)
    add_customer(session, "C2", base=CN_ROW, line1="中山路90号", status=CustomerStatus.DECEASED)
    add_customer(session, "C3", base=US_ROW)

    with pytest.raises(BatchError) as nowhere:
        create_batch(session, campaign_name="A", profile="cn-dl", filters=BatchFilters(regions=("Nowhere",)), actor="t")
    with pytest.raises(BatchError) as letters:
        create_batch(session, campaign_name="A", profile="cn-dl", filters=BatchFilters(postal_prefixes=("abc",)),
                     actor="t")

    expected = "No customer matches the filters, so no batch was created. Left out: 3 outside the filters."
    assert str(nowhere.value) == str(letters.value) == expected
    assert session.scalars(select(Batch)).all() == [] and session.scalars(select(Campaign)).all() == []


def test_hygiene_that_leaves_nobody_is_counted_in_the_refusal(session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW, status=CustomerStatus.DECEASED)
    add_customer(session, "C2", base=CN_ROW, line1="中山路88号", validity=AddressValidity.UNDELIVERABLE)

    with pytest.raises(BatchError, match=r"Left out: 1 deceased, 1 undeliverable address\.$"):
        create_batch(session, campaign_name="A", profile="cn-dl", filters=BatchFilters(), actor="t")


def test_an_empty_database_gives_no_batch(session: Session) -> None:
    with pytest.raises(BatchError, match="no customer has a current address"):
        create_batch(session, campaign_name="A", profile="us-10", filters=BatchFilters(), actor="t")


def test_an_unknown_country_code_is_refused_naming_the_field(session: Session) -> None:
    add_customer(session, "C1", base=US_ROW)

    with pytest.raises(BatchError, match=r"^countries: unknown country code\(s\) ZZ, XX; use two-letter ISO codes"):
        create_batch(session, campaign_name="A", profile="us-10", filters=BatchFilters(countries=("US", "zz", "XX")),
                     actor="t")
    assert session.scalars(select(Batch)).all() == []


def test_a_postal_prefix_matches_whatever_its_case(session: Session) -> None:
    add_customer(session, "C1", base=US_ROW, line1="10 Downing Street", line2="", city="London", region="",
                 postal_code="SW1A 2AA", country="GB")

    batch = create_batch(session, campaign_name="A", profile="us-10",
                         filters=BatchFilters(countries=("gb",), postal_prefixes=("sw1a",)), actor="t")

    assert batch.piece_count == 1
    assert (list(batch.filters["countries"]), list(batch.filters["postal_prefixes"])) == (["GB"], ["SW1A"])


def test_cli_batch_create_refuses_nobody_and_unknown_countries(runner: FlaskCliRunner, session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW)
    session.commit()

    nowhere = runner.invoke(args=["batch", "create", "--campaign", "A", "--profile", "cn-dl", "--region", "Nowhere"])
    unknown = runner.invoke(args=["batch", "create", "--campaign", "A", "--profile", "cn-dl", "--country", "ZZ"])

    assert nowhere.exit_code == 2 and "No customer matches the filters" in nowhere.stderr
    assert "Left out: 1 outside the filters." in nowhere.stderr
    assert unknown.exit_code == 2 and "countries: unknown country code(s) ZZ" in unknown.stderr
    assert session.scalars(select(Batch)).all() == []


def test_a_campaign_name_longer_than_its_column_is_refused_and_nothing_stored(
    runner: FlaskCliRunner, session: Session
) -> None:
    add_customer(session, "C1", base=CN_ROW)

    result = runner.invoke(args=["batch", "create", "--campaign", "x" * 250, "--profile", "cn-dl"])

    assert result.exit_code == 2
    assert "error: a campaign name has at most 200 characters; this one has 250" in result.stderr
    assert "Traceback" not in result.output
    assert session.scalars(select(Campaign)).all() == []
    assert session.scalars(select(Batch)).all() == []


def test_a_campaign_name_is_measured_once_trimmed(session: Session) -> None:
    add_customer(session, "C1", base=CN_ROW)
    fits = "y" * 200

    batch = create_batch(session, campaign_name=f"     {fits}  ", profile="cn-dl", filters=BatchFilters(), actor="t")

    assert session.get_one(Campaign, batch.campaign_id).name == fits
    with pytest.raises(BatchError, match="at most 200 characters; this one has 201"):
        create_batch(session, campaign_name=f" {fits}y ", profile="cn-dl", filters=BatchFilters(), actor="t")


def _spring(session: Session, *, remail: bool = False, campaign: str = "Spring catalog 2027") -> Batch:
    return create_batch(session, campaign_name=campaign, profile="us-10", filters=BatchFilters(), remail=remail,
                        actor="t")


def test_a_second_batch_of_a_campaign_leaves_out_customers_and_households_already_in_it(session: Session) -> None:
    first_c1 = add_customer(session, "C1", base=US_ROW, line1="1 OAK ST")
    add_customer(session, "C2", base=US_ROW, line1="2 OAK ST")
    first = _spring(session)
    newcomer = add_customer(session, "C3", base=US_ROW, line1="3 OAK ST")
    add_customer(session, "C4", base=US_ROW, line1="1 OAK ST", name="Zed Smith")  # moved in with C1

    second = _spring(session)
    elsewhere = _spring(session, campaign="Fall catalog 2027")

    assert first.piece_count == 2
    assert [p.customer_id for p in pieces_of(session, second)] == [newcomer.id]
    assert second.left_out["already_in_campaign"] == 3 and second.left_out["household"] == 0
    # Another campaign mails everyone, one piece per household.
    assert elsewhere.piece_count == 3 and elsewhere.left_out["already_in_campaign"] == 0
    assert elsewhere.left_out["household"] == 1
    assert first_c1.id in {p.customer_id for p in pieces_of(session, elsewhere)} | {
        p.customer_id for p in pieces_of(session, first)
    }


def test_remail_selects_customers_already_in_the_campaign_and_is_on_record(session: Session) -> None:
    add_customer(session, "C1", base=US_ROW, line1="1 OAK ST")
    add_customer(session, "C2", base=US_ROW, line1="2 OAK ST")
    _spring(session)

    again = _spring(session, remail=True)

    assert again.piece_count == 2 and again.left_out["already_in_campaign"] == 0
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "batch.create", AuditEntry.object_id == str(again.id))
    ).one()
    assert entry.detail["remail"] is True


def test_a_second_batch_of_nobody_new_is_refused_naming_who_is_already_in_the_campaign(session: Session) -> None:
    add_customer(session, "C1", base=US_ROW, line1="1 OAK ST")
    add_customer(session, "C2", base=US_ROW, line1="2 OAK ST")
    _spring(session)

    with pytest.raises(BatchError, match=r"Left out: 2 already in a batch of this campaign\.$"):
        _spring(session)

    assert len(session.scalars(select(Batch)).all()) == 1


def test_a_cancelled_batch_no_longer_holds_its_customers_in_the_campaign(session: Session) -> None:
    add_customer(session, "C1", base=US_ROW, line1="1 OAK ST")
    add_customer(session, "C2", base=US_ROW, line1="2 OAK ST")
    first = _spring(session)
    cancel_batch(session, batch_id=first.id, actor="t")

    second = _spring(session)

    assert second.piece_count == 2 and second.left_out["already_in_campaign"] == 0


def test_cli_batch_create_remail_includes_customers_already_in_the_campaign(
    runner: FlaskCliRunner, session: Session
) -> None:
    add_customer(session, "C1", base=CN_ROW)
    arguments = ["batch", "create", "--campaign", "Spring catalog 2027", "--profile", "cn-dl", "--json"]
    assert runner.invoke(args=arguments).exit_code == 0

    refused = runner.invoke(args=arguments)
    remailed = runner.invoke(args=[*arguments, "--remail"])

    assert refused.exit_code == 2
    assert "Left out: 1 already in a batch of this campaign." in refused.stderr
    assert remailed.exit_code == 0, remailed.output
    shown = json.loads(remailed.stdout)
    assert shown["pieces"] == 1 and shown["left_out"]["already_in_campaign"] == 0


def test_unverifiable_addresses_are_mailed_and_counted_unless_left_out(
    session: Session, runner: FlaskCliRunner
) -> None:
    add_customer(session, "C1", base=CN_ROW, line1="西湖区文三路478号")  # verified
    add_customer(session, "C2", base=CN_ROW, line1="西湖区文三路480号", postal_code="100805")  # mismatch
    add_customer(session, "C3", base=CN_ROW, line1="文三路482号")  # no district: unverifiable

    mailed = create_batch(session, campaign_name="A", profile="cn-dl", filters=BatchFilters(), actor="t")
    left_out = create_batch(
        session, campaign_name="B", profile="cn-dl", filters=BatchFilters(exclude_unverifiable=True), actor="t"
    )
    shown = runner.invoke(args=["batch", "create", "--campaign", "C", "--profile", "cn-dl", "--json"])
    shown_excluding = runner.invoke(
        args=["batch", "create", "--campaign", "D", "--profile", "cn-dl", "--exclude-unverifiable", "--json"]
    )

    assert (mailed.piece_count, mailed.unverifiable_pieces, mailed.left_out["unverifiable"]) == (3, 2, 0)
    assert (left_out.piece_count, left_out.unverifiable_pieces, left_out.left_out["unverifiable"]) == (1, 0, 2)
    assert left_out.filters["exclude_unverifiable"] is True
    result = json.loads(shown.stdout)
    assert (result["pieces"], result["unverifiable"], result["unverifiable_mailed"]) == (3, 2, 2)
    excluding = json.loads(shown_excluding.stdout)
    assert (excluding["pieces"], excluding["unverifiable"], excluding["left_out"]["unverifiable"]) == (1, 2, 2)
