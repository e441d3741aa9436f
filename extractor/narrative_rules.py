"""Budget vocabulary for the narrative: which fact a label such as “其中：基本支出” names, given the context.

`classify` maps the words printed before a number (the *label*, one clause, department/year prefix removed)
plus the words after a count (the *tail*: 个科室, 个项目 …) to fact names. The rules are written over the
standard 部门预算/决算 vocabulary (收入总计, 一般公共预算拨款收支, “三公”经费, 机关运行经费 …), not over any one
document's sentences; where the vocabulary is open (income sources, functional classes, vehicle kinds) the
sentence's lead fact decides (after 收入合计 every money label is an income source, and so on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Budget types that head 财政拨款 lines and scoped expenditure (一般公共预算支出 …).
_BT = r"(?:一般公共预算|政府性基金(?:预算)?|国有资本经营(?:预算)?)"

# Year-over-year comparison: 与上年相比 / 比2023年 / 较上年度 / 同比.
# (Written to open with a character class, so that a search skips to candidate positions instead of trying
# a match at every character: it matches what (?:与|较|比|同)(?:上年…)…|同比 matches.)
CMP = re.compile(r"[与较比同](?:(?:上年度?|上一年度?|去年|\d{4}年度?)(?:年初预算|预算数?|同期)?(?:相比|比较|对比)?|(?<=同)比)")


def may_compare(text: str) -> bool:
    """False when CMP cannot match in `text`: a substring test is much cheaper than a regex scan. A match
    holds 上年, 上一年, 去年 or 同比, or else a digit right after 与/较/比/同 (与2023年相比)."""
    if "上年" in text or "上一年" in text or "去年" in text or "同比" in text:
        return True
    for lead in "与较比同":
        i = text.find(lead)
        while i >= 0:
            if text[i + 1:i + 2].isdecimal():   # re's \d is str.isdecimal
                return True
            i = text.find(lead, i + 1)
    return False


# A change verb right before the number: 增加96.55万元, 各增加…, 下降5%.
VERB_END = re.compile(r"(增加|增长|上升|提高|减少|下降|降低|减|增)了?$")
VERB_LAST_CHARS = set("加长升高少降低减增了\n")   # what a label VERB_END matches can end with
NEGATIVE_VERBS = {"减少", "下降", "降低", "减"}
FLAT_WORDS = ("持平", "无变化", "没有变化", "保持不变", "基本不变", "相同", "一致")
FLAT = re.compile("|".join(FLAT_WORDS))
SHARE = re.compile(r"占|比重|所占比例")
# Reasons: 主要原因是… / 主要原因：… / 主要是由于…
REASON = re.compile(r"主要原因(?:是|为|在于)?[：:]?|原因(?:是|为|在于)?[：:]?|主要(?:是由于|是因为|系)|系因")
REASON_WORDS = ("原因", "主要是由于", "主要是因为", "主要系", "系因")   # every REASON match holds one of them
# A reason ends at '；' when the next clause opens another comparison.
REASON_STOP = re.compile(r"；(?=(?:与|较|比)(?:上年|上一年|去年|\d{4}年)|同比)")
LIST_MARK = re.compile(r"(?:主要是|主要有|主要包括|包括|分别是|分别为)[：:]?")
FUNCTIONAL_MARK = re.compile(r"主要用于|用于以下方面|按功能分类")
FUNCTIONAL_WORDS = ("用于", "按功能分类")   # every FUNCTIONAL_MARK match holds one of them
# (pattern, fact name, a word every match of the pattern holds)
NONE_RULES = [
    (re.compile(r"(?:无|没有|未设)(?:下设|下属|所属)?的?二级(?:机构|单位)"), "secondary_units", "二级"),
    (re.compile(r"(?:无|没有)(?:负责管理的?)?专项转移支付项目"), "transfer_projects", "专项转移支付项目"),
]

_SANGONG_PARTS = [
    (re.compile(r"因公出国[（(]?境[)）]?费"), "因公出国（境）费"),
    (re.compile(r"公务用车购置及运行(?:维护)?费"), "公务用车购置及运行费"),
    (re.compile(r"公务用车购置费"), "公务用车购置费"),
    (re.compile(r"公务用车运行(?:维护)?费"), "公务用车运行费"),
    (re.compile(r"公务接待费"), "公务接待费"),
]
_SANGONG = re.compile(r"[“\"‘'「『]?三公[”\"’'」』]?经费")
_OPERATING = re.compile(r"机关(?:[（(]机构[)）])?运[行转]经费|运转经费")
_PROCUREMENT_PART = re.compile(r"政府采购(货物|工程|服务)")
_PROCUREMENT = re.compile(r"政府采购")
_PERFORMANCE = re.compile(r"绩效[^，；]*?(?:金额|资金)|涉及(?:预算)?(?:拨款|资金)")
_TOTAL_PAIR = re.compile(r"收入?、?支出?(?:预算)?(?:总计|总额)")
_REVENUE_TOTAL = re.compile(r"收入(?:预算)?(?:总计|总额)")
_EXPENDITURE_TOTAL = re.compile(r"支出(?:预算)?(?:总计|总额)")
_REVENUE_SUM = re.compile(r"收入(?:预算)?合计")
_EXPENDITURE_SUM = re.compile(r"支出(?:预算)?合计")
_SCOPED_BASIC = re.compile(rf"({_BT})(?:财政拨款)?基本支出")
_SCOPED_EXPENDITURE = re.compile(rf"{_BT}(?:财政)?(?:拨款)?支出")
_APPROPRIATION = re.compile(rf"{_BT}(?:财政)?(?:拨款(?:收支|收入)?(?!支出)|收支)(?:预算)?|财政拨款(?:收支|收入)?(?:预算)?(?:总计|合计)?")
_PERSONNEL = re.compile(r"人员经费")
_PUBLIC = re.compile(r"公用经费")
_BASIC = re.compile(r"基本支出")
_PROJECT = re.compile(r"项目支出")

_LEAD_JUNK = re.compile(
    r"^(?:[、，,；;：:□\s]|其中|包括|[本我该](?:部门|单位)|主要用于以下方面|主要用于|分别为|分别是|主要是|以上的?|以下的?|"
    r"[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.．、](?!\d))+")
_TRAIL_JUNK = re.compile(r"(?:为|是|共计|合计为|达到|达)+$")
_YEAR_PREFIX = re.compile(r"^.*\d{4}年度?(?:末|期末|底)?")
_SECONDARY = re.compile(r"二级机构|二级单位|下属单位|所属单位|下属事业单位")
_DIVISION_TAIL = re.compile(r"^(?:内设机构|内设科室|职能科室|职能处室|科室|处室|股室)")
_EQUIPMENT = re.compile(r"([\u4e00-\u9fff]*设备)$")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_VEHICLES_TOTAL = re.compile(r"共|合计|总|实有|拥有")
_STAFF = re.compile(r"编制|人员|人数|在职|退休|离休|实有|职工")

# Names whose change phrases use the README's names; every other subject X gets X_change / X_change_pct.
_TOTAL_SUBJECTS = {"revenue_total", "expenditure_total", "revenue_sum", "expenditure_sum", "appropriation"}
_SHARE_NAMES = {"basic_expenditure": "basic_share", "project_expenditure": "project_share",
                "functional_class": "functional_share", "personnel_expenses": "personnel_share",
                "public_expenses": "public_share", "income_source": "income_share"}
# List members: they do not become the subject of a following 与上年相比 (that refers to the list's lead).
_LIST_NAMES = {"income_source", "functional_class", "vehicles", "equipment", "staff", "expenditure_item",
               "procurement", "internal_divisions", "secondary_units", "project_count", "transfer_projects"}


@dataclass(frozen=True)
class Hit:
    name: str
    qualifier: str = ""
    mode: str | None = None     # the context this fact opens: income | expenditure | performance | appropriation
    scope: str | None = None    # qualifier for the 基本支出/项目支出 that follow (一般公共预算支出 …)

    @property
    def is_subject(self) -> bool:
        return self.name not in _LIST_NAMES


@dataclass
class Context:
    """What earlier sentences of the section established."""

    mode: str | None = None
    scope: str = ""
    functional: bool = False


@lru_cache(maxsize=8192)
def clean_label(label: str) -> str:
    """Drop list markers (其中：, 一是, （二）, 、) and trailing 为/是; keep the name as printed."""
    s = label.replace("□", "")
    s = _YEAR_PREFIX.sub("", s)
    s = _LEAD_JUNK.sub("", s)
    s = _TRAIL_JUNK.sub("", s)
    return s.strip("、，,；;：:")


SUBJECT_WORDS = {"revenue_total": "收入总计", "expenditure_total": "支出总计", "revenue_sum": "收入合计",
                 "expenditure_sum": "支出合计", "sangong_total": "“三公”经费", "operating_expenses": "机关运行经费",
                 "personnel_expenses": "人员经费", "public_expenses": "公用经费", "procurement_total": "政府采购",
                 "basic_expenditure": "基本支出", "project_expenditure": "项目支出", "performance_total": "绩效目标金额"}


def subject_word(hit: Hit) -> str:
    """A short Chinese phrase for a subject, for locators (“三公”经费, 公务接待费, 一般公共预算拨款收支 …)."""
    return hit.qualifier or SUBJECT_WORDS.get(hit.name, hit.name)


def change_names(name: str, qualifier: str) -> tuple[str, str, str]:
    """(amount name, percent name, reason name) for a change of the given subject."""
    if name in _TOTAL_SUBJECTS:
        return "total_change_amount", "total_change_pct", "total_change_reason"
    if name in ("sangong_total", "sangong_part"):
        return "sangong_change", "sangong_change_pct", "sangong_change_reason"
    return f"{name}_change", f"{name}_change_pct", f"{name}_change_reason"


def change_qualifier(name: str, qualifier: str) -> str:
    # Totals restated for 收入/支出 carry no qualifier; scoped totals keep theirs (一般公共预算拨款收支 …).
    return "" if name in ("revenue_total", "expenditure_total", "revenue_sum") else qualifier


def share_name(name: str) -> str:
    return _SHARE_NAMES.get(name, f"{name}_share")


def _money(label: str, ctx: Context, explicit_only: bool) -> list[Hit]:
    if _TOTAL_PAIR.search(label):
        return [Hit("revenue_total"), Hit("expenditure_total", mode="expenditure", scope="")]
    if _REVENUE_TOTAL.search(label):
        return [Hit("revenue_total", mode="income")]
    if _EXPENDITURE_TOTAL.search(label):
        return [Hit("expenditure_total", mode="expenditure", scope="")]
    for rx, part in _SANGONG_PARTS:
        if rx.search(label):
            return [Hit("sangong_part", part)]
    if _SANGONG.search(label):
        return [Hit("sangong_total")]
    if _OPERATING.search(label):
        return [Hit("operating_expenses")]
    if m := _PROCUREMENT_PART.search(label):
        return [Hit("procurement", m.group(1))]
    if _PROCUREMENT.search(label):
        return [Hit("procurement_total")]
    if _PERFORMANCE.search(label) and "评价" not in label:  # 绩效评价 amounts are not the 绩效目标 total
        return [Hit("performance_total", mode="performance")]
    if _REVENUE_SUM.search(label):
        return [Hit("revenue_sum", mode="income")]
    if _EXPENDITURE_SUM.search(label):
        return [Hit("expenditure_sum", mode="expenditure", scope="")]
    if m := _SCOPED_BASIC.search(label):
        scope = m.group(1) + "支出"
        return [Hit("basic_expenditure", scope, mode="expenditure", scope=scope)]
    if m := _SCOPED_EXPENDITURE.search(label):
        return [Hit("expenditure_sum", m.group(0), mode="expenditure", scope=m.group(0))]
    if ctx.mode != "income" and (m := _APPROPRIATION.search(label)):
        return [Hit("appropriation", m.group(0), mode="appropriation")]
    if _PERSONNEL.search(label):
        return [Hit("personnel_expenses")]
    if _PUBLIC.search(label):
        return [Hit("public_expenses")]
    if _BASIC.search(label) or _PROJECT.search(label):
        kind = "basic" if _BASIC.search(label) else "project"
        if ctx.mode == "performance":
            return [Hit(f"performance_{kind}")]
        return [Hit(f"{kind}_expenditure", ctx.scope)]
    if explicit_only:
        return []
    name = clean_label(label)
    if not name or not _HAN.search(name):
        return []
    if ctx.mode == "income":
        return [Hit("income_source", name)]
    if name.endswith("支出"):
        if ctx.functional or ctx.scope.startswith(("一般公共预算", "政府性基金")):
            return [Hit("functional_class", name)]
        if ctx.mode == "expenditure":
            return [Hit("expenditure_item", name)]
    if ctx.mode == "appropriation" and "收支" in name:
        return [Hit("appropriation", name)]
    return []


def _count(label: str, tail: str) -> list[Hit]:
    both = label + "|" + tail
    if "专项转移支付" in both:
        return [Hit("transfer_projects")]
    if _SECONDARY.search(both):
        qualifier = _SECONDARY.sub("", tail).strip("的") if _SECONDARY.search(tail) else ""
        return [Hit("secondary_units", qualifier)]
    if "内设" in label or _DIVISION_TAIL.match(tail):
        return [Hit("internal_divisions")]
    if "项目" in both:
        return [Hit("project_count")]
    return []


def classify(label: str, kind: str, tail: str, ctx: Context, explicit_only: bool = False) -> list[Hit]:
    """Facts named by `label` for a number of `kind` (money | count | vehicle | equipment | people)."""
    return list(_classify(label, kind, tail, ctx.mode, ctx.scope, ctx.functional, explicit_only))


@lru_cache(maxsize=8192)
def _classify(label: str, kind: str, tail: str, mode: str | None, scope: str, functional: bool,
              explicit_only: bool) -> tuple[Hit, ...]:
    """`classify` as a pure function of the context's fields (Hits are frozen: the answer is shared)."""
    return tuple(_classify_in(label, kind, tail, Context(mode, scope, functional), explicit_only))


def _classify_in(label: str, kind: str, tail: str, ctx: Context, explicit_only: bool) -> list[Hit]:
    label = _YEAR_PREFIX.sub("", label.replace("□", ""))
    if kind == "money":
        return _money(label, ctx, explicit_only)
    if kind == "count":
        return _count(label, tail)
    name = clean_label(label)
    if kind == "vehicle":
        if "车辆" in name and (_VEHICLES_TOTAL.search(name) or name.endswith("车辆")):
            return [Hit("vehicles_total")]
        return [Hit("vehicles", name)] if name else []
    if kind == "equipment":
        m = _EQUIPMENT.search(name)
        return [Hit("equipment", m.group(1))] if m else []
    if kind == "people" and _STAFF.search(name):
        return [Hit("staff", name)]
    return []


def subject_of(text: str, ctx: Context) -> Hit | None:
    """The subject named in the words before a comparison (“一般公共预算拨款收支与上年相比”), if any."""
    hits = classify(text, "money", "", ctx, explicit_only=True)
    if not hits:
        return None
    if len(hits) > 1:  # 收入、支出总计 -> the total
        return Hit("expenditure_total")
    return hits[0]
