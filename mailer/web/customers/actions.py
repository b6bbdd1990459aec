"""What staff do on the customer page: correct the address, decide consent per channel, add a note.

Marketing and admins act; each change is committed with its request when the service accepts it,
and undone with the reason shown when it refuses. Addresses, notes and wording travel only in
posted bodies, never in URLs.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mailer.addresses.models import Address
from mailer.auth.models import Role
from mailer.customers.actions import CustomerActionError, add_note, correct_address, customer_notes
from mailer.customers.consent import ConsentError, consent_history, current_consents, set_consent
from mailer.customers.models import ConsentChannel, ConsentSource, Customer
from mailer.db import db
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.customers import bp
from mailer.web.customers.action_forms import GRANT, AddressCorrectionForm, ConsentForm, NoteForm
from mailer.web.i18n import say
from mailer.web.transaction import attempt

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")


def action_context(customer: Customer, address: Address | None) -> dict[str, Any]:
    """Return what the customer page needs for its actions: consents, notes and the blank forms."""
    address_form = AddressCorrectionForm(formdata=None)
    if address is not None:
        for name in ADDRESS_FIELDS:
            address_form[name].data = getattr(address, name) or ""
    return {
        "consents": current_consents(db.session, customer_id=customer.id),
        "consent_history": consent_history(db.session, customer_id=customer.id),
        "consent_channels": list(ConsentChannel),
        "notes": customer_notes(db.session, customer_id=customer.id),
        "address_form": address_form,
        "consent_form": ConsentForm(formdata=None),
        "note_form": NoteForm(formdata=None),
    }


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _back(customer_id: int, anchor: str) -> Response:
    return redirect(url_for("customers.show", customer_id=customer_id, _anchor=anchor))


@bp.route("/<int:customer_id>/address", methods=["POST"])
@allow(Role.MARKETING)
def correct(customer_id: int) -> Response:
    """Correct the customer's address; the reason is required and goes into the history."""
    customer = _customer(customer_id)
    form = AddressCorrectionForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: a field is too long or the form has expired."), "error")
        return _back(customer_id, "correct-address")
    try:
        with attempt() as session:
            correct_address(
                session, customer=customer, values={name: form[name].data or "" for name in ADDRESS_FIELDS},
                reason=form.reason.data or "", actor=actor_name(current_staff()),
            )
    except CustomerActionError as exc:
        flash(_("The address was not corrected: %(reason)s.", reason=say(exc)), "error")
        return _back(customer_id, "correct-address")
    flash(_("The address is corrected; the history shows the change and its reason."), "success")
    return _back(customer_id, "history")


@bp.route("/<int:customer_id>/consent", methods=["POST"])
@allow(Role.MARKETING)
def consent(customer_id: int) -> Response:
    """Grant or withdraw consent to marketing through one channel, as staff heard it from the customer."""
    customer = _customer(customer_id)
    form = ConsentForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: choose a channel and a decision."), "error")
        return _back(customer_id, "consent")
    channel = ConsentChannel(form.channel.data)
    try:
        with attempt() as session:
            decision = set_consent(
                session, customer=customer, channel=channel, granted=form.decision.data == GRANT,
                source=ConsentSource.STAFF, actor=actor_name(current_staff()), wording=form.wording.data,
            )
    except ConsentError as exc:
        flash(_("Consent was not changed: %(reason)s.", reason=say(exc)), "error")
        return _back(customer_id, "consent")
    if decision is None:
        flash(_("Nothing was changed: that is already the customer's decision."), "info")
    else:
        flash(_("The customer's consent is recorded."), "success")
    return _back(customer_id, "consent")


@bp.route("/<int:customer_id>/notes", methods=["POST"])
@allow(Role.MARKETING)
def note(customer_id: int) -> Response:
    """Add a note to the customer."""
    customer = _customer(customer_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("The note was not saved: it is too long or the form has expired."), "error")
        return _back(customer_id, "notes")
    try:
        with attempt() as session:
            add_note(session, customer=customer, text=form.text.data or "", actor=actor_name(current_staff()))
    except CustomerActionError as exc:
        flash(_("The note was not saved: %(reason)s.", reason=say(exc)), "error")
        return _back(customer_id, "notes")
    flash(_("The note is saved."), "success")
    return _back(customer_id, "notes")
