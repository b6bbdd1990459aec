"""The upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import RadioField

from mailer.web.forms import FlaskForm, SelectChoice

KINDS = {"customers": _l("Customer file"), "orders": _l("Order file")}


class UploadForm(FlaskForm):
    """What kind of file, and the file."""

    kind = RadioField(
        _l("Kind of file"),
        choices=[SelectChoice(kind, text) for kind, text in KINDS.items()],
        default="customers",
    )
    file = FileField(
        _l("CSV file (UTF-8, header row first)"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
    )
