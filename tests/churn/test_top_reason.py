"""The main reason behind a stored churn explanation."""

from __future__ import annotations

import pytest

from mailer.churn.top_reason import top_reason, top_reason_words


def _line(kind: str, risk_after: float, **extra: object) -> dict[str, object]:
    return {"kind": kind, "text": f"{kind} line", "risk_after": risk_after, "observed_on": None,
            "odds_factor": None, "label": None, **extra}


@pytest.mark.parametrize(
    ("lines", "recency_days", "expected"),
    [
        # The evidence says more than the base: a 30% base is below even odds.
        (
            [_line("model", 0.3), _line("evidence", 0.6, odds_factor=3.5, label="Returned mail: Refused",
                                         observed_on="2026-05-01"), _line("result", 0.6)],
            80, "Returned mail: Refused (2026-05-01)",
        ),
        # The base dominates: 95% is log-odds 2.94, more than log 1.4.
        (
            [_line("model", 0.95), _line("evidence", 0.96, odds_factor=1.4, label="Returned mail: Unclaimed",
                                          observed_on="2026-05-01"), _line("result", 0.96)],
            230, "model: no purchase for 32 weeks",
        ),
        # The largest raise wins; a lowering never does.
        (
            [_line("model", 0.4),
             _line("evidence", 0.5, odds_factor=1.5, label="Returned mail: Vacant", observed_on="2026-01-01"),
             _line("evidence", 0.8, odds_factor=4.0, label="Returned mail: Moved", observed_on="2026-02-01"),
             _line("evidence", 0.5, odds_factor=0.25, label="Customer updated their own address",
                   observed_on="2026-03-01"),
             _line("result", 0.5)],
            10, "Returned mail: Moved (2026-02-01)",
        ),
        ([_line("model", 0.99), _line("terminal", 1.0, label="Returned mail: Deceased", observed_on="2026-04-04"),
          _line("result", 1.0)], 7, "Returned mail: Deceased (2026-04-04)"),
        ([_line("prior", 0.5), _line("result", 0.5)], None, "prior: no orders on record"),
        ([_line("prior", 0.5), _line("result", 0.5)], 40, "prior: too few repeat buyers for the model"),
        ([_line("model", 0.8), _line("result", 0.8)], 7, "model: no purchase for 1 week"),
        # Explanations stored before lines carried a label: the words before the dash.
        ([_line("model", 0.1), {"kind": "evidence", "text": "2026-05-02: Returned mail (NSN) — raises churn risk",
                                "risk_after": 0.3, "observed_on": "2026-05-02", "odds_factor": 1.5}],
         3, "2026-05-02: Returned mail (NSN)"),
        (None, 3, ""),
    ],
)
def test_top_reason(lines: list[dict[str, object]] | None, recency_days: int | None, expected: str) -> None:
    assert top_reason(lines, recency_days=recency_days) == expected


@pytest.mark.parametrize(
    ("lines", "recency_days", "expected"),
    [
        ([_line("prior", 0.5)], None, {"template": "prior: no orders on record", "values": {}}),
        ([_line("prior", 0.5)], 40, {"template": "prior: too few repeat buyers for the model", "values": {}}),
        ([_line("model", 0.8)], None, {"template": "model", "values": {}}),
        ([_line("model", 0.8)], 7,
         {"template": "model: no purchase for %(since)s", "values": {"since": 1, "unit": "week"}}),
        # A line stored with its label's phrase names the return by that phrase.
        ([_line("terminal", 1.0, label="Returned mail: Deceased", observed_on="2026-04-04",
                values={"label": {"template": "Returned mail: %(reason)s",
                                  "values": {"reason": "Deceased", "code": "DEC"}}})], 7,
         {"template": "%(label)s (%(observed_on)s)",
          "values": {"label": {"template": "Returned mail: %(reason)s",
                               "values": {"reason": "Deceased", "code": "DEC"}},
                     "observed_on": "2026-04-04"}}),
        # Lines stored before they had phrases give plain words, which no page translates.
        ([_line("terminal", 1.0, label="Returned mail: Deceased", observed_on="2026-04-04")], 7,
         {"template": "%(label)s (%(observed_on)s)",
          "values": {"label": "Returned mail: Deceased", "observed_on": "2026-04-04"}}),
        ([_line("model", 0.1), {"kind": "evidence", "text": "2026-05-02: Returned mail (NSN) — raises churn risk",
                                "risk_after": 0.3, "observed_on": "2026-05-02", "odds_factor": 1.5}],
         3, "2026-05-02: Returned mail (NSN)"),
        (None, 3, ""),
    ],
)
def test_top_reason_words(lines: list[dict[str, object]] | None, recency_days: int | None, expected: object) -> None:
    assert top_reason_words(lines, recency_days=recency_days) == expected
