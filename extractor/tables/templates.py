"""Templates beyond the seeds: table-title aliases and column-role refinements for other provinces' and
years' layouts (Shanghai district 部门预算/决算, Jiangsu 公开01–12表 …), stated as rules on the printed words,
never on a file or a department.

* `template_kind(title)` — title aliases the generic registry patterns would get wrong (consulted by
  `registry.classify_title` first). Tables that no rule names stay `generic` with their rows and cells.
* `refine_table(table)` — column roles that need the whole table to decide (run after a table is parsed):
  - 预算数 / 决算数 pairs (决算 tables print both under every item): the 决算数 column keeps the item's role,
    the 预算数 column gets ``budget_<role>``, so a 决算 figure is never read from its budget twin;
  - a 三公 table that also prints 会议费 and 培训费 (Jiangsu 公开11表): its top-level 合计 covers all five
    and is the table's ``total``, not ``sangong_total`` (which is the 三公 subtotal); 会议费 → ``meeting``,
    培训费 → ``training``;
  - 机关运行经费 printed beside the 三公 columns → ``operating_expenses`` (not 公务用车运行费);
  - 单位预留机动经费 → ``reserve``, 结转下年资金 / 年末结转和结余 → ``carryforward`` (money left for next
    year, not the 上年结转 income the ``carryover`` role means);
  - generic tables whose codes are functional (2xx…) or economic (3xx/5xx) classification codes get that
    code kind, so a 财政拨款基本支出预算表 kept as generic still says which rows are 类 and 款.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..models import Table, TableKind

# (kind, pattern on the title without spaces), checked before the registry's own patterns.
TITLE_ALIASES: list[tuple[TableKind, re.Pattern[str]]] = [
    # 三公 tables also naming 会议费/培训费 or 机关运行经费 stay 三公 tables
    (TableKind.sangong, re.compile(r"三公")),
    # 政府采购预算表 / 政府采购支出预算表: purchase lists, not spending tables
    (TableKind.generic, re.compile(r"政府采购")),
    # 机关运行经费支出预算表: an economic breakdown of running costs, not the department's spending
    (TableKind.generic, re.compile(r"机关运行经费")),
    # 财政拨款(基本)支出预算表 (Jiangsu 05/06): the appropriation-only breakdowns; 财政拨款收支 is fiscal_summary
    (TableKind.generic, re.compile(r"^(?:[^收]*?)(?<!一般公共预算)财政拨款(?:基本)?支出(?:预算|决算)?(?:明细)?表")),
]

# Amount columns other templates print in their 支出总表 beside 合计/基本支出/项目支出 (Jiangsu 公开03表,
# Shanghai 支出决算表); `columns.functional_columns` keeps them as columns of their own.
EXTRA_SPENDING_COLUMNS = ("单位预留机动经费", "结转下年资金", "上缴上级支出", "经营支出", "对附属单位补助支出")

_BUDGET = re.compile(r"^(?:年初|全年|调整后?)?预算数?$|^预算$")
_ACTUAL = re.compile(r"^决算数?$|^实际(?:支出)?数?$")
_SANGONG = re.compile(r"三公")
_OTHER_THAN_SANGONG = (("会议费", "meeting"), ("培训费", "training"))
_ECON = re.compile(r"^[35]\d{2}(?:\d{2})?$")
_FUNC = re.compile(r"^2\d{2}(?:\d{2}){0,2}$")


def _compact(title: str) -> str:
    return re.sub(r"\s+", "", title)


def template_kind(title: str) -> TableKind | None:
    """The kind a template alias gives this (cleaned) title, or None to let the registry decide."""
    t = _compact(title)
    for kind, pattern in TITLE_ALIASES:
        if pattern.search(t):
            return kind
    return None


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _pair_role(kind: TableKind, parts: list[str]) -> tuple[str, bool] | None:
    """(role of the item, is_budget) for a path ending in 预算数/决算数; None for other paths."""
    if not parts:
        return None
    leaf = parts[-1]
    budget, actual = bool(_BUDGET.match(leaf)), bool(_ACTUAL.match(leaf))
    if not (budget or actual):
        return None
    from .columns import role_of  # columns consults this module: import late

    rest = "/".join(parts[:-1])
    role = role_of(kind, rest) if rest else ""
    return (role or "total"), budget


@lru_cache(maxsize=4096)
def _column_pair(kind: TableKind, column: str) -> tuple[str, bool] | None:
    """`_pair_role` of a column path, once per path (a table has few columns and many cells)."""
    return _pair_role(kind, _parts(column))


@lru_cache(maxsize=1024)
def _has_pairs(columns: tuple[str, ...]) -> bool:
    """Whether the columns print both 预算数 and 决算数 leaves (by the column paths: tables repeat them)."""
    leaves = {(parts[-1] if parts else "") for parts in map(_parts, columns)}
    return any(_BUDGET.match(x) for x in leaves) and any(_ACTUAL.match(x) for x in leaves)


def _refine_pairs(table: Table) -> None:
    if not _has_pairs(tuple(table.columns)):
        return
    for row in table.rows:
        for cell in row.cells:
            pair = _column_pair(table.kind, cell.column)
            if pair is None:
                continue
            role, budget = pair
            if table.kind == TableKind.sangong and row.is_total and role == "total":
                role = "sangong_total"
            cell.role = f"budget_{role}" if budget else role


def _refine_sangong(table: Table) -> None:
    others = {role for col in table.columns for word, role in _OTHER_THAN_SANGONG if word in col}
    for row in table.rows:
        for cell in row.cells:
            col = cell.column.replace(" ", "")
            base = cell.role.removeprefix("budget_")
            prefix = cell.role[:len(cell.role) - len(base)]
            if "机关运行经费" in col:
                cell.role = prefix + "operating_expenses"
                continue
            hit = next((role for word, role in _OTHER_THAN_SANGONG if word in col), None)
            if hit:
                cell.role = prefix + hit
            elif others and base == "sangong_total" and not _SANGONG.search(col):
                # 合计 over 三公 + 会议费 + 培训费: the table total, not the 三公 total
                cell.role = prefix + "total"


_THIS_YEAR_TOTAL = re.compile(r"本年(?:收入|支出)合计")
_CARRYFORWARD = re.compile(r"结转下年|年末结转|结余分配")


@lru_cache(maxsize=4096)
def _name_role(column: str, two_sided: bool, sangong: bool) -> str | None:
    """The role a column's name gives its cells, or None to keep the assigned one."""
    col = column.replace(" ", "")
    if not two_sided and _THIS_YEAR_TOTAL.fullmatch(col):
        return "total"     # the first column of 收入决算表 / 支出决算表 is the table total
    if "机关运行经费" in col and not sangong:
        return "operating_expenses"
    if "预留机动" in col:
        return "reserve"
    if _CARRYFORWARD.search(col):
        return "carryforward"
    return None


@lru_cache(maxsize=1024)
def _names_a_role(columns: tuple[str, ...], two_sided: bool, sangong: bool) -> bool:
    return any(_name_role(col, two_sided, sangong) is not None for col in columns)


def _refine_names(table: Table) -> None:
    two_sided = table.kind in (TableKind.summary, TableKind.fiscal_summary)
    sangong = table.kind == TableKind.sangong
    # every cell's column is one of the table's columns or a bare 列N (which names no role): when no
    # column names a role, there is no cell to visit
    if not _names_a_role(tuple(table.columns), two_sided, sangong):
        return
    decided: dict[str, str | None] = {}   # per column: a table has few columns and many cells
    for row in table.rows:
        for cell in row.cells:
            col = cell.column
            if col not in decided:
                decided[col] = _name_role(col, two_sided, sangong)
            role = decided[col]
            if role is not None:
                cell.role = role


def _refine_codes(table: Table) -> None:
    if table.kind != TableKind.generic:
        return
    for row in table.rows:
        if row.code_kind not in ("unit", "") or not row.code or row.code_raw.startswith("0"):
            continue
        if _ECON.match(row.code):
            row.code_kind = "economic"
        elif _FUNC.match(row.code):
            row.code_kind = "functional"


def refine_table(table: Table) -> Table:
    """Adjust roles and code kinds that need the whole table (see the module docstring); returns it."""
    _refine_pairs(table)
    if table.kind == TableKind.sangong:
        _refine_sangong(table)
    _refine_names(table)
    _refine_codes(table)
    return table
