"""Indicator cells printed side by side, name then value: which cell is a name and which its value. A
value can be missing, so the run is split by the best score, not two by two."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ..numbers import fold_width, parse_comparison

# Text that reads like an indicator name rather than a target value.
_NAMEISH = re.compile(r"(率|度|数|量|性|时间|时限|成本|费用?|经费|资金|情况|人次|次数|指标)$")

_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=16384)
def _value_score(text: str) -> float:
    """How much a cell looks like a target value ('≥95%', '及时', '2023年12月31日前') vs an indicator name."""
    t = fold_width(text).strip()
    if parse_comparison(t) is not None:
        return 3.0
    if _NAMEISH.search(t):
        return -2.0
    if _DIGIT.search(t) and len(t) <= 16:
        return 2.0
    n = len(t)
    return 1.0 if n <= 4 else 0.0 if n <= 6 else -1.0 if n <= 12 else -2.0


def pair_texts(cells: list[tuple[int, str]]) -> list[tuple[int, str, str | None, int]]:
    """Split a left-to-right run of indicator cells, (column, text) pairs, into (column, name, value, value's
    column), value None (and its column -1) for a name printed without its value. Best-scoring split by
    dynamic programming, so one missing value does not shift every later pair."""
    if not cells:
        return []
    cols, texts = zip(*cells, strict=True)   # (column, text) pairs: two columns of equal length
    paired = _paired(cols, texts)
    out: list[tuple[int, str, str | None, int]] = []
    i, n = 0, len(cells)
    while i < n:
        idx, name = cells[i]
        if paired[i]:
            v_col, value = cells[i + 1]
            out.append((idx, name, value, v_col))
            i += 2
        else:
            out.append((idx, name, None, -1))
            i += 1
    return out


def _paired(cols: Sequence[int], texts: Sequence[str]) -> list[bool]:
    """For each cell of the run (its column and text), whether the best split pairs it with the next."""
    n = len(cols)
    # score[i]: best score of cells[i:]; paired[i]: whether that split pairs cells[i] with cells[i + 1]
    score = [0.0] * (n + 1)
    paired = [False] * n
    looks = [_value_score(t) for t in texts]   # each cell is scored as a name and as a value
    for i in range(n - 1, -1, -1):
        name_bonus = 0.5 * max(looks[i], 0.0)
        best = -1.5 - name_bonus + score[i + 1]
        if i + 1 < n:
            pair = looks[i + 1] - name_bonus + (0.5 if cols[i + 1] == cols[i] + 1 else 0.0) + score[i + 2]
            if pair >= best:
                best = pair
                paired[i] = True
        score[i] = best
    return paired
