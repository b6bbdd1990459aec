"""The duplicates pages: candidate pairs side by side with merge and "not a duplicate" buttons, the
pairs marked not duplicates with a restore button, and recent merges to undo.

Customer numbers travel only in the bodies of posted forms; links go to customer pages by id.
Each merge or undo is committed with its request when the service succeeds, and undone with the
reason shown when it refuses (a customer merged since the page was shown, say).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mailer.auth.models import Role
from mailer.batches.jobs import render_queue
from mailer.db import db
from mailer.dedupe.jobs import enqueue_search
from mailer.dedupe.models import DedupeRun
from mailer.dedupe.review import COMPARED_FIELDS, review_pairs
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.service import (
    DuplicatePair,
    MergeError,
    dismiss_pair,
    list_dismissed,
    list_merges,
    merge_customers,
    pair_score,
    restore_pair,
    undo_merge,
)
from mailer.dedupe.stored import latest_run, stored_pairs
from mailer.pagination import Page
from mailer.web.access import actor_name, allow, current_staff
from mailer.web.dedupe import bp
from mailer.web.dedupe.forms import NOTE_MAX_LENGTH, DismissForm, MergeForm, PairForm, SearchForm, UndoForm
from mailer.web.i18n import say
from mailer.web.numbers import big_key
from mailer.web.transaction import attempt

PAIRS_PER_PAGE = 50
MERGES_SHOWN = 50
DISMISSED_SHOWN = 20


@bp.route("")
@allow(Role.MARKETING)
def index() -> str:
    """Show the stored search's candidate pairs side by side, differences highlighted, a page at a time.

    The page only reads: with no stored search yet it says so and offers the button that queues
    one (a search of a large file takes minutes, never a request's time).
    """
    run = latest_run(db.session)
    if run is None:
        return _render_index(pairs=[], found=0, threshold=DEFAULT_THRESHOLD, run=None, page=None, dismissed_count=0)
    stored = stored_pairs(
        db.session, run=run, after=request.args.get("after", type=big_key),
        before=request.args.get("before", type=big_key), size=PAIRS_PER_PAGE,
    )
    return _render_index(pairs=stored.page.items, found=stored.total, threshold=run.threshold, run=run,
                         page=stored.page, dismissed_count=stored.dismissed)


def _render_index(
    *, pairs: list[DuplicatePair], found: int, threshold: float, run: DedupeRun | None,
    page: Page[DuplicatePair] | None, dismissed_count: int,
) -> str:
    return render_template(
        "dedupe/index.html",
        threshold=threshold,
        run=run,
        page=page,
        dismissed_count=dismissed_count,
        pairs=review_pairs(db.session, pairs=pairs),
        found=found,
        fields=COMPARED_FIELDS,
        dismissed=list_dismissed(db.session, limit=DISMISSED_SHOWN),
        dismissed_shown=DISMISSED_SHOWN,
        note_max_length=NOTE_MAX_LENGTH,
    )


@bp.route("/search", methods=["POST"])
@allow(Role.MARKETING)
def search() -> Response:
    """Queue a stored search (new and changed customers, or every customer); the page shows its pairs
    once a worker has run it."""
    form = SearchForm()
    if not form.validate_on_submit():
        abort(400)
    enqueue_search(render_queue(), actor=actor_name(current_staff()), full=form.scope.data != "new")
    flash(_("The duplicate search is queued. Its pairs appear here when it is done."), "success")
    return redirect(url_for("dedupe.index"))


@bp.route("/merge", methods=["POST"])
@allow(Role.MARKETING)
def merge() -> Response:
    """Merge one customer of a pair into the other, scored as the pair scores now."""
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400)
    survivor_no, merged_no = str(form.survivor.data), form.merged_no()
    scored = pair_score(db.session, first_no=survivor_no, second_no=merged_no)
    try:
        with attempt() as session:
            merge_customers(
                session, survivor_no=survivor_no, merged_no=merged_no, actor=actor_name(current_staff()),
                score=scored.score if scored is not None else None,
            )
    except MergeError as exc:
        flash(_("Nothing was merged: %(reason)s.", reason=say(exc)), "error")
        return redirect(url_for("dedupe.index"))
    flash(
        _("Customer %(merged)s is merged into %(survivor)s. Recent merges can undo it.",
          merged=merged_no, survivor=survivor_no),
        "success",
    )
    return redirect(url_for("dedupe.index"))


@bp.route("/dismiss", methods=["POST"])
@allow(Role.MARKETING)
def dismiss() -> Response:
    """Mark a pair as two different people, so it is never offered or merged as duplicates again."""
    form = DismissForm()
    return _change_pair(
        form,
        partial(dismiss_pair, note=form.note.data),
        lambda first, second: _(
            "Customers %(first)s and %(second)s are marked as not duplicates and will not be offered again.",
            first=first, second=second,
        ),
    )


@bp.route("/restore", methods=["POST"])
@allow(Role.MARKETING)
def restore() -> Response:
    """Take back a "not a duplicate" mark: the pair may be offered as duplicates again."""
    return _change_pair(
        PairForm(),
        restore_pair,
        lambda first, second: _(
            "Customers %(first)s and %(second)s may be offered as duplicates again.", first=first, second=second
        ),
    )


def _change_pair(form: PairForm, change: Callable[..., object], done: Callable[[str, str], str]) -> Response:
    """Apply ``change`` to the posted pair in one transaction; flash what ``done`` says, or why not."""
    if not form.validate_on_submit():
        if set(form.errors) != {"note"}:
            abort(400)
        flash(_("Nothing was changed: the note may have at most %(count)s characters.", count=NOTE_MAX_LENGTH),
              "error")
        return redirect(url_for("dedupe.index"))
    first_no, second_no = str(form.customer_no_a.data), str(form.customer_no_b.data)
    try:
        with attempt() as session:
            change(session, first_no=first_no, second_no=second_no, actor=actor_name(current_staff()))
    except MergeError as exc:
        flash(_("Nothing was changed: %(reason)s.", reason=say(exc)), "error")
        return redirect(url_for("dedupe.index"))
    flash(done(first_no, second_no), "success")
    return redirect(url_for("dedupe.index"))


@bp.route("/merges")
@allow(Role.MARKETING)
def merges() -> str:
    """Show the latest merges, newest first, with an undo button on those still in force."""
    return render_template(
        "dedupe/merges.html", merges=list_merges(db.session, limit=MERGES_SHOWN), limit=MERGES_SHOWN
    )


@bp.route("/merges/undo", methods=["POST"])
@allow(Role.MARKETING)
def undo() -> Response:
    """Undo a merge: the merged customer gets back what was moved and is mailable again."""
    form = UndoForm()
    if not form.validate_on_submit() or form.merge_id.data is None:
        abort(400)
    try:
        with attempt() as session:
            undone = undo_merge(session, merge_id=form.merge_id.data, actor=actor_name(current_staff()))
    except MergeError as exc:
        flash(_("Nothing was changed: %(reason)s.", reason=say(exc)), "error")
        return redirect(url_for("dedupe.merges"))
    flash(_("Merge %(merge_id)s is undone.", merge_id=undone.id), "success")
    return redirect(url_for("dedupe.merges"))
