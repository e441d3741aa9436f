"""The one number parser, table-driven: amount cells as printed -> Decimal (exponent kept) or None."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractor.numbers import parse_amount

AMOUNTS = [
    ("plain", "4596.71", "4596.71"),
    ("integer", "140", "140"),
    ("two_zero_decimals", "12.50", "12.50"),
    ("thousands", "4,596.71", "4596.71"),
    ("thousands_millions", "12,345,678.9", "12345678.9"),
    ("leading_zero_code", "0102", "102"),
    ("padded", " 12.50 ", "12.50"),
    ("minus", "-3.2", "-3.2"),
    ("unicode_minus", "−5.00", "-5.00"),
    ("parentheses_negative", "(12.00)", "-12.00"),
    ("fullwidth_parentheses", "（12.00）", "-12.00"),
    ("fullwidth_digits", "１２３.４５", "123.45"),
    ("trailing_point", "12.", None),
    ("leading_point", ".5", None),
    ("two_points", "1.2.3", None),
    ("bad_grouping", "1,23", None),
    ("inner_space", "1 234", None),
    ("percent", "99.9%", None),
    ("count_with_noun", "25个", None),
    ("label", "事业运行", None),
    ("empty", "", None),
    ("too_long", "1" * 25, None),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in AMOUNTS], ids=[i for i, _, _ in AMOUNTS])
def test_parse_amount(raw, expected):
    value = parse_amount(raw)
    assert (str(value) if value is not None else None) == expected
    if value is not None:
        assert value == Decimal(expected) and isinstance(value, Decimal)


def test_parse_amount_of_none():
    assert parse_amount(None) is None
