"""The retention list page and its CSV download.

Only filters and a page cursor (a spend at stake and an internal id) travel in the query string;
names and customer numbers never do. The download is a POST with a CSRF token: it is audited
("retention.export", the same row as ``churn list --csv`` writes) and committed before the first
byte is sent, then the CSV streams row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flask import Response, render_template, request, stream_with_context

from mailer.auth.models import Role
from mailer.churn.retention import RetentionCursor, export_retention_csv, last_run, retention_page
from mailer.db import db
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.explanations import top_reason
from mailer.web.retention import bp
from mailer.web.retention.forms import ExportForm, FilterForm


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"top_reason": top_reason}


@bp.route("")
@allow(Role.MARKETING)
def index() -> str:
    """Show a page of the retention list, most spend at stake first."""
    form = FilterForm(formdata=request.args)
    page = retention_page(
        db.session,
        filters=form.filters(),
        after=RetentionCursor.parse(request.args.get("after")),
        before=RetentionCursor.parse(request.args.get("before")),
    )
    return render_template(
        "retention/index.html",
        page=page,
        form=form,
        export_form=ExportForm(formdata=None),
        filter_args=form.query_args(),
        churn_run=last_run(db.session),
    )


@bp.route("/export.csv", methods=["POST"])
@allow(Role.MARKETING)
def export() -> Response:
    """Download the whole list under the posted filters as CSV; the export is audited first."""
    file_name = f"retention-{date.today().isoformat()}.csv"
    # The request's session takes SQLite's write lock at each begin (the audit row); the rows are
    # streamed after it commits, so they are read in a read-only session closed with the stream,
    # which holds up no writer meanwhile.
    reader = db.state.sessionmaker()
    export = export_retention_csv(
        db.session, filters=ExportForm().filters(), actor=actor_name(current_staff()), file_name=file_name,
        reader=reader,
    )

    def chunks() -> Iterator[str]:
        try:
            yield from export.chunks
        finally:
            reader.close()

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )
