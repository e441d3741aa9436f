"""The QA engine over other templates: the real PDFs (Shanghai tables in 元, Jiangsu 公开01–12表, a 决算) through
the store, and documents of our own in those shapes for each mechanism — metrics read by column role
(机关运行经费, 会议费, 培训费, 单位预留机动经费), a total row printed without a label, the all-funds class row of
a three-way 收支总表, 7-digit codes under a 功能科目代码 header, rows no metric names (the generic row lookup),
and 元 figures answered in 元 and converted explicitly, with the formula shown, when they meet 万元 figures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from extractor.load import load_text_bytes
from extractor.models import TableKind
from extractor.numbers import parse_amount
from extractor.pipeline import extract_text
from extractor.units import MONEY_UNITS, convert
from rag.qa import Answer, Engine

from .template_docs import SHANGHAI

ROOT = Path(__file__).resolve().parents[1]
REALDOCS = ROOT / "data" / "realdocs"
CASES = [json.loads(line) for line in (ROOT / "evals" / "fixtures" / "qa_realdocs.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]


def has(ans: Answer, value: str, unit: str) -> bool:
    """The answer states `value` in `unit` (or in another money unit that converts to it, within 0.01)."""
    want = Decimal(value)
    for n in ans.numbers:
        got = parse_amount(n.value)
        if got is None:
            continue
        if n.unit == unit and abs(got - want) <= Decimal("0.01"):
            return True
        if n.unit in MONEY_UNITS and unit in MONEY_UNITS and abs(convert(got, n.unit, unit) - want) <= Decimal("0.01"):
            return True
    return False


def clean(ans: Answer) -> bool:
    """Every number carries a status and none is unverified."""
    return all(n.status in ("verified", "computed") for n in ans.numbers)


# ---- the real PDFs, through the store (the `budgetqa ask --batch` path) ----------------------------------------

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from evals.runner import build_store

    store = build_store(tmp_path_factory.mktemp("realdocs") / "store", REALDOCS)
    return Engine.from_store(store, retriever=True)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_real_pdf_questions(real, case):
    ans = real.answer(case["question"])
    if case["abstain"]:
        assert ans.abstained and not ans.numbers, ans.answer
        return
    assert not ans.abstained, ans.answer
    for e in case["expected_numbers"]:
        assert has(ans, e["value"], e["unit"]), (e, ans.answer)
    assert set(case["expected_sources"]) <= {c.source for c in ans.citations}, ans.answer
    assert clean(ans), ans.numbers


def test_real_pdf_yuan_and_wanyuan_in_one_share(real):
    """A 三公 total in 万元 over a 收入总计 in 元: converted explicitly before dividing, never 0%."""
    ans = real.answer("普陀区政府办公室2025年三公经费占收入总计的比例是多少？")
    assert has(ans, "9.53", "%") and "× 10000" in ans.answer, ans.answer
    assert clean(ans)


# ---- documents of our own in those shapes ----------------------------------------------------------------------

def rows(*lines: str) -> str:
    return "\n".join(lines)


JIANGSU = rows(
    "江苏省测试厅2026年度部门预算公开",
    "一、收支预算总表",
    "部门：江苏省测试厅  单位：万元",
    "收入\t\t支出\t\t\t",
    "项目名称\t金额\t功能分类\t\t支出用途\t",
    "\t\t功能科目名称\t金额\t项目名称\t金额",
    "一、财政拨款\t500.00\t一、一般公共服务支出\t\t一、基本支出\t300.00",
    "1.一般公共预算\t500.00\t二、外交支出\t\t二、项目支出\t180.00",
    "二、其他资金\t10.00\t四、公共安全支出\t430.00\t三、单位预留机动经费\t30.00",
    "\t\t八、社会保障和就业支出\t80.00\t\t",
    "收入合计\t510.00\t支出合计\t\t\t510.00",
    "三、支出预算总表",
    "部门：江苏省测试厅  单位：万元",
    "合计\t基本支出\t项目支出\t单位预留机动经费\t结转下年资金",
    "510.00\t300.00\t180.00\t30.00\t",
    "八、一般公共预算支出预算表",
    "部门：江苏省测试厅  单位：万元",
    "功能科目代码\t功能科目名称\t金额",
    "\t合计\t500.00",
    "204\t公共安全支出\t420.00",
    "20406\t司法\t420.00",
    "2040601\t行政运行\t300.00",
    "2040604\t基层司法业务\t120.00",
    "208\t社会保障和就业支出\t80.00",
    "十、一般公共预算机关运行经费支出预算表",
    "部门：江苏省测试厅  单位：万元",
    "科目编码\t科目名称\t机关运行经费支出",
    "\t合计\t66.60",
    "302\t商品和服务支出\t66.60",
    "30201\t办公费\t16.60",
    "30215\t会议费\t50.00",
    "十一、一般公共预算“三公”经费、会议费、培训费支出预算表",
    "部门：江苏省测试厅  单位：万元",
    "合计\t“三公”经费\t\t\t\t\t\t会议费\t培训费",
    "\t小计\t因公出国（境）费\t公务用车购置及运行维护费\t\t\t公务接待费\t\t",
    "\t\t\t小计\t公务用车购置费\t公务用车运行维护费\t\t\t",
    "96.50\t41.50\t10.00\t25.00\t5.00\t20.00\t6.50\t30.00\t25.00",
)


JUESUAN = rows(
    "上海市某区测试局2025年度部门决算",
    "收入支出决算总表",
    "单位：万元",
    "收入\t\t支出\t",
    "项目\t决算数\t项目\t决算数",
    "一、一般公共预算财政拨款收入\t95.00\t一、一般公共服务支出\t88.00",
    "二、其他收入\t5.00\t二、住房保障支出\t10.00",
    "本年收入合计\t100.00\t本年支出合计\t98.00",
    "年初结转和结余\t3.00\t年末结转和结余\t5.00",
    "总计\t103.00\t总计\t103.00",
    "一般公共预算财政拨款基本支出决算表",
    "单位：万元",
    "科目编码\t科目名称\t决算数\t科目编码\t科目名称\t决算数",
    "301\t工资福利支出\t62.00\t302\t商品和服务支出\t18.00",
    "30101\t基本工资\t40.00\t30201\t办公费\t8.00",
    "30102\t津贴补贴\t22.00\t30211\t差旅费\t10.00",
    "人员经费合计\t\t62.00\t公用经费合计\t\t18.00",
    "第三部分 2025年度部门决算情况说明",
    "九、机关运行经费支出情况说明",
    "2025年度本部门机关运行经费支出12.34万元，比2024年度增加1.00万元，增长8.80%。",
)


def _doc(text: str, name: str):
    loaded = load_text_bytes(text.encode("utf-8"), Path(name))
    return extract_text(loaded), loaded.text


def engine_of(*docs: tuple[str, str]) -> Engine:
    built = [_doc(text, name) for text, name in docs]
    return Engine([d for d, _ in built], {d.doc_id: t for d, t in built})


@pytest.fixture(scope="module")
def js():
    return engine_of((JIANGSU, "js.txt"))


@pytest.fixture(scope="module")
def sh():
    return engine_of((SHANGHAI, "sh.txt"))


@pytest.fixture(scope="module")
def jue():
    return engine_of((JUESUAN, "jue.txt"))


@pytest.fixture(scope="module")
def both():
    return engine_of((SHANGHAI, "sh.txt"), (JIANGSU, "js.txt"))


# (question, expected (value, unit), words the answer must not state)
JIANGSU_CASES = [
    ("江苏省测试厅2026年会议费预算是多少？", ("30.00", "万元"), ["96.50"]),
    ("江苏省测试厅2026年培训费是多少？", ("25.00", "万元"), ["96.50"]),
    ("江苏省测试厅2026年三公经费预算是多少？", ("41.50", "万元"), ["96.50"]),
    ("江苏省测试厅2026年单位预留机动经费是多少？", ("30.00", "万元"), []),
    ("江苏省测试厅2026年基本支出预算是多少？", ("300.00", "万元"), []),          # the unlabelled total row
    ("江苏省测试厅2026年项目支出是多少？", ("180.00", "万元"), []),
    ("江苏省测试厅2026年一般公共预算机关运行经费是多少？", ("66.60", "万元"), ["500.00"]),  # not 一般公共预算收入
    ("江苏省测试厅2026年公共安全支出预算是多少？", ("430.00", "万元"), ["420.00"]),  # all funds, not 一般公共预算
    ("江苏省测试厅2026年基层司法业务（2040604）支出是多少？", ("120.00", "万元"), ["单位代码"]),
    ("江苏省测试厅2026年收入合计是多少？", ("510.00", "万元"), []),
]


def _answers_case(engine, question: str, expected: tuple[str, str], absent: list[str]) -> None:
    ans = engine.answer(question)
    assert not ans.abstained and has(ans, *expected), ans.answer
    for word in absent:
        assert word not in ans.answer, ans.answer
    assert clean(ans)


@pytest.mark.parametrize(("question", "expected", "absent"), JIANGSU_CASES, ids=[c[0] for c in JIANGSU_CASES])
def test_jiangsu_shape(js, question, expected, absent):
    _answers_case(js, question, expected, absent)


def test_classification_code_column_is_not_a_unit_column():
    """'功能科目代码' names the classification code: its 7-digit codes are functional, not unit codes."""
    doc, _ = _doc(JIANGSU, "js.txt")
    table = next(t for t in doc.tables if t.kind == TableKind.gp_expenditure)
    kinds = {r.code: r.code_kind for r in table.rows if r.code}
    assert kinds == {"204": "functional", "20406": "functional", "2040601": "functional",
                     "2040604": "functional", "208": "functional"}


UNIT_TABLE = rows(
    "某某局2026年部门预算",
    "支出总体情况表",
    "单位：万元",
    "单位代码\t单位名称\t合计\t基本支出\t项目支出",
    "101001\t某某局机关\t80.00\t60.00\t20.00",
    "101002\t某某局信息中心\t20.00\t15.00\t5.00",
)


def test_unit_code_column_still_reads_unit_codes():
    doc, _ = _doc(UNIT_TABLE, "units.txt")
    table = next(t for t in doc.tables if t.kind == TableKind.expenditure)
    assert {r.code: r.code_kind for r in table.rows if r.code} == {"101001": "unit", "101002": "unit"}


SHANGHAI_CASES = [
    ("上海市某区测试中心2026年机关运行经费预算是多少？", ("45.60", "万元"), []),   # the column beside 三公
    ("上海市某区测试中心2026年基本支出是多少？", ("1000000.00", "元"), ["万元"]),  # 元 stays 元
    ("上海市某区测试中心2026年学前教育（2050201）支出是多少？", ("1234567.89", "元"), ["单位代码"]),
]


@pytest.mark.parametrize(("question", "expected", "absent"), SHANGHAI_CASES, ids=[c[0] for c in SHANGHAI_CASES])
def test_shanghai_shape(sh, question, expected, absent):
    _answers_case(sh, question, expected, absent)


def test_share_across_units_converts_explicitly(sh):
    ans = sh.answer("上海市某区测试中心2026年三公经费占支出合计的比例是多少？")
    # 12.30万元 × 10000 ÷ 1234567.89元 = 9.96%, not 12.30 ÷ 1234567.89 ≈ 0%
    assert has(ans, "9.96", "%") and "12.30万元 × 10000" in ans.answer, ans.answer
    share = next(n for n in ans.numbers if n.unit == "%")
    assert share.status == "computed" and clean(ans)


def test_figure_in_yuan_asked_in_wanyuan(sh):
    ans = sh.answer("上海市某区测试中心2026年项目支出是多少万元？")
    assert has(ans, "234567.89", "元") and "23.46万元" in ans.answer and "÷ 10000" in ans.answer, ans.answer
    assert clean(ans)


def test_difference_across_units(sh):
    ans = sh.answer("上海市某区测试中心2026年项目支出比三公经费多多少？")
    # 234567.89元 − 12.30万元 × 10000 = 111567.89元, with a note on the 万元 figure's precision
    assert has(ans, "111567.89", "元") and "精确到百元" in ans.answer, ans.answer
    assert clean(ans)


def test_sum_across_units(both):
    ans = both.answer("上海市某区测试中心和江苏省测试厅2026年的基本支出合计多少？")
    assert has(ans, "4000000", "元") and "300.00万元 × 10000" in ans.answer, ans.answer
    assert clean(ans)


def test_rank_across_units(both):
    """234,567.89元 is less than 180.00万元: figures are ranked in one unit, not by their printed digits."""
    ans = both.answer("2026年哪个部门的项目支出最多？")
    assert ans.answer.index("江苏省测试厅") < ans.answer.index("上海市某区测试中心"), ans.answer
    assert clean(ans)


def test_compare_across_units(both):
    ans = both.answer("2026年上海市某区测试中心和江苏省测试厅的项目支出哪个多？")
    # 180.00万元 = 1800000元; 1800000 − 234567.89 = 1565432.11元
    assert has(ans, "1565432.11", "元") and "江苏省测试厅多" in ans.answer, ans.answer
    assert clean(ans)


JUESUAN_CASES = [
    ("上海市某区测试局2025年年末结转和结余是多少？", [("5.00", "万元")], ["3.00"]),
    ("上海市某区测试局2025年年初结转和结余是多少？", [("3.00", "万元")], ["5.00"]),   # the generic row lookup
    ("上海市某区测试局2025年本年收入合计是多少？", [("100.00", "万元")], []),
    ("上海市某区测试局2025年人员经费合计和公用经费合计各多少？", [("62.00", "万元"), ("18.00", "万元")], ["80.00"]),
]


@pytest.mark.parametrize(("question", "expected", "absent"), JUESUAN_CASES, ids=[c[0] for c in JUESUAN_CASES])
def test_juesuan_shape(jue, question, expected, absent):
    ans = jue.answer(question)
    assert not ans.abstained, ans.answer
    for value, unit in expected:
        assert has(ans, value, unit), (value, ans.answer)
    for word in absent:
        assert word not in ans.answer, ans.answer
    assert clean(ans)


def test_narrative_after_the_tables_is_quoted(jue):
    """决算 templates explain their figures after the tables: that prose answers when no record does."""
    ans = jue.answer("上海市某区测试局2025年机关运行经费是多少？")
    assert not ans.abstained and has(ans, "12.34", "万元"), ans.answer
    assert "决算" in ans.answer and clean(ans)


def test_meeting_costs_absent_is_an_abstention(sh):
    """No 会议费 column nor row: the engine says so instead of answering with another figure."""
    ans = sh.answer("上海市某区测试中心2026年会议费是多少？")
    assert ans.abstained and "文件中没有" in ans.answer and not ans.numbers, ans.answer
