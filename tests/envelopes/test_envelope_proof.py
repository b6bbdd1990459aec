"""Proof envelopes: the same envelope with a PROOF mark in the top margin, outside every zone that is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from pypdf import PdfReader

from mailer.envelopes import PROFILES, reasons_for, render_envelopes
from mailer.envelopes.layout import PROOF_MARK, proof_mark_area
from mailer.envelopes.profiles import Box

from .helpers import PIECE_FACTORIES, SENDERS, rasterize

DPI = 200


def _ink(pdf: Path, page: int, box: Box) -> np.ndarray:
    image = rasterize(pdf, page, DPI)
    scale = DPI / 72
    crop = image.crop(
        (round(box.x * scale), round(image.height - box.top * scale),
         round(box.right * scale), round(image.height - box.y * scale))
    )
    return np.asarray(crop)


def _render(key: str, path: Path, *, proof: bool) -> None:
    profile = PROFILES[key]
    pieces = [PIECE_FACTORIES[key](number) for number in (1, 2)]
    render_envelopes(pieces, profile=profile, sender=SENDERS[key], reasons=reasons_for(profile), out=path,
                     proof=proof)


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_the_mark_keeps_out_of_every_zone_that_is_read(key: str) -> None:
    profile = PROFILES[key]
    mark = proof_mark_area(profile)
    assert profile.page.contains(mark)
    zones = [profile.recipient.box, profile.return_address.box, profile.barcode.area, *profile.clear_zones,
             profile.back.qr.box, profile.back.reasons_box, profile.back.notice_box]
    if profile.stamp is not None:
        zones.append(profile.stamp.box)
    if profile.postcode_boxes is not None:
        zones.append(profile.postcode_boxes.area)
    for zone in zones:
        assert not mark.overlaps(zone), zone


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_every_page_of_a_proof_is_marked_and_its_codes_still_scan(key: str, tmp_path: Path) -> None:
    path = tmp_path / "proof.pdf"
    _render(key, path, proof=True)
    reader = PdfReader(path)
    assert len(reader.pages) == 4
    for page in reader.pages:
        assert "PROOF" in page.extract_text() and "校样" in page.extract_text()
    assert "Proof" in str(reader.metadata.title)
    pieces = [PIECE_FACTORIES[key](number) for number in (1, 2)]
    for index, piece in enumerate(pieces):
        front = rasterize(path, 2 * index + 1, 300)
        assert [b.text for b in zxingcpp.read_barcodes(front, formats=zxingcpp.BarcodeFormat.Code128)] == [
            piece.piece_code
        ]
        back = rasterize(path, 2 * index + 2, 300)
        assert [b.text for b in zxingcpp.read_barcodes(back, formats=zxingcpp.BarcodeFormat.QRCode)] == [
            piece.update_url
        ]
    # The ink is where the mark is said to be, and nowhere in the clear zones.
    assert _ink(path, 1, proof_mark_area(PROFILES[key])).min() < 200
    for zone in PROFILES[key].clear_zones:
        assert _ink(path, 1, zone).min() >= 250


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_mail_carries_no_mark(key: str, tmp_path: Path) -> None:
    path = tmp_path / "mail.pdf"
    _render(key, path, proof=False)
    reader = PdfReader(path)
    assert all(PROOF_MARK not in page.extract_text() and "PROOF" not in page.extract_text() for page in reader.pages)
    assert _ink(path, 1, proof_mark_area(PROFILES[key])).min() >= 250
