"""The dashboard's share of current addresses the postal reference data verified, per country."""

from __future__ import annotations

from flask import Flask

from mailer.auth.models import Role
from mailer.customers.service import verified_share_by_country
from tests.factories import CN_ROW, US_ROW, add_customer
from tests.web.conftest import data


def test_the_share_verified_is_counted_and_drawn_per_country(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        add_customer(session, "C1", base=CN_ROW, line1="西湖区文三路478号")  # verified
        add_customer(session, "C2", base=CN_ROW, line1="西湖区文三路480号", region="")  # corrected: gains 浙江省
        add_customer(session, "C3", base=CN_ROW, line1="文三路482号")  # no district
        add_customer(session, "C4", base=CN_ROW, line1="西湖区文三路484号", postal_code="100805")  # mismatch
        add_customer(session, "C5", base=US_ROW)  # Springfield, IL 62704
        shares = {found.country: (found.verified, found.total) for found in verified_share_by_country(session)}

    page = logged_in(Role.MARKETING).get("/dashboard").get_data(as_text=True)

    assert shares == {"CN": (2, 4), "US": (1, 1)}
    assert "Current addresses verified, by country" in page
    assert "CN (4)" in page and "50.0%" in page and "US (1)" in page and "100.0%" in page
