"""Label binding: does the name an LLM gives a number agree with the words printed around it?

Read with the narrative vocabulary (`extractor.narrative_rules`): a number printed after 项目支出 cannot be
`basic_expenditure`, a share after 占 must be a `*_share`, a number after 增加/减少 must be a change of the
subject named before it, a vehicle kind must be the one printed before the count; a reason or a change stated
in words belongs to the subject named last before it. Where the vocabulary does not know a label, nothing
is claimed against the item."""

from __future__ import annotations

import re
from decimal import Decimal

from .. import narrative_rules as R
from ..numbers import fold_width

_WS = set(" \t\r\n\u3000\xa0\u200b\f\v")


def norm_label(s: str) -> str:
    s = fold_width(s)
    s = re.sub(r"[\s*#“”\"‘’'「」]", "", s)
    return s.replace("（", "(").replace("）", ")")


_UNIT_KIND = {"%": "pct", "‰": "pct", "个": "count", "辆": "vehicle", "人": "people", "名": "people"}
_MONEY = ("亿元", "万元", "千元", "元")


def unit_kind(unit: str) -> str:
    u = norm_label(unit)
    if u in _UNIT_KIND:
        return _UNIT_KIND[u]
    if u.startswith(("台", "套")):
        return "equipment"
    return "money" if u in _MONEY else "other"


# ---- label binding --------------------------------------------------------------------------------------

_SENT_END = re.compile(r"[。！？!?]")
_CLAUSE = re.compile(r"[，；：;:]|,(?!\d{3})")
_PAREN = re.compile(r"[（(][^（）()\n]{0,80}?\d[^（）()\n]{0,80}?[)）]")
_TOKEN = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
                    r"(亿元|万元|千元|元|%|‰|个|辆|台\(套\)|台套|台|套|人|名)")
_TAIL = re.compile(r"[\u4e00-\u9fff()]{0,12}")
# Names whose qualifier is the label printed next to the number (not a scope such as 一般公共预算支出).
LABEL_QUALIFIED = {"income_source", "functional_class", "functional_share", "sangong_part", "procurement",
                   "vehicles", "equipment", "secondary_units", "appropriation", "expenditure_item", "staff",
                   "income_share"}
# Different names the vocabulary and the fixture list give to the same printed figure.
_COMPATIBLE = [{"appropriation", "income_source"}, {"performance_basic", "basic_expenditure"},
               {"performance_project", "project_expenditure"}, {"expenditure_item", "functional_class"}]


def compatible(a: str, b: str) -> bool:
    return a == b or any(a in g and b in g for g in _COMPATIBLE)


def same_qualifier(a: str, b: str) -> bool:
    x, y = norm_label(a), norm_label(b)
    return x == y or (bool(x) and bool(y) and (x in y or y in x))


def _view(text: str, a: int, b: int) -> str:
    """Normalised sentence text, as the narrative rules read it (numbers in brackets masked)."""
    s = "".join("，" if ch == "，" else fold_width(ch) for ch in text[a:b] if ch not in _WS and ch not in "*#")
    s = s.replace("（", "(").replace("）", ")")
    return _PAREN.sub(lambda m: "□" * len(m.group(0)), s)


def _label_before(before: str) -> tuple[str, str]:
    """(the label printed right before the number that ends `before`, the text before that label):
    from the previous amount or the last clause separator, whichever is later."""
    toks = list(_TOKEN.finditer(before))
    start = toks[-1].end() if toks else 0
    seps = [m.end() for m in _CLAUSE.finditer(before, start)]
    start = max([start] + seps)
    return before[start:].replace("□", ""), before[:start]


def _label_of_last_amount(before: str) -> str:
    """The label of the last amount printed in `before` (the subject of a following 占…%)."""
    toks = list(_TOKEN.finditer(before))
    if not toks:
        return ""
    label, _ = _label_before(before[:toks[-1].start()])
    return label


# Names the vocabulary only gives to an explicit label (收入总计, 基本支出, “三公”经费 …): without that label
# printed before the number, the name is not what the document says.
EXPLICIT = {"revenue_total", "expenditure_total", "revenue_sum", "expenditure_sum", "basic_expenditure",
            "project_expenditure", "personnel_expenses", "public_expenses", "sangong_total", "sangong_part",
            "operating_expenses", "procurement_total", "procurement", "performance_total", "performance_basic",
            "performance_project", "internal_divisions", "secondary_units", "project_count", "vehicles_total",
            "transfer_projects"}
_NAME_KIND = {"internal_divisions": "count", "secondary_units": "count", "project_count": "count",
              "transfer_projects": "count", "vehicles": "vehicle", "vehicles_total": "vehicle",
              "equipment": "equipment", "staff": "people"}


def name_kind(name: str) -> str | None:
    """The kind of number a fact name takes (None: any)."""
    if name.endswith(("_share", "_pct")):
        return "pct"
    if name in _NAME_KIND:
        return _NAME_KIND[name]
    if name in EXPLICIT or name in ("income_source", "functional_class", "total_change_amount", "sangong_change",
                                    "appropriation", "expenditure_item"):
        return "money"
    return None


def _change_subject(label: str, vm: re.Match, before: str, ctx: R.Context) -> R.Hit | None:
    """The subject of a change: named before the verb in its clause, else before the sentence's 与上年相比."""
    cm = R.CMP.search(label)
    head = label[:cm.start()] if cm and cm.start() < vm.start() else label[:vm.start()]
    if subj := R.subject_of(head, ctx):
        return subj
    cmps = list(R.CMP.finditer(before))
    if cmps:
        seg = before[:cmps[-1].start()]
        seps = [m.end() for m in _CLAUSE.finditer(seg)]
        toks = [m.end() for m in _TOKEN.finditer(seg)]
        return R.subject_of(seg[max([0] + seps + toks):], ctx)
    return None


def check_binding(text: str, ns: int, ne: int, name: str, qualifier: str, unit: str, value: Decimal,
                  floor: int) -> str | None:
    """None when the printed words agree with (name, qualifier) for the number at [ns, ne); else why not.
    `floor` bounds the look-back (the excerpt start)."""
    lo = max(floor, ns - 240)
    starts = [m.end() for m in _SENT_END.finditer(text, lo, ns)]
    ss = starts[-1] if starts else lo
    before = _view(text, ss, ns)
    label, prior = _label_before(before)
    kind = unit_kind(unit)
    want_kind = name_kind(name)
    if want_kind and kind != "other" and want_kind != kind:
        return f"{name} 不是以“{unit}”计的数"
    after = _view(text, ne, min(len(text), ne + 40))
    after = after[len(norm_label(unit)):] if after.startswith(norm_label(unit)) else after
    tail = re.split(r"[和及与]", _TAIL.match(after).group(0))[0] if kind == "count" else ""
    ctx = R.Context()

    if kind in ("money", "pct") and (vm := R.VERB_END.search(label)):
        if "change" not in name:
            return f"“{label}”之后的数是增减额，不是 {name}"
        negative = vm.group(1) in R.NEGATIVE_VERBS
        if value > 0 and negative or value < 0 and not negative:
            return f"“{vm.group(1)}”与数值符号不符"
        if subj := _change_subject(label, vm, before, ctx):
            amount_name, pct_name, _ = R.change_names(subj.name, subj.qualifier)
            expected = pct_name if kind == "pct" else amount_name
            if name != expected:
                return f"这是“{R.subject_word(subj)}”的增减，不是 {name}"
        return None
    if "change" in name and kind in ("money", "pct"):
        return f"数前没有增减（“{label}”），不是 {name}"
    if kind == "pct" and (sm := R.SHARE.search(label)):
        if "share" not in name:
            return f"“{label}”之后的数是占比，不是 {name}"
        head = label[:sm.start()].strip("，、")
        if not head:
            head = _label_of_last_amount(prior)
        hits = R.classify(head, "money", "", ctx, explicit_only=True)
        if hits and not any(compatible(R.share_name(h.name), name) for h in hits):
            return f"占比属于“{head}”，不是 {name}"
        if not hits and name.removesuffix("_share") + "_expenditure" in EXPLICIT | {"basic_expenditure"}:
            return f"占比属于“{head}”，不是 {name}"
        if name in LABEL_QUALIFIED and qualifier and head and not same_qualifier(qualifier, R.clean_label(head)):
            return f"占比属于“{head}”，不是“{qualifier}”"
        return None
    hits = R.classify(label, kind, tail, ctx, explicit_only=(kind == "money"))
    if hits:
        if not any(compatible(h.name, name) for h in hits):
            return f"“{label or tail}”之后的数是 {hits[0].name}，不是 {name}"
        hit = next(h for h in hits if compatible(h.name, name))
        if hit.qualifier and qualifier and name in LABEL_QUALIFIED and not same_qualifier(hit.qualifier, qualifier):
            return f"标签是“{hit.qualifier}”，不是“{qualifier}”"
        return None
    if name in EXPLICIT:
        return f"数前的标签“{label or tail}”不是 {name}"
    if name in LABEL_QUALIFIED and qualifier:
        near = norm_label(label + tail)
        if norm_label(qualifier) not in near and not same_qualifier(qualifier, R.clean_label(label) or tail):
            return f"数前的标签是“{label or tail}”，不是“{qualifier}”"
    return None


def qualifier_pattern(qualifier: str) -> re.Pattern[str]:
    """A qualifier as printed, on normalised text: brackets of either width, 运行费 also as 运行维护费."""
    out = []
    for ch in norm_label(qualifier):
        out.append(r"[(（]" if ch == "(" else r"[)）]" if ch == ")" else re.escape(ch))
    return re.compile("".join(out).replace("运行费", "运行(?:维护)?费"))


def _last_at(pattern: re.Pattern[str], s: str) -> int:
    ends = [m.end() for m in pattern.finditer(s)]
    return ends[-1] if ends else -1


_CLAUSE_END = re.compile(r"[，,；：;:。！？!?]")


def _own_position(qualifier: str, before: str) -> int:
    """Where the subject `qualifier` is last named in `before`: as printed, or in the budget vocabulary's
    words for it (机关（机构）运转经费 is 机关运行经费, 收、支总计 is the total)."""
    own = _last_at(qualifier_pattern(qualifier), before)
    pos, ctx = 0, R.Context()
    for m in list(_CLAUSE_END.finditer(before)) + [None]:
        end = m.start() if m else len(before)
        for hit in R.classify(before[pos:end], "money", "", ctx, explicit_only=True):
            if same_qualifier(R.subject_word(hit), qualifier) or hit.qualifier and same_qualifier(hit.qualifier, qualifier):
                own = max(own, end)
        pos = m.end() if m else end
    return own


def contradicted_by_peer(qualifier: str, peers: list[str], before: str) -> str | None:
    """A qualifier claimed by another item of the reply printed nearer before this one than its own:
    the items' subjects were swapped."""
    if not qualifier:
        return None
    own = _own_position(qualifier, before)
    for peer in peers:
        if not peer or same_qualifier(peer, qualifier):
            continue
        if _last_subject_at(qualifier_pattern(peer), before) > own:
            return f"这里说的是“{peer}”，不是“{qualifier}”"
    pos, hit = last_vocabulary_subject(before)
    if hit is not None and pos > own:
        return f"这里说的是“{R.subject_word(hit)}”，不是“{qualifier}”"
    return None


def last_vocabulary_subject(before: str) -> tuple[int, R.Hit | None]:
    """The last subject the budget vocabulary names in a stated clause of `before` (end, hit)."""
    found: tuple[int, R.Hit | None] = (-1, None)
    pos, ctx = 0, R.Context()
    for m in list(_CLAUSE_END.finditer(before)) + [None]:
        end = m.start() if m else len(before)
        clause = before[pos:end]
        if _STATED.search(clause):
            hits = R.classify(clause, "money", "", ctx, explicit_only=True)
            if hits:
                found = (end, hits[-1])
        pos = m.end() if m else end
    return found


def change_name_conflict(name: str, before: str) -> str | None:
    """A change or reason named for a subject (total_change_reason, sangong_change …) must be about the
    subject the vocabulary finds last before it; the generic change_reason is not checked."""
    if "change" not in name or name == "change_reason":
        return None
    _, hit = last_vocabulary_subject(before)
    if hit is None:
        return None
    expected = R.change_names(hit.name, hit.qualifier)
    if name not in expected:
        return f"这里是“{R.subject_word(hit)}”的增减（{expected[0]} …），不是 {name}"
    return None


_STATED = re.compile(r"\d|增加|减少|增长|下降|持平|无变化|相比")


def _last_subject_at(pattern: re.Pattern[str], s: str) -> int:
    """Last place `pattern` is the subject of a statement (an amount or a change follows in its clause),
    not an item of a list (包含公用经费、公务用车运行维护费、…)."""
    last = -1
    for m in pattern.finditer(s):
        nxt = _CLAUSE_END.search(s, m.end())
        if _STATED.search(s, m.end(), nxt.start() if nxt else len(s)):
            last = m.end()
    return last




_COUNT = re.compile(r"(\d+|[一二两三四五六七八九十]+)个([\u4e00-\u9fff()]{0,12})")
LIST_NAMES = {"internal_divisions", "secondary_units"}


def list_name_conflict(name: str, before: str) -> str | None:
    """A list of names (科室, 二级机构) belongs to the count printed last before it."""
    if name not in LIST_NAMES:
        return None
    counts = list(_COUNT.finditer(before))
    if not counts:
        return None
    m = counts[-1]
    seps = [c.end() for c in _CLAUSE_END.finditer(before, 0, m.start())]
    label = before[max([0] + seps):m.start()]
    tail = re.split(r"[和及与]", m.group(2))[0]
    hits = R.classify(label, "count", tail, R.Context())
    if hits and not any(compatible(h.name, name) for h in hits):
        return f"这份名单属于“{m.group(0)}”（{hits[0].name}），不是 {name}"
    return None
