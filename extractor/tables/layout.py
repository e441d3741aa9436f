"""Table layout: which cells are labels/codes and which are amounts, header rows vs data rows, the printed
multi-row header -> column paths (surviving shifted header rows), and wrapped cells."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..grid import GridCell, GridRow
from ..numbers import parse_amount

_CODE_CELL = re.compile(r"^(?:\d{3}(?:[ \u3000]+\d{2}){1,2}|\d{2,3}|\d{5,7}|\d{9,})$")
_SPLIT_CODE = re.compile(r"^\d{3}(?:[ \u3000]+\d{2}){1,2}$")
_INTEGER = re.compile(r"^\d+$")
TOTAL_LABELS = re.compile(r"^(合\s*计|总\s*计|共\s*计|小\s*计|本年(收入|支出)合计|收入合计|支出合计|收入总计|支出总计)[：:]?$")
NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|其中[：:])")
_ITEM_NUMBER = re.compile(r"^(?:\d+[、.．]|[（(]\d+[)）]|[①-⑳])")
SUBTOTAL = {"小计", "合计"}
# Header names of label (non-amount) columns; anything naming a code, a name or a classification.
LABEL_HEADERS = {"类", "款", "项", "科目", "编码", "名称", "项目", "项目单位", "类型", "项目类型", "单位", "部门",
                 "功能分类", "经济分类"}
_LABEL_HEADER_WORDS = re.compile(r"编码|代码|科目|名称|经济分类|类型")
# Two-sided (收支) tables name their label columns 项目 and their amount columns 金额/预算数.
_TWO_SIDED_LABEL = {"项目", "收入项目", "支出项目", "收入", "支出"}


_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def norm_header(text: str) -> str:
    """Header cell text without internal spaces ('对个人和家庭 的补助' -> '对个人和家庭的补助')."""
    return _SPACES.sub("", text).replace("**", "")


_BR = re.compile(r"<br\s*/?>")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff（）、])[ \u3000]+(?=[\u3400-\u9fff（）、])")


@lru_cache(maxsize=8192)
def clean_label(text: str) -> str:
    """A label as a reader reads it: '<br>' and spaces inside CJK words (line wraps) removed."""
    text = _BR.sub("", text)
    return _CJK_GAP.sub("", text).strip()


@lru_cache(maxsize=4096)
def is_label_header(name: str) -> bool:
    return name in LABEL_HEADERS or bool(_LABEL_HEADER_WORDS.search(name))


@lru_cache(maxsize=16384)
def is_code(text: str) -> bool:
    return bool(_CODE_CELL.match(text.strip()))


def is_split_code(text: str) -> bool:
    return bool(_SPLIT_CODE.match(text))


@lru_cache(maxsize=8192)
def is_total_label(text: str) -> bool:
    return bool(TOTAL_LABELS.match(_SPACES.sub("", text)))


def label_end(row: GridRow) -> int:
    """Index after the last label/code cell of a row: a cell is a label unless it is an amount, and an
    integer is a code (not an amount) when it has a leading zero or a text cell to its right. Every text
    cell from there on is an amount."""
    return label_scan(row)[0]


def label_scan(row: GridRow) -> tuple[int, bool]:
    """(`label_end(row)`, whether any cell of the row is an amount): one pass over the texts, read once
    per row (split_header, the repeated-header search and the layout all ask)."""
    got = row.scan
    if got is None:
        got = row.scan = _scan(row.texts)
    return got


def _scan(texts: list[str]) -> tuple[int, bool]:
    # right to left; once the label end is found and an amount seen, the cells further left change neither
    last = -1
    text_right = amount = False
    for j in range(len(texts) - 1, -1, -1):
        t = texts[j]
        if not t:
            continue
        if parse_amount(t) is None:
            if last < 0:
                last = j
                if amount:
                    break
            text_right = True
        else:
            amount = True
            if last >= 0:
                break
            if (text_right or (t[0] == "0" and len(t) > 1)) and _INTEGER.match(t):
                last = j
                break
    return last + 1, amount


def has_amount(texts: list[str]) -> bool:
    """Whether any cell text is an amount (a plain loop: this runs for most rows, several times)."""
    for t in texts:
        if t and parse_amount(t) is not None:
            return True
    return False


def _only_total_label(texts: list[str]) -> int | None:
    """Column of the total label when the row holds a total label and nothing but amounts besides."""
    col = None
    for j, t in enumerate(texts):
        if not t:
            continue
        if is_total_label(t) and col is None:
            col = j
        elif parse_amount(t) is None:
            return None
    return col


def is_data_row(row: GridRow, amount_start: int | None) -> bool:
    """A row carrying values, or codes / a total or numbered label in the label area (so that an empty
    table's 合计 row is data while a header's 合计/小计/其中 column names are not)."""
    texts = row.texts
    end = (row.scan or label_scan(row))[0]
    if any(texts[end:]):   # the text cells after the labels are amounts
        return True
    limit = end if amount_start is None else min(end, amount_start)
    for t in texts[:limit]:
        if t and ((is_code(t) and len(t) >= 3) or (NUMBERING.match(t) and not t.startswith("其中"))):
            return True
    col = _only_total_label(texts)
    return col is not None and (amount_start is None or col < amount_start)


def header_amount_start(header: list[GridRow]) -> int | None:
    """First column of the top header row that names an amount column (not a code/name column)."""
    for row in header:
        for j, t in enumerate(row.texts):
            name = norm_header(t)
            if name and not is_label_header(name):
                return j
    return None


def split_header(rows: list[GridRow]) -> tuple[list[GridRow], list[GridRow]]:
    """Leading header rows and the data rows after them."""
    # header_amount_start(rows[:i]), grown one row at a time: the first row naming an amount column decides
    amount_start = None
    for i, row in enumerate(rows):
        if i and amount_start is None:
            amount_start = header_amount_start(rows[i - 1:i])
        if is_data_row(row, amount_start):
            return rows[:i], rows[i:]
    return rows, []


def header_key(rows: list[GridRow]) -> tuple[tuple[str, ...], ...]:
    return tuple(row_key(r) for r in rows)


def row_key(row: GridRow) -> tuple[str, ...]:
    return tuple(map(norm_header, filter(None, row.texts)))


# ---- header -> column paths ----------------------------------------------------------------------------

@dataclass
class _Node:
    name: str
    col: int
    span: int
    children: list[_Node]


def _grid(header: list[GridRow], width: int) -> list[list[str]]:
    return [[norm_header(t) for t in r.texts] + [""] * max(0, width - len(r.texts)) for r in header]


def carry_paths(header: list[GridRow], start: int, width: int) -> list[list[str]]:
    """Column paths read straight down each column; a blank (merged) header cell takes the name to its left
    in the same row when both columns share their parents and a lower row names something under it."""
    grid = _grid(header, width)
    paths: list[list[str]] = [[] for _ in range(start, width)]
    for r, row in enumerate(grid):
        carry: tuple[str, list[str]] | None = None   # a name and the parents it was printed under
        for j in range(start, width):
            cur = paths[j - start]
            name = row[j]
            if name:
                carry = (name, list(cur))
            elif carry and cur == carry[1]:
                if any(grid[k][j] for k in range(r + 1, len(grid))):
                    name = carry[0]
            else:
                carry = None
            if name:
                cur.append(name)
    return paths


def positional_paths(header: list[GridRow], start: int, width: int) -> list[str] | None:
    """Column paths by position; None when the rows contradict each other (a row shifted in conversion)."""
    grid = _grid(header, width)
    top = grid[0]
    if start >= width or not top[start] or is_label_header(top[start]):
        return None
    for r in range(1, len(grid)):
        for j, name in enumerate(grid[r]):
            if not name:
                continue
            label = is_label_header(name)
            if (j >= start and label) or (j < start and not label):
                return None
    paths = carry_paths(header, start, width)
    # children of one parent: a 小计/合计 must come first, and a parent is never also a leaf
    seen: dict[str, list[str]] = {}
    for p in paths:
        for d in range(1, len(p)):
            seen.setdefault("/".join(p[:d]), []).append(p[d])
    joined = {"/".join(p) for p in paths}
    for parent, kids in seen.items():
        ordered = list(dict.fromkeys(kids))
        if any(k in SUBTOTAL for k in ordered[1:]) or parent in joined:
            return None
    return ["/".join(p) for p in paths]


def gap_shift(present: list[set[int]], n: int, d: int):
    """Data rows wider on the label side than their header lost `d` empty amount columns somewhere: put the
    gap where the rows have their widest run of columns without any value. Returns k -> header column."""
    best_start, best_len, run = n, 0, 0
    for k in range(n + 1):
        if k < n and not any(k in p for p in present):
            run += 1
            continue
        if run > best_len:
            best_start, best_len = k - run, run
        run = 0
    return lambda k: k + d if k >= best_start else k


def sequence_paths(header: list[GridRow], start: int, width: int) -> list[str] | None:
    """Column paths from the header names in reading order, for headers whose rows were shifted.

    Top-row names (from `start`) are the groups; each lower row's names are handed to the groups of the row
    above that span more than one column: split at 小计/合计 when each group starts with one, else in order
    by the groups' printed widths (a group left without children is a leaf)."""
    grid = _grid(header, width)
    if not grid:
        return None

    def nodes_of(r: int, lo: int) -> list[_Node]:
        row = grid[r]
        found = [(j, n) for j, n in enumerate(row) if n and j >= lo and not is_label_header(n)]
        out = []
        for k, (j, n) in enumerate(found):
            nxt = found[k + 1][0] if k + 1 < len(found) else len(row)
            out.append(_Node(n, j, max(1, nxt - j), []))
        return out

    level = nodes_of(0, start)
    if not level:
        return None
    roots = level
    for r in range(1, len(grid)):
        kids = nodes_of(r, 0)
        groups = [n for n in level if n.span > 1]
        if not kids or not groups:
            break
        markers = [i for i, k in enumerate(kids) if k.name in SUBTOTAL]
        if len(markers) == len(groups) and markers[0] == 0:
            bounds = markers + [len(kids)]
            for g, (a, b) in zip(groups, zip(bounds, bounds[1:], strict=False), strict=False):
                g.children = kids[a:b]
        else:
            i = 0
            for g in groups:
                take = kids[i:i + g.span]
                g.children = take
                i += len(take)
            if i < len(kids) and groups:
                groups[-1].children.extend(kids[i:])
        level = [k for g in groups for k in g.children]

    def leaves(node: _Node, prefix: str) -> list[str]:
        path = f"{prefix}/{node.name}" if prefix else node.name
        if not node.children:
            return [path]
        return [p for c in node.children for p in leaves(c, path)]

    return [p for n in roots for p in leaves(n, "")]


def column_paths(header: list[GridRow], start: int, width: int) -> list[str]:
    """Best column paths for amount columns start..width-1 (positional when consistent, else by sequence)."""
    if not header or start >= width:
        return []
    return list(_column_paths(tuple(tuple(r.texts) for r in header), start, width))


@lru_cache(maxsize=2048)
def _column_paths(texts: tuple[tuple[str, ...], ...], start: int, width: int) -> tuple[str, ...]:
    """`column_paths` of a header given by its cell texts (all it reads): a header is printed again on
    every page of its table."""
    header = [GridRow([GridCell(t, 0, 0) for t in row], 0, 0, "") for row in texts]
    paths = positional_paths(header, start, width)
    if paths is None:
        paths = sequence_paths(header, start, width) or []
    return tuple(paths)


def merge_wrapped_rows(rows: list[GridRow], strict: bool = False) -> tuple[list[GridRow], int]:
    """A row holding only a short text fragment under a text cell of the row above continues that cell
    (e.g. '其他社会保障缴' + '费'). `strict` (two-sided tables, whose short unnumbered labels are common)
    accepts only a one-cell fragment of at most four characters. Returns the rows and how many were joined."""
    out: list[GridRow] = []
    merged = 0
    for row in rows:
        if out:
            # a row can only be a fragment when its first text cell is one (with the widest limit, 6):
            # the usual row is settled on its first cell
            first = next(filter(None, row.texts), None)
            if first is None or not _fragment(first, 6, strict):
                out.append(row)
                continue
        filled = [(j, t) for j, t in enumerate(row.texts) if t]
        prev = out[-1] if out else None
        limit = 4 if strict or len(filled) > 1 else 6
        if prev is not None and filled and (len(filled) == 1 or not strict) and all(
                _fragment(t, limit, strict) for _, t in filled) and all(
                j < len(prev.texts) and prev.texts[j] and parse_amount(prev.texts[j]) is None
                and len(prev.texts[j]) >= 4 for j, _ in filled):
            # the joined cell keeps the span of its head (the fragment is printed on another line)
            cells = [GridCell(t, s, e) for t, (s, e) in zip(prev.texts, prev.spans(), strict=True)]
            for j, t in filled:
                head = cells[j]
                cells[j] = GridCell(head.text + t, head.start, head.end)
            out[-1] = GridRow(cells, prev.start, prev.end, prev.style)
            merged += 1
            continue
        out.append(row)
    return out, merged


def _fragment(text: str, limit: int, strict: bool) -> bool:
    return (len(text) <= limit and parse_amount(text) is None and not is_code(text) and not is_total_label(text)
            and not NUMBERING.match(text) and not _ITEM_NUMBER.match(text)
            and not (strict and text.endswith("支出")))
