"""Who may open which page, declared on each view and checked in one place before every request.

A view says who may use it with ``@allow(Role.MARKETING)`` (admins may always), ``@staff``
(anyone logged in) or ``@public``. ``check_access`` runs before each request: a view that
declares nothing is refused to everyone, so a new page is closed until someone opens it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar, cast

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from mailer.auth.models import Role, User

log = logging.getLogger(__name__)

ACCESS_ATTRIBUTE = "mailer_access"
NEXT_KEY = "next_after_login"
# Where the cookie keeps the key of its login session (mailer.auth.login_sessions).
LOGIN_SESSION_KEY = "login_session"

View = TypeVar("View", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may use a view: everybody, any logged-in user (roles None), or these roles and admins."""

    public: bool = False
    roles: frozenset[Role] | None = None

    def admits(self, user: User | None) -> bool:
        """Tell whether this user (None when nobody is logged in) may use the view."""
        if self.public:
            return True
        if user is None:
            return False
        return self.roles is None or user.role is Role.ADMIN or user.role in self.roles


def _declare(rule: AccessRule) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, rule)
        return view

    return decorate


def allow(*roles: Role) -> Callable[[View], View]:
    """Let users with one of these roles, and admins, use the view."""
    return _declare(AccessRule(roles=frozenset(roles)))


public = _declare(AccessRule(public=True))
staff = _declare(AccessRule())

# Flask's own static files view.
_STATIC_RULE = AccessRule(public=True)


def rule_for(endpoint: str) -> AccessRule | None:
    """Return the access rule an endpoint declares, or None."""
    if endpoint == "static":
        return _STATIC_RULE
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTRIBUTE, None)


def logged_in_user() -> User | None:
    """Return the user of this request, or None."""
    return cast(User, current_user._get_current_object()) if current_user.is_authenticated else None


def current_staff() -> User:
    """Return the logged-in user of a view that only staff reach."""
    user = logged_in_user()
    if user is None:  # check_access let an anonymous request through: a view declared wrongly
        abort(403)
    return user


def login_session_max_age() -> timedelta:
    """Return how long a login lasts at most."""
    return timedelta(hours=float(current_app.config["LOGIN_SESSION_MAX_AGE_HOURS"]))


def actor_name(user: User) -> str:
    """Name a user in audit rows and address history."""
    return user.email


def may_open(endpoint: str) -> bool:
    """Tell whether the current user may open an endpoint (for showing links)."""
    rule = rule_for(endpoint)
    return rule is not None and rule.admits(logged_in_user())


def check_access() -> Response | None:
    """Refuse the request unless its view admits the current user; send strangers to log in."""
    if request.endpoint is None:  # no route: the 404 handler answers
        return None
    rule = rule_for(request.endpoint)
    if rule is None:
        log.error("view %s declares no access rule; refused", request.endpoint)
        abort(403)
    user = logged_in_user()
    if rule.admits(user):
        return None
    if user is None:
        if request.method == "GET":
            session[NEXT_KEY] = request.full_path.rstrip("?")
        return redirect(url_for("auth.login"))
    log.info("user %s (%s) refused %s", user.id, user.role.value, request.endpoint)
    abort(403)


def pop_next_url() -> str | None:
    """Return (once) the local page a stranger wanted before logging in."""
    target = session.pop(NEXT_KEY, None)
    # Only a path on this site: never "//host" or "/\\host", which browsers treat as other sites.
    if isinstance(target, str) and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None
