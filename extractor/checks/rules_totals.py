"""Totals: the two sides of 收支总体情况表 / 财政拨款收支总体情况表, table total = Σ rows, department = Σ units,
类 = Σ 款 = Σ 项 (the row tree), and the same total printed in different tables."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Finding, Table, TableKind
from .engine import Context, check_children, row_name, rule, table_name
from .figures import role_amount, role_amounts, side_total, sides, table_of, total_row, tree, tree_nodes
from .structure import Node

# One-sided tables whose rows form a tree (two-sided ones, 三公 and 整体绩效 have their own rules).
TREE_KINDS = (TableKind.income, TableKind.expenditure, TableKind.gp_expenditure, TableKind.gp_basic,
              TableKind.economic, TableKind.gov_fund, TableKind.state_capital, TableKind.projects,
              TableKind.project_performance)
TWO_SIDED = (TableKind.summary, TableKind.fiscal_summary)


def _tree_rule_id(node: Node) -> str:
    if node.kind == "root":
        return "table.total"
    if node.kind == "unit":
        return "units.sum" if any(c.kind == "unit" for c in node.children) else "units.items"
    if node.row is not None and node.row.code_kind == "functional":
        return "functional.hierarchy"
    return "economic.hierarchy"


def _tree_findings(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for table in ctx.tables:
        if table.kind not in TREE_KINDS or table.empty:
            continue
        root, repeated = tree(ctx, table)
        nodes = tree_nodes(ctx, table)
        units = [n.code for n in nodes if n.kind == "unit"]
        if len(units) != len(set(units)):
            continue  # one unit code on several rows: the codes were not read right, the tree would be invented
        for node in nodes:
            row = node.row
            if row is None or not node.children:
                continue
            kids = [c.row for c in node.children if c.row is not None]
            if not kids or not any(r.cells for r in kids):
                continue
            formula = "各行之和" if node.kind == "root" else "其下各行之和"
            out.extend(check_children(ctx, _tree_rule_id(node), table, row, kids,
                                      lambda t=table, r=row: f"{table_name(t)}「{row_name(r)}」", formula))
        for again in repeated:
            out.extend(check_children(ctx, "table.total", table, again, [root.row] if root.row else [],
                                      f"{table_name(table)} 重复的「{row_name(again)}」行", "首个合计行"))
    return out


def tree_findings(ctx: Context) -> list[Finding]:
    """All row-tree findings, computed once (they also mark rows found to be shifted a column)."""
    ctx.ready()
    return ctx.cache["tree_findings"]  # type: ignore[return-value]


def _with_id(ctx: Context, rule_id: str) -> Iterator[Finding]:
    yield from (f for f in tree_findings(ctx) if f.rule == rule_id)


@rule("table.total", "表的合计行 = 各行之和（逐列）")
def table_total(ctx: Context) -> Iterator[Finding]:
    """In every one-sided table (收入总体情况表, 支出总体情况表, 一般公共预算支出/基本支出表, 支出经济分类汇总表,
    政府性基金/国有资本经营支出表, 项目支出表, 项目绩效目标表) the 合计/总计 row equals, column by column, the sum
    of the outermost rows under it (department rows where printed, else 类/款/项 or project rows). A row whose
    cells, moved one column over, would make every column add up is reported once as `shifted_column`."""
    yield from _with_id(ctx, "table.total")


@rule("units.sum", "部门行 = Σ 所属单位行")
def units_sum(ctx: Context) -> Iterator[Finding]:
    """Per-unit rows (部门/单位代码, e.g. 070 and its 070001, 070002) add up to the department, column by column."""
    yield from _with_id(ctx, "units.sum")


@rule("units.items", "单位行 = Σ 其下科目/项目行")
def units_items(ctx: Context) -> Iterator[Finding]:
    """A department or unit row equals the sum of the classification or project rows printed under it."""
    yield from _with_id(ctx, "units.items")


@rule("functional.hierarchy", "功能分类：类 = Σ 款，款 = Σ 项")
def functional_hierarchy(ctx: Context) -> Iterator[Finding]:
    """Where a functional table prints several levels, each 类 row equals the sum of its 款 rows and each 款
    row the sum of its 项 rows (codes normalised to 3/5/7 digits), column by column."""
    yield from _with_id(ctx, "functional.hierarchy")


@rule("economic.hierarchy", "经济分类：类 = Σ 款")
def economic_hierarchy(ctx: Context) -> Iterator[Finding]:
    """Where an economic-classification table prints 类 rows (301 工资福利支出) above their 款 rows (30101 …),
    each 类 equals the sum of its 款, column by column."""
    yield from _with_id(ctx, "economic.hierarchy")


# ---- two-sided tables ------------------------------------------------------------------------------------

def _side_findings(ctx: Context) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {"summary.income_sources": [], "summary.expenditure_classes": [],
                                     "summary.carryover": []}
    for table in ctx.tables:
        if table.kind not in TWO_SIDED or table.empty:
            continue
        right = [c for c in table.columns[1:]] if table.kind == TableKind.fiscal_summary else None
        for side, rid, what in zip(sides(ctx, table), ("summary.income_sources", "summary.expenditure_classes"),
                                   ("收入", "支出"), strict=True):
            cols = right if (right and what == "支出") else None
            items = [r for r in side.items if r is not side.current]
            head = side.current or (side.grand if not side.carry else None)
            if head is not None and items:
                formula = "各收入来源之和" if what == "收入" else "各功能分类之和"
                out[rid].extend(check_children(ctx, rid, table, head, items,
                                               f"{table_name(table)}「{row_name(head)}」", formula, cols))
            if side.grand is not None and side.current is not None and side.grand is not side.current:
                parts = [side.current]
                for carry, breakdown in side.carry:
                    parts.extend([carry] if carry.cells or not breakdown else breakdown)
                out["summary.carryover"].extend(check_children(
                    ctx, "summary.carryover", table, side.grand, parts,
                    f"{table_name(table)}「{row_name(side.grand)}」", f"「{row_name(side.current)}」与结转结余之和",
                    cols))
    return out


def side_findings(ctx: Context) -> dict[str, list[Finding]]:
    ctx.ready()
    return ctx.cache["side_findings"]  # type: ignore[return-value]


@rule("summary.balance", "收入总计 = 支出总计")
def summary_balance(ctx: Context) -> Iterator[Finding]:
    """In 收支总体情况表 and 财政拨款收支总体情况表 the income side's 总计 equals the expenditure side's 总计."""
    for table in ctx.tables:
        if table.kind not in TWO_SIDED or table.empty:
            continue
        income = side_total(ctx, table, "grand", "income")
        spend = side_total(ctx, table, "grand", "expenditure")
        if income is not None or spend is not None:
            f = ctx.check_sum("summary.balance", spend, [income] if income else [],
                              f"{table_name(table)} 支出总计", "收入总计")
            if f:
                yield f


@rule("summary.income_sources", "本年收入合计 = Σ 各收入来源")
def summary_income_sources(ctx: Context) -> Iterator[Finding]:
    """本年收入合计 (or 一、本年收入) equals the sum of the income sources listed under it (一般公共预算, 政府性基金,
    事业收入 …); '其中' lines and unnumbered breakdown lines are parts of a source and are not added again."""
    yield from side_findings(ctx)["summary.income_sources"]


@rule("summary.expenditure_classes", "本年支出合计 = Σ 各功能分类")
def summary_expenditure_classes(ctx: Context) -> Iterator[Finding]:
    """本年支出合计 (or 一、本年支出) equals the sum of the functional classes listed (一般公共服务, 社会保障和就业 …),
    in every amount column of the expenditure side (财政拨款收支总体情况表: 合计, 一般公共预算, 政府性基金 …)."""
    yield from side_findings(ctx)["summary.expenditure_classes"]


@rule("summary.carryover", "总计 = 本年合计 + 结转结余")
def summary_carryover(ctx: Context) -> Iterator[Finding]:
    """收入总计 = 本年收入合计 + 上年结转结余 and 支出总计 = 本年支出合计 + 年终结转结余."""
    yield from side_findings(ctx)["summary.carryover"]


# ---- the same total in different tables ------------------------------------------------------------------

def _table_total(ctx: Context, table: Table | None):
    row = total_row(ctx, table)
    amounts = role_amounts(ctx, table, row, "total") if table is not None else None
    return amounts[0] if amounts else None


@rule("totals.cross_table", "各表总数一致")
def cross_table_totals(ctx: Context) -> Iterator[Finding]:
    """The same total printed in different tables agrees: 收入总体情况表 总计 = 收支总体情况表 收入总计;
    支出总体情况表 合计 = 本年支出合计; 一般公共预算支出情况表 合计 = 财政拨款收支总体情况表 本年支出 的一般公共预算;
    政府性基金预算支出表 合计 = 其政府性基金列."""
    summary = table_of(ctx, TableKind.summary)
    fiscal = table_of(ctx, TableKind.fiscal_summary)
    checks = [
        (_table_total(ctx, table_of(ctx, TableKind.income)), side_total(ctx, summary, "grand", "income"),
         "收入总体情况表 总计", "收支总体情况表 收入总计"),
        (_table_total(ctx, table_of(ctx, TableKind.expenditure)), side_total(ctx, summary, "current"),
         "支出总体情况表 合计", "收支总体情况表 本年支出合计"),
    ]
    if fiscal is not None:
        _, exp = sides(ctx, fiscal)
        head = exp.current or exp.grand
        for kind, role, name in ((TableKind.gp_expenditure, "gp", "一般公共预算"),
                                 (TableKind.gov_fund, "gov_fund", "政府性基金")):
            amount = role_amount(ctx, fiscal, head, role)
            table = table_of(ctx, kind)
            if amount is not None and table is not None:
                checks.append((_table_total(ctx, table), amount, f"{table_name(table)} 合计",
                               f"财政拨款收支总体情况表 本年支出的{name}"))
    for actual, expected, subject, formula in checks:
        if actual is not None and expected is not None:
            f = ctx.check_sum("totals.cross_table", actual, [expected], subject, formula)
            if f:
                yield f
