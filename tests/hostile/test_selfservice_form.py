"""The customers' address-update form with anything typed: a new address, or the form again with nothing stored."""

from __future__ import annotations

from itertools import count

from flask import Flask
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailer.addresses.models import AddressEvent
from mailer.addresses.service import CleanAddress, clean_address, current_address
from tests.selfservice.letters import mail_letter
from tests.web.conftest import CSRF_PATTERN, data

FIELDS = ("line1", "line2", "city", "region", "postal_code")
typed = st.one_of(
    st.sampled_from(["500 Elm Avenue", "Chicago", "IL", "60601", "60601-1234", ""]),
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Cc", "Zl", "Zp", "Zs", "Cf"]), max_size=5),
    st.integers(95, 260).map(lambda length: "x" * length),
)
CHICAGO = {"line2": "", "city": "Chicago", "region": "IL", "postal_code": "60601"}
forms = st.fixed_dictionaries({name: typed for name in FIELDS})
_letters = count(1)


def _events(app: Flask, customer_id: int) -> int:
    with data(app) as session:
        events = select(func.count()).select_from(AddressEvent).where(AddressEvent.customer_id == customer_id)
        return session.scalar(events) or 0


@settings(max_examples=40)
@given(forms, st.booleans())
@example({**CHICAGO, "line1": "500 Elm Avenue"}, False)
@example({**CHICAGO, "line1": "500 Elm\u2028Avenue"}, False)
@example({**CHICAGO, "line1": "\x00", "postal_code": "6060\x7f"}, False)
def test_any_typed_address_is_stored_clean_or_shown_again_with_nothing_stored(
    app: Flask, form: dict[str, str], confirm: bool
) -> None:
    # Each example has a letter of its own (a stored address uses the link up), to a household of its own.
    number = next(_letters)
    with data(app) as session:
        letter = mail_letter(session, f"H{number}", line1=f"{number} Oak Street")
    client = app.test_client()
    page = client.get(f"/u/{letter.token}").get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, page
    before = _events(app, letter.customer_id)
    sent = {**form, "csrf_token": match.group(1), **({"confirm": "1"} if confirm else {})}

    response = client.post(f"/u/{letter.token}", data=sent)

    event(f"status {response.status_code}")
    expected = clean_address({**form, "country": "US"})
    with data(app) as session:
        address = current_address(session, customer_id=letter.customer_id)
        assert address is not None
        if confirm:
            assert response.status_code == 303
            assert address.id == letter.address_id
        elif isinstance(expected, CleanAddress):
            assert response.status_code == 303, response.get_data(as_text=True)
            assert address.id != letter.address_id
            assert {name: getattr(address, name) for name in expected.fields} == expected.fields
        else:
            assert response.status_code == 400
            # A NUL is refused before any page sees it (web/security.py); anything else shows the form again.
            assert "<form" in response.get_data(as_text=True) or any("\x00" in value for value in form.values())
            assert address.id == letter.address_id
            assert _events(app, letter.customer_id) == before
