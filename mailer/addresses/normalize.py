"""Normalized forms of addresses and names, so that one place or person typed twice matches."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from mailer.addresses.countries import (
    canonical_country,
    canonical_postal_code,
    postal_code_problem,
)

__all__ = [
    "NormalizedAddress",
    "canonical_country",
    "canonical_postal_code",
    "chinese_name_parts",
    "fold_text",
    "is_incomplete_name",
    "name_key",
    "normalize_address",
    "postal_code_problem",
    "street_word_in_full",
]

# --- Text folding -----------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def fold_text(s: str) -> str:
    """Fold width, case, punctuation and spacing so equal text compares equal."""
    folded = unicodedata.normalize("NFKC", s or "").casefold()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def _nfkc_fold(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "").casefold()


# --- English-language street vocabulary -------------------------------------------------------

# USPS Publication 28, Appendix C1: standard suffix abbreviation and the spellings it replaces.
_STREET_SUFFIXES: dict[str, tuple[str, ...]] = {
    "aly": ("alley", "allee", "ally"),
    "anx": ("anex", "annex", "annx"),
    "arc": ("arcade",),
    "ave": ("avenue", "av", "aven", "avenu", "avn", "avnue"),
    "byu": ("bayou", "bayoo"),
    "bch": ("beach",),
    "bnd": ("bend",),
    "blf": ("bluff", "bluf"),
    "blfs": ("bluffs",),
    "btm": ("bottom", "bot", "bottm"),
    "blvd": ("boulevard", "boul", "boulv"),
    "br": ("branch", "brnch"),
    "brg": ("bridge", "brdge"),
    "brk": ("brook",),
    "brks": ("brooks",),
    "bg": ("burg",),
    "bgs": ("burgs",),
    "byp": ("bypass", "bypa", "bypas", "byps"),
    "cp": ("camp", "cmp"),
    "cyn": ("canyon", "canyn", "cnyn"),
    "cpe": ("cape",),
    "cswy": ("causeway", "causwa"),
    "ctr": ("center", "cen", "cent", "centr", "centre", "cnter", "cntr"),
    "ctrs": ("centers",),
    "cir": ("circle", "circ", "circl", "crcl", "crcle"),
    "cirs": ("circles",),
    "clf": ("cliff",),
    "clfs": ("cliffs",),
    "clb": ("club",),
    "cmn": ("common",),
    "cmns": ("commons",),
    "cor": ("corner",),
    "cors": ("corners",),
    "crse": ("course",),
    "ct": ("court",),
    "cts": ("courts",),
    "cv": ("cove",),
    "cvs": ("coves",),
    "crk": ("creek",),
    "cres": ("crescent", "crsent", "crsnt"),
    "crst": ("crest",),
    "xing": ("crossing", "crssng"),
    "xrd": ("crossroad",),
    "xrds": ("crossroads",),
    "curv": ("curve",),
    "dl": ("dale",),
    "dm": ("dam",),
    "dv": ("divide", "div", "dvd"),
    "dr": ("drive", "driv", "drv"),
    "drs": ("drives",),
    "est": ("estate",),
    "ests": ("estates",),
    "expy": ("expressway", "exp", "expr", "express", "expw"),
    "ext": ("extension", "extn", "extnsn"),
    "exts": ("extensions",),
    "fls": ("falls",),
    "fry": ("ferry", "frry"),
    "fld": ("field",),
    "flds": ("fields",),
    "flt": ("flat",),
    "flts": ("flats",),
    "frd": ("ford",),
    "frds": ("fords",),
    "frst": ("forest", "forests"),
    "frg": ("forge", "forg"),
    "frgs": ("forges",),
    "frk": ("fork",),
    "frks": ("forks",),
    "ft": ("fort", "frt"),
    "fwy": ("freeway", "freewy", "frway", "frwy"),
    "gdn": ("garden", "gardn", "grden", "grdn"),
    "gdns": ("gardens", "grdns"),
    "gtwy": ("gateway", "gatewy", "gatway", "gtway"),
    "gln": ("glen",),
    "glns": ("glens",),
    "grn": ("green",),
    "grns": ("greens",),
    "grv": ("grove", "grov"),
    "grvs": ("groves",),
    "hbr": ("harbor", "harb", "harbr", "hrbor"),
    "hbrs": ("harbors",),
    "hvn": ("haven",),
    "hts": ("heights", "ht"),
    "hwy": ("highway", "highwy", "hiway", "hiwy", "hway"),
    "hl": ("hill",),
    "hls": ("hills",),
    "holw": ("hollow", "hllw", "hollows", "holws"),
    "inlt": ("inlet",),
    "is": ("island", "islnd"),
    "iss": ("islands", "islnds"),
    "isle": ("isles",),
    "jct": ("junction", "jction", "jctn", "junctn", "juncton"),
    "jcts": ("junctions", "jctns"),
    "ky": ("key",),
    "kys": ("keys",),
    "knl": ("knoll", "knol"),
    "knls": ("knolls",),
    "lk": ("lake",),
    "lks": ("lakes",),
    "lndg": ("landing", "lndng"),
    "ln": ("lane",),
    "lgt": ("light",),
    "lgts": ("lights",),
    "lf": ("loaf",),
    "lck": ("lock",),
    "lcks": ("locks",),
    "ldg": ("lodge", "ldge", "lodg"),
    "loop": ("loops",),
    "mnr": ("manor",),
    "mnrs": ("manors",),
    "mdw": ("meadow",),
    "mdws": ("meadows", "medows"),
    "ml": ("mill",),
    "mls": ("mills",),
    "msn": ("mission", "missn", "mssn"),
    "mtwy": ("motorway",),
    "mt": ("mount", "mnt"),
    "mtn": ("mountain", "mntain", "mntn", "mountin", "mtin"),
    "mtns": ("mountains",),
    "nck": ("neck",),
    "orch": ("orchard", "orchrd"),
    "oval": ("ovl",),
    "opas": ("overpass",),
    "park": ("prk", "parks"),
    "pkwy": ("parkway", "parkwy", "pkway", "pky", "parkways", "pkwys"),
    "psge": ("passage",),
    "path": ("paths",),
    "pike": ("pikes",),
    "pne": ("pine",),
    "pnes": ("pines",),
    "pl": ("place",),
    "pln": ("plain",),
    "plns": ("plains",),
    "plz": ("plaza", "plza"),
    "pt": ("point",),
    "pts": ("points",),
    "prt": ("port",),
    "prts": ("ports",),
    "pr": ("prairie", "prr"),
    "radl": ("radial", "rad", "radiel"),
    "rnch": ("ranch", "ranches", "rnchs"),
    "rpd": ("rapid",),
    "rpds": ("rapids",),
    "rst": ("rest",),
    "rdg": ("ridge", "rdge"),
    "rdgs": ("ridges",),
    "riv": ("river", "rvr", "rivr"),
    "rd": ("road",),
    "rds": ("roads",),
    "rte": ("route",),
    "shl": ("shoal",),
    "shls": ("shoals",),
    "shr": ("shore", "shoar"),
    "shrs": ("shores", "shoars"),
    "skwy": ("skyway",),
    "spg": ("spring", "spng", "sprng"),
    "spgs": ("springs", "spngs", "sprngs"),
    "spur": ("spurs",),
    "sq": ("square", "sqr", "sqre", "squ"),
    "sqs": ("squares", "sqrs"),
    "sta": ("station", "statn", "stn"),
    "stra": ("stravenue", "strav", "straven", "stravn", "strvn", "strvnue"),
    "strm": ("stream", "streme"),
    "st": ("street", "strt", "str"),
    "sts": ("streets",),
    "smt": ("summit", "sumit", "sumitt"),
    "ter": ("terrace", "terr"),
    "trwy": ("throughway",),
    "trce": ("trace", "traces"),
    "trak": ("track", "tracks", "trk", "trks"),
    "trfy": ("trafficway",),
    "trl": ("trail", "trails", "trls"),
    "tunl": ("tunnel", "tunel", "tunls", "tunnels", "tunnl"),
    "tpke": ("turnpike", "trnpk", "turnpk"),
    "upas": ("underpass",),
    "un": ("union",),
    "uns": ("unions",),
    "vly": ("valley", "vally", "vlly"),
    "vlys": ("valleys",),
    "via": ("viaduct", "vdct", "viadct"),
    "vw": ("view",),
    "vws": ("views",),
    "vlg": ("village", "vill", "villag", "villg", "villiage"),
    "vlgs": ("villages",),
    "vl": ("ville",),
    "vis": ("vista", "vist", "vst", "vsta"),
    "walk": ("walks",),
    "way": ("wy",),
    "wl": ("well",),
    "wls": ("wells",),
}

_DIRECTIONALS: dict[str, tuple[str, ...]] = {
    "n": ("north",),
    "s": ("south",),
    "e": ("east",),
    "w": ("west",),
    "ne": ("northeast",),
    "nw": ("northwest",),
    "se": ("southeast",),
    "sw": ("southwest",),
}

# Secondary unit designators (Publication 28, Appendix C2) that take an identifier.
_UNIT_DESIGNATORS: dict[str, tuple[str, ...]] = {
    "apt": ("apartment", "apt"),
    "unit": ("unit",),
    "ste": ("suite", "ste"),
    "rm": ("room", "rm"),
    "fl": ("floor", "fl", "flr"),
    "bldg": ("building", "bldg", "bld"),
    "dept": ("department", "dept"),
    "lot": ("lot",),
    "spc": ("space", "spc"),
    "trlr": ("trailer", "trlr"),
    "flat": ("flat",),
    "#": ("#",),
}

# Customers write "Apt 4", "Unit 4", "Suite 4" and "#4" for the same door, so these share one
# kind in the delivery point; floors, buildings and departments name something else.
_UNIT_KIND = {
    "apt": "#",
    "unit": "#",
    "ste": "#",
    "rm": "#",
    "lot": "#",
    "spc": "#",
    "trlr": "#",
    "flat": "#",
    "#": "#",
    "fl": "fl",
    "bldg": "bldg",
    "dept": "dept",
}

# Route-like suffixes are followed by a number that is part of the street ("Hwy 61").
_NUMBERED_ROADS = frozenset({"hwy", "rte", "fwy", "expy", "tpke", "byp", "pkwy"})


def _invert(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    inverted = {canonical: canonical for canonical in table}
    for canonical, spellings in table.items():
        for spelling in spellings:
            inverted[spelling] = canonical
    return inverted


_SUFFIX_OF = _invert(_STREET_SUFFIXES)
_SUFFIX_CANONICAL = frozenset(_STREET_SUFFIXES)
_DIRECTIONAL_OF = _invert(_DIRECTIONALS)
_UNIT_OF = _invert(_UNIT_DESIGNATORS)
# A suffix spelling that is also a unit designator ("flat") is read as a unit: it is far more
# common in addresses written by British and Commonwealth customers than the USPS suffix.
_WORD_OF = {**_SUFFIX_OF, **_DIRECTIONAL_OF}
for _spelling in _UNIT_OF:
    _WORD_OF.pop(_spelling, None)

_IN_FULL = {
    canonical: max((canonical, *spellings), key=len)
    for canonical, spellings in {**_STREET_SUFFIXES, **_DIRECTIONALS}.items()
}


def street_word_in_full(word: str) -> str:
    """Return the spelled-out form of a word the normalized text abbreviates ("ctr" -> "center").

    Normalized street names abbreviate every word that is also a USPS suffix ("Pine St" ->
    "pne st"), which is right for equality; fuzzy matching reads a typo better against the
    full word ("Cennter" against "center", not "ctr").
    """
    return _IN_FULL.get(word, word)


# Keep hyphens and slashes that sit after a digit: "123-45 Queens Blvd", "12 1/2", "Apt 4-B".
_EN_PUNCTUATION = re.compile(r"(?<!\d)[-/]|[-/](?!\w)|[^\w\s#/-]|_")
_HASH = re.compile(r"#")
_GLUED_UNIT = re.compile(
    r"\b(apartment|apt|unit|suite|ste|room|rm|floor|flr|fl|building|bldg|flat)(\d[\w-]*)\b"
)
_PO_BOX = re.compile(r"\b(?:p\s*o|post\s+office)\s*box\b|\bpob\b")
_HOUSE_NUMBER = re.compile(r"\d[\w/-]*")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_HAS_DIGIT = re.compile(r"\d")


def _english_tokens(text: str) -> list[str]:
    text = _HASH.sub(" # ", _nfkc_fold(text))
    text = _EN_PUNCTUATION.sub(" ", text)
    text = _GLUED_UNIT.sub(r"\1 \2", text)
    text = _PO_BOX.sub(" pobox ", text)
    return text.split()


def _parse_english(text: str) -> tuple[dict[str, str], str]:
    """Split a number-street-unit address line into components and a delivery point."""
    tokens = _english_tokens(text)
    units: list[tuple[str, str]] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        designator = _UNIT_OF.get(token)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if designator is None:
            rest.append(_WORD_OF.get(token, token))
            i += 1
        elif nxt is not None and nxt not in _UNIT_OF:
            units.append((designator, nxt))
            i += 2
        else:
            if designator == "fl" and rest and _ORDINAL.fullmatch(rest[-1]):
                # "3rd Floor": the identifier comes before the designator.
                units.append(("fl", _ORDINAL.sub(r"\1", rest.pop())))
            # Otherwise a designator without an identifier ("Unit #4") says nothing more.
            i += 1

    components: dict[str, str] = {}
    if "pobox" in rest:
        at = rest.index("pobox")
        box = rest[at + 1] if at + 1 < len(rest) else ""
        components["po_box"] = box
        point = f"po box {box}".strip()
        return components, point

    number = ""
    if rest and _HOUSE_NUMBER.fullmatch(rest[0]):
        number = rest.pop(0)
        # "12 1/2 Oak St": the fraction belongs to the house number.
        if rest and "/" in rest[0] and _HOUSE_NUMBER.fullmatch(rest[0]):
            number = f"{number} {rest.pop(0)}"
    if (
        not units
        and len(rest) >= 3
        and _HAS_DIGIT.search(rest[-1])
        and rest[-2] in _SUFFIX_CANONICAL
        and rest[-2] not in _NUMBERED_ROADS
    ):
        # "12 Oak St 4": a bare trailing identifier after the suffix is a unit.
        units.append(("#", rest.pop()))
    street = " ".join(rest)

    if number:
        components["number"] = number
    if street:
        components["street"] = street
    if units:
        components["unit"] = " ".join(f"{designator} {ident}" for designator, ident in units)
    point_units = " ".join(f"{_UNIT_KIND[designator]} {ident}" for designator, ident in units)
    point = " ".join(part for part in (number, street, point_units) if part)
    return components, point


# --- US states --------------------------------------------------------------------------------

_US_STATES: dict[str, str] = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
    "colorado": "co", "connecticut": "ct", "delaware": "de", "district of columbia": "dc",
    "florida": "fl", "georgia": "ga", "hawaii": "hi", "idaho": "id", "illinois": "il",
    "indiana": "in", "iowa": "ia", "kansas": "ks", "kentucky": "ky", "louisiana": "la",
    "maine": "me", "maryland": "md", "massachusetts": "ma", "michigan": "mi",
    "minnesota": "mn", "mississippi": "ms", "missouri": "mo", "montana": "mt",
    "nebraska": "ne", "nevada": "nv", "new hampshire": "nh", "new jersey": "nj",
    "new mexico": "nm", "new york": "ny", "north carolina": "nc", "north dakota": "nd",
    "ohio": "oh", "oklahoma": "ok", "oregon": "or", "pennsylvania": "pa",
    "rhode island": "ri", "south carolina": "sc", "south dakota": "sd", "tennessee": "tn",
    "texas": "tx", "utah": "ut", "vermont": "vt", "virginia": "va", "washington": "wa",
    "west virginia": "wv", "wisconsin": "wi", "wyoming": "wy", "american samoa": "as",
    "guam": "gu", "northern mariana islands": "mp", "puerto rico": "pr",
    "virgin islands": "vi", "us virgin islands": "vi", "armed forces americas": "aa",
    "armed forces europe": "ae", "armed forces pacific": "ap",
}


def _us_state(region: str) -> str:
    folded = fold_text(region)
    return _US_STATES.get(folded, folded)


# --- Chinese addresses ------------------------------------------------------------------------

# Short name -> full name of every province-level division, so "广东" and "广东省" agree.
_CN_PROVINCES: dict[str, str] = {
    "北京": "北京市", "天津": "天津市", "上海": "上海市", "重庆": "重庆市",
    "河北": "河北省", "山西": "山西省", "辽宁": "辽宁省", "吉林": "吉林省", "黑龙江": "黑龙江省",
    "江苏": "江苏省", "浙江": "浙江省", "安徽": "安徽省", "福建": "福建省", "江西": "江西省",
    "山东": "山东省", "河南": "河南省", "湖北": "湖北省", "湖南": "湖南省", "广东": "广东省",
    "海南": "海南省", "四川": "四川省", "贵州": "贵州省", "云南": "云南省", "陕西": "陕西省",
    "甘肃": "甘肃省", "青海": "青海省", "台湾": "台湾省", "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区", "西藏": "西藏自治区", "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}
# Every way a province is written ("广东", "广东省", "广西", "广西自治区") -> its full name.
_CN_PROVINCE_OF = {
    spelling: full
    for short, full in _CN_PROVINCES.items()
    for spelling in (short, full, f"{short}省", f"{short}市", f"{short}自治区")
}
_CN_MUNICIPALITIES = frozenset({"北京市", "天津市", "上海市", "重庆市"})

_CN_PROVINCE_NAMES = "|".join(sorted({*_CN_PROVINCES, *_CN_PROVINCES.values()}, key=len, reverse=True))
_HAN = r"[\u3400-\u9fff]"
# The administrative prefix: each level optional, each ending in the word that names its level.
# Residential compounds (小区, 社区), parks and campuses also end in 区 but are not districts.
_CN_ADMIN = re.compile(
    # "河南路" and "北京西路" are streets, not provinces.
    rf"(?P<province>(?:{_CN_PROVINCE_NAMES})(?:省|市|自治区)?"
    r"(?![东南西北中]?(?:大街|大道|路|街|道|巷)))?"
    rf"(?P<city>{_HAN}{{1,8}}?(?:自治州|地区|盟|市(?!场)))?"
    rf"(?P<district>{_HAN}{{1,8}}?(?:(?<!小|社|园|校|景|厂)区|县|旗|市(?!场)))?"
    rf"(?P<town>{_HAN}{{1,8}}?(?:街道|镇|乡))?"
)
_CN_STREET = re.compile(
    r"(?P<street>\w{1,24}?(?:大街|大道|胡同|路|街|道|巷))"
    r"(?P<number>\d+(?:[-之]\d+)?(?:号?\d*弄\d+(?:[-之]\d+)?)?)?(?:号(?!楼)|(?=\d)|$)?"
)
_CN_BUILDING = re.compile(r"([a-z0-9]+)(?:号楼|栋|幢|座)")
_CN_UNIT = re.compile(r"(\d+)单元")
_CN_FLOOR = re.compile(r"(\d+)(?:楼|层)")
_CN_ROOM = re.compile(r"([a-z]?\d+[a-z]?)(?:室|房|号房)|([a-z]?\d+[a-z]?)$")
# "5-1-302": building, unit and room written the short way.
_CN_TRIPLE = re.compile(r"(\d+)-(\d+)-(\d+)$")
_CN_DROP = re.compile(r"[\W_]+")
_HAN_CHAR = re.compile(_HAN)
# The delivery point runs from the district down to the door.
_CN_POINT_KEYS = ("district", "street", "number", "extra", "building", "unit", "floor", "room")


def _cn_compact(text: str) -> str:
    # Spaces and punctuation carry no meaning between Chinese words; keep hyphens for "5-1-302".
    return _CN_DROP.sub(lambda m: "-" if "-" in m.group() else "", _nfkc_fold(text)).strip("-")


def _cn_admin(text: str) -> tuple[dict[str, str], str]:
    match = _CN_ADMIN.match(text)
    parts = {key: value for key, value in match.groupdict().items() if value} if match else {}
    if "province" in parts:
        parts["province"] = _cn_province(parts["province"])
    return parts, text[match.end() :] if match else text


def _cn_province(name: str) -> str:
    return _CN_PROVINCE_OF.get(name, name)


def _cn_city_field(city: str) -> str:
    compact = _cn_compact(city)
    if (
        compact
        and _HAN_CHAR.search(compact)
        and not compact.endswith(("市", "自治州", "地区", "盟", "区", "县"))
    ):
        # Customers write "广州" for "广州市"; prefecture-level cities are nearly all 市.
        compact += "市"
    return compact


def _parse_chinese(*, lines: str, city: str, region: str) -> tuple[dict[str, str], str, str]:
    """Split a Chinese address into components; return them, the delivery point and locality."""
    admin, rest = _cn_admin(_cn_compact(lines))
    # The region and city fields fill in whatever the address lines left out.
    for given in (region, city):
        extra, _ = _cn_admin(_cn_compact(given))
        for key, value in extra.items():
            admin.setdefault(key, value)
    if "city" not in admin:
        if admin.get("province") in _CN_MUNICIPALITIES:
            admin["city"] = admin["province"]
        elif city_field := _cn_city_field(city):
            admin["city"] = city_field
    if "province" not in admin and admin.get("city") in _CN_MUNICIPALITIES:
        admin["province"] = admin["city"]

    components = {key: admin[key] for key in ("province", "city", "district", "town") if key in admin}
    tail = rest
    street = _CN_STREET.match(rest)
    if street and street.group("street"):
        components["street"] = street.group("street")
        if street.group("number"):
            components["number"] = f"{street.group('number')}号"
        tail = rest[street.end() :]

    tail, detail = _cn_detail(tail)
    components.update(detail)
    if tail:
        # Compound, estate or building names the patterns above do not cover.
        components["extra"] = tail

    point = " ".join(components[key] for key in _CN_POINT_KEYS if key in components)
    return components, point, admin.get("city", "")


def _cn_detail(tail: str) -> tuple[str, dict[str, str]]:
    detail: dict[str, str] = {}
    triple = _CN_TRIPLE.search(tail)
    if triple:
        detail["building"] = f"{triple.group(1)}栋"
        detail["unit"] = f"{triple.group(2)}单元"
        detail["room"] = f"{triple.group(3)}室"
        return tail[: triple.start()].strip("-"), detail
    for key, pattern, suffix in (
        ("building", _CN_BUILDING, "栋"),
        ("unit", _CN_UNIT, "单元"),
        ("floor", _CN_FLOOR, "层"),
    ):
        found = pattern.search(tail)
        if found:
            detail[key] = f"{found.group(1)}{suffix}"
            tail = tail[: found.start()] + tail[found.end() :]
    room = _CN_ROOM.search(tail)
    if room:
        detail["room"] = f"{room.group(1) or room.group(2)}室"
        tail = tail[: room.start()] + tail[room.end() :]
    return tail.strip("-"), detail


# --- Addresses --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NormalizedAddress:
    """The stored, matchable form of one postal address."""

    text: str
    delivery_point: str
    components: dict[str, str] = field(hash=False, compare=False)
    household_key: str
    fingerprint: str


def _digest(value: str, *, size: int) -> str:
    return hashlib.blake2b(value.encode(), digest_size=size).hexdigest()


def normalize_address(
    *,
    line1: str,
    line2: str = "",
    city: str,
    region: str = "",
    postal_code: str,
    country: str,
) -> NormalizedAddress:
    """Return the normalized form, delivery point and household key of an address."""
    alpha2 = canonical_country(country) or fold_text(country).upper()
    postal = canonical_postal_code(country=alpha2, postal_code=postal_code)
    lines = f"{line1 or ''} {line2 or ''}"

    if alpha2 in ("CN", "TW", "HK", "MO") and _HAN_CHAR.search(lines):
        components, point, locality = _parse_chinese(lines=lines, city=city, region=region)
        # A municipality is its own province: write "北京市" once.
        admin = dict.fromkeys(components[key] for key in ("province", "city") if key in components)
        text = " ".join([*admin, point, postal, alpha2.lower()])
        # Chinese customers often write their city's general postcode (100000 rather than the
        # delivery office's 100080), so the city separates households more reliably.
        locality = locality or postal
    else:
        components, point = _parse_english(lines)
        folded_city = fold_text(city)
        state = _us_state(region) if alpha2 == "US" else fold_text(region)
        text = " ".join(part for part in (point, folded_city, state, postal, alpha2.lower()) if part)
        if alpha2 == "US":
            # ZIP+4 narrows to a block face that customers rarely know; five digits are enough.
            locality = postal[:5] or folded_city
        elif alpha2 == "CN":
            locality = folded_city or postal
        else:
            locality = postal or folded_city

    text = " ".join(text.split())
    return NormalizedAddress(
        text=text,
        delivery_point=point,
        components=components,
        household_key=_digest(f"{alpha2}|{locality}|{point}", size=8),
        fingerprint=_digest(text, size=16),
    )


# --- Names ------------------------------------------------------------------------------------

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
    folded = _nfkc_fold(name).strip()
    if _HAN_CHAR.search(folded):
        compact = _NAME_DROP.sub("", folded)
        bare = _CN_HONORIFICS.sub("", compact)
        latin_honorific = False
        for honorific in _LATIN_HONORIFICS:
            if bare.startswith(honorific) and _HAN_CHAR.match(bare, len(honorific)):
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
