"""Access log lines without address-update tokens: a live token in a log would let its reader change an address.

The development server (werkzeug) and gunicorn (``deploy/gunicorn.conf.py``) both log through this filter.
"""

from __future__ import annotations

import logging
import re

# The token is the path segment after /u/, wherever it appears in a line: the request line, the
# referer of the page's own form and assets, a query string.
ADDRESS_UPDATE_PATH = re.compile(r"/u/[^/?#&\s\"']+")
MASKED_PATH = "/u/…"


def mask_address_update_tokens(text: str) -> str:
    """Return ``text`` with every address-update token in a /u/<token> path replaced by an ellipsis."""
    return ADDRESS_UPDATE_PATH.sub(MASKED_PATH, text)


class AddressUpdateTokenFilter(logging.Filter):
    """Mask address-update tokens in each record's finished message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its masked form; keep the record."""
        message = record.getMessage()
        masked = mask_address_update_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


TOKEN_FILTER = AddressUpdateTokenFilter()


def mask_tokens_in(logger: logging.Logger) -> None:
    """Mask address-update tokens in every record logged to ``logger`` (once, however often called)."""
    logger.addFilter(TOKEN_FILTER)
