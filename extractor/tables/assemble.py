"""Table blocks -> `Table` records: merge page splits, separate header from data, read every amount cell
with its column path, role and exact provenance.

Each printed piece of a table is read with its own header (a continuation page may print a slightly
different or shifted header); amounts are aligned to columns from the end of each row's label cells, so a
row that lost or gained an empty label cell still lands in the right columns."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from ..grid import GridRow
from ..models import Amount, Cell, Table, TableKind, TableRow
from ..numbers import parse_amount
from ..provenance import Provenance, SourceRef, amount_cell_maker, record_maker
from ..segment import TableBlock
from .columns import FUNCTIONAL_KINDS, common_caption, functional_columns, name_role, role_of
from .layout import (
    NUMBERING,
    TOTAL_LABELS,
    carry_paths,
    clean_label,
    column_paths,
    gap_shift,
    header_amount_start,
    header_key,
    is_data_row,
    is_label_header,
    is_total_label,
    label_end,
    label_scan,
    merge_wrapped_rows,
    norm_header,
    row_key,
    split_header,
)
from .rows import LabelColumns, RowState, describe, label_columns, sangong_row_role
from .sidebyside import split_side_by_side
from .templates import refine_table
from .twosided import parse_two_sided

# the Cell, Amount and Provenance records of one amount (`Cell` holds method='rules' like every table cell)
amount_cell = amount_cell_maker(Cell, Amount)
TWO_SIDED = {TableKind.summary, TableKind.fiscal_summary}
PERFORMANCE = {TableKind.dept_performance, TableKind.project_performance}
_CONTINUED = re.compile(r"[（(]?续表?[)）]?$")


@dataclass
class Piece:
    """One printed piece of a table: its header rows (possibly inherited) and its data rows."""

    block: TableBlock
    header: list[GridRow]
    data: list[GridRow]


def _title_key(title: str) -> str:
    return _CONTINUED.sub("", re.sub(r"\s", "", title))


def _split_repeated_headers(header: list[GridRow], data: list[GridRow]) -> list[tuple[list[GridRow], list[GridRow]]]:
    """A header printed again inside a block (a page split without a new title) starts a new piece."""
    names = {norm_header(t) for r in header for t in r.texts if t}
    keys = {row_key(r) for r in header}
    out: list[tuple[list[GridRow], list[GridRow]]] = [(header, [])]
    i = 0
    while i < len(data):
        row = data[i]
        key = row_key(row) if not (row.scan or label_scan(row))[1] else ()   # rows with an amount are data
        if key and (key in keys or (_headerish(key, names) and not is_data_row(row, None))):
            run = [row]
            while i + 1 < len(data) and ((nxt := row_key(data[i + 1])) in keys or _headerish(nxt, names)) \
                    and not is_data_row(data[i + 1], None):
                i += 1
                run.append(data[i])
            out.append((run, []))
        else:
            out[-1][1].append(row)
        i += 1
    return [(h, d) for h, d in out if d or h is header]


def _headerish(key: tuple[str, ...], names: set[str]) -> bool:
    return len(key) >= 2 and sum(map(names.__contains__, key)) * 2 >= len(key)


def merge_page_splits(blocks: list[TableBlock], splits: dict[int, tuple[list[GridRow], list[GridRow]]] | None = None
                      ) -> list[list[Piece]]:
    """Consecutive blocks of the same kind and title are one table broken across pages. `splits` holds
    `split_header(block.rows)` by id(block) where the caller has it already."""
    tables: list[list[Piece]] = []
    for block in blocks:
        known = splits.get(id(block)) if splits else None
        header, data = known if known is not None else split_header(block.rows)
        same = tables and tables[-1][0].block.kind == block.kind and \
            _title_key(tables[-1][0].block.title) == _title_key(block.title) and block.kind not in PERFORMANCE
        if same:
            prev = tables[-1][-1].header
            n = len(prev)
            if header and len(header) > n and header_key(header[:n]) == header_key(prev):
                # rows after the repeated header that did not look like data are wrapped fragments
                header, data = header[:n], header[n:] + data
            if not header:
                header = prev
        pieces = [Piece(block, h, d) for h, d in _split_repeated_headers(header, data)]
        if same:
            tables[-1].extend(pieces)
        else:
            tables.append(pieces)
    return tables


# every field of a `TableRow`, in its order, with its default (`cells` is always set: a list of its own)
_table_row = record_maker(TableRow)
_ROW_DEFAULTS = {"label": "", "code": "", "code_raw": "", "code_kind": "", "gov_code": "", "gov_label": "", "side": "",
                 "category": "", "unit_name": "", "is_total": False, "label_prov": None, "cells": None}


class RowDraft:
    """A table row being read (plain attributes, cheap to set); `build()` makes the `TableRow` record. The
    class holds the defaults, so a draft stores only what its row sets."""

    label = code = code_raw = code_kind = gov_code = gov_label = side = category = unit_name = ""
    is_total = False
    label_prov: Provenance | None = None

    def __init__(self, label: str = "", label_prov: Provenance | None = None, side: str = ""):
        self.label, self.label_prov, self.side, self.cells = label, label_prov, side, []

    def build(self) -> TableRow:
        # the defaults' order is the field order; the draft's own values replace them in place
        return _table_row({**_ROW_DEFAULTS, **self.__dict__})


def new_row(ref: SourceRef, label: str = "", cell: tuple[int, int] | None = None, side: str = "") -> RowDraft:
    """A row whose label was read from the cell at document span `cell`."""
    return RowDraft(label, ref.span(cell[0], cell[1], label) if cell else None, side)


class _Layout:
    """How to read the data rows of one piece: where amounts start and what each amount column is."""

    def __init__(self, kind: TableKind, header: list[GridRow], data: list[GridRow]):
        self.width = max([len(r.texts) for r in header], default=0)
        h_start = header_amount_start(header)
        if h_start is None or h_start >= self.width:
            ends = Counter(label_end(r) for r in data if r.texts)
            h_start = ends.most_common(1)[0][0] if ends else 0
            self.width = max(self.width, max([len(r.texts) for r in data], default=0))
        self.start = h_start
        # where each data row's amounts start, kept for the parser (keyed by the row's identity)
        starts: dict[int, int] = {}
        self.starts = starts
        w, lo = self.width, self.start
        for r in data:   # `row_start` inlined (the row's scan is usually read already)
            end = (r.scan or label_scan(r))[0]
            starts[id(r)] = max(end, lo - max(0, w - len(r.texts))) if w else end
        n_data = max([len(r.texts) - starts[id(r)] for r in data], default=0)
        width = max(self.width, self.start + n_data)
        paths = column_paths(header, self.start, width) if header else []
        if kind in FUNCTIONAL_KINDS and header:
            canon = _functional_columns("/".join([norm_header(t) for r in header for t in r.texts if t]))
            if len([p for p in paths if p]) != len(canon) or not _all_named(paths):
                paths = canon
        self.paths = [p or f"列{i + 1}" for i, p in enumerate(paths)]
        grid = [[norm_header(t) for t in r.texts] for r in header]
        self.label_cols: LabelColumns = label_columns(grid, self.start)
        self.caption = common_caption(self.paths)
        self.roles = [role_of(kind, p, self.caption) for p in self.paths]   # the role of each named column
        self.kind = kind

    def row_start(self, row: GridRow) -> int:
        """Where this row's amounts start: after its last label cell, but not before the header's amount
        columns unless the row is shorter than the header (it lost a leading cell in conversion)."""
        end = label_end(row)
        if not self.width:
            return end
        return max(end, self.start - max(0, self.width - len(row.texts)))

    def path(self, k: int) -> str:
        return self.paths[k] if k < len(self.paths) else f"列{k + 1}"


@lru_cache(maxsize=1024)
def _functional_columns_of(header_text: str) -> tuple[str, ...]:
    return tuple(functional_columns(header_text, 0))


def _functional_columns(header_text: str) -> list[str]:
    """`functional_columns(header_text, 0)`, computed once per header text (headers repeat on every page)."""
    return list(_functional_columns_of(header_text))


def _all_named(paths: list[str]) -> bool:
    return bool(paths) and all(p and not is_label_header(p.split("/")[-1]) for p in paths)


class TableParser:
    """Parses one table (all its printed pieces). Kind-specific row semantics live in `rows`."""

    def __init__(self, ref: SourceRef, pieces: list[Piece]):
        self.ref = ref
        self.pieces = pieces
        self.block = pieces[0].block
        self.kind = self.block.kind
        self.unit = next((p.block.unit for p in pieces if p.block.unit), "") or "万元"
        self.wrapped = 0

    def parse(self) -> Table:
        title_prov = self.ref.span(self.block.title_start, self.block.title_end, self.block.title)
        if self.kind in TWO_SIDED:
            rows, columns = parse_two_sided(self, self.pieces)
        elif self.kind in PERFORMANCE:
            rows, columns = self.parse_performance_amounts()
        else:
            rows, columns = self.parse_label_amount()
        last = self.pieces[-1]
        end = max((r.end for p in self.pieces for r in p.data), default=last.block.end)
        return Table.model_construct(
            kind=self.kind, title=self.block.title, title_prov=title_prov,
            department_line=self.block.department_line, unit=self.unit, columns=columns, rows=rows,
            empty=not any(r.cells for r in rows), parts=len(self.pieces),
            char_start=self.block.title_start, char_end=end)

    def cell(self, text: str, span: tuple[int, int], label: str, path: str, role: str) -> Cell | None:
        """The cell of the amount `text` printed at document `span`; None if it is not an amount."""
        value = parse_amount(text)
        if value is None:
            return None
        ref, (start, end) = self.ref, span
        return amount_cell(path, role, value, self.unit, text, {
            "doc_id": ref.doc_id, "source": ref.source, "locator": f"{self.block.title} / {label or '(无标签)'} / {path}",
            "char_start": start, "char_end": end, "quote": ref.text[start:end],
            "page": bisect_right(ref.page_starts, start) if ref.page_starts else None})

    # ---- label + amounts (every table but the two-sided and performance ones) ---------------------
    def parse_label_amount(self) -> tuple[list[TableRow], list[str]]:
        # the rows with text, each with its piece (wrapped fragments are folded into the row above)
        live: list[GridRow] = []
        piece_of: dict[int, int] = {}
        for i, p in enumerate(self.pieces):
            for r in p.data:
                if any(r.texts):
                    live.append(r)
                    piece_of[id(r)] = i
        merged, self.wrapped = merge_wrapped_rows(live)
        layouts: dict[int, _Layout] = {}
        rows: list[RowDraft] = []
        columns: list[str] = []
        state = RowState()
        placed: list[tuple[GridRow, _Layout, int, int]] = []
        for row in merged:
            idx = piece_of.get(id(row))
            if idx is None:  # a row rebuilt by the wrapped-cell merge: same piece as its original start
                idx = next(piece_of[id(r)] for r in live if r.start == row.start)
            if idx not in layouts:
                piece = self.pieces[idx]
                layouts[idx] = _Layout(self.kind, piece.header, piece.data)
                columns.extend(p for p in layouts[idx].paths if p not in columns)
            lay = layouts[idx]
            start = lay.starts.get(id(row))   # None for a row rebuilt by the wrapped-cell merge
            placed.append((row, lay, idx, lay.row_start(row) if start is None else start))
        shifts = self._gap_shifts(placed)
        kind, ref, unit, title = self.kind, self.ref, self.unit, self.block.title
        doc_id, source, text, page_starts = ref.doc_id, ref.source, ref.text, ref.page_starts
        sangong = kind == TableKind.sangong
        for row, lay, idx, start in placed:
            texts = row.texts
            shift = shifts.get((idx, start, (lay.width - lay.start) - (len(texts) - start))) if shifts else None
            tr = RowDraft()
            label_col = describe(kind, tr, texts[:start], lay.label_cols, state)
            # every text from `start` on is an amount (`start` is at or after the row's label end)
            last = len(texts)
            while last > start and not texts[last - 1]:
                last -= 1
            # document offsets: a split line's are counted along its parts in the amount loop below (each
            # text where its part starts, unless stripping moved it); a row of cells has its spans
            parts = row.parts
            spans = row.spans(last) if parts is None else None
            if label_col is not None:
                if spans is None:
                    s = row.offset(label_col)
                    e = s + len(texts[label_col])
                else:
                    s, e = spans[label_col]
                tr.label_prov = ref.span(s, e, tr.label)
            row_role = sangong_row_role(tr.label) if sangong else ""
            if row_role == "sangong_total":
                tr.is_total = True
            if not tr.label and not tr.code and not rows and last > start and not sangong:
                tr.is_total = True   # a total row printed without its label
            if last > start:
                # `self.cell` inlined: this runs for every amount of every table
                paths, roles, append = lay.paths, lay.roles, tr.cells.append
                n_paths = len(paths)
                locator = f"{title} / {tr.label or tr.code or '(无标签)'} / "
                pos = row.part_offset(start) if parts is not None else 0
                for j in range(start, last):
                    t = texts[j]
                    if parts is not None:
                        p = parts[j]
                        s = pos if p is t else pos + p.find(t)   # find('') is 0: as `spans` counts
                        pos += len(p) + 1
                        e = s + len(t)
                    elif t:
                        s, e = spans[j]
                    if not t:
                        continue
                    k = j - start
                    if shift:
                        k = shift(k)
                    if k < n_paths:
                        path = paths[k]
                        role = row_role or roles[k]
                    else:
                        path = f"列{k + 1}"
                        role = row_role or role_of(kind, path, lay.caption)
                    append(amount_cell(path, role, parse_amount(t), unit, t, {
                        "doc_id": doc_id, "source": source, "locator": locator + path, "char_start": s,
                        "char_end": e, "quote": text[s:e], "page": bisect_right(page_starts, s) if page_starts else None}))
            rows.append(tr)
        n = max((len(r.cells) for r in rows), default=0)
        return [r.build() for r in rows], columns or [f"列{i + 1}" for i in range(n)]

    def _gap_shifts(self, placed: list[tuple[GridRow, _Layout, int, int]]) -> dict:
        """Rows with fewer amount cells than their header has amount columns lost empty columns in
        conversion (their labels took an extra cell, or an empty cell was dropped); put the gap where none
        of those rows has a value. Rows of converters that trim trailing empty cells are left alone."""
        untrimmed = {idx for idx, piece in enumerate(self.pieces)
                     if any(r.texts and not r.texts[-1] for r in piece.header + piece.data)}
        groups: dict[tuple[int, int, int], list[GridRow]] = {}
        for row, lay, idx, start in placed:
            d = (lay.width - lay.start) - (len(row.texts) - start)
            if lay.width and d > 0 and (start > lay.start or idx in untrimmed):
                groups.setdefault((idx, start, d), []).append(row)
        out = {}
        for (idx, start, d), rows in groups.items():
            n = max(len(r.texts) - start for r in rows)
            present = [{j - start for j in range(start, len(r.texts)) if r.texts[j]} for r in rows]
            out[(idx, start, d)] = gap_shift(present, n, d)
        return out

    # ---- performance tables: amounts sit between a label and the indicator columns -------------
    def parse_performance_amounts(self) -> tuple[list[TableRow], list[str]]:
        rows: list[TableRow] = []
        columns: list[str] = []
        for piece in self.pieces:
            header, data = piece.header, piece.data
            width = max([len(r.texts) for r in header + data] or [0])
            # the department table's amounts (预算情况 block) have no column header of their own
            paths = ["/".join(p) for p in carry_paths(header, 0, width)] \
                if header and self.kind == TableKind.project_performance else []
            if len(paths) < width:
                paths = paths + [""] * (width - len(paths))
            for row in data:
                if not (row.scan or label_scan(row))[1]:
                    continue   # no amount in the row (the scan was read when the pieces were split)
                cells = row.texts
                for first, t in enumerate(cells):   # the first amount (not a code)
                    if t and parse_amount(t) is not None and not (t.isdecimal() and (t.startswith("0") or len(t) > 6)) \
                            and not _is_code_before_text(cells, first):
                        break
                else:
                    continue
                spans = row.spans()
                words = [j for j, t in enumerate(cells[:first]) if t and parse_amount(t) is None]
                codes = [t for t in cells[:first] if len(t) >= 3 and t.isdecimal()]   # \d{3,}
                label_j = words[-1] if words else None
                label = clean_label(cells[label_j]) if label_j is not None else ""
                tr = new_row(self.ref, label, spans[label_j] if label_j is not None else None)
                tr.is_total = bool(TOTAL_LABELS.match(label))
                if codes:
                    tr.code, tr.code_raw = codes[0], codes[0]
                    tr.code_kind = "project" if len(tr.code) > 9 else "unit"
                for j in range(first, len(cells)):
                    t = cells[j]
                    if t and parse_amount(t) is None:
                        break
                    if not t:
                        continue
                    path = paths[j] if j < len(paths) and paths[j] and not is_label_header(paths[j]) else "金额"
                    role = role_of(self.kind, path) if path != "金额" else (name_role(label) or "total")
                    cell = self.cell(t, spans[j], label, path, role)
                    if cell is not None:
                        tr.cells.append(cell)
                        if path not in columns:
                            columns.append(path)
                rows.append(tr.build())
        return rows, columns


def _is_code_before_text(texts: list[str], j: int) -> bool:
    t = texts[j]
    return t.isdecimal() and any(   # isdecimal: all of re's \d
        c and parse_amount(c) is None for c in texts[j + 1:j + 3]) and (len(t) >= 3 and t.startswith("0"))


def link_project_codes(tables: list[Table]) -> None:
    """Project rows printed without their project code take it from the 项目绩效目标表 row of the same name."""
    codes: dict[str, tuple[str, str]] = {}
    for t in tables:
        if t.kind == TableKind.project_performance:
            for r in t.rows:
                if r.code_kind == "project" and r.label:
                    codes.setdefault(re.sub(r"\s", "", r.label), (r.code, r.code_raw))
    if not codes:
        return
    for t in tables:
        if t.kind != TableKind.projects:
            continue
        for r in t.rows:
            if r.code_kind == "project" or r.is_total or not r.label:
                continue
            hit = codes.get(re.sub(r"\s", "", r.label))
            if hit and (r.category or r.unit_name or r.code_kind != "unit"):
                r.code, r.code_raw, r.code_kind = hit[0], hit[1], "project"


def _unbalanced(name: str) -> bool:
    return name.count("（") + name.count("(") > name.count("）") + name.count(")")


def complete_truncated_headers(tables: list[Table]) -> list[str]:
    """A header name cut off in conversion ('运转类经费（专项业') takes the full name printed for the same
    column in another table of the document ('运转类经费（专项业务）')."""
    known = {c for t in tables for c in t.columns}
    notes = []
    for t in tables:
        fixes = {}
        for col in t.columns:
            if "（" not in col and "(" not in col:
                continue   # no opening parenthesis: nothing cut off inside one
            head, _, leaf = col.rpartition("/")
            if not _unbalanced(leaf):
                continue
            full = sorted(k for k in known if k != col and k.startswith(col) and not _unbalanced(k.rpartition("/")[2])
                          and k.rpartition("/")[0] == head)
            if full:
                fixes[col] = full[0]
        if not fixes:
            continue
        t.columns = [fixes.get(c, c) for c in t.columns]
        for r in t.rows:
            for c in r.cells:
                if c.column in fixes:
                    c.column = fixes[c.column]
                    p = c.amount.prov
                    c.amount.prov = p.model_copy(update={"locator": p.locator.replace(
                        p.locator.rpartition(" / ")[2], c.column)})
        notes.extend(f"{t.title}: header '{a}' completed as '{b}'" for a, b in fixes.items())
    return notes


def build_tables(ref: SourceRef, blocks: list[TableBlock]) -> tuple[list[Table], list[str]]:
    tables: list[Table] = []
    notes: list[str] = []
    splits: dict[int, tuple[list[GridRow], list[GridRow]]] = {}
    split_blocks = []
    for b in blocks:   # one grid holding 2-3 tables side by side
        split = split_header(b.rows)
        piece = split_side_by_side(b, split)
        if piece is b:
            splits[id(b)] = split   # header and data rows, read once
        split_blocks.append(piece)
    for pieces in merge_page_splits(split_blocks, splits):
        parser = TableParser(ref, pieces)
        table = refine_table(parser.parse())   # template column roles (tables.templates)
        if table.parts > 1:
            notes.append(f"{table.title}: merged {table.parts} printed pieces (page split)")
        if parser.wrapped:
            notes.append(f"{table.title}: joined {parser.wrapped} wrapped cell(s)")
        tables.append(table)
    link_project_codes(tables)
    notes.extend(complete_truncated_headers(tables))
    return tables, notes


def total_of(table: Table) -> Decimal | None:
    for row in table.rows:
        if row.is_total and row.cells:
            return row.cells[0].amount.value
    return None


__all__ = ["build_tables", "merge_page_splits", "TableParser", "NUMBERING", "total_of", "is_total_label"]
