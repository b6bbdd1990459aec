"""Finding customers as people type them: any word of a name, pinyin, number, email, phone, postcode.

Each customer's searchable words are folded once, when the customer is written, into rows of
``customer_search_terms`` (one word a row). A search folds the typed words the same way and looks
each up as the beginning of a stored word: a range scan of the terms' index, the same on SQLite and
PostgreSQL. Postcodes are not copied: they change with every move, so they are looked up in the
addresses' own postcode index.

Folding: NFKC, case and accents are dropped and a word keeps only its letters and digits, so
"Nathan", "NATHAN" and "nathan" are one word, "O'Brien" is "obrien", "C-0001234" is "c0001234".
Chinese names are kept in characters and written in toneless pinyin too ("王小明": "王小明", "小明",
"wang", "xiaoming", "wangxiaoming", "xiao", "ming"). A phone number is its digits, with and
without the country code; a query of only digits and phone punctuation is one number.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, delete, insert, intersect, or_, select, union
from sqlalchemy.orm import Session

from mailer.addresses.models import Address
from mailer.customers.models import Customer, CustomerSearchTerm
from mailer.customers.names import chinese_name_parts
from mailer.folding import HAN_CHARACTER

# Above every other character: [prefix, prefix + this) holds exactly the strings starting with prefix
# (bytewise, as SQLite's BINARY and PostgreSQL's "C" collation compare them).
_LAST_CHARACTER = "\U0010ffff"
_NOT_WORD = re.compile(r"[\W_]+")
_WORD_SEPARATORS = re.compile(r"[\s,;/]+")
_PHONE_QUERY = re.compile(r"^[\d\s()+\-.]+$")
# Country codes written before a national number: +1 (US, 10 digits) and +86 (China, 11 digits).
_COUNTRY_PREFIXES = (("1", 10), ("86", 11))
# The longest word kept: longer ones are cut, and a longer query word is cut the same way.
TERM_MAX_LENGTH = 64
# More words than this in one query are not looked up: no customer has that many.
QUERY_MAX_WORDS = 8
SYNC_CHUNK = 2000


@lru_cache(maxsize=1 << 16)
def fold_word(text: str) -> str:
    """Return a word as stored: NFKC, no case, no accents, only letters and digits."""
    if text.isascii():
        return _NOT_WORD.sub("", text.lower())[:TERM_MAX_LENGTH]
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub("", unicodedata.normalize("NFC", bare))[:TERM_MAX_LENGTH]


@lru_cache(maxsize=1 << 16)
def _pinyin(text: str) -> tuple[str, ...]:
    # Imported here: pypinyin's dictionaries take about 56 MB, needed only when names are written.
    from pypinyin import lazy_pinyin

    return tuple(fold_word(syllable) for syllable in lazy_pinyin(text))


def _name_terms(name: str) -> set[str]:
    terms: set[str] = set()
    parts = chinese_name_parts(name)
    if parts is not None:
        surname, given = parts
        surname_pinyin, given_pinyin = _pinyin(surname), _pinyin(given) if given else ()
        terms.update((surname + given, surname, given, "".join(surname_pinyin), "".join(given_pinyin)))
        terms.add("".join(surname_pinyin + given_pinyin))
        terms.update(surname_pinyin + given_pinyin)
    for word in _WORD_SEPARATORS.split(name):
        terms.add(fold_word(word))
        # "Mary-Jane", "O'Brien": the whole word and each of its parts.
        terms.update(fold_word(part) for part in _NOT_WORD.split(word))
        if HAN_CHARACTER.search(word) and parts is None:
            terms.add("".join(_pinyin(word)))
    return terms


def phone_terms(phone: str) -> set[str]:
    """Return a phone number's digits, and its national number when it starts with a known country code."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    digits = digits.removeprefix("00")
    terms = {digits}
    for code, national_length in _COUNTRY_PREFIXES:
        if digits.startswith(code) and len(digits) == len(code) + national_length:
            terms.add(digits[len(code) :])
    return terms


def search_terms(*, customer_no: str, name: str, phone: str | None, email: str | None) -> set[str]:
    """Return the folded words a customer is found by, none of them the beginning of another."""
    terms = _name_terms(name)
    terms.add(fold_word(customer_no))
    terms.update(fold_word(part) for part in _NOT_WORD.split(customer_no))
    if phone:
        terms.update(phone_terms(phone))
    if email:
        local, _, domain = email.rpartition("@")
        terms.update((fold_word(email), fold_word(local), fold_word(domain)))
    terms.discard("")
    return _without_prefixes(terms)


def _without_prefixes(terms: set[str]) -> set[str]:
    # A search matches the beginning of a term, so a term that begins another ("wang" of
    # "wangxiaoming", "c" of "c0001234") finds nobody the longer one does not: leave it out.
    ordered = sorted(terms)
    return {term for term, following in zip(ordered, [*ordered[1:], ""], strict=True) if not following.startswith(term)}


def query_words(text: str) -> list[tuple[str, str]]:
    """Return each word of a search folded and as typed; a customer must match every one."""
    text = unicodedata.normalize("NFKC", text).strip()
    if _PHONE_QUERY.match(text) and any(ch.isdigit() for ch in text):
        return [(fold_word(text), text)]
    words = {fold_word(word): word for word in _WORD_SEPARATORS.split(text)}
    words.pop("", None)
    return list(words.items())[:QUERY_MAX_WORDS]


# --- keeping the terms in step with the customers -----------------------------------------------


def sync_search_terms(connection: Connection | Session, customer_ids: Collection[int]) -> None:
    """Write the search terms of these customers again from their stored fields.

    A customer is also found by the fields of every customer merged into it, so searching a merged
    duplicate's email finds the survivor too.
    """
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), SYNC_CHUNK):
        chunk = ids[start : start + SYNC_CHUNK]
        fields = (Customer.id, Customer.merged_into_id, Customer.customer_no, Customer.name, Customer.phone,
                  Customer.email)
        rows = connection.execute(
            select(*fields).where(or_(Customer.id.in_(chunk), Customer.merged_into_id.in_(chunk)))
        ).all()
        terms: dict[int, set[str]] = defaultdict(set)
        for row in rows:
            words = search_terms(customer_no=row.customer_no, name=row.name, phone=row.phone, email=row.email)
            if row.id in chunk:
                terms[row.id] |= words
            if row.merged_into_id in chunk:
                terms[row.merged_into_id] |= words
        connection.execute(delete(CustomerSearchTerm).where(CustomerSearchTerm.customer_id.in_(chunk)))
        values = [{"customer_id": id_, "term": term} for id_, words in terms.items() for term in sorted(words)]
        if values:
            connection.execute(insert(CustomerSearchTerm), values)


def add_search_terms(session: Session, customers: Iterable[dict[str, Any]]) -> None:
    """Write the terms of customers just inserted (dicts with id, customer_no, name, phone, email)."""
    values = [
        {"customer_id": c["id"], "term": term}
        for c in customers
        for term in sorted(
            search_terms(customer_no=c["customer_no"], name=c["name"], phone=c["phone"], email=c["email"])
        )
    ]
    for start in range(0, len(values), SYNC_CHUNK * 4):
        session.execute(insert(CustomerSearchTerm), values[start : start + SYNC_CHUNK * 4])


# --- searching -----------------------------------------------------------------------------------


def _starting_with(column: Any, prefix: str) -> Any:
    return (column >= prefix) & (column < prefix + _LAST_CHARACTER)


def _postcode_matches(text: str) -> Select[Any]:
    # Postcodes are stored uppercased, as cleaned on import ("SW1A 1AA", "94110", "100000").
    postcode = " ".join(text.upper().split())
    return select(Address.customer_id).where(_starting_with(Address.postal_code, postcode), Address.is_current)


def search_matches(text: str) -> Select[Any] | None:
    """Return the ids of the customers whose words start with every word of ``text``, or None for no words.

    A word is found among a customer's terms or as the beginning of its current postcode; the whole
    text is also tried as a postcode ("SW1A 1AA").
    """
    words = query_words(text)
    if not words:
        return None
    # Each compound select is wrapped in a subquery: SQLite takes no parenthesized UNION inside another.
    per_word = [
        _ids_of(
            union(
                select(CustomerSearchTerm.customer_id).where(_starting_with(CustomerSearchTerm.term, folded)),
                _postcode_matches(typed),
            )
        )
        for folded, typed in words
    ]
    matches = per_word[0] if len(per_word) == 1 else _ids_of(intersect(*per_word))
    if len(words) > 1:
        matches = _ids_of(union(matches, _postcode_matches(text)))
    return matches


def _ids_of(compound: CompoundSelect[Any]) -> Select[Any]:
    found = compound.subquery()
    return select(found.c[0])
