"""USPS address vocabulary: street suffixes, directionals and unit designators (Publication 28), states."""

from __future__ import annotations

import re
import unicodedata

from mailer.folding import fold_text

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
UNIT_KIND = {
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
NUMBERED_ROADS = frozenset({"hwy", "rte", "fwy", "expy", "tpke", "byp", "pkwy"})


def _invert(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    inverted = {canonical: canonical for canonical in table}
    for canonical, spellings in table.items():
        for spelling in spellings:
            inverted[spelling] = canonical
    return inverted


_SUFFIX_OF = _invert(_STREET_SUFFIXES)
# The standard suffix abbreviations ("st", "ave").
SUFFIXES = frozenset(_STREET_SUFFIXES)
_DIRECTIONAL_OF = _invert(_DIRECTIONALS)
# Each spelling of a unit designator -> its standard abbreviation ("suite" -> "ste").
UNIT_DESIGNATOR_OF = _invert(_UNIT_DESIGNATORS)
# Each spelling of a suffix or directional -> its standard abbreviation ("street" -> "st").
# A suffix spelling that is also a unit designator ("flat") is read as a unit: it is far more
# common in addresses written by British and Commonwealth customers than the USPS suffix.
STREET_WORD_OF = {**_SUFFIX_OF, **_DIRECTIONAL_OF}
for _spelling in UNIT_DESIGNATOR_OF:
    STREET_WORD_OF.pop(_spelling, None)

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

# Folded two-letter codes of the states, territories and military "states"; the freely associated
# states keep their own codes in USPS addresses.
US_STATE_CODES = frozenset({*_US_STATES.values(), "fm", "mh", "pw"})


def us_state(region: str) -> str:
    """Return a US state or territory as its two-letter code, folded; other text folded as it is."""
    folded = fold_text(region)
    return _US_STATES.get(folded, folded)


_DELIVERY_SEPARATORS = re.compile(r"[,;]")
# A period ends an abbreviation ("St.", "N.W."), except between digits ("3.5").
_ABBREVIATION_PERIOD = re.compile(r"\.(?!\d)|(?<!\d)\.")


def standard_delivery_line(line: str) -> str:
    """Return a US delivery line in USPS Publication 28 form: capitals, standard abbreviations, no periods.

    "123 North Main Street Apartment 4" -> "123 N MAIN ST APT 4". A directional that is the street's
    name ("North Ave") and a suffix word that is part of it ("Park Ave") stay as written.
    """
    # "N.W." is NW, "St." is St; commas and semicolons only separate words.
    words = _DELIVERY_SEPARATORS.sub(" ", _ABBREVIATION_PERIOD.sub("", unicodedata.normalize("NFKC", line))).split()
    # A unit after the street, or a second line that is only a unit ("Apartment 4"; "Flat Rock Rd" is a street).
    first = 0 if len(words) <= 2 else 1
    unit_at = next(
        (i for i in range(first, len(words)) if words[i].startswith("#") or words[i].casefold() in UNIT_DESIGNATOR_OF),
        len(words),
    )
    street, unit = words[:unit_at], words[unit_at:]
    folded = [word.casefold() for word in street]
    # The house number, then the name: a directional before it or after the suffix, one suffix at its end.
    start = 1 if folded and folded[0][:1].isdigit() else 0
    end = len(street)
    if end - start >= 3 and folded[end - 1] in _DIRECTIONAL_OF and folded[end - 2] in _SUFFIX_OF:
        street[end - 1] = _DIRECTIONAL_OF[folded[end - 1]]
        end -= 1
    if end - start >= 2 and folded[end - 1] in _SUFFIX_OF:
        street[end - 1] = _SUFFIX_OF[folded[end - 1]]
    elif end - start >= 2 and folded[end - 2] in NUMBERED_ROADS | set(_SUFFIX_OF) and folded[end - 1].isdigit():
        street[end - 2] = _SUFFIX_OF.get(folded[end - 2], folded[end - 2])  # "Highway 61" -> "HWY 61"
    if end - start >= 3 and folded[start] in _DIRECTIONAL_OF:
        street[start] = _DIRECTIONAL_OF[folded[start]]
    if unit and not unit[0].startswith("#"):
        unit[0] = UNIT_DESIGNATOR_OF[unit[0].casefold()]
    return " ".join(street + unit).upper()
