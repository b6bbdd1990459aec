"""Chinese addresses: province, city, district and town, then street, number and building down to the door."""

from __future__ import annotations

import re

from mailer.folding import HAN_CHARACTER, nfkc_fold

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
_HAN = HAN_CHARACTER.pattern
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
# The delivery point runs from the district down to the door.
_CN_POINT_KEYS = ("district", "street", "number", "extra", "building", "unit", "floor", "room")


def _cn_compact(text: str) -> str:
    # Spaces and punctuation carry no meaning between Chinese words; keep hyphens for "5-1-302".
    return _CN_DROP.sub(lambda m: "-" if "-" in m.group() else "", nfkc_fold(text)).strip("-")


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
        and HAN_CHARACTER.search(compact)
        and not compact.endswith(("市", "自治州", "地区", "盟", "区", "县"))
    ):
        # Customers write "广州" for "广州市"; prefecture-level cities are nearly all 市.
        compact += "市"
    return compact


def parse_chinese(*, lines: str, city: str, region: str) -> tuple[dict[str, str], str, str]:
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

    components: dict[str, str] = {key: admin[key] for key in ("province", "city", "district", "town") if key in admin}
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
