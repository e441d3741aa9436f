"""Stage 2a: a table line -> cells with exact character spans. TSV, markdown pipe rows, and
space-aligned columns (pdftotext -layout style) all become the same `GridRow`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter

_TEXT = attrgetter("text")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass(slots=True)
class GridCell:
    text: str      # stripped text as printed
    start: int     # offset of text in the document
    end: int

    @property
    def empty(self) -> bool:
        return not self.text


@dataclass(slots=True)
class GridRow:
    cells: list[GridCell]
    start: int     # line start offset
    end: int       # line end offset (exclusive, before the newline)
    style: str     # tsv | pipe | spaces

    def texts(self) -> list[str]:
        return [c.text for c in self.cells]

    def nonempty(self) -> list[GridCell]:
        return [c for c in self.cells if c.text]

    def has_text(self) -> bool:
        """Whether any cell has text (bool(nonempty()) without building the list)."""
        return any(map(_TEXT, self.cells))


# Whitespace other than the tab (str.strip and \s agree on what whitespace is).
_NON_TAB_SPACE = re.compile(r"[^\S\t]")


def is_pipe_separator(line: str) -> bool:
    return bool(_PIPE_SEPARATOR.match(line)) and "-" in line


def is_row_line(line: str) -> bool:
    """A line that belongs to a table grid (TSV or pipe)."""
    s = line.strip()
    return "\t" in line.rstrip("\n") and bool(s) or (s.startswith("|") and s.count("|") >= 2)


def _bare_cells(parts: list[str], pos: int) -> list[GridCell]:
    """`_cells` for parts that need no stripping: each cell is its part, where it stands."""
    cells = []
    append = cells.append
    for part in parts:
        end = pos + len(part)
        append(GridCell(part, pos, end))
        pos = end + 1
    return cells


def _cells(parts: list[str], pos: int) -> list[GridCell]:
    """Cells of the parts of a split line starting at document offset `pos` (one separator between parts)."""
    cells = []
    append = cells.append
    for part in parts:
        n = len(part)
        if not n:
            append(GridCell("", pos, pos))
            pos += 1
            continue
        stripped = part.strip()
        if len(stripped) == n:
            append(GridCell(part, pos, pos + n))
        elif not stripped:
            append(GridCell("", pos, pos))
        else:
            lead = n - len(part.lstrip())
            append(GridCell(stripped, pos + lead, pos + lead + len(stripped)))
        pos += n + 1
    return cells


_SPACE_CELL = re.compile(r"\S+(?: \S+)*")


def split_row(line: str, offset: int) -> GridRow | None:
    """Split one line (starting at document offset `offset`) into cells; None for pipe separators."""
    if "\t" in line and not line.lstrip().startswith("|"):
        # a TSV line without any other whitespace (the usual one) has no cell to strip
        parts = line.split("\t")
        cells = _cells(parts, offset) if _NON_TAB_SPACE.search(line) else _bare_cells(parts, offset)
        return GridRow(cells, offset, offset + len(line), "tsv")
    s = line.strip()
    if s.startswith("|"):
        if is_pipe_separator(line):
            return None
        first = line.index("|")
        body_end = line.rstrip().rfind("|")
        body = line[first + 1:body_end] if body_end > first else line[first + 1:]
        return GridRow(_cells(body.split("|"), offset + first + 1), offset, offset + len(line), "pipe")
    cells = [GridCell(m.group(0), offset + m.start(), offset + m.end()) for m in _SPACE_CELL.finditer(line)]
    return GridRow(cells, offset, offset + len(line), "spaces")
