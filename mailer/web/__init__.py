"""The staff web pages: logins, languages, CSRF protection, and one blueprint per area."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent
from werkzeug.middleware.proxy_fix import ProxyFix

from mailer.batches.piece_codes import display_piece_code
from mailer.settings import require_secret_key
from mailer.web.access import check_access, may_open
from mailer.web.errors import register_error_handlers
from mailer.web.extensions import babel, csrf, limiter, login_manager
from mailer.web.i18n import LANGUAGES, change_value, field_label, html_lang, label, reason_label, say, select_locale
from mailer.web.limits import init_body_limits
from mailer.web.navigation import menu

STATIC_FOLDER = Path(__file__).resolve().parent / "static"
TRANSLATIONS_FOLDER = Path(__file__).resolve().parent.parent / "translations"


def _configure(app: Flask) -> None:
    # The settings read from the environment are in app.config already (mailer.settings); these are fixed.
    config = app.config
    # Session cookies: never readable by scripts, not sent on cross-site posts, HTTPS-only when
    # SESSION_COOKIE_SECURE=1 (set it wherever the site is served over HTTPS).
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    config.setdefault("RATELIMIT_ENABLED", True)
    config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_FOLDER))


def _serve_static_files(app: Flask) -> None:
    app.static_folder = str(STATIC_FOLDER)
    if "static" not in app.view_functions:
        app.add_url_rule(
            f"{app.static_url_path}/<path:filename>", endpoint="static", view_func=app.send_static_file
        )


def _refuse_without_secret_key() -> None:
    require_secret_key(current_app.config, current_app.instance_path)


def _load_user(user_id: str) -> object | None:
    from mailer.auth.login_sessions import login_session_is_open
    from mailer.auth.service import get_user
    from mailer.db import db
    from mailer.web.access import LOGIN_SESSION_KEY, login_session_max_age

    key = session.get(LOGIN_SESSION_KEY)
    if not (user_id.isdigit() and isinstance(key, str)):
        return None
    user = get_user(db.session, user_id=int(user_id))
    # A deactivated user is logged out; so is a login ended by logging out or a password change, or
    # too old, even if a copy of its cookie is still around.
    if user is None or not user.is_active:
        return None
    if not login_session_is_open(db.session, user_id=user.id, key=key, max_age=login_session_max_age()):
        return None
    return user


def init_web(app: Flask) -> None:
    """Attach logins, CSRF protection, languages, the login rate limit and every blueprint."""
    from mailer.web.admin import bp as admin_bp
    from mailer.web.auth import bp as auth_bp
    from mailer.web.batches import bp as batches_bp
    from mailer.web.customers import bp as customers_bp
    from mailer.web.dashboard import bp as dashboard_bp
    from mailer.web.dedupe import bp as dedupe_bp
    from mailer.web.imports import bp as imports_bp
    from mailer.web.mailroom import bp as mailroom_bp
    from mailer.web.numbers import RowIdConverter
    from mailer.web.retention import bp as retention_bp
    from mailer.web.security import add_security_headers, refuse_null_characters
    from mailer.web.selfservice import bp as selfservice_bp
    from mailer.web.transaction import init_transactions

    _configure(app)
    # Before anything reads the session: without the key no request can be answered safely.
    app.before_request(_refuse_without_secret_key)
    # Before anything reads the body (CSRF protection, the login limits, the views).
    init_body_limits(app)
    # First, so it runs after every other after-request function: the commit is the last step.
    init_transactions(app)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        # Else the rate limits and the audit rows see the proxy's address, not the user's. Wrapping
        # wsgi_app is how Flask documents ProxyFix; mypy refuses any assignment to a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    # Before any route is added: every <int:...> in a path is a row id.
    app.url_map.converters["int"] = RowIdConverter
    _serve_static_files(app)

    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    app.before_request(refuse_null_characters)
    # Before CSRF protection, so a stranger's post is sent to log in rather than told off.
    app.before_request(check_access)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    for blueprint in (auth_bp, dashboard_bp, customers_bp, retention_bp, imports_bp, batches_bp, mailroom_bp, admin_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(dedupe_bp)
    app.register_blueprint(selfservice_bp)
    register_error_handlers(app)
    app.after_request(add_security_headers)

    app.jinja_env.globals.update(may_open=may_open, menu=menu, html_lang=html_lang, LANGUAGES=LANGUAGES)
    app.jinja_env.filters.update(
        label=label,
        reason_label=reason_label,
        field_label=field_label,
        change_value=change_value,
        say=say,
        datetime=lambda value, format="medium": format_datetime(value, format) if value else "",
        date=lambda value, format="medium": format_date(value, format) if value else "",
        number=format_decimal,
        # Amounts as stored, in the shop's currency (orders carry none of their own).
        money=lambda value: format_decimal(value, format="#,##0.00"),
        percent=lambda value, format="#,##0%": "" if value is None else format_percent(value, format),
        # Piece codes as printed under the barcode ("NGYM-ZMNP"), never as stored.
        piece_code=display_piece_code,
    )

    from mailer.web.returns.api import bp as returns_api_bp

    app.register_blueprint(returns_api_bp)
