"""The churn commands: ``fit`` on an orders file; ``refresh`` and ``list`` on the stored customers."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.churn import bgnbd
from mailer.churn.bgnbd import BgNbdParams, TimeUnit
from mailer.churn.cli import churn_cli
from mailer.churn.service import refresh_churn
from mailer.customers.models import Customer, CustomerStatus
from mailer.files import PRIVATE_FILE_MODE
from tests.churn.simulation import simulate, simulate_orders
from tests.churn.stored import AS_OF as STORED_AS_OF
from tests.churn.stored import add_population, regular_buyer, return_mail
from tests.conftest import file_mode

AS_OF = date(2024, 6, 30)
HEADER = "customer_no,order_date,amount\n"


def _simulated_rows(n: int = 3_000, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    x, t_x, T = simulate(BgNbdParams(0.8, 6.0, 0.9, 3.0), n, rng.uniform(20, 80, n), rng)
    customer, days = simulate_orders(x, t_x, T, as_of=AS_OF, unit=TimeUnit.WEEK, rng=rng)
    epoch = date(1970, 1, 1)
    amounts = rng.uniform(5, 200, customer.size)
    return [
        f"K{c:05d},{epoch + timedelta(days=int(d))},{a:.2f}\n" for c, d, a in zip(customer, days, amounts, strict=True)
    ]


@pytest.fixture(scope="module")
def simulated_rows() -> list[str]:
    return _simulated_rows()


def _write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _fit(path: Path, *extra: str) -> Result:
    return CliRunner().invoke(churn_cli, ["fit", "--orders", str(path), "--as-of", AS_OF.isoformat(), *extra])


def test_fit_prints_the_parameters_as_json(tmp_path: Path, simulated_rows: list[str]) -> None:
    path = _write(tmp_path, HEADER + "".join(simulated_rows), bom=True)

    result = _fit(path, "--json")

    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout)
    assert set(fitted) == {"r", "alpha", "a", "b", "log_likelihood"}
    # The same fit as the library's on the same orders.
    customer_nos = np.array([row.split(",")[0] for row in simulated_rows])
    order_days = np.array([row.split(",")[1] for row in simulated_rows], dtype="datetime64[D]")
    summary = bgnbd.summarize_orders(customer_nos, order_days, as_of=AS_OF)
    expected = bgnbd.fit(summary.x, summary.t_x, summary.T)
    assert fitted["log_likelihood"] == pytest.approx(expected.log_likelihood, rel=1e-12)
    assert fitted["r"] == pytest.approx(expected.params.r, rel=1e-9)
    assert fitted["alpha"] == pytest.approx(expected.params.alpha, rel=1e-9)
    # And near the parameters the orders were drawn from.
    assert fitted["r"] == pytest.approx(0.8, rel=0.25)
    assert fitted["alpha"] == pytest.approx(6.0, rel=0.25)


def test_fit_prints_a_readable_table(tmp_path: Path, simulated_rows: list[str]) -> None:
    result = _fit(_write(tmp_path, HEADER + "".join(simulated_rows)))

    assert result.exit_code == 0, result.output
    assert "BG/NBD fit on 3,000 customers" in result.output
    for name in ("r ", "alpha", "a ", "b ", "log-likelihood"):
        assert f"  {name}" in result.output
    assert "(weeks)" in result.output
    assert "Ignored" not in result.output


def test_fitting_in_days_gives_the_same_model(tmp_path: Path, simulated_rows: list[str]) -> None:
    path = _write(tmp_path, HEADER + "".join(simulated_rows))
    customer_nos = np.array([row.split(",")[0] for row in simulated_rows])
    order_days = np.array([row.split(",")[1] for row in simulated_rows], dtype="datetime64[D]")
    repeat_days = bgnbd.summarize_orders(customer_nos, order_days, as_of=AS_OF).x.sum()

    weeks = json.loads(_fit(path, "--json").stdout)
    days = json.loads(_fit(path, "--json", "--unit", "day").stdout)

    assert days["alpha"] == pytest.approx(7 * weeks["alpha"], rel=1e-4)
    for name in ("r", "a", "b"):
        assert days[name] == pytest.approx(weeks[name], rel=1e-4)
    # One factor 1/7 per repeat purchase in the density of purchase times.
    assert days["log_likelihood"] == pytest.approx(weeks["log_likelihood"] - repeat_days * math.log(7), abs=1e-3)


def test_orders_after_as_of_are_ignored_and_counted(tmp_path: Path, simulated_rows: list[str]) -> None:
    later = ["K00001,2024-07-01,10.00\n", "K99999,2025-01-01,10.00\n"]
    path = _write(tmp_path, HEADER + "".join(simulated_rows) + "".join(later))

    text = _fit(path)
    as_json = _fit(path, "--json")

    assert text.exit_code == 0
    assert "Ignored 2 orders dated after 2024-06-30." in text.stdout
    assert "BG/NBD fit on 3,000 customers" in text.stdout
    assert as_json.exit_code == 0
    assert "Ignored 2 orders dated after 2024-06-30." in as_json.stderr
    assert json.loads(as_json.stdout) == json.loads(
        _fit(_write(tmp_path, HEADER + "".join(simulated_rows)), "--json").stdout
    )


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("K00001,05/03/2024,10.00", "row 4, order_date: '05/03/2024' is not a date in YYYY-MM-DD form"),
        ("K00001,2024-02-30,10.00", "row 4, order_date: '2024-02-30'"),
        ("K00001,,10.00", "row 4, order_date: ''"),
        (" ,2024-03-05,10.00", "row 4, customer_no: empty"),
        ('K00001,2024-03-05,"12,50"', "row 4, amount: '12,50' is not a number"),
        ("K00001,2024-03-05,¥12", "row 4, amount: '¥12' is not a number"),
        ("K00001,2024-03-05,-5.00", "row 4, amount: -5.00 is negative"),
        ("K00001,1899-12-31,10.00", "row 4, order_date: 1899-12-31 is before 1900-01-01"),
        ("K00001,2024-03-05,١٢", "row 4, amount: '١٢' is not a number"),
        ("K00001,2024-03-05,1,234.50", "row 4: expected 3 fields like the header, found 4"),
        ("K00001,2024-03-05", "row 4: expected 3 fields like the header, found 2"),
    ],
)
def test_a_bad_row_stops_the_fit_and_is_named(tmp_path: Path, bad_row: str, message: str) -> None:
    rows = "K00001,2024-01-05,10.00\nK00001,2024-02-05,10.00\n" + bad_row + "\nK00002,2024-01-01,3\n"
    path = _write(tmp_path, HEADER + rows)

    result = _fit(path)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "log-likelihood" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"customer,order_date,amount\nK1,2024-01-01,1\n", "row 1: the header lacks customer_no"),
        (b"customer_no,order_date,amount,order_date\n", "row 1: column order_date appears twice"),
        (HEADER.encode() + "K1,2024-01-01,1\nK2,2024-01-02,3\n".encode("utf-16"), "not valid UTF-8"),
        (HEADER.encode() + b"K1,2024-01-01,1\nK1,2024-01-01,2\n", "no customer has a repeat purchase"),
        (HEADER.encode() + b"K1,2024-07-01,1\n", "no orders on or before 2024-06-30"),
    ],
)
def test_an_unusable_file_exits_with_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(content)

    result = _fit(path)

    assert result.exit_code == 2
    assert message in result.stderr


def test_header_is_read_loosely_and_extra_columns_are_ignored(tmp_path: Path, simulated_rows: list[str]) -> None:
    rows = [f"{row.rstrip()},note\n" for row in simulated_rows]
    path = _write(tmp_path, " Customer_No ,ORDER_DATE,amount,comment\n" + "\n".join(rows) + "\n\n", bom=True)

    loose = _fit(path, "--json")
    plain = _fit(_write(tmp_path, HEADER + "".join(simulated_rows)), "--json")

    assert loose.exit_code == 0, loose.output
    assert json.loads(loose.stdout) == json.loads(plain.stdout)


def test_timestamps_count_by_their_day(tmp_path: Path, simulated_rows: list[str]) -> None:
    stamped = []
    for row in simulated_rows:
        customer_no, day, amount = row.rstrip("\n").split(",")
        stamped.append(f"{customer_no},{day} 13:45:00,{amount}\n")

    with_time = _fit(_write(tmp_path, HEADER + "".join(stamped)), "--json")
    plain = _fit(_write(tmp_path, HEADER + "".join(simulated_rows)), "--json")

    assert with_time.exit_code == 0, with_time.output
    assert json.loads(with_time.stdout) == json.loads(plain.stdout)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = _fit(tmp_path / "nope.csv")

    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_help_says_a_bad_row_fails_the_fit() -> None:
    result = CliRunner().invoke(churn_cli, ["fit", "--help"])

    assert result.exit_code == 0
    assert "A bad row stops the whole fit" in result.output
    assert "--as-of" in result.output
    assert "[default: week]" in result.output


def test_a_fit_that_does_not_converge_exits_with_1(
    tmp_path: Path, simulated_rows: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fit = bgnbd.fit

    def stalled_fit(*args: object, **kwargs: object) -> bgnbd.FitResult:
        return dataclasses.replace(real_fit(*args, **kwargs), converged=False, message="ABNORMAL")  # type: ignore[arg-type]

    monkeypatch.setattr(bgnbd, "fit", stalled_fit)

    result = _fit(_write(tmp_path, HEADER + "".join(simulated_rows)))

    assert result.exit_code == 1
    assert "log-likelihood" in result.stdout
    assert "The fit did not converge: ABNORMAL" in result.stderr


# --- churn refresh and churn list on the stored data ----------------------------------------------


def test_refresh_scores_the_stored_customers_and_commits(runner: FlaskCliRunner, session: Session) -> None:
    add_population(session)
    returned = regular_buyer(session, "R1")
    return_mail(session, [(returned, "MLNA", STORED_AS_OF)])

    result = runner.invoke(args=["churn", "refresh", "--as-of", STORED_AS_OF.isoformat()])

    assert result.exit_code == 0, result.output
    assert "Scored 151 customers as of 2026-06-30:" in result.stdout
    assert "Evidence for 1 customers: 1 returns, 0 self-service address updates (half-life 365 days)." in (
        result.stdout
    )
    assert "MBG/NBD on 151 customers" in result.stdout
    assert "churn risk = chance of no order within 365 days" in result.stdout
    session.expire_all()
    assert None not in session.scalars(select(Customer.churn_risk)).all()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "churn.refresh")).one()
    assert entry.actor.startswith("cli:")


def test_refresh_prints_json_and_takes_the_half_life(runner: FlaskCliRunner, session: Session) -> None:
    add_population(session, 80)

    result = runner.invoke(
        args=["churn", "refresh", "--as-of", STORED_AS_OF.isoformat(), "--half-life-days", "90", "--unit", "day",
              "--json"]
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["as_of"], report["unit"], report["half_life_days"]) == ("2026-06-30", "day", 90)
    assert report["scored"] == 80
    assert set(report["params"]) == {"r", "alpha", "a", "b"}
    assert (report["horizon_days"], report["model"]) == (365, "mbg/nbd")


def test_refresh_takes_the_horizon_from_the_option_or_the_setting(
    runner: FlaskCliRunner, session: Session, app: Flask
) -> None:
    add_population(session, 80)
    app.config["CHURN_HORIZON_DAYS"] = 120

    by_setting = runner.invoke(args=["churn", "refresh", "--as-of", STORED_AS_OF.isoformat(), "--json"])
    by_option = runner.invoke(
        args=["churn", "refresh", "--as-of", STORED_AS_OF.isoformat(), "--horizon-days", "30", "--json"]
    )
    refused = runner.invoke(args=["churn", "refresh", "--horizon-days", "0"])

    assert json.loads(by_setting.stdout)["horizon_days"] == 120
    assert json.loads(by_option.stdout)["horizon_days"] == 30
    assert refused.exit_code == 2


def test_the_help_defaults_match_the_library() -> None:
    from mailer.churn import cli, evidence

    assert cli.DEFAULT_HORIZON_DAYS == evidence.DEFAULT_HORIZON_DAYS


def test_refresh_that_does_not_converge_exits_1_and_writes_nothing(
    runner: FlaskCliRunner, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_population(session, 80)
    # The command shares this session and rolls it back: commit the customers so they outlive that.
    session.commit()
    real_fit = bgnbd.fit

    def stalled_fit(*args: object, **kwargs: object) -> bgnbd.FitResult:
        return dataclasses.replace(real_fit(*args, **kwargs), converged=False, message="ABNORMAL")  # type: ignore[arg-type]

    monkeypatch.setattr(bgnbd, "fit", stalled_fit)

    result = runner.invoke(args=["churn", "refresh", "--as-of", STORED_AS_OF.isoformat()])

    assert result.exit_code == 1
    assert "the MBG/NBD fit did not converge: ABNORMAL; nothing was written" in result.stderr
    risks = session.scalars(select(Customer.churn_risk)).all()
    assert len(risks) == 80 and set(risks) == {None}


def _listed(session: Session) -> None:
    add_population(session, 80)
    for number, reason in enumerate(("MLNA", "REF", "DEC"), start=1):
        customer = regular_buyer(session, f"W{number}", name=f"Win Back {number}")
        return_mail(session, [(customer, reason, STORED_AS_OF - timedelta(days=number))])
    session.execute(update(Customer).where(Customer.customer_no == "W3").values(status=CustomerStatus.DECEASED))
    refresh_churn(session, as_of=STORED_AS_OF, actor="t")


def test_list_prints_the_retention_list(runner: FlaskCliRunner, session: Session) -> None:
    _listed(session)

    result = runner.invoke(args=["churn", "list", "--min-risk", "0", "--limit", "3"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "customer_no", "name", "recency", "freq", "monetary", "expected", "risk", "validity", "status", "top_reason",
    ]
    assert len(lines) == 4
    assert "3 customers with churn risk at least 0% (chance of no order within 365 days; amounts in USD)." in (
        result.stderr
    )
    everyone = runner.invoke(args=["churn", "list", "--min-risk", "0"])
    assert "W1" in everyone.stdout and "W3" not in everyone.stdout
    assert "Returned mail: Moved, left no address" in everyone.stdout


@pytest.mark.usefixtures("open_umask")
def test_list_exports_csv_with_its_columns_and_audits_the_export(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    _listed(session)
    path = tmp_path / "retention.csv"

    result = runner.invoke(args=["churn", "list", "--min-risk", "0.0", "--csv", str(path)])

    assert result.exit_code == 0, result.output
    assert file_mode(path) == PRIVATE_FILE_MODE
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "customer_no", "name", "phone", "email", "line1", "line2", "city", "region", "postal_code", "country",
        "recency_days", "frequency", "monetary", "churn_risk", "churn_horizon_days", "expected_spend",
        "value_at_risk", "currency", "top_reason", "address_validity", "status",
    ]
    # Every row says what its risk means and which currency its amounts are in.
    assert {(row["churn_horizon_days"], row["currency"]) for row in rows} == {("365", "USD")}
    values = [float(row["value_at_risk"]) for row in rows]
    assert values == sorted(values, reverse=True)
    by_number = {row["customer_no"]: row for row in rows}
    assert "W3" not in by_number  # deceased
    assert len(rows) == 82
    refused = by_number["W2"]
    assert refused["name"] == "Win Back 2"
    assert refused["top_reason"] == f"Returned mail: Refused ({STORED_AS_OF - timedelta(days=2)})"
    assert (refused["frequency"], refused["monetary"], refused["address_validity"]) == ("5", "125.00", "unverified")
    risks = [float(row["churn_risk"]) for row in rows]
    assert all(0 <= risk <= 1 for risk in risks)
    assert f"Wrote 82 customers to {path}." in result.stdout
    session.expire_all()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.export")).one()
    assert entry.object_type == "retention_list"
    assert entry.detail["rows"] == 82 and entry.detail["file"] == "retention.csv"
    assert entry.detail["min_risk"] == 0.0


def test_list_help_says_who_is_listed() -> None:
    result = CliRunner().invoke(churn_cli, ["list", "--help"])

    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Active and do-not-mail customers are listed" in text
    assert "Deceased and merged customers are never listed" in text
    assert "[default: 0.7" in text


@pytest.mark.parametrize("value", ["nan", "NaN", "abc", "-1", "2", "inf"])
def test_list_refuses_a_min_risk_outside_0_to_1_as_a_usage_error(runner: FlaskCliRunner, value: str) -> None:
    result = runner.invoke(args=["churn", "list", "--min-risk", value])

    assert result.exit_code == 2, result.output
    assert "Invalid value for '--min-risk'" in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-3", "abc"])
def test_refresh_refuses_a_half_life_that_is_not_a_positive_number(runner: FlaskCliRunner, value: str) -> None:
    result = runner.invoke(args=["churn", "refresh", "--half-life-days", value])

    assert result.exit_code == 2, result.output
    assert "Invalid value for '--half-life-days'" in result.output
    assert isinstance(result.exception, SystemExit)


def test_list_refuses_a_csv_path_that_cannot_be_written_and_audits_nothing(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    _listed(session)
    path = tmp_path / "missing" / "retention.csv"

    result = runner.invoke(args=["churn", "list", "--min-risk", "0.0", "--csv", str(path)])

    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {path}: No such file or directory; nothing was exported\n"
    assert not path.parent.exists()
    session.expire_all()
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.export")).all() == []


def test_fit_says_error_like_the_other_commands(tmp_path: Path) -> None:
    result = _fit(_write(tmp_path, HEADER))

    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


CDNOW_SAMPLE = Path(__file__).parent / "data" / "cdnow_sample.csv.gz"


def test_fit_reproduces_the_bg_nbd_papers_estimates_on_the_cdnow_sample() -> None:
    # Fader, Hardie & Lee (2005), table 1: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = -9582.4,
    # on 39 weeks of calibration (to 1997-09-30), read straight from the gzip file.
    result = CliRunner().invoke(churn_cli, ["fit", "--orders", str(CDNOW_SAMPLE), "--as-of", "1997-09-30", "--json"])

    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout)
    assert fitted["r"] == pytest.approx(0.243, abs=5e-4)
    assert fitted["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert fitted["a"] == pytest.approx(0.793, abs=5e-4)
    assert fitted["b"] == pytest.approx(2.426, abs=5e-4)
    assert fitted["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_a_clean_file_is_read_a_column_at_a_time_to_the_same_orders(tmp_path: Path, simulated_rows: list[str]) -> None:
    from mailer.churn.orders_file import read_orders_csv

    clean = _write(tmp_path, HEADER + "".join(simulated_rows[:500]))
    # A blank row sends the file down the row-by-row path, which skips it.
    other = tmp_path / "with-blank.csv"
    other.write_text(HEADER + "".join(simulated_rows[:250]) + "\n" + "".join(simulated_rows[250:500]), encoding="utf-8")

    fast, slow = read_orders_csv(clean), read_orders_csv(other)

    assert fast.customer_nos.tolist() == slow.customer_nos.tolist()
    assert fast.order_days.tolist() == slow.order_days.tolist()
    assert fast.amounts.tolist() == slow.amounts.tolist()
