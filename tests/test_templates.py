"""Templates beyond the seeds, as text documents of our own in the Shanghai / Jiangsu / 决算 shapes: title
aliases, amounts in 元 kept in 元, 预算数/决算数 pairs, the 三公 table whose 合计 also covers 会议费 and 培训费,
a 收支总表 split three ways, side-by-side economic tables, and tables no rule names (kept as generic)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from extractor.load import load_text_bytes
from extractor.models import TableKind
from extractor.pipeline import extract_text
from extractor.tables.registry import classify_title

from .template_docs import SHANGHAI


def doc_of(text: str, name: str = "variant.txt"):
    loaded = load_text_bytes(text.encode("utf-8"), Path(name))
    return loaded.text, extract_text(loaded)


def rows(*cells: str) -> str:
    return "\n".join(cells)


def cell_of(table, label: str, role: str):
    for r in table.rows:
        if r.label == label or r.label.endswith(label):
            c = r.get(role)
            if c is not None:
                return c
    return None


def _check_provenance(text: str, doc) -> None:
    for _, _, c in doc.amounts():
        p = c.amount.prov
        assert text[p.char_start:p.char_end] == p.quote == c.amount.raw


TITLES = [
    ("2026年部门财务收支预算总表", TableKind.summary),
    ("2026年部门收入预算总表", TableKind.income),
    ("2026年部门支出预算总表", TableKind.expenditure),
    ("2026年部门财政拨款收支预算总表", TableKind.fiscal_summary),
    ("2026年部门一般公共预算支出功能分类预算表", TableKind.gp_expenditure),
    ("2026年部门政府性基金预算支出功能分类预算表", TableKind.gov_fund),
    ("2026年部门一般公共预算基本支出部门预算经济分类预算表", TableKind.gp_basic),
    ("2026年部门“三公”经费和机关运行经费预算表", TableKind.sangong),
    ("收入支出决算总表", TableKind.summary),
    ("财政拨款收入支出决算总表", TableKind.fiscal_summary),
    ("财政拨款收支决算总表", TableKind.fiscal_summary),
    ("一般公共预算财政拨款支出决算明细表", TableKind.gp_expenditure),
    ("一般公共预算财政拨款基本支出决算表", TableKind.gp_basic),
    ("财政拨款“三公”经费支出决算表", TableKind.sangong),
    ("收入决算表", TableKind.income),
    ("支出决算表", TableKind.expenditure),
    ("公开01表 收支预算总表", TableKind.summary),
    ("公开05表 财政拨款支出预算表", TableKind.generic),
    ("公开06表 财政拨款基本支出预算表", TableKind.generic),
    ("公开10表 一般公共预算机关运行经费支出预算表", TableKind.generic),
    ("公开11表 一般公共预算“三公”经费、会议费、培训费支出预算表", TableKind.sangong),
    ("公开12表 政府采购支出预算表", TableKind.generic),
    ("九、2019年度某某厅部门一般公共预算基本支出预算表", TableKind.gp_basic),
    ("人员编制情况表", TableKind.generic),
]


@pytest.mark.parametrize(("title", "kind"), TITLES, ids=[t for t, _ in TITLES])
def test_title_aliases(title, kind):
    assert classify_title(title) == kind


# ---- Shanghai shape (tests/template_docs.py): amounts in 元, three-level functional codes in separate cells ---


def test_shanghai_amounts_in_yuan_stay_in_yuan():
    text, doc = doc_of(SHANGHAI)
    exp = doc.table(TableKind.expenditure)
    assert exp is not None and exp.unit == "元"
    total = cell_of(exp, "合计", "total")
    assert total.amount.value == Decimal("1234567.89") and total.amount.unit == "元"
    leaf = next(r for r in exp.rows if r.label == "学前教育")
    assert (leaf.code, leaf.code_kind) == ("2050201", "functional")
    assert leaf.get("basic").amount.value == Decimal("1000000.00")
    assert leaf.get("project").amount.value == Decimal("234567.89")
    assert doc.department == "上海市某区测试中心"
    _check_provenance(text, doc)


def test_shanghai_sangong_beside_operating_expenses():
    _, doc = doc_of(SHANGHAI)
    sg = doc.table(TableKind.sangong)
    assert sg.unit == "万元"           # this table's own unit line, not the document's 元
    roles = {c.role: c.amount.value for r in sg.rows for c in r.cells}
    assert roles["sangong_total"] == Decimal("12.30")
    assert roles["sangong_abroad"] == Decimal("2.00")
    assert roles["sangong_reception"] == Decimal("0.30")
    assert roles["sangong_vehicle"] == Decimal("10.00")
    assert roles["sangong_vehicle_purchase"] == Decimal("6.00")
    assert roles["sangong_vehicle_operation"] == Decimal("4.00")
    # 机关运行经费 is not 公务用车运行费, whatever the word 运行 suggests
    assert roles["operating_expenses"] == Decimal("45.60")


# ---- Jiangsu shape: 三公 table with 会议费 and 培训费; the three-way 收支预算总表 -----------------------------------

JIANGSU = rows(
    "某某厅2018年度部门预算公开",
    "一、收支预算总表",
    "部门：某某厅  单位：万元",
    "收入\t\t支出\t\t\t",
    "项目名称\t金额\t功能分类\t\t支出用途\t",
    "\t\t功能科目名称\t金额\t项目名称\t金额",
    "一、财政拨款\t500.00\t一、一般公共服务支出\t\t一、基本支出\t300.00",
    "1.一般公共预算\t500.00\t二、外交支出\t\t二、项目支出\t180.00",
    "二、其他资金\t\t三、公共安全支出\t420.00\t三、单位预留机动经费\t20.00",
    "\t\t八、社会保障和就业支出\t80.00\t\t",
    "收入合计\t500.00\t支出合计\t\t\t500.00",
    "十一、一般公共预算“三公”经费、会议费、培训费支出预算表",
    "部门：某某厅  单位：万元",
    "合计\t“三公”经费\t\t\t\t\t\t会议费\t培训费",
    "\t小计\t因公出国（境）费\t公务用车购置及运行维护费\t\t\t公务接待费\t\t",
    "\t\t\t小计\t公务用车购置费\t公务用车运行维护费\t\t\t",
    "96.50\t41.50\t10.00\t25.00\t5.00\t20.00\t6.50\t30.00\t25.00",
)


def test_jiangsu_sangong_total_excludes_meetings_and_training():
    _, doc = doc_of(JIANGSU)
    sg = doc.table(TableKind.sangong)
    roles = {c.role: c.amount.value for r in sg.rows for c in r.cells}
    assert roles["sangong_total"] == Decimal("41.50")
    assert roles["total"] == Decimal("96.50")      # 三公 + 会议费 + 培训费
    assert roles["meeting"] == Decimal("30.00") and roles["training"] == Decimal("25.00")
    parts = roles["sangong_abroad"] + roles["sangong_vehicle"] + roles["sangong_reception"]
    assert parts == roles["sangong_total"]
    assert roles["total"] == roles["sangong_total"] + roles["meeting"] + roles["training"]


def test_jiangsu_summary_split_three_ways():
    text, doc = doc_of(JIANGSU)
    summary = doc.table(TableKind.summary)
    exp = {r.label: r for r in summary.rows if r.side == "expenditure"}
    # each expenditure block keeps its own label: 基本支出 is not an amount of 一般公共服务支出
    assert exp["一、基本支出"].cells[0].amount.value == Decimal("300.00")
    assert exp["三、单位预留机动经费"].cells[0].amount.value == Decimal("20.00")
    assert exp["三、公共安全支出"].cells[0].amount.value == Decimal("420.00")
    assert not exp["一、一般公共服务支出"].cells
    assert "功能分类" in exp["三、公共安全支出"].cells[0].column
    assert "支出用途" in exp["一、基本支出"].cells[0].column
    _check_provenance(text, doc)


# ---- 决算: 预算数 / 决算数 pairs ----------------------------------------------------------------------------

JUESUAN = rows(
    "某某局2025年度部门决算",
    "财政拨款“三公”经费支出决算表",
    "单位：万元",
    "财政拨款“三公”经费\t\t\t\t\t\t\t\t\t\t\t",
    "合计\t\t因公出国（境）费\t\t公务用车购置及运行费\t\t\t\t\t\t公务接待费\t",
    "\t\t\t\t小计\t\t公务用车购置费\t\t公务用车运行费\t\t\t",
    "预算数\t决算数\t预算数\t决算数\t预算数\t决算数\t预算数\t决算数\t预算数\t决算数\t预算数\t决算数",
    "8.00\t7.25\t3.00\t2.90\t4.00\t3.85\t\t\t4.00\t3.85\t1.00\t0.50",
    "支出决算表",
    "单位：万元",
    "项目\t\t\t\t本年支出合计\t基本支出\t项目支出\t上缴上级支出\t经营支出\t对附属单位补助支出",
    "支出功能分类科目编码\t\t\t科目名称\t\t\t\t\t\t",
    "类\t款\t项\t\t\t\t\t\t\t",
    "\t\t\t合计\t90.00\t60.00\t30.00\t\t\t",
    "201\t\t\t一般公共服务支出\t90.00\t60.00\t30.00\t\t\t",
)


def test_juesuan_budget_and_actual_pairs():
    _, doc = doc_of(JUESUAN)
    assert doc.kind == "决算"
    sg = doc.table(TableKind.sangong)
    roles = {c.role: c.amount.value for r in sg.rows for c in r.cells}
    assert roles["sangong_total"] == Decimal("7.25") and roles["budget_sangong_total"] == Decimal("8.00")
    assert roles["sangong_abroad"] == Decimal("2.90") and roles["budget_sangong_abroad"] == Decimal("3.00")
    assert roles["sangong_vehicle_operation"] == Decimal("3.85")
    assert roles["sangong_reception"] == Decimal("0.50") and roles["budget_sangong_reception"] == Decimal("1.00")


def test_juesuan_expenditure_table_columns():
    _, doc = doc_of(JUESUAN)
    exp = doc.table(TableKind.expenditure)
    assert exp.columns[:3] == ["本年支出合计", "基本支出", "项目支出"]
    assert "上缴上级支出" in exp.columns and "对附属单位补助支出" in exp.columns
    total = next(r for r in exp.rows if r.is_total)
    assert total.get("total").amount.value == Decimal("90.00")
    assert total.get("basic").amount.value == Decimal("60.00")


# ---- side by side, generic ------------------------------------------------------------------------------

SIDE_BY_SIDE = rows(
    "某某局2025年度部门决算",
    "一般公共预算财政拨款基本支出决算表",
    "单位：万元",
    "科目编码\t科目名称\t决算数\t科目编码\t科目名称\t决算数",
    "301\t工资福利支出\t120.00\t302\t商品和服务支出\t40.00",
    "30101\t基本工资\t70.00\t30201\t办公费\t15.00",
    "30102\t津贴补贴\t50.00\t30211\t差旅费\t25.00",
    "人员经费合计\t\t120.00\t公用经费合计\t\t40.00",
)


def test_side_by_side_groups_become_rows():
    text, doc = doc_of(SIDE_BY_SIDE)
    basic = doc.table(TableKind.gp_basic)
    got = {r.code or r.label: r.cells[0].amount.value for r in basic.rows if r.cells}
    assert got == {"301": Decimal("120.00"), "30101": Decimal("70.00"), "30102": Decimal("50.00"),
                   "人员经费合计": Decimal("120.00"), "302": Decimal("40.00"), "30201": Decimal("15.00"),
                   "30211": Decimal("25.00"), "公用经费合计": Decimal("40.00")}
    office = next(r for r in basic.rows if r.code == "30201")
    assert office.label == "办公费" and office.code_kind == "economic"
    _check_provenance(text, doc)


GENERIC = rows(
    "某某厅2018年度部门预算公开",
    "十二、政府采购支出预算表",
    "部门：某某厅  单位：万元",
    "采购品目大类\t专项名称\t经济科目\t采购物品名称\t采购组织形式\t总计",
    "合计\t\t\t\t\t36.00",
    "一、货物A\t\t\t\t\t36.00",
    "\t办公设备购置费\t办公设备购置\t台式计算机\t分散自行组织\t36.00",
)


def test_unrecognised_table_is_kept_as_generic():
    text, doc = doc_of(GENERIC)
    table = doc.tables[0]
    assert table.kind == TableKind.generic and table.title == "十二、政府采购支出预算表"
    assert "总计" in table.columns and table.rows[0].cells[0].column == "总计"
    amounts = [c.amount.value for r in table.rows for c in r.cells]
    assert amounts == [Decimal("36.00")] * 3
    assert table.rows[0].is_total and table.rows[-1].label == "办公设备购置费"
    _check_provenance(text, doc)
