"""Moving a stored churn risk at once: the lines a return and its correction add, with their phrases."""

from __future__ import annotations

from datetime import date

import pytest

from mailer.churn import wording
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.evidence import BaseFigure, Evidence, base_figure_without_orders
from mailer.churn.explanation import explain
from mailer.churn.odds import log_odds_of
from mailer.churn.stored_risk import add_evidence, withdraw_evidence
from returns.catalog import REASONS

TODAY = date(2026, 6, 30)
REFUSED = REASONS["REF"]


def _said_again(line: dict[str, object]) -> str:
    return wording.in_english({"template": wording.template_of(line), "values": wording.line_values(line)})  # type: ignore[arg-type]


def test_a_return_for_a_customer_never_scored_starts_from_the_prior_and_keeps_its_phrases() -> None:
    update = add_evidence(None, None, Evidence(REFUSED.evidence_label, REFUSED.churn_weight, TODAY), as_of=TODAY)

    start, returned, result = update.explanation
    assert start["text"] == "Not scored yet: starting from the stated prior churn risk of 50%."
    assert (start["template"], start["values"]) == (
        "Not scored yet: starting from the stated prior churn risk of %(risk_after)s.", {},
    )
    assert returned["text"] == f"{TODAY}: Returned mail: Refused — raises churn risk from 50% to 89% (weight ×8)."
    assert returned["values"]["label"]["values"] == {"reason": "Refused", "code": "REF"}
    assert result["text"] == "Churn risk: 89%."
    assert [_said_again(line) for line in update.explanation] == [line["text"] for line in update.explanation]


def test_a_correction_takes_the_return_back_and_names_it_by_its_code() -> None:
    scored = add_evidence(0.4, [], Evidence(REFUSED.evidence_label, REFUSED.churn_weight, TODAY), as_of=TODAY)

    corrected = withdraw_evidence(
        scored.risk, scored.explanation, label=REFUSED.evidence_label, risk_before=0.4, risk_after=scored.risk,
        on=TODAY,
    )

    assert corrected.risk == pytest.approx(0.4)
    kinds = [line["kind"] for line in corrected.explanation]
    assert kinds == ["model", "evidence", "evidence", "result"]
    taken_back = corrected.explanation[2]
    assert taken_back["text"] == f"{TODAY}: Returned mail: Refused — corrected: taken back; churn risk 84% → 40%."
    assert taken_back["label"] == "Returned mail: Refused"
    assert taken_back["values"] == {
        "label": {"template": "Returned mail: %(reason)s", "values": {"reason": "Refused", "code": "REF"}},
        "risk_before": pytest.approx(scored.risk),
    }
    assert [_said_again(line) for line in corrected.explanation] == [line["text"] for line in corrected.explanation]


@pytest.mark.parametrize("risk", [None, 0.4055, 0.2064, 0.999])
def test_a_return_adds_exactly_the_lines_explain_writes_after_its_base_line(risk: float | None) -> None:
    moved = REASONS["MLNA"]
    item = Evidence(moved.evidence_label, moved.churn_weight, date(2026, 5, 22))
    base = (
        base_figure_without_orders(unit=TimeUnit.WEEK)
        if risk is None
        else BaseFigure(log_odds=log_odds_of(risk), from_prior=True, x=0, t_x=0.0, T=0.0, unit=TimeUnit.WEEK)
    )

    # A scored customer's stored explanation closes with the horizon its risk is for; that line is replaced.
    stored = [] if risk is None else explain(base, [], as_of=TODAY).to_json()

    update = add_evidence(risk, stored, item, as_of=TODAY)

    assessment = explain(base, [item], as_of=TODAY)
    if risk is None:
        # Never scored: the prior has no horizon, and the closing line says the risk alone.
        assert update.explanation[1:-1] == [line.to_json() for line in assessment.lines[1:-1]]
        assert update.explanation[-1]["wording"] == "result"
        assert update.explanation[-1]["risk_after"] == assessment.risk
    else:
        assert update.explanation == [line.to_json() for line in assessment.lines]
        assert update.explanation[-1]["text"].startswith("Churn risk (no order within 365 days): ")
    assert update.risk == assessment.risk


def test_a_correction_closes_with_the_result_line_explain_writes_for_the_new_risk() -> None:
    # 0.4055 comes back from log-odds as 0.40549999999999997: the closing line keeps explain's figure.
    moved = REASONS["MLNA"]
    before = BaseFigure(
        log_odds=log_odds_of(0.782662954378993), from_prior=True, x=0, t_x=0.0, T=0.0, unit=TimeUnit.WEEK,
        horizon_days=180,
    )
    corrected = withdraw_evidence(
        0.782662954378993, explain(before, [], as_of=TODAY).to_json(), label=moved.evidence_label,
        risk_before=0.4055, risk_after=0.782662954378993, on=TODAY,
    )

    base = BaseFigure(
        log_odds=log_odds_of(corrected.risk), from_prior=True, x=0, t_x=0.0, T=0.0, unit=TimeUnit.WEEK,
        horizon_days=180,
    )
    # The closing line keeps the stored risk's horizon.
    assert corrected.explanation[-1] == explain(base, [], as_of=TODAY).lines[-1].to_json()
    assert corrected.explanation[-1]["values"] == {"horizon_days": 180}
