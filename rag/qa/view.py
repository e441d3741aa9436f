"""A read-only index over one BudgetDocument (and its text when known) that the QA engine queries.

Built once per document when the engine loads; every lookup returns `Evidence` that carries the record's
provenance, so whatever the engine states can be cited and verified."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from extractor.departments import clean_department, region_of
from extractor.models import Amount, BudgetDocument, Fact, Indicator, Table, TableKind, TableRow
from extractor.provenance import Provenance

from .text import clean_name, norm

_ROW_TABLE_ORDER = {TableKind.summary: 0, TableKind.fiscal_summary: 1, TableKind.expenditure: 2, TableKind.income: 3}
TOTAL_KEYS = ("合计", "总计", "资金总额", "金额", "预算数", "小计")
_DEPT_SUFFIX = re.compile(r"(局|室|处|中心|办|院|委|会|所|站|队|馆|部|厅|办公室|联络处|政府)$")


@dataclass(frozen=True)
class Evidence:
    """One value read from the records, with where it came from."""

    value: Decimal
    unit: str
    raw: str
    prov: Provenance | None
    label: str
    doc_id: str
    source: str


def evidence(amount: Amount, label: str, doc: BudgetDocument) -> Evidence:
    return Evidence(amount.value, amount.unit or doc.unit, amount.raw, amount.prov, label, doc.doc_id, doc.source)


@dataclass
class Sentence:
    text: str
    start: int
    end: int
    section: str = ""

    @property
    def heading(self) -> bool:
        """A heading or a table-of-contents entry: a title, never an answer."""
        t = self.text.strip()
        return bool(re.match(r"(?:#|-\s|\*\*)", t)) or bool(re.search(r"\n\s*-\s", t)) \
            or (len(t) <= 40 and not re.search(r"[。；，,：:]", t))


@dataclass
class UnitEntry:
    code: str
    name: str
    rows: list[tuple[Table, TableRow]] = field(default_factory=list)


@dataclass
class ProjectEntry:
    name: str
    key: str            # normalised name without its 【tag】
    code: str
    unit_code: str
    unit_name: str
    category: str
    table: Table
    row: TableRow


def cell_amount(table: Table, row: TableRow, role: str = "total") -> Amount | None:
    """The row's amount in the column of `role`; for 'total' fall back to the total-like column, then to the
    table's first amount column (every standard template prints its total first)."""
    cell = row.get(role)
    if cell:
        return cell.amount
    if role != "total" or not row.cells:
        return None
    for key in TOTAL_KEYS:
        for c in row.cells:
            leaf = c.column.split("/")[-1]
            if key in leaf and not c.role.startswith(("basic", "project", "carryover")):
                return c.amount
    first = table.columns[0] if table.columns else None
    for c in row.cells:
        if c.column == first:
            return c.amount
    return None


def _is_unit_row(row: TableRow) -> bool:
    if row.code_kind == "unit":
        return True
    return bool(re.fullmatch(r"\d{3}|\d{6}", row.code)) and bool(_DEPT_SUFFIX.search(norm(row.label)))


class DocView:
    def __init__(self, doc: BudgetDocument, text: str | None = None):
        self.doc = doc
        self.text = text
        self.name = clean_department(doc.department) or doc.title
        self.region = doc.region or region_of(self.name)
        self.city = _short_region(self.region)
        self.facts: dict[str, list[Fact]] = {}
        for f in doc.facts:
            self.facts.setdefault(f.name, []).append(f)
        self.units: dict[str, UnitEntry] = {}
        self.projects: list[ProjectEntry] = []
        self.functional: list[tuple[str, str, Table, TableRow]] = []
        self.economic: list[tuple[str, str, str, Table, TableRow]] = []
        self.rows_by_label: dict[str, list[tuple[Table, TableRow]]] = {}   # every row with an amount, by label
        self._index_tables()
        self.indicators: list[Indicator] = list(doc.indicators)
        self.sentences: list[Sentence] = self._split_sentences() if text else []

    # ---- tables ------------------------------------------------------------------------------------
    def tables(self, *kinds: TableKind) -> list[Table]:
        return [t for k in kinds for t in self.doc.tables if t.kind == k and not t.empty]

    def _index_tables(self) -> None:
        for t in self.doc.tables:
            unit_code, unit_name = "", ""
            for r in t.rows:
                if _is_unit_row(r) and t.kind in (TableKind.income, TableKind.expenditure, TableKind.projects,
                                                  TableKind.project_performance, TableKind.economic,
                                                  TableKind.gp_expenditure):
                    entry = self.units.setdefault(r.code, UnitEntry(r.code, clean_department(r.label)))
                    entry.rows.append((t, r))
                    unit_code, unit_name = r.code, clean_department(r.label)
                    continue
                if t.kind in (TableKind.projects, TableKind.project_performance) and not r.is_total:
                    if r.code_kind == "project" or (t.kind == TableKind.projects and r.label and r.cells
                                                     and not r.code_kind):
                        if cell_amount(t, r) is None or not clean_name(r.label):
                            continue
                        self.projects.append(ProjectEntry(
                            name=re.sub(r"\s+", "", r.label), key=clean_name(r.label), code=r.code,
                            unit_code=unit_code if not r.unit_name else "", unit_name=r.unit_name or unit_name,
                            category=r.category, table=t, row=r))
                if t.kind in (TableKind.expenditure, TableKind.gp_expenditure, TableKind.gov_fund,
                              TableKind.state_capital) and r.code_kind == "functional" and len(r.code) in (3, 5, 7):
                    self.functional.append((r.code, norm(r.label), t, r))
                if t.kind in (TableKind.gp_basic, TableKind.economic) and r.code_kind == "economic" and r.code:
                    self.economic.append((r.code, r.gov_code, norm(r.label), t, r))
                if r.cells and clean_name(r.label):
                    self.rows_by_label.setdefault(clean_name(r.label), []).append((t, r))
        for rows in self.rows_by_label.values():
            # the department-wide tables first: a label printed in several tables is read where it is whole
            rows.sort(key=lambda tr: _ROW_TABLE_ORDER.get(tr[0].kind, len(_ROW_TABLE_ORDER)))
        self.projects = _dedupe_projects(self.projects)

    @property
    def row_labels(self) -> list[str]:
        return list(self.rows_by_label)

    def project_count(self) -> int:
        return len({p.code or p.key for p in self.projects})

    # ---- facts -------------------------------------------------------------------------------------
    def fact(self, name: str, qualifier: str | None = None, section_hint: str | None = None) -> Fact | None:
        """The first fact of that name (and qualifier, matched loosely); `section_hint` prefers the fact in
        the section whose path contains it."""
        found = [f for f in self.facts.get(name, []) if f.amount is not None]
        if qualifier == "":
            found = [f for f in found if not f.qualifier]
        elif qualifier is not None:
            q = norm(qualifier)
            exact = [f for f in found if norm(f.qualifier) == q]
            found = exact or [f for f in found if q and f.qualifier and (q in norm(f.qualifier) or norm(f.qualifier) in q)]
        else:
            # no qualifier asked: the department-wide statement (qualified ones are about a fund or a part)
            found = [f for f in found if not f.qualifier] or found
        if not found:
            return None
        if section_hint:
            preferred = [f for f in found if section_hint in norm(f.section)]
            if preferred:
                return preferred[0]
        return found[0]

    def facts_of(self, name: str, qualifier: str = "") -> list[Fact]:
        """All facts of a name whose qualifier matches loosely ('' = unqualified only)."""
        q = norm(qualifier)
        out = []
        for f in self.facts.get(name, []):
            fq = norm(f.qualifier)
            if (not q and not fq) or (q and fq and (fq == q or q in fq or fq in q)):
                out.append(f)
        return out

    def ev(self, amount: Amount, label: str) -> Evidence:
        return evidence(amount, label, self.doc)

    # ---- narrative ---------------------------------------------------------------------------------
    def narrative_end(self) -> int:
        starts = [t.title_prov.char_start for t in self.doc.tables if t.title_prov]
        return min(starts) if starts else len(self.text or "")

    def section_at(self, offset: int) -> str:
        best = ""
        for s in self.doc.sections:
            if s.char_start <= offset < max(s.char_end, s.char_start + 1):
                best = s.path or s.title
        return best

    def narrative_regions(self) -> list[tuple[int, int]]:
        """The text outside the tables: before the first one and, where a document explains its figures after
        its tables (决算 templates), between and after them."""
        text = self.text or ""
        spans = sorted((t.title_prov.char_start if t.title_prov else t.char_start, t.char_end)
                       for t in self.doc.tables if t.char_end > 0)
        if not spans:
            return [(0, self.narrative_end())]
        out, start = [], 0
        for s0, s1 in spans:
            if s0 > start:
                out.append((start, s0))
            start = max(start, s1)
        if start < len(text):
            out.append((start, len(text)))
        return out

    def _split_sentences(self) -> list[Sentence]:
        out: list[Sentence] = []
        for r0, r1 in self.narrative_regions():
            out.extend(self._sentences_in(r0, r1))
        return self._split_headings(out)

    def _sentences_in(self, begin: int, end: int) -> list[Sentence]:
        text = self.text or ""
        out: list[Sentence] = []
        start = begin
        # Sentences end at 。；！？ and at line breaks after a heading-like line; wrapped lines are joined.
        for m in re.finditer(r"[。；;！？]|\n(?=\s*(?:#|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第[一二三四五六七八九十]+部分))"
                             r"|\n\s*\n(?=\s*(?:#|\*\*))", text[begin:end]):
            stop = begin + m.end()
            piece = text[start:stop]
            lead = len(piece) - len(piece.lstrip())
            tail = len(piece.rstrip())
            if piece.strip():
                s0, s1 = start + lead, start + tail
                out.append(Sentence(text[s0:s1], s0, s1, self.section_at(s0)))
            start = stop
        if start < end and text[start:end].strip():
            piece = text[start:end]
            s0 = start + len(piece) - len(piece.lstrip())
            s1 = start + len(piece.rstrip())
            out.append(Sentence(text[s0:s1], s0, s1, self.section_at(s0)))
        return out

    def _split_headings(self, out: list[Sentence]) -> list[Sentence]:
        text = self.text or ""
        # a heading line glued to the paragraph under it is a sentence of its own
        split: list[Sentence] = []
        for s in out:
            m = re.match(r"(\s*(?:#+|\*\*)[^\n]{0,40}\n|[^\n。；]{1,30}\n)\s*\S", s.text)
            if m and ("#" in m.group(1) or "**" in m.group(1) or re.match(r"\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)", s.text)):
                head = m.group(1).rstrip()
                rest = s.text[len(m.group(1)):]
                lead = len(rest) - len(rest.lstrip())
                split.append(Sentence(head, s.start, s.start + len(head), s.section))
                r0 = s.start + len(m.group(1)) + lead
                split.append(Sentence(text[r0:s.end], r0, s.end, s.section))
            else:
                split.append(s)
        # the table of contents repeats the part headings (第一部分 …) before the body: it answers nothing
        return [s for s in split if s.start >= self._body_start()] or split

    def _body_start(self) -> int:
        parts = [sec for sec in self.doc.sections if sec.level == 1 and not re.match(r"目\s*录", sec.title)]
        if not parts:
            return 0
        key = re.sub(r"\s", "", parts[0].title)[:4]
        again = [sec.char_start for sec in parts[1:] if re.sub(r"\s", "", sec.title)[:4] == key]
        return again[0] if again else parts[0].char_start

    def sentence_prov(self, s: Sentence, locator: str = "") -> Provenance:
        return Provenance(doc_id=self.doc.doc_id, source=self.doc.source, locator=locator or s.section or "说明",
                          char_start=s.start, char_end=s.end, quote=s.text)


def _short_region(region: str) -> str:
    r = region or ""
    m = re.match(r"^(.{2,3}?)(?:省|市|自治州|地区|盟|县|区)", r)
    if m and len(m.group(1)) >= 2:
        return m.group(1)
    return r[:2]


def _dedupe_projects(items: list[ProjectEntry]) -> list[ProjectEntry]:
    """The same project appears in 项目支出表 and 项目绩效目标表: keep one per (code or name, amount),
    preferring the 项目支出表 row (its category and unit are printed there)."""
    seen: dict[tuple[str, str], ProjectEntry] = {}
    order: list[tuple[str, str]] = []
    for p in sorted(items, key=lambda p: p.table.kind != TableKind.projects):
        amount = cell_amount(p.table, p.row)
        key = (p.key, str(amount.value) if amount else "")
        by_code = next((k for k, v in seen.items() if p.code and v.code == p.code), None)
        if key in seen or by_code:
            kept = seen[key] if key in seen else seen[by_code]  # type: ignore[index]
            if not kept.code and p.code:
                kept.code = p.code
            if not kept.unit_code and p.unit_code:
                kept.unit_code, kept.unit_name = p.unit_code, p.unit_name or kept.unit_name
            continue
        seen[key] = p
        order.append(key)
    return [seen[k] for k in order]
