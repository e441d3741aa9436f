"""The document's key figures, read from its tables once and shared by the rules: 收入总计, 本年支出合计,
each table's total row, the amounts of a column role (基本支出, 人员经费 …), functional class sums.

Rows are read as repaired: a cell of a row found printed a column off counts in the column it belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Amount, Table, TableKind, TableRow
from ..tables.columns import common_caption, role_of
from .engine import Context
from .structure import (
    FUNCTIONAL_KINDS,
    Node,
    Side,
    class_of_label,
    parse_side,
    row_tree,
    source_of_label,
    walk,
)

FISCAL_SOURCES = {"gp", "gov_fund", "state_capital"}
_TOTAL_KEYS = ("资金总额",)


def table_of(ctx: Context, kind: TableKind) -> Table | None:
    """The first non-empty table of a kind."""
    first = ctx.cache.get("first_of_kind")
    if first is None:   # one pass over the tables per document
        first = ctx.cache["first_of_kind"] = {}
        for t in ctx.tables:
            if not t.empty and t.kind not in first:
                first[t.kind] = t
    return first.get(kind)  # type: ignore[union-attr]


def tree(ctx: Context, table: Table) -> tuple[Node, list[TableRow]]:
    key = ("tree", id(table))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = row_tree(table)
    return got  # type: ignore[return-value]


def tree_nodes(ctx: Context, table: Table) -> list[Node]:
    """`walk` of the table's row tree, listed once per document (several rules go through it)."""
    key = ("nodes", id(table))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = walk(tree(ctx, table)[0])
    return got  # type: ignore[return-value]


def sides(ctx: Context, table: Table) -> tuple[Side, Side]:
    key = ("sides", id(table))
    got = ctx.memo.get(key)
    if got is None:
        income: list[TableRow] = []
        expenditure: list[TableRow] = []
        for r in table.rows:   # (each row's side read once)
            side = r.side
            if side == "income":
                income.append(r)
            elif side == "expenditure":
                expenditure.append(r)
        got = ctx.memo[key] = (parse_side(income), parse_side(expenditure))
    return got  # type: ignore[return-value]


@dataclass
class ColumnScan:
    """What a table's cells say about its columns, read in one pass (several rules need one or another)."""

    first_role: dict[str, str]   # column -> the role of its first cell
    role: dict[str, str]         # column -> the first role given to one of its cells
    columns: set[str]            # columns printed in rows (of the expenditure side, for fiscal_summary)


def column_scan(ctx: Context, table: Table) -> ColumnScan:
    key = ("scan", id(table))
    got = ctx.memo.get(key)
    if got is None:
        first: dict[str, str] = {}
        roles: dict[str, str] = {}
        side_only = table.kind == TableKind.fiscal_summary
        columns: set[str] = set()   # (filled here for fiscal_summary only: else every printed column)
        for r in table.rows:
            if side_only and r.side == "expenditure":
                columns.update([c.column for c in r.cells])
            for c in r.cells:
                col = c.column
                if col in roles:
                    continue   # its first cell and its first role are known (most cells)
                role = c.role
                if col not in first:
                    first[col] = role
                if role:
                    roles[col] = role
        got = ctx.memo[key] = ColumnScan(first, roles, columns if side_only else set(first))
    return got  # type: ignore[return-value]


def column_roles(ctx: Context, table: Table) -> dict[str, str]:
    """Column path -> role, as the extractor assigned it (falling back to its naming rules for columns in
    which nothing is printed)."""
    key = ("roles", id(table))
    roles = ctx.memo.get(key)
    if roles is None:
        roles = dict(column_scan(ctx, table).role)
        caption = common_caption(list(table.columns))
        for path in table.columns:
            roles.setdefault(path, role_of(table.kind, path, caption))
        ctx.memo[key] = roles
    return roles  # type: ignore[return-value]


def cells(ctx: Context, table: Table, row: TableRow) -> list[tuple[str, str, Amount]]:
    """(column, role, amount) of a row's cells, each in the column it belongs to."""
    if "ready" not in ctx.cache:
        ctx.ready()
    # memoised per row; a row found shifted later (ctx.moves grows) is read again
    tid, rid = id(table), id(row)
    key = (tid, rid)
    hit = ctx.row_cells.get(key)
    if hit is not None and hit[0] == len(ctx.moves):
        return hit[1]
    roles = ctx.memo.get(("roles", tid)) or column_roles(ctx, table)
    if rid in ctx.shifted_rows:   # only such rows have moves
        moves = ctx.moves
        out = []
        for c in row.cells:
            col = moves.get((rid, c.column), c.column)
            out.append((col, roles.get(col, c.role) if col != c.column else (c.role or roles.get(col, "")), c.amount))
    else:
        out = [(c.column, c.role or roles.get(c.column, ""), c.amount) for c in row.cells]
    ctx.row_cells[key] = (len(ctx.moves), out)
    return out


def has_role(ctx: Context, table: Table, role: str) -> bool:
    key = ("role_set", id(table))
    present = ctx.memo.get(key)
    if present is None:
        present = ctx.memo[key] = frozenset(column_roles(ctx, table).values())
    return role in present  # type: ignore[operator]


_ROLE_PARTS = {"personnel": ("wages", "family"), "public": ("goods", "capital")}


def _wanted(ctx: Context, table: Table, role: str) -> tuple[str, ...] | None:
    """The roles whose cells make up `role` in this table (see role_amounts), once per table and role."""
    key = ("wanted", id(table), role)
    got = ctx.memo.get(key, ctx)
    if got is ctx:
        got = ctx.memo[key] = (role,) if has_role(ctx, table, role) else \
            tuple(r for r in _ROLE_PARTS.get(role, ()) if has_role(ctx, table, r)) or None
    return got  # type: ignore[return-value]


def role_amounts(ctx: Context, table: Table | None, row: TableRow | None, role: str) -> list[Amount] | None:
    """The amounts that make up `role` in `row` ([] = printed blank, i.e. 0); None when the table has no
    such column (nothing can be said). 人员经费/公用经费 fall back to their economic-class columns; the total
    falls back to a 资金总额 column, then to the first column (templates print 合计/总计 first)."""
    if table is None or row is None:
        return None
    got = cells(ctx, table, row)
    wanted = ctx.memo.get(("wanted", id(table), role), ctx)
    if wanted is ctx:
        wanted = _wanted(ctx, table, role)
    if role == "total":
        if wanted is not None:   # (for the total: the table has a total column)
            for _, r, a in got:
                if r == "total":
                    return [a]
            return []
        keyed = [a for col, r, a in got if any(k in col for k in _TOTAL_KEYS)]
        if keyed or not table.columns:
            return keyed[:1] or None
        return [a for col, r, a in got if col == table.columns[0]]
    if wanted is None:
        return None
    if len(wanted) == 1:
        one = wanted[0]
        return [a for _, r, a in got if r == one]
    return [a for _, r, a in got if r in wanted]


def role_amount(ctx: Context, table: Table | None, row: TableRow | None, role: str, prefer: str = "") -> Amount | None:
    """One cell of a role (a column whose path contains `prefer` first, e.g. 本年拨款 before 结转结余)."""
    if table is None or row is None:
        return None
    got = [(col, a) for col, r, a in cells(ctx, table, row) if r == role]
    for col, a in got:
        if prefer and prefer in col:
            return a
    return got[0][1] if got else None


def total_row(ctx: Context, table: Table | None) -> TableRow | None:
    """The table's total row; without one, its single top-level department row."""
    if table is None:
        return None
    root, _ = tree(ctx, table)
    if root.row is not None:
        return root.row
    top = [n for n in root.children if n.row is not None and n.row.cells]
    if len(top) == 1 and top[0].kind == "unit":
        return top[0].row
    return None


def side_total(ctx: Context, table: Table | None, which: str, side_name: str = "expenditure") -> Amount | None:
    """收入/支出 总计 ('grand') or 本年合计 ('current') of a two-sided table (its 合计 column)."""
    if table is None:
        return None
    inc, exp = sides(ctx, table)
    side = inc if side_name == "income" else exp
    row = side.grand if which == "grand" else (side.current or (side.grand if not side.carry else None))
    if row is None or not row.cells:
        return None
    got = cells(ctx, table, row)
    return next((a for _, r, a in got if r == "total"), got[0][2])


def fiscal_only(ctx: Context) -> bool | None:
    """True when every income source with money is a fiscal appropriation (一般公共预算/政府性基金/国有资本经营),
    so functional tables by fund must add up to the all-funds table; None when the document does not say."""
    summary = table_of(ctx, TableKind.summary)
    if summary is None:
        return None
    inc, _ = sides(ctx, summary)
    rows = list(inc.items) + [r for r, _ in inc.carry]
    if not rows:
        return None
    for r in rows:
        if any(c.amount.value for c in r.cells) and source_of_label(r.label) not in FISCAL_SOURCES:
            return False
    return True


def functional_top_nodes(ctx: Context, table: Table) -> list[Node]:
    """Classification rows that are not under another classification row (over all units)."""
    key = ("top_nodes", id(table))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = [n for n in tree_nodes(ctx, table)
                               if n.kind == "code" and n.parent_kind != "code"]
    return got  # type: ignore[return-value]


def code_sums(ctx: Context, table: Table, level: int, role: str = "total") -> dict[str, list[Amount]]:
    """Amounts of `role` per code prefix of `level` digits (3 = 类), from the outermost rows, all units.
    Several rules ask for the same sums: they are read once per document (and again if a row moves)."""
    key = ("code_sums", id(table), level, role, len(ctx.moves))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = _code_sums(ctx, table, level, role)
    return got  # type: ignore[return-value]


def _code_sums(ctx: Context, table: Table, level: int, role: str) -> dict[str, list[Amount]]:
    out: dict[str, list[Amount]] = {}
    for node in functional_top_nodes(ctx, table):
        if node.row is None or len(node.code) < level:
            continue
        amounts = role_amounts(ctx, table, node.row, role)
        if amounts is None:
            continue
        out.setdefault(node.code[:level], []).extend(amounts)
    return out


def summary_class_rows(ctx: Context, table: Table) -> dict[str, list[TableRow]]:
    """Expenditure-side class rows of a two-sided table, by 类 code (read once per table)."""
    key = ("class_rows", id(table))
    got = ctx.memo.get(key)
    if got is None:
        _, exp = sides(ctx, table)
        got = ctx.memo[key] = {}
        for r in exp.items:
            code = class_of_label(r.label)
            if code:
                got.setdefault(code, []).append(r)
    return got  # type: ignore[return-value]


__all__ = ["FUNCTIONAL_KINDS", "table_of", "tree", "sides", "cells", "role_amounts", "role_amount", "total_row",
           "side_total", "fiscal_only", "functional_top_nodes", "code_sums", "summary_class_rows"]
