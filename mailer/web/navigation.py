"""The main menu: each entry, and which pages light it up."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l

from mailer.web.access import may_open


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A link in the main menu, shown to those who may open it."""

    endpoint: str
    text: object
    # Endpoints (or their beginnings) of the pages this entry stands for.
    pages: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Tell whether the page being shown belongs to this entry."""
        return request.endpoint is not None and request.endpoint.startswith(self.pages)


MENU = (
    MenuEntry("dashboard.index", _l("Dashboard"), ("dashboard.",)),
    MenuEntry("customers.index", _l("Customers"), ("customers.",)),
    MenuEntry("dedupe.index", _l("Duplicates"), ("dedupe.",)),
    MenuEntry("retention.index", _l("Retention"), ("retention.",)),
    MenuEntry("imports.upload", _l("Import"), ("imports.",)),
    MenuEntry("batches.campaigns", _l("Campaigns"), ("batches.",)),
    MenuEntry("mailroom.scan", _l("Mailroom"), ("mailroom.",)),
    MenuEntry("admin.users", _l("Users"), ("admin.users", "admin.new_user", "admin.update_user")),
    MenuEntry("admin.tokens", _l("API tokens"), ("admin.tokens", "admin.new_token", "admin.revoke_token")),
    MenuEntry("admin.audit", _l("Audit log"), ("admin.audit", "admin.looks")),
)


def menu() -> list[MenuEntry]:
    """Return the menu entries the current user may open."""
    return [entry for entry in MENU if may_open(entry.endpoint)]
