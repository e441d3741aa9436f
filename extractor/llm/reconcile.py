"""Reconciliation: grounded LLM items against the rule values, then the numeric checks.

- the same printed number read by the rules under the same name: agreement, nothing added;
- the same printed number under another name, or the same fact (name + qualifier) with another value: a
  finding (`llm_disagrees`); the rule value wins, unless the numeric checks show that the rule value is the
  broken one (it takes part in a mismatch that the LLM value resolves): then the LLM value replaces it with
  a finding (`llm_overrides`);
- anything else is new: added with `method = "llm:<model>"`, and the numeric checks are run again; their
  findings that involve an LLM value are added to the document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..models import Amount, BudgetDocument, Cell, Fact, Finding, Table, TableKind, TableRow
from ..provenance import SourceRef
from .binding import compatible, norm_label, same_qualifier
from .grounding import Grounded, GroundedCell
from .schema import LLMFact, LLMTableRow, LLMText
from .selection import Chunk


@dataclass
class Outcome:
    accepted: int = 0
    agreed: int = 0
    rejected: int = 0
    findings: list[Finding] = field(default_factory=list)
    added_spans: set[tuple[int, int]] = field(default_factory=set)


def finding(rule: str, severity: str, message: str, values: list[Amount] | None = None,
            expected: Decimal | None = None, actual: Decimal | None = None) -> Finding:
    diff = actual - expected if expected is not None and actual is not None else None
    return Finding(rule=rule, severity=severity, message=message, values=values or [], expected=expected,
                   actual=actual, difference=diff)


def _span(a: Amount) -> tuple[int, int]:
    return a.prov.char_start, a.prov.char_end


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _involves(f: Finding, spans: set[tuple[int, int]]) -> bool:
    return any(_span(v) in spans for v in f.values)


def _checks(doc: BudgetDocument, text: str) -> list[Finding]:
    try:
        from ..checks import run_checks
    except ImportError:  # the checks engine is optional for this stage
        return []
    return run_checks(doc, text)


class Reconciler:
    def __init__(self, doc: BudgetDocument, text: str, ref: SourceRef, model: str):
        self.doc, self.text, self.ref = doc, text, ref
        self.method = f"llm:{model}"
        self.model = model
        self.out = Outcome()
        self.taken: set[tuple[int, int]] = set()   # spans LLM items agreed on (not added, but read)
        self.llm_cells: dict[tuple[int, int], tuple[TableRow, Cell]] = {}

    # ---- facts ----------------------------------------------------------------------------------------
    def _pick(self, candidates: list[Grounded]) -> Grounded:
        # The same words printed twice: the first occurrence no other LLM item took already.
        for g in candidates:
            if (g.number_span or g.quote_span) not in self.out.added_spans | self.taken:
                return g
        return candidates[0]

    def fact(self, item: LLMFact, candidates: list[Grounded]) -> None:
        g = self._pick(candidates)
        assert g.number_span is not None and g.value is not None
        locator = f"{g.section}/{item.qualifier or item.name}" if g.section else (item.qualifier or item.name)
        ns, ne = g.number_span
        amount = Amount(value=g.value, unit=g.unit, raw=self.text[ns:ne], prov=self.ref.span(ns, ne, locator))
        new = Fact(name=item.name, qualifier=item.qualifier, amount=amount, section=g.section,
                   prov=self.ref.span(*g.quote_span, locator), method=self.method)
        label = f"{item.name}{f'（{item.qualifier}）' if item.qualifier else ''}"
        rule_facts = [f for f in self.doc.facts if f.amount is not None and f.method == "rules"]
        # every fact already on this number (an LLM one too: the model may repeat an item across chunks)
        at_span = [f for f in self.doc.facts if f.amount is not None and _overlaps(_span(f.amount), (ns, ne))]
        if at_span:
            if any(compatible(f.name, item.name) and same_qualifier(f.qualifier, item.qualifier) for f in at_span):
                self.out.agreed += 1
                self.taken.add((ns, ne))
                return
            r = at_span[0]
            who = "规则" if r.method == "rules" else "另一 LLM 项"
            self._disagree(f"LLM 把“{r.amount.raw}”读作 {label}，{who}读作 {r.name}"
                           f"{f'（{r.qualifier}）' if r.qualifier else ''}；保留{who}的结果", [r.amount, amount])
            return
        same = [f for f in rule_facts if compatible(f.name, item.name)
                and norm_label(f.qualifier) == norm_label(item.qualifier)]
        if same:
            if any(f.amount.value == g.value for f in same):
                self.out.agreed += 1
                return
            r = same[0]
            if self._rule_value_broken(r, new):
                self.doc.facts[self.doc.facts.index(r)] = new
                self.out.accepted += 1
                self.out.added_spans.add((ns, ne))
                self.out.findings.append(finding(
                    "llm_overrides", "mismatch",
                    f"{label}：规则值 {r.amount.raw} 与数值核对不符，LLM 值 {amount.raw} 相符，采用 LLM 值",
                    [r.amount, amount], expected=r.amount.value, actual=g.value))
                return
            self._disagree(f"{label}：LLM 值 {amount.raw} 与规则值 {r.amount.raw} 不同；保留规则值",
                           [r.amount, amount], r.amount.value, g.value)
            return
        self.doc.facts.append(new)
        self.out.accepted += 1
        self.out.added_spans.add((ns, ne))

    def _disagree(self, message: str, values: list[Amount], expected: Decimal | None = None,
                  actual: Decimal | None = None) -> None:
        self.out.rejected += 1
        self.out.findings.append(finding("llm_disagrees", "mismatch", message, values, expected, actual))

    def _rule_value_broken(self, rule_fact: Fact, new: Fact) -> bool:
        """The checks flag the rule value, and the same checks pass with the LLM value in its place."""
        assert rule_fact.amount is not None and new.amount is not None
        before = [f for f in _checks(self.doc, self.text)
                  if f.severity == "mismatch" and _involves(f, {_span(rule_fact.amount)})]
        if not before:
            return False
        trial = self.doc.model_copy(deep=False)
        trial.facts = [new if f is rule_fact else f for f in self.doc.facts]
        after = [f for f in _checks(trial, self.text)
                 if f.severity == "mismatch" and _involves(f, {_span(new.amount)})]
        return not after

    # ---- text facts -----------------------------------------------------------------------------------
    def text_fact(self, item: LLMText, candidates: list[Grounded]) -> None:
        for f in self.doc.facts:
            if f.amount is None and compatible(f.name, item.name) and same_qualifier(f.qualifier, item.qualifier) \
                    and f.method == "rules":
                self.out.agreed += 1
                return
        g = self._pick(candidates)
        qs, qe = g.quote_span
        self.out.added_spans.add((qs, qe))
        locator = f"{g.section}/{item.qualifier or item.name}" if g.section else (item.qualifier or item.name)
        self.doc.facts.append(Fact(name=item.name, qualifier=item.qualifier, text="".join(self.text[qs:qe].split()),
                                   prov=self.ref.span(qs, qe, locator), section=g.section, method=self.method))
        self.out.accepted += 1

    # ---- table rows -----------------------------------------------------------------------------------
    def row(self, item: LLMTableRow, g: Grounded, cells: list[GroundedCell], chunk: Chunk) -> None:
        table = self.doc.tables[chunk.table_index] if chunk.table_index is not None else self._table_for(item, g)
        qs, qe = g.quote_span
        rule_cells = {(c.amount.prov.char_start, c.amount.prov.char_end): c
                      for r in table.rows for c in r.cells if c.method == "rules"}
        known = {norm_label(p) for p in table.columns} | {norm_label(p.rsplit("/", 1)[-1]) for p in table.columns}
        target: TableRow | None = None
        for gc in cells:
            if gc.span in self.llm_cells:                 # another item of the reply read this number
                other_row, other = self.llm_cells[gc.span]
                if other_row.label == item.label and norm_label(other.column) == norm_label(gc.column):
                    self.out.agreed += 1
                else:
                    self._disagree(f"{table.title}：两个 LLM 行都读了 {other.amount.raw}（“{other_row.label}”"
                                   f"与“{item.label}”）；保留先读到的", [other.amount])
                continue
            rc = rule_cells.get(gc.span)
            if rc is not None:
                if norm_label(rc.column) == norm_label(gc.column) or \
                        norm_label(rc.column.rsplit("/", 1)[-1]) == norm_label(gc.column.rsplit("/", 1)[-1]):
                    self.out.agreed += 1
                else:
                    self._disagree(f"{table.title} {item.label}：LLM 把 {rc.amount.raw} 放在“{gc.column}”列，"
                                   f"规则放在“{rc.column}”列；保留规则结果", [rc.amount])
                continue
            if table.columns and chunk.table_index is not None and norm_label(gc.column) not in known:
                self.out.rejected += 1
                self.out.findings.append(finding("llm_ungrounded", "malformed",
                                                 f"{table.title} {item.label}：LLM 给出的列“{gc.column}”不在表头中，已舍弃"))
                continue
            if target is None:
                target = self._row_for(table, item, qs, qe)
            locator = f"{table.title} / {item.label} / {gc.column}"
            amount = Amount(value=gc.value, unit=table.unit or self.doc.unit, raw=self.text[gc.span[0]:gc.span[1]],
                            prov=self.ref.span(*gc.span, locator))
            cell = Cell(column=gc.column, amount=amount, method=self.method)
            target.cells.append(cell)
            self.llm_cells[gc.span] = (target, cell)
            self.out.accepted += 1
            self.out.added_spans.add(gc.span)

    def _row_for(self, table: Table, item: LLMTableRow, qs: int, qe: int) -> TableRow:
        line_start = self.text.rfind("\n", 0, qs) + 1
        line_end = self.text.find("\n", qe)
        line_end = len(self.text) if line_end < 0 else line_end
        for r in table.rows:
            spans = [(c.amount.prov.char_start, c.amount.prov.char_end) for c in r.cells]
            if r.label_prov is not None:
                spans.append((r.label_prov.char_start, r.label_prov.char_end))
            if any(line_start <= a < line_end for a, _ in spans):
                return r
        label_prov = None
        if item.label and (k := self.text.find(item.label, qs, qe)) >= 0:
            label_prov = self.ref.span(k, k + len(item.label), f"{table.title} / {item.label}")
        code = re.sub(r"\s", "", item.code)
        row = TableRow(label=item.label, code=code, code_raw=item.code, label_prov=label_prov)
        table.rows.append(row)
        return row

    def _table_for(self, item: LLMTableRow, g: Grounded) -> Table:
        title = item.table_title.strip() or "其他表"
        for t in self.doc.tables:
            if t.kind == TableKind.generic and t.title == title:
                t.char_end = max(t.char_end, g.quote_span[1])
                return t
        k = self.text.find(title) if item.table_title.strip() else -1
        span = (k, k + len(title)) if k >= 0 else g.quote_span
        table = Table(kind=TableKind.generic, title=title, title_prov=self.ref.span(*span, title),
                      unit=self.doc.unit, char_start=min(span[0], g.quote_span[0]), char_end=g.quote_span[1])
        self.doc.tables.append(table)
        return table

    # ---- after everything -----------------------------------------------------------------------------
    def run_checks(self) -> None:
        """The numeric checks over the document with the LLM values; their findings about LLM values."""
        if not self.out.added_spans:
            return
        seen = {(f.rule, f.message) for f in self.doc.findings}
        for f in _checks(self.doc, self.text):
            if _involves(f, self.out.added_spans) and (f.rule, f.message) not in seen:
                self.out.findings.append(f)
