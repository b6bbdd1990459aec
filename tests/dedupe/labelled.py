"""A labelled set for duplicate detection: clean customers, realistic duplicates, known answers.

Clean customers come from the demo generator. A share of them gets one duplicate (some two),
each written the way a second sign-up or a hand-keyed catalog request writes the same person:
a typo, a nickname, the name order swapped, an initial, an honorific, the unit dropped or moved
to the other line, "St" spelled out, the ZIP+4 added or a ZIP digit mistyped, a Chinese name in
traditional characters or a homophone typed by the input method, the district left out, the
city's general postcode, building-unit-room written "5-2-302", or the whole record transliterated
to pinyin ("王磊, 中山路88号" -> "Wang Lei, 88 Zhongshan Rd").

Hard non-duplicates are added too and labelled as such: namesakes elsewhere in the same city, a
relative in another flat of the same building. Households of the demo data (different people at
one address, often one surname) are non-duplicates already.

Pure and reproducible: the same arguments give the same set.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from pypinyin import lazy_pinyin

from mailer.addresses.normalize import normalize_address
from mailer.customers.names import chinese_name_parts
from mailer.dedupe.blocking import block
from mailer.dedupe.keys import CustomerFields, KeyTable
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.search import find_pairs
from mailer.demo import data
from mailer.demo.generate import generate_customers

Row = dict[str, str]
# A corruption changes a copy of a row in place; it returns False when it does not apply.
Corruption = Callable[[random.Random, Row], bool]

DUPLICATE_SHARE = 0.25
SECOND_DUPLICATE_SHARE = 0.15
HARD_NEGATIVE_SHARE = 0.03
# How many corruptions a duplicate carries: one, two or three.
CORRUPTION_COUNT_WEIGHTS = (0.45, 0.35, 0.2)


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """Customer rows and the pairs of customer numbers that are the same person."""

    rows: list[Row]
    pairs: frozenset[tuple[str, str]]
    # The corruptions each duplicate carries, by customer number.
    corruptions: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Quality:
    """How well a search finds the labelled pairs."""

    customers: int
    true_pairs: int
    found_pairs: int
    true_positives: int
    blocking_recall: float
    pairs_compared: int
    seconds: float

    @property
    def precision(self) -> float:
        """Return the share of found pairs that are true."""
        return self.true_positives / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        """Return the share of true pairs that were found."""
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Return the figures as plain data."""
        return {
            "customers": self.customers,
            "true_pairs": self.true_pairs,
            "found_pairs": self.found_pairs,
            "true_positives": self.true_positives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "blocking_recall": round(self.blocking_recall, 4),
            "pairs_compared": self.pairs_compared,
            "seconds": round(self.seconds, 3),
        }


# --- text helpers -----------------------------------------------------------------------------

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# The keys either side of each letter, for a finger that slips.
_NEIGHBOURS = {
    ch: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    for row in _KEYBOARD_ROWS
    for i, ch in enumerate(row)
}


def _typo(rng: random.Random, word: str) -> str:
    """Return the word with one slip of the keyboard: a letter dropped, doubled, hit wrong or swapped."""
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    if len(letters) < 4:
        return word
    i = rng.choice(letters[1:])
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        near = _NEIGHBOURS.get(word[i].lower(), "")
        if not near:
            return word
        wrong = rng.choice(near)
        return word[:i] + (wrong.upper() if word[i].isupper() else wrong) + word[i + 1 :]
    if i + 1 < len(word) and word[i + 1].isalpha():
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _pinyin(text: str, *, words: int = 2) -> str:
    """Write Chinese as capitalised pinyin words of ``words`` syllables ("Huaxing Shidai")."""
    syllables = lazy_pinyin(text)
    groups = ["".join(syllables[i : i + words]) for i in range(0, len(syllables), words)]
    return " ".join(group.capitalize() for group in groups if group)


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TRADITIONAL = str.maketrans(
    "陈刘张杨黄赵吴孙马郑谢韩冯邓萧叶罗许宋顾龙伟丽强军华红国辉鹏浩涛欣晓东飞凤兰庆乐书贵开",
    "陳劉張楊黃趙吳孫馬鄭謝韓馮鄧蕭葉羅許宋顧龍偉麗強軍華紅國輝鵬浩濤欣曉東飛鳳蘭慶樂書貴開",
)
_HOMOPHONES: dict[str, list[str]] = {}
for _char, _sound in data.CN_GIVEN_CHARS:
    _HOMOPHONES.setdefault(_sound, []).append(_char)
_HOMOPHONE_OF = {
    char: [other for other in _HOMOPHONES[sound] if other != char]
    for char, sound in data.CN_GIVEN_CHARS
    if len(_HOMOPHONES[sound]) > 1
}
# Nicknames written on catalog requests, by full first name.
_NICKNAMES = {
    "William": ("Bill", "Will"), "Robert": ("Bob", "Rob"), "Richard": ("Rick", "Rich"),
    "James": ("Jim", "Jimmy"), "John": ("Jack", "Johnny"), "Joseph": ("Joe",),
    "Michael": ("Mike",), "Thomas": ("Tom",), "Charles": ("Charlie",), "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"), "David": ("Dave",), "Edward": ("Ed", "Eddie"),
    "Elizabeth": ("Liz", "Beth"), "Jennifer": ("Jen", "Jenny"), "Matthew": ("Matt",),
    "Anthony": ("Tony",), "Andrew": ("Andy",), "Steven": ("Steve",), "Patricia": ("Pat", "Patty"),
    "Susan": ("Sue",), "Kenneth": ("Ken",), "Joshua": ("Josh",), "Benjamin": ("Ben",),
    "Samuel": ("Sam",), "Alexander": ("Alex",), "Nicholas": ("Nick",), "Timothy": ("Tim",),
    "Gregory": ("Greg",), "Jeffrey": ("Jeff",), "Donald": ("Don",), "Ronald": ("Ron",),
    "Barbara": ("Barb",), "Jessica": ("Jess",), "Margaret": ("Maggie", "Peggy"),
}
_US_SUFFIX_FORMS = {
    abbreviation: (abbreviation, full, f"{abbreviation}.")
    for abbreviation, full, _ in data.US_STREET_SUFFIXES
    if abbreviation != full
}
_US_SUFFIX_OF = {form: abbreviation for abbreviation, forms in _US_SUFFIX_FORMS.items() for form in forms}
_US_UNIT = re.compile(r"(?:#|Apt\.?|Unit|Suite|Ste)\s*([0-9]+[A-D]?)$", re.IGNORECASE)
_US_DIRECTION_WORDS = {word for pair in data.US_DIRECTIONS for word in pair}
_US_UNIT_WORDS = {"apt", "unit", "suite", "ste"}
_CN_CITY = {city.name: city for city in data.CN_CITIES}
_CN_ROAD_KIND_LATIN = {
    "路": ("Rd", "Road", "Lu"), "街": ("St", "Street", "Jie"), "大街": ("Dajie", "Street", "St"),
    "大道": ("Ave", "Avenue", "Dadao"), "巷": ("Lane", "Xiang"),
}
_CN_BUILDING_FORMS = ("号楼", "栋", "幢")
_CN_DIRECTION_LATIN = {
    "东": ("Dong", "East"), "西": ("Xi", "West"), "南": ("Nan", "South"), "北": ("Bei", "North"),
    "中": ("Zhong", "Middle"),
}


# --- name corruptions -------------------------------------------------------------------------


def _latin_name_parts(row: Row) -> list[str] | None:
    if chinese_name_parts(row["name"]) is not None:
        return None
    return row["name"].split()


def name_typo(rng: random.Random, row: Row) -> bool:
    """Mistype one letter of a Latin name."""
    parts = _latin_name_parts(row)
    if not parts:
        return False
    i = rng.randrange(len(parts))
    new = _typo(rng, parts[i])
    if new == parts[i]:
        return False
    parts[i] = new
    row["name"] = " ".join(parts)
    return True


def name_nickname(rng: random.Random, row: Row) -> bool:
    """Write the first name as its usual nickname (William -> Bill)."""
    parts = _latin_name_parts(row)
    if not parts or parts[0] not in _NICKNAMES:
        return False
    parts[0] = rng.choice(_NICKNAMES[parts[0]])
    row["name"] = " ".join(parts)
    return True


def name_order(rng: random.Random, row: Row) -> bool:
    """Write a Latin name surname first: "Smith, John"."""
    parts = _latin_name_parts(row)
    if not parts or len(parts) < 2:
        return False
    row["name"] = f"{parts[-1]}, {' '.join(parts[:-1])}"
    return True


def name_initial(rng: random.Random, row: Row) -> bool:
    """Shorten the first name to an initial, or drop or add a middle initial."""
    parts = _latin_name_parts(row)
    if not parts or len(parts) < 2 or parts[0].endswith("."):
        return False
    if len(parts) == 3:
        del parts[1]
    elif rng.random() < 0.5:
        parts.insert(1, f"{rng.choice('ABCDEJKLMRST')}.")
    else:
        parts[0] = f"{parts[0][0]}."
    row["name"] = " ".join(parts)
    return True


def name_honorific(rng: random.Random, row: Row) -> bool:
    """Add an honorific ("Mr. John Smith"), or keep only surname and honorific ("李先生")."""
    han = chinese_name_parts(row["name"])
    if han is not None:
        surname, given = han
        if not given:
            return False
        row["name"] = surname + rng.choice(data.CN_HONORIFICS)
        return True
    parts = row["name"].split()
    if parts[0].rstrip(".") in {h.rstrip(".") for h in data.US_HONORIFICS}:
        return False
    row["name"] = f"{rng.choice(data.US_HONORIFICS)} {row['name']}"
    return True


def name_case(rng: random.Random, row: Row) -> bool:
    """Write a Latin name in capitals."""
    if chinese_name_parts(row["name"]) is not None:
        return False
    row["name"] = row["name"].upper()
    return True


def name_homophone(rng: random.Random, row: Row) -> bool:
    """Type a given-name character as another one with the same sound (an input-method slip)."""
    han = chinese_name_parts(row["name"])
    if han is None:
        return False
    surname, given = han
    choices = [i for i, ch in enumerate(given) if ch in _HOMOPHONE_OF]
    if not choices:
        return False
    i = rng.choice(choices)
    given = given[:i] + rng.choice(_HOMOPHONE_OF[given[i]]) + given[i + 1 :]
    row["name"] = surname + given
    return True


def name_traditional(rng: random.Random, row: Row) -> bool:
    """Write the Chinese name in traditional characters."""
    han = chinese_name_parts(row["name"])
    if han is None:
        return False
    written = row["name"].translate(_TRADITIONAL)
    if written == row["name"]:
        return False
    row["name"] = written
    return True


def name_spaced(rng: random.Random, row: Row) -> bool:
    """Put a space between a Chinese surname and given name ("王 磊")."""
    han = chinese_name_parts(row["name"])
    if han is None or not han[1]:
        return False
    row["name"] = f"{han[0]} {han[1]}"
    return True


# --- address corruptions ----------------------------------------------------------------------


def _us_unit(row: Row) -> tuple[str, str] | None:
    """Return (field, unit text) of a US row's unit, if it has one."""
    for name in ("line2", "line1"):
        found = _US_UNIT.search(row[name])
        if found:
            return name, found.group(0)
    return None


def us_suffix(rng: random.Random, row: Row) -> bool:
    """Spell the street suffix another way ("St", "Street", "St.")."""
    if row["country"] != "US":
        return False
    words = row["line1"].split()
    for i, word in enumerate(words):
        if word in _US_SUFFIX_OF:
            forms = [f for f in _US_SUFFIX_FORMS[_US_SUFFIX_OF[word]] if f != word]
            words[i] = rng.choice(forms)
            row["line1"] = " ".join(words)
            return True
    return False


def us_unit_form(rng: random.Random, row: Row) -> bool:
    """Write the unit with another designator ("Apt 4", "#4", "Unit 4") or on the other line."""
    if row["country"] != "US" or (found := _us_unit(row)) is None:
        return False
    name, text = found
    ident = _US_UNIT.search(text)
    assert ident is not None
    new = rng.choice(("Apt", "Apt.", "#", "Unit")) + ("" if rng.random() < 0.5 else " ") + ident.group(1)
    row[name] = row[name][: -len(text)].rstrip(" ,")
    target = rng.choice(("line1", "line2"))
    row[target] = f"{row[target]} {new}".strip()
    return True


def unit_dropped(rng: random.Random, row: Row) -> bool:
    """Leave out the second address line (the flat, or a Chinese building and room)."""
    if row["line2"]:
        row["line2"] = ""
        return True
    if row["country"] == "US" and (found := _us_unit(row)) is not None:
        row["line1"] = row["line1"][: -len(found[1])].rstrip(" ,")
        return True
    return False


def street_typo(rng: random.Random, row: Row) -> bool:
    """Mistype the street name."""
    if row["country"] != "US":
        return False
    words = row["line1"].split()
    named = [i for i, w in enumerate(words[1:], start=1)
             if w.isalpha() and w not in _US_SUFFIX_OF and w not in _US_DIRECTION_WORDS
             and w.lower() not in _US_UNIT_WORDS]
    if not named:
        return False
    i = rng.choice(named)
    new = _typo(rng, words[i])
    if new == words[i]:
        return False
    words[i] = new
    row["line1"] = " ".join(words)
    return True


def direction_dropped(rng: random.Random, row: Row) -> bool:
    """Leave out the street's direction ("N Main St" -> "Main St")."""
    words = row["line1"].split()
    if row["country"] != "US" or len(words) < 3 or words[1] not in _US_DIRECTION_WORDS:
        return False
    del words[1]
    row["line1"] = " ".join(words)
    return True


def zip_plus_four(rng: random.Random, row: Row) -> bool:
    """Add or drop the ZIP+4."""
    if row["country"] != "US":
        return False
    code = row["postal_code"]
    row["postal_code"] = code[:5] if "-" in code else f"{code}-{rng.randrange(1, 10_000):04d}"
    return True


def postal_typo(rng: random.Random, row: Row) -> bool:
    """Mistype the last digit of the ZIP, or write a Chinese city's general postcode (310000)."""
    code = row["postal_code"]
    if row["country"] == "CN":
        general = code[:3] + "000"
        if general == code:
            return False
        row["postal_code"] = general
        return True
    digit = int(code[4])
    row["postal_code"] = code[:4] + str((digit + rng.choice((1, 9))) % 10) + code[5:]
    return True


def city_typo(rng: random.Random, row: Row) -> bool:
    """Mistype the city."""
    if row["country"] != "US":
        return False
    new = _typo(rng, row["city"])
    if new == row["city"]:
        return False
    row["city"] = new
    return True


def house_number_typo(rng: random.Random, row: Row) -> bool:
    """Swap two digits of the house number (rare, and hard: it reads as a neighbour)."""
    if row["country"] != "US":
        return False
    number, _, rest = row["line1"].partition(" ")
    if len(number) < 2 or not number.isdigit() or number[0] == number[1]:
        return False
    row["line1"] = f"{number[1]}{number[0]}{number[2:]} {rest}"
    return True


def region_dropped(rng: random.Random, row: Row) -> bool:
    """Leave out the state or province."""
    if not row["region"]:
        return False
    row["region"] = ""
    return True


def shouting(rng: random.Random, row: Row) -> bool:
    """Write the address in capitals."""
    if row["country"] != "US":
        return False
    for name in ("line1", "line2", "city"):
        row[name] = row[name].upper()
    return True


def cn_district(rng: random.Random, row: Row) -> bool:
    """Add the district before the street, or leave it out."""
    if row["country"] != "CN" or row["city"] not in _CN_CITY:
        return False
    districts = _CN_CITY[row["city"]].districts
    for district in districts:
        if row["line1"].startswith(district):
            row["line1"] = row["line1"][len(district) :]
            return True
    if not districts:
        return False
    row["line1"] = rng.choice(districts) + row["line1"]
    return True


def cn_province_prefix(rng: random.Random, row: Row) -> bool:
    """Write province and city in front of the address, as on an envelope."""
    if row["country"] != "CN":
        return False
    row["line1"] = f"{row['region']}{row['city']}{row['line1']}"
    return True


def cn_building_form(rng: random.Random, row: Row) -> bool:
    """Write the building, unit and room another way ("5号楼2单元302室", "5栋302", "5-2-302")."""
    if row["country"] != "CN":
        return False
    text = row["line1"] + row["line2"]
    found = re.search(r"(\d+)(?:号楼|栋|幢)(?:(\d+)单元)?(\d+)室$", text)
    if not found:
        found_room = re.search(r"(\d+)室$", text)
        if not found_room:
            return False
        row["line1"], row["line2"] = (re.sub(r"室$", "", s) for s in (row["line1"], row["line2"]))
        return True
    building, unit, room = found.groups()
    if unit and rng.random() < 0.5:
        new = f"{building}-{unit}-{room}"
    else:
        form = rng.choice(_CN_BUILDING_FORMS)
        new = f"{building}{form}{f'{unit}单元' if unit else ''}{room}{rng.choice(('室', ''))}"
    head = text[: found.start()]
    if row["line2"]:
        row["line1"], row["line2"] = head, new
    else:
        row["line1"] = head + new
    return True


def cn_lines_joined(rng: random.Random, row: Row) -> bool:
    """Put the second line on the first, or split the first line at the building."""
    if row["country"] != "CN":
        return False
    if row["line2"]:
        row["line1"], row["line2"] = row["line1"] + rng.choice(("", " ")) + row["line2"], ""
        return True
    found = re.search(r"[A-D0-9]+(?:号楼|栋|幢|座)", row["line1"])
    if not found or found.start() == 0:
        return False
    row["line1"], row["line2"] = row["line1"][: found.start()], row["line1"][found.start() :]
    return True


def full_width(rng: random.Random, row: Row) -> bool:
    """Type the digits full-width, as a Chinese input method does."""
    if row["country"] != "CN":
        return False
    row["line1"], row["line2"] = row["line1"].translate(_FULL_WIDTH), row["line2"].translate(_FULL_WIDTH)
    return True


def transliterated(rng: random.Random, row: Row) -> bool:
    """Write a Chinese customer's name and address in pinyin, as an English form gets them."""
    han = chinese_name_parts(row["name"])
    if row["country"] != "CN" or han is None or not han[1]:
        return False
    surname, given = (part.capitalize() for part in ("".join(lazy_pinyin(p)) for p in han))
    style = rng.randrange(4)
    row["name"] = (
        f"{surname} {given}", f"{given} {surname}", f"{surname.upper()} {given}",
        f"{surname} {'-'.join(s.capitalize() for s in lazy_pinyin(han[1]))}",
    )[style]

    components = normalize_address(
        line1=row["line1"], line2=row["line2"], city=row["city"], region=row["region"],
        postal_code=row["postal_code"], country="CN",
    ).components
    street = ""
    if "street" in components:
        stem = components["street"]
        kind = next((k for k in ("大街", "大道", "路", "街", "巷") if stem.endswith(k)), "")
        stem = stem[: len(stem) - len(kind)]
        latin_kind = rng.choice(_CN_ROAD_KIND_LATIN[kind]) if kind else ""
        direction = ""
        if len(stem) > 2 and stem[-1] in _CN_DIRECTION_LATIN:
            stem, direction = stem[:-1], rng.choice(_CN_DIRECTION_LATIN[stem[-1]])
        number = components.get("number", "").rstrip("号")
        street = " ".join(p for p in (number, _pinyin(stem, words=3), direction, latin_kind) if p)
    extra = components.get("extra", "").removeprefix("院")
    line1 = ", ".join(p for p in (street, _pinyin(extra)) if p)
    units = []
    if building := components.get("building", "").removesuffix("栋"):
        units.append(f"Tower {building.upper()}" if building.isalpha() else f"Bldg {building}")
    if unit := components.get("unit", "").removesuffix("单元"):
        units.append(f"Unit {unit}")
    if floor := components.get("floor", "").removesuffix("层"):
        units.append(f"Fl {floor}")
    if room := components.get("room", "").removesuffix("室"):
        units.append(rng.choice((f"Rm {room}", f"Room {room}", f"#{room}")))
    row["line1"], row["line2"] = line1, ", ".join(units)
    row["city"] = _pinyin(components.get("city", row["city"]).removesuffix("市"), words=4)
    province = components.get("province", "")
    row["region"] = "" if province == components.get("city") else _pinyin(
        re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)$", "", province), words=4
    )
    return True


NAME_CORRUPTIONS: dict[str, tuple[Corruption, float]] = {
    "name_typo": (name_typo, 3.0),
    "nickname": (name_nickname, 1.5),
    "name_order": (name_order, 1.0),
    "initial": (name_initial, 1.5),
    "honorific": (name_honorific, 1.0),
    "name_case": (name_case, 0.5),
    "homophone": (name_homophone, 2.0),
    "traditional": (name_traditional, 1.0),
    "name_spaced": (name_spaced, 0.5),
}
ADDRESS_CORRUPTIONS: dict[str, tuple[Corruption, float]] = {
    "suffix": (us_suffix, 1.5),
    "unit_form": (us_unit_form, 1.5),
    "unit_dropped": (unit_dropped, 1.5),
    "street_typo": (street_typo, 2.0),
    "direction_dropped": (direction_dropped, 0.5),
    "zip_plus_four": (zip_plus_four, 1.0),
    "postal_code": (postal_typo, 1.0),
    "city_typo": (city_typo, 0.7),
    "house_number_typo": (house_number_typo, 0.3),
    "region_dropped": (region_dropped, 0.7),
    "capitals": (shouting, 0.5),
    "district": (cn_district, 1.5),
    "province_prefix": (cn_province_prefix, 0.7),
    "building_form": (cn_building_form, 1.5),
    "lines_joined": (cn_lines_joined, 1.0),
    "full_width": (full_width, 0.5),
    "transliterated": (transliterated, 1.5),
}
CORRUPTIONS = {**NAME_CORRUPTIONS, **ADDRESS_CORRUPTIONS}


def corrupt(rng: random.Random, row: Row, *, count: int) -> tuple[Row, list[str]]:
    """Return a copy of the row carrying ``count`` different corruptions that apply to it."""
    names = list(CORRUPTIONS)
    # Only corruptions that fit the row are drawn (no ZIP+4 for a Chinese address).
    trial = random.Random(0)
    fitting = [name for name in names if CORRUPTIONS[name][0](trial, dict(row))]
    weights = [CORRUPTIONS[name][1] for name in fitting]
    chosen: set[str] = set()
    while fitting and len(chosen) < min(count, len(fitting)):
        chosen.add(rng.choices(fitting, weights)[0])
    if "transliterated" in chosen:
        # A transliterated record is written in one go; Chinese-script slips do not survive it.
        chosen -= set(NAME_CORRUPTIONS)
    copy = dict(row)
    # Applied in the table's order (district before province, transliteration last), as a
    # person writing the record would produce them.
    applied = [name for name in names if name in chosen and CORRUPTIONS[name][0](rng, copy)]
    return copy, applied


# --- hard non-duplicates ----------------------------------------------------------------------


def _other_flat(rng: random.Random, row: Row) -> Row | None:
    """A relative in another flat of the same building: same surname, another unit or room."""
    copy = dict(row)
    text_field = "line2" if row["line2"] else "line1"
    found = re.search(r"(\d+)(室?)$", copy[text_field])
    if not found:
        return None
    number = int(found.group(1))
    other = number + rng.choice((-2, -1, 1, 2, 100))
    if other <= 0:
        return None
    copy[text_field] = copy[text_field][: found.start()] + f"{other}{found.group(2)}"
    han = chinese_name_parts(row["name"])
    if han is not None:
        given = "".join(rng.choice(data.CN_GIVEN_CHARS)[0] for _ in range(rng.choice((1, 2))))
        copy["name"] = han[0] + given
    elif rng.random() < 0.7:
        copy["name"] = f"{rng.choice(data.US_FIRST_NAMES)} {row['name'].split()[-1]}"
    return copy


def _namesake(rng: random.Random, row: Row, by_city: dict[str, list[Row]]) -> Row | None:
    """Someone with the same name at another address in the same city."""
    other = rng.choice(by_city[row["city"]])
    if other["line1"] == row["line1"]:
        return None
    return {**other, "name": row["name"]}


# --- the set ----------------------------------------------------------------------------------


def generate_labelled_set(
    n: int,
    *,
    seed: int = 0,
    duplicate_share: float = DUPLICATE_SHARE,
    hard_negative_share: float = HARD_NEGATIVE_SHARE,
) -> LabelledSet:
    """Return ``n`` clean customers plus duplicates and hard non-duplicates, with the true pairs."""
    rng = random.Random(seed)
    clean = list(generate_customers(n, seed=seed))
    rows: list[Row] = list(clean)
    pairs: set[tuple[str, str]] = set()
    corruptions: dict[str, list[str]] = {}
    serial = 0

    def number(prefix: str) -> str:
        nonlocal serial
        serial += 1
        return f"{prefix}{serial:07d}"

    for row in clean:
        if rng.random() >= duplicate_share:
            continue
        copies = 2 if rng.random() < SECOND_DUPLICATE_SHARE else 1
        cluster = [row["customer_no"]]
        for _ in range(copies):
            count = rng.choices((1, 2, 3), CORRUPTION_COUNT_WEIGHTS)[0]
            duplicate, applied = corrupt(rng, row, count=count)
            duplicate["customer_no"] = number("D")
            rows.append(duplicate)
            corruptions[duplicate["customer_no"]] = applied
            cluster.append(duplicate["customer_no"])
        pairs.update(_pair(a, b) for a, b in combinations(cluster, 2))

    by_city: dict[str, list[Row]] = {}
    for row in clean:
        by_city.setdefault(row["city"], []).append(row)
    for row in clean:
        if rng.random() >= hard_negative_share:
            continue
        negative = _other_flat(rng, row) if rng.random() < 0.5 else _namesake(rng, row, by_city)
        if negative is not None:
            negative["customer_no"] = number("N")
            rows.append(negative)

    rng.shuffle(rows)
    return LabelledSet(rows=rows, pairs=frozenset(pairs), corruptions=corruptions)


def generate_household_set(n: int, *, seed: int = 7, share: float = 0.2) -> LabelledSet:
    """Return ``n`` clean customers plus, for a share of them, a second person of the household.

    The second person has the same address and surname and another given name; ``pairs`` holds
    these household pairs, which are *not* duplicates.
    """
    rng = random.Random(seed)
    rows = [dict(row) for row in generate_customers(n, seed=seed)]
    households: set[tuple[str, str]] = set()
    members: list[Row] = []
    for row in rows:
        if rng.random() >= share:
            continue
        han = chinese_name_parts(row["name"])
        if han is not None:
            given = han[1]
            while given == han[1]:
                given = "".join(rng.choice(data.CN_GIVEN_CHARS)[0] for _ in range(rng.choice((1, 2))))
            name = han[0] + given
        else:
            words = row["name"].split()
            first = words[0].casefold() if len(words) > 1 else ""
            name = f"{rng.choice([g for g in data.US_FIRST_NAMES if g.casefold() != first])} {words[-1]}"
        member = {**row, "customer_no": f"H{len(members) + 1:07d}", "name": name}
        members.append(member)
        households.add(_pair(row["customer_no"], member["customer_no"]))
    return LabelledSet(rows=rows + members, pairs=frozenset(households))


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def customer_fields(rows: Iterable[Row]) -> list[CustomerFields]:
    """Return the rows as matching input."""
    return [
        CustomerFields(
            customer_no=row["customer_no"], name=row["name"], line1=row["line1"], line2=row["line2"],
            city=row["city"], region=row["region"], postal_code=row["postal_code"], country=row["country"],
        )
        for row in rows
    ]


def measure(labelled: LabelledSet, *, threshold: float = DEFAULT_THRESHOLD) -> Quality:
    """Search the labelled set and compare what is found with the known pairs."""
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    search = find_pairs(table, threshold=threshold)
    found, stats = search.found, search.stats
    found_pairs = {
        _pair(table.customer_nos[a], table.customer_nos[b])
        for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)
    }
    index = {customer_no: i for i, customer_no in enumerate(table.customer_nos)}
    true = sorted(labelled.pairs)
    covered = block(table).covers([index[a] for a, _ in true], [index[b] for _, b in true])
    return Quality(
        customers=len(table),
        true_pairs=len(labelled.pairs),
        found_pairs=len(found_pairs),
        true_positives=len(found_pairs & labelled.pairs),
        blocking_recall=float(np.mean(covered)) if true else 1.0,
        pairs_compared=stats.pairs_compared,
        seconds=stats.seconds,
    )
