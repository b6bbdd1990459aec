"""The page the QR code and short URL on the envelope lead to, and its thank-you page.

The token in the URL names a piece and carries nothing personal; the page never logs it, and shows
of the customer only what the envelope itself printed, partly hidden. A link that does not work
gets a plain page that says nothing about whose letter it was: 404 for a link we never signed,
410 for one of ours that has expired or been used.

The page speaks the language of the envelope (its profile's, which follows the country it was
mailed in), with a switch to the other (``?lang=``). Its header names the sender as the envelope
does, in the sender's colour, with the hotline, and the page ends with the sender's privacy notice.
"""

from __future__ import annotations

import logging
import re
from datetime import date

from flask import Response as FlaskResponse
from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from mailer.batches.senders import sender_for
from mailer.db import db
from mailer.reference.store import reference_in_use
from mailer.selfservice.divisions import divisions_of_province, place_options, province_by_code, us_states
from mailer.selfservice.service import (
    COUNTRY_FIELD,
    DISTRICT_FIELD,
    FORM_FIELDS,
    AddressProblem,
    AddressRejected,
    LinkError,
    confirm_address,
    find_piece_for_token,
    letter_language,
    masked_view,
    update_address,
    withdraw_mail_consent,
)
from mailer.web.access import public
from mailer.web.extensions import csrf, limiter
from mailer.web.i18n import DEFAULT_LOCALE, LANGUAGES
from mailer.web.selfservice import bp
from mailer.web.selfservice.forms import (
    ABROAD_FIELDS,
    CHOSEN_DIVISIONS,
    AddressForm,
    address_form,
    country_name,
    field_order,
)

log = logging.getLogger(__name__)

# What the thank-you page is to say, kept in the session cookie across the redirect: no personal data.
DONE_KEY = "selfservice_done"
UPDATED = "updated"
CONFIRMED = "confirmed"
WITHDRAWN = "withdrawn"

# A sender's colour goes into a style sheet: only a plain #rrggbb is taken.
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# What the page shows when the sender set no colour.
DEFAULT_COLOUR = "#1d3f66"

POSTAL_CODE_HINTS = {
    "CN": _l("A postal code in China has six digits, like 310012."),
    "US": _l("A ZIP code has five digits, or five and four, like 62704 or 62704-1234."),
}


def _language(default: str) -> str:
    """Return the browser's language if it asks for one of ours, else ``default``."""
    return request.accept_languages.best_match(list(LANGUAGES)) or default


def _letter_language(envelope: str) -> str:
    """Return the language the customer switched to (``?lang=``), else the envelope's."""
    chosen = request.args.get("lang", "")
    return chosen if chosen in LANGUAGES else envelope


def _refused(error: LinkError) -> tuple[str, int]:
    piece = error.piece
    if piece is None:
        log.info("address-update link refused: %s", error.problem.value)
        language, status = _language(DEFAULT_LOCALE), 404
    else:
        log.info("address-update link of piece %s refused: %s", piece.id, error.problem.value)
        language, status = _language(letter_language(db.session, piece=piece)), 410
    with force_locale(language):
        return render_template("selfservice/error.html", status=status), status


def _typed_abroad(form: AddressForm, country: str) -> dict[str, str]:
    """Return the fields typed for a move abroad in place of those chosen from the letter country's lists."""
    return ABROAD_FIELDS.get(country, {}) if (form.country.data or "").strip() else {}


def _show_rejection(form: AddressForm, rejected: AddressRejected, country: str) -> list[str]:
    """Put the validation's complaint next to the field it names; return what has no field."""
    if rejected.problem is AddressProblem.MISSING:
        message = _("Please fill this in.")
    elif rejected.problem is AddressProblem.TOO_LONG:
        message = _("Please shorten this to %(limit)d characters.", limit=rejected.limit or 0)
    elif rejected.problem is AddressProblem.CONTROL_CHARACTER:
        message = _("Please use letters, digits and punctuation only: no line breaks or tabs.")
    elif rejected.problem is AddressProblem.COUNTRY:
        message = _("We do not know this country. Please write its name, like Japan, or its code, like JP.")
    elif rejected.problem is AddressProblem.POSTAL_CODE:
        message = str(POSTAL_CODE_HINTS.get(country, _l("This postal code does not fit the country.")))
    elif rejected.problem is AddressProblem.DIVISION:
        name, parent = rejected.division
        if parent:
            message = _("%(name)s is not in %(parent)s. Please choose from the list.", name=name, parent=parent)
        elif country == "US":
            message = _("%(name)s is not a US state. Please choose from the list.", name=name)
        else:
            message = _("%(name)s is not a province. Please choose from the list.", name=name)
    else:
        return [_("This address cannot be saved. Please check it and try again.")]
    for name in rejected.fields:
        name = _typed_abroad(form, country).get(name, name)
        if name in form:
            form[name].errors = [*form[name].errors, message]
    return [_("Please correct the fields marked below.")]


def _address_link_rate_limit() -> str:
    return str(current_app.config["ADDRESS_LINK_RATE_LIMIT"])


@bp.route("/<token>", methods=["GET", "POST"])
@public
# The form itself checks the CSRF token, so a form left open too long is answered on this page,
# in the customer's language, with what they typed kept.
@csrf.exempt
# Like the login: only refused links count, per IP address, so trying links is slow while a customer
# going back and forth on their own letter's page is never held up.
@limiter.limit(_address_link_rate_limit, deduct_when=lambda response: response.status_code in (404, 410))
def update(token: str) -> Response | str | tuple[str, int]:
    """Show the letter's address partly hidden; take a new address or the word that it is right."""
    try:
        piece = find_piece_for_token(
            db.session, token=token, secret=current_app.config["SECRET_KEY"], today=date.today()
        )
    except LinkError as error:
        return _refused(error)
    view = masked_view(db.session, piece=piece, senders=current_app.config.get("SENDERS"))
    language = _letter_language(view.language)
    with force_locale(language):
        form = address_form(view.country)
        problems: list[str] = []
        if request.method == "POST":
            if not form.validate_on_submit():
                problems = [_("This form has expired. Please send it again.")]
            elif "choose" in request.form:
                # Without the script the selects are filled here: show what lies under the choice, save nothing.
                pass
            else:
                try:
                    if "confirm" in request.form:
                        confirm_address(db.session, piece=piece)
                    elif "stop_mail" in request.form:
                        withdraw_mail_consent(db.session, piece=piece)
                        session[DONE_KEY] = {"outcome": WITHDRAWN, "language": language}
                        return redirect(url_for("selfservice.thanks"), code=303)
                    else:
                        values = {f: form[f].data for f in (*FORM_FIELDS, COUNTRY_FIELD, DISTRICT_FIELD)}
                        abroad = _typed_abroad(form, view.country)
                        values.update({name: form[typed].data for name, typed in abroad.items()})
                        update_address(db.session, piece=piece, values=values)
                except LinkError as error:
                    return _refused(error)
                except AddressRejected as rejected:
                    problems = _show_rejection(form, rejected, view.country)
                else:
                    # A new address used the link; a confirmation leaves it unused.
                    outcome = UPDATED if piece.address_updated_at is not None else CONFIRMED
                    session[DONE_KEY] = {"outcome": outcome, "language": language}
                    return redirect(url_for("selfservice.thanks"), code=303)
        page = render_template(
            "selfservice/update.html", form=form, view=view, fields=field_order(view.country),
            country=country_name(view.country), problems=problems, sender=view.sender,
            language=language,
            other_languages=[code for code in LANGUAGES if code != language],
            places=(
                place_options(reference_in_use(), province=form.region.data or "", city=form.city.data or "")
                if view.country in CHOSEN_DIVISIONS else None
            ),
            states=us_states(reference_in_use()) if view.country == "US" else None,
        )
        return (page, 400) if problems else page


@bp.route("/divisions/<code>.json")
@public
@limiter.limit(_address_link_rate_limit, deduct_when=lambda response: response.status_code == 404)
def divisions(code: str) -> FlaskResponse:
    """Return a Chinese province's cities, each with its districts, for the address page's selects."""
    province = province_by_code(reference_in_use(), code)
    if province is None:
        abort(404)
    return jsonify({"province": province.name, "cities": divisions_of_province(reference_in_use(), province)})


@bp.route("/sender/<profile>.css")
@public
def sender_style(profile: str) -> FlaskResponse:
    """Serve the sender's colour as a style sheet (the page's security policy allows no inline style)."""
    try:
        sender = sender_for(profile, current_app.config.get("SENDERS"))
    except KeyError:
        abort(404)
    colour = sender.colour if COLOUR.fullmatch(sender.colour or "") else DEFAULT_COLOUR
    response = FlaskResponse(f":root {{ --sender: {colour}; }}\n", mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.route("/thanks")
@public
def thanks() -> str | tuple[str, int]:
    """Thank the customer for the address they just sent or confirmed."""
    done = session.get(DONE_KEY)
    if not isinstance(done, dict) or done.get("outcome") not in (UPDATED, CONFIRMED, WITHDRAWN):
        with force_locale(_language(DEFAULT_LOCALE)):
            return render_template("selfservice/error.html", status=404), 404
    # The language the customer read the form in.
    language = str(done.get("language") or "")
    with force_locale(language if language in LANGUAGES else _language(DEFAULT_LOCALE)):
        return render_template("selfservice/thanks.html", outcome=done["outcome"])
