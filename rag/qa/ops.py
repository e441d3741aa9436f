"""Answering one parsed question: the gates (ambiguity, unknown department or year, 决算 / execution /
forecasts a budget cannot answer), the default metric, then the operation (single.py, across.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .across import multi_op
from .catalogue import METRICS
from .compose import Builder
from .corpus import Corpus
from .execute import extractive, subject
from .fallback import PassageSearch, content_of
from .phrasing import catalogue_text
from .question import Parsed
from .single import change_op, diff_op, indicator_list_op, indicators_op, projects_op, share_op, value_op
from .targets import Target
from .view import DocView


@dataclass
class TurnState:
    """What a conversation remembers of a turn, for the follow-ups."""

    views: list[DocView] = field(default_factory=list)
    units: list[tuple[DocView, str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    whole: Target | None = None
    op: str = "value"
    years: list[int] = field(default_factory=list)
    fund: str = ""


def run(p: Parsed, corpus: Corpus, search: PassageSearch) -> tuple[Builder, TurnState]:
    b = Builder()
    state = TurnState(list(p.views), list(p.units), list(p.targets), p.whole, p.op, list(p.years), p.fund)
    if p.ambiguous and not p.views:
        m = p.ambiguous[0]
        opts = "、".join(f"{v.name}（{v.doc.year}年{v.doc.kind}）" for v in m.views)
        b.add(f"“{m.alias}”可能指：{opts}。请问您指的是哪一个？")
        b.abstained = True
        return b, state
    if p.op in ("sum", "compare", "rank", "list"):
        multi_op(b, p, corpus)
        state.views = state.views or []
        return b, state
    if not p.views and not p.units and not p.targets and p.op not in ("change", "prior", "projects") \
            and not p.unknown_department:
        words = content_of(p.q, _masked(p))
        b.add(f"文件中没有关于“{words}”的数据。" if 2 <= len(words) <= 16 else "文件中没有与问题对应的数据。")
        b.add(f"现有文件：{catalogue_text(corpus)}。")
        b.abstained = True
        return b, state
    views = _single_scope(b, p, corpus)
    if views is None:
        return b, state
    state.views = views[:1] if not p.views else state.views
    if _gates(b, p, views):
        return b, state
    if not p.targets:
        default = _default_metric(p)
        if default:
            p.targets = [Target("metric", default, METRICS[default].name)]
            state.targets = list(p.targets)
        elif p.op in ("projects", "indicators"):
            pass
        elif extractive(b, p, views, search):
            return b, state
        else:
            words = content_of(p.q, _masked(p))
            what = f"关于“{words}”的数据" if 2 <= len(words) <= 16 else "与问题对应的数据"
            b.add(f"文件中没有{subject(views[0]) if len(views) == 1 else ''}{what}。")
            b.abstained = True
            return b, state
    if p.purpose and p.targets and p.op == "value":
        # "用于什么": the sentence that says what the money is for, when the document has one
        phrases = tuple(ph for t in p.targets if t.kind == "metric" for ph in METRICS[t.key].phrases) or \
            tuple(t.label for t in p.targets)
        if extractive(b, p, views, search, phrases=phrases, threshold=0.3):
            return b, state
    if p.op == "indicator":
        indicators_op(b, p, views)
    elif p.op == "projects":
        projects_op(b, p, views[0])
    elif p.op == "indicators":
        indicator_list_op(b, p, views[0])
    elif p.op == "diff":
        diff_op(b, p, views[0])
    elif p.op in ("share", "times"):
        share_op(b, p, views[0])
    elif p.op in ("change", "prior"):
        change_op(b, p, views[0])
    else:
        for view in views:
            value_op(b, p, view, search)
    if p.alternatives:
        b.add(f"（注：问题中的部门名称也可能指{'、'.join(p.alternatives)}，如需请写明全称或城市。）")
    return b, state


def _default_metric(p: Parsed) -> str:
    """A question naming no metric: '今年预算和去年比涨了多少' is about the total budget."""
    if p.op in ("change", "prior"):
        return "revenue_total"
    if p.op in ("projects", "indicators") or not re.search(r"多少|几|金额|规模|总额", p.q):
        return ""
    if re.search(r"预算|收入|收支", p.q):
        return "revenue_total"
    if re.search(r"花(?:了)?多少|花费|开支|支出", p.q):
        return "expenditure_total"
    return ""


def _masked(p: Parsed) -> str:
    q = p.q
    for m in p.mentions:
        q = q[:m.start] + "□" * (m.end - m.start) + q[m.end:]
    for c in p.cities + p.unknown_cities:
        q = re.sub(re.escape(c) + "市?", lambda x: "□" * len(x.group(0)), q)
    return q


def _single_scope(b: Builder, p: Parsed, corpus: Corpus) -> list[DocView] | None:
    if p.views:
        return p.views
    entity = []
    for t in p.targets:
        for v, _x in t.projects + t.indicators:
            if v not in entity:
                entity.append(v)
    if entity:
        return entity
    if p.unknown_department or p.unknown_cities:
        name = p.unknown_department or (p.unknown_cities[0] + "市")
        b.add(f"文件中没有“{name}”的预算文件。现有文件：{catalogue_text(corpus)}。")
        b.abstained = True
        return None
    city_docs = [v for c in p.cities for v in corpus.cities.get(c, [])]
    if len(city_docs) == 1:
        return city_docs
    if len(corpus.views) == 1:
        return corpus.views
    if not corpus.views:
        b.add("文件中没有任何已导入的预算文件。请先运行 budgetqa ingest data/samples 导入文件。")
        b.abstained = True
        return None
    b.add(f"请说明是哪个部门的问题。现有文件：{catalogue_text(city_docs or corpus.views)}。")
    b.abstained = True
    return None


def _gates(b: Builder, p: Parsed, views: list[DocView]) -> bool:
    """Questions the budget documents cannot answer by their nature; True when the answer abstains."""
    view = views[0]
    kinds = {v.doc.kind for v in views}
    if p.final_accounts and "决算" not in kinds:
        b.add(f"文件中没有{view.name}的决算数据：现有文件是{view.doc.year}年部门预算，只有预算数，没有决算（实际支出）数。")
        b.abstained = True
        return True
    if p.execution and "决算" not in kinds:
        b.add(f"文件中没有{view.name}的预算执行数据：{view.doc.year}年部门预算只列出预算安排数，不反映执行或实际支出情况。")
        b.abstained = True
        return True
    year = p.years[0] if p.years else None
    doc_year = view.doc.year
    if year is not None and doc_year is not None and year != doc_year:
        if year == doc_year - 1 and p.op in ("value", "prior", "change") and not p.future:
            if p.op == "value":
                p.op = "prior"
            return False
        later = "，文件不含预测数" if year > doc_year else ""
        b.add(f"文件中没有{view.name}{year}年的预算数据（现有的是{doc_year}年{view.doc.kind}{later}）。")
        b.abstained = True
        return True
    if p.future:
        b.add(f"文件中没有{view.name}未来年度的预算或预测数据（现有的是{doc_year}年{view.doc.kind}）。")
        b.abstained = True
        return True
    if p.per_capita:
        b.add(f"文件中没有{view.name}的人员数（编制数或实有人数），无法计算人均数。")
        b.abstained = True
        return True
    return False

