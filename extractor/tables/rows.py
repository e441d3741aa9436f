"""Row semantics by table kind: codes (functional 类/款/项, economic 部门/政府 classes, unit and project codes),
labels, categories and implementing units, with blank (merged) cells carried down from the row above."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..models import TableKind, TableRow
from .columns import FUNCTIONAL_KINDS, sangong_role
from .layout import clean_label, is_code, is_total_label, norm_header

_NON_DIGIT = re.compile(r"\D")
_SPACE = re.compile(r"\s")
_ECON_DEPT = re.compile(r"^3\d{2}(?:\d{2})?$")
_ECON_GOV = re.compile(r"^5\d{2}(?:\d{2})?$")
_THREE_DIGITS = re.compile(r"\d{3}")


class _ColumnQuery:
    """A `LabelColumns.col_of` question: a label column whose header name holds one of `words` and none of
    `without`. Hashed by identity (the queries are module constants), so an answer is found again cheaply."""

    __slots__ = ("words", "without")

    def __init__(self, words: tuple[str, ...], without: tuple[str, ...] = ()):
        self.words, self.without = words, without


_FUNCTIONAL_COL = _ColumnQuery(("功能分类", "功能科目"))
# 功能科目代码 / 科目编码 name the classification code column, not a unit code column
_UNIT_CODE_COL = _ColumnQuery(("单位代码", "单位编码", "部门代码", "单位代 码", "代码"), ("科目", "功能", "经济"))
_CATEGORY_COL = _ColumnQuery(("类型",))
_PROJECT_UNIT_COL = _ColumnQuery(("项目单位", "单位名称"), ("项目名称",))
_CATEGORY = re.compile(r"类$|^(?:其他运转类|特定目标类|运转类|专项业务类|公用经费类|人员类)")


def digits(text: str) -> str:
    # a code cell is usually digits only (str.isdecimal is re's \d): nothing to remove
    return text if text.isdecimal() else _NON_DIGIT.sub("", text)


@dataclass
class LabelColumns:
    """What each label column of a piece's header says (by position; a hint, not a rule)."""

    names: dict[int, str] = field(default_factory=dict)
    # col_of answers, asked again for every row (names are complete once label_columns returns)
    found: dict[_ColumnQuery, int | None] = field(default_factory=dict, repr=False, compare=False)

    def col_of(self, query: _ColumnQuery) -> int | None:
        """The first column whose name holds one of `query`'s words and none of its excluded words
        (`query` is a module constant: it is asked for every row)."""
        found = self.found
        if query in found:
            return found[query]
        words, without = query.words, query.without
        col = found[query] = next((j for j, name in sorted(self.names.items())
                                   if any(w in name for w in words) and not any(x in name for x in without)), None)
        return col


def label_columns(header_rows: list[list[str]], start: int) -> LabelColumns:
    out = LabelColumns()
    for row in header_rows:
        for j, name in enumerate(row[:start]):
            if name:
                out.names[j] = f"{out.names[j]}/{name}" if j in out.names else name
    return out


@dataclass
class RowState:
    """What the rows above left behind, for blank cells that mean 'same as above'."""

    code_cols: dict[int, str] = field(default_factory=dict)   # functional code parts by column
    functional: str = ""                                        # last full functional code
    first_code_col: int | None = None
    econ: tuple[str, str] | None = None                         # last 部门经济分类 (code, name)
    econ_class: str = ""                                        # last 3-digit 部门经济分类 class
    units: dict[str, str] = field(default_factory=dict)         # unit code -> unit name
    label_col: int | None = None                                # the column the row label came from


# kinds as module constants: reading a member off the enum class costs more than the whole test (per row)
_MAYBE_FUNCTIONAL_KINDS = frozenset({TableKind.income, TableKind.generic})
_ECONOMIC_KINDS = frozenset({TableKind.gp_basic, TableKind.economic})
_PROJECTS = TableKind.projects


def describe(kind: TableKind, tr, cells: list[str], cols: LabelColumns, state: RowState) -> int | None:
    """Fill code/label/category/unit fields of `tr` from its label cells (the texts of those left of the
    amounts); returns the column the label was read from. Cells are handled as (column, text) pairs.
    The functional and economic readings of a row's cells that the rows above cannot change are cached by
    the cells' texts (classification rows print the same cells in table after table)."""
    state.label_col = None
    if kind in FUNCTIONAL_KINDS or (kind in _MAYBE_FUNCTIONAL_KINDS and cols.col_of(_FUNCTIONAL_COL) is not None):
        # an income table (or an unrecognised one) keyed by 功能分类科目 codes reads its codes the same way
        _functional(tr, tuple(cells), cols, state)
    elif kind in _ECONOMIC_KINDS:
        _economic(tr, tuple(cells), state)
    elif kind == _PROJECTS:
        _project(tr, [(j, c) for j, c in enumerate(cells) if c], cols, state)
    else:
        texts = [(j, c) for j, c in enumerate(cells) if c]
        words = [(j, c) for j, c in texts if not is_code(c)]
        codes = [(j, c) for j, c in texts if is_code(c)]
        if words:
            _set_label(tr, words[0], state)
        if codes:
            tr.code, tr.code_raw = digits(codes[0][1]), codes[0][1]
            tr.code_kind = "project" if len(tr.code) > 9 else "unit"
            if tr.code_kind == "unit" and tr.label:
                state.units.setdefault(tr.code, tr.label)
    tr.is_total = tr.is_total or is_total_label(tr.label)
    return state.label_col


def _set_label(tr: TableRow, cell: tuple[int, str], state: RowState | None = None) -> None:
    tr.label = clean_label(cell[1])
    if state is not None:
        state.label_col = cell[0]


def _is_unit_code(text: str, j: int, unit_col: int | None) -> bool:
    d = digits(text)
    if _SPACE.search(text.strip()):
        return False  # '201 03 01' is a split functional code
    return (unit_col is not None and j == unit_col) or (text.startswith("0") and len(d) >= 3) or len(d) in (6, 9)


@lru_cache(maxsize=4096)
def _functional_cells(cells: tuple[str, ...], unit_col: int | None) -> tuple:
    """What a functional table's label cells say by themselves: (label cell as (column, label) or None,
    unit code as (code, raw) or None, the code parts printed before the first word as (column, digits),
    their raw text)."""
    # one pass: the words, and the codes printed before the first word (unit codes and code parts)
    words: list[tuple[int, str]] = []
    unit: list[tuple[int, str]] = []
    parts: list[tuple[int, str]] = []
    for jc in enumerate(cells):
        c = jc[1]
        if not c:
            continue
        if not is_code(c):
            words.append(jc)
        elif not words:
            (unit if _is_unit_code(c, jc[0], unit_col) else parts).append(jc)
    label = (words[0][0], clean_label(words[0][1])) if words else None
    unit_code = (digits(unit[0][1]), unit[0][1]) if unit else None
    return label, unit_code, tuple((j, digits(c)) for j, c in parts), " ".join([c for _, c in parts])


def _functional(tr: TableRow, cells: tuple[str, ...], cols: LabelColumns, state: RowState) -> None:
    label, unit, parts, raw = _functional_cells(cells, cols.col_of(_UNIT_CODE_COL))
    if label is not None:
        state.label_col, tr.label = label
    if parts:
        first = parts[0][0]
        joined = "".join([d for _, d in parts])
        if len(parts) == 1 and len(joined) in (3, 5, 7):
            code = joined
        else:
            if state.first_code_col is None or first < state.first_code_col:
                state.first_code_col = first
            # 类/款 printed once for several rows: blank leading code cells take the row above's
            lead = [state.code_cols.get(k, "") for k in range(state.first_code_col, first)]
            code = "".join(lead) + joined if all(lead) else joined
        if len(joined) == 2 and len(parts) == 1 and state.functional:
            code = (state.functional[:5] if len(state.functional) >= 5 else state.functional) + joined
        if len(code) in (3, 5, 7):
            tr.code, tr.code_raw, tr.code_kind = code, raw, "functional"
            state.functional = code
            code_cols, part_cols = state.code_cols, {jj for jj, _ in parts}
            for j, d in parts:
                code_cols[j] = d
                for k in list(code_cols):
                    if k > j and k not in part_cols:
                        del code_cols[k]
            return
    if unit is not None:
        (tr.code, tr.code_raw), tr.code_kind = unit, "unit"
        state.code_cols.clear()
        state.functional = ""


def _econ_parts(cells) -> tuple[str, str]:
    if len(cells) < 2:   # the usual: one code cell, or none
        c = cells[0][1] if cells else ""
        return digits(c), c
    raw = " ".join([c for _, c in cells])
    return "".join([digits(c) for _, c in cells]), raw


_WORD, _DEPT_CODE, _GOV_CODE = 0, 1, 2


@lru_cache(maxsize=8192)
def _econ_cell(text: str) -> int:
    """What a label cell of an economic table is: a word, a code, or a 政府预算支出经济分类 (5xx) code."""
    if not is_code(text):
        return _WORD
    return _GOV_CODE if _ECON_GOV.match(digits(text)) else _DEPT_CODE


@lru_cache(maxsize=4096)
def _economic_cells(cells: tuple[str, ...]) -> tuple:
    """What an economic table's label cells say by themselves: (label cell as (column, label) or None, the
    部门 code and its raw text, whether that code is a unit code, gov_code, gov_label, whether only the
    government half is printed, the (column, label) a row with only a government word takes or None)."""
    # 部门预算支出经济分类 codes are 3xx, 政府预算支出经济分类 codes 5xx: the first 5xx code starts the second half
    d_codes, d_words, g_codes, g_words = [], [], [], []   # (column, cell) in print order
    gov = False
    prev = ""   # the text of the 部门 cell before
    for jc in enumerate(cells):   # one pass: which half, then code or word
        c = jc[1]
        if not c:
            continue
        if not gov:
            cls = _econ_cell(c)
            if cls != _GOV_CODE:
                code = cls == _DEPT_CODE
                if len(c) == 1 and c.isdigit() and _THREE_DIGITS.fullmatch(prev):
                    # a 款 code printed without its leading zero ('301' | '2' | 津贴补贴, a spreadsheet
                    # dropping the 0) is read as 02 when it stands in its own cell right after a 3-digit 类
                    jc = (jc[0], "0" + c)
                    code = is_code(jc[1])
                prev = c
                (d_codes if code else d_words).append(jc)
                continue
            gov = True
        (g_codes if is_code(c) else g_words).append(jc)
    code, raw = _econ_parts(d_codes)
    is_unit = len(code) >= 3 and (code.startswith("0") or len(code) in (6, 9) or not code.startswith(("3", "5")))
    label = (d_words[0][0], clean_label(d_words[0][1])) if d_words else None
    gov_word = (g_words[0][0], clean_label(g_words[0][1])) if not d_words and g_words and not g_codes else None
    return (label, code, raw, is_unit, _econ_parts(g_codes)[0] if g_codes else "",
            clean_label(g_words[0][1]) if g_words else "", not d_codes and not d_words and gov, gov_word)


def _economic(tr: TableRow, cells: tuple[str, ...], state: RowState) -> None:
    label, code, raw, is_unit, tr.gov_code, tr.gov_label, gov_only, gov_word = _economic_cells(cells)
    if label is not None:
        state.label_col, tr.label = label
    if is_unit:
        tr.code, tr.code_raw, tr.code_kind = code, raw, "unit"
        return
    if len(code) == 2 and state.econ_class:
        code = state.econ_class + code  # 类 printed once for several rows
    if code:
        tr.code, tr.code_raw, tr.code_kind = code, raw, "economic"
        if len(code) == 3:
            state.econ_class = code
        else:
            state.econ_class = code[:3]
        state.econ = (code, tr.label)
        return
    if gov_only and state.econ and not is_total_label(tr.gov_label):
        # only the government class is printed: the 部门 class spans from the row above (merged cell)
        tr.code, tr.label = state.econ
        tr.code_kind = "economic"
    elif gov_word is not None:
        state.label_col, tr.label = gov_word   # e.g. '合计' printed in the second name column
        tr.gov_label = ""


def _project(tr: TableRow, texts, cols: LabelColumns, state: RowState) -> None:
    cat_col = cols.col_of(_CATEGORY_COL)
    unit_col = cols.col_of(_PROJECT_UNIT_COL)
    words = [(j, c) for j, c in texts if not is_code(c)]
    codes = [(j, c) for j, c in texts if is_code(c)]
    words = [(j, c) for j, c in words if not is_total_label(c)] or words
    # cells are told apart by their column (unique within the row)
    category = next(((j, c) for j, c in words if j == cat_col and not is_total_label(c)), None) or next(
        ((j, c) for j, c in words if _CATEGORY.search(norm_header(c)) and len(c) <= 10), None)
    rest = [(j, c) for j, c in words if category is None or j != category[0]]
    unit_cell = next(((j, c) for j, c in rest if j == unit_col), None) if len(rest) > 1 else None
    names = [(j, c) for j, c in rest if unit_cell is None or j != unit_cell[0]]
    if category is not None:
        tr.category = clean_label(category[1])
    if codes:
        tr.code, tr.code_raw = digits(codes[0][1]), codes[0][1]
        tr.code_kind = "project" if len(tr.code) > 9 else "unit"
    if names:
        _set_label(tr, names[0], state)
    elif unit_cell is not None:
        _set_label(tr, unit_cell, state)
        unit_cell = None
    if unit_cell is not None:
        tr.unit_name = clean_label(unit_cell[1])
    if tr.code_kind == "unit":
        if tr.category or tr.unit_name:
            # a project printed with its unit's code: the unit is named by the unit row above
            tr.unit_name = tr.unit_name or state.units.get(tr.code, "")
        elif tr.label:
            state.units.setdefault(tr.code, tr.label)


def sangong_row_role(label: str) -> str:
    """Role of a row in the list layout of the 三公 table (共计 / 1、因公出国（境）费用 / 其中：（1）…)."""
    return sangong_role(label) if label else ""
