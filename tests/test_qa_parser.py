"""The QA question parser, table-driven over the ways people ask: departments (full names, abbreviations,
nicknames, typos, units, cities), years, metrics / items / projects / indicators, and operations."""

from __future__ import annotations

import pytest

from rag.qa.engine import Engine
from rag.qa.question import parse, question_years

from .conftest import SEEDS

BJ = "许昌市人民政府驻北京联络处"
XC = "许昌市人民政府办公室"
BD = "许昌市政务服务和大数据管理局"
LH = "漯河市人民政府办公室"
JY = "济源产城融合示范区招商引资服务中心"


@pytest.fixture(scope="module")
def corpus():
    return Engine.from_paths(SEEDS).corpus


def _targets(p):
    return [(t.kind, t.key) for t in p.targets]


# (question, departments, op, targets, extra expectations)
CASES = [
    # lookups, with the names people use
    ("驻京联络处2024年收入总计是多少？", {BJ}, "value", [("metric", "revenue_total")], {"years": [2024]}),
    ("驻京办今年的总收入", {BJ}, "value", [("metric", "revenue_total")], {}),
    ("许昌大数据局的预算总额是多少", {BD}, "value", [("metric", "revenue_total")], {}),
    ("大数据局的人员经费和公用经费分别多少钱？", {BD}, "value",
     [("metric", "personnel"), ("metric", "public")], {}),
    ("济源招商中心今年三公经费多少？其中因公出国（境）费多少？", {JY}, "value",
     [("metric", "sangong_total"), ("metric", "sangong_abroad")], {}),
    ("许昌市政府办公室三公经费花多少钱，公车和接待各多少？", {XC}, "value",
     [("metric", "sangong_total"), ("metric", "sangong_vehicle"), ("metric", "sangong_reception")], {}),
    ("驻京联络处的公务用车运行维护费", {BJ}, "value", [("metric", "sangong_vehicle_operation")], {}),
    ("济源招商中心机关（机构）运转经费安排了多少", {JY}, "value", [("metric", "operating")], {}),
    ("济源招商中心机关运转经费", {JY}, "value", [("metric", "operating")], {}),
    ("驻京联络处2024年一般公共预算拨款收支是多少？", {BJ}, "value", [("metric", "fiscal_gp")], {}),
    ("济源招商中心收入里一般公共预算和政府性基金各占多少钱？", {JY}, "value",
     [("metric", "revenue_total"), ("metric", "income_gp"), ("metric", "income_gov_fund")], {}),
    ("大数据局纳入2024年部门整体支出绩效目标的金额是多少？", {BD}, "value", [("metric", "performance_total")], {}),
    # typos
    ("大数剧局2024年三公经费预算是多少？", {BD}, "value", [("metric", "sangong_total")], {}),
    ("驻京联洛处的人员经费", {BJ}, "value", [("metric", "personnel")], {}),
    ("漯河市政俯办的公用经费", {LH}, "value", [("metric", "public")], {}),
    ("许昌市政府办工室项目支出多少", {XC}, "value", [("metric", "project")], {}),
    ("济源招商中新的基本支出", {JY}, "value", [("metric", "basic")], {}),
    # functional and economic classification
    ("许昌市政府办公室2010301行政运行安排了多少？", {XC}, "value", [("functional", "2010301")], {}),
    ("大数据局事业运行（2010350）预算是多少？", {BD}, "value", [("functional", "2010350")], {}),
    ("漯河市政府办2023年卫生健康支出一共多少？", {LH}, "value", [("functional", "210")], {"years": [2023]}),
    ("驻京联络处2010399其他政府办公厅（室）及相关机构事务支出是多少？", {BJ}, "value",
     [("functional", "2010399")], {}),
    ("大数据局住房公积金（经济分类30113）合计多少？", {BD}, "value", [("economic", "30113")], {}),
    ("驻京联络处支出经济分类汇总表里的办公费是多少？", {BJ}, "value", [("economic", "30201")],
     {"table": "economic"}),
    ("济源招商中心基本支出里差旅费是多少？", {JY}, "value", [("economic", "30211")], {"table": "gp_basic"}),
    # projects and indicators
    ("大数据局信息化建设资金专项多少钱？", {BD}, "value", [("project", None)], {}),
    ("许昌市门户网站群运维费是多少？", set(), "value", [("project", None)], {"cities": ["许昌"]}),
    ("漯河驻京联络处装修改造资金多少？", {LH}, "value", [("project", None)], {"unit": "001005"}),
    ("驻京联络处运行经费项目的满意度指标是多少？", {BJ}, "indicator", [("indicator", None)], {}),
    ("大数据局整体绩效目标里群众满意度是多少？", {BD}, "indicator", [("indicator", None)], {}),
    ("许昌市政府办工室“三公经费”控制率目标是多少？", {XC}, "indicator", [("indicator", None)], {}),
    # shares and ratios
    ("驻京联络处2024年基本支出占支出合计的比例是多少？", {BJ}, "share", [("metric", "basic")],
     {"whole": "expenditure_sum"}),
    ("济源招商中心一般公共预算支出里基本支出占多大比例？", {JY}, "share", [("metric", "basic")],
     {"whole": "gp_expenditure"}),
    ("济源招商中心基本支出中人员经费占比多少？", {JY}, "share", [("metric", "personnel")], {"whole": "basic"}),
    ("许昌市政府办公室的人员经费是公用经费的几倍？", {XC}, "times", [("metric", "personnel")], {"whole": "public"}),
    ("漯河市政府办2023年人员经费与公用经费之比是多少？", {LH}, "times", [("metric", "personnel")], {}),
    ("许昌市政府办公室三公经费相当于公用经费的百分之多少？", {XC}, "share", [("metric", "sangong_total")],
     {"whole": "public"}),
    ("市政府办公室2024年住房保障支出占比是多少？", {XC}, "share", [("functional", "221")], {}),
    # year over year
    ("驻京联络处2024年收支总计比上年增加了多少？增长率多少？", {BJ}, "change", [("metric", "revenue_total")], {}),
    ("大数据局2024年收支总计同比增长了多少？", {BD}, "change", [("metric", "revenue_total")], {}),
    ("驻京联络处一般公共预算拨款收支比上年增长百分之几？", {BJ}, "change", [("metric", "fiscal_gp")], {}),
    ("许昌市政府办公室今年预算和去年比涨了多少？", {XC}, "change", [], {}),
    ("市政府办公室上一年度（2023年）收入总计是多少？", {XC}, "prior", [("metric", "revenue_total")],
     {"years": [2024]}),
    ("驻京联洛处2023年的收支总计大概是多少？", {BJ}, "value", [("metric", "revenue_total")], {"years": [2023]}),
    # across documents
    ("五个部门收入总计加起来多少？", None, "sum", [("metric", "revenue_total")], {}),
    ("许昌三个部门2024年项目支出加起来多少钱？", None, "sum", [("metric", "project")],
     {"cities": ["许昌"], "years": [2024]}),
    ("许昌市政府办公室和大数据局谁的收入总计多？多多少？", {XC, BD}, "compare", [("metric", "revenue_total")], {}),
    ("大数据局的项目支出比市政府办公室多多少？", {XC, BD}, "compare", [("metric", "project")], {}),
    ("哪个部门的三公经费最多？", None, "rank", [("metric", "sangong_total")], {"top_n": 1, "desc": True}),
    ("公用经费最少的是哪个部门？", None, "rank", [("metric", "public")], {"desc": False}),
    ("人员经费排前两名的是哪两个部门？", None, "rank", [("metric", "personnel")], {"top_n": 2}),
    ("把五个部门按收入总计从高到低排一下", None, "rank", [("metric", "revenue_total")], {"top_n": 0}),
    ("哪些部门有政府性基金预算收入？", None, "list", [("metric", "income_gov_fund")], {}),
    ("许昌的三个部门里，哪些收支总计比上年增长超过10%？", None, "list", [("metric", "revenue_total")],
     {"measure": "change", "condition": ("gt", "10%")}),
    ("哪个部门基本支出占支出合计的比例最高？", None, "rank", [("metric", "basic")],
     {"measure": "share", "whole": "expenditure_sum"}),
    # counts
    ("驻京联络处有几个内设科室？", {BJ}, "value", [("metric", "internal_divisions")], {}),
    ("许昌市政府办公室有多少辆车？", {XC}, "value", [("metric", "vehicles_total")], {}),
    ("大数据局有几个二级机构？", {BD}, "value", [("metric", "secondary_units")], {}),
    ("大数据局2024年有几个支出项目？", {BD}, "value", [("metric", "project_count")], {}),
    ("济源招商中心一共几个项目？", {JY}, "value", [("metric", "project_count")], {}),
    ("漯河市政府办2023年驻北京联络处下面有几个项目？", {LH}, "value", [("metric", "project_count")],
     {"unit": "001005"}),
    # units by code
    ("大数据局收入总体情况表里单位代码070002的收入总计是多少？", {BD}, "value", [("metric", "revenue_total")],
     {"unit": "070002"}),
    ("漯河市政府办下面001006驻郑州联络中心的项目金额？", {LH}, "value", [("metric", "project")], {"unit": "001006"}),
]


@pytest.mark.parametrize("question,departments,op,targets,extra", CASES, ids=[c[0] for c in CASES])
def test_parse(corpus, question, departments, op, targets, extra):
    p = parse(question, corpus)
    if departments is not None:
        assert {v.name for v in p.views} == departments
    assert p.op == op
    got = _targets(p)
    assert [k for k, _ in got] == [k for k, _ in targets]
    for (_, key), (_, want) in zip(got, targets, strict=True):
        if want is not None:
            assert key == want
    if "years" in extra:
        assert p.years == extra["years"]
    if "whole" in extra:
        assert p.whole is not None and p.whole.key == extra["whole"]
    if "table" in extra:
        assert p.targets[0].table == extra["table"]
    if "unit" in extra:
        assert [code for _v, code in p.units] == [extra["unit"]]
    if "cities" in extra:
        assert p.cities == extra["cities"]
    if "top_n" in extra:
        assert p.top_n == extra["top_n"]
    if "desc" in extra:
        assert p.rank_desc == extra["desc"]
    if "measure" in extra:
        assert p.measure == extra["measure"]
    if "condition" in extra:
        assert p.condition == extra["condition"]


NOT_FOUND = [
    ("许昌市教育局2024年部门预算收入总计是多少？", "许昌市教育局"),
    ("许昌市财政局2024年三公经费是多少？", "许昌市财政局"),
    ("许昌市人民政府驻上海联络处2024年预算多少？", "许昌市人民政府驻上海联络处"),
    ("郑州市大数据管理局2024年项目支出多少？", "郑州市大数据管理局"),
]


@pytest.mark.parametrize("question,name", NOT_FOUND, ids=[n for _, n in NOT_FOUND])
def test_unknown_department_is_not_matched_to_a_lookalike(corpus, question, name):
    p = parse(question, corpus)
    assert not p.views and not p.units
    assert p.unknown_department == name


FLAGS = [
    ("许昌市政府办公室2024年决算支出实际是多少？", "final_accounts"),
    ("许昌市政府办公室12345热线项目今年上半年执行了多少钱？", "execution"),
    ("大数据局2025年预算会增加多少？", "future"),
    ("那2025年预计会是多少？", "future"),
    ("那项目支出呢？", "elliptic"),
    ("公用经费呢？", "elliptic"),
    ("其中公务接待费呢？", "qizhong"),
    ("这个部门的车辆有多少？", "this_dept"),
    ("济源招商中心2024年收支总计比2023年增加多少？为什么？", "want_reason"),
]


@pytest.mark.parametrize("question,flag", FLAGS, ids=[f"{f}:{q}" for q, f in FLAGS])
def test_flags(corpus, question, flag):
    assert getattr(parse(question, corpus), flag) is True


YEARS = [
    ("驻京联络处2023年末有几辆车？", []),          # an asset date, not the budget year
    ("济源招商中心收支总计比2023年增加多少？", []),  # a comparison base
    ("与2023年相比，三公经费变化了吗", []),
    ("漯河市政府办2023年项目支出", [2023]),
    ("许昌市政府办公室2024年的基本支出和漯河市政府办2023年的比", [2024, 2023]),
]


@pytest.mark.parametrize("question,years", YEARS, ids=[q for q, _ in YEARS])
def test_question_years(question, years):
    from rag.qa.text import norm

    assert question_years(norm(question)) == years


def test_ambiguous_name_is_settled_by_city_and_context(corpus):
    # 市政府办公室 names both offices; the city written in the question settles it
    p = parse("许昌的市政府办公室人员经费多少", corpus)
    assert {v.name for v in p.views} == {XC}
    # 驻北京联络处 is a department of its own and a unit of 漯河市人民政府办公室: the conversation decides
    lh = [v for v in corpus.views if v.name == LH]
    p = parse("驻北京联络处的项目占多少？", corpus, context_views=lh)
    assert [code for _v, code in p.units] == ["001005"]
    p = parse("驻北京联络处的项目支出占多少？", corpus)
    assert {v.name for v in p.views} == {BJ} and not p.units
