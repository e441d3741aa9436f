"""Projects: 项目支出表 against 项目支出 (per fund source), 项目绩效目标表 against 项目支出表, and the budget
block of 整体绩效目标表 against the functional tables."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..models import Amount, Finding, Table, TableKind, TableRow
from .engine import Context, rule
from .figures import has_role, role_amount, role_amounts, side_total, table_of, total_row, tree_nodes
from .structure import compact


@rule("projects.total", "项目支出表合计 = 项目支出（分资金来源）")
def projects_total(ctx: Context) -> Iterator[Finding]:
    """项目支出表's 合计 equals 项目支出 of 支出总体情况表; its 一般公共预算 column (本年拨款) equals 项目支出 of
    一般公共预算支出情况表 and its 政府性基金 column 项目支出 of 政府性基金预算支出表. (Its rows adding up to the
    合计 is table.total.)"""
    projects = table_of(ctx, TableKind.projects)
    if projects is None:
        return
    prow = total_row(ctx, projects)
    if prow is None:
        return
    total = role_amounts(ctx, projects, prow, "total")
    exp = table_of(ctx, TableKind.expenditure)
    if exp is not None and total:
        theirs = role_amounts(ctx, exp, total_row(ctx, exp), "project")
        if theirs is not None:
            f = ctx.compare("projects.total", total, theirs, "项目支出表 合计", "支出总体情况表 项目支出")
            if f:
                yield f
    for role, kind, name in (("gp", TableKind.gp_expenditure, "一般公共预算"), ("gov_fund", TableKind.gov_fund, "政府性基金")):
        table = table_of(ctx, kind)
        if table is None or not has_role(ctx, projects, role):
            continue
        mine = role_amount(ctx, projects, prow, role, prefer="本年")
        theirs = role_amounts(ctx, table, total_row(ctx, table), "project")
        if theirs is None:
            continue
        f = ctx.compare("projects.total", [mine] if mine else [], theirs, f"项目支出表 {name}",
                        f"{'一般公共预算支出情况表' if role == 'gp' else '政府性基金预算支出情况表'} 项目支出")
        if f:
            yield f


def _name_key(label: str) -> str:
    return compact(label)


def _projects_by_name(ctx: Context, table: Table) -> dict[str, list[TableRow]]:
    out: dict[str, list[TableRow]] = {}
    for node in tree_nodes(ctx, table):
        if node.kind == "item" and node.row is not None and node.row.cells and node.row.label:
            out.setdefault(_name_key(node.row.label), []).append(node.row)
    return out


@rule("performance.vs_projects", "项目绩效目标表金额 = 项目支出表金额")
def performance_vs_projects(ctx: Context) -> Iterator[Finding]:
    """Each project in 项目绩效目标表 has the amount (资金总额) that 项目支出表 gives the project of the same name,
    and the performance table's total equals the projects table's."""
    perf, projects = table_of(ctx, TableKind.project_performance), table_of(ctx, TableKind.projects)
    if perf is None or projects is None:
        return
    by_name = _projects_by_name(ctx, projects)
    for node in tree_nodes(ctx, perf):
        row = node.row
        if row is None or row.code_kind != "project" or not row.cells:
            continue
        matches = by_name.get(_name_key(row.label))
        if not matches or len(matches) > 1:
            continue
        mine, theirs = role_amounts(ctx, perf, row, "total"), role_amounts(ctx, projects, matches[0], "total")
        if not mine or theirs is None:
            continue
        f = ctx.compare("performance.vs_projects", mine, theirs,
                        f"项目绩效目标表「{row.label}」资金总额", "项目支出表同名项目合计")
        if f:
            yield f
    mine_total = role_amounts(ctx, perf, total_row(ctx, perf), "total")
    theirs_total = role_amounts(ctx, projects, total_row(ctx, projects), "total")
    if mine_total and theirs_total:
        f = ctx.compare("performance.vs_projects", mine_total, theirs_total, "项目绩效目标表 合计", "项目支出表 合计")
        if f:
            yield f


_BUDGET_ROWS = [("total", re.compile(r"预算总额|部门预算总额")), ("gov", re.compile(r"政府预算资金")),
                ("special", re.compile(r"财政专户")), ("own", re.compile(r"单位资金")),
                ("basic", re.compile(r"基本支出")), ("project", re.compile(r"项目支出"))]


def _budget_block(table: Table) -> dict[str, Amount | None]:
    out: dict[str, Amount | None] = {}
    for r in table.rows:
        label = compact(r.label)
        for key, pattern in _BUDGET_ROWS:
            if pattern.search(label) and key not in out:
                amounts = [c.amount for c in r.cells]
                out[key] = amounts[0] if amounts else None
                break
    return out


@rule("performance.dept_budget", "整体绩效目标表预算情况 = 资金来源之和 = 基本 + 项目 = 支出合计")
def performance_dept_budget(ctx: Context) -> Iterator[Finding]:
    """The 预算情况 block of 整体绩效目标表: 部门预算总额 = 政府预算资金 + 财政专户管理资金 + 单位资金 = 基本支出 +
    项目支出, and these equal 本年支出合计, 基本支出 and 项目支出 of 支出总体情况表."""
    perf = table_of(ctx, TableKind.dept_performance)
    if perf is None:
        return
    block = _budget_block(perf)
    if "total" not in block:
        return
    total = [block["total"]] if block.get("total") else []

    def present(*keys: str) -> list[Amount]:
        return [a for k in keys if (a := block.get(k)) is not None]

    if any(k in block for k in ("gov", "special", "own")):
        f = ctx.compare("performance.dept_budget", total, present("gov", "special", "own"),
                        "整体绩效目标表 部门预算总额", "各资金来源之和")
        if f:
            yield f
    if "basic" in block and "project" in block:
        f = ctx.compare("performance.dept_budget", total, present("basic", "project"),
                        "整体绩效目标表 部门预算总额", "基本支出与项目支出之和")
        if f:
            yield f
    exp = table_of(ctx, TableKind.expenditure)
    erow = total_row(ctx, exp) if exp is not None else None
    spending = side_total(ctx, table_of(ctx, TableKind.summary), "current")
    pairs = [("total", [spending] if spending else (role_amounts(ctx, exp, erow, "total") if exp else None), "本年支出合计"),
             ("basic", role_amounts(ctx, exp, erow, "basic") if exp else None, "支出总体情况表 基本支出"),
             ("project", role_amounts(ctx, exp, erow, "project") if exp else None, "支出总体情况表 项目支出")]
    names = {"total": "部门预算总额", "basic": "基本支出", "project": "项目支出"}
    for key, theirs, what in pairs:
        if key in block and theirs is not None:
            f = ctx.compare("performance.dept_budget", present(key), theirs, f"整体绩效目标表 {names[key]}", what)
            if f:
                yield f
