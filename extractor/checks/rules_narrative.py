"""The narrative against the tables: every amount the 情况说明 states equals its table value, every 占比 is
part / total, every 增加/增长 is consistent with this year and the derived last year.

Fact names are those of evals/fixtures/README.md (revenue_total, income_source, functional_share …)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..models import Amount, Fact, Finding, TableKind
from ..numbers import decimals
from .engine import Context, Subject, fmt, rule, value_in
from .figures import (
    code_sums,
    has_role,
    role_amount,
    role_amounts,
    side_total,
    sides,
    summary_class_rows,
    table_of,
    total_row,
)
from .rules_economic import _LABEL_KEYS, sangong_components
from .structure import class_name, class_of_label, compact, source_of_label

Candidate = tuple[str, list[Amount]]  # (what it is, the amounts whose sum it is)


_HUNDREDTH = Decimal("0.01")  # a computed share's difference is printed to 0.01 of a point

def _scope(fact: Fact) -> str:
    """Which money a fact is about: gf (政府性基金), sc (国有资本经营), gp (一般公共预算) or all funds."""
    q = fact.qualifier or ""
    if "政府性基金" in q:
        return "gf"
    if "国有资本" in q:
        return "sc"
    if "一般公共预算" in q or "一般公共预算" in (fact.section or ""):
        return "gp"
    return "all"


def _pos(fact: Fact) -> int:
    return fact.amount.prov.char_start if fact.amount is not None else fact.prov.char_start


def _row_total(ctx: Context, table, row) -> list[Amount]:
    return role_amounts(ctx, table, row, "total") or []


_ROLE_NAMES = {"total": "合计", "basic": "基本支出", "project": "项目支出", "personnel": "人员经费", "public": "公用经费"}


def _functional(ctx: Context, kind: TableKind, role: str) -> Candidate | None:
    table = table_of(ctx, kind)
    if table is None:
        return None
    amounts = role_amounts(ctx, table, total_row(ctx, table), role)
    if amounts is None:
        return None
    return f"{'支出总体情况表' if kind == TableKind.expenditure else '一般公共预算支出情况表'} {_ROLE_NAMES[role]}", amounts


def _summary(ctx: Context, which: str, side: str, label: str) -> Candidate | None:
    amount = side_total(ctx, table_of(ctx, TableKind.summary), which, side)
    return (f"收支总体情况表 {label}", [amount]) if amount is not None else None


def _income_source(ctx: Context, qualifier: str) -> Candidate | None:
    summary = table_of(ctx, TableKind.summary)
    key = source_of_label(qualifier)
    if summary is None or key is None:
        return None
    inc, _ = sides(ctx, summary)
    for r in list(inc.items) + [c for c, _ in inc.carry]:
        if source_of_label(r.label) == key:
            return f"收支总体情况表 {compact(r.label)}", [c.amount for c in r.cells[:1]]
    return None


def _class(ctx: Context, qualifier: str, gp: bool) -> Candidate | None:
    code = class_of_label(qualifier)
    if code is None:
        return None
    for kind in ((TableKind.gp_expenditure, TableKind.expenditure) if gp else (TableKind.expenditure,)):
        table = table_of(ctx, kind)
        if table is not None:
            sums = code_sums(ctx, table, 3)
            if sums:
                name = "一般公共预算支出情况表" if kind == TableKind.gp_expenditure else "支出总体情况表"
                return f"{name} {class_name(code)}", sums.get(code, [])
    summary = table_of(ctx, TableKind.summary)
    if summary is not None:
        rows = summary_class_rows(ctx, summary).get(code, [])
        return f"收支总体情况表 {class_name(code)}", [r.cells[0].amount for r in rows if r.cells]
    return None


def _sangong(ctx: Context, qualifier: str) -> Candidate | None:
    role = "sangong_total"
    if qualifier:
        q = compact(qualifier)
        role = next((r for r, keys in _LABEL_KEYS if any(k in q for k in keys)), "")
        if not role:
            return None
    for table in ctx.tables_of(TableKind.sangong):
        for comp in sangong_components(ctx, table)[:1]:
            if role in comp:
                amount = comp[role]
                return f"“三公”经费表 {qualifier or '合计'}", [amount] if amount is not None else []
            if role == "sangong_vehicle":
                parts = [a for r in ("sangong_vehicle_purchase", "sangong_vehicle_operation") if (a := comp.get(r))]
                return "“三公”经费表 公务用车购置费与运行费之和", parts
    return None


_FUND_TABLES = {"gp": TableKind.gp_expenditure, "gf": TableKind.gov_fund, "sc": TableKind.state_capital}
_FUND_ROLES = {"gp": "gp", "gf": "gov_fund", "sc": "state_capital"}
_SOURCE_SCOPE = {"gp": "gp", "gov_fund": "gf", "state_capital": "sc"}


def _fund_total(ctx: Context, scope: str) -> list[Candidate | None]:
    """Spending of one fiscal fund: its functional table's 合计 (an empty table says 0), and the fund's column
    of 本年支出 in 财政拨款收支总体情况表."""
    out: list[Candidate | None] = []
    tables = ctx.tables_of(_FUND_TABLES[scope])
    if tables:
        table = next((t for t in tables if not t.empty), tables[0])
        name = {"gp": "一般公共预算支出情况表", "gf": "政府性基金预算支出情况表", "sc": "国有资本经营预算支出情况表"}[scope]
        out.append((f"{name} 合计", [] if table.empty else role_amounts(ctx, table, total_row(ctx, table), "total") or []))
    fiscal = table_of(ctx, TableKind.fiscal_summary)
    if fiscal is not None:
        _, exp = sides(ctx, fiscal)
        head = exp.current or exp.grand
        if head is not None and has_role(ctx, fiscal, _FUND_ROLES[scope]):
            amount = role_amount(ctx, fiscal, head, _FUND_ROLES[scope])
            out.append(("财政拨款收支总体情况表 本年支出", [amount] if amount else []))
    return out


def _appropriation(ctx: Context, qualifier: str) -> list[Candidate | None]:
    key = source_of_label(qualifier)
    out: list[Candidate | None] = []
    for kind in (TableKind.fiscal_summary, TableKind.summary):
        table = table_of(ctx, kind)
        if table is None or key is None:
            continue
        inc, _ = sides(ctx, table)
        for r in inc.items:
            if source_of_label(r.label) == key:
                out.append((f"{'财政拨款收支总体情况表' if kind == TableKind.fiscal_summary else '收支总体情况表'} "
                            f"{compact(r.label)}", [c.amount for c in r.cells[:1]]))
                break
    if key in _SOURCE_SCOPE:
        out += _fund_total(ctx, _SOURCE_SCOPE[key])
    return out


# The facts `candidates` knows table values for.
_TABLE_FACTS = frozenset({
    "revenue_total", "expenditure_total", "revenue_sum", "expenditure_sum", "appropriation", "basic_expenditure",
    "project_expenditure", "performance_basic", "performance_project", "performance_total", "personnel_expenses",
    "public_expenses", "income_source", "functional_class", "sangong_total", "sangong_part"})


def candidates(ctx: Context, fact: Fact) -> list[Candidate]:
    """Table values a narrative fact may equal (any one of them will do), the expected one first. They
    depend on the fact's name, scope and qualifier only: looked up once per document for each."""
    scope, name, q = _scope(fact), fact.name, fact.qualifier
    key = ("candidates", name, scope, q, len(ctx.moves))
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = _candidates(ctx, scope, name, q)
    return got  # type: ignore[return-value]


def _candidates(ctx: Context, scope: str, name: str, q: str) -> list[Candidate]:
    gp = scope == "gp"
    basic = table_of(ctx, TableKind.gp_basic)
    found: list[Candidate | None] = []
    if name == "revenue_total":
        found = [_summary(ctx, "grand", "income", "收入总计")]
    elif name == "expenditure_total":
        found = [_summary(ctx, "grand", "expenditure", "支出总计")]
    elif name == "revenue_sum":
        found = [_summary(ctx, "current", "income", "本年收入合计")]
    elif name == "expenditure_sum":
        if scope in ("gf", "sc", "gp"):
            found = _fund_total(ctx, scope)
        else:
            found = [_summary(ctx, "current", "expenditure", "本年支出合计"),
                     _functional(ctx, TableKind.expenditure, "total")]
    elif name == "appropriation":
        found = _appropriation(ctx, q)
    elif name in ("basic_expenditure", "project_expenditure", "performance_basic", "performance_project"):
        role = "basic" if name in ("basic_expenditure", "performance_basic") else "project"
        order = (TableKind.gp_expenditure, TableKind.expenditure) if gp else (TableKind.expenditure, TableKind.gp_expenditure)
        found = [_functional(ctx, k, role) for k in order]
        if role == "basic" and basic is not None:
            found.append(("一般公共预算基本支出表 合计", _row_total(ctx, basic, total_row(ctx, basic))))
    elif name == "performance_total":
        found = [_summary(ctx, "current", "expenditure", "本年支出合计"), _functional(ctx, TableKind.expenditure, "total"),
                 _functional(ctx, TableKind.expenditure, "project")]
    elif name in ("personnel_expenses", "public_expenses"):
        role = "personnel" if name == "personnel_expenses" else "public"
        if basic is not None and (amounts := role_amounts(ctx, basic, total_row(ctx, basic), role)) is not None:
            found.append((f"一般公共预算基本支出表 {'人员经费' if role == 'personnel' else '公用经费'}", amounts))
        found.append(_functional(ctx, TableKind.gp_expenditure, role))
    elif name == "income_source":
        found = [_income_source(ctx, q)]
    elif name == "functional_class":
        found = [_class(ctx, q, gp)]
    elif name in ("sangong_total", "sangong_part"):
        found = [_sangong(ctx, q if name == "sangong_part" else "")]
    return [c for c in found if c is not None]


_DESC = {"revenue_total": "收入总计", "expenditure_total": "支出总计", "revenue_sum": "收入合计",
         "expenditure_sum": "支出合计", "basic_expenditure": "基本支出", "project_expenditure": "项目支出",
         "personnel_expenses": "人员经费", "public_expenses": "公用经费", "sangong_total": "“三公”经费",
         "operating_expenses": "机关运行经费"}


def _desc(fact: Fact) -> str:
    return fact.qualifier or _DESC.get(fact.name, fact.name)


@rule("narrative.amounts", "说明中的金额 = 表中的金额")
def narrative_amounts(ctx: Context) -> Iterator[Finding]:
    """Every amount the narrative states — 收入/支出总计, 收入/支出合计, each income source, 基本/项目支出, each
    functional class, 人员/公用经费, 三公 and its parts — equals the table value (一般公共预算 sections against
    the 一般公共预算 tables). A stated non-zero amount with no table to hold it is `missing`."""
    for fact in ctx.doc.facts:
        if fact.amount is None or fact.name not in _TABLE_FACTS:
            continue   # no table holds such a fact (counts, changes, shares …): nothing to compare
        cands = candidates(ctx, fact)
        if not cands:
            if fact.amount.value and fact.name in ("income_source", "functional_class", "sangong_total", "sangong_part"):
                yield ctx.finding("narrative.amounts", "missing",
                                  f"说明中「{_desc(fact)}」{fact.amount.raw} {fact.amount.unit} 在表中找不到对应项",
                                  [fact.amount], actual=fact.amount.value)
            continue
        subject = lambda fact=fact: f"说明中「{_desc(fact)}」"  # noqa: E731  (worded only for a finding)
        results = [ctx.compare("narrative.amounts", [fact.amount], amounts, subject, what) for what, amounts in cands]
        if any(r is None for r in results):
            continue
        best = min(results, key=lambda f: (f.severity != "rounding", abs(f.difference or 0)))  # type: ignore[union-attr]
        yield best if best.severity == "rounding" else results[0]  # type: ignore[misc]


@rule("narrative.operating", "机关运行经费 ≤ 公用经费")
def narrative_operating(ctx: Context) -> Iterator[Finding]:
    """机关运行经费 is paid from basic public spending: it cannot exceed 公用经费 of 一般公共预算基本支出表."""
    basic = table_of(ctx, TableKind.gp_basic)
    public = role_amounts(ctx, basic, total_row(ctx, basic), "public") if basic is not None else None
    if not public:
        return
    for fact in _named(ctx, "operating_expenses"):
        if fact.amount is None:
            continue
        f = ctx.compare("narrative.operating", [fact.amount], public, "说明中「机关运行经费」", "一般公共预算基本支出表 公用经费")
        if f is not None and (f.difference or 0) > 0:
            yield f


# ---- shares and changes --------------------------------------------------------------------------------

def _named(ctx: Context, name: str) -> list[Fact]:
    """`doc.facts_named(name)`, from one pass over the facts per document (several rules ask)."""
    by_name = ctx.cache.get("facts_by_name")
    if by_name is None:
        by_name = ctx.cache["facts_by_name"] = {}
        for f in ctx.doc.facts:
            got = by_name.get(f.name)
            if got is None:
                by_name[f.name] = [f]
            else:
                got.append(f)
    return by_name.get(name, [])  # type: ignore[union-attr]


def _fact_index(ctx: Context) -> dict[tuple[str, str], list[tuple[int, int, Fact]]]:
    """The facts that state an amount, by (name, section): (position, order in the document, fact)."""
    got = ctx.cache.get("fact_index")
    if got is None:
        got = {}
        for i, f in enumerate(ctx.doc.facts):
            if f.amount is not None:
                got.setdefault((f.name, f.section), []).append((_pos(f), i, f))
        ctx.cache["fact_index"] = got
    return got  # type: ignore[return-value]


def _near(ctx: Context, fact: Fact, names: tuple[str, ...], qualifier: str | None = None) -> Fact | None:
    """The closest fact of one of `names` stated before `fact` in the same section (the first listed of
    those at one position)."""
    index = _fact_index(ctx)
    here = _pos(fact)
    want = class_of_label(qualifier) if qualifier is not None else None
    best: tuple[int, int, Fact] | None = None
    for name in names:
        for pos, i, f in index.get((name, fact.section), ()):
            if pos > here or (best is not None and (pos < best[0] or pos == best[0] and i > best[1])):
                continue
            if qualifier is not None and class_of_label(f.qualifier) != want:
                continue
            best = (pos, i, f)
    return best[2] if best is not None else None


def _pct_check(ctx: Context, rule_id: str, printed: Amount, computed: Decimal, inputs: list[Amount],
               error: Decimal, text: Subject) -> Finding | None:
    """A percentage printed with d decimals is right when it is within half a unit of the last digit (plus
    what rounding of the inputs can move it), off by one unit is `rounding`, more is `mismatch`."""
    ctx.use([printed, *inputs])
    unit = Decimal(1).scaleb(-decimals(printed.raw))
    diff = printed.value - computed
    if abs(diff) <= unit / 2 + error:
        return None
    severity = "rounding" if abs(diff) <= unit + error else "mismatch"
    if callable(text):
        text = text()
    return ctx.finding(rule_id, severity, text + (f"，差 {fmt(abs(diff).quantize(_HUNDREDTH))} 个百分点" if severity == "mismatch" else "，属尾差"),
                       [printed, *inputs], expected=computed.quantize(Decimal("0.0001")), actual=printed.value)


def _ratio(part: Decimal, whole: Decimal) -> tuple[Decimal, Decimal]:
    """part/whole in %, and how far rounding of the printed inputs (±0.005) can move it."""
    share = part / whole * 100
    error = Decimal(100) * (Decimal("0.005") / abs(whole) + abs(part) * Decimal("0.005") / whole ** 2)
    return share, error


_SHARES = {"basic_share": (("basic_expenditure",), ("expenditure_sum",), "基本支出"),
           "project_share": (("project_expenditure",), ("expenditure_sum",), "项目支出"),
           "functional_share": (("functional_class",), ("expenditure_sum",), ""),
           "personnel_share": (("personnel_expenses",), ("basic_expenditure",), "人员经费"),
           "public_share": (("public_expenses",), ("basic_expenditure",), "公用经费")}


def _amounts_for(ctx: Context, share: Fact, names: tuple[str, ...], qualifier: str | None) -> list[Amount] | None:
    """The narrative's own amount stated before the share in its section, else the table value."""
    near = _near(ctx, share, names, qualifier)
    if near is not None and near.amount is not None:
        return [near.amount]
    probe = Fact.model_construct(name=names[0], qualifier=share.qualifier if qualifier is not None else "",
                                 amount=None, prov=share.prov, section=share.section)
    cands = candidates(ctx, probe)
    return cands[0][1] if cands else None


@rule("narrative.shares", "占比 = 部分 / 合计")
def narrative_shares(ctx: Context) -> Iterator[Finding]:
    """Every 占比 the narrative states (基本支出占, 项目支出占, each functional class's 占, 人员经费/公用经费占) equals
    the part divided by the whole it refers to — the narrative's own amounts in the same section, else the
    table values."""
    for fact in ctx.doc.facts:
        if fact.name not in _SHARES or fact.amount is None:
            continue
        part_names, whole_names, label = _SHARES[fact.name]
        qualifier = fact.qualifier if fact.name == "functional_share" else None
        part = _amounts_for(ctx, fact, part_names, qualifier)
        whole = _amounts_for(ctx, fact, whole_names, None)
        if not part or not whole:
            continue
        unit = whole[0].unit
        p = sum((value_in(a, unit) or Decimal(0) for a in part), Decimal(0))
        w = sum((value_in(a, unit) or Decimal(0) for a in whole), Decimal(0))
        if not w:
            continue
        share, error = _ratio(p, w)
        def text(label=label or fact.qualifier, raw=fact.amount.raw, p=p, w=w, share=share) -> str:
            return f"说明中「{label}占 {raw}%」，按 {fmt(p)} / {fmt(w)} 计算为 {share:.2f}%"   # for a finding only

        f = _pct_check(ctx, "narrative.shares", fact.amount, share, part + whole, error, text)
        if f:
            yield f


@rule("narrative.changes", "增减额、增长率与本年、上年一致")
def narrative_changes(ctx: Context) -> Iterator[Finding]:
    """For every 与上年相比 增加/减少 X、增长/下降 Y%: last year = this year − X and Y = X / last year. This year is
    the amount the sentence is about: one stated before it in the same section with the same qualifier
    (收入总计, 一般公共预算拨款收支 …), else 收入总计 of the tables. The finding shows the derived last year."""
    for pct in _named(ctx, "total_change_pct"):
        change = _near(ctx, pct, ("total_change_amount",))
        if pct.amount is None or change is None or change.amount is None or change.qualifier != pct.qualifier:
            continue
        # the latest first (filtered before the stable sort: the same order as sorting all, then filtering)
        before, section, qualifier, unit = _pos(change), pct.section, change.qualifier, change.amount.unit
        bases: list[Amount] = [f.amount for f in sorted(
            (f for f in ctx.doc.facts
             if f.amount is not None and f.section == section and _pos(f) < before
             and f.qualifier == qualifier and f.amount.unit == unit
             and f.name not in ("total_change_amount", "total_change_pct")), key=lambda f: -_pos(f))]
        if not bases:
            bases = [a for which in ("grand", "current")
                     if (a := side_total(ctx, table_of(ctx, TableKind.summary), which, "income")) is not None]
        tried = []
        unit_step = Decimal(1).scaleb(-decimals(pct.amount.raw))
        for base in bases:
            this = value_in(base, change.amount.unit)
            if this is None or this - change.amount.value <= 0:
                continue
            last = this - change.amount.value
            rate, error = _ratio(change.amount.value, last)
            tried.append((base, this, last, rate, error))
            if abs(pct.amount.value - rate) <= unit_step / 2 + error:
                ctx.use([pct.amount, change.amount, base])
                break
        else:
            if not tried:
                continue
            base, this, last, rate, error = tried[0]
            up = change.amount.value >= 0
            text = (f"说明称比上年{'增加' if up else '减少'} {fmt(abs(change.amount.value))}、"
                    f"{'增长' if pct.amount.value >= 0 else '下降'} {fmt(abs(pct.amount.value))}%；按本年 {fmt(this)} "
                    f"推算上年为 {fmt(last)}，增长率应为 {rate:.2f}%")
            f = _pct_check(ctx, "narrative.changes", pct.amount, rate, [change.amount, base], error, text)
            if f:
                yield f


# ---- the narrative's own sums ------------------------------------------------------------------------------

@rule("narrative.internal", "说明内部加总：基本 + 项目 = 支出合计；三公、政府采购各项之和")
def narrative_internal(ctx: Context) -> Iterator[Finding]:
    """Within one section: 基本支出 + 项目支出 = 支出合计; 人员经费 + 公用经费 = 基本支出. Anywhere: “三公”经费 =
    因公出国（境）费 + 公务用车购置及运行费 + 公务接待费; 政府采购 = 货物 + 工程 + 服务."""
    index = _fact_index(ctx)
    for total_name, part_names in (("expenditure_sum", ("basic_expenditure", "project_expenditure")),
                                   ("basic_expenditure", ("personnel_expenses", "public_expenses"))):
        for total in (f for f in _named(ctx, total_name) if f.amount is not None):
            # each part: its first statement after the total in the section (listed in the order stated)
            after = _pos(total)
            firsts = [min(((p, i, f) for p, i, f in index.get((name, total.section), ()) if p > after),
                          default=None, key=lambda e: e[:2]) for name in part_names]
            if None in firsts:
                continue
            chosen = [f for _, _, f in sorted(firsts, key=lambda e: e[:2])]  # type: ignore[misc]
            f = ctx.compare("narrative.internal", [total.amount], [c.amount for c in chosen],  # type: ignore[misc]
                            lambda total=total: f"说明中「{_desc(total)}」",
                            "、".join(_desc(c) for c in chosen) + "之和")
            if f:
                yield f
    for total_name, part_name, keys in (("sangong_total", "sangong_part", ("因公出国", "公务用车购置及运行", "公务接待")),
                                        ("procurement_total", "procurement", ("货物", "工程", "服务"))):
        totals = [f for f in _named(ctx, total_name) if f.amount is not None]
        if not totals:
            continue
        parts = {}   # the same for every total
        for f in _named(ctx, part_name):
            if f.amount is not None:
                key = next((k for k in keys if k in compact(f.qualifier)), None)
                if key and key not in parts:
                    parts[key] = f.amount
        for total in totals:
            if len(parts) == len(keys):
                f = ctx.compare("narrative.internal", [total.amount], list(parts.values()),  # type: ignore[list-item]
                                f"说明中「{'“三公”经费' if total_name == 'sangong_total' else '政府采购'}」",
                                "、".join(keys) + "之和")
                if f:
                    yield f
