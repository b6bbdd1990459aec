"""Moving a stored churn risk at once: the lines a return and its correction add, with their phrases."""

from __future__ import annotations

from datetime import date

import pytest

from mailer.churn import wording
from mailer.churn.evidence import Evidence
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
