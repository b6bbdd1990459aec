"""Churn explanations: the lines explain() writes, the shared base-only texts, and the facts each line stores."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pytest

from mailer.churn import evidence as ev
from mailer.churn import explanation, wording
from mailer.churn.bgnbd import Model, TimeUnit, p_no_purchase
from mailer.churn.evidence import BaseFigure, Evidence
from mailer.churn.explanation import LineKind, explain
from returns.catalog import REASONS
from tests.churn.lines import AS_OF, PARAMS, fixed_base, odds, returned, stored_lines
from tests.churn.simulation import simulate


def test_explanation_lists_the_base_figure_and_each_piece_of_evidence_with_its_effect_and_date() -> None:
    base = ev.base_figure(PARAMS, 4, 20.0, 52.0, unit=TimeUnit.WEEK)
    evidence = [
        returned("Customer updated their own address", 0.25, 30),
        returned("Returned mail: moved, left no address", 6.0, 200),
    ]

    assessment = explain(base, evidence, as_of=AS_OF, half_life_days=365)

    model_risk = p_no_purchase(PARAMS, [4], [20.0], [52.0], horizon=365 / 7, model=Model.MBG_NBD)[0]
    assert assessment.base_risk == pytest.approx(model_risk)
    # In a marketer's words, without the figure (the page shows it once) and without the model's name.
    fast, slow = ev.order_interval_days(PARAMS, [4], [52.0], unit=TimeUnit.WEEK)
    low, high, unit = wording.interval_in_unit(fast[0], slow[0])
    assert assessment.text[0] == (
        f"5 orders in 5 months, none in the last 7 months; customers like this usually order every {low}–{high} "
        f"{unit}s."
    )
    assert "%" not in assessment.text[0] and "BG/NBD" not in assessment.text[0]
    assert assessment.text[-1] == f"Churn risk (no order within 365 days): {assessment.risk:.0%}."
    # Oldest first, each with its date, direction, the risk before and after, and the faded weight.
    moved, updated = assessment.lines[1], assessment.lines[2]
    assert moved.observed_on == AS_OF - timedelta(days=200)
    assert moved.text.startswith(f"{AS_OF - timedelta(days=200)}: Returned mail: moved, left no address — raises")
    assert "weight ×6, faded to ×" in moved.text
    assert updated.text.startswith(f"{AS_OF - timedelta(days=30)}: Customer updated their own address — lowers")
    assert moved.risk_after > assessment.base_risk
    assert updated.risk_after < moved.risk_after
    assert assessment.lines[-1].kind is LineKind.RESULT
    assert assessment.lines[-1].risk_after == assessment.risk
    # Ready for a JSON column.
    stored = assessment.to_json()
    assert [line["kind"] for line in stored] == ["model", "evidence", "evidence", "result"]
    assert stored[1]["observed_on"] == (AS_OF - timedelta(days=200)).isoformat()
    assert stored[1]["odds_factor"] == pytest.approx(6.0 ** (0.5 ** (200 / 365)))


def test_base_only_explanations_are_exactly_what_explain_writes() -> None:
    rng = np.random.default_rng(12)
    n = 3_000
    # Ages and recencies in whole days, as the refresh has them, plus a few arbitrary ones.
    T = np.floor(rng.uniform(1, 160 * 7, n)) / 7
    T[:50] = rng.uniform(0, 30, 50)
    x, t_x, _ = simulate(PARAMS, n, T, rng)
    t_x = np.minimum(np.floor(t_x * 7) / 7, T)
    t_x[x == 0] = 0.0
    # Some bought last on the scoring day.
    t_x[100:130] = T[100:130]
    log_odds = ev.base_log_odds(PARAMS, x, t_x, T, unit=TimeUnit.WEEK, horizon_days=90)
    fast, slow = ev.order_interval_days(PARAMS, x, T, unit=TimeUnit.WEEK)
    has_orders = rng.uniform(size=n) > 0.1
    log_odds = np.where(has_orders, log_odds, math.log(odds(ev.DEFAULT_RULE.prior_risk)))
    # No model fitted for some: the stated prior, orders or not.
    from_prior = ~has_orders | (np.arange(n) % 97 == 0)
    # Extremes print as "under 1%" and "over 99%".
    log_odds[np.flatnonzero(~from_prior)[:2]] = [-9.0, 9.0]

    texts = explanation.BaseOnlyExplanations(unit=TimeUnit.WEEK, horizon_days=90).render(
        log_odds, from_prior, x, t_x, T, has_orders, (fast, slow)
    )

    for i in range(n):
        base = BaseFigure(
            log_odds=float(log_odds[i]), from_prior=bool(from_prior[i]), x=int(x[i]), t_x=float(t_x[i]),
            T=float(T[i]), unit=TimeUnit.WEEK, has_orders=bool(has_orders[i]), horizon_days=90,
            interval_days=None if from_prior[i] else (float(fast[i]), float(slow[i])),
        )
        assert texts[i] == json.dumps(explain(base, [], as_of=AS_OF).to_json()), i
    wordings = {json.loads(text)[0]["wording"] for text in texts}
    assert wordings == {"history", "history_today", "one_order", "one_order_today", "no_orders_prior", "no_model"}


def test_each_evidence_line_carries_its_label() -> None:
    assessment = explain(fixed_base(0.3), [returned("Returned mail: Refused", 8.0, 3)], as_of=AS_OF)

    stored = assessment.to_json()
    assert [line["label"] for line in stored] == [None, "Returned mail: Refused", None]


# --- stored phrases: the facts that say each line again -----------------------------------------


def _wordings(data: object) -> set[str]:
    """Return the wording keys named anywhere in stored lines, nested phrases included."""
    found: set[str] = set()
    if isinstance(data, dict):
        if "wording" in data:
            found.add(data["wording"])
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            found |= _wordings(item)
    return found


def test_every_line_stores_the_facts_that_say_its_text_again() -> None:
    lines = stored_lines()

    assert {line["kind"] for line in lines} == {kind.value for kind in LineKind}
    assert _wordings(lines) == set(wording.Wording)
    for line in lines:
        words = {"template": wording.template_of(line), "values": wording.line_values(line)}  # type: ignore[arg-type]
        assert wording.in_english(words) == line["text"], line


def test_a_line_stores_its_wording_and_raw_figures_not_words() -> None:
    assessment = explain(
        ev.base_figure(PARAMS, 4, 20.0, 52.0, unit=TimeUnit.WEEK),
        [Evidence(REASONS["MLNA"].evidence_label, 6.0, AS_OF - timedelta(days=200))],
        as_of=AS_OF,
    )

    model, moved, result = assessment.to_json()
    assert model["wording"] == "history"
    fast, slow = ev.order_interval_days(PARAMS, [4], [52.0], unit=TimeUnit.WEEK)
    assert model["values"] == {
        "orders": 5, "span_days": 140, "since_days": 224, "interval_days": [round(fast[0], 1), round(slow[0], 1)],
    }
    assert moved["wording"] == "raises_faded"
    assert moved["values"] == {
        # The reason's code beside its English name, for a page to name it in its own language.
        "label": {
            "template": "Returned mail: %(reason)s", "values": {"reason": "Moved, left no address", "code": "MLNA"}
        },
        "risk_before": pytest.approx(model["risk_after"]),
        "weight": 6.0,
        "faded": pytest.approx(6.0 ** (0.5 ** (200 / 365))),
        "days": 200,
        "half_life_days": 365.0,
    }
    # The line's own figures fill the rest: its risk, its day, its label in English.
    assert moved["label"] == "Returned mail: Moved, left no address"
    assert (result["wording"], result["values"]) == ("result_horizon", {"horizon_days": 365})
    assert wording.WORDINGS[wording.Wording(moved["wording"])].startswith("%(observed_on)s: %(label)s — raises")


def test_labels_keep_their_phrase_and_plain_words_stay_words() -> None:
    lines = explain(
        fixed_base(0.3), [ev.self_update(AS_OF), returned("a note typed by hand", 2.0, 1)], as_of=AS_OF
    ).to_json()

    assert lines[1]["values"]["label"] == "a note typed by hand"
    assert lines[2]["values"]["label"] == {"wording": "self_update", "values": {}}
    assert lines[2]["label"] == "Customer updated their own address"


@pytest.mark.parametrize(
    ("days", "words"),
    [(0, "0 days"), (1, "1 day"), (13, "13 days"), (14, "2 weeks"), (91, "3 months"), (800, "2 years")],
)
def test_spans_are_said_in_the_unit_that_suits_them(days: int, words: str) -> None:
    assert wording.say_values({"since_days": days})[0]["since_days"] == words


@pytest.mark.parametrize(
    ("interval", "words"),
    [
        ([5.0, 12.0], "5–12 days"),
        ([8.0, 15.0], "1–2 weeks"),
        ([30.0, 90.0], "1–3 months"),
        ([40.0, 45.0], "6 weeks or so"),
        ([400.0, 9000.0], "1 year or longer"),
    ],
)
def test_the_usual_interval_between_orders_is_a_range_in_one_unit(interval: list[float], words: str) -> None:
    assert wording.say_values({"interval_days": interval})[0]["interval_days"] == words


def test_risks_near_the_ends_are_words_and_the_rest_whole_percents() -> None:
    assert [wording.format_risk(p) for p in (0.0, 0.004, 0.01, 0.425, 0.99, 0.996, 1.0)] == [
        "0%", "under 1%", "1%", "42%", "99%", "over 99%", "100%",
    ]
