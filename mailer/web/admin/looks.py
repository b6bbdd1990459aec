"""Who looked at whom: the audit rows of reading personal data, by user and by customer, for admins.

The customer is chosen by internal id (a link from the customer page), never by number in the URL.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from mailer.audit.looks import list_looks, lookers
from mailer.auth.models import Role
from mailer.customers.models import Customer
from mailer.db import db
from mailer.web.access import allow
from mailer.web.admin import bp
from mailer.web.forms import FlaskForm, SelectChoice
from mailer.web.numbers import row_id

# What each reading action is called on the page.
LOOK_LABELS = {
    "customer.view": _l("opened the customer page"),
    "customer.search": _l("searched the customers"),
    "customer.export": _l("exported everything held"),
    "retention.export": _l("exported the retention list"),
    "batch.download": _l("downloaded a batch file"),
    "database.backup": _l("backed up the database"),
}


class LooksFilterForm(FlaskForm):
    """The user to show, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    user = SelectField(_l("User"), validators=[Optional()], validate_choice=False)


@bp.route("/looks")
@allow(Role.ADMIN)
def looks() -> str:
    """Show who opened, searched, exported or downloaded personal data, newest first."""
    form = LooksFilterForm(formdata=request.args)
    users = lookers(db.session)
    form.user.choices = [SelectChoice("", _("all users")), *(SelectChoice(user) for user in users)]
    user = form.user.data if form.user.data in users else None
    customer_id = request.args.get("customer", type=row_id)
    customer = db.session.get(Customer, customer_id) if customer_id is not None else None
    page = list_looks(
        db.session,
        actor=user,
        customer_no=customer.customer_no if customer is not None else None,
        after=request.args.get("after", type=row_id),
        before=request.args.get("before", type=row_id),
    )
    filter_args: dict[str, object] = {}
    if user:
        filter_args["user"] = user
    if customer is not None:
        filter_args["customer"] = customer.id
    return render_template(
        "admin/looks.html", page=page, form=form, customer=customer, filter_args=filter_args, labels=LOOK_LABELS
    )
