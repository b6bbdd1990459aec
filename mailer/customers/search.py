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

from sqlalchemy import ColumnElement, Connection, Select, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

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

# A word found by at most this many rows is rare: its customers' ids are read from the index and
# the list reads only them. A common word ("wang", "m") is checked customer by customer as the list
# is walked in id order, which reaches a page's worth of matches at once.
RARE_WORD = 5000
# Common words may still be rare together ("zhang wei"), and walking the list would then read most
# of it. Each word with at most this many rows has its ids read in index order (a sequential range
# scan, far cheaper per row than a lookup) and the sets are intersected here.
INTERSECTED_WORD = 70_000
# When no word is that small, the customers having all the words are looked up from the rows of
# the least common word, if it has at most this many.
DRIVING_WORD = 20_000
# The most ids a search lists literally for the database to read.
LISTED_IDS = 5000
# Common words often found together ("wang li", "li na") are first checked on the first customers
# of the list: when this many of them have every word, walking the list reaches a page sooner than
# reading the words' ids would.
TOGETHER_SAMPLE = 2000
TOGETHER_OFTEN = 5
_DIGIT = re.compile(r"\d")


def _starting_with(column: Any, prefix: str) -> Any:
    return (column >= prefix) & (column < prefix + _LAST_CHARACTER)


def _postcode(typed: str) -> str | None:
    """Return the typed word as the start of a stored postcode, or None if it cannot be one."""
    # Postcodes are stored uppercased, as cleaned on import ("SW1A 1AA", "94110", "100000"), and
    # every country's have a digit: a word without one is looked up in the terms only.
    return " ".join(typed.upper().split()) if _DIGIT.search(typed) else None


def _postcode_ids(postcode: str) -> Select[Any]:
    return select(Address.customer_id).where(_starting_with(Address.postal_code, postcode), Address.is_current)


def _term_ids(folded: str) -> Select[Any]:
    return select(CustomerSearchTerm.customer_id).where(_starting_with(CustomerSearchTerm.term, folded))


def _ids(session: Session, statement: Select[Any]) -> list[int]:
    """Return a one-column statement's ids, read straight from the driver's cursor."""
    # Tens of thousands of ids may be read for one search; building a result row for each would
    # take several times as long as the database takes to read them.
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    parameters = compiled.construct_params()
    cursor = connection.connection.cursor()
    try:
        if compiled.positional:
            cursor.execute(str(compiled), [parameters[name] for name in compiled.positiontup or ()])
        else:
            cursor.execute(str(compiled), parameters)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def _rows_up_to(session: Session, statement: Select[Any], limit: int) -> list[int] | None:
    rows = _ids(session, statement.limit(limit + 1))
    return None if len(rows) > limit else rows


def _count_up_to(session: Session, statement: Select[Any], limit: int) -> int:
    """Count a statement's rows, stopping past ``limit``: enough to tell a rare word from a common one."""
    return int(session.scalar(select(func.count()).select_from(statement.limit(limit + 1).subquery())) or 0)


def _ids_up_to(session: Session, folded: str, typed: str, limit: int) -> set[int] | None:
    """Return the ids of the customers a word finds, or None if it has more than ``limit`` rows."""
    # Rows, not distinct ids, are counted: a customer may have several terms starting with the word.
    by_term = _rows_up_to(session, _term_ids(folded), limit)
    postcode = _postcode(typed)
    by_postcode = _rows_up_to(session, _postcode_ids(postcode), limit) if postcode else []
    if by_term is None or by_postcode is None:
        return None
    return {*by_term, *by_postcode}


def _has_word(customer_id: Any, folded: str, typed: str) -> ColumnElement[bool]:
    """Return whether the customer of ``customer_id`` has a term, or a current postcode, starting with the word."""
    term = aliased(CustomerSearchTerm)
    # PostgreSQL guesses a prefix range of the terms far too small, so it would join the word's whole
    # range, or probe each customer through the terms' index, reading the range once per customer.
    # OFFSET 0 keeps the check a subquery, and comparing ``term || ''`` leaves it only the primary
    # key (customer_id, term): one probe of the customer's few terms per customer walked.
    conditions = [
        select(term.customer_id)
        .where(term.customer_id == customer_id, _starting_with(term.term + "", folded))
        .offset(0)
        .exists()
    ]
    if (postcode := _postcode(typed)) is not None:
        address = aliased(Address)
        conditions.append(
            select(address.id)
            .where(address.customer_id == customer_id, address.is_current,
                   _starting_with(address.postal_code, postcode))
            .exists()
        )
    return or_(*conditions)


def _shared_ids(session: Session, words: list[tuple[str, str]]) -> tuple[set[int], list[tuple[str, str]]] | None:
    """Return the customers that may have every word and the words still to check; None to walk the list."""
    sample = select(Customer.id).order_by(Customer.id).limit(TOGETHER_SAMPLE).subquery()
    together = session.scalar(
        select(func.count()).select_from(sample).where(*(_has_word(sample.c.id, *word) for word in words))
    )
    if (together or 0) >= TOGETHER_OFTEN:
        return None
    candidates: set[int] | None = None
    sizes: dict[tuple[str, str], int] = {}
    unread: list[tuple[str, str]] = []
    for word in words:
        ids = _ids_up_to(session, *word, INTERSECTED_WORD)
        if ids is None:
            unread.append(word)
            # Too common to read: more rows than any word worth driving a join from, unless reading is off.
            sizes[word] = (
                _count_up_to(session, _term_ids(word[0]), DRIVING_WORD)
                if INTERSECTED_WORD < DRIVING_WORD else DRIVING_WORD + 1
            )
            continue
        sizes[word] = len(ids)
        candidates = ids if candidates is None else candidates & ids
        if not candidates:
            return set(), []
    if candidates is not None and len(candidates) <= LISTED_IDS:
        return candidates, unread
    usable = [(size, word) for word, size in sizes.items() if size <= DRIVING_WORD and _postcode(word[1]) is None]
    if not usable:
        return None
    driving = min(usable)[1]
    others = [word for word in words if word != driving]
    term = aliased(CustomerSearchTerm)
    found = _rows_up_to(
        session,
        select(term.customer_id).distinct().where(
            _starting_with(term.term, driving[0]), *(_has_word(term.customer_id, *word) for word in others)
        ),
        RARE_WORD,
    )
    return None if found is None else (set(found), [])


def search_condition(session: Session, text: str) -> ColumnElement[bool] | None:
    """Return the condition on ``Customer`` of a search, or None when the text has no word to look for.

    A customer matches when every word starts one of its terms or its current postcode; a text of
    several words that starts a current postcode ("SW1A 1AA") finds that postcode.
    """
    words = query_words(text)
    if not words:
        return None
    whole_postcode = _postcode(text)
    if len(words) > 1 and whole_postcode and session.scalar(_postcode_ids(whole_postcode).limit(1)) is not None:
        return Customer.id.in_(_postcode_ids(whole_postcode))
    found = {word: _ids_up_to(session, *word, RARE_WORD) for word in words}
    known = [ids for ids in found.values() if ids is not None]
    candidates = set.intersection(*known) if known else None
    unchecked = [word for word, ids in found.items() if ids is None]
    if candidates is None and len(words) > 1 and (shared := _shared_ids(session, words)) is not None:
        candidates, unchecked = shared
    if candidates is not None:
        # A literal list of ids: the database reads just those rows, whatever it guesses of a subquery.
        return and_(Customer.id.in_(sorted(candidates)), *(_has_word(Customer.id, *word) for word in unchecked))
    return and_(*(_has_word(Customer.id, *word) for word in words))
