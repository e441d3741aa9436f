"""The question parser: how people ask about budgets -> who (departments, units, cities), when (years),
what (catalogue metrics, functional/economic items, projects, indicators: found by `targets.py`) and the
operation.

Pure text analysis over the loaded corpus; conversation context is applied by `conversation.py`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.numbers import chinese_int

from .corpus import Corpus, Mention
from .targets import RE_LIST_INDICATORS, Target, find_targets
from .text import norm
from .view import DocView

RE_SHARE = re.compile(r"占比|比例|比重|百分比|百分之|占.{0,14}(?:多少(?!钱)|几成|几|多大)|份额|占了?$")
RE_TIMES = re.compile(r"几倍|多少倍|倍数|之比|比值|是.{1,12}的.{0,3}倍")
RE_CHANGE = re.compile(r"比上年|比去年|比上一年|同比|与上年|和上年|较上年|跟去年|和去年|与去年|较去年|上年相比|"
                       r"比20\d\d年?|和20\d\d年?比|与20\d\d年?(?:相)?比|跟20\d\d年?比|增长了?多少|增加了?多少|"
                       r"涨了?多少|增幅|增长率|变化|减少了?多少|下降了?多少|多了多少|少了多少|增长百分之|增长更快|增长超过|"
                       r"持平|变没变")
RE_PRIOR = re.compile(r"(?:去年|上年|上一年度?)(?:是|的|为|有|大概|大约|多少|呢)|上一年度?|去年.*多少")
RE_REASON = re.compile(r"为什么|原因|为何|怎么回事")
RE_SUM = re.compile(r"加起来|加在一起|一共|总共|总和|合计|共计|合起来|总计是?多少")
RE_RANK = re.compile(r"最多|最少|最高|最低|最大|最小|排名|排序|排一下|排个序|从高到低|从低到高|从大到小|从小到大|"
                     r"前[两二三四五六七八九十\d]+名?|倒数")
RE_LIST = re.compile(r"哪些")
RE_COMPARE = re.compile(r"比较|相差|差多少|多多少|少多少|差距|差额|哪个多|谁多|谁的.{0,10}多|哪个.{0,8}(?:多|高|快|大)|更快|"
                        r"更多|更高|更大|比.{1,16}多|比.{1,16}少")
RE_SCOPE_ALL = re.compile(r"[几两二三四五六七八九十\d]+个(?:部门|单位)|各(?:个)?部门|各单位|所有(?:的)?(?:部门|单位)|全部(?:部门|单位)|"
                          r"每个(?:部门|单位)|[这那]些(?:部门|单位)|哪个(?:部门|单位)|哪些(?:部门|单位)?|哪家|[几两二三四五六七八九十\d]+家|谁")
RE_FUTURE = re.compile(r"预计|预测|将会|会是|会增加|会减少|会有|明年|后年")
RE_EXECUTION = re.compile(r"执行了?|实际支出|实际花|实际用|花掉|完成了?多少|上半年|下半年|前三季度|截至")
RE_FINAL = re.compile(r"决算")
RE_COUNT = re.compile(r"几个|几辆|几台|多少个|多少辆|多少台|几家|几项|多少项|有几")
RE_YEAR = re.compile(r"((?:19|20)\d{2})年")
RE_ELLIPTIC = re.compile(r"呢$|^(?:那|那么|其中|这个|该|它|里面|下面|再)")
RE_THIS_DEPT = re.compile(r"这个部门|该部门|这个单位|该单位|这家|本部门|他们|它的|其")



@dataclass
class Parsed:
    question: str
    q: str                                   # normalised
    mentions: list[Mention] = field(default_factory=list)
    views: list[DocView] = field(default_factory=list)      # documents named (resolved)
    units: list[tuple[DocView, str]] = field(default_factory=list)
    ambiguous: list[Mention] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)   # other departments an ambiguous name could mean
    unknown_department: str = ""
    cities: list[str] = field(default_factory=list)
    unknown_cities: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    whole: Target | None = None
    op: str = "value"   # value | share | times | change | prior | sum | compare | rank | list | indicator
    want_prior: bool = False
    want_change: bool = False
    want_reason: bool = False
    scope_all: bool = False
    rank_desc: bool = True
    top_n: int = 1
    condition: tuple[str, str] | None = None   # list: ('gt', '10') percent/amount threshold; ('nonzero','')
    fund: str = ""
    future: bool = False
    execution: bool = False
    final_accounts: bool = False
    elliptic: bool = False
    this_dept: bool = False
    qizhong: bool = False
    count_question: bool = False
    has_op_words: bool = False
    measure: str = "value"   # across documents: value | share | change
    prior_year: int | None = None
    purpose: bool = False
    per_capita: bool = False


def question_years(q: str) -> list[int]:
    """Years the question is about. '比2023年', '与2023年相比' are comparison bases; '2023年末' dates an asset
    count, not the budget."""
    out = []
    for m in RE_YEAR.finditer(q):
        before = q[:m.start()][-1:]
        after = q[m.end():m.end() + 3]
        if before in ("比", "较", "与", "和", "跟", "同") or after.startswith(("相比", "比", "相较", "末", "底", "期末", "年末")):
            continue
        y = int(m.group(1))
        if y not in out:
            out.append(y)
    return out


def _mask(q: str, spans: list[tuple[int, int]]) -> str:
    chars = list(q)
    for s, e in spans:
        for i in range(s, min(e, len(chars))):
            chars[i] = "□"
    return "".join(chars)


def parse(question: str, corpus: Corpus, context_views: list[DocView] | None = None) -> Parsed:
    q = norm(question)
    p = Parsed(question=question, q=q)
    p.future = bool(RE_FUTURE.search(q))
    p.per_capita = bool(re.search(r"人均|每人|每个人|平均每(?:名|位)?(?:人|职工|员工)", q))
    p.execution = bool(RE_EXECUTION.search(q))
    p.final_accounts = bool(RE_FINAL.search(q))
    p.want_reason = bool(RE_REASON.search(q))
    p.purpose = bool(re.search(r"用于什么|用途|用在哪|用来做|干什么用|做什么用|主要用于|用于哪", q))
    p.elliptic = bool(RE_ELLIPTIC.search(q.rstrip("?!.。~")))
    p.this_dept = bool(RE_THIS_DEPT.search(q))
    p.qizhong = bool(re.search(r"其中|里面|下面|下属|当中", q))
    p.years = question_years(q)
    prior = re.search(r"(?:上一?年度?|去年)[(（]?((?:19|20)\d{2})年", q)
    if prior:
        # "上一年度（2023年）": the budget asked about is the following year's, read backwards
        y = int(prior.group(1))
        p.years = [x for x in p.years if x != y] or [y + 1]
        p.prior_year = y
    p.cities = [c for _, c in corpus.known_cities(q)]
    p.unknown_cities = [c for _, c in corpus.unknown_cities(q)]
    p.mentions = corpus.mentions(q)
    _resolve_mentions(p, corpus, context_views or [])
    _unit_codes(p, corpus)
    if not p.views and not p.units:
        p.unknown_department = corpus.unknown_department(_mask(q, [(m.start, m.end) for m in p.mentions]))
    p.scope_all = bool(RE_SCOPE_ALL.search(q)) and len({v.name for v in p.views}) != 1
    masked = _mask(q, [(m.start, m.end) for m in p.mentions])
    scope = _scope_views(p, corpus, context_views or [])
    p.targets = find_targets(masked, q, scope)
    _operation(p, masked)
    return p


def _resolve_mentions(p: Parsed, corpus: Corpus, context: list[DocView]) -> None:
    """Pick one document per mention; an ambiguous name is settled by the city written in the question,
    the other departments named, the conversation, the year, then the most recent budget."""
    explicit_cities = set(p.cities)
    sure = [m for m in p.mentions if len({v.name for v in m.views}) == 1 and not m.unit_alternatives]
    sure_cities = {m.views[0].city for m in sure}
    sure_names = {m.views[0].name for m in sure}
    context_names = {v.name for v in context}
    context_cities = {v.city for v in context}
    for m in p.mentions:
        if m.unit_alternatives:
            # 驻北京联络处: a department of its own, or a unit of a department named here / in the conversation.
            inside = [u for u in m.unit_alternatives if u[0].name in sure_names | context_names
                      or (u[0].city in explicit_cities and not any(v.city in explicit_cities for v in m.views))]
            if inside and not any(v.name in sure_names for v in m.views):
                m.unit, m.views = inside[0], [inside[0][0]]
        if m.unit:
            p.units.append(m.unit)
            if m.unit[0] not in p.views:
                p.views.append(m.unit[0])
            continue
        names = sorted({v.name for v in m.views})
        if len(names) > 1:
            for pref in (explicit_cities, sure_cities, context_cities):
                narrowed = [n for n in names if corpus.by_name[n][0].city in pref]
                if len(narrowed) == 1:
                    names = narrowed
                    break
            if len(names) > 1 and context_names & set(names):
                names = [n for n in names if n in context_names][:1]
            if len(names) > 1 and p.years:
                narrowed = [n for n in names if any(v.doc.year in p.years for v in corpus.by_name[n])]
                if len(narrowed) >= 1:
                    names = narrowed
            if len(names) > 1:
                latest = max(max(v.doc.year or 0 for v in corpus.by_name[n]) for n in names)
                newest = [n for n in names if max(v.doc.year or 0 for v in corpus.by_name[n]) == latest]
                if len(newest) == 1:
                    p.alternatives.extend(n for n in names if n != newest[0])
                    names = newest
            if len(names) > 1:
                p.ambiguous.append(m)
                continue
        for v in _pick_year(corpus.by_name[names[0]], p.years):
            if v not in p.views:
                p.views.append(v)


def _unit_codes(p: Parsed, corpus: Corpus) -> None:
    """单位代码 written in the question (070002): a unit of a named (or the only matching) document."""
    for m in re.finditer(r"(?<!\d)(\d{6})(?!\d)", p.q):
        code = m.group(1)
        pool = p.views or corpus.views
        hits = [v for v in pool if code in v.units]
        if len(hits) > 1 and p.cities:
            hits = [v for v in hits if v.city in p.cities] or hits
        if len(hits) == 1:
            unit = (hits[0], code)
            if unit not in p.units:
                p.units.append(unit)
            if hits[0] not in p.views:
                p.views.append(hits[0])


def _pick_year(views: list[DocView], years: list[int]) -> list[DocView]:
    if len(views) == 1:
        return views
    if years:
        hit = [v for v in views if v.doc.year in years]
        if hit:
            return hit
    return [views[-1]]   # the most recent budget of that department


def _scope_views(p: Parsed, corpus: Corpus, context: list[DocView]) -> list[DocView]:
    """Documents whose item names (projects, rows, indicators) the targets may come from."""
    if p.views:
        return p.views
    if p.cities:
        return [v for c in p.cities for v in corpus.cities.get(c, [])]
    if context and not p.scope_all:
        return context
    return corpus.views


# ---- targets --------------------------------------------------------------------------------------------

# ---- operation ------------------------------------------------------------------------------------------

def _operation(p: Parsed, masked: str) -> None:
    q = masked.rstrip("?!.。~")
    multi = len({v.name for v in p.views}) > 1 or p.scope_all or (not p.views and len(p.cities) == 1
                                                                 and bool(RE_SCOPE_ALL.search(q)))
    p.want_change = bool(RE_CHANGE.search(q))
    p.want_prior = bool(RE_PRIOR.search(q))
    p.count_question = bool(RE_COUNT.search(q))
    if re.search(r"一般公共预算(?:支出)?(?:里|中|的)?(?:基本支出|项目支出)|一般公共预算基本|一般公共预算口径", q):
        p.fund = "gp"
    if any(t.kind == "indicator" for t in p.targets):
        p.op = "indicator"
        p.has_op_words = True
        return
    if RE_LIST_INDICATORS.search(q) and not multi:
        p.op = "indicators"
        p.has_op_words = True
        return
    if multi:
        p.measure = "share" if RE_SHARE.search(q) else "change" if p.want_change else "value"
        if p.measure == "share":
            _whole(p, q, force=True)
        if RE_RANK.search(q):
            p.op = "rank"
            p.rank_desc = not re.search(r"最少|最低|最小|从低到高|从小到大|倒数", q)
            m = re.search(r"前([两二三四五六七八九十\d]+)", q)
            p.top_n = (chinese_int(m.group(1)) or 1) if m else 1
            if re.search(r"排名|排序|排一下|排个序|从高到低|从低到高|从大到小|从小到大", q):
                p.top_n = 0   # all of them
        elif RE_LIST.search(q):
            p.op = "list"
            m = re.search(r"(?:超过|高于|大于|多于|不低于)(\d+(?:\.\d+)?)(%|万元|万)?", q)
            if m:
                p.condition = ("gt", m.group(1) + (m.group(2) or ""))
            else:
                p.condition = ("nonzero", "")
        elif RE_COMPARE.search(q) and len({v.name for v in p.views}) >= 2:
            p.op = "compare"
        else:
            p.op = "sum" if RE_SUM.search(q) or p.scope_all or len({v.name for v in p.views}) > 1 else "value"
        p.has_op_words = True
        return
    growth = re.search(r"增长(?:了)?百分之|增长率|增幅|增长了?几|涨幅|增减率", q)
    if RE_TIMES.search(q) and not re.search(r"相当于.{0,16}百分之", q):
        p.op = "times"
    elif (RE_SHARE.search(q) or re.search(r"相当于.{0,16}百分之", q)) and not (p.want_change and growth):
        p.op = "share"
    elif p.want_change:
        p.op = "change"
    elif p.want_prior:
        p.op = "prior"
    else:
        p.op = "value"
    if p.op == "value" and len(p.targets) == 2 and re.search(
            r"比.{1,16}(?:多|少|高|低)|相差|差多少|差额|差距|多多少|少多少", _mask(q, [(t.start, t.end) for t in p.targets])):
        p.op = "diff"
    if p.op == "value" and re.search(r"哪些项目|项目有哪些|什么项目|项目(?:名称|清单|明细)|列出.{0,8}项目|都有哪些", q) \
            and not any(t.kind == "project" for t in p.targets):
        p.op = "projects"
    elif p.op == "value" and RE_RANK.search(q) and re.search(r"项目", q) \
            and not any(t.kind == "project" for t in p.targets):
        p.op = "projects"
        p.rank_desc = not re.search(r"最少|最低|最小|从低到高|从小到大|倒数", q)
        m = re.search(r"前([两二三四五六七八九十\d]+)", q)
        p.top_n = (chinese_int(m.group(1)) or 1) if m else (0 if re.search(r"排名|排序|排一下|从高到低|从大到小", q) else 1)
    p.has_op_words = p.op != "value"
    _whole(p, q)
    if p.op in ("value", "change", "prior"):
        # "基本支出里的基本工资", "运行经费项目金额": the metric words only say where the item is
        kinds = {t.kind for t in p.targets}
        econ_basic = any(t.kind == "economic" and t.table == "gp_basic" for t in p.targets)
        keys = {t.key for t in p.targets}
        p.targets = [t for t in p.targets if not (
            t.kind == "metric" and ((t.key == "project" and "project" in kinds)
                                    or (t.key == "basic" and econ_basic)
                                    or (t.key == "vehicles_total" and keys & {"vehicles_general", "vehicles_enforcement",
                                                                              "vehicles_special"})
                                    or (t.key.startswith("sangong_vehicle") and (keys & {
                                        "vehicles_general", "vehicles_enforcement", "vehicles_special"}
                                        or ("vehicles_total" in keys and "辆" in q)))))] or p.targets


def _whole(p: Parsed, q: str, force: bool = False) -> None:
    """For 占比 / 倍数: which target is the denominator. 'A占B' -> B; 'B里(中)A占' -> B."""
    if (p.op not in ("share", "times") and not force) or len(p.targets) < 2:
        return
    a, b = p.targets[0], p.targets[1]
    between = q[a.end:b.start]
    if re.search(r"^(?:的)?(?:里|中|当中|之中|里面|中的)", between) and p.op != "times":
        p.whole = a
        p.targets = [b] + p.targets[2:]
    else:
        p.whole = b
        p.targets = [a] + p.targets[2:]
