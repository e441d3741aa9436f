"""Text helpers for matching questions against record labels: one normal form, substring scoring."""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.numbers import fold_width

_DROP = re.compile(r"[\s\u3000\"'“”‘’「」『』《》〈〉*#|]")
_PAREN = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "：": ":", "，": ",", "；": ";",
                        "？": "?", "！": "!", "、": ","})


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Width-folded, spaces/quotes removed, brackets unified. Used on both sides of every match."""
    return _DROP.sub("", fold_width(text or "")).translate(_PAREN)


_TAG = re.compile(r"^\[[^\]]{1,12}\]")


def clean_name(label: str) -> str:
    """A project/row label without its 【category】 tag and numbering: '【基本运转】X' -> 'X'."""
    s = norm(label)
    s = _TAG.sub("", s)
    s = re.sub(r"^(?:[一二三四五六七八九十]+[,.、]|\(\S{1,3}\)|\d+[.、])", "", s)
    return s




def lcs_span(a: str, b: str) -> tuple[int, int]:
    """(start, length) in `a` of the longest substring of `a` that occurs in `b`."""
    best, start = 0, 0
    prev = [0] * (len(b) + 1)
    for i, ca in enumerate(a):
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best, start = cur[j], i - cur[j] + 1
        prev = cur
    return start, best


def edit_within_one(a: str, b: str) -> bool:
    """True if a and b differ by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        return sum(1 for x, y in zip(a, b, strict=True) if x != y) == 1
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def fuzzy_find(alias: str, text: str) -> int:
    """Start of a window of `text` within one edit of `alias` (typos such as 大数剧局), or -1.
    Exact occurrences are the caller's business; this only finds near misses."""
    n = len(alias)
    if n < 4:
        return -1
    for size in (n, n - 1, n + 1):
        for i in range(0, len(text) - size + 1):
            window = text[i:i + size]
            # The first and last characters anchor the window, which keeps near misses honest.
            if window[0] != alias[0] and window[-1] != alias[-1]:
                continue
            if edit_within_one(alias, window):
                return i
    return -1


@lru_cache(maxsize=65536)
def bigrams(s: str) -> frozenset[str]:
    return frozenset(s[i:i + 2] for i in range(len(s) - 1)) if len(s) > 1 else frozenset({s} if s else ())
