"""One PDF page -> text lines the text pipeline reads: ruled table regions as TAB-separated rows (one cell
per table column, merged cells left blank like the TSV sources), everything else as plain lines in reading
order.

Cell and line text is rebuilt from pdfplumber's word boxes: wrapped lines inside a cell are joined, and the
gaps a PDF leaves between Chinese characters and digits ('2017 年', '总 计') are closed, so what the parsers
see is the text a reader sees. Lines wholly outside the visible page (content drawn off the page edge) and
bare page numbers in the page margins are dropped: they are not part of the printed document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .tables.layout import LABEL_HEADERS
from .tables.registry import classify_title

_PAGE_NUMBER = re.compile(r"^(?:[-—–·•]\s*)?(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[-—–·•])?$|^\d{1,4}\s*/\s*\d{1,4}$")
_AMOUNT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_META = re.compile(r"^(?:编制|填报|预算)?(?:部门|单位)(?:名称|（单位）|\(单位\))?\s*[：:]|单位\s*[：:]\s*(?:亿元|万元|千元|元)")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x3400 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF
            or 0x2018 <= o <= 0x201F or 0xF900 <= o <= 0xFAFF)


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".,%-+")


def _sep(left: str, right: str, gap: float, em: float, cell: bool) -> str:
    """What to put between two words on one line, from the characters that meet and the gap between them.
    Inside a table cell Chinese is never spaced on purpose: a gap there is letter-spacing ('当 年 收 入')."""
    a, b = left[-1], right[0]
    if cell and _is_cjk(a) and _is_cjk(b):
        return ""
    if gap > 2.5 * em:
        return "  "      # a column gap in a plain line (e.g. 编制部门：… and 单位：元)
    if _is_cjk(a) and _is_cjk(b):
        return "" if gap < 0.6 * em else " "
    if (_is_cjk(a) and _is_alnum(b)) or (_is_alnum(a) and _is_cjk(b)):
        return "" if gap < 1.5 * em else " "   # '2017 年' -> '2017年', '总计 13649.07 万元' -> '总计13649.07万元'
    return " "


def _em(w: dict[str, Any]) -> float:
    return max(float(w["bottom"]) - float(w["top"]), 1.0)


def join_line(words: list[dict[str, Any]], cell: bool = False) -> str:
    words = sorted(words, key=lambda w: w["x0"])
    out = words[0]["text"]
    for prev, w in zip(words, words[1:], strict=False):
        out += _sep(out, w["text"], float(w["x0"]) - float(prev["x1"]), max(_em(prev), _em(w)), cell) + w["text"]
    return out


def cluster_lines(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Words -> lines (top to bottom), a word joining the line whose vertical band holds its middle."""
    lines: list[list[dict[str, Any]]] = []
    bands: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: (float(w["top"]), float(w["x0"]))):
        mid = (float(w["top"]) + float(w["bottom"])) / 2
        for i in range(len(lines) - 1, max(-1, len(lines) - 3), -1):
            top, bottom = bands[i]
            if top - 0.5 <= mid <= bottom + 0.5:
                lines[i].append(w)
                bands[i] = (min(top, float(w["top"])), max(bottom, float(w["bottom"])))
                break
        else:
            lines.append([w])
            bands.append((float(w["top"]), float(w["bottom"])))
    return lines


def join_wrapped(parts: list[str]) -> str:
    """Lines of one cell -> one text: a wrapped word continues without a space, Latin words keep one."""
    out = ""
    for p in parts:
        if out and out[-1].isascii() and out[-1].isalpha() and p[0].isascii() and p[0].isalpha():
            out += " "
        out += p
    return out


@dataclass
class _Cell:
    bbox: tuple[float, float, float, float]
    row: int
    col: int
    words: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PageLine:
    top: float
    text: str
    table: bool = False


def _contains(bbox: tuple[float, float, float, float], x: float, y: float, tol: float = 0.5) -> bool:
    return bbox[0] - tol <= x <= bbox[2] + tol and bbox[1] - tol <= y <= bbox[3] + tol


def _mid(w: dict[str, Any]) -> tuple[float, float]:
    return (float(w["x0"]) + float(w["x1"])) / 2, (float(w["top"]) + float(w["bottom"])) / 2


class TableRender:
    """One ruled table: words placed into its cells, rows rendered as TSV (or as plain lines for a title or
    a 部门/单位 line printed inside the grid).

    Columns are the table's cell edges clustered by x: double rules and hairline offsets leave slivers a few
    points wide between two edges that are one border on paper; a cell belongs to the column its left edge
    starts, so a header cell and the data cells under it land in the same TSV column even when the PDF
    drew them with slightly different verticals."""

    SLIVER = 7.5   # points; narrower than any column that holds a character

    def __init__(self, table: Any):
        self.table = table
        self.bbox = tuple(float(v) for v in table.bbox)
        self.cells: list[_Cell] = []
        self.rows = table.rows
        boxes = [tuple(float(v) for v in b) for row in self.rows for b in row.cells if b is not None]
        self.edges = _cluster_edges([x for b in boxes for x in (b[0], b[2])], self.SLIVER)
        self.ncols = max(len(self.edges) - 1, 0)
        self.extra: list[PageLine] = []
        for r, row in enumerate(self.rows):
            for bbox in row.cells:
                if bbox is not None:
                    b = tuple(float(v) for v in bbox)
                    self.cells.append(_Cell(b, r, self.col_of(b[0])))

    def col_of(self, x: float) -> int:
        """The column whose left edge (cluster) is the last one at or left of x."""
        col = 0
        for i, (lo, _hi) in enumerate(self.edges[:-1]):
            if x >= lo - 0.5:
                col = i
        return col

    def absorb(self, line: list[dict[str, Any]], page_top: bool = False) -> bool:
        """A line of loose words just above or below the grid whose words sit in its columns and include an
        amount is a row whose rules were not drawn (typically the first row on a continuation page). So is
        a short fragment printed first on the page right above the grid: the rest of a cell wrapped across
        the page break ('信息网络及软件购' / '置更新')."""
        text = join_line(line)
        if classify_title(text) is not None or _META.search(text):
            return False
        if not any(_AMOUNT.match(w["text"]) and not _YEAR.match(w["text"]) for w in line):
            if not page_top or len(text) > 20 or _PAGE_NUMBER.match(text):
                return False
            if float(min(w["top"] for w in line)) > self.bbox[1]:
                return False
        top = min(float(w["top"]) for w in line)
        bottom = max(float(w["bottom"]) for w in line)
        height = bottom - top
        near = (0 <= top - self.bbox[3] + 2 < 2.5 * height) or (0 <= self.bbox[1] - bottom + 2 < 2.5 * height)
        inside = all(self.bbox[0] - 2 <= float(w["x0"]) and float(w["x1"]) <= self.bbox[2] + 2 for w in line)
        if not (near and inside and self.ncols >= 2):
            return False
        texts = [""] * self.ncols
        by_col: dict[int, list[dict[str, Any]]] = {}
        for w in line:
            by_col.setdefault(self.col_of(_mid(w)[0]), []).append(w)
        if len(by_col) < 2 and any(_AMOUNT.match(w["text"]) for w in line):
            return False
        for c, ws in by_col.items():
            texts[c] = join_line(ws, cell=True)
        self.extra.append(PageLine(top, "\t".join(texts), table=True))
        self.bbox = (self.bbox[0], min(self.bbox[1], top), self.bbox[2], max(self.bbox[3], bottom))
        return True

    def cell_at(self, x: float, y: float) -> _Cell | None:
        best = None
        for cell in self.cells:
            if _contains(cell.bbox, x, y, 0.0):
                # nested boxes (a merged cell drawn over its parts): the smallest one holds the point
                if best is None or _area(cell.bbox) < _area(best.bbox):
                    best = cell
        return best

    def take(self, word: dict[str, Any]) -> bool:
        x, y = _mid(word)
        if not _contains(self.bbox, x, y):
            return False
        chars = word.get("chars") or []
        homes = [self.cell_at(*_mid(c)) for c in chars]
        if chars and any(h is not homes[0] for h in homes):
            # a 'word' running over a cell border (no gap between two cells' text): split it at the border
            parts: list[tuple[_Cell | None, list[dict[str, Any]]]] = []
            for c, h in zip(chars, homes, strict=True):
                if parts and parts[-1][0] is h:
                    parts[-1][1].append(c)
                else:
                    parts.append((h, [c]))
            for h, cs in parts:
                if h is not None:
                    h.words.append(_word_of(cs))
            return True
        best = self.cell_at(x, y)
        if best is None:
            return False
        best.words.append(word)
        return True

    def lines(self) -> list[PageLine]:
        by_row: dict[int, list[_Cell]] = {}
        for cell in self.cells:
            if cell.words:
                by_row.setdefault(cell.row, []).append(cell)
        out: list[PageLine] = list(self.extra)
        for r in sorted(by_row):
            for sub in self._split_row(r, by_row[r]):
                out.append(self._render(sub))
        return out

    def _split_row(self, r: int, cells: list[_Cell]) -> list[list[tuple[_Cell, str, float]]]:
        """Rendered cells of one ruled row. A row holding bare column names (类 / 款 / 项) left of a label and
        amounts is a header row drawn inside the first data row's box (the rule between them is missing):
        the names become a row of their own above the data."""
        rendered = []
        for cell in cells:
            lines = cluster_lines(cell.words)
            text = join_wrapped([join_line(ln, cell=True) for ln in lines])
            top = min(float(w["top"]) for w in cell.words)
            rendered.append((cell, text, top))
        head = [x for x in rendered if x[1] in LABEL_HEADERS]
        rest = [x for x in rendered if x[1] not in LABEL_HEADERS]
        if head and rest and any(_AMOUNT.match(t) for _, t, _ in rest) \
                and max(c.col for c, _, _ in head) < min(c.col for c, _, _ in rest):
            return [head, rest]
        return [rendered]

    def _render(self, cells: list[tuple[_Cell, str, float]]) -> PageLine:
        top = min(t for _, _, t in cells)
        texts = [""] * self.ncols
        for cell, text, _ in cells:
            texts[cell.col] = (texts[cell.col] + text) if texts[cell.col] else text
        filled = [t for t in texts if t]
        joined = " ".join(filled)
        title = "".join(filled)
        if len(filled) <= 3 and title.endswith("表") and not any(_AMOUNT.match(t) for t in filled) \
                and classify_title(title) is not None:
            return PageLine(top, title, table=False)   # the table's title printed inside its grid
        if _META.search(filled[0]):
            return PageLine(top, joined, table=False)
        return PageLine(top, "\t".join(texts), table=True)


def _title_wraps(first: str, second: str, gap: float, height: float) -> bool:
    """The second line finishes a table title the first line started (a short tail right below it)."""
    if len(second) > 8 or gap > 1.2 * height or first.endswith(("。", "；", "：", ":", "，")):
        return False
    if classify_title(first + second) is None:
        return False
    # '…支出预' + '算表', or '…支出预算' + '表' (the first half already reads like a title)
    return classify_title(first) is None or len(second) <= 2


def _cluster_edges(xs: list[float], tol: float) -> list[tuple[float, float]]:
    """Sorted x positions -> (min, max) of each group of positions closer than `tol` to the previous one."""
    out: list[tuple[float, float]] = []
    for x in sorted(xs):
        if out and x - out[-1][1] <= tol:
            out[-1] = (out[-1][0], x)
        else:
            out.append((x, x))
    return out


def _word_of(chars: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": "".join(c["text"] for c in chars), "x0": min(float(c["x0"]) for c in chars),
            "x1": max(float(c["x1"]) for c in chars), "top": min(float(c["top"]) for c in chars),
            "bottom": max(float(c["bottom"]) for c in chars), "chars": chars}


def _area(b: tuple[float, float, float, float]) -> float:
    return (b[2] - b[0]) * (b[3] - b[1])


def _white(color: Any) -> bool:
    if color is None:
        return False          # PDF default colour is black
    values = color if isinstance(color, (tuple, list)) else (color,)
    try:
        nums = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    if len(nums) == 4:        # CMYK
        return all(v <= 0.01 for v in nums)
    return bool(nums) and all(v >= 0.99 for v in nums)


def _drawn(obj: dict[str, Any]) -> bool:
    """False for geometry that paints nothing visible: white fills without a stroke (cell backgrounds that
    some converters lay under every text box). Such boxes would otherwise split one printed cell in two."""
    if obj.get("object_type") != "rect":
        return True
    if obj.get("stroke") and not _white(obj.get("stroking_color")):
        return True
    return bool(obj.get("fill")) and not _white(obj.get("non_stroking_color"))


def table_finder_page(page: Any) -> Any:
    """The visible part of a page, without invisible boxes, for the table finder."""
    visible = page.within_bbox(page.bbox) if page.bbox else page
    return visible.filter(_drawn)


def _chunks(line: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A line's words grouped into column chunks: a gap wider than 1.5 em separates two columns."""
    words = sorted(line, key=lambda w: float(w["x0"]))
    out = [[words[0]]]
    for prev, w in zip(words, words[1:], strict=False):
        if float(w["x0"]) - float(prev["x1"]) > 1.5 * max(_em(prev), _em(w)):
            out.append([w])
        else:
            out[-1].append(w)
    return out


def _is_amount_chunk(chunk: list[dict[str, Any]]) -> bool:
    return len(chunk) == 1 and bool(_AMOUNT.match(chunk[0]["text"])) and not _YEAR.match(chunk[0]["text"])


def _tabular(line: list[dict[str, Any]]) -> bool:
    chunks = _chunks(line)
    return len(chunks) >= 2 and any(_is_amount_chunk(c) for c in chunks) and classify_title(join_line(line)) is None


def unruled_tables(lines: list[list[dict[str, Any]]]) -> dict[int, str]:
    """Tables printed without rules: runs of lines whose words fall into columns separated by wide gaps and
    that carry amounts, plus the (at most three) multi-column header lines right above a run. Columns are
    the gaps shared by the run's data lines (a projection of their chunks on the x axis); a header chunk
    goes to the column its left edge falls in. Returns line index -> TSV text."""
    out: dict[int, str] = {}
    i = 0
    while i < len(lines):
        if not _tabular(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and _tabular(lines[j]):
            j += 1
        if j - i >= 2:
            start = i
            while start > 0 and i - start < 3 and len(_chunks(lines[start - 1])) >= 2 \
                    and not _META.search(join_line(lines[start - 1])) \
                    and classify_title(join_line(lines[start - 1])) is None:
                start -= 1
            spans = sorted((float(min(w["x0"] for w in c)), float(max(w["x1"] for w in c)))
                           for ln in lines[i:j] for c in _chunks(ln))
            cols: list[list[float]] = []
            for x0, x1 in spans:
                if cols and x0 <= cols[-1][1]:
                    cols[-1][1] = max(cols[-1][1], x1)
                else:
                    cols.append([x0, x1])
            lefts = [c[0] for c in cols]
            for k in range(start, j):
                texts = [""] * len(cols)
                for chunk in _chunks(lines[k]):
                    x0 = float(min(w["x0"] for w in chunk))
                    x1 = float(max(w["x1"] for w in chunk))
                    col = next((n for n, c in enumerate(cols) if c[0] - 1 <= (x0 + x1) / 2 <= c[1] + 1), None)
                    if col is None:
                        col = max((n for n, left in enumerate(lefts) if left <= x0 + 1), default=0)
                    text = join_line(chunk, cell=True)
                    texts[col] = texts[col] + text if texts[col] else text
                out[k] = "\t".join(texts)
        i = j
    return out


def render_page(page: Any) -> tuple[list[str], int]:
    """(lines, number of characters on the visible page) for one pdfplumber page."""
    visible = table_finder_page(page)
    n_chars = len(visible.chars)
    if not n_chars:
        return [], 0
    words = visible.extract_words(keep_blank_chars=False, use_text_flow=False, return_chars=True)
    tables = [TableRender(t) for t in visible.find_tables()]
    tables = [t for t in tables if t.ncols >= 2 and len(t.rows) >= 1]
    loose: list[dict[str, Any]] = []
    for w in words:
        if not any(t.take(w) for t in tables):
            loose.append(w)
    lines = cluster_lines(loose)
    changed = True
    while changed and tables:
        changed = False
        for line in list(lines):
            first = line is lines[0]
            if any(t.absorb(line, page_top=first) for t in tables):
                lines.remove(line)
                changed = True
    items: list[PageLine] = []
    for t in tables:
        items.extend(t.lines())
    height = float(page.height) or 1.0
    top0 = float(page.bbox[1]) if page.bbox else 0.0
    prev: tuple[PageLine, float] | None = None
    unruled = unruled_tables(lines)
    for k, line in enumerate(lines):
        if k in unruled:
            items.append(PageLine(min(float(w["top"]) for w in line), unruled[k], table=True))
            prev = None
            continue
        text = join_line(line)
        top = min(float(w["top"]) for w in line)
        bottom = max(float(w["bottom"]) for w in line)
        rel = (top - top0) / height
        if _PAGE_NUMBER.match(text) and (rel > 0.85 or rel < 0.1):
            continue
        if prev is not None and _title_wraps(prev[0].text, text, top - prev[1], bottom - top):
            prev[0].text += text        # a table title wrapped onto a second line ('…支出预' / '算表')
            prev = (prev[0], bottom)
            continue
        item = PageLine(top, text)
        items.append(item)
        prev = (item, bottom)
    items.sort(key=lambda p: p.top)
    return [p.text for p in items], n_chars
