"""The document's key figures, read from its tables once and shared by the rules: 收入总计, 本年支出合计,
each table's total row, the amounts of a column role (基本支出, 人员经费 …), functional class sums."""

from __future__ import annotations

from ..models import Amount, Table, TableKind, TableRow
from .engine import Context
from .structure import Node, Side, class_of_label, parse_side, row_tree, source_of_label, total_cell, walk

FUNCTIONAL_KINDS = (TableKind.expenditure, TableKind.gp_expenditure, TableKind.gov_fund, TableKind.state_capital)
FISCAL_SOURCES = {"gp", "gov_fund", "state_capital"}


def table_of(ctx: Context, kind: TableKind) -> Table | None:
    """The first non-empty table of a kind."""
    return next((t for t in ctx.doc.tables_of(kind) if not t.empty), None)


def tree(ctx: Context, table: Table) -> tuple[Node, list[TableRow]]:
    return ctx.once(f"tree:{id(table)}", lambda: row_tree(table))  # type: ignore[return-value]


def sides(ctx: Context, table: Table) -> tuple[Side, Side]:
    def compute():
        return (parse_side([r for r in table.rows if r.side == "income"]),
                parse_side([r for r in table.rows if r.side == "expenditure"]))
    return ctx.once(f"sides:{id(table)}", compute)  # type: ignore[return-value]


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


def has_role(table: Table, role: str) -> bool:
    return any(c.role == role for r in table.rows for c in r.cells)


_ROLE_PARTS = {"personnel": ("wages", "family"), "public": ("goods", "capital")}


def role_amounts(table: Table, row: TableRow | None, role: str) -> list[Amount] | None:
    """The amounts that make up `role` in `row` ([] = printed blank, i.e. 0); None when the table has no
    such column (nothing can be said). 人员经费/公用经费 fall back to their economic-class columns."""
    if row is None:
        return None
    if role == "total":
        cell = total_cell(table, row)
        if cell is not None:
            return [cell.amount]
        return [] if has_role(table, "total") or table.columns else None
    roles = (role,) if has_role(table, role) else tuple(r for r in _ROLE_PARTS.get(role, ()) if has_role(table, r))
    if not roles:
        return None
    return [c.amount for c in row.cells if c.role in roles]


def side_total(ctx: Context, table: Table | None, which: str, side_name: str = "expenditure") -> Amount | None:
    """收入/支出 总计 ('grand') or 本年合计 ('current') of a two-sided table (first amount column)."""
    if table is None:
        return None
    inc, exp = sides(ctx, table)
    side = inc if side_name == "income" else exp
    row = side.grand if which == "grand" else (side.current or (side.grand if not side.carry else None))
    if row is None or not row.cells:
        return None
    cell = next((c for c in row.cells if c.role == "total"), row.cells[0])
    return cell.amount


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
    root, _ = tree(ctx, table)
    return [n for n in walk(root) if n.kind == "code" and (n.parent is None or n.parent.kind != "code")]


def code_sums(ctx: Context, table: Table, level: int, role: str = "total") -> dict[str, list[Amount]]:
    """Amounts of `role` per code prefix of `level` digits (3 = 类), from the outermost rows, all units."""
    out: dict[str, list[Amount]] = {}
    for node in functional_top_nodes(ctx, table):
        if node.row is None or len(node.code) < level:
            continue
        amounts = role_amounts(table, node.row, role)
        if amounts is None:
            continue
        out.setdefault(node.code[:level], []).extend(amounts)
    return out


def summary_class_rows(ctx: Context, table: Table) -> dict[str, list[TableRow]]:
    """Expenditure-side class rows of a two-sided table, by 类 code."""
    _, exp = sides(ctx, table)
    out: dict[str, list[TableRow]] = {}
    for r in exp.items:
        code = class_of_label(r.label)
        if code:
            out.setdefault(code, []).append(r)
    return out
