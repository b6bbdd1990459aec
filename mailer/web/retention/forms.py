"""The retention list's filters: read from the query string to show a page, posted to export."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField
from wtforms.validators import NumberRange, Optional

from mailer.churn.retention import DEFAULT_MIN_RISK, RetentionFilters
from mailer.web.forms import FlaskForm

DEFAULT_MIN_RISK_PERCENT = round(DEFAULT_MIN_RISK * 100)


class FilterFields(FlaskForm):
    """The lowest churn risk, in percent, and whether to leave out do-not-mail customers."""

    min_risk = IntegerField(
        _l("Churn risk at least (%)"),
        default=DEFAULT_MIN_RISK_PERCENT,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    exclude_do_not_mail = BooleanField(_l("Leave out do-not-mail customers"))

    def filters(self) -> RetentionFilters:
        """Return the filters the form holds; a value that is not valid gives way to the default."""
        self.validate()
        percent = self.min_risk.data
        if self.min_risk.errors or percent is None:
            percent = DEFAULT_MIN_RISK_PERCENT
        return RetentionFilters(min_risk=percent / 100, include_do_not_mail=not self.exclude_do_not_mail.data)

    def query_args(self) -> dict[str, str]:
        """Return the filters as query-string arguments, for the page links."""
        filters = self.filters()
        args = {"min_risk": str(round(filters.min_risk * 100))}
        if not filters.include_do_not_mail:
            args["exclude_do_not_mail"] = "y"
        return args


class FilterForm(FilterFields):
    """The filters of the page, read from the query string (a GET form that changes nothing)."""

    class Meta:
        csrf = False


class ExportForm(FilterFields):
    """The same filters, posted with a CSRF token to download the list."""
