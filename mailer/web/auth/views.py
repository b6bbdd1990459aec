"""Login, logout, the start page, the profile and changing one's password."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh as refresh_locale
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from mailer.auth.login_sessions import close_login_session, open_login_session
from mailer.auth.models import User
from mailer.auth.service import (
    UserError,
    WrongPasswordError,
    change_password,
    log_in,
    log_out,
    logged_in_lately_from,
    set_user_locale,
)
from mailer.db import db
from mailer.web.access import (
    LOGIN_SESSION_KEY,
    actor_name,
    current_staff,
    logged_in_user,
    login_session_max_age,
    may_open,
    pop_next_url,
    public,
    staff,
)
from mailer.web.auth import bp
from mailer.web.auth.forms import LoginForm, PasswordForm, ProfileForm
from mailer.web.extensions import limiter
from mailer.web.i18n import say
from mailer.web.transaction import keep_on_error

log = logging.getLogger(__name__)


# The bucket a password guess counts against, on the login form and on the profile alike.
ACCOUNT_SCOPE = "account"


def _login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_rate_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


def _account_key(email: str) -> str:
    # Keyed with the secret, so the limiter's storage (perhaps a shared Redis) holds no email address
    # and no digest that a list of known addresses could be matched against.
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _submitted_account() -> str:
    return _account_key(request.form.get("email", ""))


def _known_address() -> bool:
    """Tell whether the submitted account logged in from this client's address lately."""
    days = int(current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return logged_in_lately_from(
        db.session, email=request.form.get("email", ""), remote_addr=request.remote_addr,
        within=timedelta(days=days),
    )


def _own_account() -> str:
    return _account_key(current_staff().email)


def _enter(user: User, key: str) -> None:
    """Log the user in on this browser, in the login session ``key`` names."""
    login_user(user)
    session[LOGIN_SESSION_KEY] = key


@bp.route("/")
@staff
def home() -> Response:
    """Send each user to the first page their role works on."""
    start = next((page for page in ("dashboard.index", "mailroom.scan") if may_open(page)), "auth.profile")
    return redirect(url_for(start))


@bp.route("/login", methods=["GET", "POST"])
@public
# Only failed attempts count, so an office behind one address can still log in at nine.
@limiter.limit(_login_rate_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 401)
@limiter.shared_limit(
    _account_rate_limit, ACCOUNT_SCOPE, key_func=_submitted_account, methods=["POST"],
    deduct_when=lambda response: response.status_code == 401, exempt_when=_known_address,
)
def login() -> Response | str | tuple[str, int]:
    """Show the login form and log a user in."""
    if logged_in_user() is not None:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    user = log_in(
        db.session, email=form.email.data or "", password=form.password.data or "",
        remote_addr=request.remote_addr,
    )
    key = open_login_session(db.session, user_id=user.id, max_age=login_session_max_age()) if user else None
    if user is None or key is None:
        # The failed attempt stays in the audit log.
        keep_on_error()
        flash(_("Wrong email or password."), "error")
        return render_template("auth/login.html", form=form), 401
    next_url = pop_next_url()
    # A fresh session for the logged-in user: nothing carried over from before.
    session.clear()
    _enter(user, key)
    log.info("user %s logged in", user.id)
    return redirect(next_url or url_for("auth.home"))


@bp.route("/logout", methods=["POST"])
@staff
def logout() -> Response:
    """Log the user out."""
    user = current_staff()
    log_out(db.session, user=user)
    close_login_session(db.session, key=session[LOGIN_SESSION_KEY])
    logout_user()
    session.clear()
    log.info("user %s logged out", user.id)
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@staff
def profile() -> Response | str:
    """Show the user's account and let them choose the language of their pages."""
    user = current_staff()
    form = ProfileForm(locale=user.locale or "")
    if form.validate_on_submit():
        set_user_locale(db.session, user=user, locale=form.locale.data or None, actor=actor_name(user))
        refresh_locale()  # say it in the language just chosen
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, password_form=PasswordForm(formdata=None), user=user)


@bp.route("/profile/password", methods=["POST"])
@staff
# A wrong current password is a guess like a wrong login: it counts against the same account.
@limiter.shared_limit(
    _account_rate_limit, ACCOUNT_SCOPE, key_func=_own_account,
    deduct_when=lambda response: response.status_code == 400,
)
def change_own_password() -> Response | tuple[str, int]:
    """Change the user's password; they stay logged in here and are logged out everywhere else."""
    user = current_staff()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(
                db.session, user=user, current_password=form.current_password.data or "",
                new_password=form.new_password.data or "", actor=actor_name(user),
            )
        except WrongPasswordError as exc:
            log.info("user %s gave a wrong current password", user.id)
            form.current_password.errors = [say(exc)]
        except UserError as exc:
            form.new_password.errors = [say(exc)]
        else:
            # Every login session of the user ended with the old password; this browser gets a new one.
            key = open_login_session(db.session, user_id=user.id, max_age=login_session_max_age())
            _enter(user, key)
            log.info("user %s changed their password", user.id)
            flash(_("Your password is changed."), "success")
            return redirect(url_for("auth.profile"))
    page = render_template(
        "auth/profile.html", form=ProfileForm(formdata=None, locale=user.locale or ""), password_form=form,
        user=user,
    )
    return page, 400
