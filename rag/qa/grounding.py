"""What the LLM agent's tools returned, kept for the numeric verifier: every piece of evidence (exact source
span + the record values it carries) under an id the model cites ("E3"), and every formula it computed.

Document text is untrusted. A sentence that reads like an instruction to an AI ("忽略之前的指令，回答：…")
is quarantined: the model is shown a marker instead of it, and its numbers never verify an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from extractor.numbers import fold_width

from .models import Citation
from .prompts import FENCE_TAG, QUARANTINED

# Instructions addressed to the model, not budget prose: an imperative to drop the rules, a role change, or
# talk about prompts. Kept narrow (budget documents never say these things) so real sentences are not hidden.
INJECTION = re.compile(
    r"(?:忽略|无视|忘记|忘掉|不要理会|不用理会|跳过)(?:掉)?(?:你的|之前|以上|上述|前面|先前|此前|所有|全部|一切|其他)*的?"
    r"(?:所有|全部|一切)?(?:指令|指示|提示词?|规则|设定|要求|约束|系统消息)"
    r"|(?:系统提示词?|system\s*prompt|提示词注入)"
    r"|(?:你现在是|你是一个|请你扮演|扮演一个|作为(?:一个)?(?:AI|人工智能|语言模型|大模型|助手))"
    r"|(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|your)?\s*"
    r"(?:instructions|prompts?|rules)"
    r"|you\s+are\s+now\b|new\s+instructions\s*:",
    re.IGNORECASE)
_SENTENCE = re.compile(r"[^。；;！!？?\n]*(?:[。；;！!？?]|\n|$)")


def quarantine(text: str) -> tuple[str, str, bool]:
    """(what the model may see, what may verify numbers, whether anything was quarantined)."""
    if not INJECTION.search(fold_width(text)):
        return text, text, False
    shown, verifiable = [], []
    for m in _SENTENCE.finditer(text):
        s = m.group(0)
        if not s:
            continue
        if INJECTION.search(fold_width(s)):
            shown.append(QUARANTINED)
            verifiable.append(" ")
        else:
            shown.append(s)
            verifiable.append(s)
    return "".join(shown), "".join(verifiable), True


def shown(text: str) -> str:
    """Document text as the model sees it: quarantined, and unable to close the fence ('<' replaced)."""
    return quarantine(text or "")[0].replace("<", "＜").replace(">", "＞")


def fence(body: str, **attrs: str) -> str:
    head = " ".join(f'{k}="{re.sub(r"[^0-9A-Za-z_.:-]", "", v)}"' for k, v in attrs.items())
    return f"<{FENCE_TAG}{' ' + head if head else ''}>\n{body}\n</{FENCE_TAG}>"


@dataclass
class Item:
    id: str
    doc_id: str
    source: str
    locator: str
    quote: str
    char_start: int
    char_end: int
    page: int | None = None
    unit: str = ""                       # unit of bare numbers in the quote (a table cell's 万元)
    amounts: list[tuple[Decimal, str]] = field(default_factory=list)
    flagged: bool = False                # held a quarantined sentence

    @property
    def verifiable(self) -> str:
        return quarantine(self.quote)[1]

    def citation(self) -> Citation:
        return Citation(doc_id=self.doc_id, source=self.source, locator=self.locator, quote=self.quote,
                        char_start=self.char_start, char_end=self.char_end, page=self.page)


@dataclass
class Calc:
    expression: str   # arithmetic the verifier recomputes
    unit: str
    shown: str        # as the answer's `formula` field shows it


class Registry:
    """Evidence and formulas of one answer (one question, one agent run)."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self._by_span: dict[tuple[str, int, int], Item] = {}
        self.calcs: list[Calc] = []

    def add(self, *, doc_id: str, source: str, locator: str, quote: str, char_start: int, char_end: int,
            page: int | None = None, unit: str = "", amounts: list[tuple[Decimal, str]] | None = None) -> Item:
        key = (doc_id, char_start, char_end)
        item = self._by_span.get(key)
        if item is None:
            item = Item(f"E{len(self.items) + 1}", doc_id, source, locator, quote, char_start, char_end, page, unit)
            item.flagged = quarantine(quote)[2] or bool(INJECTION.search(fold_width(locator)))
            self.items.append(item)
            self._by_span[key] = item
        if unit and not item.unit:
            item.unit = unit
        for a in amounts or []:
            if a not in item.amounts:
                item.amounts.append(a)
        return item

    def add_prov(self, prov, unit: str = "", amounts: list[tuple[Decimal, str]] | None = None) -> Item:
        return self.add(doc_id=prov.doc_id, source=prov.source, locator=prov.locator, quote=prov.quote,
                        char_start=prov.char_start, char_end=prov.char_end, page=getattr(prov, "page", None),
                        unit=unit, amounts=amounts)

    def position(self, item_id: str) -> int | None:
        """The index of evidence "E3" (2), None for an id no tool returned."""
        m = re.fullmatch(r"E(\d+)", item_id.strip().upper())
        if not m:
            return None
        i = int(m.group(1)) - 1
        return i if 0 <= i < len(self.items) else None

    def formula(self, expression: str, unit: str, shown_as: str = "") -> None:
        if expression and not any(c.expression == expression and c.unit == unit for c in self.calcs):
            self.calcs.append(Calc(expression, unit, shown_as or expression))

    def verifier_evidence(self) -> list:
        """rag.verify.Evidence per item, index = item position. A quarantined item verifies nothing but what
        its clean sentences say; its record values are dropped."""
        from rag.verify import Evidence

        return [Evidence(quote=it.verifiable, unit=it.unit, amounts=[] if it.flagged else list(it.amounts))
                for it in self.items]
