"""Evidence on top of the model: weights, fading, terminal returns and the prior."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from mailer.churn import evidence as ev
from mailer.churn.bgnbd import Model, TimeUnit, p_alive
from mailer.churn.evidence import BaseFigure, Evidence, HistoryRule
from mailer.churn.explanation import LineKind, explain
from returns.catalog import REASONS, Reason
from tests.churn.lines import AS_OF, PARAMS, fixed_base, odds, returned


@pytest.mark.parametrize(
    ("label", "weight"),
    [
        ("Moved, left no address", 6.0),
        ("Refused", 8.0),
        ("Unclaimed", 1.4),
        ("Temporarily away", 1.0),
        ("Customer updated their own address", ev.SELF_UPDATE_WEIGHT),
    ],
)
def test_fresh_evidence_multiplies_the_odds_of_churn_by_its_weight(label: str, weight: float) -> None:
    base = fixed_base(0.3)

    assessment = explain(base, [returned(label, weight)], as_of=AS_OF)

    assert odds(assessment.risk) / odds(0.3) == pytest.approx(weight, rel=1e-12)
    if weight > 1:
        assert assessment.risk > 0.3
    elif weight < 1:
        assert assessment.risk < 0.3
    else:
        assert assessment.risk == pytest.approx(0.3, rel=1e-12)


@pytest.mark.parametrize("reason", [r for r in REASONS.values() if not r.is_terminal], ids=lambda r: r.code)
def test_every_catalog_weight_moves_the_risk_by_its_weight(reason: Reason) -> None:
    weight = reason.churn_weight
    base = np.log(np.array([odds(0.1), odds(0.5), odds(0.9)]))

    risk = ev.combine(
        base,
        evidence_customer=np.arange(3),
        evidence_weight=np.full(3, weight),
        evidence_age_days=np.zeros(3),
    )

    assert (risk / (1 - risk)) / np.exp(base) == pytest.approx(np.full(3, weight), rel=1e-12)


def test_an_effect_halves_its_log_odds_at_each_half_life() -> None:
    half_life = 180.0
    weight = 6.0
    base = np.zeros(4)

    risk = ev.combine(
        base,
        evidence_customer=np.arange(4),
        evidence_weight=np.full(4, weight),
        evidence_age_days=np.array([0.0, 180.0, 360.0, 90.0]),
        half_life_days=half_life,
    )

    shift = np.log(risk / (1 - risk))
    assert shift == pytest.approx(
        [math.log(6), math.log(6) / 2, math.log(6) / 4, math.log(6) / math.sqrt(2)], rel=1e-12
    )
    # The same in the customer's explanation: after one half-life the odds move by √6.
    one = explain(fixed_base(0.5), [returned("Moved, left no address", weight, 180)], as_of=AS_OF, half_life_days=180)
    assert one.lines[1].odds_factor == pytest.approx(math.sqrt(6), rel=1e-12)
    assert "(weight ×6, faded to ×2.4 after 180 days; half-life 180 days)" in one.lines[1].text


def test_deceased_makes_the_risk_one_whatever_else_is_known() -> None:
    evidence = [
        returned("Deceased", math.inf, 100),
        returned("Customer updated their own address", 0.25, 10),
        returned("Unclaimed", 1.4, 300),
    ]

    assessment = explain(fixed_base(0.01), evidence, as_of=AS_OF)
    risk = ev.combine(
        np.array([math.log(odds(0.01))]),
        evidence_customer=np.zeros(3, dtype=int),
        evidence_weight=np.array([e.weight for e in evidence]),
        evidence_age_days=np.array([(AS_OF - e.observed_on).days for e in evidence]),
    )

    assert assessment.risk == 1.0
    assert risk.tolist() == [1.0]
    kinds = [line.kind for line in assessment.lines]
    assert kinds == [
        LineKind.MODEL,
        LineKind.EVIDENCE,
        LineKind.TERMINAL,
        LineKind.NOT_COUNTED,
        LineKind.RESULT,
    ]
    assert "ends the relationship" in assessment.lines[2].text
    assert "not counted" in assessment.lines[3].text
    assert assessment.text[-1] == "Churn risk (no order within 365 days): 100%."


def test_evidence_dated_after_as_of_does_not_count_yet() -> None:
    future = Evidence(label="Deceased", weight=math.inf, observed_on=AS_OF + timedelta(days=1))

    assessment = explain(fixed_base(0.3), [future], as_of=AS_OF)
    risk = ev.combine(
        np.array([math.log(odds(0.3))]),
        evidence_customer=[0],
        evidence_weight=[math.inf],
        evidence_age_days=[-1.0],
    )

    assert assessment.risk == pytest.approx(0.3)
    assert risk[0] == pytest.approx(0.3)
    assert assessment.lines[1].kind is LineKind.NOT_COUNTED
    assert "not counted yet" in assessment.lines[1].text


def test_explain_and_combine_agree_on_every_customer() -> None:
    rng = np.random.default_rng(5)
    n, items = 200, 600
    base = rng.normal(0, 2, n)
    customer = rng.integers(0, n, items)
    weight = rng.choice([0.25, 1.0, 1.4, 3.0, 6.0, 8.0, math.inf], size=items, p=[0.2, 0.1, 0.2, 0.2, 0.15, 0.14, 0.01])
    age = rng.integers(-30, 1000, items)

    risk = ev.combine(
        base, evidence_customer=customer, evidence_weight=weight, evidence_age_days=age, half_life_days=200
    )

    for i in range(n):
        mine = customer == i
        figure = BaseFigure(log_odds=base[i], from_prior=False, x=2, t_x=5.0, T=30.0, unit=TimeUnit.WEEK)
        evidence = [
            Evidence(label=f"item {k}", weight=w, observed_on=AS_OF - timedelta(days=int(a)))
            for k, (w, a) in enumerate(zip(weight[mine], age[mine], strict=True))
        ]
        assert explain(figure, evidence, as_of=AS_OF, half_life_days=200).risk == pytest.approx(risk[i], rel=1e-9)


# --- the base figure: no purchase within the horizon, one-time buyers included ------------------


def test_a_one_time_buyer_is_scored_by_the_model_and_the_longer_ago_the_riskier() -> None:
    recent = ev.base_figure(PARAMS, 0, 0.0, 4.0, unit=TimeUnit.WEEK)
    long_ago = ev.base_figure(PARAMS, 0, 0.0, 104.0, unit=TimeUnit.WEEK)

    assert not recent.from_prior and not long_ago.from_prior
    assert 0 < recent.risk < long_ago.risk < 1
    assert explain(recent, [], as_of=AS_OF).lines[0].kind is LineKind.MODEL


@pytest.mark.parametrize(
    ("x", "t_x", "age_weeks"),
    [(0, 0.0, 6.0), (0, 0.0, 150.0), (3, 5.0, 8.0), (3, 5.0, 13.0), (1, 40.0, 150.0)],
)
def test_the_base_figure_is_the_chance_of_no_purchase_within_the_horizon(x: int, t_x: float, age_weeks: float) -> None:
    log_odds = ev.base_log_odds(PARAMS, [x], [t_x], [age_weeks], unit=TimeUnit.WEEK, horizon_days=182)

    alive = p_alive(PARAMS, [x], [t_x], [age_weeks], model=Model.MBG_NBD)[0]
    none_if_alive = ((PARAMS.alpha + age_weeks) / (PARAMS.alpha + age_weeks + 26.0)) ** (PARAMS.r + x)
    assert 1 / (1 + math.exp(-log_odds[0])) == pytest.approx(1 - alive * (1 - none_if_alive))


def test_the_horizon_reads_days_whatever_the_unit() -> None:
    in_weeks = ev.base_log_odds(PARAMS, [2, 0], [1.0, 0.0], [12.9, 30.0], unit=TimeUnit.WEEK, horizon_days=365)
    in_days = ev.base_log_odds(
        PARAMS.in_unit(TimeUnit.WEEK, TimeUnit.DAY), [2, 0], [7.0, 0.0], [90.3, 210.0], unit=TimeUnit.DAY,
        horizon_days=365,
    )

    assert in_weeks == pytest.approx(in_days)


def test_a_longer_horizon_lowers_the_risk() -> None:
    risks = [ev.base_figure(PARAMS, 3, 20.0, 40.0, unit=TimeUnit.WEEK, horizon_days=h).risk for h in (30, 365, 730)]

    assert risks[0] > risks[1] > risks[2]


def test_a_customer_without_orders_gets_the_stated_prior() -> None:
    rule = HistoryRule(prior_risk=0.3)

    assessment = explain(ev.base_figure_without_orders(unit=TimeUnit.WEEK, rule=rule), [], as_of=AS_OF)

    assert assessment.risk == pytest.approx(0.3)
    assert assessment.text == [
        "No orders on record: the stated prior for customers without orders.",
        "Churn risk (no order within 365 days): 30%.",
    ]


def test_evidence_moves_the_prior_like_any_base() -> None:
    base = ev.base_figure_without_orders(unit=TimeUnit.WEEK)

    assessment = explain(base, [returned("Refused", 8.0)], as_of=AS_OF)

    assert assessment.risk == pytest.approx(8 / 9)


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0.0, -1.0, math.nan])
def test_evidence_weight_must_be_a_positive_likelihood_ratio(weight: float) -> None:
    with pytest.raises(ValueError, match="positive likelihood ratio"):
        Evidence(label="x", weight=weight, observed_on=AS_OF)
    with pytest.raises(ValueError, match="positive likelihood ratios"):
        ev.combine([0.0], evidence_customer=[0], evidence_weight=[weight], evidence_age_days=[0.0])


def test_combine_checks_its_arrays() -> None:
    with pytest.raises(ValueError, match="index into base"):
        ev.combine([0.0], evidence_customer=[1], evidence_weight=[2.0], evidence_age_days=[0.0])
    with pytest.raises(ValueError, match="same length"):
        ev.combine([0.0], evidence_customer=[0, 0], evidence_weight=[2.0], evidence_age_days=[0.0])
    with pytest.raises(ValueError, match="half_life_days"):
        ev.combine([0.0], evidence_customer=[0], evidence_weight=[2.0], evidence_age_days=[0.0], half_life_days=0)
    with pytest.raises(ValueError, match="half_life_days"):
        explain(fixed_base(), [], as_of=AS_OF, half_life_days=math.inf)


@pytest.mark.parametrize("prior_risk", [1.0, 0.0, -0.1, math.nan])
def test_the_stated_prior_must_lie_strictly_between_0_and_1(prior_risk: float) -> None:
    with pytest.raises(ValueError, match="prior_risk"):
        HistoryRule(prior_risk=prior_risk)


@pytest.mark.parametrize("horizon_days", [0, 3651, 30.5, True])
def test_the_horizon_must_be_whole_days_from_1_to_3650(horizon_days: int) -> None:
    with pytest.raises(ValueError, match="horizon_days"):
        ev.base_log_odds(PARAMS, [1], [1.0], [2.0], unit=TimeUnit.WEEK, horizon_days=horizon_days)
