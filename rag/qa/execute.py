"""Reading what a question targets from one document, and the arithmetic the answers show: shares (stated,
else part ÷ whole), ratios, the stated change against last year and last year's figure derived from it
(this year − change), where a document says a figure is absent, and the extractive fallback that quotes
the sentence that answers when no record does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from extractor.models import TableKind
from extractor.provenance import Provenance

from .catalogue import (
    METRICS,
    Value,
    fmt,
    q2,
    read_economic,
    read_functional,
    read_metric,
    read_row,
    sum_values,
)
from .compose import Builder
from .fallback import Change, PassageSearch, Quoted, content_of, find_change
from .money import common_unit, convert_value
from .question import Parsed
from .targets import Target
from .text import norm
from .view import DocView, Evidence, cell_amount


def subject(view: DocView, unit: tuple[DocView, str] | None = None) -> str:
    if unit:
        u = view.units.get(unit[1])
        name = u.name if u else unit[1]
        own = f"{view.name}本级" if name == view.name else f"{view.name}下属{name}"
        return f"{own}（单位代码{unit[1]}）{view.doc.year or ''}年"
    return f"{view.name}{view.doc.year or ''}年"


# ---- reading targets ----------------------------------------------------------------------------------

def read_target(view: DocView, t: Target, p: Parsed, unit: tuple[DocView, str] | None = None) -> list[Value]:
    if unit is not None and unit[0] is view and t.kind == "metric":
        v = read_unit(view, unit[1], t)
        return [v] if v else []
    if t.kind == "metric":
        if t.key == "project_count":
            v = read_metric(view, t.key) or count_projects(view)
        else:
            v = read_metric(view, t.key, p.fund)
        return [v] if v else []
    if t.kind == "functional":
        v = read_functional(view, t.key, t.label, gp=p.fund == "gp")
        return [v] if v else []
    if t.kind == "row":
        v = read_row(view, t.key)
        return [v] if v else []
    if t.kind == "economic":
        v = read_economic(view, code=t.key, name=t.label if not t.key else "", table=t.table, gov_code=t.gov_code)
        if v is not None:
            v.label = t.label
        return [v] if v else []
    if t.kind == "project":
        out = []
        chosen = [(pv, pr) for pv, pr in t.projects if pv is view]
        if unit is not None and unit[0] is view:
            # 里面装修改造那个: among the unit's projects when the unit has one of that name
            inside = [(pv, pr) for pv, pr in chosen if unit[1] in (pr.unit_code, pr.row.code)]
            chosen = inside or chosen
        for _pv, pr in chosen:
            a = cell_amount(pr.table, pr.row)
            if a is not None:
                label = pr.name
                funds = [(c.role, Value(c.amount.value, c.amount.unit or pr.table.unit, c.column,
                                        ev=view.ev(c.amount, c.column)))
                         for c in pr.row.cells if c.role in ("gp", "gov_fund", "state_capital") and c.amount.value]
                out.append(Value(a.value, a.unit or pr.table.unit, label, ev=view.ev(a, label),
                                 note=pr.unit_name if pr.unit_name and pr.unit_name != view.name else "", funds=funds))
        return out
    return []


def count_projects(view: DocView, unit_code: str = "") -> Value | None:
    items = [pr for pr in view.projects if not unit_code or pr.unit_code == unit_code or pr.row.code == unit_code]
    if not items:
        return None
    names = "、".join(f"「{pr.key}」" for pr in items)
    sources = [pr.row.label_prov or (cell_amount(pr.table, pr.row).prov if cell_amount(pr.table, pr.row) else None)
               for pr in items]
    return Value(Decimal(len(items)), "个", "项目个数", formula=f"项目表所列项目：{names}，共{len(items)}个",
                 inputs=[], sources=[s for s in sources if s is not None], expr=" + ".join("1" for _ in items))


def read_unit(view: DocView, code: str, t: Target) -> Value | None:
    """A metric for one unit (部门/单位代码 row) of a department."""
    entry = view.units.get(code)
    if entry is None:
        return None
    key = t.key if t.kind == "metric" else ""
    label = METRICS[key].name if key else t.label
    if key == "project_count":
        return count_projects(view, code)

    def row_in(kinds: tuple[TableKind, ...], role: str) -> Value | None:
        for kind in kinds:
            for table, row in entry.rows:
                if table.kind == kind:
                    a = cell_amount(table, row, role)
                    if a is not None:
                        return Value(a.value, a.unit or table.unit, label, ev=view.ev(a, label))
        return None

    if key in ("revenue_total", "revenue_sum", ""):
        return row_in((TableKind.income,), "total" if key != "revenue_sum" else "current") or \
            row_in((TableKind.income,), "total")
    if key == "income_gp":
        return row_in((TableKind.income,), "gp")
    if key == "income_gov_fund":
        return row_in((TableKind.income,), "gov_fund")
    if key == "project":
        v = row_in((TableKind.project_performance, TableKind.projects), "total")
        if v is None:
            parts = []
            for pr in view.projects:
                if pr.unit_code == code:
                    a = cell_amount(pr.table, pr.row)
                    if a is not None:
                        parts.append(Value(a.value, a.unit, pr.name, ev=view.ev(a, pr.name)))
            v = sum_values(parts, label) if parts else None
        return v
    if key in ("expenditure_sum", "expenditure_total"):
        return row_in((TableKind.expenditure, TableKind.gp_expenditure), "total")
    if key in ("basic", "personnel", "public"):
        return row_in((TableKind.expenditure,), key)
    return None


# ---- shares, ratios, changes ----------------------------------------------------------------------------

def default_whole(t: Target, view: DocView, p: Parsed) -> Target | None:
    if t.kind == "metric":
        m = METRICS[t.key]
        if p.units and t.key:
            return Target("metric", t.key, m.name)
        if m.whole:
            return Target("metric", m.whole, METRICS[m.whole].name)
        return None
    if t.kind == "functional":
        if read_metric(view, "gp_expenditure"):
            return Target("metric", "gp_expenditure", METRICS["gp_expenditure"].name)
        return Target("metric", "expenditure_sum", METRICS["expenditure_sum"].name)
    if t.kind == "economic":
        return Target("metric", "basic" if t.table == "gp_basic" else "expenditure_sum", "")
    if t.kind == "project":
        return Target("metric", "project", METRICS["project"].name)
    return None


def stated_share(view: DocView, part: Target, whole: Target, p: Parsed) -> Value | None:
    """A share the document prints itself (基本支出占51.14%), when it is the share asked for."""
    if part.kind == "metric" and part.key in ("basic", "project") and whole.kind == "metric":
        name = "basic_share" if part.key == "basic" else "project_share"
        if whole.key == "expenditure_sum" and p.fund != "gp":
            f = view.fact(name)
        elif whole.key == "gp_expenditure" or p.fund == "gp":
            f = view.fact(name, "一般公共预算支出")
        else:
            return None
        if f and f.amount:
            return Value(f.amount.value, "%", "占比", ev=view.ev(f.amount, "占比"))
    if part.kind == "functional" and len(part.key) == 3 and whole.kind == "metric" and whole.key == "gp_expenditure":
        from .catalogue import FUNCTIONAL_CLASSES

        for n in FUNCTIONAL_CLASSES.get(part.key, ()):
            f = view.fact("functional_share", n)
            if f and f.amount:
                return Value(f.amount.value, "%", "占比", ev=view.ev(f.amount, "占比"))
    return None


def ratio(part: Value, whole: Value, percent: bool = True) -> Value | None:
    if part.unit != whole.unit and common_unit([part, whole]):
        # 三公经费 in 万元 over 收入总计 in 元: the part is converted first, the conversion shown
        part = convert_value(part, whole.unit)
    if whole.value == 0:
        return None
    if percent:
        r = q2(part.value / whole.value * 100)
        return Value(r, "%", "占比", formula=f"{part.shown()} ÷ {whole.shown()} ≈ {fmt(r)}%", inputs=[part, whole],
                     expr=f"{part.arg()} / {whole.arg()} * 100")
    r = q2(part.value / whole.value)
    return Value(r, "倍", "倍数", formula=f"{part.shown()} ÷ {whole.shown()} ≈ {fmt(r)}", inputs=[part, whole],
                 expr=f"{part.arg()} / {whole.arg()}")


@dataclass
class ChangeInfo:
    amount: Value | None
    pct: Value | None
    flat: bool
    reason: str
    prov: Provenance | None


def change_of(view: DocView, t: Target) -> ChangeInfo | None:
    """The stated change of a target against last year: facts first, then the narrative sentence."""
    facts: list[tuple[str, str]] = []
    phrases: tuple[str, ...] = ()
    if t.kind == "metric":
        m = METRICS[t.key]
        phrases = m.phrases
        if t.key in ("revenue_total", "expenditure_total", "revenue_sum", "expenditure_sum"):
            facts = [("total_change", "")]
        elif t.key == "fiscal_gp":
            facts = [("total_change", "一般公共预算拨款收支")]
        elif t.key == "fiscal_gov_fund":
            facts = [("total_change", "政府性基金预算拨款收支")]
        elif t.key == "sangong_total":
            facts = [("sangong_change", "")]
        elif t.key.startswith("sangong_"):
            from .catalogue import SANGONG_QUALIFIERS

            facts = [("sangong_change", SANGONG_QUALIFIERS[t.key])]
    else:
        phrases = (t.label,)
    for base, qual in facts:
        amount_name = base + "_amount" if base == "total_change" else base
        fs = view.facts_of(amount_name, qual)
        if not fs:
            continue
        f = fs[0]
        amount = pct = None
        flat = f.amount is None and bool(f.text and re.search(r"持平|无增减|没有变化", f.text))
        if f.amount is not None:
            amount = Value(f.amount.value, f.amount.unit, "比上年增减", ev=view.ev(f.amount, "比上年增减"))
        if base == "total_change":
            pf = view.facts_of("total_change_pct", qual)
            if pf and pf[0].amount is not None:
                pct = Value(pf[0].amount.value, "%", "增长率", ev=view.ev(pf[0].amount, "增长率"))
        reasons = view.facts_of(base + "_reason", qual) or view.facts_of(base.replace("_amount", "") + "_reason", qual)
        reason = reasons[0].text or "" if reasons else ""
        if amount is not None or pct is not None or flat:
            return ChangeInfo(amount, pct, flat, reason, f.prov)
    ch = find_change(view, phrases) if phrases else None
    if ch is None:
        return None
    return _from_sentence(view, ch)


def _from_sentence(view: DocView, ch: Change) -> ChangeInfo:
    prov = view.sentence_prov(ch.sentence)

    def val(q: Quoted | None, label: str, negative: bool) -> Value | None:
        if q is None:
            return None
        value = -q.value if negative and q.value > 0 else q.value
        ev = Evidence(value, q.unit, q.raw, prov, label, view.doc.doc_id, view.doc.source)
        return Value(value, q.unit, label, ev=ev)

    return ChangeInfo(val(ch.amount, "比上年增减", ch.negative), val(ch.pct, "增长率", ch.negative), ch.flat,
                      ch.reason, prov)


def prior_value(cur: Value, ch: ChangeInfo, year: int | None) -> Value | None:
    label = f"{year - 1}年" if year else "上年"
    if ch.flat:
        return Value(cur.value, cur.unit, label, formula=f"与上年持平，上年数 = 本年数 = {cur.text()}", inputs=[cur],
                     expr=cur.text())
    if ch.amount is None or ch.amount.unit != cur.unit:
        return None
    prev = cur.value - ch.amount.value
    if prev < 0:
        return None   # a change larger than this year's figure belongs to something else
    if cur.text().count(".") or ch.amount.text().count("."):
        prev = q2(prev)
    sign = "−" if ch.amount.value >= 0 else "+"
    expr = f"{cur.text()} {'-' if sign == '−' else '+'} {ch.amount.text().lstrip('-')}"
    return Value(prev, cur.unit, label, formula=f"{cur.text()} {sign} {ch.amount.text().lstrip('-')} = {fmt(prev)}",
                 inputs=[cur, ch.amount], expr=expr)


# ---- the extractive fallback ------------------------------------------------------------------------------

def extractive(b: Builder, p: Parsed, views: list[DocView], search: PassageSearch, phrases: tuple[str, ...] = (),
               threshold: float = 0.6) -> bool:
    """Quote the best narrative sentence when it covers the question's content words; False if none does."""
    masked_q = p.q
    for m in p.mentions:
        masked_q = masked_q[:m.start] + "□" * (m.end - m.start) + masked_q[m.end:]
    content = content_of(p.q, masked_q)
    if phrases:
        present = [ph for ph in phrases if any(norm(ph) in norm(s.text) for v in views for s in v.sentences)]
        content = norm(present[0] if present else phrases[0])
    if len(content) < 2:
        return False
    passages = search.search(p.question, views, k=5, content=content)  # type: ignore[call-arg]
    good = [x for x in passages if x.score >= threshold and "名词解释" not in x.locator]
    quantity = not re.search(r"为什么|原因|是什么|哪些|怎么|如何|情况|说明|介绍|内容|是否|有没有|吗|用于|用途|干什么|做什么",
                             p.q)
    if quantity:
        # a figure asked for: the sentence must print a number right after the words asked about
        good = [x for x in good if _figure_follows(x.text, content)]
    if not good:
        return False
    best = good[0]
    if phrases and not any(norm(ph) in norm(best.text) for ph in phrases):
        return False
    prov = best.view.sentence_prov(next(s for s in best.view.sentences if s.start == best.start))
    i = b.cite(prov)
    b.quote_numbers(best.text, i)
    flat = re.sub(r"[\s#*]+", "", best.text)
    b.add(f"{subject(best.view)}{best.view.doc.kind or '预算'}文件中的相关说明：“{flat}”[{i + 1}]")
    return True


def _figure_follows(sentence: str, content: str) -> bool:
    """The sentence states a number within a few characters after the longest part of `content` it holds."""
    from .text import lcs_span

    t = norm(sentence)
    start, n = lcs_span(t, content)
    if n < 2:
        return False
    return re.match(r"[^,;。]{0,8}?\d", t[start + n:]) is not None


# ---- small text helpers ----------------------------------------------------------------------------------

def cite_mark(b: Builder, v: Value) -> str:
    if v.ev is not None and v.ev.prov is not None:
        return f"[{b.cite(v.ev.prov) + 1}]"
    return ""


def say(b: Builder, v: Value) -> str:
    text = b.num(v) + cite_mark(b, v)
    if v.ev is None and v.formula:
        marks = "".join(dict.fromkeys(cite_mark(b, i) for i in v.inputs if cite_mark(b, i)))
        marks += "".join(f"[{b.cite(s) + 1}]" for s in v.sources)
        text += marks
    return text


FACT_NAMES = {"internal_divisions": "internal_divisions", "secondary_units": "secondary_units",
              "vehicles_total": "vehicles_total", "project_count": "project_count", "operating": "operating_expenses",
              "procurement_total": "procurement_total"}


def absent_evidence(view: DocView, t: Target) -> tuple[str, Provenance] | None:
    """Where a document says a figure is absent: a prose statement without a number ('无下设二级机构') or a
    table row printed blank. Cited as such, never turned into a number."""
    if t.kind != "metric":
        return None
    name = FACT_NAMES.get(t.key)
    if name:
        for f in view.facts.get(name, []):
            if f.amount is None and f.text and len(f.text) <= 12:
                return f"文件表述为“{f.prov.quote}”", f.prov
    from .catalogue import INCOME_ROLES, SANGONG_LABELS

    pattern = INCOME_ROLES.get(t.key, ("", ""))[1] or SANGONG_LABELS.get(t.key) if t.key != "sangong_total" else ""
    if not pattern:
        return None
    for table in view.tables(TableKind.summary, TableKind.income, TableKind.sangong, TableKind.fiscal_summary):
        for r in table.rows:
            if not r.cells and r.label_prov is not None and re.search(pattern, re.sub(r"^[一二三四五六七八九十\d]+[、.]", "", norm(r.label))):
                return f"{table.title.strip()}中「{r.label.strip()}」一栏为空", r.label_prov
    return None
