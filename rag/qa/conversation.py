"""Follow-up questions: "那项目支出呢？", "和去年比呢？", "这个部门的车辆有多少？", "其中公务接待费呢？".

A turn that does not name a department, a metric or an operation takes them from the conversation's
previous turn; the state is kept per conversation id (thread-safe: the web app answers concurrently)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from .ops import TurnState
from .question import RE_CHANGE, RE_COUNT, RE_FUTURE, RE_PRIOR, RE_REASON, RE_SHARE, RE_TIMES, Parsed

MAX_CONVERSATIONS = 1000


def merge(p: Parsed, prev: TurnState | None) -> None:
    """Fill what the question leaves out from the previous turn."""
    if prev is None:
        return
    inherited_views = False
    if not p.views and not p.units and not p.scope_all and not p.cities and not p.ambiguous \
            and not p.unknown_department and not p.unknown_cities:
        entity_views = [v for t in p.targets for v, _x in t.projects + t.indicators]
        if not entity_views or all(v in prev.views for v in entity_views):
            p.views = list(prev.views)
            inherited_views = True
            if prev.units and (p.qizhong or not p.targets or all(t.kind == "project" for t in p.targets)
                               or any(t.kind == "metric" and t.key == "project_count" for t in p.targets)):
                p.units = list(prev.units)
            if not p.years:
                p.years = list(prev.years)
            if not p.fund:
                p.fund = prev.fund
    if not p.targets and not _unknown_words(p):
        p.targets = list(prev.targets)
        if p.whole is None and p.op in ("share", "times"):
            p.whole = prev.whole if prev.op in ("share", "times") else None
        if not p.has_op_words and prev.op in ("value", "share", "times", "change", "indicator"):
            p.op = prev.op
            p.whole = prev.whole
        if not inherited_views and p.op in ("sum", "compare", "rank", "list"):
            p.op = "value"
    elif p.elliptic and not p.has_op_words and not p.qizhong and prev.op in ("share", "change") \
            and re.search(r"呢$", p.q.rstrip("?!.。~")) and not re.search(r"多少|几", p.q):
        p.op = prev.op   # "公用经费呢？" after "人员经费占多少？" asks the same thing of another item
    if p.op == "value" and p.units and not any(u[0] in p.views for u in p.units):
        p.units = []


_OP_WORDS = [RE_SHARE, RE_CHANGE, RE_PRIOR, RE_TIMES, RE_REASON, RE_COUNT, RE_FUTURE,
             re.compile(r"那么?|又|呢|吗|其中|里面|下面|这个部门|该部门|这个单位|它|的|是|有|为|多少|几|安排|预算|"
                        r"\d{4}年|今年|去年|上年|总的|一共|[?？,，。!！]")]


def _unknown_words(p: Parsed) -> str:
    """What is left of a question once names, years and operation words are taken out: a follow-up that
    still says something ("许昌市政府办公室差旅费") asks about that, not about the previous turn's item."""
    q = p.q
    for m in p.mentions:
        q = q[:m.start] + "□" * (m.end - m.start) + q[m.end:]
    for c in p.cities:
        q = q.replace(c, "")
    q = q.replace("□", "")
    for rx in _OP_WORDS:
        q = rx.sub("", q)
    return q if len(q) >= 2 else ""


class Conversations:
    """The latest state of each conversation, bounded (least recently used conversations are forgotten)."""

    def __init__(self, limit: int = MAX_CONVERSATIONS):
        self._states: OrderedDict[str, TurnState] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, cid: str | None) -> TurnState | None:
        if cid is None:
            return None
        with self._lock:
            state = self._states.get(cid)
            if state is not None:
                self._states.move_to_end(cid)
            return state

    def put(self, cid: str | None, state: TurnState) -> None:
        if cid is None:
            return
        with self._lock:
            self._states[cid] = state
            self._states.move_to_end(cid)
            while len(self._states) > self.limit:
                self._states.popitem(last=False)

    def reset(self, cid: str) -> None:
        with self._lock:
            self._states.pop(cid, None)
