"""Profiles are data: every element on the page, none in a clear zone, reasons from the catalog."""

from __future__ import annotations

import dataclasses

import pytest

from mailer.envelopes import PROFILES, EnvelopeProfile, reasons_for
from mailer.envelopes.fonts import font_stack
from mailer.envelopes.profiles import MM, Box, TextSlot
from returns.catalog import REASONS


def _text_box(text: str, slot: TextSlot) -> Box:
    width = font_stack().width(text, slot.size)
    x = slot.x - {"left": 0, "centre": width / 2, "right": width}[slot.align]
    return Box(x, slot.y - 0.25 * slot.size, width, 1.2 * slot.size)


def _front_boxes(profile: EnvelopeProfile) -> dict[str, Box]:
    boxes = {
        "recipient": profile.recipient.box,
        "return address": profile.return_address.box,
        "barcode": profile.barcode.area,
    }
    if profile.postcode_boxes is not None:
        boxes["postcode boxes"] = profile.postcode_boxes.area
    if profile.stamp is not None:
        boxes["stamp"] = profile.stamp.box
    for caption in profile.captions:
        boxes[caption.text] = _text_box(caption.text, caption.slot)
    if profile.sender_postcode is not None:
        text = profile.sender_postcode.text.format(postal_code="000000")
        boxes["sender postcode"] = _text_box(text, profile.sender_postcode.slot)
    return boxes


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_front_elements_are_on_the_page_and_apart(profile: EnvelopeProfile) -> None:
    boxes = _front_boxes(profile)
    for name, box in boxes.items():
        assert profile.page.contains(box), name
        for zone in profile.clear_zones:
            assert not box.overlaps(zone), f"{name} overlaps the clear zone"
    names = list(boxes)
    for index, name in enumerate(names):
        for other in names[index + 1 :]:
            assert not boxes[name].overlaps(boxes[other]), f"{name} overlaps {other}"


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_back_elements_are_on_the_page_and_apart(profile: EnvelopeProfile) -> None:
    back = profile.back
    boxes = {
        "reasons": back.reasons_box,
        "notice": back.notice_box,
        "qr": back.qr.box,
        "heading": _text_box(back.reasons_heading.text, back.reasons_heading.slot),
        "qr caption": _text_box(back.qr_caption.text, back.qr_caption.slot),
    }
    for name, box in boxes.items():
        assert profile.page.contains(box), name
    names = list(boxes)
    for index, name in enumerate(names):
        for other in names[index + 1 :]:
            assert not boxes[name].overlaps(boxes[other]), f"{name} overlaps {other}"
    assert back.qr.box.width == back.qr.box.height


def test_profiles_are_frozen_definitions() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["cn-dl"].width = 1  # type: ignore[misc]
    assert set(PROFILES) == {"cn-dl", "us-10"}
    assert {key: profile.country for key, profile in PROFILES.items()} == {"cn-dl": "CN", "us-10": "US"}


def test_cn_dl_follows_gb_t_1416() -> None:
    profile = PROFILES["cn-dl"]
    assert (round(profile.width / MM), round(profile.height / MM)) == (220, 110)
    assert profile.postcode_boxes is not None and profile.postcode_boxes.count == 6
    # Postcode boxes top left, the sender's postcode lower right.
    assert profile.postcode_boxes.area.top > profile.height * 0.75
    assert profile.postcode_boxes.area.x < profile.width * 0.25
    assert profile.sender_postcode is not None
    assert (
        profile.sender_postcode.slot.x > profile.width * 0.75 and profile.sender_postcode.slot.y < profile.height * 0.25
    )


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_reasons_come_from_the_catalog(profile: EnvelopeProfile) -> None:
    pairs = reasons_for(profile)
    assert [code for code, _ in pairs] == list(profile.reason_codes)
    for code, label in pairs:
        expected = REASONS[code].label_zh if profile.language == "zh" else REASONS[code].label_en
        assert label == expected


def test_reason_codes_named_by_the_postal_services() -> None:
    assert dict(reasons_for(PROFILES["cn-dl"]))["ANK"] == "原址查无此人"
    assert {"ANK", "IA", "NSN", "MLNA", "REF", "UNC", "DEC", "ORG", "OTH"} <= set(PROFILES["cn-dl"].reason_codes)
    assert {"ANK", "IA", "NSN", "VAC", "MLNA", "REF", "UNC", "DEC"} <= set(PROFILES["us-10"].reason_codes)
