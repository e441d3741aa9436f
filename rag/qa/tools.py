"""The LLM agent's tools: record lookup over the offline engine's catalogue and structured path, hybrid search,
and a calculator. Each call registers the evidence it returns (rag.qa.grounding.Registry) so the final answer's
numbers can be verified against exactly what the model was shown; document text goes out fenced.

Tool schemas are plain OpenAI function specs (bound with `bind_tools`); `Toolbox.call` validates the
arguments with the same pydantic models and never raises: an error is a message the model can act on."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from extractor.numbers import fold_width

from .catalogue import (
    FUNCTIONAL_CLASSES,
    METRICS,
    Value,
    fmt,
    functional_rows_named,
    read_economic,
    read_functional,
    read_metric,
)
from .grounding import Registry, fence, shown
from .text import lcs_span, norm
from .view import DocView, cell_amount

MAX_ROWS = 15          # items per tool result: enough to answer, small enough to keep the prompt short
MAX_LIST = 60          # documents listed by list_departments
QUOTE_CHARS = 1200     # a passage shown to the model is cut here (its evidence keeps the whole span)
CONTEXT_CHARS = 60     # context shown around a short quote (a table cell's number)


class ListDepartments(BaseModel):
    """列出已导入的全部预算文件：部门、地区、年度、类型（预算/决算）、文件名。"""


class GetMetric(BaseModel):
    """查某部门某年度的一个指标值（结构化记录，带证据编号）。metric 可以是指标名（如 收入总计、基本支出、项目支出、
    人员经费、公用经费、三公经费、公务接待费、机关运行经费、政府采购预算、车辆、内设科室），也可以是功能分类科目的编码或名称
    （2010301、行政运行、一般公共服务支出）或经济分类的编码或名称（30101、基本工资、办公费）。"""

    department: str = Field(description="部门名称、简称或别名，如 大数据局、驻京联络处")
    metric: str = Field(description="指标名、科目编码或科目名称")
    year: int | None = Field(default=None, description="年度；不填则返回该部门所有年度")


class FindProject(BaseModel):
    """按名称（全称或其中一部分）查找项目支出表/项目绩效目标表中的项目及其金额。"""

    name: str = Field(description="项目名称或其中一部分")
    department: str | None = Field(default=None, description="部门（可选）")
    year: int | None = None


class GetIndicators(BaseModel):
    """查绩效指标（部门整体或某个项目的绩效目标表）：一级/二级/三级指标和指标值。"""

    department: str | None = None
    year: int | None = None
    project: str | None = Field(default=None, description="项目名称或其中一部分；不填为部门整体绩效目标")
    name: str | None = Field(default=None, description="三级指标名称或其中一部分（可选）")


class SearchDocuments(BaseModel):
    """在文档原文（说明文字和表格）中混合检索（BM25 + 向量），返回带证据编号的原文段落。"""

    query: str
    department: str | None = None
    year: int | None = None
    k: int = Field(default=5, ge=1, le=10)


class Calculate(BaseModel):
    """计算算术表达式（+ - * / 和括号），记录公式和输入，答案中的计算结果据此核验。占比写成 a / b * 100 且 unit 填 %。"""

    expression: str = Field(description="只含数字和 + - * / ( ) 的表达式，数字照抄证据")
    unit: str = Field(default="", description="结果的单位：万元、%、个……")


class AskRecords(BaseModel):
    """用离线结构化引擎回答一个完整、独立的问题（写明部门和年度），返回带证据编号的答案与数字核验状态。适合占比、
    同比变化、跨部门比较、排名、计数等。"""

    question: str


TOOLS: dict[str, type[BaseModel]] = {
    "list_departments": ListDepartments, "get_metric": GetMetric, "find_project": FindProject,
    "get_indicators": GetIndicators, "search_documents": SearchDocuments, "calculate": Calculate,
    "ask_records": AskRecords,
}


def tool_specs() -> list[dict[str, Any]]:
    """OpenAI function specs of the tools (what `bind_tools` sends)."""
    out = []
    for name, model in TOOLS.items():
        schema = model.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        out.append({"type": "function", "function": {
            "name": name, "description": re.sub(r"\s+", "", model.__doc__ or ""), "parameters": schema}})
    return out


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=None)


class Toolbox:
    """The tools over one engine's corpus and passage search, with one answer's evidence registry."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.corpus = engine.corpus
        self.reg = Registry()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    # ---- dispatch ------------------------------------------------------------------------------------
    def call(self, name: str, args: dict[str, Any] | None) -> str:
        model = TOOLS.get(name)
        if model is None:
            return f"没有名为 {shown(str(name))[:40]} 的工具；可用：{', '.join(TOOLS)}"
        try:
            parsed = model.model_validate(args or {})
        except ValidationError as exc:
            errs = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
            return f"参数不合法（{errs}）"
        self.calls.append((name, parsed.model_dump()))
        try:
            return getattr(self, name)(parsed)
        except Exception as exc:  # noqa: BLE001 — a tool failure is reported to the model, not raised
            return f"工具执行出错（{type(exc).__name__}），请换一种方式查询。"

    # ---- scope ---------------------------------------------------------------------------------------
    def _views(self, department: str | None, year: int | None) -> tuple[list[DocView], str]:
        views = list(self.corpus.views)
        if department and norm(department):
            q = norm(department)
            found: list[DocView] = []
            for m in self.corpus.mentions(q):
                found += [v for v in ([m.unit[0]] if m.unit else m.views) if v not in found]
            if not found:
                matches = self.corpus.resolver.resolve(q)
                if matches and matches[0].score >= 0.5:
                    top = [m.department for m in matches if m.score >= matches[0].score - 0.05]
                    found = [v for d in top for v in self.corpus.by_name.get(d, [])]
            if not found:
                return [], f"没有“{shown(department)}”的文件。现有部门：{'、'.join(sorted(self.corpus.by_name))}"
            views = found
        if year:
            dated = [v for v in views if v.doc.year == year]
            if not dated:
                have = "、".join(sorted({f"{v.doc.year}年" for v in views if v.doc.year}))
                return [], f"{'该部门' if department else '文件中'}没有{year}年的文件（现有：{have or '无年度'}）"
            views = dated
        return views, ""

    @staticmethod
    def _doc(v: DocView) -> dict[str, Any]:
        return {"department": shown(v.name), "year": v.doc.year, "kind": v.doc.kind, "source": v.doc.source}

    def _context(self, v: DocView, start: int, end: int, locator: str) -> dict[str, str]:
        """The line around a short quote (a number alone says little), as evidence of its own: the model
        may use the figures next to the one it asked for, and they verify like any quote."""
        text = v.text or ""
        if not text or end - start > 40:
            return {}
        a = max(text.rfind("\n", 0, start) + 1, start - CONTEXT_CHARS)
        b = text.find("\n", end)
        b = min(b if b >= 0 else len(text), end + CONTEXT_CHARS // 3)
        while a < start and text[a].isspace():
            a += 1
        while b > end and text[b - 1].isspace():
            b -= 1
        if (a, b) == (start, end):
            return {}
        item = self.reg.add(doc_id=v.doc.doc_id, source=v.doc.source, locator=locator, quote=text[a:b],
                            char_start=a, char_end=b)
        return {"context": shown(text[a:b]), "context_evidence": item.id}

    def _value(self, v: DocView, val: Value) -> dict[str, Any]:
        """A record value with its evidence id (or, computed, its formula and its inputs' ids)."""
        out: dict[str, Any] = {"item": shown(val.label), "value": val.text(), "unit": val.unit}
        if val.ev is not None and val.ev.prov is not None:
            p = val.ev.prov
            item = self.reg.add_prov(p, unit=val.unit, amounts=[(val.value, val.unit)])
            out.update(evidence=item.id, locator=shown(p.locator), quote=shown(p.quote))
            out.update(self._context(v, p.char_start, p.char_end, p.locator))
        elif val.formula:
            out["formula"] = shown(val.formula)
            out["inputs"] = [self._value(v, i) for i in val.inputs]
            for prov in val.sources:
                out.setdefault("sources", []).append(self.reg.add_prov(prov).id)
            self.reg.formula(val.expr, val.unit, val.formula)
        return out

    # ---- tools ---------------------------------------------------------------------------------------
    def list_departments(self, _a: ListDepartments) -> str:
        views = self.corpus.views
        rows: list[Any] = [{**self._doc(v), "region": shown(v.region or "")} for v in views[:MAX_LIST]]
        if len(views) > MAX_LIST:
            rows.append(f"……共{len(views)}个文件，其余从略；请用部门名直接查询")
        return fence(_dumps(rows), tool="list_departments")

    def get_metric(self, a: GetMetric) -> str:
        views, problem = self._views(a.department, a.year)
        if problem:
            return problem
        rows, misses = [], []
        for v in views:
            val = _read(v, a.metric)
            if val is None:
                misses.append(f"{v.name}{v.doc.year or ''}年")
                continue
            rows.append({**self._doc(v), **self._value(v, val)})
        if not rows:
            return (f"记录中没有“{shown(a.metric)}”（{'、'.join(misses)}）。可换指标名、用 search_documents 检索原文，"
                    "或如实回答文件中没有。")
        return fence(_dumps(rows), tool="get_metric")

    def find_project(self, a: FindProject) -> str:
        views, problem = self._views(a.department, a.year)
        if problem:
            return problem
        want = norm(a.name)
        scored = []
        for v in views:
            for pr in v.projects:
                _s, n = lcs_span(want, pr.key)
                if n >= min(4, len(want), len(pr.key)) and n >= 2:
                    scored.append((n + (5 if want in pr.key else 0), v, pr))
        if not scored:
            return f"没有名称含“{shown(a.name)}”的项目。"
        scored.sort(key=lambda s: -s[0])
        rows = []
        for _score, v, pr in scored[:MAX_ROWS]:
            row: dict[str, Any] = {**self._doc(v), "project": shown(pr.name), "code": pr.code,
                                   "unit": shown(pr.unit_name), "category": shown(pr.category)}
            cells = []
            for c in pr.row.cells[:6]:
                amount = c.amount
                cells.append({"column": shown(c.column), **self._value(v, Value(
                    amount.value, amount.unit or pr.table.unit, f"{pr.name}/{c.column}", ev=v.ev(amount, pr.name)))})
            total = cell_amount(pr.table, pr.row)
            if total is not None:
                row["amount"] = fmt(total.value, total.raw)
            row["cells"] = cells
            rows.append(row)
        return fence(_dumps(rows), tool="find_project")

    def get_indicators(self, a: GetIndicators) -> str:
        views, problem = self._views(a.department, a.year)
        if problem:
            return problem
        rows = []
        for v in views:
            for ind in v.indicators:
                if a.project:
                    if not ind.project or lcs_span(norm(a.project), norm(ind.project))[1] < min(4, len(norm(a.project))):
                        continue
                elif ind.project and not a.name:
                    continue
                if a.name and lcs_span(norm(a.name), norm(ind.level3))[1] < min(2, len(norm(a.name))):
                    continue
                amounts = [(ind.number, ind.unit)] if ind.number is not None else []
                item = self.reg.add_prov(ind.prov, amounts=amounts)
                rows.append({**self._doc(v), "project": shown(ind.project) or "（部门整体）",
                             "level1": shown(ind.level1), "level2": shown(ind.level2), "level3": shown(ind.level3),
                             "value_text": shown(ind.value_text), "evidence": item.id})
                if len(rows) >= MAX_ROWS:
                    break
        if not rows:
            return "没有符合条件的绩效指标。"
        return fence(_dumps(rows), tool="get_indicators")

    def search_documents(self, a: SearchDocuments) -> str:
        views, problem = self._views(a.department, a.year)
        if problem:
            return problem
        rows = []
        retriever = getattr(self.engine.search, "retriever", None)
        if retriever is not None:
            hits = retriever.search(a.query, k=a.k, doc_ids=[v.doc.doc_id for v in views], auto_scope=False)
            by_id = {v.doc.doc_id: v for v in views}
            for h in hits:
                quote = retriever.quote(h)
                v = by_id.get(h.doc_id)
                item = self.reg.add(doc_id=h.doc_id, source=h.source, locator=h.locator, quote=quote,
                                    char_start=h.char_start, char_end=h.char_end)
                rows.append({**(self._doc(v) if v else {"source": h.source}), "evidence": item.id,
                             "locator": shown(h.locator), "text": shown(quote[:QUOTE_CHARS])})
        else:
            for p in self.engine.search.search(a.query, views, k=a.k):
                s = next((s for s in p.view.sentences if s.start == p.start), None)
                if s is None:
                    continue
                item = self.reg.add_prov(p.view.sentence_prov(s, p.locator))
                rows.append({**self._doc(p.view), "evidence": item.id, "locator": shown(item.locator),
                             "text": shown(s.text[:QUOTE_CHARS])})
        if not rows:
            return "没有检索到相关原文。"
        return fence(_dumps(rows), tool="search_documents")

    def calculate(self, a: Calculate) -> str:
        from rag.verify import VerifyError, _evaluate, scan_numbers

        try:
            result, operands = _evaluate(a.expression)  # the verifier's own arithmetic: both agree exactly
        except VerifyError as exc:
            return f"无法计算：{exc.reason}"
        known = {k for it in self.reg.items if not it.flagged for k, _u in it.amounts}
        known |= {m.value for it in self.reg.items for m in scan_numbers(it.verifiable)}
        missing = [fmt(o) for o in operands if o not in known and o not in (Decimal(100), Decimal(1))]
        rounded = result.quantize(Decimal("0.01")) if abs(result) < Decimal("1e15") else result
        self.reg.formula(a.expression, a.unit, f"{fold_width(a.expression)} = {rounded}{a.unit}")
        out = {"expression": a.expression, "result": str(rounded), "unit": a.unit,
               "exact": str(result.normalize() if result == result.to_integral_value() else round(result, 6))}
        if missing:
            out["warning"] = f"输入 {'、'.join(missing)} 不在已取得的证据中，结果将标为未核实"
        return _dumps(out)

    def ask_records(self, a: AskRecords) -> str:
        from .conversation import merge
        from .ops import run
        from .question import parse

        p = parse(a.question, self.corpus, None)
        merge(p, None)
        b, _state = run(p, self.corpus, self.engine.search)
        ans = b.answer(a.question)
        ids: dict[int, str] = {}
        for i, c in enumerate(b.citations):
            amounts = [(Decimal(n.value), n.unit) for n in ans.numbers
                       if n.citation == i and n.status == "verified" and re.fullmatch(r"-?\d+(?:\.\d+)?", n.value)]
            item = self.reg.add(doc_id=c.doc_id, source=c.source, locator=c.locator, quote=c.quote,
                                char_start=c.char_start, char_end=c.char_end, page=c.page,
                                unit=b._cite_units.get(i, ""), amounts=amounts)
            ids[i] = item.id
        for shown_as, expr, unit in b.formulas:
            self.reg.formula(expr, unit, shown_as)
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{ids.get(int(m.group(1)) - 1, '?')}]", ans.answer)
        out = {"answer": shown(text), "abstained": ans.abstained,
               "numbers": [{"value": n.value, "unit": n.unit, "status": n.status,
                            **({"evidence": ids[n.citation]} if n.citation in ids else {}),
                            **({"formula": shown(n.formula)} if n.formula else {})} for n in ans.numbers],
               "evidence": [{"evidence": ids[i], "source": c.source, "locator": shown(c.locator),
                             "quote": shown(c.quote[:QUOTE_CHARS])} for i, c in enumerate(b.citations)]}
        return fence(_dumps(out), tool="ask_records")


# ---- reading a metric named by the model ----------------------------------------------------------------

def _metric_key(text: str, whole: bool) -> str | None:
    """The catalogue metric `text` names: its key or name exactly, else the longest pattern match (covering
    most of the text when `whole`)."""
    t = norm(text)
    for key, m in METRICS.items():
        if t in (key, norm(m.name)):
            return key
    best, best_len = None, 0
    for key, m in METRICS.items():
        for pat in m.patterns:
            hit = re.search(pat, t)
            if hit and len(hit.group(0)) > best_len:
                best, best_len = key, len(hit.group(0))
    if best is None or (whole and best_len < 0.6 * len(t)):
        return None
    return best


def _read(v: DocView, metric: str) -> Value | None:
    t = norm(metric)
    code = re.sub(r"\s", "", fold_width(metric))
    key = _metric_key(metric, whole=True)
    if key and METRICS[key].unit != "text":
        val = read_metric(v, key)
        if val is not None:
            return val
    if re.fullmatch(r"2\d{2}(?:\d{2}){0,2}", code):
        return read_functional(v, code, "")
    if re.fullmatch(r"[35]\d{2}(?:\d{2})?", code):
        return read_economic(v, code=code)
    named = functional_rows_named(v, t)
    if named:
        c, lab = named[0]
        return read_functional(v, c, lab)
    for c, names in FUNCTIONAL_CLASSES.items():
        if any(n in t for n in names):
            val = read_functional(v, c, names[0])
            if val is not None:
                return val
    val = read_economic(v, name=t)
    if val is not None:
        return val
    key = _metric_key(metric, whole=False)
    if key and METRICS[key].unit != "text":
        return read_metric(v, key)
    return None
