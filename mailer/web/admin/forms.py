"""The admin area's forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from mailer.auth.models import Role
from mailer.auth.service import EMAIL_MAX_LENGTH, MIN_PASSWORD_LENGTH
from mailer.web.fields import stripped
from mailer.web.forms import FlaskForm, SelectChoice
from mailer.web.i18n import label


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, label(role)) for role in Role]


class NewUserForm(FlaskForm):
    """A new staff user."""

    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)], filters=[stripped])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    password = PasswordField(
        _l("Password (leave empty to generate one)"),
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()


class UserUpdateForm(FlaskForm):
    """A change to a user: a new role, deactivation or reactivation."""

    action = HiddenField(validators=[AnyOf(["role", "deactivate", "activate"])])
    role = SelectField(_l("Role"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()


class NewTokenForm(FlaskForm):
    """A new API token: whom it acts for and where it is used."""

    user_id = SelectField(_l("Acts as user"), coerce=int, validators=[DataRequired()])
    label = StringField(
        _l("Label (where it is used)"), validators=[DataRequired(), Length(max=100)], filters=[stripped]
    )


class AuditFilterForm(FlaskForm):
    """The audit log's filter, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    actor = SelectField(_l("User"), validators=[Optional()], validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])


class AuditCustomerForm(FlaskForm):
    """A customer number to narrow the audit log to, posted: customer numbers stay out of URLs."""

    customer_no = StringField(_l("Customer number"), validators=[Optional(), Length(max=40)], filters=[stripped])
