"""The login and profile forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

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
