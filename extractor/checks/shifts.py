"""Rows printed a column off (a cell dropped or doubled in conversion): found by the row's own identities.

A row whose header identities (合计 = 基本 + 项目 …) fail, but would all hold if a run of its cells moved one
column left or right, is reported once as `shifted_column`, naming the column each value belongs to. The
other rules then read that row as repaired (`Context.moves`), so one defect is reported once; the extracted
values themselves are never changed."""

from __future__ import annotations

from decimal import Decimal

from ..models import Amount, Finding, Table, TableKind, TableRow
from .engine import STEP, ZERO, Context, row_name, table_name
from .figures import column_scan
from .structure import FUNCTIONAL_KINDS, ColumnIdentity, column_identities, column_name

ROW_RULES: dict[TableKind, str] = {**{k: "functional.row_parts" for k in FUNCTIONAL_KINDS},
                                   TableKind.gp_basic: "basic.row_parts",
                                   **{k: "sources.row_parts" for k in (TableKind.income, TableKind.economic,
                                                                       TableKind.projects, TableKind.project_performance,
                                                                       TableKind.fiscal_summary)}}
MAX_BLOCK = 8


def identity_columns(table: Table) -> list[str]:
    """The amount columns row identities are about (the expenditure side of a two-sided table)."""
    return table.columns[1:] if table.kind == TableKind.fiscal_summary else list(table.columns)


def identities(ctx: Context, table: Table) -> list[ColumnIdentity]:
    """The header's identities; a column printed in rows but missing from the header (its name not
    understood) makes every identity it could belong to unknown, so none is invented."""
    key = ("identities", id(table))
    got = ctx.memo.get(key)
    if got is None:
        paths = identity_columns(table)
        scan = column_scan(ctx, table)
        extra = scan.columns.difference(paths)
        if table.kind != TableKind.fiscal_summary:
            extra.discard("收入/金额")
        got = ctx.memo[key] = column_identities(table, paths + sorted(extra), scan.first_role)
    return got  # type: ignore[return-value]


def _holds(values: dict[str, Decimal], ident: ColumnIdentity) -> bool:
    """total = Σ parts within the printed rounding (±0.01 per non-zero part)."""
    total, nonzero = ZERO, 0
    for p in ident.parts:
        v = values.get(p)
        if v is not None:
            total += v
            if v:
                nonzero += 1
    diff = abs(values.get(ident.total, ZERO) - total)
    return not diff or diff <= STEP * max(1, nonzero)


def _all_hold(values: dict[str, Decimal], idents: list[ColumnIdentity]) -> bool:
    """`_holds` for every identity (inlined: this runs for every row of every table)."""
    get = values.get
    for ident in idents:
        total, nonzero = ZERO, 0
        for p in ident.parts:
            v = get(p)
            if v is not None:
                total += v
                if v:
                    nonzero += 1
        diff = abs(get(ident.total, ZERO) - total)
        if diff and diff > STEP * (nonzero or 1):
            return False
    return True


def find_row_shift(row: TableRow, order: list[str], idents: list[ColumnIdentity]) -> dict[str, str] | None:
    """printed column -> column it belongs to, for the smallest run of cells whose move by one column makes
    every identity of the row hold; None if the row adds up or no such move exists."""
    values = {c.column: c.amount.value for c in row.cells}
    if _all_hold(values, idents):
        return None
    index = {col: i for i, col in enumerate(order)}
    allowed = {col for i in idents for col in (i.total, *i.parts)}
    allowed_at = {i for i, col in enumerate(order) if col in allowed}   # positions of those columns
    cells = sorted((c for c in row.cells if c.column in index), key=lambda c: index[c.column])
    at = [index[c.column] for c in cells]   # each cell's position (ascending)
    occupied = set(at)
    n = len(cells)
    # A dropped or doubled cell moves everything after it (or before it): try the row's tail runs first,
    # then its head runs, then any run, shortest first.
    spans = [(i, n) for i in range(n - 1, -1, -1)] + [(0, j) for j in range(1, n)]
    spans += [(i, i + k) for k in range(1, min(MAX_BLOCK, n) + 1) for i in range(n - k + 1)]
    for start, end in spans:
        block = cells[start:end]
        if not block or len(block) > MAX_BLOCK:
            continue
        positions = at[start:end]
        others = occupied.difference(positions)   # cells that stay where they are
        for d in (1, -1):
            if positions[0] + d < 0 or positions[-1] + d >= len(order):
                continue   # (positions ascend: the first and last are the extremes)
            targets = [p + d for p in positions]
            if not others.isdisjoint(targets):
                continue   # a target is taken by a cell that does not move
            if not allowed_at.issuperset(targets):
                continue   # a target column takes part in no identity
            moved = dict(values)
            for c in block:
                moved.pop(c.column)
            for c, t in zip(block, targets, strict=True):
                moved[order[t]] = c.amount.value
            if _all_hold(moved, idents):
                return {c.column: order[t] for c, t in zip(block, targets, strict=True)}
    return None


def exact_reading(row: TableRow, idents: list[tuple[str, tuple[str, ...]]]) -> list[Amount] | None:
    """When every identity (total column, part columns) of the row holds exactly, in one unit (the usual
    case, where there is nothing to find), the amounts they compare (each identity's total, then its parts)
    as row_parts records them; else None."""
    by_col = {c.column: c.amount for c in row.cells}
    amounts = iter(by_col.values())
    unit = next(amounts).unit
    for a in amounts:
        if a.unit != unit:
            return None
    used: list[Amount] = []
    for total_col, parts in idents:
        total = by_col.get(total_col)
        if total is not None:
            used.append(total)
        got = None   # Σ parts (no Decimal addition to a zero first: they are what this costs)
        for p in parts:
            a = by_col.get(p)
            if a is not None:
                used.append(a)
                got = a.value if got is None else got + a.value
        if got is None:
            if total is not None and total.value:
                return None
        elif got != (total.value if total is not None else ZERO):
            return None
    return used


def _row_shifts(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    # rows whose identities all hold exactly: row_parts need not check them again
    exact: dict[int, list[Amount]] = ctx.cache.setdefault("exact_rows", {})  # type: ignore[assignment]
    for table in ctx.tables:
        rule_id = ROW_RULES.get(table.kind)
        if rule_id is None or table.empty:
            continue
        idents = identities(ctx, table)
        if not idents:
            continue
        order = identity_columns(table)
        checks = [(i.total, i.parts) for i in idents]
        expenditure_only = table.kind == TableKind.fiscal_summary
        for row in table.rows:
            if not row.cells or (expenditure_only and row.side != "expenditure"):
                continue
            used = exact_reading(row, checks)
            if used is not None:
                exact[id(row)] = used   # (so no shift either)
                continue
            moves = find_row_shift(row, order, idents)
            if not moves:
                continue
            for printed, target in moves.items():
                ctx.moves[(id(row), printed)] = target
            ctx.shifted_rows.add(id(row))
            moved = [c for c in row.cells if c.column in moves]
            what = "，".join(f"{c.amount.raw} 印在「{column_name(c.column)}」应属于「{column_name(moves[c.column])}」"
                            for c in moved)
            out.append(ctx.finding(rule_id, "shifted_column",
                                   f"{table_name(table)}「{row_name(row)}」一行错列（漏印或多印一格）：{what}；"
                                   f"移回一列后本行合计与各分项相符", [c.amount for c in row.cells],
                                   actual=moved[0].amount.value))
    return out


def row_shift_findings(ctx: Context) -> list[Finding]:
    """Computed once, before any rule reads a row by its columns."""
    ctx.ready()
    return ctx.cache["row_shifts"]  # type: ignore[return-value]
