"""Extraction suite: field-level precision / recall / F1 against the gold YAML, per document and table kind.

Matching. A gold value sits at the span of its quote; an extracted value at its provenance span. They pair
when they are of the same table kind (or both narrative) and their spans are equal — or, failing that,
overlap. Several candidates at one place (a sentence stating 收入总计 and 支出总计 with one number) are
paired greedily by agreement. A pair is *correct* when the values are equal as Decimals (no tolerance);
for narrative facts the fact name must agree too (the name is what the number means there). Column and
row agreement of table values are reported separately: they are secondary, since a printed table can put a
value under the wrong header (gold marks those with `# shifted`, which also names the accepted column).

Scope of precision. The gold labels part of each document, so precision only counts extracted values in
the labeled scope: table values whose span lies inside a gold-covered region (the run of source lines from
the first to the last gold value of one table kind, in document order), and narrative facts whose name is
one of the shared fact names, for documents with narrative gold."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from extractor.departments import clean_department
from extractor.models import BudgetDocument

from .dataset import FACT_NAMES, SAMPLES, GoldDoc, GoldValue, load_text
from .metrics import PRF, Agreement, norm_label

MAX_LISTED = 300  # misses / false positives kept in the JSON (the counts are always complete)


@dataclass
class Extracted:
    kind: str            # table kind, or "narrative" for facts
    row: str
    code: str
    column: str          # column path; the fact name for narrative facts
    value: Decimal
    unit: str
    start: int
    end: int
    quote: str
    prov_ok: bool        # quote == source span


def flatten(doc: BudgetDocument, text: str) -> tuple[list[Extracted], list[Any], list[Any]]:
    """(amounts from tables and facts, text facts, indicators)."""
    values: list[Extracted] = []
    for table, row, cell in doc.amounts():
        p = cell.amount.prov
        values.append(Extracted(str(table.kind.value), row.label, row.code, cell.column, cell.amount.value,
                                cell.amount.unit, p.char_start, p.char_end, p.quote, p.check(text)))
    texts = []
    for fact in doc.facts:
        if fact.amount is not None:
            p = fact.amount.prov
            values.append(Extracted("narrative", fact.qualifier, "", fact.name, fact.amount.value, fact.amount.unit,
                                    p.char_start, p.char_end, p.quote, p.check(text)))
        elif fact.text is not None:
            texts.append(fact)
    return values, texts, list(doc.indicators)


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    s = text.rfind("\n", 0, start) + 1
    e = text.find("\n", end)
    return s, len(text) if e < 0 else e


def gold_regions(gold: list[GoldValue], text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) for each run of consecutive gold table values of one kind, in document order."""
    spans = sorted((g.char_start, g.char_end, g.table) for g in gold
                   if g.table != "narrative" and g.char_start is not None and g.char_end is not None)
    regions: list[tuple[int, int, str]] = []
    for s, e, kind in spans:
        ls, le = _line_bounds(text, s, e)
        if regions and regions[-1][2] == kind:
            regions[-1] = (regions[-1][0], max(regions[-1][1], le), kind)
        else:
            regions.append((ls, le, kind))
    return regions


def _region_of(regions: list[tuple[int, int, str]], start: int, end: int) -> str | None:
    for s, e, kind in regions:
        if s <= start and end <= e:
            return kind
    return None


def column_agrees(g: GoldValue, e: Extracted) -> bool:
    got = norm_label(e.column)
    return got in {norm_label(c) for c in (g.column, *g.alt_columns)}


def column_leaf_agrees(g: GoldValue, e: Extracted) -> bool:
    """The lowest header level only: '金额' under '收入/金额' agrees here, not in `column_agrees`."""
    got = norm_label(e.column).split("/")[-1]
    return got in {norm_label(c).split("/")[-1] for c in (g.column, *g.alt_columns)}


def row_agrees(g: GoldValue, e: Extracted) -> bool:
    if g.code and e.code and g.code == e.code:
        return True
    return norm_label(g.row) == norm_label(e.row)


def _is_correct(g: GoldValue, e: Extracted) -> bool:
    if e.value != g.value:
        return False
    return g.table != "narrative" or e.column == g.column


def _pair_score(g: GoldValue, e: Extracted) -> tuple[int, ...]:
    return (int(_is_correct(g, e)), int(e.value == g.value), int(column_agrees(g, e)), int(row_agrees(g, e)),
            int((e.start, e.end) == (g.char_start, g.char_end)))


class _SpanIndex:
    def __init__(self, items: list[Extracted]):
        self.items = sorted(items, key=lambda x: (x.start, x.end))
        self.starts = [x.start for x in self.items]

    def overlapping(self, start: int, end: int) -> list[Extracted]:
        # values are short, so any overlap starts within a bounded window before `end`
        i = bisect.bisect_left(self.starts, start - 400)
        j = bisect.bisect_left(self.starts, end)
        return [x for x in self.items[i:j] if x.start < end and start < x.end]


@dataclass
class DocResult:
    source: str
    prf: PRF = field(default_factory=PRF)
    by_table: dict[str, PRF] = field(default_factory=lambda: defaultdict(PRF))
    column: Agreement = field(default_factory=Agreement)
    column_shifted: Agreement = field(default_factory=Agreement)
    column_leaf: Agreement = field(default_factory=Agreement)
    row: Agreement = field(default_factory=Agreement)
    unit: Agreement = field(default_factory=Agreement)
    name: Agreement = field(default_factory=Agreement)      # narrative: fact name of the value at that place
    span_exact: Agreement = field(default_factory=Agreement)  # matched pairs whose span equals the gold span
    integrity: Agreement = field(default_factory=Agreement)   # all extracted values: quote == source span
    texts: PRF = field(default_factory=PRF)
    indicators: dict[str, PRF] = field(default_factory=lambda: defaultdict(PRF))
    metadata: dict[str, bool] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def _miss(gold: GoldDoc, g: GoldValue, reason: str, text: str, got: Extracted | None = None) -> dict[str, Any]:
    line = text.count("\n", 0, g.char_start or 0) + 1
    out = {"source": gold.source, "table": g.table, "row": g.row, "code": g.code, "column": g.column,
           "value": str(g.value), "quote": g.quote, "line": line, "yaml_line": g.yaml_line, "reason": reason}
    if got is not None:
        out.update(got_value=str(got.value), got_kind=got.kind, got_row=got.row, got_column=got.column)
    return out


def _diagnose(g: GoldValue, index: _SpanIndex, used: set[int]) -> tuple[str, Extracted | None]:
    here = index.overlapping(g.char_start or 0, g.char_end or 0)
    if not here:
        return "not extracted", None
    other_kind = [x for x in here if x.kind != g.table]
    if other_kind:
        return f"extracted as {other_kind[0].kind}", other_kind[0]
    return "value already paired with another gold entry", here[0]


def score_document(gold: GoldDoc, doc: BudgetDocument | None, text: str) -> DocResult:
    res = DocResult(gold.source)
    golds = [g for g in gold.values if g.resolved]
    extracted, text_facts, indicators = flatten(doc, text) if doc is not None else ([], [], [])
    for e in extracted:
        res.integrity.add(e.prov_ok)

    index = _SpanIndex(extracted)
    used: set[int] = set()
    pairs: list[tuple[GoldValue, Extracted]] = []
    # Pass 1: identical spans; pass 2: overlapping spans, for what is left.
    for exact in (True, False):
        candidates = []
        done = {id(g) for g, _ in pairs}
        for gi, g in enumerate(golds):
            if id(g) in done:
                continue
            for x in index.overlapping(g.char_start or 0, g.char_end or 0):
                if x.kind != g.table or id(x) in used:
                    continue
                if exact and (x.start, x.end) != (g.char_start, g.char_end):
                    continue
                candidates.append((_pair_score(g, x), -gi, g, x))
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        taken: set[int] = set()
        for _, _, g, x in candidates:
            if id(g) in taken or id(x) in used:
                continue
            taken.add(id(g))
            used.add(id(x))
            pairs.append((g, x))
    paired = {id(g) for g, _ in pairs}
    unmatched = [g for g in golds if id(g) not in paired]

    regions = gold_regions(golds, text)
    has_narrative = any(g.table == "narrative" for g in golds)
    for e in extracted:
        if id(e) in used:
            continue
        if e.kind == "narrative":
            scope = "narrative" if has_narrative and e.column in FACT_NAMES else None
        else:
            scope = _region_of(regions, e.start, e.end)
        if scope is None:
            continue
        res.by_table[scope].extracted += 1
        res.false_positives.append({"source": gold.source, "table": scope, "extracted_kind": e.kind, "row": e.row,
                                    "column": e.column, "value": str(e.value), "quote": e.quote,
                                    "line": text.count("\n", 0, e.start) + 1})

    for g in golds:
        res.by_table[g.table].gold += 1
    for g, e in pairs:
        t = res.by_table[g.table]
        t.extracted += 1
        t.matched += 1
        ok = _is_correct(g, e)
        t.correct += ok
        res.span_exact.add((e.start, e.end) == (g.char_start, g.char_end) and e.prov_ok)
        res.unit.add(norm_label(e.unit) == norm_label(g.unit))
        if g.table == "narrative":
            res.name.add(e.column == g.column)
            res.row.add(norm_label(e.row) == norm_label(g.row))
        else:
            (res.column_shifted if g.shifted else res.column).add(column_agrees(g, e))
            res.column_leaf.add(column_leaf_agrees(g, e))
            res.row.add(row_agrees(g, e))
        if not ok:
            reason = "wrong value" if e.value != g.value else "wrong fact name"
            res.misses.append(_miss(gold, g, reason, text, e))
    for g in unmatched:
        reason, got = _diagnose(g, index, used)
        res.misses.append(_miss(gold, g, reason, text, got))
    for t in res.by_table.values():
        res.prf.add(t)

    _score_texts(res, gold, text_facts, text)
    _score_indicators(res, gold, indicators, text)
    if doc is not None:
        res.metadata = {
            "department": clean_department(doc.department) == clean_department(gold.department),
            "year": doc.year == gold.year, "kind": doc.kind == gold.kind, "unit": doc.unit == gold.unit,
        }
    return res


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _text_norm(text: str) -> str:
    return norm_label(text).rstrip("。；;，,.")


def _score_texts(res: DocResult, gold: GoldDoc, facts: list[Any], text: str) -> None:
    """Text facts (reasons, 职责): the fact overlapping the gold quote whose text is the gold text (or holds
    the quote); trailing punctuation aside."""
    golds = [g for g in gold.texts if g.resolved]
    res.texts.gold = len(golds)
    res.texts.extracted = len(facts)
    used: set[int] = set()
    for g in golds:
        want, quote = _text_norm(g.expected_text), _text_norm(g.quote)
        best: tuple[bool, int] | None = None
        for i, f in enumerate(facts):
            if i in used or not _overlaps((f.prov.char_start, f.prov.char_end), (g.char_start, g.char_end)):
                continue
            got = _text_norm(f.text or "")
            ok = bool(got) and (got == want or quote in got)
            if best is None or (ok and not best[0]):
                best = (ok, i)
        if best is not None:
            used.add(best[1])
            res.texts.matched += 1
            res.texts.correct += best[0]
        if best is None or not best[0]:
            miss = {"source": gold.source, "table": "narrative_text", "row": g.row, "code": "", "column": g.column,
                    "value": g.expected_text[:40], "quote": g.quote, "yaml_line": g.yaml_line,
                    "line": text.count("\n", 0, g.char_start or 0) + 1,
                    "reason": "text not extracted" if best is None else "text differs"}
            if best is not None:
                f = facts[best[1]]
                miss.update(got_value=(f.text or "")[:40], got_kind="narrative", got_column=f.name)
            res.misses.append(miss)


def _comparator(c: str, number: Decimal | None) -> str:
    # a bare number is an equality target ("100%" means = 100%), as the fixtures README writes it
    return c or ("=" if number is not None else "")


def _score_indicators(res: DocResult, gold: GoldDoc, indicators: list[Any], text: str) -> None:
    """Gold indicators are a sample, so only recall is meaningful; `extracted` counts the matched ones."""
    used: set[int] = set()
    for g in gold.indicators:
        if not g.resolved:
            continue
        prf = res.indicators[g.table]
        prf.gold += 1
        miss: dict[str, Any] = {
            "source": gold.source, "table": g.table, "row": g.project, "code": "", "column": g.level3,
            "value": g.value_text, "quote": g.anchor, "line": text.count("\n", 0, g.char_start or 0) + 1,
            "yaml_line": g.yaml_line, "reason": "indicator not extracted"}
        value_span = g.value_span() or (g.char_start or 0, g.char_end or 0)
        candidates = []
        for i, ind in enumerate(indicators):
            if i in used or str(getattr(ind.table, "value", ind.table)) != g.table:
                continue
            span = (ind.prov.char_start, ind.prov.char_end)
            if _overlaps(span, (g.char_start or 0, g.char_end or 0)):
                # the value's own place first, then a name that agrees (an anchor can hold two indicators)
                candidates.append((_overlaps(span, value_span), norm_label(ind.level3) == norm_label(g.level3), -i))
        if candidates:
            i = -max(candidates)[2]
            ind = indicators[i]
            used.add(i)
            prf.matched += 1
            prf.extracted += 1
            wrong = [name for name, ok in (
                ("level3", norm_label(ind.level3) == norm_label(g.level3)),
                ("number", ind.number == g.number),
                ("comparator", g.number is None or _comparator(ind.comparator, ind.number) == g.comparator),
            ) if not ok]
            prf.correct += not wrong
            if not wrong:
                continue
            miss.update(reason="indicator: wrong " + "/".join(wrong), got_value=ind.value_text,
                        got_kind=str(getattr(ind.table, "value", ind.table)), got_column=ind.level3)
        res.misses.append(miss)


# ------------------------------------------------------------------------------------------------ suite


def _default_extract(path: Path) -> BudgetDocument:
    from extractor.pipeline import extract_file

    return extract_file(path)


def _prf_dict(prf: PRF) -> dict[str, Any]:
    return prf.as_dict()


def run_extraction(gold_docs: list[GoldDoc], samples: Path = SAMPLES,
                   extract: Callable[[Path], BudgetDocument] = _default_extract) -> dict[str, Any]:
    """Score the extractor on every gold document; a JSON-ready result."""
    from extractor.errors import BudgetQAError

    total = PRF()
    by_table: dict[str, PRF] = defaultdict(PRF)
    indicators: dict[str, PRF] = defaultdict(PRF)
    agg = {k: Agreement() for k in ("column", "column_shifted", "column_leaf", "row", "unit", "name", "span_exact",
                                   "integrity")}
    texts = PRF()
    meta: dict[str, Agreement] = defaultdict(Agreement)
    by_doc: dict[str, Any] = {}
    misses: list[dict[str, Any]] = []
    fps: list[dict[str, Any]] = []
    unresolved: list[str] = []
    for gold in gold_docs:
        text = load_text(gold.source, samples)
        if not any(g.resolved for g in gold.values) and not gold.problems:
            gold.resolve(text)
        unresolved.extend(gold.problems)
        try:
            doc, error = extract(samples / gold.source), ""
        except BudgetQAError as exc:
            doc, error = None, str(exc)
        r = score_document(gold, doc, text)
        r.error = error
        total.add(r.prf)
        for k, v in r.by_table.items():
            by_table[k].add(v)
        for k, v in r.indicators.items():
            indicators[k].add(v)
        for k in agg:
            a: Agreement = getattr(r, k)
            agg[k].agree += a.agree
            agg[k].total += a.total
        texts.add(r.texts)
        for k, ok in r.metadata.items():
            meta[k].add(ok)
        by_doc[gold.source] = {
            **_prf_dict(r.prf), "error": r.error,
            "provenance_accuracy": r.span_exact.rate, "column_agreement": r.column.rate, "row_agreement": r.row.rate,
            "metadata": r.metadata, "by_table": {k: _prf_dict(v) for k, v in sorted(r.by_table.items())},
        }
        misses.extend(r.misses)
        fps.extend(r.false_positives)
    return {
        "suite": "extraction", "status": "ok", "documents": len(gold_docs),
        "overall": _prf_dict(total),
        "by_doc": by_doc,
        "by_table": {k: _prf_dict(v) for k, v in sorted(by_table.items())},
        "provenance_accuracy": agg["span_exact"].rate,
        "provenance_integrity": agg["integrity"].rate,
        "agreement": {k: agg[k].as_dict() for k in ("column", "column_shifted", "column_leaf", "row", "unit",
                                                                     "name")},
        "texts": _prf_dict(texts),
        "indicators": {k: _prf_dict(v) for k, v in sorted(indicators.items())},
        "metadata": {k: v.rate for k, v in sorted(meta.items())},
        "counts": gold_counts(gold_docs),
        "miss_summary": summarise(misses, ("source", "table", "reason")),
        "miss_by_field": summarise(misses, ("table", "column", "reason")),
        "fp_summary": summarise(fps, ("source", "table", "extracted_kind")),
        "misses": misses[:MAX_LISTED], "false_positives": fps[:MAX_LISTED],
        "unresolved": unresolved,
    }


def summarise(items: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Largest groups first, each with one example."""
    groups: Counter[tuple[str, ...]] = Counter(tuple(str(i.get(k, "")) for k in keys) for i in items)
    first: dict[tuple[str, ...], dict[str, Any]] = {}
    for i in items:
        first.setdefault(tuple(str(i.get(k, "")) for k in keys), i)
    return [{**dict(zip(keys, key, strict=True)), "count": n, "example": first[key]}
            for key, n in groups.most_common()]


def gold_counts(gold_docs: list[GoldDoc]) -> dict[str, Any]:
    per_table: Counter[str] = Counter()
    per_doc: dict[str, int] = {}
    for d in gold_docs:
        per_table.update(v.table for v in d.values)
        per_doc[d.source] = len(d.values)
    return {"values": sum(per_doc.values()), "values_by_table": dict(sorted(per_table.items())),
            "values_by_doc": per_doc, "texts": sum(len(d.texts) for d in gold_docs),
            "indicators": sum(len(d.indicators) for d in gold_docs),
            "unresolved": sum(len(d.problems) for d in gold_docs)}
