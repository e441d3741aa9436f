"""Table blocks -> `Table` records: merge page splits, separate header from data, read every amount cell
with its column path, role and exact provenance."""

from __future__ import annotations

import re
from decimal import Decimal

from ..grid import GridCell, GridRow
from ..models import Amount, Cell, Table, TableKind, TableRow
from ..numbers import parse_amount
from ..provenance import SourceRef
from ..segment import TableBlock
from .columns import FUNCTIONAL_KINDS, functional_columns, role_of
from .layout import (
    LABEL_HEADERS,
    NUMBERING,
    TOTAL_LABELS,
    column_paths,
    header_key,
    is_code,
    merge_wrapped_rows,
    norm_header,
    sequence_paths,
    split_header,
)

TWO_SIDED = {TableKind.summary, TableKind.fiscal_summary}
PERFORMANCE = {TableKind.dept_performance, TableKind.project_performance}
_ECON_CODE = re.compile(r"^(3\d\d|5\d\d)(\d\d)?$")


def merge_page_splits(blocks: list[TableBlock]) -> list[tuple[TableBlock, list[GridRow], list[GridRow], int]]:
    """Consecutive pieces with the same kind and title whose header repeats (or is absent) are one table.
    Returns (first block, header rows, data rows, number of pieces)."""
    merged: list[tuple[TableBlock, list[GridRow], list[GridRow], int]] = []
    for block in blocks:
        header, data = split_header(block.rows)
        if merged:
            first, h0, d0, parts = merged[-1]
            same_title = re.sub(r"\s", "", first.title) == re.sub(r"\s", "", block.title)
            if first.kind == block.kind and same_title and (not header or header_key(header) == header_key(h0)) \
                    and first.kind not in (TableKind.dept_performance,):
                merged[-1] = (first, h0, d0 + data, parts + 1)
                continue
        merged.append((block, header, data, 1))
    return merged


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _amount(ref: SourceRef, cell: GridCell, unit: str, locator: str) -> Amount | None:
    value = parse_amount(cell.text)
    if value is None:
        return None
    return Amount.model_construct(value=value, unit=unit, raw=cell.text, prov=ref.span(cell.start, cell.end, locator))


class TableParser:
    """Parses one merged table. Kind-specific decisions live in small methods."""

    def __init__(self, ref: SourceRef, block: TableBlock, header: list[GridRow], data: list[GridRow], parts: int):
        self.ref = ref
        self.block = block
        self.kind = block.kind
        self.header = header
        self.unit = block.unit or "万元"
        data, self.wrapped = merge_wrapped_rows(data)
        self.data = data
        self.parts = parts
        self.header_width = max((len(r.cells) for r in header), default=0)
        self.header_text = "/".join(norm_header(c.text) for r in header for c in r.cells if c.text)

    # ---- header --------------------------------------------------------------------------------
    def amount_start_in_header(self) -> int:
        """First header column that names an amount (not a code/label column)."""
        if not self.header:
            return 0
        top = [norm_header(c.text) for c in self.header[0].cells]
        for j, name in enumerate(top):
            if name and name not in LABEL_HEADERS:
                return j
        return len(top)

    def columns(self, n_amount: int) -> list[str]:
        start = self.amount_start_in_header()
        width = max(self.header_width, start + n_amount)
        if self.kind in FUNCTIONAL_KINDS:
            return functional_columns(self.header_text, n_amount)
        paths = sequence_paths(self.header, start, width) if self.header else None
        if paths is None:
            paths = column_paths(self.header, start, width) if self.header else []
        paths = [p or f"列{i + 1}" for i, p in enumerate(paths)]
        if len(paths) < n_amount:
            paths += [f"列{i + 1}" for i in range(len(paths), n_amount)]
        return paths

    # ---- rows ----------------------------------------------------------------------------------
    def parse(self) -> Table:
        title_prov = self.ref.span(self.block.title_start, self.block.title_end, self.block.title)
        if self.kind in TWO_SIDED:
            rows, columns = self.parse_two_sided()
        elif self.kind in PERFORMANCE:
            rows, columns = self.parse_performance_amounts()
        else:
            rows, columns = self.parse_label_amount()
        empty = not any(r.cells for r in rows)
        return Table.model_construct(
            kind=self.kind, title=self.block.title, title_prov=title_prov,
            department_line=self.block.department_line, unit=self.unit, columns=columns, rows=rows,
            empty=empty, parts=self.parts, char_start=self.block.title_start,
            char_end=(self.data[-1].end if self.data else self.block.end))

    def _cells(self, row_cells: list[GridCell], paths: list[str], label: str) -> list[Cell]:
        out = []
        for k, cell in enumerate(row_cells):
            if not cell.text:
                continue
            path = paths[k] if k < len(paths) else f"列{k + 1}"
            amount = _amount(self.ref, cell, self.unit, f"{self.block.title} / {label} / {path}")
            if amount is not None:
                out.append(Cell.model_construct(column=path, role=role_of(self.kind, path), amount=amount))
        return out

    def parse_label_amount(self) -> tuple[list[TableRow], list[str]]:
        a_h = self.amount_start_in_header()
        width = self.header_width
        starts = []
        for row in self.data:
            last_text = -1
            for j, c in enumerate(row.cells):
                if c.text and parse_amount(c.text) is None:
                    last_text = j
                elif c.text and is_code(c.text) and j < a_h:
                    last_text = j
            shift = width - len(row.cells) if width else 0
            starts.append(max(last_text + 1, a_h - max(shift, 0)) if self.header else last_text + 1)
        n_amount = max((len(r.cells) - s for r, s in zip(self.data, starts, strict=True)), default=0)
        paths = self.columns(n_amount)
        rows: list[TableRow] = []
        prev_parts: list[str] = []
        prev_econ: tuple[str, str] | None = None
        for row, start in zip(self.data, starts, strict=True):
            label_cells = row.cells[:start]
            texts = [c for c in label_cells if c.text]
            words = [c for c in texts if not is_code(c.text)]
            codes = [c for c in texts if is_code(c.text)]
            label_cell = words[0] if words else None
            label = label_cell.text if label_cell else ""
            tr = TableRow.model_construct(label=label, code="", code_raw="", code_kind="", gov_code="", gov_label="",
                                          side="", category="", unit_name="", is_total=False,
                                          label_prov=self.ref.span(label_cell.start, label_cell.end, label)
                                          if label_cell else None, cells=[])
            tr.is_total = bool(TOTAL_LABELS.match(label)) or (not label and not codes and not rows)
            if tr.is_total and not label:
                tr.label = "合计"
            self.describe_row(tr, row, start, label_cells, words, codes, prev_parts, prev_econ)
            if self.kind in FUNCTIONAL_KINDS and tr.code_kind == "functional":
                prev_parts = self._code_parts(label_cells, row)
            if self.kind == TableKind.gp_basic and tr.code:
                prev_econ = (tr.code, tr.label)
            tr.cells = self._cells(row.cells[start:], paths, tr.label or tr.code)
            rows.append(tr)
        return rows, paths[:max(n_amount, 0)] if n_amount else paths

    def _code_parts(self, label_cells: list[GridCell], row: GridRow) -> list[str]:
        return [c.text for c in label_cells]

    def describe_row(self, tr: TableRow, row: GridRow, start: int, label_cells: list[GridCell],
                     words: list[GridCell], codes: list[GridCell], prev_parts: list[str],
                     prev_econ: tuple[str, str] | None) -> None:
        """Fill codes, categories and units of a row, by table kind."""
        header_names = [norm_header(c.text) for r in self.header for c in r.cells]
        if self.kind in FUNCTIONAL_KINDS:
            has_unit_col = any("单位代码" in h or "单位代 码" in h for h in header_names)
            label_idx = label_cells.index(words[0]) if words else start
            code_area = label_cells[:label_idx]
            unit_cell = None
            if has_unit_col and code_area and (is_code(code_area[-1].text) or not code_area[-1].text) \
                    and len(code_area) >= 2:
                unit_cell, code_area = code_area[-1], code_area[:-1]
            elif has_unit_col and len(code_area) == 1 and code_area[0].text and len(_digits(code_area[0].text)) in (3, 6) \
                    and " " not in code_area[0].text and not any(c.text for c in code_area[1:]):
                # a unit row whose code sits alone before the name
                pass
            parts = [c.text for c in code_area]
            if any(parts) and len(parts) > 1 and prev_parts and not parts[0]:
                # merged cells: 类/款 printed once for several rows
                filled = list(parts)
                for k, p in enumerate(filled):
                    if p:
                        break
                    if k < len(prev_parts):
                        filled[k] = prev_parts[k]
                parts = filled
            digits = "".join(_digits(p) for p in parts)
            if digits and len(digits) in (3, 5, 7):
                tr.code, tr.code_raw, tr.code_kind = digits, " ".join(p for p in parts if p), "functional"
            elif unit_cell is not None and unit_cell.text:
                tr.code, tr.code_raw, tr.code_kind = unit_cell.text, unit_cell.text, "unit"
            elif digits:
                tr.code, tr.code_raw, tr.code_kind = digits, " ".join(p for p in parts if p), "unit"
            return
        if self.kind == TableKind.gp_basic:
            if codes:
                tr.code, tr.code_raw, tr.code_kind = _digits(codes[0].text), codes[0].text, "economic"
                if len(codes) > 1:
                    tr.gov_code = _digits(codes[1].text)
                if len(words) > 1:
                    tr.gov_label = words[1].text
                if codes[0].start > (words[0].start if words else 0) and prev_econ:
                    # only the government code is printed: the department code spans from the row above
                    tr.gov_code, tr.gov_label = tr.code, tr.label
                    tr.code, tr.label = prev_econ
                    tr.code_raw = ""
            elif prev_econ and not tr.is_total:
                tr.code, tr.label = prev_econ
            return
        if self.kind == TableKind.economic:
            label_idx = label_cells.index(words[0]) if words else start
            before = [c.text for c in label_cells[:label_idx] if c.text]
            after = [c for c in label_cells[label_idx + 1:] if c.text]
            digits = "".join(_digits(p) for p in before)
            if digits and _ECON_CODE.match(digits):
                tr.code, tr.code_raw, tr.code_kind = digits, " ".join(before), "economic"
            elif digits:
                tr.code, tr.code_raw, tr.code_kind = digits, " ".join(before), "unit"
            gov_digits = "".join(_digits(c.text) for c in after if is_code(c.text))
            gov_words = [c.text for c in after if not is_code(c.text)]
            tr.gov_code = gov_digits
            tr.gov_label = gov_words[0] if gov_words else ""
            return
        if self.kind in (TableKind.projects, TableKind.income, TableKind.generic):
            names = [norm_header(c.text) for c in self.header[0].cells] if self.header else []
            for j, c in enumerate(label_cells):
                if not c.text:
                    continue
                h = names[j] if j < len(names) else ""
                if "类型" in h and not is_code(c.text):
                    tr.category = c.text
                elif "项目单位" in h and not is_code(c.text) and "名称" not in h:
                    tr.unit_name = c.text
            if codes:
                tr.code, tr.code_raw = _digits(codes[0].text), codes[0].text
                tr.code_kind = "project" if len(tr.code) > 9 else "unit"
            # the label is the name column, not the category
            name_words = [c for c in words if c.text != tr.category and c.text != tr.unit_name]
            if name_words:
                tr.label = name_words[0].text
                tr.label_prov = self.ref.span(name_words[0].start, name_words[0].end, tr.label)
            if tr.code_kind == "unit" and self.kind == TableKind.projects and not tr.category:
                tr.is_total = False
            return

    # ---- performance tables: amounts sit between a label and the indicator columns -------------
    def parse_performance_amounts(self) -> tuple[list[TableRow], list[str]]:
        width = max(self.header_width, max((len(r.cells) for r in self.data), default=0))
        paths = column_paths(self.header, 0, width) if self.header else [f"列{i + 1}" for i in range(width)]
        rows: list[TableRow] = []
        for row in self.data:
            cells = row.cells
            first = next((j for j, c in enumerate(cells) if c.text and parse_amount(c.text) is not None
                          and not (is_code(c.text) and "." not in c.text and any(
                              d.text and parse_amount(d.text) is None for d in cells[j + 1:j + 3]))), None)
            if first is None:
                continue
            words = [c for c in cells[:first] if c.text and (parse_amount(c.text) is None or len(c.text) > 12)]
            label_cell = words[-1] if words else None
            codes = [c for c in cells[:first] if c.text and is_code(c.text)]
            label = label_cell.text if label_cell else ""
            tr = self._row(label, label_cell, "")
            if codes:
                tr.code, tr.code_raw = _digits(codes[0].text), codes[0].text
                tr.code_kind = "project" if len(tr.code) > 9 else "unit"
            amount_cells = []
            for j in range(first, len(cells)):
                t = cells[j].text
                if t and parse_amount(t) is None:
                    break
                amount_cells.append((j, cells[j]))
            for j, c in amount_cells:
                if not c.text:
                    continue
                path = paths[j] if j < len(paths) and paths[j] else "金额"
                amount = _amount(self.ref, c, self.unit, f"{self.block.title} / {label} / {path}")
                if amount:
                    tr.cells.append(Cell.model_construct(column=path, role=role_of(self.kind, path), amount=amount))
            rows.append(tr)
        return rows, paths

    # ---- two-sided tables (收支总体情况表, 财政拨款收支总体情况表) ---------------------------------
    def parse_two_sided(self) -> tuple[list[TableRow], list[str]]:
        split = self._split_index()
        right_paths = self._right_paths(split)
        rows: list[TableRow] = []
        left_parent = ""
        for row in self.data:
            cells = row.cells
            right_label_idx = None
            for j in range(split, len(cells)):
                t = cells[j].text
                if t and parse_amount(t) is None:
                    right_label_idx = j
                    break
            left = cells[:right_label_idx] if right_label_idx is not None else cells
            left_words = [c for c in left if c.text and parse_amount(c.text) is None]
            left_amounts = [c for c in left if c.text and parse_amount(c.text) is not None]
            if left_words:
                if len(left_words) > 1:
                    left_parent = left_words[0].text
                    label_cell = left_words[-1]
                    label = f"{left_words[0].text}/{left_words[-1].text}"
                elif left and not left[0].text and left_parent and left_words[0] is not left[0]:
                    label_cell = left_words[0]
                    label = f"{left_parent}/{label_cell.text}"
                else:
                    label_cell = left_words[0]
                    label = label_cell.text
                    left_parent = label if len(left) > 2 else ""
                tr = self._row(label, label_cell, "income")
                for c in left_amounts[:1]:
                    amount = _amount(self.ref, c, self.unit, f"{self.block.title} / {label} / 金额")
                    if amount:
                        tr.cells.append(Cell.model_construct(column="金额", role="total", amount=amount))
                rows.append(tr)
            elif left_amounts:
                tr = self._row("", None, "income")
                for c in left_amounts[:1]:
                    amount = _amount(self.ref, c, self.unit, f"{self.block.title} / (无标签) / 金额")
                    if amount:
                        tr.cells.append(Cell.model_construct(column="金额", role="total", amount=amount))
                rows.append(tr)
            if right_label_idx is not None:
                label_cell = cells[right_label_idx]
                tr = self._row(label_cell.text, label_cell, "expenditure")
                tr.cells = self._cells(cells[right_label_idx + 1:], right_paths, label_cell.text)
                rows.append(tr)
        return rows, ["金额"] + right_paths

    def _row(self, label: str, cell: GridCell | None, side: str) -> TableRow:
        clean = re.sub(r"\s", "", label)
        return TableRow.model_construct(
            label=label, code="", code_raw="", code_kind="", gov_code="", gov_label="", side=side, category="",
            unit_name="", is_total=bool(TOTAL_LABELS.match(clean.split("/")[-1])) or "合计" in clean or "总计" in clean,
            label_prov=self.ref.span(cell.start, cell.end, label) if cell else None, cells=[])

    def _split_index(self) -> int:
        """Column where the expenditure side starts, from the header ('支出' in the top row)."""
        for r in self.header:
            for j, c in enumerate(r.cells):
                if norm_header(c.text) in ("支出", "支出预算"):
                    return j
        return 2

    def _right_paths(self, split: int) -> list[str]:
        if not self.header:
            return ["金额"]
        rows = self.header[1:] if len(self.header) > 1 else self.header
        # the right side's label column is the second '项目' cell
        label_col = None
        for j, c in enumerate(rows[0].cells):
            if j >= split and norm_header(c.text) in ("项目", "支出项目"):
                label_col = j
                break
        if label_col is None:
            label_col = split
        width = max(len(r.cells) for r in rows)
        paths = column_paths(rows, label_col + 1, width)
        return [p or f"列{i + 1}" for i, p in enumerate(paths)] or ["金额"]


def build_tables(ref: SourceRef, blocks: list[TableBlock]) -> tuple[list[Table], list[str]]:
    tables: list[Table] = []
    notes: list[str] = []
    for block, header, data, parts in merge_page_splits(blocks):
        parser = TableParser(ref, block, header, data, parts)
        table = parser.parse()
        if parts > 1:
            notes.append(f"{block.title}: merged {parts} printed pieces (page split)")
        if parser.wrapped:
            notes.append(f"{block.title}: joined {parser.wrapped} wrapped cell(s)")
        tables.append(table)
    return tables, notes


def total_of(table: Table) -> Decimal | None:
    for row in table.rows:
        if row.is_total and row.cells:
            return row.cells[0].amount.value
    return None


__all__ = ["build_tables", "merge_page_splits", "TableParser", "NUMBERING", "total_of"]
