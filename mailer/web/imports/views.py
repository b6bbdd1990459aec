"""Upload a customer or order file and see what became of each row."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import render_template, request
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from mailer.audit.service import record
from mailer.auth.models import Role
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.db import db
from mailer.imports import ImportReport, UnusableFile
from mailer.orders.importing import ORDER_COLUMNS, import_orders
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.i18n import say
from mailer.web.imports import bp
from mailer.web.imports.forms import UploadForm
from mailer.web.transaction import attempt, keep_on_error

log = logging.getLogger(__name__)

IMPORTERS: dict[str, tuple[Callable[..., ImportReport], tuple[str, ...]]] = {
    "customers": (import_customers, CUSTOMER_COLUMNS),
    "orders": (import_orders, ORDER_COLUMNS),
}
# The result page lists this many rejected rows; all of them are counted.
REJECTS_SHOWN = 1000


@bp.route("", methods=["GET", "POST"])
@allow(Role.MARKETING)
def upload() -> str | tuple[str, int]:
    """Show the upload form; import an uploaded file in one transaction and show the result."""
    form = UploadForm()
    if request.method == "GET":
        return render_template("imports/upload.html", form=form, columns=IMPORTERS)
    if not form.validate_on_submit():
        return render_template("imports/upload.html", form=form, columns=IMPORTERS), 400

    user = current_staff()
    kind = form.kind.data or "customers"
    importer, columns = IMPORTERS[kind]
    upload_file = form.file.data
    # The file holds personal data: it lives only for this request, in a private temporary folder.
    with tempfile.TemporaryDirectory(prefix="mailer-upload-") as folder:
        path = Path(folder) / (secure_filename(upload_file.filename or "") or "upload.csv")
        upload_file.save(path)
        try:
            with attempt() as session:
                report = importer(session, path=path, actor=actor_name(user))
        except UnusableFile as exc:
            # Nothing was stored, but the attempt is on record.
            record(db.session, actor=actor_name(user), action=f"{kind}.import_failed", object_type="file",
                   object_id=path.name[:64], detail={"error": str(exc)})
            keep_on_error()
            log.info("user %s uploaded an unusable %s file", user.id, kind)
            form.file.errors = [_("This file cannot be imported: %(error)s. Nothing was stored.", error=say(exc))]
            return render_template("imports/upload.html", form=form, columns=IMPORTERS), 422
    log.info(
        "user %s imported a %s file: %s rows, %s rejected", user.id, kind, report.total, len(report.rejected)
    )
    return render_template(
        "imports/result.html",
        report=report,
        kind=kind,
        columns=columns,
        rejected=sorted(report.rejected, key=lambda r: r.row)[:REJECTS_SHOWN],
    )
