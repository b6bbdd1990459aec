"""Person names: the matching key without honorifics and word order, Chinese surnames, incomplete names."""

from __future__ import annotations

import re
import unicodedata

from mailer.folding import HAN_CHARACTER, fold_text, nfkc_fold

_LATIN_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx"})
_CN_HONORIFICS = re.compile(r"(?:先生|女士|小姐|太太)$")
# Two-character surnames; a lone one of these before an honorific is still only a surname.
_CN_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "宇文",
    "夏侯", "公孙", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "澹台", "百里", "东郭", "闻人",
    "万俟", "单于", "申屠", "公羊", "赫连", "太史", "仲孙", "钟离", "宗政", "濮阳", "淳于",
})
_NAME_DROP = re.compile(r"[\W_]+")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _name_parts(name: str) -> tuple[bool, bool, list[str]]:
    """Return whether the name is Chinese, whether it carried an honorific, and its parts."""
    folded = nfkc_fold(name).strip()
    if HAN_CHARACTER.search(folded):
        compact = _NAME_DROP.sub("", folded)
        bare = _CN_HONORIFICS.sub("", compact)
        latin_honorific = False
        for honorific in _LATIN_HONORIFICS:
            if bare.startswith(honorific) and HAN_CHARACTER.match(bare, len(honorific)):
                bare, latin_honorific = bare[len(honorific) :], True
        return True, latin_honorific or bare != compact, [bare] if bare else []
    tokens = fold_text(_strip_accents(folded)).split()
    parts = [token for token in tokens if token not in _LATIN_HONORIFICS]
    return False, len(parts) != len(tokens), parts


def name_key(name: str) -> str:
    """Return a matching key for a person's name, without honorifics and word order."""
    chinese, _, parts = _name_parts(name)
    if chinese:
        return "".join(parts)
    # "Smith, John" and "John Smith" are the same person; sorting drops the order.
    return " ".join(sorted(parts))


def chinese_name_parts(name: str) -> tuple[str, str] | None:
    """Return (surname, given name) of a name written in Chinese characters, or None if it is not.

    Honorifics are dropped; a compound surname (欧阳, 司马) is kept whole, so "欧阳娜娜" gives
    ("欧阳", "娜娜") and "李先生" gives ("李", "").
    """
    chinese, _, parts = _name_parts(name)
    if not chinese or not parts:
        return None
    bare = parts[0]
    size = 2 if bare[:2] in _CN_COMPOUND_SURNAMES else 1
    return bare[:size], bare[size:]


def is_incomplete_name(name: str) -> bool:
    """Return whether a name is only a surname with an honorific ("李先生", "Mr. Smith").

    A lone surname without an honorific ("Smith") is not flagged: it may be all the customer
    gave, and the import rule names only the surname-plus-honorific form.
    """
    chinese, honorific, parts = _name_parts(name)
    if not honorific:
        return False
    if not parts:
        return True
    if chinese:
        surname = parts[0]
        return len(surname) == 1 or surname in _CN_COMPOUND_SURNAMES
    return len(parts) == 1
