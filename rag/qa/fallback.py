"""When the records cannot answer: find the document sentence(s) that do, and answer extractively.

`PassageSearch` is the small protocol the engine codes against. `SentenceSearch` ranks the narrative
sentences of the loaded documents lexically (character bigrams of the question's content words);
`RetrieverSearch` adapts the hybrid retriever (`rag.retrieve.Retriever`, BM25 + vectors over the store's
chunks) to the same protocol. Both return exact source spans, so whatever is quoted can be cited.

Also here: reading a year-over-year change out of a narrative sentence ("与上年相比，增加96.55万元，增长50.82%")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from extractor.numbers import NUMBER_IN_TEXT_RE, fold_width, parse_amount

from .text import bigrams, norm
from .view import DocView, Sentence

_STOP = re.compile(r"是多少|多少钱|多少|是什么|什么|怎么样|怎样|如何|有没有|有吗|吗|呢|请问|一下|几个|几|的|了|是|有|"
                   r"安排|今年|去年|上年|\d{4}年|[?？,，。!！]")
UNIT_AFTER = re.compile(r"\s*(万元|亿元|千元|元|%|％|个|辆|台（套）|台\(套\)|台|套|人次|人|次|项|通|家|条|场|批|期|份|种|本|幅|万美元)")


@dataclass
class Passage:
    view: DocView
    start: int
    end: int
    text: str
    score: float
    locator: str = ""


class PassageSearch(Protocol):
    def search(self, question: str, views: list[DocView], k: int = 3) -> list[Passage]: ...


def content_of(q: str, masked: str | None = None) -> str:
    """The words of a question that say what is asked (department names and question words removed)."""
    s = (masked if masked is not None else q).replace("□", "")
    return _STOP.sub("", norm(s))


class SentenceSearch:
    """Lexical ranking over the narrative sentences of the documents in scope."""

    def search(self, question: str, views: list[DocView], k: int = 3, content: str | None = None) -> list[Passage]:
        want = content if content is not None else content_of(question)
        grams = bigrams(want)
        if len(grams) < 2:
            return []
        out = []
        for v in views:
            for s in v.sentences:
                if s.heading:
                    continue
                # the sentence with the title of its section: "（四）重点项目绩效评价情况" names what follows
                t = norm(s.text) + norm(s.section.rsplit("/", 1)[-1])
                hit = sum(1 for g in grams if g in t)
                if hit < 2:
                    continue
                score = hit / len(grams)
                out.append(Passage(v, s.start, s.end, s.text, score, s.section))
        out.sort(key=lambda p: -p.score)
        return out[:k]


class RetrieverSearch:
    """The hybrid retriever (BM25 + vectors over the store's chunks) behind the same protocol. Its hits are
    mapped back to narrative sentences so a quote is one statement, re-scored on the question's content
    words, and merged with the lexical sentence search (the union never ranks worse than either).

    `retriever` may be a factory: the retriever opens Chroma, which only a fallback question needs."""

    def __init__(self, retriever, fallback: PassageSearch | None = None):
        self._retriever = retriever
        self._opened = not callable(retriever) or hasattr(retriever, "search")
        self.fallback = fallback or SentenceSearch()

    @property
    def retriever(self):
        if not self._opened:
            try:
                self._retriever = self._retriever()
            except Exception:  # noqa: BLE001 — no retriever: the sentence search still answers
                self._retriever = None
            self._opened = True
        return self._retriever

    def search(self, question: str, views: list[DocView], k: int = 3, content: str | None = None) -> list[Passage]:
        own = self.fallback.search(question, views, k, content=content)  # type: ignore[call-arg]
        retriever = self.retriever
        if retriever is None:
            return own
        by_id = {v.doc.doc_id: v for v in views}
        try:
            hits = retriever.search(question, k=max(k * 3, 8), doc_ids=list(by_id), auto_scope=False)
        except Exception:  # noqa: BLE001 — retrieval is a fallback; its failure must not fail the answer
            return own
        want = bigrams(content if content is not None else content_of(question))
        out = list(own)
        for h in hits:
            v = by_id.get(h.doc_id)
            if v is None:
                continue
            for s in v.sentences:
                if s.start < h.char_end and h.char_start < s.end and not s.heading:
                    t = norm(s.text) + norm(s.section.rsplit("/", 1)[-1])
                    score = (sum(1 for g in want if g in t) / len(want)) if want else 0.0
                    if not any((p.view is v and p.start == s.start) for p in out):
                        out.append(Passage(v, s.start, s.end, s.text, score, s.section))
        out.sort(key=lambda p: -p.score)
        return out[:k]


# ---- numbers in a quoted sentence ---------------------------------------------------------------------

@dataclass
class Quoted:
    value: Decimal
    raw: str
    unit: str
    offset: int   # in the sentence


def numbers_in(text: str) -> list[Quoted]:
    """Amounts/counts/percentages printed in a sentence; years, ordinals and codes are skipped."""
    t = fold_width(text)
    out = []
    for m in NUMBER_IN_TEXT_RE.finditer(t):
        after = t[m.end():m.end() + 8]
        u = UNIT_AFTER.match(after)
        if re.match(r"\s*(年|月|日|号|〕|\]|）|\))", after) and not u:
            continue
        if re.match(r"\s*年", after):
            continue
        value = parse_amount(m.group(0))
        if value is None:
            continue
        unit = u.group(1).replace("％", "%") if u else ""
        if not unit:
            continue
        out.append(Quoted(value, m.group(0), unit.replace("台(套)", "台（套）"), m.start()))
    return out


# ---- year-over-year changes stated in prose ----------------------------------------------------------

_COMPARE = re.compile(r"相比|比上年|比去年|较上年|同比|上年相比|比\s*\d{4}\s*年|与\s*\d{4}\s*年")
_VERB = re.compile(r"(增加|增长|减少|下降|持平|无增减|没有变化)")
_AMOUNT = re.compile(r"^[^，,。；]{0,4}?([-−]?[\d,]+(?:\.\d+)?)\s*(万元|亿元|元|%)")
_PCT = re.compile(r"(增长|下降|减少|增幅|降幅)\s*([\d.]+)\s*%")


@dataclass
class Change:
    sentence: Sentence
    amount: Quoted | None
    pct: Quoted | None
    flat: bool
    negative: bool
    reason: str


def _phrase_regex(phrase: str) -> re.Pattern[str]:
    parts = []
    for ch in norm(phrase):
        if ch in "()":
            parts.append(r"[（(]" if ch == "(" else r"[）)]")
        else:
            parts.append(re.escape(ch))
    return re.compile(r"\s*".join(parts))


def find_change(view: DocView, phrases: tuple[str, ...]) -> Change | None:
    """The first narrative statement of how `phrases` changed against last year."""
    sentences = view.sentences
    regexes = [_phrase_regex(ph) for ph in phrases]
    # Pass 1: the change stated in the sentence that names the item.
    for s in sentences:
        text = fold_width(s.text)
        for rx in regexes:
            m = rx.search(text)
            if not m:
                continue
            window = text[m.end():]
            cut = re.search(r"[一二三四五]是|其中", window)
            if cut:
                window = window[:cut.start()]
            change = _change_in(s, window, m.end(), text[:m.start()])
            if change is not None:
                return change
    # Pass 2: "（二）公务接待费0.50万元，…。预算数比2023年增加0.50万元" — the next sentence, when it has no
    # subject of its own before the verb.
    for i, s in enumerate(sentences[:-1]):
        text = fold_width(s.text)
        if not any(rx.search(text) for rx in regexes):
            continue
        nxt = fold_width(sentences[i + 1].text)
        v = _VERB.search(nxt)
        if not v or not re.match(r"\s*(预算数)?(比|与|较|同比)", nxt):
            continue
        head = re.sub(r"与|和|比|较|同比|相比|上年|去年|\d{4}\s*年|预算数|[，,\s]", "", nxt[:v.start()])
        if len(head) <= 2:
            change = _change_in(sentences[i + 1], nxt, 0, "")
            if change is not None:
                return change
    return None


def _change_in(s: Sentence, window: str, base: int, before: str) -> Change | None:
    v = _VERB.search(window)
    if not v:
        return None
    if not (_COMPARE.search(window[:v.start() + 1]) or _COMPARE.search(before[-16:])):
        return None
    reason = ""
    r = re.search(r"主要原因[是：:]?\s*([^。；]*)", window)
    if r:
        reason = r.group(1).strip("，,")
    if v.group(1) in ("持平", "无增减", "没有变化"):
        return Change(s, None, None, True, False, reason)
    a = _AMOUNT.match(window[v.end():])
    amount = pct = None
    if a:
        raw, unit = a.group(1), a.group(2)
        value = parse_amount(raw)
        if value is not None:
            q = Quoted(value, raw, unit, base + v.end() + a.start(1))
            if unit == "%":
                pct = q
            else:
                amount = q
    p = _PCT.search(window[v.end():v.end() + 40])
    if p and pct is None:
        value = parse_amount(p.group(2))
        if value is not None:
            pct = Quoted(value, p.group(2), "%", base + v.end() + p.start(2))
    if amount is None and pct is None:
        return None
    return Change(s, amount, pct, False, v.group(1) in ("减少", "下降"), reason)
