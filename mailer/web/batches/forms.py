"""The batch form and the render form."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from mailer.addresses.countries import ALPHA2_CODES
from mailer.batches.models import CAMPAIGN_NAME_MAX_LENGTH
from mailer.batches.proof import DEFAULT_PROOF_PIECES, MAX_PROOF_PIECES
from mailer.batches.selection import RISK_BANDS, BatchFilters
from mailer.envelopes.profiles import PROFILES
from mailer.web.fields import stripped
from mailer.web.forms import FlaskForm, SelectChoice

RISK_BAND_LABELS = {"low": _l("low"), "medium": _l("medium"), "high": _l("high")}
_COUNTRY = re.compile(r"[A-Z]{2}")


def _words(text: str | None) -> tuple[str, ...]:
    """Split a list typed as "CN, US" or "310 311" into its items."""
    return tuple(item for item in re.split(r"[\s,，、;]+", text or "") if item)


def _items(text: str | None) -> tuple[str, ...]:
    """Split a list of names, which may hold spaces ("New York, NJ"), at commas only."""
    return tuple(item.strip() for item in re.split(r"[,，、;]", text or "") if item.strip())


class MultiCheckboxField(SelectMultipleField):
    """Several choices ticked as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BatchForm(FlaskForm):
    """A new batch: its campaign, envelope and who it goes to."""

    campaign = StringField(
        _l("Campaign"), validators=[InputRequired(), Length(max=CAMPAIGN_NAME_MAX_LENGTH)], filters=[stripped]
    )
    profile = SelectField(
        _l("Envelope"), choices=[SelectChoice(key, profile.title) for key, profile in PROFILES.items()]
    )
    countries = StringField(
        _l("Countries"), validators=[Optional(), Length(max=200)],
        description=_l("Two-letter codes, e.g. CN, US. Empty: the envelope's country."),
    )
    regions = StringField(
        _l("Regions"), validators=[Optional(), Length(max=500)],
        description=_l("Provinces or states as stored, separated by commas. Empty: all."),
    )
    postal_prefixes = StringField(
        _l("Postal code prefixes"), validators=[Optional(), Length(max=500)],
        description=_l("e.g. 310 311. Empty: all."),
    )
    risk_bands = MultiCheckboxField(
        _l("Churn risk"), choices=[SelectChoice(band, RISK_BAND_LABELS[band]) for band in RISK_BANDS],
        validators=[Optional()],
    )
    remail = BooleanField(
        _l("Also mail customers already in a batch of this campaign"),
        description=_l("Left out by default, so that nobody gets the same mailing twice."),
    )

    exclude_unverifiable = BooleanField(
        _l("Leave out addresses the postal reference data could not verify"),
        description=_l("Otherwise they are mailed and counted in the batch."),
    )

    def validate_countries(self, field: StringField) -> None:
        codes = [code.upper() for code in _words(field.data)]
        if any(not _COUNTRY.fullmatch(code) for code in codes):
            raise ValidationError(_l("Use two-letter country codes such as CN or US."))
        unknown = [code for code in codes if code not in ALPHA2_CODES]
        if unknown:
            raise ValidationError(
                _("No country has the code %(codes)s. Use two-letter country codes such as CN or US.",
                  codes=", ".join(unknown))
            )

    def filters(self) -> BatchFilters:
        """Return the selection the form holds."""
        return BatchFilters(
            countries=tuple(code.upper() for code in _words(self.countries.data)),
            regions=_items(self.regions.data),
            postal_prefixes=_words(self.postal_prefixes.data),
            risk_bands=tuple(self.risk_bands.data or ()),
            exclude_unverifiable=bool(self.exclude_unverifiable.data),
        )


class RenderForm(FlaskForm):
    """Start (or resume) the render of a batch."""

    hold_unfit = BooleanField(_l("Hold pieces that do not fit their envelope and render the rest"))


class ProofForm(FlaskForm):
    """A proof PDF of a batch not yet rendered: its first envelopes, or one customer's."""

    first = IntegerField(
        _l("Envelopes"), default=DEFAULT_PROOF_PIECES,
        validators=[Optional(), NumberRange(min=1, max=MAX_PROOF_PIECES)],
    )
    customer = StringField(
        _l("Or one customer"), validators=[Optional(), Length(max=64)], filters=[stripped],
        description=_l("Customer number; empty: the first envelopes in presort order."),
    )


class CancelForm(FlaskForm):
    """Cancel a batch whose render has not started."""
