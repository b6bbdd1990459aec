"""Refreshing every customer's churn risk from stored orders, returned mail and self-service updates."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest
from scipy import special
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.churn import bgnbd, evidence
from mailer.churn.bgnbd import Model, TimeUnit
from mailer.churn.evidence import Evidence
from mailer.churn.explanation import LineKind, explain
from mailer.churn.models import ChurnRun
from mailer.churn.service import MIN_REPEAT_CUSTOMERS, FitDidNotConverge, refresh_churn
from mailer.customers.models import Customer, CustomerStatus
from mailer.orders.models import Order
from returns.catalog import REASONS
from tests.churn.stored import AS_OF, add_orders, add_population, regular_buyer, return_mail, self_update
from tests.factories import add_customer


def _odds(p: float) -> float:
    return p / (1 - p)


def _stored(session: Session, customer: Customer) -> Customer:
    session.expire_all()
    stored = session.get(Customer, customer.id)
    assert stored is not None
    return stored


def _risks(session: Session) -> dict[str, float | None]:
    return dict(session.execute(select(Customer.customer_no, Customer.churn_risk)).all())


def _kinds(explanation: list[dict[str, Any]]) -> list[str]:
    return [line["kind"] for line in explanation]


# --- the model's part -------------------------------------------------------------------------------


def test_refresh_gives_the_risks_of_the_pure_functions_on_the_same_orders(session: Session) -> None:
    add_population(session)

    report = refresh_churn(session, as_of=AS_OF, actor="analyst@example.com")

    orders = session.execute(select(Order.customer_id, Order.ordered_on)).all()
    summary = bgnbd.summarize_orders(
        np.array([row[0] for row in orders]), np.array([row[1] for row in orders], dtype="datetime64[D]"), as_of=AS_OF
    )
    fit = bgnbd.fit(summary.x, summary.t_x, summary.T, model=Model.MBG_NBD)
    base = evidence.base_log_odds(fit.params, summary.x, summary.t_x, summary.T, unit=TimeUnit.WEEK)
    assert report.fit is not None
    assert report.fit.params.as_array() == pytest.approx(fit.params.as_array(), rel=1e-9)
    assert report.fit.log_likelihood == pytest.approx(fit.log_likelihood, rel=1e-12)
    stored = dict(session.execute(select(Customer.id, Customer.churn_risk)).all())
    assert [stored[int(i)] for i in summary.customer_ids] == pytest.approx(special.expit(base), rel=1e-12)
    assert report.scored == summary.n_customers == 150
    # Every customer with an order is scored by the model, one-time buyers too: no flat pile at the prior.
    assert report.from_model == 150 and report.from_prior == 0
    assert np.count_nonzero(summary.x == 0) > 0
    assert len({round(stored[int(i)], 9) for i in summary.customer_ids[summary.x == 0]}) > 1
    assert (report.horizon_days, report.as_dict()["model"]) == (365, "mbg/nbd")
    assert report.orders_used == len(orders)

    # And each explanation is the one explain() tells on the same figures.
    explanations = dict(session.execute(select(Customer.id, Customer.churn_explanation)).all())
    for i in range(0, summary.n_customers, 7):
        figure = evidence.base_figure(
            fit.params, int(summary.x[i]), float(summary.t_x[i]), float(summary.T[i]), unit=TimeUnit.WEEK,
        )
        expected = explain(figure, [], as_of=AS_OF).to_json()
        stored_lines = explanations[int(summary.customer_ids[i])]
        assert [line["text"] for line in stored_lines] == [line["text"] for line in expected]
        assert [line["risk_after"] for line in stored_lines] == pytest.approx(
            [line["risk_after"] for line in expected], rel=1e-12
        )


def test_customers_without_orders_get_the_stated_prior_and_are_told_so(session: Session) -> None:
    add_population(session)
    newcomer = add_customer(session, "N1")
    one_order = add_customer(session, "N2", line1="2 Elm Street")
    add_orders(session, one_order, [AS_OF - timedelta(days=200)])

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    prior = evidence.DEFAULT_RULE.prior_risk
    stored = _stored(session, newcomer)
    assert stored.churn_risk == pytest.approx(prior)
    assert stored.churn_explanation is not None
    assert _kinds(stored.churn_explanation) == ["prior", "result"]
    assert stored.churn_explanation[0]["text"] == "No orders on record: the stated prior for customers without orders."
    # A one-time buyer is the model's, in words, and riskier than one who bought last month.
    once = _stored(session, one_order)
    assert once.churn_risk is not None and once.churn_risk != pytest.approx(prior)
    assert once.churn_explanation is not None
    assert once.churn_explanation[0]["text"].startswith("One order, 7 months ago; customers like this usually order")
    recent = add_customer(session, "N3", line1="3 Elm Street")
    add_orders(session, recent, [AS_OF - timedelta(days=30)])
    refresh_churn(session, as_of=AS_OF, actor="t")
    assert (_stored(session, recent).churn_risk or 0) < (_stored(session, one_order).churn_risk or 0)
    assert report.without_orders == 1
    assert stored.churn_scored_at is not None and stored.churn_scored_at.tzinfo is not None


def test_orders_after_as_of_are_ignored_and_counted(session: Session) -> None:
    add_population(session)
    buyer = regular_buyer(session, "B1")
    before = refresh_churn(session, as_of=AS_OF, actor="t")
    risk_before = _stored(session, buyer).churn_risk
    add_orders(session, buyer, [AS_OF + timedelta(days=1)])

    after = refresh_churn(session, as_of=AS_OF, actor="t")

    assert _stored(session, buyer).churn_risk == pytest.approx(risk_before, rel=1e-12)
    assert after.orders_after_as_of == before.orders_after_as_of + 1


def test_the_purchase_history_scored_and_the_spend_at_stake_are_stored(session: Session) -> None:
    add_population(session)
    buyer = add_customer(session, "R1", line1="1 Elm Street")
    add_orders(session, buyer, [AS_OF - timedelta(days=40), AS_OF - timedelta(days=40)], cents=1_250)
    add_orders(session, buyer, [AS_OF - timedelta(days=300)], cents=10_001)
    add_orders(session, buyer, [AS_OF + timedelta(days=1)], cents=99_999)  # after the as-of day: not counted
    never = add_customer(session, "R2", line1="2 Elm Street")

    refresh_churn(session, as_of=AS_OF, actor="t")

    stored = _stored(session, buyer)
    assert (stored.churn_last_ordered_on, stored.churn_purchase_days, stored.churn_spent_cents) == (
        AS_OF - timedelta(days=40), 2, 12_501,
    )
    assert stored.churn_risk is not None and stored.churn_expected_spend_cents is not None
    assert stored.churn_expected_spend_cents > 0
    assert stored.churn_value_at_risk_cents == round(stored.churn_risk * stored.churn_expected_spend_cents)
    without = _stored(session, never)
    assert (without.churn_last_ordered_on, without.churn_purchase_days, without.churn_spent_cents) == (None, 0, 0)
    assert (without.churn_expected_spend_cents, without.churn_value_at_risk_cents) == (0, 0)
    # Every scored customer has a spend at stake; the population's totals are its orders' (none after AS_OF).
    totals = dict(
        session.execute(
            select(Order.customer_id, func.sum(Order.amount_cents)).where(Order.ordered_on <= AS_OF)
            .group_by(Order.customer_id)
        ).all()
    )
    for customer_id, spent, expected, value, risk in session.execute(
        select(Customer.id, Customer.churn_spent_cents, Customer.churn_expected_spend_cents,
               Customer.churn_value_at_risk_cents, Customer.churn_risk)
    ):
        assert spent == totals.get(customer_id, 0)
        assert value == round(risk * expected)


def test_without_any_repeat_purchase_no_model_is_fitted_and_everyone_gets_the_prior(session: Session) -> None:
    for number in range(3):
        customer = add_customer(session, f"F{number}", line1=f"{number} Pine Road")
        add_orders(session, customer, [AS_OF - timedelta(days=100 + number)])

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    assert report.fit is None
    assert list(_risks(session).values()) == pytest.approx([0.5, 0.5, 0.5])
    assert report.from_prior == 3 and report.from_model == 0
    lines = _stored(session, customer).churn_explanation or []
    assert lines[0]["text"] == (
        "Too few customers have ordered twice to fit the purchase model: the stated prior for everyone."
    )


def test_a_handful_of_repeat_buyers_is_too_few_to_fit_the_model_on(session: Session) -> None:
    # Two customers buying on two days each once fitted b = 0 and put everyone at a 99.99% risk.
    for number in range(MIN_REPEAT_CUSTOMERS - 1):
        customer = add_customer(session, f"R{number}", line1=f"{number} Pine Road")
        add_orders(session, customer, [AS_OF - timedelta(days=300), AS_OF - timedelta(days=299)])

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    assert report.fit is None
    assert list(_risks(session).values()) == pytest.approx([0.5] * (MIN_REPEAT_CUSTOMERS - 1))


def test_a_fit_that_does_not_converge_writes_nothing(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    add_population(session)
    real_fit = bgnbd.fit

    def stalled(*args: Any, **kwargs: Any) -> bgnbd.FitResult:
        return dataclasses.replace(real_fit(*args, **kwargs), converged=False, message="ABNORMAL")

    monkeypatch.setattr(bgnbd, "fit", stalled)

    with pytest.raises(FitDidNotConverge, match="ABNORMAL"):
        refresh_churn(session, as_of=AS_OF, actor="t")

    assert set(_risks(session).values()) == {None}
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "churn.refresh")).all() == []


# --- evidence ----------------------------------------------------------------------------------------


def test_returns_move_the_odds_by_their_catalog_weight(session: Session) -> None:
    add_population(session)
    returned = {reason: regular_buyer(session, f"R-{reason}") for reason in ("MLNA", "REF", "UNC", "TA")}
    plain = regular_buyer(session, "R-none")
    return_mail(session, [(customer, reason, AS_OF) for reason, customer in returned.items()])

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    risks = _risks(session)
    base = risks["R-none"]
    assert base is not None and 0 < base < 1
    for reason in returned:
        risk = risks[f"R-{reason}"]
        assert risk is not None
        assert _odds(risk) / _odds(base) == pytest.approx(REASONS[reason].churn_weight, rel=1e-9)
    assert risks["R-REF"] > risks["R-MLNA"] > risks["R-UNC"] > risks["R-TA"] == pytest.approx(base, rel=1e-12)
    assert report.returns_used == {"MLNA": 1, "REF": 1, "TA": 1, "UNC": 1}
    assert report.with_evidence == 4
    assert _kinds(_stored(session, plain).churn_explanation or []) == ["model", "result"]


def test_evidence_fades_with_its_half_life(session: Session) -> None:
    add_population(session)
    fresh, year_old = regular_buyer(session, "H1"), regular_buyer(session, "H2")
    plain = regular_buyer(session, "H3")
    return_mail(session, [(fresh, "MLNA", AS_OF), (year_old, "MLNA", AS_OF - timedelta(days=180))])

    refresh_churn(session, as_of=AS_OF, actor="t", half_life_days=180)

    risks = _risks(session)
    base = risks[plain.customer_no]
    assert base is not None
    assert _odds(risks["H1"] or 0) / _odds(base) == pytest.approx(6.0, rel=1e-9)
    assert _odds(risks["H2"] or 0) / _odds(base) == pytest.approx(math.sqrt(6.0), rel=1e-9)


def test_a_self_service_update_lowers_the_risk(session: Session) -> None:
    add_population(session)
    updater = regular_buyer(session, "S1")
    regular_buyer(session, "S2")
    self_update(session, updater, AS_OF)

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    risks = _risks(session)
    assert (risks["S1"] or 0) < (risks["S2"] or 0)
    assert _odds(risks["S1"] or 0) / _odds(risks["S2"] or 0) == pytest.approx(evidence.SELF_UPDATE_WEIGHT, rel=1e-9)
    assert report.self_updates == 1
    explanation = _stored(session, updater).churn_explanation or []
    assert explanation[1]["label"] == "Customer updated their own address"
    assert explanation[1]["observed_on"] == AS_OF.isoformat()
    assert "lowers churn risk" in explanation[1]["text"]


def test_evidence_after_as_of_and_corrected_returns_do_not_count(session: Session) -> None:
    add_population(session)
    late, corrected, late_update, last_minute = (regular_buyer(session, f"L{n}") for n in range(1, 5))
    plain = regular_buyer(session, "L0")
    return_mail(
        session,
        [
            (late, "MLNA", datetime.combine(AS_OF + timedelta(days=1), time(0, 30), tzinfo=UTC)),
            (last_minute, "MLNA", datetime.combine(AS_OF, time(23, 30), tzinfo=UTC)),
        ],
    )
    return_mail(session, [(corrected, "REF", AS_OF)], current=False)
    self_update(session, late_update, AS_OF + timedelta(days=3))

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    risks = _risks(session)
    base = risks[plain.customer_no]
    assert risks["L1"] == risks["L2"] == risks["L3"] == pytest.approx(base, rel=1e-12)
    assert _odds(risks["L4"] or 0) / _odds(base or 0) == pytest.approx(6.0, rel=1e-9)
    assert report.evidence_after_as_of == 2
    assert report.returns_used == {"MLNA": 1}
    assert _kinds(_stored(session, late).churn_explanation or []) == ["model", "result"]


def test_the_explanation_lists_the_base_figure_and_each_piece_of_evidence_used(session: Session) -> None:
    add_population(session)
    customer = regular_buyer(session, "E1")
    return_mail(session, [(customer, "UNC", AS_OF - timedelta(days=200))])
    return_mail(session, [(customer, "MLNA", AS_OF - timedelta(days=100))])
    self_update(session, customer, AS_OF - timedelta(days=10))

    refresh_churn(session, as_of=AS_OF, actor="t")

    stored = _stored(session, customer)
    explanation = stored.churn_explanation
    assert explanation is not None
    assert _kinds(explanation) == ["model", "evidence", "evidence", "evidence", "result"]
    assert explanation[0]["text"].startswith("5 orders in 4 months, none in the last 5 months; customers like this")
    assert [(line["label"], line["observed_on"]) for line in explanation[1:4]] == [
        ("Returned mail: Unclaimed", (AS_OF - timedelta(days=200)).isoformat()),
        ("Returned mail: Moved, left no address", (AS_OF - timedelta(days=100)).isoformat()),
        ("Customer updated their own address", (AS_OF - timedelta(days=10)).isoformat()),
    ]
    assert explanation[2]["odds_factor"] == pytest.approx(6.0 ** (0.5 ** (100 / 365)), rel=1e-12)
    assert "raises churn risk from" in explanation[2]["text"]
    assert explanation[-1]["risk_after"] == pytest.approx(stored.churn_risk, rel=1e-12)
    assert explanation[-1]["text"] == f"Churn risk (no order within 365 days): {stored.churn_risk:.0%}."

    # The same story explain() tells from the base figure and the evidence.
    base_line = explanation[0]
    figure = evidence.BaseFigure(
        log_odds=float(special.logit(base_line["risk_after"])), from_prior=False, x=4,
        t_x=120 / 7, T=(AS_OF - (AS_OF - timedelta(weeks=20, days=120))).days / 7, unit=TimeUnit.WEEK,
        interval_days=tuple(base_line["values"]["interval_days"]),
    )
    expected = explain(
        figure,
        [
            Evidence("Returned mail: Unclaimed", REASONS["UNC"].churn_weight, AS_OF - timedelta(days=200)),
            Evidence("Returned mail: Moved, left no address", 6.0, AS_OF - timedelta(days=100)),
            evidence.self_update(AS_OF - timedelta(days=10)),
        ],
        as_of=AS_OF,
    )
    assert [line["text"] for line in explanation] == expected.text


def test_a_deceased_customer_scores_one_with_the_reason(session: Session) -> None:
    add_population(session)
    returned = regular_buyer(session, "D1")
    recorded = regular_buyer(session, "D2", status=CustomerStatus.DECEASED)
    return_mail(session, [(returned, "DEC", AS_OF - timedelta(days=40))])
    self_update(session, returned, AS_OF - timedelta(days=5))
    session.execute(update(Customer).where(Customer.id == returned.id).values(status=CustomerStatus.DECEASED))

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    by_return = _stored(session, returned)
    assert by_return.churn_risk == 1.0
    assert _kinds(by_return.churn_explanation or []) == [
        LineKind.MODEL, LineKind.TERMINAL, LineKind.NOT_COUNTED, LineKind.RESULT,
    ]
    terminal = (by_return.churn_explanation or [])[1]
    assert terminal["label"] == "Returned mail: Deceased"
    assert terminal["observed_on"] == (AS_OF - timedelta(days=40)).isoformat()
    assert "ends the relationship" in terminal["text"]

    by_status = _stored(session, recorded)
    assert by_status.churn_risk == 1.0
    lines = by_status.churn_explanation or []
    assert _kinds(lines) == [LineKind.MODEL, LineKind.TERMINAL, LineKind.RESULT]
    assert lines[1]["label"] == "Customer record marked deceased"
    assert lines[-1]["text"] == "Churn risk (no order within 365 days): 100%."
    assert report.deceased == 2


def test_a_merged_customers_history_counts_for_the_survivor(session: Session) -> None:
    add_population(session)
    survivor = regular_buyer(session, "M1")
    merged = regular_buyer(session, "M2")
    twin = regular_buyer(session, "M3")
    add_orders(session, merged, [AS_OF - timedelta(weeks=2)])
    return_mail(session, [(merged, "UNC", AS_OF)])
    session.execute(
        update(Customer)
        .where(Customer.id == merged.id)
        .values(status=CustomerStatus.MERGED, merged_into_id=survivor.id, churn_risk=0.9)
    )

    report = refresh_churn(session, as_of=AS_OF, actor="t")

    gone = _stored(session, merged)
    assert (gone.churn_risk, gone.churn_explanation, gone.churn_scored_at) == (None, None, None)
    assert (gone.churn_last_ordered_on, gone.churn_purchase_days, gone.churn_spent_cents) == (None, None, None)
    assert gone.churn_value_at_risk_cents is None
    kept = _stored(session, survivor)
    # Five shared purchase days and one more, six orders of 25.00 and the merged customer's five.
    assert (kept.churn_last_ordered_on, kept.churn_purchase_days, kept.churn_spent_cents) == (
        AS_OF - timedelta(weeks=2), 6, 11 * 2_500,
    )
    lines = kept.churn_explanation or []
    # Both customers' purchase days (the same five days and one more), and the merged one's return.
    assert lines[0]["text"].startswith("6 orders in 8 months, none in the last 2 weeks;")
    assert [line["label"] for line in lines if line["kind"] == "evidence"] == ["Returned mail: Unclaimed"]
    assert kept.churn_risk != _stored(session, twin).churn_risk
    assert report.merged == 1


def test_scoring_leaves_updated_at_alone_and_reports_progress(session: Session) -> None:
    add_population(session, 60)
    customer = regular_buyer(session, "U1")
    updated_at = _stored(session, customer).updated_at
    calls: list[tuple[int, int]] = []

    refresh_churn(session, as_of=AS_OF, actor="t", progress=lambda advance, total: calls.append((advance, total)))

    assert _stored(session, customer).updated_at == updated_at
    totals = {total for _, total in calls}
    assert len(totals) == 1
    assert sum(advance for advance, _ in calls) == totals.pop()


def test_the_refresh_is_audited_with_the_fit_and_the_counts(session: Session) -> None:
    add_population(session)
    customer = regular_buyer(session, "A1")
    return_mail(session, [(customer, "REF", AS_OF)])

    report = refresh_churn(session, as_of=AS_OF, actor="analyst@example.com", unit=TimeUnit.DAY)

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "churn.refresh")).one()
    assert (entry.actor, entry.object_type, entry.object_id) == ("analyst@example.com", "churn_model", "2026-06-30")
    detail = entry.detail
    assert report.fit is not None
    assert detail["params"] == pytest.approx(
        {"r": report.fit.params.r, "alpha": report.fit.params.alpha, "a": report.fit.params.a, "b": report.fit.params.b}
    )
    assert detail["log_likelihood"] == pytest.approx(report.fit.log_likelihood)
    assert detail["unit"] == "day"
    assert detail["scored"] == 151 and detail["with_evidence"] == 1
    assert detail["returns_used"] == {"REF": 1}
    assert json.loads(json.dumps(detail)) == detail


def test_an_empty_database_is_refreshed_to_nothing(session: Session) -> None:
    report = refresh_churn(session, as_of=AS_OF, actor="t")

    assert (report.scored, report.fit, report.orders_used, report.with_evidence) == (0, None, 0, 0)


def test_a_bad_half_life_is_refused_before_any_work(session: Session) -> None:
    with pytest.raises(ValueError, match="half_life_days"):
        refresh_churn(session, as_of=date(2026, 1, 1), actor="t", half_life_days=0)
    with pytest.raises(ValueError, match="horizon_days"):
        refresh_churn(session, as_of=date(2026, 1, 1), actor="t", horizon_days=0)


def test_a_shorter_horizon_raises_every_modelled_risk(session: Session) -> None:
    add_population(session)
    refresh_churn(session, as_of=AS_OF, actor="t", horizon_days=365)
    year = _risks(session)

    report = refresh_churn(session, as_of=AS_OF, actor="t", horizon_days=30)

    month = _risks(session)
    assert report.horizon_days == 30
    assert all((month[no] or 0) > (year[no] or 0) for no in year)
    lines = _stored(session, session.scalars(select(Customer)).first()).churn_explanation or []  # type: ignore[arg-type]
    assert lines[-1]["text"].startswith("Churn risk (no order within 30 days): ")


def test_the_refresh_is_kept_with_its_backtest_horizon_and_currency(session: Session) -> None:
    add_population(session, 400)

    report = refresh_churn(session, as_of=AS_OF, actor="t", horizon_days=180, currency="CNY")

    run = session.scalars(select(ChurnRun)).one()
    assert (run.as_of, run.horizon_days, run.model, run.currency) == (AS_OF, 180, "mbg/nbd", "CNY")
    assert run.params is not None and set(run.params) == {"r", "alpha", "a", "b"}
    # Fitted on the orders to one horizon before the as-of day, scored on that horizon.
    assert run.backtest is not None and run.backtest_note is None
    assert run.backtest["calibration_end"] == str(AS_OF - timedelta(days=180))
    assert run.backtest["horizon_days"] == 180
    assert len(run.backtest["calibration"]) == 10
    assert {b["name"] for b in run.backtest["baselines"]} >= {"recency", "frequency", "bg/nbd 1 - p_alive"}
    assert 0.5 < run.backtest["auc"] <= 1
    assert report.backtest is not None and report.as_dict()["backtest"]["auc"] == run.backtest["auc"]
    assert report.spend_fit is not None and report.spend_fit.converged


def test_a_backtest_that_cannot_be_run_is_noted_and_the_scores_still_written(session: Session) -> None:
    # A horizon longer than the order history: nothing to fit on one horizon before the as-of day.
    add_population(session)

    refresh_churn(session, as_of=AS_OF, actor="t", horizon_days=3000)

    run = session.scalars(select(ChurnRun)).one()
    assert run.backtest is None
    assert run.backtest_note == (
        f"no backtest with orders up to {AS_OF - timedelta(days=3000)}: no orders on or before the calibration end"
    )
    assert None not in session.scalars(select(Customer.churn_risk)).all()


def test_the_spend_at_stake_ranks_by_risk_times_the_spend_expected_within_the_horizon(session: Session) -> None:
    add_population(session)
    # Two customers with the same history, one spending ten times as much per order.
    small = regular_buyer(session, "S1")
    large = add_customer(session, "S2", line1="2 Large Road")
    days = session.scalars(select(Order.ordered_on).where(Order.customer_id == small.id)).all()
    add_orders(session, large, list(days), cents=25_000)

    refresh_churn(session, as_of=AS_OF, actor="t")

    low, high = _stored(session, small), _stored(session, large)
    assert low.churn_risk == pytest.approx(high.churn_risk)
    # The spend model pulls a customer's amounts towards everyone's (all 25.00 here), but not all the way.
    assert (high.churn_expected_spend_cents or 0) > (low.churn_expected_spend_cents or 0) > 0
    assert (high.churn_value_at_risk_cents or 0) > (low.churn_value_at_risk_cents or 0)
