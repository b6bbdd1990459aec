"""The audit log in words: what each entry did, and its changes as "before → after"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from mailer.audit.models import AuditEntry

# What an action did, said of its object. %(object)s is the object's number or id.
ACTION_WORDS: Mapping[str, Any] = {
    "auth.login": _l("logged in"),
    "auth.logout": _l("logged out"),
    "auth.login_failed": _l("failed to log in"),
    "user.create": _l("created user %(object)s"),
    "user.update": _l("changed user %(object)s"),
    "user.activate": _l("changed whether user %(object)s may log in"),
    "user.password_set": _l("set a new password for user %(object)s"),
    "user.password_change": _l("changed their password"),
    "api_token.create": _l("issued API token %(object)s"),
    "api_token.revoke": _l("revoked API token %(object)s"),
    "customers.import": _l("imported a customer file"),
    "orders.import": _l("imported an order file"),
    "returns.import": _l("imported a returns file"),
    "customer.update": _l("changed customer %(object)s"),
    "customer.merge": _l("merged customer %(object)s into another"),
    "customer.merge_undo": _l("undid the merge of customer %(object)s"),
    "customer.pair_dismiss": _l("marked customer %(object)s as not a duplicate"),
    "customer.pair_restore": _l("offered customer %(object)s as a duplicate again"),
    "customer.address_update": _l("gave a new address for customer %(object)s"),
    "customer.address_confirm": _l("confirmed the address of customer %(object)s"),
    "address.clear_flag": _l("cleared a flag on address %(object)s"),
    "retention.export": _l("exported the retention list"),
    "churn.refresh": _l("refreshed every churn risk"),
    "batch.create": _l("created batch %(object)s"),
    "batch.render": _l("rendered batch %(object)s"),
    "batch.cancel": _l("cancelled batch %(object)s"),
    "batch.download": _l("downloaded a file of batch %(object)s"),
    "campaign.export": _l("exported the results of campaign %(object)s"),
}


def action_words(entry: AuditEntry) -> str:
    """Return what the entry's actor did, in the page's language (the action's code if it has no words yet)."""
    words = ACTION_WORDS.get(entry.action)
    if words is None:
        return f"{entry.action} {entry.object_type} {entry.object_id or ''}".strip()
    return str(words) % {"object": entry.object_id or entry.object_type}


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_name(key)}: {_value(item)}" for key, item in value.items())
    return str(value)


def _name(key: str) -> str:
    return key.replace("_", " ")


def detail_lines(entry: AuditEntry) -> list[tuple[str, str]]:
    """Return the entry's details as (name, words) pairs; a [before, after] pair reads "before → after"."""
    lines = []
    for key, value in (entry.detail or {}).items():
        if isinstance(value, list) and len(value) == 2 and key not in {"fields", "columns"}:
            before, after = value
            if not isinstance(before, list | dict) and not isinstance(after, list | dict):
                lines.append((_name(key), f"{_value(before)} → {_value(after)}"))
                continue
        lines.append((_name(key), _value(value)))
    return lines
