"""The one number parser: amount cells, numbers inside prose, comparators in indicator values.

Everything that turns characters into a `Decimal` goes through here (extractor, checks, rag verifier, evals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋％", "0123456789.,-+%")

# A table amount cell: optional sign/parentheses, digits with optional thousands separators, decimals.
_AMOUNT_RE = re.compile(r"^[-−–]?\(?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*\)?$")
_PLAIN_RE = re.compile(r"^[-−–]?\d+(?:\.\d+)?$")
# What an amount cell can start with besides a digit: a sign (full-width too) or an opening parenthesis.
_LEADS = "-−–(－（"

# A number in prose (thousands separators allowed, full-width already folded).
NUMBER_IN_TEXT_RE = re.compile(r"(?<![\d.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])")


def fold_width(text: str) -> str:
    """Full-width digits and punctuation to ASCII; same length, so offsets stay valid."""
    return text.translate(_FULLWIDTH)


@lru_cache(maxsize=65536)
def parse_amount(text: str | None) -> Decimal | None:
    """Parse a table amount cell ('4,596.71', '140', '-3.2', '（12.00）' style negatives). None if not an amount."""
    if text is None:
        return None
    if text.isascii() and text[-1:].isdigit() and text[0].isdigit() and len(text) <= 24 \
            and text.replace(".", "", 1).isdigit():
        # the usual cell, '4596.71' or '140' (ASCII digits, at most one point, a digit at both ends): what
        # the checks below accept unchanged, read without them
        return Decimal(text)
    # stripped before folding (folding maps no character to or from whitespace): an amount starts with a
    # digit, a sign or a parenthesis, so most labels are turned away on their first character unfolded
    s = text.strip()
    if not s or not (s[0].isdecimal() or s[0] in _LEADS):   # isdecimal: re's \d (the full-width digits too)
        return None
    s = fold_width(s)
    if len(s) > 24:
        return None
    negative = False
    if s[0] in "(（" and s[-1] in ")）":   # accounting negatives, '(12.00)' or full-width '（12.00）'
        negative, s = True, s[1:-1].strip()
    if not _AMOUNT_RE.match(s):   # (every _PLAIN_RE number matches _AMOUNT_RE too)
        return None
    if not s.isdecimal():   # (a plain integer has nothing to replace)
        s = s.replace(",", "").replace("−", "-").replace("–", "-").replace(" ", "")
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    return -value if negative else value


def is_amount(text: str | None) -> bool:
    return parse_amount(text) is not None


def decimals(text: str) -> int:
    """Number of printed decimal places of a numeric string."""
    s = fold_width(text).strip()
    return len(s.split(".", 1)[1]) if "." in s else 0


@dataclass(frozen=True)
class Comparison:
    """A performance-indicator value such as '≥95%' or '≤13.00 万元' or '70 人'."""

    comparator: str  # ≥ ≤ = > < or ""
    number: Decimal | None
    unit: str


_CMP_MAP = {">=": "≥", "<=": "≤", "≧": "≥", "≦": "≤", "＞": ">", "＜": "<", "＝": "=", "大于等于": "≥",
            "小于等于": "≤", "不低于": "≥", "不少于": "≥", "不高于": "≤", "不超过": "≤", "大于": ">", "小于": "<",
            "等于": "="}
_CMP_RE = re.compile(r"^\s*(>=|<=|≥|≤|≧|≦|＞|＜|＝|=|>|<|大于等于|小于等于|不低于|不少于|不高于|不超过|大于|小于|等于)?\s*"
                     r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*([%‰]|[\u4e00-\u9fff（）()/a-zA-Z²³·*]{1,5})?\s*$")
# Deadlines and dates ('12 月底前', '2023全年') are text values, not quantities.
_NOT_A_UNIT = re.compile(r"[前后底内全以止]|^年$|^月$|^日$")


@lru_cache(maxsize=16384)
def parse_comparison(text: str) -> Comparison | None:
    """Split an indicator value into comparator, number and unit; None for text values ('提升', '合规')."""
    m = _CMP_RE.match(fold_width(text))
    if not m:
        return None
    cmp_raw, num, unit = m.group(1) or "", m.group(2), m.group(3) or ""
    if unit and _NOT_A_UNIT.search(unit):
        return None
    return Comparison(_CMP_MAP.get(cmp_raw, cmp_raw), Decimal(num.replace(",", "")), unit)


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_int(text: str) -> int | None:
    """'二十一' -> 21, '十' -> 10, '三' -> 3, '12' -> 12. None if not a small Chinese/ASCII integer."""
    text = fold_width(text.strip())
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS[ch]
    return total + current
