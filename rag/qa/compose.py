"""Composition: concise Chinese answer text, its citations, and a status for every number it states.

Numbers enter the text only through `Builder.num` / `Builder.quoted`, which register each one with its
status (verified: read from a cited record or quote; computed: from verified inputs by the formula shown);
`audit` re-reads the finished text and flags any number that slipped in without a status."""

from __future__ import annotations

import re
from decimal import Decimal

from extractor.numbers import NUMBER_IN_TEXT_RE, fold_width, parse_amount
from extractor.provenance import Provenance

from .catalogue import Value, fmt
from .fallback import Quoted
from .models import Answer, Citation, NumberStatus

_NAME = re.compile(r"「[^」]*」|“[^”]*”")


def unit_text(unit: str) -> str:
    return "" if unit in ("", "1") else unit


class Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.citations: list[Citation] = []
        self.numbers: list[NumberStatus] = []
        self._cites: dict[tuple[str, int, int], int] = {}
        self._seen: set[tuple[str, str, str, int | None]] = set()
        self.abstained = False

    # ---- citations ---------------------------------------------------------------------------------
    def cite(self, prov: Provenance) -> int:
        key = (prov.doc_id, prov.char_start, prov.char_end)
        if key not in self._cites:
            self._cites[key] = len(self.citations)
            self.citations.append(Citation(doc_id=prov.doc_id, source=prov.source, locator=prov.locator,
                                           quote=prov.quote, char_start=prov.char_start, char_end=prov.char_end,
                                           page=prov.page))
        return self._cites[key]

    def _register(self, value: str, unit: str, status: str, citation: int | None, formula: str | None) -> None:
        key = (value, unit, status, citation)
        if key in self._seen:
            return
        self._seen.add(key)
        self.numbers.append(NumberStatus(value=value, unit=unit, status=status, citation=citation, formula=formula))  # type: ignore[arg-type]

    # ---- numbers -----------------------------------------------------------------------------------
    def num(self, v: Value, formula: bool = True, unit: bool = True) -> str:
        """The number as text (with unit); registers it, its citation, and for a computed number its inputs."""
        text = v.text()
        if v.ev is not None and v.ev.prov is not None:
            self._register(text, v.unit, "verified", self.cite(v.ev.prov), None)
        elif v.formula:
            for i in v.inputs:
                self.num(i, formula=False)
            self._register(text, v.unit, "computed", None, v.formula)
        else:
            self._register(text, v.unit, "unverified", None, None)
        out = text + (unit_text(v.unit) if unit else "")
        if formula and v.formula and v.ev is None:
            out += f"（计算：{v.formula}）"
        return out

    def quoted(self, q: Quoted, citation: int) -> str:
        """A number taken from a quoted sentence that is cited."""
        self._register(fmt(q.value, q.raw), q.unit, "verified", citation, None)
        return fmt(q.value, q.raw) + q.unit

    def quote_numbers(self, text: str, citation: int) -> None:
        """Every number of a sentence quoted verbatim is verified by that sentence."""
        from .fallback import numbers_in

        for q in numbers_in(text):
            self._register(fmt(q.value, q.raw), q.unit, "verified", citation, None)

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)

    def answer(self, question: str, qid: str | None = None) -> Answer:
        text = self.text()
        audit(text, self)
        return Answer(id=qid, question=question, answer=text, abstained=self.abstained, mode="offline",
                      citations=self.citations, numbers=self.numbers)


def numbers_in_answer(text: str) -> list[tuple[str, Decimal]]:
    """Numbers an answer states: quoted names (「…」/“…”), years, codes and ordinals are not amounts."""
    t = fold_width(text)
    masked = _NAME.sub(lambda m: "□" * len(m.group(0)), t)
    out = []
    for m in NUMBER_IN_TEXT_RE.finditer(masked):
        after = masked[m.end():m.end() + 2]
        raw = m.group(0)
        if after.startswith(("年", "月", "日", "号")):
            continue
        digits = raw.replace(",", "").replace(".", "").lstrip("-")
        if "." not in raw and len(digits) >= 5 and not re.match(r"\s*(万元|元|亿元|%|个|辆|人|次|项)", masked[m.end():m.end() + 3]):
            continue  # a code (2010301, 30101, 070002, project codes), not an amount
        value = parse_amount(raw)
        if value is not None:
            out.append((raw.replace(",", ""), value))
    return out


def audit(text: str, b: Builder) -> None:
    """Every number in the text must carry a status; one that does not is added as unverified."""
    known = {parse_amount(n.value) for n in b.numbers}
    for raw, value in numbers_in_answer(text):
        if value not in known:
            b._register(raw, "", "unverified", None, None)
            known.add(value)
