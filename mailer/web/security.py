"""Response headers that keep pages out of frames, caches and other sites' reach, and refusing
requests no form could send."""

from __future__ import annotations

from flask import abort, request
from werkzeug.wrappers import Response

# Everything is served from here: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def add_security_headers(response: Response) -> Response:
    """Add the security headers every page gets."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages show personal data: keep them out of shared caches and the browser's disk cache.
        headers["Cache-Control"] = "no-store"
    return response


def refuse_null_characters() -> None:
    """Refuse a query or form value holding a NUL character (400).

    No one types one, PostgreSQL cannot store one in text, and a search term holding one would be
    kept in the session and break every list page after it.
    """
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
