"""The customer list and the customer page.

Names and customer numbers are personal data, and query strings end up in access logs, proxy
logs and browser history. So the list's query string carries only states, a region and a page
cursor (an internal id); a search term is posted, kept in the user's session (a signed, not
encrypted, HttpOnly cookie that the access logs do not record; only the user's own browser holds it)
and applied until cleared. Customer pages are addressed by
internal id, never by customer number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mailer.addresses.lifecycle import SuggestionRefused, accept_suggestion
from mailer.addresses.service import current_address
from mailer.audit.service import record
from mailer.auth.models import Role
from mailer.churn.retention import last_run
from mailer.churn.stored_risk import horizon_of
from mailer.customers.service import customer_detail, list_customers
from mailer.db import db
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.customers import bp
from mailer.web.customers.actions import action_context
from mailer.web.customers.forms import SEARCH_MAX_LENGTH, AcceptSuggestionForm, FilterForm, SearchForm
from mailer.web.explanations import explanation_line
from mailer.web.i18n import say
from mailer.web.numbers import row_id
from mailer.web.transaction import attempt, writes

SEARCH_KEY = "customer_search"


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"explanation_line": explanation_line, "risk_horizon": horizon_of}


def _cursor(name: str) -> int | None:
    return request.args.get(name, type=row_id)


@bp.route("")
@allow(Role.MARKETING)
def index() -> str:
    """List customers by id, a page at a time, filtered and searched."""
    filter_form = FilterForm(formdata=request.args)
    search = session.get(SEARCH_KEY) or None
    page = list_customers(
        db.session,
        filters=filter_form.filters(search=search),
        after=_cursor("after"),
        before=_cursor("before"),
    )
    return render_template(
        "customers/index.html",
        page=page,
        filter_form=filter_form,
        search_form=SearchForm(q=search),
        search=search,
        filter_args=filter_form.query_args(),
        churn_run=last_run(db.session),
    )


@bp.route("/search", methods=["POST"])
@allow(Role.MARKETING)
def search() -> Response:
    """Remember (or with "clear", forget) the search term, and show the first page of results."""
    form = SearchForm()
    term = (form.q.data or "").strip()[:SEARCH_MAX_LENGTH]
    if request.form.get("clear") or not term:
        session.pop(SEARCH_KEY, None)
    else:
        session[SEARCH_KEY] = term
        # Who looked at whom: a search is a look at everyone it finds.
        record(db.session, actor=actor_name(current_staff()), action="customer.search", object_type="customer_list",
               detail={"term": term})
    # As a mapping of Any, so the checker does not match the filters to url_for's own keywords.
    filter_args: Mapping[str, Any] = FilterForm(formdata=request.form).query_args()
    return redirect(url_for("customers.index", **filter_args))


@bp.route("/<int:customer_id>")
@allow(Role.MARKETING)
@writes
def show(customer_id: int) -> str:
    """Show a customer: current address, address history, orders and churn risk."""
    detail = customer_detail(db.session, customer_id=customer_id)
    if detail is None:
        abort(404)
    # Who looked at whom: every opening of a customer's page is in the audit log.
    record(db.session, actor=actor_name(current_staff()), action="customer.view", object_type="customer",
           object_id=detail.customer.customer_no)
    return render_template(
        "customers/show.html", detail=detail, customer=detail.customer, accept_form=AcceptSuggestionForm(),
        **action_context(detail.customer, detail.address),
    )


@bp.route("/<int:customer_id>/accept-suggestion", methods=["POST"])
@allow(Role.MARKETING)
def accept_address_suggestion(customer_id: int) -> Response:
    """Apply the standard form the postal reference data suggests to the current address, with a history row."""
    form = AcceptSuggestionForm()
    if not form.validate_on_submit():
        abort(400)
    address = current_address(db.session, customer_id=customer_id)
    if address is None:
        abort(404)
    try:
        with attempt() as session:
            accept_suggestion(
                session, address=address, expected=form.shown_suggestion(), actor=actor_name(current_staff())
            )
    except SuggestionRefused as exc:
        flash(_("The address was not changed: %(reason)s.", reason=say(exc)), "error")
    else:
        flash(_("The address now has the standard form the postal reference data suggests."), "success")
    return redirect(url_for("customers.show", customer_id=customer_id))
