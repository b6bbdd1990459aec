"""Flask-WTF's form base and CSRF protection, and WTForms' select choice, as the type checker sees them.

Flask-WTF ships no types: for the checker, the parts the pages use are declared here with the
signatures Flask-WTF documents; at run time the names are Flask-WTF's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# types-WTForms 3.2 predates SelectChoice (WTForms 3.3), so the checker sees it as Any.
from wtforms import SelectChoice  # type: ignore[attr-defined]

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TypeVar

    from flask import Flask
    from markupsafe import Markup
    from wtforms import Field, Form

    View = TypeVar("View", bound=Callable[..., Any])

    class FlaskForm(Form):
        """A WTForms form that reads the request's data and checks its CSRF token."""

        def is_submitted(self) -> bool:
            """Return whether the request is a submission (POST, PUT, PATCH or DELETE)."""

        def validate_on_submit(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
            """Return whether the form was submitted and every field is valid."""

        def hidden_tag(self, *fields: Field | str) -> Markup:
            """Return the hidden fields (the CSRF token among them) as HTML."""

    class CSRFProtect:
        """CSRF protection of every submission to the app, but for exempt views."""

        def init_app(self, app: Flask) -> None:
            """Check the CSRF token of every submission to ``app``."""

        def protect(self) -> None:
            """Check the current request's CSRF token; raise CSRFError if it is missing or wrong."""

        def exempt(self, view: View) -> View:
            """Leave ``view`` unchecked (it checks the token itself, or needs none)."""

else:
    from flask_wtf import FlaskForm
    from flask_wtf.csrf import CSRFProtect

__all__ = ["CSRFProtect", "FlaskForm", "SelectChoice"]
