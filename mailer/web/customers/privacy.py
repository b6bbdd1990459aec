"""A customer's privacy rights on their page, for admins: a copy of everything held, and erasure.

The copy is a page and a JSON download of the same record; each is audited. Erasure asks for the
customer number to be typed again, says what it removes and keeps, and offers the customer's likely
duplicates for erasure too.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from mailer.customers.erasure import ErasureError, erase_customer, likely_duplicates, purge_freed_space
from mailer.customers.export import customer_record, record_export
from mailer.customers.models import Customer
from mailer.db import db
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.customers import bp
from mailer.web.customers.action_forms import EraseForm
from mailer.web.i18n import say
from mailer.web.transaction import attempt, writes

# The page's headings of the record's sections, in the order the record keeps them.
SECTION_TITLES = {
    "profile": _l("Profile"),
    "addresses": _l("Addresses"),
    "address_history": _l("Address history"),
    "orders": _l("Orders"),
    "mail_pieces": _l("Mail pieces"),
    "returns": _l("Returned mail"),
    "churn": _l("Churn risk"),
    "consent": _l("Consent to marketing"),
    "notes": _l("Notes"),
    "merges": _l("Merges"),
    "not_duplicates_of": _l("Marked not duplicates"),
    "changes_logged": _l("Changes in the audit log"),
    "looked_at_by": _l("Who looked at the customer"),
}


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _exported(customer_id: int, *, form: str) -> tuple[Customer, dict[str, Any]]:
    """Return the customer and everything held about them, the export audited under ``form``."""
    customer = _customer(customer_id)
    data = customer_record(db.session, customer=customer)
    record_export(db.session, customer=customer, actor=actor_name(current_staff()), form=form)
    return customer, data


@bp.route("/<int:customer_id>/export")
@allow()
@writes
def export_page(customer_id: int) -> str:
    """Show everything held about the customer, readable, with the JSON download."""
    customer, data = _exported(customer_id, form="page")
    return render_template("customers/export.html", customer=customer, data=data, titles=SECTION_TITLES, cell=_cell)


@bp.route("/<int:customer_id>/export.json")
@allow()
@writes
def export_json(customer_id: int) -> Response:
    """Download everything held about the customer as a JSON file."""
    customer, data = _exported(customer_id, form="json")
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    # Named by internal id: a customer number is personal enough to stay out of file names on shared disks.
    response.headers["Content-Disposition"] = f'attachment; filename="customer-{customer.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:customer_id>/erase", methods=["GET", "POST"])
@allow()
def erase(customer_id: int) -> BaseResponse | str | tuple[str, int]:
    """Say what erasure removes and keeps, offer the likely duplicates; erase once the number is typed again."""
    customer = _customer(customer_id)
    if customer.erased_at is not None:
        flash(_("This customer was already erased."), "info")
        return redirect(url_for("customers.show", customer_id=customer_id))
    form = EraseForm()
    duplicates = likely_duplicates(db.session, customer=customer)
    if form.validate_on_submit():
        if (form.confirm_no.data or "").strip() != customer.customer_no:
            form.confirm_no.errors = [_("This is not the customer's number: nothing was erased.")]
        else:
            try:
                with attempt() as session:
                    report = erase_customer(session, customer=customer, actor=actor_name(current_staff()))
            except ErasureError as exc:
                flash(_("Nothing was erased: %(reason)s.", reason=say(exc)), "error")
                return redirect(url_for("customers.show", customer_id=customer_id))
            flash(_("The customer's personal data is erased; orders and returns are kept under %(pseudonym)s.",
                    pseudonym=report.pseudonym), "success")
            if report.rendered_batches:
                flash(_("Rendered batches %(batches)s hold a piece for this customer: it is held; pull it from "
                        "their files before printing.", batches=", ".join(map(str, report.rendered_batches))),
                      "warning")
            response = redirect(url_for("customers.show", customer_id=customer_id))
            # Once the request has committed: empty SQLite's write-ahead log of the overwritten pages.
            engine = db.engine
            response.call_on_close(lambda: purge_freed_space(engine, vacuum=False, wait_ms=0))
            return response
    page = render_template("customers/erase.html", customer=customer, form=form, duplicates=duplicates)
    return (page, 400) if form.errors else page
