"""Narrative facts: the numbers and reasons stated in the 情况说明 prose before the first table.

Each section is flattened into a *normalised view* (markdown marks, spaces and mid-sentence line breaks
removed, full-width digits folded) that keeps, for every character, its offset in the document; rules run
on that view and every quote is cut from the document itself, so ``text[start:end] == quote`` always holds.
Labels are classified by `narrative_rules`. Only ``text[:end_offset]`` is read.

Names beyond the README list (docs/fixtures README, "Narrative fact names"):

===========================  ==============================================================================
name                         meaning (qualifier)
===========================  ==============================================================================
appropriation                财政拨款 line, e.g. 一般公共预算拨款收支 286.55 (q: item as printed)
expenditure_sum (q)          scoped total, e.g. 一般公共预算支出年初预算为… (q: 一般公共预算支出 …)
basic_/project_expenditure   with q = scope when restated for a scope (一般公共预算支出); same for *_share
performance_basic/_project   基本支出 / 项目支出 inside the 绩效目标 amount sentence
personnel_share …            X_share for any amount followed by 占…% (personnel, public, income …)
expenditure_item             other items listed after 支出合计 (q: as printed)
total_change_amount (q)      q = 一般公共预算拨款收支 etc. when the change is stated for that line
X_change / X_change_pct      change of subject X (operating_expenses_change, personnel_expenses_change …)
sangong_change_pct           percent change of “三公” (q: part)
total_change_reason,         text: 主要原因 … for the change of the subject (q as for the change);
sangong_change_reason,       X_change_reason for other subjects
*_change (text 持平)          amount None, text = 持平 / 无变化 as printed
transfer_projects            专项转移支付项目 count (text 无 when 无负责管理的…)
secondary_units (q)          q = level as printed (副县级, 科级 …); text 无 for 无下设二级机构; text = names list
internal_divisions (text)    the list of 科室 after 主要是/包括
staff (q)                    people counts (编制 …人)
main_duties (text)           the 主要职责 section, line breaks removed
operating_expenses_purpose   text after the 机关运行经费 amount (what it covers, or why there is none)
===========================  ==============================================================================
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal

from . import narrative_rules as R
from .models import Amount, Fact, Section
from .numbers import chinese_int, fold_width, parse_amount
from .provenance import SourceRef, full_record, new_record

_HSPACE = set(" \t\u3000\xa0\r\u200b")
_LINE_LEAD = re.compile(r"^\s*(?:#{1,6}\s*|>\s*|[-*+]\s+)?")
_LIST_START = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.、．](?!\d)|第[一二三四五六七八九十]+部分)")
_HARD_END = set("。！？!?")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
# Patterns open with a character class so the regex engine can skip ahead to candidate positions
# (a leading lookbehind or alternation of classes would make it try every position of the text).
_CLAUSE_SEP = re.compile(r"[，；：;:,](?:(?<=,)(?!\d{3})|(?<!,))")   # a comma before 3 digits groups thousands
_MASK = re.compile(r"[（(][^（）()\n]{0,80}?\d[^（）()\n]{0,80}?[)）]")
# A number not preceded by a digit or '.' (the lookbehind after its first digit) and its unit.
_TOKEN = re.compile(r"(\d(?<![\d.]\d)(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?))"
                    r"(亿元|万元|千元|元|%|‰|个|辆|台（套）|台\(套\)|台套|台|套|人|名)")
_CN_TOKEN = re.compile(r"([零〇一二两三四五六七八九十百](?<!第[零〇一二两三四五六七八九十百])[零〇一二两三四五六七八九十百]*)(个)")
_CN_CONTEXT = re.compile(r"内设|科室|处室|股室|二级|项目|机构")
_TAIL = re.compile(r"[\u4e00-\u9fff（）()]{0,12}")
_TAIL_STOP = re.compile(r"[和及与]")   # a count's noun ends before 和/及/与 (3个科室和2个…)
_THRESHOLD_WORDS = ("以上", "以下", "以内", "及以上")   # after an amount: a threshold, not a fact
_UNIT_CHARS = tuple("元%‰个辆台套人名")   # every unit _TOKEN reads holds one of them
_UNIT_KIND = {"%": "pct", "‰": "pct", "个": "count", "辆": "vehicle", "人": "people", "名": "people"}
_DUTIES = re.compile(r"主要职责|职能职责|主要职能")
_SKIP_SECTION = re.compile(r"名词解释|^目\s*录$")
_TRIM = set("，。；：,;:、\n")


# Full-width digits/punctuation folded (same length), except the full-width comma: it separates clauses,
# it is not a thousands separator in prose.
_FOLD = {ord(c): fold_width(c) for c in map(chr, range(0xFF00, 0xFFF0)) if fold_width(c) != c and c != "，"}
# Runs of characters the view keeps (horizontal space and markdown '*' are dropped).
_KEPT_RUN = re.compile("[^" + re.escape("".join(sorted(_HSPACE))) + r"*]+")
# Any character _FOLD changes: most sections have none, and then no line needs str.translate (a dict
# lookup per character).
_FOLD_CHARS = "".join(sorted(map(chr, _FOLD)))
_FOLDABLE = re.compile("[" + re.escape(_FOLD_CHARS) + "]")
# Characters the view drops (horizontal space, markdown '*'), and those a line's lead can open with.
_DROPPED = "".join(sorted(_HSPACE)) + "*"
_LEAD_OPENERS = set("#>-*+")


@dataclass
class _View:
    """Normalised text `s` and where each of its characters stands in the document: s is made of runs of
    consecutive document characters, run k starting at s[starts[k]] = document offset docs[k] ('\n' marks
    a paragraph break, a run of its own)."""

    s: str
    starts: list[int]
    docs: list[int]

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Document span of s[i:j] (0 <= i < j): `offset(i), offset(j - 1) + 1` in one call."""
        starts, docs = self.starts, self.docs
        k = bisect_right(starts, i) - 1
        j -= 1
        m = bisect_right(starts, j) - 1
        return docs[k] + (i - starts[k]), docs[m] + (j - starts[m]) + 1


def normalise(text: str, start: int, end: int, heading_starts: set[int], foldable: bool = True) -> _View:
    """View of text[start:end]: a line break is kept only after 。！？, around headings and before list items.
    `foldable` False: the caller found no full-width digit or sign in that part of the text."""
    chars: list[str] = []
    starts: list[int] = []
    docs: list[int] = []
    size = 0   # len("".join(chars))
    prev_last, prev_heading, break_at = "", False, start
    pos = start
    fold = foldable and _FOLDABLE.search(text, start, end) is not None
    last = len(text) - 1
    for raw in text[start:end].split("\n"):
        line_start, pos = pos, pos + len(raw) + 1
        # _LINE_LEAD matches nothing unless the line opens with a space (re's \s is str.isspace) or a mark
        lead = _LINE_LEAD.match(raw).end() if raw[:1] in _LEAD_OPENERS or raw[:1].isspace() else 0
        if lead == len(raw):
            continue   # an empty or blank line (half of them)
        folded = raw.translate(_FOLD) if fold else raw   # same length as raw: offsets stay valid
        # dropped characters at either end (trailing spaces, a heading's **) do not split the line into runs
        rest = folded[lead:].lstrip(_DROPPED)
        body = rest.rstrip(_DROPPED)
        if not body:
            continue
        if _KEPT_RUN.fullmatch(body):
            # the usual line: nothing dropped inside, one run
            joined = body
            runs = [(body, line_start + len(raw) - len(rest))]
        else:
            runs = [(m.group(0), line_start + m.start()) for m in _KEPT_RUN.finditer(folded, lead)]
            joined = "".join(r for r, _ in runs)
        heading = line_start in heading_starts
        if chars and (prev_heading or heading or prev_last in _HARD_END or _LIST_START.match(joined)):
            chars.append("\n")
            starts.append(size)
            docs.append(break_at)
            size += 1
        chars.append(joined)
        for run, off in runs:
            starts.append(size)
            docs.append(off)
            size += len(run)
        prev_last, prev_heading = joined[-1], heading
        break_at = line_start + len(raw)
        if break_at > last:
            break_at = last
    return _View("".join(chars), starts, docs)


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    tail_end: int  # after the unit, and after the noun of a count (个科室, 个项目)
    number: str
    unit: str
    kind: str
    threshold: bool
    tail: str


def _mask(m: re.Match) -> str:
    return "□" * len(m.group(0))


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    for word in words:
        if word in text:
            return True
    return False


def _tokens(work: str) -> list[_Tok]:
    toks: list[_Tok] = []
    # every token ends with a unit, every Chinese count with 个: a section without them is not scanned
    for m in _TOKEN.finditer(work) if _mentions(work, _UNIT_CHARS) else ():
        number, unit = m.groups()
        start, end = m.span()
        kind = _UNIT_KIND.get(unit, "equipment" if unit.startswith(("台", "套")) else "money")
        if kind == "count":
            toks.append(_make_tok(work, m, kind))
        else:   # no tail: the token ends after its unit (the number is group 1, from the match's start)
            threshold = kind == "money" and work.startswith(_THRESHOLD_WORDS, end)
            toks.append(_Tok(start, start + len(number), end, number, unit, kind, threshold, ""))
    in_order = True   # finditer's tokens come in order: sorting is needed only when a Chinese count joins
    for m in _CN_TOKEN.finditer(work) if "个" in work else ():
        tok = _make_tok(work, m, "count")
        left = work[max(0, m.start() - 8):m.start()]
        if _CN_CONTEXT.search(left + tok.tail) and not any(t.start < tok.end and tok.start < t.end for t in toks):
            toks.append(tok)
            in_order = False
    return toks if in_order else sorted(toks, key=lambda t: t.start)


def _make_tok(work: str, m: re.Match, kind: str) -> _Tok:
    tail = ""
    tail_end = m.end()
    if kind == "count":
        tail = _TAIL_STOP.split(_TAIL.match(work, m.end()).group(0), 1)[0]
        tail_end = m.end() + len(tail)
    threshold = kind == "money" and work.startswith(_THRESHOLD_WORDS, m.end())
    return _Tok(m.start(1), m.end(1), tail_end, m.group(1), m.group(2), kind, threshold, tail)


class _Section:
    """Walks one section's sentences, keeping the subject that a later 与上年相比 refers to."""

    def __init__(self, ref: SourceRef, view: _View, path: str, out: list[Fact]):
        self.ref, self.view, self.path, self.out = ref, view, path, out
        # (A regex scan of the section costs far more than a substring test: a pattern is not run where a
        # word that each of its matches holds is missing.)
        w = self.work = _MASK.sub(_mask, view.s) if "(" in view.s or "（" in view.s else view.s
        self.toks = _tokens(w)
        self.tok_starts = [t.start for t in self.toks]   # sorted: a sentence's tokens are found by bisection
        # Patterns without anchors or lookarounds find nothing in a sentence or clause of the section when
        # they find nothing in the whole section: then they are not run sentence by sentence.
        self.none_rules = [(rx, name) for rx, name, word in R.NONE_RULES if word in w and rx.search(w)]
        self.has_reason = _mentions(w, R.REASON_WORDS) and R.REASON.search(w) is not None
        # Where the clause-level marks (与上年相比, 持平, 主要用于) stand in the section. These patterns look
        # nowhere outside their own match, so a search in a clause finds something only where a section-wide
        # match overlaps the clause: clauses that overlap none (and no pending list) are not read at all.
        cmp, flat, functional = ([m.span() for m in rx.finditer(w)] if present else []
                                 for rx, present in ((R.CMP, R.may_compare(w)),
                                                     (R.FLAT, _mentions(w, R.FLAT_WORDS)),
                                                     (R.FUNCTIONAL_MARK, _mentions(w, R.FUNCTIONAL_WORDS))))
        self.has_cmp, self.has_flat, self.has_functional = bool(cmp), bool(flat), bool(functional)
        self.marks = cmp + flat + functional
        self.ctx = R.Context()
        self.current: R.Hit | None = None
        self.last_change: tuple[str, str] | None = None  # (reason name, qualifier)
        self.pending_list: str | None = None
        # per sentence: its span (and its document span, once asked for), whether a 与上年相比 was seen,
        # the last amount fact (for 占…%)
        self.sent = (0, 0)
        self.sent_doc: tuple[int, int] | None = None
        self.cmp_active = False
        self.last_fact: R.Hit | None = None

    # -- emitting -------------------------------------------------------------------------------------
    def _fact(self, name: str, qualifier: str, span: tuple[int, int], *, tok: _Tok | None = None,
              value: Decimal | None = None, text: str | None = None, phrase: str = "") -> None:
        ref, path = self.ref, self.path
        amount = None
        locator = f"{path}/{phrase or name}" if path else phrase or name
        if tok is not None and value is not None:
            s, e = self.view.span(tok.start, tok.end)
            amount = full_record(Amount, {"value": value, "unit": tok.unit, "raw": ref.text[s:e],
                                         "prov": ref.span(s, e, locator)})
        if span is self.sent:   # most facts quote their sentence: its document span is looked up once
            if self.sent_doc is None:
                self.sent_doc = self.view.span(*span)
            s, e = self.sent_doc
        else:
            s, e = self.view.span(*span)
        # typed values only: built without re-validation (same record as Fact(...) with these fields)
        self.out.append(new_record(Fact, {
            "name": name, "qualifier": qualifier, "amount": amount, "text": text,
            "prov": ref.span(s, e, locator), "section": path, "method": "rules",
        }, {"name", "qualifier", "amount", "text", "prov", "section"}))

    def _text_fact(self, name: str, qualifier: str, i: int, j: int) -> None:
        while i < j and self.view.s[i] in _TRIM:
            i += 1
        while j > i and self.view.s[j - 1] in _TRIM:
            j -= 1
        body = self.view.s[i:j]
        if body:
            self._fact(name, qualifier, (i, j), text=body.replace("\n", ""), phrase=body[:16])

    # -- walking --------------------------------------------------------------------------------------
    def run(self) -> None:
        start = 0
        for m in _SENTENCE_END.finditer(self.work + "\n"):
            if m.start() > start:
                self._sentence(start, m.start())
            start = m.end()

    def _sentence(self, ss: int, se: int) -> None:
        w = self.work
        self.sent = (ss, se)
        self.sent_doc = None
        self.cmp_active = False
        self.last_fact = None
        if self.pending_list:
            if m := R.LIST_MARK.match(w, ss):
                self._text_fact(self.pending_list, "", m.end(), se)
            self.pending_list = None
        for rx, name in self.none_rules:
            for m in rx.finditer(w, ss, se):
                self._fact(name, "", (m.start(), m.end()), text="无", phrase=m.group(0))
        toks = self.toks[bisect_left(self.tok_starts, ss):bisect_left(self.tok_starts, se)]
        reasons = self._reasons(ss, se) if self.has_reason else []
        if reasons:
            toks = [t for t in toks if t.tail_end <= se and not any(a <= t.start < b for a, b in reasons)]
            events = sorted([(a, b, None) for a, b in reasons] + [(t.start, t.tail_end, t) for t in toks],
                            key=lambda e: e[0])
        else:   # tokens are in order already
            events = [(t.start, t.tail_end, t) for t in toks if t.tail_end <= se]
        pos = ss
        for a, b, tok in events:
            if tok is None:
                self._clauses(pos, a)
                self._reason(a, b)
            else:
                parts = list(_CLAUSE_SEP.finditer(w, pos, a))
                label_start = parts[-1].end() if parts else pos
                # the separators before label_start are exactly `parts` (the last one ends there)
                self._clauses(pos, label_start, parts)
                self._amount(tok, w[label_start:a])
            pos = b
        self._clauses(pos, se)

    def _reasons(self, ss: int, se: int) -> list[tuple[int, int]]:
        spans, pos = [], ss
        while m := R.REASON.search(self.work, pos, se):
            stop = R.REASON_STOP.search(self.work, m.end(), se)
            end = stop.start() if stop else se
            spans.append((m.start(), end))
            pos = end
        return spans

    def _reason(self, a: int, b: int) -> None:
        m = R.REASON.match(self.work, a)
        target = self.last_change
        if target is None and self.current is not None:
            target = (R.change_names(self.current.name, self.current.qualifier)[2],
                      R.change_qualifier(self.current.name, self.current.qualifier))
        if target is not None:
            self._text_fact(target[0], target[1], m.end(), b)

    def _clauses(self, a: int, b: int, seps: list[re.Match] | None = None) -> None:
        marks = self.marks
        if not self.pending_list and not (marks and any(s < b and a < e for s, e in marks)):
            return   # no clause of [a, b) holds a mark (see __init__): _clause would do nothing
        pos = a
        for m in _CLAUSE_SEP.finditer(self.work, a, b) if seps is None else seps:
            if m.start() > pos:
                self._clause(pos, m.start())
            pos = m.end()
        if b > pos:
            self._clause(pos, b)

    def _clause(self, a: int, b: int) -> None:
        c = self.work[a:b]
        if self.has_cmp and (cm := R.CMP.search(c)):
            self.cmp_active = True
            if subj := R.subject_of(c[:cm.start()], self.ctx):
                self.current = subj
        if self.has_flat and (fm := R.FLAT.search(c)) and self.cmp_active and self.current is not None:
            self._change(self.current, None, None, text=fm.group(0))
        if self.has_functional and R.FUNCTIONAL_MARK.search(c) and self.ctx.mode == "expenditure":
            self.ctx.functional = True
        if self.pending_list and (lm := R.LIST_MARK.match(c)):
            self._text_fact(self.pending_list, "", a + lm.end(), self.sent[1])
            self.pending_list = None

    def _change(self, subj: R.Hit, tok: _Tok | None, sign: int | None, text: str | None = None) -> None:
        amount_name, pct_name, reason_name = R.change_names(subj.name, subj.qualifier)
        qualifier = R.change_qualifier(subj.name, subj.qualifier)
        name = pct_name if tok is not None and tok.kind == "pct" else amount_name
        value = None if tok is None else _value(tok) * (sign or 1)
        word = "收支总计" if amount_name == "total_change_amount" and not qualifier else R.subject_word(subj)
        self._fact(name, qualifier, self.sent, tok=tok, value=value, text=text, phrase=f"{word}与上年比较")
        self.last_change = (reason_name, qualifier)

    def _amount(self, tok: _Tok, label: str) -> None:
        if tok.threshold:
            return
        label = label.replace("□", "")
        # (a label VERB_END matches ends with the verb's last character, 了, or a final line break)
        vm = R.VERB_END.search(label) if label[-1:] in R.VERB_LAST_CHARS else None
        cm = R.CMP.search(label) if vm else None
        if vm and tok.kind in ("money", "pct") and (self.cmp_active or cm):
            self.cmp_active = True
            subject_text = label[:cm.start()] if cm and cm.start() < vm.start() else label[:vm.start()]
            if subj := R.subject_of(subject_text, self.ctx):
                self.current = subj
            if self.current is not None:
                self._change(self.current, tok, -1 if vm.group(1) in R.NEGATIVE_VERBS else 1)
            return
        if tok.kind == "pct":
            if sm := R.SHARE.search(label):
                subj = R.subject_of(label[:sm.start()], self.ctx) or self.last_fact
                if subj is not None:
                    self._fact(R.share_name(subj.name), subj.qualifier, self.sent, tok=tok, value=_value(tok),
                               phrase=f"{R.subject_word(subj)}占比")
            return
        for hit in R.classify(label, tok.kind, tok.tail, self.ctx):
            self._fact(hit.name, hit.qualifier, self.sent, tok=tok, value=_value(tok),
                       phrase=R.clean_label(label) or hit.name)
            self.last_fact = hit
            if hit.is_subject:
                # a new subject: a later 主要原因 without its own change phrase is about this one
                self.current, self.last_change = hit, None
            if hit.mode is not None:
                self.ctx.mode = hit.mode
                self.ctx.functional = False
            if hit.scope is not None:
                self.ctx.scope = hit.scope
            if hit.name in ("internal_divisions", "secondary_units"):
                self.pending_list = hit.name
            if hit.name == "operating_expenses":
                self._purpose(tok)

    def _purpose(self, tok: _Tok) -> None:
        """The words after the 机关运行经费 amount: what it covers, or why there is none."""
        i, se = tok.tail_end, self.sent[1]
        while i < se and self.work[i] in "，,；;：:":
            i += 1
        rest = self.work[i:se]
        if rest and not R.CMP.search(rest) and not R.REASON.match(rest):
            self._text_fact("operating_expenses_purpose", "", i, se)


def _value(tok: _Tok) -> Decimal:
    value = parse_amount(tok.number)
    return value if value is not None else Decimal(chinese_int(tok.number) or 0)


def _duties(ref: SourceRef, text: str, sections: list[Section], end_offset: int, out: list[Fact],
            foldable: bool) -> None:
    """The 主要职责 section (with its sub-items) as one text fact, line breaks removed."""
    for k, sec in enumerate(sections):
        if not _DUTIES.search(sec.title):
            continue
        stop = next((s.char_start for s in sections[k + 1:] if s.level <= sec.level), end_offset)
        body_start = text.find("\n", sec.char_start, stop)
        if body_start < 0:
            continue
        view = normalise(text, body_start + 1, min(stop, end_offset), set(), foldable)
        s = view.s.strip("\n")
        if not s:
            continue
        i = view.s.index(s[0])
        j = i + len(s)
        a, b = view.span(i, j)
        out.append(Fact(name="main_duties", text=s.replace("\n", ""), section=sec.path,
                        prov=ref.span(a, b, f"{sec.path}/主要职责")))
        return


def extract_facts(ref: SourceRef, text: str, sections: list[Section], end_offset: int) -> list[Fact]:
    """Facts stated in the narrative part (``text[:end_offset]``), each with exact provenance."""
    end_offset = min(end_offset, len(text))
    sections = [s for s in sections if s.char_start < end_offset]
    heads = {s.char_start for s in sections}
    out: list[Fact] = []
    # The text before the first heading (cover, or a narrative without recognised headings) is read too.
    blocks = [(0, sections[0].char_start if sections else end_offset, "")]
    blocks += [(s.char_start, min(s.char_end + 1, end_offset), s.path) for s in sections
               if not _SKIP_SECTION.search(s.path)]
    # Most documents print no full-width digit or sign: then no section is searched for one.
    foldable = any(text.find(c, 0, end_offset) >= 0 for c in _FOLD_CHARS)
    for start, end, path in blocks:
        view = normalise(text, start, end, heads, foldable)
        if view.s:
            _Section(ref, view, path, out).run()
    _duties(ref, text, sections, end_offset, out, foldable)
    return _dedupe(out)


def _dedupe(facts: list[Fact]) -> list[Fact]:
    """Text facts repeated verbatim (无下设二级机构 in two sections) are kept once."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in facts:
        if f.amount is None and f.text is not None:
            key = (f.name, f.qualifier, f.text)
            if key in seen:
                continue
            seen.add(key)
        out.append(f)
    return out
