"""The customer list's filter and search forms."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from mailer.addresses.models import AddressValidity
from mailer.customers.models import CustomerStatus
from mailer.customers.service import CustomerFilters, RiskBand
from mailer.web.forms import FlaskForm, SelectChoice
from mailer.web.i18n import label

SEARCH_MAX_LENGTH = 200

E = TypeVar("E", bound=StrEnum)


def _choices(members: type[StrEnum]) -> list[SelectChoice]:
    return [SelectChoice("", str(_l("any")))] + [SelectChoice(member.value, label(member)) for member in members]


class FilterForm(FlaskForm):
    """Filters read from the query string: states and a region, never a name (see views)."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    status = SelectField(_l("Status"), validators=[Optional()])
    validity = SelectField(_l("Address"), validators=[Optional()])
    risk = SelectField(_l("Churn risk"), validators=[Optional()])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = _choices(CustomerStatus)
        self.validity.choices = _choices(AddressValidity)
        self.risk.choices = _choices(RiskBand)

    def filters(self, *, search: str | None) -> CustomerFilters:
        """Return the filters the form holds, leaving out any value that is not valid."""
        self.validate()
        return CustomerFilters(
            status=_member(CustomerStatus, self.status),
            validity=_member(AddressValidity, self.validity),
            region=None if self.region.errors else (self.region.data or "").strip() or None,
            risk_band=_member(RiskBand, self.risk),
            search=search,
        )

    def query_args(self) -> dict[str, str]:
        """Return the non-empty filters as query-string arguments."""
        return {
            name: value
            for name, value in (
                ("status", self.status.data), ("validity", self.validity.data),
                ("risk", self.risk.data), ("region", (self.region.data or "").strip()),
            )
            if value
        }


def _member(members: type[E], field: SelectField) -> E | None:
    if field.errors or not field.data:
        return None
    return members(field.data)


class SearchForm(FlaskForm):
    """Words of a name, a customer number, email, phone or postcode, sent by POST."""

    q = StringField(_l("Search customers"), validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])


class AcceptSuggestionForm(FlaskForm):
    """Accept the standard form the postal reference data suggests for the current address."""

    # The suggestion as shown, so a newer one is never accepted unseen.
    suggestion = HiddenField(validators=[InputRequired(), Length(max=2000)])

    def shown_suggestion(self) -> dict[str, Any] | None:
        """Return the suggestion the page showed, or None if the field holds no JSON object."""
        try:
            value = json.loads(self.suggestion.data or "")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
