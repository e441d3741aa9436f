"""The metric catalogue: what people ask about, how they say it, and how to read it from the records.

A metric is read from narrative facts first (the document's own sentence), then from the standard tables by
table kind + column role + row label; every value comes back as a `Value` that carries its evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from extractor.models import Table, TableKind, TableRow

from .text import clean_name, norm
from .view import DocView, Evidence, cell_amount

TWO = Decimal("0.01")


@dataclass
class Value:
    """A number the engine may state: read from a record (`ev`) or computed from other values (`formula`)."""

    value: Decimal
    unit: str
    label: str
    ev: Evidence | None = None
    formula: str | None = None
    inputs: list[Value] = field(default_factory=list)
    note: str = ""
    sources: list = field(default_factory=list)   # provenance cited by a computed value (counted rows)
    expr: str = ""   # the formula as arithmetic the numeric verifier recomputes ('286.55 - 96.55')
    funds: list = field(default_factory=list)     # (role, Value) by fund source, for a project row
    term: str = ""   # the value as an operand of another formula when it is not a cited number ('(867.50 * 100 * 100)')

    @property
    def status(self) -> str:
        if self.ev is not None:
            return "verified"
        return "computed" if self.formula else "unverified"

    def text(self) -> str:
        return fmt(self.value, self.ev.raw if self.ev else None)

    def arg(self) -> str:
        """This value in the arithmetic the verifier recomputes."""
        return self.term or self.text()

    def shown(self) -> str:
        """This value as an operand of a shown formula: a unit conversion shows itself ('(867.50万元 × 10000)')."""
        return f"({self.formula.split(' = ')[0]})" if self.term and self.formula else self.text()


def fmt(value: Decimal, raw: str | None = None) -> str:
    """A number as the answer prints it: the printed form without separators when known."""
    if raw:
        r = norm(raw).replace(",", "")
        if re.fullmatch(r"-?\d+(?:\.\d+)?", r):
            return r
    if value == value.to_integral_value() and abs(value) < Decimal("1e15"):
        return str(value.quantize(Decimal(1)))
    return str(value.normalize()) if -value.as_tuple().exponent > 2 else str(value)  # type: ignore[operator]


def q2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    patterns: tuple[str, ...]            # question-side regexes (normalised text)
    phrases: tuple[str, ...] = ()        # how documents print it (narrative search)
    unit: str = "万元"
    whole: str | None = None             # default denominator for 占比
    share_fact: str | None = None
    group: str = ""                      # parent metric for "其中…"
    count: bool = False


def _m(key, name, patterns, phrases=(), **kw) -> Metric:
    return Metric(key, name, tuple(patterns), tuple(phrases) or (name,), **kw)


# Ordered most specific first; question matching takes the longest hit, so order only breaks ties.
METRICS: dict[str, Metric] = {m.key: m for m in [
    _m("revenue_total", "收入总计", [r"收支总计", r"收入总计", r"总收入", r"收入总额", r"(?:部门)?预算总额", r"总预算",
                                     r"收入一共", r"全部收入", r"总的", r"(?<![性算营])收入(?!合计)", r"收支(?:规模|总额)"],
       ["收入总计", "收支总计", "收、支总计", "收入、支出总计"]),
    _m("expenditure_total", "支出总计", [r"支出总计"]),
    _m("revenue_sum", "收入合计", [r"收入合计", r"本年收入"]),
    _m("expenditure_sum", "支出合计", [r"支出合计", r"总支出", r"全部支出", r"支出总额", r"本年支出"]),
    _m("basic", "基本支出", [r"基本支出"], whole="expenditure_sum", share_fact="basic_share", group="expenditure_sum"),
    _m("project", "项目支出", [r"项目支出", r"项目经费", r"项目资金(?:总额)?", r"项目金额", r"项目(?:的)?钱",
                                r"(?<=的)项目(?=占|呢|是|为|有多少|多少|合计|总额|$)"], whole="expenditure_sum",
       share_fact="project_share", group="expenditure_sum"),
    _m("personnel", "人员经费", [r"人员经费", r"人员支出"], whole="basic", group="basic"),
    _m("public", "公用经费", [r"公用经费", r"公用支出"], whole="basic", group="basic"),
    _m("sangong_total", "“三公”经费", [r"三公经费", r"三公"], ["“三公”经费", "三公经费"]),
    _m("sangong_abroad", "因公出国（境）费", [r"因公出国(?:\(境\))?(?:费用?)?", r"出国(?:\(境\))?费?"],
       ["因公出国（境）费", "因公出国(境)费"], whole="sangong_total", group="sangong_total"),
    _m("sangong_vehicle", "公务用车购置及运行费", [r"公务用车购置及运行(?:维护)?费", r"公务用车费", r"公车(?:费用?)?",
                                                r"用车(?:费用?)?"], whole="sangong_total", group="sangong_total"),
    _m("sangong_vehicle_purchase", "公务用车购置费", [r"公务用车购置费?", r"购置公务用车", r"(?:公务)?车辆购置费?",
                                                   r"公车购置费?", r"购车费?"], whole="sangong_vehicle", group="sangong_total"),
    _m("sangong_vehicle_operation", "公务用车运行费", [r"公务用车运行(?:维护)?费", r"公车运行(?:维护)?费?",
                                                    r"用车运行(?:维护)?费?", r"车辆运行(?:维护)?费"],
       ["公务用车运行费", "公务用车运行维护费"], whole="sangong_vehicle", group="sangong_total"),
    _m("sangong_reception", "公务接待费", [r"公务接待费?", r"接待费", r"接待"], whole="sangong_total", group="sangong_total"),
    _m("operating", "机关运行经费", [r"机关(?:\(机构\))?运[行转](?:经)?费", r"机构运转经?费", r"运转经费"],
       ["机关运行经费", "机关(机构)运转经费", "机关运转经费", "机构运转经费"]),
    # printed beside the 三公 parts by some templates (their 合计 is then not the 三公 total)
    _m("meeting", "会议费", [r"会议费"]),
    _m("training", "培训费", [r"培训费"]),
    _m("reserve", "单位预留机动经费", [r"(?:单位)?预留(?:的)?机动(?:经费|资金)?", r"机动经费"], whole="expenditure_sum"),
    _m("carryforward", "年末结转和结余", [r"年末(?:财政拨款)?结转(?:和|及)?(?:结余)?", r"结转下年(?:资金)?"],
       ["年末结转和结余", "结转下年"]),
    _m("procurement_total", "政府采购预算", [r"政府采购(?:预算|支出)?", r"采购预算"], ["政府采购预算", "政府采购"]),
    _m("procurement_goods", "政府采购货物预算", [r"(?:政府)?采购货物(?:预算)?", r"货物类?"], ["政府采购货物预算"], whole="procurement_total",
       group="procurement_total"),
    _m("procurement_works", "政府采购工程预算", [r"(?:政府)?采购工程(?:预算)?", r"工程类"], ["政府采购工程预算"], whole="procurement_total",
       group="procurement_total"),
    _m("procurement_services", "政府采购服务预算", [r"(?:政府)?采购服务(?:预算)?", r"服务类"], ["政府采购服务预算"], whole="procurement_total",
       group="procurement_total"),
    _m("performance_total", "纳入绩效目标管理的金额", [r"绩效目标的?金额", r"纳入.{0,12}绩效目标", r"绩效目标管理.{0,4}金额"],
       ["绩效目标的金额"]),
    _m("fiscal_gp", "一般公共预算拨款收支", [r"一般公共预算拨款收支", r"一般公共预算收支", r"财政拨款收支"],
       ["一般公共预算拨款收支", "一般公共预算收支预算", "一般公共预算收支"]),
    _m("fiscal_gov_fund", "政府性基金预算拨款收支", [r"政府性基金(?:预算)?(?:拨款)?收支"],
       ["政府性基金预算拨款收支", "政府性基金收支预算", "政府性基金收支"]),
    _m("gp_expenditure", "一般公共预算支出", [r"一般公共预算支出", r"一般公共预算财政拨款支出"]),
    _m("gov_fund_expenditure", "政府性基金预算支出", [r"政府性基金(?:预算)?支出"]),
    _m("income_gp", "一般公共预算收入", [r"一般公共预算(?:拨款)?收入",
                                       r"一般公共预算(?!支出|拨款收支|收支|基本|财政拨款|口径|里|中|的基本|的项目)"],
       ["一般公共预算收入", "一般公共预算"], whole="revenue_total", group="revenue_total"),
    _m("income_gov_fund", "政府性基金预算收入", [r"政府性基金(?:预算)?(?:拨款)?收入",
                                            r"政府性基金(?:预算)?(?!支出|拨款收支|收支|预算支出|预算拨款收支)"],
       ["政府性基金预算收入", "政府性基金收入", "政府性基金预算"], whole="revenue_total", group="revenue_total"),
    _m("income_state_capital", "国有资本经营预算收入", [r"国有资本经营(?:预算)?(?:拨款)?收入"], whole="revenue_total",
       group="revenue_total"),
    _m("income_business", "事业收入", [r"(?<!单位经营)事业收入"], whole="revenue_total", group="revenue_total"),
    _m("income_other", "其他收入", [r"其他收入"], whole="revenue_total", group="revenue_total"),
    _m("income_carryover", "上年结转结余", [r"上年结转(?:结余)?"], whole="revenue_total", group="revenue_total"),
    # counts (narrative facts)
    _m("internal_divisions", "内设科室", [r"内设(?:机构|科室)", r"科室", r"内设"], ["内设"], unit="个", count=True),
    _m("secondary_units", "二级机构", [r"二级机构", r"下属单位", r"所属单位"], ["二级机构"], unit="个", count=True),
    _m("vehicles_total", "车辆", [r"车辆", r"辆车", r"多少车", r"几辆", r"多少辆", r"车最多", r"公务用车数", r"车有",
                                  r"公务车(?!费|运行|购置)"], ["车辆"],
       unit="辆", count=True),
    _m("equipment_general", "价值50万元以上通用设备", [r"通用设备"], ["通用设备"], unit="台（套）", count=True),
    _m("equipment_special", "价值100万元以上专用设备", [r"专用设备"], ["专用设备"], unit="台（套）", count=True),
    _m("vehicles_general", "一般公务用车", [r"一般公务用车"], unit="辆", count=True, group="vehicles_total"),
    _m("vehicles_enforcement", "执法执勤用车", [r"(?:一般)?执法执勤用车"], unit="辆", count=True, group="vehicles_total"),
    _m("vehicles_special", "特种专业技术用车", [r"特种专业技术用车"], unit="辆", count=True, group="vehicles_total"),
    _m("fiscal_total", "财政拨款收入", [r"财政拨款(?:收入|收支|总额)"], ["财政拨款收入", "财政拨款收支"]),
    _m("econ_wages", "工资福利支出", [r"工资福利支出", r"工资福利"], whole="basic", group="basic"),
    _m("econ_family", "对个人和家庭的补助", [r"(?<!其他)对个人和家庭(?:的)?补助"], whole="basic", group="basic"),
    _m("econ_goods", "商品和服务支出", [r"商品和服务支出"], whole="basic", group="basic"),
    _m("econ_capital", "资本性支出", [r"资本性支出"], whole="expenditure_sum"),
    # text answers (no figure): duties, the list of divisions / secondary units
    _m("duties", "主要职责", [r"主要职责", r"职责", r"职能", r"负责(?:哪些|什么)"], unit="text"),
    _m("divisions_list", "内设科室", [r"哪些科室", r"科室有哪些", r"内设(?:机构|科室)有哪些", r"科室(?:名称|名单)",
                                     r"有哪些内设"], unit="text"),
    _m("secondary_list", "二级机构", [r"哪些二级机构", r"二级机构有哪些", r"二级机构(?:名称|名单)", r"下属单位有哪些"],
       unit="text"),
    _m("transfer_projects", "专项转移支付项目", [r"专项转移支付(?:项目)?"], unit="个", count=True),
    _m("project_count", "支出项目个数", [r"几个(?:支出)?项目", r"多少个(?:支出)?项目", r"(?:支出)?项目(?:有)?几个",
                                       r"项目(?:有)?多少个", r"项目个数", r"项目数"], ["支出项目"], unit="个", count=True),
]}

INCOME_ROLES = {"income_gp": ("gp", r"一般公共预算"), "income_gov_fund": ("gov_fund", r"政府性基金"),
                "income_state_capital": ("state_capital", r"国有资本经营"), "income_business": ("", r"^事业收入"),
                "income_other": ("", r"^其他收入"), "income_carryover": ("carryover", r"上年结转")}
SANGONG_ROLES = {"sangong_total": "sangong_total", "sangong_abroad": "sangong_abroad",
                 "sangong_vehicle": "sangong_vehicle", "sangong_vehicle_purchase": "sangong_vehicle_purchase",
                 "sangong_vehicle_operation": "sangong_vehicle_operation", "sangong_reception": "sangong_reception"}
SANGONG_LABELS = {"sangong_total": r"^(?:合计|共计|总计|三公)", "sangong_abroad": r"出国",
                  "sangong_vehicle": r"公务用车(?:购置及运行)?费(?:用)?$|公务用车购置及运行|^\d?、?公务用车费",
                  "sangong_vehicle_purchase": r"购置(?!及)", "sangong_vehicle_operation": r"运行",
                  "sangong_reception": r"接待"}
SANGONG_QUALIFIERS = {"sangong_abroad": "因公出国（境）费", "sangong_vehicle": "公务用车购置及运行费",
                      "sangong_vehicle_purchase": "公务用车购置费", "sangong_vehicle_operation": "公务用车运行费",
                      "sangong_reception": "公务接待费"}
PROCUREMENT_PARTS = {"procurement_goods": "货物", "procurement_works": "工程", "procurement_services": "服务"}
COUNT_FACTS = {"internal_divisions": "internal_divisions", "secondary_units": "secondary_units",
               "vehicles_total": "vehicles_total", "project_count": "project_count",
               "transfer_projects": "transfer_projects"}
VEHICLE_KINDS = {"vehicles_general": "一般公务用车", "vehicles_enforcement": "执法执勤用车",
                 "vehicles_special": "特种专业技术用车"}
ECON_CLASSES = {"econ_wages": ("wages", "301"), "econ_family": ("family", "303"), "econ_goods": ("goods", "302"),
                "econ_capital": ("capital", "310")}
TEXT_FACTS = {"duties": "main_duties", "divisions_list": "internal_divisions", "secondary_list": "secondary_units"}

# National functional classification (支出功能分类 类), used to read a class by name or code.
FUNCTIONAL_CLASSES: dict[str, tuple[str, ...]] = {
    "201": ("一般公共服务",), "202": ("外交",), "203": ("国防",), "204": ("公共安全",), "205": ("教育",),
    "206": ("科学技术",), "207": ("文化旅游体育与传媒", "文化体育与传媒"), "208": ("社会保障和就业", "社保"),
    "209": ("社会保险基金",), "210": ("卫生健康", "医疗卫生"), "211": ("节能环保",), "212": ("城乡社区",),
    "213": ("农林水",), "214": ("交通运输",), "215": ("资源勘探",), "216": ("商业服务业",), "217": ("金融",),
    "219": ("援助其他地区",), "220": ("自然资源海洋气象",), "221": ("住房保障",), "222": ("粮油物资储备",),
    "224": ("灾害防治及应急管理",), "227": ("预备费",), "229": ("其他支出",), "230": ("转移性支出",),
    "231": ("债务还本",), "232": ("债务付息",), "233": ("债务发行费用",),
}


def class_name(code: str) -> str:
    names = FUNCTIONAL_CLASSES.get(code[:3])
    if not names:
        return code
    n = names[0]
    return n if n.endswith("支出") or n in ("预备费",) else n + "支出"


# ---- reading ------------------------------------------------------------------------------------------

def _fact_value(view: DocView, name: str, label: str, qualifier: str | None = None,
                section_hint: str | None = None) -> Value | None:
    f = view.fact(name, qualifier, section_hint)
    if f is None or f.amount is None:
        return None
    return Value(f.amount.value, f.amount.unit or "万元", label, ev=view.ev(f.amount, label))


def _row_value(view: DocView, t: Table, r: TableRow, role: str, label: str) -> Value | None:
    a = cell_amount(t, r, role)
    if a is None:
        return None
    return Value(a.value, a.unit or t.unit, label, ev=view.ev(a, label))


def _find_row(tables: list[Table], pattern: str, side: str | None = None, skip: str = r"^其中") -> tuple[Table, TableRow] | None:
    rx = re.compile(pattern)
    for t in tables:
        for r in t.rows:
            if side and r.side and r.side != side:
                continue
            lab = clean_name(r.label)
            if rx.search(lab) and not re.search(skip, lab) and r.cells:
                return t, r
    return None


def _total_row(t: Table) -> TableRow | None:
    for r in t.rows:
        # a total row may print no label at all (a one-row 支出预算总表 under 合计/基本支出/项目支出 columns)
        if r.is_total and r.cells and (re.search(r"合计|总计|共计", norm(r.label)) or not clean_name(r.label)):
            return r
    return None


def _role_value(view: DocView, kinds: tuple[TableKind, ...], role: str, label: str) -> Value | None:
    """The `role` column of a table's total row, else of its only row with that column (a one-line table)."""
    v = _table_total(view, kinds, role, label)
    if v is not None:
        return v
    for t in view.tables(*kinds):
        rows = [r for r in t.rows if r.get(role) is not None]
        if len(rows) == 1:
            return _row_value(view, t, rows[0], role, label)
    return None


def _summary(view: DocView, pattern: str, side: str, label: str) -> Value | None:
    hit = _find_row(view.tables(TableKind.summary), pattern, side)
    return _row_value(view, *hit, "total", label) if hit else None


def _table_total(view: DocView, kinds: tuple[TableKind, ...], role: str, label: str) -> Value | None:
    for t in view.tables(*kinds):
        r = _total_row(t)
        if r is not None:
            v = _row_value(view, t, r, role, label)
            if v is not None:
                return v
    return None


def read_metric(view: DocView, key: str, fund: str = "") -> Value | None:
    """The value of a catalogue metric in one document, or None when the records do not hold it."""
    m = METRICS[key]
    label = m.name
    gp = fund == "gp"
    if key == "revenue_total":
        return (_fact_value(view, "revenue_total", label) or _summary(view, r"^收入总计", "income", label)
                or _table_total(view, (TableKind.income,), "total", label))
    if key == "expenditure_total":
        return _fact_value(view, "expenditure_total", label) or _summary(view, r"^支出总计", "expenditure", label) \
            or _summary(view, r"^支出合计$", "expenditure", label)
    if key == "revenue_sum":
        return (_fact_value(view, "revenue_sum", label) or _summary(view, r"^本年收入合计", "income", label)
                or _summary(view, r"^收入合计$", "income", label))
    if key == "expenditure_sum":
        return (_fact_value(view, "expenditure_sum", label) or _summary(view, r"^本年支出合计", "expenditure", label)
                or _table_total(view, (TableKind.expenditure,), "total", label))
    if key in ("basic", "project"):
        fact = "basic_expenditure" if key == "basic" else "project_expenditure"
        kinds = (TableKind.gp_expenditure,) if gp else (TableKind.expenditure, TableKind.gp_expenditure)
        if gp:
            return _fact_value(view, fact, "一般公共预算" + label, "一般公共预算支出") or \
                _table_total(view, kinds, key, "一般公共预算" + label)
        v = _fact_value(view, fact, label) or _table_total(view, kinds, key, label)
        if v is None and key == "project":
            v = _table_total(view, (TableKind.projects,), "total", label)
        return v
    if key in ("personnel", "public"):
        fact = "personnel_expenses" if key == "personnel" else "public_expenses"
        v = _fact_value(view, fact, label) or _table_total(view, (TableKind.gp_basic,), key, label)
        if v is None:
            # 决算 templates print 人员经费合计 / 公用经费合计 as rows of the basic-expenditure table
            hit = _find_row(view.tables(TableKind.gp_basic), rf"^{label}(?:合计|小计)?$")
            v = _row_value(view, *hit, "total", label) if hit else None
        return v
    if key in SANGONG_ROLES:
        if key == "sangong_total":
            v = _fact_value(view, "sangong_total", label)
        else:
            v = _fact_value(view, "sangong_part", label, SANGONG_QUALIFIERS[key])
        return v or _sangong_table(view, key, label)
    if key == "operating":
        # the narrative, else the column beside the 三公 parts, else a 机关运行经费 table's total
        return (_fact_value(view, "operating_expenses", label)
                or _role_value(view, (TableKind.sangong, TableKind.generic), "operating_expenses", label))
    if key in ("meeting", "training"):
        return _role_value(view, (TableKind.sangong,), key, label) or read_economic(view, name=label)
    if key == "reserve":
        return (_role_value(view, (TableKind.expenditure,), "reserve", label)
                or _summary(view, r"预留机动", "expenditure", label))
    if key == "carryforward":
        return (_summary(view, r"^年末结转|^结转下年", "expenditure", label)
                or _role_value(view, (TableKind.expenditure,), "carryforward", label))
    if key == "procurement_total":
        return _fact_value(view, "procurement_total", label)
    if key in PROCUREMENT_PARTS:
        return _fact_value(view, "procurement", label, PROCUREMENT_PARTS[key])
    if key == "performance_total":
        return _fact_value(view, "performance_total", label)
    if key == "fiscal_gp":
        v = _fact_value(view, "appropriation", label, "一般公共预算拨款收支")
        hit = _find_row(view.tables(TableKind.fiscal_summary), r"一般公共预算", "income")
        return v or (_row_value(view, *hit, "total", label) if hit else None)
    if key == "fiscal_gov_fund":
        v = _fact_value(view, "appropriation", label, "政府性基金预算拨款收支")
        hit = _find_row(view.tables(TableKind.fiscal_summary), r"政府性基金", "income")
        return v or (_row_value(view, *hit, "total", label) if hit else None)
    if key == "gp_expenditure":
        return _fact_value(view, "expenditure_sum", label, "一般公共预算支出") or \
            _table_total(view, (TableKind.gp_expenditure,), "total", label)
    if key == "gov_fund_expenditure":
        return _fact_value(view, "expenditure_sum", label, "政府性基金预算支出") or \
            _table_total(view, (TableKind.gov_fund,), "total", label)
    if key in INCOME_ROLES:
        role, pattern = INCOME_ROLES[key]
        qual = {"income_gp": "一般公共预算", "income_gov_fund": "政府性基金", "income_state_capital": "国有资本经营",
                "income_business": "事业收入", "income_other": "其他收入", "income_carryover": "上年结转"}[key]
        v = _fact_value(view, "income_source", label, qual)
        if v is None:
            v = _summary(view, pattern, "income", label)
        if v is None and role:
            v = _table_total(view, (TableKind.income,), role, label)
        return v
    if key in COUNT_FACTS:
        v = _fact_value(view, COUNT_FACTS[key], label)
        if v is not None and view.fact(COUNT_FACTS[key], "") is None:
            # only qualified statements (0个副县级、3个科级二级机构): their sum is the count
            parts = [Value(f.amount.value, f.amount.unit, f"{f.qualifier}{label}", ev=view.ev(f.amount, f.qualifier))
                     for f in view.facts.get(COUNT_FACTS[key], []) if f.amount is not None and f.qualifier]
            if len(parts) > 1:
                return sum_values(parts, label)
        return v
    if key in VEHICLE_KINDS:
        return _fact_value(view, "vehicles", label, VEHICLE_KINDS[key])
    if key == "fiscal_total":
        hit = _find_row(view.tables(TableKind.fiscal_summary), r"^本年收入|^收入合计|^收入总计", "income")
        return _row_value(view, *hit, "total", label) if hit else None
    if key in ECON_CLASSES:
        role, prefix = ECON_CLASSES[key]
        v = _table_total(view, (TableKind.expenditure,), role, label)
        if v is None:
            v = read_economic(view, code=prefix, table="gp_basic")
            if v is not None:
                v.label = label
        return v
    if key == "equipment_general":
        return _fact_value(view, "equipment", label, "通用设备")
    if key == "equipment_special":
        return _fact_value(view, "equipment", label, "专用设备")
    return None


def _sangong_table(view: DocView, key: str, label: str) -> Value | None:
    for t in view.tables(TableKind.sangong):
        roles = {c.role for r in t.rows for c in r.cells}
        horizontal = len(roles - {"sangong_total", ""}) > 0 or len(t.columns) > 2
        if horizontal:
            for r in t.rows:
                c = r.get(SANGONG_ROLES[key])
                if c is not None:
                    return Value(c.amount.value, c.amount.unit or t.unit, label, ev=view.ev(c.amount, label))
            # A horizontal table prints every part; an empty cell is a printed zero only if the total is there.
            continue
        for r in t.rows:
            lab = clean_name(r.label)
            if re.search(SANGONG_LABELS[key], lab) and r.cells and not (key != "sangong_total" and "合计" in lab):
                a = r.cells[0].amount
                return Value(a.value, a.unit or t.unit, label, ev=view.ev(a, label))
    return None


def read_functional(view: DocView, code: str, name: str, role: str = "total", gp: bool = False) -> Value | None:
    """A functional class (3 digits), 款 (5) or 项 (7): the row of that code; for a class without its own
    row, the narrative's class fact, the summary table's class row, or the sum of its 项 rows."""
    label = name or code
    kinds = (TableKind.gp_expenditure, TableKind.expenditure) if gp else (TableKind.expenditure, TableKind.gp_expenditure)
    for i, kind in enumerate(kinds):
        if i == 1 and not gp and len(code) == 3 and role == "total":
            # no all-funds table prints the class: the summary's class row (all funds) comes before the
            # 一般公共预算 table's, which holds one fund only
            v = _class_total(view, code, label)
            if v is not None:
                return v
        for c, _lab, t, r in view.functional:
            if t.kind == kind and c == code:
                v = _row_value(view, t, r, role, label)
                if v is not None or role != "total":
                    return v
    v = _class_total(view, code, label) if len(code) == 3 and role == "total" else None
    if v is not None:
        return v
    if len(code) in (3, 5):
        parts = []
        for kind in kinds:
            rows = [(c, t, r) for c, _lab, t, r in view.functional if t.kind == kind and len(c) == 7 and c.startswith(code)]
            if rows:
                for c, t, r in rows:
                    v = _row_value(view, t, r, role, f"{c} {clean_name(r.label)}")
                    if v is not None:
                        parts.append(v)
                break
        if parts:
            return sum_values(parts, label)
    return None


def _class_total(view: DocView, code: str, label: str) -> Value | None:
    """A functional class (类) from the narrative, the summary table or the fiscal summary table."""
    names = FUNCTIONAL_CLASSES.get(code, ())
    for n in names:
        v = _fact_value(view, "functional_class", label, n)
        if v is not None:
            return v
    for n in names:
        v = _summary(view, re.escape(n), "expenditure", label)
        if v is not None:
            return v
        hit = _find_row(view.tables(TableKind.fiscal_summary), re.escape(n), "expenditure")
        if hit:
            return _row_value(view, *hit, "total", label)
    return None


def sum_values(parts: list[Value], label: str) -> Value:
    if len(parts) == 1:
        p = parts[0]
        return Value(p.value, p.unit, label, ev=p.ev, formula=p.formula, inputs=p.inputs, expr=p.expr,
                     sources=p.sources, term=p.term)
    from .money import align

    parts = align(parts)   # 元 and 万元 figures are added in one unit, the conversion shown
    total = sum((p.value for p in parts), Decimal(0))
    formula = " + ".join(p.shown() for p in parts) + f" = {fmt(total)}"
    return Value(total, parts[0].unit, label, formula=formula, inputs=parts, expr=" + ".join(p.arg() for p in parts))


def read_row(view: DocView, label: str) -> Value | None:
    """The amount of a table row named `label` (the generic lookup for rows no metric covers)."""
    for t, r in view.rows_by_label.get(label, []):
        a = cell_amount(t, r)
        if a is not None:
            return Value(a.value, a.unit or t.unit, label, ev=view.ev(a, f"{t.title.strip()}/{label}"))
    return None


def functional_rows_named(view: DocView, name: str) -> list[tuple[str, str]]:
    """Functional codes whose printed name equals (or contains) `name` (normalised)."""
    out = []
    for c, lab, _t, _r in view.functional:
        if lab == name or (len(name) >= 4 and name in lab):
            if (c, lab) not in out:
                out.append((c, lab))
    return out


def read_economic(view: DocView, code: str = "", name: str = "", table: str = "", gov_code: str = "") -> Value | None:
    """An economic item (部门经济分类) from 支出经济分类汇总表 (all funds) or 一般公共预算基本支出表 (basic);
    an item printed on several rows (one per 政府经济分类) is summed with the formula shown."""
    kinds = {"economic": (TableKind.economic,), "gp_basic": (TableKind.gp_basic,)}.get(
        table, (TableKind.economic, TableKind.gp_basic))
    for kind in kinds:
        rows = []
        for c, g, lab, t, r in view.economic:
            if t.kind != kind:
                continue
            if code and not (c == code or (len(code) == 3 and c.startswith(code))):
                continue
            if not code and norm(name) != lab:
                continue
            if gov_code and g and g != gov_code:
                continue
            rows.append((c, g, lab, t, r))
        if not rows and not code:
            rows = [(c, g, lab, t, r) for c, g, lab, t, r in view.economic
                    if t.kind == kind and len(norm(name)) >= 3 and norm(name) in lab]
        parts = []
        for c, g, lab, t, r in rows:
            v = _row_value(view, t, r, "total", f"{TABLE_TITLES.get(kind, '')}{c} {lab}" + (f"（{g}）" if g else ""))
            if v is not None:
                parts.append(v)
        if parts:
            title = name or code
            return sum_values(parts, title)
    return None


TABLE_TITLES = {TableKind.economic: "支出经济分类汇总表/", TableKind.gp_basic: "一般公共预算基本支出表/",
                TableKind.expenditure: "支出总体情况表/", TableKind.projects: "项目支出表/",
                TableKind.income: "收入总体情况表/", TableKind.project_performance: "项目绩效目标表/"}
