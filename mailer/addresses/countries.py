"""Countries and their postal code formats, keyed by ISO 3166-1 alpha-2 code."""

from __future__ import annotations

import re
import unicodedata

from mailer.messages import Message

# ISO 3166-1: alpha-2, alpha-3 and English names, generated from the Debian iso-codes
# package (iso_3166-1.json) rather than typed by hand.
_ISO_3166_1: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("AD", "AND", ("Andorra",)),
    ("AE", "ARE", ("United Arab Emirates",)),
    ("AF", "AFG", ("Afghanistan",)),
    ("AG", "ATG", ("Antigua and Barbuda",)),
    ("AI", "AIA", ("Anguilla",)),
    ("AL", "ALB", ("Albania",)),
    ("AM", "ARM", ("Armenia",)),
    ("AO", "AGO", ("Angola",)),
    ("AQ", "ATA", ("Antarctica",)),
    ("AR", "ARG", ("Argentina",)),
    ("AS", "ASM", ("American Samoa",)),
    ("AT", "AUT", ("Austria",)),
    ("AU", "AUS", ("Australia",)),
    ("AW", "ABW", ("Aruba",)),
    ("AX", "ALA", ("Åland Islands",)),
    ("AZ", "AZE", ("Azerbaijan",)),
    ("BA", "BIH", ("Bosnia and Herzegovina",)),
    ("BB", "BRB", ("Barbados",)),
    ("BD", "BGD", ("Bangladesh",)),
    ("BE", "BEL", ("Belgium",)),
    ("BF", "BFA", ("Burkina Faso",)),
    ("BG", "BGR", ("Bulgaria",)),
    ("BH", "BHR", ("Bahrain",)),
    ("BI", "BDI", ("Burundi",)),
    ("BJ", "BEN", ("Benin",)),
    ("BL", "BLM", ("Saint Barthélemy",)),
    ("BM", "BMU", ("Bermuda",)),
    ("BN", "BRN", ("Brunei Darussalam",)),
    ("BO", "BOL", ("Bolivia, Plurinational State of", "Bolivia")),
    ("BQ", "BES", ("Bonaire, Sint Eustatius and Saba",)),
    ("BR", "BRA", ("Brazil",)),
    ("BS", "BHS", ("Bahamas",)),
    ("BT", "BTN", ("Bhutan",)),
    ("BV", "BVT", ("Bouvet Island",)),
    ("BW", "BWA", ("Botswana",)),
    ("BY", "BLR", ("Belarus",)),
    ("BZ", "BLZ", ("Belize",)),
    ("CA", "CAN", ("Canada",)),
    ("CC", "CCK", ("Cocos (Keeling) Islands",)),
    ("CD", "COD", ("Congo, The Democratic Republic of the",)),
    ("CF", "CAF", ("Central African Republic",)),
    ("CG", "COG", ("Congo",)),
    ("CH", "CHE", ("Switzerland",)),
    ("CI", "CIV", ("Côte d'Ivoire",)),
    ("CK", "COK", ("Cook Islands",)),
    ("CL", "CHL", ("Chile",)),
    ("CM", "CMR", ("Cameroon",)),
    ("CN", "CHN", ("China",)),
    ("CO", "COL", ("Colombia",)),
    ("CR", "CRI", ("Costa Rica",)),
    ("CU", "CUB", ("Cuba",)),
    ("CV", "CPV", ("Cabo Verde",)),
    ("CW", "CUW", ("Curaçao",)),
    ("CX", "CXR", ("Christmas Island",)),
    ("CY", "CYP", ("Cyprus",)),
    ("CZ", "CZE", ("Czechia",)),
    ("DE", "DEU", ("Germany",)),
    ("DJ", "DJI", ("Djibouti",)),
    ("DK", "DNK", ("Denmark",)),
    ("DM", "DMA", ("Dominica",)),
    ("DO", "DOM", ("Dominican Republic",)),
    ("DZ", "DZA", ("Algeria",)),
    ("EC", "ECU", ("Ecuador",)),
    ("EE", "EST", ("Estonia",)),
    ("EG", "EGY", ("Egypt",)),
    ("EH", "ESH", ("Western Sahara",)),
    ("ER", "ERI", ("Eritrea",)),
    ("ES", "ESP", ("Spain",)),
    ("ET", "ETH", ("Ethiopia",)),
    ("FI", "FIN", ("Finland",)),
    ("FJ", "FJI", ("Fiji",)),
    ("FK", "FLK", ("Falkland Islands (Malvinas)",)),
    ("FM", "FSM", ("Micronesia, Federated States of",)),
    ("FO", "FRO", ("Faroe Islands",)),
    ("FR", "FRA", ("France",)),
    ("GA", "GAB", ("Gabon",)),
    ("GB", "GBR", ("United Kingdom",)),
    ("GD", "GRD", ("Grenada",)),
    ("GE", "GEO", ("Georgia",)),
    ("GF", "GUF", ("French Guiana",)),
    ("GG", "GGY", ("Guernsey",)),
    ("GH", "GHA", ("Ghana",)),
    ("GI", "GIB", ("Gibraltar",)),
    ("GL", "GRL", ("Greenland",)),
    ("GM", "GMB", ("Gambia",)),
    ("GN", "GIN", ("Guinea",)),
    ("GP", "GLP", ("Guadeloupe",)),
    ("GQ", "GNQ", ("Equatorial Guinea",)),
    ("GR", "GRC", ("Greece",)),
    ("GS", "SGS", ("South Georgia and the South Sandwich Islands",)),
    ("GT", "GTM", ("Guatemala",)),
    ("GU", "GUM", ("Guam",)),
    ("GW", "GNB", ("Guinea-Bissau",)),
    ("GY", "GUY", ("Guyana",)),
    ("HK", "HKG", ("Hong Kong",)),
    ("HM", "HMD", ("Heard Island and McDonald Islands",)),
    ("HN", "HND", ("Honduras",)),
    ("HR", "HRV", ("Croatia",)),
    ("HT", "HTI", ("Haiti",)),
    ("HU", "HUN", ("Hungary",)),
    ("ID", "IDN", ("Indonesia",)),
    ("IE", "IRL", ("Ireland",)),
    ("IL", "ISR", ("Israel",)),
    ("IM", "IMN", ("Isle of Man",)),
    ("IN", "IND", ("India",)),
    ("IO", "IOT", ("British Indian Ocean Territory",)),
    ("IQ", "IRQ", ("Iraq",)),
    ("IR", "IRN", ("Iran, Islamic Republic of", "Iran")),
    ("IS", "ISL", ("Iceland",)),
    ("IT", "ITA", ("Italy",)),
    ("JE", "JEY", ("Jersey",)),
    ("JM", "JAM", ("Jamaica",)),
    ("JO", "JOR", ("Jordan",)),
    ("JP", "JPN", ("Japan",)),
    ("KE", "KEN", ("Kenya",)),
    ("KG", "KGZ", ("Kyrgyzstan",)),
    ("KH", "KHM", ("Cambodia",)),
    ("KI", "KIR", ("Kiribati",)),
    ("KM", "COM", ("Comoros",)),
    ("KN", "KNA", ("Saint Kitts and Nevis",)),
    ("KP", "PRK", ("Korea, Democratic People's Republic of", "North Korea")),
    ("KR", "KOR", ("Korea, Republic of", "South Korea")),
    ("KW", "KWT", ("Kuwait",)),
    ("KY", "CYM", ("Cayman Islands",)),
    ("KZ", "KAZ", ("Kazakhstan",)),
    ("LA", "LAO", ("Lao People's Democratic Republic", "Laos")),
    ("LB", "LBN", ("Lebanon",)),
    ("LC", "LCA", ("Saint Lucia",)),
    ("LI", "LIE", ("Liechtenstein",)),
    ("LK", "LKA", ("Sri Lanka",)),
    ("LR", "LBR", ("Liberia",)),
    ("LS", "LSO", ("Lesotho",)),
    ("LT", "LTU", ("Lithuania",)),
    ("LU", "LUX", ("Luxembourg",)),
    ("LV", "LVA", ("Latvia",)),
    ("LY", "LBY", ("Libya",)),
    ("MA", "MAR", ("Morocco",)),
    ("MC", "MCO", ("Monaco",)),
    ("MD", "MDA", ("Moldova, Republic of", "Moldova")),
    ("ME", "MNE", ("Montenegro",)),
    ("MF", "MAF", ("Saint Martin (French part)",)),
    ("MG", "MDG", ("Madagascar",)),
    ("MH", "MHL", ("Marshall Islands",)),
    ("MK", "MKD", ("North Macedonia",)),
    ("ML", "MLI", ("Mali",)),
    ("MM", "MMR", ("Myanmar",)),
    ("MN", "MNG", ("Mongolia",)),
    ("MO", "MAC", ("Macao",)),
    ("MP", "MNP", ("Northern Mariana Islands",)),
    ("MQ", "MTQ", ("Martinique",)),
    ("MR", "MRT", ("Mauritania",)),
    ("MS", "MSR", ("Montserrat",)),
    ("MT", "MLT", ("Malta",)),
    ("MU", "MUS", ("Mauritius",)),
    ("MV", "MDV", ("Maldives",)),
    ("MW", "MWI", ("Malawi",)),
    ("MX", "MEX", ("Mexico",)),
    ("MY", "MYS", ("Malaysia",)),
    ("MZ", "MOZ", ("Mozambique",)),
    ("NA", "NAM", ("Namibia",)),
    ("NC", "NCL", ("New Caledonia",)),
    ("NE", "NER", ("Niger",)),
    ("NF", "NFK", ("Norfolk Island",)),
    ("NG", "NGA", ("Nigeria",)),
    ("NI", "NIC", ("Nicaragua",)),
    ("NL", "NLD", ("Netherlands",)),
    ("NO", "NOR", ("Norway",)),
    ("NP", "NPL", ("Nepal",)),
    ("NR", "NRU", ("Nauru",)),
    ("NU", "NIU", ("Niue",)),
    ("NZ", "NZL", ("New Zealand",)),
    ("OM", "OMN", ("Oman",)),
    ("PA", "PAN", ("Panama",)),
    ("PE", "PER", ("Peru",)),
    ("PF", "PYF", ("French Polynesia",)),
    ("PG", "PNG", ("Papua New Guinea",)),
    ("PH", "PHL", ("Philippines",)),
    ("PK", "PAK", ("Pakistan",)),
    ("PL", "POL", ("Poland",)),
    ("PM", "SPM", ("Saint Pierre and Miquelon",)),
    ("PN", "PCN", ("Pitcairn",)),
    ("PR", "PRI", ("Puerto Rico",)),
    ("PS", "PSE", ("Palestine, State of",)),
    ("PT", "PRT", ("Portugal",)),
    ("PW", "PLW", ("Palau",)),
    ("PY", "PRY", ("Paraguay",)),
    ("QA", "QAT", ("Qatar",)),
    ("RE", "REU", ("Réunion",)),
    ("RO", "ROU", ("Romania",)),
    ("RS", "SRB", ("Serbia",)),
    ("RU", "RUS", ("Russian Federation",)),
    ("RW", "RWA", ("Rwanda",)),
    ("SA", "SAU", ("Saudi Arabia",)),
    ("SB", "SLB", ("Solomon Islands",)),
    ("SC", "SYC", ("Seychelles",)),
    ("SD", "SDN", ("Sudan",)),
    ("SE", "SWE", ("Sweden",)),
    ("SG", "SGP", ("Singapore",)),
    ("SH", "SHN", ("Saint Helena, Ascension and Tristan da Cunha",)),
    ("SI", "SVN", ("Slovenia",)),
    ("SJ", "SJM", ("Svalbard and Jan Mayen",)),
    ("SK", "SVK", ("Slovakia",)),
    ("SL", "SLE", ("Sierra Leone",)),
    ("SM", "SMR", ("San Marino",)),
    ("SN", "SEN", ("Senegal",)),
    ("SO", "SOM", ("Somalia",)),
    ("SR", "SUR", ("Suriname",)),
    ("SS", "SSD", ("South Sudan",)),
    ("ST", "STP", ("Sao Tome and Principe",)),
    ("SV", "SLV", ("El Salvador",)),
    ("SX", "SXM", ("Sint Maarten (Dutch part)",)),
    ("SY", "SYR", ("Syrian Arab Republic", "Syria")),
    ("SZ", "SWZ", ("Eswatini",)),
    ("TC", "TCA", ("Turks and Caicos Islands",)),
    ("TD", "TCD", ("Chad",)),
    ("TF", "ATF", ("French Southern Territories",)),
    ("TG", "TGO", ("Togo",)),
    ("TH", "THA", ("Thailand",)),
    ("TJ", "TJK", ("Tajikistan",)),
    ("TK", "TKL", ("Tokelau",)),
    ("TL", "TLS", ("Timor-Leste",)),
    ("TM", "TKM", ("Turkmenistan",)),
    ("TN", "TUN", ("Tunisia",)),
    ("TO", "TON", ("Tonga",)),
    ("TR", "TUR", ("Türkiye",)),
    ("TT", "TTO", ("Trinidad and Tobago",)),
    ("TV", "TUV", ("Tuvalu",)),
    ("TW", "TWN", ("Taiwan, Province of China", "Taiwan")),
    ("TZ", "TZA", ("Tanzania, United Republic of", "Tanzania")),
    ("UA", "UKR", ("Ukraine",)),
    ("UG", "UGA", ("Uganda",)),
    ("UM", "UMI", ("United States Minor Outlying Islands",)),
    ("US", "USA", ("United States",)),
    ("UY", "URY", ("Uruguay",)),
    ("UZ", "UZB", ("Uzbekistan",)),
    ("VA", "VAT", ("Holy See (Vatican City State)",)),
    ("VC", "VCT", ("Saint Vincent and the Grenadines",)),
    ("VE", "VEN", ("Venezuela, Bolivarian Republic of", "Venezuela")),
    ("VG", "VGB", ("Virgin Islands, British",)),
    ("VI", "VIR", ("Virgin Islands, U.S.",)),
    ("VN", "VNM", ("Viet Nam", "Vietnam")),
    ("VU", "VUT", ("Vanuatu",)),
    ("WF", "WLF", ("Wallis and Futuna",)),
    ("WS", "WSM", ("Samoa",)),
    ("YE", "YEM", ("Yemen",)),
    ("YT", "MYT", ("Mayotte",)),
    ("ZA", "ZAF", ("South Africa",)),
    ("ZM", "ZMB", ("Zambia",)),
    ("ZW", "ZWE", ("Zimbabwe",)),
)

# Names customers actually write, in English and Chinese, beyond the ISO names above.
_COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "CN": (
        "中国",
        "中國",
        "中华人民共和国",
        "中華人民共和國",
        "中国大陆",
        "中国内地",
        "PRC",
        "People's Republic of China",
        "Mainland China",
    ),
    "US": (
        "美国",
        "美國",
        "美利坚合众国",
        "U.S.",
        "U.S.A.",
        "United States of America",
        "America",
    ),
    "HK": ("香港", "中国香港", "香港特别行政区", "Hong Kong SAR", "Hongkong"),
    "TW": ("台湾", "臺灣", "台灣", "中国台湾", "Taiwan"),
    "MO": ("澳门", "澳門", "中国澳门", "澳门特别行政区", "Macau", "Macao SAR"),
    "CA": ("加拿大", "Canada"),
    # "UK" is not the ISO code but is what people type; it is reserved for GB.
    "GB": (
        "英国",
        "英國",
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "JP": ("日本", "Japan"),
    "KR": ("韩国", "韓國", "南韩", "大韩民国", "Korea", "Republic of Korea"),
    "SG": ("新加坡", "Singapore"),
    "AU": ("澳大利亚", "澳大利亞", "澳洲", "Australia"),
    "DE": ("德国", "德國", "Germany", "Deutschland"),
    "FR": ("法国", "法國", "France"),
}

_NON_ALNUM = re.compile(r"[\W_]+")


def _lookup_key(value: str) -> str:
    # Dropping every non-alphanumeric makes "U.S.A.", "u s a" and "USA" one key.
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", value).casefold())


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for alpha2, alpha3, names in _ISO_3166_1:
        for value in (alpha2, alpha3, *names):
            lookup[_lookup_key(value)] = alpha2
    for alpha2, names in _COMMON_NAMES.items():
        for value in names:
            lookup[_lookup_key(value)] = alpha2
    return lookup


# Built once at import: canonical_country runs for every imported row.
_COUNTRY_LOOKUP = _build_lookup()

ALPHA2_CODES: frozenset[str] = frozenset(alpha2 for alpha2, _, _ in _ISO_3166_1)


def canonical_country(value: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a country code or name, or None if unknown."""
    return _COUNTRY_LOOKUP.get(_lookup_key(value or ""))


# Postal code formats checked against the canonical form; the message says what is expected.
# [0-9], not \d: \d also matches Arabic-Indic and other digits no sorting machine reads.
_POSTAL_FORMATS: dict[str, tuple[re.Pattern[str], Message]] = {
    "CN": (re.compile(r"[0-9]{6}"), Message("CN postal codes are six digits")),
    "US": (re.compile(r"[0-9]{5}(?:-[0-9]{4})?"), Message("US ZIP codes are 12345 or 12345-6789")),
    "CA": (
        re.compile(r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] [0-9][ABCEGHJ-NPRSTV-Z][0-9]"),
        Message("CA postal codes look like K1A 0B1"),
    ),
    "GB": (
        re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR) [0-9][A-Z]{2}"),
        Message("GB postcodes look like SW1A 1AA"),
    ),
    "JP": (re.compile(r"[0-9]{3}-[0-9]{4}"), Message("JP postal codes are 123-4567")),
    "DE": (re.compile(r"[0-9]{5}"), Message("DE postal codes are five digits")),
    "FR": (re.compile(r"[0-9]{5}"), Message("FR postal codes are five digits")),
    "AU": (re.compile(r"[0-9]{4}"), Message("AU postcodes are four digits")),
    "KR": (re.compile(r"[0-9]{5}"), Message("KR postal codes are five digits")),
    "SG": (re.compile(r"[0-9]{6}"), Message("SG postal codes are six digits")),
    "TW": (
        re.compile(r"[0-9]{3}(?:[0-9]{2,3})?"),
        Message("TW postal codes are three, five or six digits"),
    ),
}

# Places without postal codes: an empty code is fine, anything written is kept as given.
_NO_POSTAL_CODE = frozenset({"HK", "MO", "AE", "QA"})

_GENERIC_MAX_LENGTH = 12
# Every country's postal codes are written in ASCII letters and digits, some with a space or hyphen.
_GENERIC_FORMAT = re.compile(r"[A-Z0-9]+(?:[ -][A-Z0-9]+)*")

# Separators dropped before formatting countries whose codes are all digits.
_DIGIT_ONLY = frozenset({"CN", "US", "DE", "FR", "AU", "KR", "SG", "TW", "JP"})
_SEPARATORS = re.compile(r"[\s\-]+")
_WHITESPACE = re.compile(r"\s+")
# Japanese codes are often written behind the postal mark.
_POSTAL_MARK = "〒"


def canonical_postal_code(*, country: str, postal_code: str) -> str:
    """Return the postal code trimmed, half-width, uppercased and in its country's layout."""
    code = unicodedata.normalize("NFKC", postal_code or "").replace(_POSTAL_MARK, "").strip().upper()
    code = _WHITESPACE.sub(" ", code)
    alpha2 = canonical_country(country)
    if alpha2 in _DIGIT_ONLY:
        compact = _SEPARATORS.sub("", code)
        # str.isdigit also holds for Arabic-Indic and other digits; those stay as typed and fail the check.
        if not (compact.isascii() and compact.isdigit()):
            return code
        if alpha2 == "US" and len(compact) == 9:
            return f"{compact[:5]}-{compact[5:]}"
        if alpha2 == "JP" and len(compact) == 7:
            return f"{compact[:3]}-{compact[3:]}"
        return compact
    if alpha2 in ("CA", "GB"):
        compact = code.replace(" ", "")
        # Both countries put the space before the last three characters (the inward code).
        if 5 <= len(compact) <= 7:
            return f"{compact[:-3]} {compact[-3:]}"
    return code


def uses_postal_codes(country: str) -> bool:
    """Tell whether addresses in a country (code or name) need a postal code; unknown countries do."""
    return canonical_country(country) not in _NO_POSTAL_CODE


def postal_code_problem(*, country: str, postal_code: str) -> Message | None:
    """Return why a postal code does not fit its country, or None if it fits."""
    alpha2 = canonical_country(country)
    if alpha2 is None:
        return Message("unknown country")
    code = canonical_postal_code(country=alpha2, postal_code=postal_code)
    if alpha2 in _NO_POSTAL_CODE:
        return None if len(code) <= _GENERIC_MAX_LENGTH else Message("postal code is too long")
    known = _POSTAL_FORMATS.get(alpha2)
    if known is not None:
        pattern, message = known
        return None if pattern.fullmatch(code) else message
    if not code:
        return Message("postal code is missing")
    if len(code) > _GENERIC_MAX_LENGTH:
        return Message("postal codes are at most %(count)s characters", count=_GENERIC_MAX_LENGTH)
    if not _GENERIC_FORMAT.fullmatch(code):
        return Message("postal codes are written with the letters A-Z, the digits 0-9, spaces and hyphens")
    return None
