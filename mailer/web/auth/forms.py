"""The login, profile and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from mailer.web.forms import FlaskForm, SelectChoice
from mailer.web.i18n import LANGUAGES


class LoginForm(FlaskForm):
    """Email and password."""

    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ProfileForm(FlaskForm):
    """The language a user's pages speak."""

    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("The browser's language")),
            *(SelectChoice(code, name) for code, name in LANGUAGES.items()),
        ],
        validate_choice=True,
    )


class PasswordForm(FlaskForm):
    """The current password and the new one, twice."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    # The service checks the minimum length, so the command line and the page refuse alike.
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
