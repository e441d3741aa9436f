"""Numeric checks: every rule on a consistent constructed document (passes) and on one-number variants of it
(fails with the right severity); the structure helpers; the five samples; the `budgetqa checks` command."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

import pytest

from extractor.checks import RULES, check_document, run_checks
from extractor.checks.shifts import find_row_shift
from extractor.checks.structure import (
    ColumnIdentity,
    class_of_label,
    column_identities,
    label_level,
    parse_side,
    source_of_label,
)
from extractor.models import Amount, BudgetDocument, Cell, Fact, Table, TableKind, TableRow
from extractor.numbers import parse_amount
from extractor.provenance import Provenance
from extractor.tables.columns import common_caption, role_of

from .conftest import SEEDS

K = TableKind
FUNC_COLS = ["合计", "基本支出/小计", "基本支出/人员经费/工资福利支出", "基本支出/人员经费/对个人和家庭的补助",
             "基本支出/公用经费/商品和服务支出", "基本支出/公用经费/资本性支出", "项目支出/小计", "项目支出/其他运转类",
             "项目支出/特定目标类"]
FISCAL_COLS = ["收入/金额", "支出/合计", "支出/一般公共预算/小计", "支出/一般公共预算/其中：财政拨款", "支出/政府性基金",
               "支出/国有资本经营预算"]


# ---- a document builder: every number gets real provenance in a synthetic text -------------------------

class Builder:
    def __init__(self):
        self.text = ""

    def amount(self, raw: str, unit: str = "万元", locator: str = "") -> Amount:
        start = len(self.text) + 1
        self.text += "\t" + raw
        prov = Provenance(doc_id="t", source="t.txt", locator=locator, char_start=start, char_end=start + len(raw),
                          quote=raw)
        return Amount(value=parse_amount(raw), unit=unit, raw=raw, prov=prov)

    def table(self, kind: TableKind, columns: list[str], rows: list[dict], unit: str = "万元", empty=False) -> Table:
        caption = common_caption(columns)
        built = []
        for r in rows:
            cells = []
            for path, raw in r.get("cells", {}).items():
                role = role_of(kind, path, caption) if path != "收入/金额" else "total"
                cells.append(Cell(column=path, role=r.get("roles", {}).get(path, role),
                                  amount=self.amount(raw, unit, f"{kind}/{r.get('label', '')}/{path}")))
            built.append(TableRow(label=r.get("label", ""), code=r.get("code", ""), code_raw=r.get("code_raw", r.get("code", "")),
                                  code_kind=r.get("kind", ""), gov_code=r.get("gov", ""), side=r.get("side", ""),
                                  is_total=r.get("total", False), cells=cells))
        self.text += "\n"
        return Table(kind=kind, title=str(kind), title_prov=Provenance(doc_id="t", source="t.txt", locator="", char_start=0,
                                                                       char_end=0, quote=""),
                     unit=unit, columns=columns, rows=built, empty=empty)

    def fact(self, name: str, raw: str, unit: str = "万元", qualifier: str = "", section: str = "说明") -> Fact:
        amount = self.amount(raw, unit, name)
        return Fact(name=name, qualifier=qualifier, amount=amount, prov=amount.prov, section=section)


def R(label, cells=None, **kw):
    return {"label": label, "cells": cells or {}, **kw}


def func_rows(project_shift=False):
    """支出总体情况表 rows: 类/款/项 with 基本 and 项目 columns (a consistent 1000.00)."""
    c = FUNC_COLS
    run = {c[0]: "400.00", c[6]: "400.00", c[7]: "300.00", c[8]: "100.00"}
    if project_shift:  # a cell dropped before 项目支出: its values one column to the left
        run = {c[0]: "400.00", c[5]: "400.00", c[6]: "300.00", c[7]: "100.00"}
    return [
        R("合计", {c[0]: "1000.00", c[1]: "600.00", c[2]: "400.00", c[3]: "50.00", c[4]: "140.00", c[5]: "10.00",
                 c[6]: "400.00", c[7]: "300.00", c[8]: "100.00"}, total=True),
        R("某部门", {c[0]: "1000.00", c[1]: "600.00", c[2]: "400.00", c[3]: "50.00", c[4]: "140.00", c[5]: "10.00",
                  c[6]: "400.00", c[7]: "300.00", c[8]: "100.00"}, code="001", kind="unit"),
        R("一般公共服务支出", {c[0]: "900.00", c[1]: "500.00", c[2]: "320.00", c[3]: "30.00", c[4]: "140.00", c[5]: "10.00",
                       c[6]: "400.00", c[7]: "300.00", c[8]: "100.00"}, code="201", kind="functional"),
        R("政府办公厅（室）及相关机构事务", {c[0]: "900.00", c[1]: "500.00", c[2]: "320.00", c[3]: "30.00", c[4]: "140.00",
                                c[5]: "10.00", c[6]: "400.00", c[7]: "300.00", c[8]: "100.00"}, code="20103",
          kind="functional"),
        R("行政运行", {c[0]: "500.00", c[1]: "500.00", c[2]: "320.00", c[3]: "30.00", c[4]: "140.00", c[5]: "10.00"},
          code="2010301", code_raw="201 03 01", kind="functional"),
        R("事业运行", run, code="2010350", code_raw="201 03 50", kind="functional"),
        R("机关事业单位基本养老保险缴费支出", {c[0]: "60.00", c[1]: "60.00", c[2]: "40.00", c[3]: "20.00"}, code="2080505",
          kind="functional"),
        R("住房公积金", {c[0]: "40.00", c[1]: "40.00", c[2]: "40.00"}, code="2210201", kind="functional"),
    ]


def spec() -> dict:
    """A small, fully consistent department budget (万元), as table rows and narrative facts."""
    inc, exp = "income", "expenditure"
    f = FISCAL_COLS
    return {
        K.summary: (["收入/金额", "支出/金额"], [
            R("一、一般公共预算", {"收入/金额": "1000.00"}, side=inc), R("其中：财政拨款", {"收入/金额": "1000.00"}, side=inc),
            R("二、政府性基金预算拨款收入", side=inc), R("本年收入合计", {"收入/金额": "1000.00"}, side=inc, total=True),
            R("上年结转结余", side=inc), R("收入总计", {"收入/金额": "1000.00"}, side=inc, total=True),
            R("一、一般公共服务", {"支出/金额": "900.00"}, side=exp), R("二、外交", side=exp),
            R("八、社会保障和就业", {"支出/金额": "60.00"}, side=exp), R("二十一、住房保障支出", {"支出/金额": "40.00"}, side=exp),
            R("本年支出合计", {"支出/金额": "1000.00"}, side=exp, total=True), R("年终结转结余", side=exp),
            R("支出总计", {"支出/金额": "1000.00"}, side=exp, total=True)]),
        K.fiscal_summary: (f, [
            R("一、本年收入", {f[0]: "1000.00"}, side=inc), R("（一）一般公共预算拨款", {f[0]: "1000.00"}, side=inc),
            R("其中：财政拨款", {f[0]: "1000.00"}, side=inc), R("（二）政府性基金预算拨款", side=inc),
            R("二、上年结转", side=inc), R("（一）一般公共预算拨款", side=inc),
            R("一、本年支出", {f[1]: "1000.00", f[2]: "1000.00", f[3]: "1000.00"}, side=exp),
            R("（一）一般公共服务支出", {f[1]: "900.00", f[2]: "900.00", f[3]: "900.00"}, side=exp),
            R("（八）社会保障和就业支出", {f[1]: "60.00", f[2]: "60.00", f[3]: "60.00"}, side=exp),
            R("（二十一）住房保障支出", {f[1]: "40.00", f[2]: "40.00", f[3]: "40.00"}, side=exp),
            R("二、年终结转结余", side=exp),
            R("收入合计", {f[0]: "1000.00"}, side=inc, total=True),
            R("支出合计", {f[1]: "1000.00", f[2]: "1000.00", f[3]: "1000.00"}, side=exp, total=True)]),
        K.income: (["总计", "本年收入/合计", "本年收入/一般公共预算/小计", "本年收入/一般公共预算/其中：财政拨款",
                    "本年收入/政府性基金", "上年结转结余/合计"], [
            R("合计", {"总计": "1000.00", "本年收入/合计": "1000.00", "本年收入/一般公共预算/小计": "1000.00"},
              total=True),
            R("某部门", {"总计": "1000.00", "本年收入/合计": "1000.00", "本年收入/一般公共预算/小计": "1000.00"},
              code="001", kind="unit"),
            R("某部门本级", {"总计": "800.00", "本年收入/合计": "800.00", "本年收入/一般公共预算/小计": "800.00"},
              code="001001", kind="unit"),
            R("某中心", {"总计": "200.00", "本年收入/合计": "200.00", "本年收入/一般公共预算/小计": "200.00"},
              code="001002", kind="unit")]),
        K.expenditure: (FUNC_COLS, func_rows()),
        K.gp_expenditure: (FUNC_COLS, func_rows()),
        K.gov_fund: (FUNC_COLS, [R("合计", total=True)], {"empty": True}),
        K.gp_basic: (["本年一般公共预算基本支出/合计", "本年一般公共预算基本支出/人员经费", "本年一般公共预算基本支出/公用经费"],
                     basic_rows()),
        K.economic: (["总计", "一般公共预算/小计", "一般公共预算/其中：财政拨款", "政府性基金"], [
            R("合计", {"总计": "1000.00", "一般公共预算/小计": "1000.00"}, total=True),
            R("某部门", {"总计": "1000.00", "一般公共预算/小计": "1000.00"}, code="001", kind="unit"),
            *[R(name, {"总计": v, "一般公共预算/小计": v}, code=code, kind="economic", gov=gov) for code, name, v, gov in (
                ("30101", "基本工资", "250.00", "50501"), ("30102", "津贴补贴", "150.00", "50501"),
                ("30201", "办公费", "400.00", "50502"), ("30211", "差旅费", "40.00", "50502"),
                ("30227", "委托业务费", "100.00", "50502"), ("30302", "退休费", "50.00", "50905"),
                ("31002", "办公设备购置", "10.00", "50601"))]]),
        K.sangong: (["“三公”经费合计", "因公出国（境）费", "公务用车购置及运行费/小计", "公务用车购置及运行费/公务用车购置费",
                     "公务用车购置及运行费/公务用车运行费", "公务接待费"], [
            R("", {"“三公”经费合计": "10.00", "因公出国（境）费": "2.00", "公务用车购置及运行费/小计": "6.00",
                   "公务用车购置及运行费/公务用车运行费": "6.00", "公务接待费": "2.00"})]),
        K.projects: (["合计", "本年拨款/一般公共预算", "本年拨款/政府性基金预算"], [
            R("", {"合计": "400.00", "本年拨款/一般公共预算": "400.00"}, total=True),
            R("某部门", {"合计": "400.00", "本年拨款/一般公共预算": "400.00"}, code="001", kind="unit"),
            R("【统筹本级】运行维护费", {"合计": "300.00", "本年拨款/一般公共预算": "300.00"}),
            R("【专项资金】信息化建设资金", {"合计": "100.00", "本年拨款/一般公共预算": "100.00"})]),
        K.project_performance: (["项目金额（万元）/资金总额", "项目金额（万元）/政府预算资金"], [
            R("某部门", {"项目金额（万元）/资金总额": "400.00", "项目金额（万元）/政府预算资金": "400.00"}, code="001", kind="unit"),
            R("某部门本级", {"项目金额（万元）/资金总额": "400.00", "项目金额（万元）/政府预算资金": "400.00"}, code="001001",
              kind="unit"),
            R("【统筹本级】运行维护费", {"项目金额（万元）/资金总额": "300.00", "项目金额（万元）/政府预算资金": "300.00"},
              code="411000240000000000001", kind="project"),
            R("【专项资金】信息化建设资金", {"项目金额（万元）/资金总额": "100.00", "项目金额（万元）/政府预算资金": "100.00"},
              code="411000240000000000002", kind="project")]),
        K.dept_performance: (["金额"], [
            R("部门预算总额（万元）", {"金额": "1000.00"}), R("(1) 政府预算资金", {"金额": "1000.00"}),
            R("(2) 财政专户管理资金"), R("(1) 基本支出", {"金额": "600.00"}), R("(2) 项目支出", {"金额": "400.00"})]),
        "facts": [
            ("revenue_total", "1000.00", "万元", "", "一、收入支出预算总体情况说明"),
            ("expenditure_total", "1000.00", "万元", "", "一、收入支出预算总体情况说明"),
            ("total_change_amount", "200.00", "万元", "", "一、收入支出预算总体情况说明"),
            ("total_change_pct", "25.00", "%", "", "一、收入支出预算总体情况说明"),
            ("revenue_sum", "1000.00", "万元", "", "二、收入预算总体情况说明"),
            ("income_source", "1000.00", "万元", "一般公共预算", "二、收入预算总体情况说明"),
            ("income_source", "0", "万元", "政府性基金预算", "二、收入预算总体情况说明"),
            ("expenditure_sum", "1000.00", "万元", "", "三、支出预算总体情况说明"),
            ("basic_expenditure", "600.00", "万元", "", "三、支出预算总体情况说明"),
            ("basic_share", "60.00", "%", "", "三、支出预算总体情况说明"),
            ("project_expenditure", "400.00", "万元", "", "三、支出预算总体情况说明"),
            ("project_share", "40.00", "%", "", "三、支出预算总体情况说明"),
            ("appropriation", "1000.00", "万元", "一般公共预算拨款收支", "四、财政拨款收支预算总体情况说明"),
            ("expenditure_sum", "1000.00", "万元", "一般公共预算支出", "五、一般公共预算支出预算情况说明"),
            ("functional_class", "900.00", "万元", "一般公共服务支出", "五、一般公共预算支出预算情况说明"),
            ("functional_share", "90.00", "%", "一般公共服务支出", "五、一般公共预算支出预算情况说明"),
            ("functional_class", "60.00", "万元", "社会保障和就业支出", "五、一般公共预算支出预算情况说明"),
            ("functional_share", "6.00", "%", "社会保障和就业支出", "五、一般公共预算支出预算情况说明"),
            ("basic_expenditure", "600.00", "万元", "一般公共预算支出", "六、一般公共预算基本支出情况说明"),
            ("personnel_expenses", "450.00", "万元", "", "六、一般公共预算基本支出情况说明"),
            ("personnel_share", "75.00", "%", "", "六、一般公共预算基本支出情况说明"),
            ("public_expenses", "150.00", "万元", "", "六、一般公共预算基本支出情况说明"),
            ("sangong_total", "10.00", "万元", "", "八、“三公”经费支出预算情况说明"),
            ("sangong_part", "2.00", "万元", "因公出国（境）费", "八、“三公”经费支出预算情况说明"),
            ("sangong_part", "6.00", "万元", "公务用车购置及运行费", "八、“三公”经费支出预算情况说明"),
            ("sangong_part", "6.00", "万元", "公务用车运行费", "八、“三公”经费支出预算情况说明"),
            ("sangong_part", "2.00", "万元", "公务接待费", "八、“三公”经费支出预算情况说明"),
            ("expenditure_sum", "0", "万元", "政府性基金预算支出", "九、政府性基金预算支出情况说明"),
            ("operating_expenses", "150.00", "万元", "", "（一）机关运行经费预算情况"),
            ("procurement_total", "30.00", "万元", "", "（二）政府采购预算情况"),
            ("procurement", "10.00", "万元", "货物", "（二）政府采购预算情况"),
            ("procurement", "0", "万元", "工程", "（二）政府采购预算情况"),
            ("procurement", "20.00", "万元", "服务", "（二）政府采购预算情况"),
            ("performance_total", "1000.00", "万元", "", "（三）预算绩效管理情况"),
        ],
    }


def basic_rows():
    p, u = "本年一般公共预算基本支出/人员经费", "本年一般公共预算基本支出/公用经费"
    t = "本年一般公共预算基本支出/合计"
    rows = [R("合计", {t: "600.00", p: "450.00", u: "150.00"}, total=True)]
    for code, name, v, col in (("301", "工资福利支出", "400.00", p), ("30101", "基本工资", "250.00", p),
                               ("30102", "津贴补贴", "150.00", p), ("302", "商品和服务支出", "140.00", u),
                               ("30201", "办公费", "100.00", u), ("30211", "差旅费", "40.00", u),
                               ("303", "对个人和家庭的补助", "50.00", p), ("30302", "退休费", "50.00", p),
                               ("310", "资本性支出", "10.00", u), ("31002", "办公设备购置", "10.00", u)):
        rows.append(R(name, {t: v, col: v}, code=code, kind="economic"))
    return rows


def build(s: dict) -> BudgetDocument:
    b = Builder()
    tables = []
    for kind, value in s.items():
        if kind == "facts":
            continue
        columns, rows, *extra = value
        tables.append(b.table(kind, columns, rows, **(extra[0] if extra else {})))
    facts = [b.fact(*f) for f in s.get("facts", [])]
    return BudgetDocument(doc_id="t", source="t.txt", tables=tables, facts=facts, text_length=len(b.text))


def cell(s: dict, kind, label: str, column: str, raw: str | None, side: str | None = None, nth: int = 0) -> dict:
    """Set (or with raw=None clear) one printed cell of a spec row."""
    rows = [r for r in s[kind][1] if r["label"] == label and (side is None or r.get("side") == side)]
    row = rows[nth]
    if raw is None:
        row["cells"].pop(column, None)
    else:
        row["cells"][column] = raw
    return s


def fact(s: dict, name: str, raw: str, qualifier: str = "") -> dict:
    for i, f in enumerate(s["facts"]):
        if f[0] == name and f[3] == qualifier:
            s["facts"][i] = (f[0], raw, *f[2:])
            return s
    raise KeyError(name)


# ---- the consistent document passes every rule ------------------------------------------------------------

def test_consistent_document_has_only_explained_differences():
    findings = run_checks(build(spec()), strict=True)
    assert [f for f in findings if f.severity != "info"] == []
    info = {(f.rule, f.actual, f.expected) for f in findings}
    assert info == {("economic.vs_basic", Decimal("400.00"), Decimal("100.00")),
                    ("economic.vs_basic", Decimal("100.00"), Decimal("0"))}


def test_every_rule_is_documented_and_has_a_case():
    for rule in RULES.values():
        assert rule.doc and rule.title, rule.id
    covered = {c[1] for c in CASES}
    assert set(RULES) <= covered, sorted(set(RULES) - covered)


def _fiscal_shift(s):
    f = FISCAL_COLS
    row = next(r for r in s[K.fiscal_summary][1] if r["label"] == "（八）社会保障和就业支出")
    row["cells"] = {f[1]: "60.00", f[3]: "60.00", f[4]: "60.00"}  # gp 小计 blank, values one column right
    return s


def _sangong_list(s):
    s[K.sangong] = (["2023年“三公”经费预算数"], [
        R("共计", {"2023年“三公”经费预算数": "12.00"}, total=True), R("1、因公出国（境）费用"), R("2、公务接待费"),
        R("3、公务用车费", {"2023年“三公”经费预算数": "12.00"}),
        R("其中：（1）公务用车运行维护费", {"2023年“三公”经费预算数": "11.00"}), R("（2）公务用车购置")])
    s["facts"] = [f for f in s["facts"] if not f[0].startswith("sangong")]
    return s


def _no_sangong_table(s):
    del s[K.sangong]
    return s


def _project_codes(s, code):
    s[K.project_performance][1].append(
        R("【统筹本级】新增项目", {"项目金额（万元）/资金总额": "0.00"}, code=code, kind="project"))
    return s


def _functional_code(s, code, raw=None):
    row = next(r for r in s[K.expenditure][1] if r["label"] == "住房公积金")
    row["code"], row["code_raw"] = code, raw or code
    return s


def _economic_code(s, code):
    row = next(r for r in s[K.gp_basic][1] if r["label"] == "差旅费")
    row["code"] = code
    return s


def _shifted_expenditure(s):
    s[K.expenditure] = (FUNC_COLS, func_rows(project_shift=True))
    return s


C = FUNC_COLS
CASES = [
    # (id, rule, change to the consistent document, severity expected from that rule)
    ("balance-off", "summary.balance", lambda s: cell(s, K.summary, "支出总计", "支出/金额", "1001.00"), "mismatch"),
    ("source-off", "summary.income_sources", lambda s: cell(s, K.summary, "一、一般公共预算", "收入/金额", "999.00"),
     "mismatch"),
    ("source-tail", "summary.income_sources", lambda s: cell(s, K.summary, "一、一般公共预算", "收入/金额", "999.99"),
     "rounding"),
    ("class-off", "summary.expenditure_classes", lambda s: cell(s, K.summary, "八、社会保障和就业", "支出/金额", "61.00"),
     "mismatch"),
    ("fiscal-class-shift", "summary.expenditure_classes", _fiscal_shift, "shifted_column"),
    ("carry-off", "summary.carryover", lambda s: cell(s, K.summary, "收入总计", "收入/金额", "1005.00"), "mismatch"),
    ("table-total", "table.total", lambda s: cell(s, K.expenditure, "合计", "合计", "1002.00"), "mismatch"),
    ("unit-split", "units.sum", lambda s: cell(s, K.income, "某中心", "总计", "210.00"), "mismatch"),
    ("unit-items", "units.items", lambda s: cell(s, K.economic, "差旅费", "总计", "41.00"), "mismatch"),
    ("kuan-off", "functional.hierarchy", lambda s: cell(s, K.expenditure, "政府办公厅（室）及相关机构事务", "合计", "901.00"),
     "mismatch"),
    ("econ-class", "economic.hierarchy", lambda s: cell(s, K.gp_basic, "商品和服务支出", "本年一般公共预算基本支出/合计",
                                                        "141.00"), "mismatch"),
    ("row-basic", "functional.row_parts", lambda s: cell(s, K.expenditure, "行政运行", C[1], "499.00"), "mismatch"),
    ("row-dropped-cell", "functional.row_parts", _shifted_expenditure, "shifted_column"),
    ("basic-row", "basic.row_parts", lambda s: cell(s, K.gp_basic, "办公费", "本年一般公共预算基本支出/公用经费", "99.00"),
     "mismatch"),
    ("income-row", "sources.row_parts", lambda s: cell(s, K.income, "某部门本级", "总计", "801.00"), "mismatch"),
    ("same-code", "functional.same_code", lambda s: cell(s, K.gp_expenditure, "住房公积金", "合计", "41.00"), "mismatch"),
    ("class-total", "functional.class_totals", lambda s: cell(s, K.summary, "八、社会保障和就业", "支出/金额", "61.00"),
     "mismatch"),
    ("cross-income", "totals.cross_table", lambda s: cell(s, K.income, "合计", "总计", "1001.00"), "mismatch"),
    ("basic-personnel", "basic.vs_functional", lambda s: cell(s, K.gp_basic, "合计", "本年一般公共预算基本支出/人员经费",
                                                              "451.00"), "mismatch"),
    ("econ-total", "economic.total", lambda s: cell(s, K.economic, "合计", "总计", "1001.00"), "mismatch"),
    ("econ-below-basic", "economic.vs_basic", lambda s: cell(s, K.economic, "差旅费", "总计", "39.00"), "mismatch"),
    ("econ-excess", "economic.vs_basic", lambda s: s, "info"),
    ("excess-vs-project", "economic.project_excess", lambda s: cell(s, K.economic, "委托业务费", "总计", "110.00"),
     "mismatch"),
    ("sangong-total", "sangong.identity", lambda s: cell(s, K.sangong, "", "“三公”经费合计", "11.00"), "mismatch"),
    ("sangong-vehicle", "sangong.identity", lambda s: cell(s, K.sangong, "", "公务用车购置及运行费/公务用车运行费", "5.00"),
     "mismatch"),
    ("sangong-list", "sangong.identity", _sangong_list, "mismatch"),
    ("projects-total", "projects.total", lambda s: cell(s, K.projects, "", "合计", "401.00"), "mismatch"),
    ("projects-gp", "projects.total", lambda s: cell(s, K.projects, "", "本年拨款/一般公共预算", "390.00"), "mismatch"),
    ("perf-project", "performance.vs_projects", lambda s: cell(s, K.project_performance, "【统筹本级】运行维护费",
                                                               "项目金额（万元）/资金总额", "310.00"), "mismatch"),
    ("dept-budget", "performance.dept_budget", lambda s: cell(s, K.dept_performance, "部门预算总额（万元）", "金额", "1100.00"),
     "mismatch"),
    ("narr-total", "narrative.amounts", lambda s: fact(s, "revenue_total", "1100.00"), "mismatch"),
    ("narr-class-tail", "narrative.amounts", lambda s: fact(s, "functional_class", "900.01", "一般公共服务支出"),
     "rounding"),
    ("narr-fund", "narrative.amounts", lambda s: fact(s, "expenditure_sum", "5.00", "政府性基金预算支出"), "mismatch"),
    ("narr-sangong-part", "narrative.amounts", lambda s: fact(s, "sangong_part", "3.00", "公务接待费"), "mismatch"),
    ("narr-no-table", "narrative.amounts", _no_sangong_table, "missing"),
    ("narr-share", "narrative.shares", lambda s: fact(s, "basic_share", "61.00"), "mismatch"),
    ("narr-share-tail", "narrative.shares", lambda s: fact(s, "basic_share", "60.01"), "rounding"),
    ("narr-class-share", "narrative.shares", lambda s: fact(s, "functional_share", "9.00", "一般公共服务支出"), "mismatch"),
    ("narr-personnel-share", "narrative.shares", lambda s: fact(s, "personnel_share", "70.00"), "mismatch"),
    ("narr-change", "narrative.changes", lambda s: fact(s, "total_change_pct", "20.00"), "mismatch"),
    ("narr-operating", "narrative.operating", lambda s: fact(s, "operating_expenses", "160.00"), "mismatch"),
    ("narr-procurement", "narrative.internal", lambda s: fact(s, "procurement_total", "31.00"), "mismatch"),
    ("narr-basic-parts", "narrative.internal", lambda s: fact(s, "personnel_expenses", "440.00"), "mismatch"),
    ("func-class-unknown", "codes.functional", lambda s: _functional_code(s, "2990101"), "malformed"),
    ("func-segments", "codes.functional", lambda s: _functional_code(s, "2210201", "22 102 01"), "malformed"),
    ("func-length", "codes.functional", lambda s: _functional_code(s, "221020"), "malformed"),
    ("econ-code", "codes.economic", lambda s: _economic_code(s, "4021"), "malformed"),
    ("project-code", "codes.project", lambda s: _project_codes(s, "41100024000000000003"), "malformed"),
]


@pytest.mark.parametrize("case_id,rule,change,severity", CASES, ids=[c[0] for c in CASES])
def test_rule_catches_its_inconsistency(case_id, rule, change, severity):
    findings = [f for f in run_checks(build(change(copy.deepcopy(spec()))), strict=True) if f.rule == rule]
    assert severity in {f.severity for f in findings}, [f.message for f in findings]
    for f in findings:
        assert f.message and all(a.prov.quote == a.raw for a in f.values)


@pytest.mark.parametrize("rule", sorted({c[1] for c in CASES}))
def test_rule_is_silent_on_the_consistent_document(rule):
    findings = [f for f in run_checks(build(spec()), strict=True) if f.rule == rule and f.severity != "info"]
    assert findings == []


def test_a_perturbed_cell_is_named_in_the_finding():
    s = cell(spec(), K.gp_expenditure, "行政运行", C[2], "321.00")
    doc = build(s)
    target = next(c.amount for t in doc.tables if t.kind == K.gp_expenditure for r in t.rows if r.label == "行政运行"
                  for c in r.cells if c.column == C[2])
    findings = run_checks(doc, strict=True)
    hits = [f for f in findings if any(a.prov.char_start == target.prov.char_start for a in f.values)]
    assert {f.rule for f in hits} >= {"functional.row_parts", "functional.hierarchy"}
    assert all(f.severity == "mismatch" for f in hits)


def test_shifted_row_is_reported_once_and_read_repaired():
    findings = run_checks(build(_shifted_expenditure(spec())), strict=True)
    shifted = [f for f in findings if f.severity == "shifted_column"]
    assert len(shifted) == 1 and "「项目支出/小计」" in shifted[0].message
    assert [f for f in findings if f.severity == "mismatch"] == []  # the repaired row adds up everywhere


def test_units_are_converted_not_rescaled():
    s = spec()
    s["facts"] = [("revenue_total", "10,000,000", "元", "", "一、收入支出预算总体情况说明")]
    doc = build(s)
    assert [f for f in run_checks(doc, strict=True) if f.rule == "narrative.amounts"] == []
    assert doc.facts[0].amount.value == Decimal("10000000") and doc.facts[0].amount.unit == "元"
    s["facts"] = [("revenue_total", "1,000,000", "元", "", "一、收入支出预算总体情况说明")]
    found = [f for f in run_checks(build(s), strict=True) if f.rule == "narrative.amounts"]
    assert found and found[0].severity == "mismatch" and "少 9000000.00 元" in found[0].message


def test_used_values_cover_the_identities():
    doc = build(spec())
    ctx = check_document(doc, strict=True)
    cells = {(c.amount.prov.char_start, c.amount.prov.char_end) for _, _, c in doc.amounts()}
    assert len(cells & set(ctx.used)) / len(cells) > 0.95


# ---- structure helpers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("label,level", [("一、一般公共预算", 1), ("（一）一般公共预算拨款", 2), ("1、因公出国", 3),
                                         ("（2）公务用车购置", 4), ("其中：财政拨款", -1), ("上年结转结余", 0)],
                         ids=["l1", "l2", "l3", "l4", "of-which", "plain"])
def test_label_level(label, level):
    assert label_level(label) == level


@pytest.mark.parametrize("label,code", [("八、社会保障和就业", "208"), ("（十）卫生健康支出", "210"), ("医疗卫生与计划生育支出", "210"),
                                        ("七、文化体育旅游与传媒支出", "207"), ("本年支出合计", None)],
                         ids=["208", "210", "210-old", "207-order", "none"])
def test_class_of_label(label, code):
    assert class_of_label(label) == code


@pytest.mark.parametrize("label,key", [("事业收入", "service"), ("六、事业单位经营收入", "business"),
                                       ("财政上年财政结转资金安排", "carry"), ("一般公共预算拨款收支", "gp")],
                         ids=["service", "business", "carry", "gp"])
def test_source_of_label(label, key):
    assert source_of_label(label) == key


def test_column_identities_follow_the_header():
    table = Table(kind=K.expenditure, title="t", title_prov=Provenance(doc_id="t", source="t", locator="", char_start=0,
                                                                       char_end=0, quote=""), columns=FUNC_COLS)
    got = {(i.total, i.parts) for i in column_identities(table)}
    assert got == {("合计", ("基本支出/小计", "项目支出/小计")),
                   ("基本支出/小计", tuple(FUNC_COLS[2:6])), ("项目支出/小计", tuple(FUNC_COLS[7:9]))}
    unknown = table.model_copy(update={"columns": ["列1", "列2", "列3"]})
    assert column_identities(unknown) == []
    income = table.model_copy(update={"kind": K.income, "columns": spec()[K.income][0]})
    assert {(i.total, i.parts) for i in column_identities(income)} == {
        ("总计", ("本年收入/合计", "上年结转结余/合计")), ("本年收入/合计", ("本年收入/一般公共预算/小计", "本年收入/政府性基金"))}


@pytest.mark.parametrize("values,moved", [
    ({"合计": "100", "基本支出/小计": "60", "项目支出/小计": "40"}, None),
    ({"合计": "100", "基本支出/小计": "60", "基本支出/公用经费/资本性支出": "40"}, None),
    ({"合计": "100", "基本支出/小计": "100", "基本支出/公用经费/商品和服务支出": "100", "项目支出/其他运转类": "0"}, None),
], ids=["adds-up", "no-single-move", "adds-up-with-zero"])
def test_find_row_shift(values, moved):
    b = Builder()
    row = b.table(K.expenditure, FUNC_COLS, [R("x", values)]).rows[0]
    idents = [ColumnIdentity("", "合计", ("基本支出/小计", "项目支出/小计")),
              ColumnIdentity("基本支出", "基本支出/小计", tuple(FUNC_COLS[2:6])),
              ColumnIdentity("项目支出", "项目支出/小计", tuple(FUNC_COLS[7:9]))]
    assert find_row_shift(row, FUNC_COLS, idents) == moved


def test_parse_side_outline():
    b = Builder()
    rows = b.table(K.fiscal_summary, FISCAL_COLS, spec()[K.fiscal_summary][1]).rows
    income = parse_side([r for r in rows if r.side == "income"])
    assert income.current.label == "一、本年收入" and income.grand.label == "收入合计"
    assert [r.label for r in income.items] == ["（一）一般公共预算拨款", "（二）政府性基金预算拨款"]
    assert [c.label for c, _ in income.carry] == ["二、上年结转"]


# ---- the five samples ------------------------------------------------------------------------------------

def _serious(doc):
    return [f for f in doc.findings if f.severity not in ("rounding", "info")]


def test_samples_report_their_real_inconsistencies_and_nothing_else(seed_docs):
    serious = {name: _serious(doc) for name, (_, doc) in seed_docs.items()}
    assert all(f.severity in ("shifted_column", "malformed") for fs in serious.values() for f in fs), \
        [f.message for fs in serious.values() for f in fs if f.severity not in ("shifted_column", "malformed")]
    by_name = {name[:3]: fs for name, fs in serious.items()}
    assert by_name["000"] == [] and by_name["001"] == []
    # 002: one cell dropped in three rows of each functional table, the project columns one to the left
    assert len([f for f in by_name["002"] if f.severity == "shifted_column"]) == 6
    # 003: 社会保障和就业 printed one column right in 财政拨款收支总体情况表; 20/22-digit project codes
    assert [f.rule for f in by_name["003"] if f.severity == "shifted_column"] == ["summary.expenditure_classes"]
    assert len([f for f in by_name["003"] if f.rule == "codes.project"]) == 10
    # 004: 政府性基金预算支出表 rows printed one column left
    assert len([f for f in by_name["004"] if f.severity == "shifted_column"]) == 3


def test_samples_explain_project_money_in_the_economic_summary(seed_docs):
    _, doc = seed_docs["002_21a7bad79436d507.txt"]
    info = [f for f in doc.findings if f.rule == "economic.vs_basic"]
    assert len(info) == 1 and info[0].severity == "info"
    assert "办公费" in info[0].message and "3595.68" in info[0].message and "项目支出" in info[0].message


def test_sample_finding_values_point_at_the_source(seed_docs):
    for name, (text, doc) in seed_docs.items():
        for f in doc.findings:
            for a in f.values:
                assert text[a.prov.char_start:a.prov.char_end] == a.prov.quote, (name, f.message)


# ---- the command ---------------------------------------------------------------------------------------

def test_checks_command_json(capsys, tmp_path):
    from ui.cli import main

    bad = tmp_path / "empty.txt"
    bad.write_text("", encoding="utf-8")
    code = main(["checks", str(SEEDS[3]), str(bad), "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and "empty.txt" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 1 and lines[0]["source"] == SEEDS[3].name
    f = lines[0]["findings"][0]
    assert set(f) >= {"rule", "severity", "message", "expected", "actual", "values"}
    assert set(f["values"][0]) >= {"value", "char_start", "char_end", "quote"}


def test_checks_command_report(capsys):
    from ui.cli import main

    assert main(["checks", str(SEEDS[2])]) == 0
    out = capsys.readouterr().out
    assert "错列 6" in out and "functional.row_parts" in out and "数值位置" in out


# ---- what the checks do not claim ----------------------------------------------------------------------

def test_a_column_the_header_did_not_name_blocks_the_identities_it_may_belong_to():
    s = spec()
    row = next(r for r in s[K.expenditure][1] if r["label"] == "住房公积金")
    row["cells"]["合计"] = "45.00"
    row["cells"]["列10"] = "5.00"  # printed, but the header was not understood: 合计 may include it
    found = [f for f in run_checks(build(s), strict=True) if f.rule == "functional.row_parts"]
    assert not any("住房公积金" in f.message and "「合计」" in f.message for f in found)


def test_unit_codes_read_twice_are_not_arranged_into_a_tree():
    s = spec()
    for r in s[K.income][1]:
        if r.get("kind") == "unit":
            r["code"] = "001"  # every unit row with the same (misread) code
    found = [f for f in run_checks(build(s), strict=True) if f.rule in ("table.total", "units.sum", "units.items")]
    assert not any("收入总体情况表" in f.message for f in found)


def test_a_coarser_unit_is_the_same_number_when_it_rounds_to_it():
    s = spec()
    s["facts"] = [("revenue_total", "10,000,049", "元", "", "一、收入支出预算总体情况说明")]
    assert [f for f in run_checks(build(s), strict=True) if f.rule == "narrative.amounts"] == []
    s["facts"] = [("revenue_total", "10,000,051", "元", "", "一、收入支出预算总体情况说明")]
    assert [f.severity for f in run_checks(build(s), strict=True) if f.rule == "narrative.amounts"] == ["rounding"]


def test_share_difference_is_printed_to_a_hundredth_of_a_point():
    # 600.00 / 999.00 does not terminate; the message must not print its 28 digits
    s = fact(fact(copy.deepcopy(spec()), "expenditure_sum", "999.00"), "basic_share", "61.00")
    messages = [f.message for f in run_checks(build(s), strict=True)
                if f.rule == "narrative.shares" and "个百分点" in f.message]
    assert messages, "the share mismatch is reported"
    assert all(re.search(r"差 \d+\.\d{2} 个百分点", m) for m in messages), messages
