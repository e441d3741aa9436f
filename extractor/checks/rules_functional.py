"""Row identities that the column header implies (合计 = 基本支出 + 项目支出; 基本支出 = 人员经费 + 公用经费 =
Σ economic-class columns; 总计 = Σ fund sources …), and the functional classification across tables."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from ..models import Amount, Finding, Table, TableKind
from .engine import ZERO, Context, row_name, rule, table_name
from .figures import (
    FUNCTIONAL_KINDS,
    code_sums,
    fiscal_only,
    functional_top_nodes,
    has_role,
    role_amount,
    role_amounts,
    summary_class_rows,
    table_of,
)
from .shifts import identities, row_shift_findings
from .structure import ColumnIdentity, class_name, column_name


def _short(path: str) -> str:
    parts = path.split("/")
    name = parts[-1] if parts[-1] not in ("小计", "合计") or len(parts) == 1 else parts[-2]
    return column_name(name) if name.startswith("列") else name


@lru_cache(maxsize=1024)
def _wording(ident: ColumnIdentity) -> tuple[str, str]:
    """How an identity is named in messages: its parts (「人员经费」+「公用经费」) and its total."""
    return "「" + "」+「".join(_short(p) for p in ident.parts) + "」", _short(ident.total)


def row_parts(ctx: Context, rule_id: str, kinds: tuple[TableKind, ...]) -> Iterator[Finding]:
    """Every row's group totals against the sum of the group's columns (see structure.column_identities).
    Rows found printed a column off are reported once as `shifted_column` and not checked again."""
    yield from (f for f in row_shift_findings(ctx) if f.rule == rule_id)
    shifted, pending = ctx.shifted_rows, ctx._pending
    exact: dict[int, list[Amount]] = ctx.cache["exact_rows"]  # type: ignore[assignment]
    for table in ctx.tables:
        if table.kind not in kinds or table.empty:
            continue
        column_idents = identities(ctx, table)
        if not column_idents:
            continue
        idents = None   # each identity's columns and wording: made for the first row read here (few are)
        tname = table_name(table)
        expenditure_only = table.kind == TableKind.fiscal_summary
        for row in table.rows:
            cells = row.cells
            if not cells or id(row) in shifted:
                continue   # (rows with moves are all in `shifted`: the others read as printed)
            if expenditure_only and row.side != "expenditure":
                continue
            used = exact.get(id(row))
            if used is not None:
                pending.extend(used)   # every identity holds (found while looking for shifted rows)
                continue
            if idents is None:
                idents = [(ident.total, ident.parts, *_wording(ident)) for ident in column_idents]
            by_col = {c.column: c.amount for c in cells}
            unit = cells[0].amount.unit
            one_unit = all(a.unit == unit for a in by_col.values())
            head = ""
            for total_col, part_cols, formula, total_name in idents:
                total = by_col.get(total_col)
                parts = []
                got = ZERO
                for p in part_cols:
                    a = by_col.get(p)
                    if a is not None:
                        parts.append(a)
                        got += a.value
                if total is None and not parts:
                    continue
                if one_unit and got == (total.value if total is not None else ZERO):
                    # adds up (what ctx.balanced finds, without building its lists)
                    if total is not None:
                        pending.append(total)
                    pending.extend(parts)
                    continue
                if ctx.balanced([total] if total is not None else [], parts):
                    continue
                head = head or f"{tname}「{row_name(row)}」的「"
                f = ctx.check_sum(rule_id, total, parts, f"{head}{total_name}」", formula)
                if f:
                    yield f


@rule("functional.row_parts", "支出表每行：合计 = 基本 + 项目；基本 = 人员 + 公用 = Σ 经济分类列")
def functional_row_parts(ctx: Context) -> Iterator[Finding]:
    """In 支出总体情况表, 一般公共预算支出情况表 and the 政府性基金/国有资本经营 tables, every row satisfies
    合计 = 基本支出 + 项目支出, 基本支出 = 人员经费 + 公用经费 = 工资福利 + 对个人和家庭的补助 + 商品和服务 + 资本性,
    项目支出 = Σ its categories (运转类, 特定目标类) — as far as the header prints those columns."""
    yield from row_parts(ctx, "functional.row_parts", FUNCTIONAL_KINDS)


@rule("basic.row_parts", "基本支出表每行：合计 = 人员经费 + 公用经费")
def basic_row_parts(ctx: Context) -> Iterator[Finding]:
    """In 一般公共预算基本支出表 every row's 合计 = 人员经费 + 公用经费."""
    yield from row_parts(ctx, "basic.row_parts", (TableKind.gp_basic,))


@rule("sources.row_parts", "按资金来源分列的表每行：总计 = Σ 各来源")
def sources_row_parts(ctx: Context) -> Iterator[Finding]:
    """收入总体情况表, 支出经济分类汇总表, 项目支出表, 项目绩效目标表 and the expenditure side of
    财政拨款收支总体情况表: every row's 总计/合计/资金总额 = Σ its fund-source columns (一般公共预算 by its 小计,
    '其中：财政拨款' not added again), and every group's 小计 = Σ its columns."""
    yield from row_parts(ctx, "sources.row_parts", (TableKind.income, TableKind.economic, TableKind.projects,
                                                    TableKind.project_performance, TableKind.fiscal_summary))


# ---- the functional classification across tables ----------------------------------------------------------

_ROLES = (("total", "合计"), ("basic", "基本支出"), ("project", "项目支出"))


def _by_code(ctx: Context, table: Table, role: str) -> dict[str, list[Amount]]:
    out: dict[str, list[Amount]] = {}
    for node in functional_top_nodes(ctx, table):
        amounts = role_amounts(ctx, table, node.row, role)
        if amounts is not None and node.row is not None:
            out.setdefault(node.code, []).extend(amounts)
    return out


@rule("functional.same_code", "同一功能科目在各表金额一致")
def functional_same_code(ctx: Context) -> Iterator[Finding]:
    """A functional code has the same amount wherever it is listed: in 支出总体情况表 (all funds) it equals the
    sum of the by-fund tables (一般公共预算支出情况表 + 政府性基金 + 国有资本经营) when every source of income is a
    fiscal appropriation; otherwise it can only be larger. Compared for 合计, 基本支出 and 项目支出, summed over
    units."""
    whole = table_of(ctx, TableKind.expenditure)
    by_fund = [t for t in (table_of(ctx, k) for k in FUNCTIONAL_KINDS[1:]) if t is not None]
    if whole is None or not by_fund:
        return
    exact = fiscal_only(ctx) is True
    names = "、".join(table_name(t) for t in by_fund)
    for role, role_name in _ROLES:
        if role_amounts(ctx, whole, whole.rows[0] if whole.rows else None, role) is None:
            continue
        mine = _by_code(ctx, whole, role)
        theirs: dict[str, list[Amount]] = {}
        for t in by_fund:
            for code, amounts in _by_code(ctx, t, role).items():
                theirs.setdefault(code, []).extend(amounts)
        if not mine or not theirs:
            continue
        for code in sorted(set(mine) | set(theirs)):
            f = ctx.compare("functional.same_code", mine.get(code, []), theirs.get(code, []),
                            lambda code=code, role_name=role_name: f"支出总体情况表 {code}（{class_name(code)}）「{role_name}」",
                            f"{names}中同一科目之和")
            if f is None or (not exact and f.difference is not None and f.difference > 0):
                continue  # other funds (事业收入 …) may add to the all-funds table
            yield f


@rule("functional.class_totals", "各功能分类（类）在汇总表与明细表一致")
def functional_class_totals(ctx: Context) -> Iterator[Finding]:
    """Each functional class (类) printed in 收支总体情况表 equals the sum of its rows in 支出总体情况表; in
    财政拨款收支总体情况表 its 一般公共预算 column equals 一般公共预算支出情况表 and its 政府性基金 column the
    政府性基金预算支出表 (classes matched by name: '八、社会保障和就业' is 208)."""
    pairs = [(TableKind.summary, "total", TableKind.expenditure),
             (TableKind.fiscal_summary, "gp", TableKind.gp_expenditure),
             (TableKind.fiscal_summary, "gov_fund", TableKind.gov_fund)]
    for summary_kind, role, detail_kind in pairs:
        summary, detail = table_of(ctx, summary_kind), table_of(ctx, detail_kind)
        if summary is None or detail is None:
            continue
        if role != "total" and not has_role(ctx, summary, role):
            continue  # this summary prints no such column
        classes = summary_class_rows(ctx, summary)
        sums = code_sums(ctx, detail, 3)
        if not sums or not classes:
            continue
        summary_name, detail_name = table_name(summary), table_name(detail)
        for code in sorted(set(classes) | set(sums)):
            printed: list[Amount] = []
            for r in classes.get(code, ()):
                if not r.cells:
                    continue   # a class printed blank (most of them): no cell to read
                amount = role_amount(ctx, summary, r, role) or (r.cells[0].amount if role == "total" else None)
                if amount is not None:
                    printed.append(amount)
            expected = sums.get(code)
            if not printed and expected is None:
                continue   # nothing printed on either side: compare has nothing to say
            f = ctx.compare("functional.class_totals", printed, expected or [],
                            lambda code=code, name=summary_name: f"{name} {class_name(code)}",
                            f"{detail_name}中 {code} 类各行之和")
            if f:
                yield f
