"""Countries, postal codes and whole addresses as customers and files write them."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from mailer.addresses.countries import canonical_country, canonical_postal_code, postal_code_problem
from mailer.addresses.service import ADDRESS_FIELDS, ADDRESS_MAX_LENGTHS, CleanAddress, clean_address
from mailer.messages import Message

# Countries as people type them, codes of no country, and anything at all.
countries = st.one_of(
    st.sampled_from(
        ["US", "usa", "United States", "CN", "中国", "GB", "U.K.", "HK", "香港", "CA", "DE", "JP", "ZZ", ""]
    ),
    st.text(max_size=40),
)
postal_codes = st.one_of(
    st.from_regex(r"[0-9A-Za-z \-]{0,12}", fullmatch=True),
    st.text(alphabet=st.characters(categories=["Nd", "Lu", "Ll", "Zs", "Pd", "Cc"]), max_size=20),
    st.text(max_size=40),
)
field_text = st.one_of(st.text(max_size=30), st.text(min_size=95, max_size=220))


@given(countries, postal_codes)
@example("US", "١٢٣٤٥")
@example("GB", "ＳＷ１Ａ １ＡＡ")
@example("CA", "k1a0b1\u2028")
def test_a_postal_code_fits_its_country_or_says_why(country: str, postal_code: str) -> None:
    alpha2 = canonical_country(country)
    assert alpha2 is None or (len(alpha2) == 2 and alpha2.isascii() and alpha2.isupper())
    problem = postal_code_problem(country=country, postal_code=postal_code)
    assert problem is None or str(problem)
    if alpha2 is not None:
        assert isinstance(canonical_postal_code(country=alpha2, postal_code=postal_code), str)


@given(st.fixed_dictionaries({field: field_text for field in ADDRESS_FIELDS if field != "country"},
                             optional={"country": countries}),
       st.sampled_from(["", "new_"]))
@example({"line1": "1 Oak St", "line2": "", "city": "X", "region": "IL", "postal_code": "60601\n", "country": "US"}, "")
@example({"line1": "1 Oak St\u2029", "city": "X", "postal_code": "60601", "country": "US"}, "")
def test_an_address_is_clean_and_printable_or_refused_in_words(values: dict[str, str], prefix: str) -> None:
    result = clean_address({prefix + name: value for name, value in values.items()}, prefix=prefix)
    if isinstance(result, Message):
        assert str(result)
        return
    assert isinstance(result, CleanAddress)
    assert canonical_country(result.fields["country"] or "") == result.fields["country"]
    for name, limit in ADDRESS_MAX_LENGTHS.items():
        assert len(result.fields[name] or "") <= limit
    for value in result.fields.values():
        # Nothing that breaks a printed line or an envelope's address block.
        assert not any(unicodedata.category(c) == "Cc" or c in "\u2028\u2029" for c in value or ""), repr(value)
    assert result.fingerprint and result.household_key
