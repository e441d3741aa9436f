"""Economic classification: 一般公共预算基本支出表 against the functional tables, 支出经济分类汇总表 against
支出合计 and against the basic-expenditure items (the excess is project money), and the 三公 identity."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..models import Amount, Finding, Table, TableKind
from .engine import STEP, Context, fmt, rule, value_in
from .figures import role_amounts, side_total, table_of, total_row, tree_nodes
from .structure import compact

_ZERO = Decimal(0)


@rule("basic.vs_functional", "基本支出表合计/人员经费/公用经费 = 一般公共预算支出表的基本支出")
def basic_vs_functional(ctx: Context) -> Iterator[Finding]:
    """一般公共预算基本支出表's 合计, 人员经费 and 公用经费 equal the 基本支出 total of 一般公共预算支出情况表 and its
    人员经费 (工资福利 + 对个人和家庭的补助) and 公用经费 (商品和服务 + 资本性) parts."""
    basic, gp = table_of(ctx, TableKind.gp_basic), table_of(ctx, TableKind.gp_expenditure)
    if basic is None or gp is None:
        return
    brow, grow = total_row(ctx, basic), total_row(ctx, gp)
    for mine_role, theirs_role, name in (("total", "basic", "合计"), ("personnel", "personnel", "人员经费"),
                                         ("public", "public", "公用经费")):
        mine, theirs = role_amounts(ctx, basic, brow, mine_role), role_amounts(ctx, gp, grow, theirs_role)
        if mine is None or theirs is None:
            continue
        f = ctx.compare("basic.vs_functional", mine, theirs, f"一般公共预算基本支出表 {name}",
                        f"一般公共预算支出情况表 基本支出的{name if name != '合计' else '合计'}")
        if f:
            yield f


def _spending_total(ctx: Context) -> tuple[Amount | None, str]:
    summary = table_of(ctx, TableKind.summary)
    current = side_total(ctx, summary, "current")
    if current is not None:
        return current, "收支总体情况表 本年支出合计"
    exp = table_of(ctx, TableKind.expenditure)
    amounts = role_amounts(ctx, exp, total_row(ctx, exp), "total") if exp is not None else None
    return (amounts[0] if amounts else None), "支出总体情况表 合计"


@rule("economic.total", "支出经济分类汇总表 总计 = 本年支出合计")
def economic_total(ctx: Context) -> Iterator[Finding]:
    """支出经济分类汇总表 covers all spending: its 总计 equals 本年支出合计 (收支总体情况表, else 支出总体情况表)."""
    econ = table_of(ctx, TableKind.economic)
    if econ is None:
        return
    amounts = role_amounts(ctx, econ, total_row(ctx, econ), "total")
    spending, name = _spending_total(ctx)
    if amounts and spending is not None:
        f = ctx.compare("economic.total", amounts, [spending], "支出经济分类汇总表 总计", name)
        if f:
            yield f


def _items(ctx: Context, table: Table) -> dict[str, tuple[str, list[Amount]]]:
    """5-digit economic items -> (name, total-column amounts), summed over units and 政府经济分类 rows (read
    once per document: two rules compare them)."""
    key = ("econ_items", id(table), len(ctx.moves))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = _read_items(ctx, table)
    return got  # type: ignore[return-value]


def _read_items(ctx: Context, table: Table) -> dict[str, tuple[str, list[Amount]]]:
    out: dict[str, tuple[str, list[Amount]]] = {}
    for node in tree_nodes(ctx, table):
        row = node.row
        if node.kind != "code" or row is None or row.code_kind != "economic" or len(node.code) != 5:
            continue
        amounts = role_amounts(ctx, table, row, "total") or []
        name, got = out.get(node.code, (row.label, []))
        out[node.code] = (name or row.label, got + amounts)
    return out


def _excesses(ctx: Context):
    econ, basic = table_of(ctx, TableKind.economic), table_of(ctx, TableKind.gp_basic)
    if econ is None or basic is None:
        return None
    return _items(ctx, econ), _items(ctx, basic)


def _total_in(amounts: list[Amount], unit: str) -> Decimal:
    """Σ of the amounts in `unit`, one that cannot be converted counting as 0: `sum(value_in(a, unit) or
    Decimal(0) …, Decimal(0))`, without converting an amount already in `unit`."""
    total = _ZERO
    for a in amounts:
        total += (a.value if a.unit == unit else value_in(a, unit)) or _ZERO
    return total


@rule("economic.vs_basic", "支出经济分类汇总表各科目 ≥ 基本支出表同一科目（差额为项目支出）")
def economic_vs_basic(ctx: Context) -> Iterator[Finding]:
    """Every item of 支出经济分类汇总表 (all spending) is at least the same item in 一般公共预算基本支出表. A larger
    amount is project money: reported as `info` with the excess; a smaller one is a `mismatch`."""
    pair = _excesses(ctx)
    if pair is None:
        return
    econ, basic = pair
    for code in sorted(set(econ) | set(basic)):
        ename, eamounts = econ.get(code, ("", []))
        bname, bamounts = basic.get(code, ("", []))
        name = compact(ename or bname)
        unit = (eamounts + bamounts)[0].unit if eamounts + bamounts else "万元"
        e, b = _total_in(eamounts, unit), _total_in(bamounts, unit)
        ctx.use(eamounts + bamounts)
        tolerance = STEP * max(1, len(eamounts) + len(bamounts) - 1)
        if e - b > tolerance:
            yield ctx.finding("economic.vs_basic", "info",
                              f"支出经济分类汇总表 {code} {name} {fmt(e)} 比基本支出表 {name} {fmt(b)} 多 {fmt(e - b)} {unit}，"
                              f"应为项目支出安排", eamounts + bamounts, expected=b, actual=e)
        elif b - e > tolerance:
            yield ctx.finding("economic.vs_basic", "mismatch",
                              f"支出经济分类汇总表 {code} {name} {fmt(e)} 比基本支出表 {fmt(b)} 少 {fmt(b - e)} {unit}："
                              f"汇总表应包含全部基本支出", eamounts + bamounts, expected=b, actual=e)
        elif e != b:
            yield ctx.finding("economic.vs_basic", "rounding",
                              f"支出经济分类汇总表 {code} {name} {fmt(e)} 与基本支出表 {fmt(b)} 相差 {fmt(abs(e - b))} {unit}，"
                              f"在尾差范围内", eamounts + bamounts, expected=b, actual=e)


@rule("economic.project_excess", "经济分类超出基本支出的部分合计 = 项目支出")
def economic_project_excess(ctx: Context) -> Iterator[Finding]:
    """The excesses of 支出经济分类汇总表 over 一般公共预算基本支出表, summed over all items, equal 项目支出 of
    支出总体情况表 — checked only where the document allows it: all basic spending is 一般公共预算 money
    (the 基本支出 of 支出总体情况表 equals the 合计 of 一般公共预算基本支出表)."""
    pair = _excesses(ctx)
    exp = table_of(ctx, TableKind.expenditure)
    basic_table = table_of(ctx, TableKind.gp_basic)
    if pair is None or exp is None or basic_table is None:
        return
    erow = total_row(ctx, exp)
    project = role_amounts(ctx, exp, erow, "project")
    all_basic = role_amounts(ctx, exp, erow, "basic")
    gp_basic = role_amounts(ctx, basic_table, total_row(ctx, basic_table), "total")
    if project is None or all_basic is None or gp_basic is None:
        return
    if sum(a.value for a in all_basic) != sum(a.value for a in gp_basic):
        return
    econ, basic = pair
    left = [a for _, amounts in econ.values() for a in amounts]
    right = [a for _, amounts in basic.values() for a in amounts] + project
    f = ctx.compare("economic.project_excess", left, right, "支出经济分类汇总表各科目之和",
                    "基本支出表各科目之和加项目支出")
    if f:
        unit = left[0].unit if left else right[0].unit
        basic_sum = sum((value_in(a, unit) or Decimal(0) for _, amounts in basic.values() for a in amounts), Decimal(0))
        excess = sum((value_in(a, unit) or Decimal(0) for a in left), Decimal(0)) - basic_sum
        project_sum = sum((value_in(a, unit) or Decimal(0) for a in project), Decimal(0))
        f.message = (f"支出经济分类汇总表超出基本支出表的部分合计 {fmt(excess)} {unit}，与支出总体情况表 项目支出 "
                     f"{fmt(project_sum)} {unit} 相差 {fmt(abs(f.difference or 0))} {unit}"
                     + ("，在尾差范围内" if f.severity == "rounding" else ""))
        yield f


# ---- 三公 ---------------------------------------------------------------------------------------------------

_LABEL_KEYS = [("sangong_vehicle", ("购置及运行", "公务用车费", "用车购置及运行")),
               ("sangong_vehicle_operation", ("运行",)),
               ("sangong_vehicle_purchase", ("购置",)),
               ("sangong_abroad", ("因公出国",)),
               ("sangong_reception", ("公务接待",)),
               ("sangong_total", ("共计", "合计", "总计", "三公"))]


def label_role(label: str) -> str | None:
    text = compact(label)
    return next((role for role, keys in _LABEL_KEYS if any(k in text for k in keys)), None)


def sangong_components(ctx: Context, table: Table) -> list[dict[str, Amount | None]]:
    """The 三公 parts, from the wide layout (a row with one column per part) or the list layout (one row per
    part, 漯河's). Parts the layout prints but leaves blank are present with None. Read once per table (the
    narrative asks for them once per fact); callers do not change them."""
    key = ("sangong", id(table))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = _sangong_components(table)
    return got  # type: ignore[return-value]


def _sangong_components(table: Table) -> list[dict[str, Amount | None]]:
    wide = [r for r in table.rows if len({c.role for c in r.cells if c.role.startswith("sangong_")}) >= 2]
    if wide:
        printed = {c.role for r in table.rows for c in r.cells if c.role.startswith("sangong_")}
        columns = {c.column: c.role for r in table.rows for c in r.cells if c.role.startswith("sangong_")}
        out = []
        for r in wide:
            comp: dict[str, Amount | None] = dict.fromkeys(printed | set(columns.values()))
            for c in r.cells:
                if c.role.startswith("sangong_") and comp.get(c.role) is None:
                    comp[c.role] = c.amount
            out.append(comp)
        return out
    comp = {}
    for r in table.rows:
        role = label_role(r.label) or next((c.role for c in r.cells if c.role.startswith("sangong_")), None)
        if role is None or role in comp:
            continue
        comp[role] = r.cells[0].amount if r.cells else None
    return [comp] if len(comp) >= 2 else []


def _present(comp: dict[str, Amount | None], *roles: str) -> list[Amount] | None:
    if not any(r in comp for r in roles):
        return None
    return [a for r in roles if (a := comp.get(r)) is not None]


@rule("sangong.identity", "三公合计 = 因公出国 + 公务用车（购置 + 运行）+ 公务接待")
def sangong_identity(ctx: Context) -> Iterator[Finding]:
    """In the 三公 table: 合计 = 因公出国（境）费 + 公务用车购置及运行费 + 公务接待费, and 公务用车购置及运行费 =
    公务用车购置费 + 公务用车运行费 (wide layout and 漯河's list layout alike)."""
    for table in ctx.tables_of(TableKind.sangong):
        for comp in sangong_components(ctx, table):
            vehicle = _present(comp, "sangong_vehicle")
            split = _present(comp, "sangong_vehicle_purchase", "sangong_vehicle_operation")
            if vehicle is not None and split is not None:
                f = ctx.compare("sangong.identity", vehicle, split, "“三公”经费 公务用车购置及运行费",
                                "公务用车购置费与运行费之和")
                if f:
                    yield f
            parts = (_present(comp, "sangong_abroad") or []) + (_present(comp, "sangong_reception") or []) \
                + (vehicle if vehicle is not None else (split or []))
            total = _present(comp, "sangong_total")
            if total is not None and len(comp) >= 3:
                f = ctx.compare("sangong.identity", total, parts, "“三公”经费合计",
                                "因公出国（境）费、公务用车购置及运行费、公务接待费之和")
                if f:
                    yield f

