"""Grounding: an LLM item stands only if the source says it.

1. its quote is found in the excerpts the model was shown, after whitespace normalisation only (no fuzzy
   matching, no digit folding); the match is mapped back to exact offsets, so `Provenance` holds
   ``text[char_start:char_end] == quote`` for the characters actually printed;
2. its number is one of the numbers printed inside that quote (sign from a printed 减少/下降), with the unit
   printed after it;
3. its name agrees with the words printed around the number (`binding.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .. import narrative_rules as R
from ..numbers import NUMBER_IN_TEXT_RE, fold_width, parse_amount
from .binding import (
    LABEL_QUALIFIED,
    change_name_conflict,
    check_binding,
    contradicted_by_peer,
    list_name_conflict,
    norm_label,
    qualifier_pattern,
    unit_kind,
)
from .schema import LLMFact, LLMTableRow, LLMText
from .selection import Chunk

_WS = set(" \t\r\n\u3000\xa0\u200b\f\v")


class NormIndex:
    """The chunk's excerpts with whitespace removed; `idx[i]` is the document offset of character i."""

    def __init__(self, text: str, chunk: Chunk):
        chars: list[str] = []
        idx: list[int] = []
        for e in chunk.excerpts:
            if chars:
                chars.append("\x00")      # a quote never spans two excerpts
                idx.append(-1)
            for k in range(e.start, e.end):
                ch = text[k]
                if ch not in _WS:
                    chars.append(ch)
                    idx.append(k)
        self.s = "".join(chars)
        self.idx = idx
        self.chunk = chunk

    def locate(self, quote: str) -> list[tuple[int, int]]:
        """Document spans of every occurrence of `quote` (whitespace ignored on both sides)."""
        q = "".join(ch for ch in quote if ch not in _WS)
        if not q:
            return []
        out, pos = [], 0
        while (i := self.s.find(q, pos)) >= 0:
            out.append((self.idx[i], self.idx[i + len(q) - 1] + 1))
            pos = i + 1
        return out

    def excerpt_of(self, offset: int):
        return next((e for e in self.chunk.excerpts if e.start <= offset < e.end), self.chunk.excerpts[0])


@dataclass
class Grounded:
    """An accepted item: spans in the document, the value as printed."""

    quote_span: tuple[int, int]
    number_span: tuple[int, int] | None = None
    value: Decimal | None = None
    unit: str = ""
    section: str = ""


def _numbers(text: str, a: int, b: int) -> list[tuple[Decimal, int, int]]:
    folded = fold_width(text[a:b])
    out = []
    for m in NUMBER_IN_TEXT_RE.finditer(folded):
        v = parse_amount(m.group(0).replace("−", "-"))
        if v is not None:
            out.append((v, a + m.start(), a + m.end()))
    return out


def _printed_unit(text: str, end: int) -> str:
    """Text right after a number, whitespace and markdown marks skipped (at most 8 characters)."""
    i = end
    while i < len(text) and (text[i] in _WS or text[i] == "*"):
        i += 1
    return norm_label(text[i:i + 8])


def _context(text: str, index: NormIndex, at: int) -> str:
    e = index.excerpt_of(at)
    return norm_label(text[e.start:at])


def rank(candidates: list[Grounded], qualifier: str, text: str, index: NormIndex) -> list[Grounded]:
    """Where the same words are printed twice, the occurrence whose context names the qualifier first."""
    if not qualifier or len(candidates) < 2:
        return candidates
    pattern = qualifier_pattern(qualifier)

    def names_it(g: Grounded) -> bool:
        return bool(pattern.search(norm_label(g.section)) or pattern.search(_context(text, index, g.quote_span[0])))
    return sorted(candidates, key=lambda g: not names_it(g))


def ground_fact(item: LLMFact, text: str, index: NormIndex,
                peers: list[str] | None = None) -> tuple[list[Grounded], str]:
    """Every occurrence of the item in the excerpts that stands (best first), or ([], why not)."""
    spans = index.locate(item.quote)
    if not spans:
        return [], "引文在原文中找不到"
    want = parse_amount(item.value)
    assert want is not None  # the schema validated it
    why = "数值不在引文中"
    found: list[Grounded] = []
    for qs, qe in spans:
        for v, ns, ne in _numbers(text, qs, qe):
            if v != abs(want) and v != want:
                continue
            printed = _printed_unit(text, ne)
            u = norm_label(item.unit)
            if u and not printed.startswith(u):
                why = f"单位“{item.unit}”与原文不符"
                continue
            if not u and unit_kind(printed[:2]) != "other":
                why = "缺少原文印出的单位"
                continue
            excerpt = index.excerpt_of(ns)
            reason = check_binding(text, ns, ne, item.name, item.qualifier, item.unit, want, excerpt.start)
            if reason is None and "change" in item.name:
                reason = contradicted_by_peer(item.qualifier, peers or [], _context(text, index, ns))
            elif reason is None and item.qualifier and item.name not in LABEL_QUALIFIED:
                # a scope (一般公共预算支出 …) is named by the section or the paragraph before the number
                scope = qualifier_pattern(item.qualifier)
                if not scope.search(norm_label(excerpt.section)) and not scope.search(_context(text, index, ne)):
                    reason = f"这一段没有说到“{item.qualifier}”"
            if reason:
                why = reason
                continue
            found.append(Grounded((qs, qe), (ns, ne), want, item.unit.strip(), excerpt.section))
    return rank(found, item.qualifier, text, index), ("" if found else why)


_DUTIES = re.compile(r"职责|职能")
_CJK = re.compile(r"[\u4e00-\u9fff]")


_ABSENCE = re.compile(r"不存在|没有|无|未")


def _explains(before: str, body: str) -> bool:
    """A reason follows 主要原因…, or a change (增加/持平/与上年相比) in its sentence, or explains an absence."""
    sentence = re.split(r"[。！？!?]", before)[-1]
    return bool(R.REASON.search(sentence[-16:] + body[:12]) or R.CMP.search(sentence) or R.FLAT.search(sentence)
                or R.VERB_END.search(sentence) or _ABSENCE.search(body))


def ground_text(item: LLMText, text: str, index: NormIndex,
                peers: list[str] | None = None) -> tuple[list[Grounded], str]:
    spans = index.locate(item.quote)
    if not spans:
        return [], "引文在原文中找不到"
    found, why = [], "引文不是所称的内容（职责须在职责一节，原因不在职责一节）"
    for qs, qe in spans:
        excerpt = index.excerpt_of(qs)
        in_duties = bool(_DUTIES.search(excerpt.section.rsplit("/", 1)[-1]))
        if item.name == "main_duties" and not in_duties or item.name.endswith("reason") and in_duties:
            continue
        body = norm_label(text[qs:qe]).strip("，。；")
        flat = bool(R.FLAT.fullmatch(body) or R.FLAT.match(body) and len(body) <= 8)
        # a change stated in words is 持平/无变化, and 持平 is nothing but a change
        is_change = "change" in item.name and not item.name.endswith("reason")
        if is_change != flat:
            why = f"“{body[:20]}”不是 {item.name}"
            continue
        before = _context(text, index, qs)
        if item.name.endswith("reason") and not _explains(before, body):
            why = f"“{body[:20]}”前后没有原因或增减的说法，不是 {item.name}"
            continue
        if not item.name.endswith("reason") and R.REASON.search(before[-8:]):
            why = f"“{body[:20]}”是一条原因，不是 {item.name}"
            continue
        reason = contradicted_by_peer(item.qualifier, peers or [], before) or change_name_conflict(item.name, before) \
            or list_name_conflict(item.name, before)
        if reason:
            why = reason
            continue
        found.append(Grounded((qs, qe), section=excerpt.section))
    return rank(found, item.qualifier, text, index), ("" if found else why)


@dataclass
class GroundedCell:
    column: str
    value: Decimal
    span: tuple[int, int]


def ground_row(item: LLMTableRow, text: str, index: NormIndex) -> tuple[Grounded | None, list[GroundedCell], str]:
    """The row quote must be found, hold the label and the code, and every cell value, left to right."""
    spans = index.locate(item.quote)
    if not spans:
        return None, [], "引文在原文中找不到"
    why = "数值不在引文中"
    for qs, qe in spans:
        body = norm_label(text[qs:qe])
        if item.label and norm_label(item.label) not in body or not item.label and _CJK.search(body):
            why = "行标签不在引文中" if item.label else "行有文字标签，回复却没有"
            continue
        if item.code and re.sub(r"\D", "", item.code) not in re.sub(r"\D", "", text[qs:qe]):
            why = "编码不在引文中"
            continue
        nums = _numbers(text, qs, qe)
        cells, k, ok = [], 0, True
        for c in item.cells:
            want = parse_amount(c.value)
            while k < len(nums) and nums[k][0] != want:
                k += 1
            if k == len(nums):
                ok = False
                break
            cells.append(GroundedCell(c.column, nums[k][0], (nums[k][1], nums[k][2])))
            k += 1
        if not ok:
            continue
        return Grounded((qs, qe), section=index.excerpt_of(qs).section), cells, ""
    return None, [], why
