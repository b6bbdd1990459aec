"""Intelligent Mail barcode serial numbers: one per US piece, never again within 45 days under one Mailer ID."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.batches.imb_serials import SERIAL_REUSE_DAYS
from mailer.batches.models import Batch, ImbSerialCounter, MailPiece
from mailer.batches.rendering import RenderError, RenderSettings, prepare_render
from mailer.batches.selection import BatchFilters, create_batch
from mailer.db import db, utcnow
from mailer.envelopes import PROFILES
from mailer.envelopes.imb import ImbIds
from returns.models import MailReturn
from tests.envelopes.helpers import rasterize
from tests.envelopes.imb_reader import bars_from_image, digits_from_bars
from tests.factories import US_ROW, add_customer
from tests.returns.acs_files import detail, write_fixed

IDS = ImbIds(mailer_id="123456", service_type_id="270")


def _us_batch(session: Session, campaign: str, count: int, first: int = 0) -> int:
    for index in range(first, first + count):
        add_customer(session, f"U{index:03d}", base=US_ROW, name=f"Person {index}", line1=f"{index + 1} Oak Street",
                     postal_code="62704-1234" if index % 2 else "62704")
    batch = create_batch(session, campaign_name=campaign, profile="us-10", filters=BatchFilters(), actor="t")
    session.flush()
    return batch.id


def _prepare(session: Session, batch_id: int, tmp_path: Path, ids: ImbIds | None = IDS) -> None:
    settings = RenderSettings(database_url="", out_dir=str(tmp_path), secret_key="s",
                              public_base_url="https://mail.example.com", imb_ids=ids)
    prepare_render(session, batch_id=batch_id, settings=settings, actor="t")


def _imbs(session: Session, batch_id: int) -> list[tuple[str | None, int | None, str | None, str]]:
    return [
        (row.imb_mailer_id, row.imb_serial, row.imb_digits, row.postal_code)
        for row in session.execute(
            select(MailPiece.imb_mailer_id, MailPiece.imb_serial, MailPiece.imb_digits, MailPiece.postal_code)
            .where(MailPiece.batch_id == batch_id).order_by(MailPiece.sequence)
        )
    ]


def test_each_piece_gets_the_next_serial_and_its_zip_as_routing(session: Session, tmp_path: Path) -> None:
    first = _us_batch(session, "Spring", 3)
    _prepare(session, first, tmp_path)
    second = _us_batch(session, "Summer", 2, first=3)
    _prepare(session, second, tmp_path)

    rows = _imbs(session, first) + _imbs(session, second)
    # The second campaign mails all five customers: its serials follow the first batch's three.
    assert [serial for _, serial, _, _ in rows] == [0, 1, 2, 3, 4, 5, 6, 7]
    for mailer_id, serial, digits, postal_code in rows:
        assert mailer_id == "123456"
        assert digits == f"00270123456{serial:09d}" + postal_code.replace("-", "")


def test_preparing_again_keeps_the_serials(session: Session, tmp_path: Path) -> None:
    batch_id = _us_batch(session, "Spring", 2)
    _prepare(session, batch_id, tmp_path)
    before = _imbs(session, batch_id)
    _prepare(session, batch_id, tmp_path)
    assert _imbs(session, batch_id) == before


def test_no_mailer_id_no_barcode(session: Session, tmp_path: Path) -> None:
    batch_id = _us_batch(session, "Spring", 2)
    _prepare(session, batch_id, tmp_path, ids=None)
    assert {serial for _, serial, _, _ in _imbs(session, batch_id)} == {None}


def test_serials_wrap_round_past_the_last_one(session: Session, tmp_path: Path) -> None:
    nine_digit = ImbIds(mailer_id="901234567", service_type_id="270")
    session.add(ImbSerialCounter(mailer_id="901234567", next_serial=nine_digit.serial_capacity - 1))
    batch_id = _us_batch(session, "Spring", 3)
    _prepare(session, batch_id, tmp_path, ids=nine_digit)
    assert [serial for _, serial, _, _ in _imbs(session, batch_id)] == [999_999, 0, 1]
    assert session.get_one(ImbSerialCounter, "901234567").next_serial == 2


def test_a_serial_printed_within_45_days_is_not_given_again(session: Session, tmp_path: Path) -> None:
    first = _us_batch(session, "Spring", 3)
    _prepare(session, first, tmp_path)
    session.execute(update(Batch).where(Batch.id == first).values(rendered_at=utcnow() - timedelta(days=44)))
    # The counter has gone all the way round (a busy Mailer ID) and reaches the first batch's serials again.
    session.get_one(ImbSerialCounter, "123456").next_serial = 2
    second = _us_batch(session, "Summer", 2, first=3)

    with pytest.raises(RenderError, match=f"less than {SERIAL_REUSE_DAYS} days"):
        _prepare(session, second, tmp_path)

    session.execute(update(Batch).where(Batch.id == first).values(rendered_at=utcnow() - timedelta(days=46)))
    _prepare(session, second, tmp_path)
    assert [serial for _, serial, _, _ in _imbs(session, second)] == [2, 3, 4, 5, 6]


def test_a_rendered_piece_carries_its_serial_and_an_acs_notice_finds_it(committed_app: Flask, tmp_path: Path) -> None:
    """The whole US loop: render with a Mailer ID, read the printed bars, import the Postal Service's notice."""
    committed_app.config["USPS_IMB_IDS"] = IDS
    with committed_app.app_context():
        batch_id = _us_batch(db.session, "Spring", 2)
        db.session.commit()
    out = tmp_path / "out"
    result = committed_app.test_cli_runner().invoke(
        args=["batch", "render", str(batch_id), "--out", str(out), "--workers", "1", "--allow-test-links"]
    )
    assert result.exit_code == 0, result.output
    with committed_app.app_context():
        first = db.session.scalars(
            select(MailPiece).where(MailPiece.batch_id == batch_id).order_by(MailPiece.sequence)
        ).first()
        assert first is not None and first.imb_serial is not None and first.imb_digits is not None
        serial, digits, piece_id = first.imb_serial, first.imb_digits, first.id

    slot = PROFILES["us-10"].imb
    assert slot is not None
    dpi = 600
    image = rasterize(out / f"batch-{batch_id}-0001.pdf", 1, dpi)
    scale, area = dpi / 72, slot.area
    bars = bars_from_image(image, left=round(area.x * scale), top=round(image.height - area.top * scale),
                           right=round(area.right * scale), bottom=round(image.height - area.y * scale))
    assert "".join(digits_from_bars(bars)) == digits

    # Notices are dated by day: the day after the render is the first a notice can name.
    fulfilled = (utcnow() + timedelta(days=1)).strftime("%Y%m%d")
    notice = write_fixed(tmp_path / "acs.txt", [detail("V", serial=serial, fulfillment_date=fulfilled)])
    imported = committed_app.test_cli_runner().invoke(args=["returns", "import", str(notice)])
    assert imported.exit_code == 0, imported.output
    with committed_app.app_context():
        assert db.session.scalar(select(MailReturn.reason).where(MailReturn.piece_id == piece_id)) == "VAC"
