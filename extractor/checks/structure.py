"""How a table's numbers relate: column groups (合计 = Σ parts), the row tree (总计 > 单位 > 类 > 款 > 项 / 项目),
the two sides of 收支总体情况表-style tables, and the names of functional classes and income sources.

Everything here reads the extracted records only; nothing changes them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..models import Table, TableKind, TableRow

FUNCTIONAL_KINDS = (TableKind.expenditure, TableKind.gp_expenditure, TableKind.gov_fund, TableKind.state_capital)

# Column names that mean "the total of this group" (小计 of a group, 合计/总计 of the table, 资金总额 of a project).
GROUP_TOTALS = {"小计", "合计", "总计", "资金总额", "金额合计", "预算数", "金额", "本年合计"}
UNKNOWN_COLUMN = re.compile(r"^列\d+$")
OF_WHICH = re.compile(r"^其中")

# Roles that belong under 基本支出 / 项目支出 when a template prints them as flat columns.
BASIC_PART_ROLES = {"personnel", "public", "wages", "family", "goods", "capital"}
PROJECT_PART_ROLES = {"project_operating", "project_specific"}

_CN_NUM = "一二三四五六七八九十百零〇"
_LEVELS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^[{_CN_NUM}]+\s*[、.．]")),
    (2, re.compile(rf"^[（(]\s*[{_CN_NUM}]+\s*[)）]")),
    (3, re.compile(r"^\d+\s*[、.．](?!\d)")),
    (4, re.compile(r"^[（(]\s*\d+\s*[)）]")),
]
OF_WHICH_LEVEL = -1


_WS = re.compile(r"\s+")
_OF_WHICH_PREFIX = re.compile(r"^其中[：:]?")


@lru_cache(maxsize=16384)
def compact(text: str) -> str:
    return _WS.sub("", text or "")


@lru_cache(maxsize=16384)
def label_level(label: str) -> int:
    """Outline level of a row label: 一、=1, （一）=2, 1、=3, （1）=4, 其中… = -1 (of-which), unnumbered = 0."""
    s = compact(label)
    if OF_WHICH.match(s):
        return OF_WHICH_LEVEL
    for level, pattern in _LEVELS:
        if pattern.match(s):
            return level
    return 0


@lru_cache(maxsize=16384)
def strip_numbering(label: str) -> str:
    s = compact(label)
    s = _OF_WHICH_PREFIX.sub("", s)
    for _, pattern in _LEVELS:
        s = pattern.sub("", s)
    return s.strip("：:")


@lru_cache(maxsize=4096)
def column_name(path: str) -> str:
    """How a column is named in messages: its printed path, or 第N列 when the header was not understood."""
    m = UNKNOWN_COLUMN.match(path or "")
    return f"第{path[1:]}列" if m else (path or "金额")


def is_unknown_column(path: str) -> bool:
    return not path or bool(UNKNOWN_COLUMN.match(path))


# ---- column groups ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnIdentity:
    group: str            # the group's path ('' for the whole row)
    total: str            # column path of the group's total
    parts: tuple[str, ...]  # column paths whose sum is the total


def _nested_paths(paths: tuple[str, ...], roles: dict[str, str]) -> dict[str, str]:
    """Printed path -> structural path. Flat columns with a known role are nested under 基本支出/项目支出 so a
    flattened header ('合计 | 基本支出 | 人员经费 | 公用经费 | 项目支出') still yields the right groups."""
    flat_basic = next((p for p in paths if roles.get(p) == "basic" and "/" not in p), None)
    flat_project = next((p for p in paths if roles.get(p) == "project" and "/" not in p), None)
    out = {}
    for p in paths:
        role = roles.get(p, "")
        if "/" in p:
            out[p] = p
        elif p == flat_basic:
            out[p] = f"{p}/小计"
        elif p == flat_project:
            out[p] = f"{p}/小计"
        elif flat_basic and role in BASIC_PART_ROLES:
            out[p] = f"{flat_basic}/{p}"
        elif flat_project and role in PROJECT_PART_ROLES:
            out[p] = f"{flat_project}/{p}"
        else:
            out[p] = p
    return out


def column_identities(table: Table, paths: list[str] | None = None,
                      first_role: dict[str, str] | None = None) -> list[ColumnIdentity]:
    """Row-wise identities the header implies: in each group the 小计/合计 column = Σ the other columns
    (a sub-group counts by its own 小计, or by its columns when it has none); '其中' columns are parts of
    a part and are left out. Identities that would involve a column whose header was not understood
    (列N) are not produced: a wrong guess would invent findings."""
    paths = [p for p in (paths if paths is not None else table.columns) if p]
    if len(paths) < 2:
        return []
    if first_role is None:
        first_role = {}   # the role of each column's first cell
        for r in table.rows:
            for c in r.cells:
                first_role.setdefault(c.column, c.role)
    return list(_identities(tuple(paths), tuple([first_role.get(p, "") for p in paths])))


@lru_cache(maxsize=2048)
def _identities(paths: tuple[str, ...], roles: tuple[str, ...]) -> tuple[ColumnIdentity, ...]:
    """`column_identities` from what it depends on: the paths and their roles (tables of one template
    share them)."""
    structural = _nested_paths(paths, dict(zip(paths, roles, strict=True)))
    back = {v: k for k, v in structural.items()}
    tree: dict[tuple[str, ...], list[str]] = {}
    for p in paths:
        segs = tuple(structural[p].split("/"))
        for depth in range(len(segs)):
            children = tree.setdefault(segs[:depth], [])
            if segs[depth] not in children:
                children.append(segs[depth])

    def is_leaf(prefix: tuple[str, ...]) -> bool:
        return "/".join(prefix) in back

    def total_child(prefix: tuple[str, ...]) -> str | None:
        for child in tree.get(prefix, []):
            if not is_leaf(prefix + (child,)) or (prefix + (child,)) in tree:
                continue
            if child in GROUP_TOTALS or (not prefix and ("合计" in child or "总计" in child)):
                return child
        return None

    def value_columns(prefix: tuple[str, ...]) -> list[str] | None:
        """Columns whose sum is the value of the node at prefix (None if unknown columns are involved)."""
        if is_leaf(prefix) and prefix not in tree:
            p = back["/".join(prefix)]
            return None if is_unknown_column(p) else [p]
        tot = total_child(prefix)
        if tot is not None:
            return [back["/".join(prefix + (tot,))]]
        cols: list[str] = []
        for child in tree.get(prefix, []):
            if OF_WHICH.match(child):
                continue
            sub = value_columns(prefix + (child,))
            if sub is None:
                return None
            cols.extend(sub)
        return cols

    out: list[ColumnIdentity] = []
    for prefix, children in tree.items():
        tot = total_child(prefix)
        if tot is None:
            continue
        parts: list[str] = []
        unknown = False
        for child in children:
            if child == tot or OF_WHICH.match(child):
                continue
            sub = value_columns(prefix + (child,))
            if sub is None:
                unknown = True
                break
            parts.extend(sub)
        total_path = back["/".join(prefix + (tot,))]
        if unknown or not parts or is_unknown_column(total_path):
            continue
        out.append(ColumnIdentity("/".join(prefix), total_path, tuple(parts)))
    return tuple(out)


# ---- the row tree ----------------------------------------------------------------------------------------

@dataclass(eq=False, slots=True)
class Node:
    row: TableRow | None
    kind: str                 # root | unit | code | item
    code: str = ""
    children: list[Node] = field(default_factory=list)
    # the parent's kind, not the parent: a link back up would make every tree a reference cycle, left for
    # the cyclic garbage collector to find (with the rows of merged tables it holds) after each document
    parent_kind: str = ""


def row_tree(table: Table) -> tuple[Node, list[TableRow]]:
    """Arrange a one-sided table's rows: the total row on top, then department/unit rows (a unit under the
    unit whose code prefixes it), then classification rows under their unit (款 under its 类, 项 under its
    款) and project rows under their unit. Returns the root and any further total rows (printed again)."""
    totals = [r for r in table.rows if r.is_total and r.cells]
    root = Node(totals[0] if totals else None, "root")
    unit_of: dict[str, Node] = {}   # unit code -> its first node
    current_unit: Node | None = None
    # the current unit's classification and numbered rows: the first node of each code, and the numbered
    # (item) ones in order — a row's parent is the node of its longest proper code prefix
    first_of: dict[str, Node] = {}
    lengths: list[int] = []   # the lengths of first_of's codes, longest first (a prefix can only be one of them)
    outline: list[tuple[int, Node]] = []
    for row in table.rows:
        if row.is_total:
            continue
        kind, code = row.code_kind, row.code
        # classification codes never start with 0; a leading-zero code is a department/unit code
        if code and (kind == "unit" or (code[0] == "0" and kind in ("functional", "economic", ""))):
            parent = root   # under the unit of its longest proper code prefix (the first of that code)
            for k in range(len(code) - 1, 0, -1):
                got = unit_of.get(code[:k])
                if got is not None:
                    parent = got
                    break
            node = Node(row, "unit", code, [], parent.kind)
            parent.children.append(node)
            unit_of.setdefault(code, node)
            current_unit, first_of, lengths, outline = node, {}, [], []
            continue
        classified = code and kind in ("functional", "economic")
        if not classified and not row.cells:
            continue  # a header or label line with no numbers
        home = current_unit or root
        if classified and code.isdecimal():   # digits only
            parent = home
            n = len(code)
            for k in lengths:   # the longest proper prefix that has a node
                if k < n:
                    got = first_of.get(code[:k])
                    if got is not None:
                        parent = got
                        break
            node = Node(row, "code", code, [], parent.kind)
            if code not in first_of:
                first_of[code] = node
                _add_length(lengths, n)
        else:
            # uncoded rows follow their outline numbering (一、 > （一） > 1、); '其中' lines and unnumbered
            # lines under a numbered one are breakdowns, not summed again
            level = label_level(row.label)
            if level == OF_WHICH_LEVEL or (level == 0 and outline):
                continue
            parent = home
            if level > 0:
                # the latest numbered row of a higher level; `outline` keeps only rows that can still be
                # that (levels increasing: a row hides the earlier ones of its level or deeper)
                while outline and outline[-1][0] >= level:
                    outline.pop()
                if outline:
                    parent = outline[-1][1]
            node = Node(row, "item", code, [], parent.kind)
            if level > 0:
                if code not in first_of:
                    first_of[code] = node
                    _add_length(lengths, len(code))
                outline.append((level, node))
        parent.children.append(node)
    return root, [r for r in totals[1:] if compact(r.label) == compact(totals[0].label)]


def _add_length(lengths: list[int], n: int) -> None:
    """Keep `lengths` the distinct code lengths seen, in decreasing order."""
    if n not in lengths:
        lengths.append(n)
        lengths.sort(reverse=True)


def walk(node: Node) -> list[Node]:
    """The nodes under `node` (itself first), depth first in print order."""
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        if n.children:
            stack.extend(reversed(n.children))
    return out


# ---- two-sided tables (收支总体情况表, 财政拨款收支总体情况表) ------------------------------------------------

_GRAND = re.compile(r"(收入|支出)总计")
_SUM = re.compile(r"(收入|支出)合计")
_CURRENT = re.compile(r"^本年(收入|支出|拨款)")
_CARRY = re.compile(r"上年.{0,6}结转|结转结余|年终结转|结余")


@dataclass
class Side:
    """One side of a two-sided table: grand = current + carry; current = Σ items (grand = Σ items + carry
    when no 本年 line is printed)."""

    rows: list[TableRow]
    grand: TableRow | None = None
    current: TableRow | None = None
    items: list[TableRow] = field(default_factory=list)
    carry: list[tuple[TableRow, list[TableRow]]] = field(default_factory=list)  # (row, its breakdown rows)


@lru_cache(maxsize=16384)
def _side_name(label: str) -> str:
    """A two-sided table row's name, from its label."""
    if "/" in label and compact(label).endswith(("小计", "合计")):
        label = label.split("/")[0]
    return strip_numbering(label)


def _top_items(rows: list[TableRow], idx: list[int]) -> list[int]:
    """The outermost entries among rows[idx]: of-which lines and breakdown lines are left out."""
    kept: list[int] = []
    levels: list[int] = []   # label_level of each kept row
    for i in idx:
        row = rows[i]
        if row.is_total:
            continue
        level = label_level(row.label)
        if level != OF_WHICH_LEVEL:
            kept.append(i)
            levels.append(level)
    idx = kept
    numbered = [level for level in levels if level > 0]
    if numbered:
        top = min(numbered)
        return [i for i, level in zip(idx, levels, strict=True) if level == top]
    # unnumbered: 'group/小计' stands for its group; the group's other 'group/x' lines are its breakdown
    with_total = {rows[i].label.split("/")[0] for i in idx
                  if "/" in rows[i].label and compact(rows[i].label).endswith(("小计", "合计"))}
    return [i for i in idx if "/" not in rows[i].label or compact(rows[i].label).endswith(("小计", "合计"))
            or rows[i].label.split("/")[0] not in with_total]


def parse_side(rows: list[TableRow]) -> Side:
    side = Side(rows)
    names = [_side_name(r.label) for r in rows]
    n = len(rows)
    grand_idx = next((i for i in range(n - 1, -1, -1) if _GRAND.search(names[i])), None)
    if grand_idx is None:
        grand_idx = next((i for i in range(n - 1, -1, -1)
                          if _SUM.search(names[i]) and not _CURRENT.match(names[i]) and rows[i].cells), None)
    current_idx = next((i for i, nm in enumerate(names) if _CURRENT.match(nm) and i != grand_idx), None)
    side.grand = rows[grand_idx] if grand_idx is not None else None
    side.current = rows[current_idx] if current_idx is not None else None
    levels = [label_level(r.label) for r in rows]
    fixed = {i for i in (grand_idx, current_idx) if i is not None}
    if current_idx is not None and levels[current_idx] >= 1:
        # '一、本年收入' heads its own breakdown: the deeper rows up to the next row at its level
        scope = []
        for i in range(current_idx + 1, n):
            if i in fixed or 1 <= levels[i] <= levels[current_idx] or rows[i].is_total:
                break
            scope.append(i)
    else:
        end = current_idx if current_idx is not None else (grand_idx if grand_idx is not None else n)
        scope = [i for i in range(end) if i not in fixed]
    side.items = [rows[i] for i in _top_items(rows, scope)]
    if current_idx is None:
        return side  # carry lines, if any, are items of the grand total
    in_scope = set(scope)
    carry_level: int | None = None
    for i in range(n):
        if i in fixed or i in in_scope or not _CARRY.search(names[i]) or rows[i].is_total:
            continue
        if levels[i] == OF_WHICH_LEVEL or (carry_level is not None and levels[i] > carry_level):
            continue
        carry_level = levels[i]
        breakdown = []
        for j in range(i + 1, n):
            if j in fixed or rows[j].is_total or (levels[j] >= 1 and levels[j] <= max(levels[i], 0)) \
                    or (levels[i] == 0 and levels[j] == 0):
                break
            breakdown.append(rows[j])
        side.carry.append((rows[i], [breakdown[j] for j in _top_items(breakdown, list(range(len(breakdown))))]))
    return side


# ---- names: functional classes, income sources -----------------------------------------------------------

# 政府收支分类科目 支出功能分类 类 (2024). Older names (医疗卫生与计划生育) map to the same code.
FUNCTIONAL_CLASSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "201": ("一般公共服务支出", ("一般公共服务",)),
    "202": ("外交支出", ("外交",)),
    "203": ("国防支出", ("国防",)),
    "204": ("公共安全支出", ("公共安全",)),
    "205": ("教育支出", ("教育",)),
    "206": ("科学技术支出", ("科学技术",)),
    "207": ("文化旅游体育与传媒支出", ("传媒",)),
    "208": ("社会保障和就业支出", ("社会保障和就业",)),
    "209": ("社会保险基金支出", ("社会保险基金",)),
    "210": ("卫生健康支出", ("卫生健康", "医疗卫生")),
    "211": ("节能环保支出", ("节能环保",)),
    "212": ("城乡社区支出", ("城乡社区",)),
    "213": ("农林水支出", ("农林水",)),
    "214": ("交通运输支出", ("交通运输",)),
    "215": ("资源勘探工业信息等支出", ("资源勘探",)),
    "216": ("商业服务业等支出", ("商业服务业",)),
    "217": ("金融支出", ("金融",)),
    "219": ("援助其他地区支出", ("援助其他地区",)),
    "220": ("自然资源海洋气象等支出", ("自然资源海洋气象",)),
    "221": ("住房保障支出", ("住房保障",)),
    "222": ("粮油物资储备支出", ("粮油物资储备",)),
    "223": ("国有资本经营预算支出", ("国有资本经营预算",)),
    "224": ("灾害防治及应急管理支出", ("灾害防治",)),
    "227": ("预备费", ("预备费",)),
    "229": ("其他支出", ("其他支出",)),
    "230": ("转移性支出", ("转移性支出",)),
    "231": ("债务还本支出", ("债务还本",)),
    "232": ("债务付息支出", ("债务付息",)),
    "233": ("债务发行费用支出", ("债务发行费用",)),
    "234": ("抗疫特别国债安排的支出", ("抗疫特别国债",)),
}
KNOWN_CLASSES = frozenset(FUNCTIONAL_CLASSES)


@lru_cache(maxsize=4096)
def class_of_label(label: str) -> str | None:
    """The 类 code a printed class name means ('八、社会保障和就业' -> '208'), or None."""
    name = strip_numbering(label)
    for code, (_, keys) in FUNCTIONAL_CLASSES.items():
        if any(k in name for k in keys):
            return code
    return None


def class_name(code: str) -> str:
    return FUNCTIONAL_CLASSES.get(code[:3], (code, ()))[0]


_SOURCES: list[tuple[str, re.Pattern[str]]] = [
    ("carry", re.compile(r"上年.{0,6}结转|结转结余")),
    ("gp", re.compile(r"一般公共预算")),
    ("gov_fund", re.compile(r"政府性基金")),
    ("state_capital", re.compile(r"国有资本经营")),
    ("special", re.compile(r"财政专户")),
    ("business", re.compile(r"事业单位经营|经营收入")),
    ("service", re.compile(r"事业收入")),
    ("superior", re.compile(r"上级补助")),
    ("affiliated", re.compile(r"附属单位")),
    ("transfer", re.compile(r"提前告知|转移支付")),
    ("other", re.compile(r"其他收入")),
]


@lru_cache(maxsize=4096)
def source_of_label(label: str) -> str | None:
    """The income source a label names (一般公共预算 / 政府性基金 / 事业收入 / 上年结转 …), or None."""
    name = strip_numbering(label)
    for key, pattern in _SOURCES:
        if pattern.search(name):
            return key
    return None
