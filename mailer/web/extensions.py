"""The web extensions, created once and attached to each app by ``init_web``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

from mailer.web.forms import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Only the login form is limited (see auth.views); nothing else has a default limit.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
