"""Table layout: header rows vs data rows, header -> column paths, page-split merging, wrapped cells."""

from __future__ import annotations

import re

from ..grid import GridCell, GridRow
from ..numbers import is_amount

_CODE_CELL = re.compile(r"^\d{3}(?:\s*\d{2}){0,2}$|^\d{5,}$|^\d{3}$")
TOTAL_LABELS = re.compile(r"^(合\s*计|总\s*计|共\s*计|小\s*计|本年(收入|支出)合计|收入合计|支出合计|收入总计|支出总计)[：:]?$")
NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|其中[：:])")
LABEL_HEADERS = {"类", "款", "项", "科目编码", "单位代码", "单位（科目名称）", "科目名称", "项目", "项目名称", "项目单位",
                 "类型", "部门（单位）代码", "部门（单位）名称", "单位名称", "功能分类科目编码", "单位编码（项目编码）",
                 "项目单位（项目名称）", "部门代码", "部门名称", "单位编码", "科目", "编码", "名称", "项目类型",
                 "功能分类科目名称", "经济分类科目编码", "经济分类科目名称", "收入", "支出", "金额", "预算数"}


def norm_header(text: str) -> str:
    """Header cell text without internal spaces ('对个人和家庭 的补助' -> '对个人和家庭的补助')."""
    return re.sub(r"\s+", "", text).replace("**", "")


def is_code(text: str) -> bool:
    return bool(_CODE_CELL.match(text.strip()))


def is_data_row(row: GridRow) -> bool:
    for cell in row.cells:
        t = cell.text
        if not t:
            continue
        if is_amount(t) or is_code(t) or TOTAL_LABELS.match(t) or NUMBERING.match(t):
            return True
    return False


def split_header(rows: list[GridRow]) -> tuple[list[GridRow], list[GridRow]]:
    for i, row in enumerate(rows):
        if is_data_row(row):
            return rows[:i], rows[i:]
    return rows, []


def header_key(rows: list[GridRow]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(norm_header(c.text) for c in r.cells if c.text) for r in rows)


def column_paths(header: list[GridRow], start: int, width: int) -> list[str]:
    """Column paths for header columns start..width-1: positional, with merged-cell carry-forward.

    An empty header cell inherits the nearest non-empty cell to its left in the same row when a lower
    header row has a name under it (the cell was merged across columns in the PDF)."""
    grid = [[norm_header(c.text) for c in r.cells] + [""] * max(0, width - len(r.cells)) for r in header]
    paths: list[str] = []
    for j in range(start, width):
        parts: list[str] = []
        for r, row in enumerate(grid):
            name = row[j] if j < len(row) else ""
            if not name:
                below = any(j < len(grid[k]) and grid[k][j] for k in range(r + 1, len(grid)))
                if below:
                    k = j - 1
                    while k >= start and not row[k]:
                        k -= 1
                    if k >= start:
                        name = row[k]
            if name and (not parts or parts[-1] != name):
                parts.append(name)
        paths.append("/".join(parts))
    return paths


def merge_wrapped_rows(rows: list[GridRow]) -> tuple[list[GridRow], int]:
    """A data row holding only a short text fragment in one column continues the cell above it
    (e.g. '其他社会保障缴' + '费'). Returns the rows without such fragments and how many were merged."""
    out: list[GridRow] = []
    merged = 0
    for row in rows:
        filled = row.nonempty()
        if out and len(filled) == 1 and len(filled[0].text) <= 4 and not is_amount(filled[0].text) \
                and not is_code(filled[0].text) and not TOTAL_LABELS.match(filled[0].text) \
                and not NUMBERING.match(filled[0].text):
            idx = row.cells.index(filled[0])
            prev = out[-1]
            if idx < len(prev.cells) and prev.cells[idx].text:
                cell = prev.cells[idx]
                prev.cells[idx] = GridCell(cell.text + filled[0].text, cell.start, cell.end)
                merged += 1
                continue
        out.append(row)
    return out, merged


def _spans(row: list[str], start: int, width: int) -> list[tuple[str, int, int]]:
    """(name, first column, span) of the non-empty cells from `start`, each spanning the empties after it."""
    out: list[tuple[str, int, int]] = []
    for j in range(start, width):
        name = row[j] if j < len(row) else ""
        if name:
            out.append((name, j, 1))
        elif out:
            n, s, k = out[-1]
            out[-1] = (n, s, k + 1)
    return out


def sequence_paths(header: list[GridRow], start: int, width: int) -> list[str] | None:
    """Column paths built from the spans of the top header row, children taken in reading order from the
    rows below. Survives sub-header rows whose cells were shifted in conversion; None when spans disagree."""
    grid = [[norm_header(c.text) for c in r.cells] for r in header]
    if not grid:
        return None

    def amount_cells(r: int) -> list[tuple[str, int]]:
        row = grid[r]
        cells = []
        for j in range(len(row)):
            name = row[j]
            if name and name not in LABEL_HEADERS and j >= min(start, len(row)):
                cells.append((name, j))
        # sub-rows may put amount names left of `start` when shifted: take them too, in order
        if r > 0:
            cells = [(n, j) for j, n in enumerate(row) if n and n not in LABEL_HEADERS]
        return cells

    top = _spans(grid[0], start, width)
    if not top:
        return None
    queues = [amount_cells(r) for r in range(len(grid))]
    pos = [0] * len(grid)

    def expand(name: str, span: int, depth: int) -> list[str] | None:
        if span == 1 or depth + 1 >= len(grid):
            return [name] if span == 1 else None
        children: list[str] = []
        left = span
        while left > 0:
            q = queues[depth + 1]
            if pos[depth + 1] >= len(q):
                return None
            child, col = q[pos[depth + 1]]
            pos[depth + 1] += 1
            # the child's own span: following empty cells in its row, bounded by what is left
            row = grid[depth + 1]
            k = 1
            while col + k < len(row) and not row[col + k] and k < left and depth + 2 < len(grid):
                k += 1
            sub = expand(child, min(k, left), depth + 1)
            if sub is None:
                return None
            children.extend(f"{name}/{s}" for s in sub)
            left -= len(sub)
        return children

    paths: list[str] = []
    for name, _col, span in top:
        sub = expand(name, span, 0)
        if sub is None:
            return None
        paths.extend(sub)
    return paths if len(paths) == width - start else None
