"""The new-address form, with the labels and field order of the letter's country."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from wtforms import StringField

from mailer.addresses.service import ADDRESS_MAX_LENGTHS
from mailer.web.forms import FlaskForm

# The order a customer of each country writes an address in: China from the province down.
FIELD_ORDER: dict[str, tuple[str, ...]] = {"CN": ("region", "city", "district", "line1", "line2", "postal_code")}
# Countries whose region, city and district are chosen from the reference data, not typed.
CHOSEN_DIVISIONS = frozenset({"CN"})
DEFAULT_FIELD_ORDER = ("line1", "line2", "city", "region", "postal_code")
COUNTRY_NAMES = {"CN": _l("China"), "US": _l("United States")}
# Countries whose postal codes are digits only: phones show the numeric keypad for them.
NUMERIC_POSTAL_CODES = frozenset({"CN", "US"})


def _attributes(autocomplete: str, max_length: int) -> dict[str, object]:
    return {"autocomplete": autocomplete, "maxlength": max_length}


class AddressForm(FlaskForm):
    """A new address, in the letter's country unless the customer names another (moving abroad)."""

    line1 = StringField(_l("Street address"), render_kw=_attributes("address-line1", ADDRESS_MAX_LENGTHS["line1"]))
    line2 = StringField(
        _l("Flat, floor or building (optional)"),
        render_kw=_attributes("address-line2", ADDRESS_MAX_LENGTHS["line2"]),
    )
    city = StringField(_l("City"), render_kw=_attributes("address-level2", ADDRESS_MAX_LENGTHS["city"]))
    region = StringField(_l("Region"), render_kw=_attributes("address-level1", ADDRESS_MAX_LENGTHS["region"]))
    # Only where the districts are chosen from the reference data (China); stored at the street's head.
    district = StringField(_l("District or county"), render_kw=_attributes("address-level3", 40))
    postal_code = StringField(_l("Postal code"), render_kw=_attributes("postal-code", 16))
    country = StringField(
        _l("The country you are moving to"), render_kw=_attributes("country-name", 60),
        description=_l("Its name or code, like Japan, 日本 or JP. Leave it empty if you stay in the same country."),
    )
    # Where the page chooses the city and region from its country's divisions, one abroad is typed here.
    abroad_city = StringField(_l("City"), render_kw=_attributes("address-level2", ADDRESS_MAX_LENGTHS["city"]))
    abroad_region = StringField(
        _l("State, province or region (optional)"),
        render_kw=_attributes("address-level1", ADDRESS_MAX_LENGTHS["region"]),
    )


def address_form(country: str) -> AddressForm:
    """Return the form with the region and postal code named as the country names them."""
    form = AddressForm()
    if country in NUMERIC_POSTAL_CODES:
        form.postal_code.render_kw = {**(form.postal_code.render_kw or {}), "inputmode": "numeric"}
    if country == "CN":
        form.region.label.text = _("Province")
        form.line1.label.text = _("Street and number")
    elif country == "US":
        # "State" alone is already the staff pages' word for a user's status.
        form.region.label.text = pgettext("address field", "State")
        form.postal_code.label.text = _("ZIP code")
    return form


# The typed fields that stand for the chosen ones when the customer moves abroad, per letter's country.
ABROAD_FIELDS: dict[str, dict[str, str]] = {
    "CN": {"city": "abroad_city", "region": "abroad_region"},
    "US": {"region": "abroad_region"},
}


def field_order(country: str) -> tuple[str, ...]:
    """Return the names of the address fields in the order the country writes them."""
    return FIELD_ORDER.get(country, DEFAULT_FIELD_ORDER)


def country_name(country: str) -> str:
    """Return the country's name in the page's language (its code where we have no name)."""
    return str(COUNTRY_NAMES.get(country, country))
