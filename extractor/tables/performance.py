"""Performance tables -> `Indicator` records.

Two layouts, told apart by their header rows, not by the table title:

* vertical (整体绩效目标表, and per-project tables printed the same way): 一级指标 / 二级指标 / 三级指标 /
  指标值 / 指标值说明 columns, blank label cells meaning "same as above";
* wide (项目绩效目标汇总表): one line per project with code, name and amounts, then (三级指标, 指标值)
  pairs under the group headers 成本指标 / 产出指标 / 效益指标 / 满意度指标; continuation lines with blank
  project cells belong to the project above.

PDF-to-text conversion drops empty cells and pads the line at the end, so cell positions drift left of
their header. Both parsers therefore read cells by order and meaning first and use positions as a hint:
labels are told from names and values by content, the wide layout's drift is measured per table, and a
pair that would leave a hole in its group column is moved to the group that is still being listed
(each group column lists its indicators from the project's first line down, without gaps).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..grid import GridRow
from ..models import TABLE_NAMES, Indicator, TableKind
from ..numbers import Comparison, parse_amount, parse_comparison
from ..provenance import SourceRef, full_record
from ..segment import TableBlock
from .indicator_pairs import pair_texts

PERFORMANCE = (TableKind.dept_performance, TableKind.project_performance)

# Level-1 names of the national indicator frameworks (整体/项目支出绩效); level-2 names (数量指标 …) differ.
_LEVEL1 = re.compile(r"^(投入管理|投入|产出|效益|满意度|成本|过程|决策|管理)指标$")
_NAME_HEAD = re.compile(r"^(三级指标|指标名称|绩效指标|指标内容)$")
_VALUE_HEAD = re.compile(r"^(指标值|目标值|指标值[（(]目标值[)）]|绩效目标值)$")
_GROUP_HEAD = re.compile(r"^[\u4e00-\u9fff]{1,8}指标$")
_LEVEL_HEAD = re.compile(r"^[一二三]级指标$")
_CODE = re.compile(r"^\d[\d\s-]{2,}$")
_PROJECT_HEAD = re.compile(r"项目名称|项目单位|单位名称")
_PROJECT_LABEL = re.compile(r"^项目名称[：:]?$")
_PROJECT_CODE_LABEL = re.compile(r"^项目(编码|代码)[：:]?$")


@lru_cache(maxsize=16384)
def _norm(text: str) -> str:
    return "".join(text.split()).replace("**", "")   # str.split() splits at re's \s: _WS.sub("", text)


def _norm_joined(texts: list[str]) -> str:
    """The row's texts joined, spaces and '**' removed (not cached: rows rarely repeat)."""
    return "".join("".join(texts).split()).replace("**", "")


@dataclass
class _Project:
    name: str = ""
    code: str = ""
    scope: str = ""    # the table's 部门名称 line: two units' department tables are not duplicates
    rows: int = 0                                         # lines that carried indicator pairs
    counts: dict[int, int] = field(default_factory=dict)  # group index -> indicators listed so far


@dataclass(slots=True)
class _Record:
    kind: TableKind
    project: _Project
    level1: str
    level2: str
    level3: str
    value: str        # the 指标值 text, printed in cell `col` of `row` (its offset is read when kept)
    row: GridRow
    col: int


# Every header test below needs one of these words in a cell (its spaces and '**' removed), so a line whose
# text holds none of them (spaces and every '*' removed) is a data line: most are told so without the tests.
_HEADER_WORDS = ("指标", "标值", "（项目编码）", "（项目名称）", "项目金额", "绩效目标")


def _is_header_row(row: GridRow) -> bool:
    texts = row.texts
    raw = "".join(texts)
    if "标" not in raw and "项" not in raw:   # each of the words holds 标 or 项 (spaces apart or not)
        return False
    joined = "".join(raw.split()).replace("*", "")   # spaces (re's \s is what str.split() splits at) and '*'
    for word in _HEADER_WORDS:
        if word in joined:
            return _is_header_texts(tuple([t for t in texts if t]))
    return False


@lru_cache(maxsize=8192)
def _is_header_texts(raw: tuple[str, ...]) -> bool:
    texts = [_norm(t) for t in raw]
    if any(_NAME_HEAD.match(t) or _VALUE_HEAD.match(t) or _LEVEL_HEAD.match(t) for t in texts):
        return True
    if any("（项目编码）" in t or "（项目名称）" in t or t.startswith("项目金额") or t == "绩效目标" for t in texts):
        return True
    return len(texts) >= 2 and all(_GROUP_HEAD.match(t) for t in texts)


def name_columns(row: GridRow) -> list[int]:
    """Columns holding indicator names: '三级指标' cells, or group cells ('成本指标') directly followed by '指标值'."""
    return _name_columns([_norm(t) for t in row.texts])


def _name_columns(texts: list[str]) -> list[int]:
    """`name_columns` of a row's normalised cell texts."""
    return [j for j, t in enumerate(texts) if _NAME_HEAD.match(t) or (
        _GROUP_HEAD.match(t) and not _LEVEL_HEAD.match(t) and j + 1 < len(texts) and _VALUE_HEAD.match(texts[j + 1]))]


def _header_layout(rows: list[GridRow]) -> tuple[str, int] | None:
    """('wide' | 'vertical', index of the row naming the indicator columns), or None."""
    for i, row in enumerate(rows):
        # a row naming indicator columns says 指标 (every name and group header does): the usual data row
        # is passed over on its joined text
        if "指标" not in _norm_joined(row.texts):
            continue
        texts = [_norm(t) for t in row.texts]
        names = len(_name_columns(texts))
        if names >= 2:
            return "wide", i
        if names == 1 and any(_VALUE_HEAD.match(t) for t in texts):
            return "vertical", i
    return None


class _Vertical:
    """一级 / 二级 / 三级 / 指标值 rows with carry-forward of blank label cells."""

    layout = "vertical"

    def __init__(self, kind: TableKind, project: _Project, out: list[_Record]):
        self.kind, self.project, self.out = kind, project, out
        self.level1 = self.level2 = ""
        self.l1_start = self.l2_start = 0       # index in out where the current level1 / level2 run began
        self.cols = {"l1": 0, "l2": 1, "l3": 2, "value": 3, "note": 4}

    def set_header(self, row: GridRow) -> None:
        texts = [_norm(t) for t in row.texts]
        for j, t in enumerate(texts):
            if t == "一级指标":
                self.cols["l1"] = j
            elif t == "二级指标":
                self.cols["l2"] = j
            elif _NAME_HEAD.match(t):
                self.cols["l3"] = j
            elif _VALUE_HEAD.match(t):
                self.cols["value"] = j
                self.cols["note"] = j + 1

    def _mine(self, rec: _Record) -> bool:
        return rec.project is self.project

    def _set_level1(self, text: str, centred: bool) -> None:
        if centred and self.level2:
            # A level-1 label alone on a line inside a level-2 run is a vertically centred merged cell:
            # it names the whole run, including the lines printed above it.
            self.l1_start = self.l2_start
            for rec in self.out[self.l1_start:]:
                if self._mine(rec):
                    rec.level1 = text
        else:
            self.l1_start = len(self.out)
        for rec in self.out:
            if self._mine(rec) and not rec.level1:
                rec.level1 = text     # lines before the first printed label (label centred below them)
        self.level1 = text

    def _set_level2(self, text: str) -> None:
        for rec in self.out[self.l1_start:]:
            if self._mine(rec) and not rec.level2:
                rec.level2 = text
        self.level2 = text
        self.l2_start = len(self.out)

    def feed(self, row: GridRow) -> None:
        if _is_header_row(row):
            return
        cells = [(j, t) for j, t in enumerate(row.texts) if t]
        if not cells:
            return
        cols = self.cols
        at = {j for j, _ in cells}
        if len(cells) >= 2 and cells[-1][0] >= cols["note"] and cols["value"] in at and cells[-1][0] != cols["value"]:
            cells = cells[:-1]                  # the 指标值说明 cell
        cells = cells[:4]
        if len(cells) == 1:
            j, text = cells[0]
            if _LEVEL1.match(_norm(text)):
                self._set_level1(text, centred=True)
            elif j == cols["l3"] and self.out and self.out[-1].project is self.project:
                self.out[-1].level3 += text        # a wrapped 三级指标 name
            return
        (l3_col, l3), (v_col, value) = cells[-2], cells[-1]
        labels = cells[:-2]
        aligned = l3_col == cols["l3"] and v_col == cols["value"]
        if len(labels) == 2:
            self._set_level1(labels[0][1], centred=False)
            self._set_level2(labels[1][1])
        elif len(labels) == 1:
            j, label = labels[0]
            is_l1 = j == cols["l1"] if aligned and cols["l1"] != cols["l2"] else bool(_LEVEL1.match(_norm(label)))
            if is_l1:
                self._set_level1(label, centred=True)
            else:
                self._set_level2(label)
        self.out.append(_Record(self.kind, self.project, self.level1, self.level2, l3, value, row, v_col))


class _Wide:
    """One line per project, (三级指标, 指标值) pairs under group headers."""

    layout = "wide"

    def __init__(self, kind: TableKind, out: list[_Record]):
        self.kind, self.out = kind, out
        self.project: _Project | None = None
        self.name_cols: list[int] = []
        self.groups: list[str] = []
        self.code_col, self.name_col, self.amount_lo = 0, 1, 2
        self.shift = 0
        self.prev_pairs: dict[int, _Record] = {}
        # id(row) -> (entity, cells, pairs) as measure_shift read it, None for a header row
        self.read: dict[int, tuple | None] = {}

    def set_header(self, header: list[GridRow]) -> None:
        name_row = header[-1]
        self.name_cols = name_columns(name_row)
        labels: list[tuple[int, str]] = []
        for row in header:
            for j, text in enumerate(row.texts):
                t = _norm(text)
                if _GROUP_HEAD.match(t) and not _LEVEL_HEAD.match(t) and not _NAME_HEAD.match(t):
                    labels.append((j, text.strip()))
        labels.sort()
        starts = [j for j, _ in labels]
        self.groups = []
        for col in self.name_cols:
            k = bisect.bisect_right(starts, col) - 1
            self.groups.append(labels[k][1] if k >= 0 else "")
        for row in header:
            for j, text in enumerate(row.texts):
                t = _norm(text)
                if "编码" in t or "代码" in t:
                    self.code_col = j
                elif _PROJECT_HEAD.search(t):
                    self.name_col = j
        self.amount_lo = self.name_col + 1

    def _split(self, row: GridRow) -> tuple[list[str], list[tuple[int, str]]]:
        """(project cell texts, indicator (column, text) cells) of a data line; amounts between them are
        left to assemble.py."""
        texts = row.texts
        first = self.name_cols[0] if self.name_cols else len(texts)
        entity, indicator = [], []
        amount_lo = self.amount_lo
        for j, text in enumerate(texts):
            if not text:
                continue
            if j < amount_lo:
                entity.append(text)
            elif j >= first or parse_amount(text) is None:
                indicator.append((j, text))
        return entity, indicator

    def measure_shift(self, rows: list[GridRow]) -> None:
        """How far this piece's data cells sit left (+) or right (-) of the header's 三级指标 columns."""
        cols = set(self.name_cols)
        hits = {d: 0 for d in (0, 1, -1, 2, -2)}
        at: dict[int, int] = {}   # column -> how many pairs with a value start there
        self.read = {}
        for row in rows:
            if _is_header_row(row):
                self.read[id(row)] = None   # feed() skips it without asking again
                continue
            entity, cells = self._split(row)
            pairs = pair_texts(cells)
            self.read[id(row)] = (entity, cells, pairs)   # feed() reads the same row the same way
            for idx, _, value, _ in pairs:
                if value is not None:
                    at[idx] = at.get(idx, 0) + 1
        for d in hits:
            hits[d] = sum(n for idx, n in at.items() if idx + d in cols)
        self.shift = max(hits, key=lambda d: hits[d]) if any(hits.values()) else 0

    def _group_of(self, idx: int) -> int:
        col = idx + self.shift
        k = bisect.bisect_right(self.name_cols, col) - 1
        if k < 0:
            return 0
        if self.name_cols[k] != col:
            k += 1      # a pair starting on a value column lost a cell to its left: it belongs to the next group
        last = len(self.name_cols) - 1
        return k if k < last else last

    def _start_project(self, entity: list[str]) -> None:
        code = next((t for t in entity if _CODE.match(t)), "")
        words = [t for t in entity if not _CODE.match(t)]
        name = words[0] if words else ""
        cur = self.project
        if cur is not None and not code and name and cur.code:
            cur.name += name                      # the project name wrapped onto the next line
            return
        if cur is not None and (code, name) == (cur.code, cur.name):
            return                                # the same project line printed again after a page break
        self.project = _Project(name=name, code=code)
        self.prev_pairs = {}

    def feed(self, row: GridRow) -> None:
        if not self.name_cols:
            return
        got = self.read.pop(id(row), False)
        if got is None:
            return                                  # a header row, as measure_shift found
        if got is not False:
            entity, cells, pairs = got
        elif _is_header_row(row):
            return
        else:
            entity, cells = self._split(row)
            pairs = pair_texts(cells)
        if entity:
            self._start_project(entity)
        if self.project is None:
            self.project = _Project()
        proj = self.project
        if not entity and len(pairs) == 1 and pairs[0][2] is None and pairs[0][0] in self.prev_pairs:
            self.prev_pairs[pairs[0][0]].level3 += pairs[0][1]     # a wrapped indicator name
            return
        used: dict[int, _Record] = {}
        last_group = -1
        for idx, name, value, v_col in pairs:
            if value is None:
                continue
            k = self._group_of(idx)
            if k <= last_group:
                k = last_group + 1
            if k >= len(self.name_cols):
                k = len(self.name_cols) - 1
            if proj.counts.get(k, 0) < proj.rows:      # would leave a hole in its column
                k = next((g for g in range(k + 1, len(self.name_cols)) if proj.counts.get(g, 0) == proj.rows), k)
            last_group = k
            rec = _Record(self.kind, proj, self.groups[k] if self.groups else "", "", name, value, row, v_col)
            self.out.append(rec)
            used[idx] = rec
            proj.counts[k] = proj.counts.get(k, 0) + 1
        if used:
            proj.rows += 1
            self.prev_pairs = used


def _preamble_project(rows: list[GridRow], scope: str) -> _Project:
    """Project name / code from the label lines above a vertical per-project table ('' for a department)."""
    proj = _Project(scope=scope)
    for row in rows:
        cells = [t for t in row.texts if t]
        for a, b in zip(cells, cells[1:], strict=False):
            if _PROJECT_LABEL.match(_norm(a)) and not proj.name:
                proj.name = b
            elif _PROJECT_CODE_LABEL.match(_norm(a)) and not proj.code:
                proj.code = b
    return proj


def _new_subject(current: _Project, header: list[GridRow], block: TableBlock) -> bool:
    """A vertical table that names another unit or project starts afresh instead of continuing a page split."""
    pre = _preamble_project(header, block.department_line)
    return bool(pre.scope and current.scope and pre.scope != current.scope
                or pre.name and pre.name != current.name)


def _locator_prefix(kind: TableKind, project: str, level1: str, level2: str) -> str:
    """The locator of an indicator up to its name: table / project (or its level-1 / level-2 names)."""
    parts = [project] if project else [level1, level2]
    return " / ".join([TABLE_NAMES[kind], *[p for p in parts if p]])


def _indicator(ref: SourceRef, rec: _Record, cmp: Comparison | None, prefix: str) -> Indicator:
    # every field given, all already typed: the record is built without re-validation
    start = rec.row.offset(rec.col)   # the value's offset, read only for the indicators kept
    return full_record(Indicator, {
        "table": rec.kind, "project": rec.project.name, "project_code": rec.project.code,
        "level1": rec.level1, "level2": rec.level2, "level3": rec.level3, "value_text": rec.value,
        "comparator": cmp.comparator if cmp else "", "number": cmp.number if cmp else None,
        "unit": cmp.unit if cmp else "", "prov": ref.span(start, start + len(rec.value), f"{prefix} / {rec.level3}"),
    })


def extract_indicators(ref: SourceRef, blocks: list[TableBlock]) -> list[Indicator]:
    """Every performance indicator of the document's 整体/项目绩效目标表, in print order, without the
    duplicates a page break's repeated lines would add."""
    records: list[_Record] = []
    parser: _Vertical | _Wide | None = None
    for block in blocks:
        if block.kind not in PERFORMANCE:
            parser = None
            continue
        found = _header_layout(block.rows)
        rows = block.rows
        if found is None:
            if parser is None or parser.kind != block.kind:
                continue                          # no header here and nothing to continue
        else:
            layout, at = found
            header, rows = block.rows[:at + 1], block.rows[at + 1:]
            if parser is None or parser.kind != block.kind or parser.layout != layout or (
                    isinstance(parser, _Vertical) and _new_subject(parser.project, header, block)):
                parser = (_Wide(block.kind, records) if layout == "wide"
                          else _Vertical(block.kind, _preamble_project(header, block.department_line), records))
            if isinstance(parser, _Wide):
                top = max(0, at - 3)
                parser.set_header(block.rows[top:at + 1])
            else:
                parser.set_header(block.rows[at])
        if isinstance(parser, _Wide):
            parser.measure_shift(rows)
        for row in rows:
            parser.feed(row)

    seen: set[tuple] = set()
    out: list[Indicator] = []
    parsed: dict[str, Comparison | None] = {}   # value text -> its comparison (values repeat: ≥95%, 100% …)
    prefixes: dict[tuple, str] = {}             # the indicators of a project (or level-2 group) share one
    for rec in records:
        proj = rec.project
        text = rec.value
        key = (rec.kind, proj.scope, proj.code, proj.name, rec.level1, rec.level2, rec.level3, text)
        if key in seen:
            continue
        seen.add(key)
        if text not in parsed:
            parsed[text] = parse_comparison(text)
        where = (rec.kind, proj.name, rec.level1, rec.level2)
        prefix = prefixes.get(where)
        if prefix is None:
            prefix = prefixes[where] = _locator_prefix(*where)
        out.append(_indicator(ref, rec, parsed[text], prefix))
    return out
