"""Composition: concise Chinese answer text, its citations, and a status for every number it states.

Numbers enter the text through `Builder.num` / `Builder.quote_numbers`, which cite their evidence and record
the formula of each computed one. When the answer is finished, the numeric verifier (`rag.verify`) reads the
text again, number by number, against the cited quotes and the recorded formulas: the statuses in the
answer are the verifier's, so a number is `verified` only if a cited quote holds it, `computed` only if a
formula over cited numbers gives it, and `unverified` otherwise (flagged, never silently stated)."""

from __future__ import annotations

import re
from decimal import Decimal

from extractor.numbers import NUMBER_IN_TEXT_RE, fold_width, parse_amount
from extractor.provenance import Provenance

from .catalogue import Value, fmt
from .models import Answer, Citation, NumberStatus

_NAME = re.compile(r"「[^」]*」|“[^”]*”")


def unit_text(unit: str) -> str:
    return "" if unit in ("", "1") else unit


class Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.citations: list[Citation] = []
        self._cites: dict[tuple[str, int, int], int] = {}
        self._cite_units: dict[int, str] = {}
        self.formulas: list[tuple[str, str, str]] = []      # (shown formula, arithmetic, unit)
        self.units: dict[Decimal, str] = {}                  # value -> unit it was stated with
        self.stated: list[tuple[str, str, int | None]] = []  # (text, unit, citation) of every number written
        self.abstained = False

    # ---- citations ---------------------------------------------------------------------------------
    def cite(self, prov: Provenance, unit: str = "") -> int:
        key = (prov.doc_id, prov.char_start, prov.char_end)
        if key not in self._cites:
            self._cites[key] = len(self.citations)
            self.citations.append(Citation(doc_id=prov.doc_id, source=prov.source, locator=prov.locator,
                                           quote=prov.quote, char_start=prov.char_start, char_end=prov.char_end,
                                           page=prov.page))
        i = self._cites[key]
        if unit and i not in self._cite_units:
            self._cite_units[i] = unit
        return i

    # ---- numbers -----------------------------------------------------------------------------------
    def num(self, v: Value, formula: bool = True, unit: bool = True) -> str:
        """The number as text (with unit); cites its record, or records the formula and cites its inputs."""
        text = v.text()
        self.units.setdefault(v.value, v.unit)
        citation = None
        if v.ev is not None and v.ev.prov is not None:
            citation = self.cite(v.ev.prov, v.unit)
        elif v.formula:
            for i in v.inputs:
                self.num(i, formula=False)
            for prov in v.sources:
                self.cite(prov)
            self.formulas.append((v.formula, v.expr or "", v.unit))
        self.stated.append((text, v.unit, citation))
        out = text + (unit_text(v.unit) if unit else "")
        if formula and v.formula and v.ev is None:
            out += f"（计算：{v.formula}）"
        return out

    def quote_numbers(self, text: str, citation: int) -> None:
        """A sentence quoted verbatim: its numbers are verified by that citation."""
        from .fallback import numbers_in

        for q in numbers_in(text):
            self.units.setdefault(q.value, q.unit)

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)

    def answer(self, question: str, qid: str | None = None) -> Answer:
        text = self.text()
        numbers = self.statuses(text)
        flagged = [n for n in numbers if n.status == "unverified"]
        if flagged:
            # never silently stated: the reader sees the flag in the answer itself, not only in JSON
            text += f"（注意：{'、'.join(n.value + n.unit for n in flagged)}未能在引用的原文中核验。）"
            numbers += [n.model_copy() for n in flagged]
        return Answer(id=qid, question=question, answer=text, abstained=self.abstained, mode="offline",
                      citations=self.citations, numbers=numbers)

    # ---- verification ------------------------------------------------------------------------------
    def statuses(self, text: str) -> list[NumberStatus]:
        """Every number of the text with the numeric verifier's status."""
        try:
            from rag.verify import Evidence, Formula, verify_answer
        except ImportError:  # pragma: no cover - the verifier ships with the package
            return self._own_statuses(text)
        evidence = [Evidence(quote=c.quote, unit=self._cite_units.get(i, "")) for i, c in enumerate(self.citations)]
        formulas = [Formula(expr, unit) for _shown, expr, unit in self.formulas if expr]
        shown = {expr: s for s, expr, _u in self.formulas if expr}
        masked = _mask_names(text)
        out = []
        covered: set[str] = set()
        for c in verify_answer(masked, evidence, formulas):
            value = parse_amount(c.text) if c.text else None
            mine = self.units.get(value, "") if value is not None else ""
            # the engine knows the unit it wrote (万美元, 通); the verifier reads it back from the text
            unit = mine if mine and masked[c.end:c.end + len(mine)] == mine else (c.unit or mine)
            raw = c.text.replace(",", "") or c.value
            citation = c.citation
            if c.status == "verified":
                # the verifier takes the first citation holding the value; prefer the one the engine cited
                own = [ci for r, _u, ci in self.stated if r == raw and ci is not None and ci != citation
                       and self._holds(ci, raw)]
                if own and not (citation is not None and any(ci == citation for r, _u, ci in self.stated if r == raw)):
                    citation = own[0]
            out.append(NumberStatus(value=raw, unit=unit, status=c.status,  # type: ignore[arg-type]
                                    citation=citation, formula=shown.get(c.formula or "", c.formula)))
            covered.add(raw)
        # Numbers the engine wrote that the verifier reads as codes (≥32000通): checked here against their
        # own citation — verified only if the cited quote holds them.
        for raw, unit, citation in self.stated:
            if raw in covered or raw not in masked:
                continue
            ok = citation is not None and self._holds(citation, raw)
            out.append(NumberStatus(value=raw, unit=unit, status="verified" if ok else "unverified",  # type: ignore[arg-type]
                                    citation=citation if ok else None))
            covered.add(raw)
        return out

    def _holds(self, citation: int, raw: str) -> bool:
        quote = fold_width(self.citations[citation].quote).replace(",", "")
        return re.search(rf"(?<![\d.]){re.escape(raw)}(?![\d.])", quote) is not None

    def _own_statuses(self, text: str) -> list[NumberStatus]:
        out = []
        for raw, value in numbers_in_answer(text):
            out.append(NumberStatus(value=raw, unit=self.units.get(value, ""), status="unverified"))
        return out


def _mask_names(text: str) -> str:
    """Names quoted in 「」 (project names such as 「许昌市12345…」) and citation marks [n] are not numbers the
    answer states; blank them (same length) before the verifier reads the text."""
    masked = _NAME.sub(lambda m: m.group(0)[0] + "□" * (len(m.group(0)) - 2) + m.group(0)[-1]
                       if m.group(0).startswith("「") else m.group(0), text)
    return re.sub(r"\[\d+\]", lambda m: "□" * len(m.group(0)), masked)


def numbers_in_answer(text: str) -> list[tuple[str, Decimal]]:
    """Numbers an answer states (for audits): quoted names, citation marks, years, codes and thresholds in
    category names are skipped."""
    t = fold_width(text)
    masked = _NAME.sub(lambda m: "□" * len(m.group(0)), t)
    masked = re.sub(r"\[\d+\]", lambda m: "□" * len(m.group(0)), masked)
    out = []
    for m in NUMBER_IN_TEXT_RE.finditer(masked):
        after = masked[m.end():m.end() + 2]
        raw = m.group(0)
        if after.startswith(("年", "月", "日", "号")) or re.match(r"\s*(?:万元|元)?以上", masked[m.end():m.end() + 5]):
            continue
        digits = raw.replace(",", "").replace(".", "").lstrip("-")
        if "." not in raw and len(digits) >= 5 and not re.match(r"\s*(万元|元|亿元|%|个|辆|人|次|项)", masked[m.end():m.end() + 3]):
            continue  # a code (2010301, 30101, 070002, project codes), not an amount
        value = parse_amount(raw)
        if value is not None:
            out.append((raw.replace(",", ""), value))
    return out


__all__ = ["Builder", "fmt", "numbers_in_answer"]
