"""Stage 2a: a table line -> cells with exact character spans. TSV, markdown pipe rows, and
space-aligned columns (pdftotext -layout style) all become the same `GridRow`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass(slots=True)
class GridCell:
    text: str      # stripped text as printed
    start: int     # offset of text in the document
    end: int

    @property
    def empty(self) -> bool:
        return not self.text


def _cells(parts: list[str] | None, texts: list[str], pos: int) -> list[GridCell]:
    """Cells of a line split into `parts` at one-character separators, the first part at document offset
    `pos`; `texts` are the stripped parts (the very list when none needed stripping)."""
    cells = []
    append = cells.append
    if parts is texts:   # each cell is its part, where it stands
        for t in texts:
            end = pos + len(t)
            append(GridCell(t, pos, end))
            pos = end + 1
        return cells
    assert parts is not None
    for p, t in zip(parts, texts, strict=True):
        s = pos + p.find(t)   # where the stripped text starts (find('') is 0 for a blank part)
        append(GridCell(t, s, s + len(t)))
        pos += len(p) + 1
    return cells


class GridRow:
    """One table line's cells. The cell texts are read when the line is split; the cells themselves (with
    their document offsets) are built only when asked for: the table parser reads texts and needs the
    offsets of the few cells it turns into values (`spans`)."""

    __slots__ = ("texts", "start", "end", "style", "_parts", "_pos", "_cells", "scan")

    def __init__(self, cells: list[GridCell], start: int, end: int, style: str):
        self.texts: list[str] = [c.text for c in cells]
        self.start = start     # line start offset
        self.end = end         # line end offset (exclusive, before the newline)
        self.style = style     # tsv | pipe | spaces
        self._parts: list[str] | None = None
        self._pos = 0
        self._cells: list[GridCell] | None = cells
        # what `tables.layout.label_scan` read from the texts, kept with the row (asked for several times)
        self.scan: tuple[int, bool] | None = None

    @classmethod
    def of_parts(cls, parts: list[str], texts: list[str], pos: int, start: int, end: int, style: str) -> GridRow:
        """A row of a line split at one-character separators: `parts` as split, starting at document offset
        `pos`, and `texts` the stripped parts (the same list when no part needs stripping)."""
        row = cls.__new__(cls)
        row.texts, row.start, row.end, row.style = texts, start, end, style
        row._parts, row._pos, row._cells, row.scan = parts, pos, None, None
        return row

    @property
    def cells(self) -> list[GridCell]:
        if self._cells is None:
            self._cells = _cells(self._parts, self.texts, self._pos)
        return self._cells

    @property
    def parts(self) -> list[str] | None:
        """The parts the line was split into (cell j's text is parts[j] stripped; the very string when
        nothing was stripped), one separator character apart; None for a row made of cells."""
        return self._parts if self._cells is None else None

    def part_offset(self, j: int) -> int:
        """Document offset of part j (of a row with `parts`)."""
        parts = self._parts
        assert parts is not None
        return self._pos + sum(map(len, parts[:j])) + j

    def offset(self, j: int) -> int:
        """Document offset of the text of cell j (`spans()[j][0]` without the list)."""
        if self._cells is not None:
            return self._cells[j].start
        parts = self._parts
        assert parts is not None
        pos = self._pos + sum(map(len, parts[:j])) + j
        return pos if parts is self.texts else pos + parts[j].find(self.texts[j])

    def spans(self, hi: int | None = None) -> list[tuple[int, int]]:
        """(start, end) document offsets of the texts of cells :hi (a new list; no cell is built)."""
        if self._cells is not None:   # a joined cell keeps the end of its head (`merge_wrapped_rows`)
            return [(c.start, c.end) for c in self._cells[:hi]]
        out = []
        append = out.append
        pos = self._pos
        parts, texts = self._parts, self.texts
        assert parts is not None
        bare = parts is texts   # nothing stripped: each cell is its part, where it stands
        if hi is not None:
            parts, texts = parts[:hi], texts[:hi]
        if bare:
            for t in parts:
                end = pos + len(t)
                append((pos, end))
                pos = end + 1
            return out
        for p, t in zip(parts, texts, strict=True):
            # the stripped text is first found where it starts (find('') is 0 for a blank part)
            s = pos + p.find(t)
            append((s, s + len(t)))
            pos += len(p) + 1
        return out

    def sliced(self, lo: int, hi: int | None) -> GridRow:
        """The row of cells lo:hi (offsets kept; start/end are the line's)."""
        if self._cells is not None:
            return GridRow(self._cells[lo:hi], self.start, self.end, self.style)
        parts = self._parts
        assert parts is not None
        pos = self._pos + sum(len(p) for p in parts[:lo]) + lo
        texts = self.texts[lo:hi]
        return GridRow.of_parts(texts if parts is self.texts else parts[lo:hi], texts, pos, self.start, self.end,
                                self.style)

    def nonempty(self) -> list[GridCell]:
        return [c for c in self.cells if c.text]

    def has_text(self) -> bool:
        """Whether any cell has text (bool(nonempty()) without building the list)."""
        return any(self.texts)


# Whitespace other than the tab (str.strip and \s agree on what whitespace is).
_NON_TAB_SPACE = re.compile(r"[^\S\t]")


def is_pipe_separator(line: str) -> bool:
    return bool(_PIPE_SEPARATOR.match(line)) and "-" in line


def is_row_line(line: str) -> bool:
    """A line that belongs to a table grid (TSV or pipe)."""
    s = line.strip()
    return "\t" in line.rstrip("\n") and bool(s) or (s.startswith("|") and s.count("|") >= 2)


_SPACE_CELL = re.compile(r"\S+(?: \S+)*")
_new = object.__new__


def tsv_row(line: str, offset: int) -> GridRow:
    """`split_row` of a TSV line (one holding a tab, not starting with '|')."""
    parts = line.split("\t")
    # a TSV line without any other whitespace (the usual one) has no cell to strip
    texts = [p.strip() for p in parts] if _NON_TAB_SPACE.search(line) else parts
    # GridRow.of_parts(parts, texts, offset, offset, offset + len(line), "tsv") without its calls: one per row
    row = _new(GridRow)
    row.texts, row.start, row.end, row.style = texts, offset, offset + len(line), "tsv"
    row._parts, row._pos, row._cells, row.scan = parts, offset, None, None
    return row


def pipe_row(line: str, offset: int) -> GridRow:
    """`split_row` of a markdown pipe row (one starting with '|', not a separator)."""
    first = line.index("|")
    body_end = line.rfind("|")   # (the last '|' of the line is the last of it stripped)
    body = line[first + 1:body_end] if body_end > first else line[first + 1:]
    parts = body.split("|")
    return GridRow.of_parts(parts, [p.strip() for p in parts], offset + first + 1, offset, offset + len(line),
                            "pipe")


def split_row(line: str, offset: int) -> GridRow | None:
    """Split one line (starting at document offset `offset`) into cells; None for pipe separators."""
    if "\t" in line and not line.lstrip().startswith("|"):
        return tsv_row(line, offset)
    if line.lstrip().startswith("|"):
        return None if is_pipe_separator(line) else pipe_row(line, offset)
    cells = [GridCell(m.group(0), offset + m.start(), offset + m.end()) for m in _SPACE_CELL.finditer(line)]
    return GridRow(cells, offset, offset + len(line), "spaces")
