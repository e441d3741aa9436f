"""Operations across budgets: sum, compare, rank and list a figure (a value, a share or a growth rate) over
the departments named, a city's departments or the whole corpus — each department's latest budget unless a
year is given."""

from __future__ import annotations

import re
from decimal import Decimal

from extractor.units import convert

from .catalogue import METRICS, Value, fmt, q2, sum_values
from .compose import Builder
from .corpus import Corpus
from .execute import (
    absent_evidence,
    change_of,
    default_whole,
    prior_value,
    ratio,
    read_target,
    say,
    stated_share,
)
from .money import PRECISION_NOTE, align, coarsened, comparable, is_money
from .phrasing import catalogue_text, cn, ordinal
from .question import Parsed
from .targets import Target
from .view import DocView

MAX_LISTED = 12   # figures listed after the ones asked for (a rank's runners-up, a list's others)


def _multi_views(p: Parsed, corpus: Corpus) -> list[DocView]:
    if len({v.name for v in p.views}) >= 2:
        views = list(p.views)
    elif p.cities:
        views = [v for c in p.cities for v in corpus.cities.get(c, [])]
    else:
        views = list(corpus.views)
    if p.years:
        views = [v for v in views if v.doc.year in p.years]
    else:
        # one budget per department: its most recent one
        latest: dict[str, DocView] = {}
        for v in views:
            if v.name not in latest or (v.doc.year or 0) > (latest[v.name].doc.year or 0):
                latest[v.name] = v
        views = [v for v in views if latest[v.name] is v]
    return views


def _measure(b: Builder, p: Parsed, view: DocView, t: Target) -> Value | None:
    if p.measure == "share":
        part = read_target(view, t, p)
        wt = p.whole or default_whole(t, view, p)
        if not part or wt is None:
            return None
        stated = stated_share(view, t, wt, p)
        if stated is not None:
            return stated
        whole = read_target(view, wt, p)
        return ratio(part[0], whole[0]) if whole else None
    if p.measure == "change":
        ch = change_of(view, t)
        if ch is None:
            return None
        if ch.pct is not None:
            return ch.pct
        cur = read_target(view, t, p)
        prior = prior_value(cur[0], ch, view.doc.year) if cur else None
        if ch.amount is not None and prior is not None and prior.value:
            return ratio(ch.amount, prior)
        return None
    vals = read_target(view, t, p)
    if not vals:
        return None
    return vals[0] if len(vals) == 1 else sum_values(vals, t.label)


def multi_op(b: Builder, p: Parsed, corpus: Corpus) -> None:
    views = _multi_views(p, corpus)
    if not views:
        years = "、".join(str(y) for y in p.years)
        b.add(f"文件中没有{years}年的预算文件。现有文件：{catalogue_text(corpus)}。")
        b.abstained = True
        return
    if not p.targets:
        if p.want_change:
            p.targets = [Target("metric", "revenue_total", METRICS["revenue_total"].name)]
        elif re.search(r"几个部门|哪些部门|多少个部门|几家|哪些单位", p.q):
            # a question about the corpus itself
            b.add(f"现有{cn(len(views))}份预算文件：{catalogue_text(views, limit=50)}。")
            return
        else:
            b.add("文件中没有找到问题所问的数据项；请换一种说法（例如：收入总计、项目支出、三公经费）。")
            b.abstained = True
            return
    t = p.targets[0]
    if len(p.targets) > 1 and p.targets[1].kind == "metric" and t.kind == "metric" \
            and METRICS[p.targets[1].key].group == t.key:
        t = p.targets[1]   # 三公经费里的公务接待费 -> 公务接待费
    label = t.shown + ("占比" if p.measure == "share" else "增长率" if p.measure == "change" else "")
    rows: list[tuple[DocView, Value]] = []
    missing: list[DocView] = []
    for v in views:
        m = _measure(b, p, v, t)
        if m is None:
            missing.append(v)
        else:
            rows.append((v, m))
    if not rows:
        b.add(f"文件中没有{label}的数据（{catalogue_text(corpus)}）。")
        b.abstained = True
        return
    years = {v.doc.year for v, _ in rows}
    name = (lambda v: f"{v.name}（{v.doc.year}年）") if len(years) > 1 else (lambda v: v.name)
    amount_word = ("最高", "最低") if p.measure in ("share", "change") else ("最多", "最少")
    if p.op == "sum":
        total = sum_values([m for _, m in rows], "合计")
        items = "；".join(f"{name(v)}{say(b, m)}" for v, m in rows)
        b.add(f"{label}：{items}。合计{b.num(total)}。")
    elif p.op == "compare":
        rows_sorted = sorted(rows, key=lambda r: -comparable(r[1]))
        items = "，".join(f"{name(v)}为{say(b, m)}" for v, m in rows)
        hi, lo = rows_sorted[0], rows_sorted[-1]
        hv, lv = align([hi[1], lo[1]])   # a 元 table against a 万元 one: one unit, the conversion shown
        if len(rows) >= 2 and hv.unit == lv.unit:
            if hv.value == lv.value:
                b.add(f"{label}：{items}，两者相同。")
            else:
                gap = hv.value - lv.value
                if "." in hv.text() + lv.text():
                    gap = q2(gap)
                diff = Value(gap, "个百分点" if hv.unit == "%" else hv.unit, "差额",
                             formula=f"{hv.shown()} − {lv.shown()} = {fmt(gap)}", inputs=[hv, lv],
                             expr=f"{hv.arg()} - {lv.arg()}")
                more = "更快" if p.measure == "change" else "更高" if p.measure == "share" else "多"
                b.add(f"{label}：{items}。{hi[0].name}{more}，高出{b.num(diff)}。")
                if coarsened([hv, lv]):
                    b.add(PRECISION_NOTE)
        else:
            b.add(f"{label}：{items}。")
    elif p.op == "rank":
        ordered = sorted(rows, key=lambda r: (-comparable(r[1]) if p.rank_desc else comparable(r[1])))
        n = p.top_n or len(ordered)
        head = ordered[:n]
        word = "从高到低" if p.rank_desc else "从低到高"
        if p.top_n == 1:
            v, m = head[0]
            ties = [(x, y) for x, y in ordered if comparable(y) == comparable(m) and y.unit == m.unit]
            word = amount_word[0] if p.rank_desc else amount_word[1]
            if len(ties) > 1:
                top = f"{label}并列{word}的是{'、'.join(name(x) + say(b, y) for x, y in ties)}。"
            else:
                top = f"{label}{word}的是{name(v)}，为{say(b, m)}。"
            tail = ordered[len(ties):]
            rest = "、".join(f"{name(x)}{say(b, y)}" for x, y in tail[:MAX_LISTED])
            if len(tail) > MAX_LISTED:
                rest += f"等{cn(len(tail))}个"
            b.add(top + (f"其余依次为：{rest}。" if rest else ""))
        else:
            items = "；".join(f"{ordinal(i + 1)}，{name(v)} {say(b, m)}" for i, (v, m) in enumerate(head))
            rest = "、".join(f"{name(x)}{say(b, y)}" for x, y in ordered[n:n + MAX_LISTED])
            b.add(f"按{label}{word}：{items}。" + (f"其后为：{rest}。" if rest else ""))
    else:  # list
        kept = []
        for v, m in rows:
            if p.condition and p.condition[0] == "gt":
                threshold = Decimal(re.sub(r"[^\d.]", "", p.condition[1]))
                value = m.value
                if "万" in p.condition[1] and is_money(m.unit):
                    value = convert(m.value, m.unit, "万元")   # 超过100万元 holds for 1,500,000元
                if value > threshold:
                    kept.append((v, m))
            elif m.value != 0:
                kept.append((v, m))
        if kept:
            items = "；".join(f"{name(v)}{say(b, m)}" for v, m in kept)
            cond = "超过所问标准" if p.condition and p.condition[0] == "gt" else "不为零"
            b.add(f"{label}{cond}的有：{items}。")
            others = [(v, m) for v, m in rows if all(v is not k for k, _ in kept)]
            if others:
                more = f"等{cn(len(others))}个" if len(others) > MAX_LISTED else ""
                b.add(f"其余：{'、'.join(name(v) + say(b, m) for v, m in others[:MAX_LISTED])}{more}。")
        else:
            b.add(f"没有部门的{label}满足条件。")
    silent = []
    for v in missing:
        absent = absent_evidence(v, t)
        if absent is not None:
            i = b.cite(absent[1])
            b.add(f"（{name(v)}：{absent[0]}[{i + 1}]。）")
        else:
            silent.append(v)
    if silent:
        b.add(f"（{'、'.join(name(v) for v in silent)}的文件中没有{t.shown}的数据。）")
    if len(years) > 1 and p.op in ("sum", "compare", "rank"):
        b.add("注意：各文件年度不同。")

