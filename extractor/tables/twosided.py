"""Two-sided tables (收支总体情况表, 财政拨款收支总体情况表): an income side (label, amount — or parent,
label, amount as in 一般公共预算 | 小计 | 4,596.71) and an expenditure side (label, amounts under a header)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ..grid import GridCell, GridRow
from ..models import TableRow
from ..numbers import parse_amount
from .columns import common_caption, role_of
from .layout import (
    carry_paths,
    gap_shift,
    has_amount,
    is_label_header,
    is_total_label,
    merge_wrapped_rows,
    norm_header,
)

if TYPE_CHECKING:
    from .assemble import Piece, TableParser

_RIGHT_HEAD = ("支出", "支出预算", "支出项目", "支出决算")
_LABEL_HEAD = ("项目", "支出项目", "科目", "科目名称", "功能分类科目")


class _Sides:
    def __init__(self, header: list[GridRow]):
        grid = [[norm_header(t) for t in r.texts] for r in header]
        self.width = max((len(r) for r in grid), default=0)
        self.split = next((j for row in grid for j, n in enumerate(row) if n in _RIGHT_HEAD), None)
        lo = self.split if self.split is not None else 1
        self.right_label = next((j for row in grid for j, n in enumerate(row) if j >= lo and n in _LABEL_HEAD),
                                self.split)
        if self.split is None:
            self.split = self.right_label if self.right_label is not None else 2
        if self.right_label is None:
            self.right_label = self.split
        paths = ["/".join(p) for p in carry_paths(header, 0, self.width)] if header else []
        left = [p for p in paths[:self.split] if p and not is_label_header(p.split("/")[-1])]
        self.left_path = left[0] if left else "金额"
        right = [p or f"列{i + 1}" for i, p in enumerate(paths[self.right_label + 1:])]
        self.right_paths = right or ["金额"]
        self.caption = common_caption(self.right_paths)


def _span(row: GridRow, j: int) -> tuple[int, int]:
    """`row.spans()[j]` without building the list: a row gives only a few of its cells a value."""
    if row.parts is None:
        cell = row.cells[j]
        return cell.start, cell.end
    start = row.offset(j)
    return start, start + len(row.texts[j])


@lru_cache(maxsize=1024)
def _sides_of(texts: tuple[tuple[str, ...], ...]) -> _Sides:
    """`_Sides` of a header given by its cell texts (all it reads; the header repeats on every page).
    Shared: read only."""
    return _Sides([GridRow([GridCell(t, 0, 0) for t in row], 0, 0, "") for row in texts])


def parse_two_sided(parser: TableParser, pieces: list[Piece]) -> tuple[list[TableRow], list[str]]:
    from .assemble import new_row

    ref = parser.ref
    rows: list[TableRow] = []
    columns: list[str] = []
    for piece in pieces:
        sides = _sides_of(tuple(tuple(r.texts) for r in piece.header))
        for p in [sides.left_path] + sides.right_paths:
            if p not in columns:
                columns.append(p)
        data, wrapped = merge_wrapped_rows([r for r in piece.data if r.has_text()], strict=True)
        parser.wrapped += wrapped
        found: list[int | None] = []
        for row in data:   # each row's first text cell right of the split (its expenditure label)
            cells = row.texts
            for r in range(sides.split, len(cells)):
                t = cells[r]
                if t and parse_amount(t) is None:
                    found.append(r)
                    break
            else:
                found.append(None)
        # a row whose income side took one more column than its header pushes the right side along: the
        # columns it lost were empty ones, found where no row has a value
        shifts = {}
        for r in {r for r in found if r is not None and r > sides.right_label}:
            same = [row for row, rr in zip(data, found, strict=True) if rr == r and len(row.texts) >= sides.width]
            n = max((len(row.texts) - r - 1 for row in same), default=0)
            present = [{j - r - 1 for j, t in enumerate(row.texts) if j > r and t} for row in same]
            shifts[r] = gap_shift(present, n, r - sides.right_label)
        parent = ""
        for row, r in zip(data, found, strict=True):
            # cells as texts by column; a cell's document span is read once the row gives it a value
            cells = row.texts
            left = cells[:r] if r is not None else cells
            words: list[int] = []
            amounts: list[int] = []
            for j, t in enumerate(left):   # text cells and amount cells of the income side
                if t:
                    (words if parse_amount(t) is None else amounts).append(j)
            if words:
                first, last = cells[words[0]], cells[words[-1]]
                if len(words) > 1:
                    parent = first
                    label_j, label = words[-1], f"{first}/{last}"
                elif not left[0] and parent and words[0] != 0:
                    label_j, label = words[0], f"{parent}/{first}"
                else:
                    label_j, label = words[0], first
                    parent = label if sides.split > 2 or r is not None and r > 2 else ""
            else:
                label_j, label = None, ""
            if words or amounts:
                tr = new_row(ref, label, _span(row, label_j) if label_j is not None else None, "income")
                tr.is_total = is_total_label(label.split("/")[-1]) or "合计" in label or "总计" in label
                for j in amounts[:1]:
                    cell = parser.cell(cells[j], _span(row, j), label, sides.left_path, "total")
                    if cell is not None:
                        tr.cells.append(cell)
                rows.append(tr.build())
            if r is None:
                continue
            text = cells[r]
            tr = new_row(ref, text, _span(row, r), "expenditure")
            tr.is_total = is_total_label(text) or "合计" in text or "总计" in text
            shift = shifts.get(r)
            for j in range(r + 1, len(cells)):
                t = cells[j]
                if not t:
                    continue
                if parse_amount(t) is None:
                    if has_amount(cells[j + 1:]):
                        # a second expenditure block on the same line (收支总表 split three ways: 收入 |
                        # 支出-功能分类 | 支出-支出用途): its label starts a row of its own
                        rows.append(tr.build())
                        tr = new_row(ref, t, _span(row, j), "expenditure")
                        tr.is_total = is_total_label(t) or "合计" in t or "总计" in t
                    continue
                k = shift(j - r - 1) if shift else j - r - 1
                path = sides.right_paths[k] if k < len(sides.right_paths) else f"列{k + 1}"
                cell = parser.cell(t, _span(row, j), tr.label, path, role_of(parser.kind, path, sides.caption))
                if cell is not None:
                    tr.cells.append(cell)
            rows.append(tr.build())
    return rows, columns
