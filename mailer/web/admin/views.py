"""Users and roles, API tokens and the audit log."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mailer.audit.service import AuditFilters, audit_actions, audit_actors, list_entries
from mailer.auth.models import Role
from mailer.auth.service import (
    UserError,
    create_api_token,
    create_user,
    generate_password,
    get_user,
    list_api_tokens,
    list_users,
    revoke_api_token,
    set_user_active,
    set_user_role,
)
from mailer.customers.service import customer_number, get_customer
from mailer.db import db
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.admin import bp
from mailer.web.admin.audit_words import action_words, detail_lines
from mailer.web.admin.forms import AuditCustomerForm, AuditFilterForm, NewTokenForm, NewUserForm, UserUpdateForm
from mailer.web.forms import SelectChoice
from mailer.web.i18n import label, say
from mailer.web.numbers import row_id
from mailer.web.transaction import attempt

log = logging.getLogger(__name__)


@bp.route("/users")
@allow(Role.ADMIN)
def users() -> str:
    """List staff users with their role and state."""
    return render_template(
        "admin/users.html", users=list_users(db.session), roles=list(Role), me=current_staff()
    )


@bp.route("/users/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_user() -> str | tuple[str, int]:
    """Create a staff user; a generated password is shown once, on this response only."""
    form = NewUserForm()
    if not form.validate_on_submit():
        return render_template("admin/new_user.html", form=form), 400 if request.method == "POST" else 200
    admin = current_staff()
    password = form.password.data or generate_password()
    try:
        user = create_user(
            db.session, email=form.email.data or "", password=password, role=Role(form.role.data),
            actor=actor_name(admin),
        )
    except UserError as exc:
        form.email.errors = [say(exc)]
        return render_template("admin/new_user.html", form=form), 400
    log.info("user %s created user %s (%s)", admin.id, user.id, user.role.value)
    return render_template(
        "admin/user_created.html", user=user, password=None if form.password.data else password
    )


@bp.route("/users/<int:user_id>", methods=["POST"])
@allow(Role.ADMIN)
def update_user(user_id: int) -> Response:
    """Change a user's role, or deactivate or reactivate them."""
    admin = current_staff()
    user = get_user(db.session, user_id=user_id)
    if user is None:
        abort(404)
    form = UserUpdateForm()
    if not form.validate_on_submit() or (form.action.data == "role" and not form.role.data):
        abort(400)
    try:
        with attempt() as session:
            if form.action.data == "role":
                set_user_role(session, user=user, role=Role(form.role.data), actor=admin)
            else:
                set_user_active(session, user=user, active=form.action.data == "activate", actor=admin)
    except UserError as exc:
        flash(say(exc), "error")
        return redirect(url_for("admin.users"))
    log.info("user %s changed user %s: %s", admin.id, user.id, form.action.data)
    flash(_("%(email)s is saved.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/tokens")
@allow(Role.ADMIN)
def tokens() -> str:
    """List API tokens: label, user, when made and last used, revoked or not."""
    return render_template("admin/tokens.html", tokens=list_api_tokens(db.session))


@bp.route("/tokens/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_token() -> str | tuple[str, int]:
    """Issue an API token; the token is shown once, on this response only, and stored hashed."""
    form = NewTokenForm()
    form.user_id.choices = [
        SelectChoice(user.id, f"{user.email} ({label(user.role)})")
        for user in list_users(db.session)
        if user.is_active
    ]
    if not form.validate_on_submit():
        return render_template("admin/new_token.html", form=form), 400 if request.method == "POST" else 200
    admin = current_staff()
    user = get_user(db.session, user_id=form.user_id.data or 0)
    if user is None:
        abort(400)
    try:
        api_token, token = create_api_token(
            db.session, user=user, label=form.label.data or "", actor=actor_name(admin)
        )
    except UserError as exc:
        form.label.errors = [say(exc)]
        return render_template("admin/new_token.html", form=form), 400
    log.info("user %s issued API token %s for user %s", admin.id, api_token.id, user.id)
    return render_template("admin/token_created.html", api_token=api_token, user=user, token=token)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    """Revoke an API token for good."""
    admin = current_staff()
    api_token = revoke_api_token(db.session, token_id=token_id, actor=actor_name(admin))
    if api_token is None:
        abort(404)
    log.info("user %s revoked API token %s", admin.id, api_token.id)
    flash(_("The token “%(label)s” is revoked.", label=api_token.label), "success")
    return redirect(url_for("admin.tokens"))


@bp.route("/audit")
@allow(Role.ADMIN)
def audit() -> str:
    """Show the audit log in words, newest first, a page at a time, by action, user, customer and dates."""
    form = AuditFilterForm(formdata=request.args)
    form.validate()
    actions = audit_actions(db.session)
    actors = audit_actors(db.session)
    form.action.choices = [SelectChoice("", _("all actions")), *(SelectChoice(action) for action in actions)]
    form.actor.choices = [SelectChoice("", _("everyone")), *(SelectChoice(actor) for actor in actors)]
    action = form.action.data if form.action.data in actions else None
    actor = form.actor.data if form.actor.data in actors else None
    since = None if form.since.errors else form.since.data
    until = None if form.until.errors else form.until.data
    customer = request.args.get("customer", type=row_id)
    customer_no = customer_number(db.session, customer_id=customer) if customer is not None else None
    page = list_entries(
        db.session,
        filters=AuditFilters(
            action=action,
            actor=actor,
            object_type="customer" if customer_no else None,
            object_id=customer_no,
            since=_day_start(since),
            until=_day_start(until + timedelta(days=1)) if until else None,
        ),
        after=request.args.get("after", type=row_id),
        before=request.args.get("before", type=row_id),
    )
    filter_args = {
        name: value
        for name, value in (
            ("action", action), ("actor", actor), ("since", since and since.isoformat()),
            ("until", until and until.isoformat()), ("customer", customer_no and str(customer)),
        )
        if value
    }
    return render_template(
        "admin/audit.html", page=page, form=form, customer_form=AuditCustomerForm(customer_no=customer_no),
        customer_no=customer_no, filter_args=filter_args, action_words=action_words, detail_lines=detail_lines,
    )


def _day_start(day: date | None) -> datetime | None:
    # Days as the staff read them on the page, in UTC like every stored time.
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


@bp.route("/audit/customer", methods=["POST"])
@allow(Role.ADMIN)
def audit_customer() -> Response:
    """Narrow the audit log to a customer, found by number; the page's URL carries only its internal id."""
    form = AuditCustomerForm()
    # The page's other filters come along as hidden fields.
    filter_args: dict[str, Any] = {
        name: request.form[name] for name in ("action", "actor", "since", "until") if request.form.get(name)
    }
    customer_no = (form.customer_no.data or "").strip() if form.validate_on_submit() else ""
    if customer_no:
        customer = get_customer(db.session, customer_no=customer_no)
        if customer is None:
            flash(_("No customer has the number “%(number)s”.", number=customer_no), "error")
        else:
            filter_args["customer"] = customer.id
    return redirect(url_for("admin.audit", **filter_args))
