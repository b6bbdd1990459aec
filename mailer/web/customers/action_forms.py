"""The posted forms of the customer page: correct the address, decide consent, add a note, erase."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from mailer.customers.actions import NOTE_MAX_LENGTH, REASON_MAX_LENGTH
from mailer.customers.consent import WORDING_MAX_LENGTH
from mailer.customers.models import ConsentChannel
from mailer.web.forms import FlaskForm, SelectChoice
from mailer.web.i18n import label

# The service checks every address field; the form only keeps a pasted page out.
FIELD_MAX_LENGTH = 300
GRANT = "grant"
WITHDRAW = "withdraw"


class AddressCorrectionForm(FlaskForm):
    """The corrected address and why it is corrected."""

    line1 = StringField(_l("Address line 1"), validators=[Length(max=FIELD_MAX_LENGTH)])
    line2 = StringField(_l("Address line 2"), validators=[Optional(), Length(max=FIELD_MAX_LENGTH)])
    city = StringField(_l("City"), validators=[Length(max=FIELD_MAX_LENGTH)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=FIELD_MAX_LENGTH)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=FIELD_MAX_LENGTH)])
    country = StringField(_l("Country"), validators=[Length(max=FIELD_MAX_LENGTH)])
    reason = StringField(_l("Reason for the correction"), validators=[Length(max=REASON_MAX_LENGTH)])


class ConsentForm(FlaskForm):
    """A channel and whether the customer grants or withdraws consent to marketing through it."""

    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    decision = SelectField(_l("Decision"), validators=[DataRequired()])
    wording = TextAreaField(
        _l("What the customer said or agreed to"), validators=[Optional(), Length(max=WORDING_MAX_LENGTH)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel.choices = [SelectChoice(channel.value, label(channel)) for channel in ConsentChannel]
        self.decision.choices = [
            SelectChoice(WITHDRAW, str(_l("withdraw (do not contact)"))),
            SelectChoice(GRANT, str(_l("grant"))),
        ]


class NoteForm(FlaskForm):
    """A note on the customer."""

    text = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX_LENGTH)])


class EraseForm(FlaskForm):
    """The customer number typed again, to confirm an erasure."""

    confirm_no = StringField(_l("Type the customer number to confirm"), validators=[DataRequired(), Length(max=40)])
