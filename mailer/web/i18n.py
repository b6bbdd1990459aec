"""The languages of the staff pages, and labels of the stored states in each of them."""

from __future__ import annotations

from enum import StrEnum
from typing import cast

from flask import has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mailer.addresses.models import AddressEventKind, AddressValidity, AddressVerification, ChangeSource
from mailer.auth.models import Role
from mailer.customers.models import ConsentChannel, ConsentSource, CustomerStatus
from mailer.customers.service import RiskBand
from mailer.messages import Message
from mailer.web.access import logged_in_user
from returns.catalog import REASONS, Reason

DEFAULT_LOCALE = "en"
# Locale code -> its own name, as a language menu shows it.
LANGUAGES = {"en": "English", "zh": "中文（简体）"}
# The HTML lang attribute per locale; "zh-Hans" picks Simplified Chinese glyphs.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def select_locale() -> str:
    """Return the logged-in user's chosen language, else the browser's best among ours."""
    if not has_request_context():
        return DEFAULT_LOCALE
    user = logged_in_user()
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def html_lang() -> str:
    """Return the lang attribute of the page being rendered."""
    return HTML_LANG.get(str(get_locale()), DEFAULT_LOCALE)


_LABELS: dict[type[StrEnum], dict[StrEnum, object]] = {
    CustomerStatus: {
        CustomerStatus.ACTIVE: _l("active"),
        CustomerStatus.DO_NOT_MAIL: _l("do not mail"),
        CustomerStatus.DECEASED: _l("deceased"),
        CustomerStatus.MERGED: _l("merged"),
    },
    AddressValidity: {
        AddressValidity.UNVERIFIED: _l("unverified"),
        AddressValidity.DELIVERABLE: _l("deliverable"),
        AddressValidity.SUSPECT: _l("suspect"),
        AddressValidity.UNDELIVERABLE: _l("undeliverable"),
        AddressValidity.SUPERSEDED: _l("superseded"),
    },
    AddressEventKind: {
        AddressEventKind.CREATED: _l("address added"),
        AddressEventKind.EDITED: _l("address edited"),
        AddressEventKind.VALIDITY: _l("validity changed"),
        AddressEventKind.SUPERSEDED: _l("address superseded"),
    },
    ChangeSource: {
        ChangeSource.IMPORT: _l("customer import"),
        ChangeSource.RETURN_SCAN: _l("returned mail scan"),
        ChangeSource.POSTAL_FILE: _l("postal change file"),
        ChangeSource.CUSTOMER: _l("the customer"),
        ChangeSource.STAFF: _l("staff"),
        ChangeSource.ORDER: _l("an order"),
        ChangeSource.MERGE: _l("merge of customers"),
        ChangeSource.REFERENCE_DATA: _l("postal reference data"),
        ChangeSource.POST_OFFICE: _l("the post office"),
    },
    AddressVerification: {
        AddressVerification.VERIFIED: _l("verified"),
        AddressVerification.CORRECTED: _l("verified, standard form suggested"),
        AddressVerification.MISMATCH: _l("does not match the reference data"),
        AddressVerification.UNVERIFIABLE: _l("not verifiable"),
    },
    ConsentChannel: {
        ConsentChannel.MAIL: _l("mail"),
        ConsentChannel.EMAIL: _l("email"),
        ConsentChannel.PHONE: _l("phone"),
    },
    ConsentSource: {
        ConsentSource.IMPORT: _l("customer import"),
        ConsentSource.LEGACY: _l("earlier do-not-mail flag"),
        ConsentSource.STAFF: _l("staff"),
        ConsentSource.CUSTOMER_PAGE: _l("the customers' page"),
        ConsentSource.RETURN_REFUSED: _l("a return marked refused"),
        ConsentSource.ERASURE: _l("erasure"),
    },
    RiskBand: {
        RiskBand.LOW: _l("low"),
        RiskBand.MEDIUM: _l("medium"),
        RiskBand.HIGH: _l("high"),
        RiskBand.UNSCORED: _l("not scored"),
    },
    Role: {
        Role.ADMIN: _l("admin"),
        Role.MARKETING: _l("marketing"),
        Role.MAILROOM: _l("mailroom"),
    },
}

# Names of address fields as the history timeline shows them.
FIELD_LABELS = {
    "line1": _l("address line 1"),
    "line2": _l("address line 2"),
    "city": _l("city"),
    "region": _l("region"),
    "postal_code": _l("postal code"),
    "country": _l("country"),
    "validity": _l("validity"),
    "is_current": _l("current"),
}


def label(member: StrEnum) -> str:
    """Return a stored state's name in the page's language (its stored value if it has no label yet)."""
    return str(_LABELS.get(type(member), {}).get(member, member.value))


def labelled_states() -> dict[type[StrEnum], dict[StrEnum, object]]:
    """Return every state type the pages name, with its labels."""
    return _LABELS


def field_label(name: str) -> str:
    """Return an address field's name in the page's language."""
    return str(FIELD_LABELS.get(name, name))


def change_value(value: object, name: str) -> str:
    """Return an old or new value of an address history change as the timeline shows it."""
    if value is None or value == "":
        return "—"
    if name == "validity" and isinstance(value, str) and value in AddressValidity._value2member_map_:
        return label(AddressValidity(value))
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    return str(value)


def reason_label(reason: Reason | str) -> str:
    """Return a return reason's label (given the reason or its code) in the page's language."""
    if isinstance(reason, str):
        found = REASONS.get(reason)
        if found is None:
            return reason
        reason = found
    return reason.label_zh if str(get_locale()) == "zh" else reason.label_en


def say(text: object) -> str:
    """Return a service's message, or the one an error carries, in the page's language; other text as it is."""
    if isinstance(text, Exception) and len(text.args) == 1 and isinstance(text.args[0], Message):
        text = text.args[0]
    if text is None:
        return ""
    if not isinstance(text, Message):
        return str(text)
    # flask_babel ships no types; its gettext returns str.
    if not text.values:
        return cast(str, _(text.template))
    return cast(str, _(text.template, **{name: say(value) if isinstance(value, Message) else value
                               for name, value in text.values.items()}))
