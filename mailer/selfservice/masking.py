"""Partly hidden names and addresses, for a page anyone holding the envelope can open.

The page shows enough for the customer to recognise their own letter and no more than the
envelope itself printed: the surname's first letter or character, the city and region, the
first digits of the postal code. House numbers, flat numbers and most of the street are hidden.
"""

from __future__ import annotations

import re

from mailer.customers.names import chinese_name_parts

MASK = "*"
# Most hidden characters shown for one run of Chinese text: the length of a street says little,
# but twenty stars say nothing the customer needs.
MAX_HIDDEN_RUN = 6
# Characters of a postal code left readable: its sorting area (China's and the US's first three).
POSTAL_PREFIX = 3

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _hide(text: str) -> str:
    return "".join(MASK if char.isalnum() else char for char in text)


def mask_word(word: str) -> str:
    """Keep a word's first letter and hide the rest; hide a word with digits in it whole."""
    if any(char.isdigit() for char in word):
        return _hide(word)
    for index, char in enumerate(word):
        if char.isalpha():
            return word[: index + 1] + _hide(word[index + 1 :])
    return word


def mask_name(name: str) -> str:
    """Return a name with only the surname ("王*") or each word's initial ("J*** S****") readable."""
    parts = chinese_name_parts(name)
    if parts is not None:
        surname, given = parts
        return surname + MASK * max(len(given), 1)
    return " ".join(mask_word(word) for word in name.split())


def mask_street(text: str) -> str:
    """Return a street line with its first letter readable and house numbers and the rest hidden."""
    text = text.strip()
    if not text:
        return ""
    if _HAN.search(text):
        # Chinese is written without spaces: keep the first character unless it is a number.
        first, rest = text[0], text[1:]
        shown = first if first.isalpha() else MASK
        hidden = sum(1 for char in rest if not char.isspace())
        return shown + MASK * min(hidden, MAX_HIDDEN_RUN)
    return " ".join(mask_word(word) for word in text.split())


def mask_postal_code(code: str) -> str:
    """Return a postal code with its first digits readable ("627**-****", "310***")."""
    characters = sum(1 for char in code if char.isalnum())
    keep = max(min(POSTAL_PREFIX, characters - 2), 0)
    out = []
    for char in code:
        if char.isalnum():
            out.append(char if keep > 0 else MASK)
            keep -= 1
        else:
            out.append(char)
    return "".join(out)


def strip_leading(text: str, *prefixes: str) -> str:
    """Return ``text`` without the given prefixes in turn (a province and city typed into line 1)."""
    for prefix in prefixes:
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]
    return text
