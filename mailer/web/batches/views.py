"""The campaign list, the batch form, the batch page, starting a render, its progress and the downloads.

No render runs inside a request: "render" queues the batch's jobs on the render queue (RQ on
Redis) and the page follows them through the progress endpoint. The files are read from the
batch's folder under BATCH_OUTPUT_DIR, which render workers write to.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from mailer.auth.models import Role
from mailer.batches.jobs import enqueue_render, render_queue, render_settings, workers_listening
from mailer.batches.models import BatchStatus, FileStatus
from mailer.batches.preview import preview_batch
from mailer.batches.proof import DEFAULT_PROOF_PIECES, ProofError, proof_of_batch, render_proof
from mailer.batches.rendering import HOLDS_NAME, MANIFEST_NAME, RenderError, is_test_link_address
from mailer.batches.results import batch_file_name, export_campaign_results, get_campaign, results_file_name
from mailer.batches.selection import BatchError, create_batch
from mailer.batches.service import (
    BatchNotFound,
    CancelRefused,
    batch_file,
    batch_pieces,
    batch_summary,
    cancel_batch,
    claim_render,
    get_batch,
    held_pieces,
    list_campaigns_with_stats,
    record_download,
    render_progress,
)
from mailer.db import db
from mailer.envelopes.profiles import PROFILES
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.batches import bp
from mailer.web.batches.forms import RISK_BAND_LABELS, BatchForm, CancelForm, ProofForm, RenderForm
from mailer.web.batches.labels import left_out_label, state_label, state_tone
from mailer.web.i18n import say
from mailer.web.numbers import row_id
from mailer.web.transaction import attempt

log = logging.getLogger(__name__)

# The batch page lists this many held pieces; held.csv lists them all.
HELD_SHOWN = 100
# The preview lists this many regions and bundles; `batch create --dry-run` lists them all.
PREVIEW_ROWS = 20


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "state_label": state_label, "state_tone": state_tone, "left_out_label": left_out_label,
        "risk_band_labels": RISK_BAND_LABELS, "profiles": PROFILES,
    }


def _folder(batch_id: int) -> Path:
    """Return the folder a batch's files are written to and read from."""
    return Path(current_app.config["BATCH_OUTPUT_DIR"]).resolve() / str(batch_id)


@bp.route("/campaigns")
@allow(Role.MARKETING)
def campaigns() -> str:
    """List campaigns, newest first, with their batches and return rates."""
    return render_template("batches/campaigns.html", campaigns=list_campaigns_with_stats(db.session))


@bp.route("/campaigns/<int:campaign_id>/results.csv")
@allow(Role.MARKETING)
def campaign_results(campaign_id: int) -> Response:
    """Download a campaign's results per batch: mailed, returned by reason, updated by customers."""
    campaign = get_campaign(db.session, campaign_id=campaign_id)
    if campaign is None:
        abort(404)
    name = results_file_name(campaign.name)
    text = io.StringIO()
    export_campaign_results(db.session, campaign=campaign, handle=text, actor=actor_name(current_staff()),
                            file_name=name)
    # send_file writes a name in any script the way browsers read it (RFC 6266's filename*).
    return send_file(io.BytesIO(text.getvalue().encode()), mimetype="text/csv", as_attachment=True,
                     download_name=name, max_age=0)


@bp.route("/batches/new", methods=["GET", "POST"])
@allow(Role.MARKETING)
def new_batch() -> str | tuple[str, int] | Response:
    """Show the batch form; preview its audience ("Preview": nothing is created), or create the batch and show it."""
    form = BatchForm(
        campaign=request.args.get("campaign", ""), exclude_unverifiable=current_app.config["EXCLUDE_UNVERIFIABLE"]
    )
    if not form.validate_on_submit():
        return render_template("batches/new.html", form=form), 400 if request.method == "POST" else 200
    user = current_staff()
    if "preview" in request.form:
        try:
            # The preview runs in a savepoint it rolls back itself: the request commits nothing of it.
            preview = preview_batch(
                db.session, campaign_name=form.campaign.data or "", profile=form.profile.data or "",
                filters=form.filters(), remail=bool(form.remail.data), actor=actor_name(user),
            )
        except BatchError as exc:
            return render_template("batches/new.html", form=form, error=say(exc)), 400
        return render_template("batches/new.html", form=form, preview=preview, shown=PREVIEW_ROWS)
    try:
        batch = create_batch(
            db.session, campaign_name=form.campaign.data or "", profile=form.profile.data or "",
            filters=form.filters(), remail=bool(form.remail.data), actor=actor_name(user),
        )
    except BatchError as exc:
        return render_template("batches/new.html", form=form, error=say(exc)), 400
    log.info("user %s created batch %s with %s pieces", user.id, batch.id, batch.piece_count)
    flash(_("Batch %(id)s created: %(count)s pieces.", id=batch.id, count=batch.piece_count), "success")
    return redirect(url_for("batches.show", batch_id=batch.id))


@bp.route("/batches/<int:batch_id>")
@allow(Role.MARKETING)
def show(batch_id: int) -> str:
    """Show a batch: counts, filters, left-out customers, render and downloads, pieces in presort order."""
    summary = batch_summary(db.session, batch_id=batch_id)
    if summary is None:
        abort(404)
    folder = _folder(batch_id)
    rendered = summary.batch.status is BatchStatus.RENDERED
    return render_template(
        "batches/show.html",
        summary=summary,
        batch=summary.batch,
        page=batch_pieces(
            db.session, batch_id=batch_id, after=request.args.get("after", type=row_id),
            before=request.args.get("before", type=row_id),
        ),
        held=held_pieces(db.session, batch_id=batch_id, limit=HELD_SHOWN) if summary.held else [],
        progress=render_progress(db.session, batch_id=batch_id),
        listening=_listening() if summary.rendering else None,
        render_form=RenderForm(),
        cancel_form=CancelForm(),
        proof_form=ProofForm(),
        available={
            f.file_no for f in summary.files if f.status is FileStatus.DONE and (folder / f.file_name).is_file()
        },
        manifest=rendered and (folder / MANIFEST_NAME).is_file(),
        holds=rendered and (folder / HOLDS_NAME).is_file(),
    )


@bp.route("/batches/<int:batch_id>/render", methods=["POST"])
@allow(Role.MARKETING)
def render(batch_id: int) -> Response:
    """Queue the render of a batch (or resume a stopped one); workers on the render queue do the work."""
    form = RenderForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_staff()
    if is_test_link_address(current_app.config["PUBLIC_BASE_URL"]):
        # A whole mailing with dead update links is worse than no mailing: refused before anything is queued.
        flash(_("This batch cannot be rendered: the update links would point at %(url)s, which customers cannot "
                "open. Ask an administrator to set PUBLIC_BASE_URL to the site's public https address.",
                url=current_app.config["PUBLIC_BASE_URL"]), "error")
        return redirect(url_for("batches.show", batch_id=batch_id))
    try:
        with attempt() as session:
            claim_render(session, batch_id=batch_id)
            enqueue_render(
                render_queue(), render_settings(_folder(batch_id)), batch_id=batch_id, actor=actor_name(user),
                hold_unfit=bool(form.hold_unfit.data), pieces_per_file=current_app.config["BATCH_PIECES_PER_FILE"],
            )
    except BatchNotFound:
        abort(404)
    except RenderError:
        found = get_batch(db.session, batch_id=batch_id)
        if found is not None and found.status is BatchStatus.CANCELLED:
            flash(_("This batch is cancelled: it cannot be rendered."), "error")
        else:
            flash(_("This batch cannot be rendered now: it is being rendered or already was."), "error")
        return redirect(url_for("batches.show", batch_id=batch_id))
    except RedisError as exc:
        log.error("user %s could not queue the render of batch %s: %s", user.id, batch_id, exc)
        flash(_("The render queue cannot be reached. Try again later, or ask an administrator to check Redis."),
              "error")
        return redirect(url_for("batches.show", batch_id=batch_id))
    log.info("user %s queued the render of batch %s", user.id, batch_id)
    flash(_("The render is queued. This page shows its progress."), "success")
    return redirect(url_for("batches.show", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/proof", methods=["POST"])
@allow(Role.MARKETING)
def proof(batch_id: int) -> Response:
    """Send a proof PDF of a batch not yet rendered: marked PROOF, with proof codes that are never piece codes."""
    form = ProofForm()
    if not form.validate_on_submit():
        flash(_("A proof holds 1 to 100 envelopes."), "error")
        return redirect(url_for("batches.show", batch_id=batch_id, _anchor="proof"))
    user = current_staff()
    pdf = io.BytesIO()
    try:
        with attempt() as session:
            found = proof_of_batch(
                session, batch_id=batch_id, first=form.first.data or DEFAULT_PROOF_PIECES,
                customer_no=form.customer.data or None,
            )
            envelopes = render_proof(
                session, found, settings=render_settings(_folder(batch_id)), out=pdf, actor=actor_name(user)
            )
    except ProofError as exc:
        if get_batch(db.session, batch_id=batch_id) is None:
            abort(404)
        flash(say(exc), "error")
        return redirect(url_for("batches.show", batch_id=batch_id, _anchor="proof"))
    log.info("user %s made a proof of %s envelopes of batch %s", user.id, envelopes, batch_id)
    pdf.seek(0)
    return send_file(pdf, mimetype="application/pdf", as_attachment=True,
                     download_name=f"batch-{batch_id}-proof.pdf")


@bp.route("/batches/<int:batch_id>/cancel", methods=["POST"])
@allow(Role.MARKETING)
def cancel(batch_id: int) -> Response:
    """Cancel a batch whose render has not started; its customers can be selected again in its campaign."""
    if not CancelForm().validate_on_submit():
        abort(400)
    user = current_staff()
    try:
        with attempt() as session:
            cancel_batch(session, batch_id=batch_id, actor=actor_name(user))
    except BatchNotFound:
        abort(404)
    except CancelRefused:
        flash(_("This batch cannot be cancelled: its render has started."), "error")
        return redirect(url_for("batches.show", batch_id=batch_id))
    log.info("user %s cancelled batch %s", user.id, batch_id)
    flash(_("Batch %(id)s is cancelled: it will not be printed.", id=batch_id), "success")
    return redirect(url_for("batches.show", batch_id=batch_id))


def _listening() -> int | None:
    """Count the workers listening on the render queue, or None when the queue cannot be reached."""
    try:
        return workers_listening(render_queue())
    except RedisError as exc:
        log.warning("cannot count the workers of the render queue: %s", exc)
        return None


@bp.route("/batches/<int:batch_id>/progress")
@allow(Role.MARKETING)
def progress(batch_id: int) -> Response:
    """Answer how far the render has come, and how many workers listen on the queue, as JSON for the page's script."""
    found = render_progress(db.session, batch_id=batch_id)
    if found is None:
        abort(404)
    answer = found.as_json()
    answer["workers"] = _listening() if found.status is BatchStatus.RENDERING and not found.error else None
    return jsonify(answer)


def _send(batch_id: int, name: str, mimetype: str) -> Response:
    """Send a file of the batch's folder, with an audit row: it holds customers' names and addresses."""
    path = _folder(batch_id) / name
    if not path.is_file():
        abort(404)
    batch = get_batch(db.session, batch_id=batch_id)
    if batch is None:
        abort(404)
    user = current_staff()
    record_download(db.session, batch_id=batch_id, file_name=name, actor=actor_name(user))
    log.info("user %s downloaded %s of batch %s", user.id, name, batch_id)
    # Named after the campaign and batch, so a folder of downloads says which mailing each file is.
    shown = batch_file_name(
        campaign_name=batch.campaign.name, batch_id=batch_id, name=name.removeprefix(f"batch-{batch_id}-")
    )
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=shown)


@bp.route("/batches/<int:batch_id>/files/<int:file_no>")
@allow(Role.MARKETING)
def download_file(batch_id: int, file_no: int) -> Response:
    """Send one rendered PDF file of a batch."""
    found = batch_file(db.session, batch_id=batch_id, file_no=file_no)
    if found is None or found.status is not FileStatus.DONE:
        abort(404)
    return _send(batch_id, found.file_name, "application/pdf")


def _rendered_or_404(batch_id: int) -> None:
    batch = get_batch(db.session, batch_id=batch_id)
    if batch is None or batch.status is not BatchStatus.RENDERED:
        abort(404)


@bp.route("/batches/<int:batch_id>/manifest.csv")
@allow(Role.MARKETING)
def download_manifest(batch_id: int) -> Response:
    """Send the manifest of a rendered batch: each piece's file and page."""
    _rendered_or_404(batch_id)
    return _send(batch_id, MANIFEST_NAME, "text/csv")


@bp.route("/batches/<int:batch_id>/held.csv")
@allow(Role.MARKETING)
def download_held(batch_id: int) -> Response:
    """Send the list of a rendered batch's held pieces and why each is held."""
    _rendered_or_404(batch_id)
    return _send(batch_id, HOLDS_NAME, "text/csv")
