"""Text folded so that the same words typed twice compare equal, in any script."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")
# Chinese characters (CJK Unified Ideographs and Extension A).
HAN_CHARACTER = re.compile(r"[\u3400-\u9fff]")


def fold_text(s: str) -> str:
    """Fold width, case, punctuation and spacing so equal text compares equal."""
    folded = unicodedata.normalize("NFKC", s or "").casefold()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def nfkc_fold(s: str) -> str:
    """Fold width and case only, keeping punctuation and spacing as typed."""
    return unicodedata.normalize("NFKC", s or "").casefold()
