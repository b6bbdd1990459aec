"""What every form does to typed text before checking it."""

from __future__ import annotations


def stripped(value: object) -> object:
    """Drop the spaces around typed text (a WTForms filter), so lengths are checked on what is kept."""
    return value.strip() if isinstance(value, str) else value
