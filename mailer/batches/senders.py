"""Who sends each profile's catalog: return address, website and hotline printed on the envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailer.envelopes import Sender

# The demo company; a deployment sets SENDERS in its configuration (see README).
DEFAULT_SENDERS: Mapping[str, Sender] = {
    "cn-dl": Sender(
        name="长青书友会",
        lines=("上海市徐汇区漕溪北路88号",),
        postal_code="200030",
        website="www.evergreen.example.cn",
        hotline="400-820-8888",
        colour="#2e6b3f",
    ),
    "us-10": Sender(
        name="Evergreen Books",
        lines=("PO Box 1000", "Springfield IL 62701"),
        postal_code="62701",
        website="evergreen.example.com",
        hotline="1-800-555-0199",
        colour="#2e6b3f",
    ),
}


def sender_for(profile: str, configured: Mapping[str, Any] | None = None) -> Sender:
    """Return the sender printed on a profile's envelopes, from configuration or the default."""
    if configured and profile in configured:
        value = configured[profile]
        if isinstance(value, Sender):
            return value
        return Sender(
            name=value["name"], lines=tuple(value["lines"]), postal_code=value["postal_code"],
            website=value["website"], hotline=value["hotline"],
            colour=value.get("colour", ""), privacy_notice=value.get("privacy_notice", ""),
        )
    return DEFAULT_SENDERS[profile]
