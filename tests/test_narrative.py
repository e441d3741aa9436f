"""Narrative facts: crafted sentences per fact name (other departments, years, units, orderings), then the
five bundled samples (exact provenance, spot values read by hand, nothing read past the first table)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractor.load import load_document
from extractor.narrative import extract_facts
from extractor.numbers import chinese_int, fold_width, parse_amount
from extractor.provenance import SourceRef
from extractor.segment import find_sections, find_tables, split_lines

from .conftest import SEEDS


def _first_table(text: str) -> tuple[list, int]:
    lines = split_lines(text)
    blocks = find_tables(lines, text)
    first = min((b.title_start for b in blocks), default=len(text))
    return find_sections(lines, first), first


def run(text: str):
    sections, first = _first_table(text)
    return extract_facts(SourceRef("doc", "doc.txt", text), text, sections, first)


def _matches(fact, name, qualifier, value, unit=None, raw=None) -> bool:
    if fact.name != name or fact.qualifier != qualifier:
        return False
    if fact.amount is None:
        return fact.text == value and unit is None
    if parse_amount(value) is None:  # a text expectation never matches a number
        return False
    return (fact.amount.value == Decimal(value) and (unit is None or fact.amount.unit == unit)
            and (raw is None or fact.amount.raw == raw))


def _assert_provenance(text: str, facts) -> None:
    for f in facts:
        assert text[f.prov.char_start:f.prov.char_end] == f.prov.quote, f
        if f.amount is not None:
            p = f.amount.prov
            assert text[p.char_start:p.char_end] == p.quote == f.amount.raw, f
            # the quote is the number alone, and it parses to the value (sign aside)
            number = parse_amount(fold_width(p.quote)) if p.quote[0].isdigit() or p.quote[0] in "０１２３４５６７８９" \
                else Decimal(chinese_int(p.quote))
            assert number == abs(f.amount.value), f
            assert f.prov.char_start <= p.char_start and p.char_end <= f.prov.char_end, f


H1 = "一、收入支出预算总体情况说明\n\n"

# (id, text, expected facts (name, qualifier, value | text, unit, raw), forbidden (name, qualifier, value))
CASES = [
    ("totals-thousands-decrease",
     H1 + "某某市教育局2025年度收入总计1,234.50万元，支出总计1,234.50万元，与上年相比，减少45.6万元，下降3.56%，"
          "主要原因是项目支出减少。\n",
     [("revenue_total", "", "1234.50", "万元", "1,234.50"), ("expenditure_total", "", "1234.50", "万元", None),
      ("total_change_amount", "", "-45.6", "万元", "45.6"), ("total_change_pct", "", "-3.56", "%", "3.56"),
      ("total_change_reason", "", "项目支出减少", None, None)], []),
    ("totals-yuan-fullwidth",
     H1 + "本单位2023年度收入总计２８６５５００．００元，支出总计２８６５５００．００元。\n",
     [("revenue_total", "", "2865500.00", "元", "２８６５５００．００"),
      ("expenditure_total", "", "2865500.00", "元", None)], []),
    ("pair-total-reordered-pct-first",
     H1 + "与2023年相比，本年度收支总计增长12.5%，增加30万元，原因是新增专项。\n",
     [("total_change_pct", "", "12.5", "%", None), ("total_change_amount", "", "30", "万元", None),
      ("total_change_reason", "", "新增专项", None, None)], []),
    ("pair-total-each",
     "与2023年相比，收、支总计各减少10万元。收入、支出总计均为90万元。\n",
     [("total_change_amount", "", "-10", "万元", None), ("revenue_total", "", "90", "万元", None),
      ("expenditure_total", "", "90", "万元", None)], []),
    ("gp-appropriation-change",
     "四、财政拨款收支预算总体情况说明\n\n市卫健委2025年度一般公共预算拨款收入500万元，比上年减少20万元，"
     "降低3.85%。政府性基金预算拨款收支\n\n12.5万元。国有资本经营预算拨款收支与上年相比，持平。\n",
     [("appropriation", "一般公共预算拨款收入", "500", "万元", None),
      ("total_change_amount", "一般公共预算拨款收入", "-20", "万元", None),
      ("total_change_pct", "一般公共预算拨款收入", "-3.85", "%", None),
      ("appropriation", "政府性基金预算拨款收支", "12.5", "万元", "12.5"),
      ("total_change_amount", "国有资本经营预算拨款收支", "持平", None, None)], []),
    ("income-sources-other-names",
     "二、收入预算总体情况说明\n\n2025年度收入合计800万元，其中：财政拨款收入700万元，事业收入60万元，"
     "上年结转40万元，占5%。\n",
     [("revenue_sum", "", "800", "万元", None), ("income_source", "财政拨款收入", "700", "万元", None),
      ("income_source", "事业收入", "60", "万元", None), ("income_source", "上年结转", "40", "万元", None),
      ("income_share", "上年结转", "5", "%", None)],
     [("appropriation", "财政拨款收入", "700")]),
    ("expenditure-split-yuan",
     "三、支出预算总体情况说明\n\n支出合计1,000,000元，其中：基本支出600,000元，占总支出的60%；"
     "项目支出400,000元，占40%。\n",
     [("expenditure_sum", "", "1000000", "元", "1,000,000"), ("basic_expenditure", "", "600000", "元", None),
      ("basic_share", "", "60", "%", None), ("project_expenditure", "", "400000", "元", None),
      ("project_share", "", "40", "%", None)], []),
    ("gp-scope-functional",
     "## **五、一般公共预算支出预算情况说明**\n\n某县农业农村局2025年一般公共预算支出年初预算为300万元。"
     "其中：基本支出200万元，占66.67%；项目支出100万元，占33.33%。主要用于以下方面：教育支出250万元，"
     "占83.33%；农林水支出50万元，占16.67%。\n",
     [("expenditure_sum", "一般公共预算支出", "300", "万元", None),
      ("basic_expenditure", "一般公共预算支出", "200", "万元", None),
      ("project_share", "一般公共预算支出", "33.33", "%", None),
      ("functional_class", "教育支出", "250", "万元", None), ("functional_share", "教育支出", "83.33", "%", None),
      ("functional_class", "农林水支出", "50", "万元", None)],
     [("basic_expenditure", "", "200")]),
    ("personnel-public",
     "六、一般公共预算基本支出情况说明\n\n2025年度一般公共预算基本支出200万元，其中：人员经费180万元，"
     "主要包括：基本工资、津贴补贴；公用经费20万元，主要包括：办公费、\n\n差旅费。\n",
     [("basic_expenditure", "一般公共预算支出", "200", "万元", None),
      ("personnel_expenses", "", "180", "万元", None), ("public_expenses", "", "20", "万元", None)], []),
    ("sangong-decrease-parts",
     "八、“三公”经费支出预算情况说明\n\n2025年度“三公”经费预算12万元，比上年减少3万元，下降20%，主要原因是厉行节约。"
     "（一）因公出国（境）费0万元，与上年持平。（二）公务接待费2万元，比上年减少1万元。\n",
     [("sangong_total", "", "12", "万元", None), ("sangong_change", "", "-3", "万元", None),
      ("sangong_change_pct", "", "-20", "%", None), ("sangong_change_reason", "", "厉行节约", None, None),
      ("sangong_part", "因公出国（境）费", "0", "万元", None),
      ("sangong_change", "因公出国（境）费", "持平", None, None),
      ("sangong_part", "公务接待费", "2", "万元", None), ("sangong_change", "公务接待费", "-1", "万元", None)], []),
    ("sangong-vehicle-maintenance-wording",
     "公务用车购置及运行维护费5万元，其中：公务用车购置费0万元，**公务用车运行维护费** 5万元，"
     "较2024年增加1万元，主要原因是车辆老化。\n",
     [("sangong_part", "公务用车购置及运行费", "5", "万元", None),
      ("sangong_part", "公务用车购置费", "0", "万元", None), ("sangong_part", "公务用车运行费", "5", "万元", None),
      ("sangong_change", "公务用车运行费", "1", "万元", None),
      ("sangong_change_reason", "公务用车运行费", "车辆老化", None, None)], []),
    ("sangong-parenthetical-not-read",
     "2024年度“三公”经费预算2万元，与2023年相比，增加2万元（去年数据为0万元，无法计算增减比率）。\n",
     [("sangong_total", "", "2", "万元", None), ("sangong_change", "", "2", "万元", None)],
     [("sangong_total", "", "0"), ("sangong_change", "", "0")]),
    ("operating-expenses-change",
     "（一）机关运行经费预算情况\n\n2025年机关运行经费支出预算45.5万元，主要用于办公费、水电费等。"
     "比上年减少5万元，下降9.9%，主要原因是压减一般性支出。\n",
     [("operating_expenses", "", "45.5", "万元", None),
      ("operating_expenses_purpose", "", "主要用于办公费、水电费等", None, None),
      ("operating_expenses_change", "", "-5", "万元", None),
      ("operating_expenses_change_pct", "", "-9.9", "%", None),
      ("operating_expenses_change_reason", "", "压减一般性支出", None, None)], []),
    ("procurement",
     "2025年度政府采购预算安排120万元，其中：政府采购货物预算20万元、政府采购工程预算0万元、"
     "政府采购服务预算100万元。\n",
     [("procurement_total", "", "120", "万元", None), ("procurement", "货物", "20", "万元", None),
      ("procurement", "工程", "0", "万元", None), ("procurement", "服务", "100", "万元", None)], []),
    ("performance-and-projects",
     "（三）预算绩效管理情况\n\n纳入2025年部门整体支出绩效目标的金额为300万元，其中：基本支出200万元，"
     "项目支出100万元，支出项目5个。\n",
     [("performance_total", "", "300", "万元", None), ("performance_basic", "", "200", "万元", None),
      ("performance_project", "", "100", "万元", None), ("project_count", "", "5", "个", None)],
     [("basic_expenditure", "", "200")]),
    ("vehicles-equipment-thresholds",
     "截至2024年底，本部门共有车辆5辆，其中：机要通信用车1辆、应急保障用车4辆；单位价值50万元以上通用设备"
     "2台（套），单位价值100万元以上专用设备1台（套）。\n",
     [("vehicles_total", "", "5", "辆", None), ("vehicles", "机要通信用车", "1", "辆", None),
      ("vehicles", "应急保障用车", "4", "辆", None), ("equipment", "通用设备", "2", "台（套）", None),
      ("equipment", "专用设备", "1", "台（套）", None)],
     [("equipment", "通用设备", "50"), ("equipment", "专用设备", "100")]),
    ("divisions-chinese-numeral",
     "二、机构设置\n\n本单位内设十个科室，分别是：办公室、财务科。下设二级机构3个。\n",
     [("internal_divisions", "", "10", "个", "十"), ("internal_divisions", "", "办公室、财务科", None, None),
      ("secondary_units", "", "3", "个", "3")], []),
    ("secondary-levels-and-none",
     "某局下设2个正科级二级机构和1个副科级二级机构。主要是：甲中心、乙站。某办无下设二级机构。\n",
     [("secondary_units", "正科级", "2", "个", None), ("secondary_units", "副科级", "1", "个", None),
      ("secondary_units", "", "甲中心、乙站", None, None), ("secondary_units", "", "无", None, None)], []),
    ("transfer-projects",
     "（六）专项转移支付项目情况\n\n2025年负责管理的专项转移支付项目3个。\n",
     [("transfer_projects", "", "3", "个", None)], [("project_count", "", "3")]),
    ("markdown-ascii-punctuation-yi",
     "### 一、收入支出预算总体情况说明\n\n某某市公务用车服务中心2025年度收入总计**1.2**亿元,支出总计1.2亿元。"
     "与上年相比,增加1,000万元,增长9.09％。\n",
     [("revenue_total", "", "1.2", "亿元", "1.2"), ("expenditure_total", "", "1.2", "亿元", None),
      ("total_change_amount", "", "1000", "万元", "1,000"), ("total_change_pct", "", "9.09", "%", "9.09")],
     # the department name contains 公务用车 but states no 三公 amount
     [("sangong_part", "公务用车购置及运行费", "1.2")]),
    ("sangong-parts-on-own-lines",
     "2025年“三公”经费预算5万元，其中：\n（一）因公出国（境）费1万元；\n（二）公务接待费4万元。\n"
     "（三）公务用车购置及运行费0万元，与上年相比无变化。\n",
     [("sangong_total", "", "5", "万元", None), ("sangong_part", "因公出国（境）费", "1", "万元", None),
      ("sangong_part", "公务接待费", "4", "万元", None),
      ("sangong_change", "公务用车购置及运行费", "无变化", None, None)], []),
    ("revenue-total-lists-sources",
     "本部门2025年收入总计100万元，其中：一般公共预算拨款90万元，上年结转10万元。\n",
     [("revenue_total", "", "100", "万元", None), ("income_source", "一般公共预算拨款", "90", "万元", None),
      ("income_source", "上年结转", "10", "万元", None)], []),
    ("divisions-numeral-after-list-and-subordinate-units",
     "本中心内设办公室等十二个科室。下属事业单位2个。\n",
     [("internal_divisions", "", "12", "个", "十二"), ("secondary_units", "", "2", "个", "2")], []),
    ("budget-totals-zonge-equipment-de",
     "2025年某某区司法局收支预算总额为560.8万元。单位价值50万元以上的通用设备3台（套）。\n",
     [("revenue_total", "", "560.8", "万元", None), ("expenditure_total", "", "560.8", "万元", None),
      ("equipment", "通用设备", "3", "台（套）", None)], []),
    ("gov-fund-scoped",
     "九、政府性基金预算支出情况说明\n\n2025年政府性基金预算支出58.40万元，用于“两个禁止”平台建设支出。\n",
     [("expenditure_sum", "政府性基金预算支出", "58.40", "万元", None)], []),
]


@pytest.mark.parametrize("text,expected,forbidden", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_crafted_sentences(text, expected, forbidden):
    facts = run(text)
    _assert_provenance(text, facts)
    for name, qualifier, value, unit, raw in expected:
        assert any(_matches(f, name, qualifier, value, unit, raw) for f in facts), \
            (name, qualifier, value, [(f.name, f.qualifier, f.amount.value if f.amount else f.text) for f in facts])
    for name, qualifier, value in forbidden:
        assert not any(_matches(f, name, qualifier, value) for f in facts), (name, qualifier, value)


NOTHING = [
    ("comparison-without-subject", "与上年相比，增加5万元，增长3%。\n"),
    ("document-numbers-and-years", "按照（财预〔2017〕98号）要求，从2018年起全面实施改革，许发〔2021〕13号文件。\n"),
    ("definitions-section", "第三部分 名词解释\n\n一、机关运行经费：为保障行政单位运行的各项资金，如机关运行经费10万元。\n"),
    ("empty", ""),
]


@pytest.mark.parametrize("text", [c[1] for c in NOTHING], ids=[c[0] for c in NOTHING])
def test_no_facts(text):
    assert [f for f in run(text) if f.amount is not None] == []


def test_reason_attaches_to_new_subject_not_previous_change():
    text = ("“三公”经费预算3万元。（一）公务用车运行费2万元，比上年增加1万元，主要原因是车辆增加。"
            "（二）公务接待费1万元，主要原因是接待任务减少。\n")
    facts = run(text)
    reasons = {(f.qualifier, f.text) for f in facts if f.name == "sangong_change_reason"}
    assert reasons == {("公务用车运行费", "车辆增加"), ("公务接待费", "接待任务减少")}


def test_tables_region_is_not_read():
    narrative = "一、收入支出预算总体情况说明\n\n2025年度收入总计100万元，支出总计100万元。\n\n"
    table = ("2025年部门收支预算表\n\n单位：万元\n\n项目\t预算数\t项目\t预算数\n一、一般公共预算拨款收入\t100\t"
             "一、一般公共服务\t100\n收入总计\t100\t支出总计\t100\n\n")
    after = "五、说明\n\n2025年度收入总计777万元，“三公”经费预算9万元。\n"
    text = narrative + table + after
    sections, first = _first_table(text)
    assert first == len(narrative)
    facts = extract_facts(SourceRef("d", "d.txt", text), text, sections, first)
    assert {f.amount.value for f in facts if f.amount} == {Decimal("100")}
    assert all(f.prov.char_end <= first for f in facts)
    # an explicit end offset inside the narrative cuts it there too
    cut = text.index("支出总计")
    facts = extract_facts(SourceRef("d", "d.txt", text), text, [], cut)
    assert [f.name for f in facts] == ["revenue_total"]


# ---------------------------------------------------------------------------------------------- samples

@pytest.fixture(scope="module")
def samples():
    out = {}
    for p in SEEDS:
        loaded = load_document(p)
        sections, first = _first_table(loaded.text)
        ref = SourceRef(loaded.doc_id, loaded.source, loaded.text, loaded.page_starts)
        out[p.name[:3]] = (loaded.text, first, extract_facts(ref, loaded.text, sections, first))
    return out


@pytest.mark.parametrize("key", [p.name[:3] for p in SEEDS])
def test_sample_provenance_exact_and_before_tables(samples, key):
    text, first, facts = samples[key]
    _assert_provenance(text, facts)
    for f in facts:
        assert f.prov.char_end <= first


README_NAMES = {"revenue_total", "expenditure_total", "total_change_amount", "revenue_sum", "income_source",
                "expenditure_sum", "basic_expenditure", "project_expenditure", "basic_share", "project_share",
                "personnel_expenses", "public_expenses", "sangong_total", "sangong_part", "sangong_change",
                "operating_expenses", "procurement_total", "procurement", "vehicles_total", "vehicles", "equipment",
                "internal_divisions", "secondary_units", "project_count", "performance_total"}


@pytest.mark.parametrize("key", ["000", "001", "002", "004"])
def test_sample_has_every_narrative_kind(samples, key):
    names = {f.name for f in samples[key][2]}
    assert README_NAMES <= names, README_NAMES - names


# Values read by hand from data/samples (see the narrative sections of each file).
SPOT = [
    ("000", "revenue_total", "", "286.55", "万元"),
    ("000", "basic_share", "", "51.14", "%"),
    ("000", "total_change_pct", "", "50.82", "%"),
    ("000", "total_change_amount", "一般公共预算拨款收支", "96.55", "万元"),
    ("000", "functional_share", "住房保障支出", "3.29", "%"),
    ("000", "sangong_part", "公务用车运行费", "2", "万元"),
    ("000", "sangong_change", "公务用车运行费", "2", "万元"),
    ("000", "sangong_change", "公务接待费", "持平", None),
    ("000", "internal_divisions", "", "2", "个"),
    ("000", "secondary_units", "", "无", None),
    ("000", "vehicles", "一般公务用车", "2", "辆"),
    ("001", "internal_divisions", "", "23", "个"),
    ("001", "secondary_units", "科级", "3", "个"),
    ("001", "performance_total", "", "3090.39", "万元"),
    ("001", "equipment", "通用设备", "1", "台（套）"),
    ("001", "operating_expenses", "", "392.61", "万元"),
    ("002", "appropriation", "政府性基金预算拨款收支", "0", "万元"),
    ("002", "secondary_units", "县级（副县级）", "1", "个"),
    ("002", "sangong_part", "公务接待费", "0.5", "万元"),
    ("002", "project_count", "", "7", "个"),
    ("002", "total_change_reason", "", "本年度新增上年结转等项目资金，项目经费增加；新进人员导致人员经费相应增加", None),
    ("004", "total_change_amount", "", "1042.10", "万元"),
    ("004", "income_source", "政府性基金收入", "58.40", "万元"),
    ("004", "personnel_share", "", "95.10", "%"),
    ("004", "sangong_change", "因公出国（境）费", "3", "万元"),
    ("004", "sangong_change", "公务用车购置费", "持平", None),
    ("004", "sangong_part", "公务用车运行费", "1.50", "万元"),
    ("004", "operating_expenses_change", "", "43.30", "万元"),
    ("004", "performance_total", "", "158.4", "万元"),
    ("004", "project_count", "", "2", "个"),
    ("004", "total_change_amount", "国有资本经营收支预算", "持平", None),
]


@pytest.mark.parametrize("key,name,qualifier,value,unit", SPOT, ids=[f"{s[0]}-{s[1]}-{s[2] or 'all'}" for s in SPOT])
def test_sample_spot_values(samples, key, name, qualifier, value, unit):
    facts = samples[key][2]
    assert any(_matches(f, name, qualifier, value, unit) for f in facts), \
        [(f.qualifier, f.amount.value if f.amount else f.text) for f in facts if f.name == name]


def test_sample_003_has_no_narrative(samples):
    assert samples["003"][2] == []


def test_sample_004_has_no_change_percent(samples):
    # 004 states the totals' change only as an amount (a new unit); no percentage may be invented.
    assert not [f for f in samples["004"][2] if f.name == "total_change_pct"]


def test_sample_duties_span_the_whole_section(samples):
    text, _, facts = samples["002"]
    duties = [f for f in facts if f.name == "main_duties"]
    assert len(duties) == 1
    assert duties[0].text.startswith("（一）统筹推进全市“数字政府”建设")
    assert duties[0].text.endswith("（十一）完成市委、市政府交办的其他任务。")
    assert "数据资源等安全保障工作" in duties[0].text  # the line broken inside （九） is joined


def _gold_narrative():
    import yaml

    gold_dir = SEEDS[0].parent.parent.parent / "evals" / "fixtures" / "gold"
    cases = []
    for path in sorted(gold_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for v in data.get("values") or []:
            if v.get("table") == "narrative":
                cases.append(pytest.param(data["source"][:3], v, id=f"{data['source'][:3]}-{v['column']}-{v['anchor'][:12]}"))
    return cases


@pytest.mark.parametrize("key,gold", _gold_narrative())
def test_hand_labeled_narrative_numbers_are_found_at_their_quote(samples, key, gold):
    """Every narrative number labeled by hand in evals/fixtures/gold is extracted at exactly that span,
    with the same value and unit (names/qualifiers are compared in the report, not here)."""
    text, _, facts = samples[key]
    anchor = text.index(gold["anchor"])
    start = anchor + gold["anchor"].index(gold["quote"])
    found = [f for f in facts if f.amount and (f.amount.prov.char_start, f.amount.prov.char_end)
             == (start, start + len(gold["quote"]))]
    assert any(f.amount.value == Decimal(gold["value"]) and f.amount.unit == gold["unit"] for f in found), \
        [(f.name, f.qualifier, f.amount.value) for f in found]
