"""Person names: matching keys, incomplete names and Chinese surnames."""

from __future__ import annotations

import pytest

from mailer.customers.names import chinese_name_parts, is_incomplete_name, name_key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Smith, John", "John Smith"),
        ("Mr. John Smith", "john smith"),
        ("DR JOHN SMITH", "John Smith"),
        ("José Núñez", "Jose Nunez"),
        ("王 磊", "王磊"),
        ("王磊先生", "王磊"),
        ("王磊", "王磊"),
        ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),
    ],
)
def test_same_name_key(first: str, second: str) -> None:
    assert name_key(first) == name_key(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("John Smith", "Jon Smith"), ("王磊", "王雷"), ("John Smith", "John Smithson")],
)
def test_different_name_key(first: str, second: str) -> None:
    assert name_key(first) != name_key(second)


@pytest.mark.parametrize(
    ("name", "incomplete"),
    [
        ("李先生", True),
        ("王小姐", True),
        ("张女士", True),
        ("陈太太", True),
        ("欧阳先生", True),
        ("Mr. Smith", True),
        ("Mrs Jones", True),
        ("Ms. Brown", True),
        ("Miss Green", True),
        ("Dr. Lee", True),
        ("Mr.", True),
        ("李明", False),
        ("王小红", False),
        ("王磊先生", False),
        ("欧阳娜娜女士", False),
        ("John Smith", False),
        ("Mr. John Smith", False),
        ("Smith", False),  # a lone surname without an honorific is not flagged
        ("", False),
    ],
)
def test_is_incomplete_name(name: str, incomplete: bool) -> None:
    assert is_incomplete_name(name) is incomplete


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("王磊", ("王", "磊")),
        ("王 小明", ("王", "小明")),
        ("欧阳娜娜", ("欧阳", "娜娜")),
        ("李先生", ("李", "")),
        ("陳大文", ("陳", "大文")),
        ("Wang Lei", None),
        ("Mr. Smith", None),
    ],
)
def test_chinese_name_parts(name: str, parts: tuple[str, str] | None) -> None:
    assert chinese_name_parts(name) == parts
