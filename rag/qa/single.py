"""Operations on one budget: values, text answers, project lists, differences, 占比 / 倍数, change vs last
year and last year's figure, performance indicators."""

from __future__ import annotations

import re

from .catalogue import METRICS, Value, fmt, q2, sum_values
from .compose import Builder
from .execute import (
    ChangeInfo,
    absent_evidence,
    change_of,
    default_whole,
    extractive,
    prior_value,
    ratio,
    read_target,
    say,
    stated_share,
    subject,
)
from .fallback import PassageSearch
from .money import PRECISION_NOTE, align, asked_unit, coarsened, restate
from .phrasing import cn, say_missing, unit_for
from .question import Parsed
from .targets import Target
from .text import clean_name
from .view import DocView, Evidence, cell_amount


def value_op(b: Builder, p: Parsed, view: DocView, search: PassageSearch) -> None:
    unit = unit_for(p, view)
    want = asked_unit(p.q)
    parts: list[str] = []
    missing: list[str] = []
    stated: list[Value] = []
    for t in p.targets:
        if t.kind == "indicator":
            continue
        if t.kind == "metric" and METRICS[t.key].unit == "text":
            if _text_answer(b, view, t):
                parts.append("")
            else:
                missing.append(t.shown)
            continue
        vals = read_target(view, t, p, unit)
        if not vals:
            if t.kind != "project":
                missing.append(t.shown)
            continue
        if t.kind == "project":
            parts.append(_projects_text(b, vals))
            continue
        v = vals[0]
        stated.append(v)
        label = ("一般公共预算" + t.shown) if p.fund == "gp" and t.key in ("basic", "project") else t.shown
        text = f"{label}为{say(b, v)}"
        again = restate(v, want) if want else None
        if again is not None:
            # asked in 万元, printed in 元: the printed figure, then the conversion with its formula
            text += f"，即{b.num(again, formula=False)}（{again.formula}）"
        parts.append(text)
    parts = [x for x in parts if x]
    # 合计 asks for a sum unless it is part of an item's printed name ('人员经费合计和公用经费合计各多少')
    names = "|".join(re.escape(t.label) + (r"(?:合计|小计|总计)?" if i < len(p.targets) - 1 else
                                           r"(?:(?:合计|小计|总计)(?=各|分别))?")
                     for i, t in enumerate(p.targets)) or "^$"
    if len(stated) >= 2 and len({v.unit for v in stated}) == 1 and re.search(
            r"合计|一共|总共|加起来|共计|总和", re.sub(names, "", p.q)):
        parts.append(f"合计{b.num(sum_values(stated, '合计'))}")
    if parts or (b.parts and not missing):
        if parts:
            b.add(subject(view, unit) + "，".join(parts) + "。")
        if missing:
            say_missing(b, view, missing, unit)
        return
    for t in p.targets:
        absent = absent_evidence(view, t)
        if absent is not None:
            i = b.cite(absent[1])
            b.add(f"{subject(view, unit)}{t.shown}：{absent[0]}[{i + 1}]。")
            return
    phrases = tuple(METRICS[t.key].phrases[0] for t in p.targets if t.kind == "metric")
    if missing and extractive(b, p, [view], search, phrases=phrases[:1]):
        return
    say_missing(b, view, missing or [t.shown for t in p.targets], unit)
    b.abstained = True


def _text_answer(b: Builder, view: DocView, t: Target) -> bool:
    """What the document says in words (职责, the names of its divisions): quoted with its citation."""
    from .catalogue import TEXT_FACTS

    facts = [f for f in view.facts.get(TEXT_FACTS.get(t.key, ""), []) if f.text and f.amount is None]
    if not facts:
        return False
    f = facts[0]
    i = b.cite(f.prov)
    text = re.sub(r"\s+", "", f.text or "")
    if len(text) > 400:
        text = text[:400] + "……"
    b.add(f"{subject(view)}{t.shown}：“{text}”[{i + 1}]。")
    return True


def projects_op(b: Builder, p: Parsed, view: DocView) -> None:
    """The projects of one budget (项目支出表 / 项目绩效目标表), listed or ranked by amount."""
    unit = unit_for(p, view)
    items = []
    for pr in view.projects:
        if unit and unit[1] not in (pr.unit_code, pr.row.code):
            continue
        a = cell_amount(pr.table, pr.row)
        if a is not None:
            items.append(Value(a.value, a.unit or pr.table.unit, pr.name, ev=view.ev(a, pr.name)))
    if not items:
        b.add(f"文件中没有{subject(view, unit)}的项目明细。")
        b.abstained = True
        return
    ranked = p.top_n != 1 or not RE_RANK_WORDS.search(p.q)
    if not ranked:
        ordered = sorted(items, key=lambda v: -v.value if p.rank_desc else v.value)
        top = ordered[0]
        b.add(f"{subject(view, unit)}金额{'最大' if p.rank_desc else '最小'}的项目是「{top.label}」，{say(b, top)}。")
        return
    if RE_RANK_WORDS.search(p.q):
        items.sort(key=lambda v: -v.value if p.rank_desc else v.value)
        items = items[:p.top_n] if p.top_n else items
    shown = items[:15]
    listed = "；".join(f"「{v.label}」{say(b, v)}" for v in shown)
    more = f"；其余{cn(len(items) - len(shown))}个从略" if len(items) > len(shown) else ""
    b.add(f"{subject(view, unit)}共列出{cn(len(items))}个项目：{listed}{more}。")


RE_RANK_WORDS = re.compile(r"最多|最少|最高|最低|最大|最小|排名|排序|排一下|从高到低|从低到高|前[两二三四五六七八九十\d]+")


def diff_op(b: Builder, p: Parsed, view: DocView) -> None:
    """Two figures of one budget and their difference ('基本支出比项目支出少多少')."""
    a_t, b_t = p.targets[0], p.targets[1]
    va, vb = read_target(view, a_t, p), read_target(view, b_t, p)
    if not va or not vb:
        say_missing(b, view, [t.shown for t, v in ((a_t, va), (b_t, vb)) if not v])
        b.abstained = True
        return
    x, y = va[0], vb[0]
    cx, cy = align([x, y])   # one unit for the difference (元 and 万元 tables), the conversion shown
    hi, lo = (cx, cy) if cx.value >= cy.value else (cy, cx)
    gap = hi.value - lo.value
    if "." in hi.text() + lo.text():
        gap = q2(gap)
    diff = Value(gap, hi.unit, "差额", formula=f"{hi.shown()} − {lo.shown()} = {fmt(gap)}", inputs=[hi, lo],
                 expr=f"{hi.arg()} - {lo.arg()}")
    more = a_t.shown if cx.value >= cy.value else b_t.shown
    b.add(f"{subject(view)}{a_t.shown}为{say(b, x)}，{b_t.shown}为{say(b, y)}，{more}多{b.num(diff)}。")
    if coarsened([cx, cy]):
        b.add(PRECISION_NOTE)


FUND_NAMES = {"gp": "一般公共预算", "gov_fund": "政府性基金预算", "state_capital": "国有资本经营预算"}


def _projects_text(b: Builder, vals: list[Value]) -> str:
    pieces = []
    for v in vals:
        where = f"（{v.note}）" if v.note else ""
        text = f"项目「{v.label}」{where}安排{say(b, v)}"
        funds = [(FUND_NAMES[k], f) for k, f in v.funds if k in FUND_NAMES]
        if funds and not (len(funds) == 1 and funds[0][1].value == v.value and funds[0][0] == "一般公共预算"):
            text += "，资金来源：" + "、".join(f"{name}{say(b, f)}" for name, f in funds)
        pieces.append(text)
    text = "；".join(pieces)
    if len(vals) > 1 and len({v.unit for v in vals}) == 1:
        total = sum_values(vals, "合计")
        text += f"，{cn(len(vals))}个同名项目合计{b.num(total)}"
    return text


def share_op(b: Builder, p: Parsed, view: DocView) -> None:
    unit = unit_for(p, view)
    done = False
    for t in p.targets:
        part_vals = read_target(view, t, p, unit)
        if not part_vals:
            say_missing(b, view, [t.shown], unit)
            continue
        part = part_vals[0] if len(part_vals) == 1 else sum_values(part_vals, t.label)
        wt = p.whole or default_whole(t, view, p)
        if wt is None:
            b.add(f"{subject(view, unit)}{t.shown}为{say(b, part)}。")
            done = True
            continue
        whole_vals = read_target(view, wt, p, None)
        whole = whole_vals[0] if whole_vals else None
        wlabel = wt.shown or (whole.label if whole else "")
        label = f"「{part.label}」" if t.kind == "project" else t.shown
        if p.op == "times":
            if whole is None:
                say_missing(b, view, [wlabel])
                continue
            r = ratio(part, whole, percent=False)
            if r is None:
                continue
            b.add(f"{subject(view)}{label}为{say(b, part)}，{wlabel}为{say(b, whole)}，"
                  f"前者是后者的{b.num(r)}。")
            done = True
            continue
        stated = None if unit else stated_share(view, t, wt, p)
        if stated is not None:
            tail = f"{wlabel}{say(b, whole)}" if whole else wlabel
            b.add(f"{subject(view, unit)}{label}为{say(b, part)}，占{tail}的{say(b, stated)}。")
            done = True
            continue
        if whole is None:
            b.add(f"{subject(view, unit)}{label}为{say(b, part)}；文件中没有{wlabel}的数据，无法计算占比。")
            done = True
            continue
        r = ratio(part, whole)
        if r is None:
            b.add(f"{subject(view, unit)}{label}为{say(b, part)}，{wlabel}为{say(b, whole)}，无法计算占比。")
            done = True
            continue
        b.add(f"{subject(view, unit)}{label}为{say(b, part)}，占{subject(view) if unit else ''}{wlabel}"
              f"{say(b, whole)}的{b.num(r)}。")
        done = True
    if not done:
        b.abstained = True


def _change_text(b: Builder, view: DocView, label: str, cur: Value, ch: ChangeInfo, want_prior: bool) -> str:
    year = view.doc.year
    prev_year = f"{year - 1}年" if year else "上年"
    prior = prior_value(cur, ch, year)
    if ch.flat:
        text = f"{subject(view)}{label}为{say(b, cur)}，与上年相比持平，即{prev_year}同为{b.num(prior) if prior else cur.text()}"
    else:
        text = f"{subject(view)}{label}为{say(b, cur)}"
        if ch.amount is not None:
            up = ch.amount.value >= 0
            amt = Value(abs(ch.amount.value), ch.amount.unit, ch.amount.label, ev=ch.amount.ev)
            text += f"，比上年{'增加' if up else '减少'}{say(b, amt)}"
        if ch.pct is not None:
            up = ch.pct.value >= 0 and not (ch.amount is not None and ch.amount.value < 0)
            pct = Value(abs(ch.pct.value), "%", ch.pct.label, ev=ch.pct.ev)
            text += f"，{'增长' if up else '下降'}{say(b, pct)}"
        if prior is not None:
            text += f"；据此推算{prev_year}为{b.num(prior)}"
            if ch.pct is None and ch.amount is not None:
                if prior.value == 0:
                    text += "（上年为0，无法计算增长率）"
                else:
                    r = ratio(Value(ch.amount.value, ch.amount.unit, "增减", ev=ch.amount.ev), prior)
                    if r is not None:
                        text += f"，增长率{b.num(r)}"
    if ch.reason:
        text += f"。主要原因：“{ch.reason}”"
    return text + "。"


def change_op(b: Builder, p: Parsed, view: DocView) -> None:
    said = False
    for t in p.targets:
        vals = read_target(view, t, p)
        cur = vals[0] if vals else None
        ch = change_of(view, t)
        if cur is None or ch is None:
            year = view.doc.year
            if cur is not None and p.op == "prior":
                b.add(f"文件中没有{view.name}{year - 1 if year else '上'}年{t.shown}的数据：文件是{year}年预算"
                      f"（{t.shown}{say(b, cur)}），未给出该项与上年的比较，无法推算。")
            elif cur is not None:
                b.add(f"文件中没有{view.name}{t.shown}与上年相比的变化数据；{subject(view)}{t.shown}为{say(b, cur)}。")
            else:
                say_missing(b, view, [t.shown])
            continue
        if p.op == "prior":
            prior = prior_value(cur, ch, view.doc.year)
            if prior is None:
                b.add(f"文件中没有{view.name}上年{t.shown}的数据。")
                continue
            year = view.doc.year
            b.add(f"{view.name}{year - 1 if year else '上'}年{t.shown}为{b.num(prior)}"
                  f"（据{year}年预算：{t.shown}{say(b, cur)}，")
            if ch.flat:
                b.add("与上年持平）。")
            else:
                amt = ch.amount
                assert amt is not None
                b.add(f"比上年{'增加' if amt.value >= 0 else '减少'}"
                      f"{say(b, Value(abs(amt.value), amt.unit, amt.label, ev=amt.ev))}）。")
            said = True
            continue
        b.add(_change_text(b, view, t.shown, cur, ch, p.want_prior))
        said = True
    if not said:
        b.abstained = True


def indicators_op(b: Builder, p: Parsed, views: list[DocView]) -> None:
    t = next(t for t in p.targets if t.kind == "indicator")
    allowed = {id(v) for v in views}
    items = [(v, ind) for v, ind in t.indicators if id(v) in allowed] or t.indicators
    for v, ind in items[:3]:
        owner = f"项目「{ind.project}」" if ind.project else "部门整体绩效目标"
        i = b.cite(ind.prov)
        if ind.number is not None:
            num = Value(ind.number, ind.unit, ind.level3,
                        ev=_indicator_ev(v, ind))
            shown = f"{ind.comparator}{b.num(num)}"
        else:
            shown = f"“{ind.value_text}”"
        b.add(f"{v.name}{v.doc.year or ''}年{owner}的绩效指标「{ind.level3}」，指标值为{shown}[{i + 1}]。")


def indicator_list_op(b: Builder, p: Parsed, view: DocView) -> None:
    """The performance indicators of a project named in the question, or of the whole department."""
    project = next((t for t in p.targets if t.kind == "project"), None)
    keys = {pr.key for v, pr in project.projects if v is view} if project else set()
    if keys:
        items = [i for i in view.indicators if i.project and clean_name(i.project) in keys]
        owner = f"项目「{next(iter(keys))}」"
    else:
        items = [i for i in view.indicators if not i.project]
        owner = "部门整体绩效目标"
    if not items:
        b.add(f"文件中没有{subject(view)}{owner}的绩效指标。")
        b.abstained = True
        return
    parts = []
    for ind in items[:12]:
        i = b.cite(ind.prov)
        parts.append(f"「{ind.level3}」“{ind.value_text}”[{i + 1}]")
    more = f"；其余{cn(len(items) - 12)}项从略" if len(items) > 12 else ""
    b.add(f"{subject(view)}{owner}的绩效指标（{cn(len(items))}项）：{'；'.join(parts)}{more}。")


def _indicator_ev(v: DocView, ind):

    raw = re.search(r"\d[\d,]*(?:\.\d+)?", ind.value_text)
    return Evidence(ind.number, ind.unit, raw.group(0) if raw else fmt(ind.number), ind.prov, ind.level3,
                    v.doc.doc_id, v.doc.source)

