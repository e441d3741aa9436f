"""What goes to the LLM: only the parts of a document the rules did not cover, chunked by section.

- narrative paragraphs holding a stated amount (a number with a unit, a 占…% share) that no rule value
  points at, a reason (主要原因…) no rule text fact covers, or the 职责 section when the rules have no
  `main_duties`;
- tables whose title no rule recognised (`TableKind.generic`), one chunk per table (long ones split by lines);
- documents of unknown templates fall out of the same test: nothing is covered, so their paragraphs with
  amounts are sent, in chunks, never as one whole-document request.

Boilerplate (名词解释, the table of contents) and text without amounts or reasons is never sent."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from ..models import BudgetDocument, TableKind

MAX_CHARS = 1800          # per chunk: a few sections of prose, well inside any context window
_SKIP_SECTION = re.compile(r"名词解释|^目\s*录$|/目\s*录$")
_DUTIES = re.compile(r"主要职责|职能职责|主要职能|职责")
# Text facts: a reason, or a change stated in words (持平).
_REASON = re.compile(r"原因|主要是由于|主要是因为|系因|持平|无变化|没有变化|保持不变")
_UNIT = r"(?:亿元|万元|千元|元|%|％|‰|个|辆|台|套|人|名|项|家|次|户|所|平方米|㎡|公里|份|场|批)"
# A stated amount: a number followed by a unit, or a share after 占; years and document numbers are not.
# Thresholds (价值50万元以上设备) are not amounts either.
_AMOUNT = re.compile(rf"(?<![\d.〔\[])(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?=\s*{_UNIT}(?!\s*(?:以上|以下|以内)))"
                     rf"|(?<=占)\s*\d+(?:\.\d+)?")
_CN_COUNT = re.compile(r"[一二两三四五六七八九十百]+(?=个(?:科室|处室|股室|机构|项目|二级|单位|内设))")
_PARA = re.compile(r"\n[ \t\u3000]*\n")


@dataclass
class Excerpt:
    start: int
    end: int
    section: str


@dataclass
class Chunk:
    index: int
    kind: str                                   # narrative | table
    excerpts: list[Excerpt] = field(default_factory=list)
    table_index: int | None = None              # doc.tables index for table chunks
    title: str = ""

    @property
    def where(self) -> str:
        if self.kind == "table":
            return f"表格“{self.title}”"
        paths = list(dict.fromkeys(e.section or "（正文）" for e in self.excerpts))
        return "；".join(paths)

    @property
    def short_where(self) -> str:
        """For messages: the first section, and how many more the chunk spans."""
        if self.kind == "table":
            return self.where
        paths = list(dict.fromkeys(e.section or "（正文）" for e in self.excerpts))
        return paths[0] if len(paths) == 1 else f"{paths[0]} 等 {len(paths)} 节"

    @property
    def size(self) -> int:
        return sum(e.end - e.start for e in self.excerpts)

    def render(self, text: str) -> str:
        parts, last = [], None
        for e in self.excerpts:
            if e.section != last and self.kind == "narrative":
                parts.append(f"【{e.section or '正文'}】")
                last = e.section
            parts.append(text[e.start:e.end])
        return "\n".join(parts)


def _covered_spans(doc: BudgetDocument) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for f in doc.facts:
        if f.amount is not None:
            spans.append((f.amount.prov.char_start, f.amount.prov.char_end))
    for _, _, cell in doc.amounts():
        spans.append((cell.amount.prov.char_start, cell.amount.prov.char_end))
    for ind in doc.indicators:
        spans.append((ind.prov.char_start, ind.prov.char_end))
    spans.sort()
    return spans


class _Spans:
    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.max_len = max((e - s for s, e in self.spans), default=0)

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect.bisect_left(self.starts, b)
        lo = bisect.bisect_left(self.starts, a - self.max_len)
        return any(self.spans[k][1] > a for k in range(lo, i))


def _section_at(doc: BudgetDocument):
    secs = sorted(doc.sections, key=lambda s: (s.char_start, -s.level))
    starts = [s.char_start for s in secs]

    def find(offset: int) -> str:
        i = bisect.bisect_right(starts, offset) - 1
        return secs[i].path if i >= 0 else ""
    return find


_END = tuple("。！？!?：:；;")
_HEADING = re.compile(r"^\s*(?:#|\*\*|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|第[一二三四五六七八九十]+部分)")


def _is_title(block: str) -> bool:
    """A heading line (# …, 一、…, （二）… short and without a clause) rather than a paragraph."""
    s = block.strip()
    return s.startswith("#") or bool(_HEADING.match(s)) and len(s) < 40 and "，" not in s


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Blank-line separated blocks, whitespace-trimmed; a block that stops mid-sentence (a page break in
    converted PDFs) runs on into the next one unless that one is a heading."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in list(_PARA.finditer(text, start, end)) + [None]:
        a, b = pos, (m.start() if m else end)
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            prev = text[out[-1][0]:out[-1][1]] if out else ""
            if prev and not prev.endswith(_END) and not _HEADING.match(text[a:b]) and not _is_title(prev):
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        pos = m.end() if m else end
    return out


def _paragraphs(text: str, start: int, end: int, limit: int):
    """(start, end) of paragraphs; long ones cut after a 。."""
    for a, b in _blocks(text, start, end):
        while b - a > limit:
            cut = text.rfind("。", a, a + limit)
            cut = cut + 1 if cut > a else a + limit
            yield a, cut
            a = cut
        yield a, b


def _needs_llm(doc: BudgetDocument, text: str, a: int, b: int, covered: _Spans, texts: _Spans,
               section: str, has_duties: bool) -> bool:
    para = text[a:b]
    for m in _AMOUNT.finditer(para):
        if not covered.overlaps(a + m.start(), a + m.end()):
            return True
    for m in _CN_COUNT.finditer(para):
        if not covered.overlaps(a + m.start(), a + m.end()):
            return True
    if _REASON.search(para) and not texts.overlaps(a, b):
        return True
    leaf = section.rsplit("/", 1)[-1]
    return bool(_DUTIES.search(leaf)) and not has_duties and len(para) > 20


def select_chunks(doc: BudgetDocument, text: str, *, max_chars: int = MAX_CHARS,
                  everything: bool = False) -> list[Chunk]:
    """The chunks to send for `doc` (extracted by the rules from `text`). `everything` sends every
    narrative paragraph with content whatever the rules found (evaluation of the LLM path alone)."""
    covered = _Spans([] if everything else _covered_spans(doc))
    texts = _Spans([] if everything else [(f.prov.char_start, f.prov.char_end) for f in doc.facts
                                           if f.amount is None])
    has_duties = not everything and any(f.name == "main_duties" for f in doc.facts)
    section_at = _section_at(doc)
    chunks: list[Chunk] = []

    # Narrative: the text outside every table.
    regions, pos = [], 0
    for t in sorted(doc.tables, key=lambda t: t.title_prov.char_start):
        start = min(t.title_prov.char_start, t.char_start or t.title_prov.char_start)
        if start > pos:
            regions.append((pos, start))
        pos = max(pos, t.char_end)
    if pos < len(text):
        regions.append((pos, len(text)))
    current: Chunk | None = None
    for ra, rb in regions:
        for a, b in _paragraphs(text, ra, rb, max_chars):
            section = section_at(a)
            if _SKIP_SECTION.search(section):
                continue
            if everything:
                if not (_AMOUNT.search(text, a, b) or _REASON.search(text, a, b)
                        or _DUTIES.search(section.rsplit("/", 1)[-1])):
                    continue
            elif not _needs_llm(doc, text, a, b, covered, texts, section, has_duties):
                continue
            if current is None or current.size + (b - a) > max_chars:
                current = Chunk(len(chunks), "narrative")
                chunks.append(current)
            current.excerpts.append(Excerpt(a, b, section))

    # Tables no rule recognised.
    for ti, t in enumerate(doc.tables):
        if t.kind != TableKind.generic:
            continue
        a = t.title_prov.char_start
        while a < t.char_end:
            b = t.char_end
            if b - a > max_chars:
                cut = text.rfind("\n", a, a + max_chars)
                b = cut if cut > a else a + max_chars
            chunks.append(Chunk(len(chunks), "table", [Excerpt(a, b, t.title)], table_index=ti, title=t.title))
            a = b
    return chunks
