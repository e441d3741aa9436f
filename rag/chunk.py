"""Structure-aware chunks: small, deterministic, each pointing back at the exact source span.

- narrative: paragraphs outside tables (short ones merged, long ones cut at sentence ends), prefixed with
  department, year and section path;
- row: one table row rendered as a self-contained sentence — department, year, table title, code, label,
  column headers, values and unit — e.g.
  `许昌市人民政府办公室 2024年 一般公共预算基本支出表：30101 基本工资 合计198.82万元 人员经费198.82万元`;
  table lines no extracted row covers (performance targets, rows the parser could not read) become row
  chunks from their printed text, so every printed number is findable whatever the extractor missed;
- table: one summary per table (title, unit, header, total row, row labels);
- indicator: one performance indicator, where the extractor produced them.

Chunk text is what is embedded and ranked; `char_start`/`char_end` are the span a citation quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from extractor.models import TABLE_NAMES, BudgetDocument, Indicator, Section, Table, TableKind, TableRow

MAX_NARRATIVE = 260   # characters of source text per narrative chunk
MERGE_BELOW = 90      # paragraphs shorter than this are merged with the next one of the same section
MAX_LINE = 300        # a raw table line longer than this is cut into pieces
MAX_LABELS = 200      # characters of row labels listed in a table summary

# Column roles (extractor.tables.columns) in words, for columns printed without a usable header.
ROLE_NAMES = {
    "total": "合计", "basic": "基本支出", "project": "项目支出", "personnel": "人员经费", "public": "公用经费",
    "wages": "工资福利支出", "family": "对个人和家庭的补助", "goods": "商品和服务支出", "capital": "资本性支出",
    "project_operating": "运转类项目", "project_specific": "特定目标类项目", "gp": "一般公共预算",
    "gp_fiscal": "财政拨款", "gov_fund": "政府性基金预算", "state_capital": "国有资本经营预算",
    "current": "本年收入", "carryover": "上年结转", "sangong_total": "三公经费合计",
    "sangong_abroad": "因公出国（境）费", "sangong_vehicle": "公务用车购置及运行费",
    "sangong_vehicle_purchase": "公务用车购置费", "sangong_vehicle_operation": "公务用车运行费",
    "sangong_reception": "公务接待费",
}
# Tables whose rows are text (targets, indicators): their lines are kept even without a number.
TEXT_TABLES = {TableKind.dept_performance, TableKind.project_performance, TableKind.generic}
_GENERIC_COLUMN = re.compile(r"^(列\s*\d+|\s*)$")
_SENTENCE_END = re.compile(r"[。；;！？!?]")
_HAS_CONTENT = re.compile(r"[\u3400-\u9fff0-9]")
_YEAR_PREFIX = re.compile(r"^\s*(?:19|20)\d{2}\s*年度?\s*")


@dataclass
class Chunk:
    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    index_text: str = ""  # what BM25 indexes when it differs from `text` (see `render_row`)

    @property
    def lexical_text(self) -> str:
        return self.index_text or self.text

    @property
    def char_start(self) -> int:
        return int(self.metadata["char_start"])

    @property
    def char_end(self) -> int:
        return int(self.metadata["char_end"])


@dataclass
class _Line:
    start: int
    end: int
    text: str


def _lines(text: str, start: int, end: int) -> list[_Line]:
    out, pos = [], start
    for raw in text[start:end].split("\n"):
        s, e = pos, pos + len(raw)
        pos = e + 1
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(s + lead, s + lead + len(stripped), stripped))
    return out


def _flat(text: str) -> str:
    """Printed cells and wrapped lines as one readable line."""
    text = text.replace("|", " ").replace("\t", " ")
    return re.sub(r"\s+", " ", text).strip(" -*#")


def short_title(table: Table) -> str:
    title = _flat(_YEAR_PREFIX.sub("", table.title or "")) or TABLE_NAMES.get(table.kind, "")
    return title.strip("*# ")


def _column_name(column: str, role: str) -> str:
    col = _flat(column)
    if _GENERIC_COLUMN.match(col) or len(col) > 24:
        return ROLE_NAMES.get(role, "")
    # keep the informative end of a long header path (基本支出/人员经费/工资福利支出 -> 人员经费/工资福利支出)
    parts = [p for p in col.split("/") if p]
    return "/".join(parts[-2:]) if len(parts) > 2 else col


def render_row(row: TableRow, unit: str, columns: bool | str = True) -> str:
    """'30101 基本工资 合计198.82万元 人员经费198.82万元' (code, label, then every amount with its column).

    With `columns=False` the column headers are left out: the lexical index of an ordinary row is what
    the row is about (its code and label), not the headers every row of its table repeats — otherwise
    "人员经费多少" would match every row of a table with a 人员经费 column instead of the total or the
    sentence that states it. With `columns="leaf"` only the last header level is kept: a value is about
    its own column (工资福利支出), not the group above it (人员经费)."""
    head = [row.code or _flat(row.code_raw), _flat(row.label)]
    if row.gov_code or row.gov_label:
        head.append(f"（政府经济分类 {row.gov_code} {_flat(row.gov_label)}）".replace("  ", " "))
    if row.category:
        head.append(f"类型{_flat(row.category)}")
    if row.unit_name:
        head.append(f"单位{_flat(row.unit_name)}")
    if row.side:
        head.insert(0, {"income": "收入", "expenditure": "支出"}.get(row.side, row.side))
    cells = []
    for cell in row.cells:
        name = _column_name(cell.column, cell.role) if columns else ""
        if columns == "leaf":
            name = name.split("/")[-1]
        cells.append(f"{name}{cell.amount.raw.strip()}{cell.amount.unit or unit}")
    return " ".join(p for p in head + cells if p)


class _Builder:
    def __init__(self, doc: BudgetDocument, text: str):
        self.doc, self.text = doc, text
        self.chunks: list[Chunk] = []
        year = f"{doc.year}年" if doc.year else ""
        self.prefix = " ".join(p for p in (doc.department, year) if p)
        self.base: dict[str, Any] = {
            "doc_id": doc.doc_id, "source": doc.source, "department": doc.department, "region": doc.region,
            "doc_kind": doc.kind, "unit": doc.unit,
        }
        if doc.year:
            self.base["year"] = int(doc.year)

    def add(self, kind: str, body: str, start: int, end: int, *, table: Table | None = None,
            section: str = "", code: str = "", row: str = "", locator: str = "", group: str = "",
            index_text: str = "") -> None:
        """`group` names what near-duplicate chunks share (one project's indicators, one row printed in
        several tables, one section): retrieval shows few chunks of one group."""
        meta = dict(self.base)
        meta.update(kind=kind, amounts=_count_amounts(self.text[start:end]), table=table.kind.value if table else "",
                    table_title=short_title(table) if table else "", section=section, code=code, row=row,
                    locator=locator, group=group or locator, char_start=int(start), char_end=int(end),
                    ordinal=len(self.chunks))
        self.chunks.append(Chunk(f"{self.doc.doc_id}:{len(self.chunks):04d}", f"{self.prefix} {body}".strip(), meta,
                                 index_text))

    # ---------------------------------------------------------------- narrative

    def narrative(self, table_spans: list[tuple[int, int]]) -> None:
        paragraphs = self._paragraphs(table_spans)
        groups: list[list[tuple[int, int, str]]] = []
        for para in paragraphs:
            last = groups[-1] if groups else None
            if last and last[-1][2] == para[2] and sum(e - s for s, e, _ in last) < MERGE_BELOW \
                    and para[1] - last[0][0] <= MAX_NARRATIVE:
                last.append(para)
            else:
                groups.append([para])
        for group in groups:
            start, end, section = group[0][0], group[-1][1], group[0][2]
            for s, e in self._pieces(start, end):
                label = section or "正文"
                body = f"{label}：{_flat(self.text[s:e])}"
                self.add("narrative", body, s, e, section=section, locator=label, group=label)

    def _paragraphs(self, table_spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
        sections = sorted(self.doc.sections, key=lambda s: (s.char_start, -s.char_end))
        out = []
        for line in _lines(self.text, 0, len(self.text)):
            if any(s <= line.start < e for s, e in table_spans) or not _HAS_CONTENT.search(line.text):
                continue
            out.append((line.start, line.end, self._section_of(sections, line.start)))
        return out

    @staticmethod
    def _section_of(sections: list[Section], pos: int) -> str:
        best = ""
        for s in sections:
            if s.char_start <= pos < max(s.char_end, s.char_start + 1):
                best = s.path  # later (deeper) sections that contain pos win
        return best

    def _pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """Cut [start, end) into pieces of at most MAX_NARRATIVE characters, at sentence ends when possible."""
        out = []
        while end - start > MAX_NARRATIVE:
            window = self.text[start:start + MAX_NARRATIVE]
            cuts = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() > MAX_NARRATIVE // 3]
            cut = start + (cuts[-1] if cuts else MAX_NARRATIVE)
            out.append((start, cut))
            start = cut
            while start < end and self.text[start].isspace():
                start += 1
        if end > start:
            out.append((start, end))
        return out

    # ---------------------------------------------------------------- tables

    def table(self, table: Table) -> None:
        title = short_title(table)
        unit = table.unit or self.doc.unit
        lines = _lines(self.text, table.char_start, table.char_end)
        claimed: list[tuple[int, int]] = []
        data_rows = [(r, self._row_span(r)) for r in table.rows if r.cells]
        data_rows = [(r, sp) for r, sp in data_rows if sp is not None]
        first_data = min((sp[0] for _, sp in data_rows), default=table.char_end)
        indicators = [i for i in self.doc.indicators if table.char_start <= i.prov.char_start < table.char_end]
        if indicators:
            first_data = min(first_data, min(i.prov.char_start for i in indicators))
        header_lines = [ln for ln in lines if ln.end <= first_data and ln.start >= table.title_prov.char_end]
        self._summary(table, title, unit, header_lines, [r for r, _ in data_rows])
        for row, (s, e) in data_rows:
            body = f"{title}：{render_row(row, unit)}"
            # totals and label-less rows (三公 tables) are about their columns; other rows about their label
            about_columns = row.is_total or not _flat(row.label) or len(data_rows) <= 2
            index = f"{self.prefix} {title}：{render_row(row, unit, columns='leaf' if about_columns else False)}"
            self.add("row", body, s, e, table=table, code=row.code, row=_flat(row.label), index_text=index,
                     locator=f"{title}/{_flat(row.label) or row.code}",
                     group=f"{row.code}|{_flat(row.label)}|{'total' if row.is_total else ''}")
            claimed.append((s, e))
        for ind in indicators:
            self._indicator(table, title, ind)
            claimed.append((ind.prov.char_start, ind.prov.char_end))
        header = _flat(" ".join(ln.text for ln in header_lines if not _is_meta_line(ln.text)))[:40]
        text_rows = table.kind in TEXT_TABLES
        for ln in lines:
            if ln.start < first_data or not _HAS_CONTENT.search(ln.text):
                continue
            if not text_rows and not re.search(r"\d", ln.text):
                continue  # a row of labels with empty amounts: the table summary lists the labels
            if any(s < ln.end and ln.start < e for s, e in claimed):
                continue
            for s, e in _cut(ln.start, ln.end, MAX_LINE):
                flat = _flat(self.text[s:e])
                body = f"{title}（单位：{unit}）：{flat}" + (f"（表头：{header}）" if header else "")
                self.add("row", body, s, e, table=table, row=flat[:40], locator=f"{title}/{flat[:20]}")

    def _row_span(self, row: TableRow) -> tuple[int, int] | None:
        provs = [c.amount.prov for c in row.cells] + ([row.label_prov] if row.label_prov else [])
        provs = [p for p in provs if p.char_end > p.char_start]
        if not provs:
            return None
        start, end = min(p.char_start for p in provs), max(p.char_end for p in provs)
        # the code has no provenance of its own: take it in when it is printed before the label on the line
        first = (row.code_raw or row.code).split()[:1]
        if first:
            line_start = self.text.rfind("\n", 0, start) + 1
            found = self.text.find(first[0], line_start, start)
            if found >= 0:
                start = found
        return start, end

    def _summary(self, table: Table, title: str, unit: str, header_lines: list[_Line],
                 rows: list[TableRow]) -> None:
        kind_name = TABLE_NAMES.get(table.kind, "")
        parts = [f"{title}（单位：{unit}" + (f"；{kind_name}" if kind_name and kind_name != title else "") + "）"]
        header = _flat(" ".join(ln.text for ln in header_lines if not _is_meta_line(ln.text)))
        if header:
            parts.append(f"表头：{header[:150]}")
        if table.empty or not rows:
            parts.append("本表无金额数据（空表）")
        totals = [r for r in rows if r.is_total or len(rows) <= 2][:2]
        for r in totals:
            parts.append(f"合计行：{render_row(r, unit)}")
        labels = "、".join(dict.fromkeys(_flat(r.label) for r in rows if r.label and not r.is_total))
        if labels:
            parts.append(f"共{len(rows)}行：{labels[:MAX_LABELS]}")
        self.add("table", "。".join(parts), table.char_start, table.char_end, table=table,
                 locator=title, section=title)

    def _indicator(self, table: Table, title: str, ind: Indicator) -> None:
        levels = "/".join(p for p in (ind.level1, ind.level2) if p)
        body = f"{title}：{ind.project or '部门整体'} {levels} {ind.level3} 指标值{_flat(ind.value_text)}"
        # cite the printed indicator row (name and value), not the bare value
        start = self.text.rfind("\n", table.char_start, ind.prov.char_start) + 1 or ind.prov.char_start
        end = self.text.find("\n", ind.prov.char_end, table.char_end)
        end = ind.prov.char_end if end < 0 else end
        start = max(start, table.char_start)
        self.add("indicator", re.sub(r"\s+", " ", body), start, end, table=table, code=ind.project_code,
                 row=ind.level3, locator=f"{title}/{ind.project}/{ind.level3}".replace("//", "/"),
                 group=f"{title}|{ind.project}")


_AMOUNT = re.compile(r"(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?(?![\d])(?!\s*年)")


def _count_amounts(span: str) -> int:
    """Numbers printed in a span, years (2024年) aside: 0 means the chunk cannot state a figure."""
    return len(_AMOUNT.findall(span))


def _is_meta_line(text: str) -> bool:
    return bool(re.match(r"^[|*\s]*(部门|单位|金额单位|部门/单位|编制单位)[^：:]{0,6}[：:]", text))


def _cut(start: int, end: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, end)) for s in range(start, end, size)]


def chunk_document(doc: BudgetDocument, text: str) -> list[Chunk]:
    """All chunks of one document, in a deterministic order (ids `<doc_id>:<ordinal>`)."""
    builder = _Builder(doc, text)
    tables = sorted(doc.tables, key=lambda t: t.char_start)
    builder.narrative([(t.char_start, t.char_end) for t in tables])
    for table in tables:
        builder.table(table)
    return builder.chunks


__all__ = ["Chunk", "chunk_document", "render_row", "short_title", "TableKind"]
