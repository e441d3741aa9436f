"""Stage 2: document text -> narrative sections and raw table blocks (title, 部门名称 line, unit, grid rows).

Tables broken across pages (the title and header printed again) are merged later by `tables.assemble`;
here every printed piece is one `TableBlock`."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add

from .grid import GridRow, is_pipe_separator, is_row_line, pipe_row, tsv_row
from .models import Section, TableKind
from .tables.layout import NUMBERING
from .tables.registry import classify_title, clean_title
from .units import normalise_unit


class Lines:
    """A document's `text`, its lines (`texts`, split at '\\n') and the offset where each starts (`starts`,
    one more entry: the text's length + 1)."""

    __slots__ = ("text", "texts", "starts")

    def __init__(self, text: str):
        self.text = text
        self.texts = texts = text.split("\n")
        # line i starts after the i lines before it and their newlines: sum(len + 1), counted in C
        self.starts = list(accumulate(map(add, map(len, texts), repeat(1)), initial=0))

    def __len__(self) -> int:
        return len(self.texts)

    def end(self, i: int) -> int:
        """Offset just past line i's text (before its newline)."""
        return self.starts[i] + len(self.texts[i])


@dataclass
class TableBlock:
    kind: TableKind
    title: str
    title_start: int
    title_end: int
    department_line: str = ""
    department_span: tuple[int, int] | None = None
    unit: str = ""
    rows: list[GridRow] = field(default_factory=list)
    end: int = 0


def split_lines(text: str) -> Lines:
    return Lines(text)


_DEPT_LINE = re.compile(r"^\s*\|?\s*\**(部门名称|单位名称|部门/单位|部门（单位）名称|部门\(单位\)名称|预算单位|编制单位|编制部门|预算主管部门|主管部门|部门|单位)\**\s*[：:]\s*(.*)$")
_DEPT_CELL = re.compile(r"^(部门名称|单位名称|部门（单位）名称|部门\(单位\)名称)[：:]?$")
_UNIT_LINE = re.compile(r"^\s*\|?\s*\**(?:金额)?单位\**\s*[：:]\s*\**\s*(亿元|万元|千元|元)")
_SUBTITLE = re.compile(r"^[#\s]*[（(]\s*\d{4}\s*年度?\s*[)）]\s*$")
_NOTE_LINE = re.compile(r"^\s*[（(]?(注|备注|说明)[）)]?[：:]")
_DEPT_VALUE_END = re.compile(r"\t|\s{2,}|\||单位[：:]")
_UNIT_ANYWHERE = re.compile(r"单位\s*[：:]\s*(亿元|万元|千元|元)")


def department_from_line(text: str) -> tuple[str, int, int] | None:
    """'部门名称：许昌市…（汇总）' -> (value, start, end) relative to the line; None if not such a line."""
    # every label _DEPT_LINE knows holds 部门 or 单位 (the cheap test first)
    if "单位" not in text and "部门" not in text:
        return None
    m = _DEPT_LINE.match(text)
    if not m:
        return None
    value = m.group(2)
    # cut off trailing table cells / unit text printed on the same line
    value = _DEPT_VALUE_END.split(value, 1)[0].strip().strip("*")
    if m.group(1) == "单位" and not value or value.startswith(("万元", "元", "千元")):
        return None
    if not value:
        return None
    start = text.index(value, m.start(2))
    return value, start, start + len(value)


def unit_from_line(text: str) -> str | None:
    if "单位" not in text:   # both patterns hold it
        return None
    m = _UNIT_LINE.match(text)
    if m:
        return normalise_unit(m.group(1))
    m = _UNIT_ANYWHERE.search(text)
    if m and len(text.strip()) < 60:
        return m.group(1)
    return None


def _title_kind(text: str) -> TableKind | None:
    # a title holds one of 表 预算 决算 情况 (tested with `in`: the cheapest test, run on every line)
    if len(text) > 90 or not ("表" in text or "预算" in text or "决算" in text or "情况" in text):
        return None
    return _title_kind_of(text)


@lru_cache(maxsize=8192)
def _title_kind_of(text: str) -> TableKind | None:
    """`_title_kind` of a line holding a title word (a pure function of the text: titles and header rows
    repeat on every page)."""
    if is_row_line(text):
        if "表" not in text:
            return None
        s = text.strip()
        raw = [c.strip() for c in re.split(r"\t|\|", s)]
        cells = [c for c in raw if c]
        # A title printed inside a grid line stands alone in its first cell; numbered rows are data.
        if len(cells) != 1 or raw[0] != cells[0] or NUMBERING.match(cells[0]) or not cells[0].endswith("表"):
            return None
        return classify_title(cells[0])
    return classify_title(text)


_PAGE_MARK = re.compile(r"^\s*(?:[-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?|"
                        r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4}|\f)\s*$")


def _bridgeable(text: str) -> bool:
    return not text.strip() or bool(_PAGE_MARK.match(text)) or (unit_from_line(text) is not None and len(text) < 30)


def find_tables(lines: Lines, text: str) -> list[TableBlock]:
    """Find every table block: a title line followed (after optional subtitle/部门/单位 lines) by grid rows."""
    blocks: list[TableBlock] = []
    texts, starts = lines.texts, lines.starts
    n = len(texts)
    i = 0
    while i < n:
        kind = _title_kind(texts[i])   # (None for a blank line: a title holds a title word)
        if kind is None:
            i += 1
            continue
        block = TableBlock(kind=kind, title=clean_title(texts[i]), title_start=starts[i], title_end=lines.end(i))
        j = i + 1
        seen_meta = 0
        # Preamble: blank lines, the year subtitle, department and unit lines (in any order).
        while j < n and seen_meta < 8:
            t = texts[j]
            if not t.strip() or _SUBTITLE.match(t):
                j += 1
                seen_meta += 1
                continue
            dept = department_from_line(t)
            unit = unit_from_line(t)
            if unit:
                block.unit = unit
            if dept and not block.department_line:
                value, s, e = dept
                block.department_line = value
                block.department_span = (starts[j] + s, starts[j] + e)
            if dept or unit:
                j += 1
                seen_meta += 1
                continue
            break
        rows: list[GridRow] = []
        append = rows.append
        while j < n:
            t = texts[j]
            # is_row_line with its cheap `in` tests first: a TSV line with text (a line holding a tab is
            # blank exactly when it is all whitespace), or a pipe row
            if "\t" in t and not t.isspace() or "|" in t and is_row_line(t):
                # a title inside a grid line names a table (表): the cheap test first
                if rows and "表" in t and _title_kind(t) is not None:
                    break
                # a separator holds a '-' (the cheap test first: it runs on every grid line)
                if not ("-" in t and is_pipe_separator(t)):
                    # split_row of a grid line that is no separator: a pipe row if it starts with '|',
                    # else a TSV row (it has a tab)
                    if "|" in t and t.lstrip().startswith("|"):
                        append(pipe_row(t, starts[j]))
                    else:
                        append(tsv_row(t, starts[j]))
                j += 1
                continue
            if _bridgeable(t):
                # a page break inside the table: blank lines, a page number, the 单位 line printed again
                k = j + 1
                while k < n and _bridgeable(texts[k]) and k - j < 8:
                    k += 1
                if k < n and is_row_line(texts[k]) and _title_kind(texts[k]) is None and rows:
                    j = k
                    continue
            break
        if rows:
            block.rows = rows
            block.end = lines.end(j - 1)   # (j > i: the title line at least)
            blocks.append(block)
            i = j
        else:
            i += 1
    return blocks


_PART = re.compile(r"^(第[一二三四五六七八九十]+部分)")
_SEC1 = re.compile(r"^([一二三四五六七八九十]+)[、.．]")
_SEC2 = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]")
_HEADING_MARK = re.compile(r"^\s*(#{1,6})\s*")
# A line that `heading_of` can take for a heading, after its '\n': its first character after whitespace
# ([^\S\n]: what strip removes) is a '#' mark, the '*' of a '**' before the title, or what _PART, _SEC1 and
# _SEC2 start with. (The '\n' first: a literal the search skips to.)
_HEADING_START = re.compile(r"\n[^\S\n]*[#*第一二三四五六七八九十（(]")


def heading_of(line: str) -> tuple[int, str] | None:
    """(level, title) for a narrative heading line, else None. Levels: 部分=1, 一、=2, （一）=3."""
    s = line.strip()
    md = _HEADING_MARK.match(s)
    body = s[md.end():] if md else s
    body = body.replace("**", "").strip()
    if not body or len(body) > 60 or is_row_line(line):
        return None
    if _PART.match(body):
        return 1, body
    # Numbered headings are short and do not end like sentences.
    if body.endswith(("。", "；", ";", "，")) or len(body) > 40:
        return (None if not md else (2, body))
    if _SEC1.match(body):
        return 2, body
    if _SEC2.match(body):
        return 3, body
    if md:
        return min(len(md.group(1)), 3), body
    return None


def _heading_lines(lines: Lines, end_offset: int) -> Iterator[int]:
    """The lines starting before `end_offset` that `heading_of` may take for headings (it gives None for
    every other line): the first line, then those _HEADING_START finds."""
    if end_offset > 0:
        yield 0
    for m in _HEADING_START.finditer(lines.text):
        start = m.start() + 1   # the line starts after the '\n'
        if start >= end_offset:
            return
        yield bisect_left(lines.starts, start)


def find_sections(lines: Lines, end_offset: int) -> list[Section]:
    """Narrative headings before `end_offset` (the first table), with their part/section path."""
    heads: list[tuple[int, str, int]] = []
    texts, starts = lines.texts, lines.starts
    for i in _heading_lines(lines, end_offset):
        h = heading_of(texts[i])
        if h:
            heads.append((h[0], h[1], i))
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for idx, (level, title, i) in enumerate(heads):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        nxt = starts[heads[idx + 1][2]] if idx + 1 < len(heads) else end_offset
        sections.append(Section(title=title, path="/".join(t for _, t in stack), level=level,
                                char_start=starts[i], char_end=max(nxt - 1, lines.end(i))))
    return sections
