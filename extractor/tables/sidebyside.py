"""Side-by-side tables: one printed grid holding the same column group two or three times, e.g. a 基本支出
决算表 printed as [经济分类科目编码 | 科目名称 | 决算数] for 人员经费 on the left and again for 公用经费 on the
right. Each group is a table of its own rows: the block's rows are cut at the group boundaries and the
groups' rows follow one another (left group first), so the ordinary label/amount parser reads them.

Cells keep their offsets, so provenance is untouched. A repeated pair of amount columns without label
columns (预算数 | 决算数 under several parents) is not a side-by-side table and is left alone; so are the
two-sided 收支 tables, which have their own parser."""

from __future__ import annotations

from dataclasses import replace

from ..grid import GridRow
from ..models import TableKind
from ..segment import TableBlock
from .layout import is_label_header, norm_header, split_header

_TWO_SIDED = {TableKind.summary, TableKind.fiscal_summary}


def _groups(header: list[GridRow]) -> list[int] | None:
    """Start columns of the repeated groups, from the first header row that repeats; None if none does."""
    for row in header:
        named = [(j, norm_header(t)) for j, t in enumerate(row.texts) if t]
        names = [n for _, n in named]
        for size in range(2, len(names) // 2 + 1):
            if len(names) % size:
                continue
            group = names[:size]
            reps = len(names) // size
            if any(names[k * size:(k + 1) * size] != group for k in range(reps)):
                continue
            if not any(is_label_header(n) for n in group) or all(is_label_header(n) for n in group):
                continue
            starts = [named[k * size][0] for k in range(reps)]
            widths = {b - a for a, b in zip(starts, starts[1:], strict=False)}
            if len(widths) == 1:
                return starts
    return None


def _slice(row: GridRow, lo: int, hi: int | None) -> GridRow | None:
    """Cells lo:hi of the row, spanning from its first to its last text; None if none has text."""
    texts = row.texts[lo:hi]
    filled = [j for j, t in enumerate(texts) if t]
    if not filled:
        return None
    part = row.sliced(lo, hi)
    spans = part.spans()
    part.start, part.end = spans[filled[0]][0], spans[filled[-1]][1]
    return part


def split_side_by_side(block: TableBlock, split: tuple[list[GridRow], list[GridRow]] | None = None) -> TableBlock:
    """The block with its side-by-side groups one after another (the block itself when it has none).
    `split` is `split_header(block.rows)` when the caller has it already."""
    if block.kind in _TWO_SIDED or not block.rows:
        return block
    header, _data = split if split is not None else split_header(block.rows)
    starts = _groups(header) if header else None
    if not starts:
        return block
    bounds = list(zip([0, *starts[1:]], [*starts[1:], None], strict=True))
    rows: list[GridRow] = []
    n_header = len(header)
    for g, (lo, hi) in enumerate(bounds):
        for i, row in enumerate(block.rows):
            if g and i < n_header:
                continue   # the header is printed once per group; keep the first group's copy
            part = _slice(row, lo, hi)
            if part is not None:
                rows.append(part)
    return replace(block, rows=rows)
